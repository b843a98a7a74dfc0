/* SPDX-License-Identifier: GPL-2.0-or-later */
/* var/lib/gpuprov/repo.json (what the dnf and runfile backends offer and what rpm has
 * installed) and runfiles.json (the runfiles installed), read into the resolver's view. */
#include "fuzz.h"
#include "repo-view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* One input for both files: an array is runfiles.json's shape, an object repo.json's. */
	fuzz_put("var/lib/gpuprov/repo.json", data, size);
	fuzz_put("var/lib/gpuprov/runfiles.json", data, size);
	fuzz_repo_view();
	return 0;
}
