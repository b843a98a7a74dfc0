/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

struct cli;
struct state;
struct state_verdict;

/* What status reads, the same for its three outputs (text, --json, --prometheus). */
struct status_view {
	const struct state *state; /* state.json, or NULL */
	const cJSON *journal; /* the last run's journal, or NULL */
	const struct state_verdict *verdict; /* state.json's "verified", or NULL */
	pid_t holder;         /* the pid of a run going on now, or 0 */
	const char *state_name; /* "applied", "interrupted", ..., "never applied" */
	const char *step;     /* where an interrupted run stopped, or NULL */
	const char *running;  /* the running kernel, or NULL */
	bool reboot;          /* a reboot is pending */
};

/* status --prometheus [--output FILE]: the metrics in the text exposition format, on stdout
 * or replacing FILE atomically. The exit code. */
int status_prometheus(struct cli *cli, const struct status_view *s);
