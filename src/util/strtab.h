/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * A string table: NUL-terminated strings one after another in one buffer, named by their
 * offset, each distinct string kept once. Offsets rather than pointers, because the buffer
 * moves as it grows, and because the table is written out as it is (the repository view's
 * index, repo-cache.c) and read back by offset. The first byte is the empty string, so that
 * offset 0 is "".
 */
struct strtab {
	char *buf;
	size_t len, alloc;
	uint32_t *slots; /* open addressing: offset + 1 of each distinct string; 0 is free */
	size_t n_slots, n_used;
};

/* The offset of the string s[0..len) (it holds no NUL), added when it is not there yet.
 * -ENOMEM, or -E2BIG when the table would pass 4 GiB. */
int64_t strtab_intern(struct strtab *t, const char *s, size_t len);
/* Frees the table; the buffer too unless it was taken (TAKE_PTR(t->buf)). */
void strtab_done(struct strtab *t);
