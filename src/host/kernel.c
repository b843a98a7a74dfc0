/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernels: the running one, the installed ones, their flavour, config and NVIDIA module. */
#include <errno.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <limits.h>

#include "facts.h"
#include "host/kmod-lib.h"
#include "util/dedup.h"
#include "util/errors.h"
#include "util/strutil.h"

/* Why each option matters to a GPU node (CONFIG_GPU_SCHED, which some guides name, does not exist); the open modules
 * refuse PREEMPT_RT at build time (open-gpu-kernel-modules kernel-open/conftest.sh). */
const struct kconfig_rule kconfig_rules[_KCONFIG_MAX] = {
	[KCONFIG_CGROUPS] = { "CONFIG_CGROUPS", true, "container runtimes need cgroups" },
	[KCONFIG_CGROUP_BPF] = { "CONFIG_CGROUP_BPF", true,
				 "cgroup v2 device control (containers' GPU access) uses BPF" },
	[KCONFIG_IO_URING] = { "CONFIG_IO_URING", true,
			       "inference servers and storage stacks use io_uring" },
	[KCONFIG_HMM_MIRROR] = { "CONFIG_HMM_MIRROR", true,
				 "UVM heterogeneous memory management needs HMM" },
	[KCONFIG_DEVICE_PRIVATE] = { "CONFIG_DEVICE_PRIVATE", true,
				     "UVM heterogeneous memory management needs device-private memory" },
	[KCONFIG_PREEMPT_RT] = { "CONFIG_PREEMPT_RT", false,
				 "the NVIDIA open modules refuse to build on PREEMPT_RT kernels" },
	[KCONFIG_MODULE_SIG] = { "CONFIG_MODULE_SIG", true,
				 "Secure Boot needs signed modules" },
};

/* Page-size options, for the page_size fact (64k kernels on arm64). */
static const struct {
	const char *name;
	unsigned kib;
} page_sizes[] = {
	{ "CONFIG_ARM64_4K_PAGES", 4 },
	{ "CONFIG_ARM64_16K_PAGES", 16 },
	{ "CONFIG_ARM64_64K_PAGES", 64 },
	{ "CONFIG_X86_64", 4 },
};

/* "CONFIG_X=y" or "# CONFIG_X is not set". Returns 1 on a rule's option, 0 on others. */
int kconfig_parse_line(const char *line, enum kconfig_option *ret_opt, char *ret_value)
{
	const char *rest;
	size_t n;
	char value;

	if ((rest = startswith(line, "# "))) {
		n = strcspn(rest, " ");
		if (!streq(rest + n, " is not set") && !streq(rest + n, " is not set\n"))
			return 0;
		value = 'n';
	} else {
		rest = line;
		n = strcspn(rest, "=");
		if (rest[n] != '=')
			return 0;
		value = rest[n + 1];
		if (value != 'y' && value != 'm')
			return 0;
	}
	for (int i = 0; i < _KCONFIG_MAX; i++)
		if (strlen(kconfig_rules[i].name) == n &&
		    strncmp(kconfig_rules[i].name, rest, n) == 0) {
			*ret_opt = (enum kconfig_option)i;
			*ret_value = value;
			return 1;
		}
	return 0;
}

static void kernel_read_config(const struct root *root, struct kernel *kern)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t linesz = 0;
	char path[PATH_MAX];

	/* RHEL-family kernel packages ship it in lib/modules too. */
	if (root_fopen(root, path_fmt(path, "boot/config-%s", kern->release), &f) < 0 &&
	    root_fopen(root, path_fmt(path, "lib/modules/%s/config", kern->release), &f) < 0)
		return;
	kern->has_config = true;
	for (int i = 0; i < _KCONFIG_MAX; i++)
		kern->kconfig[i] = 'n';
	while (getline(&line, &linesz, f) >= 0) {
		enum kconfig_option opt;
		char value;

		if (kconfig_parse_line(line, &opt, &value) > 0) {
			kern->kconfig[opt] = value;
			continue;
		}
		for (size_t i = 0; i < ELEMENTSOF(page_sizes); i++) {
			const char *rest = startswith(line, page_sizes[i].name);

			if (rest && startswith(rest, "=y"))
				kern->page_size_kib = page_sizes[i].kib;
		}
	}
}

char *kernel_flavour(const char *release, enum os_family family)
{
	const char *dash, *plus;

	switch (family) {
	case OS_FAMILY_RHEL:
	case OS_FAMILY_OPENEULER:
	case OS_FAMILY_KYLIN:
		/* "5.14.0-427.el9.aarch64+64k": the variant follows a '+'. */
		plus = strchr(release, '+');
		return strdup(plus ? plus + 1 : "default");
	default:
		/* "5.15.0-105-generic", "6.8.0-1013-nvidia-64k", "6.1.0-18-amd64": the flavour
		 * follows the numeric ABI. A release not made that way has no flavour to tell. */
		dash = strchr(release, '-');
		if (!dash || strspn(dash + 1, "0123456789") == 0)
			return NULL;
		dash += 1 + strspn(dash + 1, "0123456789");
		if (*dash != '-' || !dash[1])
			return NULL;
		return strdup(dash + 1);
	}
}

static void kmod_log_quiet(void *data, int priority, const char *file, int line,
			   const char *fn, const char *format, va_list args)
{
}

static void kmod_unrefp(struct kmod_ctx **c)
{
	if (*c)
		kmod_fn.kmod_unref(*c);
}

static void kmod_module_unref_listp(struct kmod_list **l)
{
	if (*l)
		kmod_fn.kmod_module_unref_list(*l);
}

static void kmod_module_unrefp(struct kmod_module **m)
{
	if (*m)
		kmod_fn.kmod_module_unref(*m);
}

static void kmod_info_listp(struct kmod_list **l)
{
	if (*l)
		kmod_fn.kmod_module_info_free_list(*l);
}

/* The open modules are "Dual MIT/GPL", the proprietary ones "NVIDIA". */
static void nvidia_set_flavour(struct kernel *kern, const char *license)
{
	if (license && !kern->nvidia_flavour)
		kern->nvidia_flavour = strdup(streq(license, "NVIDIA") ? "proprietary" : "open");
}

/* Version and licence of a compressed module, decompressed by libkmod. */
static int nvidia_info_from_kmod(struct kmod_module *mod, struct kernel *kern)
{
	_cleanup_(kmod_info_listp) struct kmod_list *info = NULL;
	struct kmod_list *l;
	int k;

	k = kmod_fn.kmod_module_get_info(mod, &info);
	if (k < 0)
		return k;
	kern->nvidia_signed = TRI_NO;
	/* kmod_list_foreach, through the table. */
	for (l = info; l; l = kmod_fn.kmod_list_next(info, l)) {
		const char *key = kmod_fn.kmod_module_info_get_key(l);
		const char *value = kmod_fn.kmod_module_info_get_value(l);

		if (value && streq(key, "version") && !kern->nvidia_version)
			kern->nvidia_version = strdup(value);
		else if (value && streq(key, "license"))
			nvidia_set_flavour(kern, value);
		else if (streq(key, "sig_id"))
			kern->nvidia_signed = TRI_YES;
	}
	return 0;
}

/* Version and licence of a plain .ko, read from its .modinfo (see modinfo.c for why). */
static int nvidia_info_from_elf(const struct root *root, const char *path, struct kernel *kern)
{
	static const char *const keys[] = { "version", "license", NULL };
	_cleanup_close_ int fd = -EBADF;
	char *values[2] = {};
	bool is_signed;
	int k;

	fd = root_open_regular(root, path);
	if (fd < 0)
		return fd;
	k = modinfo_read(fd, keys, values, &is_signed);
	if (k < 0)
		return k;
	kern->nvidia_signed = is_signed ? TRI_YES : TRI_NO;
	kern->nvidia_version = values[0];
	nvidia_set_flavour(kern, values[1]);
	free(values[1]);
	return 0;
}

/*
 * libkmod opens what it reads by host path. These are the files of a module directory it
 * may open; a symlink among them would be followed on the host, out of the root.
 */
static const char *const kmod_index_files[] = {
	"modules.dep",	       "modules.dep.bin",	"modules.alias.bin",
	"modules.symbols.bin", "modules.builtin.bin",	"modules.builtin.alias.bin",
	"modules.builtin.modinfo", "modules.softdep",	NULL,
};

/* The version and licence of the nvidia.ko of the module directory moddir through libkmod,
 * which finds it (modules.dep.bin decides between updates/, dkms and the kernel's own) and
 * decompresses it. */
static int nvidia_read_kmod(const struct detect_ctx *ctx, const char *moddir, struct kernel *kern)
{
	/* No modprobe.d at all: the host's would be read otherwise, and aliases do not matter.
	 * (libkmod still reads the running kernel's /proc/cmdline for module options; detect
	 * uses none of them.) */
	static const char *const no_config[] = { NULL };
	_cleanup_(kmod_unrefp) struct kmod_ctx *kctx = NULL;
	_cleanup_(kmod_module_unref_listp) struct kmod_list *found = NULL;
	_cleanup_(kmod_module_unrefp) struct kmod_module *mod = NULL;
	_cleanup_free_ char *host = NULL, *resolved = NULL;
	char path[PATH_MAX];
	const char *modpath, *rel;
	int k;

	k = root_dir_has_symlink(ctx->root, moddir, kmod_index_files);
	if (k != 0)
		return k < 0 ? k : -ELOOP;
	k = root_host_path(ctx->root, moddir, &host);
	if (k < 0)
		return k;
	kctx = kmod_fn.kmod_new(host, no_config);
	if (!kctx)
		return -ENOMEM;
	kmod_fn.kmod_set_log_fn(kctx, kmod_log_quiet, NULL);

	k = kmod_fn.kmod_module_new_from_lookup(kctx, "nvidia", &found);
	if (k < 0)
		return k;
	if (!found)
		return 0; /* no NVIDIA module for this kernel */
	mod = kmod_fn.kmod_module_get_module(found);
	modpath = kmod_fn.kmod_module_get_path(mod);
	if (!modpath)
		return 0; /* built in, or only an alias */
	/* Relative to the module directory, as depmod writes modules.dep; an absolute entry
	 * would lead out of the root. */
	rel = startswith(modpath, host);
	if (!rel || *rel != '/')
		return -EXDEV;
	rel++;
	if (!kern->nvidia_module && !(kern->nvidia_module = strdup(rel)))
		return -ENOMEM;

	path_fmt(path, "%s/%s", moddir, rel);
	if (endswith(rel, ".ko")) {
		k = nvidia_info_from_elf(ctx->root, path, kern);
		if (k != -GPE_PARSE)
			return k;
	}
	/* Through libkmod, by host path: only when no link below the module directory could
	 * take that path somewhere else than the root's own resolution does. */
	k = root_chase(ctx->root, path, &resolved);
	if (k < 0)
		return k;
	if (!streq(resolved, path))
		return -EXDEV;
	return nvidia_info_from_kmod(mod, kern);
}

/* The version and licence of the nvidia.ko this kernel would load, as modinfo shows them: a
 * plain .ko that modules.dep names is read here (moddep.c, modinfo.c), anything else through
 * libkmod, loaded then. -GPE_LIBRARY, with *ret_error when ret_error is not NULL, when libkmod
 * was needed and cannot be loaded. */
static int kernel_read_nvidia(const struct detect_ctx *ctx, struct kernel *kern, char **ret_error)
{
	_cleanup_free_ char *moddir = NULL, *rel = NULL;
	char path[PATH_MAX];
	int k;

	k = root_chase(ctx->root, path_fmt(path, "lib/modules/%s", kern->release), &moddir);
	if (k < 0)
		return k;
	k = moddep_find(ctx->root, moddir, "nvidia", &rel);
	if (k == 0)
		return 0; /* no NVIDIA module for this kernel, or one built in */
	if (k > 0) {
		/* An absolute entry (module-init-tools wrote them) would lead out of the root. */
		if (rel[0] == '/')
			return -EXDEV;
		kern->nvidia_module = TAKE_PTR(rel);
		if (endswith(kern->nvidia_module, ".ko")) {
			path_fmt(path, "%s/%s", moddir, kern->nvidia_module);
			k = nvidia_info_from_elf(ctx->root, path, kern);
			if (k != -GPE_PARSE)
				return k;
		}
	} else if (k != -ENOENT)
		return k;
	k = dynlib_need(&libkmod, "reading compressed kernel modules", ret_error);
	if (k < 0)
		return k;
	return nvidia_read_kmod(ctx, moddir, kern);
}

/* Adds a kernel of that release; kernel_collect() merges the releases named twice after. */
static int kernel_append(struct kernel_facts *kf, size_t *alloc, const char *release)
{
	struct kernel *p = array_grow(kf->list, kf->n, alloc, sizeof(*p));

	if (!p)
		return -ENOMEM;
	kf->list = p;
	p[kf->n] = (struct kernel){ .release = strdup(release), .nvidia_signed = TRI_UNKNOWN };
	if (!p[kf->n].release)
		return -ENOMEM;
	kf->n++;
	return 0;
}

static const char *kernel_key(const void *kern)
{
	return ((const struct kernel *)kern)->release;
}

/* An image and a module directory of one release are one kernel: the first found is kept. */
static void kernel_merge(void *into, const void *from, void *userdata)
{
	free(((const struct kernel *)from)->release);
}

/* Oldest first, in the order of the OS's package manager (order: an enum vercmp_order). */
static int cmp_kernel(const void *a, const void *b, void *order)
{
	return vercmp(*(const enum vercmp_order *)order, ((const struct kernel *)a)->release,
		      ((const struct kernel *)b)->release);
}

/* The space a kernel's files take in /boot (lstat sizes; links count nothing). */
static uint64_t kernel_boot_bytes(const struct root *root, const char *release)
{
	static const struct {
		const char *prefix, *suffix;
	} names[] = { { "vmlinuz-", "" }, { "initrd.img-", "" }, { "initramfs-", ".img" }, { "System.map-", "" },
		      { "config-", "" } };
	uint64_t sum = 0;

	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		char path[PATH_MAX];
		struct stat st;

		if (snprintf(path, sizeof(path), "boot/%s%s%s", names[i].prefix, release, names[i].suffix) < (int)sizeof(path) &&
		    root_stat(root, path, &st) >= 0 && S_ISREG(st.st_mode))
			sum += (uint64_t)st.st_size;
	}
	return sum;
}

/* Kernels are what the boot/vmlinuz-RELEASE files and lib/modules/RELEASE dirs name. */
static int kernel_collect(const struct detect_ctx *ctx)
{
	struct kernel_facts *kf = &ctx->facts->kernels;
	_cleanup_(strv_freep) char **boot = NULL, **mods = NULL;
	size_t alloc = 0;
	int k;

	if (root_list_dir(ctx->root, "boot", &boot) >= 0)
		for (char **p = boot; *p; p++) {
			const char *rel = startswith(*p, "vmlinuz-");

			/* RHEL's rescue image is not a kernel release of its own. */
			if (!rel || !*rel || startswith(rel, "0-rescue-"))
				continue;
			if ((k = kernel_append(kf, &alloc, rel)) < 0)
				return k;
		}
	if (root_list_dir(ctx->root, "lib/modules", &mods) >= 0)
		for (char **p = mods; *p; p++) {
			char path[PATH_MAX];

			if (!root_is_dir(ctx->root, path_fmt(path, "lib/modules/%s", *p)))
				continue;
			if ((k = kernel_append(kf, &alloc, *p)) < 0)
				return k;
		}
	if (kf->running && (k = kernel_append(kf, &alloc, kf->running)) < 0)
		return k;
	/* All found first, then merged: a search per release is quadratic (32k images: 5 s). */
	k = dedup_by_key(kf->list, &kf->n, sizeof(*kf->list), kernel_key, kernel_merge, NULL);
	if (k < 0)
		return k;
	if (kf->n > 1) {
		enum vercmp_order order = os_version_order(ctx->facts->os.family);

		qsort_r(kf->list, kf->n, sizeof(*kf->list), cmp_kernel, &order);
	}
	return 0;
}

/* A distribution kernel is one its package manager installed (not a hand-built one). */
static void kernel_check_distro(const struct detect_ctx *ctx)
{
	struct kernel_facts *kf = &ctx->facts->kernels;
	char path[PATH_MAX];

	kf->running_is_distro = TRI_UNKNOWN;
	if (!kf->running)
		return;
	switch (ctx->facts->os.family) {
	case OS_FAMILY_DEBIAN: {
		/* Signed images are linux-image-*, unsigned ones (Ubuntu) linux-image-unsigned-*. */
		static const char *const prefixes[] = { "linux-image-", "linux-image-unsigned-" };

		kf->running_is_distro = TRI_NO;
		for (size_t i = 0; i < ELEMENTSOF(prefixes); i++) {
			if (root_exists(ctx->root, path_fmt(path, "var/lib/dpkg/info/%s%s.list",
							    prefixes[i], kf->running)) > 0) {
				kf->running_is_distro = TRI_YES;
				if (asprintf(&kf->running_package, "%s%s", prefixes[i], kf->running) < 0)
					kf->running_package = NULL;
				/* Debian's says the upstream it is based on ("6.1.76-1"), which
				 * the driver x kernel rules compare. */
				else if (dpkg_package_version(ctx->root, kf->running_package, &kf->running_package_version) < 0)
					kf->running_package_version = NULL;
				return;
			}
		}
		return;
	}
	case OS_FAMILY_RHEL:
	case OS_FAMILY_OPENEULER:
	case OS_FAMILY_KYLIN:
		/* The kernel RPMs ship the image in lib/modules; `make install` does not. */
		if (root_exists(ctx->root, path_fmt(path, "lib/modules/%s/vmlinuz", kf->running)) > 0) {
			kf->running_is_distro = TRI_YES;
			kf->running_package = strdup(path);
		} else
			kf->running_is_distro = TRI_NO;
		return;
	default:
		return;
	}
}

int kernel_detect(const struct detect_ctx *ctx)
{
	struct facts *f = ctx->facts;
	struct kernel_facts *kf = &f->kernels;
	_cleanup_free_ char *no_kmod = NULL;
	int k;

	k = root_read_line(ctx->sys, "proc/sys/kernel/osrelease", &kf->running);
	if (k == -ENOMEM)
		return k;
	if (k < 0 || !*kf->running || strpbrk(kf->running, "/ \t")) {
		facts_warn(f, "proc/sys/kernel/osrelease: %s", k < 0 ? gp_strerror(k) : "not a kernel release");
		kf->running = mfree(kf->running);
	}

	k = kernel_collect(ctx);
	if (k < 0)
		return k;
	kernel_check_distro(ctx);

	for (size_t i = 0; i < kf->n; i++) {
		struct kernel *kern = &kf->list[i];
		char path[PATH_MAX];

		kern->running = streq_ptr(kern->release, kf->running);
		kern->flavour = kernel_flavour(kern->release, f->os.family);
		kern->has_image =
			root_exists(ctx->root, path_fmt(path, "boot/vmlinuz-%s", kern->release)) > 0 ||
			root_exists(ctx->root, path_fmt(path, "lib/modules/%s/vmlinuz", kern->release)) > 0;
		kern->has_initramfs =
			root_exists(ctx->root, path_fmt(path, "boot/initrd.img-%s", kern->release)) > 0 ||
			root_exists(ctx->root, path_fmt(path, "boot/initramfs-%s.img", kern->release)) > 0;
		kern->has_modules =
			root_is_dir(ctx->root, path_fmt(path, "lib/modules/%s", kern->release));
		kern->boot_bytes = kernel_boot_bytes(ctx->root, kern->release);
		kernel_read_config(ctx->root, kern);
		if (kern->has_modules) {
			/* Why libkmod cannot be loaded is asked once: the same for every kernel. */
			k = kernel_read_nvidia(ctx, kern, no_kmod ? NULL : &no_kmod);
			if (k == -ENOMEM)
				return k;
			if (k < 0 && k != -GPE_LIBRARY)
				facts_warn(f, "lib/modules/%s: cannot read the nvidia module: %s",
					   kern->release, gp_strerror(k));
		}
	}
	/* Once for all kernels; what libkmod would have read stays unknown, detect goes on. */
	if (no_kmod)
		facts_warn(f, "%s; the version, licence and signature of such a module stay "
			   "unknown", no_kmod);
	return 0;
}

enum tristate kernel_kconfig_ok(const struct kernel *kern, enum kconfig_option opt)
{
	bool set;

	if (!kern->kconfig[opt])
		return TRI_UNKNOWN;
	set = kern->kconfig[opt] != 'n';
	return set == kconfig_rules[opt].want_set ? TRI_YES : TRI_NO;
}
