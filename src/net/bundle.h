/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdint.h>

#include "net/fetch.h"
#include "util/root.h"

/*
 * An offline bundle is an uncompressed tar archive (the packages in it are compressed
 * already): first manifest.json, then manifest.sig (the 64-byte Ed25519 signature of the
 * manifest's bytes), then the files the manifest lists, each with its size and SHA-256.
 * Reading checks the signature before a byte of any file is written, then every file as it
 * streams by; a bundle is unpacked whole or not at all.
 */
#define BUNDLE_FORMAT 1
/* A sequence is a JSON number, which cJSON writes with 15 significant digits: exact up to
 * here (the seconds since 1970 have 10). */
#define BUNDLE_SEQUENCE_MAX 999999999999999ull
#define BUNDLE_MANIFEST "manifest.json"
#define BUNDLE_SIGNATURE "manifest.sig"
/* Where apply unpacks bundles: one directory per bundle, a local repository. */
#define BUNDLE_DIR "var/lib/gpuprov/bundles"

struct bundle_file {
	char *path; /* relative, checked: "pool/x.deb", "Packages" */
	uint64_t size;
	char sha256[SHA256_HEX_LEN + 1];
};

struct bundle_manifest {
	cJSON *doc;
	/* borrowed from doc */
	const char *name, *profile, *os, *arch, *backend, *key_id;
	/* Its freshness, signed with the rest (all three, or none from an older gpuprov):
	 * when it was made, its last valid day ("YYYY-MM-DD"), and its place among the
	 * bundles of its profile (higher is newer). */
	const char *created, *expires;
	uint64_t sequence;
	bool dated;
	struct bundle_file *files;
	size_t n_files;
	uint64_t bytes; /* of all files */
};

struct bundle_manifest *bundle_manifest_free(struct bundle_manifest *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct bundle_manifest *, bundle_manifest_free)

/* Refusals of what a bundle may hold. Zeroes: the defaults (64 GiB, 100000 files). */
struct bundle_limits {
	uint64_t max_bytes;
	size_t max_files;
};

/* Where a bundle is read from: an open file, or the mirrors of one URL. */
struct bundle_source {
	int fd;             /* >= 0: a local file */
	char *const *urls;  /* else: mirrors, tried in order */
	struct fetch_opts fetch; /* also fd: its progress callback */
	/* Called once the manifest's signature verified, before anything is written: a
	 * negative return (with *ret_error set) refuses the bundle. May be NULL. */
	int (*accept)(const struct bundle_manifest *m, void *userdata, char **ret_error);
	void *userdata;
	const char *today; /* "YYYY-MM-DD" the keys' expiry is judged by; NULL: the clock */
};

/*
 * Reads a bundle, checking its manifest's signature against the public keys in keys_dir
 * (inside root), then each file against the manifest. dest_parent NULL: only verifies.
 * Else the files land in <dest_parent>/<name>, inside root, which is replaced only once
 * everything checked; on any failure nothing is left behind.
 *
 * Errors: -GPE_SIGNATURE, -GPE_UNKNOWN_KEY, -GPE_KEY_REVOKED (the signature), -GPE_DIGEST
 * (a file is not the one the manifest names), -GPE_PARSE (a damaged archive or manifest, an
 * entry the manifest does not list, an unsafe path or a link), -GPE_TOOBIG (past the
 * limits), -EIO and -GPE_UNAVAILABLE (the transfer), -GPE_LIBRARY (libarchive, or libcurl
 * for a URL, cannot be loaded: checked before anything is fetched or written), or what
 * accept returned. ret_error says which entry and why. ret_warnings (may be NULL): the key files and directories of
 * keys_dir that were not trusted, each with why (sign_verify_dir), whatever the result.
 */
int bundle_read(const struct bundle_source *src, const struct root *root, const char *keys_dir,
		const char *dest_parent, const struct bundle_limits *limits, struct bundle_manifest **ret,
		char **ret_error, char ***ret_warnings);

/*
 * Writes a bundle to out_fd: manifest (its "files" and "key_id" are filled in here, from
 * the files at paths under dir inside root), signature, files. ret_error: which file, why.
 * -GPE_LIBRARY, before anything is written, when libarchive cannot be loaded.
 */
int bundle_write(int out_fd, cJSON *manifest, const struct root *root, const char *dir, char *const *paths,
		 EVP_PKEY *key, char **ret_error);

/* Whether a path may stand in a bundle: relative, no "." or ".." parts, plain characters. */
bool bundle_path_ok(const char *path);
