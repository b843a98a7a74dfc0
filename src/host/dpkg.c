/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What dpkg's status database says is installed (Debian and Ubuntu). */
#include <errno.h>

#include "facts.h"
#include "util/deb822.h"
#include "util/strutil.h"

/* Status is "want flag state": "install ok installed", or "hold ok installed" once apt-mark
 * hold has held the package, as apply holds the stack. Installed is the state. */
static bool dpkg_status_installed(struct deb822_value status)
{
	static const char suffix[] = " ok installed";

	return status.p && status.len >= strlen(suffix) &&
	       memcmp(status.p + status.len - strlen(suffix), suffix, strlen(suffix)) == 0;
}

struct find {
	bool (*match)(const char *name);
	const char *name; /* without match: exactly this package */
	char *package, *version;
};

static int find_installed(const struct deb822_fields *s, void *userdata)
{
	struct find *f = userdata;
	_cleanup_free_ char *name = NULL;

	if (!s->package.p || !s->version.p || !dpkg_status_installed(s->status))
		return 0;
	if (!(name = strndup(s->package.p, s->package.len)))
		return -ENOMEM;
	if (f->match ? !f->match(name) : !streq(name, f->name))
		return 0;
	if (!(f->version = strndup(s->version.p, s->version.len)))
		return -ENOMEM;
	f->package = TAKE_PTR(name);
	return 1;
}

static int dpkg_find(const struct root *root, struct find *find)
{
	_cleanup_fclose_ FILE *f = NULL;
	int k = root_fopen(root, "var/lib/dpkg/status", &f);

	return k < 0 ? k : deb822_scan(f, find_installed, find);
}

int dpkg_package_version(const struct root *root, const char *name, char **ret_version)
{
	struct find find = { .name = name };
	int k = dpkg_find(root, &find);

	free(find.package);
	if (k > 0)
		*ret_version = find.version;
	return k;
}

int dpkg_installed_version(const struct root *root, bool (*match)(const char *name),
			   char **ret_package, char **ret_version)
{
	struct find find = { .match = match };
	int k;

	k = dpkg_find(root, &find);
	if (k > 0) {
		*ret_package = find.package;
		*ret_version = find.version;
	}
	return k;
}
