/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "macro.h"

#define DIFF_MAX_CELLS (1024 * 1024)

struct lines {
	const char **start;
	size_t *len;
	size_t n;
};

static int split(const char *text, struct lines *l)
{
	size_t n = 0;

	for (const char *p = text; *p; p++)
		if (*p == '\n' || !p[1])
			n++;
	l->start = calloc(n + 1, sizeof(*l->start));
	l->len = calloc(n + 1, sizeof(*l->len));
	if (!l->start || !l->len)
		return -1;
	l->n = 0;
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");

		l->start[l->n] = p;
		l->len[l->n++] = len;
		p += len + (p[len] == '\n');
	}
	return 0;
}

static int same(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->start[i], b->start[j], a->len[i]) == 0;
}

char *diff_lines(const char *old, const char *new)
{
	struct lines a = {}, b = {};
	unsigned *lcs = NULL;
	char *out = NULL;
	size_t outsz = 0, i = 0, j = 0;
	FILE *f = NULL;

	if (split(old, &a) < 0 || split(new, &b) < 0)
		goto done;
	/* lcs[i][j]: common lines of a[i..] and b[j..]. Past a million cells (a file far
	 * larger than any gpuprov writes) the diff is all of one and then all of the other. */
	if ((a.n + 1) * (b.n + 1) <= DIFF_MAX_CELLS) {
		lcs = calloc((a.n + 1) * (b.n + 1), sizeof(*lcs));
		if (!lcs)
			goto done;
	} else {
		f = open_memstream(&out, &outsz);
		if (!f)
			goto done;
		for (size_t x = 0; x < a.n; x++)
			fprintf(f, "-%.*s\n", (int)a.len[x], a.start[x]);
		for (size_t y = 0; y < b.n; y++)
			fprintf(f, "+%.*s\n", (int)b.len[y], b.start[y]);
		if (fclose(f) != 0)
			out = mfree(out);
		goto done;
	}
	for (size_t x = a.n; x-- > 0;)
		for (size_t y = b.n; y-- > 0;)
			lcs[x * (b.n + 1) + y] = same(&a, x, &b, y) ? lcs[(x + 1) * (b.n + 1) + y + 1] + 1
				: (lcs[(x + 1) * (b.n + 1) + y] > lcs[x * (b.n + 1) + y + 1] ? lcs[(x + 1) * (b.n + 1) + y]
											: lcs[x * (b.n + 1) + y + 1]);
	f = open_memstream(&out, &outsz);
	if (!f)
		goto done;
	while (i < a.n || j < b.n) {
		if (i < a.n && j < b.n && same(&a, i, &b, j)) {
			fprintf(f, " %.*s\n", (int)a.len[i], a.start[i]);
			i++, j++;
		} else if (j < b.n && (i == a.n || lcs[i * (b.n + 1) + j + 1] >= lcs[(i + 1) * (b.n + 1) + j])) {
			fprintf(f, "+%.*s\n", (int)b.len[j], b.start[j]);
			j++;
		} else {
			fprintf(f, "-%.*s\n", (int)a.len[i], a.start[i]);
			i++;
		}
	}
	if (fclose(f) != 0) {
		free(out);
		out = NULL;
	}
done:
	free(a.start), free(a.len), free(b.start), free(b.len), free(lcs);
	return out;
}
