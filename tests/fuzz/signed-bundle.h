/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "net/bundle.h"

/*
 * A fuzzed bundle could never carry a valid signature, and bundle_read stops at the
 * signature before the manifest's fields or any file entry is read. The harnesses hold a
 * key the fake root trusts (SIGN_KEYS_DIR) and sign the manifest they give, so that all the
 * reader's code after the signature is reached, the signature check itself unchanged.
 */

/* Reads bundle, an archive of size bytes, from a memory file with bundle_read: into
 * BUNDLE_DIR of the fake root when unpack (removed again), else only verified. accept:
 * as in struct bundle_source. */
void fuzz_bundle_read(const void *bundle, size_t size, bool unpack,
		      int (*accept)(const struct bundle_manifest *m, void *userdata, char **ret_error));

/*
 * A bundle's first two entries, manifest.json holding manifest and manifest.sig its
 * signature by the harness's key, followed by the bytes of rest (the rest of an archive:
 * file entries, the end). ret: malloc'd.
 */
void fuzz_bundle_sign(const void *manifest, size_t manifest_size, const void *rest, size_t rest_size,
		      uint8_t **ret, size_t *ret_size);
