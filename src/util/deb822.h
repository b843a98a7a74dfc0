/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/* One stanza of a deb822 file (dpkg's status, apt's Packages lists): the fields gpuprov
 * reads. Continuation lines and other fields are skipped. */
struct deb822_stanza {
	char *package, *version, *architecture, *status;
};

/* Reads the next stanza. 1: one was read; 0: end of file; -errno on failure, a read that
 * failed included. */
int deb822_next(FILE *f, struct deb822_stanza *s);
void deb822_stanza_clear(struct deb822_stanza *s);
