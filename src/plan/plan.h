/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <cjson/cJSON.h>

#include "files/render.h"
#include "host/facts.h"
#include "profile/profile.h"
#include "profile/resolve.h"

/* One step apply takes, with the reason it is there. Plans are data (DESIGN rule 3). */
struct action {
	char *kind;    /* "maintenance", "install", "hold", "keep-kernel", "file", "cmdline",
			* "boot-once", "service", "restart", "initramfs", "cdi", "gpu", "reboot" */
	char *target;  /* package, file path, unit, kernel release */
	char *version; /* install: the exact version */
	char *detail;  /* file: the diff; cmdline: the arguments */
	char *reason;
	char *via;     /* install, hold, keep-kernel: the backend, "apt", "dnf" or "runfile" */
	char *content; /* file: the whole new content; NULL with a detail: the file goes away */
	mode_t mode;   /* file: the mode of a new one; 0: 0644 */
	char *record;  /* file of which only some keys are gpuprov's: the record of them
			* (json-keys.h), written with it; NULL for a whole file */
};

struct plan {
	struct action *actions;
	size_t n;
	bool reboot;
	char **warnings; /* what the operator must do that gpuprov does not (an import to add) */
	size_t n_warnings;
};

/* The plan for a resolution. The view tells what is installed and held already, so that a
 * converged machine gets an empty plan. ret_error: which file could not be read, and why. */
int plan_build(const struct profile *p, const struct facts *f, const struct resolution *r,
	       const struct repo_view *view, const struct root *root, struct plan **ret, char **ret_error);
struct plan *plan_free(struct plan *p);
struct runtimes_seen;
/* The container runtimes whose drop-ins the plan changes: a restart of each one installed,
 * or where a reboot follows, a word that it reads them then; and what the operator must add
 * for a drop-in to be read (plan-container.c). */
int plan_container_runtimes(struct plan *pl, const struct profile *p, const struct runtimes_seen *rs);
/* The backend a pick is installed with: "apt", "dnf" or "runfile". */
const char *plan_pick_via(const struct facts *f, const struct resolution *r, const struct pick *pk);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct plan *, plan_free)
/* Appends an action (via may be NULL), for the plans of other verbs than apply (rollback). */
int plan_add(struct plan *pl, const char *kind, const char *target, const char *version, const char *via,
	     const char *reason);

/* Puts an action before every other (maintenance: before the first change). */
int plan_add_first(struct plan *pl, const char *kind, const char *target, const char *reason);

/* The "cdi" action (plan-cdi.c), once pl->reboot is known: the spec made now, or at boot by
 * gpuprov-cdi.service when the driver that will run is not loaded yet. */
int plan_cdi(struct plan *pl, const struct profile *p, const struct facts *f, const struct resolution *r,
	     const struct root *root);

/* The "gpu" action (plan-gpu.c), once pl->reboot is known: the GPUs' declared settings that
 * differ now (detail: "needs a reboot", "needs a GPU reset or reboot"), or all of them set
 * "at boot" by gpuprov-gpu.service when the driver that will run is not loaded yet. */
int plan_gpu(struct plan *pl, const struct profile *p, const struct facts *f, const struct resolution *r,
	     const struct root *root);

/* The whole answer of `plan --json`: profile, stack, reasons, warnings, actions. */
int plan_to_json(const struct profile *p, const struct resolution *r, const struct plan *pl, cJSON **ret);
