/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A module directory's modules.dep, as detect reads it to find nvidia.ko without libkmod
 * (moddep.c): one input is the file, asked for two names, one with a '_' that depmod's
 * '-' matches. */
#include <stdlib.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "nvidia", "nvidia_uvm" };

	fuzz_put("lib/modules/6.8.0-49-generic/modules.dep", data, size);
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		_cleanup_free_ char *path = NULL;

		(void)moddep_find(fuzz_root(), "lib/modules/6.8.0-49-generic", names[i], &path);
	}
	return 0;
}
