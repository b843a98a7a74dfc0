/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libkmod's table of functions, loaded on first use (kmod-lib.h). */
#include "host/kmod-lib.h"

struct kmod_lib kmod_fn;

#define KMOD_LIB_SYM(f) DYNLIB_SYM(struct kmod_lib, f),
static const struct dynlib_sym syms[] = { KMOD_FUNCTIONS(KMOD_LIB_SYM) };
#undef KMOD_LIB_SYM

struct dynlib libkmod = {
	.name = "libkmod",
	.soname = KMOD_SONAME,
	.rpm = "kmod-libs",
	.syms = syms,
	.n_syms = ELEMENTSOF(syms),
	.table = &kmod_fn,
};
