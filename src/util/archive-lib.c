/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libarchive's table of functions, loaded on first use (archive-lib.h). */
#include "util/archive-lib.h"

struct archive_lib archive_fn;

#define ARCHIVE_LIB_SYM(f) DYNLIB_SYM(struct archive_lib, f),
static const struct dynlib_sym syms[] = { ARCHIVE_FUNCTIONS(ARCHIVE_LIB_SYM) };
#undef ARCHIVE_LIB_SYM

struct dynlib libarchive = {
	.name = "libarchive",
	.soname = ARCHIVE_SONAME,
	.rpm = "libarchive",
	.syms = syms,
	.n_syms = ELEMENTSOF(syms),
	.table = &archive_fn,
};
