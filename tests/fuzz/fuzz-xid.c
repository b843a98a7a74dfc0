/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A kernel log line as verify's Xid checks read it: any bytes a process could write to
 * /dev/kmsg. */
#include <stdlib.h>
#include <string.h>

#include "apply/verify.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1), pci[32];
	unsigned xid = 0;

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (xid_parse(line, &xid, pci) == 0 && (strlen(pci) == 0 || strlen(pci) >= sizeof(pci) || xid > 0xffff))
		abort();
	(void)xid_hardware(xid);
	free(line);
	return 0;
}
