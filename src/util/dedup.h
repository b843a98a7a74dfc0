/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

/*
 * Merges the elements of an array (n of them, size bytes each) that have the same key into
 * the first of them, in O(n log n): merge(into, from, userdata) is called for every later
 * one, in their order in the array, and that one is then dropped (what it owns is merge's
 * to free or take). The elements kept stay in their order; *n becomes their number.
 * Returns 0 or -ENOMEM (nothing merged).
 */
int dedup_by_key(void *base, size_t *n, size_t size, const char *(*key)(const void *elem),
		 void (*merge)(void *into, const void *from, void *userdata), void *userdata);

/* array (of n elements, *alloc allocated, size bytes each) with room for one more: doubled
 * when full, so that n appends cost O(n). Returns the array, maybe moved, or NULL when out of
 * memory (array then unchanged and still the caller's). */
void *array_grow(void *array, size_t n, size_t *alloc, size_t size);
