/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Part of the NVML stand-in (nvml-stub.c, which includes this file): the getters of the health
 * gate's checks (verify). Each answers from its gpuN.KEY; a key missing is
 * NVML_ERROR_NOT_SUPPORTED, a value "!CODE" NVML's error CODE. */

#define NVML_NVLINK_MAX_LINKS 18

/* A key's number; a value "!CODE" makes the getter fail with NVML's CODE, as a GPU that stopped
 * answering does. */
static int health_get_ull(int gpu, const char *name, unsigned long long *ret)
{
	char v[128];

	if (stub_get(gpu, name, v, sizeof(v)) < 0)
		return NVML_ERROR_NOT_SUPPORTED;
	if (*v == '!')
		return atoi(v + 1);
	*ret = strtoull(v, NULL, 0);
	return NVML_SUCCESS;
}

static int health_get_uint(int gpu, const char *name, unsigned *ret)
{
	unsigned long long v = 0;
	int r = health_get_ull(gpu, name, &v);

	if (r == NVML_SUCCESS)
		*ret = (unsigned)v;
	return r;
}

int nvmlDeviceGetRetiredPagesPendingStatus(nvmlDevice_t device, unsigned *isPending);
int nvmlDeviceGetRemappedRows(nvmlDevice_t device, unsigned *corrRows, unsigned *uncRows, unsigned *isPending,
			      unsigned *failureOccurred);
int nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, unsigned errorType, unsigned counterType,
				unsigned long long *eccCounts);
int nvmlDeviceGetCurrPcieLinkGeneration(nvmlDevice_t device, unsigned *currLinkGen);
int nvmlDeviceGetMaxPcieLinkGeneration(nvmlDevice_t device, unsigned *maxLinkGen);
int nvmlDeviceGetGpuMaxPcieLinkGeneration(nvmlDevice_t device, unsigned *maxLinkGenDevice);
int nvmlDeviceGetCurrPcieLinkWidth(nvmlDevice_t device, unsigned *currLinkWidth);
int nvmlDeviceGetMaxPcieLinkWidth(nvmlDevice_t device, unsigned *maxLinkWidth);
int nvmlDeviceGetNvLinkState(nvmlDevice_t device, unsigned link, unsigned *isActive);
int nvmlDeviceGetPersistenceMode(nvmlDevice_t device, unsigned *mode);
/* Built with NVML_STUB_THROTTLE_REASONS, the library of a driver before the clock event
 * reasons were named so: the same call under its older name only. */
#ifdef NVML_STUB_THROTTLE_REASONS
#define nvmlDeviceGetCurrentClocksEventReasons nvmlDeviceGetCurrentClocksThrottleReasons
#endif
int nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device, unsigned long long *clocksEventReasons);
int nvmlDeviceGetTemperature(nvmlDevice_t device, unsigned sensorType, unsigned *temp);

/* gpuN.retired_pending (0/1) */
int nvmlDeviceGetRetiredPagesPendingStatus(nvmlDevice_t device, unsigned *isPending)
{
	return health_get_uint(gpu_of(device), "retired_pending", isPending);
}

/* gpuN.remap_pending, remap_corr, remap_unc, remap_failed: remap_pending says whether the GPU
 * answers at all (Ampere and later) */
int nvmlDeviceGetRemappedRows(nvmlDevice_t device, unsigned *corrRows, unsigned *uncRows, unsigned *isPending,
			      unsigned *failureOccurred)
{
	int gpu = gpu_of(device), r = health_get_uint(gpu, "remap_pending", isPending);

	if (r != NVML_SUCCESS)
		return r;
	*corrRows = *uncRows = *failureOccurred = 0;
	health_get_uint(gpu, "remap_corr", corrRows);
	health_get_uint(gpu, "remap_unc", uncRows);
	health_get_uint(gpu, "remap_failed", failureOccurred);
	return NVML_SUCCESS;
}

/* gpuN.ecc_uncorrected: the volatile count of uncorrected errors; the others are not played */
int nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, unsigned errorType, unsigned counterType,
				unsigned long long *eccCounts)
{
	/* NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC */
	if (errorType != 1 || counterType != 0)
		return NVML_ERROR_NOT_SUPPORTED;
	return health_get_ull(gpu_of(device), "ecc_uncorrected", eccCounts);
}

/* gpuN.pcie_gen, pcie_gen_max, pcie_gen_gpu_max, pcie_width, pcie_width_max */
int nvmlDeviceGetCurrPcieLinkGeneration(nvmlDevice_t device, unsigned *currLinkGen)
{
	return health_get_uint(gpu_of(device), "pcie_gen", currLinkGen);
}

int nvmlDeviceGetMaxPcieLinkGeneration(nvmlDevice_t device, unsigned *maxLinkGen)
{
	return health_get_uint(gpu_of(device), "pcie_gen_max", maxLinkGen);
}

int nvmlDeviceGetGpuMaxPcieLinkGeneration(nvmlDevice_t device, unsigned *maxLinkGenDevice)
{
	return health_get_uint(gpu_of(device), "pcie_gen_gpu_max", maxLinkGenDevice);
}

int nvmlDeviceGetCurrPcieLinkWidth(nvmlDevice_t device, unsigned *currLinkWidth)
{
	return health_get_uint(gpu_of(device), "pcie_width", currLinkWidth);
}

int nvmlDeviceGetMaxPcieLinkWidth(nvmlDevice_t device, unsigned *maxLinkWidth)
{
	return health_get_uint(gpu_of(device), "pcie_width_max", maxLinkWidth);
}

/* gpuN.nvlink: the links the GPU has (0 to nvlink-1); gpuN.nvlink_down: a comma list of those
 * down. As NVML: a link the GPU does not have is an invalid argument; without the key, the GPU
 * has no NVLink (not supported). */
int nvmlDeviceGetNvLinkState(nvmlDevice_t device, unsigned link, unsigned *isActive)
{
	int gpu = gpu_of(device);
	unsigned links = 0;
	char down[128] = "";
	int r = health_get_uint(gpu, "nvlink", &links);

	if (r != NVML_SUCCESS)
		return r;
	if (link >= links || link >= NVML_NVLINK_MAX_LINKS)
		return NVML_ERROR_INVALID_ARGUMENT;
	*isActive = 1;
	stub_get(gpu, "nvlink_down", down, sizeof(down));
	for (char *save = NULL, *l = strtok_r(down, ",", &save); l; l = strtok_r(NULL, ",", &save))
		if ((unsigned)atoi(l) == link)
			*isActive = 0;
	return NVML_SUCCESS;
}

/* gpuN.persistence (0/1); the setter is the declared state's */
int nvmlDeviceGetPersistenceMode(nvmlDevice_t device, unsigned *mode)
{
	return health_get_uint(gpu_of(device), "persistence", mode);
}

/* gpuN.throttle: the mask of nvmlClocksEventReasons ("0x41") */
int nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device, unsigned long long *clocksEventReasons)
{
	return health_get_ull(gpu_of(device), "throttle", clocksEventReasons);
}

/* gpuN.temperature, of the GPU die (NVML_TEMPERATURE_GPU) only */
int nvmlDeviceGetTemperature(nvmlDevice_t device, unsigned sensorType, unsigned *temp)
{
	if (sensorType != 0)
		return NVML_ERROR_NOT_SUPPORTED;
	return health_get_uint(gpu_of(device), "temperature", temp);
}
