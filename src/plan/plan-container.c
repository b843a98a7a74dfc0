/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container runtimes' part of a plan: restarts after their drop-ins change, and the
 * import containerd's own config.toml must have for its drop-in to be read. */
#include <errno.h>

#include "files/runtimes.h"
#include "plan/plan.h"
#include "util/strutil.h"

/* The files of each runtime gpuprov manages, and what a restart does to its containers. */
static const struct {
	unsigned bit;
	const char *files[2];
	const char *restart;
} runtimes[] = {
	{ CONTAINER_CONTAINERD, { CONTAINERD_DROPIN, CONTAINERD_CONFIG },
	  "running containers keep running: their shims outlive containerd's restart" },
	{ CONTAINER_CRIO, { CRIO_DROPIN, NULL }, "running containers keep running: conmon outlives cri-o's restart" },
	{ CONTAINER_DOCKER, { DOCKER_DAEMON_JSON, NULL }, NULL },
};

/* The plan's file action for the runtime's files (its drop-in first), or NULL. */
static struct action *changed_file(struct plan *pl, size_t r)
{
	for (size_t j = 0; j < ELEMENTSOF(runtimes[r].files); j++)
		for (size_t i = 0; i < pl->n; i++)
			if (streq(pl->actions[i].kind, "file") && streq_ptr(runtimes[r].files[j], pl->actions[i].target))
				return &pl->actions[i];
	return NULL;
}

static int restart_reason(const struct runtimes_seen *rs, size_t r, const struct action *file, char **ret)
{
	if (runtimes[r].restart)
		return asprintf(ret, "%s changed and %s reads it only as it starts; %s", file->target,
				container_runtime_name(runtimes[r].bit), runtimes[r].restart) < 0 ? -ENOMEM : 0;
	/* dockerd(8), --live-restore: without it, stopping dockerd stops every container. */
	return asprintf(ret, "%s changed and dockerd reads it only as it starts; %s", file->target,
			rs->docker_live_restore
				? "live-restore is on in daemon.json: running containers keep running through the restart"
				: "a restart stops every running container (live-restore is not on in daemon.json): expected "
				  "under a maintenance drain, else choose when") < 0 ? -ENOMEM : 0;
}

int plan_container_runtimes(struct plan *pl, const struct profile *p, const struct runtimes_seen *rs)
{
	bool unread = (p->container_runtimes & CONTAINER_CONTAINERD) && rs->containerd_config && !rs->containerd_ours &&
		      !rs->containerd_imports;
	int k;

	if (!p->container_toolkit)
		return 0;
	/* An admin's config.toml is the admin's (or a cluster tool's, which would write it
	 * again): gpuprov says what line to add, and changes nothing in it. */
	if (unread && strv_pushf(&pl->warnings, &pl->n_warnings,
				 "%s does not import %s, so containerd does not read %s: add the line "
				 "imports = [\"%s\"] at its top, before the first [table], then restart containerd "
				 "(gpuprov does not edit an admin's config.toml)",
				 CONTAINERD_CONFIG, CONTAINERD_IMPORT, CONTAINERD_DROPIN, CONTAINERD_IMPORT) < 0)
		return -ENOMEM;
	if ((p->container_runtimes & CONTAINER_CONTAINERD) && rs->containerd_cri_elsewhere &&
	    strv_pushf(&pl->warnings, &pl->n_warnings,
		       "%s sets the CRI plugin %s other than in [plugins.\"%s\"...] tables, which %s carries: containerd "
		       "replaces the plugin's whole table with the drop-in's, so those settings are not in effect; write them "
		       "as such tables",
		       CONTAINERD_CONFIG, containerd_cri_plugin(rs->containerd_version),
		       containerd_cri_plugin(rs->containerd_version), CONTAINERD_DROPIN) < 0)
		return -ENOMEM;
	for (size_t r = 0; r < ELEMENTSOF(runtimes); r++) {
		_cleanup_free_ char *why = NULL;
		const char *unit = runtime_unit(runtimes[r].bit);
		struct action *file = (p->container_runtimes & runtimes[r].bit) ? changed_file(pl, r) : NULL;

		/* A runtime not installed reads its drop-in when it first starts; containerd without
		 * the import would read nothing new. */
		if (!file || !(rs->installed & runtimes[r].bit) || (runtimes[r].bit == CONTAINER_CONTAINERD && unread))
			continue;
		if (pl->reboot) {
			char *reason = NULL;

			if (asprintf(&reason, "%s; %s reads it at the reboot that follows, so no restart is planned",
				     file->reason, unit) < 0)
				return -ENOMEM;
			free(file->reason);
			file->reason = reason;
			continue;
		}
		if ((k = restart_reason(rs, r, file, &why)) < 0 || (k = plan_add(pl, "restart", unit, NULL, NULL, why)) < 0)
			return k;
	}
	return 0;
}
