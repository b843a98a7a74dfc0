/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The NVLink fabric's installed components (fabric manager, NVLink subnet manager, IMEX) and
 * their versions: from dpkg's status, else the target's RPM database read with the host's
 * rpm, else the "installed" entries of var/lib/gpuprov/repo.json. */
#include <cjson/cJSON.h>
#include <errno.h>

#include "facts.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/spawn.h"
#include "util/strutil.h"

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
	int k;

	for (size_t i = 0; i < ELEMENTSOF(fabric_packages); i++) {
		_cleanup_free_ char *pkg = NULL, *version = NULL;

		k = dpkg_installed_version(root, deb_match[i], &pkg, &version);
		if (k == -ENOMEM)
			return k;
		if (k > 0 && (k = fabric_add(nv, &fabric_packages[i], TAKE_PTR(pkg), version)) < 0)
			return k;
	}
	nv->fabric_read_from = "dpkg";
	return 0;
}

/*
 * The host's rpm over the target's database: var/lib/rpm resolved inside the root (a link
 * there points inside it, not at the host's), read with --dbpath, nothing run in the target.
 * -ENOENT: no rpm on the host, or no database in the target.
 */
static int fabric_from_rpmdb(struct nvidia_facts *nv, const struct root *root)
{
	_cleanup_free_ char *dbpath = NULL;
	struct spawn_result sr = {};
	char *argv[4 + ELEMENTSOF(fabric_packages) + 1] = { "rpm", "--dbpath", NULL, "-q" }, *save = NULL;
	size_t n = 4;
	int k;

	if ((k = root_host_path(root, "var/lib/rpm", &dbpath)) < 0)
		return k == -ENOMEM ? k : -ENOENT;
	argv[2] = dbpath;
	/* --qf must come before the names; rpm prints "package X is not installed" for the others. */
	argv[n++] = "--qf=%{NAME} %{VERSION}\n";
	for (size_t i = 0; i < ELEMENTSOF(fabric_packages) && n < ELEMENTSOF(argv) - 1; i++)
		argv[n++] = (char *)fabric_packages[i].rpm;
	argv[n] = NULL;
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
