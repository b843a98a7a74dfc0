/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/macro.h"
#include "util/root.h"

/*
 * The CDI spec gpuprov has nvidia-ctk write for the GPUs (Container Device Interface,
 * https://github.com/cncf-tags/container-device-interface/blob/main/SPEC.md): read back to check
 * it before it replaces the old one, and again by check and verify. The file is JSON: the
 * CDI library writes a spec in the format its extension names, and JSON needs no second parser.
 */

/* The spec's name in the profile's cdi_dir. NVIDIA's own nvidia-cdi-refresh.service (toolkit
 * 1.18.0 on) is pointed at the same file by CDI_REFRESH_ENV, so that no two specs define the
 * kind. */
#define CDI_SPEC_NAME "nvidia.json"
#define CDI_KIND "nvidia.com/gpu"
#define CDI_REFRESH_ENV "/etc/nvidia-container-toolkit/nvidia-cdi-refresh.env"
/* Where that unit writes without it: NVIDIA_CTK_CDI_OUTPUT_FILE_PATH's default there. */
#define CDI_REFRESH_SPEC "/var/run/cdi/nvidia.yaml"
/* Larger than any spec of a node's GPUs; the limit keeps a damaged file from filling memory. */
#define CDI_SPEC_MAX (4u << 20)

struct cdi_node {
	char *path;	 /* in the container */
	char *host_path; /* on the host, when the spec says (NULL: path) */
	long major, minor; /* -1 where the spec does not state it */
};

struct cdi_spec {
	char *kind;
	char **devices; /* names, in the spec's order: "0", "GPU-<uuid>", "all" */
	size_t n_devices;
	struct cdi_node *nodes; /* every device node, of the devices and the common edits, once */
	size_t n_nodes;
	char *driver_version; /* from the versioned libraries mounted (libcuda.so.X); NULL: none */
};

/* Parses a spec. ret_error: what is wrong and where ("devices[1].name: not a string"). */
int cdi_spec_parse(const char *text, size_t len, struct cdi_spec **ret, char **ret_error);
/* Reads and parses the spec at path inside the root. */
int cdi_spec_load(const struct root *root, const char *path, struct cdi_spec **ret, char **ret_error);
struct cdi_spec *cdi_spec_free(struct cdi_spec *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct cdi_spec *, cdi_spec_free)

/* "<dir>/nvidia.json" for a profile's cdi_dir. */
char *cdi_spec_path(const char *dir);

/*
 * Whether the spec fits the machine: every node it names is a character device in the root
 * with the major and minor the driver gives it (majors from sys's /proc/devices, minors the
 * driver's own: /dev/nvidiaN is the GPU whose "Device Minor" is N), and the spec's own numbers
 * where it states them; the spec's driver version is driver. ret_problems: one line per
 * problem (NULL when none); ret_read: what was read, for the report. Returns the number of
 * problems or -errno.
 */
int cdi_spec_check(const struct root *root, const struct root *sys, const struct cdi_spec *s, const char *driver,
		   char ***ret_problems, char **ret_read);

/* cdi_spec_check() of the spec in dir; a spec missing or unreadable is a problem of it too.
 * ret_read begins with the spec's path. */
int cdi_spec_audit(const struct root *root, const struct root *sys, const char *dir, const char *driver,
		   char ***ret_problems, char **ret_read);

/* 1 when CDI_REFRESH_SPEC is another file than ours and a spec of CDI_KIND: NVIDIA's unit
 * wrote it before gpuprov's environment file pointed it at ours. */
int cdi_refresh_spec_conflicts(const struct root *root, const char *ours);
