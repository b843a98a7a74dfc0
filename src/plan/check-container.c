/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check: each container runtime installed beside NVIDIA's container toolkit has the nvidia
 * runtime, and containerd reads the drop-in that gives it one. */
#include <errno.h>
#include <stdarg.h>

#include "files/runtimes.h"
#include "plan/check.h"
#include "util/strutil.h"

#define CONFIG_MAX (1024 * 1024)
#define SOURCE "gpuprov(8), CONTAINERS"

/* Every finding here is a warning of this part of gpuprov(8). */
#define finding(fs, id, ...) findings_addf(fs, SEVERITY_WARNING, id, SOURCE, __VA_ARGS__)

/* Whether the file at path in the root holds text (a table name, a key). */
static bool file_has(const struct root *root, const char *path, const char *text)
{
	_cleanup_free_ char *s = NULL;

	return root_read_file(root, path, CONFIG_MAX, &s, NULL) >= 0 && strstr(s, text);
}

int check_container_runtimes(const struct root *root, struct findings *fs)
{
	struct runtimes_seen rs;
	bool dropin;
	int k;

	/* Without the toolkit's runtime the node is not meant to run GPU containers. */
	if (root_exists(root, NVIDIA_RUNTIME_BINARY + 1) <= 0 || (k = runtimes_read(root, &rs)) < 0)
		return 0;
	runtimes_seen_done(&rs); /* the CRI tables are the drop-in's business, not check's */
	if (rs.installed & CONTAINER_CONTAINERD) {
		dropin = root_exists(root, CONTAINERD_DROPIN + 1) > 0;
		/* containerd reads conf.d only through config.toml's imports; without a
		 * config.toml it reads nothing but its defaults. */
		if (dropin && rs.containerd_config && !rs.containerd_imports &&
		    (k = finding(fs, "containerd-no-import",
				 "containerd's config does not import conf.d: %s is not read; add the line imports = [\"%s\"] "
				 "at the top of %s, before the first [table]",
				 CONTAINERD_DROPIN, CONTAINERD_IMPORT, CONTAINERD_CONFIG)) < 0)
			return k;
		if (!((dropin && rs.containerd_imports) || rs.containerd_nvidia) &&
		    (k = finding(fs, "runtime-no-nvidia", "runtime containerd is installed and has no nvidia runtime: %s",
				 !dropin ? "no " CONTAINERD_DROPIN " and none in " CONTAINERD_CONFIG
				 : !rs.containerd_config ? "no " CONTAINERD_CONFIG " imports " CONTAINERD_DROPIN
							  : CONTAINERD_CONFIG " does not import " CONTAINERD_DROPIN)) < 0)
			return k;
	}
	if ((rs.installed & CONTAINER_CRIO) && root_exists(root, CRIO_DROPIN + 1) <= 0 &&
	    !file_has(root, "etc/crio/crio.conf", "crio.runtime.runtimes.nvidia]") &&
	    (k = finding(fs, "runtime-no-nvidia", "runtime crio is installed and has no nvidia runtime: no %s",
			 CRIO_DROPIN)) < 0)
		return k;
	if ((rs.installed & CONTAINER_DOCKER) && !rs.docker_nvidia &&
	    (k = finding(fs, "runtime-no-nvidia",
			 "runtime docker is installed and has no nvidia runtime: %s has no runtimes.nvidia",
			 DOCKER_DAEMON_JSON)) < 0)
		return k;
	return 0;
}
