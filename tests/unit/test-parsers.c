/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The parsers of detect, fed the text the kernel and the distributions write. */
#include "unit.h"

#include <errno.h>

#include "host/facts.h"
#include "util/errors.h"
#include "util/strutil.h"

static void parse_cpuinfo(const char *text, struct cpu_facts *c)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");

	assert_non_null(f);
	assert_int_equal(cpuinfo_parse(f, c), 0);
	fclose(f);
}

static void test_cpuinfo_x86(void **state)
{
	/* Two sockets, two cores each, two threads per core (a shrunken Xeon). */
	static const char text[] =
		"processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8480CL\n"
		"physical id\t: 0\ncore id\t\t: 0\nflags\t\t: fpu vme lm avx512f\n\n"
		"processor\t: 1\nphysical id\t: 0\ncore id\t\t: 1\n\n"
		"processor\t: 2\nphysical id\t: 1\ncore id\t\t: 0\n\n"
		"processor\t: 3\nphysical id\t: 1\ncore id\t\t: 1\n\n"
		"processor\t: 4\nphysical id\t: 0\ncore id\t\t: 0\n\n"
		"processor\t: 5\nphysical id\t: 0\ncore id\t\t: 1\n\n"
		"processor\t: 6\nphysical id\t: 1\ncore id\t\t: 0\n\n"
		"processor\t: 7\nphysical id\t: 1\ncore id\t\t: 1\n\n";
	struct cpu_facts c = {};

	parse_cpuinfo(text, &c);
	assert_string_equal(c.arch, "x86_64");
	assert_string_equal(c.vendor, "GenuineIntel");
	assert_string_equal(c.model, "Intel(R) Xeon(R) Platinum 8480CL");
	assert_int_equal(c.threads, 8);
	assert_int_equal(c.cores, 4);
	assert_int_equal(c.sockets, 2);
	assert_null(c.implementer);
	cpu_facts_clear(&c);
}

static void test_cpuinfo_arm64(void **state)
{
	static const char kunpeng[] =
		"processor\t: 0\nBogoMIPS\t: 200.00\nFeatures\t: fp asimd evtstrm aes\n"
		"CPU implementer\t: 0x48\nCPU architecture: 8\nCPU variant\t: 0x1\nCPU part\t: 0xd01\n"
		"CPU revision\t: 0\n\n"
		"processor\t: 1\nCPU implementer\t: 0x48\nCPU architecture: 8\nCPU part\t: 0xd01\n\n";
	static const char unknown[] = "processor\t: 0\nCPU implementer\t: 0x51\nCPU architecture: 8\n"
				      "CPU part\t: 0x801\n\n";
	struct cpu_facts c = {};

	parse_cpuinfo(kunpeng, &c);
	assert_string_equal(c.arch, "aarch64");
	assert_string_equal(c.vendor, "HiSilicon");
	assert_string_equal(c.model, "Kunpeng 920");
	assert_string_equal(c.implementer, "0x48");
	assert_string_equal(c.part, "0xd01");
	assert_int_equal(c.threads, 2);
	assert_int_equal(c.sockets, 0); /* arm64 cpuinfo has no topology */
	cpu_facts_clear(&c);

	/* An unknown core is named by nothing, not guessed. */
	parse_cpuinfo(unknown, &c);
	assert_string_equal(c.arch, "aarch64");
	assert_null(c.model);
	assert_string_equal(c.part, "0x801");
	cpu_facts_clear(&c);
}

static void test_cpuinfo_garbage(void **state)
{
	static const char text[] = "\x01\x02 no colon here\n:::\nprocessor : x\nflags : lmx\n";
	struct cpu_facts c = {};

	parse_cpuinfo(text, &c);
	assert_null(c.arch); /* "lmx" is not "lm" */
	assert_int_equal(c.threads, 1);
	cpu_facts_clear(&c);
}

static void test_arm_names(void **state)
{
	const char *vendor;

	assert_string_equal(arm_cpu_name(0x41, 0xd4f, &vendor), "Neoverse V2 (NVIDIA Grace or AWS Graviton4)");
	assert_string_equal(vendor, "ARM");
	assert_string_equal(arm_cpu_name(0xc0, 0xac3, &vendor), "AmpereOne");
	assert_string_equal(vendor, "Ampere");
	assert_null(arm_cpu_name(0x48, 0xfff, &vendor));
	assert_string_equal(vendor, "HiSilicon");
}

static void test_os_release(void **state)
{
	struct os_facts os = {};

	assert_int_equal(os_release_parse("NAME=\"openEuler\"\nVERSION=\"22.03 (LTS-SP3)\"\nID=\"openEuler\"\n"
					  "VERSION_ID=\"22.03\"\nPRETTY_NAME=\"openEuler 22.03 (LTS-SP3)\"\n",
					  &os),
			 0);
	assert_string_equal(os.id, "openeuler");
	assert_string_equal(os.version, "22.03 (LTS-SP3)");
	assert_int_equal(os.family, OS_FAMILY_OPENEULER);
	assert_string_equal(os_package_manager(os.family), "dnf");
	assert_int_equal(os_version_order(os.family), VERCMP_RPM);
	os_facts_clear(&os);

	assert_int_equal(os_release_parse("ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\n", &os), 0);
	assert_int_equal(os.family, OS_FAMILY_RHEL);
	assert_int_equal(os_version_order(os.family), VERCMP_RPM);
	os_facts_clear(&os);

	/* Known only through ID_LIKE; single quotes and escapes as the shell reads them. */
	assert_int_equal(os_release_parse("# comment\nID=pop\nID_LIKE='ubuntu debian'\nPRETTY_NAME=\"Pop\\\"OS\"\n", &os), 0);
	assert_int_equal(os.family, OS_FAMILY_DEBIAN);
	assert_string_equal(os.pretty_name, "Pop\"OS");
	assert_string_equal(os_family_to_string(os.family), "debian");
	assert_int_equal(os_version_order(os.family), VERCMP_DPKG);
	os_facts_clear(&os);

	assert_int_equal(os_release_parse("ID=kylin\nVERSION_ID=\"V10\"\nVERSION=\"V10 (Sword)\"\n", &os), 0);
	assert_int_equal(os.family, OS_FAMILY_KYLIN);
	assert_int_equal(os_version_order(os.family), VERCMP_RPM);
	os_facts_clear(&os);

	assert_int_equal(os_release_parse("NAME=nothing\n\x7f\x45LF", &os), -GPE_PARSE);
	os_facts_clear(&os);
	assert_int_equal(os_release_parse("ID=plan9\n", &os), 0);
	assert_int_equal(os.family, OS_FAMILY_UNKNOWN);
	assert_null(os_package_manager(os.family));
	os_facts_clear(&os);
}

static void test_pci(void **state)
{
	assert_int_equal(pci_classify(0x10de, 0x030200), PCI_KIND_GPU);
	assert_int_equal(pci_classify(0x10de, 0x030000), PCI_KIND_GPU);
	assert_int_equal(pci_classify(0x10de, 0x068000), PCI_KIND_NVSWITCH);
	assert_int_equal(pci_classify(0x15b3, 0x020700), PCI_KIND_HCA);
	assert_int_equal(pci_classify(0x15b3, 0x020000), PCI_KIND_HCA);
	/* A BMC's VGA (ASPEED) is a display controller but not a GPU. */
	assert_int_equal(pci_classify(0x1a03, 0x030000), PCI_KIND_OTHER);
	assert_int_equal(pci_classify(0x10de, 0x040300), PCI_KIND_OTHER); /* GPU's HDMI audio */
	assert_string_equal(pci_product_name(0x10de, 0x2330), "H100 SXM5 80GB");
	assert_string_equal(pci_product_name(0x10de, 0x27b8), "L4");
	assert_string_equal(pci_product_name(0x15b3, 0x1021), "ConnectX-7");
	assert_null(pci_product_name(0x10de, 0xffff));
}

static void test_pci_uevent(void **state)
{
	struct pci_dev d = {};

	assert_int_equal(pci_uevent_parse("DRIVER=nvidia\nPCI_CLASS=30200\nPCI_ID=10DE:2330\n"
					  "PCI_SUBSYS_ID=10DE:16C1\nPCI_SLOT_NAME=0000:18:00.0\n", &d), 0);
	assert_int_equal(d.vendor, 0x10de);
	assert_int_equal(d.device, 0x2330);
	assert_int_equal(d.class, 0x030200);
	assert_int_equal(d.subsystem_device, 0x16c1);
	assert_string_equal(d.driver, "nvidia");
	free(d.driver);

	/* No driver bound: no DRIVER line. Without PCI_ID or PCI_CLASS it is no answer. */
	memset(&d, 0, sizeof(d));
	assert_int_equal(pci_uevent_parse("PCI_CLASS=20700\nPCI_ID=15B3:1021\n", &d), 0);
	assert_null(d.driver);
	assert_int_equal(pci_uevent_parse("PCI_CLASS=20700\n", &d), -GPE_PARSE);
	assert_int_equal(pci_uevent_parse("PCI_ID=zz:1021\nPCI_CLASS=20700\n", &d), -GPE_PARSE);
	assert_int_equal(pci_uevent_parse("", &d), -GPE_PARSE);
}

static void test_proc_modules(void **state)
{
	char *name = NULL;

	assert_int_equal(proc_modules_parse_line("nvidia 54280192 106 nvidia_uvm,nvidia_modeset, Live 0x0 (POE)\n", &name), 0);
	assert_string_equal(name, "nvidia");
	free(name);
	assert_int_equal(proc_modules_parse_line("mlx5_core 2408448 1 mlx5_ib, Live 0xffffffffc0f00000\n", &name), 0);
	assert_string_equal(name, "mlx5_core");
	free(name);
	assert_int_equal(proc_modules_parse_line("\n", &name), -GPE_PARSE);
	assert_int_equal(proc_modules_parse_line("bad/name 1 0 - Live 0x0\n", &name), -GPE_PARSE);
	assert_int_equal(proc_modules_parse_line("lonely", &name), -GPE_PARSE);
}

static void test_efivar(void **state)
{
	static const unsigned char on[] = { 0x06, 0, 0, 0, 1 }, off[] = { 0x06, 0, 0, 0, 0 },
				   odd[] = { 0x06, 0, 0, 0, 7 };
	enum tristate t = TRI_UNKNOWN;

	assert_int_equal(efivar_parse_bool(on, sizeof(on), &t), 0);
	assert_int_equal(t, TRI_YES);
	assert_int_equal(efivar_parse_bool(off, sizeof(off), &t), 0);
	assert_int_equal(t, TRI_NO);
	assert_int_equal(efivar_parse_bool(odd, sizeof(odd), &t), -GPE_PARSE);
	assert_int_equal(efivar_parse_bool(on, 4, &t), -GPE_PARSE);
	assert_int_equal(efivar_parse_bool("", 0, &t), -GPE_PARSE);
}

static void expect_nvidia(const char *text, const char *version, const char *flavour)
{
	char *v = NULL, *fl = NULL;

	assert_int_equal(nvidia_version_parse(text, &v, &fl), 0);
	assert_string_equal(v, version);
	assert_string_equal(fl, flavour);
	free(v);
	free(fl);
}

static void test_nvidia_version(void **state)
{
	char *v = NULL, *fl = NULL;

	expect_nvidia("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.15  Release Build  "
		      "(dvs-builder@U16-I3-B03-4-3)  Tue Mar  5 22:15:33 UTC 2024\n"
		      "GCC version:  gcc version 12.3.0 (Ubuntu 12.3.0-1ubuntu1~22.04)\n",
		      "550.54.15", "open");
	expect_nvidia("NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.129.03  Thu Oct 19 18:56:32 UTC 2023\n",
		      "535.129.03", "proprietary");
	expect_nvidia("NVRM version: NVIDIA UNIX Open Kernel Module for aarch64  560.35.03  Release Build\n",
		      "560.35.03", "open");
	/* The GCC line's version is not the driver's. */
	assert_int_equal(nvidia_version_parse("NVRM version: garbage\nGCC version: 12.3.0\n", &v, &fl), -GPE_PARSE);
	assert_int_equal(nvidia_version_parse("", &v, &fl), -GPE_PARSE);
	assert_null(v);
}

static void test_kconfig(void **state)
{
	enum kconfig_option o;
	char v;

	assert_int_equal(kconfig_parse_line("CONFIG_IO_URING=y\n", &o, &v), 1);
	assert_int_equal(o, KCONFIG_IO_URING);
	assert_int_equal(v, 'y');
	assert_int_equal(kconfig_parse_line("# CONFIG_PREEMPT_RT is not set\n", &o, &v), 1);
	assert_int_equal(o, KCONFIG_PREEMPT_RT);
	assert_int_equal(v, 'n');
	assert_int_equal(kconfig_parse_line("CONFIG_HMM_MIRROR=m", &o, &v), 1);
	assert_int_equal(v, 'm');
	/* A longer name sharing the prefix is another option. */
	assert_int_equal(kconfig_parse_line("CONFIG_CGROUPS_EXTRA=y\n", &o, &v), 0);
	assert_int_equal(kconfig_parse_line("CONFIG_LOCALVERSION=\"\"\n", &o, &v), 0);
	assert_int_equal(kconfig_parse_line("# CONFIG_IO_URING is set\n", &o, &v), 0);
}

static void expect_flavour(const char *release, enum os_family fam, const char *want)
{
	char *fl = kernel_flavour(release, fam);

	if (want)
		assert_string_equal(fl, want);
	else
		assert_null(fl);
	free(fl);
}

static void test_kernel_flavour(void **state)
{
	expect_flavour("5.15.0-105-generic", OS_FAMILY_DEBIAN, "generic");
	expect_flavour("6.8.0-1013-nvidia-64k", OS_FAMILY_DEBIAN, "nvidia-64k");
	expect_flavour("6.1.0-18-cloud-amd64", OS_FAMILY_DEBIAN, "cloud-amd64");
	expect_flavour("6.18.44-custom", OS_FAMILY_DEBIAN, NULL);
	expect_flavour("6.8.0", OS_FAMILY_DEBIAN, NULL);
	expect_flavour("5.14.0-427.el9.aarch64+64k", OS_FAMILY_RHEL, "64k");
	expect_flavour("5.14.0-362.8.1.el9_3.x86_64", OS_FAMILY_RHEL, "default");
	expect_flavour("5.10.0-182.0.0.95.oe2203sp3.aarch64", OS_FAMILY_OPENEULER, "default");
}

static void test_mountinfo(void **state)
{
	unsigned ma, mi;
	char *mp = NULL, *fs = NULL, *src = NULL;

	assert_int_equal(mountinfo_parse_line("29 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n",
					      &ma, &mi, &mp, &fs, &src), 0);
	assert_int_equal(ma, 259);
	assert_int_equal(mi, 2);
	assert_string_equal(mp, "/");
	assert_string_equal(fs, "ext4");
	assert_string_equal(src, "/dev/nvme0n1p2");
	free(mp), free(fs), free(src);

	/* No optional fields, and an escaped space in the mount point. */
	assert_int_equal(mountinfo_parse_line("40 29 8:1 / /boot\\040efi rw - vfat /dev/sda1 rw\n",
					      &ma, &mi, &mp, &fs, &src), 0);
	assert_string_equal(mp, "/boot efi");
	free(mp), free(fs), free(src);

	assert_int_equal(mountinfo_parse_line("29 1 259:2 / / rw shared:1 ext4\n", &ma, &mi, &mp, &fs, &src), -GPE_PARSE);
	assert_int_equal(mountinfo_parse_line("garbage\n", &ma, &mi, &mp, &fs, &src), -GPE_PARSE);
	assert_int_equal(mountinfo_parse_line("1 2 x:y / / rw - ext4 /dev/sda\n", &ma, &mi, &mp, &fs, &src), -GPE_PARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpuinfo_x86),
		cmocka_unit_test(test_cpuinfo_arm64),
		cmocka_unit_test(test_cpuinfo_garbage),
		cmocka_unit_test(test_arm_names),
		cmocka_unit_test(test_os_release),
		cmocka_unit_test(test_pci),
		cmocka_unit_test(test_pci_uevent),
		cmocka_unit_test(test_proc_modules),
		cmocka_unit_test(test_efivar),
		cmocka_unit_test(test_nvidia_version),
		cmocka_unit_test(test_kconfig),
		cmocka_unit_test(test_kernel_flavour),
		cmocka_unit_test(test_mountinfo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
