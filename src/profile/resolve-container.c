/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The NVIDIA Container Toolkit, chosen once the stack is: container.toolkit's exact version,
 * or "latest-for-driver", the newest version the repositories offer all four packages at
 * that the knowledge accepts for the chosen driver (a release it lists, no known
 * vulnerability, the driver it needs, `nvidia-ctk cdi generate` where CDI is on). The
 * packages come from whichever repository the node has that carries them: NVIDIA's toolkit
 * repository (nvidia.github.io/libnvidia-container, stable deb and rpm) or the CUDA
 * repository, which publishes them too; the repository view is their union. Runfile nodes
 * take them from NVIDIA's rpm repository with dnf, as every other package.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "profile/resolve-internal.h"
#include "util/strutil.h"
#include "util/vercmp.h"

/* All four are released together at one version: nvidia-container-toolkit depends on
 * nvidia-container-toolkit-base (= its version) and libnvidia-container-tools (>= ...)
 * (packaging/debian/control, packaging/rpm/SPECS/nvidia-container-toolkit.spec of
 * NVIDIA/nvidia-container-toolkit). Listed in the order they install. */
const char *const container_toolkit_packages[CONTAINER_TOOLKIT_N_PACKAGES] = {
	"libnvidia-container1",
	"libnvidia-container-tools",
	"nvidia-container-toolkit-base",
	"nvidia-container-toolkit",
};

#define CTK_MAX_VULNS 8

/* The package version of name whose upstream is version, or NULL when none is offered. */
static const char *ctk_pkgver(const struct rctx *c, const char *name, const char *version)
{
	const struct repo_view *v = c->in->repo;
	size_t n, first = repo_find(v, name, &n);
	char up[VERSION_LEN];

	for (size_t i = first; i < first + n; i++) {
		upstream_version(repo_pkg(v, i).version, up, sizeof(up));
		if (streq(up, version))
			return repo_pkg(v, i).version;
	}
	return NULL;
}

/* What the repositories offer of a package, for a refusal: "1.17.3-1, 1.17.8-1", or "nothing". */
static void offered_list(const struct rctx *c, const char *name, char *buf, size_t size)
{
	const struct repo_view *v = c->in->repo;
	size_t n, first = repo_find(v, name, &n), len = 0;

	snprintf(buf, size, "nothing");
	for (size_t i = first + n; i-- > first && len < size;)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i + 1 == first + n ? "" : ", ", repo_pkg(v, i).version);
}

/* The driver the toolkit is judged against: the stack's, else the one loaded now. */
static const char *ctk_driver(const struct rctx *c)
{
	return c->res->driver ? c->res->driver : c->in->facts->nvidia.driver_version;
}

/*
 * Whether the knowledge accepts a toolkit version for the driver: 1 yes, 0 no with why (a
 * sentence, its sources in brackets) and short (a few words, for the list of what
 * latest-for-driver passed over). A version the knowledge does not list is accepted (a pin
 * newer than the knowledge) with *unlisted set.
 */
static int ctk_judge(const struct rctx *c, const char *version, char *why, size_t wsize, char *brief, size_t bsize,
		     bool *unlisted)
{
	const struct knowledge *kn = c->in->knowledge;
	const cJSON *vuln[CTK_MAX_VULNS], *floor_entry = NULL, *cdi_entry = NULL;
	size_t nv = kn_ctk_vulnerabilities(kn, version, vuln, CTK_MAX_VULNS), len = 0;
	const char *drv = ctk_driver(c), *floor = kn_ctk_min_driver(kn, version, &floor_entry);
	const char *cdi_from = kn_ctk_cdi_from(kn, &cdi_entry);

	*unlisted = !kn_ctk_release(kn, version);
	nv = MIN(nv, (size_t)CTK_MAX_VULNS);
	if (nv > 0) {
		/* Every CVE, the version that fixes them all, and each bulletin. */
		for (size_t i = 0; i < nv && len < wsize; i++)
			len += (size_t)snprintf(why + len, wsize - len, "%s%s (fixed in %s)", i ? ", " : "affected by ",
						strna(json_str(vuln[i], "cve")), strna(json_str(vuln[i], "fixed_in")));
		if (len < wsize)
			len += (size_t)snprintf(why + len, wsize - len, "; pin %s or later, or \"latest-for-driver\" [",
						strna(kn_ctk_first_fixed(kn)));
		for (size_t i = 0; i < nv && len < wsize; i++)
			len += (size_t)snprintf(why + len, wsize - len, "%s%s", i ? "; " : "", knowledge_src(vuln[i]));
		if (len < wsize)
			snprintf(why + len, wsize - len, "]");
		snprintf(brief, bsize, "%s", strna(json_str(vuln[nv - 1], "cve")));
		return 0;
	}
	if (floor && drv && vercmp_dotted(drv, floor) < 0) {
		snprintf(why, wsize, "needs driver %s or newer, and the driver is %s [%s]", floor, drv,
			 knowledge_src(floor_entry));
		snprintf(brief, bsize, "needs driver %s", floor);
		return 0;
	}
	if (c->in->profile->container_cdi && cdi_from && vercmp_dotted(version, cdi_from) < 0) {
		snprintf(why, wsize,
			 "container.cdi is on and `nvidia-ctk cdi generate` first came with %s; pin %s or later, or set cdi false [%s]",
			 cdi_from, cdi_from, knowledge_src(cdi_entry));
		snprintf(brief, bsize, "no CDI generation");
		return 0;
	}
	return 1;
}

/* The resolution refused, for this reason. */
#define refuse_ctk(c, ...) \
	((c)->res->ok = false, resolve_add_line(&(c)->res->refusals, &(c)->res->n_refusals, __VA_ARGS__))

/* The four packages at version, picked, and the version kept. */
static int ctk_pick(struct rctx *c, const char *version)
{
	for (size_t i = 0; i < CONTAINER_TOOLKIT_N_PACKAGES; i++) {
		int k = pick(c, container_toolkit_packages[i], ctk_pkgver(c, container_toolkit_packages[i], version),
			     "container-toolkit", false);

		if (k < 0)
			return k;
	}
	return (c->res->ctk_version = strdup(version)) ? 0 : -ENOMEM;
}

/* The first package not offered at version, or NULL when all four are. */
static const char *ctk_missing(const struct rctx *c, const char *version)
{
	for (size_t i = 0; i < CONTAINER_TOOLKIT_N_PACKAGES; i++)
		if (!ctk_pkgver(c, container_toolkit_packages[i], version))
			return container_toolkit_packages[i];
	return NULL;
}

static int ctk_exact(struct rctx *c, const char *version)
{
	const char *missing = ctk_missing(c, version);
	char why[2048], brief[64], list[512];
	bool unlisted;
	int k;

	if (missing) {
		offered_list(c, missing, list, sizeof(list));
		return refuse_ctk(c, "container.toolkit %s: %s is not offered at %s in this machine's repositories (offered: %s)",
				  version, missing, version, list);
	}
	if (!ctk_judge(c, version, why, sizeof(why), brief, sizeof(brief), &unlisted))
		return refuse_ctk(c, "container.toolkit %s: %s", version, why);
	if (unlisted && (k = WARN(c, "container toolkit %s is not among the releases the knowledge lists: no vulnerability or driver rule is known for it", version)) < 0)
		return k;
	if ((k = REASON(c, "container toolkit %s: container.toolkit in the profile%s%s%s", version,
			unlisted ? "" : " [", unlisted ? "" : knowledge_src(kn_ctk_release(c->in->knowledge, version)),
			unlisted ? "" : "]")) < 0)
		return k;
	return ctk_pick(c, version);
}

static int ctk_latest(struct rctx *c)
{
	const struct repo_view *v = c->in->repo;
	size_t n, first = repo_find(v, container_toolkit_packages[3], &n), len = 0;
	char passed[1024] = "", why[2048], brief[64], up[VERSION_LEN], last[VERSION_LEN] = "";
	const char *drv = ctk_driver(c);
	bool unlisted;

	/* Newest first; each upstream version once (a package may be offered at -1 and -2). */
	for (size_t i = first; i < first + n; i++) {
		const char *missing;

		upstream_version(repo_pkg(v, i).version, up, sizeof(up));
		if (streq(up, last))
			continue;
		snprintf(last, sizeof(last), "%s", up);
		if ((missing = ctk_missing(c, up)))
			snprintf(brief, sizeof(brief), "%s not offered", missing);
		else if (ctk_judge(c, up, why, sizeof(why), brief, sizeof(brief), &unlisted)) {
			int k;

			if (!unlisted) {
				k = REASON(c, "container toolkit %s: the newest offered that the knowledge accepts for driver %s (a release it lists, no known vulnerability) [%s]",
					   up, strna(drv), knowledge_src(kn_ctk_release(c->in->knowledge, up)));
				return k < 0 ? k : ctk_pick(c, up);
			}
			snprintf(brief, sizeof(brief), "not a release the knowledge lists");
		}
		if (len < sizeof(passed))
			len += (size_t)snprintf(passed + len, sizeof(passed) - len, "%s%s (%s)", len ? ", " : "", up, brief);
	}
	return refuse_ctk(c, "container.toolkit \"latest-for-driver\": no version of %s offered in this machine's repositories is one the knowledge accepts for driver %s%s%s",
			  container_toolkit_packages[3], strna(drv), *passed ? ": " : " (none is offered)", passed);
}

int container_resolve(struct rctx *c)
{
	const char *want = c->in->profile->container_toolkit;

	return streq(want, "latest-for-driver") ? ctk_latest(c) : ctk_exact(c, want);
}
