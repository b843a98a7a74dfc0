/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The toolkit link: the CUDA toolkits the repositories offer that the profile accepts, newest first. */
#include <errno.h>

#include "profile/resolve-internal.h"
#include "util/strutil.h"
#include "util/vercmp.h"

int toolkit_add(struct rctx *c, const char *version, const char *pkg, const char *pkgver,
		const struct repo_runfile *r)
{
	struct toolkit_cand *p = realloc(c->toolkits, (c->n_toolkits + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	c->toolkits = p;
	p = &p[c->n_toolkits++];
	*p = (struct toolkit_cand){ .runfile = r };
	snprintf(p->version, sizeof(p->version), "%s", version);
	snprintf(p->pkg, sizeof(p->pkg), "%s", pkg);
	snprintf(p->pkgver, sizeof(p->pkgver), "%s", pkgver);
	return 0;
}

static int cmp_toolkit(const void *a, const void *b)
{
	const struct toolkit_cand *x = a, *y = b;
	int r = vercmp_dotted(y->version, x->version);

	/* Ties (one version from two places) by name, so the order of the lists never shows. */
	return r ? r : strcmp(x->pkg, y->pkg);
}

void sort_toolkits(struct rctx *c)
{
	if (c->n_toolkits > 1)
		qsort(c->toolkits, c->n_toolkits, sizeof(*c->toolkits), cmp_toolkit);
}

/* Toolkits the profile accepts: its exact minor, or every one from its minimum. */
bool toolkit_wanted(const struct profile *p, const char *version)
{
	char minor[32];
	const char *dot = strchr(version, '.');

	snprintf(minor, sizeof(minor), "%.*s", dot ? (int)(dot - version + 1 + strspn(dot + 1, "0123456789")) : 0, version);
	if (p->cuda_version)
		return streq(minor, p->cuda_version);
	return vercmp_dotted(minor, p->cuda_min_version) >= 0;
}

/* cuda-toolkit-12-4 = 12.4.1-1: NVIDIA's repository, both families; the sources of
 * packages take the toolkit from there. */
int gather_package_toolkits(struct rctx *c)
{
	const struct profile *p = c->in->profile;
	const struct repo_view *v = c->in->repo;
	size_t n, first = repo_find_prefix(v, "cuda-toolkit-", &n);
	int k = 0;

	for (size_t i = first; i < first + n && k >= 0; i++) {
		struct repo_pkg pkg = repo_pkg(v, i);
		const char *rest = pkg.name + strlen("cuda-toolkit-");
		char up[VERSION_LEN];

		if (!strchr(rest, '-') || strspn(rest, "0123456789-") != strlen(rest))
			continue;
		upstream_version(pkg.version, up, sizeof(up));
		if (toolkit_wanted(p, up))
			k = toolkit_add(c, up, pkg.name, pkg.version, NULL);
	}
	return k;
}

/* The GPUs' architectures' toolkit window (CUDA 13.0 dropped Volta, Blackwell came with
 * 12.8), and the OS's: a CUDA release drops OS releases too. Returns 1: acceptable, 0: ruled
 * out (the refusal recorded). */
int toolkit_acceptable(struct rctx *c, const struct toolkit_cand *t)
{
	struct refusal_subject about = { .cuda = t->version };
	const char *os_below = json_str(c->os, "cuda_below");
	int k;

	if (c->cuda_from.gpu && vercmp_dotted(t->version, c->cuda_from.value) < 0)
		k = refuse(c, about, "gpu-cuda-window", knowledge_src(c->cuda_from.entry),
			   "the %s (%s) needs CUDA %s or newer", c->cuda_from.gpu, strna(c->cuda_from.arch), c->cuda_from.value);
	else if (c->cuda_below.gpu && vercmp_dotted(t->version, c->cuda_below.value) >= 0)
		k = refuse(c, about, "gpu-cuda-window", knowledge_src(c->cuda_below.entry),
			   "the %s (%s) is not supported from CUDA %s on", c->cuda_below.gpu, strna(c->cuda_below.arch),
			   c->cuda_below.value);
	else if (os_below && vercmp_dotted(t->version, os_below) >= 0)
		k = refuse(c, about, "os-cuda-window", knowledge_src(c->os), "CUDA %s dropped %s: the last toolkits for it are below %s",
			   os_below, strna(json_str(c->os, "os")), os_below);
	else
		return 1;
	return k < 0 ? k : 0;
}
