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

/* "the V100 SXM2 16GB (Volta)" */
static const char *gpu_said(const struct gpu_need *n, char *buf, size_t size)
{
	snprintf(buf, size, "the %s%s%s%s", n->gpu, n->arch ? " (" : "", n->arch ? n->arch : "", n->arch ? ")" : "");
	return buf;
}

/* The module flavour this driver is installed with, or NULL (refusal recorded). "auto": the
 * flavour the GPUs need, else the open modules from the branch they became the default. */
static const char *driver_flavour(struct rctx *c, const struct driver_cand *d, int *k)
{
	const struct profile *p = c->in->profile;
	const char *open_from = kn_open_default_from(c->in->knowledge);
	const char *want = p->driver_flavour;
	const cJSON *options = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p->doc, "modprobe"), "options");
	const cJSON *conflict;
	char a[160], b[160];

	if (c->open.gpu && c->proprietary.gpu) {
		*k = refuse(c, ABOUT_DRIVER(d), "module-flavour", knowledge_src(c->proprietary.entry),
			    "no kernel module flavour drives both %s, open modules only, and %s, proprietary modules only",
			    gpu_said(&c->open, a, sizeof(a)), gpu_said(&c->proprietary, b, sizeof(b)));
		return NULL;
	}
	if (streq(want, "auto"))
		want = c->open.gpu || (!c->proprietary.gpu && open_from && vercmp_dotted(d->branch, open_from) >= 0)
			       ? "open"
			       : "proprietary";
	if (streq(want, "proprietary") && c->open.gpu) {
		*k = refuse(c, ABOUT_DRIVER(d), "open-required", knowledge_src(c->open.entry),
			    "%s works only with the open kernel modules, the profile asks for proprietary",
			    gpu_said(&c->open, a, sizeof(a)));
		return NULL;
	}
	if (streq(want, "open") && c->proprietary.gpu) {
		*k = refuse(c, ABOUT_DRIVER(d), "proprietary-required", knowledge_src(c->proprietary.entry),
			    "%s works only with the proprietary kernel modules (the open ones need Turing or newer), the profile asks for open",
			    gpu_said(&c->proprietary, a, sizeof(a)));
		return NULL;
	}
	want = streq(want, "open") ? "open" : "proprietary";
	/* The open modules of a release before the GPU's first open listing do not drive it
	 * (the A100 ran on the proprietary ones from R450, on the open ones from 515.48.07). */
	if (streq(want, "open") && c->min_driver_open.gpu && vercmp_dotted(d->version, c->min_driver_open.value) < 0) {
		if (streq(p->driver_flavour, "auto") && !c->open.gpu)
			want = "proprietary";
		else {
			*k = refuse(c, ABOUT_DRIVER(d), "gpu-min-driver-open", knowledge_src(c->min_driver_open.entry),
				    "%s is driven by the open kernel modules from %s", gpu_said(&c->min_driver_open, a, sizeof(a)),
				    c->min_driver_open.value);
			return NULL;
		}
	}
	/* A module option the knowledge says breaks this flavour (NVreg_EnableGpuFirmware=0 with
	 * the open modules): "auto" takes the other flavour when it can, else a refusal. */
	if ((conflict = kn_module_option_conflict(c->in->knowledge, want, options))) {
		if (streq(p->driver_flavour, "auto") && streq(want, "open") && !c->open.gpu && *d->prop_pkgver)
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

/* What the GPUs and the branch's lifecycle allow; the profile's own rules come first. */
static int driver_known_good(struct rctx *c, const struct driver_cand *d)
{
	const struct profile *p = c->in->profile;
	const cJSON *entry;
	char a[160];

	if (c->min_driver.gpu && vercmp_dotted(d->version, c->min_driver.value) < 0)
		return refuse(c, ABOUT_DRIVER(d), "gpu-min-driver", knowledge_src(c->min_driver.entry),
			      "%s is supported from %s", gpu_said(&c->min_driver, a, sizeof(a)),
			      c->min_driver.value);
	if (c->last_branch.gpu && vercmp_dotted(d->branch, c->last_branch.value) > 0)
		return refuse(c, ABOUT_DRIVER(d), "gpu-last-branch", knowledge_src(c->last_branch.entry),
			      "%s is supported by driver branches up to R%s", gpu_said(&c->last_branch, a, sizeof(a)),
			      c->last_branch.value);
	if (c->unknown.value && vercmp_dotted(d->branch, c->unknown.value) < 0)
		return refuse(c, ABOUT_DRIVER(d), "unknown-gpu", c->unknown.entry ? knowledge_src(c->unknown.entry) : NULL,
			      "%s is in no table of the knowledge: only the newest production branch offered, R%s, is chosen for it",
			      c->unknown.gpu, c->unknown.value);
	if (!p->driver_allow_eol && kn_branch_eol(c->in->knowledge, d->branch, c->in->today, &entry))
		return refuse(c, ABOUT_DRIVER(d), "driver.allow_eol", knowledge_src(entry),
			      "branch %s reached its end of life in %s and driver.allow_eol is false", d->branch,
			      kn_branch_eol_said(entry));
	/* A branch the profile names is its own choice; otherwise short-lived branches only
	 * where the profile asks for them. */
	if (!p->driver_allow_nfb && !p->driver_branch && kn_branch_nfb(c->in->knowledge, d->branch, &entry))
		return refuse(c, ABOUT_DRIVER(d), "driver.allow_nfb", knowledge_src(entry),
			      "branch %s is a new-feature branch (short support, no backported fixes); a node gets a production or long-term branch unless driver.allow_nfb is true",
			      d->branch);
	return 1;
}

/* Constraints on a driver that no kernel changes. Returns 1: acceptable, 0: ruled out. */
int driver_acceptable(struct rctx *c, const struct driver_cand *d, const char *floor, const cJSON *floor_entry,
		      const char *toolkit, const char **ret_flavour)
{
	const struct profile *p = c->in->profile;
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
	else if ((k = driver_known_good(c, d)) <= 0)
		return k;
	else if (c->in->facts->boot.secure_boot == TRI_YES && !c->src->precompiled_pkg)
		k = refuse(c, ABOUT_DRIVER(d), "secure-boot", SOURCE_MODULE_SIGNING,
			   "Secure Boot is on and %s builds unsigned modules with DKMS (a MOK needs a console)", c->source);
	else if ((*ret_flavour = driver_flavour(c, d, &k)))
		k = fabric_acceptable(c, d);
	return k < 0 ? k : k > 0;
}
