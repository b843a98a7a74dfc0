/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which knowledge a run uses: the shipped file, or a newer one installed or carried by a
 * bundle, once its signature and lint say it may be trusted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "profile/knowledge-source.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"

const char *knowledge_origin_to_string(enum knowledge_origin o)
{
	switch (o) {
	case KNOWLEDGE_SHIPPED:
		return "shipped";
	case KNOWLEDGE_INSTALLED:
		return "installed";
	case KNOWLEDGE_BUNDLE:
		return "bundle";
	}
	return "unknown";
}

void knowledge_in_use_done(struct knowledge_in_use *u)
{
	u->k = knowledge_free(u->k);
	u->path = mfree(u->path);
	u->passed_over = mfree(u->passed_over);
}

const char *knowledge_as_of(const struct knowledge *k)
{
	return k ? k->as_of : NULL;
}

int knowledge_check_signed(const struct root *keys_root, const char *keys_dir, const char *today, const char *text,
			   size_t len, const char *sig, size_t sig_len, struct sign_verdict *verdict,
			   struct kn_lint *ret_lint, char **ret_error)
{
	int k;

	*ret_lint = (struct kn_lint){};
	if (sig_len != SIGN_SIG_LEN)
		return gp_error_set(ret_error, -GPE_SIGNATURE, "the signature is %zu bytes, not an Ed25519 signature",
				    sig_len);
	k = sign_verify_dir(keys_root, keys_dir, today, text, len, (const unsigned char *)sig, NULL, verdict);
	if (k == -GPE_UNKNOWN_KEY)
		return gp_error_set(ret_error, k, "%s holds no key that may verify it", keys_dir);
	if (k == -GPE_KEY_REVOKED)
		return gp_error_set(ret_error, k, "%s", strna(verdict->refusal));
	if (k == -GPE_SIGNATURE)
		return gp_error_set(ret_error, k, "the signature verifies with no key in %s: the file or its signature "
						  "was altered, or it was signed with a key not trusted here", keys_dir);
	if (k < 0)
		return gp_error_set(ret_error, k, "cannot check the signature: %s", gp_strerror(k));
	k = knowledge_lint(text, today, ret_lint);
	if (k < 0)
		return gp_error_set(ret_error, k, "cannot lint it: %s", gp_strerror(k));
	if (ret_lint->n > 0)
		return gp_error_set(ret_error, -GPE_PARSE, "lint finds %zu problem%s", ret_lint->n,
				    ret_lint->n == 1 ? "" : "s");
	return 0;
}

/* The knowledge file at path inside root, with its signature at sig_path, when it may be
 * trusted and is newer than the one in u: it takes u's place. Else u->passed_over says why.
 * shown: the path a user reads. */
static int take_if_newer(const struct root *root, const char *path, const char *sig_path, const char *shown,
			 enum knowledge_origin origin, const char *today, struct knowledge_in_use *u)
{
	_cleanup_free_ char *text = NULL, *sig = NULL, *why = NULL, *path_copy = NULL;
	_cleanup_(sign_verdict_done) struct sign_verdict v = {};
	_cleanup_(knowledge_freep) struct knowledge *k = NULL;
	struct kn_lint lint = {};
	size_t len = 0, sig_len = 0;
	const char *mine, *theirs;
	int r;

	r = root_read_file(root, path, KNOWLEDGE_MAX, &text, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return gp_error_set(&u->passed_over, 0, "%s: %s", shown, gp_strerror(r));
	if (sig_path) {
		r = root_read_file(root, sig_path, SIGN_SIG_LEN + 1, &sig, &sig_len);
		if (r < 0)
			return gp_error_set(&u->passed_over, 0, "%s: no signature (%s%s: %s)", shown, shown,
					    KNOWLEDGE_SIG_SUFFIX, gp_strerror(r));
		r = knowledge_check_signed(root, SIGN_KEYS_DIR, today, text, len, sig, sig_len, &v, &lint, &why);
	} else {
		/* A bundle's files were checked against its signed manifest: lint is what is left. */
		r = knowledge_lint(text, today, &lint);
		if (r >= 0 && lint.n > 0)
			r = gp_error_set(&why, -GPE_PARSE, "lint finds %zu problem%s", lint.n, lint.n == 1 ? "" : "s");
	}
	kn_lint_done(&lint);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return gp_error_set(&u->passed_over, 0, "%s: %s", shown, strna(why));
	why = mfree(why);
	r = knowledge_load_text(shown, text, &k, &why);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return gp_error_set(&u->passed_over, 0, "%s", strna(why));
	mine = knowledge_as_of(k);
	theirs = knowledge_as_of(u->k);
	/* Lint saw to it that an accepted file has an as_of; a shipped one of format 1 has none. */
	if (theirs && strcmp(mine, theirs) <= 0)
		return gp_error_set(&u->passed_over, 0, "%s: as of %s, not newer than %s (as of %s)", shown, mine,
				    u->path, theirs);
	if (!(path_copy = strdup(shown)))
		return -ENOMEM;
	knowledge_free(u->k);
	u->k = TAKE_PTR(k);
	free(u->path);
	u->path = TAKE_PTR(path_copy);
	u->origin = origin;
	u->passed_over = mfree(u->passed_over);
	return 0;
}

/* Where a path inside root is on the host, for messages. */
static char *shown_path(const struct root *root, const char *path)
{
	char *s = NULL;

	if (asprintf(&s, "%s%s%s", root->path, endswith(root->path, "/") ? "" : "/", path) < 0)
		return NULL;
	return s;
}

int knowledge_choose(const struct root *root, const struct root *shipped_dir, const char *shipped_path,
		     const char *today, struct knowledge_in_use *ret, char **ret_error)
{
	_cleanup_free_ char *shown = NULL;
	int r;

	*ret = (struct knowledge_in_use){ .origin = KNOWLEDGE_SHIPPED };
	r = knowledge_load(shipped_dir, shipped_path, &ret->k, ret_error);
	if (r < 0)
		return r;
	if (!(ret->path = strdup(ret->k->file)) || !(shown = shown_path(root, KNOWLEDGE_INSTALLED_FILE))) {
		knowledge_in_use_done(ret);
		return -ENOMEM;
	}
	r = take_if_newer(root, KNOWLEDGE_INSTALLED_FILE, KNOWLEDGE_INSTALLED_SIG, shown, KNOWLEDGE_INSTALLED, today, ret);
	if (r < 0)
		knowledge_in_use_done(ret);
	return r;
}

int knowledge_choose_bundle(const struct root *root, const char *dir, const char *today, struct knowledge_in_use *u)
{
	_cleanup_free_ char *path = NULL, *shown = NULL;

	if (asprintf(&path, "%s/knowledge.json", dir) < 0 || !(shown = shown_path(root, path)))
		return -ENOMEM;
	return take_if_newer(root, path, NULL, shown, KNOWLEDGE_BUNDLE, today, u);
}

bool knowledge_stale(const struct knowledge *k, const char *today, long *ret_days)
{
	const char *as_of = knowledge_as_of(k);
	long days;

	*ret_days = -1;
	if (!as_of || date_days_between(as_of, today, &days) < 0)
		return false;
	*ret_days = days;
	return days > KNOWLEDGE_STALE_DAYS;
}
