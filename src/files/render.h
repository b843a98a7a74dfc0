/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "host/facts.h"
#include "profile/profile.h"
#include "profile/resolve.h"

/* On the command line of a kernel being tried: a panic reboots, into the saved default. */
#define KERNEL_PANIC_ARG "panic=10"

/* gpuprov's apt pin files, whole files rendered for the stack: rollback puts back
 * what they held before a switch. */
#define APT_PINS_FILE "/etc/apt/preferences.d/gpuprov"
#define APT_UNATTENDED_FILE "/etc/apt/apt.conf.d/51gpuprov-unattended-upgrades"

/* The modules the platform's NVLink fabric needs, loaded at boot. */
#define FABRIC_MODULES_FILE "/etc/modules-load.d/gpuprov-fabric.conf"

/* The drop-ins that order the scheduler's daemon after gpuprov-verify.service. */
#define SLURMD_DROPIN "/etc/systemd/system/slurmd.service.d/gpuprov.conf"
#define KUBELET_DROPIN "/etc/systemd/system/kubelet.service.d/gpuprov.conf"

/* The drop-ins gpuprov gives each container runtime, and the files it reads them from. */
#define CONTAINERD_CONFIG "/etc/containerd/config.toml"
#define CONTAINERD_DROPIN "/etc/containerd/conf.d/99-gpuprov-nvidia.toml"
/* The import that covers CONTAINERD_DROPIN, as gpuprov writes it and asks for it. */
#define CONTAINERD_IMPORT "/etc/containerd/conf.d/*.toml"
#define CRIO_DROPIN "/etc/crio/crio.conf.d/99-gpuprov-nvidia.conf"
#define DOCKER_DAEMON_JSON "/etc/docker/daemon.json"
/* What the nvidia runtime runs (the toolkit's nvidia-container-toolkit package ships it). */
#define NVIDIA_RUNTIME_BINARY "/usr/bin/nvidia-container-runtime"

/* A file gpuprov manages: where it goes on the node, and its whole content. */
struct managed_file {
	char *path;    /* "/etc/modprobe.d/gpuprov.conf" */
	char *content; /* NULL: the profile asks for nothing here, the file should not exist */
	char *why;
	bool shared;   /* a path other software owns too (/etc/nccl.conf): when the file there is
			* not gpuprov's, only gpuprov's own block in it is changed */
	mode_t mode;   /* of a new file; 0: 0644 */
	cJSON *keys;   /* a file of which only some keys are gpuprov's (json-keys.h): those keys,
			* [{"path": [...], "value": ...}], merged into what is there; content NULL */
};

/* The script of /etc/grub.d that makes GRUB take a boot-once entry from gpuprov's block on
 * the ESP (facts_boot_once() BOOT_ONCE_ESP). */
#define GRUB_ONCE_SCRIPT "/etc/grub.d/01_gpuprov"

/* Whether GRUB's configuration is made from the file at path (/etc/default/grub, its
 * drop-ins, the scripts of /etc/grub.d): a change there needs update-grub or grub2-mkconfig. */
bool managed_feeds_grub(const char *path);

/*
 * The content a shared file gets: what is there, without gpuprov's block if it had one, then
 * gpuprov's block (the rendered body between "# gpuprov begin" and "# gpuprov end" lines).
 * When old is gpuprov's own file (its header first), the rendered content as it is.
 */
char *managed_merge(const char *old, const char *rendered);

/*
 * Renders every managed file for a resolved profile. Pure: no
 * file is read or written. Each starts with a header naming gpuprov and the profile.
 */
int render_files(const struct profile *p, const struct facts *f, const struct resolution *r,
		 struct managed_file **ret, size_t *ret_n);
void managed_files_free(struct managed_file *files, size_t n);

struct runtimes_seen;
/* Appends the container runtimes' drop-ins (render-container.c) for a profile with
 * containers, as the runtimes are seen in the root (runtimes.h). Pure as render_files. */
int render_container_files(const struct profile *p, const struct runtimes_seen *rs, struct managed_file **files,
			   size_t *n);

/* NCCL_IB_HCA / NCCL_SOCKET_IFNAME for "auto": from the HCAs found. NULL when none. */
char *nccl_auto_value(const struct facts *f, const char *key);
