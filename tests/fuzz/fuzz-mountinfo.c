/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/self/mountinfo, as detect reads it for the filesystems under /, /boot, GRUB's
 * environment block and the ESP, and gpuprov's block on the ESP found through it. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct detect_ctx ctx = fuzz_detect_ctx();

	fuzz_put("proc/self/mountinfo", data, size);
	if (!(ctx.facts->boot.grubenv = strdup("boot/grub/grubenv")))
		fuzz_die("strdup", -ENOMEM);
	(void)disk_detect(&ctx);
	(void)boot_detect_esp_env(&ctx);
	fuzz_detect_ctx_done(&ctx);
	return 0;
}
