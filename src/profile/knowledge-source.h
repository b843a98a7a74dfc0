/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "net/sign.h"
#include "profile/knowledge-lint.h"
#include "profile/knowledge.h"
#include "util/root.h"

/*
 * Which knowledge a run uses. gpuprov ships knowledge.json beside its profiles; a site takes
 * newer knowledge without a new gpuprov by `gpuprov knowledge install`, which keeps the file
 * and its detached signature (the 64-byte Ed25519 signature of the file's bytes, made as a
 * bundle's manifest.sig is, with a key of keys.d) here, inside the root. A bundle may carry
 * its own knowledge.json, signed with the bundle.
 */
#define KNOWLEDGE_INSTALLED_FILE "var/lib/gpuprov/knowledge.json"
#define KNOWLEDGE_INSTALLED_SIG "var/lib/gpuprov/knowledge.json.sig"
#define KNOWLEDGE_SIG_SUFFIX	".sig"
/* plan and check warn about knowledge older than this: NVIDIA publishes drivers, toolkits
 * and support changes monthly (issue 15). */
#define KNOWLEDGE_STALE_DAYS 120

enum knowledge_origin {
	KNOWLEDGE_SHIPPED,   /* beside the profiles */
	KNOWLEDGE_INSTALLED, /* knowledge install */
	KNOWLEDGE_BUNDLE,    /* carried by the bundle apply or plan reads */
};

const char *knowledge_origin_to_string(enum knowledge_origin o);

struct knowledge_in_use {
	struct knowledge *k;
	enum knowledge_origin origin;
	char *path; /* the file's path as a user finds it (on the host) */
	/* Why a knowledge file found besides the shipped one is not the one in use (not signed,
	 * not newer...), to be said; NULL when there is none or it is in use. */
	char *passed_over;
};
void knowledge_in_use_done(struct knowledge_in_use *u);

/* The file's "as_of", or NULL (a format 1 file has none). */
const char *knowledge_as_of(const struct knowledge *k);

/*
 * Whether text (len bytes, NUL-terminated) may be trusted as knowledge: sig (sig_len bytes)
 * is its signature by a key of keys_dir inside keys_root, valid on today (sign_verify_dir:
 * verdict says which key, and which key files it did not trust), and it lints clean
 * (findings in ret_lint, which the caller frees). 0; -GPE_SIGNATURE, -GPE_UNKNOWN_KEY or
 * -GPE_KEY_REVOKED (ret_error says why); -GPE_PARSE when lint found something.
 */
int knowledge_check_signed(const struct root *keys_root, const char *keys_dir, const char *today, const char *text,
			   size_t len, const char *sig, size_t sig_len, struct sign_verdict *verdict,
			   struct kn_lint *ret_lint, char **ret_error);

/*
 * The knowledge to use: the installed one (KNOWLEDGE_INSTALLED_FILE in root) when it is there, is
 * signed by a key of the root's keys.d, lints clean, loads, and is newer by as_of than the
 * shipped one (shipped_dir, at shipped_path on the host); else the shipped one. An installed
 * file that is not taken is no error: ret->passed_over says why. Errors are the shipped
 * knowledge's (knowledge_load), with ret_error.
 */
int knowledge_choose(const struct root *root, const struct root *shipped_dir, const char *shipped_path,
		     const char *today, struct knowledge_in_use *ret, char **ret_error);

/*
 * The same choice for a bundle's knowledge.json (dir inside root, where the bundle was
 * unpacked; its signature was checked with the bundle's): it replaces u's knowledge when it
 * loads, lints clean and is newer by as_of; else u->passed_over says why not.
 */
int knowledge_choose_bundle(const struct root *root, const char *dir, const char *today, struct knowledge_in_use *u);

/* Whether k is more than KNOWLEDGE_STALE_DAYS old on today; ret_days: its age in days
 * (-1 when it has no as_of, which is never stale: a format 1 file). */
bool knowledge_stale(const struct knowledge *k, const char *today, long *ret_days);
