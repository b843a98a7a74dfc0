/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NVML loaded at run time: the handle, the lookup, the GPUs' identity. */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/nvml.h"

struct nvml {
	void *lib;
	const char *(*errstr)(int);
};

/* nvmlPciInfo_t as nvml.h lays it out since the _v3 entry point (driver 450 and later). */
struct nvml_pci_info {
	char bus_id_legacy[16];
	unsigned domain, bus, device, pci_device_id, pci_subsystem_id;
	char bus_id[32];
};

int nvml_open(struct nvml **ret, char **ret_why)
{
	struct nvml *n = calloc(1, sizeof(*n));
	int (*init)(void);
	int r;

	*ret_why = NULL;
	if (!n)
		return -ENOMEM;
	if (!(n->lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL))) {
		r = asprintf(ret_why, "libnvidia-ml.so.1 cannot be loaded: %s", dlerror());
		free(n);
		return r < 0 ? -ENOMEM : -ENOENT;
	}
	n->errstr = (const char *(*)(int))dlsym(n->lib, "nvmlErrorString");
	init = (int (*)(void))dlsym(n->lib, "nvmlInit_v2");
	if (!init || !dlsym(n->lib, "nvmlShutdown") || !dlsym(n->lib, "nvmlDeviceGetCount_v2")) {
		dlclose(n->lib);
		free(n);
		return asprintf(ret_why, "libnvidia-ml.so.1 lacks nvmlInit_v2/nvmlDeviceGetCount_v2") < 0 ? -ENOMEM : -ENOENT;
	}
	if ((r = init()) != NVML_OK) {
		if (asprintf(ret_why, "NVML: %s (%d)", nvml_strerror(n, r), r) < 0)
			*ret_why = NULL;
		dlclose(n->lib);
		free(n);
		return *ret_why ? -EIO : -ENOMEM;
	}
	*ret = n;
	return 0;
}

struct nvml *nvml_close(struct nvml *n)
{
	if (!n)
		return NULL;
	((int (*)(void))dlsym(n->lib, "nvmlShutdown"))();
	dlclose(n->lib);
	free(n);
	return NULL;
}

void *nvml_sym(struct nvml *n, const char *name)
{
	return dlsym(n->lib, name);
}

const char *nvml_strerror(struct nvml *n, int code)
{
	const char *s = n && n->errstr ? n->errstr(code) : NULL;

	return s ? s : "error";
}

int nvml_open_count(struct nvml **ret, unsigned *ret_count, char **ret_why)
{
	struct nvml *n = NULL;
	int k = nvml_open(&n, ret_why);

	*ret_count = 0;
	if (k < 0)
		return k;
	if ((k = nvml_count(n, ret_count)) != NVML_OK) {
		k = asprintf(ret_why, "NVML: %s (%d)", nvml_strerror(n, k), k) < 0 ? -ENOMEM : -EIO;
		if (k == -ENOMEM)
			*ret_why = NULL;
		nvml_close(n);
		return k;
	}
	*ret = n;
	return 0;
}

int nvml_count(struct nvml *n, unsigned *ret)
{
	*ret = 0;
	return ((int (*)(unsigned *))nvml_sym(n, "nvmlDeviceGetCount_v2"))(ret);
}

int nvml_device(struct nvml *n, unsigned index, nvml_device_t *ret)
{
	int (*get)(unsigned, nvml_device_t *) = (int (*)(unsigned, nvml_device_t *))nvml_sym(n, "nvmlDeviceGetHandleByIndex_v2");

	*ret = NULL;
	return get ? get(index, ret) : NVML_E_NOT_SUPPORTED;
}

void nvml_identity(struct nvml *n, nvml_device_t dev, char bus[static 32], char serial[static 32])
{
	int (*pci)(nvml_device_t, struct nvml_pci_info *) =
		(int (*)(nvml_device_t, struct nvml_pci_info *))nvml_sym(n, "nvmlDeviceGetPciInfo_v3");
	int (*ser)(nvml_device_t, char *, unsigned) = (int (*)(nvml_device_t, char *, unsigned))nvml_sym(n, "nvmlDeviceGetSerial");
	struct nvml_pci_info info = {};

	snprintf(bus, 32, "?");
	snprintf(serial, 32, "?");
	if (pci && pci(dev, &info) == NVML_OK && memchr(info.bus_id, '\0', sizeof(info.bus_id))) {
		/* As the kernel, lspci -D and the driver's Xid lines write it: NVML's has an
		 * 8-digit domain and capitals ("00000000:18:00.0"), which an operator would not
		 * find in sysfs. */
		const char *b = info.bus_id;

		if (strlen(b) == 16 && b[8] == ':' && strncmp(b, "0000", 4) == 0)
			b += 4;
		snprintf(bus, 32, "%s", b);
		for (char *c = bus; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	/* NVML_DEVICE_SERIAL_BUFFER_SIZE is 30 */
	if (ser && ser(dev, serial, 30) != NVML_OK)
		snprintf(serial, 32, "?");
	serial[31] = '\0';
}

int nvml_dev_uint(struct nvml *n, const char *fn, nvml_device_t dev, unsigned *ret)
{
	int (*get)(nvml_device_t, unsigned *) = (int (*)(nvml_device_t, unsigned *))nvml_sym(n, fn);

	*ret = 0;
	return get ? get(dev, ret) : NVML_E_NOT_SUPPORTED;
}
