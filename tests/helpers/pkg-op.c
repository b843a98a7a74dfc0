/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pkg-op ROOT BACKEND OP ARGS...: one package backend operation on a root, for the scenario
 * tests of what no verb reaches (a runfile's uninstall, recorded for going back) or reaches
 * only with a whole repository (the paths bundle create and apply --bundle hand the host's
 * tools).
 *
 *   pkg-op ROOT BACKEND remove NAME [VERSION]
 *   pkg-op ROOT BACKEND installed NAME          prints the version installed
 *   pkg-op ROOT BACKEND index DIR               the repository index of DIR; prints its files
 *   pkg-op ROOT BACKEND bundle-use NAME         an unpacked bundle NAME made the package source
 *
 * Exit 0 done, 1 failed (the backend's error on stderr), 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "apply/bundle.h"
#include "pkg/pkg.h"
#include "util/errors.h"
#include "util/strutil.h"

static int run(struct pkg_ctx *c, const struct pkg_backend *be, const char *op, char **args, int n)
{
	if (streq(op, "remove") && (n == 1 || n == 2)) {
		struct pkg_want w = { args[0], n == 2 ? args[1] : NULL };

		return be->remove(c, &w, 1);
	}
	if (streq(op, "installed") && n == 1) {
		char *version = NULL;
		int k = be->installed(c, args[0], &version);

		if (k > 0)
			printf("%s\n", version);
		free(version);
		return k;
	}
	if (streq(op, "index") && n == 1 && be->index) {
		_cleanup_(strv_freep) char **files = NULL;
		int k = be->index(c, args[0], &files);

		for (char **f = files; k >= 0 && *f; f++)
			printf("%s\n", *f);
		return k;
	}
	if (streq(op, "bundle-use") && n == 1) {
		struct bundle_manifest m = { .name = args[0], .backend = be->name };

		return bundle_use(c, &m);
	}
	return -EINVAL;
}

int main(int argc, char **argv)
{
	_cleanup_(root_freep) struct root *root = NULL;
	const struct pkg_backend *be;
	struct pkg_ctx c = {};
	int k;

	if (argc < 5 || !(be = pkg_backend_by_name(argv[2]))) {
		fprintf(stderr, "usage: pkg-op ROOT apt|dnf|runfile remove|installed|index|bundle-use ARGS...\n");
		return 2;
	}
	if ((k = root_open(argv[1], &root)) < 0) {
		fprintf(stderr, "pkg-op: %s: %s\n", argv[1], gp_strerror(k));
		return 2;
	}
	c.root = root;
	k = run(&c, be, argv[3], argv + 4, argc - 4);
	if (k == -EINVAL && !c.error) {
		fprintf(stderr, "pkg-op: %s: unknown operation, or not with %d arguments\n", argv[3], argc - 4);
		return 2;
	}
	if (k < 0)
		fprintf(stderr, "pkg-op: %s\n", c.error ? c.error : gp_strerror(k));
	pkg_ctx_done(&c);
	return k < 0 ? 1 : 0;
}
