/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Shared by the resolver's files: the candidates, the search's context, the driver sources
 * and the refusals. resolve.c searches; each link of the chain has its file, with the
 * candidates the repositories offer for it and the constraints that rule them out:
 * resolve-gpu.c (what the GPUs demand), resolve-toolkit.c, resolve-driver.c,
 * resolve-kernel.c (and the driver with the kernel), resolve-fabric.c (the NVLink fabric the
 * platform needs), resolve-container.c (the NVIDIA Container Toolkit, once the stack is
 * chosen). resolve-picks.c turns the answer into packages; source-*.c name each driver
 * source's packages.
 */
#include "profile/resolve.h"

#define VERSION_LEN 128

struct driver_cand {
	char version[VERSION_LEN]; /* upstream: "550.127.05" */
	char branch[4];
	char open_pkgver[VERSION_LEN], prop_pkgver[VERSION_LEN]; /* "" when not offered */
	const struct repo_runfile *runfile;
};

struct kernel_cand {
	char release[VERSION_LEN];
	char pkgver[VERSION_LEN]; /* "" when installed and not in the repository */
	bool installed, running;
};

struct toolkit_cand {
	char version[VERSION_LEN]; /* "12.4.1" */
	char pkg[256];
	char pkgver[VERSION_LEN];
	const struct repo_runfile *runfile;
};

/* One constraint that ruled a candidate out, kept as data until the search ends: which
 * candidate (subject, and the kernel release it concerns), the rule, where the rule comes
 * from (source: the knowledge's entry, a vendor document) and what to tell the user. */
struct refusal {
	char *subject; /* "driver 550.127.05", "kernel 6.8.0-49-generic with driver ..."; NULL: the search */
	char *kernel;  /* the kernel release the refusal is about, or NULL */
	const char *rule;
	const char *source; /* NULL: the profile's own rule */
	char *text;
};

struct rctx;

/* One demand the GPUs make on the stack: the strictest value (a driver version, a branch, a
 * toolkit), the GPU that makes it and its architecture, for the user, and the knowledge
 * entry that says so, for its source. gpu NULL: no GPU demands it. */
struct gpu_need {
	const char *value;
	const char *gpu;  /* "H200 SXM 141GB" */
	const char *arch; /* "Hopper", or NULL */
	const cJSON *entry;
};

/*
 * Where the driver comes from, chosen once from driver.source and the OS family: how its
 * drivers and toolkits are found, and which packages carry the modules, the fabric manager
 * and the kernel headers DKMS builds against.
 */
struct driver_source {
	const char *name;       /* as profiles and the knowledge say it: "distro", "nvidia-repo", "runfile" */
	enum os_family family;  /* OS_FAMILY_UNKNOWN: any */
	int (*gather_drivers)(struct rctx *c);
	int (*gather_toolkits)(struct rctx *c);
	/* The precompiled, signed modules for a kernel ("" when not offered), or NULL: the
	 * source has none and builds with DKMS. */
	void (*precompiled_pkg)(const struct rctx *c, const struct driver_cand *d, const char *flavour,
				const char *release, char *name, size_t nsize, char *ver, size_t vsize);
	/* A fabric component's package (a "fabric" entry of the knowledge) at the version its
	 * rule asks for this driver (ver "" when not offered), or NULL: the source offers none. */
	void (*fabric_pkg)(const struct rctx *c, const struct driver_cand *d, const cJSON *component, char *name,
			   size_t nsize, char *ver, size_t vsize);
	/* The kernel headers' package DKMS builds against; false when neither offered nor installed. */
	bool (*build_dep)(const struct rctx *c, const struct kernel_cand *kc, char *name, size_t nsize, char *ver,
			  size_t vsize);
	/* Whether the driver's modules for this kernel are built by DKMS. */
	bool (*uses_dkms)(const struct rctx *c, const struct driver_cand *d, const char *flavour, const char *release);
	/* The driver's own packages (and the modules') for the picks. */
	int (*pick_driver)(struct rctx *c, const struct driver_cand *d, const char *flavour,
			   const struct kernel_cand *kc, bool installed);
};

extern const struct driver_source source_distro, source_nvidia_deb, source_nvidia_rpm, source_runfile;

struct rctx {
	const struct resolve_input *in;
	struct resolution *res;
	const char *source;
	const struct driver_source *src; /* NULL with driver.source "none" */
	enum os_family family;
	enum vercmp_order kernel_order; /* the OS package manager's, for kernel releases */
	const cJSON *os; /* the OS's knowledge entry, or NULL */
	/* what the GPUs demand (resolve-gpu.c) */
	struct gpu_need min_driver;  /* the highest first production driver of the GPUs */
	struct gpu_need min_driver_open; /* the same of the open modules, where later */
	struct gpu_need last_branch; /* the lowest last branch of their architectures */
	struct gpu_need cuda_from, cuda_below; /* the narrowest toolkit window */
	struct gpu_need open, proprietary; /* a GPU only that flavour of modules drives */
	struct gpu_need unknown;     /* a GPU in no table: value, the newest production branch offered */
	char unknown_name[64];
	const cJSON *platform;       /* the knowledge's platform of the machine, or NULL */
	bool stop;                   /* the GPUs alone refuse the machine */
	struct driver_cand *drivers;
	size_t n_drivers;
	struct kernel_cand *kernels;
	bool *kernel_ok; /* the profile's and the OS's verdict on each kernel, judged once */
	size_t n_kernels;
	struct toolkit_cand *toolkits;
	size_t n_toolkits;
	struct refusal *refusals;
	size_t n_refusals;
};

/* resolve.c: lines of the result, the same line said once. */
int resolve_add_line(char ***list, size_t *n, const char *fmt, ...) _printf_(3, 4);
#define REASON(c, ...) resolve_add_line(&(c)->res->reasons, &(c)->res->n_reasons, __VA_ARGS__)
#define WARN(c, ...) resolve_add_line(&(c)->res->warnings, &(c)->res->n_warnings, __VA_ARGS__)

/* What a refusal is about: at most a driver, a kernel and a toolkit, as the candidates say
 * them ("kernel <release> with driver <version>"). */
struct refusal_subject {
	const char *driver, *kernel, *cuda;
};
#define ABOUT_DRIVER(d) ((struct refusal_subject){ .driver = (d)->version })
#define ABOUT_KERNEL(kc) ((struct refusal_subject){ .kernel = (kc)->release })
#define ABOUT_PAIR(d, kc) ((struct refusal_subject){ .driver = (d)->version, .kernel = (kc)->release })
#define ABOUT_SEARCH ((struct refusal_subject){})

/* Records a refusal; returns 0, or -ENOMEM. */
int refuse(struct rctx *c, struct refusal_subject about, const char *rule, const char *source, const char *fmt, ...)
	_printf_(5, 6);

/* The source a knowledge entry names, "gpuprov knowledge" when it names none. */
const char *knowledge_src(const cJSON *entry);

/* resolve-gpu.c */
int gather_gpus(struct rctx *c);
/* After the drivers are gathered: the branch a GPU in no table is held to. */
void settle_unknown_gpu(struct rctx *c);

/* resolve-kernel.c; the *_acceptable: 1 acceptable, 0 ruled out (the refusal recorded), -errno */
int gather_kernels(struct rctx *c);
struct kernel_cand *kernel_find(const struct rctx *c, const char *release);
int kernel_acceptable(struct rctx *c, const struct kernel_cand *kc, const cJSON *os);
int switch_acceptable(struct rctx *c, const struct kernel_cand *kc);
int pair_acceptable(struct rctx *c, const struct driver_cand *d, const char *flavour, const struct kernel_cand *kc);

/* resolve-driver.c */
struct driver_cand *driver_slot(struct rctx *c, const char *version);
int offer_package(struct rctx *c, const char *name, bool open);
void sort_drivers(struct rctx *c);
int driver_acceptable(struct rctx *c, const struct driver_cand *d, const char *floor, const cJSON *floor_entry,
		      const char *toolkit, const char **ret_flavour);

/* resolve-toolkit.c */
int toolkit_acceptable(struct rctx *c, const struct toolkit_cand *t);
int toolkit_add(struct rctx *c, const char *version, const char *pkg, const char *pkgver,
		const struct repo_runfile *r);
bool toolkit_wanted(const struct profile *p, const char *version);
int gather_package_toolkits(struct rctx *c);
void sort_toolkits(struct rctx *c);

/* resolve-framework.c: the frameworks' chains (gathered after the GPUs: a framework's CUDA
 * outside their window refuses the machine), the driver they accept, and why. */
int gather_frameworks(struct rctx *c);
int framework_driver_acceptable(struct rctx *c, const struct driver_cand *d);
int framework_reasons(struct rctx *c, const struct driver_cand *d);
/* The package that ships NVML (libnvidia-ml.so.1) for a node without a toolkit. */
int pick_nvml(struct rctx *c, const struct driver_cand *d);

/* resolve-fabric.c */
/* The knowledge's platform entry of the machine, or NULL. */
int fabric_acceptable(struct rctx *c, const struct driver_cand *d);
int fabric_choose(struct rctx *c, const struct driver_cand *d);
int fabric_picks(struct rctx *c);
void fabric_pkg_deb(const struct rctx *c, const struct driver_cand *d, const cJSON *component, char *name, size_t nsize,
		    char *ver, size_t vsize);
void fabric_pkg_rpm(const struct rctx *c, const struct driver_cand *d, const cJSON *component, char *name, size_t nsize,
		    char *ver, size_t vsize);
void fabric_pkg_family(const struct rctx *c, const struct driver_cand *d, const cJSON *component, char *name,
		       size_t nsize, char *ver, size_t vsize);

/* resolve-container.c: the toolkit for the chosen driver, its packages picked; a refusal
 * makes the whole resolution a refusal. */
int container_resolve(struct rctx *c);

/* resolve-picks.c */
int pick(struct rctx *c, const char *name, const char *version, const char *role, bool guess);
const char *offered(const struct rctx *c, const char *name);
int pick_build_dep(struct rctx *c, const struct kernel_cand *kc);
int pick_kernel(struct rctx *c, const struct kernel_cand *kc);
int pick_extras(struct rctx *c);
int build_picks(struct rctx *c, const struct driver_cand *d, const char *flavour, const struct kernel_cand *kc,
		const struct toolkit_cand *t);
int find_kernel_metas(struct rctx *c, const char *release);
bool build_dep_family(const struct rctx *c, const struct kernel_cand *kc, char *name, size_t nsize, char *ver,
		      size_t vsize);
bool build_dep_deb(const struct rctx *c, const struct kernel_cand *kc, char *name, size_t nsize, char *ver,
		   size_t vsize);
bool build_dep_rpm(const struct rctx *c, const struct kernel_cand *kc, char *name, size_t nsize, char *ver,
		   size_t vsize);
bool always_dkms(const struct rctx *c, const struct driver_cand *d, const char *flavour, const char *release);
