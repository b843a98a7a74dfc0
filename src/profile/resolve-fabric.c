/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fabric link: the NVLink fabric's components (fabric manager, NVLink subnet manager,
 * IMEX) that the machine's platform needs, each offered at the version its rule asks (the
 * driver's exact version, for all but the subnet manager). */
#include <errno.h>

#include "profile/resolve-internal.h"
#include "util/strutil.h"
#include "util/vercmp.h"

/* More than the knowledge names (three): a platform listing more is cut here. */
#define FABRIC_MAX 8

/*
 * The components the machine needs: its platform's, unless the profile says fabricmanager
 * "off" (no fabric at all); "on" adds the fabric manager where the platform names none.
 * Returns how many, their names in names[] (borrowed from the knowledge).
 */
static size_t fabric_wanted(const struct rctx *c, const char *names[FABRIC_MAX])
{
	const char *mode = c->in->profile->fabricmanager;
	const cJSON *e;
	size_t n = 0;

	if (streq_ptr(mode, "off"))
		return 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c->platform, "fabric"))
		if (cJSON_IsString(e) && n < FABRIC_MAX)
			names[n++] = e->valuestring;
	if (streq_ptr(mode, "on")) {
		for (size_t i = 0; i < n; i++)
			if (streq(names[i], "fabricmanager"))
				return n;
		if (n < FABRIC_MAX)
			names[n++] = "fabricmanager";
	}
	return n;
}

/* The package at the version the component's rule asks: the driver's exact upstream version
 * ("equal"), else the newest offered. ver "" when none is offered. */
static void fabric_pkg_at(const struct rctx *c, const struct driver_cand *d, const cJSON *component, bool debian,
			  char *name, size_t nsize, char *ver, size_t vsize)
{
	const struct repo_view *v = c->in->repo;
	size_t n, first;

	*ver = '\0';
	if (!kn_fabric_package(component, debian, d->branch, name, nsize)) {
		snprintf(name, nsize, "%s", strna(json_str(component, "name")));
		return;
	}
	first = repo_find(v, name, &n);
	if (!kn_fabric_version_equal(component)) {
		snprintf(ver, vsize, "%s", n ? repo_pkg(v, first).version : "");
		return;
	}
	for (size_t i = first; i < first + n; i++) {
		char up[VERSION_LEN];

		upstream_version(repo_pkg(v, i).version, up, sizeof(up));
		if (streq(up, d->version)) {
			snprintf(ver, vsize, "%s", repo_pkg(v, i).version);
			return;
		}
	}
}

void fabric_pkg_deb(const struct rctx *c, const struct driver_cand *d, const cJSON *component, char *name, size_t nsize,
		    char *ver, size_t vsize)
{
	fabric_pkg_at(c, d, component, true, name, nsize, ver, vsize);
}

void fabric_pkg_rpm(const struct rctx *c, const struct driver_cand *d, const cJSON *component, char *name, size_t nsize,
		    char *ver, size_t vsize)
{
	fabric_pkg_at(c, d, component, false, name, nsize, ver, vsize);
}

void fabric_pkg_family(const struct rctx *c, const struct driver_cand *d, const cJSON *component, char *name,
		       size_t nsize, char *ver, size_t vsize)
{
	fabric_pkg_at(c, d, component, c->family == OS_FAMILY_DEBIAN, name, nsize, ver, vsize);
}

/* Every component the platform needs, offered for this driver as its rule asks. */
int fabric_acceptable(struct rctx *c, const struct driver_cand *d)
{
	const char *names[FABRIC_MAX];
	size_t n = fabric_wanted(c, names);
	const cJSON *platform = c->platform;
	const char *pname = platform ? strna(json_str(platform, "name")) : "the profile's fabricmanager \"on\"";

	for (size_t i = 0; i < n; i++) {
		const cJSON *comp = kn_fabric_component(c->in->knowledge, names[i]);
		char name[128], ver[VERSION_LEN];

		if (!comp)
			return refuse(c, ABOUT_DRIVER(d), "fabric", knowledge_src(platform),
				      "platform %s needs the fabric component %s, which the knowledge does not describe", pname,
				      names[i]);
		if (!c->src->fabric_pkg)
			return refuse(c, ABOUT_DRIVER(d), "fabric", knowledge_src(comp),
				      "platform %s needs %s (%s), which is not offered for a %s driver", pname,
				      strna(json_str(comp, "title")), names[i], c->source);
		c->src->fabric_pkg(c, d, comp, name, sizeof(name), ver, sizeof(ver));
		if (*ver)
			continue;
		if (kn_fabric_version_equal(comp))
			return refuse(c, ABOUT_DRIVER(d), "fabric", knowledge_src(comp),
				      "platform %s needs %s (%s), which must be the driver's exact version, and %s %s is not offered",
				      pname, strna(json_str(comp, "title")), names[i], name, d->version);
		return refuse(c, ABOUT_DRIVER(d), "fabric", knowledge_src(comp),
			      "platform %s needs %s (%s), and %s is not offered", pname, strna(json_str(comp, "title")),
			      names[i], name);
	}
	return 1;
}

static int fabric_add(struct resolution *r, const char *component, const char *package, const char *version,
		      const char *service)
{
	struct fabric_pick *p = realloc(r->fabric, (r->n_fabric + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	r->fabric = p;
	p = &p[r->n_fabric++];
	*p = (struct fabric_pick){ strdup(component), strdup(package), strdup(version), service ? strdup(service) : NULL };
	return p->component && p->package && p->version && (!service || p->service) ? 0 : -ENOMEM;
}

/* The chosen driver's fabric into the resolution, with a reason for each component. Called
 * once the driver passed fabric_acceptable(): every component is offered. */
int fabric_choose(struct rctx *c, const struct driver_cand *d)
{
	struct resolution *r = c->res;
	const cJSON *platform = c->platform, *e;
	const char *names[FABRIC_MAX];
	size_t n = fabric_wanted(c, names);
	int k;

	if (platform && !(r->platform = strdup(strna(json_str(platform, "name")))))
		return -ENOMEM;
	r->same_driver_domain = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(platform, "same_driver_domain"));
	for (size_t i = 0; i < n; i++) {
		const cJSON *comp = kn_fabric_component(c->in->knowledge, names[i]);
		char name[128], ver[VERSION_LEN];
		bool equal = kn_fabric_version_equal(comp);

		c->src->fabric_pkg(c, d, comp, name, sizeof(name), ver, sizeof(ver));
		if ((k = fabric_add(r, names[i], name, ver, json_str(comp, "service"))) < 0)
			return k;
		if ((k = REASON(c, "%s %s (%s): needed by platform %s%s [%s]", strna(json_str(comp, "title")), ver, name,
				platform ? strna(json_str(platform, "name")) : "unknown",
				equal ? ", and it must equal the driver's version" : ", the newest offered",
				knowledge_src(comp))) < 0)
			return k;
	}
	/* "off" drops the fabric, its modules with it. */
	if (n)
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(platform, "kernel_modules"))
			if (cJSON_IsString(e) && (k = strv_push(&r->fabric_modules, &r->n_fabric_modules, e->valuestring)) < 0)
				return k;
	for (size_t i = 0; i < r->n_fabric_modules; i++)
		if ((k = REASON(c, "kernel module %s: loaded at boot for platform %s [%s]", r->fabric_modules[i], r->platform,
				knowledge_src(platform))) < 0)
			return k;
	if (r->same_driver_domain &&
	    (k = WARN(c, "platform %s: every node of the NVLink domain must run driver %s, the identical version [%s]",
		      r->platform, d->version, knowledge_src(platform))) < 0)
		return k;
	return 0;
}

/* The fabric's packages, picked and so held like the driver's. */
int fabric_picks(struct rctx *c)
{
	const struct facts *f = c->in->facts;
	int k;

	for (size_t i = 0; i < c->res->n_fabric; i++) {
		const struct fabric_pick *fp = &c->res->fabric[i];
		char up[VERSION_LEN];

		upstream_version(fp->version, up, sizeof(up));
		if ((k = pick(c, fp->package, fp->version, fp->component,
			      streq_ptr(facts_fabric_version(f, fp->component), up))) < 0)
			return k;
	}
	return 0;
}

bool resolution_has_fabric(const struct resolution *r, const char *component)
{
	for (size_t i = 0; i < r->n_fabric; i++)
		if (streq(r->fabric[i].component, component))
			return true;
	return false;
}

void resolution_fabric_free(struct resolution *r)
{
	for (size_t i = 0; i < r->n_fabric; i++)
		free(r->fabric[i].component), free(r->fabric[i].package), free(r->fabric[i].version),
			free(r->fabric[i].service);
	free(r->fabric);
	free(r->platform);
	strv_free(r->fabric_modules);
}
