/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The NVML getters of verify's health gate, typed (nvml-health.h). */
#include "host/nvml-health.h"

/* nvmlReturn_t's NVML_ERROR_INVALID_ARGUMENT: nvmlDeviceGetNvLinkState's answer for a link
 * index the GPU does not have. */
#define NVML_E_INVALID_ARGUMENT 2

/* nvmlMemoryErrorType_t, nvmlEccCounterType_t, nvmlTemperatureSensors_t */
#define NVML_MEMORY_ERROR_TYPE_UNCORRECTED 1
#define NVML_VOLATILE_ECC 0
#define NVML_TEMPERATURE_GPU 0

int nvml_retired_pages_pending(struct nvml *n, nvml_device_t dev, bool *ret)
{
	unsigned v;
	int k = nvml_dev_uint(n, "nvmlDeviceGetRetiredPagesPendingStatus", dev, &v);

	if (k == NVML_OK)
		*ret = v != 0;
	return k;
}

int nvml_remapped_rows(struct nvml *n, nvml_device_t dev, struct nvml_remapped_rows *ret)
{
	int (*get)(nvml_device_t, unsigned *, unsigned *, unsigned *, unsigned *) =
		(int (*)(nvml_device_t, unsigned *, unsigned *, unsigned *, unsigned *))nvml_sym(n, "nvmlDeviceGetRemappedRows");
	unsigned corr = 0, unc = 0, pending = 0, failed = 0;
	int k;

	if (!get)
		return NVML_E_NOT_SUPPORTED;
	if ((k = get(dev, &corr, &unc, &pending, &failed)) == NVML_OK)
		*ret = (struct nvml_remapped_rows){ .corrected = corr, .uncorrected = unc, .pending = pending != 0,
						    .failed = failed != 0 };
	return k;
}

int nvml_ecc_uncorrected(struct nvml *n, nvml_device_t dev, unsigned long long *ret)
{
	int (*get)(nvml_device_t, unsigned, unsigned, unsigned long long *) =
		(int (*)(nvml_device_t, unsigned, unsigned, unsigned long long *))nvml_sym(n, "nvmlDeviceGetTotalEccErrors");
	unsigned long long v = 0;
	int k;

	if (!get)
		return NVML_E_NOT_SUPPORTED;
	if ((k = get(dev, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC, &v)) == NVML_OK)
		*ret = v;
	return k;
}

/* One member of the link: 0 where NVML cannot say. */
static unsigned link_uint(struct nvml *n, const char *fn, nvml_device_t dev, int *ret_code)
{
	unsigned v;

	*ret_code = nvml_dev_uint(n, fn, dev, &v);
	return *ret_code == NVML_OK ? v : 0;
}

int nvml_pcie_link(struct nvml *n, nvml_device_t dev, struct nvml_pcie_link *ret)
{
	struct nvml_pcie_link l;
	int k, unused;

	l.gen = link_uint(n, "nvmlDeviceGetCurrPcieLinkGeneration", dev, &unused);
	l.gen_max = link_uint(n, "nvmlDeviceGetMaxPcieLinkGeneration", dev, &unused);
	l.gen_gpu_max = link_uint(n, "nvmlDeviceGetGpuMaxPcieLinkGeneration", dev, &unused);
	l.width_max = link_uint(n, "nvmlDeviceGetMaxPcieLinkWidth", dev, &k);
	if (k != NVML_OK)
		return k;
	l.width = link_uint(n, "nvmlDeviceGetCurrPcieLinkWidth", dev, &k);
	if (k == NVML_OK)
		*ret = l;
	return k;
}

int nvml_nvlink_state(struct nvml *n, nvml_device_t dev, unsigned *ret_links, uint32_t *ret_down)
{
	int (*get)(nvml_device_t, unsigned, unsigned *) =
		(int (*)(nvml_device_t, unsigned, unsigned *))nvml_sym(n, "nvmlDeviceGetNvLinkState");
	unsigned links = 0;
	uint32_t down = 0;

	if (!get)
		return NVML_E_NOT_SUPPORTED;
	for (unsigned i = 0; i < NVML_NVLINK_MAX_LINKS; i++) {
		unsigned active = 0;
		int k = get(dev, i, &active);

		/* A link the GPU does not have: NVML says the index is invalid, or not supported. */
		if (k == NVML_E_NOT_SUPPORTED || k == NVML_E_INVALID_ARGUMENT)
			continue;
		if (k != NVML_OK)
			return k;
		links++;
		if (!active)
			down |= UINT32_C(1) << i;
	}
	*ret_links = links;
	*ret_down = down;
	return NVML_OK;
}

int nvml_persistence_mode(struct nvml *n, nvml_device_t dev, bool *ret)
{
	unsigned v;
	int k = nvml_dev_uint(n, "nvmlDeviceGetPersistenceMode", dev, &v);

	if (k == NVML_OK)
		*ret = v != 0;
	return k;
}

int nvml_clocks_event_reasons(struct nvml *n, nvml_device_t dev, unsigned long long *ret)
{
	int (*get)(nvml_device_t, unsigned long long *) =
		(int (*)(nvml_device_t, unsigned long long *))nvml_sym(n, "nvmlDeviceGetCurrentClocksEventReasons");
	unsigned long long v = 0;
	int k;

	if (!get)
		get = (int (*)(nvml_device_t, unsigned long long *))nvml_sym(n, "nvmlDeviceGetCurrentClocksThrottleReasons");
	if (!get)
		return NVML_E_NOT_SUPPORTED;
	if ((k = get(dev, &v)) == NVML_OK)
		*ret = v;
	return k;
}

int nvml_temperature(struct nvml *n, nvml_device_t dev, unsigned *ret)
{
	int (*get)(nvml_device_t, unsigned, unsigned *) =
		(int (*)(nvml_device_t, unsigned, unsigned *))nvml_sym(n, "nvmlDeviceGetTemperature");
	unsigned v = 0;
	int k;

	if (!get)
		return NVML_E_NOT_SUPPORTED;
	if ((k = get(dev, NVML_TEMPERATURE_GPU, &v)) == NVML_OK)
		*ret = v;
	return k;
}
