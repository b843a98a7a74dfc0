/* SPDX-License-Identifier: GPL-2.0-or-later */
/* driver.source "distro": Ubuntu's archive, nvidia-headless-<branch>-server[-open] with
 * Canonical's precompiled, signed modules per kernel where it builds them, DKMS elsewhere. */
#include "profile/resolve-internal.h"
#include "util/strutil.h"

static int distro_gather_drivers(struct rctx *c)
{
	const struct repo_view *v = c->in->repo;
	size_t n, first = repo_find_prefix(v, "nvidia-headless-", &n);
	int k = 0;

	for (size_t i = first; i < first + n && k >= 0; i++) {
		const char *name = repo_pkg(v, i).name, *rest = name + strlen("nvidia-headless-");

		/* Each package once (the view lists every version). */
		if (strspn(rest, "0123456789") != 3 || (i > first && streq(repo_pkg(v, i - 1).name, name)))
			continue;
		if (streq(rest + 3, "-server-open"))
			k = offer_package(c, name, true);
		else if (streq(rest + 3, "-server"))
			k = offer_package(c, name, false);
	}
	return k;
}

/* Ubuntu's precompiled, Canonical-signed modules for a kernel, or "" when none. */
static void distro_precompiled_pkg(const struct rctx *c, const struct driver_cand *d, const char *flavour,
				   const char *release, char *name, size_t nsize, char *ver, size_t vsize)
{
	size_t n, first;

	snprintf(name, nsize, "linux-modules-nvidia-%s-server%s-%s", d->branch, streq(flavour, "open") ? "-open" : "",
		 release);
	first = repo_find(c->in->repo, name, &n);
	snprintf(ver, vsize, "%s", n ? repo_pkg(c->in->repo, first).version : "");
}

/* DKMS only where no precompiled modules are offered for the kernel. */
static bool distro_uses_dkms(const struct rctx *c, const struct driver_cand *d, const char *flavour,
			     const char *release)
{
	char name[256], ver[VERSION_LEN];

	distro_precompiled_pkg(c, d, flavour, release, name, sizeof(name), ver, sizeof(ver));
	return !*ver;
}

static int distro_pick_driver(struct rctx *c, const struct driver_cand *d, const char *flavour,
			      const struct kernel_cand *kc, bool installed)
{
	bool open = streq(flavour, "open");
	const char *pkgver = open ? d->open_pkgver : d->prop_pkgver;
	char name[256], ver[VERSION_LEN];
	int k;

	snprintf(name, sizeof(name), "nvidia-headless-%s-server%s", d->branch, open ? "-open" : "");
	if ((k = pick(c, name, pkgver, "driver", installed)) < 0)
		return k;
	snprintf(name, sizeof(name), "nvidia-utils-%s-server", d->branch);
	if (offered(c, name) && (k = pick(c, name, pkgver, "driver", installed)) < 0)
		return k;
	distro_precompiled_pkg(c, d, flavour, kc->release, name, sizeof(name), ver, sizeof(ver));
	if (*ver)
		return pick(c, name, ver, "modules", installed);
	/* No precompiled modules for this kernel: DKMS builds them (Secure Boot off). */
	snprintf(name, sizeof(name), "nvidia-dkms-%s-server%s", d->branch, open ? "-open" : "");
	if ((k = pick(c, name, pkgver, "modules", installed)) < 0)
		return k;
	return pick_build_dep(c, kc);
}

const struct driver_source source_distro = {
	.name = "distro",
	.gather_drivers = distro_gather_drivers,
	.gather_toolkits = gather_package_toolkits,
	.precompiled_pkg = distro_precompiled_pkg,
	.fabric_pkg = fabric_pkg_family,
	.build_dep = build_dep_family,
	.uses_dkms = distro_uses_dkms,
	.pick_driver = distro_pick_driver,
};
