/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov plan NAME: what apply would do, each step with its reason; or why it refuses. */
#include <errno.h>

#include "apply/maintenance.h"
#include "apply/state.h"
#include "cli.h"
#include "util/json.h"
#include "plan/plan.h"
#include "profile/knowledge-source.h"
#include "profile/repo.h"
#include "profile/resolve.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/strutil.h"

const char verb_plan_usage[] = "NAME [--retry-failed] [--strict] [--json]\n"
			       "Resolve profile NAME for this machine (CUDA -> driver -> kernel from what its\n"
			       "repositories offer) and print the actions apply would take, each with its reason.\n"
			       "Writes nothing. Exit 3 when it refuses, with the constraints that ruled out each\n"
			       "candidate.\n"
			       "  --retry-failed  kernels verify rolled back on this node may be chosen again\n"
			       "  --strict        a GPU the knowledge has no entry for refuses the plan\n"
			       "  --json   the plan as JSON\n";

static void print_lines(const char *title, char *const *lines)
{
	if (!lines || !*lines)
		return;
	printf("%s\n", title);
	for (; *lines; lines++)
		printf("  %s\n", *lines);
}

/* The chain from each framework the profile names, the first thing a reader looks for. */
static void print_frameworks(const struct resolution *r)
{
	if (r->n_frameworks)
		printf("Frameworks:\n");
	for (size_t i = 0; i < r->n_frameworks; i++) {
		_cleanup_free_ char *line = fw_chain_line(&r->frameworks[i]);

		printf("  %s\n", line ? line : r->frameworks[i].text);
	}
}

void cli_print_action(size_t i, const struct action *a)
{
	printf("  %2zu. %-11s %s%s%s\n", i + 1, a->kind, a->target, a->version ? " = " : "", a->version ? a->version : "");
	printf("      %s\n", a->reason);
	if (a->detail && streq(a->kind, "file")) {
		char *save = NULL, *copy = strdup(a->detail);

		for (char *l = copy ? strtok_r(copy, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save))
			printf("        %s\n", l);
		free(copy);
	} else if (a->detail)
		printf("      %s\n", a->detail);
}

void cli_print_plan(const struct profile *p, const struct resolution *r, const struct plan *pl)
{
	printf("Profile %s", p->name);
	for (char **c = p->chain; c && *c; c++)
		printf("%s%s", c == p->chain ? " (" : " + ", *c);
	printf(")\n");
	print_frameworks(r);
	if (!r->ok) {
		print_lines("Refused: no stack satisfies every constraint:", r->refusals);
		print_lines("Warnings:", r->warnings);
		return;
	}
	if (r->driver) {
		printf("Stack       CUDA %s, driver %s (%s, %s), kernel %s", r->cuda ? r->cuda : "none", r->driver,
		       r->flavour, r->source, r->kernel);
		for (size_t i = 0; i < r->n_fabric; i++)
			printf("%s%s", i ? " + " : ", fabric ", r->fabric[i].component);
		if (r->n_fabric)
			printf(" (platform %s)", strna(r->platform));
		printf("\n");
	} else
		printf("Stack       kernel %s, no NVIDIA driver (driver.source none)\n", r->kernel);
	print_lines("Why:", r->reasons);
	print_lines("Warnings:", r->warnings);
	printf("Actions:\n");
	for (size_t i = 0; i < pl->n; i++)
		cli_print_action(i, &pl->actions[i]);
	if (pl->n == 0)
		printf("  none: the machine is as the profile wants it\n");
	printf("Reboot      %s\n", pl->reboot ? "required after apply" : "not required");
}

int cli_plan_begin(struct cli *cli, const struct verb *v, const char *name, struct planned *ret)
{
	int r;

	/* A verb that takes --retry-failed resolves for this node (not bundle create). */
	*ret = (struct planned){ .here = verb_takes(v, &optgroup_resolve) };
	if (!(ret->dirs = calloc(1, sizeof(*ret->dirs))))
		return log_error_errno(-ENOMEM, "cannot plan"), EXIT_CODE_FAILURE;
	if ((r = cli_load_profile(cli, name, &ret->facts, ret->dirs, &ret->profile)) != EXIT_CODE_OK)
		return r;
	if (!(ret->kn = calloc(1, sizeof(*ret->kn))))
		return log_error_errno(-ENOMEM, "cannot plan"), EXIT_CODE_FAILURE;
	if ((r = cli_knowledge(cli, ret->dirs, ret->kn)) != EXIT_CODE_OK)
		return r;
	ret->knowledge = ret->kn->k;
	return EXIT_CODE_OK;
}

/* Knowledge past its age is said among the plan's warnings, whatever the plan. */
static int warn_stale(struct planned *p, const char *today)
{
	char *w = cli_knowledge_stale(p->kn, today);

	if (w && strv_push_take(&p->res->warnings, &p->res->n_warnings, w) < 0)
		return log_error_errno(-ENOMEM, "cannot plan"), EXIT_CODE_FAILURE;
	return EXIT_CODE_OK;
}

int cli_plan_finish(struct cli *cli, struct planned *p)
{
	_cleanup_(strv_freep) char **view_warnings = NULL;
	_cleanup_(cJSON_Deletep) cJSON *failed = NULL;
	_cleanup_(state_freep) struct state *state = NULL;
	_cleanup_free_ char *why = NULL, *error = NULL;
	size_t n_vw = 0;
	char today[11];
	int k;

	k = repo_view_load(cli->root, os_version_order(p->facts->os.family), p->facts->cpu.arch, &p->view, &view_warnings, &n_vw);
	if (k < 0)
		return cli_repo_view_failed(k);
	for (char **w = view_warnings; w && *w; w++)
		log_warning("%s", *w);

	if (!profile_matches(p->profile, p->facts, &why)) {
		p->res = calloc(1, sizeof(*p->res));
		if (!p->res || strv_pushf(&p->res->refusals, &p->res->n_refusals, "profile %s is not for this machine: %s",
					  p->profile->name, strna(why)) < 0)
			return log_error_errno(-ENOMEM, "cannot plan"), EXIT_CODE_FAILURE;
		return warn_stale(p, cli_today(today));
	}
	/* The kernels verify rolled back here, unless asked to try them again; a state.json that
	 * does not read has none (verify and status say what is wrong with it). */
	if (p->here && !cli->retry_failed && state_load(cli->root, &state) >= 0 &&
	    state_failed_kernels_json(state, &failed) < 0)
		return log_error_errno(-ENOMEM, "cannot plan"), EXIT_CODE_FAILURE;
	k = resolve(&(struct resolve_input){ p->profile, p->facts, p->knowledge, p->view, cli_today(today), failed,
					     cli->strict },
		    &p->res);
	if (k < 0)
		return log_error_errno(k, "cannot resolve profile %s", p->profile->name), EXIT_CODE_FAILURE;
	if ((k = warn_stale(p, today)) != EXIT_CODE_OK)
		return k;
	if (p->res->ok && (k = plan_build(p->profile, p->facts, p->res, p->view, cli->root, &p->plan, &error)) < 0)
		return log_error("cannot build the plan: %s", error ? error : gp_strerror(k)), exit_code_for(k);
	/* What the operator must do that the plan does not, said with the plan's other warnings. */
	for (size_t i = 0; p->plan && i < p->plan->n_warnings; i++) {
		log_warning("%s", p->plan->warnings[i]);
		if (strv_push(&p->res->warnings, &p->res->n_warnings, p->plan->warnings[i]) < 0)
			return log_error_errno(-ENOMEM, "cannot plan"), EXIT_CODE_FAILURE;
	}
	/* The scheduler is this node's: a plan for others (a bundle) has no drain. */
	if (p->plan && p->here && (k = maint_plan(p->profile, cli->root, cli->sys, p->plan, &error)) < 0)
		return log_error("cannot plan: %s", error ? error : gp_strerror(k)), k == -ENOENT ? EXIT_CODE_REFUSED : EXIT_CODE_FAILURE;
	return EXIT_CODE_OK;
}

void planned_done(struct planned *p)
{
	p->plan = plan_free(p->plan);
	p->res = resolution_free(p->res);
	p->view = repo_view_free(p->view);
	p->knowledge = NULL;
	if (p->kn)
		knowledge_in_use_done(p->kn);
	p->kn = mfree(p->kn);
	p->profile = profile_free(p->profile);
	p->facts = facts_free(p->facts);
	if (p->dirs)
		profile_dirs_close(p->dirs);
	p->dirs = mfree(p->dirs);
}

/* plan --json's document, or the plan for humans; the exit code. */
int cli_show_plan(struct cli *cli, const struct planned *p)
{
	struct plan empty = {};
	char today[11];
	int k;

	if (cli->json) {
		cJSON *doc = NULL, *kn = NULL;

		if ((k = plan_to_json(p->profile, p->res, p->plan ? p->plan : &empty, &doc)) < 0)
			return log_error_errno(k, "cannot write JSON"), EXIT_CODE_FAILURE;
		/* Only a knowledge other than the shipped one is named: the shipped one goes without
		 * saying. */
		if (p->kn->origin != KNOWLEDGE_SHIPPED &&
		    (!(kn = cli_knowledge_json(p->kn, cli_today(today))) || !cJSON_AddItemToObject(doc, "knowledge", kn))) {
			cJSON_Delete(kn);
			cJSON_Delete(doc);
			return log_error_errno(-ENOMEM, "cannot write JSON"), EXIT_CODE_FAILURE;
		}
		k = cli_print_json(doc);
	} else {
		cli_print_knowledge_origin(p->kn);
		cli_print_plan(p->profile, p->res, p->plan ? p->plan : &empty);
		k = EXIT_CODE_OK;
	}
	return p->res->ok ? k : EXIT_CODE_REFUSED;
}

int verb_plan(struct cli *cli, const struct verb *self, _unused_ int argc, char **argv)
{
	_cleanup_(planned_done) struct planned p = {};
	int r;

	if ((r = cli_plan_begin(cli, self, argv[0], &p)) != EXIT_CODE_OK || (r = cli_plan_finish(cli, &p)) != EXIT_CODE_OK)
		return r;
	return cli_show_plan(cli, &p);
}
