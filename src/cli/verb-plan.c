/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov plan NAME: what apply would do, each step with its reason; or why it refuses. */
#include <errno.h>

#include "util/json.h"
#include "cli.h"
#include "plan/plan.h"
#include "profile/knowledge.h"
#include "profile/repo.h"
#include "profile/resolve.h"
#include "util/log.h"
#include "util/strutil.h"

const char verb_plan_usage[] = "NAME [--json]\n"
			       "Resolve profile NAME for this machine (CUDA -> driver -> kernel from what its\n"
			       "repositories offer) and print the actions apply would take, each with its reason.\n"
			       "Writes nothing. Exit 3 when it refuses, with the constraints that ruled out each\n"
			       "candidate.\n"
			       "  --json   the plan as JSON\n";

static void print_lines(const char *title, char *const *lines)
{
	if (!lines || !*lines)
		return;
	printf("%s\n", title);
	for (; *lines; lines++)
		printf("  %s\n", *lines);
}

static void print_plan(const struct profile *p, const struct resolution *r, const struct plan *pl)
{
	printf("Profile %s", p->name);
	for (char **c = p->chain; c && *c; c++)
		printf("%s%s", c == p->chain ? " (" : " + ", *c);
	printf(")\n");
	if (!r->ok) {
		print_lines("Refused: no stack satisfies every constraint:", r->refusals);
		print_lines("Warnings:", r->warnings);
		return;
	}
	printf("Stack       CUDA %s, driver %s (%s, %s), kernel %s%s\n", r->cuda ? r->cuda : "none", r->driver,
	       r->flavour, r->source, r->kernel, r->fabricmanager ? ", fabric manager" : "");
	print_lines("Why:", r->reasons);
	print_lines("Warnings:", r->warnings);
	printf("Actions:\n");
	for (size_t i = 0; i < pl->n; i++) {
		const struct action *a = &pl->actions[i];

		printf("  %2zu. %-11s %s%s%s\n", i + 1, a->kind, a->target, a->version ? " = " : "",
		       a->version ? a->version : "");
		printf("      %s\n", a->reason);
		if (a->detail && streq(a->kind, "file")) {
			char *save = NULL, *copy = strdup(a->detail);

			for (char *l = copy ? strtok_r(copy, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save))
				printf("        %s\n", l);
			free(copy);
		} else if (a->detail)
			printf("      %s\n", a->detail);
	}
	if (pl->n == 0)
		printf("  none: the machine is as the profile wants it\n");
	printf("Reboot      %s\n", pl->reboot ? "required after apply" : "not required");
}

int verb_plan(struct cli *cli, const struct verb *self, int argc, char **argv)
{
	_cleanup_(facts_freep) struct facts *f = NULL;
	_cleanup_(profile_freep) struct profile *p = NULL;
	_cleanup_(knowledge_freep) struct knowledge *kn = NULL;
	_cleanup_(repo_view_freep) struct repo_view *view = NULL;
	_cleanup_(resolution_freep) struct resolution *res = NULL;
	_cleanup_(plan_freep) struct plan *pl = NULL;
	_cleanup_(strv_freep) char **view_warnings = NULL;
	struct profile_dirs dirs = {};
	_cleanup_(profile_dirs_closep) struct profile_dirs *d = NULL;
	_cleanup_free_ char *why = NULL;
	size_t n_vw = 0;
	char today[11];
	int r, k;

	r = cli_load_profile(cli, self, argc, argv, &f, &dirs, &p);
	d = &dirs;
	if (r >= 0)
		return r;
	if ((r = cli_knowledge(cli, d, &kn)) >= 0)
		return r;
	k = repo_view_load(cli->root, &view, &view_warnings, &n_vw);
	if (k < 0)
		return log_error_errno(k, "cannot read the repository lists"), EXIT_CODE_FAILURE;
	for (char **w = view_warnings; w && *w; w++)
		log_warning("%s", *w);

	if (!profile_matches(p, f, &why)) {
		res = calloc(1, sizeof(*res));
		if (!res || strv_pushf(&res->refusals, &res->n_refusals, "profile %s is not for this machine: %s", p->name,
				       strna(why)) < 0)
			return log_error_errno(-ENOMEM, "cannot plan"), EXIT_CODE_FAILURE;
	} else {
		k = resolve(&(struct resolve_input){ p, f, kn, view, cli_today(today) }, &res);
		if (k < 0)
			return log_error_errno(k, "cannot resolve profile %s", p->name), EXIT_CODE_FAILURE;
		if (res->ok && (k = plan_build(p, f, res, cli->root, &pl)) < 0)
			return log_error_errno(k, "cannot build the plan"), EXIT_CODE_FAILURE;
	}

	if (cli->json) {
		cJSON *doc = NULL;
		struct plan empty = {};

		if ((k = plan_to_json(p, res, pl ? pl : &empty, &doc)) < 0)
			return log_error_errno(k, "cannot write JSON"), EXIT_CODE_FAILURE;
		r = cli_print_json(doc);
	} else {
		struct plan empty = {};

		print_plan(p, res, pl ? pl : &empty);
		r = EXIT_CODE_OK;
	}
	return res->ok ? r : EXIT_CODE_REFUSED;
}
