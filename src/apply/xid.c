/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The driver's Xid reports in the kernel log, as verify's "xid" and "xid-hardware" read them. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apply/verify.h"
#include "util/strutil.h"

#define XID_PREFIX "NVRM: Xid (PCI:"

int xid_parse(const char *line, unsigned *ret_xid, char ret_pci[static 32])
{
	const char *p = strstr(line, XID_PREFIX), *end;
	unsigned long x;
	char *e;

	if (!p)
		return strstr(line, "NVRM: Xid") ? -EBADMSG : -ENOENT;
	p += strlen(XID_PREFIX);
	/* The address is printed by the driver, but the log holds any text a process wrote to
	 * /dev/kmsg too: only hex digits, ':' and '.' are taken. */
	for (end = p; isxdigit((unsigned char)*end) || *end == ':' || *end == '.'; end++)
		if (end - p >= 31)
			return -EBADMSG;
	if (end == p || strncmp(end, "): ", 3) != 0 || !isdigit((unsigned char)end[3]))
		return -EBADMSG;
	errno = 0;
	x = strtoul(end + 3, &e, 10);
	if (errno != 0 || x > 0xffff || (*e && *e != ','))
		return -EBADMSG;
	memcpy(ret_pci, p, (size_t)(end - p));
	ret_pci[end - p] = '\0';
	*ret_xid = (unsigned)x;
	return 0;
}

/*
 * The Xids NVIDIA's "XID Errors" documentation (https://docs.nvidia.com/deploy/xid-errors/)
 * attributes to the GPU's hardware, its memory or its links, where the driver stack is not
 * what to look at: 48 a double bit ECC error (DBE); 63 and 64 a page retirement or row
 * remapping event, and its failure; 74 an NVLink error; 79 the GPU has fallen off the bus;
 * 92 a high single-bit ECC error rate; 94 and 95 a contained and an uncontained ECC error.
 * Every other Xid (an application's fault, a driver's, firmware's, or one the document leaves
 * open) counts as the stack's, as rolling the stack back is then what may help.
 */
static const unsigned hardware_xids[] = { 48, 63, 64, 74, 79, 92, 94, 95 };

bool xid_hardware(unsigned xid)
{
	for (size_t i = 0; i < ELEMENTSOF(hardware_xids); i++)
		if (hardware_xids[i] == xid)
			return true;
	return false;
}
