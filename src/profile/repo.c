/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "util/json.h"
#include "profile/repo.h"
#include "util/deb822.h"
#include "util/dedup.h"
#include "profile/repo-cache.h"
#include "util/strtab.h"
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
 * a few hundred KiB into GiBs, in one stanza that the scanner holds whole. */
#define APT_LIST_MAX_MIB 256
#define APT_LIST_MAX ((uint64_t)APT_LIST_MAX_MIB << 20)

/* Packages as they are read: strings in a table of their own, held only for the installed. */
struct builder {
	struct strtab strs;
	struct brec {
		struct repo_rec r;
		bool held;
	} *recs;
	size_t n, alloc;
};

static void builder_done(struct builder *b)
{
	strtab_done(&b->strs);
	free(b->recs);
	*b = (struct builder){};
}

static int builder_add(struct builder *b, struct deb822_value name, struct deb822_value version,
		       struct deb822_value arch, uint32_t origin, bool held)
{
	struct brec *p = array_grow(b->recs, b->n, &b->alloc, sizeof(*p));
	int64_t n, ver, ar;

	if (!p)
		return -ENOMEM;
	b->recs = p;
	if ((n = strtab_intern(&b->strs, name.p, name.len)) < 0 ||
	    (ver = strtab_intern(&b->strs, version.p, version.len)) < 0 ||
	    (ar = strtab_intern(&b->strs, arch.p ? arch.p : "", arch.len)) < 0)
		return -ENOMEM;
	b->recs[b->n++] = (struct brec){ { (uint32_t)n, (uint32_t)ver, (uint32_t)ar, origin }, held };
	return 0;
}

static struct deb822_value value(const char *s)
{
	return (struct deb822_value){ s, s ? strlen(s) : 0 };
}

static int builder_add_str(struct builder *b, const char *name, const char *version, const char *arch,
			   const char *origin, bool held)
{
	int64_t o = strtab_intern(&b->strs, origin, strlen(origin));

	return o < 0 ? (int)o : builder_add(b, value(name), value(version), value(arch), (uint32_t)o, held);
}

/* dpkg's name of the node's architecture, from uname's (facts' cpu.arch); NULL when not
 * known. */
static const char *dpkg_arch(const char *machine)
{
	static const struct {
		const char *machine, *dpkg;
	} archs[] = { { "x86_64", "amd64" }, { "aarch64", "arm64" }, { "ppc64le", "ppc64el" },
		      { "s390x", "s390x" },  { "riscv64", "riscv64" }, { "i686", "i386" } };

	for (size_t i = 0; machine && i < ELEMENTSOF(archs); i++)
		if (streq(archs[i].machine, machine))
			return archs[i].dpkg;
	return NULL;
}

struct list_read {
	struct builder *b;
	uint32_t origin;
	const char *arch; /* the node's (dpkg's name), or NULL: every package */
};

static int offer_stanza(const struct deb822_fields *s, void *userdata)
{
	struct list_read *l = userdata;

	if (!s->package.p || !s->version.p || !s->package.len || !s->version.len)
		return 0;
	/* Another architecture's package (a list of several, as a flat repository's is) is not
	 * one apt would install for the stack: "linux-image-6.1.0-18-arm64" on an amd64 node. */
	if (l->arch && s->architecture.p && !deb822_value_eq(s->architecture, "all") &&
	    !deb822_value_eq(s->architecture, l->arch))
		return 0;
	return builder_add(l->b, s->package, s->version, s->architecture, l->origin, false);
}

static int read_apt_list(const struct root *root, const struct apt_list *l, const char *arch, struct builder *b)
{
	_cleanup_fclose_ FILE *f = NULL;
	size_t first = b->n;
	char path[PATH_MAX];
	int64_t origin = strtab_intern(&b->strs, l->origin, strlen(l->origin));
	int k;

	if (origin < 0)
		return (int)origin;
	k = root_fopen_decompressed(root, path_fmt(path, APT_LISTS "/%s", l->file), l->c, APT_LIST_MAX, &f);
	if (k < 0)
		return k;
	k = deb822_scan(f, offer_stanza, &(struct list_read){ b, (uint32_t)origin, arch });
	/* A list that fails halfway (too large, damaged) offers nothing, not its first part. */
	if (k < 0)
		b->n = first;
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

static void apt_lists_free(struct apt_list *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i].file), free(l[i].origin);
	free(l);
}

/* Whether a list is of another architecture than arch by its name: apt names a
 * repository's list of one architecture "..._binary-ARCH_Packages" (a flat repository's has
 * no such part, and may hold several). */
static bool apt_list_foreign(const char *name, size_t base_len, const char *arch)
{
	const char *b = strstr(name, "_binary-"), *a;

	if (!arch || !b || (size_t)(b - name) >= base_len)
		return false;
	a = startswith(b + strlen("_binary-"), arch);
	return !a || !startswith(a, "_Packages");
}

/* Every *_Packages list in APT_LISTS of the architecture (dpkg's name; NULL: all), one copy
 * of each, in the directory's sorted order. apt reads the lists of every architecture dpkg
 * is told of (dpkg --add-architecture), but installs a foreign one's packages only when
 * asked by name:arch, which gpuprov never does. */
static int find_apt_lists(const struct root *root, const char *arch, struct apt_list **ret, size_t *ret_n)
{
	_cleanup_(strv_freep) char **lists = NULL;
	struct apt_list *found = NULL;
	size_t n = 0, alloc = 0;
	int k = 0;

	if (root_list_dir(root, APT_LISTS, &lists) < 0)
		lists = NULL;
	for (char **l = lists; l && *l; l++) {
		size_t base_len;
		enum compression c = compression_from_name(*l, &base_len);
		struct apt_list *p;
		char path[PATH_MAX];

		if (base_len < 9 || strncmp(*l + base_len - 9, "_Packages", 9) != 0 ||
		    apt_list_foreign(*l, base_len, arch))
			continue;
		if ((k = apt_list_shadowed(lists, *l, base_len, c)) != 0) {
			if (k < 0)
				break;
			k = 0;
			continue;
		}
		if (!(p = array_grow(found, n, &alloc, sizeof(*p)))) {
			k = -ENOMEM;
			break;
		}
		found = p;
		p = &found[n++];
		*p = (struct apt_list){ .file = strdup(*l), .origin = strndup(*l, base_len), .c = c };
		if (!p->file || !p->origin) {
			k = -ENOMEM;
			break;
		}
		/* Not there to stat: read will say why, and the index is not used. */
		if (root_stat(root, path_fmt(path, APT_LISTS "/%s", *l), &p->st) < 0)
			p->st = (struct stat){};
	}
	if (k < 0) {
		apt_lists_free(found, n);
		return k;
	}
	*ret = found;
	*ret_n = n;
	return 0;
}

/* The lists read: a list that does not read is left out with a warning, so that one broken
 * repository does not hide the others. 1 when every list was read. */
static int read_apt_lists(const struct root *root, const struct apt_list *lists, size_t n, const char *arch,
			  struct builder *b, char ***warnings, size_t *n_warnings)
{
	bool all = true;

	for (size_t i = 0; i < n; i++) {
		int k = read_apt_list(root, &lists[i], arch, b);
		char *w;

		/* Without libarchive no compressed list reads: a plan without them all is another plan. */
		if (k == -ENOMEM || k == -GPE_LIBRARY)
			return k;
		if (k >= 0)
			continue;
		all = false;
		if (k == -GPE_TOOBIG)
			k = asprintf(&w, "/" APT_LISTS "/%s: holds more than %d MiB, the most gpuprov reads of a list; "
				     "its packages are not offered", lists[i].file, APT_LIST_MAX_MIB);
		else
			k = asprintf(&w, "/" APT_LISTS "/%s: %s; its packages are not offered", lists[i].file,
				     gp_strerror(k));
		if (k >= 0)
			(void)strv_push_take(warnings, n_warnings, w);
	}
	return all;
}

static int read_repo_json(const struct root *root, struct repo_view *v, struct builder *offered,
			  struct builder *installed, char ***warnings, size_t *n_warnings)
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
		if ((k = builder_add_str(offered, json_str(e, "name"), json_str(e, "version"), json_str(e, "arch"),
					 json_str(e, "repo") ? json_str(e, "repo") : "repo.json", false)) < 0)
			return k;
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "installed")) {
		if (!json_str(e, "name") || !json_str(e, "version"))
			continue;
		if ((k = builder_add_str(installed, json_str(e, "name"), json_str(e, "version"), json_str(e, "arch"),
					 "rpm", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "held")))) < 0)
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

struct rec_order {
	const char *pool;
	enum vercmp_order order;
};

/* By name, then version newest first, as the view's order says (a struct rec_order). */
static int cmp_brec(const void *a, const void *b, void *userdata)
{
	const struct repo_rec *x = &((const struct brec *)a)->r, *y = &((const struct brec *)b)->r;
	const struct rec_order *o = userdata;
	int c = 0;

	/* One string is kept once: the same offset is the same name, with no look at it. */
	if (x->name != y->name && (c = strcmp(o->pool + x->name, o->pool + y->name)))
		return c;
	if (x->version != y->version) {
		c = vercmp(o->order, o->pool + y->version, o->pool + x->version); /* newest first */
		/* Versions the order holds equal ("1.0" and "1.00") by their text, so that the
		 * lists' order never shows. */
		if (!c)
			c = strcmp(o->pool + x->version, o->pool + y->version);
	}
	return c ? c : strcmp(o->pool + x->origin, o->pool + y->origin);
}

static void builder_sort(struct builder *b, enum vercmp_order order)
{
	if (b->n > 1)
		qsort_r(b->recs, b->n, sizeof(*b->recs), cmp_brec, &(struct rec_order){ b->strs.buf, order });
}

static int cmp_runfile(const void *a, const void *b)
{
	const struct repo_runfile *x = a, *y = b;
	int c = strcmp(x->kind, y->kind);

	if (!c)
		c = vercmp_dotted(y->version, x->version);
	return c ? c : strcmp(x->file, y->file);
}

struct status_read {
	struct builder *b;
	uint32_t origin;
};

static int installed_stanza(const struct deb822_fields *s, void *userdata)
{
	struct status_read *r = userdata;
	bool held = deb822_value_eq(s->status, "hold ok installed");

	if (!s->package.len || !s->version.len || !(held || deb822_value_eq(s->status, "install ok installed")))
		return 0;
	return builder_add(r->b, s->package, s->version, s->architecture, r->origin, held);
}

/* dpkg's status: what is installed, so a plan installs only what is missing, and what is
 * held ("hold ok installed"), so a plan holds only what is not. */
static int read_dpkg_status(const struct root *root, struct builder *installed)
{
	_cleanup_fclose_ FILE *f = NULL;
	int64_t origin;

	if (root_fopen(root, "var/lib/dpkg/status", &f) < 0)
		return 0;
	if ((origin = strtab_intern(&installed->strs, "dpkg", 4)) < 0)
		return (int)origin;
	return deb822_scan(f, installed_stanza, &(struct status_read){ installed, (uint32_t)origin });
}

/* What the runfile backend installed (var/lib/gpuprov/runfiles.json): the runfile's name
 * stands for the package, so that a second apply sees it installed. */
static int read_runfile_record(const struct root *root, struct builder *installed, char ***warnings,
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
		    (k = builder_add_str(installed, json_str(e, "file"), json_str(e, "version"), NULL, "runfile",
					 false)) < 0)
			return k;
	return 0;
}

/* The offered packages: from the index when it is of these very lists, else read from them
 * (and indexed, when every list read). repo.json's packages (the dnf backend's) are read
 * with the lists and never indexed. */
static int load_offered(const struct root *root, struct repo_view *v, const char *arch, struct builder *offered,
			char ***warnings, size_t *n_warnings)
{
	struct apt_list *lists = NULL;
	_cleanup_free_ void *key = NULL;
	size_t n = 0, key_len = 0;
	struct repo_rec *recs;
	int k;

	if ((k = find_apt_lists(root, arch, &lists, &n)) < 0)
		return k;
	if (offered->n == 0 && n > 0 && repo_cache_key(lists, n, v->order, arch, &key, &key_len) >= 0 &&
	    repo_cache_load(root, key, key_len, v) > 0) {
		apt_lists_free(lists, n);
		return 0;
	}
	k = read_apt_lists(root, lists, n, arch, offered, warnings, n_warnings);
	apt_lists_free(lists, n);
	if (k < 0)
		return k;
	builder_sort(offered, v->order);
	if (offered->n && !(recs = malloc(offered->n * sizeof(*recs))))
		return -ENOMEM;
	for (size_t i = 0; i < offered->n; i++)
		recs[i] = offered->recs[i].r;
	v->recs = v->own_recs = offered->n ? recs : NULL;
	v->n_pkgs = offered->n;
	v->pool = v->own_pool = TAKE_PTR(offered->strs.buf);
	v->pool_len = offered->strs.len;
	/* Every list read, and nothing from repo.json among them: what the index is of. */
	if (k > 0 && key && v->n_pkgs)
		repo_cache_save(root, key, key_len, v);
	return 0;
}

int repo_view_load(const struct root *root, enum vercmp_order order, const char *machine, struct repo_view **ret,
		   char ***warnings, size_t *n_warnings)
{
	_cleanup_(repo_view_freep) struct repo_view *v = NULL;
	_cleanup_(builder_done) struct builder offered = {}, installed = {};
	int k;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->order = order;
	if ((k = read_repo_json(root, v, &offered, &installed, warnings, n_warnings)) < 0 ||
	    (k = load_offered(root, v, dpkg_arch(machine), &offered, warnings, n_warnings)) < 0 ||
	    (k = read_dpkg_status(root, &installed)) < 0 ||
	    (k = read_runfile_record(root, &installed, warnings, n_warnings)) < 0)
		return k;
	/* Sorted, so that the same lists give the same answers whatever the directory order. */
	builder_sort(&installed, order);
	if (installed.n && !(v->installed = calloc(installed.n, sizeof(*v->installed))))
		return -ENOMEM;
	v->installed_pool = TAKE_PTR(installed.strs.buf);
	for (size_t i = 0; i < installed.n; i++) {
		const struct repo_rec *r = &installed.recs[i].r;

		v->installed[i] = (struct repo_pkg){ v->installed_pool + r->name, v->installed_pool + r->version,
						     v->installed_pool + r->arch, v->installed_pool + r->origin,
						     installed.recs[i].held };
	}
	v->n_installed = installed.n;
	if (v->n_runfiles > 1)
		qsort(v->runfiles, v->n_runfiles, sizeof(*v->runfiles), cmp_runfile);
	*ret = TAKE_PTR(v);
	return 0;
}

struct repo_view *repo_view_free(struct repo_view *v)
{
	if (!v)
		return NULL;
	if (v->map)
		(void)munmap(v->map, v->map_len);
	free(v->own_recs);
	free(v->own_pool);
	free(v->installed);
	free(v->installed_pool);
	for (size_t i = 0; i < v->n_runfiles; i++) {
		struct repo_runfile *r = &v->runfiles[i];

		free(r->kind), free(r->version), free(r->driver), free(r->arch), free(r->file), free(r->sha256);
	}
	free(v->runfiles);
	free(v);
	return NULL;
}

/* A string of the pool; "" for an offset past it (an index is checked as it is read, and
 * this keeps a damaged one from reading outside its map all the same). */
static const char *pool_str(const struct repo_view *v, uint32_t off)
{
	return off < v->pool_len ? v->pool + off : "";
}

struct repo_pkg repo_pkg(const struct repo_view *v, size_t i)
{
	const struct repo_rec *r = &v->recs[i];

	return (struct repo_pkg){ pool_str(v, r->name), pool_str(v, r->version), pool_str(v, r->arch),
				  pool_str(v, r->origin), false };
}

/* The first offered package whose name is not below name (compared on its first n bytes). */
static size_t lower_bound(const struct repo_view *v, const char *name, size_t n)
{
	size_t lo = 0, hi = v->n_pkgs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strncmp(pool_str(v, v->recs[mid].name), name, n) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t repo_find(const struct repo_view *v, const char *name, size_t *ret_count)
{
	size_t first = lower_bound(v, name, SIZE_MAX), i = first;

	while (i < v->n_pkgs && streq(pool_str(v, v->recs[i].name), name))
		i++;
	*ret_count = i - first;
	return first;
}

size_t repo_find_prefix(const struct repo_view *v, const char *prefix, size_t *ret_count)
{
	size_t n = strlen(prefix), first = lower_bound(v, prefix, n), i = first;

	while (i < v->n_pkgs && strncmp(pool_str(v, v->recs[i].name), prefix, n) == 0)
		i++;
	*ret_count = i - first;
	return first;
}

size_t repo_find_installed(const struct repo_view *v, const char *name, size_t *ret_count)
{
	size_t lo = 0, hi = v->n_installed, first;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (strcmp(v->installed[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < v->n_installed && streq(v->installed[lo].name, name))
		lo++;
	*ret_count = lo - first;
	return first;
}

bool repo_offered(const struct repo_view *v, const char *name, const char *version)
{
	size_t n, first = repo_find(v, name, &n);

	for (size_t i = first; version && i < first + n; i++)
		if (streq(pool_str(v, v->recs[i].version), version))
			return true;
	return false;
}

int repo_installed(const struct repo_view *v, const char *name, const char *version)
{
	size_t n, first;

	if (!v->installed)
		return -1;
	first = repo_find_installed(v, name, &n);
	for (size_t i = first; i < first + n; i++)
		if (streq(v->installed[i].version, version))
			return 1;
	return 0;
}

const char *repo_installed_version(const struct repo_view *v, const char *name)
{
	size_t n, first = repo_find_installed(v, name, &n);

	return n ? v->installed[first].version : NULL;
}

bool repo_installed_any(const struct repo_view *v, const char *name)
{
	size_t n;

	repo_find_installed(v, name, &n);
	return n > 0;
}

bool repo_held(const struct repo_view *v, const char *name)
{
	size_t n, first = repo_find_installed(v, name, &n);

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
