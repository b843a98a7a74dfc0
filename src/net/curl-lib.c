/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libcurl's table of functions, loaded on first use (curl-lib.h). */
#include "net/curl-lib.h"
#include "util/macro.h"

struct curl_lib curl_fn;

#define CURL_LIB_SYM(f) DYNLIB_SYM(struct curl_lib, f),
static const struct dynlib_sym syms[] = { CURL_FUNCTIONS(CURL_LIB_SYM) };
#undef CURL_LIB_SYM

struct dynlib libcurl = {
	.name = "libcurl",
	.soname = CURL_SONAME,
	.rpm = "libcurl",
	.syms = syms,
	.n_syms = ELEMENTSOF(syms),
	.table = &curl_fn,
};
