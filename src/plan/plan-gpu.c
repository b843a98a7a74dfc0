/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The plan's "gpu" action: the GPUs' declared state (the profile's "gpu" section), each
 * setting that differs now, or the whole of it left to gpuprov-gpu.service at the boot. */
#include <errno.h>
#include <stdio.h>

#include "apply/gpu-state.h"
#include "plan/plan.h"
#include "util/strutil.h"

/* The settings of every GPU that differ from the declaration, as lines; *ret_needs: what the
 * strongest of them needs ("needs a reboot" beats "needs a GPU reset"), or NULL. */
static int differences(struct nvml *n, const struct root *root, const cJSON *decl, char ***ret, const char **ret_needs)
{
	_cleanup_(strv_freep) char **lines = NULL;
	size_t nl = 0;
	unsigned count = 0;
	int k;

	*ret_needs = NULL;
	if (nvml_count(n, &count) != NVML_OK)
		count = 0;
	for (unsigned i = 0; i < count; i++) {
		struct gpu_view v;

		/* One GPU NVML has no handle for does not hide the others' differences. */
		if ((k = gpu_view_read(n, root, decl, i, &v)) == -EIO) {
			if ((k = strv_pushf(&lines, &nl, "GPU %u: cannot be read, NVML has no handle for it", i)) < 0)
				return k;
			continue;
		}
		if (k < 0)
			return k;
		for (size_t j = 0; j < v.n && k >= 0; j++) {
			const struct gpu_setting *s = &v.settings[j];
			const char *needs = gpu_setting_needs(s);

			/* Set already and waiting for its reboot or reset, or as declared (or
			 * unreadable: gpu apply reports that one): nothing to change. */
			if (s->pending ? streq(s->pending, s->want) : gpu_setting_ok(s))
				continue;
			k = strv_pushf(&lines, &nl, "GPU %s (serial %s): %s %s -> %s%s%s", v.bus, v.serial, s->key,
				       s->have && *s->have ? s->have : "none", *s->want ? s->want : "none", needs ? ", " : "",
				       needs ? needs : "");
			if (needs && (!*ret_needs || streq(needs, "needs a reboot")))
				*ret_needs = needs;
		}
		gpu_view_done(&v);
		if (k < 0)
			return k;
	}
	*ret = TAKE_PTR(lines);
	return 0;
}

int plan_gpu(struct plan *pl, const struct profile *p, const struct facts *f, const struct resolution *r,
	     const struct root *root)
{
	const cJSON *decl = cJSON_GetObjectItemCaseSensitive(p->doc, "gpu");
	_cleanup_(nvml_closep) struct nvml *n = NULL;
	_cleanup_(strv_freep) char **lines = NULL;
	_cleanup_free_ char *why = NULL, *text = NULL, *reason = NULL;
	const char *running = f->nvidia.driver_version, *needs = NULL;
	int k;

	if (!cJSON_IsObject(decl))
		return 0;
	/* As for the CDI spec: the driver that will run must be the one loaded to be asked. */
	if (pl->reboot || !running || (r->driver && !streq(running, r->driver)) || nvml_open(&n, &why) < 0) {
		if (asprintf(&reason, "gpuprov-gpu.service sets the GPUs' declared state at the next boot, once driver %s has loaded",
			     strna(r->driver ? r->driver : running)) < 0)
			return -ENOMEM;
		if ((k = plan_add(pl, "gpu", "GPUs", NULL, NULL, reason)) < 0)
			return k;
		return (pl->actions[pl->n - 1].detail = strdup("at boot")) ? 0 : -ENOMEM;
	}
	if ((k = differences(n, root, decl, &lines, &needs)) < 0)
		return k;
	if (!lines)
		return 0;
	if (!(text = strv_join(lines, "; ")))
		return -ENOMEM;
	if ((k = plan_add(pl, "gpu", "GPUs", NULL, NULL, text)) < 0)
		return k;
	return !needs || (pl->actions[pl->n - 1].detail = strdup(needs)) ? 0 : -ENOMEM;
}
