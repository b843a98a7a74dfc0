/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The resolver's candidates: what the GPUs demand, and the kernels, drivers and toolkits the
 * machine has and its repositories offer, each list newest first. */
#include <errno.h>

#include "profile/resolve-internal.h"
#include "util/dedup.h"
#include "util/strutil.h"
#include "util/vercmp.h"

int gather_gpus(struct rctx *c)
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

/* ---- drivers: the sources fill the slots (source-*.c) -------------------------------- */

struct driver_cand *driver_slot(struct rctx *c, const char *version)
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
int offer_package(struct rctx *c, const char *name, bool open)
{
	const struct repo_view *v = c->in->repo;
	size_t n, first = repo_find(v, name, &n);

	for (size_t i = first; i < first + n; i++) {
		char up[VERSION_LEN];
		struct driver_cand *d;

		upstream_version(repo_pkg(v, i).version, up, sizeof(up));
		if (strlen(up) < 4 || up[3] != '.')
			continue;
		if (!(d = driver_slot(c, up)))
			return -ENOMEM;
		if (open && !*d->open_pkgver)
			snprintf(d->open_pkgver, sizeof(d->open_pkgver), "%s", repo_pkg(v, i).version);
		if (!open && !*d->prop_pkgver)
			snprintf(d->prop_pkgver, sizeof(d->prop_pkgver), "%s", repo_pkg(v, i).version);
	}
	return 0;
}

static int cmp_driver(const void *a, const void *b)
{
	return vercmp_dotted(((const struct driver_cand *)b)->version, ((const struct driver_cand *)a)->version);
}

void sort_drivers(struct rctx *c)
{
	if (c->n_drivers > 1)
		qsort(c->drivers, c->n_drivers, sizeof(*c->drivers), cmp_driver);
}

/* ---- kernels ------------------------------------------------------------------------- */

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

/* ---- toolkits ------------------------------------------------------------------------ */

int toolkit_add(struct rctx *c, const char *version, const char *pkg, const char *pkgver,
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

void sort_toolkits(struct rctx *c)
{
	if (c->n_toolkits > 1)
		qsort(c->toolkits, c->n_toolkits, sizeof(*c->toolkits), cmp_toolkit);
}

/* Toolkits the profile accepts: its exact minor, or every one from its minimum. */
bool toolkit_wanted(const struct profile *p, const char *version)
{
	char minor[32];
	const char *dot = strchr(version, '.');

	snprintf(minor, sizeof(minor), "%.*s", dot ? (int)(dot - version + 1 + strspn(dot + 1, "0123456789")) : 0, version);
	if (p->cuda_version)
		return streq(minor, p->cuda_version);
	return vercmp_dotted(minor, p->cuda_min_version) >= 0;
}

/* cuda-toolkit-12-4 = 12.4.1-1: NVIDIA's repository, both families; the sources of
 * packages take the toolkit from there. */
int gather_package_toolkits(struct rctx *c)
{
	const struct profile *p = c->in->profile;
	const struct repo_view *v = c->in->repo;
	size_t n, first = repo_find_prefix(v, "cuda-toolkit-", &n);
	int k = 0;

	for (size_t i = first; i < first + n && k >= 0; i++) {
		struct repo_pkg pkg = repo_pkg(v, i);
		const char *rest = pkg.name + strlen("cuda-toolkit-");
		char up[VERSION_LEN];

		if (!strchr(rest, '-') || strspn(rest, "0123456789-") != strlen(rest))
			continue;
		upstream_version(pkg.version, up, sizeof(up));
		if (toolkit_wanted(p, up))
			k = toolkit_add(c, up, pkg.name, pkg.version, NULL);
	}
	return k;
}
