/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strtab.h"

/* FNV-1a: the strings are package names and versions, short and not chosen to collide
 * (a list that did would cost time, not correctness). */
static uint64_t hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

static int grow_slots(struct strtab *t)
{
	size_t n = t->n_slots ? t->n_slots * 2 : 4096;
	uint32_t *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_slots; i++) {
		uint32_t o = t->slots[i];

		if (o) {
			const char *s = t->buf + o - 1;
			size_t j = hash(s, strlen(s)) & (n - 1);

			while (slots[j])
				j = (j + 1) & (n - 1);
			slots[j] = o;
		}
	}
	free(t->slots);
	t->slots = slots;
	t->n_slots = n;
	return 0;
}

static int64_t append(struct strtab *t, const char *s, size_t len)
{
	size_t off;

	if (len >= UINT32_MAX - 1 - t->len)
		return -E2BIG;
	if (t->len + len + 1 > t->alloc) {
		size_t a = t->alloc;
		char *b;

		while (t->len + len + 1 > a)
			a *= 2;
		if (!(b = realloc(t->buf, a)))
			return -ENOMEM;
		t->buf = b;
		t->alloc = a;
	}
	off = t->len;
	memcpy(t->buf + off, s, len);
	t->buf[off + len] = '\0';
	t->len += len + 1;
	return (int64_t)off;
}

int64_t strtab_intern(struct strtab *t, const char *s, size_t len)
{
	size_t j;
	int64_t off;

	if (t->len == 0) {
		/* Offset 0: the empty string. */
		t->alloc = 1 << 16;
		if (!(t->buf = malloc(t->alloc)))
			return -ENOMEM;
		t->buf[0] = '\0';
		t->len = 1;
	}
	/* A NUL inside ends the string, as it would for whoever reads it back. */
	len = strnlen(s, len);
	if (len == 0)
		return 0;
	/* At most half full, so that a probe ends soon. */
	if ((t->n_used + 1) * 2 > t->n_slots && grow_slots(t) < 0)
		return -ENOMEM;
	for (j = hash(s, len) & (t->n_slots - 1); t->slots[j]; j = (j + 1) & (t->n_slots - 1)) {
		const char *o = t->buf + t->slots[j] - 1;

		if (strncmp(o, s, len) == 0 && o[len] == '\0')
			return t->slots[j] - 1;
	}
	if ((off = append(t, s, len)) < 0)
		return off;
	t->slots[j] = (uint32_t)off + 1;
	t->n_used++;
	return off;
}

void strtab_done(struct strtab *t)
{
	free(t->buf);
	free(t->slots);
	*t = (struct strtab){};
}
