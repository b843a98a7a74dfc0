/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The driver's Xid lines through xid_parse: the number and the GPU's address read from the
 * forms the driver logs, a line of no Xid passed over, and what only looks like an Xid
 * refused; and which numbers xid_hardware gives the GPU's hardware. */
#include "unit.h"

#include <errno.h>
#include <string.h>

#include "apply/verify.h"

static void test_parse(void **state)
{
	static const struct {
		const char *line, *pci;
		unsigned xid;
	} cases[] = {
		{ "4,1300,9000000,-;NVRM: Xid (PCI:0000:18:00): 79, pid=1234, GPU has fallen off the bus.",
		  "0000:18:00", 79 },
		{ "NVRM: Xid (PCI:0000:5d:00): 48, pid=77, DBE", "0000:5d:00", 48 },
		{ "[  12.5] NVRM: Xid (PCI:0000:AB:00): 94, pid='<unknown>', name=<unknown>, Contained",
		  "0000:AB:00", 94 },
		/* An address with the PCI function, should a driver write one. */
		{ "NVRM: Xid (PCI:0000:18:00.0): 13, Graphics Exception", "0000:18:00.0", 13 },
		{ "NVRM: Xid (PCI:0000:18:00): 119", "0000:18:00", 119 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char pci[32] = "";
		unsigned xid = 0;

		assert_int_equal(xid_parse(cases[i].line, &xid, pci), 0);
		assert_int_equal(xid, cases[i].xid);
		assert_string_equal(pci, cases[i].pci);
	}
}

static void test_not_xid(void **state)
{
	char pci[32];
	unsigned xid;

	(void)state;
	assert_int_equal(xid_parse("6,1202,5000100,-;NVRM: loading NVIDIA UNIX Open Kernel Module", &xid, pci),
			 -ENOENT);
	assert_int_equal(xid_parse("", &xid, pci), -ENOENT);
	assert_int_equal(xid_parse("nvidia-nvswitch0: SXid (PCI:0000:c2:00.0): 20034, Fatal", &xid, pci), -ENOENT);
}

static void test_bad(void **state)
{
	static const char *const lines[] = {
		"NVRM: Xid (PCI:0000:18:00): , pid=1",
		"NVRM: Xid (PCI:0000:18:00): abc",
		"NVRM: Xid (PCI:0000:18:00): 79x",
		"NVRM: Xid (PCI:0000:18:00): -79",
		"NVRM: Xid (PCI:0000:18:00): 99999999999999999999",
		"NVRM: Xid (PCI:0000:18:00): 65536",
		"NVRM: Xid (PCI:): 79",
		"NVRM: Xid (PCI:0000:18:00 79",
		"NVRM: Xid (PCI:00\"00:18:00): 79",
		"NVRM: Xid (PCI:0000:18:00:0000:18:00:0000:18:00:0000:18:00): 79",
		"NVRM: Xid 79",
		"NVRM: Xid (PCI:0000:18:00):79",
	};
	char pci[32] = "untouched";
	unsigned xid = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_int_equal(xid_parse(lines[i], &xid, pci), -EBADMSG);
		assert_int_equal(xid, 7);
		assert_string_equal(pci, "untouched");
	}
}

static void test_hardware(void **state)
{
	static const unsigned hardware[] = { 48, 63, 64, 74, 79, 92, 94, 95 };
	static const unsigned stack[] = { 0, 13, 31, 32, 43, 45, 61, 62, 68, 69, 119, 120, 65535 };

	(void)state;
	for (size_t i = 0; i < sizeof(hardware) / sizeof(hardware[0]); i++)
		assert_true(xid_hardware(hardware[i]));
	for (size_t i = 0; i < sizeof(stack) / sizeof(stack[0]); i++)
		assert_false(xid_hardware(stack[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_not_xid),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_hardware),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
