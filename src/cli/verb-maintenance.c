/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov maintenance status|start NAME|end [--force]: the node's maintenance with its
 * scheduler, by hand, as apply and verify --commit do it (apply/maintenance.h). */
#include <errno.h>

#include "apply/maintenance.h"
#include "apply/state.h"
#include "cli.h"
#include "host/facts.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"

const char verb_maintenance_usage[] = "status | start NAME | end [--force]  [--json]\n"
				      "The node's maintenance with its scheduler (profile section maintenance,\n"
				      "gpuprov-profile(5)), recorded in state.json.\n"
				      "  status        the record, and what the scheduler says of the node now\n"
				      "  start NAME    enter maintenance now as apply would for profile NAME: the pre\n"
				      "                hook, then the drain, waiting for the node to empty (exit 3\n"
				      "                when refused: the hook failed, the drain timed out or failed)\n"
				      "  end           leave gpuprov's own maintenance as verify --commit does: the node\n"
				      "                goes back only when the drain is still gpuprov's, then the post\n"
				      "                hook; nothing to end: exit 0\n"
				      "  --force       end: also a node verify held, after a roll back or a hardware\n"
				      "                fault (else exit 3)\n"
				      "  --json        the outcome as JSON\n";

static int load_state(struct cli *cli, struct state **ret)
{
	int k = state_load(cli->root, ret);

	if (k == -ENOENT || k == -GPE_PARSE) {
		if (k == -GPE_PARSE)
			log_warning("%s/%s does not parse; starting a new one", cli->root->path, STATE_FILE);
		*ret = calloc(1, sizeof(**ret));
		return *ret ? 0 : -ENOMEM;
	}
	return k;
}

/* What start and end did: the lines, the error, and the record as it is now. */
static int report(const struct cli *cli, const struct state *state, const struct maint_outcome *out, int k)
{
	if (cli->json) {
		cJSON *doc = cJSON_CreateObject();

		if (!doc || !cJSON_AddBoolToObject(doc, "ok", k >= 0) || json_add_strv(doc, "done", out->lines) < 0 ||
		    !json_add_str_or_null(doc, "error", k < 0 ? strna(out->error) : NULL) ||
		    !cJSON_AddItemToObject(doc, "maintenance", state->maintenance ? cJSON_Duplicate(state->maintenance, true)
										  : cJSON_CreateNull())) {
			cJSON_Delete(doc);
			return log_error_errno(-ENOMEM, "cannot write JSON"), EXIT_CODE_FAILURE;
		}
		(void)cli_print_json(doc);
	} else
		for (size_t i = 0; i < out->n; i++)
			printf("  %s\n", out->lines[i]);
	if (k >= 0)
		return EXIT_CODE_OK;
	log_error("%s", out->error ? out->error : gp_strerror(k));
	return k == -GPE_REFUSED ? EXIT_CODE_REFUSED : EXIT_CODE_FAILURE;
}

static int save(struct cli *cli, const struct state *state)
{
	int k = state_save(cli->root, state);

	if (k < 0)
		log_error("cannot write %s/%s: %s", cli->root->path, STATE_FILE, gp_strerror(k));
	return k;
}

static int start(struct cli *cli, const char *name)
{
	_cleanup_(facts_freep) struct facts *f = NULL;
	_cleanup_(profile_freep) struct profile *p = NULL;
	_cleanup_(state_freep) struct state *state = NULL;
	_cleanup_(maint_config_done) struct maint_config cfg = {};
	_cleanup_free_ char *node = NULL;
	struct profile_dirs dirs = {};
	_cleanup_(profile_dirs_closep) struct profile_dirs *d = NULL;
	struct maint_outcome out = {};
	int r, k;

	r = cli_load_profile(cli, name, &f, &dirs, &p);
	d = &dirs;
	if (r != EXIT_CODE_OK)
		return r;
	if (!maint_wanted(p)) {
		log_info("profile %s asks for no maintenance (no scheduler, no hooks); nothing to do", name);
		return EXIT_CODE_OK;
	}
	k = maint_node(p, cli->root, cli->sys, &node);
	if (k == -ENOENT)
		node = strdup("");
	else if (k < 0)
		return log_error_errno(k, "cannot find the node's name"), EXIT_CODE_FAILURE;
	if (!node || (k = maint_config_from_profile(p, node, &cfg)) < 0 || (k = load_state(cli, &state)) < 0)
		return log_error_errno(k < 0 ? k : -ENOMEM, "cannot start maintenance"), EXIT_CODE_FAILURE;
	if (!*node && !streq(cfg.scheduler, "none"))
		return log_error("profile %s: maintenance.node is not set and the machine's hostname is unknown", name),
		       EXIT_CODE_REFUSED;
	k = maint_enter(cli->root, &cfg, &state->maintenance, &out);
	if (k >= 0 && save(cli, state) < 0)
		k = -EIO;
	r = report(cli, state, &out, k);
	maint_outcome_done(&out);
	return r;
}

static int end(struct cli *cli)
{
	_cleanup_(state_freep) struct state *state = NULL;
	struct maint_outcome out = {};
	int r, k;

	if ((k = load_state(cli, &state)) < 0)
		return log_error_errno(k, "cannot read %s/%s", cli->root->path, STATE_FILE), EXIT_CODE_FAILURE;
	k = maint_leave(cli->root, state->maintenance, cli->force, &out);
	/* The record says what was done, whether or not all went well; a refusal changed nothing. */
	if (k != -GPE_REFUSED && state->maintenance && save(cli, state) < 0 && k >= 0)
		k = -EIO;
	r = report(cli, state, &out, k);
	maint_outcome_done(&out);
	return r;
}

static int status(struct cli *cli)
{
	_cleanup_(state_freep) struct state *state = NULL;
	_cleanup_(cJSON_Deletep) cJSON *view = NULL;
	const cJSON *m, *e;
	int k;

	if ((k = load_state(cli, &state)) < 0)
		return log_error_errno(k, "cannot read %s/%s", cli->root->path, STATE_FILE), EXIT_CODE_FAILURE;
	m = state->maintenance;
	if (m && (k = maint_view(cli->root, m, &view)) < 0)
		return log_error_errno(k, "cannot ask the scheduler"), EXIT_CODE_FAILURE;
	if (cli->json) {
		cJSON *doc = cJSON_CreateObject();

		if (!doc || !cJSON_AddItemToObject(doc, "maintenance", m ? cJSON_Duplicate(m, true) : cJSON_CreateNull()) ||
		    !cJSON_AddItemToObject(doc, "scheduler", view ? TAKE_PTR(view) : cJSON_CreateNull())) {
			cJSON_Delete(doc);
			return log_error_errno(-ENOMEM, "cannot write JSON"), EXIT_CODE_FAILURE;
		}
		return cli_print_json(doc);
	}
	if (!m) {
		printf("No maintenance recorded.\n");
		return EXIT_CODE_OK;
	}
	printf("Node        %s (%s), run %s since %s\n", strna(json_str(m, "node")), strna(json_str(m, "scheduler")),
	       strna(json_str(m, "run_id")), strna(json_str(m, "since")));
	printf("Drained     %s\n", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "drained"))
					   ? "by gpuprov"
					   : "not by gpuprov (it was drained by someone else, or has no scheduler)");
	printf("Reason      %s\n", strna(json_str(m, "reason")));
	if (json_str(m, "held"))
		printf("Held        %s\n", json_str(m, "held"));
	if (json_str(m, "ended"))
		printf("Ended       %s%s%s\n", json_str(m, "ended"), json_str(m, "left") ? ": left as it was, " : "",
		       json_str(m, "left") ? json_str(m, "left") : "");
	cJSON_ArrayForEach(e, view) {
		_cleanup_free_ char *v = cJSON_IsString(e) ? NULL : cJSON_PrintUnformatted(e);

		printf("Scheduler   %s: %s\n", e->string, cJSON_IsString(e) ? e->valuestring : strna(v));
	}
	return EXIT_CODE_OK;
}

int verb_maintenance(struct cli *cli, _unused_ const struct verb *self, int argc, char **argv)
{
	const char *sub = argv[0];

	if (cli->force && !streq(sub, "end")) {
		fprintf(stderr, "gpuprov maintenance: --force goes with end only; try 'gpuprov maintenance --help'\n");
		return EXIT_CODE_USAGE;
	}
	if (streq(sub, "start") && argc == 2)
		return start(cli, argv[1]);
	if (streq(sub, "end") && argc == 1)
		return end(cli);
	if (streq(sub, "status") && argc == 1)
		return status(cli);
	fprintf(stderr, "gpuprov maintenance: expected status, start NAME or end; try 'gpuprov maintenance --help'\n");
	return EXIT_CODE_USAGE;
}
