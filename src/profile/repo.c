/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>

#include "util/json.h"
#include "profile/repo.h"
#include "util/deb822.h"
#include "util/decompress.h"
#include "util/errors.h"
#include "util/strutil.h"
#include "util/vercmp.h"

#define APT_LISTS "var/lib/apt/lists"
#define REPO_JSON "var/lib/gpuprov/repo.json"
#define RUNFILE_RECORD "var/lib/gpuprov/runfiles.json"
#define REPO_JSON_MAX (16 * 1024 * 1024)
/* The lists are read as streams, but what they hold is bounded all the same: the largest of a
 * full archive (Debian's main) is ~50 MiB, and a list kept compressed could otherwise unpack
 * a few hundred KiB into GiBs, on one line that getline() holds whole. */
#define APT_LIST_MAX_MIB 256
#define APT_LIST_MAX ((uint64_t)APT_LIST_MAX_MIB << 20)

static void pkg_clear(struct repo_pkg *p)
{
	free(p->name), free(p->version), free(p->arch), free(p->origin);
}

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
		pkg_clear(p);
		return -ENOMEM;
	}
	v->n_pkgs++;
	return 0;
}

/* file: the name in APT_LISTS, compressed as c says; origin: the plain list's name, the
 * same whichever way apt keeps it. */
static int read_apt_list(const struct root *root, const char *file, enum compression c, const char *origin,
			 struct repo_view *v, size_t *alloc)
{
	_cleanup_fclose_ FILE *f = NULL;
	struct deb822_stanza st = {};
	size_t first = v->n_pkgs;
	char path[PATH_MAX];
	int k;

	k = root_fopen_decompressed(root, path_fmt(path, APT_LISTS "/%s", file), c, APT_LIST_MAX, &f);
	if (k < 0)
		return k;
	while ((k = deb822_next(f, &st)) > 0)
		if (st.package && st.version && (k = add_pkg(v, alloc, st.package, st.version, st.architecture, origin)) < 0)
			break;
	deb822_stanza_clear(&st);
	/* A list that fails halfway (too large, damaged) offers nothing, not its first part. */
	if (k < 0)
		while (v->n_pkgs > first)
			pkg_clear(&v->pkgs[--v->n_pkgs]);
	return k;
}

/* apt keeps a list either plain or compressed; where both are left (GzipIndexes turned on or
 * off since the last update), or two compressions, one copy is read: the plain one, else the
 * first in enum compression's order. 1 when name (c, base_len long without its suffix) is not
 * that copy. */
static int apt_list_shadowed(char *const *lists, const char *name, size_t base_len, enum compression c)
{
	for (enum compression o = COMPRESSION_NONE; o < c; o++) {
		_cleanup_free_ char *other = NULL;

		if (asprintf(&other, "%.*s%s", (int)base_len, name, compression_suffix(o)) < 0)
			return -ENOMEM;
		if (strv_contains(lists, other))
			return 1;
	}
	return 0;
}

/* Every *_Packages list in APT_LISTS, one copy of each; a list that does not read is left out
 * with a warning, so that one broken repository does not hide the others. */
static int read_apt_lists(const struct root *root, struct repo_view *v, size_t *alloc, char ***warnings,
			  size_t *n_warnings)
{
	_cleanup_(strv_freep) char **lists = NULL;
	int k;

	if (root_list_dir(root, APT_LISTS, &lists) < 0)
		return 0;
	for (char **l = lists; *l; l++) {
		_cleanup_free_ char *origin = NULL;
		size_t base_len;
		enum compression c = compression_from_name(*l, &base_len);
		char *w;

		if (base_len < 9 || strncmp(*l + base_len - 9, "_Packages", 9) != 0)
			continue;
		if ((k = apt_list_shadowed(lists, *l, base_len, c)) != 0) {
			if (k < 0)
				return k;
			continue;
		}
		if (!(origin = strndup(*l, base_len)))
			return -ENOMEM;
		k = read_apt_list(root, *l, c, origin, v, alloc);
		/* Without libarchive no compressed list reads: a plan without them all is another plan. */
		if (k == -ENOMEM || k == -GPE_LIBRARY)
			return k;
		if (k >= 0)
			continue;
		if (k == -GPE_TOOBIG)
			k = asprintf(&w, "/" APT_LISTS "/%s: holds more than %d MiB, the most gpuprov reads of a list; "
				     "its packages are not offered", *l, APT_LIST_MAX_MIB);
		else
			k = asprintf(&w, "/" APT_LISTS "/%s: %s; its packages are not offered", *l, gp_strerror(k));
		if (k >= 0)
			(void)strv_push_take(warnings, n_warnings, w);
	}
	return 0;
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
	size_t alloc = 0, alloc_installed = 0;
	int k;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->order = order;
	if ((k = read_apt_lists(root, v, &alloc, warnings, n_warnings)) < 0)
		return k;
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
	for (size_t i = 0; i < v->n_pkgs; i++)
		pkg_clear(&v->pkgs[i]);
	free(v->pkgs);
	for (size_t i = 0; i < v->n_installed; i++)
		pkg_clear(&v->installed[i]);
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
