/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verify's "gpu-state" check: every setting of the profile's "gpu" section, read back from
 * each GPU (or, where NVML has no getter, from what gpuprov gpu apply recorded). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "apply/gpu-state.h"
#include "apply/verify.h"
#include "util/errors.h"
#include "util/strutil.h"

/*
 * gpuprov-gpu.service set the state at this boot, before verify (gpuprov-verify.service is
 * ordered after it). Only a value the GPU accepted (the record says gpu apply set it) that
 * does not hold now is a hardware finding. A value pending as declared waits for its reboot
 * or GPU reset, and one the GPU refused or that is outside its range is the profile's
 * problem: neither a kernel to roll back nor broken hardware, and gpu apply already failed
 * visibly for it. Both are warnings.
 */
enum finding { FINE, WAITING, REFUSED, DRIFTED };

static int classify(const struct root *sys, const struct gpu_view *v, const struct gpu_setting *s, enum finding *ret)
{
	_cleanup_free_ char *set = NULL;
	int k;

	*ret = FINE;
	if (gpu_setting_ok(s))
		return 0;
	if (s->pending && streq(s->pending, s->want)) {
		*ret = WAITING;
		return 0;
	}
	/* The layout is made once MIG mode is on: it waits with the mode. */
	if (streq(s->key, "mig.layout"))
		for (size_t i = 0; i < v->n; i++)
			if (streq(v->settings[i].key, "mig.mode") && v->settings[i].pending && streq(v->settings[i].pending, "on")) {
				*ret = WAITING;
				return 0;
			}
	if (s->recorded) {
		*ret = DRIFTED;
		return 0;
	}
	if ((k = gpu_record_get(sys, v->bus, s->key, &set)) < 0)
		return k;
	*ret = set && streq(set, s->want) && !gpu_power_out_of_range(s) ? DRIFTED : REFUSED;
	return 0;
}

static int verify_one(struct verify_report *r, struct nvml *n, const struct root *sys, const cJSON *decl, unsigned index)
{
	char **lines[4] = {};
	static const char *const heads[4] = { "as declared", "pending", "not set by gpu apply (refused, or outside the GPU's range)",
					      "not as declared" };
	_cleanup_free_ char *text = NULL;
	size_t nl[4] = {};
	struct gpu_view v;
	enum finding worst = FINE;
	int k;

	if ((k = gpu_view_read(n, sys, decl, index, &v)) < 0)
		return verify_add(r, "gpu-state", VERIFY_HARDWARE, false, false, "GPU %u: cannot be read: %s", index,
				  k == -EIO ? "NVML has no handle for it" : gp_strerror(k));
	for (size_t i = 0; i < v.n && k >= 0; i++) {
		_cleanup_free_ char *line = NULL;
		enum finding f = FINE;

		if ((k = classify(sys, &v, &v.settings[i], &f)) >= 0 && (k = gpu_setting_describe(&v.settings[i], &line)) >= 0)
			k = strv_push_take(&lines[f], &nl[f], TAKE_PTR(line));
		if (f > worst)
			worst = f;
	}
	/* A fault's lines first, the warnings' after; the settings that hold are listed only
	 * when all do, as the check said before. */
	for (int f = DRIFTED; f >= WAITING && k >= 0; f--) {
		_cleanup_free_ char *part = NULL, *joined = NULL;

		if (!nl[f])
			continue;
		if (!(part = strv_join(lines[f], "; ")) ||
		    asprintf(&joined, "%s%s%s: %s", text ? text : "", text ? "; " : "", heads[f], part) < 0)
			k = -ENOMEM;
		else {
			free(text);
			text = TAKE_PTR(joined);
		}
	}
	if (k >= 0 && worst == FINE && !(text = strv_join(lines[FINE], "; ")))
		k = -ENOMEM;
	if (k >= 0 && worst == FINE)
		k = verify_add(r, "gpu-state", VERIFY_HARDWARE, false, true, "GPU %s (serial %s): as declared: %s", v.bus, v.serial,
			       text);
	else if (k >= 0)
		k = verify_add(r, "gpu-state", VERIFY_HARDWARE, worst != DRIFTED, false, "GPU %s (serial %s): %s", v.bus, v.serial,
			       text);
	for (int f = FINE; f <= DRIFTED; f++)
		strv_free(lines[f]);
	gpu_view_done(&v);
	return k;
}

int verify_gpu(struct verify_report *r, const struct root *sys, const struct state *state)
{
	_cleanup_(nvml_closep) struct nvml *n = NULL;
	_cleanup_free_ char *why = NULL;
	unsigned count = 0;
	int k;

	if (!state->gpu)
		return 0;
	/* The nvml check fails for this already; the state is then not read, and says so. */
	if ((k = nvml_open_count(&n, &count, &why)) == -ENOMEM)
		return k;
	if (k < 0)
		return verify_add(r, "gpu-state", VERIFY_HARDWARE, true, false, "the GPUs' state cannot be read: %s", why);
	for (unsigned i = 0; i < count; i++)
		if ((k = verify_one(r, n, sys, state->gpu, i)) < 0)
			return k;
	return 0;
}
