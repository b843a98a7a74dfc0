/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What dpkg's status database says is installed (Debian and Ubuntu). */
#include <errno.h>

#include "facts.h"
#include "util/deb822.h"
#include "util/strutil.h"

/* Status is "want flag state": "install ok installed", or "hold ok installed" once apt-mark
 * hold has held the package, as apply holds the stack. Installed is the state. */
static bool dpkg_status_installed(const char *status)
{
	return status && endswith(status, " ok installed");
}

int dpkg_installed_version(const struct root *root, bool (*match)(const char *name),
			   char **ret_package, char **ret_version)
{
	_cleanup_fclose_ FILE *f = NULL;
	struct deb822_stanza s = {};
	int k;

	k = root_fopen(root, "var/lib/dpkg/status", &f);
	if (k < 0)
		return k;
	while ((k = deb822_next(f, &s)) > 0)
		if (s.package && s.version && dpkg_status_installed(s.status) && match(s.package)) {
			*ret_package = TAKE_PTR(s.package);
			*ret_version = TAKE_PTR(s.version);
			break;
		}
	deb822_stanza_clear(&s);
	return k;
}
