/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The resolver's answer as packages: the kernel, the driver source's packages, the toolkit,
 * the fabric manager and the profile's extras, each at an exact version; and the package
 * names every source shares (kernel headers) by OS family. */
#include <errno.h>

#include "profile/resolve-internal.h"
#include "util/strutil.h"

/* Adds a package to the stack. Installed or not is dpkg's answer where there is one (an
 * nvidia.ko of the right version may be a DKMS build, not the signed package); elsewhere
 * what detect found (guess). */
int pick(struct rctx *c, const char *name, const char *version, const char *role, bool guess)
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
const char *offered(const struct rctx *c, const char *name)
{
	size_t n, first = repo_find(c->in->repo, name, &n);

	return n ? repo_pkg(c->in->repo, first).version : NULL;
}

static bool facts_has_cuda(const struct facts *f, const char *version)
{
	for (size_t i = 0; i < f->nvidia.n_cuda; i++)
		if (streq_ptr(f->nvidia.cuda[i].version, version))
			return true;
	return false;
}

/* ---- what every source shares --------------------------------------------------------- */

/* linux-headers-<release> at exactly the kernel's version, or the one dpkg has. */
bool build_dep_deb(const struct rctx *c, const struct kernel_cand *kc, char *name, size_t nsize, char *ver,
		   size_t vsize)
{
	const struct repo_view *v = c->in->repo;
	size_t n, first;

	*ver = '\0';
	snprintf(name, nsize, "linux-headers-%s", kc->release);
	first = repo_find(v, name, &n);
	for (size_t i = first; i < first + n; i++)
		if (!*kc->pkgver || streq(repo_pkg(v, i).version, kc->pkgver)) {
			snprintf(ver, vsize, "%s", repo_pkg(v, i).version);
			return true;
		}
	/* Installed already (dpkg): the kernel it came with. */
	first = repo_find_installed(v, name, &n);
	if (n)
		snprintf(ver, vsize, "%s", v->installed[first].version);
	return n > 0;
}

/* kernel-devel or kernel-64k-devel at exactly the kernel's version. */
bool build_dep_rpm(const struct rctx *c, const struct kernel_cand *kc, char *name, size_t nsize, char *ver,
		   size_t vsize)
{
	const char *arch = c->in->facts->cpu.arch;

	/* The RPM version is the release without ".<arch>" and "+64k". */
	snprintf(name, nsize, "%s", strstr(kc->release, "+64k") ? "kernel-64k-devel" : "kernel-devel");
	snprintf(ver, vsize, "%s", kc->release);
	ver[strcspn(ver, "+")] = '\0';
	if (arch && strlen(ver) > strlen(arch) + 1) {
		char *dot = ver + strlen(ver) - strlen(arch) - 1;

		if (*dot == '.' && streq(dot + 1, arch))
			*dot = '\0';
	}
	if (repo_offered(c->in->repo, name, ver))
		return true;
	/* Without an RPM database, an installed kernel's devel package cannot be seen: an
	 * installed kernel is taken to have it, as dnf would install it beside. */
	return kc->installed;
}

/*
 * The package with the kernel's headers, which DKMS (and the .run installer) builds the
 * modules against: linux-headers-<release> (Debian family) or kernel-devel /
 * kernel-64k-devel (RPM), at exactly the kernel's version. False when neither offered nor
 * installed.
 */
bool build_dep_family(const struct rctx *c, const struct kernel_cand *kc, char *name, size_t nsize, char *ver,
		      size_t vsize)
{
	return (c->family == OS_FAMILY_DEBIAN ? build_dep_deb : build_dep_rpm)(c, kc, name, nsize, ver, vsize);
}

/* NVIDIA's packages build their modules with DKMS; the .run installer too. */
bool always_dkms(const struct rctx *c, const struct driver_cand *d, const char *flavour, const char *release)
{
	(void)c, (void)d, (void)flavour, (void)release;
	return true;
}

/* ---- the picks ----------------------------------------------------------------------- */

int pick_build_dep(struct rctx *c, const struct kernel_cand *kc)
{
	char name[256], ver[VERSION_LEN];

	(void)c->src->build_dep(c, kc, name, sizeof(name), ver, sizeof(ver));
	return pick(c, name, *ver ? ver : NULL, "modules", kc->installed && c->family != OS_FAMILY_DEBIAN);
}

/* The kernel is a pick even when installed: pinned and held with the rest. An installed one
 * is pinned at the version the package manager has, when it says. */
int pick_kernel(struct rctx *c, const struct kernel_cand *kc)
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
int pick_extras(struct rctx *c)
{
	const cJSON *x;
	int k;

	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(c->in->profile->doc, "packages"))
		if ((k = pick(c, x->valuestring, offered(c, x->valuestring), "extra", false)) < 0)
			return k;
	return 0;
}

int build_picks(struct rctx *c, const struct driver_cand *d, const char *flavour, const struct kernel_cand *kc,
		const struct toolkit_cand *t)
{
	const struct facts *f = c->in->facts;
	const struct kernel *kern = facts_kernel(f, kc->release);
	bool drv_installed = kern && streq_ptr(kern->nvidia_version, d->version) &&
			     streq_ptr(kern->nvidia_flavour, flavour);
	int k;

	if ((k = pick_kernel(c, kc)) < 0 || (k = c->src->pick_driver(c, d, flavour, kc, drv_installed)) < 0)
		return k;
	if (t && (k = pick(c, t->pkg, t->pkgver, "cuda", facts_has_cuda(f, t->version))) < 0)
		return k;
	if (c->in->profile->cuda_toolkit_none && (k = pick_nvml(c, d)) < 0)
		return k;
	if ((k = fabric_picks(c)) < 0)
		return k;
	return pick_extras(c);
}

/* Meta packages of the chosen kernel's flavour that the repositories offer: an ABI bump
 * arrives through them, so they are what must be held: holding a versioned image package
 * alone does not stop a meta package from pulling in the next ABI. */
int find_kernel_metas(struct rctx *c, const char *release)
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
