/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov rollback: back to the kernel and the stack from before the last apply's switch. */
#include <errno.h>
#include <unistd.h>

#include "apply/journal.h"
#include "apply/rollback.h"
#include "boot/grub.h"
#include "cli.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/write.h"

const char verb_rollback_usage[] = "[--dry-run] [--yes] [--kernel-only] [--remove-new] [--no-refresh] [--json]\n"
				   "Go back to the stack from before the last switch apply made, as apply recorded it\n"
				   "in state.json: refresh the repository metadata, reinstall the versions of before\n"
				   "of the packages the switch changed (refusing, exit 3, before anything changes when\n"
				   "one is no longer offered), unhold what apply held for the new stack and hold again\n"
				   "what was held, put gpuprov's apt pin files back as they were, then make the kernel\n"
				   "that ran before GRUB's saved default again and cancel a boot-once entry not yet\n"
				   "used; the next boot enters it. Packages new with the switch stay installed,\n"
				   "unheld. Does not reboot.\n"
				   "  --dry-run      say what would be done, change nothing\n"
				   "  --yes          do not ask for confirmation on a terminal\n"
				   "  --kernel-only  install and remove no package: the holds, the pins and the\n"
				   "                 kernel only (when a version of before is gone from the\n"
				   "                 repositories)\n"
				   "  --remove-new   also remove the packages new with the switch (never those of\n"
				   "                 the running kernel)\n"
				   "  --no-refresh   use the repository metadata already on the node\n"
				   "  --json         the outcome as JSON\n";

/* The actions for a person, as plan shows its own. */
static void print_rollback(const struct rollback *rb)
{
	_cleanup_free_ char *kept = strv_join(rb->kept, ", "), *gone = strv_join(rb->unavailable, ", ");

	printf("Back to the stack from before the switch, kernel %s:\n", rb->kernel);
	for (size_t i = 0; i < rb->plan->n; i++)
		cli_print_action(i, &rb->plan->actions[i]);
	if (rb->plan->n == 0)
		printf("  no package or pin differs from before the switch\n");
	if (rb->n_kept)
		printf("Kept        %s: not installed before the switch (--remove-new removes them)\n", strna(kept));
	if (rb->n_unavailable)
		printf("Not offered %s: the repositories no longer have these versions (--kernel-only goes back\n"
		       "            without them)\n",
		       strna(gone));
}

/* Reads the record and makes the plan: -1 to go on, else the exit code. */
static int build(struct cli *cli, const struct facts *f, const cJSON *record, struct pkg_ctx *ctx, struct rollback **ret)
{
	_cleanup_(repo_view_freep) struct repo_view *view = NULL;
	_cleanup_(strv_freep) char **warnings = NULL;
	_cleanup_free_ char *why = NULL;
	const struct pkg_backend *be = pkg_backend_by_name(json_str(record, "via"));
	struct rollback_options o = { cli->kernel_only, cli->remove_new };
	size_t nw = 0;
	int k;

	/* A record that does not read is refused before the refresh changes anything. */
	if ((k = previous_stack_check(record, &why)) >= 0) {
		/* What the repositories offer now: a version of before may have gone since. */
		if (!cli->dry_run && !cli->no_refresh && (k = be->refresh(ctx)) < 0)
			return log_error("cannot refresh the repository metadata: %s", strna(ctx->error)), EXIT_CODE_FAILURE;
		if ((k = repo_view_load(cli->root, os_version_order(f->os.family), f->cpu.arch, &view, &warnings, &nw)) < 0)
			return cli_repo_view_failed(k);
		for (char **w = warnings; w && *w; w++)
			log_warning("%s", *w);
		k = rollback_build(cli->root, f, view, record, &o, ret, &why);
	}
	if (k == -GPE_PARSE)
		log_error("%s/%s", cli->root->path, strna(why));
	else if (k < 0)
		log_error("cannot plan the rollback: %s", why ? why : gp_strerror(k));
	return exit_code_for(k);
}

static int dry_run(struct cli *cli, const struct facts *f, const struct rollback *rb, const char *previous, const char *id)
{
	if (cli->json) {
		cJSON *doc = NULL;

		if ((rb ? rollback_to_json(rb, &doc) : (doc = cJSON_CreateObject()) ? 0 : -ENOMEM) < 0 ||
		    !cJSON_AddStringToObject(doc, "saved_entry", id) || (!rb && !cJSON_AddStringToObject(doc, "kernel", previous))) {
			cJSON_Delete(doc);
			return log_error_errno(-ENOMEM, "cannot write JSON"), EXIT_CODE_FAILURE;
		}
		(void)cli_print_json(doc);
	} else {
		if (rb)
			print_rollback(rb);
		printf("Would make %s (%s) GRUB's saved default and clear next_entry%s%s%s%s.\n", previous, id,
		       f->boot.gpuprov_env ? " and " : "", f->boot.gpuprov_env ? GPUPROV_ONCE_VAR : "",
		       f->boot.gpuprov_env ? " in " : "", f->boot.gpuprov_env ? f->boot.gpuprov_env : "");
	}
	/* As plan says a refusal: apply would refuse, so would rollback. */
	return rb && rb->n_unavailable ? EXIT_CODE_REFUSED : EXIT_CODE_OK;
}

static int report(const struct cli *cli, const struct facts *f, const struct apply_report *rep, const struct rollback *rb,
		  const char *previous, int k)
{
	if (cli->json) {
		cJSON *doc = cJSON_CreateObject();

		if (!doc || !cJSON_AddBoolToObject(doc, "ok", k >= 0) || !cJSON_AddStringToObject(doc, "kernel", previous) ||
		    !cJSON_AddBoolToObject(doc, "kernel_only", cli->kernel_only) || json_add_strv(doc, "done", rep->done) < 0 ||
		    json_add_strv(doc, "kept", rb && k >= 0 ? rb->kept : NULL) < 0 ||
		    !json_add_str_or_null(doc, "error", rep->error)) {
			cJSON_Delete(doc);
			return log_error_errno(-ENOMEM, "cannot write JSON"), EXIT_CODE_FAILURE;
		}
		(void)cli_print_json(doc);
	} else {
		for (char **d = rep->done; d && *d; d++)
			printf("  %s\n", *d);
		for (char **d = rb && k >= 0 ? rb->kept : NULL; d && *d; d++)
			printf("  kept %s: not installed before the switch, now unheld\n", *d);
		if (k >= 0)
			printf("GRUB's saved default is %s again; %s.\n", previous,
			       streq_ptr(f->kernels.running, previous) ? "it is the kernel that runs" : "reboot to enter it");
	}
	if (k >= 0)
		return EXIT_CODE_OK;
	/* Refused by the check (bad input is found there too): nothing was changed. */
	if (exit_code_for(k) != EXIT_CODE_FAILURE)
		log_error("refused, nothing changed: %s%s", strna(rep->error),
			  k == -GPE_UNAVAILABLE ? "; --kernel-only goes back to the kernel and the pins without it" : "");
	else
		log_error("rollback failed: %s; run it again to finish", strna(rep->error));
	return exit_code_for(k);
}

int verb_rollback(struct cli *cli, _unused_ const struct verb *self, _unused_ int argc, _unused_ char **argv)
{
	_cleanup_(facts_freep) struct facts *f = NULL;
	_cleanup_(state_freep) struct state *state = NULL;
	_cleanup_(rollback_freep) struct rollback *rb = NULL;
	_cleanup_(apply_report_done) struct apply_report rep = {};
	_cleanup_(pkg_ctx_done) struct pkg_ctx ctx = {};
	_cleanup_free_ char *id = NULL;
	const cJSON *record = NULL;
	const char *previous = NULL;
	int r, k;

	k = state_load(cli->root, &state);
	if (k >= 0) {
		record = state->previous_stack;
		if (record && !cJSON_IsObject(record))
			return log_error("%s/%s: " PREVIOUS_STACK ": expected an object", cli->root->path, STATE_FILE),
			       EXIT_CODE_USAGE;
		/* A state.json of an apply before the record existed names the kernel alone. */
		previous = record ? json_str(record, "kernel") : state->previous_kernel;
	}
	if (!previous)
		return log_error("%s/%s: %s; no previous kernel recorded to go back to", cli->root->path, STATE_FILE,
				 k < 0 ? gp_strerror(k) : "no previous_kernel"),
		       EXIT_CODE_REFUSED;
	if ((r = cli_detect(cli, false, &f)) != EXIT_CODE_OK)
		return r;
	if (!f->boot.loader)
		return log_error("%s: no GRUB found; nothing to roll back with", cli->root->path), EXIT_CODE_REFUSED;
	if ((k = boot_entry_id(f, cli->root, previous, &id)) < 0)
		return log_error("cannot tell GRUB's entry for %s: %s", previous, gp_strerror(k)), EXIT_CODE_FAILURE;
	ctx = (struct pkg_ctx){ .root = cli->root, .facts = f };
	if (record && (r = build(cli, f, record, &ctx, &rb)) != EXIT_CODE_OK)
		return r;
	if (!record)
		log_info("%s/%s: no record of the stack before the switch; the kernel alone goes back", cli->root->path,
			 STATE_FILE);
	if (cli->dry_run)
		return dry_run(cli, f, rb, previous, id);

	/* Everything that can refuse, before anything changes (DESIGN rule 5). */
	if (rb && (k = rollback_check(&ctx, rb)) < 0) {
		gp_error_set(&rep.error, k, "%s", ctx.error ? ctx.error : gp_strerror(k));
		return report(cli, f, &rep, rb, previous, k);
	}
	if (rb && !cli->json && !cli->yes && isatty(STDIN_FILENO))
		print_rollback(rb);
	if (!cli_confirm(cli, "Roll back?"))
		return log_error("not rolled back"), EXIT_CODE_REFUSED;

	/* Without a record only the kernel goes back. */
	k = rollback_run(&ctx, rb, previous, state, cli->kernel_only || !rb, &rep);
	return report(cli, f, &rep, rb, previous, k);
}
