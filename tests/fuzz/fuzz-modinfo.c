/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A kernel module's .modinfo (an ELF file, its signature appended or not), as detect reads
 * nvidia.ko's version and licence where libkmod cannot. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "fuzz.h"
#include "util/macro.h"

#define MODULE "lib/modules/6.8.0-49-generic/updates/dkms/nvidia.ko"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "version", "license", "vermagic", NULL };
	char *values[ELEMENTSOF(keys)] = {};
	_cleanup_close_ int fd = -EBADF;
	bool is_signed;

	fuzz_put(MODULE, data, size);
	if ((fd = root_open_regular(fuzz_root(), MODULE)) < 0)
		fuzz_die(MODULE, fd);
	(void)modinfo_read(fd, keys, values, &is_signed);
	for (size_t i = 0; i < ELEMENTSOF(values); i++)
		free(values[i]);
	/* The file is read mapped, and a read past its end within the last page goes unseen:
	 * the parser on the input's own bytes lets AddressSanitizer see every overread. */
	for (size_t i = 0; keys[i]; i++) {
		_cleanup_free_ char *v = NULL;

		(void)modinfo_parse_elf(data, size, keys[i], &v);
	}
	return 0;
}
