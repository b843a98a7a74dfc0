/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/macro.h"

/*
 * The rules a knowledge file of format 2 keeps beyond its shape: every entry sourced with a
 * public source and dated, no developer-beta driver, ranges that are not empty, names that
 * exist, no duplicates and no rules that contradict each other. `gpuprov knowledge lint`
 * prints the findings; `knowledge install` and the loading choice refuse a file with any.
 */

struct kn_finding {
	unsigned line, column; /* where in the text, 1-based */
	char *path;            /* "gpus[3].min_driver"; "" for the text as a whole */
	char *reason;
};

struct kn_lint {
	struct kn_finding *list;
	size_t n;
};

/*
 * Lints text (a knowledge file's bytes, NUL-terminated) as of today ("YYYY-MM-DD"): ret
 * holds one finding per rule broken, in the order of the file's sections (text that is not
 * JSON: one finding, where it stops being JSON). 0, or -ENOMEM.
 */
int knowledge_lint(const char *text, const char *today, struct kn_lint *ret);
void kn_lint_done(struct kn_lint *l);

/* The Vulkan developer-beta branch whose tags include the driver version, or NULL: such a
 * version sorts among production releases that cannot stand for it. */
const char *kn_beta_branch(const char *driver);
