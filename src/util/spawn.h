/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/root.h"

/*
 * The one door for processes (DESIGN rule 2): package managers, grub tools, initramfs
 * generators and systemctl run from an argv, never a shell string. Under a root other than
 * "/" the command runs inside it (chroot), as an installer's in-target step does; where the
 * root has no /proc, /sys or /dev of its own, in a mount namespace of its own with the host's
 * bind-mounted there. A command gets SIGTERM when gpuprov dies. Output is captured; the
 * caller decides what to report.
 */
struct spawn_result {
	int status; /* exit status; 128 + N when killed by signal N */
	char *out;  /* captured stdout, NUL-terminated (the start, when it was very long) */
	char *err;  /* captured stderr, likewise */
	int signal; /* the signal that killed it, or 0 */
	bool timed_out; /* killed at spawn_opts.timeout_s */
};

enum {
	SPAWN_IN_ROOT = 1 << 0, /* chroot into the root first (ignored when the root is "/") */
};

/*
 * Runs argv[0] (looked up in PATH, inside the root when SPAWN_IN_ROOT) with a clean
 * environment: PATH, LC_ALL=C, HOME, the proxy variables of the caller, then env (NULL or
 * "KEY=value" strings). stdin is /dev/null. Returns 0 once the command ran, whatever its
 * exit status, or -errno when it could not be started.
 */
int spawn_run(const struct root *root, unsigned flags, char *const argv[], char *const env[],
	      struct spawn_result *ret);
void spawn_result_done(struct spawn_result *r);

/* What spawn_run_opts() adds to spawn_run(). */
struct spawn_opts {
	/* 0: none. Past it the command's process group is killed (SIGKILL) and timed_out set:
	 * a hung diagnostic or site check must not hold verify, and the boot, forever. */
	unsigned timeout_s;
	/* >= 0: the program is this open file (fexecve), argv[0] only its name: what the
	 * caller checked through the descriptor is what runs, not what a path names later. */
	int exec_fd;
};
int spawn_run_opts(const struct root *root, unsigned flags, char *const argv[], char *const env[],
		   const struct spawn_opts *opts, struct spawn_result *ret);

/* The last non-empty line of a command's output (text: its out or err) into buf, cut to size,
 * control characters made spaces: a short reason to put in a report. */
void spawn_last_line(const char *text, char *buf, size_t size);

/* "`apt-get install ...` exited with 100: <the last lines of stderr>", for error reports. */
char *spawn_describe(char *const argv[], const struct spawn_result *r);

/* Whether a program exists in the root's PATH directories (usr/sbin, usr/bin, sbin, bin). */
bool spawn_have(const struct root *root, const char *program);
