/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A PCI function's uevent in sysfs (driver, class, ids), as detect's PCI scan reads it. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct detect_ctx ctx = fuzz_detect_ctx();

	fuzz_put("sys/bus/pci/devices/0000:1b:00.0/uevent", data, size);
	(void)pci_detect(&ctx);
	fuzz_detect_ctx_done(&ctx);
	return 0;
}
