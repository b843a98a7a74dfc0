/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/json.h"
#include "util/root.h"
#include "util/vercmp.h"

/*
 * The compatibility knowledge (knowledge.json beside the shipped profiles, format 2,
 * gpuprov-knowledge(5)): GPU architectures and their windows, GPUs, platforms and their
 * NVLink fabric, branch lifecycle, CUDA -> driver floors, frameworks -> CUDA (framework.h),
 * OS kernels, driver x kernel failures, risks, the NVIDIA Container Toolkit. Every entry names its source and the day it was checked there; the
 * accessors hand out the entries themselves (borrowed from the document) so that callers can
 * quote "source".
 */
struct knowledge {
	cJSON *doc;
	char *file;
	const char *as_of; /* "YYYY-MM-DD", borrowed from doc */
};

/* Public documents gpuprov's own rules (not the knowledge's) rest on, quoted with them. */
#define SOURCE_MODULE_SIGNING \
	"Kernel module signing facility, Linux kernel documentation, https://docs.kernel.org/admin-guide/module-signing.html"
#define SOURCE_GRUB_ENVBLOCK \
	"GNU GRUB manual, Environment block, https://www.gnu.org/software/grub/manual/grub/html_node/Environment-block.html"
#define SOURCE_UBUNTU_SIGNED \
	"Ubuntu Server documentation, NVIDIA drivers installation, https://documentation.ubuntu.com/server/how-to/graphics/install-nvidia-drivers/"

/* Format 2's required sections: arrays of entries, and objects; the loader and lint both
 * hold a file to them. */
#define KNOWLEDGE_FORMAT 2
#define KNOWLEDGE_N_ARRAYS 13
#define KNOWLEDGE_N_OBJECTS 2
extern const char *const knowledge_arrays[KNOWLEDGE_N_ARRAYS];
extern const char *const knowledge_objects[KNOWLEDGE_N_OBJECTS];

/* Loads and checks the shape of dir/knowledge.json. ret_error: what is wrong, as
 * FILE:LINE:COL: PATH: reason. */
int knowledge_load(const struct root *dir, const char *dir_path, struct knowledge **ret, char **ret_error);
/* The same from text already read (file: its name in messages), for a caller that checked
 * the bytes first (a signature, lint: knowledge-source.h). */
int knowledge_load_text(const char *file, const char *text, struct knowledge **ret, char **ret_error);
/* The most bytes a knowledge file may have. */
#define KNOWLEDGE_MAX (4 * 1024 * 1024)
struct knowledge *knowledge_free(struct knowledge *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct knowledge *, knowledge_free)

/* The toolkit row of "12.4" (a point version "12.4.1" finds its minor's row). */
const cJSON *kn_cuda(const struct knowledge *k, const char *toolkit);
/* The minimum driver of a toolkit point version: its update's floor, else the GA one. With
 * minor_compat, the floor of its major under minor-version compatibility. NULL: unknown. */
const char *kn_cuda_floor(const struct knowledge *k, const char *toolkit, bool minor_compat,
			  const cJSON **ret_entry);
const cJSON *kn_branch(const struct knowledge *k, const char *branch);
/* Whether a branch is past its end of life on today ("YYYY-MM-DD"). */
bool kn_branch_eol(const struct knowledge *k, const char *branch, const char *today, const cJSON **ret_entry);
/* When a branch's life ended or ends, for the user: "2026-06", or that NVIDIA gives no month. */
const char *kn_branch_eol_said(const cJSON *branch);
/* Whether a branch is a new-feature branch, which only a profile that asks for one gets. */
bool kn_branch_nfb(const struct knowledge *k, const char *branch, const cJSON **ret_entry);
/* The newest production or long-term branch ("620"), or NULL. */
const char *kn_newest_production_branch(const struct knowledge *k, const cJSON **ret_entry);
const char *kn_open_default_from(const struct knowledge *k);
const cJSON *kn_gpu(const struct knowledge *k, uint16_t vendor, uint16_t device);
const cJSON *kn_architecture(const struct knowledge *k, const char *name);
/* The architecture of a GPU: its "gpus" entry's, or for a GPU in no entry the one whose PCI
 * device range holds its id (*ret_by_range set, where not NULL), or NULL. */
const cJSON *kn_gpu_architecture(const struct knowledge *k, uint16_t vendor, uint16_t device, bool *ret_by_range);
/* The kernel module flavour that alone drives a GPU ("open", "proprietary"), or NULL where
 * either does; gpu: its "gpus" entry or NULL, arch: its architecture. *ret_entry: the entry
 * that says so, for its source. */
const char *kn_gpu_only_flavour(const cJSON *gpu, const cJSON *arch, const cJSON **ret_entry);
/* A kernel as the failure rules read it: the upstream version it is based on, by the OS's
 * "kernel_upstream" scheme, and its release for rules stated in the distro's own releases. */
struct kernel_version {
	const char *release;   /* "5.14.0-687.el9.x86_64" */
	const char *upstream;  /* "6.1.76", "6.8"; NULL: rules by upstream version do not apply */
	bool el;               /* the distro states rules in its releases ("kernel_scheme": "el") */
	enum vercmp_order order; /* the OS's, for releases */
};
/* Fills kv for a kernel release; os: the OS's knowledge entry or NULL; pkgver: the kernel
 * image package's version where known ("6.1.76-1"), else NULL. buf holds the upstream. */
void kn_kernel_version(const cJSON *os, const char *release, const char *pkgver, enum vercmp_order order,
		       char *buf, size_t size, struct kernel_version *kv);
/* The first known failure of driver (flavour "open"/"proprietary") with the kernel. */
const cJSON *kn_kernel_failure(const struct knowledge *k, const char *driver, const char *flavour,
			       const struct kernel_version *kv);
const cJSON *kn_os(const struct knowledge *k, const char *id, const char *version_id, const char *arch);
/* "ga", "hwe", or NULL when the OS does not ship that series. */
const char *kn_os_series_kind(const cJSON *os, const char *series);
const cJSON *kn_risks(const struct knowledge *k);
/* The module option in options (the profile's modprobe.options) that the knowledge says
 * breaks the driver with this flavour of kernel modules, or NULL. */
const cJSON *kn_module_option_conflict(const struct knowledge *k, const char *flavour, const cJSON *options);
/* The entry of an NVIDIA runfile ("file", "sha256", "source"), or NULL when not known. */
const cJSON *kn_runfile(const struct knowledge *k, const char *file);

/* "6.8.0-49-generic" -> "6.8"; "5.14.0-427.el9.x86_64" -> "5.14". False if no series. */
bool kernel_series_of(const char *release, char *buf, size_t size);
/* Version in a range [from, below) as knowledge writes them, in that order; NULL bounds are
 * open. */
bool version_in(enum vercmp_order order, const char *v, const char *from, const char *below);

/* knowledge-platform.c: the platforms and their NVLink fabric. */
struct pci_dev;
/* The first "platforms" entry the machine matches (its GPUs all among the entry's, at least
 * min_gpus of them, NVSwitches on the PCI bus as pci_nvswitches asks), or NULL. */
const cJSON *kn_platform(const struct knowledge *k, const struct pci_dev *gpus, size_t n_gpus, size_t n_nvswitches);
/* The "fabric" entry of a component ("fabricmanager", "nvlsm", "imex"), or NULL. */
const cJSON *kn_fabric_component(const struct knowledge *k, const char *name);
/* The component's package for the family (debian: "deb", else "rpm") with {branch} put in;
 * false when the knowledge names none. */
bool kn_fabric_package(const cJSON *component, bool debian, const char *branch, char *buf, size_t size);
/* Whether the component must be the driver's exact version (version_rule "equal"); "any":
 * the component has versions of its own. */
bool kn_fabric_version_equal(const cJSON *component);

/* knowledge-container.c: the NVIDIA Container Toolkit ("container_toolkit"). */
/* The version that first has `nvidia-ctk cdi generate`; *ret_entry: the section, for its source. */
const char *kn_ctk_cdi_from(const struct knowledge *k, const cJSON **ret_entry);
/* The "releases" entry of a version ("1.17.8"), or NULL: not one the knowledge lists. */
const cJSON *kn_ctk_release(const struct knowledge *k, const char *version);
/* The "vulnerable" entries that affect a version (it is below their fixed_in), in the file's
 * order: up to max of them in ret, their count returned. */
size_t kn_ctk_vulnerabilities(const struct knowledge *k, const char *version, const cJSON **ret, size_t max);
/* The lowest version that none of the known vulnerabilities affects, or NULL when none is
 * known. */
const char *kn_ctk_first_fixed(const struct knowledge *k);
/* The minimum driver of a toolkit version (the highest floor of the "min_driver" rules from
 * a version at or below it), or NULL: none stated. */
const char *kn_ctk_min_driver(const struct knowledge *k, const char *version, const cJSON **ret_entry);
