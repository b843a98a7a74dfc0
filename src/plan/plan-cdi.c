/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The plan's "cdi" action: the GPUs' CDI spec made anew where the profile wants one and the
 * spec there does not fit the driver that will run. */
#include <errno.h>
#include <stdio.h>

#include "host/cdi.h"
#include "plan/plan.h"
#include "util/strutil.h"

int plan_cdi(struct plan *pl, const struct profile *p, const struct facts *f, const struct resolution *r,
	     const struct root *root)
{
	_cleanup_(strv_freep) char **problems = NULL;
	_cleanup_free_ char *path = NULL, *text = NULL, *reason = NULL;
	const char *dir = p->container_cdi_dir ? p->container_cdi_dir : "/var/run/cdi";
	const char *running = f->nvidia.driver_version;
	bool now;
	int k;

	if (!p->container_toolkit || !p->container_cdi)
		return 0;
	if (!(path = cdi_spec_path(dir)))
		return -ENOMEM;
	/* A spec is made for the driver that runs: the stack's only when it is the one loaded
	 * and no reboot is pending; otherwise the old driver's spec would be made now, and the
	 * boot unit makes the right one once the stack's driver has loaded. */
	now = !pl->reboot && running && (!r->driver || streq(running, r->driver));
	/* No reboot planned and the stack's driver not loaded (a reboot an earlier apply asked
	 * for, a driver not loaded yet): nothing to make it from now; the boot unit will. */
	if (!now && !pl->reboot)
		return 0;
	if (!now) {
		if (asprintf(&reason, "a reboot is pending: gpuprov-cdi.service makes the spec at the next boot, for driver %s once it has loaded, not now for the driver that runs",
			     strna(r->driver)) < 0)
			return -ENOMEM;
		if ((k = plan_add(pl, "cdi", path, NULL, NULL, reason)) < 0)
			return k;
		return (pl->actions[pl->n - 1].detail = strdup("at boot")) ? 0 : -ENOMEM;
	}
	/* Under --root, the target's own /proc: on a node both are "/". */
	if ((k = cdi_spec_audit(root, root, dir, running, &problems, NULL)) <= 0)
		return k;
	if (!(text = strv_join(problems, "; ")) ||
	    asprintf(&reason, "nvidia-ctk cdi generate makes the spec anew for driver %s: %s", running, text) < 0)
		return -ENOMEM;
	return plan_add(pl, "cdi", path, NULL, NULL, reason);
}
