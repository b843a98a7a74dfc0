/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The index of apt's lists (repo-cache.c), as an index another run left, damaged or made up:
 * the input's first two bytes (little-endian) say how much of it is the key the index must
 * name, the rest is the file. Every record read back gives strings inside the index. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "profile/repo-cache.h"

/* What the strings' lengths add to: read, so that no read of them is left out. */
size_t fuzz_repo_index_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ void *file = NULL;
	const struct repo_rec *recs;
	const char *pool;
	size_t n, pool_len, key_len, len;

	if (size < 2)
		return 0;
	key_len = MIN((size_t)data[0] | (size_t)data[1] << 8, size - 2);
	len = size - 2 - key_len;
	/* Aligned as a mapped index is (a page). */
	if (!(file = malloc(len ? len : 1)))
		return 0;
	memcpy(file, data + 2 + key_len, len);
	if (repo_cache_parse(file, len, data + 2, key_len, &recs, &n, &pool, &pool_len) <= 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const uint32_t offs[] = { recs[i].name, recs[i].version, recs[i].arch, recs[i].origin };

		for (size_t j = 0; j < ELEMENTSOF(offs); j++)
			if (offs[j] < pool_len)
				fuzz_repo_index_sink += strlen(pool + offs[j]);
	}
	return 0;
}
