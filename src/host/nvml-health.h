/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "host/nvml.h"

/*
 * What verify's health gate reads of a GPU through NVML, one getter per question. Each
 * returns NVML's code (NVML_OK, NVML_E_NOT_SUPPORTED where the GPU, or the driver's library,
 * cannot answer) and writes its result only on NVML_OK. The entry points, their arguments
 * and the layouts are those of nvml.h as NVIDIA's NVML API Reference documents them
 * (docs.nvidia.com/deploy/nvml-api).
 */

/* nvmlDeviceGetRetiredPagesPendingStatus: pages retired (before Ampere) that take effect at
 * the next reboot or GPU reset. */
int nvml_retired_pages_pending(struct nvml *n, nvml_device_t dev, bool *ret);

/* nvmlDeviceGetRemappedRows (Ampere and later): rows of memory remapped for correctable and
 * uncorrectable errors, a remapping that waits for a GPU reset, and one that failed (the GPU
 * has no spare row left). */
struct nvml_remapped_rows {
	unsigned corrected, uncorrected;
	bool pending, failed;
};
int nvml_remapped_rows(struct nvml *n, nvml_device_t dev, struct nvml_remapped_rows *ret);

/* nvmlDeviceGetTotalEccErrors for uncorrected errors, volatile count: the errors since the
 * driver loaded, which the verify at boot reads as since boot. */
int nvml_ecc_uncorrected(struct nvml *n, nvml_device_t dev, unsigned long long *ret);

/* The PCIe link: its current generation and width, the highest generation and width the GPU
 * and the system together allow (nvmlDeviceGetMaxPcieLinkGeneration/Width), and the GPU's
 * own highest generation (nvmlDeviceGetGpuMaxPcieLinkGeneration, R510 and later). A member
 * NVML cannot give is 0 (no link has generation or width 0); the code is that of the widths,
 * without which there is nothing to compare. */
struct nvml_pcie_link {
	unsigned gen, gen_max, gen_gpu_max;
	unsigned width, width_max;
};
int nvml_pcie_link(struct nvml *n, nvml_device_t dev, struct nvml_pcie_link *ret);

/* NVML_NVLINK_MAX_LINKS in nvml.h: the most links a GPU has (Hopper's 18). */
#define NVML_NVLINK_MAX_LINKS 18
/* nvmlDeviceGetNvLinkState over the links the GPU has: how many (0 for a GPU without
 * NVLink), and a bit for each link (1 << index) that is not active. */
int nvml_nvlink_state(struct nvml *n, nvml_device_t dev, unsigned *ret_links, uint32_t *ret_down);

/* nvmlDeviceGetPersistenceMode. */
int nvml_persistence_mode(struct nvml *n, nvml_device_t dev, bool *ret);

/* Why the clocks are below their maximum, a mask of nvmlClocksEventReasons:
 * nvmlDeviceGetCurrentClocksEventReasons, else the older name of the same call that drivers
 * before it have (the R525 API reference knows only that one),
 * nvmlDeviceGetCurrentClocksThrottleReasons. */
int nvml_clocks_event_reasons(struct nvml *n, nvml_device_t dev, unsigned long long *ret);

/* nvmlDeviceGetTemperature of the GPU die (NVML_TEMPERATURE_GPU), degrees C. */
int nvml_temperature(struct nvml *n, nvml_device_t dev, unsigned *ret);
