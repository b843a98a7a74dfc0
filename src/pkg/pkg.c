/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The package backends' shared parts: choosing one, reporting failures, running commands. */
#include <errno.h>
#include <stdarg.h>

#include "pkg/pkg.h"
#include "util/errors.h"
#include "util/strutil.h"

const struct pkg_backend *pkg_backend_by_name(const char *name)
{
	static const struct pkg_backend *const all[] = { &pkg_apt, &pkg_dnf, &pkg_runfile };

	for (size_t i = 0; name && i < ELEMENTSOF(all); i++)
		if (streq(all[i]->name, name))
			return all[i];
	return NULL;
}

const struct pkg_backend *pkg_backend_for(const struct facts *f)
{
	return pkg_backend_by_name(os_package_manager(f->os.family));
}

void pkg_ctx_done(struct pkg_ctx *c)
{
	c->error = mfree(c->error);
}

int pkg_fail(struct pkg_ctx *c, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error = gp_error_setv(&c->error, error, fmt, ap);
	va_end(ap);
	return error;
}

int pkg_run(struct pkg_ctx *c, unsigned flags, char *const argv[], char *const env[], struct spawn_result *ret)
{
	struct spawn_result r = {};
	int k = spawn_run(c->root, flags, argv, env, &r);

	if (k < 0)
		return pkg_fail(c, k, "cannot run %s%s%s: %s", argv[0], flags & SPAWN_IN_ROOT ? " in " : "",
				flags & SPAWN_IN_ROOT ? c->root->path : "", gp_strerror(k));
	if (r.status != 0) {
		_cleanup_free_ char *what = spawn_describe(argv, &r);

		spawn_result_done(&r);
		return pkg_fail(c, -GPE_COMMAND, "%s", what ? what : argv[0]);
	}
	if (ret)
		*ret = r;
	else
		spawn_result_done(&r);
	return 0;
}

int pkg_push_wants(char ***argv, const struct pkg_want *w, size_t n, const char *sep)
{
	size_t len = strv_length(*argv);

	for (size_t i = 0; i < n; i++)
		if ((sep && w[i].version ? strv_pushf(argv, &len, "%s%s%s", w[i].name, sep, w[i].version)
					 : strv_push(argv, &len, w[i].name)) < 0)
			return -ENOMEM;
	return 0;
}

int pkg_check_offered(struct pkg_ctx *c, const struct pkg_want *w, size_t n, char *const *offers)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_(strv_freep) char **have = NULL;
		_cleanup_free_ char *list = NULL;
		size_t nh = 0;
		bool found = false;

		for (char *const *o = offers; o && o[0] && o[1]; o += 2) {
			if (!streq(o[0], w[i].name))
				continue;
			if (!w[i].version || streq(o[1], w[i].version))
				found = true;
			if (!strv_contains(have, o[1]) && strv_push(&have, &nh, o[1]) < 0)
				return pkg_fail(c, -ENOMEM, "out of memory");
		}
		if (found)
			continue;
		if (nh && !(list = strv_join(have, ", ")))
			return pkg_fail(c, -ENOMEM, "out of memory");
		return pkg_fail(c, -GPE_UNAVAILABLE, "%s%s%s is not offered by the repositories; %s%s", w[i].name,
				w[i].version ? " " : "", w[i].version ? w[i].version : "",
				nh ? "they have " : "they have no version of it", nh ? list : "");
	}
	return 0;
}

bool pkg_want_recommends(const struct pkg_ctx *c)
{
	return c->profile && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->profile->doc, "install_recommends"));
}

int pkg_list_files(struct pkg_ctx *c, const char *dir, const char *suffix, char ***ret)
{
	_cleanup_(strv_freep) char **all = NULL, **found = NULL;
	size_t n = 0;
	int k;

	if ((k = root_list_dir(c->root, dir, &all)) < 0)
		return pkg_fail(c, k, "%s: %s", dir, gp_strerror(k));
	for (char **f = all; *f; f++)
		if (endswith(*f, suffix) && strv_push(&found, &n, *f) < 0)
			return pkg_fail(c, -ENOMEM, "out of memory");
	if (!found && !(found = calloc(1, sizeof(char *))))
		return pkg_fail(c, -ENOMEM, "out of memory");
	*ret = TAKE_PTR(found);
	return (int)n;
}
