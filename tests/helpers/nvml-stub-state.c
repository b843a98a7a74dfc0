/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Part of the NVML stand-in (nvml-stub.c, which includes this file): the getters and setters of the GPUs' declared state (the "gpu" section). */
/*
 * Keys, per GPU ("gpuN.KEY"):
 *   persistence    written by nvmlDeviceSetPersistenceMode (0/1)
 *   mig, mig_pending   MIG mode now and after the GPU's reset; a setter writes mig_pending
 *                  only, as a real GPU needs a reset: the test flips mig itself
 *   gi             the GPU instances, a comma list of profile names ("3g.40gb,1g.10gb")
 *   ecc, ecc_pending   ECC mode now and after the next reboot (the setter writes ecc_pending)
 *   compute_mode   nvmlComputeMode_t: 0 default, 2 prohibited, 3 exclusive process
 *   power_limit, power_min, power_max   mW
 *   clocks_locked  "min,max" MHz, or empty when not locked
 *   name           the product name
 *   processes      the compute processes running (nvmlDeviceGetComputeRunningProcesses_v3)
 *   ci_fail        present: nvmlGpuInstanceCreateComputeInstance fails (INSUFFICIENT_RESOURCES)
 *   no_profile_info_v   present: the driver predates nvmlDeviceGetGpuInstanceProfileInfoV
 *   ci_destroyed   written: how many compute instances nvmlComputeInstanceDestroy destroyed
 *                  (each GPU instance has one, of compute instance profile 0)
 * A setter of a key the file does not have answers NVML_ERROR_NOT_SUPPORTED, as a GPU
 * without the feature does.
 */
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_RESET_REQUIRED 16
#define NVML_ERROR_FUNCTION_NOT_FOUND 13
#define NVML_ERROR_INSUFFICIENT_RESOURCES 23
#define NVML_ERROR_ARGUMENT_VERSION_MISMATCH 25

static int has(int gpu, const char *name)
{
	char v[256];

	return stub_get(gpu, name, v, sizeof(v)) == 0;
}

/* A setter of a GPU that has the feature (the key "feature" in the file) writes "key". */
static int set_if_has(nvmlDevice_t device, const char *feature, const char *key, unsigned long long v)
{
	if (!has(gpu_of(device), feature))
		return NVML_ERROR_NOT_SUPPORTED;
	stub_set_ull(gpu_of(device), key, v);
	return NVML_SUCCESS;
}

int nvmlDeviceSetPersistenceMode(nvmlDevice_t device, unsigned mode);
int nvmlDeviceSetPersistenceMode(nvmlDevice_t device, unsigned mode)
{
	stub_set_ull(gpu_of(device), "persistence", mode);
	return NVML_SUCCESS;
}

/* A current and pending pair: the pending value defaults to the current one. */
static int get_pair(nvmlDevice_t device, const char *now, const char *pending, unsigned *cur, unsigned *pend)
{
	int gpu = gpu_of(device);

	if (stub_get_uint(gpu, now, cur) != NVML_SUCCESS)
		return NVML_ERROR_NOT_SUPPORTED;
	if (stub_get_uint(gpu, pending, pend) != NVML_SUCCESS)
		*pend = *cur;
	return NVML_SUCCESS;
}

int nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned *current, unsigned *pending);
int nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned *current, unsigned *pending)
{
	return get_pair(device, "mig", "mig_pending", current, pending);
}

int nvmlDeviceSetMigMode(nvmlDevice_t device, unsigned mode, int *activation);
int nvmlDeviceSetMigMode(nvmlDevice_t device, unsigned mode, int *activation)
{
	unsigned cur = 0;

	if (stub_get_uint(gpu_of(device), "mig", &cur) != NVML_SUCCESS)
		return NVML_ERROR_NOT_SUPPORTED;
	stub_set_ull(gpu_of(device), "mig_pending", mode);
	*activation = cur == mode ? NVML_SUCCESS : NVML_ERROR_RESET_REQUIRED;
	return NVML_SUCCESS;
}

int nvmlDeviceGetEccMode(nvmlDevice_t device, unsigned *current, unsigned *pending);
int nvmlDeviceGetEccMode(nvmlDevice_t device, unsigned *current, unsigned *pending)
{
	return get_pair(device, "ecc", "ecc_pending", current, pending);
}

int nvmlDeviceSetEccMode(nvmlDevice_t device, unsigned ecc);
int nvmlDeviceSetEccMode(nvmlDevice_t device, unsigned ecc)
{
	return set_if_has(device, "ecc", "ecc_pending", ecc);
}

int nvmlDeviceGetComputeMode(nvmlDevice_t device, unsigned *mode);
int nvmlDeviceGetComputeMode(nvmlDevice_t device, unsigned *mode)
{
	return stub_get_uint(gpu_of(device), "compute_mode", mode);
}

int nvmlDeviceSetComputeMode(nvmlDevice_t device, unsigned mode);
int nvmlDeviceSetComputeMode(nvmlDevice_t device, unsigned mode)
{
	return set_if_has(device, "compute_mode", "compute_mode", mode);
}

int nvmlDeviceGetPowerManagementLimit(nvmlDevice_t device, unsigned *limit);
int nvmlDeviceGetPowerManagementLimit(nvmlDevice_t device, unsigned *limit)
{
	return stub_get_uint(gpu_of(device), "power_limit", limit);
}

int nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t device, unsigned *min, unsigned *max);
int nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t device, unsigned *min, unsigned *max)
{
	if (stub_get_uint(gpu_of(device), "power_min", min) != NVML_SUCCESS ||
	    stub_get_uint(gpu_of(device), "power_max", max) != NVML_SUCCESS)
		return NVML_ERROR_NOT_SUPPORTED;
	return NVML_SUCCESS;
}

/* Out of the constraints: NVML_ERROR_INVALID_ARGUMENT, as the driver answers. */
int nvmlDeviceSetPowerManagementLimit(nvmlDevice_t device, unsigned limit);
int nvmlDeviceSetPowerManagementLimit(nvmlDevice_t device, unsigned limit)
{
	unsigned min = 0, max = 0;

	if (nvmlDeviceGetPowerManagementLimitConstraints(device, &min, &max) == NVML_SUCCESS && (limit < min || limit > max))
		return NVML_ERROR_INVALID_ARGUMENT;
	return set_if_has(device, "power_limit", "power_limit", limit);
}

int nvmlDeviceSetGpuLockedClocks(nvmlDevice_t device, unsigned min, unsigned max);
int nvmlDeviceSetGpuLockedClocks(nvmlDevice_t device, unsigned min, unsigned max)
{
	char v[64];

	if (!has(gpu_of(device), "clocks_locked"))
		return NVML_ERROR_NOT_SUPPORTED;
	snprintf(v, sizeof(v), "%u,%u", min, max);
	stub_set(gpu_of(device), "clocks_locked", v);
	return NVML_SUCCESS;
}

int nvmlDeviceResetGpuLockedClocks(nvmlDevice_t device);
int nvmlDeviceResetGpuLockedClocks(nvmlDevice_t device)
{
	if (!has(gpu_of(device), "clocks_locked"))
		return NVML_ERROR_NOT_SUPPORTED;
	stub_set(gpu_of(device), "clocks_locked", "");
	return NVML_SUCCESS;
}

int nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned length);
int nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned length)
{
	return stub_get(gpu_of(device), "name", name, length) < 0 ? NVML_ERROR_NOT_SUPPORTED : NVML_SUCCESS;
}

/* Asked with room for none, as gpuprov asks: the count. */
int nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned *count, void *infos);
int nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned *count, void *infos)
{
	(void)infos;
	if (stub_get_uint(gpu_of(device), "processes", count) != NVML_SUCCESS)
		return NVML_ERROR_NOT_SUPPORTED;
	return *count ? NVML_ERROR_INSUFFICIENT_SIZE : NVML_SUCCESS;
}

/* ---- MIG: GPU instances by profile ------------------------------------------------------ */

/* nvmlGpuInstanceProfileInfo_t and nvmlComputeInstanceProfileInfo_t (nvml.h) */
struct gi_profile_info {
	unsigned id, is_p2p_supported, slice_count, instance_count, multiprocessor_count, copy_engine_count,
		decoder_count, encoder_count, jpeg_count, ofa_count;
	unsigned long long memory_size_mb;
};
struct ci_profile_info {
	unsigned id, slice_count, instance_count, multiprocessor_count, shared_copy_engine_count,
		shared_decoder_count, shared_encoder_count, shared_jpeg_count, shared_ofa_count;
};

/* The stand-in's GPU: an 80 GB part with seven slices. The memory sizes are chosen so that
 * gpuprov's naming gives the names of the list, not read from a real GPU. */
static const struct {
	unsigned id, slices, count;
	unsigned long long mb;
	const char *name;
} gi_profiles[] = {
	{ 0, 1, 7, 9856, "1g.10gb" },  { 1, 2, 3, 19968, "2g.20gb" }, { 2, 3, 2, 40192, "3g.40gb" },
	{ 3, 4, 1, 40192, "4g.40gb" }, { 4, 7, 1, 81408, "7g.80gb" }, { 7, 1, 1, 9856, "1g.10gb+me" },
	{ 9, 1, 4, 19968, "1g.20gb" },
	/* Profiles of R570's nvml.h past 0x9, named only by nvmlDeviceGetGpuInstanceProfileInfoV:
	 * gpuprov's derived names would be 1g.10gb and 2g.20gb. */
	{ 13, 1, 7, 9856, "1g.10gb-me" }, { 16, 2, 1, 19968, "2g.20gb+me.all" },
};
#define N_GI_PROFILES (sizeof(gi_profiles) / sizeof(gi_profiles[0]))

/* A GPU instance handle: the GPU's index plus one, and its place in the gi list plus one. */
static void *gi_handle(int gpu, int slot)
{
	return (void *)(uintptr_t)(((unsigned)(gpu + 1) << 16) | (unsigned)(slot + 1));
}

static int gi_profile_of(unsigned id)
{
	for (size_t i = 0; i < N_GI_PROFILES; i++)
		if (gi_profiles[i].id == id)
			return (int)i;
	return -1;
}

int nvmlDeviceGetGpuInstanceProfileInfo(nvmlDevice_t device, unsigned profile, struct gi_profile_info *info);
int nvmlDeviceGetGpuInstanceProfileInfo(nvmlDevice_t device, unsigned profile, struct gi_profile_info *info)
{
	int p = gi_profile_of(profile);

	if (!has(gpu_of(device), "mig"))
		return NVML_ERROR_NOT_SUPPORTED;
	if (p < 0)
		return NVML_ERROR_INVALID_ARGUMENT;
	memset(info, 0, sizeof(*info));
	info->id = profile;
	info->slice_count = gi_profiles[p].slices;
	info->instance_count = gi_profiles[p].count;
	info->memory_size_mb = gi_profiles[p].mb;
	return NVML_SUCCESS;
}

/* nvmlGpuInstanceProfileInfo_v2_t (nvml.h) and its version nvmlGpuInstanceProfileInfo_v2 */
struct gi_profile_info_v2 {
	unsigned version, id, is_p2p_supported, slice_count, instance_count, multiprocessor_count, copy_engine_count,
		decoder_count, encoder_count, jpeg_count, ofa_count;
	unsigned long long memory_size_mb;
	char name[96];
};
#define GI_PROFILE_INFO_V2 ((unsigned)sizeof(struct gi_profile_info_v2) | (2u << 24))

int nvmlDeviceGetGpuInstanceProfileInfoV(nvmlDevice_t device, unsigned profile, struct gi_profile_info_v2 *info);
int nvmlDeviceGetGpuInstanceProfileInfoV(nvmlDevice_t device, unsigned profile, struct gi_profile_info_v2 *info)
{
	struct gi_profile_info v1;
	int k;

	if (has(gpu_of(device), "no_profile_info_v"))
		return NVML_ERROR_FUNCTION_NOT_FOUND;
	if (info->version != GI_PROFILE_INFO_V2)
		return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
	if ((k = nvmlDeviceGetGpuInstanceProfileInfo(device, profile, &v1)) != NVML_SUCCESS)
		return k;
	info->id = v1.id;
	info->slice_count = v1.slice_count;
	info->instance_count = v1.instance_count;
	info->memory_size_mb = v1.memory_size_mb;
	snprintf(info->name, sizeof(info->name), "MIG %s", gi_profiles[gi_profile_of(profile)].name);
	return NVML_SUCCESS;
}

/* The gi list as words; destroyed instances are "-" until the next create. */
static int gi_read(int gpu, char words[8][32])
{
	char v[256], *save = NULL;
	int n = 0;

	if (stub_get(gpu, "gi", v, sizeof(v)) < 0)
		return 0;
	for (char *w = strtok_r(v, ",", &save); w && n < 8; w = strtok_r(NULL, ",", &save))
		snprintf(words[n++], 32, "%s", w);
	return n;
}

static void gi_write(int gpu, char words[8][32], int n)
{
	char v[256] = "";

	for (int i = 0; i < n; i++)
		snprintf(v + strlen(v), sizeof(v) - strlen(v), "%s%s", *v ? "," : "", words[i]);
	stub_set(gpu, "gi", v);
}

int nvmlDeviceGetGpuInstances(nvmlDevice_t device, unsigned profile, void **instances, unsigned *count);
int nvmlDeviceGetGpuInstances(nvmlDevice_t device, unsigned profile, void **instances, unsigned *count)
{
	int gpu = gpu_of(device), p = gi_profile_of(profile), n;
	char words[8][32];

	if (p < 0)
		return NVML_ERROR_INVALID_ARGUMENT;
	n = gi_read(gpu, words);
	*count = 0;
	for (int i = 0; i < n; i++)
		if (strcmp(words[i], gi_profiles[p].name) == 0)
			instances[(*count)++] = gi_handle(gpu, i);
	return NVML_SUCCESS;
}

static unsigned slices_of(const char *name)
{
	for (size_t i = 0; i < N_GI_PROFILES; i++)
		if (strcmp(gi_profiles[i].name, name) == 0)
			return gi_profiles[i].slices;
	return 1;
}

/* First-fit placement on the GPU's seven slices, as NVML places an instance made without one:
 * an instance of n slices starts at a multiple of n rounded up to a power of two (a 4g or 7g
 * at slice 0 only, a 3g at 0 or 4). The instances in words (m of them) are placed again in
 * the order made, then one of slices: its start, or -1 where none is free. */
static int place(char words[8][32], int m, unsigned slices)
{
	unsigned used = 0;
	int start = -1;

	for (int i = 0; i <= m; i++) {
		unsigned n = i < m ? slices_of(words[i]) : slices, align = 1;

		while (align < n)
			align <<= 1;
		start = -1;
		for (unsigned at = 0; at + n <= 7 && start < 0; at += align)
			if (!(used & (((1u << n) - 1) << at)))
				start = (int)at;
		if (start < 0)
			return -1;
		used |= ((1u << n) - 1) << start;
	}
	return start;
}

int nvmlDeviceCreateGpuInstance(nvmlDevice_t device, unsigned profile, void **instance);
int nvmlDeviceCreateGpuInstance(nvmlDevice_t device, unsigned profile, void **instance)
{
	int gpu = gpu_of(device), p = gi_profile_of(profile), n, m = 0;
	char words[8][32];

	if (p < 0)
		return NVML_ERROR_INVALID_ARGUMENT;
	n = gi_read(gpu, words);
	for (int i = 0; i < n; i++)
		if (strcmp(words[i], "-") != 0)
			memmove(words[m++], words[i], 32);
	if (m == 8 || place(words, m, gi_profiles[p].slices) < 0)
		return NVML_ERROR_INSUFFICIENT_RESOURCES;
	snprintf(words[m], 32, "%s", gi_profiles[p].name);
	gi_write(gpu, words, m + 1);
	*instance = gi_handle(gpu, m);
	return NVML_SUCCESS;
}

int nvmlGpuInstanceDestroy(void *instance);
int nvmlGpuInstanceDestroy(void *instance)
{
	int gpu = (int)((uintptr_t)instance >> 16) - 1, slot = (int)((uintptr_t)instance & 0xffff) - 1, n;
	char words[8][32];

	n = gi_read(gpu, words);
	if (slot < 0 || slot >= n)
		return NVML_ERROR_INVALID_ARGUMENT;
	snprintf(words[slot], 32, "-");
	gi_write(gpu, words, n);
	return NVML_SUCCESS;
}

int nvmlGpuInstanceGetComputeInstanceProfileInfo(void *instance, unsigned profile, unsigned engine, struct ci_profile_info *info);
int nvmlGpuInstanceGetComputeInstanceProfileInfo(void *instance, unsigned profile, unsigned engine, struct ci_profile_info *info)
{
	(void)instance, (void)engine;
	memset(info, 0, sizeof(*info));
	info->id = profile;
	info->instance_count = 1;
	return NVML_SUCCESS;
}

int nvmlGpuInstanceCreateComputeInstance(void *instance, unsigned profile, void **ci);
int nvmlGpuInstanceCreateComputeInstance(void *instance, unsigned profile, void **ci)
{
	(void)profile;
	if (has((int)((uintptr_t)instance >> 16) - 1, "ci_fail"))
		return NVML_ERROR_INSUFFICIENT_RESOURCES;
	*ci = instance;
	return NVML_SUCCESS;
}

/* One compute instance in each GPU instance, of profile 0; its handle is the GPU instance's. */
int nvmlGpuInstanceGetComputeInstances(void *instance, unsigned profile, void **cis, unsigned *count);
int nvmlGpuInstanceGetComputeInstances(void *instance, unsigned profile, void **cis, unsigned *count)
{
	*count = 0;
	if (profile == 0)
		cis[(*count)++] = instance;
	return NVML_SUCCESS;
}

int nvmlComputeInstanceDestroy(void *ci);
int nvmlComputeInstanceDestroy(void *ci)
{
	int gpu = (int)((uintptr_t)ci >> 16) - 1;
	unsigned n = 0;

	stub_get_uint(gpu, "ci_destroyed", &n);
	stub_set_ull(gpu, "ci_destroyed", n + 1);
	return NVML_SUCCESS;
}
