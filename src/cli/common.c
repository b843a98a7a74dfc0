/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What several verbs share: facts, profile directories, knowledge, dates, JSON out. */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "apply/journal.h"
#include "host/facts.h"
#include "profile/knowledge.h"
#include "profile/profile.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/spawn.h"

int cli_verb_args(struct cli *cli, const struct verb *v, int argc, char **argv, int min, int max, int *ret_first)
{
	int first = cli_parse_verb_options(cli, v, argc, argv);

	if (first == -2)
		return EXIT_CODE_OK; /* --help was shown */
	if (first < 0)
		return EXIT_CODE_USAGE;
	if (argc - first < min) {
		fprintf(stderr, "gpuprov %s: missing argument; try 'gpuprov %s --help'\n", v->name, v->name);
		return EXIT_CODE_USAGE;
	}
	if (argc - first > max) {
		fprintf(stderr, "gpuprov %s: unexpected argument '%s'; try 'gpuprov %s --help'\n", v->name,
			argv[first + max], v->name);
		return EXIT_CODE_USAGE;
	}
	*ret_first = first;
	return -1;
}

int cli_detect(struct cli *cli, bool print_warnings, struct facts **ret)
{
	int k = facts_detect(cli->root, cli->sys, ret);

	if (k < 0) {
		log_error_errno(k, "detect failed");
		return EXIT_CODE_FAILURE;
	}
	if (print_warnings)
		for (char **w = (*ret)->warnings; *w; w++)
			log_warning("%s", *w);
	return -1;
}

int cli_profile_dirs(struct cli *cli, struct profile_dirs *ret)
{
	int k = profile_dirs_open(cli->root, cli->profiles_path, ret);

	if (k < 0) {
		log_error_errno(k, "cannot open the profile directories");
		return EXIT_CODE_FAILURE;
	}
	return -1;
}

int cli_knowledge(struct cli *cli, const struct profile_dirs *d, struct knowledge **ret)
{
	_cleanup_free_ char *err = NULL;
	int k = knowledge_load(d->shipped, cli->profiles_path, ret, &err);

	if (k < 0) {
		log_error("%s", err ? err : "cannot read the compatibility knowledge");
		/* The knowledge ships with gpuprov: unreadable is a broken install, bad data a bug. */
		return k == -GPE_PARSE ? EXIT_CODE_USAGE : EXIT_CODE_FAILURE;
	}
	return -1;
}

int cli_profile_error(const struct profile_error *e, int k)
{
	_cleanup_free_ char *msg = profile_error_format(e);

	if (k == -ENOMEM || !msg) {
		log_error_errno(-ENOMEM, "cannot load the profile");
		return EXIT_CODE_FAILURE;
	}
	fprintf(stderr, "gpuprov: %s\n", msg);
	return k == -GPE_PARSE || k == -ENOENT ? EXIT_CODE_USAGE : EXIT_CODE_FAILURE;
}

int cli_load_profile(struct cli *cli, const struct verb *v, int argc, char **argv, struct facts **ret_facts,
		     struct profile_dirs *ret_dirs, struct profile **ret_profile)
{
	struct profile_error e = {};
	int first, r, k;

	if ((r = cli_verb_args(cli, v, argc, argv, 1, 1, &first)) >= 0 || (r = cli_detect(cli, false, ret_facts)) >= 0 ||
	    (r = cli_profile_dirs(cli, ret_dirs)) >= 0)
		return r;
	k = profile_load(ret_dirs, argv[first], *ret_facts, ret_profile, &e);
	if (k < 0) {
		r = cli_profile_error(&e, k);
		profile_error_clear(&e);
		return r;
	}
	return -1;
}

const char *cli_today(char buf[static 11])
{
	const char *env = getenv("GPUPROV_TODAY");
	time_t now = time(NULL);
	struct tm tm;

	if (env && strlen(env) == 10 && env[4] == '-' && env[7] == '-') {
		memcpy(buf, env, 11);
		return buf;
	}
	gmtime_r(&now, &tm);
	strftime(buf, 11, "%Y-%m-%d", &tm);
	return buf;
}

int cli_print_json(cJSON *doc)
{
	char *text = cJSON_Print(doc);

	cJSON_Delete(doc);
	if (!text) {
		log_error_errno(-ENOMEM, "cannot write JSON");
		return EXIT_CODE_FAILURE;
	}
	puts(text);
	free(text);
	return EXIT_CODE_OK;
}

int cli_lock(struct cli *cli, int *ret_fd)
{
	pid_t holder = 0;
	int k = run_lock(cli->root, ret_fd, &holder);

	if (k == -GPE_LOCKED) {
		log_error("another gpuprov run (pid %ld) holds %s%s" LOCK_FILE "; nothing was changed", (long)holder,
			  cli->root->path, endswith(cli->root->path, "/") ? "" : "/");
		return EXIT_CODE_REFUSED;
	}
	if (k < 0) {
		log_error_errno(k, "cannot take %s/" LOCK_FILE ": %s", cli->root->path, gp_strerror(k));
		return EXIT_CODE_FAILURE;
	}
	return -1;
}

bool cli_confirm(const struct cli *cli, const char *question)
{
	char answer[16] = "";

	if (cli->yes || !isatty(STDIN_FILENO))
		return true;
	printf("%s [y/N] ", question);
	fflush(stdout);
	return fgets(answer, sizeof(answer), stdin) && (answer[0] == 'y' || answer[0] == 'Y');
}

void cli_reboot(struct cli *cli, const char *into)
{
	/* The tests' stand-in for systemctl: a program that records the request. */
	const char *stand_in = getenv("GPUPROV_TEST_REBOOT");
	char *argv[] = { stand_in ? (char *)stand_in : "systemctl", "reboot", NULL };
	struct spawn_result r = {};

	/* Under --root the target is an image or another machine's tree, not the system that
	 * runs gpuprov: rebooting this one would be wrong. */
	if (!stand_in && !streq(cli->root->path, "/"))
		return;
	if (spawn_run(cli->root, 0, argv, NULL, &r) < 0 || r.status != 0)
		log_error("cannot reboot%s%s; reboot by hand", into ? " into " : "", into ? into : "");
	spawn_result_done(&r);
}
