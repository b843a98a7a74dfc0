/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command line's options: each group with its options and its parser, and the one
 * parser that reads them before and after the verb alike. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>

#include "cli.h"
#include "util/log.h"

/* Codes for the options that have no letter, clear of every character. */
enum {
	OPT_ROOT = 0x100,
	OPT_SYSROOT,
	OPT_PROFILES,
	OPT_JSON,
	OPT_DRY_RUN,
	OPT_YES,
	OPT_NO_REFRESH,
	OPT_RETRY_FAILED,
	OPT_STRICT,
	OPT_REBOOT,
	OPT_DETAILED_EXITCODES,
	OPT_BUNDLE,
	OPT_CACERT,
	OPT_MIRROR,
	OPT_ALLOW_OLDER,
	OPT_CONNECT_TIMEOUT,
	OPT_STALL_TIME,
	OPT_MAX_TIME,
	OPT_MIN_RATE,
	OPT_COMMIT,
	OPT_NO_REBOOT,
	OPT_KERNEL_ONLY,
	OPT_REMOVE_NEW,
	OPT_PROMETHEUS,
	OPT_KEY,
	OPT_OS,
	OPT_ARCH,
	OPT_EXPIRES,
	OPT_SEQUENCE,
	OPT_KEYS,
	OPT_FORCE,
	OPT_REBOOT_REQUIRED,
};

/* What every verb takes, before or after it. */
static int parse_global(struct cli *cli, const struct verb *v, int opt, const char *arg)
{
	(void)v;
	switch (opt) {
	case OPT_ROOT:
		cli->root_path = arg;
		break;
	case OPT_SYSROOT:
		cli->sysroot_path = arg;
		break;
	case OPT_PROFILES:
		cli->profiles_path = arg;
		break;
	case OPT_JSON:
		cli->json = true;
		break;
	case 'v':
		if (cli->verbosity < LOG_LEVEL_DEBUG)
			cli->verbosity++;
		break;
	case 'q':
		cli->verbosity = LOG_LEVEL_ERROR;
		break;
	case 'h':
		cli->help = true;
		break;
	case 'V':
		cli->version = true;
		break;
	}
	return 0;
}

const struct optgroup optgroup_global = {
	.name = "global",
	.opts = (const struct option[]){
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "sysroot", required_argument, NULL, OPT_SYSROOT },
		{ "profiles", required_argument, NULL, OPT_PROFILES },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	},
	.parse = parse_global,
};

/* The verbs that change the node and those that ask first, refresh the repository
 * metadata or resolve for this node: each a small group, as several verbs share it. */
static int parse_change(struct cli *cli, const struct verb *v, int opt, const char *arg)
{
	(void)v;
	(void)arg;
	switch (opt) {
	case OPT_DRY_RUN:
		cli->dry_run = true;
		break;
	case OPT_YES:
		cli->yes = true;
		break;
	case OPT_NO_REFRESH:
		cli->no_refresh = true;
		break;
	case OPT_RETRY_FAILED:
		cli->retry_failed = true;
		break;
	case OPT_STRICT:
		cli->strict = true;
		break;
	}
	return 0;
}

const struct optgroup optgroup_change = {
	.name = "change",
	.opts = (const struct option[]){ { "dry-run", no_argument, NULL, OPT_DRY_RUN }, {} },
	.parse = parse_change,
};

const struct optgroup optgroup_ask = {
	.name = "ask",
	.opts = (const struct option[]){ { "yes", no_argument, NULL, OPT_YES }, {} },
	.parse = parse_change,
};

const struct optgroup optgroup_refresh = {
	.name = "refresh",
	.opts = (const struct option[]){ { "no-refresh", no_argument, NULL, OPT_NO_REFRESH }, {} },
	.parse = parse_change,
};

const struct optgroup optgroup_resolve = {
	.name = "resolve",
	.opts = (const struct option[]){ { "retry-failed", no_argument, NULL, OPT_RETRY_FAILED }, {} },
	.parse = parse_change,
};

const struct optgroup optgroup_strict = {
	.name = "strict",
	.opts = (const struct option[]){ { "strict", no_argument, NULL, OPT_STRICT }, {} },
	.parse = parse_change,
};

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

/* Reading a bundle from a URL or a file: apply --bundle, bundle verify and unpack. */
static int parse_fetch(struct cli *cli, const struct verb *v, int opt, const char *arg)
{
	uint64_t value;

	switch (opt) {
	case OPT_CACERT:
		cli->cacert = arg;
		return 0;
	case OPT_MIRROR:
		if (cli->n_mirrors >= ELEMENTSOF(cli->mirrors) - 1) {
			fprintf(stderr, "gpuprov %s: at most %zu --mirror options\n", v->name, ELEMENTSOF(cli->mirrors) - 1);
			return -EINVAL;
		}
		cli->mirrors[cli->n_mirrors++] = arg;
		return 0;
	case OPT_ALLOW_OLDER:
		cli->allow_older = true;
		return 0;
	}
	if (!parse_limit(arg, opt == OPT_MIN_RATE, &value)) {
		fprintf(stderr, "gpuprov %s: --%s %s: expected %s\n", v->name,
			opt == OPT_CONNECT_TIMEOUT ? "connect-timeout"
			: opt == OPT_STALL_TIME	  ? "stall-time"
			: opt == OPT_MAX_TIME	  ? "max-time"
						  : "min-rate",
			arg, opt == OPT_MIN_RATE ? "bytes a second, like 16K or 1M" : "seconds, from 1 to 604800");
		return -EINVAL;
	}
	if (opt == OPT_MIN_RATE)
		cli->min_rate = value;
	else
		*(opt == OPT_CONNECT_TIMEOUT ? &cli->connect_timeout_s
		  : opt == OPT_STALL_TIME    ? &cli->stall_s
					     : &cli->max_time_s) = (long)value;
	return 0;
}

const struct optgroup optgroup_fetch = {
	.name = "fetch",
	.opts = (const struct option[]){
		{ "cacert", required_argument, NULL, OPT_CACERT },
		{ "mirror", required_argument, NULL, OPT_MIRROR },
		{ "allow-older", no_argument, NULL, OPT_ALLOW_OLDER },
		{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
		{ "stall-time", required_argument, NULL, OPT_STALL_TIME },
		{ "max-time", required_argument, NULL, OPT_MAX_TIME },
		{ "min-rate", required_argument, NULL, OPT_MIN_RATE },
		{},
	},
	.parse = parse_fetch,
};

/* Each verb's own options. */
static int parse_own(struct cli *cli, const struct verb *v, int opt, const char *arg)
{
	(void)v;
	switch (opt) {
	case OPT_REBOOT:
		cli->reboot = true;
		break;
	case OPT_DETAILED_EXITCODES:
		cli->detailed_exitcodes = true;
		break;
	case OPT_BUNDLE:
		cli->bundle = arg;
		break;
	case OPT_COMMIT:
		cli->commit = true;
		break;
	case OPT_NO_REBOOT:
		cli->no_reboot = true;
		break;
	case OPT_KERNEL_ONLY:
		cli->kernel_only = true;
		break;
	case OPT_REMOVE_NEW:
		cli->remove_new = true;
		break;
	case OPT_PROMETHEUS:
		cli->prometheus = true;
		break;
	case OPT_REBOOT_REQUIRED:
		cli->reboot_required = true;
		break;
	case OPT_FORCE:
		cli->force = true;
		break;
	case 'o':
		cli->output = arg;
		break;
	case OPT_KEY:
		cli->key = arg;
		break;
	case OPT_OS:
		cli->os = arg;
		break;
	case OPT_ARCH:
		cli->arch = arg;
		break;
	case OPT_EXPIRES:
		cli->expires = arg;
		break;
	case OPT_SEQUENCE:
		cli->sequence = arg;
		break;
	case OPT_KEYS:
		cli->keys = arg;
		break;
	}
	return 0;
}

const struct optgroup optgroup_apply = {
	.name = "apply",
	.opts = (const struct option[]){
		{ "reboot", no_argument, NULL, OPT_REBOOT },
		{ "detailed-exitcodes", no_argument, NULL, OPT_DETAILED_EXITCODES },
		{ "bundle", required_argument, NULL, OPT_BUNDLE },
		{},
	},
	.parse = parse_own,
};

const struct optgroup optgroup_verify = {
	.name = "verify",
	.opts = (const struct option[]){
		{ "commit", no_argument, NULL, OPT_COMMIT },
		{ "no-reboot", no_argument, NULL, OPT_NO_REBOOT },
		{},
	},
	.parse = parse_own,
};

const struct optgroup optgroup_rollback = {
	.name = "rollback",
	.opts = (const struct option[]){
		{ "kernel-only", no_argument, NULL, OPT_KERNEL_ONLY },
		{ "remove-new", no_argument, NULL, OPT_REMOVE_NEW },
		{},
	},
	.parse = parse_own,
};

/* Where a verb writes its output instead of stdout: bundle create, status --prometheus. */
const struct optgroup optgroup_output = {
	.name = "output",
	.opts = (const struct option[]){ { "output", required_argument, NULL, 'o' }, {} },
	.parse = parse_own,
};

const struct optgroup optgroup_status = {
	.name = "status",
	.opts = (const struct option[]){
		{ "prometheus", no_argument, NULL, OPT_PROMETHEUS },
		{ "reboot-required", no_argument, NULL, OPT_REBOOT_REQUIRED },
		{},
	},
	.parse = parse_own,
};

const struct optgroup optgroup_maintenance = {
	.name = "maintenance",
	.opts = (const struct option[]){ { "force", no_argument, NULL, OPT_FORCE }, {} },
	.parse = parse_own,
};

const struct optgroup optgroup_bundle = {
	.name = "bundle",
	.opts = (const struct option[]){
		{ "key", required_argument, NULL, OPT_KEY },
		{ "os", required_argument, NULL, OPT_OS },
		{ "arch", required_argument, NULL, OPT_ARCH },
		{ "expires", required_argument, NULL, OPT_EXPIRES },
		{ "sequence", required_argument, NULL, OPT_SEQUENCE },
		{},
	},
	.parse = parse_own,
};

const struct optgroup optgroup_knowledge = {
	.name = "knowledge",
	.opts = (const struct option[]){
		{ "key", required_argument, NULL, OPT_KEY },
		{ "keys", required_argument, NULL, OPT_KEYS },
		{},
	},
	.parse = parse_own,
};

/* Every group, for the table getopt reads: an option is known if any verb takes it. */
static const struct optgroup *const all_groups[] = {
	&optgroup_global, &optgroup_change, &optgroup_ask,    &optgroup_refresh, &optgroup_resolve, &optgroup_strict, &optgroup_fetch,
	&optgroup_apply,  &optgroup_verify, &optgroup_rollback, &optgroup_output, &optgroup_status,  &optgroup_bundle,
	&optgroup_knowledge, &optgroup_maintenance, &optgroup_capture,
};

bool verb_takes(const struct verb *v, const struct optgroup *g)
{
	for (const struct optgroup *const *i = v->groups; *i; i++)
		if (*i == g)
			return true;
	return false;
}

/* The most options all the groups hold together, the end marker included. */
#define MAX_OPTIONS 64

/* One option as the command line gave it, kept until the verb is known. */
struct given {
	const struct option *opt; /* in its group's table */
	const char *arg;
	bool letter; /* given as -X, named so in the messages */
};

static bool group_has(const struct optgroup *g, const char *name)
{
	for (const struct option *o = g->opts; o->name; o++)
		if (streq(o->name, name))
			return true;
	return false;
}

/* The group of v's (the global group first) that takes name; NULL when v takes no such
 * option. v NULL: no verb yet, only the global options. */
static const struct optgroup *verb_group_of(const struct verb *v, const char *name)
{
	if (group_has(&optgroup_global, name))
		return &optgroup_global;
	for (const struct optgroup *const *g = v ? v->groups : NULL; g && *g; g++)
		if (group_has(*g, name))
			return *g;
	return NULL;
}

/* The verb called name, or NULL. */
static const struct verb *verb_named(const struct verb *verbs, size_t n_verbs, const char *name)
{
	for (size_t i = 0; i < n_verbs; i++)
		if (streq(name, verbs[i].name))
			return &verbs[i];
	return NULL;
}

/* The union of the groups for getopt_long, each name once, and the letters' string. */
static void build_table(struct option table[static MAX_OPTIONS], const struct option *from[static MAX_OPTIONS],
			char shorts[static 2 * MAX_OPTIONS])
{
	size_t n = 0, s = 0;

	shorts[s++] = ':'; /* a missing argument is told apart from an unknown option */
	for (size_t g = 0; g < ELEMENTSOF(all_groups); g++)
		for (const struct option *o = all_groups[g]->opts; o->name; o++) {
			bool dup = false;

			for (size_t i = 0; i < n; i++)
				dup = dup || streq(table[i].name, o->name);
			if (dup)
				continue;
			/* A group grown past MAX_OPTIONS is a bug that every run would meet. */
			if (n + 1 >= MAX_OPTIONS)
				abort();
			from[n] = o;
			/* val: the index, past every character, so that each option is told apart */
			table[n] = (struct option){ o->name, o->has_arg, NULL, 0x1000 + (int)n };
			n++;
			if (o->val < 0x100) {
				shorts[s++] = (char)o->val;
				if (o->has_arg == required_argument)
					shorts[s++] = ':';
			}
		}
	table[n] = (struct option){};
	shorts[s] = '\0';
}

/* The option a short letter names, in from. */
static const struct option *by_letter(const struct option *const *from, int letter)
{
	for (size_t i = 0; from[i]; i++)
		if (from[i]->val == letter)
			return from[i];
	return NULL;
}

/* "gpuprov VERB: before 'word'after; try 'gpuprov VERB --help'", without a verb "gpuprov: ...". */
static void usage_error(const struct verb *v, const char *before, const char *word, const char *after)
{
	fprintf(stderr, "gpuprov%s%s: %s '%s'%s; try 'gpuprov %s%s--help'\n", v ? " " : "", v ? v->name : "", before,
		word, after, v ? v->name : "", v ? " " : "");
}

int cli_parse(struct cli *cli, const struct verb *verbs, size_t n_verbs, int argc, char **argv,
	      const struct verb **ret_verb, int *ret_first)
{
	struct option table[MAX_OPTIONS];
	const struct option *from[MAX_OPTIONS] = {};
	char shorts[2 * MAX_OPTIONS], letter[3] = "-?";
	struct given given[argc > 0 ? argc : 1];
	const struct verb *v = NULL;
	const char *bad = NULL;
	bool missing = false;
	size_t n = 0;
	int c, index;

	build_table(table, from, shorts);
	/* Options and arguments in any order, as GNU getopt permutes them: the options before
	 * the verb and after it are read the same. Each is kept until the verb is known. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, table, &index)) >= 0) {
		if (c == '?' || c == ':') {
			/* A letter is named by optopt; a long option (unknown, or without its
			 * argument) is the word getopt_long just read. */
			letter[1] = (char)optopt;
			bad = optopt > 0 && optopt < 0x100 ? letter : argv[optind - 1];
			missing = c == ':';
			break;
		}
		given[n++] = (struct given){ c >= 0x1000 ? from[c - 0x1000] : by_letter(from, c), optarg, c < 0x1000 };
	}
	if (bad) {
		/* getopt_long stopped there, before the verb perhaps: the first word that names
		 * one is taken for it, for the message. */
		for (int i = 1; i < argc && !v; i++)
			v = verb_named(verbs, n_verbs, argv[i]);
		usage_error(v, missing ? "option" : "unknown option", bad, missing ? " needs an argument" : "");
		return -EINVAL;
	}
	/* The verb: the first argument once getopt_long has moved the options ahead of it. */
	if (optind < argc && !(v = verb_named(verbs, n_verbs, argv[optind]))) {
		usage_error(NULL, "unknown verb", argv[optind], "");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		const struct optgroup *g = verb_group_of(v, given[i].opt->name);
		char spelled[64];
		int k;

		if (!g) {
			if (given[i].letter)
				snprintf(spelled, sizeof(spelled), "-%c", given[i].opt->val);
			else
				snprintf(spelled, sizeof(spelled), "--%s", given[i].opt->name);
			if (v)
				usage_error(v, "the option", spelled, " does not apply here");
			else
				usage_error(NULL, "the option", spelled, " needs a verb that takes it");
			return -EINVAL;
		}
		if ((k = g->parse(cli, v, given[i].opt->val, given[i].arg)) < 0)
			return k;
	}
	*ret_verb = v;
	*ret_first = optind;
	return 0;
}
