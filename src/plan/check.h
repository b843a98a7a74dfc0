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
struct root;
/* The container runtimes installed beside NVIDIA's container toolkit, each without the
 * nvidia runtime, and a containerd that does not read its drop-in (check-container.c). */
int check_container_runtimes(const struct root *root, struct findings *fs);
/* check-toolkit.c: the installed NVIDIA Container Toolkit (as the repository view's installed
 * packages say) against the knowledge and what the repositories offer; nothing when it is not
 * installed. */
int check_container_toolkit(const struct facts *f, const struct repo_view *v, const struct knowledge *k,
			    struct findings *fs);
/* Adds a finding made outside check_run (the knowledge's own age). */
int findings_add(struct findings *fs, enum severity sev, const char *id, const char *source, const char *message);
/* The same with the message formatted. */
int findings_addf(struct findings *fs, enum severity sev, const char *id, const char *source, const char *fmt, ...)
	_printf_(5, 6);
void findings_clear(struct findings *fs);
/* check-framework.c: a pip-installed framework against the driver in use: below the floor of
 * its CUDA an error, or a warning where only minor-version compatibility might run it and the
 * framework is not known to tolerate it. */
int check_framework(const struct knowledge *kn, const struct pip_dist *d, const char *drv, struct findings *fs);
/* "CDI spec is stale" (check-cdi.c): the spec the profile last applied wants, against the
 * device nodes in root, sys's /proc and the running driver. */
int check_cdi(const struct root *root, const struct root *sys, const struct facts *f, struct findings *fs);
/* "gpu-state-drift" (check-gpu.c): each GPU setting the profile last applied declares that
 * NVML (or gpuprov's record of what it set) shows otherwise. */
int check_gpu_state(const struct root *root, struct findings *fs);
const char *severity_to_string(enum severity s);
int findings_to_json(const struct findings *fs, cJSON **ret);
