/* SPDX-License-Identifier: GPL-2.0-or-later */
/* GRUB's environment block as found on a target: gpuprov's own writer setting the saved
 * and boot-once entries in it, then detect reading the block back. */
#include "boot/grubenv.h"
#include "fuzz.h"

#define BLOCK "boot/grub/grubenv"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *const assignments[] = { "saved_entry=gnulinux-advanced-1>gnulinux-6.8.0-49-generic-advanced-1",
				      "next_entry=", "gpuprov_once=a\\b\nc", NULL };
	struct detect_ctx ctx = fuzz_detect_ctx();

	fuzz_put(BLOCK, data, size);
	(void)grubenv_set(fuzz_root(), BLOCK, assignments);
	(void)boot_detect(&ctx);
	fuzz_detect_ctx_done(&ctx);
	return 0;
}
