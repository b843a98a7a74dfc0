/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check's findings about the GPUs' declared state: a setting that drifted from the profile
 * last applied (a hand-run nvidia-smi, a GPU reset, a driver that dropped it). */
#include <errno.h>

#include "apply/gpu-state.h"
#include "apply/state.h"
#include "plan/check.h"
#include "util/strutil.h"

static int check_one(struct nvml *n, const struct root *root, const cJSON *decl, unsigned index, struct findings *fs)
{
	struct gpu_view v;
	int k;

	if ((k = gpu_view_read(n, root, decl, index, &v)) < 0)
		return k == -EIO ? 0 : k;
	for (size_t i = 0; i < v.n && k >= 0; i++) {
		const struct gpu_setting *s = &v.settings[i];
		_cleanup_free_ char *line = NULL;

		if (gpu_setting_ok(s))
			continue;
		if ((k = gpu_setting_describe(s, &line)) >= 0)
			k = findings_addf(fs, SEVERITY_WARNING, "gpu-state-drift", "gpuprov-profile(5), gpu",
					  "GPU %s (serial %s): %s is not as the profile declares%s", v.bus, v.serial, line,
					  s->pending && streq(s->pending, s->want) ? " (set; it takes effect then)"
										   : "; `gpuprov gpu apply` sets it again");
	}
	gpu_view_done(&v);
	return k < 0 ? k : 0;
}

int check_gpu_state(const struct root *root, struct findings *fs)
{
	_cleanup_(state_freep) struct state *state = NULL;
	_cleanup_(nvml_closep) struct nvml *n = NULL;
	_cleanup_free_ char *why = NULL;
	unsigned count = 0;
	int k = state_load(root, &state);

	/* No state, no "gpu" section, no driver to ask: nothing declared can be compared. */
	if (k < 0 || !state->gpu)
		return k == -ENOMEM ? k : 0;
	if ((k = nvml_open(&n, &why)) < 0)
		return k == -ENOMEM ? k : 0;
	if (nvml_count(n, &count) != NVML_OK)
		return 0;
	for (unsigned i = 0; i < count; i++)
		if ((k = check_one(n, root, state->gpu, i, fs)) < 0)
			return k;
	return 0;
}
