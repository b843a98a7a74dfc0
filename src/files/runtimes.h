/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "files/render.h"
#include "util/root.h"

/* What gpuprov reads of the container runtimes in a root, to render their drop-ins and
 * plan their restarts (plan) and to audit them (check). */
struct runtimes_seen {
	unsigned installed;     /* CONTAINER_* bits: the runtime's unit is in the root */
	unsigned enabled;       /* CONTAINER_* bits: and enabled (a link in a .wants directory) */
	bool containerd_config; /* CONTAINERD_CONFIG is there */
	bool containerd_ours;   /* and gpuprov wrote it (its header first) */
	int containerd_version; /* its top-level version = N; 0 when it has none */
	bool containerd_imports;/* its imports cover CONTAINERD_DROPIN */
	bool containerd_systemd_cgroup; /* a runtime of it has SystemdCgroup = true */
	char *containerd_cri;   /* its tables of the CRI runtime plugin, as written there (header
				 * and body), but the nvidia runtime's; NULL when none */
	bool containerd_cri_elsewhere; /* and the plugin is named outside those tables too */
	bool containerd_nvidia; /* its text names a table of the nvidia runtime ("runtimes.nvidia]") */
	bool docker_live_restore;       /* daemon.json's "live-restore": true */
	bool docker_nvidia;             /* daemon.json's "runtimes" has an object "nvidia" */
};

/* ret is filled from the root; a file that cannot be read counts as not there. */
int runtimes_read(const struct root *root, struct runtimes_seen *ret);
void runtimes_seen_done(struct runtimes_seen *rs);

/* The CRI runtime plugin of a containerd config of that version: containerd 2.x reads config
 * version 3, where it has a name of its own; version 2 (containerd 1.x, and 2.x after its
 * own migration) has the one CRI plugin. */
const char *containerd_cri_plugin(int version);

/* The unit of a runtime ("containerd.service"), NULL for podman, which has no daemon. */
const char *runtime_unit(unsigned bit);

/* Whether a systemd unit file is in the root, and whether it is enabled. */
bool systemd_unit_installed(const struct root *root, const char *unit);
bool systemd_unit_enabled(const struct root *root, const char *unit);
