/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A field's value in the stanza being read: p[0..len), not NUL-terminated, valid only
 * during the call that gets it; p is NULL when the stanza has no such field. */
struct deb822_value {
	const char *p;
	size_t len;
};

/* The fields gpuprov reads of a deb822 stanza (dpkg's status, apt's Packages lists). A field
 * named twice: the last one. Continuation lines and other fields are skipped. */
struct deb822_fields {
	struct deb822_value package, version, architecture, status;
};

/*
 * Reads the stanzas of f in large blocks, one pass over each block, fields told apart by
 * their first byte: a Packages list of 60,000 stanzas is read in a few tens of milliseconds.
 * fn is called for each stanza that holds any line; a value of fn other than 0 stops the
 * read and is returned. 0 at the end of the file, -errno when a read fails (a decompressed
 * stream's failure included, decompress.h).
 */
int deb822_scan(FILE *f, int (*fn)(const struct deb822_fields *s, void *userdata), void *userdata);

/* Whether a value is there and equal to s. */
bool deb822_value_eq(struct deb822_value v, const char *s);
