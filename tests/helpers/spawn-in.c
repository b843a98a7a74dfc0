/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spawn-in ROOT COMMAND [ARG...]: runs COMMAND inside ROOT the way gpuprov runs apt, dpkg and
 * the installers there (spawn_run with SPAWN_IN_ROOT), for the scenario tests of what such a
 * command sees and of what becomes of it when gpuprov dies. Its stdout and stderr are
 * printed once it ends; spawn's debug log (what it mounts, what it refuses) goes to stderr
 * as it happens.
 *
 * Exit: the command's status; 125 when it could not be started, 2 usage.
 */
#include <stdio.h>

#include "util/errors.h"
#include "util/log.h"
#include "util/spawn.h"

int main(int argc, char **argv)
{
	_cleanup_(root_freep) struct root *root = NULL;
	struct spawn_result r = {};
	int k, status;

	if (argc < 3) {
		fprintf(stderr, "usage: spawn-in ROOT COMMAND [ARG...]\n");
		return 2;
	}
	if ((k = root_open(argv[1], &root)) < 0) {
		fprintf(stderr, "spawn-in: %s: %s\n", argv[1], gp_strerror(k));
		return 2;
	}
	log_set_level(LOG_LEVEL_DEBUG);
	if ((k = spawn_run(root, SPAWN_IN_ROOT, argv + 2, NULL, &r)) < 0) {
		fprintf(stderr, "spawn-in: cannot run %s: %s\n", argv[2], gp_strerror(k));
		return 125;
	}
	fputs(r.out, stdout);
	fputs(r.err, stderr);
	status = r.status;
	spawn_result_done(&r);
	return status;
}
