/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "host/facts.h"
#include "util/root.h"

/* Where profiles come from: the site's (in the target, /etc/gpuprov/profiles) win over
 * the shipped ones (gpuprov's data directory, or --profiles DIR) of the same name. */
struct profile_dirs {
	const struct root *site;    /* NULL when the target has none */
	const struct root *shipped; /* NULL when the data directory is missing */
	const char *site_path;      /* for messages: "/etc/gpuprov/profiles" */
	const char *shipped_path;
};

int profile_dirs_open(const struct root *target, const char *shipped, struct profile_dirs *ret);
void profile_dirs_close(struct profile_dirs *d);
/* A profile is a page of JSON; anything near this size is not one. */
#define PROFILE_MAX (1024 * 1024)
/* The names of the profiles in both directories, sorted, each once. */
int profile_names(const struct profile_dirs *d, char ***ret);
/* NAME.json's text, from the site's directory first, and the file it came from (for
 * messages). Used by the loader; -ENOENT where neither directory has it. */
int profile_read(const struct profile_dirs *d, const char *name, char **ret_text, size_t *ret_size, char **ret_file);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct profile_dirs *, profile_dirs_close)

/* A refusal of a profile: where, and why. file is NULL for errors of no file (an unknown
 * name); line is 0 when the file as a whole is at fault. */
struct profile_error {
	char *file;
	unsigned line, column;
	char *message;
};

void profile_error_clear(struct profile_error *e);
/* "file:line:column: message", ready to print. */
char *profile_error_format(const struct profile_error *e);

struct profile_info {
	char *name;
	char *description;
	char *file;
	bool site;
};

/* Every profile, site and shipped, by name; a site one hides the shipped one. */
int profile_list(const struct profile_dirs *d, struct profile_info **ret, size_t *ret_n);
void profile_info_free(struct profile_info *list, size_t n);

/* The settings the resolver acts on, taken from the resolved document. Strings are NULL
 * when the profile does not say. */
struct profile {
	char *name;
	char *description;
	char *file;
	char **chain; /* the profiles applied, includes first, itself last */
	cJSON *doc;   /* the resolved document: includes merged, overrides applied */
	cJSON *match; /* the profile's own match (not inherited), or NULL */

	const char *kernel_series, *kernel_min, *kernel_max, *kernel_flavour;
	const char *kernel_release; /* exactly this kernel: the flavour is its own */
	bool kernel_hwe;
	const char *driver_branch, *driver_min_branch, *driver_min_version;
	const char *driver_flavour; /* "open", "proprietary", "auto" */
	const char *driver_source;  /* "distro", "nvidia-repo", "runfile", "none", or NULL: the OS's first */
	bool driver_allow_eol;
	bool driver_allow_nfb;         /* a new-feature branch may be chosen */
	const char *driver_unknown_gpu; /* "warn" (default) or "refuse": a GPU the knowledge lacks */
	const char *cuda_version, *cuda_min_version, *cuda_framework;
	bool cuda_minor_compat;
	bool cuda_toolkit_none;   /* cuda.toolkit "none": the frameworks bring their CUDA runtime */
	const cJSON *frameworks;  /* "framework": [{ name, version, variant }], or NULL */
	const char *fabricmanager; /* "auto", "on", "off" */

	/* Containers see the GPUs (the "container" section). Off (toolkit NULL) when the section
	 * is absent or its toolkit is "none". */
	const char *container_toolkit;  /* "latest-for-driver" (the section's default) or "1.17.8" */
	unsigned container_runtimes;    /* CONTAINER_* bits: the runtimes configured for nvidia */
	bool container_cdi;             /* CDI specs generated (default true) */
	const char *container_cdi_dir;  /* "/var/run/cdi" (default) or "/etc/cdi" */
	bool container_default_runtime; /* nvidia becomes the default runtime of docker, containerd, cri-o */
};

enum {
	CONTAINER_DOCKER = 1u << 0,
	CONTAINER_CONTAINERD = 1u << 1,
	CONTAINER_CRIO = 1u << 2,
	CONTAINER_PODMAN = 1u << 3,
};
/* The runtimes a profile may name, in the order of the CONTAINER_* bits, NULL-terminated:
 * the validator's list of values and the bits' names are this one table. */
extern const char *const container_runtime_names[];
/* "docker", "containerd", "crio", "podman": the runtime's bit, 0 for another name. */
unsigned container_runtime_bit(const char *name);
/* The runtime of a bit, by its profile name. */
const char *container_runtime_name(unsigned bit);

/*
 * Loads, validates and resolves a profile: includes (cycles refused), merged, then the
 * overrides that match f (NULL: none applied). On a refusal returns -GPE_PARSE (bad
 * profile) or -ENOENT (no such name) with err filled.
 */
int profile_load(const struct profile_dirs *d, const char *name, const struct facts *f,
		 struct profile **ret, struct profile_error *err);
struct profile *profile_free(struct profile *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct profile *, profile_free)

/* Does the profile's match fit this machine? When not, ret_why says which condition. */
bool profile_matches(const struct profile *p, const struct facts *f, char **ret_why);

/* "ubuntu-22.04" against os id "ubuntu" version "22.04.4"? Whole dotted components. */
bool os_spec_matches(const char *spec, const char *id, const char *version_id);
