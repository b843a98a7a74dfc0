/* SPDX-License-Identifier: GPL-2.0-or-later */
/* driver.source "nvidia-repo" on the RHEL family: NVIDIA's CUDA repository, nvidia-driver
 * with kmod-nvidia-open-dkms or kmod-nvidia-latest-dkms, built by DKMS against kernel-devel. */
#include "profile/resolve-internal.h"
#include "util/strutil.h"

static int nvidia_rpm_gather_drivers(struct rctx *c)
{
	static const struct {
		const char *kmod;
		bool open;
	} kmods[] = { { "kmod-nvidia-open-dkms", true }, { "kmod-nvidia-latest-dkms", false } };
	const struct repo_view *v = c->in->repo;
	size_t n, first = repo_find(v, "nvidia-driver", &n);

	for (size_t i = first; i < first + n; i++) {
		char up[VERSION_LEN];
		struct driver_cand *d;

		upstream_version(repo_pkg(v, i).version, up, sizeof(up));
		if (!(d = driver_slot(c, up)))
			return -ENOMEM;
		for (size_t m = 0; m < ELEMENTSOF(kmods); m++) {
			size_t kn, kf = repo_find(v, kmods[m].kmod, &kn);
			char *pkgver = kmods[m].open ? d->open_pkgver : d->prop_pkgver;

			for (size_t j = kf; j < kf + kn; j++) {
				char kup[VERSION_LEN];

				upstream_version(repo_pkg(v, j).version, kup, sizeof(kup));
				/* The view lists the revisions newest first: the first one stays. */
				if (streq(kup, up) && !*pkgver)
					snprintf(pkgver, VERSION_LEN, "%s", repo_pkg(v, i).version);
			}
		}
	}
	return 0;
}

static int nvidia_rpm_pick_driver(struct rctx *c, const struct driver_cand *d, const char *flavour,
				  const struct kernel_cand *kc, bool installed)
{
	bool open = streq(flavour, "open");
	const char *pkgver = open ? d->open_pkgver : d->prop_pkgver;
	int k;

	if ((k = pick(c, "nvidia-driver", pkgver, "driver", installed)) < 0 ||
	    (k = pick(c, open ? "kmod-nvidia-open-dkms" : "kmod-nvidia-latest-dkms", pkgver, "modules", installed)) < 0)
		return k;
	/* nvidia-persistenced is a package of its own in NVIDIA's RHEL repository, at the
	 * driver's version; the profiles enable its service. */
	if (repo_offered(c->in->repo, "nvidia-persistenced", pkgver) &&
	    (k = pick(c, "nvidia-persistenced", pkgver, "driver", installed)) < 0)
		return k;
	/* DKMS builds against the kernel's headers: kernel-devel of exactly that kernel. */
	return pick_build_dep(c, kc);
}

const struct driver_source source_nvidia_rpm = {
	.name = "nvidia-repo",
	.gather_drivers = nvidia_rpm_gather_drivers,
	.gather_toolkits = gather_package_toolkits,
	.fabric_pkg = fabric_pkg_rpm,
	.build_dep = build_dep_rpm,
	.uses_dkms = always_dkms,
	.pick_driver = nvidia_rpm_pick_driver,
};
