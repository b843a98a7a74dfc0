/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The driver link: the drivers the sources offer (source-*.c fill the slots), the module flavour each is
 * installed with, and the constraints that rule a driver out whatever the kernel. */
#include <errno.h>

#include "profile/resolve-internal.h"
#include "util/strutil.h"
#include "util/vercmp.h"

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
		*k = refuse(c, ABOUT_DRIVER(d), "open-required", knowledge_src(c->open_required),
			    "the %s works only with the open kernel modules, the profile asks for proprietary",
			    json_str(c->open_required, "name"));
		return NULL;
	}
	want = streq(want, "open") ? "open" : "proprietary";
	/* A module option the knowledge says breaks this flavour (NVreg_EnableGpuFirmware=0 with
	 * the open modules): "auto" takes the other flavour when it can, else a refusal. */
	if ((conflict = kn_module_option_conflict(c->in->knowledge, want, options))) {
		if (streq(p->driver_flavour, "auto") && streq(want, "open") && !c->open_required && *d->prop_pkgver)
			want = "proprietary";
		else {
			*k = refuse(c, ABOUT_DRIVER(d), "modprobe.options", knowledge_src(conflict),
				    "modprobe.options %s %s=%s breaks the %s kernel modules: %s", json_str(conflict, "module"),
				    json_str(conflict, "option"), json_str(conflict, "value"), want,
				    strna(json_str(conflict, "why")));
			return NULL;
		}
	}
	if (!*(streq(want, "open") ? d->open_pkgver : d->prop_pkgver)) {
		*k = refuse(c, ABOUT_DRIVER(d), "driver.flavour", NULL, "not offered with the %s kernel modules by %s", want,
			    c->source);
		return NULL;
	}
	return want;
}

/* Constraints on a driver that no kernel changes. Returns 1: acceptable, 0: ruled out. */
int driver_acceptable(struct rctx *c, const struct driver_cand *d, const char *floor, const cJSON *floor_entry,
		      const char *toolkit, const char **ret_flavour)
{
	const struct profile *p = c->in->profile;
	const cJSON *entry;
	int k = 0;

	if (p->driver_branch && !streq(d->branch, p->driver_branch))
		k = refuse(c, ABOUT_DRIVER(d), "driver.branch", NULL, "not of branch %s (driver.branch)", p->driver_branch);
	else if (p->driver_min_branch && vercmp_dotted(d->branch, p->driver_min_branch) < 0)
		k = refuse(c, ABOUT_DRIVER(d), "driver.min_branch", NULL, "older than branch %s (driver.min_branch)",
			   p->driver_min_branch);
	else if (p->driver_min_version && vercmp_dotted(d->version, p->driver_min_version) < 0)
		k = refuse(c, ABOUT_DRIVER(d), "driver.min_version", NULL, "older than %s (driver.min_version)",
			   p->driver_min_version);
	else if (floor && vercmp_dotted(d->version, floor) < 0)
		k = refuse(c, ABOUT_DRIVER(d), "cuda-driver-floor", knowledge_src(floor_entry), "CUDA %s needs %s or newer",
			   toolkit, floor);
	else if (c->gpu_min && vercmp_dotted(d->version, c->gpu_min) < 0)
		k = refuse(c, ABOUT_DRIVER(d), "gpu-min-driver", knowledge_src(c->gpu_min_entry), "the %s is supported from %s",
			   json_str(c->gpu_min_entry, "name"), c->gpu_min);
	else if (!p->driver_allow_eol && kn_branch_eol(c->in->knowledge, d->branch, c->in->today, &entry))
		k = refuse(c, ABOUT_DRIVER(d), "driver.allow_eol", knowledge_src(entry),
			   "branch %s reached its end of life in %s and driver.allow_eol is false", d->branch,
			   json_str(entry, "eol"));
	else if (c->in->facts->boot.secure_boot == TRI_YES && !c->src->precompiled_pkg)
		k = refuse(c, ABOUT_DRIVER(d), "secure-boot", "FACTS 8: Secure Boot; GPU Operator precompiled signed drivers",
			   "Secure Boot is on and %s builds unsigned modules with DKMS (a MOK needs a console)", c->source);
	else if ((*ret_flavour = driver_flavour(c, d, &k)))
		k = fabric_acceptable(c, d);
	return k < 0 ? k : k > 0;
}
