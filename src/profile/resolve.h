/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "host/facts.h"
#include "profile/framework.h"
#include "profile/knowledge.h"
#include "profile/profile.h"
#include "profile/repo.h"

/* One package (or runfile) the chosen stack needs, at an exact version. */
struct pick {
	char *name;
	char *version;  /* as the package manager wants it: "550.127.05-0ubuntu0.22.04.1" */
	char *role;     /* "kernel", "driver", "modules", "cuda", "extra", "container-toolkit", or
			 * the fabric component's name: "fabricmanager", "nvlsm", "imex" */
	bool installed; /* already on the machine at that version */
};

/* A component of the platform's NVLink fabric, at the version the resolution picked. */
struct fabric_pick {
	char *component; /* the knowledge's name: "fabricmanager", "nvlsm", "imex" */
	char *package;   /* "nvidia-fabricmanager-580", "nvlsm" */
	char *version;   /* as the package manager wants it */
	char *service;   /* the unit that runs it ("nvidia-imex.service"), NULL: none of its own */
};

/*
 * framework -> CUDA -> driver -> kernel, chosen from what the repositories offer. When ok,
 * the picks and the reasons; when not, for every candidate tried, the constraint that ruled
 * it out. The same inputs give the same answer, byte for byte.
 */
struct resolution {
	bool ok;
	const char *source; /* "distro", "nvidia-repo", "runfile", or "none": no driver at all, and
			     * driver, branch, flavour, cuda and platform are NULL */
	char *cuda;         /* toolkit point version, NULL when the profile asks for none */
	char *driver;       /* "550.127.05" */
	char *branch;       /* "550" */
	const char *flavour;
	char *kernel;       /* release */
	char *ctk_version;  /* the NVIDIA Container Toolkit's upstream version ("1.17.8"), NULL when
			     * the profile has no containers */
	bool kernel_change; /* not the running kernel: a boot-once switch follows */
	char *platform;      /* the knowledge's platform the machine is ("hgx-b200"), NULL: none matched */
	struct fabric_pick *fabric; /* the platform's fabric, each component at its version */
	size_t n_fabric;
	char **fabric_modules; /* the platform's kernel modules, loaded at boot (modules-load.d) */
	size_t n_fabric_modules;
	bool same_driver_domain; /* every node of the NVLink domain must run the identical driver */
	struct pick *picks;
	size_t n_picks;
	char **kernel_metas; /* meta packages that would move the kernel: to be held */
	size_t n_kernel_metas;
	char **reasons; /* why each choice, each with its source */
	size_t n_reasons;
	char **warnings;
	size_t n_warnings;
	char **refusals; /* when !ok */
	size_t n_refusals;
	struct fw_chain *frameworks; /* the profile's frameworks, each as the knowledge chains it */
	size_t n_frameworks;
};

struct resolve_input {
	const struct profile *profile;
	const struct facts *facts;
	const struct knowledge *knowledge;
	const struct repo_view *repo;
	const char *today; /* "YYYY-MM-DD": end-of-life is judged against it */
	const cJSON *failed_kernels; /* state.json's [{kernel, at, failed}] rolled back here: not chosen, or NULL */
	bool strict; /* --strict: a GPU the knowledge does not know refuses the machine */
};

int resolve(const struct resolve_input *in, struct resolution **ret);
/* resolve-container.c: the NVIDIA Container Toolkit's packages, in the order they install;
 * NVIDIA releases all four at one version. */
#define CONTAINER_TOOLKIT_N_PACKAGES 4
extern const char *const container_toolkit_packages[CONTAINER_TOOLKIT_N_PACKAGES];
/* resolve-fabric.c: whether the resolution's fabric has the component ("fabricmanager"). */
bool resolution_has_fabric(const struct resolution *r, const char *component);
void resolution_fabric_free(struct resolution *r);
struct resolution *resolution_free(struct resolution *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct resolution *, resolution_free)
