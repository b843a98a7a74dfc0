/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov apply NAME: converge the node to the profile's stack and settings. */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "apply/apply.h"
#include "apply/bundle.h"
#include "apply/journal.h"
#include "apply/rollback.h"
#include "apply/state.h"
#include "boot/grub.h"
#include "cli.h"
#include "profile/knowledge-source.h"
#include "profile/repo.h"
#include "profile/resolve.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/write.h"



const char verb_apply_usage[] = "NAME [--dry-run] [--yes] [--no-refresh] [--reboot] [--detailed-exitcodes] [--json]\n"
				"      [--retry-failed] [--strict] [--bundle URL|FILE [--mirror URL]... [--cacert FILE] [--allow-older]\n"
				"      [--connect-timeout S] [--stall-time S] [--max-time S] [--min-rate RATE]]\n"
				"Converge the node to profile NAME: refresh the repository metadata, resolve the\n"
				"stack, check that every package and runfile is there (refusing, exit 3, before\n"
				"anything changes when one is not), then install the exact versions, keep the\n"
				"running kernel, hold the stack, write the managed files, regenerate the initramfs\n"
				"and enable the services. A second run on a converged node changes nothing.\n"
				"  --dry-run     print the plan and change nothing (the same as plan)\n"
				"  --yes         do not ask for confirmation on a terminal\n"
				"  --no-refresh  use the repository metadata already on the node\n"
				"  --reboot      reboot when the plan needs it and all went well (the running\n"
				"                system only)\n"
				"  --detailed-exitcodes  on success exit 0 when nothing changed, 4 when something\n"
				"                did, 5 when something did and a reboot is needed\n"
				"  --json        the outcome as JSON\n"
				"  --retry-failed  a kernel verify rolled back on this node may be chosen again\n"
				"  --strict        a GPU the knowledge has no entry for refuses the apply\n"
				"                (it is not otherwise)\n"
				"  --bundle SRC  install from a signed offline bundle (gpuprov bundle create),\n"
				"                fetched from SRC (http, https) or read from a file; its signature\n"
				"                is checked against /etc/gpuprov/keys.d before anything is unpacked,\n"
				"                and it must not be older than the newest bundle this node accepted\n"
				"                for the profile, nor expired\n"
				"  --mirror URL  another URL of the same bundle, tried when the first fails\n"
				"  --cacert FILE trust these CAs for https instead of the system's\n"
				"  --allow-older take an older, expired or undated bundle deliberately (a\n"
				"                downgrade); a warning says so and the node's record keeps it\n"
				"  --connect-timeout S  give up a connection not made in S seconds (30)\n"
				"  --stall-time S  give up a transfer under 1 KiB/s for S seconds (60)\n"
				"  --max-time S  the whole download, every mirror and retry, ends after S seconds\n"
				"                (21600)\n"
				"  --min-rate RATE  give up a mirror slower than RATE bytes a second (K, M: KiB,\n"
				"                MiB) on average once it ran the stall time, for the next (16K)\n";

/* Nothing to do but the reboot the operator is waiting to make. */
static bool plan_only_reboot(const struct plan *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		if (!streq(pl->actions[i].kind, "reboot"))
			return false;
	return true;
}

/* apply --bundle: the bundle checked and unpacked, and made the package source, before the
 * refresh reads it. A bundle that is not the one signed, or not for this node, changes nothing. */
static int bundle_for_node(const struct bundle_manifest *m, void *userdata, char **ret_error)
{
	const struct planned *p = userdata;

	return bundle_fits(m, p->profile->name, p->facts, ret_error);
}

/* ret_used: the bundle now the node's package source, for the messages that follow. */
static int use_bundle(struct cli *cli, const struct planned *p, struct pkg_ctx *ctx, char **ret_used)
{
	_cleanup_(bundle_manifest_freep) struct bundle_manifest *m = NULL;
	const struct bundle_accept fits = { bundle_for_node, (void *)p };
	int r, k;

	/* Made for another profile, OS or architecture: refused before anything is unpacked. */
	if ((r = cli_bundle_read(cli, cli->bundle, BUNDLE_DIR, &fits, &m)) != EXIT_CODE_OK)
		return r;
	if ((k = bundle_use(ctx, m)) < 0) {
		log_error("%s: %s", cli->bundle, strna(ctx->error));
		pkg_ctx_done(ctx);
		return EXIT_CODE_FAILURE;
	}
	if (!cli->json)
		printf("Bundle %s verified (key %s) and unpacked in /%s/%s: installing from it.\n", m->name, strna(m->key_id),
		       BUNDLE_DIR, m->name);
	if (!(*ret_used = strdup(m->name))) {
		pkg_ctx_done(ctx);
		return log_error_errno(-ENOMEM, "out of memory"), EXIT_CODE_FAILURE;
	}
	return EXIT_CODE_OK;
}

/* The knowledge a bundle carries (signed with it) is planned with when newer than the node's. */
static int use_bundle_knowledge(struct cli *cli, struct planned *p, struct pkg_ctx *ctx, const char *name)
{
	_cleanup_free_ char *dir = NULL;
	char today[11];
	int k;

	if (asprintf(&dir, BUNDLE_DIR "/%s", name) < 0) {
		pkg_ctx_done(ctx);
		return log_error_errno(-ENOMEM, "out of memory"), EXIT_CODE_FAILURE;
	}
	if ((k = knowledge_choose_bundle(cli->root, dir, cli_today(today), p->kn)) < 0) {
		pkg_ctx_done(ctx);
		return log_error_errno(k, "cannot read the knowledge of bundle %s", name), EXIT_CODE_FAILURE;
	}
	if (p->kn->origin == KNOWLEDGE_BUNDLE)
		log_info("planning with the knowledge of bundle %s (as of %s)", name, knowledge_as_of(p->kn->k));
	else if (p->kn->passed_over)
		log_info("the knowledge of bundle %s is not used: %s", name, p->kn->passed_over);
	p->knowledge = p->kn->k;
	ctx->knowledge = p->kn->k;
	return EXIT_CODE_OK;
}

/* Where a switch's boot-once entry went, for status and the operator; none without a switch. */
static int state_boot_once(struct state *next, const struct planned *p)
{
	_cleanup_free_ char *file = NULL;
	const char *var;
	int k;

	if (!p->res->kernel_change || (k = boot_once_where(p->facts, &var, &file)) == -ENOENT)
		return 0;
	if (k < 0)
		return k;
	if (!(next->boot_once_via = strdup(boot_once_via_to_string(facts_boot_once(p->facts)))) ||
	    !(next->boot_once_variable = strdup(var)))
		return -ENOMEM;
	next->boot_once_file = TAKE_PTR(file);
	return 0;
}

/* The modules verify checks: those the profile blacklists are not loaded; those gpuprov has
 * loaded at boot (rdma.modules, written only where there are HCAs) are. */
static int state_modules(struct state *next, const struct profile *profile, bool rdma)
{
	const cJSON *absent = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(profile->doc, "modprobe"), "blacklist"),
		    *loaded = rdma ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(profile->doc, "rdma"), "modules")
			   : NULL,
		    *e;
	size_t n = 0;

	cJSON_ArrayForEach(e, absent)
		if (cJSON_IsString(e) && strv_push(&next->modules_absent, &n, e->valuestring) < 0)
			return -ENOMEM;
	n = 0;
	cJSON_ArrayForEach(e, loaded)
		if (cJSON_IsString(e) && strv_push(&next->modules_loaded, &n, e->valuestring) < 0)
			return -ENOMEM;
	return 0;
}

/* The stack a finished apply installed, as state.json records it. */
static int state_stack(struct state *next, const struct cli *cli, const struct planned *p)
{
	_cleanup_(cJSON_Deletep) cJSON *picks = NULL;
	const struct resolution *r = p->res;
	const cJSON *e;
	size_t n = 0;
	char when[32];
	int k;

	/* verify checks the HCA ports where the profile does RDMA over them */
	next->rdma = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p->profile->doc, "rdma"),
									 "modules")) > 0 &&
		     p->facts->pci.n_hcas > 0;
	/* verify --commit reboots into the known-good kernel after a failure unless the
	 * profile says verify.reboot false */
	next->verify_reboot = !cJSON_IsFalse(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p->profile->doc, "verify"), "reboot"));
	next->reboot_required = p->plan->reboot;
	/* The CDI spec gpuprov keeps: gpuprov-cdi.service, check and verify find it here. */
	if (p->profile->container_toolkit && p->profile->container_cdi &&
	    !(next->cdi_dir = strdup(p->profile->container_cdi_dir ? p->profile->container_cdi_dir : "/var/run/cdi")))
		return -ENOMEM;
	/* The health gate's thresholds and the GPUs' declared state, as resolved for this node */
	if ((e = cJSON_GetObjectItemCaseSensitive(p->profile->doc, "verify")) && cJSON_IsObject(e) &&
	    !(next->health = cJSON_Duplicate(e, true)))
		return -ENOMEM;
	if ((e = cJSON_GetObjectItemCaseSensitive(p->profile->doc, "gpu")) && cJSON_IsObject(e) &&
	    !(next->gpu = cJSON_Duplicate(e, true)))
		return -ENOMEM;
	utc_now(when);
	if (!(next->profile = strdup(p->profile->name)) || !(next->applied = strdup(when)) ||
	    !(next->kernel = strdup(r->kernel)) || !(next->source = strdup(r->source)) ||
	    (r->driver && !(next->driver = strdup(r->driver))) || (r->cuda && !(next->cuda = strdup(r->cuda))) ||
	    (r->flavour && !(next->flavour = strdup(r->flavour))))
		return -ENOMEM;
	if ((k = state_modules(next, p->profile, next->rdma)) < 0 || (k = previous_stack_picks(r, &picks)) < 0 ||
	    (k = state_boot_once(next, p)) < 0)
		return k;
	cJSON_ArrayForEach(e, picks)
		if (strv_push(&next->packages, &n, e->valuestring) < 0)
			return -ENOMEM;
	/* verify --commit gives no verdict in the boot that applied (a first-boot run) */
	(void)root_read_line(cli->sys, "proc/sys/kernel/random/boot_id", &next->boot_id);
	return 0;
}

/* What was applied, when: status reads it. */
static int write_state(const struct cli *cli, const struct planned *p)
{
	_cleanup_(state_freep) struct state *state = NULL, *next = calloc(1, sizeof(*next));
	int k;

	if (!next)
		return -ENOMEM;
	/* A state that does not read is replaced: this apply's record is what holds now. */
	if (state_load(cli->root, &state) < 0 && !(state = calloc(1, sizeof(*state))))
		return -ENOMEM;
	if ((k = state_stack(next, cli, p)) < 0 ||
	    (k = state_applied(state, next, strna(p->facts->kernels.running))) < 0 ||
	    (k = state_save(cli->root, state)) < 0)
		return k;
	/* Debian's convention, which unattended-upgrades, motd and fleet tools read. */
	if (p->plan->reboot && p->facts->os.family == OS_FAMILY_DEBIAN &&
	    ((k = root_write_atomic(cli->root, "run/reboot-required", "*** System restart required ***\n",
				    strlen("*** System restart required ***\n"), 0644)) < 0 ||
	     (k = root_write_atomic(cli->root, "run/reboot-required.pkgs", "gpuprov\n", strlen("gpuprov\n"), 0644)) < 0))
		return k;
	return 0;
}

/* A refusal after apply --bundle made the bundle the package source says so: the rest is
 * unchanged, that is not. */
static void refused(const char *bundle_used, const char *why)
{
	if (bundle_used)
		log_error("refused; nothing changed but the package source, now bundle %s: %s", bundle_used, why);
	else
		log_error("refused, nothing changed: %s", why);
}

static int report(const struct cli *cli, const struct planned *p, const struct apply_report *rep, int k,
		  const char *bundle_used)
{
	if (cli->json) {
		cJSON *doc = cJSON_CreateObject();

		if (!doc || !cJSON_AddStringToObject(doc, "profile", p->profile->name) ||
		    !cJSON_AddBoolToObject(doc, "ok", k >= 0) || !cJSON_AddBoolToObject(doc, "changed", rep->changed) ||
		    !cJSON_AddBoolToObject(doc, "reboot_required", p->plan && p->plan->reboot && rep->changed) ||
		    json_add_strv(doc, "done", rep->done) < 0 || json_add_strv(doc, "pending", rep->pending) < 0 ||
		    !json_add_str_or_null(doc, "error", rep->error)) {
			cJSON_Delete(doc);
			return log_error_errno(-ENOMEM, "cannot write JSON"), EXIT_CODE_FAILURE;
		}
		(void)cli_print_json(doc);
	} else {
		for (char **d = rep->done; d && *d; d++)
			printf("  %s\n", *d);
		for (char **d = rep->pending; d && *d; d++)
			printf("  pending: %s\n", *d);
		if (k >= 0)
			printf("%s\n", !rep->changed ? "Nothing to do: the node is as the profile wants it."
				       : p->plan->reboot ? "Done; reboot to finish." : "Done.");
	}
	if (k >= 0 && cli->detailed_exitcodes && rep->changed)
		return p->plan->reboot ? EXIT_CODE_CHANGED_REBOOT : EXIT_CODE_CHANGED;
	if (k >= 0)
		return EXIT_CODE_OK;
	/* Refused by the check (a file of gpuprov's own that does not parse is found there too:
	 * bad input): nothing was changed. */
	if (exit_code_for(k) != EXIT_CODE_FAILURE)
		refused(bundle_used, strna(rep->error));
	else
		log_error("apply failed: %s", strna(rep->error));
	return exit_code_for(k);
}

int verb_apply(struct cli *cli, const struct verb *self, _unused_ int argc, char **argv)
{
	_cleanup_(planned_done) struct planned p = {};
	_cleanup_(cJSON_Deletep) cJSON *previous = NULL;
	_cleanup_free_ char *bundle_used = NULL;
	struct apply_report rep = {};
	struct pkg_ctx ctx = {};
	const struct pkg_backend *be;
	int r, k;

	if ((r = cli_plan_begin(cli, self, argv[0], &p)) != EXIT_CODE_OK)
		return r;
	if (cli->dry_run) {
		if ((r = cli_plan_finish(cli, &p)) != EXIT_CODE_OK)
			return r;
		return cli_show_plan(cli, &p);
	}

	ctx = (struct pkg_ctx){ .root = cli->root, .facts = p.facts, .profile = p.profile, .knowledge = p.knowledge };
	be = pkg_backend_for(p.facts);
	if (!be)
		return log_error("%s: no package backend for this OS family", cli->root->path), EXIT_CODE_REFUSED;
	if (cli->bundle && ((r = use_bundle(cli, &p, &ctx, &bundle_used)) != EXIT_CODE_OK ||
			    (r = use_bundle_knowledge(cli, &p, &ctx, bundle_used)) != EXIT_CODE_OK))
		return r;
	/* The repositories as they are now: what is resolved is what can be installed. */
	if (!cli->no_refresh && (k = be->refresh(&ctx)) < 0) {
		log_error("cannot refresh the repository metadata: %s", strna(ctx.error));
		pkg_ctx_done(&ctx);
		return EXIT_CODE_FAILURE;
	}
	if ((r = cli_plan_finish(cli, &p)) != EXIT_CODE_OK)
		return r;
	if (!p.res->ok) {
		r = cli_show_plan(cli, &p);
		if (bundle_used)
			refused(bundle_used, "no stack of the profile can be installed from it");
		return r;
	}
	/* A plan with nothing but the reboot asks nothing: there is nothing to do. */
	if (!plan_only_reboot(p.plan)) {
		if (!cli->json && !cli->yes && isatty(STDIN_FILENO))
			cli_print_plan(p.profile, p.res, p.plan);
		if (!cli_confirm(cli, "Apply these actions?"))
			return log_error("not applied"), EXIT_CODE_REFUSED;
	}

	ctx.kernel = p.res->kernel;
	ctx.flavour = p.res->flavour;
	ctx.branch = p.res->branch;
	/* What rollback goes back to: the stack as it is before this switch changes it. */
	if ((k = previous_stack_record(cli->root, p.facts, p.view, p.profile->name, p.res, p.plan, &previous)) < 0) {
		log_error_errno(k, "cannot record the stack before the switch");
		pkg_ctx_done(&ctx);
		return EXIT_CODE_FAILURE;
	}
	k = apply_plan(&ctx, p.profile->name, p.plan, previous, &rep);
	if (k >= 0 && (rep.changed || rep.resumed) && (k = write_state(cli, &p)) < 0)
		rep.error = strdup(gp_strerror(k));
	r = report(cli, &p, &rep, k, bundle_used);
	/* --reboot: only when all went well and the plan needs it. */
	if (k >= 0 && cli->reboot && p.plan->reboot)
		cli_reboot(cli, NULL);
	apply_report_done(&rep);
	pkg_ctx_done(&ctx);
	return r;
}
