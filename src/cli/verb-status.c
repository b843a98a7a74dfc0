/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov status: what was applied, when, by which profile, and what state the node is in. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "apply/journal.h"
#include "apply/state.h"
#include "cli.h"
#include "status.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"

const char verb_status_usage[] = "[--json | --prometheus [--output FILE] | --reboot-required]\n"
				 "What the last apply did: the profile, when, the stack, and the state: applied,\n"
				 "interrupted (with the step it reached), failed, running, rolled back (by hand),\n"
				 "reverted, or never applied; verify's or rollback's verdict (a hardware fault\n"
				 "with the GPUs that failed); and whether a reboot is pending. Changes nothing on\n"
				 "the node.\n"
				 "  --json           as JSON\n"
				 "  --prometheus     as metrics for node_exporter's textfile collector, with the\n"
				 "                   counts of check's findings; see gpuprov(8), MONITORING\n"
				 "  --output FILE    with --prometheus: replace FILE atomically (mode 0644)\n"
				 "                   instead of writing to stdout\n"
				 "  --reboot-required  print nothing (but with -v); exit 0 when a reboot is\n"
				 "                   pending, 1 when not (kured's --reboot-sentinel-command)\n";

/* "applied", "interrupted", "failed", "running", "rolled back", "reverted" or "never
 * applied", and the step the journal reached. */
static const char *run_state(const struct state *state, const cJSON *journal, pid_t holder, const char **ret_step)
{
	const cJSON *s;

	*ret_step = NULL;
	if (holder)
		return "running";
	if (state && state->reverted)
		return "reverted";
	if (journal && !json_str(journal, "finished")) {
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(journal, "steps"))
			if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "done"))) {
				*ret_step = json_str(s, "step");
				break;
			}
		return "interrupted";
	}
	if (journal && json_str(journal, "error"))
		return "failed";
	if (state && state->verified && streq(state->verified->result, ROLLED_BACK_BY_HAND))
		return "rolled back";
	/* Only the record of the stack before a switch: an apply that stopped before its end. */
	return state && state->profile ? "applied" : "never applied";
}

/* A maintenance not ended: whose drain it is. */
/* The maintenance line: whose drain, ended or not, held or retried. */
static void print_maintenance(const cJSON *m)
{
	const char *ended = json_str(m, "ended");

	printf("Maintenance %s %s, run %s", strna(json_str(m, "scheduler")), strna(json_str(m, "node")),
	       strna(json_str(m, "run_id")));
	if (ended)
		printf(", ended %s", ended);
	else
		printf(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "drained")) ? ", drained by gpuprov"
										   : ", the drain before it was not gpuprov's");
	if (json_str(m, "held"))
		printf(json_str(m, "retried") ? " (held, retried %s)" : " (held)", json_str(m, "retried"));
	printf("\n");
}

/* A hardware fault: what failed, which GPU (the details name them), and where the node is:
 * held drained, or only recorded where gpuprov has no scheduler to drain it from. */
static void print_fault(const struct state_verdict *v, const cJSON *maintenance)
{
	const cJSON *c;
	size_t n = 0;

	cJSON_ArrayForEach(c, v->checks)
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "ok")) &&
		    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "warn")) && json_str(c, "check")) {
			printf("Fault       %s: %s\n", json_str(c, "check"), strna(json_str(c, "detail")));
			n++;
		}
	/* A verdict recorded without its checks: the details of those that failed. */
	for (char **f = n ? NULL : v->failed; f && *f; f++)
		printf("Fault       %s\n", *f);
	if (json_str(maintenance, "held") && !json_str(maintenance, "ended"))
		printf("Node        held out of service (%s %s) until the GPUs are repaired\n",
		       strna(json_str(maintenance, "scheduler")), strna(json_str(maintenance, "node")));
	else
		printf("Node        not drained by gpuprov (no scheduler in the profile): take it out of service by hand\n");
}

/* verify's verdict on the stack, or rollback's. */
static void print_verdict(const struct state_verdict *v, const cJSON *maintenance)
{
	printf("Verdict     %s%s%s", v->result, v->at ? " at " : "", v->at ? v->at : "");
	if (streq(v->result, ROLLED_BACK_BY_HAND))
		printf(": kernel %s%s", strna(v->kernel),
		       v->kernel_only ? " and the pins of before the switch (--kernel-only: the packages stayed)"
				      : " and the stack of before the switch");
	else if (streq(v->result, HARDWARE_FAULT))
		printf(": the kernel is kept, a GPU failed");
	else if (v->failed && v->failed[0])
		printf(": %s", v->failed[0]);
	printf("\n");
	if (streq(v->result, HARDWARE_FAULT))
		print_fault(v, maintenance);
}

int verb_status(struct cli *cli, _unused_ const struct verb *self, _unused_ int argc, _unused_ char **argv)
{
	_cleanup_(cJSON_Deletep) cJSON *journal = NULL, *applied = NULL;
	_cleanup_(state_freep) struct state *state = NULL;
	_cleanup_free_ char *running = NULL;
	const char *st, *step;
	const struct state_verdict *verdict;
	bool reboot, rolled_back;
	pid_t holder;
	int k;

	if (cli->reboot_required && (cli->json || cli->prometheus)) {
		fprintf(stderr, "gpuprov status: --reboot-required excludes --json and --prometheus; try 'gpuprov status --help'\n");
		return EXIT_CODE_USAGE;
	}
	if (cli->prometheus ? cli->json : cli->output != NULL) {
		fprintf(stderr, "gpuprov status: %s; try 'gpuprov status --help'\n",
			cli->json ? "--json and --prometheus exclude each other" : "--output needs --prometheus");
		return EXIT_CODE_USAGE;
	}
	k = state_load(cli->root, &state);
	if (k < 0 && k != -ENOENT)
		return log_error("%s/%s: %s", cli->root->path, STATE_FILE, gp_strerror(k)), EXIT_CODE_FAILURE;
	k = journal_load(cli->root, &journal);
	if (k < 0)
		return log_error("%s/%s: %s; the last run's steps are unknown", cli->root->path, JOURNAL_FILE,
				 gp_strerror(k)),
		       EXIT_CODE_FAILURE;
	holder = run_lock_holder(cli->root);
	st = run_state(state, journal, holder, &step);
	(void)root_read_line(cli->sys, "proc/sys/kernel/osrelease", &running);
	/* Pending: the stack wants another kernel than the one running (after a rollback by hand,
	 * the kernel it went back to; after verify rolled back, the known-good one), or Debian's
	 * flag says so. */
	verdict = state ? state->verified : NULL;
	rolled_back = verdict && streq(verdict->result, ROLLED_BACK_BY_HAND);
	reboot = (state && (rolled_back || state->reboot_required) &&
		  !streq_ptr(rolled_back ? verdict->kernel
			     : verdict && streq(verdict->result, "rolled back") ? state->previous_kernel
										 : state->kernel,
			     running)) ||
		 root_exists(cli->root, "run/reboot-required") > 0;

	/* A sentinel for reboot daemons: the answer is the exit status. */
	if (cli->reboot_required) {
		if (cli->verbosity >= LOG_LEVEL_INFO)
			printf("Reboot      %s\n", reboot ? "pending" : "not pending");
		return reboot ? EXIT_CODE_OK : EXIT_CODE_FAILURE;
	}
	if (cli->prometheus)
		return status_prometheus(cli, &(const struct status_view){ .state = state, .journal = journal,
									    .verdict = verdict, .holder = holder,
									    .state_name = st, .step = step,
									    .running = running, .reboot = reboot });
	if (cli->json) {
		cJSON *doc = cJSON_CreateObject();

		if (!doc || (state && state_to_json(state, &applied) < 0) || !cJSON_AddStringToObject(doc, "state", st) ||
		    !json_add_str_or_null(doc, "interrupted_at", step) ||
		    !(holder ? cJSON_AddNumberToObject(doc, "running_pid", holder) : cJSON_AddNullToObject(doc, "running_pid")) ||
		    !cJSON_AddItemToObject(doc, "applied", applied ? TAKE_PTR(applied) : cJSON_CreateNull()) ||
		    !cJSON_AddItemToObject(doc, "last_run", journal ? cJSON_Duplicate(journal, true) : cJSON_CreateNull()) ||
		    !json_add_str_or_null(doc, "running_kernel", running) ||
		    !cJSON_AddBoolToObject(doc, "reboot_pending", reboot)) {
			cJSON_Delete(doc);
			return log_error_errno(-ENOMEM, "cannot write JSON"), EXIT_CODE_FAILURE;
		}
		return cli_print_json(doc);
	}
	printf("State       %s%s%s", st, step ? ": stopped before " : "", step ? step : "");
	if (holder)
		printf(" (pid %ld)", (long)holder);
	printf("\n");
	if (state && state->profile && !state->reverted) {
		printf("Profile     %s, applied %s\n", state->profile, strna(state->applied));
		if (state->driver)
			printf("Stack       kernel %s, driver %s (%s), CUDA %s\n", strna(state->kernel), state->driver,
			       strna(state->source), state->cuda ? state->cuda : "none");
		else
			printf("Stack       kernel %s, no NVIDIA driver (%s)\n", strna(state->kernel), strna(state->source));
		if (state->boot_once_via)
			printf("Boot-once   %s in %s%s\n", strna(state->boot_once_variable), strna(state->boot_once_file),
			       streq(state->boot_once_via, "esp") ? " (on the ESP: GRUB cannot write its own block)" : "");
	}
	if (verdict)
		print_verdict(verdict, state->maintenance);
	if (journal && json_str(journal, "error"))
		printf("Last error  %s\n", json_str(journal, "error"));
	printf("Running     kernel %s\n", strna(running));
	printf("Reboot      %s\n", reboot ? "pending" : "not pending");
	if (state && state->maintenance)
		print_maintenance(state->maintenance);
	return EXIT_CODE_OK;
}
