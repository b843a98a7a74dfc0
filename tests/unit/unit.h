/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* cmocka needs these before its header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

/* Runs a shell command made from FMT; the test fails where it does not succeed. For the
 * fixtures' trees: mkdir -p and rm -rf of a directory under /tmp. */
#define unit_sh(...)                                                        \
	do {                                                                \
		char unit_cmd_[512];                                        \
		assert_true(snprintf(unit_cmd_, sizeof(unit_cmd_), __VA_ARGS__) < (int)sizeof(unit_cmd_)); \
		assert_int_equal(system(unit_cmd_), 0);                     \
	} while (0)

/* Writes CONTENT to DIR/NAME (a fixture's file); the test fails where it cannot. */
static inline void unit_put(const char *dir, const char *name, const char *content)
{
	char path[512];
	FILE *f;

	assert_true(snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path));
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
}
