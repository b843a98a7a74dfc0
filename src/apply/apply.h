/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <cjson/cJSON.h>

#include "pkg/pkg.h"
#include "plan/plan.h"

/* What apply did, step by step, and where it stopped. */
struct apply_report {
	char **done;    /* one line per step carried out */
	size_t n_done;
	char **pending; /* steps left to a later part of gpuprov (boot switch), with why */
	size_t n_pending;
	char *error;    /* when apply failed: the step and the cause */
	bool changed;
	bool resumed;   /* the last run was killed before its end; this one finished its record */
};

void apply_report_done(struct apply_report *rep);

/*
 * Executes a plan (DESIGN rule 3: no hidden work), step by step, each recorded in the
 * journal as it is done: first every check that can refuse (each backend's dry run, the
 * runfiles fetched and their SHA-256 verified), then previous (previous_stack_record's, when
 * not NULL) saved in state.json, then the packages, the kernel kept, the holds, the files,
 * sysctl on the running system, the initramfs and the services. Returns 0,
 * -GPE_UNAVAILABLE / -GPE_DIGEST / -GPE_REFUSED when refused before anything changed,
 * -GPE_PARSE when a file of gpuprov's that the check reads does not parse (nothing changed
 * either), or another error with rep->error saying which step failed.
 */
int apply_plan(struct pkg_ctx *c, const char *profile, const struct plan *pl, const cJSON *previous,
	       struct apply_report *rep);
