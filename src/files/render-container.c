/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The container runtimes' nvidia runtime, as drop-ins gpuprov manages: containerd's conf.d
 * (containerd's docs/cri/config.md, for config version 2 and 3), cri-o's crio.conf.d
 * (crio.conf(5)), and gpuprov's keys in docker's daemon.json (dockerd(8), "Daemon
 * configuration file"). podman needs none: it reads the CDI specs of /etc/cdi and /var/run/cdi
 * itself (containers.conf(5), cdi_spec_dirs).
 */
#include <errno.h>

#include "files/render-internal.h"
#include "files/runtimes.h"
#include "util/json.h"
#include "util/strutil.h"

/* Whether text has a line that is exactly line, but for the spaces around it. */
static const char *find_line(const char *text, const char *line)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *t = l + strspn(l, " \t");

		if (startswith(t, line) && strchr("\r\n \t", t[strlen(line)] ? t[strlen(line)] : '\n'))
			return l;
	}
	return NULL;
}

/*
 * The admin's tables of the CRI plugin (runtimes.h: containerd replaces the plugin's whole
 * table with the drop-in's), with default_runtime_name taken out of its containerd table
 * when nvidia becomes the default; returns whether that table was there, where the
 * default is then set.
 */
static bool carry_cri_tables(struct buf *b, const char *cri, const char *containerd_table, bool set_default)
{
	const char *at = find_line(cri, containerd_table);
	bool in = false;

	for (const char *l = cri; l && *l;) {
		const char *end = strchr(l, '\n'), *t = l + strspn(l, " \t");
		int n = end ? (int)(end - l) + 1 : (int)strlen(l);

		if (*t == '[')
			in = l == at;
		if (!(in && set_default && startswith(t, "default_runtime_name")))
			bprintf(b, "%.*s%s", n, l, end ? "" : "\n");
		if (l == at && set_default)
			bprintf(b, "  default_runtime_name = \"nvidia\"\n");
		l = end ? end + 1 : NULL;
	}
	return at;
}

static int containerd_files(const struct profile *p, const struct runtimes_seen *rs, struct managed_file **files,
			    size_t *n)
{
	/* The drop-in speaks the main config's version: containerd 1.x cannot read a 3. */
	int version = rs->containerd_config && !rs->containerd_ours && rs->containerd_version >= 3 ? 3 : 2;
	const char *plugin = containerd_cri_plugin(version);
	char table[160], runc[160];
	struct buf b = {};
	bool has_table = false;
	int k;

	/* No config.toml: containerd runs on its built-in defaults, and a file with nothing but
	 * version and imports keeps every one of them (a key a config file does not set keeps
	 * its default), while making containerd read conf.d. Version 2 is read by containerd 1.x
	 * and 2.x alike. An admin's config.toml is never written: plan and check say what to add. */
	if (!rs->containerd_config || rs->containerd_ours) {
		render_header(&b, p);
		bprintf(&b, "# containerd's defaults, with the drop-ins of conf.d; see gpuprov(8), CONTAINERS.\n"
			    "version = 2\nimports = [\"%s\"]\n", CONTAINERD_IMPORT);
		if ((k = render_add_file(files, n, CONTAINERD_CONFIG, &b,
					 "container.runtimes names containerd and there is no config.toml: containerd's "
					 "defaults, importing conf.d")) < 0)
			return k;
	}
	snprintf(table, sizeof(table), "[plugins.\"%s\".containerd]", plugin);
	snprintf(runc, sizeof(runc), "[plugins.\"%s\".containerd.runtimes.runc]", plugin);
	render_header(&b, p);
	bprintf(&b, "# containerd replaces the whole %s table of config.toml with this one:\n"
		    "# its tables there are carried here as they are, the nvidia runtime added.\n"
		    "version = %d\n",
		plugin, version);
	if (rs->containerd_cri) {
		bprintf(&b, "\n");
		has_table = carry_cri_tables(&b, rs->containerd_cri, table, p->container_default_runtime);
	}
	if (!has_table && p->container_default_runtime)
		bprintf(&b, "\n%s\n  default_runtime_name = \"nvidia\"\n", table);
	/* containerd's own runc runtime is in the table replaced: given back where config.toml
	 * does not define it. */
	if (!rs->containerd_cri || !find_line(rs->containerd_cri, runc)) {
		bprintf(&b, "\n%s\n  runtime_type = \"io.containerd.runc.v2\"\n", runc);
		if (rs->containerd_systemd_cgroup)
			bprintf(&b, "\n[plugins.\"%s\".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n", plugin);
	}
	bprintf(&b, "\n[plugins.\"%s\".containerd.runtimes.nvidia]\n  runtime_type = \"io.containerd.runc.v2\"\n"
		    "\n[plugins.\"%s\".containerd.runtimes.nvidia.options]\n  BinaryName = \"%s\"\n",
		plugin, plugin, NVIDIA_RUNTIME_BINARY);
	/* The kubelet's cgroup driver must be the runtime's: runc's SystemdCgroup, kept. */
	if (rs->containerd_systemd_cgroup)
		bprintf(&b, "  SystemdCgroup = true\n");
	return render_add_file(files, n, CONTAINERD_DROPIN, &b,
			       p->container_default_runtime ? "container.runtimes names containerd: the nvidia runtime, the default"
							    : "container.runtimes names containerd: the nvidia runtime");
}

static int crio_file(const struct profile *p, struct managed_file **files, size_t *n)
{
	struct buf b = {};

	render_header(&b, p);
	if (p->container_default_runtime)
		bprintf(&b, "[crio.runtime]\ndefault_runtime = \"nvidia\"\n\n");
	bprintf(&b, "[crio.runtime.runtimes.nvidia]\nruntime_path = \"%s\"\nruntime_type = \"oci\"\n", NVIDIA_RUNTIME_BINARY);
	return render_add_file(files, n, CRIO_DROPIN, &b,
			       p->container_default_runtime ? "container.runtimes names crio: the nvidia runtime, the default"
							    : "container.runtimes names crio: the nvidia runtime");
}

/* One of gpuprov's keys: {"path": [a, b], "value": v}; v is taken over. */
static int want_key(cJSON *want, const char *a, const char *b, cJSON *v)
{
	cJSON *e = cJSON_CreateObject(), *path;

	if (!e || !v || !cJSON_AddItemToArray(want, e)) {
		cJSON_Delete(e), cJSON_Delete(v);
		return -ENOMEM;
	}
	if (!(path = cJSON_AddArrayToObject(e, "path")) || !cJSON_AddItemToObject(e, "value", v)) {
		cJSON_Delete(v);
		return -ENOMEM;
	}
	return cJSON_AddItemToArray(path, cJSON_CreateString(a)) && (!b || cJSON_AddItemToArray(path, cJSON_CreateString(b)))
		       ? 0 : -ENOMEM;
}

/*
 * docker's keys: the nvidia runtime under "runtimes" ("path" a name looked up in PATH, as
 * NVIDIA's own nvidia-ctk runtime configure writes it), "default-runtime" with
 * default_runtime, and with CDI on "features": {"cdi": true}, which docker 25 to 28.1 need
 * for --device nvidia.com/gpu=... (docker's "Enable CDI devices"); docker 28.2 has it on by
 * default (moby/moby#49963), and an older docker reads "features" as a map of flags by
 * name, so an unknown one changes nothing there.
 */
static int docker_file(const struct profile *p, struct managed_file **files, size_t *n)
{
	_cleanup_(cJSON_Deletep) cJSON *want = cJSON_CreateArray();
	cJSON *runtime = cJSON_CreateObject();

	if (!want || want_key(want, "runtimes", "nvidia", runtime) < 0 ||
	    !cJSON_AddStringToObject(runtime, "path", "nvidia-container-runtime") || !cJSON_AddArrayToObject(runtime, "args"))
		return -ENOMEM;
	if ((p->container_default_runtime && want_key(want, "default-runtime", NULL, cJSON_CreateString("nvidia")) < 0) ||
	    (p->container_cdi && want_key(want, "features", "cdi", cJSON_CreateTrue()) < 0))
		return -ENOMEM;
	return render_add(files, n,
			  (struct managed_file){ .path = strdup(DOCKER_DAEMON_JSON),
						 .why = strdup("container.runtimes names docker: gpuprov's keys in "
							       "daemon.json, the admin's others kept"),
						 .keys = TAKE_PTR(want) });
}

int render_container_files(const struct profile *p, const struct runtimes_seen *rs, struct managed_file **files,
			   size_t *n)
{
	int k = 0;

	if (!p->container_toolkit)
		return 0;
	if (p->container_runtimes & CONTAINER_CONTAINERD)
		k = containerd_files(p, rs, files, n);
	if (k >= 0 && (p->container_runtimes & CONTAINER_CRIO))
		k = crio_file(p, files, n);
	if (k >= 0 && (p->container_runtimes & CONTAINER_DOCKER))
		k = docker_file(p, files, n);
	return k;
}
