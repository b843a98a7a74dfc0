/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov verify [--commit]: is the new stack healthy; then make it the default, or go back. */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "apply/journal.h"
#include "apply/maintenance.h"
#include "apply/state.h"
#include "apply/verify.h"
#include "boot/grub.h"
#include "cli.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/write.h"

const char verb_verify_usage[] = "[--commit] [--no-reboot] [--json]\n"
				 "Check the stack the last apply installed on the kernel that is running: the\n"
				 "kernel, the nvidia modules' version and flavour, /dev/nvidia*, NVML's GPU count\n"
				 "against PCI, the fabric manager's version, the GPUs' health (retired pages, ECC,\n"
				 "PCIe, NVLink, persistence, throttling, temperature), HCA ports, Xid errors since\n"
				 "boot. Without --commit it only reports. Exit 3 when a check fails.\n"
				 "  --commit     all good: the running kernel becomes GRUB's saved default; a check\n"
				 "               of the stack failed: the known-good kernel stays (or becomes) the\n"
				 "               default and the node reboots into it; only a GPU's hardware failed:\n"
				 "               the running kernel becomes the default, the node stays drained with\n"
				 "               the GPUs' bus ids and serials as the reason (\"hardware fault\");\n"
				 "               either way a boot-once entry left is cancelled\n"
				 "  --no-reboot  with --commit, do not reboot after a failure\n"
				 "  --json       the checks as JSON\n";

/* saved_entry = the entry of release, a boot-once entry left cancelled; 0 where there is no
 * GRUB to tell. */
static int set_default(struct cli *cli, const struct facts *f, const char *release, char **ret_why)
{
	*ret_why = NULL;
	if (!f->boot.loader)
		return 0;
	return boot_default_set(f, cli->root, release, true, ret_why);
}

static bool check_failed(const struct verify_check *c)
{
	return !c->ok && !c->warn;
}

/* A failed check of the stack rolls the kernel back; when only the GPUs' hardware failed, the
 * kernel is fine and stays: a hardware fault. */
static const char *verdict_of(const struct verify_report *rep)
{
	bool hardware = false;

	for (size_t i = 0; i < rep->n; i++)
		if (check_failed(&rep->checks[i])) {
			if (rep->checks[i].class == VERIFY_STACK)
				return "rolled back";
			hardware = true;
		}
	return hardware ? HARDWARE_FAULT : "committed";
}

/* The checks as --json and state.json's verdict give them: [{check, ok, class, warn, detail}]. */
static int checks_json(const struct verify_report *rep, cJSON **ret)
{
	_cleanup_(cJSON_Deletep) cJSON *list = cJSON_CreateArray();

	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < rep->n; i++) {
		const struct verify_check *c = &rep->checks[i];
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(list, o) || !cJSON_AddStringToObject(o, "check", c->name) ||
		    !cJSON_AddBoolToObject(o, "ok", c->ok) ||
		    !cJSON_AddStringToObject(o, "class", c->class == VERIFY_HARDWARE ? "hardware" : "stack") ||
		    !cJSON_AddBoolToObject(o, "warn", c->warn) || !cJSON_AddStringToObject(o, "detail", strna(c->detail)))
			return -ENOMEM;
	}
	*ret = TAKE_PTR(list);
	return 0;
}

/* The verdict, with the checks that failed and every check (a kernel rolled back joins
 * failed_kernels). */
static int record(struct cli *cli, struct state *state, const char *result, const struct verify_report *rep)
{
	_cleanup_(strv_freep) char **failed = NULL;
	_cleanup_(cJSON_Deletep) cJSON *checks = NULL;
	char when[32];
	size_t n = 0;
	int k;

	utc_now(when);
	for (size_t i = 0; i < rep->n; i++)
		if (check_failed(&rep->checks[i]) && strv_push(&failed, &n, strna(rep->checks[i].detail)) < 0)
			return -ENOMEM;
	if ((k = checks_json(rep, &checks)) < 0 || (k = state_verified(state, result, when, failed, checks)) < 0)
		return k;
	return state_save(cli->root, state);
}

/* Why a node with a hardware fault stays out: each failed check of the hardware, whose detail
 * names the GPUs by bus id and serial. */
static int hardware_reason(const struct verify_report *rep, char **ret)
{
	_cleanup_(strv_freep) char **parts = NULL;
	_cleanup_free_ char *text = NULL;
	size_t n = 0;

	for (size_t i = 0; i < rep->n; i++)
		if (check_failed(&rep->checks[i]) &&
		    strv_pushf(&parts, &n, "%s: %s", rep->checks[i].name, strna(rep->checks[i].detail)) < 0)
			return -ENOMEM;
	if (!(text = strv_join(parts, "; ")) || asprintf(ret, HARDWARE_FAULT ": %s", text) < 0)
		return -ENOMEM;
	return 0;
}

/*
 * The verdict given: a node apply took out of its scheduler goes back when the stack is
 * committed, and only where the drain is still gpuprov's; rolled back, or with a hardware
 * fault, it stays out with the reason saying why (for a fault, which GPUs). What was done is
 * in out, for the report.
 */
static int maintenance_after(struct cli *cli, struct state *state, const struct verify_report *rep, const char *result,
			     struct maint_outcome *out)
{
	_cleanup_free_ char *fault = NULL;
	const char *why = "verify failed";
	int k;

	if (!maint_record_open(state->maintenance))
		return 0;
	for (size_t i = 0; i < rep->n; i++)
		if (check_failed(&rep->checks[i])) {
			why = strna(rep->checks[i].detail);
			break;
		}
	if (streq(result, HARDWARE_FAULT)) {
		if ((k = hardware_reason(rep, &fault)) < 0)
			return k;
		why = fault;
	}
	k = streq(result, "committed") ? maint_leave(cli->root, state->maintenance, false, out)
				       : maint_hold(cli->root, state->maintenance, why, out);
	if (k < 0)
		log_error("maintenance: %s", out->error ? out->error : gp_strerror(k));
	/* What was done is recorded, whether or not all of it went well. */
	(void)state_save(cli->root, state);
	return k;
}

int verb_verify(struct cli *cli, _unused_ const struct verb *self, _unused_ int argc, _unused_ char **argv)
{
	_cleanup_(facts_freep) struct facts *f = NULL;
	_cleanup_(state_freep) struct state *state = NULL;
	_cleanup_free_ char *why = NULL, *boot_id = NULL;
	struct verify_report rep = {};
	const char *result = NULL;
	struct maint_outcome maint = {};
	bool waiting = false, maint_failed = false, rolled_back = false;
	int r, k;

	k = state_load(cli->root, &state);
	if (k < 0)
		return log_error("%s/%s: %s; nothing gpuprov applied to verify", cli->root->path, STATE_FILE, gp_strerror(k)),
		       k == -ENOENT ? EXIT_CODE_REFUSED : EXIT_CODE_FAILURE;
	if (!state->kernel) {
		/* After revert: nothing to verify; the unit at boot has nothing to do either. */
		log_info("%s/%s: no stack recorded (reverted?); nothing to verify", cli->root->path, STATE_FILE);
		return cli->commit ? EXIT_CODE_OK : EXIT_CODE_REFUSED;
	}
	if ((r = cli_detect(cli, false, &f)) != EXIT_CODE_OK)
		return r;
	if ((k = verify_run(cli->sys, f, state, &rep)) < 0)
		return log_error_errno(k, "cannot verify"), EXIT_CODE_FAILURE;

	/* The verdict is given once per apply: a stack already committed or rolled back is only
	 * reported, so that a fault weeks later does not undo a kernel that proved itself. */
	if (cli->commit && state->verified) {
		log_info("the last apply's stack was %s already; reporting only", state->verified->result);
		cli->commit = false;
	}
	/* Applied during this very boot (a first-boot or cloud-init run that finished before
	 * this unit started): the new kernel has not booted yet; the verdict waits for it. */
	if (cli->commit && state->reboot_required && state->boot_id &&
	    root_read_line(cli->sys, "proc/sys/kernel/random/boot_id", &boot_id) >= 0 && streq(boot_id, state->boot_id)) {
		log_info("applied during this boot; the verdict waits for the reboot into %s", state->kernel);
		cli->commit = false;
		waiting = true;
	}
	if (cli->commit) {
		const char *previous = state->previous_kernel;

		/* Good, or only a GPU's hardware failed: the new kernel becomes the default. A
		 * check of the stack failed: the known-good one stays it. */
		result = verdict_of(&rep);
		rolled_back = streq(result, "rolled back");
		k = set_default(cli, f, rolled_back ? previous : f->kernels.running, &why);
		if (k >= 0)
			k = record(cli, state, result, &rep);
		if (k < 0)
			log_error("verify --commit: %s", why ? why : gp_strerror(k));
		else if (maintenance_after(cli, state, &rep, result, &maint) < 0)
			maint_failed = true;
	}

	if (cli->json) {
		cJSON *doc = cJSON_CreateObject(), *checks = NULL;

		if (!doc || !cJSON_AddBoolToObject(doc, "ok", rep.ok) ||
		    !(result    ? cJSON_AddStringToObject(doc, "result", result)
		      : waiting ? cJSON_AddStringToObject(doc, "result", "waiting for the reboot")
				: cJSON_AddNullToObject(doc, "result")) ||
		    checks_json(&rep, &checks) < 0 || !cJSON_AddItemToObject(doc, "checks", checks) ||
		    json_add_strv(doc, "maintenance", maint.lines) < 0) {
			cJSON_Delete(doc);
			verify_report_done(&rep);
			maint_outcome_done(&maint);
			return log_error_errno(-ENOMEM, "cannot write JSON"), EXIT_CODE_FAILURE;
		}
		(void)cli_print_json(doc);
	} else {
		for (size_t i = 0; i < rep.n; i++) {
			const struct verify_check *c = &rep.checks[i];

			/* A failure says what it is about: the stack (rolled back) or the hardware. */
			printf("  %-4s %-14s %s%s\n", c->ok ? "ok" : c->warn ? "warn" : "FAIL", c->name,
			       c->ok ? "" : c->class == VERIFY_HARDWARE ? "[hardware] " : "[stack] ", strna(c->detail));
		}
		for (size_t i = 0; i < maint.n; i++)
			printf("  maintenance: %s\n", maint.lines[i]);
		if (waiting)
			printf("Applied during this boot: the verdict waits for the reboot into %s.\n", state->kernel);
		else if (rep.ok)
			printf("%s\n", result ? "Verified; the running kernel is now the default." : "Verified.");
		else if (streq(verdict_of(&rep), HARDWARE_FAULT))
			printf("%s\n", result ? "Hardware fault; the running kernel is now the default." : "Failed: a hardware fault.");
		else
			printf("%s\n", result ? "Failed; the known-good kernel is the default." : "Failed.");
	}
	r = k < 0 || maint_failed ? EXIT_CODE_FAILURE : rep.ok || waiting ? EXIT_CODE_OK : EXIT_CODE_REFUSED;
	/* Back to the known-good kernel now, unless asked not to or already running it. */
	if (rolled_back && k >= 0 && !cli->no_reboot && state->verify_reboot &&
	    !streq_ptr(f->kernels.running, state->previous_kernel))
		cli_reboot(cli, "the known-good kernel");
	verify_report_done(&rep);
	maint_outcome_done(&maint);
	return r;
}
