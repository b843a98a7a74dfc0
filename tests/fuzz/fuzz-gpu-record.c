/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The record of the GPUs' state gpuprov gpu apply left in /run/gpuprov/gpu-state.json, which
 * anything with root may have written: each setting of a GPU looked up as verify and check
 * look it up. */
#include "fuzz.h"

#include <stdlib.h>

#include "apply/gpu-state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "persistence", "locked_clocks", "mig.layout", "power_limit_w" };
	char *v = NULL;

	fuzz_put(GPU_STATE_RECORD, data, size);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		(void)gpu_record_get(fuzz_root(), "00000000:18:00.0", keys[i], &v);
		free(v);
		v = NULL;
	}
	return 0;
}
