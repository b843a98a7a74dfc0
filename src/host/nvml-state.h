/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "host/nvml.h"

/*
 * The GPU settings gpuprov declares ("gpu" in the profile), read and set through NVML. Every
 * function returns NVML's code (NVML_OK, NVML_E_NOT_SUPPORTED where the library lacks the
 * entry point). Entry points and types: nvml.h as NVIDIA ships it with the driver and in the
 * CUDA toolkit (docs.nvidia.com/deploy/nvml-api).
 */

/* nvmlComputeMode_t */
enum {
	NVML_COMPUTE_DEFAULT = 0,
	NVML_COMPUTE_PROHIBITED = 2,
	NVML_COMPUTE_EXCLUSIVE_PROCESS = 3,
};

/* Enabled/disabled pairs of current and pending settings (nvmlEnableState_t). */
int nvml_persistence_set(struct nvml *n, nvml_device_t dev, bool on);
int nvml_ecc_get(struct nvml *n, nvml_device_t dev, bool *ret_current, bool *ret_pending);
int nvml_ecc_set(struct nvml *n, nvml_device_t dev, bool on);
int nvml_mig_get(struct nvml *n, nvml_device_t dev, bool *ret_current, bool *ret_pending);
/* NVML_E_RESET_REQUIRED or a pending mode that differs from the current one: the mode takes
 * effect only after a GPU reset. */
int nvml_mig_set(struct nvml *n, nvml_device_t dev, bool on);
int nvml_compute_mode_set(struct nvml *n, nvml_device_t dev, unsigned mode);
/* Watts in NVML's milliwatts. */
int nvml_power_limit_get(struct nvml *n, nvml_device_t dev, unsigned *ret_mw);
int nvml_power_limits(struct nvml *n, nvml_device_t dev, unsigned *ret_min_mw, unsigned *ret_max_mw);
int nvml_power_limit_set(struct nvml *n, nvml_device_t dev, unsigned mw);
/* min == max == 0: reset to the driver's default clocks. */
int nvml_clocks_lock(struct nvml *n, nvml_device_t dev, unsigned min_mhz, unsigned max_mhz);
/* The product name ("NVIDIA H100 80GB HBM3"), "?" where NVML cannot say. */
void nvml_name(struct nvml *n, nvml_device_t dev, char name[static 96]);
/* Processes on the GPU, in any of its MIG instances: compute (nvmlDeviceGetComputeRunningProcesses_v3),
 * graphics and MPS where the driver counts them. Not NVML_OK: nobody can say none. */
int nvml_processes(struct nvml *n, nvml_device_t dev, unsigned *ret);

/* The GPU instances of a GPU in MIG mode, by nvidia-smi's profile names, sorted and joined
 * with commas ("3g.40gb,3g.40gb"; "" for none). */
int nvml_mig_layout(struct nvml *n, nvml_device_t dev, char **ret);
/* Destroys every GPU instance, then creates one per name of want (NULL-terminated), each with
 * one compute instance of the GPU instance's full size (what nvidia-smi mig -cgi NAME -C
 * does). ret_why: the name that has no profile on this GPU, or the step that failed. */
int nvml_mig_layout_set(struct nvml *n, nvml_device_t dev, char *const *want, char **ret_why);
/* The name nvidia-smi gives a GPU instance profile (mig_profile_name in nvml-state.c). */
int nvml_mig_profile_name(unsigned profile, unsigned slices, unsigned long long memory_mb, char buf[static 32]);
