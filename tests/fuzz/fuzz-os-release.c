/* SPDX-License-Identifier: GPL-2.0-or-later */
/* os-release(5), as detect reads it from the target: etc/os-release, and usr/lib/os-release
 * when the first does not read. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct detect_ctx ctx = fuzz_detect_ctx();

	fuzz_put("etc/os-release", data, size);
	fuzz_put("usr/lib/os-release", data, size);
	(void)os_detect(&ctx);
	free(kernel_flavour("6.8.0-49-generic", ctx.facts->os.family));
	fuzz_detect_ctx_done(&ctx);
	return 0;
}
