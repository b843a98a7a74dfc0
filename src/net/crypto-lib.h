/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "util/dynlib.h"

/*
 * libcrypto, loaded by the first hash or signature (dynlib.h): the functions digest.c and
 * sign.c call, by their own names. OpenSSL 3 makes some of them macros of newer names
 * (EVP_PKEY_id of EVP_PKEY_get_id): the table then holds and resolves the newer name, the
 * one the library exports. BIO_get_mem_data is a macro of BIO_ctrl, called as such.
 */
#define CRYPTO_FUNCTIONS(X)              \
	X(ERR_get_error)                 \
	X(ERR_error_string_n)            \
	X(OPENSSL_cleanse)               \
	X(OBJ_nid2sn)                    \
	X(BIO_new)                       \
	X(BIO_new_mem_buf)               \
	X(BIO_free)                      \
	X(BIO_ctrl)                      \
	X(BIO_s_mem)                     \
	X(BIO_s_secmem)                  \
	X(PEM_read_bio_PrivateKey)       \
	X(PEM_read_bio_PUBKEY)           \
	X(PEM_write_bio_PrivateKey)      \
	X(PEM_write_bio_PUBKEY)          \
	X(EVP_sha256)                    \
	X(EVP_Digest)                    \
	X(EVP_DigestInit_ex)             \
	X(EVP_DigestUpdate)              \
	X(EVP_DigestFinal_ex)            \
	X(EVP_DigestSignInit)            \
	X(EVP_DigestSign)                \
	X(EVP_DigestVerifyInit)          \
	X(EVP_DigestVerify)              \
	X(EVP_MD_CTX_new)                \
	X(EVP_MD_CTX_free)               \
	X(EVP_PKEY_id)                   \
	X(EVP_PKEY_free)                 \
	X(EVP_PKEY_get_raw_public_key)   \
	X(EVP_PKEY_CTX_new_id)           \
	X(EVP_PKEY_CTX_free)             \
	X(EVP_PKEY_keygen_init)          \
	X(EVP_PKEY_keygen)

#define CRYPTO_LIB_MEMBER(f) __typeof__(f) *f;
struct crypto_lib {
	CRYPTO_FUNCTIONS(CRYPTO_LIB_MEMBER)
};
#undef CRYPTO_LIB_MEMBER

/* The table, valid once dynlib_need(&libcrypto, ...) returned 0. */
extern struct crypto_lib crypto_fn;
extern struct dynlib libcrypto;

/* Cleanups for OpenSSL's objects, through the table. */
#define CRYPTO_CLEANUP_FUNC(type, f)             \
	static inline void f##p(type *p)         \
	{                                        \
		if (*p)                          \
			crypto_fn.f(*p);         \
	}
CRYPTO_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free)
CRYPTO_CLEANUP_FUNC(EVP_PKEY_CTX *, EVP_PKEY_CTX_free)
CRYPTO_CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free)
CRYPTO_CLEANUP_FUNC(BIO *, BIO_free)
#undef CRYPTO_CLEANUP_FUNC

/* 0 once libcrypto is loaded, else -GPE_LIBRARY: for the core's entry points, which the
 * verbs reach only after loading it themselves (to report why it cannot be). */
static inline int crypto_ready(void)
{
	return dynlib_need(&libcrypto, "hashing and signatures", NULL);
}
