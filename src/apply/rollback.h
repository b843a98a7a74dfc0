/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "apply/apply.h"
#include "apply/journal.h"
#include "apply/state.h"
#include "plan/plan.h"
#include "profile/repo.h"

/*
 * What apply records before a plan changes packages: for every package the plan installs or
 * holds through the OS's package manager, the packages of the same version beside them (one
 * source's binaries, which depend on each other at exact versions), every held package and
 * the packages of the running kernel, the version installed (NULL: not installed) and whether
 * it is held, as the view shows them; the content of gpuprov's apt pin files; and the kernel
 * that runs. ret is NULL (and 0) when nothing is to be saved: the plan installs nothing, or
 * state.json holds a record made for this same switch (a re-run). A record made for a switch
 * the node never settled on (its apply did not finish) stays, made for this switch now: the
 * node is between two stacks, and the one before both is the known-good one.
 */
int previous_stack_record(const struct root *root, const struct facts *f,
			  const struct repo_view *view, const char *profile,
			  const struct resolution *r, const struct plan *pl, cJSON **ret);
/* Puts the record into state.json, which keeps its other members (state_recorded). */
int previous_stack_save(const struct root *root, const cJSON *record);
/* What state.json says of the stack a successful apply installed, for the record's test of
 * whether the node settled on it: "name=version" for every package the resolution picked. */
int previous_stack_picks(const struct resolution *r, cJSON **ret);

/* A pin file is a few lines: the limit only keeps a damaged one from filling memory. */
#define PIN_FILE_MAX (1024 * 1024)

/* One of the running kernel's packages (release: the kernel that runs), which neither the
 * record's reinstalls nor --remove-new touch. */
bool previous_stack_of_kernel(const char *name, const char *version, const char *release);

/* Refuses a record that does not read (-GPE_PARSE, ret_error naming the member and what it
 * should be): rollback puts its names and versions on apt's and dnf's command lines. */
int previous_stack_check(const cJSON *record, char **ret_error);

struct rollback_options {
	bool kernel_only; /* no package installed or removed: the holds, the pins, the kernel */
	bool remove_new;  /* also remove what was not installed before the switch */
};

/* What rollback does for a record, in the order it does it (DESIGN rule 3: plans are data). */
struct rollback {
	struct plan *plan; /* "install", "remove", "hold", "unhold", "file", in that order */
	char **kept;	   /* packages new with the switch that stay installed */
	size_t n_kept;
	char *
	    *unavailable; /* "name version" to reinstall that the view says no repository offers */
	size_t n_unavailable;
	char *via;    /* the package backend: "apt" or "dnf" */
	char *kernel; /* the kernel that ran before the switch */
	char *branch; /* its driver's branch and flavour, for dnf's module stream (or NULL) */
	char *flavour;
};

/*
 * The actions that bring the node back to the record: the versions of before installed
 * again where they differ (not with kernel_only; never the kept kernel's own packages), the
 * packages new with the switch removed (remove_new; never the running kernel's) or kept,
 * the holds as they were (held again what was held, at its version of before, then unheld
 * what was not), gpuprov's pin files as they were. Reads the view and the files; changes
 * nothing. -GPE_PARSE with ret_error naming the member when the record is malformed.
 */
int rollback_build(const struct root *root, const struct facts *f, const struct repo_view *view,
		   const cJSON *record, const struct rollback_options *o, struct rollback **ret,
		   char **ret_error);
struct rollback *rollback_free(struct rollback *rb);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rollback *, rollback_free)

/* The actions, the packages kept and those not offered, as rollback --dry-run --json says them. */
int rollback_to_json(const struct rollback *rb, cJSON **ret);

/* Refuses before anything changes: every version to reinstall offered, the transaction
 * simulated (the backend's preflight). -GPE_UNAVAILABLE or -GPE_REFUSED, c->error saying why. */
int rollback_check(struct pkg_ctx *c, const struct rollback *rb);

struct exec_steps;
/* The steps of a rollback to kernel, for the executor: one per kind of package action, then
 * each file, then kernel made GRUB's saved default (a boot-once entry cancelled). rb NULL:
 * a state without a record, the kernel alone. */
int rollback_steps(const struct rollback *rb, const char *kernel, struct exec_steps *st);
/* Carries them out under the journal of a "rollback" run, then records the verdict in state
 * (state_rolled_back: kernel, kernel_only) and saves it. rep->error says which step failed. */
int rollback_run(struct pkg_ctx *c, const struct rollback *rb, const char *kernel, struct state *state,
		 bool kernel_only, struct apply_report *rep);
