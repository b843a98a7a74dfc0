/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the container runtimes of a root are and how they are configured: their units, the
 * top of containerd's config.toml (version, imports), docker's daemon.json. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "files/runtimes.h"
#include "util/json.h"
#include "util/strutil.h"

/* Runtime configurations are small; a bigger file is not read. */
#define CONFIG_MAX (1024 * 1024)

static const struct {
	unsigned bit;
	const char *unit;
} units[] = {
	{ CONTAINER_DOCKER, "docker.service" },
	{ CONTAINER_CONTAINERD, "containerd.service" },
	{ CONTAINER_CRIO, "crio.service" },
};

const char *runtime_unit(unsigned bit)
{
	for (size_t i = 0; i < ELEMENTSOF(units); i++)
		if (units[i].bit == bit)
			return units[i].unit;
	return NULL;
}

bool systemd_unit_installed(const struct root *root, const char *unit)
{
	static const char *const dirs[] = { "etc/systemd/system", "usr/local/lib/systemd/system", "usr/lib/systemd/system",
					    "lib/systemd/system" };
	char path[512];

	for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
		if (root_exists(root, path_fmt(path, "%s/%s", dirs[i], unit)) > 0)
			return true;
	return false;
}

/* A unit enabled the way systemctl enable leaves it: a link in a .wants directory. */
bool systemd_unit_enabled(const struct root *root, const char *unit)
{
	static const char *const wants[] = { "multi-user.target.wants", "sysinit.target.wants", "default.target.wants" };
	char path[512];

	for (size_t i = 0; i < ELEMENTSOF(wants); i++)
		if (root_exists(root, path_fmt(path, "etc/systemd/system/%s/%s%s", wants[i], unit,
						strchr(unit, '.') ? "" : ".service")) > 0)
			return true;
	return false;
}

/* Whether one entry of containerd's imports names the drop-in: a path, or a glob of Go's
 * filepath.Match, relative to the config's directory when not absolute (containerd's
 * config.md, "imports"); fnmatch with FNM_PATHNAME reads those globs the same way. */
static bool import_covers(const char *entry)
{
	char pattern[600];

	if (*entry == '/')
		snprintf(pattern, sizeof(pattern), "%s", entry);
	else
		snprintf(pattern, sizeof(pattern), "/etc/containerd/%s", entry);
	return fnmatch(pattern, CONTAINERD_DROPIN, FNM_PATHNAME) == 0;
}

/* The quoted strings of "imports = [...]", which may go on over several lines. */
static bool imports_cover(const char *from)
{
	const char *p = strchr(from, '[');

	for (p = p ? p + 1 : NULL; p && *p && *p != ']';) {
		const char *q;
		char entry[512];

		if (*p != '"' && *p != '\'') {
			p++;
			continue;
		}
		if (!(q = strchr(p + 1, *p)))
			return false;
		snprintf(entry, sizeof(entry), "%.*s", (int)(q - p - 1), p + 1);
		if (import_covers(entry))
			return true;
		p = q + 1;
	}
	return false;
}

/* The top-level keys of config.toml that gpuprov reads: version and imports come before the
 * first table; SystemdCgroup anywhere (the runc runtime's options). */
static void containerd_read(const char *text, struct runtimes_seen *rs)
{
	bool top = true;

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		while (*l == ' ' || *l == '\t')
			l++;
		if (*l == '[')
			top = false;
		if (top && startswith(l, "version")) {
			const char *v = l + strlen("version") + strspn(l + strlen("version"), " \t");

			if (*v == '=')
				rs->containerd_version = atoi(v + 1);
		} else if (top && startswith(l, "imports") && strchr(l, '='))
			rs->containerd_imports = imports_cover(strchr(l, '='));
		else if (startswith(l, "SystemdCgroup")) {
			const char *v = strchr(l, '=');

			rs->containerd_systemd_cgroup |= v && startswith(v + 1 + strspn(v + 1, " \t"), "true");
		}
	}
}

const char *containerd_cri_plugin(int version)
{
	return version >= 3 ? "io.containerd.cri.v1.runtime" : "io.containerd.grpc.v1.cri";
}

/* Whether a table header line is one of the plugin's tables, and not the nvidia runtime's. */
static bool cri_header(const char *l, const char *plugin)
{
	char prefix[128];
	const char *rest;

	snprintf(prefix, sizeof(prefix), "[plugins.\"%s\"", plugin);
	if (!startswith(l, prefix))
		return false;
	rest = l + strlen(prefix);
	return (*rest == ']' || *rest == '.') && !strstr(rest, ".runtimes.nvidia]") && !strstr(rest, ".runtimes.nvidia.");
}

/*
 * containerd replaces a plugin's whole table with an import's, not key by key (its
 * mergeConfig: "maps merged by keys, but values are replaced entirely"), so the drop-in
 * carries the admin's tables of the CRI plugin with it: each table under
 * [plugins."<plugin>"...], as written. Settings of the plugin written any other way
 * (another quoting, dotted keys) are not carried: said by containerd_cri_elsewhere.
 */
static int cri_tables(const char *text, const char *plugin, struct runtimes_seen *rs)
{
	char *out = NULL;
	size_t len = 0;
	bool in = false;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return -ENOMEM;
	for (const char *l = text; l && *l;) {
		const char *end = strchr(l, '\n'), *t = l + strspn(l, " \t");
		size_t n = end ? (size_t)(end - l) + 1 : strlen(l);

		if (*t == '[')
			in = cri_header(t, plugin);
		if (in)
			fprintf(f, "%.*s", (int)n, l);
		else if (*t != '#' && memmem(l, n, plugin, strlen(plugin)))
			rs->containerd_cri_elsewhere = true;
		if (in && !end)
			fputc('\n', f);
		l = end ? end + 1 : NULL;
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	if (len == 0)
		out = mfree(out);
	rs->containerd_cri = out;
	return 0;
}

void runtimes_seen_done(struct runtimes_seen *rs)
{
	rs->containerd_cri = mfree(rs->containerd_cri);
}

int runtimes_read(const struct root *root, struct runtimes_seen *ret)
{
	_cleanup_free_ char *toml = NULL, *json = NULL;
	struct runtimes_seen rs = {};

	for (size_t i = 0; i < ELEMENTSOF(units); i++) {
		if (systemd_unit_installed(root, units[i].unit))
			rs.installed |= units[i].bit;
		if (systemd_unit_enabled(root, units[i].unit))
			rs.enabled |= units[i].bit;
	}
	if (root_read_file(root, CONTAINERD_CONFIG, CONFIG_MAX, &toml, NULL) >= 0) {
		rs.containerd_config = true;
		rs.containerd_ours = startswith(toml, "# Managed by gpuprov");
		rs.containerd_nvidia = strstr(toml, "runtimes.nvidia]");
		containerd_read(toml, &rs);
		if (!rs.containerd_ours && cri_tables(toml, containerd_cri_plugin(rs.containerd_version), &rs) < 0)
			return -ENOMEM;
	}
	if (root_read_file(root, DOCKER_DAEMON_JSON, CONFIG_MAX, &json, NULL) >= 0) {
		_cleanup_(cJSON_Deletep) cJSON *doc = cJSON_Parse(json);

		rs.docker_live_restore = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "live-restore"));
		rs.docker_nvidia =
			cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "runtimes"), "nvidia"));
	}
	*ret = rs;
	return 0;
}
