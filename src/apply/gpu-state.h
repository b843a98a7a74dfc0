/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "host/nvml.h"
#include "util/root.h"

/* What `gpuprov gpu apply` set, per GPU: verify and check read back from it the settings NVML
 * has no getter for on every driver (locked clocks) (doc/formats.md). */
#define GPU_STATE_RECORD "run/gpuprov/gpu-state.json"

/* What the record says gpuprov set key of the GPU at bus to; *ret NULL where it says
 * nothing (no record, one that does not parse, no such GPU or key). */
int gpu_record_get(const struct root *root, const char *bus, const char *key, char **ret);

/* The settings of the profile's "gpu" section, in the order apply sets them: persistence
 * first (the driver stays initialised between the calls), ECC and MIG mode (pending until a
 * reboot or GPU reset), the MIG layout (needs MIG mode on), then the rest. */
#define GPU_SETTINGS 7

/* One declared setting of one GPU. Values are words: "on"/"off", "exclusive_process", watts
 * ("400"), clocks ("1200,1980" MHz, "off"), a MIG layout ("3g.40gb,3g.40gb", sorted). */
struct gpu_setting {
	const char *key; /* as the profile names it: "persistence", "mig.mode", "power_limit_w"... */
	char *want;
	char *have;	     /* NULL: neither NVML nor the record can say */
	bool recorded;	     /* have comes from GPU_STATE_RECORD, NVML has no getter here */
	char *pending;	     /* ecc, mig.mode: the value after the next reboot / GPU reset, if other */
	unsigned min, max;   /* power_limit_w: the allowed range, W (0: unknown) */
};

struct gpu_view {
	nvml_device_t dev;
	char bus[32], serial[32];
	struct gpu_setting settings[GPU_SETTINGS];
	size_t n;
};

/* The declared settings of GPU index, each with what it is now. decl: state->gpu. */
int gpu_view_read(struct nvml *n, const struct root *root, const cJSON *decl, unsigned index, struct gpu_view *ret);
void gpu_view_done(struct gpu_view *v);
/* Whether the setting is as declared (or cannot be read); the pending value does not count. */
bool gpu_setting_ok(const struct gpu_setting *s);
/* power_limit_w: whether the declared watts are outside what the profile allows or, where
 * NVML says, the GPU's range (unknown constraints: NVML is asked and answers). Other keys: false. */
bool gpu_power_out_of_range(const struct gpu_setting *s);
/* "ecc on (now off; pending on, needs a reboot)": one setting as a line says it. */
int gpu_setting_describe(const struct gpu_setting *s, char **ret);
/* What a change of the setting needs: "needs a reboot" (ECC), "needs a GPU reset" (MIG
 * mode), NULL for a change that takes effect at once. */
const char *gpu_setting_needs(const struct gpu_setting *s);

/* The result of gpu_state_apply: lines for the operator, each naming the GPU. */
struct gpu_apply_report {
	char **done, **pending, **failed, **unchanged;
	size_t n_done, n_pending, n_failed, n_unchanged;
};
void gpu_apply_report_done(struct gpu_apply_report *r);
/* Sets every GPU's declared settings that differ, in the order above, and writes
 * GPU_STATE_RECORD. A setting that cannot be set is a line in failed, not an error. */
int gpu_state_apply(const struct root *root, const cJSON *decl, struct gpu_apply_report *ret, char **ret_why);
