/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "apply/apply.h"
#include "pkg/pkg.h"
#include "plan/plan.h"
#include "util/macro.h"

/*
 * The one journaled executor: apply and rollback each plan their steps and their order, and
 * both run them here, every step marked done in the journal as it ends (journal.h), so that
 * a run killed at any point says how far it got the same way whichever verb it was.
 */

/* What a step's handler is given. */
struct exec {
	struct pkg_ctx *c;
	const struct plan *pl;
	const void *data; /* the verb's own (apply's record of the stack before, the rollback) */
	struct apply_report *rep;
};

struct exec_step {
	int (*run)(const struct exec *x, const struct exec_step *s);
	char *label;	  /* what the journal lists */
	size_t action;	  /* a step of one action: the plan's */
	const char *kind; /* exec_packages: the kind of action carried out ("install") */
	const char *via;  /* exec_packages: the backend */
	const char *what; /* exec_packages: the step as an error names it */
	const char *done; /* exec_packages: how a done line begins ("installed") */
};

/* The steps of a run, in the order they run. */
struct exec_steps {
	struct exec_step *steps;
	size_t n;
};

void exec_steps_done(struct exec_steps *st);

/* Adds a step (s's label is ignored: label_fmt makes it). */
int exec_add(struct exec_steps *st, const struct exec_step *s, const char *label_fmt, ...) _printf_(3, 4);
/* Adds one step for every action of kind through via, when the plan has any: each kind is one
 * call to the backend. Its label is "what (via)"; a done line "done name version (via)". */
int exec_add_packages(struct exec_steps *st, const struct plan *pl, const char *kind, const char *via,
		      const char *what, const char *done);

/* The handlers of the kinds both verbs carry out: exec_add_packages' steps, and a file's
 * content put in place (the action's content; NULL removes the file). */
int exec_packages(const struct exec *x, const struct exec_step *s);
int exec_file(const struct exec *x, const struct exec_step *s);

/* The wants of the actions of one kind through one backend, in plan order; w has room for
 * every action. */
size_t exec_collect(const struct plan *pl, const char *kind, const char *via, struct pkg_want *w);
/* rep->error = the formatted text; returns error. */
int exec_fail(struct apply_report *rep, int error, const char *fmt, ...) _printf_(3, 4);

/*
 * Runs the steps in order under a journal of verb's run for profile (NULL: none), begun with
 * every label. The first step that fails stops the run, with rep->error saying why. last,
 * when not NULL, runs once every step is done and before the journal closes (rollback's
 * verdict). rep->changed: some step did something (a line in rep->done).
 */
int exec_run(const struct exec *x, const char *verb, const char *profile, const struct exec_steps *st,
	     int (*last)(const struct exec *x));
