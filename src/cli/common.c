/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What several verbs share: facts, profile directories, knowledge, dates, JSON out. */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "apply/journal.h"
#include "host/facts.h"
#include "profile/knowledge-source.h"
#include "util/json.h"
#include "profile/profile.h"
#include "util/archive-lib.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/spawn.h"

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
	return EXIT_CODE_OK;
}

int cli_profile_dirs(struct cli *cli, struct profile_dirs *ret)
{
	int k = profile_dirs_open(cli->root, cli->profiles_path, ret);

	if (k < 0) {
		log_error_errno(k, "cannot open the profile directories");
		return EXIT_CODE_FAILURE;
	}
	return EXIT_CODE_OK;
}

int cli_knowledge(struct cli *cli, const struct profile_dirs *d, struct knowledge_in_use *ret)
{
	_cleanup_free_ char *err = NULL;
	char today[11];
	int k = knowledge_choose(cli->root, d->shipped, cli->profiles_path, cli_today(today), ret, &err);

	if (k < 0) {
		log_error("%s", err ? err : "cannot read the compatibility knowledge");
		/* The knowledge ships with gpuprov: unreadable is a broken install, bad data a bug. */
		return exit_code_for(k);
	}
	if (ret->passed_over)
		log_warning("installed knowledge not used: %s; using %s", ret->passed_over, ret->path);
	return EXIT_CODE_OK;
}

char *cli_knowledge_stale(const struct knowledge_in_use *u, const char *today)
{
	char *s = NULL;
	long days;

	if (!knowledge_stale(u->k, today, &days))
		return NULL;
	if (asprintf(&s, "the compatibility knowledge (%s) is as of %s, %ld days ago: newer drivers, toolkits "
		     "and support changes are unknown to it; install newer knowledge (gpuprov knowledge install)",
		     u->path, knowledge_as_of(u->k), days) < 0)
		return NULL;
	return s;
}

cJSON *cli_knowledge_json(const struct knowledge_in_use *u, const char *today)
{
	cJSON *o = cJSON_CreateObject();
	long days;

	(void)knowledge_stale(u->k, today, &days);
	if (!o || !cJSON_AddStringToObject(o, "origin", knowledge_origin_to_string(u->origin)) ||
	    !cJSON_AddStringToObject(o, "path", u->path) || !json_add_str_or_null(o, "as_of", knowledge_as_of(u->k)) ||
	    !(days >= 0 ? cJSON_AddNumberToObject(o, "age_days", (double)days) : cJSON_AddNullToObject(o, "age_days")) ||
	    !cJSON_AddBoolToObject(o, "stale", days > KNOWLEDGE_STALE_DAYS) ||
	    !json_add_str_or_null(o, "passed_over", u->passed_over))
		return cJSON_Delete(o), NULL;
	return o;
}

void cli_print_knowledge_origin(const struct knowledge_in_use *u)
{
	if (u->origin != KNOWLEDGE_SHIPPED)
		printf("Knowledge   %s %s, as of %s\n", knowledge_origin_to_string(u->origin), u->path,
		       strna(knowledge_as_of(u->k)));
}

/* Paths the operator names (keys, the output) are the host's: made absolute against the
 * working directory, so that they read the same inside the host root "/". */
int cli_host_path(const char *path, char **ret)
{
	_cleanup_free_ char *cwd = NULL;

	if (path[0] == '/')
		return (*ret = strdup(path)) ? 0 : -ENOMEM;
	if (!(cwd = getcwd(NULL, 0)))
		return -errno;
	return asprintf(ret, "%s/%s", cwd, path) < 0 ? -ENOMEM : 0;
}

int cli_read_host_file(const char *path, size_t max, char **ret, size_t *ret_size)
{
	_cleanup_(root_freep) struct root *host = NULL;
	_cleanup_free_ char *abs = NULL;
	int k;

	if ((k = cli_host_path(path, &abs)) < 0 || (k = root_open("/", &host)) < 0)
		return k;
	return root_read_file(host, abs, max, ret, ret_size);
}

int cli_profile_error(const struct profile_error *e, int k)
{
	_cleanup_free_ char *msg = profile_error_format(e);

	if (k == -ENOMEM || !msg) {
		log_error_errno(-ENOMEM, "cannot load the profile");
		return EXIT_CODE_FAILURE;
	}
	fprintf(stderr, "gpuprov: %s\n", msg);
	/* A profile that does not exist is a name mistyped: bad usage, not a failure. */
	return k == -ENOENT ? EXIT_CODE_USAGE : exit_code_for(k);
}

int cli_load_profile(struct cli *cli, const char *name, struct facts **ret_facts, struct profile_dirs *ret_dirs,
		     struct profile **ret_profile)
{
	struct profile_error e = {};
	int r, k;

	if ((r = cli_detect(cli, false, ret_facts)) != EXIT_CODE_OK || (r = cli_profile_dirs(cli, ret_dirs)) != EXIT_CODE_OK)
		return r;
	k = profile_load(ret_dirs, name, *ret_facts, ret_profile, &e);
	if (k < 0) {
		r = cli_profile_error(&e, k);
		profile_error_clear(&e);
		return r;
	}
	return EXIT_CODE_OK;
}

int cli_check_profile(struct cli *cli, const char *name)
{
	_cleanup_(facts_freep) struct facts *f = NULL;
	_cleanup_(profile_freep) struct profile *p = NULL;
	struct profile_dirs dirs = {};
	_cleanup_(profile_dirs_closep) struct profile_dirs *d = &dirs;

	return cli_load_profile(cli, name, &f, d, &p);
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

	if (k == -GPE_LOCKED)
		log_error("another gpuprov run (pid %ld) holds %s%s" LOCK_FILE "; nothing was changed", (long)holder,
			  cli->root->path, endswith(cli->root->path, "/") ? "" : "/");
	else if (k < 0)
		log_error_errno(k, "cannot take %s/" LOCK_FILE, cli->root->path);
	if (k < 0)
		return exit_code_for(k);
	return EXIT_CODE_OK;
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

int cli_repo_view_failed(int error)
{
	_cleanup_free_ char *why = NULL;

	/* The one library the lists can need: libarchive, for those apt keeps compressed. */
	if (error == -GPE_LIBRARY && dynlib_need(&libarchive, "reading apt's compressed lists", &why) < 0)
		return log_error("%s", strna(why)), EXIT_CODE_LIBRARY;
	return log_error_errno(error, "cannot read the repository lists"), EXIT_CODE_FAILURE;
}
