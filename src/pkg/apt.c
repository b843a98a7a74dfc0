/* SPDX-License-Identifier: GPL-2.0-or-later */
/* apt and dpkg (Debian, Ubuntu): exact versions, apt-mark holds, kernels kept manual. */
#include <errno.h>

#include "net/crypto-lib.h"
#include "pkg/pkg.h"
#include "util/archive-lib.h"
#include "util/errors.h"
#include "util/strutil.h"
#include "util/write.h"

static char *const apt_env[] = { "DEBIAN_FRONTEND=noninteractive", "APT_LISTCHANGES_FRONTEND=none", NULL };

static int apt_get(struct pkg_ctx *c, bool simulate, const struct pkg_want *w, size_t n)
{
	char *head[] = { "apt-get", "install", "-q", simulate ? "-s" : "-y",
			 /* Keep the admin's edits of conffiles; never ask. */
			 "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold",
			 /* gpuprov moves its own holds and may step a version down to the pinned one. */
			 "--allow-downgrades", "--allow-change-held-packages",
			 pkg_want_recommends(c) ? "--install-recommends" : "--no-install-recommends", NULL };
	_cleanup_(strv_freep) char **argv = NULL;

	if (n == 0)
		return 0;
	if (strv_extend(&argv, head) < 0 || pkg_push_wants(&argv, w, n, "=") < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	return pkg_run(c, SPAWN_IN_ROOT, argv, apt_env, NULL);
}

static int apt_refresh(struct pkg_ctx *c)
{
	char *argv[] = { "apt-get", "update", "-q", NULL };

	return pkg_run(c, SPAWN_IN_ROOT, argv, apt_env, NULL);
}

/* Every wanted version is offered: else refuse, naming the versions that are (exact
 * versions do vanish from mirrors). apt-cache madison prints "name | version | source". */
static int apt_offered(struct pkg_ctx *c, const struct pkg_want *w, size_t n)
{
	_cleanup_(strv_freep) char **argv = NULL, **offers = NULL;
	struct spawn_result r = {};
	size_t no = 0;
	int k;

	if (strv_extend(&argv, (char *[]){ "apt-cache", "madison", NULL }) < 0 || pkg_push_wants(&argv, w, n, NULL) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	if ((k = pkg_run(c, SPAWN_IN_ROOT, argv, NULL, &r)) < 0)
		return k;
	for (char *save = NULL, *l = strtok_r(r.out, "\n", &save); l && k >= 0; l = strtok_r(NULL, "\n", &save)) {
		char *f[2];

		for (int j = 0; j < 2; j++)
			f[j] = strstrip(strsep(&l, "|") ?: (char *)"");
		if (strv_push(&offers, &no, f[0]) < 0 || strv_push(&offers, &no, f[1]) < 0)
			k = pkg_fail(c, -ENOMEM, "out of memory");
	}
	spawn_result_done(&r);
	return k < 0 ? k : pkg_check_offered(c, w, n, offers);
}

static int apt_preflight(struct pkg_ctx *c, const struct pkg_want *w, size_t n)
{
	int k = apt_offered(c, w, n);

	return k < 0 ? k : apt_get(c, true, w, n);
}

static int apt_install(struct pkg_ctx *c, const struct pkg_want *w, size_t n)
{
	/* A run killed while dpkg worked leaves packages half configured, and apt refuses to do
	 * anything until they are finished: finish them first (a no-op otherwise). */
	char *configure[] = { "dpkg", "--configure", "-a", NULL };
	int k = pkg_run(c, SPAWN_IN_ROOT, configure, apt_env, NULL);

	return k < 0 ? k : apt_get(c, false, w, n);
}

/* The installed packages among names (a dpkg-query pattern each), one per line. */
static int dpkg_installed(struct pkg_ctx *c, char *const *patterns, char ***ret)
{
	_cleanup_(strv_freep) char **argv = NULL, **found = NULL;
	struct spawn_result r = {};
	size_t n = 0, nf = 0;
	int k;

	if (strv_push(&argv, &n, "dpkg-query") < 0 || strv_push(&argv, &n, "-W") < 0 ||
	    strv_push(&argv, &n, "-f=${Package}\\t${db:Status-Status}\\n") < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	for (; *patterns; patterns++)
		if (strv_push(&argv, &n, *patterns) < 0)
			return pkg_fail(c, -ENOMEM, "out of memory");
	/* Exit 1 only says some name is unknown to dpkg: not an error here. */
	k = spawn_run(c->root, SPAWN_IN_ROOT, argv, NULL, &r);
	if (k < 0)
		return pkg_fail(c, k, "cannot run dpkg-query: %s", gp_strerror(k));
	for (char *save = NULL, *l = strtok_r(r.out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(l, '\t');

		if (tab && streq(tab + 1, "installed")) {
			*tab = '\0';
			if (strv_push(&found, &nf, l) < 0) {
				spawn_result_done(&r);
				return pkg_fail(c, -ENOMEM, "out of memory");
			}
		}
	}
	spawn_result_done(&r);
	*ret = TAKE_PTR(found);
	return (int)nf;
}

static int apt_mark(struct pkg_ctx *c, const char *how, char *const *names)
{
	_cleanup_(strv_freep) char **argv = NULL;

	if (!names || !*names)
		return 0;
	if (strv_extend(&argv, (char *[]){ "apt-mark", (char *)how, NULL }) < 0 || strv_extend(&argv, names) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	return pkg_run(c, SPAWN_IN_ROOT, argv, NULL, NULL);
}

static int apt_hold_how(struct pkg_ctx *c, const char *how, const struct pkg_want *w, size_t n)
{
	_cleanup_(strv_freep) char **names = NULL, **installed = NULL;
	int k;

	if (n == 0)
		return 0;
	if (pkg_push_wants(&names, w, n, NULL) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	/* apt-mark cannot hold what dpkg does not know; a package not installed moves nothing. */
	if ((k = dpkg_installed(c, names, &installed)) < 0)
		return k;
	return apt_mark(c, how, installed);
}

/* A kernel image comes with parts of its own release (modules, extra modules) that no pick
 * names; held with it, or a new upload of the same ABI would move them under it. */
static int hold_kernel_parts(struct pkg_ctx *c, const char *how, const struct pkg_want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_(strv_freep) char **parts = NULL;
		_cleanup_free_ char *pattern = NULL;
		const char *release = startswith(w[i].name, "linux-image-");
		int k;

		if (!release || !*release || !(*release >= '0' && *release <= '9'))
			continue;
		if (asprintf(&pattern, "linux-*-%s", release) < 0)
			return pkg_fail(c, -ENOMEM, "out of memory");
		if ((k = dpkg_installed(c, (char *[]){ pattern, NULL }, &parts)) < 0 || (k = apt_mark(c, how, parts)) < 0)
			return k;
	}
	return 0;
}

static int apt_hold(struct pkg_ctx *c, const struct pkg_want *w, size_t n)
{
	int k = apt_hold_how(c, "hold", w, n);

	return k < 0 ? k : hold_kernel_parts(c, "hold", w, n);
}

static int apt_unhold(struct pkg_ctx *c, const struct pkg_want *w, size_t n)
{
	int k = apt_hold_how(c, "unhold", w, n);

	return k < 0 ? k : hold_kernel_parts(c, "unhold", w, n);
}

/* Every installed package of that kernel release (image, modules, extra modules, NVIDIA's
 * precompiled modules, headers): marked manual, so autoremove keeps it, and held. */
static int apt_keep_kernel(struct pkg_ctx *c, const char *release)
{
	_cleanup_(strv_freep) char **installed = NULL;
	_cleanup_free_ char *pattern = NULL;
	int k;

	if (asprintf(&pattern, "linux-*-%s", release) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	if ((k = dpkg_installed(c, (char *[]){ pattern, NULL }, &installed)) < 0)
		return k;
	if (k == 0)
		return pkg_fail(c, -ENOENT, "no package of kernel %s is installed: nothing to keep", release);
	if ((k = apt_mark(c, "manual", installed)) < 0)
		return k;
	return apt_mark(c, "hold", installed);
}

static int apt_installed(struct pkg_ctx *c, const char *name, char **ret_version)
{
	char *argv[] = { "dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", (char *)name, NULL };
	struct spawn_result r = {};
	const char *v;
	int k = spawn_run(c->root, SPAWN_IN_ROOT, argv, NULL, &r);

	if (k < 0)
		return pkg_fail(c, k, "cannot run dpkg-query: %s", gp_strerror(k));
	v = r.status == 0 ? startswith(r.out, "installed ") : NULL;
	*ret_version = v ? strdup(v) : NULL;
	k = v && !*ret_version ? -ENOMEM : v ? 1 : 0;
	spawn_result_done(&r);
	return k;
}

static int apt_remove(struct pkg_ctx *c, const struct pkg_want *w, size_t n)
{
	char *head[] = { "apt-get", "remove", "-q", "-y", "--allow-change-held-packages", NULL };
	_cleanup_(strv_freep) char **argv = NULL;

	if (n == 0)
		return 0;
	if (strv_extend(&argv, head) < 0 || pkg_push_wants(&argv, w, n, NULL) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	return pkg_run(c, SPAWN_IN_ROOT, argv, apt_env, NULL);
}

/* "%7e" -> "~": apt writes URIs percent-encoded. */
static void uri_decode(char *s)
{
	char *out = s;

	for (; *s; s++, out++) {
		unsigned v;

		if (s[0] == '%' && s[1] && s[2] && sscanf(s + 1, "%2x", &v) == 1) {
			*out = (char)v;
			s += 2;
		} else
			*out = *s;
	}
	*out = '\0';
}

/* apt downloads nothing from a file: source (a local mirror): it installs from the file in
 * place. --print-uris names those files ('file:/path' name size hash); copied here. */
static int apt_copy_local(struct pkg_ctx *c, char **argv, const char *dir)
{
	struct spawn_result r = {};
	int k;

	/* The same command, asking for the URIs: "--download-only" becomes "--print-uris". */
	for (char **a = argv; *a; a++)
		if (streq(*a, "--download-only")) {
			free(*a);
			if (!(*a = strdup("--print-uris")))
				return pkg_fail(c, -ENOMEM, "out of memory");
		}
	if ((k = pkg_run(c, SPAWN_IN_ROOT, argv, apt_env, &r)) < 0)
		return k;
	for (char *save = NULL, *l = strtok_r(r.out, "\n", &save); l && k >= 0; l = strtok_r(NULL, "\n", &save)) {
		_cleanup_free_ char *to = NULL;
		char *path = l + strlen("'file:"), *end, *name;

		if (!startswith(l, "'file:") || !(end = strchr(path, '\'')) || end[1] != ' ')
			continue;
		*end = '\0';
		name = end + 2;
		name[strcspn(name, " ")] = '\0';
		uri_decode(path);
		if (!*name || strchr(name, '/'))
			continue;
		if (asprintf(&to, "%s/%s", dir, name) < 0)
			k = pkg_fail(c, -ENOMEM, "out of memory");
		else if ((k = root_copy(c->root, path, to)) < 0)
			k = pkg_fail(c, k, "%s: %s", path, gp_strerror(k));
	}
	spawn_result_done(&r);
	return k;
}

/* apt fetches what installing the wants would, into dir instead of its own cache;
 * --reinstall takes those already installed in the root too. */
static int apt_download(struct pkg_ctx *c, const struct pkg_want *w, size_t n, const char *dir)
{
	_cleanup_(strv_freep) char **argv = NULL;
	_cleanup_free_ char *archives = NULL, *partial = NULL;
	int k;

	if (asprintf(&archives, "Dir::Cache::archives=/%s/", dir) < 0 || asprintf(&partial, "%s/partial", dir) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	if ((k = root_mkdir_p(c->root, partial, 0755)) < 0)
		return pkg_fail(c, k, "%s: %s", partial, gp_strerror(k));
	if (strv_extend(&argv, (char *[]){ "apt-get", "install", "-q", "-y", "--download-only", "--reinstall",
					    "--allow-downgrades", "--allow-change-held-packages", "-o", archives,
					    pkg_want_recommends(c) ? "--install-recommends" : "--no-install-recommends",
					    NULL }) < 0 ||
	    pkg_push_wants(&argv, w, n, "=") < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	k = pkg_run(c, SPAWN_IN_ROOT, argv, apt_env, NULL);
	(void)root_rm_rf(c->root, partial);
	return k < 0 ? k : apt_copy_local(c, argv, dir);
}

/* A flat repository: Packages beside the .debs ("deb file:/dir ./"). */
static int apt_index(struct pkg_ctx *c, const char *dir, char ***ret_files)
{
	_cleanup_(strv_freep) char **debs = NULL, **files = NULL;
	_cleanup_free_ char *index = NULL, *path = NULL, *why = NULL;
	size_t len = 0, nf = 0;
	int k;

	if ((k = pkg_list_files(c, dir, ".deb", &debs)) < 0)
		return k;
	if ((k = dynlib_need(&libarchive, "reading .deb packages", &why)) < 0 ||
	    (k = dynlib_need(&libcrypto, "indexing .deb packages", &why)) < 0)
		return pkg_fail(c, k, "%s", strna(why));
	for (char **d = debs; *d; d++) {
		_cleanup_free_ char *stanza = NULL;
		char *grown;

		if ((k = deb_index_entry(c->root, dir, *d, &stanza)) < 0)
			return pkg_fail(c, k, "%s/%s: cannot read its control file: %s", dir, *d, gp_strerror(k));
		if (!(grown = realloc(index, len + strlen(stanza) + 1)))
			return pkg_fail(c, -ENOMEM, "out of memory");
		index = grown;
		strcpy(index + len, stanza);
		len += strlen(stanza);
	}
	if (asprintf(&path, "%s/Packages", dir) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	if ((k = root_write_atomic(c->root, path, index ? index : "", len, 0644)) < 0)
		return pkg_fail(c, k, "%s: %s", path, gp_strerror(k));
	if (strv_push(&files, &nf, "Packages") < 0 || strv_extend(&files, debs) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	strv_sort(files);
	*ret_files = TAKE_PTR(files);
	return 0;
}

const struct pkg_backend pkg_apt = {
	.name = "apt",
	.refresh = apt_refresh,
	.preflight = apt_preflight,
	.install = apt_install,
	.hold = apt_hold,
	.unhold = apt_unhold,
	.keep_kernel = apt_keep_kernel,
	.installed = apt_installed,
	.remove = apt_remove,
	.download = apt_download,
	.index = apt_index,
};
