/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The package backends' shared parts: choosing one, reporting failures, running commands. */
#include <errno.h>
#include <stdarg.h>

#include "pkg/pkg.h"
#include "util/errors.h"

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
