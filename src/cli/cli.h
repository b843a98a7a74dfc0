/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "util/root.h"

/* Exit codes, documented in gpuprov(8). Few, and the same for every verb. */
enum {
	EXIT_CODE_OK = 0,      /* done, whether or not anything changed */
	EXIT_CODE_FAILURE = 1, /* hard failure */
	EXIT_CODE_USAGE = 2,   /* bad command line or bad input */
	EXIT_CODE_REFUSED = 3, /* a safety or compatibility check refused; nothing changed */
};

/* What the global options say, shared by every verb. */
struct cli {
	const char *root_path;
	const char *sysroot_path;
	struct root *root;
	struct root *sys;
	bool json;
};

struct verb {
	const char *name;
	const char *summary;
	const char *usage;   /* arguments and options, one per line, for `gpuprov VERB --help` */
	int (*run)(struct cli *cli, const struct verb *self, int argc, char **argv);
};

int verb_detect(struct cli *cli, const struct verb *self, int argc, char **argv);
extern const char verb_detect_usage[];

/* Parses a verb's options: those in the table plus --json and --help. Returns the index of
 * the first argument, or -1 after printing a hint (exit 2), or -2 when --help was shown. */
int cli_parse_verb_options(struct cli *cli, const struct verb *v, int argc, char **argv);
