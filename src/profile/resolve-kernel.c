/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel link: the kernels installed and offered, the profile's and the OS's constraints on each,
 * whether the machine can switch to it, and the driver with the kernel (known failures, DKMS,
 * Secure Boot). */
#include <errno.h>

#include "profile/resolve-internal.h"
#include "util/dedup.h"
#include "util/strutil.h"
#include "util/vercmp.h"

/* Newest first; order: the rctx's kernel_order. */
static int cmp_kernel(const void *a, const void *b, void *order)
{
	const struct kernel_cand *x = a, *y = b;
	int r = vercmp(*(const enum vercmp_order *)order, y->release, x->release);

	return r ? r : (int)y->installed - (int)x->installed;
}

/* Linear: the list is in the resolver's order by now, and this is asked once (kernel.release). */
struct kernel_cand *kernel_find(const struct rctx *c, const char *release)
{
	for (size_t i = 0; i < c->n_kernels; i++)
		if (streq(c->kernels[i].release, release))
			return &c->kernels[i];
	return NULL;
}

/* Adds a candidate; gather_kernels() merges those of one release after. */
static int kernel_add(struct rctx *c, size_t *alloc, const char *release, const char *pkgver,
		      bool installed)
{
	struct kernel_cand *p = array_grow(c->kernels, c->n_kernels, alloc, sizeof(*p));

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

static const char *kernel_cand_key(const void *kc)
{
	return ((const struct kernel_cand *)kc)->release;
}

/* One release installed and offered (or offered twice) is one candidate: installed if either
 * is, with the first package version found (the installed ones come first and have none). */
static void kernel_cand_merge(void *into, const void *from, void *userdata)
{
	struct kernel_cand *a = into;
	const struct kernel_cand *b = from;

	a->installed |= b->installed;
	if (!*a->pkgver)
		memcpy(a->pkgver, b->pkgver, sizeof(a->pkgver));
}

int gather_kernels(struct rctx *c)
{
	const struct facts *f = c->in->facts;
	const struct repo_view *v = c->in->repo;
	size_t alloc = 0;
	int k = 0;

	for (size_t i = 0; i < f->kernels.n && k >= 0; i++)
		if (f->kernels.list[i].has_image)
			k = kernel_add(c, &alloc, f->kernels.list[i].release, NULL, true);
	if (c->family == OS_FAMILY_DEBIAN) {
		size_t n, first = repo_find_prefix(v, "linux-image-", &n);

		for (size_t i = first; i < first + n && k >= 0; i++) {
			struct repo_pkg pkg = repo_pkg(v, i);
			const char *rel = pkg.name + strlen("linux-image-");

			/* Versioned images only: "linux-image-6.8.0-49-generic", not metas. */
			if (*rel >= '0' && *rel <= '9')
				k = kernel_add(c, &alloc, rel, pkg.version, false);
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
				snprintf(rel, sizeof(rel), "%s.%s%s", repo_pkg(v, i).version, strna(f->cpu.arch), rpms[m].suffix);
				k = kernel_add(c, &alloc, rel, repo_pkg(v, i).version, false);
			}
		}
	}
	/* All gathered first, then merged: a search per candidate is quadratic (32k images). */
	if (k >= 0)
		k = dedup_by_key(c->kernels, &c->n_kernels, sizeof(*c->kernels), kernel_cand_key,
				 kernel_cand_merge, NULL);
	if (k < 0)
		return k;
	if (c->n_kernels > 1)
		qsort_r(c->kernels, c->n_kernels, sizeof(*c->kernels), cmp_kernel, &c->kernel_order);
	return 0;
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
			k = refuse(c, ABOUT_KERNEL(kc), "kernel_config", NULL,
				   "%s is not set and the profile requires it (kernel_config): %s", x->valuestring,
				   kconfig_rules[o].reason);
			return k < 0 ? k : 0;
		}
	}
	return 1;
}

/* Profile and OS constraints on a kernel, whatever the driver. */
int kernel_acceptable(struct rctx *c, const struct kernel_cand *kc, const cJSON *os)
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
		return refuse(c, ABOUT_KERNEL(kc), "kernel-release", NULL, "not a release gpuprov can read");
	if (!kc->running && (failed = json_find_by(c->in->failed_kernels, "kernel", kc->release))) {
		const cJSON *why = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(failed, "failed"), 0);

		/* A warning too: a refusal is not shown when another kernel is chosen. */
		k = WARN(c, "kernel %s: verify rolled it back on this node at %s (%s); it is not chosen again without --retry-failed",
			 kc->release, strna(json_str(failed, "at")), cJSON_IsString(why) ? why->valuestring : "no check named");
		if (k >= 0)
			k = refuse(c, ABOUT_KERNEL(kc), "failed-kernels", NULL,
				   "verify rolled it back on this node; --retry-failed allows it again");
		return k < 0 ? k : 0;
	}
	if (p->kernel_release && !streq(kc->release, p->kernel_release))
		k = refuse(c, ABOUT_KERNEL(kc), "kernel.release", NULL, "the profile wants exactly %s (kernel.release)",
			   p->kernel_release);
	else if (want && !p->kernel_release && (exact ? !streq_ptr(flav, want) : !flavour_fits(flav, want)))
		k = refuse(c, ABOUT_KERNEL(kc), "kernel.flavour", NULL, "flavour %s, the profile wants %s", strna(flav), want);
	else if (p->kernel_series && !streq(series, p->kernel_series))
		k = refuse(c, ABOUT_KERNEL(kc), "kernel.series", NULL, "series %s, the profile wants %s (kernel.series)", series,
			   p->kernel_series);
	else if (p->kernel_min && vercmp_dotted(series, p->kernel_min) < 0)
		k = refuse(c, ABOUT_KERNEL(kc), "kernel.min", NULL, "series %s is below kernel.min %s", series, p->kernel_min);
	else if (p->kernel_max && vercmp_dotted(series, p->kernel_max) > 0)
		k = refuse(c, ABOUT_KERNEL(kc), "kernel.max", NULL, "series %s is above kernel.max %s", series, p->kernel_max);
	else if (os && !(kind = kn_os_series_kind(os, series)) && !kc->installed)
		k = refuse(c, ABOUT_KERNEL(kc), "os-series", knowledge_src(os), "series %s is not one %s ships", series,
			   json_str(os, "os"));
	else if (os && kind && streq(kind, "hwe") && !p->kernel_hwe)
		k = refuse(c, ABOUT_KERNEL(kc), "kernel.hwe", knowledge_src(os), "series %s is %s's HWE series and kernel.hwe is false",
			   series, json_str(os, "os"));
	else
		return kernel_config_acceptable(c, kc);
	return k < 0 ? k : 0;
}

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
int switch_acceptable(struct rctx *c, const struct kernel_cand *kc)
{
	const struct facts *f = c->in->facts;
	uint64_t need = boot_space_needed(f);
	int k;

	if (!kc->running && !kc->installed && f->disk.boot.have_space && f->disk.boot.free_bytes < need)
		k = refuse(c, ABOUT_KERNEL(kc), "boot-space", NULL,
			   "/boot has %llu MiB free and a kernel with its initramfs needs about %llu MiB (the running kernel's files, plus a quarter)",
			   (unsigned long long)(f->disk.boot.free_bytes >> 20), (unsigned long long)(need >> 20));
	else if (!kc->running && facts_boot_once(f) == BOOT_ONCE_NONE)
		k = refuse(c, ABOUT_KERNEL(kc), "boot-once", SOURCE_GRUB_ENVBLOCK,
			   "a switch needs a boot-once entry GRUB can clear, and the GRUB environment block is %s, with no EFI System Partition to hold one instead (%s); only the running kernel can be kept",
			   strna(f->disk.grubenv_reason), strna(f->disk.esp_reason));
	else
		return 1;
	return k < 0 ? k : 0;
}

/* ---- the driver with the kernel ------------------------------------------------------ */

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

/* The version of the package of the kernel's image, offered or installed (Debian's
 * linux-image-6.1.0-18-amd64 6.1.76-1 says the upstream it is based on), or NULL. */
static const char *kernel_image_version(const struct rctx *c, const struct kernel_cand *kc)
{
	char name[VERSION_LEN + 16];

	if (*kc->pkgver)
		return kc->pkgver;
	if (c->family != OS_FAMILY_DEBIAN)
		return NULL;
	snprintf(name, sizeof(name), "linux-image-%s", kc->release);
	return repo_installed_version(c->in->repo, name);
}

/* The driver with this kernel: known failures, and modules that can build and load (DKMS's
 * headers; under Secure Boot, signed precompiled ones). */
int pair_acceptable(struct rctx *c, const struct driver_cand *d, const char *flavour, const struct kernel_cand *kc)
{
	const struct facts *f = c->in->facts;
	char name[256], ver[VERSION_LEN], up[VERSION_LEN];
	struct kernel_version kv;
	const cJSON *fail;
	int k = switch_acceptable(c, kc);

	if (k <= 0)
		return k;
	kn_kernel_version(c->os, kc->release, kernel_image_version(c, kc), c->kernel_order, up, sizeof(up), &kv);
	fail = kn_kernel_failure(c->in->knowledge, d->version, flavour, &kv);
	if (fail)
		k = refuse(c, ABOUT_PAIR(d, kc), "kernel-failures", knowledge_src(fail), "%s%s%s",
			   strna(json_str(fail, "symptom")), json_str(fail, "fixed_in") ? "; fixed in " : "",
			   json_str(fail, "fixed_in") ? json_str(fail, "fixed_in") : "");
	else if ((fail = risk_new_kernel_old_driver(c, d, kc)))
		k = refuse(c, ABOUT_PAIR(d, kc), "risks", knowledge_src(fail), "%s", strna(json_str(fail, "message")));
	else if (kernel_is_rt(c, kc)) {
		const cJSON *rt = risk_entry(c, "preempt-rt");

		k = refuse(c, ABOUT_PAIR(d, kc), "preempt-rt", knowledge_src(rt), "a PREEMPT_RT kernel: %s",
			   strna(json_str(rt, "message")));
	} else if (c->src->uses_dkms(c, d, flavour, kc->release) &&
		   !c->src->build_dep(c, kc, name, sizeof(name), ver, sizeof(ver)))
		k = refuse(c, ABOUT_PAIR(d, kc), "build-dep", NULL, "the modules are built by DKMS and %s%s%s is not offered",
			   name, *ver ? " " : "", ver);
	else if (c->src->precompiled_pkg && f->boot.secure_boot == TRI_YES) {
		c->src->precompiled_pkg(c, d, flavour, kc->release, name, sizeof(name), ver, sizeof(ver));
		if (*ver)
			return 1;
		k = refuse(c, ABOUT_PAIR(d, kc), "secure-boot", SOURCE_UBUNTU_SIGNED,
			   "Secure Boot is on and %s is not offered; unsigned DKMS modules would not load", name);
	} else
		return 1;
	return k < 0 ? k : 0;
}
