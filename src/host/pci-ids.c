/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Names and kinds of the PCI devices gpuprov cares about. */
#include "facts.h"

#define PCI_VENDOR_NVIDIA 0x10de
#define PCI_VENDOR_MELLANOX 0x15b3

/*
 * Sources: NVIDIA open-gpu-kernel-modules README (supported GPUs table) and pci.ids.
 */
static const struct pci_name {
	uint16_t vendor, device;
	const char *name;
} pci_names[] = {
	{ PCI_VENDOR_NVIDIA, 0x20b0, "A100 SXM4 40GB" },
	{ PCI_VENDOR_NVIDIA, 0x20b2, "A100 SXM4 80GB" },
	{ PCI_VENDOR_NVIDIA, 0x20f1, "A100 PCIe 40GB" },
	{ PCI_VENDOR_NVIDIA, 0x20b5, "A100 PCIe 80GB" },
	{ PCI_VENDOR_NVIDIA, 0x20f3, "A800 SXM4 80GB" },
	{ PCI_VENDOR_NVIDIA, 0x20bd, "A800 SXM4 40GB" },
	{ PCI_VENDOR_NVIDIA, 0x20f5, "A800 PCIe 80GB" },
	{ PCI_VENDOR_NVIDIA, 0x2331, "H100 PCIe" },
	{ PCI_VENDOR_NVIDIA, 0x2330, "H100 SXM5 80GB" },
	{ PCI_VENDOR_NVIDIA, 0x2339, "H100 SXM5 94GB" },
	{ PCI_VENDOR_NVIDIA, 0x2321, "H100 NVL" },
	{ PCI_VENDOR_NVIDIA, 0x2324, "H800" },
	{ PCI_VENDOR_NVIDIA, 0x2322, "H800 PCIe" },
	{ PCI_VENDOR_NVIDIA, 0x2329, "H20" },
	{ PCI_VENDOR_NVIDIA, 0x2335, "H200 SXM 141GB" },
	{ PCI_VENDOR_NVIDIA, 0x233b, "H200 NVL" },
	{ PCI_VENDOR_NVIDIA, 0x2342, "GH200 120GB / 480GB" },
	{ PCI_VENDOR_NVIDIA, 0x2348, "GH200 144G HBM3e" },
	{ PCI_VENDOR_NVIDIA, 0x26b5, "L40" },
	{ PCI_VENDOR_NVIDIA, 0x26b9, "L40S" },
	{ PCI_VENDOR_NVIDIA, 0x27b8, "L4" },
	{ PCI_VENDOR_NVIDIA, 0x2901, "B200" },
	{ PCI_VENDOR_NVIDIA, 0x2941, "GB200" },
	{ PCI_VENDOR_NVIDIA, 0x3182, "B300" },
	{ PCI_VENDOR_NVIDIA, 0x1af1, "NVSwitch (A100 generation)" },
	{ PCI_VENDOR_NVIDIA, 0x22a3, "NVSwitch (H100 generation)" },
	{ PCI_VENDOR_MELLANOX, 0x1017, "ConnectX-5" },
	{ PCI_VENDOR_MELLANOX, 0x101b, "ConnectX-6" },
	{ PCI_VENDOR_MELLANOX, 0x101d, "ConnectX-6 Dx" },
	{ PCI_VENDOR_MELLANOX, 0x101f, "ConnectX-6 Lx" },
	{ PCI_VENDOR_MELLANOX, 0x1021, "ConnectX-7" },
	{ PCI_VENDOR_MELLANOX, 0x1023, "ConnectX-8" },
	{ PCI_VENDOR_MELLANOX, 0xa2d6, "BlueField-2" },
	{ PCI_VENDOR_MELLANOX, 0xa2dc, "BlueField-3" },
};

const char *pci_product_name(uint16_t vendor, uint16_t device)
{
	for (size_t i = 0; i < ELEMENTSOF(pci_names); i++)
		if (pci_names[i].vendor == vendor && pci_names[i].device == device)
			return pci_names[i].name;
	return NULL;
}

/*
 * class is the 24-bit PCI class code (base, sub-class, interface). NVIDIA GPUs are display
 * controllers (0x03: VGA 0x0300 or 3D 0x0302); NVSwitches are "other bridge" (0x0680).
 * A BMC's VGA is a display controller of another vendor (ASPEED, Huawei): not a GPU.
 */
enum pci_kind pci_classify(uint16_t vendor, uint32_t class)
{
	unsigned base = class >> 16, sub = (class >> 8) & 0xff;

	if (vendor == PCI_VENDOR_NVIDIA && base == 0x03)
		return PCI_KIND_GPU;
	if (vendor == PCI_VENDOR_NVIDIA && base == 0x06 && sub == 0x80)
		return PCI_KIND_NVSWITCH;
	if (vendor == PCI_VENDOR_MELLANOX && base == 0x02)
		return PCI_KIND_HCA;
	return PCI_KIND_OTHER;
}
