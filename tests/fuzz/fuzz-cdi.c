/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The GPUs' CDI spec, which anything with root may have written, and what it is checked
 * against: /proc/devices and the driver's GPU information files. One input is all of these;
 * the spec is parsed, then held against the fake root's nodes and files as check and verify
 * hold it. */
#include "fuzz.h"

#include <stdlib.h>

#include "host/cdi.h"
#include "util/strutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char **problems = NULL, *read = NULL;

	fuzz_put("run/cdi/nvidia.json", data, size);
	fuzz_put("run/cdi/nvidia.yaml", data, size);
	fuzz_put("proc/devices", data, size);
	fuzz_put("proc/driver/nvidia/gpus/0000:17:00.0/information", data, size);
	(void)cdi_spec_audit(fuzz_root(), fuzz_root(), "/run/cdi", "550.54.15", &problems, &read);
	strv_free(problems);
	free(read);
	return 0;
}
