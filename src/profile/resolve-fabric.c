/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fabric link: the NVLink fabric's services (the fabric manager), needed by the platform and held
 * at exactly the driver's version. */
#include <errno.h>

#include "profile/resolve-internal.h"
#include "util/strutil.h"
#include "util/vercmp.h"

bool fabricmanager_needed(const struct rctx *c)
{
	const char *fm = c->in->profile->fabricmanager;

	return streq(fm, "on") || (streq(fm, "auto") && c->in->facts->pci.n_nvswitches > 0);
}

/* The fabric manager, when NVSwitches need one: at exactly the driver's version. */
int fabric_acceptable(struct rctx *c, const struct driver_cand *d)
{
	char name[64], ver[VERSION_LEN];

	if (!fabricmanager_needed(c))
		return 1;
	if (!c->src->fabricmanager_pkg)
		return refuse(c, ABOUT_DRIVER(d), "fabricmanager", NULL,
			      "the fabric manager is needed (NVSwitches) and is not offered for a %s driver", c->source);
	c->src->fabricmanager_pkg(c, d, name, sizeof(name), ver, sizeof(ver));
	if (*ver)
		return 1;
	return refuse(c, ABOUT_DRIVER(d), "fabricmanager", strna(kn_fabricmanager_source(c->in->knowledge)),
		      "the fabric manager must be the driver's exact version and %s %s is not offered", name, d->version);
}

/* The fabric manager package at exactly the driver's version, or "" (none offered). */
static void fabricmanager_at(const struct rctx *c, const struct driver_cand *d, const char *name, char *ver,
			     size_t vsize)
{
	const struct repo_view *v = c->in->repo;
	size_t n, first = repo_find(v, name, &n);

	*ver = '\0';
	for (size_t i = first; i < first + n; i++) {
		char up[VERSION_LEN];

		upstream_version(repo_pkg(v, i).version, up, sizeof(up));
		if (streq(up, d->version)) {
			snprintf(ver, vsize, "%s", repo_pkg(v, i).version);
			return;
		}
	}
}

void fabricmanager_deb(const struct rctx *c, const struct driver_cand *d, char *name, size_t nsize, char *ver,
		       size_t vsize)
{
	snprintf(name, nsize, "nvidia-fabricmanager-%s", d->branch);
	fabricmanager_at(c, d, name, ver, vsize);
}

void fabricmanager_rpm(const struct rctx *c, const struct driver_cand *d, char *name, size_t nsize, char *ver,
		       size_t vsize)
{
	snprintf(name, nsize, "nvidia-fabric-manager");
	fabricmanager_at(c, d, name, ver, vsize);
}

void fabricmanager_family(const struct rctx *c, const struct driver_cand *d, char *name, size_t nsize, char *ver,
			  size_t vsize)
{
	(c->family == OS_FAMILY_DEBIAN ? fabricmanager_deb : fabricmanager_rpm)(c, d, name, nsize, ver, vsize);
}
