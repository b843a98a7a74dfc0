/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/root.h"

/* Exit codes, documented in gpuprov(8). Few, and the same for every verb. */
enum {
	EXIT_CODE_OK = 0,      /* done, whether or not anything changed */
	EXIT_CODE_FAILURE = 1, /* hard failure */
	EXIT_CODE_USAGE = 2,   /* bad command line or bad input */
	EXIT_CODE_REFUSED = 3, /* a safety or compatibility check refused; nothing changed */
	/* apply --detailed-exitcodes (Puppet-style), instead of 0 on success: */
	EXIT_CODE_CHANGED = 4,        /* something changed, no reboot needed */
	EXIT_CODE_CHANGED_REBOOT = 5, /* something changed and a reboot is needed */
	/* A library gpuprov loads when a verb needs it (libcurl, libarchive, libcrypto:
	 * util/dynlib.h) cannot be loaded: nothing changed, and installing the package the
	 * message names is the fix. */
	EXIT_CODE_LIBRARY = 6,
};

/* What the global options say, shared by every verb. */
struct cli {
	const char *root_path;
	const char *sysroot_path;
	const char *profiles_path; /* shipped profiles and knowledge */
	struct root *root;
	struct root *sys;
	bool json;
	bool dry_run;    /* apply: print the plan, change nothing */
	bool yes;        /* apply: do not ask */
	bool no_refresh; /* apply: use the repository metadata already on the node */
	bool commit;     /* verify: make the verdict stick (default entry, state) */
	bool reboot;     /* apply: reboot when the plan needs it and all went well */
	bool detailed_exitcodes; /* apply: say "changed" and "reboot required" in the exit code */
	bool no_reboot;  /* verify --commit: no reboot after a failure */
	bool kernel_only; /* rollback: the kernel and the pins; no package installed or removed */
	bool remove_new;  /* rollback: also remove the packages new with the switch */
	bool retry_failed; /* plan, apply: kernels verify rolled back here may be chosen again */
	bool strict;       /* plan, apply, check: a GPU the knowledge does not know is refused */
	const char *bundle; /* apply --bundle: URL or file of a signed offline bundle */
	const char *cacert; /* apply, bundle: CAs to trust for https instead of the system's */
	const char *mirrors[9]; /* --mirror: more URLs of the same bundle, tried in order */
	size_t n_mirrors;
	/* --connect-timeout, --stall-time, --max-time, --min-rate: a transfer's limits (0: the
	 * defaults of fetch.h) */
	long connect_timeout_s, stall_s, max_time_s;
	uint64_t min_rate;
	const char *key;    /* bundle: the signing key (create), the key pair's path (keygen); knowledge sign */
	const char *keys;   /* knowledge install --keys: the host's key directory instead of the root's keys.d */
	const char *output; /* bundle create -o; status --prometheus --output */
	const char *os;     /* bundle create --os ID-VERSION */
	const char *arch;   /* bundle create --arch */
	const char *expires;  /* bundle create --expires DURATION|DATE */
	const char *sequence; /* bundle create --sequence N */
	bool allow_older; /* apply --bundle, bundle verify|unpack: take an older, expired or undated bundle */
	bool prometheus;    /* status: node_exporter's textfile format */
	bool reboot_required; /* status: only the exit code, 0 when a reboot is pending */
	bool force;         /* maintenance end: also a node held after a rollback */
	const char *capture_profile; /* capture --profile: plan NAME's reads too */
	struct capture *captures[2]; /* --root and --sysroot given as captures, unpacked */
	int verbosity;      /* enum log_level: -v, -q */
	bool help, version; /* --help: the verb's usage, or gpuprov's without a verb */
};

struct verb;
struct option;

/* Options that go together, as one or more verbs take them (apk's option groups). */
struct optgroup {
	const char *name;
	const struct option *opts; /* getopt_long's, ending with {}; val: a letter or a code */
	/* Takes one of opts (its val) with its argument: 0, or -EINVAL after saying why. */
	int (*parse)(struct cli *cli, const struct verb *v, int opt, const char *arg);
};

/* Every verb takes the global group, before or after its name. */
extern const struct optgroup optgroup_global, optgroup_change, optgroup_ask, optgroup_refresh, optgroup_resolve, optgroup_strict,
	optgroup_fetch, optgroup_apply, optgroup_verify, optgroup_rollback, optgroup_output, optgroup_status,
	optgroup_bundle, optgroup_knowledge, optgroup_maintenance, optgroup_capture;

struct verb {
	const char *name;
	const char *summary;
	const char *usage; /* arguments and options, one per line, for `gpuprov VERB --help` */
	const struct optgroup *const *groups; /* beside the global group, ending with NULL */
	int min_args, max_args;               /* main() checks them before run */
	/* Whether this run takes the run lock (one run that changes the node at a time): main()
	 * takes it before run and holds it until run returns. NULL: never. args as run's. */
	bool (*needs_lock)(const struct cli *cli, char **args);
	/* What the verb refuses before main() takes the lock: bad input that the node's state
	 * has no part in, refused so that nothing changes, not even the lock file. NULL: none.
	 * An exit code: EXIT_CODE_OK to go on. */
	int (*check_input)(struct cli *cli, char **args);
	/* The verb's arguments only (argv[0] its first), its options already in cli; returns
	 * the exit code. */
	int (*run)(struct cli *cli, const struct verb *self, int argc, char **argv);
	/* Whether --root and --sysroot may be captures: the verbs that only read. */
	bool reads_capture;
};

/* The verb called name in main()'s table (capture runs the verbs whose reads it records). */
const struct verb *cli_verb(const char *name);
/* Opens cli->root and cli->sys from --root and --sysroot, each a directory or a capture
 * (unpacked once, for a verb that reads_capture; any other refuses one, exit 2). An exit code. */
int cli_open_roots(struct cli *cli, const struct verb *verb);
/* Closes them and removes what captures were unpacked. */
void cli_close_roots(struct cli *cli);

/* Whether v takes the options of g. */
bool verb_takes(const struct verb *v, const struct optgroup *g);

/* Reads the options, before and after the verb alike, into cli and finds the verb among
 * verbs (*ret_verb NULL when none is named; then *ret_first is argc). An option the verb
 * does not take is refused as an unknown one is. 0, or -EINVAL after saying why (exit 2).
 * *ret_first: the index of the verb in argv, once getopt_long has moved the options
 * ahead of it. */
int cli_parse(struct cli *cli, const struct verb *verbs, size_t n_verbs, int argc, char **argv,
	      const struct verb **ret_verb, int *ret_first);

/* The exit status of a verb that stops on error (-errno or -GPE_*: the kind GP_ERRORS
 * gives it), EXIT_CODE_OK for error >= 0. */
int exit_code_for(int error);

int verb_detect(struct cli *cli, const struct verb *self, int argc, char **argv);
int verb_profiles(struct cli *cli, const struct verb *self, int argc, char **argv);
int verb_show(struct cli *cli, const struct verb *self, int argc, char **argv);
int verb_plan(struct cli *cli, const struct verb *self, int argc, char **argv);
int verb_check(struct cli *cli, const struct verb *self, int argc, char **argv);
int verb_apply(struct cli *cli, const struct verb *self, int argc, char **argv);
int verb_status(struct cli *cli, const struct verb *self, int argc, char **argv);
int verb_revert(struct cli *cli, const struct verb *self, int argc, char **argv);
int verb_verify(struct cli *cli, const struct verb *self, int argc, char **argv);
int verb_rollback(struct cli *cli, const struct verb *self, int argc, char **argv);
int verb_bundle(struct cli *cli, const struct verb *self, int argc, char **argv);
int verb_knowledge(struct cli *cli, const struct verb *self, int argc, char **argv);
int verb_maintenance(struct cli *cli, const struct verb *self, int argc, char **argv);
int verb_cdi(struct cli *cli, const struct verb *self, int argc, char **argv);
int verb_gpu(struct cli *cli, const struct verb *self, int argc, char **argv);
int verb_capture(struct cli *cli, const struct verb *self, int argc, char **argv);
extern const char verb_detect_usage[], verb_profiles_usage[], verb_show_usage[], verb_plan_usage[],
	verb_check_usage[], verb_apply_usage[], verb_status_usage[], verb_revert_usage[],
	verb_verify_usage[], verb_rollback_usage[], verb_bundle_usage[], verb_knowledge_usage[],
	verb_maintenance_usage[], verb_cdi_usage[], verb_gpu_usage[], verb_capture_usage[];

struct profile;
struct resolution;
struct plan;
/* The plan for humans, as plan prints it and apply --dry-run too. */
void cli_print_plan(const struct profile *p, const struct resolution *r, const struct plan *pl);
struct action;
/* One action of a plan (the i-th, from 0): what, its reason, a file's diff. */
void cli_print_action(size_t i, const struct action *a);


struct facts;
struct knowledge;
struct profile_dirs;
struct profile_error;

/*
 * The helpers below that stand for a step of a verb return an exit code: EXIT_CODE_OK when
 * the verb goes on, else the code it ends with, after they said why:
 *	if ((r = cli_detect(cli, false, &f)) != EXIT_CODE_OK)
 *		return r;
 */

/* The machine's facts; warnings go to stderr (and -q silences them). */
int cli_detect(struct cli *cli, bool print_warnings, struct facts **ret);
int cli_profile_dirs(struct cli *cli, struct profile_dirs *ret);
struct knowledge_in_use;
/* The knowledge to use (knowledge-source.h: the shipped one, or a newer one installed), saying
 * why an installed one is passed over. */
int cli_knowledge(struct cli *cli, const struct profile_dirs *d, struct knowledge_in_use *ret);
/* What plan and check say of the knowledge in use: a warning when it is older than
 * KNOWLEDGE_STALE_DAYS (NULL when not), and which file it is. */
char *cli_knowledge_stale(const struct knowledge_in_use *u, const char *today);
cJSON *cli_knowledge_json(const struct knowledge_in_use *u, const char *today);
/* The line plan and check print first when the knowledge in use is not the shipped one. */
void cli_print_knowledge_origin(const struct knowledge_in_use *u);
struct findings;
/* check's audit of the installed stack (facts, knowledge, check_run): ret filled (and the
 * facts in ret_facts, the knowledge used in ret_kn, unless NULL). */
int cli_check_findings(struct cli *cli, struct facts **ret_facts, struct knowledge_in_use *ret_kn,
		       struct findings *ret);
struct profile;
/* What show and plan begin with: the facts, the profile directories and profile name
 * resolved for the machine. */
int cli_load_profile(struct cli *cli, const char *name, struct facts **ret_facts, struct profile_dirs *ret_dirs,
		     struct profile **ret_profile);
/* Whether profile name loads for the machine, for a verb's check_input (the verb loads it
 * again once it holds the lock). */
int cli_check_profile(struct cli *cli, const char *name);
/* Reports a profile refusal ("file:line:col: ...") and gives its exit code. */
int cli_profile_error(const struct profile_error *e, int k);
/* path made absolute against the working directory: a path the operator names on the host
 * (a key, an output, a file to install), read inside the host root "/". */
int cli_host_path(const char *path, char **ret);
/* Reads a file the operator names on the host (cli_host_path), as root_read_file. */
int cli_read_host_file(const char *path, size_t max, char **ret, size_t *ret_size);
/* Today as "YYYY-MM-DD": GPUPROV_TODAY when set (reproducible runs), else the clock (UTC). */
const char *cli_today(char buf[static 11]);
/* Takes the run lock (one gpuprov run that changes the node at a time), or says who holds
 * it (exit 3). main() calls it for the verbs that need it. */
int cli_lock(struct cli *cli, int *ret_fd);
/* On a terminal and without --yes, asks question ("Apply these actions?") and says whether
 * the answer is yes; elsewhere yes. */
bool cli_confirm(const struct cli *cli, const char *question);
/* systemctl reboot, for apply --reboot and verify's way back, on the running system only (the
 * root /); a failure is only reported. */
void cli_reboot(struct cli *cli, const char *into);
/* Prints a JSON document and frees it. */
int cli_print_json(cJSON *doc);

struct repo_view;
/* What plan and apply compute: facts -> profile -> stack -> plan (DESIGN, the flow of data). */
struct planned {
	struct facts *facts;
	struct profile *profile;
	struct profile_dirs *dirs;
	struct knowledge *knowledge; /* kn.k, borrowed */
	struct knowledge_in_use *kn; /* which knowledge that is */
	struct repo_view *view;
	struct resolution *res; /* res->ok false: refused, with res->refusals */
	struct plan *plan;      /* NULL when refused */
	bool here;              /* for this node (not a bundle for others): its failed kernels count */
};
/* The first half: facts, profile name and knowledge. */
int cli_plan_begin(struct cli *cli, const struct verb *v, const char *name, struct planned *ret);
/* The second half: the repository view, the resolution and the plan. */
int cli_plan_finish(struct cli *cli, struct planned *p);
void planned_done(struct planned *p);
/* Prints the plan (--json: plan's JSON document); the exit code, 3 when refused. */
int cli_show_plan(struct cli *cli, const struct planned *p);

struct bundle_manifest;
/* A check of a bundle's signed manifest before anything is unpacked (bundle.h, accept). */
struct bundle_accept {
	int (*fn)(const struct bundle_manifest *m, void *userdata, char **ret_error);
	void *userdata;
};
/* Says why the repository view did not load (repo_view_load's error), naming the library and
 * the package to install when it is libarchive that apt's compressed lists need; the exit
 * code. */
int cli_repo_view_failed(int error);
/* Loads libcrypto, for a verb that hashes or checks signatures: without it, exit 6 before
 * anything changes. need: what the verb does with it ("making keys"). */
int cli_crypto_library(const char *need);
/* Loads the libraries a bundle needs (libarchive, libcrypto, and libcurl when src is a URL;
 * src NULL: a bundle made here), for a verb's check_input: without one, the verb stops with exit 6
 * before the lock. need: what the verb does with the bundle ("unpacking bundles"). */
int cli_bundle_libraries(const char *src, const char *need);
/* Reads the bundle at src (a URL, then the --mirror URLs, or a file), checking its signature
 * and files, with progress on stderr; unpacks it under dest_parent (NULL: only checks),
 * unless accept (may be NULL) refuses its manifest. Exit 3 when it is not what was signed,
 * or refused; 6 when a library it needs cannot be loaded. */
int cli_bundle_read(struct cli *cli, const char *src, const char *dest_parent, const struct bundle_accept *accept,
		    struct bundle_manifest **ret);
