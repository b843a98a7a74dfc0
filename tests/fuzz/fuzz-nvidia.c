/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What detect reads of the NVIDIA stack: /proc/modules, /proc/driver/nvidia/version, the
 * CUDA toolkits' version.json and version.txt, and dpkg's status for Fabric Manager's
 * version. One input is all of these files. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct detect_ctx ctx = fuzz_detect_ctx();

	fuzz_put("proc/modules", data, size);
	fuzz_put("proc/driver/nvidia/version", data, size);
	fuzz_put("usr/local/cuda-12.4/version.json", data, size);
	fuzz_put("usr/local/cuda-11.0/version.txt", data, size);
	fuzz_put("var/lib/dpkg/status", data, size);
	fuzz_put("usr/bin/nv-fabricmanager", "", 0);
	/* Fabric Manager's version is read from dpkg on the Debian family only. */
	ctx.facts->os.family = OS_FAMILY_DEBIAN;
	(void)nvidia_detect(&ctx);
	fuzz_detect_ctx_done(&ctx);
	return 0;
}
