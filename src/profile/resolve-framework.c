/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The chain's first link: the frameworks the profile names fix the CUDA runtime, which fixes
 * the driver (framework.h). The strictest floor of them all holds; a container's notes may
 * let an older data center branch run it through forward compatibility. And a node whose
 * frameworks bring their own CUDA (cuda.toolkit "none") gets NVML, which they load. */
#include <errno.h>

#include "profile/resolve-internal.h"
#include "util/strutil.h"
#include "util/vercmp.h"

/* Forward compatibility is for data center GPUs only ('CUDA Compatibility', Forward
 * Compatibility, https://docs.nvidia.com/deploy/cuda-compatibility/forward-compatibility.html);
 * the knowledge's GPU table lists data center products alone, so a GPU it does not know may
 * not count on it. */
static bool forward_compat_applies(const struct rctx *c)
{
	return c->in->facts->pci.n_gpus > 0 && !c->unknown.gpu;
}

static int add_chain(struct rctx *c, const cJSON *item)
{
	struct resolution *r = c->res;
	const char *name = json_str(item, "name"), *version = json_str(item, "version");
	_cleanup_free_ char *why = NULL;
	struct fw_chain chain, *p;
	int k;

	k = kn_framework_chain(c->in->knowledge, name, version, json_str(item, "variant"), &chain, &why);
	if (k == -ENOENT) {
		c->stop = true;
		return refuse(c, ABOUT_SEARCH, "framework", NULL, "framework %s %s: %s", name, version, strna(why));
	}
	if (k < 0)
		return k;
	p = realloc(r->frameworks, (r->n_frameworks + 1) * sizeof(*p));
	if (!p) {
		fw_chain_done(&chain);
		return -ENOMEM;
	}
	r->frameworks = p;
	r->frameworks[r->n_frameworks++] = chain;
	return 0;
}

/* What the GPUs allow, judged once per framework: its CUDA inside their toolkit window, and a
 * driver floor their last branch reaches (or a forward-compatible branch it does). */
static int gpu_window(struct rctx *c, const struct fw_chain *f)
{
	const cJSON *e;
	bool reach = false;

	if (!f->cuda)
		return 0;
	if (c->cuda_below.gpu && vercmp_dotted(f->cuda, c->cuda_below.value) >= 0) {
		c->stop = true;
		return refuse(c, ABOUT_SEARCH, "framework-gpu-cuda", knowledge_src(c->cuda_below.entry),
			      "%s: the %s (%s) is not supported from CUDA %s on, so no driver can serve this framework here",
			      f->text, c->cuda_below.gpu, strna(c->cuda_below.arch), c->cuda_below.value);
	}
	if (c->cuda_from.gpu && vercmp_dotted(f->cuda, c->cuda_from.value) < 0) {
		c->stop = true;
		return refuse(c, ABOUT_SEARCH, "framework-gpu-cuda", knowledge_src(c->cuda_from.entry),
			      "%s: the %s (%s) needs CUDA %s or newer", f->text, c->cuda_from.gpu, strna(c->cuda_from.arch),
			      c->cuda_from.value);
	}
	if (!c->last_branch.gpu || strncmp(f->floor, c->last_branch.value, 3) <= 0)
		return 0;
	cJSON_ArrayForEach(e, f->forward_compat)
		reach = reach || (forward_compat_applies(c) && strncmp(strna(json_str(e, "branch")), c->last_branch.value, 3) <= 0);
	if (reach)
		return 0;
	c->stop = true;
	return refuse(c, ABOUT_SEARCH, "framework-gpu-branch", knowledge_src(c->last_branch.entry),
		      "%s needs driver %s or newer, and the %s (%s) is driven by branches up to R%s only", f->text, f->floor,
		      c->last_branch.gpu, strna(c->last_branch.arch), c->last_branch.value);
}

int gather_frameworks(struct rctx *c)
{
	const struct profile *p = c->in->profile;
	const cJSON *item;
	int k;

	if (p->cuda_framework &&
	    (k = WARN(c, "cuda.framework (\"%s\") is deprecated and only informational: name the frameworks in \"framework\" ([{ \"name\", \"version\", \"variant\" }]) and gpuprov works out their CUDA and driver",
		      p->cuda_framework)) < 0)
		return k;
	cJSON_ArrayForEach(item, p->frameworks)
		if ((k = add_chain(c, item)) < 0)
			return k;
	for (size_t i = 0; i < c->res->n_frameworks && !c->stop; i++)
		if ((k = gpu_window(c, &c->res->frameworks[i])) < 0)
			return k;
	return 0;
}

int framework_driver_acceptable(struct rctx *c, const struct driver_cand *d)
{
	for (size_t i = 0; i < c->res->n_frameworks; i++) {
		const struct fw_chain *f = &c->res->frameworks[i];
		int k;

		if (!f->cuda || vercmp_dotted(d->version, f->floor) >= 0 ||
		    (forward_compat_applies(c) && fw_forward_compat(f, d->version)))
			continue;
		k = refuse(c, ABOUT_DRIVER(d), "framework-driver-floor", knowledge_src(f->floor_entry),
			   "%s needs driver %s or newer%s", f->text, f->floor,
			   f->forward_compat && cJSON_GetArraySize(f->forward_compat) > 0
				   ? (forward_compat_applies(c) ? ", or a forward-compatible branch its notes list"
								: "; forward compatibility is for data center GPUs, and this machine has a GPU gpuprov does not know")
				   : "");
		return k < 0 ? k : 0;
	}
	return 1;
}

/* One line per framework, the driver's verdict with it, then the strictest floor. */
int framework_reasons(struct rctx *c, const struct driver_cand *d)
{
	struct resolution *r = c->res;
	const struct fw_chain *strictest = NULL;
	int k;

	for (size_t i = 0; i < r->n_frameworks; i++) {
		const struct fw_chain *f = &r->frameworks[i];
		_cleanup_free_ char *line = fw_chain_line(f), *src = fw_chain_sources(f);
		const cJSON *fwd = f->cuda && vercmp_dotted(d->version, f->floor) < 0 ? fw_forward_compat(f, d->version) : NULL;

		if (!line || !src)
			return -ENOMEM;
		if ((k = REASON(c, "framework %s [%s]", line, src)) < 0)
			return k;
		if (f->note && (k = WARN(c, "%s", f->note)) < 0)
			return k;
		if (fwd && (k = REASON(c, "driver %s is below %s, and runs %s through forward compatibility: its release notes list %s+ (R%s) for data center GPUs, and the image brings the compatibility package [%s]",
				       d->version, f->floor, f->text, strna(json_str(fwd, "from")), strna(json_str(fwd, "branch")),
				       knowledge_src(f->release))) < 0)
			return k;
		if (f->cuda && (!strictest || vercmp_dotted(f->floor, strictest->floor) > 0))
			strictest = f;
	}
	if (strictest && r->n_frameworks > 1 &&
	    (k = REASON(c, "the strictest driver floor of the frameworks: %s, for %s", strictest->floor, strictest->text)) < 0)
		return k;
	return 0;
}

/* ---- NVML for a node without a toolkit ---------------------------------------------------- */

/* The offered version of name at the driver's upstream version, or NULL. */
static const char *at_driver(const struct rctx *c, const char *name, const char *driver)
{
	size_t n, first = repo_find(c->in->repo, name, &n);

	for (size_t i = first; i < first + n; i++) {
		struct repo_pkg pkg = repo_pkg(c->in->repo, i);
		char up[VERSION_LEN];

		upstream_version(pkg.version, up, sizeof(up));
		if (streq(up, driver))
			return pkg.version;
	}
	return NULL;
}

/*
 * The packages that ship libnvidia-ml.so.1, by driver source, the first offered at the
 * driver's version taken:
 * - Ubuntu's archive: libnvidia-compute-<branch>-server, which lists
 *   /usr/lib/<triplet>/libnvidia-ml.so.1 (https://packages.ubuntu.com/noble/amd64/libnvidia-compute-550-server/filelist);
 * - NVIDIA's repository for Ubuntu: libnvidia-compute-<branch>, from R590 libnvidia-compute
 *   (NVIDIA Driver Installation Guide, "Ubuntu 590 and later packages"); for Debian,
 *   Debian's own name libnvidia-ml1 (https://packages.debian.org/bookworm/libnvidia-ml1);
 * - NVIDIA's repository for the RPM family: libnvidia-ml, which obsoletes the older
 *   nvidia-driver-NVML (NVIDIA/yum-packaging-nvidia-driver, nvidia-driver.spec: "%files NVML
 *   ... libnvidia-ml.so.1", https://github.com/NVIDIA/yum-packaging-nvidia-driver).
 */
int pick_nvml(struct rctx *c, const struct driver_cand *d)
{
	char names[3][64] = { "", "", "" };
	const char *ver = NULL;
	size_t i;

	if (streq(c->source, "runfile"))
		return REASON(c, "NVML (libnvidia-ml.so.1): the driver's runfile installs it with the driver, no package of its own");
	if (streq(c->source, "distro"))
		snprintf(names[0], sizeof(names[0]), "libnvidia-compute-%s-server", d->branch);
	else if (c->family == OS_FAMILY_DEBIAN) {
		snprintf(names[0], sizeof(names[0]), "libnvidia-compute-%s", d->branch);
		snprintf(names[1], sizeof(names[1]), "libnvidia-compute");
		snprintf(names[2], sizeof(names[2]), "libnvidia-ml1");
	} else {
		snprintf(names[0], sizeof(names[0]), "libnvidia-ml");
		snprintf(names[1], sizeof(names[1]), "nvidia-driver-NVML");
	}
	for (i = 0; i < ELEMENTSOF(names) && *names[i] && !ver; i++)
		ver = at_driver(c, names[i], d->version);
	if (!ver)
		return WARN(c, "no package that ships NVML (libnvidia-ml.so.1) is offered at driver %s (looked for %s%s%s%s%s): the frameworks load it, and only the driver's own dependencies would bring it",
			    d->version, names[0], *names[1] ? ", " : "", names[1], *names[2] ? ", " : "", names[2]);
	i--;
	return pick(c, names[i], ver, "nvml", false);
}
