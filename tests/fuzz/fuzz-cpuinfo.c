/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/cpuinfo of x86_64 and arm64 (implementer and part named), as detect reads it from
 * the sysroot, then the CPU named from the platform. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct detect_ctx ctx = fuzz_detect_ctx();

	fuzz_put("proc/cpuinfo", data, size);
	(void)cpu_detect(&ctx);
	cpu_refine(&ctx);
	fuzz_detect_ctx_done(&ctx);
	return 0;
}
