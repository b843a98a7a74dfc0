/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libcrypto's table of functions, loaded on first use (crypto-lib.h). */
#include "net/crypto-lib.h"
#include "util/macro.h"

struct crypto_lib crypto_fn;

#define CRYPTO_LIB_SYM(f) DYNLIB_SYM(struct crypto_lib, f),
static const struct dynlib_sym syms[] = { CRYPTO_FUNCTIONS(CRYPTO_LIB_SYM) };
#undef CRYPTO_LIB_SYM

struct dynlib libcrypto = {
	.name = "libcrypto",
	.soname = CRYPTO_SONAME,
	.rpm = "openssl-libs",
	/* libcrypto.so.3 is in libssl3, libssl3t64 on Ubuntu 24.04 (the 64-bit time_t rename). */
	.deb = "libssl3 or libssl3t64",
	.syms = syms,
	.n_syms = ELEMENTSOF(syms),
	.table = &crypto_fn,
};
