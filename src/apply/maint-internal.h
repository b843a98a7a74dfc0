/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What maintenance.c shares with its schedulers (maint-slurm.c, maint-kube.c) only. */
#include "apply/maintenance.h"
#include "util/spawn.h"

/* One run of enter, leave, hold or view. */
struct maint_run {
	const struct root *root;
	const struct maint_config *cfg; /* enter only */
	cJSON *rec;			/* the record being made or read */
	struct maint_outcome *out;
};

/* A scheduler: chosen once by the record's (or the profile's) "scheduler". */
struct maint_scheduler {
	const char *name;
	/* What keeps a node out, as a noun and as the node's state: "drain"/"drained" (Slurm),
	 * "cordon"/"cordoned" (Kubernetes). */
	const char *noun, *state;
	/* Drains rec's node unless someone else has (rec "drained": false then); waits until it
	 * is empty; -GPE_REFUSED after undoing its own drain when it cannot. */
	int (*enter)(struct maint_run *m);
	/* Lets the node back when the drain is still gpuprov's; else rec "left" says why. Only
	 * called for a drain gpuprov made (rec "drained": true). */
	int (*leave)(struct maint_run *m);
	/* Keeps the node out with why in the reason (or an annotation). Only called for a drain
	 * gpuprov made. */
	int (*hold)(struct maint_run *m, const char *why);
	/* The scheduler's view of the node, as members of view. */
	int (*view)(struct maint_run *m, cJSON *view);
};

extern const struct maint_scheduler maint_slurm, maint_kube;

/* Runs argv in the root (spawn); 0 when it ran and exited 0, -GPE_COMMAND with out->error
 * saying which command and what it printed when it did not. ret (may be NULL) gets its
 * output either way. */
int maint_cmd(struct maint_run *m, char *const argv[], struct spawn_result *ret);
/* A line of what was done. */
int maint_say(struct maint_run *m, const char *fmt, ...) _printf_(2, 3);
/* out->error = the formatted text (replacing an earlier one); returns error. */
int maint_fail(struct maint_run *m, int error, const char *fmt, ...) _printf_(3, 4);
/* Record members. */
const char *maint_rec_str(const cJSON *rec, const char *key);
int maint_rec_set_str(cJSON *rec, const char *key, const char *value);
int maint_rec_set_bool(cJSON *rec, const char *key, bool value);
/* Sleeps one poll interval; whether the deadline (CLOCK_MONOTONIC seconds) is still ahead. */
bool maint_wait(double deadline);
double maint_now(void);
