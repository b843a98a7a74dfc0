/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the renderers of managed files share (render.c, render-container.c). */
#include "files/render.h"
#include "util/macro.h"

/* A growing string; the first failure sticks and leaves it NULL. */
struct buf {
	char *s;
	size_t len, alloc;
	bool failed;
};

void bprintf(struct buf *b, const char *fmt, ...) _printf_(2, 3);
/* The two comment lines every managed file starts with ("#" comments: TOML, conf, shell). */
void render_header(struct buf *b, const struct profile *p);
/* Appends f, taken over: freed whole when it lacks its path, its why, or both its content and
 * its keys (a failed strdup), or cannot be appended. */
int render_add(struct managed_file **files, size_t *n, struct managed_file f);
/* Appends the file at path with b's content (b is emptied, ready for the next). */
int render_add_file(struct managed_file **files, size_t *n, const char *path, struct buf *b, const char *why);
