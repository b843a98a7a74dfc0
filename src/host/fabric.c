/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The NVLink fabric's installed components (fabric manager, NVLink subnet manager, IMEX) and
 * their versions: from dpkg's status, else the target's RPM database read with the host's
 * rpm, else the "installed" entries of var/lib/gpuprov/repo.json. */
#include <assert.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "facts.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/spawn.h"
#include "util/strutil.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

/* repo.json lists every package offered and installed: a few megabytes at most. */
#define REPO_JSON_MAX (64 * 1024 * 1024)

/* Detect runs without the knowledge, so the components' package names are said here too:
 * Debian's carry the branch ("nvidia-imex-570"), NVIDIA's RPMs do not. */
static const struct fabric_package {
	const char *component;
	const char *deb; /* the name, alone or followed by "-<branch>" */
	const char *rpm;
	const char *service; /* NULL: run by another's (nvlsm by the fabric manager's start script) */
	bool driver_version; /* released with the driver, at its version */
} fabric_packages[] = {
	{ "fabricmanager", "nvidia-fabricmanager", "nvidia-fabric-manager", "nvidia-fabricmanager", true },
	{ "nvlsm", "nvlsm", "nvlsm", NULL, false },
	{ "imex", "nvidia-imex", "nvidia-imex", "nvidia-imex", true },
};

/* "base" or "base-<digits>", not -dev or other siblings. */
static bool deb_name_is(const char *name, const char *base)
{
	const char *rest = startswith(name, base);

	if (!rest)
		return false;
	if (!*rest)
		return true;
	return rest[0] == '-' && rest[1] && rest[1 + strspn(rest + 1, "0123456789")] == '\0';
}

static bool is_fabricmanager_deb(const char *name)
{
	return deb_name_is(name, fabric_packages[0].deb);
}

static bool is_nvlsm_deb(const char *name)
{
	return deb_name_is(name, fabric_packages[1].deb);
}

static bool is_imex_deb(const char *name)
{
	return deb_name_is(name, fabric_packages[2].deb);
}

static bool (*const deb_match[])(const char *) = { is_fabricmanager_deb, is_nvlsm_deb, is_imex_deb };

/* Takes package; version is the package manager's: its epoch ("1:") and release ("-1",
 * "-0ubuntu1") go. */
static int fabric_add(struct nvidia_facts *nv, const struct fabric_package *fp, char *package, const char *version)
{
	struct fabric_installed *p = realloc(nv->fabric, (nv->n_fabric + 1) * sizeof(*p));
	const char *colon = strchr(version, ':'), *up = colon ? colon + 1 : version;

	if (!p) {
		free(package);
		return -ENOMEM;
	}
	nv->fabric = p;
	p = &p[nv->n_fabric++];
	*p = (struct fabric_installed){ fp->component, package, strndup(up, strcspn(up, "-")), fp->service,
					fp->driver_version };
	return p->package && p->version ? 0 : -ENOMEM;
}

static int fabric_from_dpkg(struct nvidia_facts *nv, const struct root *root)
{
	struct dpkg_query q[ELEMENTSOF(fabric_packages)] = {};
	int k;

	/* Every component asked of one pass over the status file. */
	for (size_t i = 0; i < ELEMENTSOF(fabric_packages); i++)
		q[i].match = deb_match[i];
	k = dpkg_query(root, q, ELEMENTSOF(q));
	for (size_t i = 0; i < ELEMENTSOF(q) && k >= 0; i++)
		if (q[i].package)
			k = fabric_add(nv, &fabric_packages[i], TAKE_PTR(q[i].package), q[i].version);
	dpkg_queries_done(q, ELEMENTSOF(q));
	if (k == -ENOMEM)
		return k;
	nv->fabric_read_from = "dpkg";
	return 0;
}

/* Copies the regular files of the open directory src into dst (not the lock, nor other dot
 * files): the database's files, read once. */
static int copy_dir_files(int src, int dst)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *e;
	int fd = dup(src);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((e = readdir(d))) {
		_cleanup_close_ int in = -1, out = -1;
		struct stat st;
		char buf[65536];
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		in = openat(src, e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (in < 0 || fstat(in, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if ((out = openat(dst, e->d_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
			return -errno;
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n)
				return -EIO;
		if (n < 0)
			return -errno;
	}
	return 0;
}

/* Removes the flat directory made for the copy, whatever rpm left in it. */
static void remove_copy(const char *dir)
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (!streq(e->d_name, ".") && !streq(e->d_name, ".."))
			(void)unlinkat(dirfd(d), e->d_name, 0);
	(void)rmdir(dir);
}

/* rpm's answer for the fabric's package names over the database in dbpath, into nv. */
static int rpm_query(struct nvidia_facts *nv, const char *dbpath)
{
	struct spawn_result sr = {};
	char *argv[] = { "rpm", "--dbpath", (char *)dbpath, "-q", "--qf=%{NAME} %{VERSION}\n",
			 (char *)fabric_packages[0].rpm, (char *)fabric_packages[1].rpm, (char *)fabric_packages[2].rpm,
			 NULL };
	char *save = NULL;
	int k;

	static_assert(ELEMENTSOF(fabric_packages) == 3, "every package is asked of rpm");
	if ((k = spawn_run(NULL, 0, argv, NULL, &sr)) < 0)
		return k == -ENOMEM ? k : -ENOENT;
	/* rpm exits with the number of names not installed (127: no rpm on the host); a database
	 * it cannot open says so on stderr and lists nothing. */
	if (sr.status == 127 || (sr.err && strstr(sr.err, "cannot open"))) {
		spawn_result_done(&sr);
		return -ENOENT;
	}
	for (char *line = strtok_r(sr.out, "\n", &save); line && k >= 0; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');

		if (!sp || strchr(sp + 1, ' '))
			continue;
		*sp = '\0';
		for (size_t i = 0; i < ELEMENTSOF(fabric_packages) && k >= 0; i++)
			if (streq(line, fabric_packages[i].rpm)) {
				char *pkg = strdup(line);

				k = pkg ? fabric_add(nv, &fabric_packages[i], pkg, sp + 1) : -ENOMEM;
			}
	}
	spawn_result_done(&sr);
	return k;
}

/*
 * The host's rpm over the target's database: var/lib/rpm opened inside the root (a link there
 * points inside it, not at the host's) and its files copied to a private directory first,
 * since rpm writes beside a database it reads (sqlite's shared memory, its lock) and detect
 * changes nothing in the target. -ENOENT: no rpm on the host, or no database in the target.
 */
static int fabric_from_rpmdb(struct nvidia_facts *nv, const struct root *root)
{
	_cleanup_close_ int src = root_open_at(root, "var/lib/rpm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int dst = -1;
	const char *tmp = getenv("TMPDIR");
	char dir[4096];
	int k;

	if (src < 0)
		return src == -ENOMEM ? src : -ENOENT;
	/* Read below by its descriptor, not through the root: noted here for a capture. */
	root_note(root, ROOT_SEEN_FILES, "var/lib/rpm");
	snprintf(dir, sizeof(dir), "%s/gpuprov-rpmdb-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return -errno;
	if ((dst = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		k = -errno;
	else if ((k = copy_dir_files(src, dst)) >= 0)
		k = rpm_query(nv, dir);
	remove_copy(dir);
	if (k >= 0)
		nv->fabric_read_from = "rpm";
	return k;
}

/* repo.json's "installed" entries (doc/formats.md): what rpm had installed when it was written. */
static int fabric_from_repo_json(struct nvidia_facts *nv, const struct root *root)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	const cJSON *e;
	int k;

	if ((k = root_read_file(root, "var/lib/gpuprov/repo.json", REPO_JSON_MAX, &text, NULL)) < 0)
		return k == -ENOMEM ? k : 0;
	if (!(doc = cJSON_Parse(text)))
		return 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "installed"))
		for (size_t i = 0; i < ELEMENTSOF(fabric_packages); i++) {
			const char *name = json_str(e, "name"), *version = json_str(e, "version");
			char *pkg;

			if (!streq_ptr(name, fabric_packages[i].rpm) || !version)
				continue;
			if (!(pkg = strdup(name)) || (k = fabric_add(nv, &fabric_packages[i], pkg, version)) < 0)
				return -ENOMEM;
		}
	nv->fabric_read_from = "repo.json";
	return 0;
}

int fabric_detect(const struct detect_ctx *ctx)
{
	struct nvidia_facts *nv = &ctx->facts->nvidia;
	const char *fm;
	int k;

	if (ctx->facts->os.family == OS_FAMILY_DEBIAN)
		k = fabric_from_dpkg(nv, ctx->root);
	else if ((k = fabric_from_rpmdb(nv, ctx->root)) == -ENOENT)
		k = fabric_from_repo_json(nv, ctx->root);
	if (k < 0)
		return k;
	if ((fm = facts_fabric_version(ctx->facts, "fabricmanager")) && !(nv->fabricmanager_version = strdup(fm)))
		return -ENOMEM;
	return 0;
}
