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
