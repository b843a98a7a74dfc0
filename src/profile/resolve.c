/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The resolver: "the framework fixes CUDA, CUDA fixes the driver, the driver fixes the
 * kernel". Candidates come from the repository view; every constraint that rules one out is
 * recorded with the knowledge it came from, so a refusal says exactly why.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>

#include "profile/resolve.h"
#include "util/errors.h"
#include "util/strutil.h"
#include "util/vercmp.h"

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

struct rctx {
	const struct resolve_input *in;
	struct resolution *res;
	const char *source;
	enum os_family family;
	enum vercmp_order kernel_order; /* the OS package manager's, for kernel releases */
	/* what the GPUs demand */
	const char *gpu_min;          /* highest first-supporting driver of the GPUs */
	const cJSON *gpu_min_entry;
	const cJSON *open_required;   /* a GPU that works only with the open modules */
	struct driver_cand *drivers;
	size_t n_drivers;
	struct kernel_cand *kernels;
	bool *kernel_ok; /* the profile's and the OS's verdict on each kernel, judged once */
	size_t n_kernels;
	struct toolkit_cand *toolkits;
	size_t n_toolkits;
};

static int add_line(char ***list, size_t *n, const char *fmt, ...) _printf_(3, 4);
static int add_line(char ***list, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = strv_pushv(list, n, fmt, ap);
	va_end(ap);
	if (k < 0)
		return k;
	/* The same refusal found through several toolkits is said once. */
	for (size_t i = 0; i + 1 < *n; i++)
		if (streq((*list)[i], (*list)[*n - 1])) {
			free((*list)[--*n]);
			(*list)[*n] = NULL;
			break;
		}
	return 0;
}

#define REFUSE(c, ...) add_line(&(c)->res->refusals, &(c)->res->n_refusals, __VA_ARGS__)
#define REASON(c, ...) add_line(&(c)->res->reasons, &(c)->res->n_reasons, __VA_ARGS__)
#define WARN(c, ...) add_line(&(c)->res->warnings, &(c)->res->n_warnings, __VA_ARGS__)

static const char *src(const cJSON *entry)
{
	const char *s = json_str(entry, "source");

	return s ? s : "gpuprov knowledge";
}

/* ---- the GPUs ------------------------------------------------------------------------ */

static int gather_gpus(struct rctx *c)
{
	const struct facts *f = c->in->facts;

	for (size_t i = 0; i < f->pci.n_gpus; i++) {
		const struct pci_dev *g = &f->pci.gpus[i];
		const cJSON *e = kn_gpu(c->in->knowledge, g->vendor, g->device);
		const char *min;

		if (!e) {
			int k = WARN(c, "GPU %04x:%04x at %s is not in the knowledge: no minimum driver is known for it",
				     g->vendor, g->device, g->bdf);
			if (k < 0)
				return k;
			continue;
		}
		min = json_str(e, "min_driver");
		if (min && (!c->gpu_min || vercmp_dotted(min, c->gpu_min) > 0)) {
			c->gpu_min = min;
			c->gpu_min_entry = e;
		}
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "open_required")) && !c->open_required)
			c->open_required = e;
	}
	return 0;
}

/* ---- candidates ---------------------------------------------------------------------- */

static struct driver_cand *driver_slot(struct rctx *c, const char *version)
{
	struct driver_cand *p;

	for (size_t i = 0; i < c->n_drivers; i++)
		if (streq(c->drivers[i].version, version))
			return &c->drivers[i];
	p = realloc(c->drivers, (c->n_drivers + 1) * sizeof(*p));
	if (!p)
		return NULL;
	c->drivers = p;
	p = &p[c->n_drivers++];
	*p = (struct driver_cand){};
	snprintf(p->version, sizeof(p->version), "%s", version);
	snprintf(p->branch, sizeof(p->branch), "%.3s", version);
	return p;
}

/* Offers of one package: each version a driver candidate of the given flavour. */
static int offer_package(struct rctx *c, const char *name, bool open)
{
	const struct repo_view *v = c->in->repo;
	size_t n, first = repo_find(v, name, &n);

	for (size_t i = first; i < first + n; i++) {
		char up[VERSION_LEN];
		struct driver_cand *d;

		upstream_version(v->pkgs[i].version, up, sizeof(up));
		if (strlen(up) < 4 || up[3] != '.')
			continue;
		if (!(d = driver_slot(c, up)))
			return -ENOMEM;
		if (open && !*d->open_pkgver)
			snprintf(d->open_pkgver, sizeof(d->open_pkgver), "%s", v->pkgs[i].version);
		if (!open && !*d->prop_pkgver)
			snprintf(d->prop_pkgver, sizeof(d->prop_pkgver), "%s", v->pkgs[i].version);
	}
	return 0;
}

static int cmp_driver(const void *a, const void *b)
{
	return vercmp_dotted(((const struct driver_cand *)b)->version, ((const struct driver_cand *)a)->version);
}

static int gather_drivers(struct rctx *c)
{
	const struct repo_view *v = c->in->repo;
	int k = 0;

	if (streq(c->source, "distro")) {
		/* Ubuntu's archive: nvidia-headless-<br>-server[-open] (FACTS 6). */
		for (size_t i = 0; i < v->n_pkgs && k >= 0; i++) {
			const char *rest = startswith(v->pkgs[i].name, "nvidia-headless-");

			/* Each package once (the view lists every version). */
			if (!rest || strspn(rest, "0123456789") != 3 || (i && streq(v->pkgs[i - 1].name, v->pkgs[i].name)))
				continue;
			if (streq(rest + 3, "-server-open"))
				k = offer_package(c, v->pkgs[i].name, true);
			else if (streq(rest + 3, "-server"))
				k = offer_package(c, v->pkgs[i].name, false);
		}
	} else if (streq(c->source, "nvidia-repo") && c->family == OS_FAMILY_DEBIAN) {
		/* NVIDIA's repository: nvidia-open (open), cuda-drivers-<br> (proprietary). */
		k = offer_package(c, "nvidia-open", true);
		for (size_t i = 0; i < v->n_pkgs && k >= 0; i++) {
			const char *rest = startswith(v->pkgs[i].name, "cuda-drivers-");

			if (rest && strlen(rest) == 3 && strspn(rest, "0123456789") == 3 &&
			    !(i && streq(v->pkgs[i - 1].name, v->pkgs[i].name)))
				k = offer_package(c, v->pkgs[i].name, false);
		}
	} else if (streq(c->source, "nvidia-repo")) {
		/* RHEL family: nvidia-driver with kmod-nvidia-open-dkms or kmod-nvidia-latest-dkms. */
		size_t n, first = repo_find(v, "nvidia-driver", &n);

		for (size_t i = first; i < first + n && k >= 0; i++) {
			static const struct {
				const char *kmod;
				bool open;
			} kmods[] = { { "kmod-nvidia-open-dkms", true }, { "kmod-nvidia-latest-dkms", false } };
			char up[VERSION_LEN];
			struct driver_cand *d;

			upstream_version(v->pkgs[i].version, up, sizeof(up));
			if (!(d = driver_slot(c, up)))
				return -ENOMEM;
			for (size_t m = 0; m < ELEMENTSOF(kmods); m++) {
				size_t kn, kf = repo_find(v, kmods[m].kmod, &kn);

				char *pkgver = kmods[m].open ? d->open_pkgver : d->prop_pkgver;

				for (size_t j = kf; j < kf + kn; j++) {
					char kup[VERSION_LEN];

					upstream_version(v->pkgs[j].version, kup, sizeof(kup));
					/* The view lists the revisions newest first: the first one stays. */
					if (streq(kup, up) && !*pkgver)
						snprintf(pkgver, VERSION_LEN, "%s", v->pkgs[i].version);
				}
			}
		}
	} else {
		/* NVIDIA's .run installers build either flavour (-m=kernel-open for open). */
		for (size_t i = 0; i < v->n_runfiles; i++) {
			const struct repo_runfile *r = &v->runfiles[i];
			struct driver_cand *d;

			if (!streq(r->kind, "driver") || !streq_ptr(r->arch, c->in->facts->cpu.arch))
				continue;
			if (!(d = driver_slot(c, r->version)))
				return -ENOMEM;
			d->runfile = r;
			snprintf(d->open_pkgver, sizeof(d->open_pkgver), "%s", r->version);
			snprintf(d->prop_pkgver, sizeof(d->prop_pkgver), "%s", r->version);
		}
	}
	if (k < 0)
		return k;
	if (c->n_drivers > 1)
		qsort(c->drivers, c->n_drivers, sizeof(*c->drivers), cmp_driver);
	return 0;
}

/* Newest first; order: the rctx's kernel_order. */
static int cmp_kernel(const void *a, const void *b, void *order)
{
	const struct kernel_cand *x = a, *y = b;
	int r = vercmp(*(const enum vercmp_order *)order, y->release, x->release);

	return r ? r : (int)y->installed - (int)x->installed;
}

static struct kernel_cand *kernel_find(const struct rctx *c, const char *release)
{
	for (size_t i = 0; i < c->n_kernels; i++)
		if (streq(c->kernels[i].release, release))
			return &c->kernels[i];
	return NULL;
}

static int kernel_add(struct rctx *c, const char *release, const char *pkgver, bool installed)
{
	struct kernel_cand *p;

	if ((p = kernel_find(c, release))) {
		p->installed |= installed;
		if (pkgver && !*p->pkgver)
			snprintf(p->pkgver, VERSION_LEN, "%s", pkgver);
		return 0;
	}
	p = realloc(c->kernels, (c->n_kernels + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	c->kernels = p;
	p = &p[c->n_kernels++];
	*p = (struct kernel_cand){ .installed = installed };
	snprintf(p->release, sizeof(p->release), "%s", release);
	snprintf(p->pkgver, sizeof(p->pkgver), "%s", pkgver ? pkgver : "");
	p->running = streq_ptr(release, c->in->facts->kernels.running);
	return 0;
}

static int gather_kernels(struct rctx *c)
{
	const struct facts *f = c->in->facts;
	const struct repo_view *v = c->in->repo;
	int k = 0;

	for (size_t i = 0; i < f->kernels.n && k >= 0; i++)
		if (f->kernels.list[i].has_image)
			k = kernel_add(c, f->kernels.list[i].release, NULL, true);
	if (c->family == OS_FAMILY_DEBIAN) {
		for (size_t i = 0; i < v->n_pkgs && k >= 0; i++) {
			const char *rel = startswith(v->pkgs[i].name, "linux-image-");

			/* Versioned images only: "linux-image-6.8.0-49-generic", not metas. */
			if (rel && *rel >= '0' && *rel <= '9')
				k = kernel_add(c, rel, v->pkgs[i].version, false);
		}
	} else if (c->family != OS_FAMILY_UNKNOWN) {
		static const struct {
			const char *pkg, *suffix;
		} rpms[] = { { "kernel", "" }, { "kernel-64k", "+64k" } };

		for (size_t m = 0; m < ELEMENTSOF(rpms) && k >= 0; m++) {
			size_t n, first = repo_find(v, rpms[m].pkg, &n);

			for (size_t i = first; i < first + n && k >= 0; i++) {
				char rel[VERSION_LEN];

				/* The RPM's version-release plus the arch is the kernel release. */
				snprintf(rel, sizeof(rel), "%s.%s%s", v->pkgs[i].version, strna(f->cpu.arch), rpms[m].suffix);
				k = kernel_add(c, rel, v->pkgs[i].version, false);
			}
		}
	}
	if (k < 0)
		return k;
	if (c->n_kernels > 1)
		qsort_r(c->kernels, c->n_kernels, sizeof(*c->kernels), cmp_kernel, &c->kernel_order);
	return 0;
}

static int toolkit_add(struct rctx *c, const char *version, const char *pkg, const char *pkgver,
		       const struct repo_runfile *r)
{
	struct toolkit_cand *p = realloc(c->toolkits, (c->n_toolkits + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	c->toolkits = p;
	p = &p[c->n_toolkits++];
	*p = (struct toolkit_cand){ .runfile = r };
	snprintf(p->version, sizeof(p->version), "%s", version);
	snprintf(p->pkg, sizeof(p->pkg), "%s", pkg);
	snprintf(p->pkgver, sizeof(p->pkgver), "%s", pkgver);
	return 0;
}

static int cmp_toolkit(const void *a, const void *b)
{
	const struct toolkit_cand *x = a, *y = b;
	int r = vercmp_dotted(y->version, x->version);

	/* Ties (one version from two places) by name, so the order of the lists never shows. */
	return r ? r : strcmp(x->pkg, y->pkg);
}

/* Toolkits the profile accepts: its exact minor, or every one from its minimum. */
static bool toolkit_wanted(const struct profile *p, const char *version)
{
	char minor[32];
	const char *dot = strchr(version, '.');

	snprintf(minor, sizeof(minor), "%.*s", dot ? (int)(dot - version + 1 + strspn(dot + 1, "0123456789")) : 0, version);
	if (p->cuda_version)
		return streq(minor, p->cuda_version);
	return vercmp_dotted(minor, p->cuda_min_version) >= 0;
}

static int gather_toolkits(struct rctx *c)
{
	const struct profile *p = c->in->profile;
	const struct repo_view *v = c->in->repo;
	int k = 0;

	if (!p->cuda_version && !p->cuda_min_version)
		return 0;
	if (streq(c->source, "runfile")) {
		/* CUDA's arm64 server installers are "sbsa", the driver's "aarch64". */
		const char *arch = streq_ptr(c->in->facts->cpu.arch, "aarch64") ? "sbsa" : c->in->facts->cpu.arch;

		for (size_t i = 0; i < v->n_runfiles && k >= 0; i++)
			if (streq(v->runfiles[i].kind, "cuda") && streq_ptr(v->runfiles[i].arch, arch) &&
			    toolkit_wanted(p, v->runfiles[i].version))
				k = toolkit_add(c, v->runfiles[i].version, v->runfiles[i].file, v->runfiles[i].version,
						&v->runfiles[i]);
	} else {
		/* cuda-toolkit-12-4 = 12.4.1-1 (NVIDIA's repository, both families). */
		for (size_t i = 0; i < v->n_pkgs && k >= 0; i++) {
			const char *rest = startswith(v->pkgs[i].name, "cuda-toolkit-");
			char up[VERSION_LEN];

			if (!rest || !strchr(rest, '-') || strspn(rest, "0123456789-") != strlen(rest))
				continue;
			upstream_version(v->pkgs[i].version, up, sizeof(up));
			if (toolkit_wanted(p, up))
				k = toolkit_add(c, up, v->pkgs[i].name, v->pkgs[i].version, NULL);
		}
	}
	if (k < 0)
		return k;
	if (c->n_toolkits > 1)
		qsort(c->toolkits, c->n_toolkits, sizeof(*c->toolkits), cmp_toolkit);
	return 0;
}

/* ---- constraints --------------------------------------------------------------------- */

/* The module flavour this driver is installed with, or NULL (refusal recorded). */
static const char *driver_flavour(struct rctx *c, const struct driver_cand *d, int *k)
{
	const struct profile *p = c->in->profile;
	const char *open_from = kn_open_default_from(c->in->knowledge);
	const char *want = p->driver_flavour;
	const cJSON *options = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p->doc, "modprobe"), "options");
	const cJSON *conflict;

	if (streq(want, "auto"))
		want = c->open_required || (open_from && vercmp_dotted(d->branch, open_from) >= 0) ? "open"
														: "proprietary";
	if (streq(want, "proprietary") && c->open_required) {
		*k = REFUSE(c, "driver %s: the %s works only with the open kernel modules, the profile asks for proprietary [%s]",
			    d->version, json_str(c->open_required, "name"), src(c->open_required));
		return NULL;
	}
	want = streq(want, "open") ? "open" : "proprietary";
	/* A module option the knowledge says breaks this flavour (NVreg_EnableGpuFirmware=0 with
	 * the open modules): "auto" takes the other flavour when it can, else a refusal. */
	if ((conflict = kn_module_option_conflict(c->in->knowledge, want, options))) {
		if (streq(p->driver_flavour, "auto") && streq(want, "open") && !c->open_required && *d->prop_pkgver)
			want = "proprietary";
		else {
			*k = REFUSE(c, "driver %s: modprobe.options %s %s=%s breaks the %s kernel modules: %s [%s]", d->version,
				    json_str(conflict, "module"), json_str(conflict, "option"), json_str(conflict, "value"),
				    want, strna(json_str(conflict, "why")), src(conflict));
			return NULL;
		}
	}
	if (!*(streq(want, "open") ? d->open_pkgver : d->prop_pkgver)) {
		*k = REFUSE(c, "driver %s: not offered with the %s kernel modules by %s", d->version, want, c->source);
		return NULL;
	}
	return want;
}

static bool fabricmanager_needed(const struct rctx *c)
{
	const char *fm = c->in->profile->fabricmanager;

	return streq(fm, "on") || (streq(fm, "auto") && c->in->facts->pci.n_nvswitches > 0);
}

/* The fabric manager package at exactly the driver's version, or "" (none offered). */
static void fabricmanager_pkg(const struct rctx *c, const struct driver_cand *d, char *name, size_t nsize,
			      char *ver, size_t vsize)
{
	const struct repo_view *v = c->in->repo;
	size_t n, first;

	*ver = '\0';
	snprintf(name, nsize, c->family == OS_FAMILY_DEBIAN ? "nvidia-fabricmanager-%s" : "nvidia-fabric-manager",
		 d->branch);
	first = repo_find(v, name, &n);
	for (size_t i = first; i < first + n; i++) {
		char up[VERSION_LEN];

		upstream_version(v->pkgs[i].version, up, sizeof(up));
		if (streq(up, d->version)) {
			snprintf(ver, vsize, "%s", v->pkgs[i].version);
			return;
		}
	}
}

/* Constraints on a driver that no kernel changes. Returns 1: acceptable, 0: ruled out. */
static int driver_acceptable(struct rctx *c, const struct driver_cand *d, const char *floor,
			     const cJSON *floor_entry, const char *toolkit, const char **ret_flavour)
{
	const struct profile *p = c->in->profile;
	const cJSON *entry;
	int k = 0;

	if (p->driver_branch && !streq(d->branch, p->driver_branch))
		k = REFUSE(c, "driver %s: not of branch %s (driver.branch)", d->version, p->driver_branch);
	else if (p->driver_min_branch && vercmp_dotted(d->branch, p->driver_min_branch) < 0)
		k = REFUSE(c, "driver %s: older than branch %s (driver.min_branch)", d->version, p->driver_min_branch);
	else if (p->driver_min_version && vercmp_dotted(d->version, p->driver_min_version) < 0)
		k = REFUSE(c, "driver %s: older than %s (driver.min_version)", d->version, p->driver_min_version);
	else if (floor && vercmp_dotted(d->version, floor) < 0)
		k = REFUSE(c, "driver %s: CUDA %s needs %s or newer [%s]", d->version, toolkit, floor, src(floor_entry));
	else if (c->gpu_min && vercmp_dotted(d->version, c->gpu_min) < 0)
		k = REFUSE(c, "driver %s: the %s is supported from %s [%s]", d->version,
			   json_str(c->gpu_min_entry, "name"), c->gpu_min, src(c->gpu_min_entry));
	else if (!p->driver_allow_eol && kn_branch_eol(c->in->knowledge, d->branch, c->in->today, &entry))
		k = REFUSE(c, "driver %s: branch %s reached its end of life in %s and driver.allow_eol is false [%s]",
			   d->version, d->branch, json_str(entry, "eol"), src(entry));
	else if (c->in->facts->boot.secure_boot == TRI_YES && !streq(c->source, "distro"))
		k = REFUSE(c, "driver %s: Secure Boot is on and %s builds unsigned modules with DKMS (a MOK needs a console) [%s]",
			   d->version, c->source, "FACTS 8: Secure Boot; GPU Operator precompiled signed drivers");
	else if (!(*ret_flavour = driver_flavour(c, d, &k)))
		;
	else if (fabricmanager_needed(c)) {
		char name[64], ver[VERSION_LEN];

		fabricmanager_pkg(c, d, name, sizeof(name), ver, sizeof(ver));
		if (streq(c->source, "runfile"))
			k = REFUSE(c, "driver %s: the fabric manager is needed (NVSwitches) and is not offered for a runfile driver", d->version);
		else if (!*ver)
			k = REFUSE(c, "driver %s: the fabric manager must be the driver's exact version and %s %s is not offered [%s]",
				   d->version, name, d->version, strna(kn_fabricmanager_source(c->in->knowledge)));
		else
			return 1;
	} else
		return 1;
	return k < 0 ? k : 0;
}

/* A kernel flavour as the profile names it: "64k" fits "nvidia-64k" and "generic-64k". */
static bool flavour_fits(const char *have, const char *want)
{
	size_t h, w;

	if (!have || !want)
		return streq_ptr(have, want);
	h = strlen(have), w = strlen(want);
	return streq(have, want) || (h > w && have[h - w - 1] == '-' && streq(have + h - w, want));
}

/* The profile's kernel_config against an installed kernel's config. A kernel still in the
 * repository cannot be read before it is installed: verify checks it after the switch. */
static int kernel_config_acceptable(struct rctx *c, const struct kernel_cand *kc)
{
	const struct kernel *kern = facts_kernel(c->in->facts, kc->release);
	const cJSON *x;
	int k;

	if (!kern || !kern->has_config)
		return 1;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(c->in->profile->doc, "kernel_config")) {
		for (int o = 0; o < _KCONFIG_MAX; o++) {
			if (!streq(kconfig_rules[o].name, x->valuestring) || kern->kconfig[o] != 'n')
				continue;
			k = REFUSE(c, "kernel %s: %s is not set and the profile requires it (kernel_config): %s", kc->release,
				   x->valuestring, kconfig_rules[o].reason);
			return k < 0 ? k : 0;
		}
	}
	return 1;
}

/* Profile and OS constraints on a kernel, whatever the driver. */
static int kernel_acceptable(struct rctx *c, const struct kernel_cand *kc, const cJSON *os)
{
	const struct profile *p = c->in->profile;
	const struct facts *f = c->in->facts;
	_cleanup_free_ char *flav = kernel_flavour(kc->release, c->family);
	char series[32];
	const char *want = p->kernel_flavour, *kind;
	const cJSON *failed;
	bool exact = !want;
	int k;

	/* No flavour asked for: stay on the running kernel's, exactly ("amd64" is not
	 * "cloud-amd64"). A flavour the profile names may be a suffix ("64k"). */
	if (!want && facts_running_kernel(f))
		want = facts_running_kernel(f)->flavour;
	if (!kernel_series_of(kc->release, series, sizeof(series)))
		return REFUSE(c, "kernel %s: not a release gpuprov can read", kc->release) < 0 ? -ENOMEM : 0;
	if (!kc->running && (failed = json_find_by(c->in->failed_kernels, "kernel", kc->release))) {
		const cJSON *why = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(failed, "failed"), 0);

		/* A warning too: a refusal is not shown when another kernel is chosen. */
		k = WARN(c, "kernel %s: verify rolled it back on this node at %s (%s); it is not chosen again without --retry-failed",
			 kc->release, strna(json_str(failed, "at")), cJSON_IsString(why) ? why->valuestring : "no check named");
		if (k >= 0)
			k = REFUSE(c, "kernel %s: verify rolled it back on this node; --retry-failed allows it again", kc->release);
		return k < 0 ? k : 0;
	}
	if (p->kernel_release && !streq(kc->release, p->kernel_release))
		k = REFUSE(c, "kernel %s: the profile wants exactly %s (kernel.release)", kc->release, p->kernel_release);
	else if (want && !p->kernel_release && (exact ? !streq_ptr(flav, want) : !flavour_fits(flav, want)))
		k = REFUSE(c, "kernel %s: flavour %s, the profile wants %s", kc->release, strna(flav), want);
	else if (p->kernel_series && !streq(series, p->kernel_series))
		k = REFUSE(c, "kernel %s: series %s, the profile wants %s (kernel.series)", kc->release, series, p->kernel_series);
	else if (p->kernel_min && vercmp_dotted(series, p->kernel_min) < 0)
		k = REFUSE(c, "kernel %s: series %s is below kernel.min %s", kc->release, series, p->kernel_min);
	else if (p->kernel_max && vercmp_dotted(series, p->kernel_max) > 0)
		k = REFUSE(c, "kernel %s: series %s is above kernel.max %s", kc->release, series, p->kernel_max);
	else if (os && !(kind = kn_os_series_kind(os, series)) && !kc->installed)
		k = REFUSE(c, "kernel %s: series %s is not one %s ships [%s]", kc->release, series, json_str(os, "os"), src(os));
	else if (os && kind && streq(kind, "hwe") && !p->kernel_hwe)
		k = REFUSE(c, "kernel %s: series %s is %s's HWE series and kernel.hwe is false [%s]", kc->release,
			   series, json_str(os, "os"), src(os));
	else
		return kernel_config_acceptable(c, kc);
	return k < 0 ? k : 0;
}

/* Ubuntu's precompiled, Canonical-signed modules for a kernel, or "" when none. */
static void precompiled_pkg(const struct rctx *c, const struct driver_cand *d, const char *flavour,
			    const char *release, char *name, size_t nsize, char *ver, size_t vsize)
{
	size_t n, first;

	snprintf(name, nsize, "linux-modules-nvidia-%s-server%s-%s", d->branch, streq(flavour, "open") ? "-open" : "",
		 release);
	first = repo_find(c->in->repo, name, &n);
	snprintf(ver, vsize, "%s", n ? c->in->repo->pkgs[first].version : "");
}

/* Whether the driver's modules for this kernel are built by DKMS (not precompiled). */
static bool uses_dkms(const struct rctx *c, const struct driver_cand *d, const char *flavour, const char *release);

/*
 * The package with the kernel's headers, which DKMS (and the .run installer) builds the
 * modules against: linux-headers-<release> (Debian family) or kernel-devel /
 * kernel-64k-devel (RPM), at exactly the kernel's version. False when neither offered nor
 * installed.
 */
static bool build_dep(const struct rctx *c, const struct kernel_cand *kc, char *name, size_t nsize, char *ver,
		      size_t vsize)
{
	const struct repo_view *v = c->in->repo;
	size_t n, first;

	*ver = '\0';
	if (c->family == OS_FAMILY_DEBIAN) {
		snprintf(name, nsize, "linux-headers-%s", kc->release);
		first = repo_find(v, name, &n);
		for (size_t i = first; i < first + n; i++)
			if (!*kc->pkgver || streq(v->pkgs[i].version, kc->pkgver)) {
				snprintf(ver, vsize, "%s", v->pkgs[i].version);
				return true;
			}
		/* Installed already (dpkg): the kernel it came with. */
		for (size_t i = 0; i < v->n_installed; i++)
			if (streq(v->installed[i].name, name)) {
				snprintf(ver, vsize, "%s", v->installed[i].version);
				return true;
			}
		return false;
	}
	/* The RPM version is the release without ".<arch>" and "+64k". */
	snprintf(name, nsize, "%s", strstr(kc->release, "+64k") ? "kernel-64k-devel" : "kernel-devel");
	snprintf(ver, vsize, "%s", kc->release);
	ver[strcspn(ver, "+")] = '\0';
	if (c->in->facts->cpu.arch && strlen(ver) > strlen(c->in->facts->cpu.arch) + 1) {
		char *dot = ver + strlen(ver) - strlen(c->in->facts->cpu.arch) - 1;

		if (*dot == '.' && streq(dot + 1, c->in->facts->cpu.arch))
			*dot = '\0';
	}
	if (repo_offered(v, name, ver))
		return true;
	/* Without an RPM database, an installed kernel's devel package cannot be seen: an
	 * installed kernel is taken to have it, as dnf would install it beside. */
	return kc->installed;
}

/* A PREEMPT_RT kernel: the running one by its config, the others by their flavour
 * ("realtime" on Ubuntu, "rt" on Debian and RHEL). */
static bool kernel_is_rt(const struct rctx *c, const struct kernel_cand *kc)
{
	_cleanup_free_ char *flav = kernel_flavour(kc->release, c->family);
	const struct kernel *kern = facts_kernel(c->in->facts, kc->release);

	if (kern && kern->has_config)
		return kern->kconfig[KCONFIG_PREEMPT_RT] == 'y';
	return flav && (strstr(flav, "realtime") || streq(flav, "rt") || startswith(flav, "rt-") || strstr(flav, "-rt"));
}

/* The knowledge's entry for a risk condition ("preempt-rt"), for its message and source. */
static const cJSON *risk_entry(const struct rctx *c, const char *condition)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, kn_risks(c->in->knowledge))
		if (streq_ptr(json_str(r, "condition"), condition))
			return r;
	return NULL;
}

/* A risk of severity error that a driver and a kernel fall in together (kernel_from with
 * driver_below: "kernel >= 6.6 with a driver older than R535"). */
static const cJSON *risk_new_kernel_old_driver(const struct rctx *c, const struct driver_cand *d,
					       const struct kernel_cand *kc)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, kn_risks(c->in->knowledge))
		if (streq_ptr(json_str(r, "severity"), "error") && json_str(r, "kernel_from") && json_str(r, "driver_below") &&
		    vercmp(c->kernel_order, kc->release, json_str(r, "kernel_from")) >= 0 &&
		    vercmp_dotted(d->version, json_str(r, "driver_below")) < 0)
			return r;
	return NULL;
}

/* The driver with this kernel: known failures, and modules that can load under Secure Boot. */
/* What a new kernel will take in /boot: the running one's files plus a quarter, or 128 MiB
 * where those cannot be told (initramfs images of GPU nodes run to 100 MiB and more). */
static uint64_t boot_space_needed(const struct facts *f)
{
	const struct kernel *k = facts_running_kernel(f);
	uint64_t base = k && k->boot_bytes ? k->boot_bytes : 128ull << 20;

	return base + base / 4;
}

/* Can this machine switch to the kernel at all: room in /boot, and a boot-once entry GRUB
 * must clear as it boots it, in its own environment block or in gpuprov's on the ESP where
 * it cannot write its own; where it can write neither, only the running kernel is safe. */
static int switch_acceptable(struct rctx *c, const struct kernel_cand *kc)
{
	const struct facts *f = c->in->facts;
	uint64_t need = boot_space_needed(f);
	int k;

	if (!kc->running && !kc->installed && f->disk.boot.have_space && f->disk.boot.free_bytes < need)
		k = REFUSE(c, "kernel %s: /boot has %llu MiB free and a kernel with its initramfs needs about %llu MiB (the running kernel's files, plus a quarter)",
			   kc->release, (unsigned long long)(f->disk.boot.free_bytes >> 20), (unsigned long long)(need >> 20));
	else if (!kc->running && facts_boot_once(f) == BOOT_ONCE_NONE)
		k = REFUSE(c, "kernel %s: a switch needs a boot-once entry GRUB can clear, and the GRUB environment block is %s, with no EFI System Partition to hold one instead (%s); only the running kernel can be kept [FACTS 8]",
			   kc->release, strna(f->disk.grubenv_reason), strna(f->disk.esp_reason));
	else
		return 1;
	return k < 0 ? k : 0;
}

static int pair_acceptable(struct rctx *c, const struct driver_cand *d, const char *flavour,
			   const struct kernel_cand *kc)
{
	const struct facts *f = c->in->facts;
	const cJSON *fail = kn_kernel_failure(c->in->knowledge, d->version, flavour, kc->release, c->kernel_order);
	char name[256], ver[VERSION_LEN];
	int k = switch_acceptable(c, kc);

	if (k <= 0)
		return k;
	if (fail)
		k = REFUSE(c, "kernel %s with driver %s: %s%s%s [%s]", kc->release, d->version,
			   strna(json_str(fail, "symptom")), json_str(fail, "fixed_in") ? "; fixed in " : "",
			   json_str(fail, "fixed_in") ? json_str(fail, "fixed_in") : "", src(fail));
	else if ((fail = risk_new_kernel_old_driver(c, d, kc)))
		k = REFUSE(c, "kernel %s with driver %s: %s [%s]", kc->release, d->version, strna(json_str(fail, "message")),
			   src(fail));
	else if (kernel_is_rt(c, kc)) {
		const cJSON *rt = risk_entry(c, "preempt-rt");

		k = REFUSE(c, "kernel %s with driver %s: a PREEMPT_RT kernel: %s [%s]", kc->release, d->version,
			   strna(json_str(rt, "message")), src(rt));
	} else if (uses_dkms(c, d, flavour, kc->release) && !build_dep(c, kc, name, sizeof(name), ver, sizeof(ver)))
		k = REFUSE(c, "kernel %s with driver %s: the modules are built by DKMS and %s%s%s is not offered",
			   kc->release, d->version, name, *ver ? " " : "", ver);
	else if (streq(c->source, "distro") && f->boot.secure_boot == TRI_YES) {
		precompiled_pkg(c, d, flavour, kc->release, name, sizeof(name), ver, sizeof(ver));
		if (*ver)
			return 1;
		k = REFUSE(c, "kernel %s with driver %s: Secure Boot is on and %s is not offered; unsigned DKMS modules would not load [FACTS 6: precompiled and Canonical signed drivers]",
			   kc->release, d->version, name);
	} else
		return 1;
	return k < 0 ? k : 0;
}

static bool uses_dkms(const struct rctx *c, const struct driver_cand *d, const char *flavour, const char *release)
{
	char name[256], ver[VERSION_LEN];

	if (!streq(c->source, "distro"))
		return true; /* NVIDIA's packages build with DKMS; the .run installer too */
	precompiled_pkg(c, d, flavour, release, name, sizeof(name), ver, sizeof(ver));
	return !*ver;
}

/* ---- the picks ----------------------------------------------------------------------- */

/* Adds a package to the stack. Installed or not is dpkg's answer where there is one (an
 * nvidia.ko of the right version may be a DKMS build, not the signed package); elsewhere
 * what detect found (guess). */
static int pick(struct rctx *c, const char *name, const char *version, const char *role, bool guess)
{
	struct resolution *r = c->res;
	int known = version ? repo_installed(c->in->repo, name, version) : -1;
	bool installed = known >= 0 ? known : guess;
	struct pick *p = realloc(r->picks, (r->n_picks + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	r->picks = p;
	p = &p[r->n_picks++];
	*p = (struct pick){ strdup(name), strdup(version ? version : ""), strdup(role), installed };
	return p->name && p->version && p->role ? 0 : -ENOMEM;
}

/* The newest offered version of a package, or NULL. */
static const char *offered(const struct rctx *c, const char *name)
{
	size_t n, first = repo_find(c->in->repo, name, &n);

	return n ? c->in->repo->pkgs[first].version : NULL;
}

static bool facts_has_cuda(const struct facts *f, const char *version)
{
	for (size_t i = 0; i < f->nvidia.n_cuda; i++)
		if (streq_ptr(f->nvidia.cuda[i].version, version))
			return true;
	return false;
}

static int pick_build_dep(struct rctx *c, const struct kernel_cand *kc)
{
	char name[256], ver[VERSION_LEN];

	(void)build_dep(c, kc, name, sizeof(name), ver, sizeof(ver));
	return pick(c, name, *ver ? ver : NULL, "modules", kc->installed && c->family != OS_FAMILY_DEBIAN);
}

/* The kernel is a pick even when installed: pinned and held with the rest. An installed one
 * is pinned at the version the package manager has, when it says. */
static int pick_kernel(struct rctx *c, const struct kernel_cand *kc)
{
	char name[256];

	if (c->family == OS_FAMILY_DEBIAN)
		snprintf(name, sizeof(name), "linux-image-%s", kc->release);
	else
		snprintf(name, sizeof(name), "%s", strstr(kc->release, "+64k") ? "kernel-64k" : "kernel");
	if (!kc->installed)
		return pick(c, name, kc->pkgver, "kernel", false);
	if (c->family == OS_FAMILY_DEBIAN && repo_installed_version(c->in->repo, name))
		return pick(c, name, repo_installed_version(c->in->repo, name), "kernel", true);
	if (c->family != OS_FAMILY_DEBIAN && *kc->pkgver && repo_installed(c->in->repo, name, kc->pkgver) > 0)
		return pick(c, name, kc->pkgver, "kernel", true);
	/* Its files are there but dpkg has not finished the package (a run killed between
	 * unpack and configure): it is installed, held and pinned like a new one. */
	if (c->family == OS_FAMILY_DEBIAN && *kc->pkgver)
		return pick(c, name, kc->pkgver, "kernel", false);
	return 0;
}

/* The profile's own extra packages, at the newest version offered. */
static int pick_extras(struct rctx *c)
{
	const cJSON *x;
	int k;

	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(c->in->profile->doc, "packages"))
		if ((k = pick(c, x->valuestring, offered(c, x->valuestring), "extra", false)) < 0)
			return k;
	return 0;
}

static int build_picks(struct rctx *c, const struct driver_cand *d, const char *flavour,
		       const struct kernel_cand *kc, const struct toolkit_cand *t)
{
	const struct facts *f = c->in->facts;
	struct resolution *r = c->res;
	bool open = streq(flavour, "open");
	const struct kernel *kern = facts_kernel(f, kc->release);
	bool drv_installed = kern && streq_ptr(kern->nvidia_version, d->version) &&
			     streq_ptr(kern->nvidia_flavour, flavour);
	char name[256], ver[VERSION_LEN];
	int k;

	if ((k = pick_kernel(c, kc)) < 0)
		return k;

	if (streq(c->source, "distro")) {
		snprintf(name, sizeof(name), "nvidia-headless-%s-server%s", d->branch, open ? "-open" : "");
		if ((k = pick(c, name, open ? d->open_pkgver : d->prop_pkgver, "driver", drv_installed)) < 0)
			return k;
		snprintf(name, sizeof(name), "nvidia-utils-%s-server", d->branch);
		if (offered(c, name) && (k = pick(c, name, open ? d->open_pkgver : d->prop_pkgver, "driver", drv_installed)) < 0)
			return k;
		precompiled_pkg(c, d, flavour, kc->release, name, sizeof(name), ver, sizeof(ver));
		if (*ver)
			k = pick(c, name, ver, "modules", drv_installed);
		else {
			/* No precompiled modules for this kernel: DKMS builds them (Secure Boot off). */
			snprintf(name, sizeof(name), "nvidia-dkms-%s-server%s", d->branch, open ? "-open" : "");
			if ((k = pick(c, name, open ? d->open_pkgver : d->prop_pkgver, "modules", drv_installed)) < 0)
				return k;
			k = pick_build_dep(c, kc);
		}
	} else if (streq(c->source, "nvidia-repo") && c->family == OS_FAMILY_DEBIAN) {
		if (open)
			k = pick(c, "nvidia-open", d->open_pkgver, "driver", drv_installed);
		else {
			snprintf(name, sizeof(name), "cuda-drivers-%s", d->branch);
			k = pick(c, name, d->prop_pkgver, "driver", drv_installed);
		}
		if (k >= 0)
			k = pick_build_dep(c, kc);
	} else if (streq(c->source, "nvidia-repo")) {
		if ((k = pick(c, "nvidia-driver", open ? d->open_pkgver : d->prop_pkgver, "driver", drv_installed)) >= 0)
			k = pick(c, open ? "kmod-nvidia-open-dkms" : "kmod-nvidia-latest-dkms",
				 open ? d->open_pkgver : d->prop_pkgver, "modules", drv_installed);
		/* nvidia-persistenced is a package of its own in NVIDIA's RHEL repository, at the
		 * driver's version; the profiles enable its service. */
		if (k >= 0 && repo_offered(c->in->repo, "nvidia-persistenced", open ? d->open_pkgver : d->prop_pkgver))
			k = pick(c, "nvidia-persistenced", open ? d->open_pkgver : d->prop_pkgver, "driver", drv_installed);
		/* DKMS builds against the kernel's headers: kernel-devel of exactly that kernel. */
		if (k >= 0)
			k = pick_build_dep(c, kc);
	} else if ((k = pick(c, d->runfile->file, d->version, "driver",
			     drv_installed || repo_installed(c->in->repo, d->runfile->file, d->version) > 0)) >= 0)
		k = pick_build_dep(c, kc);
	if (k < 0)
		return k;

	if (t && (k = pick(c, t->pkg, t->pkgver, "cuda", facts_has_cuda(f, t->version))) < 0)
		return k;
	if (r->fabricmanager) {
		fabricmanager_pkg(c, d, name, sizeof(name), ver, sizeof(ver));
		if ((k = pick(c, name, ver, "fabricmanager",
			      streq_ptr(f->nvidia.fabricmanager_version, d->version))) < 0)
			return k;
	}
	return pick_extras(c);
}

/* Meta packages of the chosen kernel's flavour that the repositories offer: an ABI bump
 * arrives through them, so they are what must be held (FACTS 6). */
static int find_kernel_metas(struct rctx *c, const char *release)
{
	static const char *const prefixes[] = { "linux-", "linux-image-", "linux-headers-" };
	_cleanup_free_ char *flav = kernel_flavour(release, c->family);
	const struct facts *f = c->in->facts;
	char name[128];
	size_t n;
	int k;

	if (c->family != OS_FAMILY_DEBIAN || !flav)
		return 0;
	for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
		for (int hwe = 0; hwe <= 1; hwe++) {
			if (hwe)
				snprintf(name, sizeof(name), "%s%s-hwe-%s", prefixes[i], flav, strna(f->os.version_id));
			else
				snprintf(name, sizeof(name), "%s%s", prefixes[i], flav);
			(void)repo_find(c->in->repo, name, &n);
			if (n && (k = strv_push(&c->res->kernel_metas, &c->res->n_kernel_metas, name)) < 0)
				return k;
		}
	return 0;
}

/* ---- the search ---------------------------------------------------------------------- */

/* Why this kernel, and how it is entered. driver: the driver it was paired with, or NULL. */
static int kernel_reasons(struct rctx *c, const struct kernel_cand *kc, const char *driver)
{
	const struct facts *f = c->in->facts;
	int k;

	if ((k = REASON(c, "kernel %s: %s%s%s", kc->release,
			kc->running ? "the running kernel, in the profile's range" : "the newest offered in the profile's range",
			driver ? "; no known failure with driver " : "", driver ? driver : "")) < 0)
		return k;
	if (kc->running && facts_boot_once(f) == BOOT_ONCE_NONE &&
	    (k = REASON(c, "no newer kernel is switched to: the GRUB environment block is %s, where GRUB cannot clear a boot-once entry, and no EFI System Partition can hold one instead (%s); /boot on a plain partition, or an ESP GRUB can write, would allow a switch [FACTS 8]",
			strna(f->disk.grubenv_reason), strna(f->disk.esp_reason))) < 0)
		return k;
	if (!kc->running && facts_boot_once(f) == BOOT_ONCE_ESP &&
	    (k = REASON(c, "GRUB's environment block is %s, so GRUB could never clear a boot-once entry there; kernel %s is entered once from gpuprov's block on the EFI System Partition instead [FACTS 8]",
			strna(f->disk.grubenv_reason), kc->release)) < 0)
		return k;
	return 0;
}

/* driver.source "none": the kernel and the settings only, on any machine, GPUs or not. */
static int choose_kernel(struct rctx *c)
{
	struct resolution *r = c->res;
	int k;

	for (size_t j = 0; j < c->n_kernels; j++) {
		const struct kernel_cand *kc = &c->kernels[j];

		if (!c->kernel_ok[j] || (k = switch_acceptable(c, kc)) <= 0) {
			if (k < 0)
				return k;
			continue;
		}
		r->ok = true;
		r->kernel = strdup(kc->release);
		r->kernel_change = !kc->running;
		if (!r->kernel)
			return -ENOMEM;
		if (c->in->facts->pci.n_gpus > 0 &&
		    (k = WARN(c, "%zu NVIDIA GPU%s on this machine, and the profile installs no driver (driver.source \"none\"): gpuprov leaves any driver there is as it is",
			      c->in->facts->pci.n_gpus, c->in->facts->pci.n_gpus == 1 ? " is" : "s are")) < 0)
			return k;
		if ((k = REASON(c, "no NVIDIA driver, CUDA or fabric manager: the profile says driver.source \"none\"")) < 0 ||
		    (k = kernel_reasons(c, kc, NULL)) < 0 || (k = find_kernel_metas(c, kc->release)) < 0 ||
		    (k = pick_kernel(c, kc)) < 0)
			return k;
		return pick_extras(c);
	}
	return 0;
}

static int choose(struct rctx *c, const struct toolkit_cand *t)
{
	const struct profile *p = c->in->profile;
	const cJSON *floor_entry = NULL;
	const char *floor = NULL;
	int k;

	if (t) {
		floor = kn_cuda_floor(c->in->knowledge, t->version, p->cuda_minor_compat, &floor_entry);
		if (!floor)
			return REFUSE(c, "CUDA %s: not in the knowledge, its minimum driver is unknown", t->version) < 0 ? -ENOMEM : 0;
	}
	for (size_t i = 0; i < c->n_drivers; i++) {
		const struct driver_cand *d = &c->drivers[i];
		const char *flavour = NULL;

		k = driver_acceptable(c, d, floor, floor_entry, t ? t->version : NULL, &flavour);
		if (k <= 0) {
			if (k < 0)
				return k;
			continue;
		}
		for (size_t j = 0; j < c->n_kernels; j++) {
			const struct kernel_cand *kc = &c->kernels[j];
			struct resolution *r = c->res;
			const cJSON *entry;

			if (!c->kernel_ok[j] || (k = pair_acceptable(c, d, flavour, kc)) <= 0) {
				if (k < 0)
					return k;
				continue;
			}

			r->ok = true;
			r->driver = strdup(d->version);
			r->branch = strdup(d->branch);
			r->flavour = flavour;
			r->kernel = strdup(kc->release);
			r->kernel_change = !kc->running;
			r->cuda = t ? strdup(t->version) : NULL;
			if (fabricmanager_needed(c))
				r->fabricmanager = strdup(d->version);
			if (!r->driver || !r->branch || !r->kernel || (t && !r->cuda))
				return -ENOMEM;

			if (t && (k = REASON(c, "CUDA %s: the newest toolkit offered that the profile accepts (%s %s%s); its minimum driver is %s [%s]",
					     t->version, p->cuda_version ? "cuda.version" : "cuda.min_version",
					     p->cuda_version ? p->cuda_version : p->cuda_min_version,
					     p->cuda_framework ? ", for " : "", floor, src(floor_entry))) < 0)
				return k;
			if (p->cuda_framework && (k = REASON(c, "framework %s asks for CUDA %s", p->cuda_framework,
							   p->cuda_version ? p->cuda_version : p->cuda_min_version)) < 0)
				return k;
			if ((k = REASON(c, "driver %s (%s modules, from %s): the newest offered that meets every constraint",
					d->version, flavour, c->source)) < 0)
				return k;
			if (c->gpu_min && (k = REASON(c, "the %s is supported from driver %s [%s]", json_str(c->gpu_min_entry, "name"),
						     c->gpu_min, src(c->gpu_min_entry))) < 0)
				return k;
			if ((entry = kn_branch(c->in->knowledge, d->branch)) &&
			    (k = REASON(c, "branch %s is %s%s%s [%s]", d->branch, strna(json_str(entry, "kind")),
					json_str(entry, "eol") ? ", end of life " : "",
					json_str(entry, "eol") ? json_str(entry, "eol") : "", src(entry))) < 0)
				return k;
			if (p->driver_allow_eol && kn_branch_eol(c->in->knowledge, d->branch, c->in->today, &entry) &&
			    (k = WARN(c, "branch %s is past its end of life (%s): the profile allows it, no fixes will come [%s]",
				      d->branch, json_str(entry, "eol"), src(entry))) < 0)
				return k;
			if ((k = kernel_reasons(c, kc, d->version)) < 0)
				return k;
			if (r->fabricmanager && (k = REASON(c, "fabric manager %s: NVSwitches are present, and it must equal the driver's version [%s]",
							  d->version, strna(kn_fabricmanager_source(c->in->knowledge)))) < 0)
				return k;
			if ((k = find_kernel_metas(c, kc->release)) < 0)
				return k;
			return build_picks(c, d, flavour, kc, t);
		}
	}
	return 0;
}

int resolve(const struct resolve_input *in, struct resolution **ret)
{
	_cleanup_(resolution_freep) struct resolution *r = calloc(1, sizeof(*r));
	const struct facts *f = in->facts;
	struct rctx c = { .in = in, .res = r, .family = f->os.family, .kernel_order = os_version_order(f->os.family) };
	const cJSON *os, *s;
	bool kernel_only;
	int k = 0;

	if (!r)
		return -ENOMEM;
	os = kn_os(in->knowledge, f->os.id, f->os.version_id, f->cpu.arch);
	c.source = in->profile->driver_source;
	if (!c.source && os)
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(os, "sources"))
			if (!c.source && cJSON_IsString(s))
				c.source = s->valuestring;
	if (!c.source) {
		k = REFUSE(&c, "no driver source: the profile names none and the knowledge has none for %s %s",
			   strna(f->os.id), strna(f->os.version_id));
		goto done;
	}
	r->source = c.source;
	kernel_only = streq(c.source, "none");
	if (f->pci.n_gpus == 0 && !kernel_only) {
		k = REFUSE(&c, "no NVIDIA GPU on this machine (PCI shows none): nothing for a driver to drive; a profile with driver.source \"none\" manages the kernel and settings of a node without GPUs");
		goto done;
	}
	if ((k = gather_kernels(&c)) < 0 ||
	    (!kernel_only && ((k = gather_gpus(&c)) < 0 || (k = gather_drivers(&c)) < 0 || (k = gather_toolkits(&c)) < 0)))
		goto done;

	/* The kernels' own constraints do not depend on the driver: judged once (a real
	 * archive offers hundreds of kernels). */
	c.kernel_ok = calloc(c.n_kernels + 1, sizeof(bool));
	if (!c.kernel_ok) {
		k = -ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < c.n_kernels && k >= 0; i++)
		if ((k = kernel_acceptable(&c, &c.kernels[i], os)) > 0)
			c.kernel_ok[i] = true;
	if (k < 0)
		goto done;
	k = 0;

	if (c.n_kernels == 0)
		k = REFUSE(&c, "no kernel is installed or offered");
	else if (in->profile->kernel_release && !kernel_find(&c, in->profile->kernel_release))
		k = REFUSE(&c, "kernel %s (kernel.release in the profile) is neither installed nor offered in this machine's repositories",
			   in->profile->kernel_release);
	else if (kernel_only)
		k = choose_kernel(&c);
	else if (c.n_drivers == 0)
		k = REFUSE(&c, "no NVIDIA driver is offered by %s in this machine's repositories", c.source);
	else if ((in->profile->cuda_version || in->profile->cuda_min_version) && c.n_toolkits == 0)
		k = REFUSE(&c, "CUDA %s%s is not offered in this machine's repositories",
			   in->profile->cuda_version ? "" : ">= ",
			   in->profile->cuda_version ? in->profile->cuda_version : in->profile->cuda_min_version);
	else if (c.n_toolkits == 0)
		k = choose(&c, NULL);
	else
		for (size_t i = 0; i < c.n_toolkits && !r->ok && k >= 0; i++)
			k = choose(&c, &c.toolkits[i]);
done:
	free(c.drivers);
	free(c.kernels);
	free(c.kernel_ok);
	free(c.toolkits);
	if (k < 0)
		return k;
	/* Refusals of a search that found an answer are the road, not the result; but why the
	 * running kernel is not kept is worth a line of its own. */
	if (r->ok && r->kernel_change && f->kernels.running) {
		_cleanup_free_ char *prefix = NULL;

		if (asprintf(&prefix, "kernel %s", f->kernels.running) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < r->n_refusals; i++)
			if (startswith(r->refusals[i], prefix) &&
			    (k = add_line(&r->reasons, &r->n_reasons, "the running kernel is not kept: %s", r->refusals[i])) < 0)
				return k;
	}
	if (r->ok) {
		r->refusals = strv_free(r->refusals);
		r->n_refusals = 0;
	}
	*ret = TAKE_PTR(r);
	return 0;
}

struct resolution *resolution_free(struct resolution *r)
{
	if (!r)
		return NULL;
	free(r->cuda), free(r->driver), free(r->branch), free(r->kernel), free(r->fabricmanager);
	for (size_t i = 0; i < r->n_picks; i++)
		free(r->picks[i].name), free(r->picks[i].version), free(r->picks[i].role);
	free(r->picks);
	strv_free(r->kernel_metas);
	strv_free(r->reasons);
	strv_free(r->warnings);
	strv_free(r->refusals);
	free(r);
	return NULL;
}
