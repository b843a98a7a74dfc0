/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov check: the installed stack against the compatibility knowledge. */
#include <errno.h>

#include "cli.h"
#include "plan/check.h"
#include "profile/knowledge-source.h"
#include "profile/profile.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/errors.h"

const char verb_check_usage[] = "[--strict] [--json]\n"
				"Audit what is installed now (kernel, driver and its flavour, modules, CUDA,\n"
				"fabric manager, container toolkit, Secure Boot, kernel config) against the\n"
				"compatibility knowledge, and each container runtime installed beside NVIDIA's\n"
				"without the nvidia runtime.\n"
				"Each finding has a severity, an explanation and its source. Exit 3 when any\n"
				"finding is an error.\n"
				"  --strict a GPU the knowledge has no entry for is an error, not a warning\n"
				"  --json   the findings as JSON\n";

/* The container toolkit's findings need the repository view: its installed packages and what
 * is offered. A view that does not load leaves them out, said at debug level: check's other
 * findings do not depend on it. */
static int check_toolkit(struct cli *cli, const struct facts *f, const struct knowledge *kn, struct findings *fs)
{
	_cleanup_(repo_view_freep) struct repo_view *v = NULL;
	char **warnings = NULL;
	size_t nw = 0;
	int k = repo_view_load(cli->root, os_version_order(f->os.family), f->cpu.arch, &v, &warnings, &nw);

	strv_free(warnings);
	if (k < 0) {
		log_debug("no container toolkit findings: the repository view did not load: %s", gp_strerror(k));
		return k == -ENOMEM ? k : 0;
	}
	return check_container_toolkit(f, v, kn, fs);
}

int cli_check_findings(struct cli *cli, struct facts **ret_facts, struct knowledge_in_use *ret_kn, struct findings *ret)
{
	_cleanup_(facts_freep) struct facts *f = NULL;
	_cleanup_(knowledge_in_use_done) struct knowledge_in_use kn = {};
	_cleanup_free_ char *stale = NULL;
	struct profile_dirs dirs = {};
	_cleanup_(profile_dirs_closep) struct profile_dirs *d = NULL;
	char today[11];
	int r, k;

	if ((r = cli_detect(cli, false, &f)) != EXIT_CODE_OK || (r = cli_profile_dirs(cli, &dirs)) != EXIT_CODE_OK)
		return r;
	d = &dirs;
	if ((r = cli_knowledge(cli, d, &kn)) != EXIT_CODE_OK)
		return r;
	k = check_run(f, kn.k, cli_today(today), cli->strict, ret);
	if (k >= 0)
		k = check_cdi(cli->root, cli->sys, f, ret);
	if (k >= 0)
		k = check_gpu_state(cli->root, ret);
	if (k >= 0)
		k = check_toolkit(cli, f, kn.k, ret);
	stale = cli_knowledge_stale(&kn, today);
	if (k >= 0)
		k = check_container_runtimes(cli->root, ret);
	if (k >= 0 && stale)
		k = findings_add(ret, SEVERITY_WARNING, "knowledge-stale", "gpuprov(8), KNOWLEDGE", stale);
	if (k < 0)
		return log_error_errno(k, "check failed"), EXIT_CODE_FAILURE;
	if (ret_kn) {
		*ret_kn = kn;
		kn = (struct knowledge_in_use){};
	}
	if (ret_facts)
		*ret_facts = TAKE_PTR(f);
	return EXIT_CODE_OK;
}

int verb_check(struct cli *cli, _unused_ const struct verb *self, _unused_ int argc, _unused_ char **argv)
{
	_cleanup_(knowledge_in_use_done) struct knowledge_in_use kn = {};
	struct findings fs = {};
	bool errors = false;
	char today[11];
	int r;

	if ((r = cli_check_findings(cli, NULL, &kn, &fs)) != EXIT_CODE_OK)
		return r;
	for (size_t i = 0; i < fs.n; i++)
		errors |= fs.list[i].severity == SEVERITY_ERROR;

	if (cli->json) {
		cJSON *doc = cJSON_CreateObject(), *list = NULL;

		if (!doc || findings_to_json(&fs, &list) < 0 || !cJSON_AddItemToObject(doc, "findings", list) ||
		    !cJSON_AddBoolToObject(doc, "errors", errors) ||
		    /* as plan: only a knowledge other than the shipped one is named */
		    (kn.origin != KNOWLEDGE_SHIPPED &&
		     !cJSON_AddItemToObject(doc, "knowledge", cli_knowledge_json(&kn, cli_today(today))))) {
			cJSON_Delete(doc);
			findings_clear(&fs);
			return log_error_errno(-ENOMEM, "cannot write JSON"), EXIT_CODE_FAILURE;
		}
		r = cli_print_json(doc);
	} else {
		cli_print_knowledge_origin(&kn);
		for (size_t i = 0; i < fs.n; i++)
			printf("%-8s %s\n         [%s] %s\n", severity_to_string(fs.list[i].severity), fs.list[i].message,
			       fs.list[i].id, fs.list[i].source);
		if (fs.n == 0)
			printf("ok       nothing the knowledge warns about\n");
		r = EXIT_CODE_OK;
	}
	findings_clear(&fs);
	return r == EXIT_CODE_OK && errors ? EXIT_CODE_REFUSED : r;
}
