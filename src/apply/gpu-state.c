/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The GPUs' declared state (the profile's "gpu" section): read per GPU, compared, set. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply/gpu-state.h"
#include "host/nvml-state.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/write.h"

#define RECORD_MAX (1024 * 1024)

static const char *const keys[GPU_SETTINGS] = {
	"persistence", "ecc", "mig.mode", "mig.layout", "compute_mode", "power_limit_w", "locked_clocks",
};

static const char *onoff(bool b)
{
	return b ? "on" : "off";
}

static const char *compute_mode_name(unsigned m)
{
	return m == NVML_COMPUTE_DEFAULT	    ? "default"
	       : m == NVML_COMPUTE_PROHIBITED	    ? "prohibited"
	       : m == NVML_COMPUTE_EXCLUSIVE_PROCESS ? "exclusive_process"
						    : NULL;
}

/* What the profile declares for key, as a word; NULL where it declares nothing (a
 * power_limit_w of false: the driver's limit is left as it is). state.json is apply's, but
 * may have been edited since: a value not of the key's form declares nothing. */
static int declared(const cJSON *decl, const char *key, char **ret)
{
	const cJSON *mig = cJSON_GetObjectItemCaseSensitive(decl, "mig"), *v, *e;
	_cleanup_(strv_freep) char **names = NULL;
	size_t n = 0;

	*ret = NULL;
	v = startswith(key, "mig.") ? cJSON_GetObjectItemCaseSensitive(mig, key + 4) : cJSON_GetObjectItemCaseSensitive(decl, key);
	if (!v)
		return 0;
	if (streq(key, "power_limit_w"))
		return cJSON_IsNumber(v) && asprintf(ret, "%d", v->valueint) < 0 ? -ENOMEM : 0;
	if (streq(key, "compute_mode"))
		return cJSON_IsString(v) && !(*ret = strdup(v->valuestring)) ? -ENOMEM : 0;
	if (streq(key, "locked_clocks")) {
		const cJSON *lo = cJSON_GetArrayItem(v, 0), *hi = cJSON_GetArrayItem(v, 1);

		if (cJSON_IsFalse(v))
			return (*ret = strdup("off")) ? 0 : -ENOMEM;
		if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2 || !cJSON_IsNumber(lo) || !cJSON_IsNumber(hi))
			return 0;
		return asprintf(ret, "%d,%d", lo->valueint, hi->valueint) < 0 ? -ENOMEM : 0;
	}
	if (streq(key, "mig.layout")) {
		if (!cJSON_IsArray(v))
			return 0;
		/* A layout is a set of instances: compared sorted, as NVML lists them. */
		cJSON_ArrayForEach(e, v)
			if (cJSON_IsString(e) && strv_push(&names, &n, e->valuestring) < 0)
				return -ENOMEM;
		strv_sort(names);
		*ret = n ? strv_join(names, ",") : strdup("");
		return *ret ? 0 : -ENOMEM;
	}
	/* persistence, ecc, mig.mode */
	return cJSON_IsBool(v) && !(*ret = strdup(onoff(cJSON_IsTrue(v)))) ? -ENOMEM : 0;
}

int gpu_record_get(const struct root *root, const char *bus, const char *key, char **ret)
{
	_cleanup_(cJSON_Deletep) cJSON *record = NULL;
	_cleanup_free_ char *text = NULL;
	const char *v;
	int k;

	*ret = NULL;
	if ((k = root_read_file(root, GPU_STATE_RECORD, RECORD_MAX, &text, NULL)) < 0)
		return k == -ENOENT ? 0 : k;
	/* A record that does not parse (a crash, a hand edit) is no record: it is written anew. */
	record = cJSON_Parse(text);
	v = json_str(cJSON_GetObjectItemCaseSensitive(json_find_by(cJSON_GetObjectItemCaseSensitive(record, "gpus"), "bus", bus),
						      "set"),
		     key);
	return v && !(*ret = strdup(v)) ? -ENOMEM : 0;
}

/* What NVML says of key now; have stays NULL where it cannot say. */
static int read_have(struct nvml *n, nvml_device_t dev, struct gpu_setting *s)
{
	bool cur = false, pend = false;
	unsigned u = 0, lo = 0, hi = 0;

	if (streq(s->key, "persistence")) {
		if (nvml_dev_uint(n, "nvmlDeviceGetPersistenceMode", dev, &u) == NVML_OK)
			s->have = strdup(onoff(u));
	} else if (streq(s->key, "ecc") || streq(s->key, "mig.mode")) {
		if ((streq(s->key, "ecc") ? nvml_ecc_get(n, dev, &cur, &pend) : nvml_mig_get(n, dev, &cur, &pend)) != NVML_OK)
			return 0;
		if (!(s->have = strdup(onoff(cur))))
			return -ENOMEM;
		if (pend != cur)
			s->pending = strdup(onoff(pend));
	} else if (streq(s->key, "mig.layout")) {
		/* Instances exist only in MIG mode; outside it the layout reads as none. */
		if (nvml_mig_get(n, dev, &cur, &pend) == NVML_OK && !cur)
			s->have = strdup("");
		else if (cur) {
			int k = nvml_mig_layout(n, dev, &s->have);

			if (k < 0)
				return k;
		}
	} else if (streq(s->key, "compute_mode")) {
		if (nvml_dev_uint(n, "nvmlDeviceGetComputeMode", dev, &u) == NVML_OK && compute_mode_name(u))
			s->have = strdup(compute_mode_name(u));
	} else if (streq(s->key, "power_limit_w")) {
		if (nvml_power_limits(n, dev, &lo, &hi) == NVML_OK)
			s->min = (lo + 999) / 1000, s->max = hi / 1000;
		if (nvml_power_limit_get(n, dev, &u) == NVML_OK && asprintf(&s->have, "%u", (u + 500) / 1000) < 0)
			return -ENOMEM;
	}
	/* locked_clocks: nvmlDeviceGetClockInfo gives the clock running, not the lock; the
	 * record says which lock gpuprov set. */
	return 0;
}

int gpu_view_read(struct nvml *n, const struct root *root, const cJSON *decl, unsigned index, struct gpu_view *ret)
{
	struct gpu_view v = {};
	int k;

	if ((k = nvml_device(n, index, &v.dev)) != NVML_OK)
		return -EIO;
	nvml_identity(n, v.dev, v.bus, v.serial);
	for (size_t i = 0; i < GPU_SETTINGS; i++) {
		struct gpu_setting *s = &v.settings[v.n];
		_cleanup_free_ char *want = NULL;

		if ((k = declared(decl, keys[i], &want)) < 0)
			goto fail;
		if (!want)
			continue;
		*s = (struct gpu_setting){ .key = keys[i], .want = TAKE_PTR(want) };
		v.n++;
		if ((k = read_have(n, v.dev, s)) < 0)
			goto fail;
		if (!s->have) {
			if ((k = gpu_record_get(root, v.bus, s->key, &s->have)) < 0)
				goto fail;
			s->recorded = s->have;
		}
	}
	*ret = v;
	return 0;
fail:
	gpu_view_done(&v);
	return k;
}

void gpu_view_done(struct gpu_view *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->settings[i].want), free(v->settings[i].have), free(v->settings[i].pending);
	v->n = 0;
}

bool gpu_setting_ok(const struct gpu_setting *s)
{
	return !s->have || streq(s->have, s->want);
}

/* The profile's range for power_limit_w (src/profile/validate.c); state.json may have been
 * edited since, and the watts are multiplied into NVML's milliwatts. */
#define POWER_W_MIN 50
#define POWER_W_MAX 2000

static int power_watts(const struct gpu_setting *s, unsigned *ret)
{
	int64_t w;

	if (parse_s64(s->want, &w) < 0 || w < POWER_W_MIN || w > POWER_W_MAX)
		return -ERANGE;
	*ret = (unsigned)w;
	return 0;
}

bool gpu_power_out_of_range(const struct gpu_setting *s)
{
	unsigned w = 0;

	if (!streq(s->key, "power_limit_w"))
		return false;
	return power_watts(s, &w) < 0 || (s->max > 0 && (w < s->min || w > s->max));
}

const char *gpu_setting_needs(const struct gpu_setting *s)
{
	/* ECC mode changes at the next reboot (nvmlDeviceSetEccMode: "requires a reboot");
	 * MIG mode once the GPU is reset (nvmlDeviceSetMigMode: NVML_ERROR_RESET_REQUIRED). */
	return streq(s->key, "ecc") ? "needs a reboot" : streq(s->key, "mig.mode") ? "needs a GPU reset or reboot" : NULL;
}

int gpu_setting_describe(const struct gpu_setting *s, char **ret)
{
	const char *unit = streq(s->key, "power_limit_w") ? " W" : "";
	const char *want = *s->want ? s->want : "none", *have = s->have && !*s->have ? "none" : s->have;

	if (!s->have)
		return asprintf(ret, "%s %s%s (not supported by this GPU or driver, and not set by gpuprov gpu apply)", s->key,
				want, unit) < 0 ? -ENOMEM : 0;
	return asprintf(ret, "%s %s%s (now %s%s%s%s%s%s)", s->key, want, unit, have, unit, s->recorded ? " as gpuprov set it" : "",
			s->pending ? "; pending " : "", s->pending ? s->pending : "",
			s->pending ? (streq(s->key, "ecc") ? ", needs a reboot" : ", needs a GPU reset or reboot") : "") < 0
		       ? -ENOMEM
		       : 0;
}

void gpu_apply_report_done(struct gpu_apply_report *r)
{
	strv_free(r->done), strv_free(r->pending), strv_free(r->failed), strv_free(r->unchanged);
	*r = (struct gpu_apply_report){};
}

/* The words of a comma list, for NVML: "3g.40gb,1g.10gb" -> {"3g.40gb", "1g.10gb", NULL}. */
static int split_list(const char *s, char ***ret)
{
	_cleanup_(strv_freep) char **v = NULL;
	_cleanup_free_ char *copy = strdup(s);
	char *save = NULL;
	size_t n = 0;

	if (!copy)
		return -ENOMEM;
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
		if (strv_push(&v, &n, w) < 0)
			return -ENOMEM;
	if (!v && !(v = calloc(1, sizeof(*v))))
		return -ENOMEM;
	*ret = TAKE_PTR(v);
	return 0;
}

/* Sets one setting; what happened goes to the report, pending or failed, with why. */
static int set_one(struct nvml *n, const struct gpu_view *v, const struct gpu_setting *s, bool mig_on, struct gpu_apply_report *rep,
		   cJSON *set)
{
	const char *unit = streq(s->key, "power_limit_w") ? " W" : "";
	const char *want = *s->want ? s->want : "none";
	_cleanup_free_ char *why = NULL;
	unsigned a = 0, b = 0;
	int k = NVML_OK;

	if (s->have && streq(s->have, s->want) && (!s->pending || streq(s->pending, s->want))) {
		if (!cJSON_AddStringToObject(set, s->key, s->want))
			return -ENOMEM;
		return strv_pushf(&rep->unchanged, &rep->n_unchanged, "GPU %s (serial %s): %s %s%s: as declared", v->bus, v->serial,
				  s->key, want, unit);
	}
	if (s->pending && streq(s->pending, s->want))
		return strv_pushf(&rep->pending, &rep->n_pending, "GPU %s (serial %s): %s %s: pending, %s", v->bus, v->serial, s->key,
				  want, gpu_setting_needs(s));

	if (streq(s->key, "persistence"))
		k = nvml_persistence_set(n, v->dev, streq(s->want, "on"));
	else if (streq(s->key, "ecc"))
		k = nvml_ecc_set(n, v->dev, streq(s->want, "on"));
	else if (streq(s->key, "mig.mode")) {
		bool cur = false, pend = false;

		k = nvml_mig_set(n, v->dev, streq(s->want, "on"));
		if (k == NVML_E_RESET_REQUIRED || (k == NVML_OK && nvml_mig_get(n, v->dev, &cur, &pend) == NVML_OK &&
						   !streq(onoff(cur), s->want)))
			return strv_pushf(&rep->pending, &rep->n_pending, "GPU %s (serial %s): mig.mode %s: set, pending, %s",
					  v->bus, v->serial, want, gpu_setting_needs(s));
	} else if (streq(s->key, "mig.layout")) {
		_cleanup_(strv_freep) char **names = NULL;

		if (!mig_on)
			return strv_pushf(&rep->pending, &rep->n_pending,
					  "GPU %s (serial %s): mig.layout %s: waits for MIG mode (after the GPU's reset, the boot "
					  "unit's gpuprov gpu apply makes it)", v->bus, v->serial, want);
		/* Destroying an instance kills what runs in it: only a GPU NVML says is idle is
		 * laid out anew, asked before anything is destroyed. */
		if ((k = nvml_processes(n, v->dev, &a)) != NVML_OK)
			return strv_pushf(&rep->failed, &rep->n_failed,
					  "GPU %s (serial %s): mig.layout %s: not changed, NVML cannot say whether processes use "
					  "the GPU: %s (%d)", v->bus, v->serial, want, nvml_strerror(n, k), k);
		if (a > 0)
			return strv_pushf(&rep->failed, &rep->n_failed,
					  "GPU %s (serial %s): mig.layout %s: not changed, %u processes use the GPU", v->bus,
					  v->serial, want, a);
		if ((k = split_list(s->want, &names)) < 0 || (k = nvml_mig_layout_set(n, v->dev, names, &why)) < 0)
			return k;
		if (k != NVML_OK) {
			_cleanup_free_ char *now = NULL;
			int r = nvml_mig_layout(n, v->dev, &now);

			if (r < 0)
				return r;
			/* The old instances may be gone already: say what the GPU has instead. */
			return strv_pushf(&rep->failed, &rep->n_failed,
					  "GPU %s (serial %s): mig.layout %s: %s: NVML: %s (%d); the GPU has now: %s", v->bus,
					  v->serial, want, why ? why : "", nvml_strerror(n, k), k,
					  r != NVML_OK ? "unknown, NVML cannot list its instances" : *now ? now : "no instances");
		}
	} else if (streq(s->key, "compute_mode"))
		k = nvml_compute_mode_set(n, v->dev, streq(s->want, "prohibited")	   ? NVML_COMPUTE_PROHIBITED
						     : streq(s->want, "exclusive_process") ? NVML_COMPUTE_EXCLUSIVE_PROCESS
											   : NVML_COMPUTE_DEFAULT);
	else if (streq(s->key, "power_limit_w")) {
		if (power_watts(s, &a) < 0)
			return strv_pushf(&rep->failed, &rep->n_failed,
					  "GPU %s (serial %s): power_limit_w %s: not a power limit gpuprov sets, %u..%u W",
					  v->bus, v->serial, s->want, POWER_W_MIN, POWER_W_MAX);
		if (gpu_power_out_of_range(s))
			return strv_pushf(&rep->failed, &rep->n_failed,
					  "GPU %s (serial %s): power_limit_w %u W: outside the range this GPU allows, %u..%u W",
					  v->bus, v->serial, a, s->min, s->max);
		/* Constraints NVML cannot say (0): the driver checks the limit, and its answer
		 * is reported. */
		k = nvml_power_limit_set(n, v->dev, a * 1000);
	} else if (streq(s->key, "locked_clocks")) {
		if (!streq(s->want, "off") && sscanf(s->want, "%u,%u", &a, &b) != 2)
			return -EINVAL;
		k = nvml_clocks_lock(n, v->dev, a, b);
	}
	if (k != NVML_OK)
		return strv_pushf(&rep->failed, &rep->n_failed, "GPU %s (serial %s): %s %s%s: %s%sNVML: %s (%d)", v->bus, v->serial,
				  s->key, want, unit, why ? why : "", why ? ": " : "", nvml_strerror(n, k), k);
	if (streq(s->key, "ecc"))
		return strv_pushf(&rep->pending, &rep->n_pending, "GPU %s (serial %s): ecc %s: set, pending, %s", v->bus, v->serial,
				  want, gpu_setting_needs(s));
	if (!cJSON_AddStringToObject(set, s->key, s->want))
		return -ENOMEM;
	return strv_pushf(&rep->done, &rep->n_done, "GPU %s (serial %s): %s %s%s: set (was %s%s)", v->bus, v->serial, s->key, want,
			  unit, s->have ? (*s->have ? s->have : "none") : "unknown", s->have ? unit : "");
}

/* One GPU's settings set, its entry added to the record. */
static int apply_gpu(struct nvml *n, const struct root *root, const cJSON *decl, unsigned index, struct gpu_apply_report *rep,
		     cJSON *gpus)
{
	struct gpu_view v;
	cJSON *entry, *set;
	bool cur = false, pend = false;
	int k;

	if ((k = gpu_view_read(n, root, decl, index, &v)) < 0)
		return k;
	if (!(entry = cJSON_CreateObject()) || !cJSON_AddItemToArray(gpus, entry) ||
	    !cJSON_AddStringToObject(entry, "bus", v.bus) || !cJSON_AddStringToObject(entry, "serial", v.serial) ||
	    !(set = cJSON_AddObjectToObject(entry, "set"))) {
		gpu_view_done(&v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < v.n && k >= 0; i++) {
		/* The layout after the mode: read again, the mode may have just changed. */
		if (streq(v.settings[i].key, "mig.layout") && nvml_mig_get(n, v.dev, &cur, &pend) != NVML_OK)
			cur = false;
		k = set_one(n, &v, &v.settings[i], cur, rep, set);
	}
	gpu_view_done(&v);
	return k < 0 ? k : 0;
}

int gpu_state_apply(const struct root *root, const cJSON *decl, struct gpu_apply_report *ret, char **ret_why)
{
	_cleanup_(nvml_closep) struct nvml *n = NULL;
	_cleanup_(cJSON_Deletep) cJSON *record = NULL;
	_cleanup_free_ char *json = NULL, *text = NULL;
	struct gpu_apply_report rep = {};
	char when[32];
	cJSON *gpus;
	unsigned count = 0;
	int k;

	*ret_why = NULL;
	if ((k = nvml_open_count(&n, &count, ret_why)) < 0)
		return k;
	utc_now(when);
	if (!(record = cJSON_CreateObject()) || !cJSON_AddStringToObject(record, "at", when) ||
	    !(gpus = cJSON_AddArrayToObject(record, "gpus")))
		return -ENOMEM;
	for (unsigned i = 0; i < count; i++)
		if ((k = apply_gpu(n, root, decl, i, &rep, gpus)) < 0) {
			gpu_apply_report_done(&rep);
			return k;
		}
	if (!(json = cJSON_Print(record)) || asprintf(&text, "%s\n", json) < 0) {
		gpu_apply_report_done(&rep);
		return -ENOMEM;
	}
	if ((k = root_write_atomic(root, GPU_STATE_RECORD, text, strlen(text), 0644)) < 0) {
		gpu_apply_report_done(&rep);
		return asprintf(ret_why, "%s: %s", GPU_STATE_RECORD, gp_strerror(k)) < 0 ? -ENOMEM : k;
	}
	*ret = rep;
	return 0;
}
