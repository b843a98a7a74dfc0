/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

#include "net/crypto-lib.h"
#include "util/macro.h"
#include "util/root.h"

/*
 * Ed25519 signatures for offline bundles. Keys are PEM files: the private key PKCS#8
 * ("BEGIN PRIVATE KEY"), the public key SubjectPublicKeyInfo ("BEGIN PUBLIC KEY"), the
 * forms `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout` write. A node
 * trusts the public keys in SIGN_KEYS_DIR of its root, one per *.pub file.
 *
 * OpenSSL's errors end here: its reasons go to the debug log, callers get -errno or -GPE_*.
 * libcrypto is loaded on first use (crypto-lib.h): the functions that start from a file or
 * from nothing (keygen, the loads, sign_verify_dir) return -GPE_LIBRARY when it cannot be.
 */

#define SIGN_KEYS_DIR	"etc/gpuprov/keys.d"
#define SIGN_SIG_LEN	64 /* an Ed25519 signature, raw bytes */
#define SIGN_KEY_ID_LEN 16 /* hex digits of a key id */

/*
 * Makes a new key pair: the private key written 0600, the public key 0644, each atomically,
 * parent directories created. Paths are inside root (a build host passes the root "/").
 * -EEXIST when private_path exists: a key is never replaced.
 */
int sign_keygen(const struct root *root, const char *private_path, const char *public_path);

/* Loads an Ed25519 key from a PEM file inside root. -GPE_PARSE when the file holds no
 * such key (garbage, another algorithm, a public key where the private one is asked). */
int sign_load_private(const struct root *root, const char *path, EVP_PKEY **ret);
int sign_load_public(const struct root *root, const char *path, EVP_PKEY **ret);

/* Signs data with a private key; -EINVAL for a key that is not an Ed25519 private key. */
int sign_data(EVP_PKEY *key, const void *data, size_t len,
	      unsigned char ret_sig[static SIGN_SIG_LEN]);

/* 0 when sig is key's signature of data, -GPE_SIGNATURE when it is not. key may be a
 * public or a private key. */
int sign_verify(EVP_PKEY *key, const void *data, size_t len,
		const unsigned char sig[static SIGN_SIG_LEN]);

/* The key's id: the first 16 hex digits of the SHA-256 of its raw 32-byte public key, so
 * that a manifest can name the key that signed it. Private keys have their public key's id. */
int sign_key_id(EVP_PKEY *key, char ret_id[static SIGN_KEY_ID_LEN + 1]);

/* A node's keys.d may also hold "revoked": key ids, one a line, '#' comments. */
#define SIGN_REVOKED_FILE "revoked"

/* What sign_verify_dir found besides its answer: the key that verified, and what it would
 * not use, each named with the reason, for the caller to report. */
struct sign_verdict {
	char id[SIGN_KEY_ID_LEN + 1]; /* the key that verified; "" when none did */
	char *refusal;   /* why the key the document names verifies nothing here, or NULL */
	char **warnings; /* the key files and directories ignored, and why */
	size_t n_warnings;
};
void sign_verdict_done(struct sign_verdict *v);

/*
 * Verifies sig of data with the public keys in keys_dir (*.pub, inside root). What a key
 * is trusted for is checked first, as sshd's StrictModes does: keys_dir and each key file
 * must be owned by root (or the user running gpuprov) and writable by no one else, or they
 * are ignored with a warning. A key file may begin, before its PEM block, with lines
 * "Expires: YYYY-MM-DD" (its last valid day) and '#' comments; a key past that day, or
 * whose id keys_dir/revoked lists, verifies nothing. today ("YYYY-MM-DD"; NULL: the
 * clock, UTC) judges the expiry. Files that cannot be read or hold no Ed25519 public key
 * are skipped, with a debug message.
 *
 * want_id, when not NULL, is the id of the key the signed document names: only keys with
 * that id are tried, which tells a tampered document from one signed by a key not trusted
 * here. ret is filled in whatever the answer (sign_verdict_done frees it).
 *
 * -GPE_UNKNOWN_KEY: the directory is missing, ignored or holds no usable key, none has
 * want_id, or the revocation list cannot be trusted.
 * -GPE_KEY_REVOKED: the key with want_id is revoked or expired (ret->refusal says which).
 * -GPE_SIGNATURE: keys were tried (the one with want_id, or all) and none verified.
 */
int sign_verify_dir(const struct root *root, const char *keys_dir, const char *today, const void *data, size_t len,
		    const unsigned char sig[static SIGN_SIG_LEN], const char *want_id, struct sign_verdict *ret);
