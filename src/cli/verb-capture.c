/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov capture -o FILE: the files detect, check, status and plan read, as a capture that
 * --root and --sysroot take anywhere (src/capture/capture.h; roots.c opens them). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <unistd.h>

#include "capture/capture.h"
#include "cli.h"
#include "host/facts.h"
#include "profile/repo.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/strutil.h"

const char verb_capture_usage[] = "-o FILE [--profile NAME]\n"
				  "Write what detect, check, profiles and status read on this node (and plan NAME\n"
				  "with --profile) to FILE, a tar compressed with zstd (.tar.zst) or gzip (.tar.gz),\n"
				  "without secrets. --root FILE and --sysroot FILE take it anywhere as the node's\n"
				  "trees, for the verbs that only read.\n"
				  "  -o, --output FILE  where to write it\n"
				  "  --profile NAME     also what plan NAME reads (its repositories, site profiles)\n";

/* No letter, clear of options.c's codes. */
#define OPT_CAPTURE_PROFILE 0x200

static int parse_capture(struct cli *cli, const struct verb *v, int opt, const char *arg)
{
	(void)v;
	if (opt == OPT_CAPTURE_PROFILE)
		cli->capture_profile = arg;
	return 0;
}

const struct optgroup optgroup_capture = {
	.name = "capture",
	.opts = (const struct option[]){ { "profile", required_argument, NULL, OPT_CAPTURE_PROFILE }, {} },
	.parse = parse_capture,
};

/* Runs verb name as `gpuprov name args --json` would, its output dropped: only its reads
 * matter. Its exit code. */
static int run_quiet(const struct cli *cli, const char *name, int argc, char **argv)
{
	const struct verb *v = cli_verb(name);
	/* The same roots and options, but capture's own: -o is not the verb's. */
	struct cli as = *cli;
	int saved, null, r;

	fflush(stdout);
	saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved < 0 || null < 0 || dup2(null, STDOUT_FILENO) < 0) {
		log_error_errno(-errno, "cannot run %s for the capture", name);
		r = EXIT_CODE_FAILURE;
		goto out;
	}
	as.json = true;
	as.output = NULL;
	r = v->run(&as, v, argc, argv);
	fflush(stdout);
	if (dup2(saved, STDOUT_FILENO) < 0) {
		log_error_errno(-errno, "cannot run %s for the capture", name);
		r = EXIT_CODE_FAILURE;
	}
out:
	if (null >= 0)
		close(null);
	if (saved >= 0)
		close(saved);
	return r;
}

/* The repositories' metadata as plan reads it, for a capture without a profile: plan NAME
 * from the capture then finds what it would find on the node. */
static void read_repositories(struct cli *cli)
{
	_cleanup_(facts_freep) struct facts *f = NULL;
	_cleanup_(repo_view_freep) struct repo_view *view = NULL;
	_cleanup_(strv_freep) char **warnings = NULL;
	size_t n = 0;

	if (cli_detect(cli, false, &f) == EXIT_CODE_OK)
		(void)repo_view_load(cli->root, os_version_order(f->os.family), f->cpu.arch, &view, &warnings, &n);
}

/* The node's name for the manifest, read before the recorders start: not a fact any verb reads. */
static char *node_hostname(const struct cli *cli)
{
	char *name = NULL;

	if (root_read_line(cli->sys, "proc/sys/kernel/hostname", &name) < 0 &&
	    root_read_line(cli->root, "etc/hostname", &name) < 0)
		return NULL;
	return name;
}

int verb_capture(struct cli *cli, _unused_ const struct verb *self, _unused_ int argc, _unused_ char **argv)
{
	_cleanup_(root_record_freep) struct root_record *root_rec = NULL, *sys_rec = NULL;
	_cleanup_free_ char *out = NULL, *hostname = NULL, *error = NULL;
	enum capture_compression how;
	int r, k;

	if (!cli->output)
		return log_error("capture: -o FILE says where to write it"), EXIT_CODE_USAGE;
	if (capture_compression_for(cli->output, &how) < 0)
		return log_error("capture: %s: the name ends in .tar.zst (zstd) or .tar.gz (gzip)", cli->output),
		       EXIT_CODE_USAGE;
	if ((k = cli_host_path(cli->output, &out)) < 0)
		return log_error_errno(k, "capture: %s", cli->output), EXIT_CODE_USAGE;
	if (cli->capture_profile && (r = cli_check_profile(cli, cli->capture_profile)) != EXIT_CODE_OK)
		return r;
	hostname = node_hostname(cli);

	if ((k = root_record_start(cli->root)) < 0 || (k = root_record_start(cli->sys)) < 0)
		return log_error_errno(k, "cannot capture"), EXIT_CODE_FAILURE;
	/* What each verb that reads a capture reads; their verdicts (check's 3, a refused
	 * plan) are the node's, captured as they are. */
	(void)run_quiet(cli, "detect", 0, NULL);
	(void)run_quiet(cli, "check", 0, NULL);
	(void)run_quiet(cli, "profiles", 0, NULL);
	(void)run_quiet(cli, "status", 0, NULL);
	if (cli->capture_profile)
		(void)run_quiet(cli, "plan", 1, (char *[]){ (char *)cli->capture_profile, NULL });
	else
		read_repositories(cli);
	root_rec = root_record_stop(cli->root);
	sys_rec = root_record_stop(cli->sys);

	k = capture_write(cli->root, root_rec, cli->sys, sys_rec, out,
			  &(struct capture_info){ .hostname = hostname, .profile = cli->capture_profile }, &error);
	if (k < 0) {
		log_error("capture %s: %s; nothing written", cli->output, error ?: gp_strerror(k));
		return exit_code_for(k);
	}
	log_info("wrote %s", cli->output);
	return EXIT_CODE_OK;
}
