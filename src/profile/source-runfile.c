/* SPDX-License-Identifier: GPL-2.0-or-later */
/* driver.source "runfile": NVIDIA's .run installers the site's repo.json lists, which build
 * either module flavour with DKMS (-m=kernel-open for the open one); CUDA's the same way. */
#include "profile/resolve-internal.h"
#include "util/strutil.h"

static int runfile_gather_drivers(struct rctx *c)
{
	const struct repo_view *v = c->in->repo;

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
	return 0;
}

static int runfile_gather_toolkits(struct rctx *c)
{
	const struct repo_view *v = c->in->repo;
	/* CUDA's arm64 server installers are "sbsa", the driver's "aarch64". */
	const char *arch = streq_ptr(c->in->facts->cpu.arch, "aarch64") ? "sbsa" : c->in->facts->cpu.arch;
	int k = 0;

	for (size_t i = 0; i < v->n_runfiles && k >= 0; i++)
		if (streq(v->runfiles[i].kind, "cuda") && streq_ptr(v->runfiles[i].arch, arch) &&
		    toolkit_wanted(c->in->profile, v->runfiles[i].version))
			k = toolkit_add(c, v->runfiles[i].version, v->runfiles[i].file, v->runfiles[i].version,
					&v->runfiles[i]);
	return k;
}

static int runfile_pick_driver(struct rctx *c, const struct driver_cand *d, const char *flavour,
			       const struct kernel_cand *kc, bool installed)
{
	int k;

	(void)flavour;
	if ((k = pick(c, d->runfile->file, d->version, "driver",
		      installed || repo_installed(c->in->repo, d->runfile->file, d->version) > 0)) < 0)
		return k;
	return pick_build_dep(c, kc);
}

/* No fabric component is offered with a runfile driver: fabric_pkg stays NULL. */
const struct driver_source source_runfile = {
	.name = "runfile",
	.gather_drivers = runfile_gather_drivers,
	.gather_toolkits = runfile_gather_toolkits,
	.build_dep = build_dep_family,
	.uses_dkms = always_dkms,
	.pick_driver = runfile_pick_driver,
};
