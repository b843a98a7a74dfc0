/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>

#include "util/json.h"
#include "profile/repo.h"
#include "util/deb822.h"
#include "util/errors.h"
#include "util/strutil.h"
#include "util/vercmp.h"

#define APT_LISTS "var/lib/apt/lists"
#define REPO_JSON "var/lib/gpuprov/repo.json"
#define RUNFILE_RECORD "var/lib/gpuprov/runfiles.json"
/* An apt Packages file of a full archive is ~60 MiB; the view reads it as a stream. */
#define REPO_JSON_MAX (16 * 1024 * 1024)

static int add_pkg(struct repo_view *v, size_t *alloc, const char *name, const char *version,
		   const char *arch, const char *origin)
{
	struct repo_pkg *p;

	if (v->n_pkgs == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 256;

		p = realloc(v->pkgs, na * sizeof(*p));
		if (!p)
			return -ENOMEM;
		v->pkgs = p;
		*alloc = na;
	}
	p = &v->pkgs[v->n_pkgs];
	*p = (struct repo_pkg){ strdup(name), strdup(version), strdup(arch ? arch : ""), strdup(origin), false };
	if (!p->name || !p->version || !p->arch || !p->origin) {
		free(p->name), free(p->version), free(p->arch), free(p->origin);
		return -ENOMEM;
	}
	v->n_pkgs++;
	return 0;
}

static int read_apt_list(const struct root *root, const char *file, struct repo_view *v, size_t *alloc)
{
	_cleanup_fclose_ FILE *f = NULL;
	struct deb822_stanza st = {};
	char path[PATH_MAX];
	int k;

	k = root_fopen(root, path_fmt(path, APT_LISTS "/%s", file), &f);
	if (k < 0)
		return k;
	while ((k = deb822_next(f, &st)) > 0)
		if (st.package && st.version && (k = add_pkg(v, alloc, st.package, st.version, st.architecture, file)) < 0)
			break;
	deb822_stanza_clear(&st);
	return k;
}

static int add_installed(struct repo_view *v, size_t *alloc, const char *name, const char *version,
			 const char *arch, const char *origin, bool held)
{
	struct repo_view tmp = { .pkgs = v->installed, .n_pkgs = v->n_installed };
	int k = add_pkg(&tmp, alloc, name, version, arch, origin);

	v->installed = tmp.pkgs;
	v->n_installed = tmp.n_pkgs;
	if (k >= 0)
		v->installed[v->n_installed - 1].held = held;
	return k;
}

static int read_repo_json(const struct root *root, struct repo_view *v, size_t *alloc, size_t *alloc_installed,
			  char ***warnings, size_t *n_warnings)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	const cJSON *e;
	int k;

	k = root_read_file(root, REPO_JSON, REPO_JSON_MAX, &text, NULL);
	if (k == -ENOENT)
		return 0;
	if (k >= 0 && !(doc = cJSON_Parse(text)))
		k = -GPE_PARSE;
	if (k < 0) {
		char *w;

		if (asprintf(&w, REPO_JSON ": %s; its packages are not offered", gp_strerror(k)) >= 0)
			(void)strv_push_take(warnings, n_warnings, w);
		return k == -ENOMEM ? k : 0;
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "packages")) {
		if (!json_str(e, "name") || !json_str(e, "version"))
			continue;
		if ((k = add_pkg(v, alloc, json_str(e, "name"), json_str(e, "version"), json_str(e, "arch"),
				 json_str(e, "repo") ? json_str(e, "repo") : "repo.json")) < 0)
			return k;
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "installed")) {
		if (!json_str(e, "name") || !json_str(e, "version"))
			continue;
		if ((k = add_installed(v, alloc_installed, json_str(e, "name"), json_str(e, "version"),
				       json_str(e, "arch"), "rpm", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "held")))) < 0)
			return k;
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "runfiles")) {
		struct repo_runfile *r, *p;

		if (!json_str(e, "kind") || !json_str(e, "version") || !json_str(e, "file"))
			continue;
		p = realloc(v->runfiles, (v->n_runfiles + 1) * sizeof(*p));
		if (!p)
			return -ENOMEM;
		v->runfiles = p;
		r = &p[v->n_runfiles++];
		*r = (struct repo_runfile){};
		if (free_and_strdup(&r->kind, json_str(e, "kind")) < 0 ||
		    free_and_strdup(&r->version, json_str(e, "version")) < 0 ||
		    free_and_strdup(&r->file, json_str(e, "file")) < 0 ||
		    (json_str(e, "driver") && free_and_strdup(&r->driver, json_str(e, "driver")) < 0) ||
		    (json_str(e, "arch") && free_and_strdup(&r->arch, json_str(e, "arch")) < 0) ||
		    (json_str(e, "sha256") && free_and_strdup(&r->sha256, json_str(e, "sha256")) < 0))
			return -ENOMEM;
	}
	return 0;
}

/* order: the view's, an enum vercmp_order. */
static int cmp_pkg(const void *a, const void *b, void *order)
{
	const struct repo_pkg *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	c = vercmp(*(const enum vercmp_order *)order, y->version, x->version); /* newest first */
	/* Versions the order holds equal ("1.0" and "1.00") by their text, so that the lists' order
	 * never shows. */
	if (!c)
		c = strcmp(x->version, y->version);
	return c ? c : strcmp(x->origin, y->origin);
}

static int cmp_runfile(const void *a, const void *b)
{
	const struct repo_runfile *x = a, *y = b;
	int c = strcmp(x->kind, y->kind);

	if (!c)
		c = vercmp_dotted(y->version, x->version);
	return c ? c : strcmp(x->file, y->file);
}

/* dpkg's status: what is installed, so a plan installs only what is missing, and what is
 * held ("hold ok installed"), so a plan holds only what is not. */
static int read_dpkg_status(const struct root *root, struct repo_view *v, size_t *alloc)
{
	_cleanup_fclose_ FILE *f = NULL;
	struct deb822_stanza st = {};
	int k;

	if (root_fopen(root, "var/lib/dpkg/status", &f) < 0)
		return 0;
	while ((k = deb822_next(f, &st)) > 0) {
		bool held = streq_ptr(st.status, "hold ok installed");

		if (st.package && st.version && (held || streq_ptr(st.status, "install ok installed")) &&
		    (k = add_installed(v, alloc, st.package, st.version, st.architecture, "dpkg", held)) < 0)
			break;
	}
	deb822_stanza_clear(&st);
	return k < 0 ? k : 0;
}

/* What the runfile backend installed (var/lib/gpuprov/runfiles.json): the runfile's name
 * stands for the package, so that a second apply sees it installed. */
static int read_runfile_record(const struct root *root, struct repo_view *v, size_t *alloc, char ***warnings,
			       size_t *n_warnings)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	const cJSON *e;
	int k = root_read_file(root, RUNFILE_RECORD, REPO_JSON_MAX, &text, NULL);

	if (k == -ENOENT)
		return 0;
	/* Not readable: the runfiles count as not installed, and apply's check refuses the file
	 * before it installs one (the runfile backend says where and why). */
	if (k >= 0 && !cJSON_IsArray(doc = cJSON_Parse(text)))
		k = -GPE_PARSE;
	if (k < 0) {
		char *w;

		if (asprintf(&w, RUNFILE_RECORD ": %s; its runfiles count as not installed", gp_strerror(k)) >= 0)
			(void)strv_push_take(warnings, n_warnings, w);
		return k == -ENOMEM ? k : 0;
	}
	cJSON_ArrayForEach(e, doc)
		if (json_str(e, "file") && json_str(e, "version") &&
		    (k = add_installed(v, alloc, json_str(e, "file"), json_str(e, "version"), NULL, "runfile", false)) < 0)
			return k;
	return 0;
}

int repo_view_load(const struct root *root, enum vercmp_order order, struct repo_view **ret, char ***warnings,
		   size_t *n_warnings)
{
	_cleanup_(repo_view_freep) struct repo_view *v = NULL;
	_cleanup_(strv_freep) char **lists = NULL;
	size_t alloc = 0, alloc_installed = 0;
	int k;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->order = order;
	if (root_list_dir(root, APT_LISTS, &lists) >= 0)
		for (char **l = lists; *l; l++) {
			size_t len = strlen(*l);

			if (len < 9 || !streq(*l + len - 9, "_Packages"))
				continue;
			k = read_apt_list(root, *l, v, &alloc);
			if (k == -ENOMEM)
				return k;
			if (k < 0) {
				char *w;

				if (asprintf(&w, "/" APT_LISTS "/%s: %s; its packages are not offered", *l, gp_strerror(k)) >= 0)
					(void)strv_push_take(warnings, n_warnings, w);
			}
		}
	k = read_repo_json(root, v, &alloc, &alloc_installed, warnings, n_warnings);
	if (k < 0 || (k = read_dpkg_status(root, v, &alloc_installed)) < 0 ||
	    (k = read_runfile_record(root, v, &alloc_installed, warnings, n_warnings)) < 0)
		return k;
	if (v->n_installed > 1)
		qsort_r(v->installed, v->n_installed, sizeof(*v->installed), cmp_pkg, &v->order);
	/* Sorted, so that the same lists give the same answers whatever the directory order. */
	if (v->n_pkgs > 1)
		qsort_r(v->pkgs, v->n_pkgs, sizeof(*v->pkgs), cmp_pkg, &v->order);
	if (v->n_runfiles > 1)
		qsort(v->runfiles, v->n_runfiles, sizeof(*v->runfiles), cmp_runfile);
	*ret = TAKE_PTR(v);
	return 0;
}

struct repo_view *repo_view_free(struct repo_view *v)
{
	if (!v)
		return NULL;
	for (size_t i = 0; i < v->n_pkgs; i++) {
		free(v->pkgs[i].name);
		free(v->pkgs[i].version);
		free(v->pkgs[i].arch);
		free(v->pkgs[i].origin);
	}
	free(v->pkgs);
	for (size_t i = 0; i < v->n_installed; i++) {
		free(v->installed[i].name);
		free(v->installed[i].version);
		free(v->installed[i].arch);
		free(v->installed[i].origin);
	}
	free(v->installed);
	for (size_t i = 0; i < v->n_runfiles; i++) {
		struct repo_runfile *r = &v->runfiles[i];

		free(r->kind), free(r->version), free(r->driver), free(r->arch), free(r->file), free(r->sha256);
	}
	free(v->runfiles);
	free(v);
	return NULL;
}

/* The run of entries named name in a list sorted by name. */
static size_t find_run(const struct repo_pkg *pkgs, size_t n, const char *name, size_t *ret_count)
{
	size_t lo = 0, hi = n, first;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (strcmp(pkgs[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < n && streq(pkgs[lo].name, name))
		lo++;
	*ret_count = lo - first;
	return first;
}

size_t repo_find(const struct repo_view *v, const char *name, size_t *ret_count)
{
	return find_run(v->pkgs, v->n_pkgs, name, ret_count);
}

size_t repo_find_installed(const struct repo_view *v, const char *name, size_t *ret_count)
{
	return find_run(v->installed, v->n_installed, name, ret_count);
}

bool repo_offered(const struct repo_view *v, const char *name, const char *version)
{
	size_t n, first = find_run(v->pkgs, v->n_pkgs, name, &n);

	for (size_t i = first; version && i < first + n; i++)
		if (streq(v->pkgs[i].version, version))
			return true;
	return false;
}

int repo_installed(const struct repo_view *v, const char *name, const char *version)
{
	size_t n, first;

	if (!v->installed)
		return -1;
	first = find_run(v->installed, v->n_installed, name, &n);
	for (size_t i = first; i < first + n; i++)
		if (streq(v->installed[i].version, version))
			return 1;
	return 0;
}

const char *repo_installed_version(const struct repo_view *v, const char *name)
{
	size_t n, first = find_run(v->installed, v->n_installed, name, &n);

	return n ? v->installed[first].version : NULL;
}

bool repo_installed_any(const struct repo_view *v, const char *name)
{
	size_t n;

	find_run(v->installed, v->n_installed, name, &n);
	return n > 0;
}

bool repo_held(const struct repo_view *v, const char *name)
{
	size_t n, first = find_run(v->installed, v->n_installed, name, &n);

	for (size_t i = first; i < first + n; i++)
		if (v->installed[i].held)
			return true;
	return false;
}

void upstream_version(const char *version, char *buf, size_t size)
{
	const char *colon = strchr(version, ':');
	const char *v = colon ? colon + 1 : version;

	snprintf(buf, size, "%.*s", (int)strcspn(v, "-"), v);
}
