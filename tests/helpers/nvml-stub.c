/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A stand-in for NVIDIA's libnvidia-ml.so.1 for the tests of verify, which cannot have a GPU:
 * the four entry points verify calls, answering from the environment.
 *   GPUPROV_TEST_NVML_INIT   what nvmlInit_v2 returns (default 0, NVML_SUCCESS)
 *   GPUPROV_TEST_NVML_COUNT  the number of GPUs nvmlDeviceGetCount_v2 reports (default 0)
 */
#include <stdlib.h>

int nvmlInit_v2(void);
int nvmlDeviceGetCount_v2(unsigned *count);
int nvmlShutdown(void);
const char *nvmlErrorString(int result);

int nvmlInit_v2(void)
{
	const char *v = getenv("GPUPROV_TEST_NVML_INIT");

	return v ? atoi(v) : 0;
}

int nvmlDeviceGetCount_v2(unsigned *count)
{
	const char *v = getenv("GPUPROV_TEST_NVML_COUNT");

	*count = v ? (unsigned)atoi(v) : 0;
	return 0;
}

int nvmlShutdown(void)
{
	return 0;
}

const char *nvmlErrorString(int result)
{
	/* NVML's own words for the codes the tests use. */
	return result == 9 ? "Driver Not Loaded" : result == 0 ? "Success" : "Unknown Error";
}
