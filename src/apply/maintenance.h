/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "profile/profile.h"
#include "util/root.h"

/*
 * Maintenance the scheduler knows about: before apply changes what needs a reboot, the node
 * leaves its scheduler (Slurm's drain, Kubernetes' cordon and drain) under a reason gpuprov
 * owns, and the record of it goes to state.json ("maintenance", doc/formats.md); verify
 * --commit lets the node back only while that drain is still gpuprov's own, so that an
 * admin's drain, or a health check's, survives. The commands run in the root, as the other
 * target tools do. Nothing here prints: what was done comes back as lines for the CLI.
 */

/* How often apply asks whether the node has emptied, in seconds. */
#define MAINT_POLL_S 2
/* How long it waits when the profile does not say (an hour: a training job's checkpoint). */
#define MAINT_DRAIN_TIMEOUT_DEFAULT 3600
/* The prefix of every Slurm reason gpuprov sets: a drain whose reason starts otherwise is
 * someone else's. */
#define MAINT_REASON_PREFIX "gpuprov:"
/* The Kubernetes annotations: who cordoned the node (the run id), and why it is held. */
#define MAINT_ANNOTATION "gpuprov/cordoned"
#define MAINT_HELD_ANNOTATION "gpuprov/held"

/* The profile's maintenance section, with the node it names or the machine's. */
struct maint_config {
	const char *scheduler; /* "slurm", "kubernetes" or "none" */
	const char *node;
	long drain_timeout;	/* seconds; 0: do not wait */
	const char *kubeconfig; /* NULL: kubectl's own default */
	char **pre, **post;	/* argv, or NULL */
	const char *profile;
};

/* The section of p (borrowed strings, the hooks copied): node is used as it is. */
int maint_config_from_profile(const struct profile *p, const char *node, struct maint_config *ret);
void maint_config_done(struct maint_config *c);
/* Whether the profile asks for anything: a scheduler or a hook. */
bool maint_wanted(const struct profile *p);
/* The node the profile names, else the machine's hostname (<sys>/proc/sys/kernel/hostname,
 * else <root>/etc/hostname); -ENOENT when none is found. */
int maint_node(const struct profile *p, const struct root *root, const struct root *sys, char **ret);
/* The plan's target: "slurm node N", "kubernetes node N", "hooks". */
char *maint_target(const struct maint_config *c);

struct plan;
/*
 * The plan's first action, "maintenance", when the plan needs a reboot, changes something
 * before it, and the profile asks for maintenance; its target names the node
 * (maint_target). -ENOENT with ret_error when a scheduler's node has no name.
 */
int maint_plan(const struct profile *p, const struct root *root, const struct root *sys, struct plan *pl,
	       char **ret_error);
/* The node of a plan's maintenance action (its target); NULL for hooks only. */
const char *maint_plan_node(const char *target);

/* What a maintenance step did, a line each, and why it refused or failed. */
struct maint_outcome {
	char **lines;
	size_t n;
	char *error;
};
void maint_outcome_done(struct maint_outcome *o);

/* Whether a record (state.json's member, or NULL) is a maintenance not ended yet. */
bool maint_record_open(const cJSON *record);

/*
 * Enters maintenance: the pre hook, then the scheduler's drain, waiting until the node is
 * empty. *record is state.json's member before (NULL: none); a record of the same node not
 * ended is kept and nothing is drained again. Else *record becomes the new record (the old
 * one freed). -GPE_REFUSED with out->error when the hook failed or the drain timed out or
 * failed: gpuprov's own drain is undone then, and *record is unchanged.
 */
int maint_enter(const struct root *root, const struct maint_config *c, cJSON **record, struct maint_outcome *out);
/*
 * Leaves it, as verify --commit does when it keeps the new stack: the node back only where
 * the drain is still gpuprov's, then the post hook; the record marked ended. A held record
 * refuses (-GPE_REFUSED) unless force. A record already ended, or none: nothing done.
 */
int maint_leave(const struct root *root, cJSON *record, bool force, struct maint_outcome *out);
/* verify --commit rolled back: the node stays out, the reason says why (held: why). */
int maint_hold(const struct root *root, cJSON *record, const char *why, struct maint_outcome *out);
/* The scheduler's view of the record's node now, as status shows it. */
int maint_view(const struct root *root, const cJSON *record, cJSON **ret);

/* One node of `scontrol show node NODE --oneliner`: State= and Reason= (without the
 * " [user@time]" Slurm appends), NULL when absent. */
struct slurm_node {
	char *state;
	char *reason;
};
int slurm_node_parse(const char *text, struct slurm_node *ret);
void slurm_node_done(struct slurm_node *n);
/* State= says the node is drained or draining; and that no job is left on it. */
bool slurm_state_drain(const char *state);
bool slurm_state_empty(const char *state);
