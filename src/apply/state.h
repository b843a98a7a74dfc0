/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "util/macro.h"
#include "util/root.h"

/* What the last apply installed and for which profile; verify, rollback and revert add to
 * it, status reads it (doc/formats.md). */
#define STATE_FILE "var/lib/gpuprov/state.json"
/* state.json's record of the stack before a switch, which rollback reads (rollback.h). */
#define PREVIOUS_STACK "previous_stack"
/* The result in state.json's "verified" that rollback records. */
#define ROLLED_BACK_BY_HAND "rolled back by hand"
/* verify's verdict when only the GPUs failed: the kernel is kept (committed), the node held
 * drained; not a kernel rolled back. */
#define HARDWARE_FAULT "hardware fault"

/* A kernel verify rolled back on this node: plan and apply do not choose it again. */
struct state_failed_kernel {
	char *kernel;
	char *at;      /* when, UTC */
	char **failed; /* the checks that failed, as verify reported them */
};

/* "verified": verify's verdict on the stack (committed, hardware fault, rolled back), or
 * rollback's. */
struct state_verdict {
	char *result;	  /* "committed", HARDWARE_FAULT, "rolled back" or ROLLED_BACK_BY_HAND */
	char *at;
	char **failed;	  /* verify: the checks that failed */
	cJSON *checks;	  /* verify: every check, [{check, ok, class, warn, detail}]; NULL before */
	char *kernel;	  /* rollback: the kernel it went back to */
	bool kernel_only; /* rollback: with --kernel-only */
};

/*
 * state.json, typed. Members are NULL (strings, lists) or false when the file does not have
 * them; a member of the wrong type reads as absent (a hand edit) and is not written back.
 * The stack members (profile to boot_once) describe what the last apply installed: kernel
 * is NULL after revert, or before an apply finished.
 */
struct state {
	char *profile;
	char *applied; /* when the apply finished, UTC */
	char *kernel;
	char *previous_kernel; /* the known-good kernel verify and rollback go back to */
	char *driver, *cuda, *source, *flavour;
	bool rdma;	     /* verify checks the HCA ports */
	char **modules_absent; /* what verify checks: the profile's blacklist */
	char **modules_loaded; /* and the modules loaded at boot (RDMA) */
	bool verify_reboot;    /* verify --commit reboots after a failure (a stack without the member: true) */
	bool reboot_required;
	char **packages; /* "name=version" of every package the resolution picked */
	char *cdi_dir;	 /* where the GPUs' CDI spec is kept (the profile's container.cdi_dir); NULL: no CDI */
	/* The profile's "verify" section (the health gate's thresholds) and "gpu" section (the
	 * GPUs' declared state), as the profile resolved them for this node: verify, the boot
	 * unit and check read them here, not from a profile that may have changed since.
	 * Objects, or NULL where the profile has no such section. */
	cJSON *health;
	cJSON *gpu;
	char *boot_id;	 /* the boot the apply ran in: verify's verdict waits for another */
	char *boot_once_via, *boot_once_variable, *boot_once_file; /* NULL: no switch */
	/* The record of the stack before the switch, as rollback.c reads and checks it; any
	 * JSON value (rollback refuses one that is not an object), or NULL. */
	cJSON *previous_stack;
	struct state_failed_kernel *failed_kernels;
	size_t n_failed_kernels;
	struct state_verdict *verified; /* NULL: no verdict yet */
	bool reverted;
	/* Maintenance the scheduler knows about (maintenance.h): the record of the last drain,
	 * an object, or NULL. Kept by every transition: the node stays drained across them. */
	cJSON *maintenance;
	/* Members this version does not know (a newer gpuprov's): kept by load and save and by
	 * every transition but state_applied, which writes a new record. */
	cJSON *unknown;
};

struct state *state_free(struct state *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct state *, state_free)

/* -ENOENT when there is none, -GPE_PARSE when it is not a JSON object. */
int state_load(const struct root *root, struct state **ret);
/* Written as the other records are: a temporary file, fsync, rename. */
int state_save(const struct root *root, const struct state *s);
/* The document state_save writes (status --json shows it). */
int state_to_json(const struct state *s, cJSON **ret);
/* The reverse; a document that is not an object is -GPE_PARSE. */
int state_from_json(const cJSON *doc, struct state **ret);

/* The entry of a kernel verify rolled back, or NULL. */
const struct state_failed_kernel *state_failed_kernel(const struct state *s, const char *kernel);
/* failed_kernels as resolve reads it: [{kernel, at, failed}]. */
int state_failed_kernels_json(const struct state *s, cJSON **ret);

/*
 * The transitions: what each verb makes of the state before it. failed_kernels always
 * carries over (a kernel rolled back stays refused until --retry-failed applies it).
 */

/* apply recorded the stack before its switch (before the packages change): all else stays. */
int state_recorded(struct state *s, const cJSON *previous_stack);
/*
 * An apply finished: next, the new stack, replaces every member of s but three. The record
 * of the stack before the switch stays, and its kernel is the known-good one (previous_kernel),
 * else the one that ran during the apply (running); failed_kernels stays, without the kernel
 * applied now (judged anew), and so does the maintenance record. The verdict and the members
 * this version does not know go.
 */
int state_applied(struct state *s, struct state *next, const char *running);
/* verify --commit gave its verdict on the stack, with its checks (an array, copied; NULL:
 * none); "rolled back" also adds the kernel to failed_kernels. at: now, UTC. */
int state_verified(struct state *s, const char *result, const char *at, char *const *failed, const cJSON *checks);
/* rollback went back to kernel. */
int state_rolled_back(struct state *s, const char *at, const char *kernel, bool kernel_only);
/*
 * revert put gpuprov's files back as they were before gpuprov: the stack recorded no longer
 * describes the files, so it goes. The record of the stack before the switch goes too: its
 * apt pin files are among what revert removed, and a rollback would write them again. What
 * stays: failed_kernels, the maintenance record and the members this version does not know.
 */
int state_reverted(struct state *s);
