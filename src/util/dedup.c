/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Merging duplicates in an array by sorting indexes, not by a search per element. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dedup.h"
#include "macro.h"

struct dedup_sort {
	const char *base;
	size_t size;
	const char *(*key)(const void *elem);
};

static const char *dedup_key(const struct dedup_sort *s, size_t i)
{
	return s->key(s->base + i * s->size);
}

/* By key, and equal keys in their order in the array: the first of a run is the one kept. */
static int cmp_index(const void *a, const void *b, void *data)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int r = strcmp(dedup_key(data, i), dedup_key(data, j));

	return r ? r : (i > j) - (i < j);
}

int dedup_by_key(void *base, size_t *n, size_t size, const char *(*key)(const void *elem),
		 void (*merge)(void *into, const void *from, void *userdata), void *userdata)
{
	struct dedup_sort s = { base, size, key };
	_cleanup_free_ size_t *idx = NULL;
	_cleanup_free_ bool *drop = NULL;
	char *b = base;
	size_t kept = 0;

	if (*n < 2)
		return 0;
	idx = malloc(*n * sizeof(*idx));
	drop = calloc(*n, sizeof(*drop));
	if (!idx || !drop)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++)
		idx[i] = i;
	qsort_r(idx, *n, sizeof(*idx), cmp_index, &s);

	for (size_t first = 0, i = 1; i < *n; i++) {
		if (!streq(dedup_key(&s, idx[first]), dedup_key(&s, idx[i]))) {
			first = i;
			continue;
		}
		merge(b + idx[first] * size, b + idx[i] * size, userdata);
		drop[idx[i]] = true;
	}
	for (size_t i = 0; i < *n; i++) {
		if (drop[i])
			continue;
		if (kept != i)
			memcpy(b + kept * size, b + i * size, size);
		kept++;
	}
	*n = kept;
	return 0;
}

void *array_grow(void *array, size_t n, size_t *alloc, size_t size)
{
	size_t want;
	void *p;

	if (n < *alloc)
		return array;
	want = *alloc ? *alloc * 2 : 16;
	if (want > SIZE_MAX / size)
		return NULL;
	p = realloc(array, want * size);
	if (p)
		*alloc = want;
	return p;
}
