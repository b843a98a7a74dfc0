/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "util/root.h"
#include "util/vercmp.h"

/*
 * The machine's facts, as detect() reads them. Every string may be NULL: "unknown". A fact
 * that could not be read leaves a line in warnings, never a failure of the whole detect.
 */

enum tristate {
	TRI_UNKNOWN = -1,
	TRI_NO = 0,
	TRI_YES = 1,
};

struct cpu_facts {
	char *arch;        /* "x86_64", "aarch64" */
	char *vendor;      /* "GenuineIntel", "AuthenticAMD", "HiSilicon", "ARM", "Ampere" */
	char *model;       /* model name, or the name of the implementer/part on arm64 */
	char *implementer; /* arm64 only: "0x48" */
	char *part;        /* arm64 only: "0xd01" */
	unsigned threads;  /* logical CPUs */
	unsigned cores;    /* physical cores, 0 when unknown */
	unsigned sockets;  /* 0 when unknown */
	unsigned numa_nodes;
};

enum os_family {
	OS_FAMILY_UNKNOWN,
	OS_FAMILY_DEBIAN,
	OS_FAMILY_RHEL,
	OS_FAMILY_OPENEULER,
	OS_FAMILY_KYLIN,
};

struct os_facts {
	char *id; /* lower case: "ubuntu", "rocky", "openeuler" */
	char *id_like;
	char *version_id;
	char *version;
	char *codename;
	char *pretty_name;
	char *source; /* the file it came from */
	enum os_family family;
};

/* Kernel options that matter to a GPU node; FACTS: cgroups, io_uring, UVM's HMM, no RT. */
enum kconfig_option {
	KCONFIG_CGROUPS,
	KCONFIG_CGROUP_BPF,
	KCONFIG_IO_URING,
	KCONFIG_HMM_MIRROR,
	KCONFIG_DEVICE_PRIVATE,
	KCONFIG_PREEMPT_RT,
	KCONFIG_MODULE_SIG,
	_KCONFIG_MAX,
};

struct kconfig_rule {
	const char *name;   /* "CONFIG_IO_URING" */
	bool want_set;      /* the node needs it =y or =m; false: it must not be set */
	const char *reason; /* why it matters, shown when the rule fails */
};

struct kernel {
	char *release;
	char *flavour;          /* "generic", "nvidia-64k", "amd64", "64k", "default" */
	bool running;
	bool has_image;         /* boot/vmlinuz-<release> or lib/modules/<release>/vmlinuz */
	bool has_initramfs;
	bool has_modules;       /* lib/modules/<release>/ */
	bool has_config;        /* boot/config-<release> */
	uint64_t boot_bytes;    /* what its files in /boot take: image, initramfs, map, config */
	char kconfig[_KCONFIG_MAX]; /* 'y', 'm', 'n' (not set), 0: no config file */
	unsigned page_size_kib; /* 0 when unknown */
	char *nvidia_version;   /* nvidia.ko's version for this kernel (modinfo) */
	char *nvidia_flavour;   /* "open" or "proprietary", from the module's licence */
	char *nvidia_module;    /* where that nvidia.ko is, below lib/modules/<release>/ */
	enum tristate nvidia_signed; /* carries a module signature (Secure Boot needs one) */
};

struct kernel_facts {
	char *running;
	enum tristate running_is_distro;
	char *running_package; /* evidence: the package or file that owns it */
	char *running_package_version; /* that package's version (dpkg), or NULL: "6.1.76-1" */
	struct kernel *list;   /* every kernel found, oldest first */
	size_t n;
	char **modules;        /* every module /proc/modules lists now; NULL when unreadable */
};

struct boot_facts {
	const char *firmware;     /* "uefi" or "bios" */
	enum tristate secure_boot;
	enum tristate setup_mode;
	const char *loader;       /* "grub" or "grub2"; NULL: none found */
	char *grub_cfg;           /* path of the main grub.cfg */
	char *grubenv;            /* resolved path of the environment block */
	char *saved_entry;
	char *next_entry;
	char *gpuprov_env;        /* gpuprov's block on the ESP (GPUPROV_ESP_ENV), when there */
	char *gpuprov_once;       /* its boot-once entry (GPUPROV_ONCE_VAR) */
	char **bls_entries;       /* BLS ids (boot/loader/entries/<id>.conf) */
	char *cmdline;
};

/* A mounted filesystem and what stands under it. */
struct mount_facts {
	char *path;        /* the path that was asked about: "/", "/boot", the grubenv */
	char *mountpoint;  /* the mount that holds it */
	char *source;      /* "/dev/nvme0n1p2" */
	char *fstype;      /* from mountinfo, or libblkid when the device is readable */
	char *uuid;        /* libblkid */
	char **stack;      /* layers under the filesystem: "lvm", "raid1", "crypt", ... */
	bool have_space;
	uint64_t free_bytes;
	uint64_t total_bytes;
};

struct disk_facts {
	struct mount_facts root;
	struct mount_facts boot;
	struct mount_facts grubenv;
	struct mount_facts esp; /* the EFI System Partition, where one is mounted */
	/* GRUB writes its environment only on a plain partition with a non-checksumming
	 * filesystem; elsewhere a boot-once entry is never cleared. */
	enum tristate grubenv_writable;
	char *grubenv_reason;
	/* The same for a file on the ESP: vfat on a plain partition, found by its UUID. */
	enum tristate esp_writable;
	char *esp_reason;
};

/*
 * Where GRUB cannot write its own environment block, a boot-once entry lives in an
 * environment block of gpuprov's on the ESP, below its mount point, in a variable that
 * /etc/grub.d/01_gpuprov makes GRUB take and clear as 00_header does next_entry.
 */
#define GPUPROV_ESP_ENV "EFI/gpuprov/grubenv"
#define GPUPROV_ONCE_VAR "gpuprov_once"

/* Where a kernel switch's boot-once entry can live. */
enum boot_once_via {
	BOOT_ONCE_NONE,    /* nowhere GRUB can clear it: no switch */
	BOOT_ONCE_GRUBENV, /* next_entry in GRUB's own block */
	BOOT_ONCE_ESP,     /* GPUPROV_ONCE_VAR in gpuprov's block on the ESP */
};

struct rdma_port {
	unsigned port;
	char *state;      /* "ACTIVE", "DOWN", ... */
	char *link_layer; /* "InfiniBand", "Ethernet" */
};

struct rdma_dev {
	char *name; /* "mlx5_0" */
	struct rdma_port *ports;
	size_t n_ports;
};

struct pci_dev {
	char *bdf;
	uint16_t vendor, device, subsystem_vendor, subsystem_device;
	uint32_t class;
	int numa_node; /* -1: none */
	char *driver;  /* bound driver, NULL when none */
	const char *name;
	/* HCAs only */
	struct rdma_dev *rdma;
	size_t n_rdma;
	char **netdevs;
};

struct pci_facts {
	struct pci_dev *gpus;
	size_t n_gpus;
	struct pci_dev *nvswitches;
	size_t n_nvswitches;
	struct pci_dev *hcas;
	size_t n_hcas;
	size_t n_devices; /* all PCI functions seen */
};

struct cuda_toolkit {
	char *version;
	char *path;
};

/* An installed component of the NVLink fabric, as its package database says. */
struct fabric_installed {
	const char *component; /* "fabricmanager", "nvlsm", "imex" */
	char *package;         /* "nvidia-fabric-manager" */
	char *version;         /* upstream: "550.54.15" ("2025.10.11" for nvlsm) */
	const char *service;   /* its systemd unit, NULL: none of its own */
	bool driver_version;   /* must be the driver's version */
};

/* A framework pip installed (host/pip.c): torch, vllm or tensorrt_llm. */
struct pip_dist {
	char *name;    /* as METADATA names it: "torch" */
	char *version; /* "2.7.1+cu128" */
	char *site;    /* the site-packages it is in: "/opt/llm/venv/lib/python3.12/site-packages" */
	char *cuda;    /* the CUDA the wheel was built for, "12.8"; NULL: not said (a PyPI wheel) or CPU */
	const char *cuda_from; /* where that was read, for the user */
	char *torch;   /* vllm's torch pin, or NULL */
};

struct nvidia_facts {
	char **loaded_modules; /* of those that matter (nvidia*, nouveau, mlx5*, ib_core) */
	char *driver_version;  /* of the running driver */
	char *driver_flavour;  /* "open", "proprietary" */
	struct cuda_toolkit *cuda;
	size_t n_cuda;
	char *cuda_default;    /* what usr/local/cuda points at */
	enum tristate fabricmanager;
	char *fabricmanager_version;
	struct fabric_installed *fabric;
	size_t n_fabric;
	const char *fabric_read_from; /* "dpkg", "rpm", "repo.json": where their versions were read; NULL: none */
	struct pip_dist *frameworks;  /* pip-installed frameworks, site by site */
	size_t n_frameworks;
};

struct facts {
	struct cpu_facts cpu;
	struct os_facts os;
	struct kernel_facts kernels;
	struct boot_facts boot;
	struct disk_facts disk;
	struct pci_facts pci;
	struct nvidia_facts nvidia;
	char **warnings;
	size_t n_warnings;
};

/* Where detect reads: the target filesystem and the place of /proc and /sys. */
struct detect_ctx {
	const struct root *root;
	const struct root *sys;
	struct facts *facts;
};

int facts_detect(const struct root *root, const struct root *sys, struct facts **ret);
struct facts *facts_free(struct facts *f);
/* Free what a part holds and zero it, ready to be filled again. */
void cpu_facts_clear(struct cpu_facts *c);
void os_facts_clear(struct os_facts *os);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct facts *, facts_free)

/* The installed kernel of that release, or the running one; NULL when not found. */
const struct kernel *facts_kernel(const struct facts *f, const char *release);
const struct kernel *facts_running_kernel(const struct facts *f);
/* The installed version of a fabric component ("imex"), or NULL. */
const char *facts_fabric_version(const struct facts *f, const char *component);

/* Records that a fact could not be read; detect goes on with "unknown". */
void facts_warn(struct facts *f, const char *fmt, ...) _printf_(2, 3);

const char *os_family_to_string(enum os_family f);
const char *os_package_manager(enum os_family f);
/* How the OS's package manager orders versions, its kernels' releases too: dpkg's on Debian
 * and Ubuntu, rpm's on the RPM families. */
enum vercmp_order os_version_order(enum os_family f);
const char *tristate_to_string(enum tristate t);
/* GRUB's own block unless it is known to be unwritable; then the ESP where GRUB can write
 * there; else none. */
enum boot_once_via facts_boot_once(const struct facts *f);
/* "grubenv", "esp", or NULL for none. */
const char *boot_once_via_to_string(enum boot_once_via v);
extern const struct kconfig_rule kconfig_rules[_KCONFIG_MAX];
/* TRI_YES: the option is as a GPU node needs it; TRI_NO: it is not; TRI_UNKNOWN: no config. */
enum tristate kernel_kconfig_ok(const struct kernel *kern, enum kconfig_option opt);

/* The facts as JSON, in the schema gpuprov(8) documents. */
int facts_to_json(const struct facts *f, cJSON **ret);

/* The detectors, one per topic; each fills its part of ctx->facts. */
int cpu_detect(const struct detect_ctx *ctx);
/* Names a CPU whose core alone is ambiguous, from the GPUs and DMI found. */
void cpu_refine(const struct detect_ctx *ctx);
int os_detect(const struct detect_ctx *ctx);
int kernel_detect(const struct detect_ctx *ctx);
int boot_detect(const struct detect_ctx *ctx);
int disk_detect(const struct detect_ctx *ctx);
/* gpuprov's block on the ESP, once disk_detect() found the ESP. */
int boot_detect_esp_env(const struct detect_ctx *ctx);
int pci_detect(const struct detect_ctx *ctx);
int nvidia_detect(const struct detect_ctx *ctx);
/* pip.c: the frameworks in the system's site-packages and in venvs under /opt, /srv, /home
 * and /root (gpuprov(8), CHECK). */
int pip_detect(const struct detect_ctx *ctx);
int fabric_detect(const struct detect_ctx *ctx);

/* Parsers, separate from the reading so that tests can feed them text. */
int cpuinfo_parse(FILE *f, struct cpu_facts *cpu);
const char *arm_cpu_name(unsigned implementer, unsigned part, const char **ret_vendor);
int os_release_parse(const char *text, struct os_facts *os);
int proc_modules_parse_line(const char *line, char **ret_name);
int efivar_parse_bool(const void *data, size_t size, enum tristate *ret);
int nvidia_version_parse(const char *text, char **ret_version, char **ret_flavour);
int kconfig_parse_line(const char *line, enum kconfig_option *ret_opt, char *ret_value);
char *kernel_flavour(const char *release, enum os_family family);
int mountinfo_parse_line(const char *line, unsigned *ret_major, unsigned *ret_minor,
			 char **ret_mountpoint, char **ret_fstype, char **ret_source);
const char *pci_product_name(uint16_t vendor, uint16_t device);
enum pci_kind {
	PCI_KIND_OTHER,
	PCI_KIND_GPU,
	PCI_KIND_NVSWITCH,
	PCI_KIND_HCA,
};
enum pci_kind pci_classify(uint16_t vendor, uint32_t class);
void pci_dev_free(struct pci_dev *d);
int pci_uevent_parse(const char *text, struct pci_dev *d);

/* The value of key in an ELF module's .modinfo (data: the whole file). -ENOENT: no such key;
 * -GPE_PARSE: not an ELF file, or a malformed one. */
int modinfo_parse_elf(const void *data, size_t size, const char *key, char **ret);
/* Reads keys (NULL-terminated) from the open module file; a missing key gives NULL.
 * ret_signed: whether a module signature is appended. */
int modinfo_read(int fd, const char *const *keys, char **values, bool *ret_signed);
/* The path of module name in moddir/modules.dep (moddir inside the root, the path relative to
 * it): 1 with *ret_path, 0 when modules.dep lists no module of that name, -ENOENT when the
 * directory has no modules.dep. */
int moddep_find(const struct root *root, const char *moddir, const char *name, char **ret_path);

/* One question of a pass over dpkg's status: the first installed package that match()
 * accepts (or, without match, exactly name), its name and version filled in; NULL when none
 * is installed. */
struct dpkg_query {
	bool (*match)(const char *name);
	const char *name;
	char *package, *version;
};
/* Answers every query in one pass over the status file, stopping once all are answered: 0,
 * or -errno when the file cannot be read. dpkg_queries_done frees the answers. */
int dpkg_query(const struct root *root, struct dpkg_query *q, size_t n);
void dpkg_queries_done(struct dpkg_query *q, size_t n);
int dpkg_package_version(const struct root *root, const char *name, char **ret_version);
