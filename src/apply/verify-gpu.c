/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verify's "gpu-state" check: every setting of the profile's "gpu" section, read back from
 * each GPU (or, where NVML has no getter, from what gpuprov gpu apply recorded). */
#include <errno.h>
#include <stdio.h>

#include "apply/gpu-state.h"
#include "apply/verify.h"
#include "util/errors.h"
#include "util/strutil.h"

/*
 * gpuprov-gpu.service set the state at this boot, before verify (gpuprov-verify.service is
 * ordered after it). A value still not as declared now is a GPU that refused it, or an ECC or
 * MIG mode that did not take effect across the reboot: a hardware finding, not the stack's.
 */
static int verify_one(struct verify_report *r, struct nvml *n, const struct root *sys, const cJSON *decl, unsigned index)
{
	_cleanup_(strv_freep) char **bad = NULL, **good = NULL;
	_cleanup_free_ char *text = NULL;
	size_t nb = 0, ng = 0;
	struct gpu_view v;
	int k;

	if ((k = gpu_view_read(n, sys, decl, index, &v)) < 0)
		return verify_add(r, "gpu-state", VERIFY_HARDWARE, false, false, "GPU %u: cannot be read: %s", index,
				  k == -EIO ? "NVML has no handle for it" : gp_strerror(k));
	for (size_t i = 0; i < v.n && k >= 0; i++) {
		_cleanup_free_ char *line = NULL;

		if ((k = gpu_setting_describe(&v.settings[i], &line)) >= 0)
			k = gpu_setting_ok(&v.settings[i]) ? strv_push_take(&good, &ng, TAKE_PTR(line))
							    : strv_push_take(&bad, &nb, TAKE_PTR(line));
	}
	if (k >= 0 && !(text = strv_join(nb ? bad : good, "; ")))
		k = -ENOMEM;
	if (k >= 0)
		k = verify_add(r, "gpu-state", VERIFY_HARDWARE, false, nb == 0, "GPU %s (serial %s): %s: %s", v.bus, v.serial,
			       nb ? "not as declared" : "as declared", text);
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
	if ((k = nvml_open(&n, &why)) < 0 || (k = nvml_count(n, &count)) != NVML_OK)
		return verify_add(r, "gpu-state", VERIFY_HARDWARE, true, false, "the GPUs' state cannot be read: %s",
				  why ? why : nvml_strerror(n, k));
	for (unsigned i = 0; i < count; i++)
		if ((k = verify_one(r, n, sys, state->gpu, i)) < 0)
			return k;
	return 0;
}
