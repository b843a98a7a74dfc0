/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Profiles: a site's JSON read, located on error, validated, its includes and overrides
 * resolved, and matched against a machine, as `gpuprov plan` does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "profile/profile.h"
#include "util/json.h"

#define SITE_DIR "etc/gpuprov/profiles"

/* The target's site directory, as plan opens it, and the shipped profiles where
 * GPUPROV_FUZZ_PROFILES names them (tests/fuzz/run does: the tree's profiles/), so that the
 * fuzzed profile's includes and overrides merge with real ones. */
static const struct profile_dirs *site_dirs(void)
{
	static struct profile_dirs dirs;
	int k;

	if (!dirs.site) {
		fuzz_put(SITE_DIR "/.keep", "", 0);
		if ((k = profile_dirs_open(fuzz_root(), getenv("GPUPROV_FUZZ_PROFILES"), &dirs)) < 0 || !dirs.site)
			fuzz_die("etc/gpuprov/profiles", k < 0 ? k : -ENOENT);
	}
	return &dirs;
}

/* A profile must say its file's name: the input is stored under the name it says, where
 * that is a plain one, so that the seeds (the shipped profiles) load. */
static void name_of(const uint8_t *data, size_t size, char *buf, size_t buf_size)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
	const char *name = json_str(doc, "name");

	if (name && *name && *name != '.' && strlen(name) < buf_size - 5 &&
	    name[strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-")] == '\0')
		snprintf(buf, buf_size, "%s", name);
	else
		snprintf(buf, buf_size, "fuzz");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct profile_dirs *dirs = site_dirs();
	_cleanup_(profile_freep) struct profile *p = NULL;
	struct profile_error err = {};
	struct profile_info *list = NULL;
	char name[64], path[128];
	size_t n = 0;

	/* A site profile named as a shipped one hides it; one may include itself, which must be
	 * refused as a cycle. */
	name_of(data, size, name, sizeof(name));
	snprintf(path, sizeof(path), "etc/gpuprov/profiles/%s.json", name);
	fuzz_put(path, data, size);
	if (profile_load(dirs, name, fuzz_facts(), &p, &err) >= 0) {
		_cleanup_free_ char *why = NULL;

		(void)profile_matches(p, fuzz_facts(), &why);
	} else
		free(profile_error_format(&err));
	profile_error_clear(&err);
	if (profile_list(dirs, &list, &n) >= 0)
		profile_info_free(list, n);
	/* The next input finds the site directory as the first did. */
	fuzz_remove(path);
	return 0;
}
