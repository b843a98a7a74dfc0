/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check's finding about the GPUs' CDI spec, where the profile last applied wants one. */
#include <errno.h>

#include "apply/state.h"
#include "host/cdi.h"
#include "plan/check.h"
#include "util/strutil.h"

int check_cdi(const struct root *root, const struct root *sys, const struct facts *f, struct findings *fs)
{
	_cleanup_(state_freep) struct state *state = NULL;
	_cleanup_(strv_freep) char **problems = NULL;
	_cleanup_free_ char *read = NULL, *text = NULL, *msg = NULL;
	int k = state_load(root, &state);

	/* No state, or a profile without CDI: no spec is wanted, none is judged. */
	if (k < 0 || !state->cdi_dir)
		return k == -ENOMEM ? k : 0;
	if ((k = cdi_spec_audit(root, sys, state->cdi_dir, f->nvidia.driver_version, &problems, &read)) <= 0)
		return k;
	if (!(text = strv_join(problems, "; ")) ||
	    asprintf(&msg, "CDI spec is stale: %s (read %s); containers asking for nvidia.com/gpu get the wrong devices or "
			   "libraries until `gpuprov cdi refresh` makes it anew", text, read) < 0)
		return -ENOMEM;
	return findings_add(fs, SEVERITY_ERROR, "cdi-stale", "gpuprov(8), CDI", msg);
}
