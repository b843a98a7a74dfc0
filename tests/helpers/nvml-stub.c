/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A stand-in for NVIDIA's libnvidia-ml.so.1 for the tests of verify, the GPUs' declared
 * state and check, which cannot have a GPU: NVML's entry points gpuprov calls, answering
 * from the environment and from a file that plays the GPUs.
 *   GPUPROV_TEST_NVML_INIT   what nvmlInit_v2 returns (default 0, NVML_SUCCESS)
 *   GPUPROV_TEST_NVML_COUNT  the number of GPUs nvmlDeviceGetCount_v2 reports (default 0)
 *   GPUPROV_TEST_NVML_FILE   the GPUs: lines "KEY=VALUE" for the whole machine ("count=8")
 *                            and "gpuN.KEY=VALUE" for GPU N ("gpu0.temperature=41"); a
 *                            setter writes its value back, so what one run of gpuprov set
 *                            the next reads. The keys are listed with the entry points
 *                            that read them; a key missing means NVML_ERROR_NOT_SUPPORTED.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NVML_SUCCESS 0
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3

typedef void *nvmlDevice_t;

#define MAX_LINES 512

/* The file's lines, read anew at each call: small, and the tests change it between runs. */
struct lines {
	char *line[MAX_LINES];
	int n;
};

static void lines_read(struct lines *l)
{
	const char *path = getenv("GPUPROV_TEST_NVML_FILE");
	char buf[512];
	FILE *f;

	l->n = 0;
	if (!path || !(f = fopen(path, "re")))
		return;
	while (l->n < MAX_LINES && fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (*buf)
			l->line[l->n++] = strdup(buf);
	}
	fclose(f);
}

static void lines_free(struct lines *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->line[i]);
	l->n = 0;
}

static void key_of(char *key, size_t size, int gpu, const char *name)
{
	if (gpu < 0)
		snprintf(key, size, "%s=", name);
	else
		snprintf(key, size, "gpu%d.%s=", gpu, name);
}

/* The value of name for GPU gpu (-1: the machine's), copied into out; 0 when found. */
static int stub_get(int gpu, const char *name, char *out, size_t size)
{
	struct lines l;
	char key[128];
	int found = -1;

	key_of(key, sizeof(key), gpu, name);
	lines_read(&l);
	for (int i = 0; i < l.n; i++)
		if (strncmp(l.line[i], key, strlen(key)) == 0) {
			snprintf(out, size, "%s", l.line[i] + strlen(key));
			found = 0;
		}
	lines_free(&l);
	return found;
}

/* A number, or NVML_ERROR_NOT_SUPPORTED when the file does not say. */
static int stub_get_ull(int gpu, const char *name, unsigned long long *ret)
{
	char v[128];

	if (stub_get(gpu, name, v, sizeof(v)) < 0)
		return NVML_ERROR_NOT_SUPPORTED;
	*ret = strtoull(v, NULL, 0);
	return NVML_SUCCESS;
}

__attribute__((unused)) static int stub_get_uint(int gpu, const char *name, unsigned *ret)
{
	unsigned long long v = 0;
	int r = stub_get_ull(gpu, name, &v);

	if (r == NVML_SUCCESS)
		*ret = (unsigned)v;
	return r;
}

/* Writes name=value for gpu, replacing the line that was there. */
static void stub_set(int gpu, const char *name, const char *value)
{
	const char *path = getenv("GPUPROV_TEST_NVML_FILE");
	struct lines l;
	char key[128], tmp[4096];
	FILE *f;

	if (!path)
		return;
	key_of(key, sizeof(key), gpu, name);
	lines_read(&l);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	if (!(f = fopen(tmp, "we"))) {
		lines_free(&l);
		return;
	}
	for (int i = 0; i < l.n; i++)
		if (strncmp(l.line[i], key, strlen(key)) != 0)
			fprintf(f, "%s\n", l.line[i]);
	fprintf(f, "%s%s\n", key, value);
	fclose(f);
	rename(tmp, path);
	lines_free(&l);
}

__attribute__((unused)) static void stub_set_ull(int gpu, const char *name, unsigned long long v)
{
	char s[32];

	snprintf(s, sizeof(s), "%llu", v);
	stub_set(gpu, name, s);
}

/* Handles are the GPU's index plus one, so that NULL is never one. */
static int gpu_of(nvmlDevice_t dev)
{
	return (int)(uintptr_t)dev - 1;
}

/* ---- the library ---------------------------------------------------------------------- */

int nvmlInit_v2(void);
int nvmlShutdown(void);
const char *nvmlErrorString(int result);
int nvmlDeviceGetCount_v2(unsigned *count);
int nvmlDeviceGetHandleByIndex_v2(unsigned index, nvmlDevice_t *device);
int nvmlDeviceGetSerial(nvmlDevice_t device, char *serial, unsigned length);

int nvmlInit_v2(void)
{
	const char *v = getenv("GPUPROV_TEST_NVML_INIT");

	return v ? atoi(v) : 0;
}

int nvmlShutdown(void)
{
	return 0;
}

const char *nvmlErrorString(int result)
{
	/* NVML's own words for the codes the tests use. */
	switch (result) {
	case 0: return "Success";
	case 2: return "Invalid Argument";
	case 3: return "Not Supported";
	case 4: return "Insufficient Permissions";
	case 9: return "Driver Not Loaded";
	case 15: return "GPU is lost";
	case 16: return "GPU requires restart";
	default: return "Unknown Error";
	}
}

/* count: the file's, else GPUPROV_TEST_NVML_COUNT */
int nvmlDeviceGetCount_v2(unsigned *count)
{
	const char *v = getenv("GPUPROV_TEST_NVML_COUNT");

	if (stub_get_uint(-1, "count", count) != NVML_SUCCESS)
		*count = v ? (unsigned)atoi(v) : 0;
	return NVML_SUCCESS;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned index, nvmlDevice_t *device)
{
	unsigned long long lost = 0;
	unsigned n = 0;

	nvmlDeviceGetCount_v2(&n);
	if (index >= n)
		return NVML_ERROR_INVALID_ARGUMENT;
	if (stub_get_ull((int)index, "lost", &lost) == NVML_SUCCESS && lost) /* gpuN.lost=1: NVML_ERROR_GPU_IS_LOST */
		return 15;
	*device = (nvmlDevice_t)(uintptr_t)(index + 1);
	return NVML_SUCCESS;
}

/* gpuN.serial */
int nvmlDeviceGetSerial(nvmlDevice_t device, char *serial, unsigned length)
{
	return stub_get(gpu_of(device), "serial", serial, length) < 0 ? NVML_ERROR_NOT_SUPPORTED : NVML_SUCCESS;
}

/* gpuN.bus: nvmlDeviceGetPciInfo_v3's busId */
struct pci_info {
	char bus_id_legacy[16];
	unsigned domain, bus, device, pci_device_id, pci_subsystem_id;
	char bus_id[32];
};
int nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, struct pci_info *pci);
int nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, struct pci_info *pci)
{
	memset(pci, 0, sizeof(*pci));
	return stub_get(gpu_of(device), "bus", pci->bus_id, sizeof(pci->bus_id)) < 0 ? NVML_ERROR_NOT_SUPPORTED : NVML_SUCCESS;
}

/* The health checks' getters (verify), and the declared state's getters and setters: one
 * translation unit, so that they share the file's helpers above. */
#include "nvml-stub-health.c"
#include "nvml-stub-state.c"
