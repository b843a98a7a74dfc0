/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * A path into a JSON document ("driver.branch", "overrides[1].when.arch",
 * "sysctl[\"vm.swappiness\"]"), and where in the text a path's key and value stand.
 * cJSON keeps no positions: errors about a parsed document find theirs here, by scanning
 * the text once more (only when there is an error to report).
 */
#define JSONPATH_MAX 16

struct jsonpath {
	struct {
		const char *key; /* NULL for an array element */
		int index;
	} seg[JSONPATH_MAX];
	int n;
};

void jsonpath_push_key(struct jsonpath *p, const char *key);
void jsonpath_push_index(struct jsonpath *p, int index);
void jsonpath_pop(struct jsonpath *p);
/* "driver.branch"; keys that are not identifiers are quoted: sysctl["vm.swappiness"]. */
void jsonpath_format(const struct jsonpath *p, char *buf, size_t size);

struct jsonpos {
	unsigned line, column; /* 1-based */
};

/* Position of the byte at offset in text. */
struct jsonpos jsonpos_of(const char *text, size_t offset);
/* Where path's value starts (want_key: its key, for "unknown key" errors). False when the
 * text does not hold it. */
bool jsonpath_locate(const char *text, const struct jsonpath *path, bool want_key, struct jsonpos *ret);
