/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --root and --sysroot, opened once for every verb: each a directory, or a capture
 * (gpuprov capture) unpacked into a private directory for the verbs that only read. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "capture/capture.h"
#include "cli.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/strutil.h"

/* Unpacks the capture at path, or finds it already unpacked (the same file for both). */
static int open_capture(struct cli *cli, const char *path, const struct stat *st, struct capture **ret)
{
	_cleanup_free_ char *error = NULL;
	const char *tmp = getenv("TMPDIR");
	int k;

	for (size_t i = 0; i < ELEMENTSOF(cli->captures); i++)
		if (cli->captures[i] && cli->captures[i]->dev == st->st_dev && cli->captures[i]->ino == st->st_ino) {
			*ret = cli->captures[i];
			return EXIT_CODE_OK;
		}
	k = capture_open(path, tmp && *tmp ? tmp : "/tmp", ret, &error);
	if (k < 0) {
		log_error("capture %s: %s; nothing unpacked", path, error ?: gp_strerror(k));
		return k == -GPE_LIBRARY ? EXIT_CODE_LIBRARY : k == -ENOMEM ? EXIT_CODE_FAILURE : EXIT_CODE_USAGE;
	}
	log_debug("unpacked %s into %s", path, (*ret)->dir);
	cli->captures[cli->captures[0] ? 1 : 0] = *ret;
	if ((k = capture_guard(*ret)) < 0)
		return log_error_errno(k, "capture %s: cannot watch over its unpacked copy", path), EXIT_CODE_FAILURE;
	return EXIT_CODE_OK;
}

static int open_root(const char *path, const char *what, struct root **ret)
{
	int k = root_open(path, ret);

	if (k < 0)
		log_error_errno(k, "cannot open %s %s", what, path);
	return k;
}

int cli_open_roots(struct cli *cli, const struct verb *verb)
{
	const char *root = cli->root_path, *sys = cli->sysroot_path;
	struct capture *c;
	struct stat st;
	int r;

	for (int i = 0; i < 2; i++) {
		const char *given = i == 0 ? cli->root_path : cli->sysroot_path;

		if (!given || stat(given, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (!verb->reads_capture) {
			log_error("%s: a capture, which only detect, profiles, show, plan, check, status and capture read; "
				  "%s acts on a node itself; nothing changed", given, verb->name);
			return EXIT_CODE_USAGE;
		}
		if ((r = open_capture(cli, given, &st, &c)) != EXIT_CODE_OK)
			return r;
		/* A capture as --root alone is the whole node: /proc and /sys from it too. */
		if (i == 0) {
			root = c->root;
			if (!cli->sysroot_path)
				sys = c->sysroot;
		} else
			sys = c->sysroot;
	}
	if (open_root(root, "root", &cli->root) < 0 || open_root(sys ?: root, "sysroot", &cli->sys) < 0)
		return EXIT_CODE_USAGE;
	return EXIT_CODE_OK;
}

void cli_close_roots(struct cli *cli)
{
	cli->root = root_free(cli->root);
	cli->sys = root_free(cli->sys);
	for (size_t i = 0; i < ELEMENTSOF(cli->captures); i++)
		cli->captures[i] = capture_free(cli->captures[i]);
}
