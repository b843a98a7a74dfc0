/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verify's CDI check: the spec the profile wants, against the nodes and driver of this boot. */
#include <errno.h>
#include <stdio.h>

#include "apply/verify.h"
#include "host/cdi.h"
#include "util/strutil.h"

/*
 * gpuprov-cdi.service ran before verify (gpuprov-verify.service is ordered after it) and made
 * the spec anew if it was stale; a spec still wrong now is one nvidia-ctk itself makes wrong
 * on this kernel and driver, which is verify's to fail. A stale spec alone never rolls back a
 * kernel: regenerating it is the cure (gpuprov cdi refresh).
 */
int verify_cdi(const struct root *sys, const struct facts *f, const char *dir, bool *ret_ok, char **ret_detail)
{
	_cleanup_(strv_freep) char **problems = NULL;
	_cleanup_free_ char *read = NULL, *text = NULL;
	int k = cdi_spec_audit(sys, sys, dir, f->nvidia.driver_version, &problems, &read);

	if (k < 0)
		return k;
	*ret_ok = k == 0;
	if (k > 0 && !(text = strv_join(problems, "; ")))
		return -ENOMEM;
	if (k > 0)
		return asprintf(ret_detail, "CDI spec is stale: %s (read %s)", text, read) < 0 ? -ENOMEM : 0;
	return asprintf(ret_detail, "CDI spec fits the devices and the driver (read %s)", read) < 0 ? -ENOMEM : 0;
}
