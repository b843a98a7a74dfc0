/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pkg-op ROOT BACKEND OP NAME [VERSION]: one package backend operation on a root, for the
 * scenario tests of what no verb reaches (a runfile's uninstall, recorded for going back).
 * OP: remove, installed. Exit 0 done, 1 failed (the backend's error on stderr), 2 usage.
 */
#include <stdio.h>

#include "pkg/pkg.h"
#include "util/errors.h"

int main(int argc, char **argv)
{
	_cleanup_(root_freep) struct root *root = NULL;
	const struct pkg_backend *be;
	struct pkg_ctx c = {};
	struct pkg_want w;
	char *version = NULL;
	int k;

	if (argc < 5 || argc > 6 || !(be = pkg_backend_by_name(argv[2]))) {
		fprintf(stderr, "usage: pkg-op ROOT apt|dnf|runfile remove|installed NAME [VERSION]\n");
		return 2;
	}
	if ((k = root_open(argv[1], &root)) < 0) {
		fprintf(stderr, "pkg-op: %s: %s\n", argv[1], gp_strerror(k));
		return 2;
	}
	c.root = root;
	w = (struct pkg_want){ argv[4], argc == 6 ? argv[5] : NULL };
	if (streq(argv[3], "remove"))
		k = be->remove(&c, &w, 1);
	else if (streq(argv[3], "installed")) {
		k = be->installed(&c, w.name, &version);
		if (k > 0)
			printf("%s\n", version);
		free(version);
	} else {
		fprintf(stderr, "pkg-op: unknown operation %s\n", argv[3]);
		return 2;
	}
	if (k < 0)
		fprintf(stderr, "pkg-op: %s\n", c.error ? c.error : gp_strerror(k));
	pkg_ctx_done(&c);
	return k < 0 ? 1 : 0;
}
