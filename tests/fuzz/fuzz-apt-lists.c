/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deb822 stanzas: an apt Packages list (plain, and the same bytes as a gzip one) and dpkg's
 * status file, read into the resolver's view, and dpkg's status as detect reads it for the
 * packages that own the kernel. */
#include <stdlib.h>

#include "fuzz.h"
#include "repo-view.h"

static bool any(const char *name)
{
	return name != NULL;
}

static bool none(const char *name)
{
	return name == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* One question answered at the first stanza, one never (the whole file read), one by name. */
	struct dpkg_query q[] = { { .match = any }, { .match = none }, { .name = "linux-image-6.1.0-18-amd64" } };

	fuzz_put("var/lib/apt/lists/deb.example.org_dists_stable_main_binary-amd64_Packages", data, size);
	/* The same bytes as a list kept compressed: the check of its format, and libarchive's
	 * gzip reader behind it when they are gzip data. */
	fuzz_put("var/lib/apt/lists/deb.example.org_dists_stable_contrib_binary-amd64_Packages.gz", data, size);
	fuzz_put("var/lib/dpkg/status", data, size);
	fuzz_repo_view();
	(void)dpkg_query(fuzz_root(), q, ELEMENTSOF(q));
	dpkg_queries_done(q, ELEMENTSOF(q));
	return 0;
}
