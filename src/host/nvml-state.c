/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The GPUs' declared settings through NVML: persistence, ECC, MIG, compute mode, power, clocks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/nvml-state.h"
#include "util/strutil.h"

/* The signatures below are nvml.h's (NVIDIA, docs.nvidia.com/deploy/nvml-api): an enum
 * (nvmlEnableState_t, nvmlComputeMode_t) is passed as an unsigned int. */
typedef int (*dev_set_fn)(nvml_device_t, unsigned);
typedef int (*dev_pair_fn)(nvml_device_t, unsigned *, unsigned *);
typedef void *nvml_gi_t; /* nvmlGpuInstance_t */
typedef void *nvml_ci_t; /* nvmlComputeInstance_t */

/* nvmlGpuInstanceProfileInfo_t, nvml.h (NVML API Reference, docs.nvidia.com/deploy/nvml-api,
 * structnvmlGpuInstanceProfileInfo__t) */
struct gi_profile_info {
	unsigned id, is_p2p_supported, slice_count, instance_count, multiprocessor_count, copy_engine_count,
		decoder_count, encoder_count, jpeg_count, ofa_count;
	unsigned long long memory_size_mb;
};

/* nvmlGpuInstanceProfileInfo_v2_t, nvml.h (structnvmlGpuInstanceProfileInfo__v2__t): the
 * same with a version first and NVIDIA's own name of the profile ("MIG 1g.10gb") last, filled
 * by nvmlDeviceGetGpuInstanceProfileInfoV. Version: nvmlGpuInstanceProfileInfo_v2, the size
 * with 2 in the top byte (NVML_STRUCT_VERSION). */
struct gi_profile_info_v2 {
	unsigned version, id, is_p2p_supported, slice_count, instance_count, multiprocessor_count, copy_engine_count,
		decoder_count, encoder_count, jpeg_count, ofa_count;
	unsigned long long memory_size_mb;
	char name[96]; /* NVML_DEVICE_NAME_V2_BUFFER_SIZE */
};
#define GI_PROFILE_INFO_V2 ((unsigned)sizeof(struct gi_profile_info_v2) | (2u << 24))

/* nvmlComputeInstanceProfileInfo_t, nvml.h (structnvmlComputeInstanceProfileInfo__t) */
struct ci_profile_info {
	unsigned id, slice_count, instance_count, multiprocessor_count, shared_copy_engine_count,
		shared_decoder_count, shared_encoder_count, shared_jpeg_count, shared_ofa_count;
};

/* nvml.h: NVML_GPU_INSTANCE_PROFILE_1_SLICE (0x0) to NVML_GPU_INSTANCE_PROFILE_2_SLICE_ALL_ME
 * (0x10), NVML_GPU_INSTANCE_PROFILE_COUNT 0x11 (nvml.h of R570 and later, as NVIDIA's Python
 * bindings nvidia-ml-py repeat it); the _REV1 ones (0x7, 0x8) are the profiles with the media
 * extensions. An id this driver or GPU does not know answers INVALID_ARGUMENT or
 * NOT_SUPPORTED and is skipped. */
#define GI_PROFILES 0x11
#define GI_PROFILE_1_SLICE_REV1 0x7
#define GI_PROFILE_2_SLICE_REV1 0x8
/* nvml.h: NVML_COMPUTE_INSTANCE_PROFILE_1_SLICE (0x0) to NVML_COMPUTE_INSTANCE_PROFILE_1_SLICE_REV1
 * (0x7) */
#define CI_PROFILES 8
/* nvml.h: NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_SHARED */
#define CI_ENGINE_SHARED 0
#define NVML_E_INSUFFICIENT_SIZE 7

static int set_uint(struct nvml *n, const char *fn, nvml_device_t dev, unsigned v)
{
	dev_set_fn set = (dev_set_fn)nvml_sym(n, fn);

	return set ? set(dev, v) : NVML_E_NOT_SUPPORTED;
}

static int get_pair(struct nvml *n, const char *fn, nvml_device_t dev, bool *ret_current, bool *ret_pending)
{
	dev_pair_fn get = (dev_pair_fn)nvml_sym(n, fn);
	unsigned cur = 0, pend = 0;
	int k = get ? get(dev, &cur, &pend) : NVML_E_NOT_SUPPORTED;

	if (k == NVML_OK)
		*ret_current = cur, *ret_pending = pend;
	return k;
}

int nvml_persistence_set(struct nvml *n, nvml_device_t dev, bool on)
{
	return set_uint(n, "nvmlDeviceSetPersistenceMode", dev, on);
}

int nvml_ecc_get(struct nvml *n, nvml_device_t dev, bool *ret_current, bool *ret_pending)
{
	return get_pair(n, "nvmlDeviceGetEccMode", dev, ret_current, ret_pending);
}

int nvml_ecc_set(struct nvml *n, nvml_device_t dev, bool on)
{
	return set_uint(n, "nvmlDeviceSetEccMode", dev, on);
}

int nvml_mig_get(struct nvml *n, nvml_device_t dev, bool *ret_current, bool *ret_pending)
{
	return get_pair(n, "nvmlDeviceGetMigMode", dev, ret_current, ret_pending);
}

int nvml_mig_set(struct nvml *n, nvml_device_t dev, bool on)
{
	int (*set)(nvml_device_t, unsigned, int *) = (int (*)(nvml_device_t, unsigned, int *))nvml_sym(n, "nvmlDeviceSetMigMode");
	int activation = NVML_OK, k;

	if (!set)
		return NVML_E_NOT_SUPPORTED;
	/* activationStatus: NVML_ERROR_RESET_REQUIRED where the GPU must be reset first
	 * (nvmlDeviceSetMigMode, nvml.h); the mode is then pending. */
	if ((k = set(dev, on, &activation)) != NVML_OK)
		return k;
	return activation;
}

int nvml_compute_mode_set(struct nvml *n, nvml_device_t dev, unsigned mode)
{
	return set_uint(n, "nvmlDeviceSetComputeMode", dev, mode);
}

int nvml_power_limit_get(struct nvml *n, nvml_device_t dev, unsigned *ret_mw)
{
	return nvml_dev_uint(n, "nvmlDeviceGetPowerManagementLimit", dev, ret_mw);
}

int nvml_power_limits(struct nvml *n, nvml_device_t dev, unsigned *ret_min_mw, unsigned *ret_max_mw)
{
	dev_pair_fn get = (dev_pair_fn)nvml_sym(n, "nvmlDeviceGetPowerManagementLimitConstraints");

	*ret_min_mw = *ret_max_mw = 0;
	return get ? get(dev, ret_min_mw, ret_max_mw) : NVML_E_NOT_SUPPORTED;
}

int nvml_power_limit_set(struct nvml *n, nvml_device_t dev, unsigned mw)
{
	return set_uint(n, "nvmlDeviceSetPowerManagementLimit", dev, mw);
}

int nvml_clocks_lock(struct nvml *n, nvml_device_t dev, unsigned min_mhz, unsigned max_mhz)
{
	int (*lock)(nvml_device_t, unsigned, unsigned) =
		(int (*)(nvml_device_t, unsigned, unsigned))nvml_sym(n, "nvmlDeviceSetGpuLockedClocks");
	int (*reset)(nvml_device_t) = (int (*)(nvml_device_t))nvml_sym(n, "nvmlDeviceResetGpuLockedClocks");

	if (min_mhz == 0 && max_mhz == 0)
		return reset ? reset(dev) : NVML_E_NOT_SUPPORTED;
	return lock ? lock(dev, min_mhz, max_mhz) : NVML_E_NOT_SUPPORTED;
}

void nvml_name(struct nvml *n, nvml_device_t dev, char name[static 96])
{
	int (*get)(nvml_device_t, char *, unsigned) = (int (*)(nvml_device_t, char *, unsigned))nvml_sym(n, "nvmlDeviceGetName");

	/* NVML_DEVICE_NAME_V2_BUFFER_SIZE is 96 */
	if (!get || get(dev, name, 96) != NVML_OK)
		snprintf(name, 96, "?");
	name[95] = '\0';
}

/* With room for none, NVML says how many there are: NVML_ERROR_INSUFFICIENT_SIZE and the
 * count, or success for none (nvml.h). */
static int process_count(struct nvml *n, const char *fn, nvml_device_t dev, unsigned *ret)
{
	int (*get)(nvml_device_t, unsigned *, void *) = (int (*)(nvml_device_t, unsigned *, void *))nvml_sym(n, fn);
	int k;

	*ret = 0;
	if (!get)
		return NVML_E_NOT_SUPPORTED;
	k = get(dev, ret, NULL);
	return k == NVML_E_INSUFFICIENT_SIZE ? NVML_OK : k;
}

int nvml_processes(struct nvml *n, nvml_device_t dev, unsigned *ret)
{
	/* Compute processes must be countable; graphics and MPS ones where the driver has them
	 * (no graphics on a compute-only GPU: NOT_SUPPORTED). */
	static const char *const optional[] = { "nvmlDeviceGetGraphicsRunningProcesses_v3",
						"nvmlDeviceGetMPSComputeRunningProcesses_v3" };
	unsigned more = 0;
	int k;

	if ((k = process_count(n, "nvmlDeviceGetComputeRunningProcesses_v3", dev, ret)) != NVML_OK)
		return k;
	for (size_t i = 0; i < ELEMENTSOF(optional); i++) {
		if ((k = process_count(n, optional[i], dev, &more)) == NVML_E_NOT_SUPPORTED)
			continue;
		if (k != NVML_OK)
			return k;
		*ret += more;
	}
	return NVML_OK;
}

/*
 * nvidia-smi names a GPU instance profile "<slices>g.<memory>gb": the slice count, and the
 * memory in GiB rounded up (nvidia-smi mig -lgip in NVIDIA's MIG User Guide: A100 40GB's
 * 7g.40gb has 39.25 GiB, its 1g.5gb 4.75 GiB), "+me" for the media-extension profiles
 * (the _REV1 ones).
 */
int nvml_mig_profile_name(unsigned profile, unsigned slices, unsigned long long memory_mb, char buf[static 32])
{
	bool me = profile == GI_PROFILE_1_SLICE_REV1 || profile == GI_PROFILE_2_SLICE_REV1;

	return snprintf(buf, 32, "%ug.%llugb%s", slices, (memory_mb + 1023) / 1024, me ? "+me" : "");
}

/* NVIDIA's name where the driver has nvmlDeviceGetGpuInstanceProfileInfoV (the -me, +me.all
 * and gfx variants of R570 share slices and memory with others: only that name tells them
 * apart), the derived one on older drivers. */
static int gi_profile(struct nvml *n, nvml_device_t dev, unsigned profile, struct gi_profile_info *ret, char name[static 32])
{
	int (*get)(nvml_device_t, unsigned, struct gi_profile_info *) =
		(int (*)(nvml_device_t, unsigned, struct gi_profile_info *))nvml_sym(n, "nvmlDeviceGetGpuInstanceProfileInfo");
	int (*get_v)(nvml_device_t, unsigned, struct gi_profile_info_v2 *) =
		(int (*)(nvml_device_t, unsigned, struct gi_profile_info_v2 *))nvml_sym(n, "nvmlDeviceGetGpuInstanceProfileInfoV");
	struct gi_profile_info_v2 v2 = { .version = GI_PROFILE_INFO_V2 };
	int k;

	*ret = (struct gi_profile_info){};
	if (get_v && get_v(dev, profile, &v2) == NVML_OK) {
		const char *nv = v2.name;

		v2.name[sizeof(v2.name) - 1] = '\0';
		*ret = (struct gi_profile_info){ .id = v2.id, .is_p2p_supported = v2.is_p2p_supported, .slice_count = v2.slice_count,
						 .instance_count = v2.instance_count, .memory_size_mb = v2.memory_size_mb };
		/* nvidia-smi's name is NVML's without its "MIG " */
		if (startswith(nv, "MIG "))
			nv += 4;
		if (*nv && strlen(nv) < 32 && !strchr(nv, ',')) {
			memcpy(name, nv, strlen(nv) + 1);
			return NVML_OK;
		}
		nvml_mig_profile_name(profile, ret->slice_count, ret->memory_size_mb, name);
		return NVML_OK;
	}
	if (!get)
		return NVML_E_NOT_SUPPORTED;
	if ((k = get(dev, profile, ret)) == NVML_OK)
		nvml_mig_profile_name(profile, ret->slice_count, ret->memory_size_mb, name);
	return k;
}

/* The GPU instances of one profile; *ret_n of them in *ret (freed by the caller). */
static int gi_list(struct nvml *n, nvml_device_t dev, const struct gi_profile_info *info, nvml_gi_t **ret, unsigned *ret_n)
{
	int (*get)(nvml_device_t, unsigned, nvml_gi_t *, unsigned *) =
		(int (*)(nvml_device_t, unsigned, nvml_gi_t *, unsigned *))nvml_sym(n, "nvmlDeviceGetGpuInstances");
	_cleanup_free_ nvml_gi_t *gis = calloc(info->instance_count + 1, sizeof(*gis));
	unsigned count = 0;
	int k;

	*ret_n = 0;
	if (!gis)
		return -ENOMEM;
	if (!get)
		return NVML_E_NOT_SUPPORTED;
	if ((k = get(dev, info->id, gis, &count)) != NVML_OK)
		return k;
	*ret_n = count;
	*ret = TAKE_PTR(gis);
	return NVML_OK;
}

int nvml_mig_layout(struct nvml *n, nvml_device_t dev, char **ret)
{
	_cleanup_(strv_freep) char **names = NULL;
	size_t nn = 0;
	int k;

	for (unsigned p = 0; p < GI_PROFILES; p++) {
		_cleanup_free_ nvml_gi_t *gis = NULL;
		struct gi_profile_info info;
		char name[32];
		unsigned count;

		/* A profile this GPU does not have: NVML_ERROR_INVALID_ARGUMENT or not supported. */
		if (gi_profile(n, dev, p, &info, name) != NVML_OK)
			continue;
		if ((k = gi_list(n, dev, &info, &gis, &count)) < 0)
			return k;
		if (k != NVML_OK)
			return k;
		for (unsigned i = 0; i < count; i++)
			if (strv_push(&names, &nn, name) < 0)
				return -ENOMEM;
	}
	strv_sort(names);
	if (!(*ret = nn ? strv_join(names, ",") : strdup("")))
		return -ENOMEM;
	return NVML_OK;
}

/* The compute instance profile as big as the GPU instance: nvml.h numbers the
 * NVML_COMPUTE_INSTANCE_PROFILE_<N>_SLICE ids as it numbers the GPU instance ones. */
static unsigned ci_profile_of(unsigned slices)
{
	switch (slices) {
	case 1: return 0;
	case 2: return 1;
	case 3: return 2;
	case 4: return 3;
	case 7: return 4;
	case 8: return 5;
	case 6: return 6;
	default: return 0;
	}
}

static int gi_create(struct nvml *n, nvml_device_t dev, const struct gi_profile_info *info, char **ret_why)
{
	int (*create)(nvml_device_t, unsigned, nvml_gi_t *) =
		(int (*)(nvml_device_t, unsigned, nvml_gi_t *))nvml_sym(n, "nvmlDeviceCreateGpuInstance");
	int (*ci_info)(nvml_gi_t, unsigned, unsigned, struct ci_profile_info *) =
		(int (*)(nvml_gi_t, unsigned, unsigned, struct ci_profile_info *))nvml_sym(n, "nvmlGpuInstanceGetComputeInstanceProfileInfo");
	int (*ci_create)(nvml_gi_t, unsigned, nvml_ci_t *) =
		(int (*)(nvml_gi_t, unsigned, nvml_ci_t *))nvml_sym(n, "nvmlGpuInstanceCreateComputeInstance");
	int (*destroy)(nvml_gi_t) = (int (*)(nvml_gi_t))nvml_sym(n, "nvmlGpuInstanceDestroy");
	struct ci_profile_info ci = {};
	nvml_gi_t gi = NULL;
	nvml_ci_t c = NULL;
	int k;

	if (!create || !ci_info || !ci_create || !destroy)
		return NVML_E_NOT_SUPPORTED;
	if ((k = create(dev, info->id, &gi)) != NVML_OK)
		return asprintf(ret_why, "nvmlDeviceCreateGpuInstance") < 0 ? -ENOMEM : k;
	if ((k = ci_info(gi, ci_profile_of(info->slice_count), CI_ENGINE_SHARED, &ci)) == NVML_OK &&
	    (k = ci_create(gi, ci.id, &c)) == NVML_OK)
		return NVML_OK;
	/* A GPU instance without a compute instance is invisible to CUDA and still takes its
	 * slices: it goes again. */
	if (destroy(gi) != NVML_OK)
		return asprintf(ret_why, "nvmlGpuInstanceCreateComputeInstance, and its GPU instance was left behind") < 0 ? -ENOMEM : k;
	return asprintf(ret_why, "nvmlGpuInstanceCreateComputeInstance") < 0 ? -ENOMEM : k;
}

/* A GPU instance's compute instances, destroyed first: NVML refuses to destroy a GPU instance
 * that still has some, as nvidia-smi mig -dgi does before -dci. */
static int ci_destroy_all(struct nvml *n, nvml_gi_t gi, char **ret_why)
{
	int (*info)(nvml_gi_t, unsigned, unsigned, struct ci_profile_info *) =
		(int (*)(nvml_gi_t, unsigned, unsigned, struct ci_profile_info *))nvml_sym(n, "nvmlGpuInstanceGetComputeInstanceProfileInfo");
	int (*list)(nvml_gi_t, unsigned, nvml_ci_t *, unsigned *) =
		(int (*)(nvml_gi_t, unsigned, nvml_ci_t *, unsigned *))nvml_sym(n, "nvmlGpuInstanceGetComputeInstances");
	int (*destroy)(nvml_ci_t) = (int (*)(nvml_ci_t))nvml_sym(n, "nvmlComputeInstanceDestroy");
	int k;

	if (!info || !list || !destroy)
		return NVML_E_NOT_SUPPORTED;
	for (unsigned p = 0; p < CI_PROFILES; p++) {
		_cleanup_free_ nvml_ci_t *cis = NULL;
		struct ci_profile_info ci = {};
		unsigned count = 0;

		/* A profile this GPU instance does not have. */
		if (info(gi, p, CI_ENGINE_SHARED, &ci) != NVML_OK)
			continue;
		if (!(cis = calloc(ci.instance_count + 1, sizeof(*cis))))
			return -ENOMEM;
		if ((k = list(gi, ci.id, cis, &count)) != NVML_OK)
			return asprintf(ret_why, "nvmlGpuInstanceGetComputeInstances") < 0 ? -ENOMEM : k;
		for (unsigned i = 0; i < count; i++)
			if ((k = destroy(cis[i])) != NVML_OK)
				return asprintf(ret_why, "nvmlComputeInstanceDestroy") < 0 ? -ENOMEM : k;
	}
	return NVML_OK;
}

int nvml_mig_layout_set(struct nvml *n, nvml_device_t dev, char *const *want, char **ret_why)
{
	int (*destroy)(nvml_gi_t) = (int (*)(nvml_gi_t))nvml_sym(n, "nvmlGpuInstanceDestroy");
	struct gi_profile_info infos[GI_PROFILES];
	char names[GI_PROFILES][32];
	bool have[GI_PROFILES] = {}, made[GI_PROFILES] = {};
	int k;

	*ret_why = NULL;
	if (!destroy)
		return NVML_E_NOT_SUPPORTED;
	for (unsigned p = 0; p < GI_PROFILES; p++)
		have[p] = gi_profile(n, dev, p, &infos[p], names[p]) == NVML_OK;
	/* Every name first: a layout this GPU cannot have changes nothing. */
	for (char *const *w = want; *w; w++) {
		bool found = false;

		for (unsigned p = 0; p < GI_PROFILES && !found; p++)
			found = have[p] && streq(names[p], *w);
		if (!found)
			return asprintf(ret_why, "no GPU instance profile %s on this GPU", *w) < 0 ? -ENOMEM : NVML_E_NOT_FOUND;
	}
	for (unsigned p = 0; p < GI_PROFILES; p++) {
		_cleanup_free_ nvml_gi_t *gis = NULL;
		unsigned count = 0;

		if (!have[p])
			continue;
		if ((k = gi_list(n, dev, &infos[p], &gis, &count)) != NVML_OK)
			return k < 0 ? k : (asprintf(ret_why, "nvmlDeviceGetGpuInstances") < 0 ? -ENOMEM : k);
		for (unsigned i = 0; i < count; i++) {
			if ((k = ci_destroy_all(n, gis[i], ret_why)) != NVML_OK)
				return k;
			if ((k = destroy(gis[i])) != NVML_OK)
				return asprintf(ret_why, "nvmlGpuInstanceDestroy of a %s instance", names[p]) < 0 ? -ENOMEM : k;
		}
	}
	/* Largest first: NVML places each instance at the first placement free, and small ones
	 * made first take the placements a large one can only have (a 4g.40gb starts at slice 0
	 * only). Profiles by slices, then memory, each with as many instances as want names. */
	for (unsigned done = 0; done < GI_PROFILES; done++) {
		int best = -1;

		for (unsigned p = 0; p < GI_PROFILES; p++)
			if (have[p] && !made[p] &&
			    (best < 0 || infos[p].slice_count > infos[best].slice_count ||
			     (infos[p].slice_count == infos[best].slice_count && infos[p].memory_size_mb > infos[best].memory_size_mb)))
				best = (int)p;
		if (best < 0)
			break;
		made[best] = true;
		/* Two profiles of one name (derived names on an older driver): the first makes them. */
		for (unsigned p = 0; p < (unsigned)best; p++)
			if (have[p] && streq(names[p], names[best]))
				goto next;
		for (char *const *w = want; *w; w++)
			if (streq(names[best], *w) && (k = gi_create(n, dev, &infos[best], ret_why)) != NVML_OK)
				return k;
	next:;
	}
	return NVML_OK;
}
