/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov [OPTIONS] VERB [ARGS]: the verb table, and what main() does once for every verb:
 * the options read, the arguments counted, the roots opened and the lock taken. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>

#include "cli.h"
#include "net/fetch.h"
#include "util/errors.h"
#include "util/log.h"

/* Whether a run takes the lock: only when it may change the node. */
static bool lock_unless_dry_run(const struct cli *cli, char **args)
{
	(void)args;
	return !cli->dry_run;
}

static bool lock_to_commit(const struct cli *cli, char **args)
{
	(void)args;
	return cli->commit;
}

/* bundle create writes the root's download cache, unpack its bundle directory; keygen and
 * verify change nothing of the root's. */
static bool lock_bundle(const struct cli *cli, char **args)
{
	(void)cli;
	return streq(args[0], "create") || streq(args[0], "unpack");
}

/* apply NAME and bundle create NAME: a profile that does not load is refused before the
 * lock, as plan refuses it; so is a bundle that the libraries to read it are missing for
 * (loaded on use: src/util/dynlib.h). */
static int check_apply(struct cli *cli, char **args)
{
	int r = cli_check_profile(cli, args[0]);

	if (r == EXIT_CODE_OK && cli->bundle)
		return cli_bundle_libraries(cli->bundle, "unpacking bundles");
	/* Runfiles, .deb packages and what is fetched are hashed as apply goes. */
	return r == EXIT_CODE_OK ? cli_crypto_library("checking what apply installs") : r;
}

/* gpu apply destroys and creates MIG instances, as apply's own GPU step does: never both at
 * once. show only reads. */
static bool lock_gpu(const struct cli *cli, char **args)
{
	(void)cli;
	return streq(args[0], "apply");
}

/* maintenance start and end change the node (and its scheduler's view of it); status reads. */
static bool lock_maintenance(const struct cli *cli, char **args)
{
	(void)cli;
	return !streq(args[0], "status");
}

static int check_bundle(struct cli *cli, char **args)
{
	int r;

	if (streq(args[0], "unpack"))
		return cli_bundle_libraries(args[1], "unpacking bundles");
	if (!streq(args[0], "create"))
		return EXIT_CODE_OK;
	r = cli_check_profile(cli, args[1]);
	return r == EXIT_CODE_OK ? cli_bundle_libraries(NULL, "making bundles") : r;
}

/* knowledge install changes the node; show, lint and sign read, or write the host's file. */
static bool lock_knowledge(const struct cli *cli, char **args)
{
	(void)cli;
	return streq(args[0], "install");
}

/* knowledge install checks a signature: libcrypto, and libcurl for a URL, before the lock. */
static int check_knowledge(struct cli *cli, char **args)
{
	_cleanup_free_ char *why = NULL;
	int r;

	(void)cli;
	r = cli_crypto_library("checking the knowledge's signature");
	if (r == EXIT_CODE_OK && args[1] && strstr(args[1], "://") && fetch_ready(&why) < 0)
		return log_error("%s: %s; nothing changed", args[1], strna(why)), EXIT_CODE_LIBRARY;
	return r;
}

#define GROUPS(...) ((const struct optgroup *const[]){ __VA_ARGS__, NULL })
#define NO_GROUPS ((const struct optgroup *const[]){ NULL })

static const struct verb verbs[] = {
	{ .name = "detect",
	  .summary = "show the machine's facts: CPU, OS, kernels, boot, storage, GPUs, HCAs, driver",
	  .usage = verb_detect_usage, .groups = NO_GROUPS, .run = verb_detect, .reads_capture = true },
	{ .name = "profiles",
	  .summary = "list the profiles and whether each fits this machine",
	  .usage = verb_profiles_usage, .groups = NO_GROUPS, .run = verb_profiles, .reads_capture = true },
	{ .name = "show",
	  .summary = "print a profile fully resolved for this machine",
	  .usage = verb_show_usage, .groups = NO_GROUPS, .min_args = 1, .max_args = 1, .run = verb_show,
	  .reads_capture = true },
	{ .name = "plan",
	  .summary = "what apply would do for a profile, each step with its reason",
	  .usage = verb_plan_usage, .groups = GROUPS(&optgroup_resolve, &optgroup_strict), .min_args = 1, .max_args = 1,
	  .run = verb_plan, .reads_capture = true },
	{ .name = "check",
	  .summary = "audit the installed stack against the compatibility knowledge",
	  .usage = verb_check_usage, .groups = GROUPS(&optgroup_strict), .run = verb_check, .reads_capture = true },
	{ .name = "apply",
	  .summary = "converge the node: packages at exact versions, holds, files, services",
	  .usage = verb_apply_usage,
	  .groups = GROUPS(&optgroup_change, &optgroup_ask, &optgroup_refresh, &optgroup_resolve, &optgroup_strict,
			   &optgroup_apply, &optgroup_fetch),
	  .min_args = 1, .max_args = 1, .needs_lock = lock_unless_dry_run, .check_input = check_apply,
	  .run = verb_apply },
	{ .name = "verify",
	  .summary = "check the new stack after boot; with --commit make it the default or roll back",
	  .usage = verb_verify_usage, .groups = GROUPS(&optgroup_verify), .needs_lock = lock_to_commit,
	  .run = verb_verify },
	{ .name = "rollback",
	  .summary = "go back to the kernel and the stack from before the last switch",
	  .usage = verb_rollback_usage,
	  .groups = GROUPS(&optgroup_change, &optgroup_ask, &optgroup_refresh, &optgroup_rollback),
	  .needs_lock = lock_unless_dry_run, .run = verb_rollback },
	{ .name = "cdi",
	  .summary = "the GPUs' CDI spec: check it against the devices and driver, or refresh it",
	  .usage = verb_cdi_usage, .min_args = 1, .max_args = 2, .run = verb_cdi },
	{ .name = "gpu",
	  .summary = "the GPUs' declared state: set it through NVML, or show it beside the GPUs'",
	  .usage = verb_gpu_usage, .min_args = 1, .max_args = 1, .needs_lock = lock_gpu, .run = verb_gpu },
	{ .name = "status",
	  .summary = "what was applied, when, by which profile, and whether a reboot is pending",
	  .usage = verb_status_usage, .groups = GROUPS(&optgroup_status, &optgroup_output), .run = verb_status,
	  .reads_capture = true },
	{ .name = "revert",
	  .summary = "restore every file gpuprov manages to its content before gpuprov",
	  .usage = verb_revert_usage, .groups = GROUPS(&optgroup_change), .needs_lock = lock_unless_dry_run,
	  .run = verb_revert },
	{ .name = "bundle",
	  .summary = "signed offline bundles: keygen, create on a connected host, verify, unpack",
	  .usage = verb_bundle_usage, .groups = GROUPS(&optgroup_bundle, &optgroup_output, &optgroup_fetch),
	  .min_args = 2, .max_args = 2, .needs_lock = lock_bundle, .check_input = check_bundle, .run = verb_bundle },
	{ .name = "knowledge",
	  .summary = "the compatibility knowledge in use: show, lint, install newer signed knowledge",
	  .usage = verb_knowledge_usage, .groups = GROUPS(&optgroup_knowledge), .min_args = 1, .max_args = 2,
	  .needs_lock = lock_knowledge, .check_input = check_knowledge, .run = verb_knowledge },
	{ .name = "maintenance",
	  .summary = "the node's maintenance with its scheduler (Slurm, Kubernetes): status, start, end",
	  .usage = verb_maintenance_usage, .groups = GROUPS(&optgroup_maintenance), .min_args = 1, .max_args = 2,
	  .needs_lock = lock_maintenance, .run = verb_maintenance },
	{ .name = "capture",
	  .summary = "write what detect, plan and check read here, to plan this node anywhere",
	  .usage = verb_capture_usage, .groups = GROUPS(&optgroup_output, &optgroup_capture), .run = verb_capture,
	  .reads_capture = true },
};

const struct verb *cli_verb(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
		if (streq(verbs[i].name, name))
			return &verbs[i];
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: gpuprov [OPTIONS] VERB [ARGS]\n"
		"Bring a GPU node to a pinned, known-good kernel, NVIDIA driver and CUDA stack.\n"
		"\n"
		"Verbs:\n");
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
		fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(out,
		"\n"
		"Options:\n"
		"  --root DIR      the target filesystem to read and change (default /);\n"
		"                  a capture (gpuprov capture) for the verbs that only read\n"
		"  --sysroot DIR   where /proc and /sys are read (default: the root; a capture too)\n"
		"  --profiles DIR  the shipped profiles and knowledge (default " GPUPROV_PROFILES_DIR ")\n"
		"  --json          machine-readable output\n"
		"  --dry-run       verbs that change the node: say what would be done, do nothing\n"
		"  --yes           verbs that change the node: do not ask first\n"
		"  -v, --verbose   say more (twice: debug)\n"
		"  -q, --quiet     errors only\n"
		"  -h, --help      this help; `gpuprov VERB --help` for a verb's\n"
		"  -V, --version   the version\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 bad usage or input, 3 refused by a check,\n"
		"6 a library the verb needs (libcurl, libarchive, libcrypto) cannot be loaded;\n"
		"apply --detailed-exitcodes: 4 changed, 5 changed and a reboot is needed.\n"
		"Environment: GPUPROV_TODAY=YYYY-MM-DD judges end of life, and the expiry of\n"
		"bundles and keys, as of that day.\n"
		"See gpuprov(8).\n");
}

int main(int argc, char **argv)
{
	struct cli cli = { .root_path = "/", .profiles_path = GPUPROV_PROFILES_DIR, .verbosity = LOG_LEVEL_WARNING };
	const struct verb *verb = NULL;
	_cleanup_close_ int lock = -EBADF;
	int first, nargs, r;

	if (cli_parse(&cli, verbs, ELEMENTSOF(verbs), argc, argv, &verb, &first) < 0)
		return EXIT_CODE_USAGE;
	log_set_level((enum log_level)cli.verbosity);
	if (cli.help && verb) {
		printf("Usage: gpuprov [OPTIONS] %s %s", verb->name, verb->usage);
		return EXIT_CODE_OK;
	}
	if (cli.help) {
		usage(stdout);
		return EXIT_CODE_OK;
	}
	if (cli.version) {
		printf("gpuprov %s\n", PACKAGE_VERSION);
		return EXIT_CODE_OK;
	}
	if (!verb) {
		fprintf(stderr, "gpuprov: no verb given; try 'gpuprov --help'\n");
		return EXIT_CODE_USAGE;
	}
	/* The verb's arguments, checked here once for every verb. */
	nargs = argc - first - 1;
	if (nargs < verb->min_args) {
		fprintf(stderr, "gpuprov %s: missing argument; try 'gpuprov %s --help'\n", verb->name, verb->name);
		return EXIT_CODE_USAGE;
	}
	if (nargs > verb->max_args) {
		fprintf(stderr, "gpuprov %s: unexpected argument '%s'; try 'gpuprov %s --help'\n", verb->name,
			argv[first + 1 + verb->max_args], verb->name);
		return EXIT_CODE_USAGE;
	}

	r = cli_open_roots(&cli, verb);
	if (r != EXIT_CODE_OK) {
		cli_close_roots(&cli);
		return r;
	}
	if (verb->needs_lock && verb->needs_lock(&cli, argv + first + 1)) {
		if (verb->check_input)
			r = verb->check_input(&cli, argv + first + 1);
		if (r == EXIT_CODE_OK)
			r = cli_lock(&cli, &lock);
	}
	if (r == EXIT_CODE_OK)
		r = verb->run(&cli, verb, nargs, argv + first + 1);
	cli_close_roots(&cli);
	return r;
}
