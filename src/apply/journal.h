/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "util/root.h"

#define JOURNAL_FILE "var/lib/gpuprov/journal.json"
#define LOCK_FILE "run/gpuprov.lock"

/*
 * One run at a time (DESIGN rule 4): an flock on the target's /run/gpuprov.lock, which
 * holds the holder's pid. -GPE_LOCKED with ret_holder set when another run has it.
 */
int run_lock(const struct root *root, int *ret_fd, pid_t *ret_holder);

/* The pid of the run holding the lock (-1 when it is held but says no pid), or 0. Writes
 * nothing: for status. */
pid_t run_lock_holder(const struct root *root);

/*
 * The journal of a run, var/lib/gpuprov/journal.json: the profile, when it started, and
 * every step with whether it is done, rewritten atomically after each. A run killed at
 * any point leaves it saying how far it got; status reads it, and the next apply plans
 * from the machine as it is, which finishes the work.
 */
struct journal {
	const struct root *root;
	cJSON *doc;
	cJSON *steps;
};

/* Begun for a run of verb ("apply", "rollback"), which the journal names, with every step's
 * label, none done. */
int journal_begin_run(struct journal *j, const struct root *root, const char *verb, const char *profile,
		      char *const *steps);
/* Marks step i done. With GPUPROV_TEST_ABORT_AFTER=N in the environment, the process then
 * dies after step N as if killed (tests only). */
int journal_step_done(struct journal *j, size_t i);
int journal_finish(struct journal *j, const char *error);
void journal_done(struct journal *j);

/* The last run's journal, or NULL with 0 when there is none; -GPE_PARSE when unreadable. */
int journal_load(const struct root *root, cJSON **ret);
