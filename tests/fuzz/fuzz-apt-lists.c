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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *package = NULL, *version = NULL;

	fuzz_put("var/lib/apt/lists/deb.example.org_dists_stable_main_binary-amd64_Packages", data, size);
	/* The same bytes as a list kept compressed: the check of its format, and libarchive's
	 * gzip reader behind it when they are gzip data. */
	fuzz_put("var/lib/apt/lists/deb.example.org_dists_stable_contrib_binary-amd64_Packages.gz", data, size);
	fuzz_put("var/lib/dpkg/status", data, size);
	fuzz_repo_view();
	(void)dpkg_installed_version(fuzz_root(), any, &package, &version);
	return 0;
}
