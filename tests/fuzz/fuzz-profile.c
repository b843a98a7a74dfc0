/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Profiles: a site's JSON read, located on error, validated, its includes and overrides
 * resolved, and matched against a machine, as `gpuprov plan` does. */
#include <errno.h>
#include <stdlib.h>

#include "fuzz.h"
#include "profile/profile.h"

#define SITE_PROFILE "etc/gpuprov/profiles/fuzz.json"

/* The target's site directory, as plan opens it; no shipped profiles. */
static const struct profile_dirs *site_dirs(void)
{
	static struct profile_dirs dirs;
	int k;

	if (!dirs.site) {
		fuzz_put(SITE_PROFILE, "", 0);
		if ((k = profile_dirs_open(fuzz_root(), NULL, &dirs)) < 0 || !dirs.site)
			fuzz_die("etc/gpuprov/profiles", k < 0 ? k : -ENOENT);
	}
	return &dirs;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct profile_dirs *dirs = site_dirs();
	_cleanup_(profile_freep) struct profile *p = NULL;
	struct profile_error err = {};
	struct profile_info *list = NULL;
	size_t n = 0;

	/* The profile may include itself, which must be refused as a cycle. */
	fuzz_put(SITE_PROFILE, data, size);
	if (profile_load(dirs, "fuzz", fuzz_facts(), &p, &err) >= 0) {
		_cleanup_free_ char *why = NULL;

		(void)profile_matches(p, fuzz_facts(), &why);
	} else
		free(profile_error_format(&err));
	profile_error_clear(&err);
	if (profile_list(dirs, &list, &n) >= 0)
		profile_info_free(list, n);
	return 0;
}
