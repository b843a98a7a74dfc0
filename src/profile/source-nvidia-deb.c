/* SPDX-License-Identifier: GPL-2.0-or-later */
/* driver.source "nvidia-repo" on the Debian family: NVIDIA's CUDA repository, nvidia-open for
 * the open modules and cuda-drivers-<branch> for the proprietary ones, built by DKMS. */
#include "profile/resolve-internal.h"
#include "util/strutil.h"

static int nvidia_deb_gather_drivers(struct rctx *c)
{
	const struct repo_view *v = c->in->repo;
	size_t n, first = repo_find_prefix(v, "cuda-drivers-", &n);
	int k = offer_package(c, "nvidia-open", true);

	for (size_t i = first; i < first + n && k >= 0; i++) {
		const char *name = repo_pkg(v, i).name, *rest = name + strlen("cuda-drivers-");

		/* Each package once (the view lists every version). */
		if (strlen(rest) == 3 && strspn(rest, "0123456789") == 3 &&
		    !(i > first && streq(repo_pkg(v, i - 1).name, name)))
			k = offer_package(c, name, false);
	}
	return k;
}

static int nvidia_deb_pick_driver(struct rctx *c, const struct driver_cand *d, const char *flavour,
				  const struct kernel_cand *kc, bool installed)
{
	char name[64];
	int k;

	if (streq(flavour, "open"))
		k = pick(c, "nvidia-open", d->open_pkgver, "driver", installed);
	else {
		snprintf(name, sizeof(name), "cuda-drivers-%s", d->branch);
		k = pick(c, name, d->prop_pkgver, "driver", installed);
	}
	return k < 0 ? k : pick_build_dep(c, kc);
}

const struct driver_source source_nvidia_deb = {
	.name = "nvidia-repo",
	.family = OS_FAMILY_DEBIAN,
	.gather_drivers = nvidia_deb_gather_drivers,
	.gather_toolkits = gather_package_toolkits,
	.fabric_pkg = fabric_pkg_deb,
	.build_dep = build_dep_deb,
	.uses_dkms = always_dkms,
	.pick_driver = nvidia_deb_pick_driver,
};
