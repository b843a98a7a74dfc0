/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov [global options] VERB [args]: options, the verb table, exit codes. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>

#include "cli.h"
#include "util/errors.h"
#include "util/log.h"

static const struct verb verbs[] = {
	{ .name = "detect",
	  .summary = "show the machine's facts: CPU, OS, kernels, boot, storage, GPUs, HCAs, driver",
	  .usage = verb_detect_usage, .run = verb_detect },
	{ .name = "profiles",
	  .summary = "list the profiles and whether each fits this machine",
	  .usage = verb_profiles_usage, .run = verb_profiles },
	{ .name = "show",
	  .summary = "print a profile fully resolved for this machine",
	  .usage = verb_show_usage, .run = verb_show },
	{ .name = "plan",
	  .summary = "what apply would do for a profile, each step with its reason",
	  .usage = verb_plan_usage, .run = verb_plan, .resolves_here = true },
	{ .name = "check",
	  .summary = "audit the installed stack against the compatibility knowledge",
	  .usage = verb_check_usage, .run = verb_check },
	{ .name = "apply",
	  .summary = "converge the node: packages at exact versions, holds, files, services",
	  .usage = verb_apply_usage, .run = verb_apply, .changes = true, .asks = true, .refreshes = true, .apply_opts = true,
	  .fetch_opts = true, .takes_bundle = true, .resolves_here = true },
	{ .name = "verify",
	  .summary = "check the new stack after boot; with --commit make it the default or roll back",
	  .usage = verb_verify_usage, .run = verb_verify, .verify_opts = true },
	{ .name = "rollback",
	  .summary = "go back to the kernel and the stack from before the last switch",
	  .usage = verb_rollback_usage, .run = verb_rollback, .changes = true, .asks = true, .refreshes = true,
	  .rollback_opts = true },
	{ .name = "status",
	  .summary = "what was applied, when, by which profile, and whether a reboot is pending",
	  .usage = verb_status_usage, .run = verb_status, .status_opts = true },
	{ .name = "revert",
	  .summary = "restore every file gpuprov manages to its content before gpuprov",
	  .usage = verb_revert_usage, .run = verb_revert, .changes = true },
	{ .name = "bundle",
	  .summary = "signed offline bundles: keygen, create on a connected host, verify, unpack",
	  .usage = verb_bundle_usage, .run = verb_bundle, .fetch_opts = true, .bundle_opts = true },
};

static const struct option global_options[] = {
	{ "root", required_argument, NULL, 'r' },
	{ "sysroot", required_argument, NULL, 's' },
	{ "profiles", required_argument, NULL, 'p' },
	{ "json", no_argument, NULL, 'j' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "yes", no_argument, NULL, 'y' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{},
};

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
		"  --root DIR      the target filesystem to read and change (default /)\n"
		"  --sysroot DIR   where /proc and /sys are read (default: the root)\n"
		"  --profiles DIR  the shipped profiles and knowledge (default " GPUPROV_PROFILES_DIR ")\n"
		"  --json          machine-readable output\n"
		"  --dry-run       verbs that change the node: say what would be done, do nothing\n"
		"  --yes           verbs that change the node: do not ask first\n"
		"  -v, --verbose   say more (twice: debug)\n"
		"  -q, --quiet     errors only\n"
		"  -h, --help      this help; `gpuprov VERB --help` for a verb's\n"
		"  -V, --version   the version\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 bad usage or input, 3 refused by a check;\n"
		"apply --detailed-exitcodes: 4 changed, 5 changed and a reboot is needed.\n"
		"Environment: GPUPROV_TODAY=YYYY-MM-DD judges end of life, and the expiry of\n"
		"bundles and keys, as of that day.\n"
		"See gpuprov(8).\n");
}

/* A transfer's limit: seconds (1 to a week), or a rate in bytes a second with an optional
 * K or M (1024, 1024^2). false when value is none of that. */
static bool parse_limit(const char *value, bool rate, uint64_t *ret)
{
	uint64_t unit = 1, v;
	char *end;

	if (!value || *value < '0' || *value > '9')
		return false;
	errno = 0;
	v = strtoull(value, &end, 10);
	if (rate && (*end == 'K' || *end == 'M'))
		unit = *end++ == 'K' ? 1024 : 1024 * 1024;
	if (errno != 0 || *end || v == 0 || v > (rate ? UINT64_MAX / unit : 7 * 24 * 3600))
		return false;
	*ret = v * unit;
	return true;
}

int cli_parse_verb_options(struct cli *cli, const struct verb *v, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "yes", no_argument, NULL, 'y' },
		{ "no-refresh", no_argument, NULL, 'R' },
		{ "commit", no_argument, NULL, 'C' },
		{ "reboot", no_argument, NULL, 'O' },
		{ "detailed-exitcodes", no_argument, NULL, 'D' },
		{ "no-reboot", no_argument, NULL, 'B' },
		{ "kernel-only", no_argument, NULL, 'K' },
		{ "remove-new", no_argument, NULL, 'E' },
		{ "retry-failed", no_argument, NULL, 'F' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "cacert", required_argument, NULL, 'c' },
		{ "mirror", required_argument, NULL, 'm' },
		{ "connect-timeout", required_argument, NULL, 'W' },
		{ "stall-time", required_argument, NULL, 'L' },
		{ "max-time", required_argument, NULL, 'T' },
		{ "min-rate", required_argument, NULL, 'M' },
		{ "key", required_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },
		{ "os", required_argument, NULL, 'S' },
		{ "arch", required_argument, NULL, 'A' },
		{ "prometheus", no_argument, NULL, 'P' },
		{ "allow-older", no_argument, NULL, 'G' },
		{ "expires", required_argument, NULL, 'X' },
		{ "sequence", required_argument, NULL, 'Q' },
		{},
	};
	int c;

	/* 0, not 1: glibc starts afresh, forgetting the "+" (stop at the first argument) of
	 * the global parse, so a verb's options may follow its arguments. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) >= 0) {
		switch (c) {
		case 'b':
			if (!v->takes_bundle)
				goto unknown;
			cli->bundle = optarg;
			break;
		case 'c':
		case 'm':
			if (!v->fetch_opts)
				goto unknown;
			if (c == 'c')
				cli->cacert = optarg;
			else if (cli->n_mirrors < ELEMENTSOF(cli->mirrors) - 1)
				cli->mirrors[cli->n_mirrors++] = optarg;
			else {
				fprintf(stderr, "gpuprov %s: at most %zu --mirror options\n", v->name,
					ELEMENTSOF(cli->mirrors) - 1);
				return -1;
			}
			break;
		case 'G':
			if (!v->fetch_opts)
				goto unknown;
			cli->allow_older = true;
			break;
		case 'X':
		case 'Q':
			if (!v->bundle_opts)
				goto unknown;
			*(c == 'X' ? &cli->expires : &cli->sequence) = optarg;
			break;
		case 'W':
		case 'L':
		case 'T':
		case 'M': {
			uint64_t value;

			if (!v->fetch_opts)
				goto unknown;
			if (!parse_limit(optarg, c == 'M', &value)) {
				fprintf(stderr, "gpuprov %s: --%s %s: expected %s\n", v->name,
					c == 'W' ? "connect-timeout" : c == 'L' ? "stall-time" : c == 'T' ? "max-time" : "min-rate", optarg,
					c == 'M' ? "bytes a second, like 16K or 1M" : "seconds, from 1 to 604800");
				return -1;
			}
			if (c == 'M')
				cli->min_rate = value;
			else
				*(c == 'W' ? &cli->connect_timeout_s : c == 'L' ? &cli->stall_s : &cli->max_time_s) = (long)value;
			break;
		}
		case 'P':
			if (!v->status_opts)
				goto unknown;
			cli->prometheus = true;
			break;
		case 'k':
		case 'o':
		case 'S':
		case 'A':
			if (!v->bundle_opts && !(c == 'o' && v->status_opts))
				goto unknown;
			*(c == 'k' ? &cli->key : c == 'o' ? &cli->output : c == 'S' ? &cli->os : &cli->arch) = optarg;
			break;
		case ':':
			fprintf(stderr, "gpuprov %s: option '%s' needs an argument; try 'gpuprov %s --help'\n", v->name,
				argv[optind - 1], v->name);
			return -1;
		case 'j':
			cli->json = true;
			break;
		case 'h':
			printf("Usage: gpuprov [OPTIONS] %s %s", v->name, v->usage);
			return -2;
		case 'C':
		case 'B':
			if (!v->verify_opts)
				goto unknown;
			if (c == 'C')
				cli->commit = true;
			else
				cli->no_reboot = true;
			break;
		case 'n':
			/* Only the verbs that change the node take these. */
			if (!v->changes)
				goto unknown;
			cli->dry_run = true;
			break;
		case 'y':
			if (!v->asks)
				goto unknown;
			cli->yes = true;
			break;
		case 'R':
			if (!v->refreshes)
				goto unknown;
			cli->no_refresh = true;
			break;
		case 'O':
		case 'D':
			if (!v->apply_opts)
				goto unknown;
			*(c == 'O' ? &cli->reboot : &cli->detailed_exitcodes) = true;
			break;
		case 'F':
			if (!v->resolves_here)
				goto unknown;
			cli->retry_failed = true;
			break;
		case 'K':
		case 'E':
			if (!v->rollback_opts)
				goto unknown;
			*(c == 'K' ? &cli->kernel_only : &cli->remove_new) = true;
			break;
		default:
		unknown:
			/* One of another verb's options, or none at all. */
			fprintf(stderr, "gpuprov %s: %s option '%s'%s; try 'gpuprov %s --help'\n", v->name,
				c == '?' ? "unknown" : "the", argv[optind - 1], c == '?' ? "" : " does not apply here", v->name);
			return -1;
		}
	}
	return optind;
}

static int open_root(const char *path, const char *what, struct root **ret)
{
	int k = root_open(path, ret);

	if (k < 0)
		log_error_errno(k, "cannot open %s %s", what, path);
	return k;
}

int main(int argc, char **argv)
{
	struct cli cli = { .root_path = "/", .profiles_path = GPUPROV_PROFILES_DIR };
	const struct verb *verb = NULL;
	int c, verbosity = LOG_LEVEL_WARNING, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:vqhV", global_options, NULL)) >= 0) {
		switch (c) {
		case 'r':
			cli.root_path = optarg;
			break;
		case 's':
			cli.sysroot_path = optarg;
			break;
		case 'p':
			cli.profiles_path = optarg;
			break;
		case 'j':
			cli.json = true;
			break;
		case 'n':
			cli.dry_run = true;
			break;
		case 'y':
			cli.yes = true;
			break;
		case 'v':
			if (verbosity < LOG_LEVEL_DEBUG)
				verbosity++;
			break;
		case 'q':
			verbosity = LOG_LEVEL_ERROR;
			break;
		case 'h':
			usage(stdout);
			return EXIT_CODE_OK;
		case 'V':
			printf("gpuprov %s\n", PACKAGE_VERSION);
			return EXIT_CODE_OK;
		case ':':
			fprintf(stderr, "gpuprov: option '%s' needs an argument; try 'gpuprov --help'\n",
				argv[optind - 1]);
			return EXIT_CODE_USAGE;
		default:
			fprintf(stderr, "gpuprov: unknown option '%s'; try 'gpuprov --help'\n", argv[optind - 1]);
			return EXIT_CODE_USAGE;
		}
	}
	log_set_level((enum log_level)verbosity);

	if (optind >= argc) {
		fprintf(stderr, "gpuprov: no verb given; try 'gpuprov --help'\n");
		return EXIT_CODE_USAGE;
	}
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
		if (streq(argv[optind], verbs[i].name))
			verb = &verbs[i];
	if (!verb) {
		fprintf(stderr, "gpuprov: unknown verb '%s'; try 'gpuprov --help'\n", argv[optind]);
		return EXIT_CODE_USAGE;
	}

	if (open_root(cli.root_path, "root", &cli.root) < 0 ||
	    open_root(cli.sysroot_path ? cli.sysroot_path : cli.root_path, "sysroot", &cli.sys) < 0) {
		root_free(cli.root);
		return EXIT_CODE_USAGE;
	}
	r = verb->run(&cli, verb, argc - optind, argv + optind);
	root_free(cli.root);
	root_free(cli.sys);
	return r;
}
