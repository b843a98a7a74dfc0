/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <cjson/cJSON.h>

#include "host/facts.h"
#include "profile/knowledge.h"
#include "profile/repo.h"

enum severity {
	SEVERITY_INFO,
	SEVERITY_WARNING,
	SEVERITY_ERROR,
};

/* One thing check found about the installed stack, with the knowledge behind it. */
struct finding {
	enum severity severity;
	char *id;      /* stable: "cuda-driver-floor", "kernel-failure", ... */
	char *message;
	char *source;
};

struct findings {
	struct finding *list;
	size_t n;
};

/* Audits what is installed now against the knowledge. Reads nothing but the facts. */
int check_run(const struct facts *f, const struct knowledge *k, const char *today, bool strict, struct findings *ret);
/* check-toolkit.c: the installed NVIDIA Container Toolkit (as the repository view's installed
 * packages say) against the knowledge and what the repositories offer; nothing when it is not
 * installed. */
int check_container_toolkit(const struct facts *f, const struct repo_view *v, const struct knowledge *k,
			    struct findings *fs);
/* Adds a finding made outside check_run (the knowledge's own age). */
int findings_add(struct findings *fs, enum severity sev, const char *id, const char *source, const char *message);
void findings_clear(struct findings *fs);
const char *severity_to_string(enum severity s);
int findings_to_json(const struct findings *fs, cJSON **ret);
