/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dnf (RHEL/Rocky 9, openEuler, Kylin): exact versions, versionlock entries (an excludepkgs
 * line where the plugin is missing), install-only kernels kept. Under --root, dnf runs from
 * the installer's system with --installroot (DESIGN rule 2).
 */
#include <errno.h>

#include "files/managed.h"
#include "pkg/pkg.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/vercmp.h"
#include "util/write.h"

#define DNF_CONF "etc/dnf/dnf.conf"
#define VERSIONLOCK_CONF "etc/dnf/plugins/versionlock.conf"
#define VERSIONLOCK_LIST "etc/dnf/plugins/versionlock.list"
#define REPO_JSON "var/lib/gpuprov/repo.json"
#define CONF_MAX (1024 * 1024)
/* A repository view of every version the repositories offer runs to megabytes. */
#define REPO_JSON_MAX (16 * 1024 * 1024)
/* Module filtering hides the packages of streams not enabled: the view, the checks and the
 * dry run see them all; the install itself goes through the enabled stream. */
#define ALL_STREAMS "--setopt=*.module_hotfixes=1"

/* "dnf [--installroot=R --releasever=V] -y -q", then the rest. Every query says
 * --disableexcludes=all: an excludepkgs line hides packages even from repoquery
 * --installed, and gpuprov must see what it holds. */
static int dnf_argv(const struct pkg_ctx *c, char ***ret, ...)
{
	_cleanup_(strv_freep) char **v = NULL;
	size_t n = 0;
	va_list ap;
	int k = 0;

	k |= strv_push(&v, &n, "dnf");
	if (!streq(c->root->path, "/")) {
		k |= strv_pushf(&v, &n, "--installroot=%s", c->root->path);
		/* The target's release, not the installer's. */
		if (c->facts->os.version_id)
			k |= strv_pushf(&v, &n, "--releasever=%s", c->facts->os.version_id);
	}
	k |= strv_push(&v, &n, "-y");
	k |= strv_push(&v, &n, "-q");
	va_start(ap, ret);
	for (const char *a; (a = va_arg(ap, const char *));)
		k |= strv_push(&v, &n, a);
	va_end(ap);
	if (k < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(v);
	return 0;
}

/* "0:5.14.0-503.14.1.el9_5" -> "5.14.0-503.14.1.el9_5": repo.json writes epoch 0 as dnf's
 * users do, without it. */
static const char *strip_zero_epoch(const char *evr)
{
	const char *e = startswith(evr, "0:");

	return e ? e : evr;
}

/* Lines "name evr arch repo" from a repoquery, as repo.json entries. */
static int parse_query(const char *out, cJSON *array, const char *fixed_repo)
{
	_cleanup_free_ char *copy = strdup(out);

	if (!copy)
		return -ENOMEM;
	for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *f[4] = {};
		cJSON *o;

		for (int i = 0; i < 4; i++)
			f[i] = strsep(&l, " ");
		if (!f[0] || !f[1] || !*f[0] || !*f[1])
			continue;
		o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(array, o) || !cJSON_AddStringToObject(o, "name", f[0]) ||
		    !cJSON_AddStringToObject(o, "version", strip_zero_epoch(f[1])) ||
		    !cJSON_AddStringToObject(o, "arch", f[2] ? f[2] : "") ||
		    !cJSON_AddStringToObject(o, "repo", fixed_repo ? fixed_repo : f[3] ? f[3] : ""))
			return -ENOMEM;
	}
	return 0;
}

/* Whether a name is locked: a versionlock entry "name-..." or in an excludepkgs line. */
static bool locked(const char *vl, const char *excludes, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = vl; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == '-' && (p[n + 1] >= '0' && p[n + 1] <= '9'))
			return true;
	for (const char *p = excludes; p && (p = strstr(p, name)); p += n)
		if ((p == excludes || p[-1] == ' ' || p[-1] == '=' || p[-1] == ',') &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == ',' || p[n] == '\n' || (p[n] == '-' && p[n + 1] == '*')))
			return true;
	return false;
}

/* The [main] excludepkgs= line of dnf.conf, or NULL. */
static char *excludes_line(const char *conf)
{
	for (const char *p = conf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (startswith(p, "excludepkgs=") || startswith(p, "exclude="))
			return strndup(p, strcspn(p, "\n"));
	return NULL;
}

/* repo.json's "installed": what rpm has installed now, each with whether it is locked. */
static int query_installed(struct pkg_ctx *c, cJSON *installed)
{
	_cleanup_(strv_freep) char **inst = NULL;
	_cleanup_free_ char *vl = NULL, *conf = NULL, *ex = NULL;
	struct spawn_result ri = {};
	const cJSON *e;
	int k;

	if (dnf_argv(c, &inst, "repoquery", "--disableexcludes=all", "--installed", "--qf", "%{name} %{epoch}:%{version}-%{release} %{arch}", NULL) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	if ((k = pkg_run(c, 0, inst, NULL, &ri)) < 0)
		return k;
	k = parse_query(ri.out, installed, "@System");
	spawn_result_done(&ri);
	if (k < 0)
		return pkg_fail(c, k, "out of memory");
	(void)root_read_file(c->root, VERSIONLOCK_LIST, CONF_MAX, &vl, NULL);
	(void)root_read_file(c->root, DNF_CONF, CONF_MAX, &conf, NULL);
	ex = excludes_line(conf);
	cJSON_ArrayForEach(e, installed)
		if (locked(vl, ex, json_str(e, "name")) && !cJSON_AddTrueToObject((cJSON *)e, "held"))
			return pkg_fail(c, -ENOMEM, "out of memory");
	return 0;
}

static int write_repo_json(struct pkg_ctx *c, const cJSON *doc)
{
	_cleanup_free_ char *text = cJSON_Print(doc);
	int k;

	if (!text)
		return pkg_fail(c, -ENOMEM, "out of memory");
	if ((k = root_write_atomic(c->root, REPO_JSON, text, strlen(text), 0644)) < 0)
		return pkg_fail(c, k, "%s: %s", REPO_JSON, gp_strerror(k));
	return 0;
}

/*
 * Writes var/lib/gpuprov/repo.json from what dnf says the repositories offer and what rpm
 * has installed (with whether it is locked), keeping the runfiles a site listed there.
 */
static int dnf_refresh(struct pkg_ctx *c)
{
	_cleanup_(strv_freep) char **mk = NULL, **avail = NULL;
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	_cleanup_free_ char *old = NULL;
	struct spawn_result ra = {};
	const cJSON *e;
	cJSON *pkgs, *installed, *runfiles;
	int k;

	if (dnf_argv(c, &mk, "makecache", NULL) < 0 ||
	    dnf_argv(c, &avail, "repoquery", "--disableexcludes=all", ALL_STREAMS, "--showduplicates", "--qf", "%{name} %{epoch}:%{version}-%{release} %{arch} %{repoid}", NULL) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	if ((k = pkg_run(c, 0, mk, NULL, NULL)) < 0 || (k = pkg_run(c, 0, avail, NULL, &ra)) < 0)
		return k;
	doc = cJSON_CreateObject();
	k = !doc || !(pkgs = cJSON_AddArrayToObject(doc, "packages")) ||
			    !(installed = cJSON_AddArrayToObject(doc, "installed")) ||
			    !(runfiles = cJSON_AddArrayToObject(doc, "runfiles"))
		    ? -ENOMEM
		    : parse_query(ra.out, pkgs, NULL);
	spawn_result_done(&ra);
	if (k < 0)
		return pkg_fail(c, k, "out of memory");
	if ((k = query_installed(c, installed)) < 0)
		return k;
	/* The runfiles are the site's list; dnf knows nothing of them. */
	if (root_read_file(c->root, REPO_JSON, REPO_JSON_MAX, &old, NULL) >= 0) {
		_cleanup_(cJSON_Deletep) cJSON *prev = cJSON_Parse(old);

		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(prev, "runfiles"))
			if (!cJSON_AddItemToArray(runfiles, cJSON_Duplicate(e, true)))
				return pkg_fail(c, -ENOMEM, "out of memory");
	}
	return write_repo_json(c, doc);
}

/* After packages or locks changed: repo.json's "installed" as the node has them now, so that
 * the view (plan, status, rollback --dry-run) does not go by what the last refresh found.
 * Nothing to do without a repo.json. */
static int sync_installed(struct pkg_ctx *c)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	cJSON *installed = cJSON_CreateArray();
	int k;

	if (root_read_file(c->root, REPO_JSON, REPO_JSON_MAX, &text, NULL) < 0 || !cJSON_IsObject(doc = cJSON_Parse(text))) {
		cJSON_Delete(installed);
		return 0;
	}
	if (!installed || !(cJSON_HasObjectItem(doc, "installed")
				    ? cJSON_ReplaceItemInObjectCaseSensitive(doc, "installed", installed)
				    : cJSON_AddItemToObject(doc, "installed", installed))) {
		cJSON_Delete(installed);
		return pkg_fail(c, -ENOMEM, "out of memory");
	}
	if ((k = query_installed(c, installed)) < 0)
		return k;
	return write_repo_json(c, doc);
}

/* Each wanted name-version is offered; else refuse naming the versions that are. */
static int dnf_offered(struct pkg_ctx *c, const struct pkg_want *w, size_t n)
{
	_cleanup_(strv_freep) char **argv = NULL, **offers = NULL;
	struct spawn_result r = {};
	size_t no = 0;
	int k;

	if (dnf_argv(c, &argv, "repoquery", "--disableexcludes=all", ALL_STREAMS, "--showduplicates", "--qf",
		     "%{name} %{epoch}:%{version}-%{release}", NULL) < 0 ||
	    pkg_push_wants(&argv, w, n, NULL) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	if ((k = pkg_run(c, 0, argv, NULL, &r)) < 0)
		return k;
	for (char *save = NULL, *l = strtok_r(r.out, "\n", &save); l && k >= 0; l = strtok_r(NULL, "\n", &save)) {
		char *name = strsep(&l, " ");

		if (l && (strv_push(&offers, &no, name) < 0 || strv_push(&offers, &no, strip_zero_epoch(l)) < 0))
			k = pkg_fail(c, -ENOMEM, "out of memory");
	}
	spawn_result_done(&r);
	return k < 0 ? k : pkg_check_offered(c, w, n, offers);
}

/* NVIDIA's RHEL streams: "<branch>-open" for the open modules, "<branch>-dkms"
 * for the proprietary ones; empty when the repositories carry no such stream. */
static int driver_stream(struct pkg_ctx *c, char *buf, size_t size)
{
	_cleanup_(strv_freep) char **argv = NULL;
	struct spawn_result r = {};
	char want[64];
	int k;

	*buf = '\0';
	if (!c->branch || snprintf(want, sizeof(want), "%s-%s", c->branch, streq_ptr(c->flavour, "open") ? "open" : "dkms") >= (int)sizeof(want))
		return 0;
	if (dnf_argv(c, &argv, "module", "list", "--disableexcludes=all", "nvidia-driver", NULL) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	/* No module metadata at all: dnf says so and exits 1; that is "no stream". */
	if ((k = spawn_run(c->root, 0, argv, NULL, &r)) < 0)
		return pkg_fail(c, k, "cannot run dnf: %s", gp_strerror(k));
	for (char *save = NULL, *l = strtok_r(r.out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		const char *rest = startswith(l, "nvidia-driver ");

		if (rest && (rest += strspn(rest, " "), strncmp(rest, want, strlen(want)) == 0) &&
		    (rest[strlen(want)] == ' ' || rest[strlen(want)] == '\0'))
			snprintf(buf, size, "%s", want);
	}
	spawn_result_done(&r);
	return 0;
}

/* install, or its test transaction: gpuprov's own locks must not stop gpuprov. */
static int dnf_transaction(struct pkg_ctx *c, bool test, const struct pkg_want *w, size_t n)
{
	_cleanup_(strv_freep) char **argv = NULL;

	if (n == 0)
		return 0;
	if (dnf_argv(c, &argv, "install", "--disableexcludes=all", "--disableplugin=versionlock",
		     pkg_want_recommends(c) ? "--setopt=install_weak_deps=True" : "--setopt=install_weak_deps=False",
		     test ? "--setopt=tsflags=test" : "--setopt=tsflags=", test ? ALL_STREAMS : NULL, NULL) < 0 ||
	    pkg_push_wants(&argv, w, n, "-") < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	return pkg_run(c, 0, argv, NULL, NULL);
}

static int dnf_preflight(struct pkg_ctx *c, const struct pkg_want *w, size_t n)
{
	int k = dnf_offered(c, w, n);

	return k < 0 ? k : dnf_transaction(c, true, w, n);
}

static int dnf_install(struct pkg_ctx *c, const struct pkg_want *w, size_t n)
{
	_cleanup_(strv_freep) char **reset = NULL, **enable = NULL;
	_cleanup_free_ char *spec = NULL;
	char stream[64];
	int k;

	if ((k = driver_stream(c, stream, sizeof(stream))) < 0)
		return k;
	if (*stream) {
		/* The branch's stream locks the driver to it; a reset first, since dnf
		 * does not switch an enabled stream by itself. */
		if (asprintf(&spec, "nvidia-driver:%s", stream) < 0 ||
		    dnf_argv(c, &reset, "module", "reset", "nvidia-driver", NULL) < 0 ||
		    dnf_argv(c, &enable, "module", "enable", spec, NULL) < 0)
			return pkg_fail(c, -ENOMEM, "out of memory");
		if ((k = pkg_run(c, 0, reset, NULL, NULL)) < 0 || (k = pkg_run(c, 0, enable, NULL, NULL)) < 0)
			return k;
	}
	if ((k = dnf_transaction(c, false, w, n)) < 0)
		return k;
	return sync_installed(c);
}

/* versionlock.list without the entries of these names, then with the new ones. */
static int lock_list(struct pkg_ctx *c, const struct pkg_want *w, size_t n, bool add)
{
	_cleanup_free_ char *old = NULL, *out = NULL;
	size_t len = 0;
	FILE *f;
	int k;

	k = root_read_file(c->root, VERSIONLOCK_LIST, CONF_MAX, &old, NULL);
	if (k < 0 && k != -ENOENT)
		return pkg_fail(c, k, "%s: %s", VERSIONLOCK_LIST, gp_strerror(k));
	if (!(f = open_memstream(&out, &len)))
		return pkg_fail(c, -ENOMEM, "out of memory");
	for (char *save = NULL, *l = old ? strtok_r(old, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
		bool ours = false;

		for (size_t i = 0; i < n; i++)
			ours |= locked(l, NULL, w[i].name);
		if (!ours)
			fprintf(f, "%s\n", l);
	}
	/* name-epoch:version-release.*. */
	for (size_t i = 0; add && i < n; i++)
		fprintf(f, "%s-%s%s.*\n", w[i].name, strchr(w[i].version, ':') ? "" : "0:", w[i].version);
	if (fclose(f) != 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	if ((k = managed_write(c->root, VERSIONLOCK_LIST, out, len, 0644)) < 0)
		return pkg_fail(c, k, "%s: %s", VERSIONLOCK_LIST, gp_strerror(k));
	return 0;
}

/* Without the plugin: the names in [main] excludepkgs=, which every dnf run honours. */
static int exclude_line(struct pkg_ctx *c, const struct pkg_want *w, size_t n, bool add)
{
	_cleanup_free_ char *conf = NULL, *out = NULL;
	_cleanup_(strv_freep) char **names = NULL;
	size_t len = 0, nn = 0;
	bool done = false;
	FILE *f;
	int k;

	if ((k = root_read_file(c->root, DNF_CONF, CONF_MAX, &conf, NULL)) < 0 && k != -ENOENT)
		return pkg_fail(c, k, "%s: %s", DNF_CONF, gp_strerror(k));
	if (!(f = open_memstream(&out, &len)))
		return pkg_fail(c, -ENOMEM, "out of memory");
	for (char *save = NULL, *l = conf ? strtok_r(conf, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
		const char *v = startswith(l, "excludepkgs=");

		if (!v) {
			fprintf(f, "%s\n", l);
			if (!done && startswith(l, "[main]")) {
				done = true;
				fprintf(f, "excludepkgs=@GPUPROV@\n");
			}
			continue;
		}
		_cleanup_free_ char *copy = strdup(v);
		for (char *s2 = NULL, *x = copy ? strtok_r(copy, " ,", &s2) : NULL; x; x = strtok_r(NULL, " ,", &s2))
			if (!strv_contains(names, x))
				(void)strv_push(&names, &nn, x);
	}
	if (!done)
		fprintf(f, "[main]\nexcludepkgs=@GPUPROV@\n");
	if (fclose(f) != 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		bool has = strv_contains(names, w[i].name);

		if (add && !has)
			(void)strv_push(&names, &nn, w[i].name);
		else if (!add && has)
			for (char **p = names; *p; p++)
				if (streq(*p, w[i].name)) {
					free(*p);
					memmove(p, p + 1, (size_t)(nn-- - (size_t)(p - names)) * sizeof(*p));
					break;
				}
	}
	_cleanup_free_ char *list = strv_join(names, " ");
	_cleanup_free_ char *final = NULL;
	char *at = out ? strstr(out, "@GPUPROV@") : NULL;

	if (!list || !at || asprintf(&final, "%.*s%s%s", (int)(at - out), out, list, at + strlen("@GPUPROV@")) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	if ((k = managed_write(c->root, DNF_CONF, final, strlen(final), 0644)) < 0)
		return pkg_fail(c, k, "%s: %s", DNF_CONF, gp_strerror(k));
	return 0;
}

/* Whether dnf in the target has the versionlock plugin (its config file ships with it). */
static bool have_versionlock(const struct pkg_ctx *c)
{
	return root_exists(c->root, VERSIONLOCK_CONF) > 0;
}

/* Every installed version of a package (install-only kernels have several). */
static int installed_versions(struct pkg_ctx *c, const char *name, char ***ret)
{
	_cleanup_(strv_freep) char **argv = NULL, **v = NULL;
	struct spawn_result r = {};
	size_t n = 0;
	int k;

	if (dnf_argv(c, &argv, "repoquery", "--disableexcludes=all", "--installed", "--qf",
		     "%{epoch}:%{version}-%{release}", name, NULL) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	if ((k = pkg_run(c, 0, argv, NULL, &r)) < 0)
		return k;
	for (char *save = NULL, *l = strtok_r(r.out, "\n", &save); l && k >= 0; l = strtok_r(NULL, "\n", &save))
		if (!strv_contains(v, strip_zero_epoch(l)) && strv_push(&v, &n, strip_zero_epoch(l)) < 0)
			k = pkg_fail(c, -ENOMEM, "out of memory");
	spawn_result_done(&r);
	if (k >= 0)
		*ret = TAKE_PTR(v);
	return k;
}

/*
 * The lock entries for the wants: a want without a version locks what is installed of it,
 * and a kernel brings its parts of the same version (RHEL 9 splits it into kernel-core and
 * kernel-modules, each install-only: unlocked, an update would install new ones beside it).
 * Returned as "name" and "version" pairs in one strv.
 */
static int expand_locks(struct pkg_ctx *c, const struct pkg_want *w, size_t n, char ***ret)
{
	static const char *const kernel_parts[] = { "", "-core", "-modules", "-modules-core" };
	_cleanup_(strv_freep) char **pairs = NULL;
	size_t np = 0;
	int k = -ENOMEM;

	for (size_t i = 0; i < n; i++) {
		_cleanup_(strv_freep) char **versions = NULL;
		bool kernel = streq(w[i].name, "kernel") || streq(w[i].name, "kernel-64k");
		size_t nv = 0;

		if (w[i].version ? strv_push(&versions, &nv, w[i].version) < 0 : (k = installed_versions(c, w[i].name, &versions)) < 0)
			return c->error ? k : pkg_fail(c, -ENOMEM, "out of memory");
		for (size_t p = 0; p < (kernel ? ELEMENTSOF(kernel_parts) : 1); p++)
			for (char **v = versions; v && *v; v++) {
				_cleanup_free_ char *name = NULL;
				bool dup = false;

				if (asprintf(&name, "%s%s", w[i].name, kernel ? kernel_parts[p] : "") < 0)
					return pkg_fail(c, -ENOMEM, "out of memory");
				for (size_t j = 0; j + 1 < np; j += 2)
					dup |= streq(pairs[j], name) && streq(pairs[j + 1], *v);
				if (!dup && (strv_push(&pairs, &np, name) < 0 || strv_push(&pairs, &np, *v) < 0))
					return pkg_fail(c, -ENOMEM, "out of memory");
			}
	}
	*ret = TAKE_PTR(pairs);
	return 0;
}

static int dnf_lock(struct pkg_ctx *c, const struct pkg_want *w, size_t n, bool add)
{
	_cleanup_(strv_freep) char **pairs = NULL;
	size_t np;
	int k;

	if (n == 0)
		return 0;
	if ((k = expand_locks(c, w, n, &pairs)) < 0)
		return k;
	np = strv_length(pairs) / 2;
	struct pkg_want locks[np ? np : 1];
	for (size_t i = 0; i < np; i++)
		locks[i] = (struct pkg_want){ pairs[2 * i], pairs[2 * i + 1] };
	if ((k = have_versionlock(c) ? lock_list(c, locks, np, add) : exclude_line(c, locks, np, add)) < 0)
		return k;
	return sync_installed(c);
}

static int dnf_hold(struct pkg_ctx *c, const struct pkg_want *w, size_t n)
{
	return dnf_lock(c, w, n, true);
}

static int dnf_unhold(struct pkg_ctx *c, const struct pkg_want *w, size_t n)
{
	return dnf_lock(c, w, n, false);
}

/* Kernels are install-only: installonly_limit >= 2 keeps the previous one beside the new
 *; the default, 3, when dnf.conf does not say. */
static int dnf_keep_kernel(struct pkg_ctx *c, const char *release _unused_)
{
	_cleanup_free_ char *conf = NULL, *out = NULL;
	const char *p;
	int k;

	if ((k = root_read_file(c->root, DNF_CONF, CONF_MAX, &conf, NULL)) < 0)
		return k == -ENOENT ? 0 : pkg_fail(c, k, "%s: %s", DNF_CONF, gp_strerror(k));
	p = strstr(conf, "installonly_limit=");
	if (!p || (p != conf && p[-1] != '\n') || atoi(p + strlen("installonly_limit=")) >= 2)
		return 0;
	if (asprintf(&out, "%.*sinstallonly_limit=3%s", (int)(p - conf), conf, p + strcspn(p, "\n")) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	if ((k = managed_write(c->root, DNF_CONF, out, strlen(out), 0644)) < 0)
		return pkg_fail(c, k, "%s: %s", DNF_CONF, gp_strerror(k));
	return 0;
}

/* The newest installed version (an install-only kernel may have several). */
static int dnf_installed(struct pkg_ctx *c, const char *name, char **ret_version)
{
	_cleanup_(strv_freep) char **versions = NULL;
	const char *newest = NULL;
	int k;

	*ret_version = NULL;
	if ((k = installed_versions(c, name, &versions)) < 0)
		return k;
	for (char **v = versions; v && *v; v++)
		if (!newest || vercmp_rpm(*v, newest) > 0)
			newest = *v;
	if (!newest)
		return 0;
	return (*ret_version = strdup(newest)) ? 1 : pkg_fail(c, -ENOMEM, "out of memory");
}

static int dnf_remove(struct pkg_ctx *c, const struct pkg_want *w, size_t n)
{
	_cleanup_(strv_freep) char **argv = NULL;
	int k;

	if (n == 0)
		return 0;
	if (dnf_argv(c, &argv, "remove", "--disableexcludes=all", "--disableplugin=versionlock", NULL) < 0 ||
	    pkg_push_wants(&argv, w, n, NULL) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	if ((k = pkg_run(c, 0, argv, NULL, NULL)) < 0)
		return k;
	return sync_installed(c);
}

/* dnf download (dnf-plugins-core) with --resolve: the wants and what they need that the
 * root lacks; --destdir is a host path, as every path dnf --installroot is given: dir
 * resolved inside the root first, or a link in the root would lead the host's dnf out. */
static int dnf_download(struct pkg_ctx *c, const struct pkg_want *w, size_t n, const char *dir)
{
	_cleanup_(strv_freep) char **argv = NULL;
	_cleanup_free_ char *host = NULL, *dest = NULL;
	int k;

	if ((k = root_host_path(c->root, dir, &host)) < 0)
		return pkg_fail(c, k, "%s: %s", dir, gp_strerror(k));
	if (asprintf(&dest, "--destdir=%s", host) < 0 ||
	    dnf_argv(c, &argv, "download", "--resolve", "--disableexcludes=all", "--disableplugin=versionlock",
		     ALL_STREAMS, dest, NULL) < 0 ||
	    pkg_push_wants(&argv, w, n, "-") < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	return pkg_run(c, 0, argv, NULL, NULL);
}

/* createrepo_c on the host: repodata/ beside the packages, for a file:// baseurl; dir
 * resolved inside the root, as for dnf download. */
static int dnf_index(struct pkg_ctx *c, const char *dir, char ***ret_files)
{
	_cleanup_(strv_freep) char **rpms = NULL, **meta = NULL, **files = NULL;
	_cleanup_free_ char *host = NULL, *repodata = NULL;
	size_t nf = 0;
	int k;

	if ((k = root_host_path(c->root, dir, &host)) < 0)
		return pkg_fail(c, k, "%s: %s", dir, gp_strerror(k));
	if (asprintf(&repodata, "%s/repodata", dir) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	if ((k = pkg_run(c, 0, (char *[]){ "createrepo_c", "--quiet", "--simple-md-filenames", host, NULL }, NULL,
			 NULL)) < 0)
		return k;
	if ((k = pkg_list_files(c, dir, ".rpm", &rpms)) < 0 || (k = pkg_list_files(c, repodata, "", &meta)) < 0)
		return k;
	for (char **m = meta; *m; m++)
		if (strv_pushf(&files, &nf, "repodata/%s", *m) < 0)
			return pkg_fail(c, -ENOMEM, "out of memory");
	if (strv_extend(&files, rpms) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	strv_sort(files);
	*ret_files = TAKE_PTR(files);
	return 0;
}

const struct pkg_backend pkg_dnf = {
	.name = "dnf",
	.refresh = dnf_refresh,
	.preflight = dnf_preflight,
	.install = dnf_install,
	.hold = dnf_hold,
	.unhold = dnf_unhold,
	.keep_kernel = dnf_keep_kernel,
	.installed = dnf_installed,
	.remove = dnf_remove,
	.download = dnf_download,
	.index = dnf_index,
};
