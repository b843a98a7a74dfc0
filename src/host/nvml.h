/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "util/macro.h"

/*
 * NVML, NVIDIA's management library, loaded at run time: libnvidia-ml.so.1 comes with the
 * driver, and a node without a driver must still run gpuprov, so nothing links against it.
 * Entry points are looked up by name; one the installed driver's library lacks is NULL, and
 * the caller reports the check as not supported by that driver rather than failing.
 *
 * The return codes are NVML's own (nvmlReturn_t); the few gpuprov acts on: */
enum {
	NVML_OK = 0,		 /* NVML_SUCCESS */
	NVML_E_NOT_SUPPORTED = 3, /* the device or driver does not have the feature */
	NVML_E_NO_PERMISSION = 4,
	NVML_E_NOT_FOUND = 6,
	NVML_E_GPU_IS_LOST = 15, /* the GPU fell off the bus or is otherwise inaccessible */
	NVML_E_RESET_REQUIRED = 16, /* a setting takes effect only after a GPU reset */
};

struct nvml;
/* An NVML device handle (nvmlDevice_t): opaque, valid until nvml_close. */
typedef void *nvml_device_t;

/* dlopen and nvmlInit_v2. -ENOENT: no library (ret_why says why); -EIO: it would not
 * initialise (ret_why carries NVML's words and code, "Driver Not Loaded (9)"). */
int nvml_open(struct nvml **ret, char **ret_why);
/* nvmlShutdown and dlclose; NULL is fine. */
struct nvml *nvml_close(struct nvml *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nvml *, nvml_close)
/* The entry point name of the loaded library, or NULL. */
void *nvml_sym(struct nvml *n, const char *name);
/* NVML's text for a return code ("Not Supported"). */
const char *nvml_strerror(struct nvml *n, int code);

/* nvml_open, then nvmlDeviceGetCount_v2: what every user of the GPUs starts with. -ENOENT
 * and -EIO as nvml_open, a failed count -EIO too; ret_why says why, in NVML's words and code. */
int nvml_open_count(struct nvml **ret, unsigned *ret_count, char **ret_why);
/* nvmlDeviceGetCount_v2 and nvmlDeviceGetHandleByIndex_v2: NVML codes. */
int nvml_count(struct nvml *n, unsigned *ret);
int nvml_device(struct nvml *n, unsigned index, nvml_device_t *ret);
/* The GPU as an operator finds it: its PCI bus id as the kernel writes it ("0000:18:00.0")
 * and its board serial; "?" where NVML cannot say. Never fails. */
void nvml_identity(struct nvml *n, nvml_device_t dev, char bus[static 32], char serial[static 32]);

/* The many NVML getters of the form nvmlReturn_t fn(nvmlDevice_t, unsigned int *) (an enum
 * is an unsigned int there): nvmlDeviceGetPersistenceMode, nvmlDeviceGetComputeMode,
 * nvmlDeviceGetPowerManagementLimit, nvmlDeviceGetCurrPcieLinkWidth... NVML's code;
 * NVML_E_NOT_SUPPORTED where the library lacks fn. */
int nvml_dev_uint(struct nvml *n, const char *fn, nvml_device_t dev, unsigned *ret);
