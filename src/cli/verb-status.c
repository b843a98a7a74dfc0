/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov status: what was applied, when, by which profile, and what state the node is in. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "apply/journal.h"
#include "apply/rollback.h"
#include "cli.h"
#include "status.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"

const char verb_status_usage[] = "[--json | --prometheus [--output FILE]]\n"
				 "What the last apply did: the profile, when, the stack, and the state: applied,\n"
				 "interrupted (with the step it reached), failed, running, rolled back (by hand),\n"
				 "reverted, or never applied; verify's or rollback's verdict; and whether a reboot\n"
				 "is pending. Changes nothing on the node.\n"
				 "  --json           as JSON\n"
				 "  --prometheus     as metrics for node_exporter's textfile collector, with the\n"
				 "                   counts of check's findings; see gpuprov(8), MONITORING\n"
				 "  --output FILE    with --prometheus: replace FILE atomically (mode 0644)\n"
				 "                   instead of writing to stdout\n";

/* "applied", "interrupted", "failed", "running", "rolled back", "reverted" or "never
 * applied", and the step the journal reached. */
static const char *run_state(const cJSON *state, const cJSON *journal, pid_t holder, const char **ret_step)
{
	const cJSON *s;

	*ret_step = NULL;
	if (holder)
		return "running";
	if (state && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(state, "reverted")))
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
	if (streq_ptr(json_str(cJSON_GetObjectItemCaseSensitive(state, "verified"), "result"), ROLLED_BACK_BY_HAND))
		return "rolled back";
	/* Only the record of the stack before a switch: an apply that stopped before its end. */
	return state && json_str(state, "profile") ? "applied" : "never applied";
}

/* verify's verdict on the stack, or rollback's. */
static void print_verdict(const cJSON *v)
{
	const char *result = json_str(v, "result");
	const cJSON *failed = cJSON_GetObjectItemCaseSensitive(v, "failed");

	printf("Verdict     %s%s%s", result, json_str(v, "at") ? " at " : "", json_str(v, "at") ? json_str(v, "at") : "");
	if (streq(result, ROLLED_BACK_BY_HAND))
		printf(": kernel %s%s", strna(json_str(v, "kernel")),
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "kernel_only"))
			       ? " and the pins of before the switch (--kernel-only: the packages stayed)"
			       : " and the stack of before the switch");
	else if (cJSON_GetArraySize(failed) > 0)
		printf(": %s", strna(cJSON_GetStringValue(cJSON_GetArrayItem(failed, 0))));
	printf("\n");
}

int verb_status(struct cli *cli, _unused_ const struct verb *self, _unused_ int argc, _unused_ char **argv)
{
	_cleanup_(cJSON_Deletep) cJSON *state = NULL, *journal = NULL;
	_cleanup_free_ char *running = NULL;
	const char *st, *step;
	const cJSON *once, *verdict;
	bool reboot, rolled_back;
	pid_t holder;
	int k;

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
	verdict = cJSON_GetObjectItemCaseSensitive(state, "verified");
	rolled_back = streq_ptr(json_str(verdict, "result"), ROLLED_BACK_BY_HAND);
	reboot = (state && (rolled_back || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(state, "reboot_required"))) &&
		  !streq_ptr(rolled_back ? json_str(verdict, "kernel")
			     : streq_ptr(json_str(verdict, "result"), "rolled back") ? json_str(state, "previous_kernel")
										: json_str(state, "kernel"),
			     running)) ||
		 root_exists(cli->root, "run/reboot-required") > 0;

	if (cli->prometheus)
		return status_prometheus(cli, &(const struct status_view){ .state = state, .journal = journal,
									    .verdict = verdict, .holder = holder,
									    .state_name = st, .step = step,
									    .running = running, .reboot = reboot });
	if (cli->json) {
		cJSON *doc = cJSON_CreateObject();

		if (!doc || !cJSON_AddStringToObject(doc, "state", st) ||
		    !json_add_str_or_null(doc, "interrupted_at", step) ||
		    !(holder ? cJSON_AddNumberToObject(doc, "running_pid", holder) : cJSON_AddNullToObject(doc, "running_pid")) ||
		    !cJSON_AddItemToObject(doc, "applied", state ? cJSON_Duplicate(state, true) : cJSON_CreateNull()) ||
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
	if (state && json_str(state, "profile") && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(state, "reverted"))) {
		printf("Profile     %s, applied %s\n", strna(json_str(state, "profile")), strna(json_str(state, "applied")));
		if (json_str(state, "driver"))
			printf("Stack       kernel %s, driver %s (%s), CUDA %s\n", strna(json_str(state, "kernel")),
			       json_str(state, "driver"), strna(json_str(state, "source")),
			       json_str(state, "cuda") ? json_str(state, "cuda") : "none");
		else
			printf("Stack       kernel %s, no NVIDIA driver (%s)\n", strna(json_str(state, "kernel")),
			       strna(json_str(state, "source")));
		if ((once = cJSON_GetObjectItemCaseSensitive(state, "boot_once")) && cJSON_IsObject(once))
			printf("Boot-once   %s in %s%s\n", strna(json_str(once, "variable")), strna(json_str(once, "file")),
			       streq_ptr(json_str(once, "via"), "esp") ? " (on the ESP: GRUB cannot write its own block)" : "");
	}
	if (json_str(verdict, "result"))
		print_verdict(verdict);
	if (journal && json_str(journal, "error"))
		printf("Last error  %s\n", json_str(journal, "error"));
	printf("Running     kernel %s\n", strna(running));
	printf("Reboot      %s\n", reboot ? "pending" : "not pending");
	return EXIT_CODE_OK;
}
