#!/usr/bin/env python3
"""Build the machine fixtures under tests/machines/NAME/.

Each NAME/root/ is laid out like the root filesystem of a real machine of
that kind, with the parts of /proc and /sys that gpuprov reads.  The tree is
rebuilt from scratch on every run and the output is deterministic: no
timestamps, no randomness, fixed UUIDs and serials everywhere.  Each machine
also carries a view of what its repositories offer (doc/formats.md section 3):
the apt Packages indexes in var/lib/apt/lists on Debian and Ubuntu, and
var/lib/gpuprov/repo.json on the RPM-family machines; every one of them has
NVIDIA's container toolkit repository, listed by ../pkg/ctk-packages.

Needs python3 (standard library only) and, on the PATH or in /sbin:
  depmod (kmod), mkfs.ext4 (e2fsprogs), mkfs.vfat (dosfstools),
  mkfs.xfs (xfsprogs), blkid (util-linux, to check the images).

  python3 tests/machines/build-machines.py            build every machine
  python3 tests/machines/build-machines.py dgx-h100   build just these
"""

import hashlib
import json
import lzma
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from collections import namedtuple

HERE = os.path.dirname(os.path.abspath(__file__))

# Filesystem images are made at this size, then cut down to IMAGE_KEEP bytes:
# enough for blkid to find the superblock, TYPE and UUID.
IMAGE_SIZE = 1 << 30
IMAGE_KEEP = 64 << 10
FAKE_TIME = "1704067200"  # 2024-01-01 00:00:00 UTC, for mke2fs

EFI_GLOBAL = "8be4df61-93ca-11d2-aa0d-00e098032b8c"


# ---------------------------------------------------------------------------
# Writing the tree


class Machine:
    """One fixture: NAME/root plus what is collected while it is built."""

    def __init__(self, name, arch, base=HERE):
        # base: where NAME/ goes; tests/knowledge builds its machines in a temp dir.
        self.name = name
        self.arch = arch                 # "x86_64" or "aarch64"
        self.dir = os.path.join(base, name)
        self.root = os.path.join(self.dir, "root")
        self.cpus = []                   # online CPU numbers
        self.node_cpus = {}              # NUMA node -> [cpu]
        self.pci = {}                    # tag -> (bdf, sysfs path)
        self.bound = {}                  # driver -> [(bdf, path)]
        self.kernels = []
        self.dpkg = []                   # dpkg status stanzas
        self.loaded = []                 # proc/modules lines, newest first
        self.running = None              # the running Kernel
        self.machine_id = None
        if os.path.lexists(self.root):
            shutil.rmtree(self.root)
        os.makedirs(self.root)

    def path(self, rel):
        return os.path.join(self.root, rel)

    def mkdir(self, rel):
        os.makedirs(self.path(rel), exist_ok=True)

    def write(self, rel, data, mode=0o644):
        """Write a file; str is encoded as UTF-8."""
        full = self.path(rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if isinstance(data, str):
            data = data.encode()
        with open(full, "wb") as f:
            f.write(data)
        os.chmod(full, mode)

    def sysfs(self, rel, value):
        """Write a sysfs attribute the way the kernel shows it: value + newline."""
        self.write(rel, f"{value}\n")

    def symlink(self, rel, target):
        full = self.path(rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        os.symlink(target, full)

    def link_to(self, rel, dest):
        """Relative symlink at rel pointing at dest (both relative to the root)."""
        self.symlink(rel, os.path.relpath(dest, os.path.dirname(rel)))


def cpulist(cpus):
    """[0,1,2,5] -> '0-2,5' as the kernel prints cpu lists."""
    out, cpus = [], sorted(cpus)
    i = 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        out.append(str(cpus[i]) if i == j else f"{cpus[i]}-{cpus[j]}")
        i = j + 1
    return ",".join(out)


def fixed_hex(seed, n):
    """n hex digits derived from seed: stable stand-ins for serials."""
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def tool(name):
    for d in [None, "/usr/sbin", "/sbin"]:
        p = shutil.which(name, path=d) if d else shutil.which(name)
        if p:
            return p
    sys.exit(f"build-machines: {name} not found (apt-get install kmod "
             "e2fsprogs dosfstools xfsprogs zstd)")


def run(*cmd, env=None):
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)


# ---------------------------------------------------------------------------
# CPUs and NUMA

X86 = namedtuple("X86", "vendor family model stepping name microcode mhz cache "
                        "cpuid_level flags bugs bogomips addr pm")
ARM = namedtuple("ARM", "implementer variant part revision bogomips features")

SPR_FLAGS = (
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 "
    "clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp "
    "lm constant_tsc art arch_perfmon pebs bts rep_good nopl xtopology "
    "nonstop_tsc cpuid aperfmperf tsc_known_freq pni pclmulqdq monitor vmx smx "
    "est tm2 ssse3 fma cx16 pcid dca sse4_1 sse4_2 x2apic movbe popcnt aes "
    "xsave avx f16c rdrand lahf_lm abm 3dnowprefetch ibrs ibpb stibp "
    "ibrs_enhanced fsgsbase bmi1 avx2 smep bmi2 erms invpcid avx512f avx512dq "
    "rdseed adx smap clflushopt clwb intel_pt avx512cd sha_ni avx512bw avx512vl "
    "xsaveopt xsavec xgetbv1 xsaves avx_vnni avx512_bf16 wbnoinvd avx512vbmi "
    "umip pku ospke waitpkg avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni "
    "avx512_bitalg avx512_vpopcntdq la57 rdpid movdiri movdir64b fsrm md_clear "
    "serialize amx_bf16 avx512_fp16 amx_tile amx_int8 flush_l1d "
    "arch_capabilities")
ICX_FLAGS = (
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 "
    "clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp "
    "lm constant_tsc art arch_perfmon pebs bts rep_good nopl xtopology "
    "nonstop_tsc cpuid aperfmperf pni pclmulqdq monitor vmx smx est tm2 ssse3 "
    "fma cx16 pcid dca sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c "
    "rdrand lahf_lm abm 3dnowprefetch ibrs ibpb stibp ibrs_enhanced fsgsbase "
    "bmi1 avx2 smep bmi2 erms invpcid avx512f avx512dq rdseed adx smap "
    "avx512ifma clflushopt clwb intel_pt avx512cd sha_ni avx512bw avx512vl "
    "xsaveopt xsavec xgetbv1 xsaves wbnoinvd avx512vbmi umip pku ospke "
    "avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg "
    "avx512_vpopcntdq la57 rdpid md_clear pconfig flush_l1d arch_capabilities")
ZEN2_FLAGS = (
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 "
    "clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm "
    "constant_tsc rep_good nopl nonstop_tsc cpuid extd_apicid aperfmperf rapl "
    "pni pclmulqdq monitor ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave "
    "avx f16c rdrand lahf_lm cmp_legacy svm extapic cr8_legacy abm sse4a "
    "misalignsse 3dnowprefetch osvw ibs skinit wdt tce topoext perfctr_core "
    "perfctr_nb bpext perfctr_llc mwaitx cpb cat_l3 cdp_l3 hw_pstate ssbd mba "
    "ibrs ibpb stibp vmmcall fsgsbase bmi1 avx2 smep bmi2 cqm rdt_a rdseed adx "
    "smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 xsaves clzero irperf "
    "xsaveerptr rdpru wbnoinvd amd_ppin arat npt lbrv svm_lock nrip_save "
    "tsc_scale vmcb_clean flushbyasid decodeassists pausefilter pfthreshold "
    "avic v_vmsave_vmload vgif v_spec_ctrl umip rdpid overflow_recov succor "
    "smca sev sev_es")
ZEN4_FLAGS = ZEN2_FLAGS.replace(
    "sha_ni", "sha_ni avx512f avx512dq avx512ifma avx512cd avx512bw avx512vl "
    "avx512_bf16 avx512vbmi avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni "
    "avx512_bitalg avx512_vpopcntdq la57") + " sev_snp"

XEON_8480CL = X86("GenuineIntel", 6, 143, 8, "Intel(R) Xeon(R) Platinum 8480CL",
                  "0x2b0004d0", "2000.000", "107520 KB", 32, SPR_FLAGS,
                  "spectre_v1 spectre_v2 spec_store_bypass swapgs eibrs_pbrsb",
                  "4000.00", "46 bits physical, 57 bits virtual", "")
XEON_4314 = X86("GenuineIntel", 6, 106, 6,
                "Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz", "0xd0003d1",
                "2400.000", "24576 KB", 27, ICX_FLAGS,
                "spectre_v1 spectre_v2 spec_store_bypass swapgs mmio_stale_data "
                "eibrs_pbrsb gds bhi", "4800.00",
                "46 bits physical, 57 bits virtual", "")
XEON_8358 = XEON_4314._replace(name="Intel(R) Xeon(R) Platinum 8358 CPU @ 2.60GHz",
                               mhz="2600.000", cache="49152 KB", bogomips="5200.00")
EPYC_7742 = X86("AuthenticAMD", 23, 49, 0, "AMD EPYC 7742 64-Core Processor",
                "0x830107a", "2250.000", "512 KB", 16, ZEN2_FLAGS,
                "sysret_ss_attrs spectre_v1 spectre_v2 spec_store_bypass "
                "retbleed smt_rsb", "4491.47",
                "43 bits physical, 48 bits virtual",
                "ts ttp tm hwpstate cpb eff_freq_ro [12] [13]")
EPYC_8124P = X86("AuthenticAMD", 25, 160, 2, "AMD EPYC 8124P 16-Core Processor",
                 "0xaa00212", "2450.000", "1024 KB", 16, ZEN4_FLAGS,
                 "sysret_ss_attrs spectre_v1 spectre_v2 spec_store_bypass srso",
                 "4900.00", "52 bits physical, 57 bits virtual",
                 "ts ttp tm hwpstate cpb eff_freq_ro [13] [14]")
KUNPENG_920 = ARM(0x48, 0x1, 0xd01, 0, "200.00",
                  "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp "
                  "asimdhp cpuid asimdrdm jscvt fcma dcpop asimddp asimdfhm ssbs")
GRACE = ARM(0x41, 0x0, 0xd4f, 0, "2000.00",
            "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp "
            "cpuid asimdrdm jscvt fcma lrcpc dcpop sha3 sm3 sm4 asimddp sha512 "
            "sve asimdfhm dit uscat ilrcpc flagm ssbs sb paca pacg dcpodp sve2 "
            "sveaes svepmull svebitperm svesha3 svesm4 flagm2 frint svei8mm "
            "svebf16 i8mm bf16 dgh bti")


def x86_block(n, c, socket, core, apic, siblings, cores):
    return (f"processor\t: {n}\n"
            f"vendor_id\t: {c.vendor}\n"
            f"cpu family\t: {c.family}\n"
            f"model\t\t: {c.model}\n"
            f"model name\t: {c.name}\n"
            f"stepping\t: {c.stepping}\n"
            f"microcode\t: {c.microcode}\n"
            f"cpu MHz\t\t: {c.mhz}\n"
            f"cache size\t: {c.cache}\n"
            f"physical id\t: {socket}\n"
            f"siblings\t: {siblings}\n"
            f"core id\t\t: {core}\n"
            f"cpu cores\t: {cores}\n"
            f"apicid\t\t: {apic}\n"
            f"initial apicid\t: {apic}\n"
            "fpu\t\t: yes\n"
            "fpu_exception\t: yes\n"
            f"cpuid level\t: {c.cpuid_level}\n"
            "wp\t\t: yes\n"
            f"flags\t\t: {c.flags}\n"
            f"bugs\t\t: {c.bugs}\n"
            f"bogomips\t: {c.bogomips}\n"
            "clflush size\t: 64\n"
            "cache_alignment\t: 64\n"
            f"address sizes\t: {c.addr}\n"
            f"power management:{' ' + c.pm if c.pm else ''}\n\n")


def arm_block(n, c):
    return (f"processor\t: {n}\n"
            f"BogoMIPS\t: {c.bogomips}\n"
            f"Features\t: {c.features}\n"
            f"CPU implementer\t: 0x{c.implementer:02x}\n"
            "CPU architecture: 8\n"
            f"CPU variant\t: 0x{c.variant:x}\n"
            f"CPU part\t: 0x{c.part:03x}\n"
            f"CPU revision\t: {c.revision}\n\n")


def make_cpus(m, model, sockets, cores, threads=1, nodes_per_socket=1,
              core_ids=None, node_mem_gib=(), mem_only_nodes=(), hugepage_kb=2048):
    """CPUs numbered as Linux does: all first threads of socket 0, socket 1,
    ..., then the second threads.  x86 core ids come from core_ids (per
    socket) or count up; arm64 (ACPI PPTT) core ids are the CPU numbers."""
    core_ids = core_ids or list(range(cores))
    info = []
    per_node = cores // nodes_per_socket
    for t in range(threads):
        for s in range(sockets):
            for c in range(cores):
                n = (t * sockets + s) * cores + c
                node = s * nodes_per_socket + c // per_node
                m.node_cpus.setdefault(node, []).append(n)
                if isinstance(model, X86):
                    core = core_ids[c]
                    apic = (s << 7) | (core << 1) | t
                    info.append((n, x86_block(n, model, s, core, apic,
                                              cores * threads, cores)))
                else:
                    core = n
                    info.append((n, arm_block(n, model)))
                base = f"sys/devices/system/cpu/cpu{n}/topology"
                m.sysfs(f"{base}/physical_package_id", s)
                m.sysfs(f"{base}/core_id", core)
    info.sort()
    m.cpus = [n for n, _ in info]
    m.write("proc/cpuinfo", "".join(b for _, b in info))
    for name in ("online", "possible", "present"):
        m.sysfs(f"sys/devices/system/cpu/{name}", cpulist(m.cpus))
    for node in mem_only_nodes:
        m.node_cpus[node] = []
    nodes = sorted(m.node_cpus)
    for node in nodes:
        m.sysfs(f"sys/devices/system/node/node{node}/cpulist",
                cpulist(m.node_cpus[node]))
        kb = node_mem_gib[node] * 1024 * 1024
        m.write(f"sys/devices/system/node/node{node}/meminfo",
                f"Node {node} MemTotal:       {kb:8d} kB\n"
                f"Node {node} MemFree:        {kb * 9 // 10:8d} kB\n"
                f"Node {node} MemUsed:        {kb - kb * 9 // 10:8d} kB\n")
    for name in ("online", "possible", "has_memory", "has_normal_memory"):
        m.sysfs(f"sys/devices/system/node/{name}", cpulist(nodes))
    m.sysfs("sys/devices/system/node/has_cpu",
            cpulist([n for n in nodes if m.node_cpus[n]]))
    total = sum(node_mem_gib) * 1024 * 1024
    m.write("proc/meminfo",
            f"MemTotal:       {total:8d} kB\n"
            f"MemFree:        {total * 9 // 10:8d} kB\n"
            f"MemAvailable:   {total * 9 // 10:8d} kB\n"
            "HugePages_Total:       0\n"
            "HugePages_Free:        0\n"
            f"Hugepagesize:    {hugepage_kb:4d} kB\n")


# ---------------------------------------------------------------------------
# PCI

PciId = namedtuple("PciId", "vendor device cls sv sd rev")

# Bridges: root ports, switch ports, the BMC's PCIe-to-PCI bridge.
SPR_RP = PciId(0x8086, 0x352a, 0x060400, 0x8086, 0x0000, 0x04)
EBG_RP = PciId(0x8086, 0x1bb8, 0x060400, 0x8086, 0x0000, 0x11)
ICX_RP = PciId(0x8086, 0x347a, 0x060400, 0x8086, 0x0000, 0x06)
C620_RP = PciId(0x8086, 0xa190, 0x060400, 0x8086, 0x7270, 0x09)
ROME_RP = PciId(0x1022, 0x1483, 0x060400, 0x1022, 0x1453, 0x00)
GENOA_RP = PciId(0x1022, 0x14ab, 0x060400, 0x1022, 0x14ab, 0x00)
HISI_RP = PciId(0x19e5, 0xa120, 0x060400, 0x19e5, 0x0000, 0x21)
GRACE_RP = PciId(0x10de, 0x22b2, 0x060400, 0x10de, 0x0000, 0x00)
PEX89000 = PciId(0x1000, 0xc030, 0x060400, 0x1000, 0xa064, 0xb0)
PEX88000 = PciId(0x1000, 0xc010, 0x060400, 0x1000, 0xa064, 0xb0)
AST_BRIDGE = PciId(0x1a03, 0x1150, 0x060400, 0x1a03, 0x1150, 0x06)
# Endpoints.
AST_VGA = PciId(0x1a03, 0x2000, 0x030000, 0x1a03, 0x2000, 0x52)
HIBMC_VGA = PciId(0x19e5, 0x1711, 0x030000, 0x19e5, 0x1711, 0x01)
H100_SXM5 = PciId(0x10de, 0x2330, 0x030200, 0x10de, 0x16c1, 0xa1)
A100_SXM4_80 = PciId(0x10de, 0x20b2, 0x030200, 0x10de, 0x1463, 0xa1)
A800_SXM4_80 = PciId(0x10de, 0x20f3, 0x030200, 0x10de, 0x1463, 0xa1)
A100_PCIE_80 = PciId(0x10de, 0x20b5, 0x030200, 0x10de, 0x1533, 0xa1)
A100_PCIE_40 = PciId(0x10de, 0x20f1, 0x030200, 0x10de, 0x145f, 0xa1)
GH200 = PciId(0x10de, 0x2342, 0x030200, 0x10de, 0x16eb, 0xa1)
L4 = PciId(0x10de, 0x27b8, 0x030200, 0x10de, 0x16ca, 0xa1)
L40S = PciId(0x10de, 0x26b9, 0x030200, 0x10de, 0x1851, 0xa1)
NVSWITCH_H100 = PciId(0x10de, 0x22a3, 0x068000, 0x10de, 0x1796, 0xa1)
NVSWITCH_A100 = PciId(0x10de, 0x1af1, 0x068000, 0x10de, 0x1652, 0xa1)
CX7_IB = PciId(0x15b3, 0x1021, 0x020700, 0x15b3, 0x0041, 0x00)
CX7_ETH = PciId(0x15b3, 0x1021, 0x020000, 0x15b3, 0x0040, 0x00)
CX6_IB = PciId(0x15b3, 0x101b, 0x020700, 0x15b3, 0x0007, 0x00)
CX6_ETH = PciId(0x15b3, 0x101b, 0x020000, 0x15b3, 0x0008, 0x00)
PM9A3 = PciId(0x144d, 0xa80a, 0x010802, 0x144d, 0xa813, 0x00)
MICRON_7450 = PciId(0x1344, 0x51c3, 0x010802, 0x1344, 0x2100, 0x01)
C620_AHCI = PciId(0x8086, 0xa182, 0x010601, 0x15d9, 0x1c48, 0x09)
MEGARAID_3508 = PciId(0x1000, 0x0016, 0x010400, 0x19e5, 0xd215, 0x01)
X710 = PciId(0x8086, 0x1572, 0x020000, 0x8086, 0x0007, 0x02)
I210 = PciId(0x8086, 0x1533, 0x020000, 0x15d9, 0x1533, 0x03)

GPU_NAMES = {0x2330: "NVIDIA H100 80GB HBM3", 0x20b2: "NVIDIA A100-SXM4-80GB",
             0x20b5: "NVIDIA A100 80GB PCIe", 0x2342: "NVIDIA GH200 480GB",
             0x27b8: "NVIDIA L4", 0x20f1: "NVIDIA A100-PCIE-40GB",
             0x26b9: "NVIDIA L40S", 0x20f3: "NVIDIA A800-SXM4-80GB"}


class Dev:
    """A PCI function in a tree; a bridge has children on its secondary bus.
    at="1c.4" fixes the slot; otherwise functions 0 take the next slot."""

    def __init__(self, ids, driver=None, tag=None, fn=0, at=None, children=()):
        self.ids, self.driver, self.tag = ids, driver, tag
        self.fn, self.at, self.children = fn, at, children


def bridge(at, ids, *children, driver="pcieport"):
    return Dev(ids, driver, at=at, children=children)


def switch(ids, *endpoints):
    """A PCIe switch: upstream port, one downstream port per endpoint card."""
    cards, downs = [], []
    for ep in endpoints:
        if ep.fn == 0:
            cards.append([])
        cards[-1].append(ep)
    downs = [Dev(ids, "pcieport", children=tuple(c)) for c in cards]
    return Dev(ids, "pcieport", children=tuple(downs))


def pci_tree(m, domain, root_bus, numa, *devs, absolute_links=False):
    """Lay out a root complex: sys/devices/pciDDDD:BB/... with bus numbers
    given out depth first, as firmware enumerates them."""
    top = f"sys/devices/pci{domain:04x}:{root_bus:02x}"
    m.mkdir(top)
    next_bus = [root_bus + 1]

    def place(parent, bus, children):
        slot = -1
        for d in children:
            if d.at:
                s, f = d.at.split(".")
                slot, fn = int(s, 16), int(f)
            else:
                slot += d.fn == 0
                fn = d.fn
            bdf = f"{domain:04x}:{bus:02x}:{slot:02x}.{fn}"
            path = f"{parent}/{bdf}"
            pci_function(m, path, bdf, d, numa, absolute_links)
            if d.children:
                sec = next_bus[0]
                next_bus[0] += 1
                place(path, sec, d.children)

    place(top, root_bus, devs)


def pci_function(m, path, bdf, d, numa, absolute_links):
    i = d.ids
    m.sysfs(f"{path}/vendor", f"0x{i.vendor:04x}")
    m.sysfs(f"{path}/device", f"0x{i.device:04x}")
    m.sysfs(f"{path}/class", f"0x{i.cls:06x}")
    m.sysfs(f"{path}/subsystem_vendor", f"0x{i.sv:04x}")
    m.sysfs(f"{path}/subsystem_device", f"0x{i.sd:04x}")
    m.sysfs(f"{path}/revision", f"0x{i.rev:02x}")
    m.sysfs(f"{path}/numa_node", numa)
    m.sysfs(f"{path}/local_cpulist",
            cpulist(m.cpus if numa < 0 else m.node_cpus[numa]))
    modalias = (f"pci:v{i.vendor:08X}d{i.device:08X}sv{i.sv:08X}sd{i.sd:08X}"
                f"bc{i.cls >> 16:02X}sc{(i.cls >> 8) & 0xff:02X}i{i.cls & 0xff:02X}")
    m.sysfs(f"{path}/modalias", modalias)
    m.write(f"{path}/uevent",
            (f"DRIVER={d.driver}\n" if d.driver else "") +
            f"PCI_CLASS={i.cls:X}\nPCI_ID={i.vendor:04X}:{i.device:04X}\n"
            f"PCI_SUBSYS_ID={i.sv:04X}:{i.sd:04X}\nPCI_SLOT_NAME={bdf}\n"
            f"MODALIAS={modalias}\n")
    bus_link = f"sys/bus/pci/devices/{bdf}"
    if absolute_links:
        m.symlink(bus_link, "/" + path)
    else:
        m.link_to(bus_link, path)
    if d.driver:
        m.link_to(f"{path}/driver", f"sys/bus/pci/drivers/{d.driver}")
        m.bound.setdefault(d.driver, []).append((bdf, path))
    if d.tag:
        m.pci[d.tag] = (bdf, path)


# Driver name in sysfs -> module that provides it (absent: built in).
DRIVER_MODULE = {"nvidia": "nvidia", "nvidia-nvswitch": "nvidia",
                 "mlx5_core": "mlx5_core", "nvme": "nvme", "ast": "ast",
                 "hibmc-drm": "hibmc_drm", "nouveau": "nouveau", "i40e": "i40e",
                 "igb": "igb", "ahci": "ahci", "megaraid_sas": "megaraid_sas"}


def pci_drivers(m):
    """sys/bus/pci/drivers/<drv>/: links back to the bound devices and to
    the module, once the loaded modules are known."""
    loaded = {line.split()[0] for line in m.loaded}
    for drv, devs in sorted(m.bound.items()):
        base = f"sys/bus/pci/drivers/{drv}"
        m.mkdir(base)
        for bdf, path in devs:
            m.link_to(f"{base}/{bdf}", path)
        mod = DRIVER_MODULE.get(drv)
        if mod in loaded:
            m.link_to(f"{base}/module", f"sys/module/{mod}")


def make_netdev(m, devpath, ifname, address, arptype, mtu):
    net = f"{devpath}/net/{ifname}"
    m.sysfs(f"{net}/address", address)
    m.sysfs(f"{net}/operstate", "up")
    m.sysfs(f"{net}/type", arptype)
    m.sysfs(f"{net}/mtu", mtu)
    m.link_to(f"{net}/device", devpath)
    m.link_to(f"sys/class/net/{ifname}", net)


def mac(seed):
    h = fixed_hex(seed, 10)
    return "b8:3f:" + ":".join(h[i:i + 2] for i in range(0, 8, 2))


def make_hca(m, tag, ibdev, link_layer, rate, fw):
    """A Mellanox function: its RDMA device and its netdev (IPoIB or
    Ethernet), named as udev names them from the PCI address."""
    bdf, path = m.pci[tag]
    dom, bus, rest = bdf.split(":")
    slot, fn = rest.split(".")
    guid = fixed_hex(ibdev + m.name, 16)
    ib = f"{path}/infiniband/{ibdev}"
    m.sysfs(f"{ib}/node_type", "1: CA")
    m.sysfs(f"{ib}/fw_ver", fw)
    m.sysfs(f"{ib}/node_guid", ":".join(guid[i:i + 4] for i in range(0, 16, 4)))
    m.sysfs(f"{ib}/ports/1/state", "4: ACTIVE")
    m.sysfs(f"{ib}/ports/1/phys_state", "5: LinkUp")
    m.sysfs(f"{ib}/ports/1/link_layer", link_layer)
    m.sysfs(f"{ib}/ports/1/rate", rate)
    m.link_to(f"sys/class/infiniband/{ibdev}", ib)
    where = ("" if dom == "0000" else f"P{int(dom, 16)}") + \
        f"p{int(bus, 16)}s{int(slot, 16)}"
    if link_layer == "InfiniBand":
        ifname = f"ib{where}"
        if fn != "0":
            ifname += f"f{fn}"
        addr = "00:00:10:87:fe:80:00:00:00:00:00:00:" + \
            ":".join(guid[i:i + 2] for i in range(0, 16, 2))
        make_netdev(m, path, ifname, addr, 32, 4092)
    else:
        ifname = f"en{where}f{fn}np{fn}"
        make_netdev(m, path, ifname, mac(ifname + m.name), 1, 9000)
    return ifname


# ---------------------------------------------------------------------------
# Block devices, filesystems and mounts


def block_dev(m, path, name, majmin, size, devtype, partn=None, start=None):
    maj, mi = majmin.split(":")
    m.sysfs(f"{path}/dev", majmin)
    m.sysfs(f"{path}/size", size)
    m.write(f"{path}/uevent", f"MAJOR={maj}\nMINOR={mi}\nDEVNAME={name}\n"
            f"DEVTYPE={devtype}\n" + (f"PARTN={partn}\n" if partn else ""))
    if partn:
        m.sysfs(f"{path}/partition", partn)
        m.sysfs(f"{path}/start", start)
    else:
        m.sysfs(f"{path}/removable", 0)
        m.sysfs(f"{path}/ro", 0)
        m.link_to(f"sys/block/{name}", path)
    m.link_to(f"sys/dev/block/{majmin}", path)
    m.link_to(f"sys/class/block/{name}", path)


def make_disk(m, parent, name, major, first_minor, sectors, parts):
    """A disk under parent (a sysfs path) and its partitions, given as
    (start, sectors).  Returns {partition name: sysfs path}."""
    disk = f"{parent}/{name}"
    block_dev(m, disk, name, f"{major}:{first_minor}", sectors, "disk")
    sep = "p" if name[-1].isdigit() else ""
    out = {}
    for n, (start, size) in enumerate(parts, 1):
        pname = f"{name}{sep}{n}"
        out[pname] = f"{disk}/{pname}"
        block_dev(m, out[pname], pname, f"{major}:{first_minor + n}", size,
                  "partition", n, start)
    return out


def make_virtual_block(m, name, majmin, sectors, slaves, attrs):
    """dm-N or mdN under devices/virtual/block with slaves/ and the
    matching holders/ links."""
    path = f"sys/devices/virtual/block/{name}"
    block_dev(m, path, name, majmin, sectors, "disk")
    for rel, value in attrs.items():
        m.sysfs(f"{path}/{rel}", value)
    for slave in slaves:
        sname = os.path.basename(slave)
        m.link_to(f"{path}/slaves/{sname}", slave)
        m.link_to(f"{slave}/holders/{name}", path)
    return path


def lvm_uuid(vg, lv):
    """dm uuid of an LVM volume: LVM-<VG uuid><LV uuid>, 32 characters each
    from LVM's alphabet."""
    chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    ids = [hashlib.sha256(seed.encode()).digest()[:32] for seed in (vg, vg + "/" + lv)]
    return "LVM-" + "".join(chars[b % len(chars)] for d in ids for b in d)


def dashed_lvm(uuid32):
    """LVM prints its 32-character ids as 6-4-4-4-4-4-6."""
    cuts = [0, 6, 10, 14, 18, 22, 26, 32]
    return "-".join(uuid32[a:b] for a, b in zip(cuts, cuts[1:]))


def lvm_volume(m, vg, lv, minor, sectors, pvs):
    """LVM logical volume vg/lv as device-mapper shows it: dm-<minor>, named <vg>-<lv>."""
    return make_virtual_block(m, f"dm-{minor}", f"253:{minor}", sectors, pvs,
                              {"dm/name": f"{vg}-{lv}", "dm/uuid": lvm_uuid(vg, lv),
                               "dm/suspended": 0})


MKE2FS_CONF = """[defaults]
	base_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
	default_mntopts = acl,user_xattr
	enable_periodic_fsck = 0
	blocksize = 4096
	inode_size = 256
	inode_ratio = 16384

[fs_types]
	ext4 = {
		features = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
	}
"""


def make_fs(m, devname, fstype, uuid):
    """dev/<devname>: a real filesystem made by mkfs with a fixed UUID, cut
    down to its first IMAGE_KEEP bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        img = os.path.join(tmp, "fs.img")
        with open(img, "wb") as f:
            f.truncate(IMAGE_SIZE)
        if fstype == "ext4":
            conf = os.path.join(tmp, "mke2fs.conf")
            with open(conf, "w") as f:
                f.write(MKE2FS_CONF)
            env = dict(os.environ, MKE2FS_CONFIG=conf,
                       E2FSPROGS_FAKE_TIME=FAKE_TIME)
            seed = fixed_hex("hash" + uuid, 32)
            seed = f"{seed[:8]}-{seed[8:12]}-{seed[12:16]}-{seed[16:20]}-{seed[20:]}"
            run(tool("mkfs.ext4"), "-q", "-F", "-U", uuid,
                "-E", f"root_owner=0:0,hash_seed={seed}", img, env=env)
        elif fstype == "xfs":
            run(tool("mkfs.xfs"), "-q", "-f", "-m", f"uuid={uuid}", img)
        elif fstype == "vfat":
            run(tool("mkfs.vfat"), "-F", "32", "--invariant",
                "-i", uuid.replace("-", ""), img)
        with open(img, "r+b") as f:
            f.truncate(IMAGE_KEEP)
        m.write(f"dev/{devname}", open(img, "rb").read())
    check_image(m.path(f"dev/{devname}"), fstype, uuid)


def check_image(path, fstype, uuid):
    blkid = shutil.which("blkid") or shutil.which("blkid", path="/sbin:/usr/sbin")
    if not blkid:
        print("build-machines: blkid not found, images not checked", file=sys.stderr)
        return
    out = subprocess.run([blkid, "-p", "-o", "export", path], check=True,
                         capture_output=True, text=True).stdout
    got = dict(line.split("=", 1) for line in out.split())
    if got.get("TYPE") != fstype or got.get("UUID", "").lower() != uuid.lower():
        sys.exit(f"build-machines: blkid -p {path} says {got}")


def mount_escape(s):
    return (s.replace("\\", "\\134").replace(" ", "\\040")
            .replace("\t", "\\011").replace("\n", "\\012"))


NOEXEC = "rw,nosuid,nodev,noexec,relatime"


def write_mountinfo(m, root, mounts, efi=True, cgroup="v2", devtmpfs="udev"):
    """proc/self/mountinfo as systemd leaves it: the API filesystems the
    initramfs mounted first (moved under /), then /, then the rest.
    root and mounts: (mountpoint, majmin, fstype, source, superopts, opts)."""
    early = [("/sys", "0:21", "sysfs", "sysfs", "rw", NOEXEC),
             ("/proc", "0:22", "proc", "proc", "rw", NOEXEC),
             ("/dev", "0:5", "devtmpfs", devtmpfs,
              "rw,size=4096k,nr_inodes=1048576,mode=755,inode64",
              "rw,nosuid,relatime"),
             ("/dev/pts", "0:23", "devpts", "devpts",
              "rw,gid=5,mode=620,ptmxmode=000", "rw,nosuid,noexec,relatime"),
             ("/run", "0:24", "tmpfs", "tmpfs", "rw,size=6553600k,mode=755,inode64",
              "rw,nosuid,nodev,noexec,relatime")]
    api = [("/sys/kernel/security", "0:6", "securityfs", "securityfs", "rw", NOEXEC),
           ("/dev/shm", "0:25", "tmpfs", "tmpfs", "rw,inode64", "rw,nosuid,nodev"),
           ("/run/lock", "0:26", "tmpfs", "tmpfs", "rw,size=5120k,inode64",
            "rw,nosuid,nodev,noexec,relatime")]
    if cgroup == "v2":
        api.append(("/sys/fs/cgroup", "0:27", "cgroup2", "cgroup2",
                    "rw,nsdelegate,memory_recursiveprot", NOEXEC))
    else:
        api.append(("/sys/fs/cgroup", "0:27", "tmpfs", "tmpfs", "ro,mode=755",
                    "ro,nosuid,nodev,noexec"))
        for n, ctl in enumerate(["systemd", "cpu,cpuacct", "memory", "devices",
                                 "pids", "cpuset", "blkio", "freezer"]):
            opts = "rw,xattr,name=systemd" if ctl == "systemd" else "rw," + ctl
            api.append((f"/sys/fs/cgroup/{ctl}", f"0:{40 + n}", "cgroup",
                        "cgroup", opts, NOEXEC))
    api.append(("/sys/fs/pstore", "0:28", "pstore", "pstore", "rw", NOEXEC))
    if efi:
        api.append(("/sys/firmware/efi/efivars", "0:29", "efivarfs", "efivarfs",
                    "rw", NOEXEC))
    api.append(("/sys/fs/bpf", "0:30", "bpf", "bpf", "rw,mode=700",
                "rw,nosuid,nodev,noexec,relatime"))
    rows = early + [root] + api + mounts
    ids = {r[0]: 22 + i for i, r in enumerate(rows)}
    lines, group = [], 1
    for mnt, majmin, fstype, source, sopts, opts in rows:
        if mnt == "/":
            parent, shared = 1, 1
        else:
            up = max((p for p in ids if p != mnt and
                      (p == "/" or mnt.startswith(p + "/"))), key=len)
            group += 1
            parent, shared = ids[up], group
        lines.append(f"{ids[mnt]} {parent} {majmin} / {mount_escape(mnt)} "
                     f"{opts} shared:{shared} - {fstype} {source} {sopts}\n")
    m.write("proc/self/mountinfo", "".join(lines))


def write_fstab(m, rows):
    """etc/fstab from (spec, mountpoint, type, options, dump, pass) rows."""
    m.write("etc/fstab", "".join(
        f"{mount_escape(a):<40} {mount_escape(b):<15} {c:<7} {d:<15} {e} {f}\n"
        for a, b, c, d, e, f in rows))


EXT4_ROOT = "rw,errors=remount-ro"
XFS_OPTS = "rw,seclabel,attr2,inode64,logbufs=8,logbsize=32k,noquota"
VFAT_DEB = ("rw,fmask=0077,dmask=0077,codepage=437,iocharset=iso8859-1,"
            "shortname=mixed,errors=remount-ro")
VFAT_RH = ("rw,fmask=0077,dmask=0077,codepage=437,iocharset=ascii,"
           "shortname=winnt,errors=remount-ro")


# ---------------------------------------------------------------------------
# Kernel modules: small ELF relocatable objects with a real .modinfo

EM = {"x86_64": 62, "aarch64": 183}


def der(tag, body):
    n = len(body)
    size = bytes([n]) if n < 0x80 else \
        bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + size + body


def der_seq(*parts):
    return der(0x30, b"".join(parts))


def der_oid(dotted):
    p = [int(x) for x in dotted.split(".")]
    out = bytes([40 * p[0] + p[1]])
    for v in p[2:]:
        enc = [v & 0x7f]
        v >>= 7
        while v:
            enc.append(0x80 | (v & 0x7f))
            v >>= 7
        out += bytes(reversed(enc))
    return der(0x06, out)


def module_signature(data, signer, hashalgo, key_seed):
    """An appended module signature as sign-file writes it: a PKCS#7
    SignedData naming the signer (its CN) and key serial, then
    struct module_signature and the magic string.  The signature bytes are
    stand-ins; kmod reads signer, key id and hash algorithm from it."""
    hoid = {"sha256": "2.16.840.1.101.3.4.2.1", "sha512": "2.16.840.1.101.3.4.2.3"}
    alg = der_seq(der_oid(hoid[hashalgo]), b"\x05\x00")
    serial = bytes.fromhex("4d" + fixed_hex("key" + key_seed, 38))
    issuer = der_seq(der(0x31, der_seq(der_oid("2.5.4.3"), der(0x0c, signer.encode()))))
    fake = hashlib.shake_256(data).digest(512)
    signer_info = der_seq(der(0x02, b"\x01"), der_seq(issuer, der(0x02, serial)), alg,
                          der_seq(der_oid("1.2.840.113549.1.1.1"), b"\x05\x00"),
                          der(0x04, fake[:256 if hashalgo == "sha256" else 512]))
    signed = der_seq(der(0x02, b"\x01"), der(0x31, alg),
                     der_seq(der_oid("1.2.840.113549.1.7.1")), der(0x31, signer_info))
    pkcs7 = der_seq(der_oid("1.2.840.113549.1.7.2"), der(0xa0, signed))
    return pkcs7 + struct.pack(">BBBBB3xI", 0, 0, 2, 0, 0, len(pkcs7)) + \
        b"~Module signature appended~\n"


def elf_module(arch, modinfo, exports=(), imports=()):
    """ELF64 little-endian ET_REL with .modinfo, __ksymtab_strings (the
    symbols it exports) and .symtab/.strtab (undefined symbols it uses),
    which is what depmod reads to work out modules.dep."""
    sections = [(".modinfo", 1, 2, b"".join(f"{k}={v}".encode() + b"\0"
                                            for k, v in modinfo), 0, 0, 0)]
    if exports:
        sections.append(("__ksymtab_strings", 1, 2,
                         b"".join(s.encode() + b"\0" for s in exports), 0, 0, 0))
    strtab, syms = b"\0", b"\0" * 24
    for s in imports:
        syms += struct.pack("<IBBHQQ", len(strtab), 0x10, 0, 0, 0, 0)
        strtab += s.encode() + b"\0"
    symtab_index = len(sections) + 1
    sections.append((".symtab", 2, 0, syms, symtab_index + 1, 1, 24))
    sections.append((".strtab", 3, 0, strtab, 0, 0, 0))
    names = b"\0"
    name_off = []
    for s in sections + [(".shstrtab",)]:
        name_off.append(len(names))
        names += s[0].encode() + b"\0"
    sections.append((".shstrtab", 3, 0, names, 0, 0, 0))
    body, offsets = bytearray(64), []
    for s in sections:
        body += b"\0" * (-len(body) % 8)
        offsets.append(len(body))
        body += s[3]
    body += b"\0" * (-len(body) % 8)
    shoff = len(body)
    body[:64] = (b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8 +
                 struct.pack("<HHIQQQIHHHHHH", 1, EM[arch], 1, 0, 0, shoff, 0,
                             64, 0, 0, 64, len(sections) + 1, len(sections)))
    body += b"\0" * 64
    for s, off, noff in zip(sections, offsets, name_off):
        _, typ, flags, data, link, info, entsize = s
        body += struct.pack("<IIQQQQIIQQ", noff, typ, flags, 0, off, len(data),
                            link, info, 8 if typ == 2 else 1, entsize)
    return bytes(body)


Mod = namedtuple("Mod", "path license description aliases exports deps size")

# In-tree modules: where they live under lib/modules/<kver>/, what they
# export and which other modules they use.
INTREE = {
    "drm": Mod("kernel/drivers/gpu/drm/drm.ko", "GPL and additional rights",
               "DRM shared core routines", [], ["drm_dev_register"], [], 622592),
    "drm_kms_helper": Mod("kernel/drivers/gpu/drm/drm_kms_helper.ko",
                          "GPL and additional rights", "DRM KMS helper", [],
                          ["drm_atomic_helper_commit"], ["drm"], 311296),
    "ttm": Mod("kernel/drivers/gpu/drm/ttm/ttm.ko", "GPL and additional rights",
               "TTM memory manager subsystem (for DRM device)", [],
               ["ttm_bo_init_reserved"], ["drm"], 86016),
    "drm_ttm_helper": Mod("kernel/drivers/gpu/drm/drm_ttm_helper.ko", "GPL",
                          "DRM gem ttm helpers", [], ["drm_gem_ttm_mmap"],
                          ["ttm", "drm"], 16384),
    "nouveau": Mod("kernel/drivers/gpu/drm/nouveau/nouveau.ko",
                   "GPL and additional rights", "nVidia Riva/TNT/GeForce/Quadro/Tesla/Tegra K1+",
                   ["pci:v000010DEd*sv*sd*bc03sc*i*", "pci:v000012D2d*sv*sd*bc03sc*i*"],
                   [], ["drm", "drm_kms_helper", "ttm", "drm_ttm_helper"], 2318336),
    "ast": Mod("kernel/drivers/gpu/drm/ast/ast.ko", "GPL and additional rights",
               "AST", ["pci:v00001A03d00002000sv*sd*bc03sc*i*",
                       "pci:v00001A03d00002010sv*sd*bc03sc*i*"],
               [], ["drm", "drm_kms_helper"], 61440),
    "hibmc_drm": Mod("kernel/drivers/gpu/drm/hisilicon/hibmc/hibmc-drm.ko", "GPL v2",
                     "DRM Driver for Hisilicon Hibmc",
                     ["pci:v000019E5d00001711sv*sd*bc*sc*i*"], [],
                     ["drm", "drm_kms_helper"], 53248),
    "ib_core": Mod("kernel/drivers/infiniband/core/ib_core.ko", "Dual BSD/GPL",
                   "core kernel InfiniBand API", [],
                   ["ib_register_device", "ib_register_peer_memory_client"], [], 442368),
    "ib_uverbs": Mod("kernel/drivers/infiniband/core/ib_uverbs.ko", "Dual BSD/GPL",
                     "InfiniBand userspace verbs access", [],
                     ["uverbs_destroy_def_handler"], ["ib_core"], 167936),
    "mlx5_core": Mod("kernel/drivers/net/ethernet/mellanox/mlx5/core/mlx5_core.ko",
                     "Dual BSD/GPL", "Mellanox 5th generation network adapters "
                     "(ConnectX series) core driver",
                     ["pci:v000015B3d0000101Bsv*sd*bc*sc*i*",
                      "pci:v000015B3d0000101Dsv*sd*bc*sc*i*",
                      "pci:v000015B3d00001021sv*sd*bc*sc*i*",
                      "pci:v000015B3d00001023sv*sd*bc*sc*i*"],
                     ["mlx5_core_create_mkey"], [], 2097152),
    "mlx5_ib": Mod("kernel/drivers/infiniband/hw/mlx5/mlx5_ib.ko", "Dual BSD/GPL",
                   "Mellanox 5th generation network adapters (ConnectX series) IB driver",
                   ["auxiliary:mlx5_core.rdma"], [],
                   ["mlx5_core", "ib_core", "ib_uverbs"], 458752),
    "nvme_core": Mod("kernel/drivers/nvme/host/nvme-core.ko", "GPL", "", [],
                     ["nvme_init_ctrl"], [], 196608),
    "nvme": Mod("kernel/drivers/nvme/host/nvme.ko", "GPL", "",
                ["pci:v*d*sv*sd*bc01sc08i02*"], [], ["nvme_core"], 57344),
    "libahci": Mod("kernel/drivers/ata/libahci.ko", "GPL",
                   "Common AHCI SATA low-level routines", [], ["ahci_ops"], [], 49152),
    "ahci": Mod("kernel/drivers/ata/ahci.ko", "GPL", "AHCI SATA low-level driver",
                ["pci:v*d*sv*sd*bc01sc06i01*"], [], ["libahci"], 49152),
    "megaraid_sas": Mod("kernel/drivers/scsi/megaraid/megaraid_sas.ko", "GPL",
                        "Broadcom MegaRAID SAS Driver",
                        ["pci:v00001000d00000016sv*sd*bc*sc*i*"], [], [], 188416),
    "i40e": Mod("kernel/drivers/net/ethernet/intel/i40e/i40e.ko", "GPL v2",
                "Intel(R) Ethernet Connection XL710 Network Driver",
                ["pci:v00008086d00001572sv*sd*bc*sc*i*"], [], [], 532480),
    "igb": Mod("kernel/drivers/net/ethernet/intel/igb/igb.ko", "GPL v2",
               "Intel(R) Gigabit Ethernet Network Driver",
               ["pci:v00008086d00001533sv*sd*bc*sc*i*"], [], [], 290816),
    "md_mod": Mod("kernel/drivers/md/md-mod.ko", "GPL", "",
                  ["block-major-9-*", "md"], ["md_register_thread"], [], 192512),
    "raid1": Mod("kernel/drivers/md/raid1.ko", "GPL", "RAID1 (mirroring) personality for MD",
                 ["md-level-1", "md-raid1", "md-personality-3"], [], ["md_mod"], 57344),
    "dm_mod": Mod("kernel/drivers/md/dm-mod.ko", "GPL", "device-mapper driver",
                  ["devname:mapper/control", "char-major-10-236"],
                  ["dm_register_target"], [], 184320),
}

NV_MODULES = {  # file name -> (module name, exports, deps, size)
    "nvidia.ko": ("nvidia", ["nvidia_get_rm_ops", "nvUvmInterfaceRegisterGpu",
                             "nvidia_p2p_get_pages"], [], None),
    "nvidia-uvm.ko": ("nvidia_uvm", [], ["nvidia"], 1531904),
    "nvidia-modeset.ko": ("nvidia_modeset", ["nvKmsKapiGetFunctionsTable"],
                          ["nvidia"], 1314816),
    "nvidia-drm.ko": ("nvidia_drm", [], ["nvidia_modeset", "drm", "drm_kms_helper"],
                      94208),
    "nvidia-peermem.ko": ("nvidia_peermem", [], ["nvidia", "ib_core"], 16384),
}

Driver = namedtuple("Driver", "version open build date gcc")


class Kernel:
    """One installed kernel.  distro: ubuntu, debian, rocky or openeuler."""

    def __init__(self, kver, distro, pkgver, cc, gcc, preempt_dynamic,
                 sig_hash="sha256", signer="Build time autogenerated kernel key",
                 page_64k=False, io_uring=True, xz=False, zst=False, title=None,
                 flavour=None, flavour_src="", rt=False, old_config=False):
        self.kver, self.distro, self.pkgver = kver, distro, pkgver
        self.cc, self.gcc, self.preempt = cc, gcc, preempt_dynamic
        self.sig_hash, self.signer = sig_hash, signer
        self.page_64k, self.io_uring, self.xz = page_64k, io_uring, xz
        self.zst = zst              # every module .ko.zst, out-of-tree ones included
        self.title = title          # release the kernel came with (BLS/GRUB)
        self.flavour, self.flavour_src = flavour, flavour_src   # Ubuntu packages
        self.rt = rt                # CONFIG_PREEMPT_RT=y
        self.old_config = old_config  # before 5.8: no CONFIG_CC_VERSION_TEXT
        self.order = []             # modules.order

    @property
    def rpm(self):
        return self.distro in ("rocky", "rhel", "openeuler")

    def vermagic(self, arch):
        mode = "preempt_rt " if self.rt else "preempt " if self.preempt else ""
        return (f"{self.kver} SMP {mode}"
                f"mod_unload modversions {'aarch64' if arch == 'aarch64' else ''}")


def srcversion(name, version):
    return fixed_hex(f"src{name}{version}", 23).upper()


def add_module(m, k, name, relpath, info, exports, deps, signer, sig_hash):
    """Write one module file for kernel k and remember it for modules.order.
    deps name the modules whose exported symbols this one uses."""
    imports = [module_facts(d)[0][0] for d in deps]
    info = info + [("depends", ",".join(deps))] + \
        [("retpoline", "Y")] * (m.arch == "x86_64") + \
        [("name", name), ("vermagic", k.vermagic(m.arch))]
    data = elf_module(m.arch, info, exports, imports)
    if signer:
        # The distribution's build key is made per kernel build; a MOK is one key.
        seed = signer + (k.kver if signer == k.signer else "")
        data += module_signature(data, signer, sig_hash, seed)
    if k.xz and relpath.startswith("kernel/"):
        data = lzma.compress(data, check=lzma.CHECK_CRC32)
        relpath += ".xz"
    elif k.zst:
        # Ubuntu's 6.x kernels compress every module, DKMS and precompiled NVIDIA ones
        # too (CONFIG_MODULE_COMPRESS_ZSTD); zstd's output is the same for the same input.
        data = subprocess.run([tool("zstd"), "-q", "-19", "-c"], input=data, check=True,
                              stdout=subprocess.PIPE).stdout
        relpath += ".zst"
    m.write(f"usr/lib/modules/{k.kver}/{relpath}", data)
    k.order.append(relpath)


NV_NAMES = [v[0] for v in NV_MODULES.values()]


def module_facts(name):
    """(exports, deps, size) of a module, in-tree or NVIDIA."""
    if name in INTREE:
        return INTREE[name].exports, INTREE[name].deps, INTREE[name].size
    _, exports, deps, size = next(v for v in NV_MODULES.values() if v[0] == name)
    return exports, deps, size or 0


def install_intree(m, k, names):
    for name in names:
        mod = INTREE[name]
        info = [("description", mod.description)] * bool(mod.description) + \
            [("license", mod.license)] + [("alias", a) for a in mod.aliases]
        add_module(m, k, name, mod.path, info, mod.exports, mod.deps,
                   k.signer, k.sig_hash)


def install_nvidia(m, k, subdir, drv, signer=None, sig_hash="sha512"):
    """The five NVIDIA modules for kernel k in lib/modules/<kver>/<subdir>."""
    lic = "Dual MIT/GPL" if drv.open else "NVIDIA"
    for fname, (name, exports, deps, _) in NV_MODULES.items():
        info = [("version", drv.version), ("supported", "external"), ("license", lic)]
        if name == "nvidia":
            info += [("firmware", f"nvidia/{drv.version}/gsp_ga10x.bin"),
                     ("firmware", f"nvidia/{drv.version}/gsp_tu10x.bin")]
        info += [("description", "NVIDIA kernel module"),
                 ("srcversion", srcversion(name, drv.version))]
        if name == "nvidia":
            info += [("alias", "char-major-195-*"),
                     ("alias", "pci:v000010DEd*sv*sd*bc06sc80i00*"),
                     ("alias", "pci:v000010DEd*sv*sd*bc03sc02i00*"),
                     ("alias", "pci:v000010DEd*sv*sd*bc03sc00i00*"),
                     ("parmtype", "NVreg_EnableGpuFirmware:int")]
            if drv.open:
                info.append(("parmtype", "NVreg_OpenRmEnableUnsupportedGpus:int"))
        add_module(m, k, name, f"{subdir}/{fname}", info, exports, deps,
                   signer, sig_hash)


KCONFIG = """#
# Automatically generated file; DO NOT EDIT.
# Linux/{karch} {kver} Kernel Configuration
#
{cc_text}CONFIG_CC_IS_GCC=y
CONFIG_GCC_VERSION={gcc}

#
# General setup
#
CONFIG_INIT_ENV_ARG_LIMIT=32
# CONFIG_COMPILE_TEST is not set
CONFIG_LOCALVERSION=""
# CONFIG_LOCALVERSION_AUTO is not set
CONFIG_DEFAULT_HOSTNAME="(none)"
CONFIG_SYSVIPC=y
CONFIG_AUDIT=y
{preempt}CONFIG_CGROUPS=y
CONFIG_MEMCG=y
CONFIG_CGROUP_SCHED=y
CONFIG_CGROUP_PIDS=y
CONFIG_CGROUP_DEVICE=y
CONFIG_CGROUP_BPF=y
CONFIG_NAMESPACES=y
CONFIG_BPF_SYSCALL=y
{io_uring}CONFIG_SMP=y
{arch}CONFIG_NUMA=y
CONFIG_MODULES=y
CONFIG_MODULE_UNLOAD=y
CONFIG_MODVERSIONS=y
CONFIG_MODULE_SIG=y
# CONFIG_MODULE_SIG_FORCE is not set
CONFIG_MODULE_SIG_ALL=y
CONFIG_MODULE_SIG_{HASH}=y
CONFIG_MODULE_SIG_HASH="{hash}"
{compress}CONFIG_SECURITY_LOCKDOWN_LSM=y
CONFIG_LOCK_DOWN_KERNEL_FORCE_NONE=y
CONFIG_ZONE_DEVICE=y
CONFIG_MMU_NOTIFIER=y
CONFIG_HMM_MIRROR=y
CONFIG_DEVICE_PRIVATE=y
CONFIG_TRANSPARENT_HUGEPAGE=y
CONFIG_PCI=y
CONFIG_PCI_IOV=y
CONFIG_PCI_P2PDMA=y
CONFIG_EFI=y
CONFIG_EFIVAR_FS=y
CONFIG_BLK_DEV_NVME=m
CONFIG_NVME_MULTIPATH=y
CONFIG_DRM=m
CONFIG_DRM_NOUVEAU=m
CONFIG_DRM_AST=m
CONFIG_INFINIBAND=m
CONFIG_MLX5_CORE=m
CONFIG_MLX5_INFINIBAND=m
CONFIG_VFIO=m
CONFIG_VFIO_PCI=m
"""


def kernel_config(m, k):
    if k.rt:
        preempt = ("# CONFIG_PREEMPT_NONE is not set\n# CONFIG_PREEMPT_VOLUNTARY is not set\n"
                   "# CONFIG_PREEMPT is not set\nCONFIG_PREEMPT_RT=y\n"
                   "CONFIG_PREEMPT_COUNT=y\nCONFIG_PREEMPTION=y\n")
    elif k.preempt:
        preempt = ("CONFIG_PREEMPT_BUILD=y\nCONFIG_PREEMPT_VOLUNTARY=y\n"
                   "# CONFIG_PREEMPT is not set\nCONFIG_PREEMPT_COUNT=y\n"
                   "CONFIG_PREEMPTION=y\nCONFIG_PREEMPT_DYNAMIC=y\n"
                   "# CONFIG_PREEMPT_RT is not set\n")
    else:
        preempt = ("# CONFIG_PREEMPT_NONE is not set\nCONFIG_PREEMPT_VOLUNTARY=y\n"
                   "# CONFIG_PREEMPT is not set\n# CONFIG_PREEMPT_RT is not set\n")
    if m.arch == "x86_64":
        arch = "CONFIG_X86_64=y\nCONFIG_NR_CPUS=8192\nCONFIG_X86_X2APIC=y\n"
    elif k.page_64k:
        arch = ("CONFIG_ARM64=y\nCONFIG_NR_CPUS=4096\n# CONFIG_ARM64_4K_PAGES is not set\n"
                "# CONFIG_ARM64_16K_PAGES is not set\nCONFIG_ARM64_64K_PAGES=y\n"
                "CONFIG_ARM64_VA_BITS_52=y\nCONFIG_ARM64_PAGE_SHIFT=16\n")
    else:
        arch = ("CONFIG_ARM64=y\nCONFIG_NR_CPUS=4096\nCONFIG_ARM64_4K_PAGES=y\n"
                "# CONFIG_ARM64_16K_PAGES is not set\n# CONFIG_ARM64_64K_PAGES is not set\n"
                "CONFIG_ARM64_VA_BITS_48=y\nCONFIG_ARM64_PAGE_SHIFT=12\n")
    return KCONFIG.format(
        karch="x86" if m.arch == "x86_64" else "arm64", kver=k.kver,
        cc_text="" if k.old_config else f'CONFIG_CC_VERSION_TEXT="{k.cc}"\n',
        gcc=k.gcc, preempt=preempt, arch=arch, hash=k.sig_hash,
        HASH=k.sig_hash.upper(),
        io_uring="CONFIG_IO_URING=y\n" if k.io_uring else "# CONFIG_IO_URING is not set\n",
        compress="CONFIG_MODULE_COMPRESS_ZSTD=y\n" if k.zst else
        "CONFIG_MODULE_COMPRESS_XZ=y\n" if k.xz else
        "CONFIG_MODULE_COMPRESS_NONE=y\n")


def placeholder(kind, kver):
    if kind == "vmlinuz":
        return b"MZ\0\0" + f"\nplaceholder kernel image {kver}\n".encode()
    return f"070701placeholder initramfs {kver}\n".encode()


def make_kernel(m, k, modules):
    """Install kernel k the way its distribution's package does."""
    m.kernels.append(k)
    cfg = kernel_config(m, k)
    smap = ("0000000000000000 D __per_cpu_start\n"
            f"{'ffffffff81000000' if m.arch == 'x86_64' else 'ffff800080000000'} T _text\n")
    m.write(f"boot/vmlinuz-{k.kver}", placeholder("vmlinuz", k.kver))
    m.write(f"boot/config-{k.kver}", cfg)
    m.write(f"boot/System.map-{k.kver}", smap)
    if k.rpm:
        m.write(f"boot/initramfs-{k.kver}.img", placeholder("initrd", k.kver))
        mdir = f"usr/lib/modules/{k.kver}"
        m.write(f"{mdir}/vmlinuz", placeholder("vmlinuz", k.kver))
        m.write(f"{mdir}/config", cfg)
        m.write(f"{mdir}/System.map", smap)
    else:
        m.write(f"boot/initrd.img-{k.kver}", placeholder("initrd", k.kver))
    install_intree(m, k, modules)


def finish_kernels(m):
    """modules.order/builtin for each kernel, then the real depmod."""
    depmod_d = m.path("etc/depmod.d")
    with tempfile.TemporaryDirectory() as empty:
        for k in m.kernels:
            mdir = f"usr/lib/modules/{k.kver}"
            m.write(f"{mdir}/modules.order", "".join(p + "\n" for p in k.order))
            m.write(f"{mdir}/modules.builtin",
                    "kernel/drivers/block/loop.ko\nkernel/fs/ext4/ext4.ko\n"
                    "kernel/drivers/pci/pcieportdrv.ko\n")
            m.write(f"{mdir}/modules.builtin.modinfo",
                    b"loop.license=GPL\0ext4.license=GPL\0"
                    b"ext4.description=Fourth Extended Filesystem\0")
            conf = depmod_d if os.path.isdir(depmod_d) else empty
            run(tool("depmod"), "-C", conf, "-b", m.root, k.kver)
            if k.distro in ("ubuntu", "debian"):
                deb_kernel_package(m, k)


def deb_kernel_package(m, k):
    """The kernel's dpkg file lists and status stanzas: Ubuntu splits image
    and modules, Debian ships both in linux-image-<kver>."""
    image = [f"/boot/vmlinuz-{k.kver}"]
    mods = [f"/boot/System.map-{k.kver}", f"/boot/config-{k.kver}"] + \
        [f"/lib/modules/{k.kver}/{p}" for p in k.order if p.startswith("kernel/")
         and "nvidia" not in p]
    arch = "amd64" if m.arch == "x86_64" else "arm64"
    if k.distro == "debian":
        pkgs = [(f"linux-image-{k.kver}", image + mods, "linux-signed-amd64",
                 "Linux 6.1 for 64-bit PCs (signed)")]
        maint = "Debian Kernel Team <debian-kernel@lists.debian.org>"
    else:
        pkgs = [(f"linux-image-{k.kver}", image, "linux-signed" + k.flavour_src,
                 f"Signed kernel image {k.flavour}"),
                (f"linux-modules-{k.kver}", mods, "linux" + k.flavour_src,
                 f"Linux kernel extra modules for version {k.kver.split('-')[0]}")]
        maint = "Ubuntu Kernel Team <kernel-team@lists.ubuntu.com>"
    for name, paths, src, desc in pkgs:
        dirs = set()
        for p in paths:
            while p.count("/") > 1:
                p = os.path.dirname(p)
                dirs.add(p)
        m.write(f"var/lib/dpkg/info/{name}.list",
                "".join(p + "\n" for p in ["/."] + sorted(dirs) + paths +
                        [f"/usr/share/doc/{name}"]))
        dpkg_package(m, name, k.pkgver, arch, src, desc, "kernel", maint)


UBUNTU_MAINT = "Ubuntu Core Developers <ubuntu-devel-discuss@lists.ubuntu.com>"
CUDA_MAINT = "cudatools <cudatools@nvidia.com>"


def dpkg_package(m, name, version, arch, source=None, desc=None, section="utils",
                 maint=CUDA_MAINT):
    m.dpkg.append((name, f"Package: {name}\nStatus: install ok installed\n"
                   f"Priority: optional\nSection: {section}\n"
                   f"Maintainer: {maint}\nArchitecture: {arch}\n" +
                   (f"Source: {source}\n" if source else "") +
                   f"Version: {version}\n"
                   f"Description: {desc or name}\n"))


def write_dpkg_status(m):
    m.write("var/lib/dpkg/status", "\n".join(s for _, s in sorted(m.dpkg)))


# ---------------------------------------------------------------------------
# Loaded modules: proc/modules and sys/module

def load_modules(m, k, names, taint=None, extra_refs=None, sizes=None):
    """Modules loaded now in kernel k, newest first (proc/modules order).
    "Used by" comes from the module dependencies."""
    sizes = dict((n, module_facts(n)[2]) for n in names) | (sizes or {})
    deps = {n: module_facts(n)[1] for n in names}
    base = 0xffffffffc0000000 if m.arch == "x86_64" else 0xffff800001000000
    addr, lines = {}, []
    for name in reversed(names):
        addr[name] = base
        base += (sizes[name] + 0xfff) & ~0xfff
    for name in names:
        users = [u for u in names if name in deps[u]]
        refs = len(users) + (extra_refs or {}).get(name, 0)
        t = (taint or {}).get(name, "")
        size = sizes[name]
        lines.append(f"{name} {size} {refs} {','.join(users) + ',' if users else '-'} "
                     f"Live 0x{addr[name]:016x}{' (' + t + ')' if t else ''}\n")
        sm = f"sys/module/{name}"
        m.sysfs(f"{sm}/initstate", "live")
        m.sysfs(f"{sm}/refcnt", refs)
        m.sysfs(f"{sm}/coresize", size)
        m.sysfs(f"{sm}/taint", t)
    m.loaded = lines
    m.write("proc/modules", "".join(lines))


def nvidia_loaded(m, drv):
    """proc/driver/nvidia/version and sys/module/<nvidia*>/version for the
    running driver, and per-GPU information files."""
    arch = "x86_64" if m.arch == "x86_64" else "aarch64"
    if drv.open:
        head = (f"NVRM version: NVIDIA UNIX Open Kernel Module for {arch}  "
                f"{drv.version}  Release Build  ({drv.build})  {drv.date}\n")
    else:
        head = f"NVRM version: NVIDIA UNIX {arch} Kernel Module  {drv.version}  {drv.date}\n"
    m.write("proc/driver/nvidia/version", head + f"GCC version:  {drv.gcc} \n")
    for line in m.loaded:
        name = line.split()[0]
        if name.startswith("nvidia"):
            m.sysfs(f"sys/module/{name}/version", drv.version)
            m.sysfs(f"sys/module/{name}/srcversion", srcversion(name, drv.version))
    minor = 0
    for bdf, path in sorted(m.bound.get("nvidia", [])):
        dev = int(open(m.path(f"{path}/device")).read(), 16)
        uuid = fixed_hex("gpu" + bdf + m.name, 32)
        m.write(f"proc/driver/nvidia/gpus/{bdf}/information",
                f"Model: \t\t {GPU_NAMES[dev]}\n"
                f"IRQ:   \t\t {180 + minor}\n"
                f"GPU UUID: \t GPU-{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-"
                f"{uuid[16:20]}-{uuid[20:]}\n"
                "Video BIOS: \t 96.00.99.00.01\n"
                "Bus Type: \t PCIe\n"
                "DMA Size: \t 52 bits\n"
                "DMA Mask: \t 0xfffffffffffff\n"
                f"Bus Location: \t {bdf}\n"
                f"Device Minor: \t {minor}\n"
                "GPU Excluded:\t No\n")
        minor += 1


# ---------------------------------------------------------------------------
# Firmware, boot loader, OS identity, NVIDIA user space


def make_efi(m, secure_boot):
    """secure_boot: True/False, or None for firmware that has no SecureBoot
    variable at all."""
    m.sysfs("sys/firmware/efi/fw_platform_size", 64)
    v = "sys/firmware/efi/efivars"
    m.write(f"{v}/BootCurrent-{EFI_GLOBAL}", b"\x06\0\0\0\x01\0")
    m.write(f"{v}/BootOrder-{EFI_GLOBAL}", b"\x07\0\0\0\x01\0\x00\0\x02\0")
    if secure_boot is not None:
        m.write(f"{v}/SecureBoot-{EFI_GLOBAL}", b"\x06\0\0\0" + bytes([secure_boot]))
        m.write(f"{v}/SetupMode-{EFI_GLOBAL}", b"\x06\0\0\0\0")


def grubenv(lines, rh=False):
    text = "# GRUB Environment Block\n"
    if rh:
        text += "# WARNING: Do not edit this file by tools other than grub-editenv!!!\n"
    text += "".join(line + "\n" for line in lines)
    assert len(text) <= 1024
    return text + "#" * (1024 - len(text))


GRUB_HEAD = """#
# DO NOT EDIT THIS FILE
#
# It is automatically generated by {mkconfig} using templates
# from /etc/grub.d and settings from /etc/default/grub
#

### BEGIN /etc/grub.d/00_header ###
{load_env}if [ "${{next_entry}}" ] ; then
   set default="${{next_entry}}"
   set next_entry=
   save_env next_entry
   set boot_once=true
else
   set default="{default}"
fi

if [ x"${{feature_menuentry_id}}" = xy ]; then
  menuentry_id_option="--id"
else
  menuentry_id_option=""
fi

export menuentry_id_option

if [ "${{prev_saved_entry}}" ]; then
  set saved_entry="${{prev_saved_entry}}"
  save_env saved_entry
  set prev_saved_entry=
  save_env prev_saved_entry
  set boot_once=true
fi

function savedefault {{
  if [ -z "${{boot_once}}" ]; then
    saved_entry="${{chosen}}"
    save_env saved_entry
  fi
}}

function load_video {{
  if [ x$feature_all_video_module = xy ]; then
    insmod all_video
  else
    insmod efi_gop
    insmod efi_uga
    insmod ieee1275_fb
    insmod vbe
    insmod vga
    insmod video_bochs
    insmod video_cirrus
  fi
}}

terminal_output console
set timeout_style=menu
set timeout=5
### END /etc/grub.d/00_header ###
"""

GRUB_LOAD_ENV = """if [ -s $prefix/grubenv ]; then
  set have_grubenv=true
  load_env
fi
"""
GRUB_LOAD_ENV_RH = """set pager=1

if [ -f ${config_directory}/grubenv ]; then
  load_env -f ${config_directory}/grubenv
elif [ -s $prefix/grubenv ]; then
  load_env
fi
"""


def grub_debian(m, os_name, cls, root_uuid, root_arg, cmdline, search,
                platform, saved=None):
    """boot/grub/grub.cfg + grubenv as update-grub writes them (GRUB_DEFAULT=saved
    when saved names the kernel of saved_entry), and the ESP stub on EFI."""
    kernels = sorted(m.kernels, reverse=True, key=lambda k: [
        (0, int(x)) if x.isdigit() else (1, x) for x in k.kver.replace("-", ".").split(".")])
    adv = f"gnulinux-advanced-{root_uuid}"
    out = [GRUB_HEAD.format(mkconfig="grub-mkconfig", load_env=GRUB_LOAD_ENV,
                            default="${saved_entry}" if saved else "0"),
           "### BEGIN /etc/grub.d/10_linux ###\n"]
    recordfail = "\trecordfail\n" if cls == "ubuntu" else ""

    def entry(title, eid, kver, extra, indent):
        body = (f"menuentry '{title}' --class {cls} --class gnu-linux --class gnu "
                f"--class os $menuentry_id_option '{eid}' {{\n{recordfail}"
                "\tload_video\n\tinsmod gzio\n"
                "\tif [ x$grub_platform = xxen ]; then insmod xzio; insmod lzopio; fi\n"
                f"{search}"
                f"\techo\t'Loading Linux {kver} ...'\n"
                f"\tlinux\t/boot/vmlinuz-{kver} root={root_arg} ro {extra}\n"
                "\techo\t'Loading initial ramdisk ...'\n"
                f"\tinitrd\t/boot/initrd.img-{kver}\n}}\n")
        return "".join(indent + line + "\n" for line in body.splitlines())

    out.append(entry(os_name, f"gnulinux-simple-{root_uuid}", kernels[0].kver, cmdline, ""))
    out.append(f"submenu 'Advanced options for {os_name}' $menuentry_id_option '{adv}' {{\n")
    for k in kernels:
        out.append(entry(f"{os_name}, with Linux {k.kver}",
                         f"gnulinux-{k.kver}-advanced-{root_uuid}", k.kver, cmdline, "\t"))
        out.append(entry(f"{os_name}, with Linux {k.kver} (recovery mode)",
                         f"gnulinux-{k.kver}-recovery-{root_uuid}", k.kver,
                         "recovery nomodeset dis_ucode_ldr" if cls == "ubuntu"
                         else "single dis_ucode_ldr", "\t"))
    out.append("}\n### END /etc/grub.d/10_linux ###\n")
    m.write("boot/grub/grub.cfg", "".join(out))
    env = [f"saved_entry={adv}>gnulinux-{saved}-advanced-{root_uuid}"] if saved else []
    m.write("boot/grub/grubenv", grubenv(env))
    m.write(f"boot/grub/{platform}/normal.mod", b"\x7fELF placeholder grub module\n")
    if platform != "i386-pc":
        m.write(f"boot/efi/EFI/{cls}/grub.cfg",
                f"search.fs_uuid {root_uuid} root\nset prefix=($root)'/boot/grub'\n"
                "configfile $prefix/grub.cfg\n")


def bls_entries(m, os_title, os_id, options_line, grub_class, stamps):
    """boot/loader/entries/<machine-id>-<kver>.conf of each kernel as the RHEL family
    writes them; stamps: kver -> the build time in the entry's id."""
    mid = m.machine_id
    for k in m.kernels:
        m.write(f"boot/loader/entries/{mid}-{k.kver}.conf",
                f"title {os_title} ({k.kver}) {k.title}\n"
                f"version {k.kver}\n"
                f"linux /vmlinuz-{k.kver}\n"
                f"initrd /initramfs-{k.kver}.img $tuned_initrd\n"
                f"options {options_line}\n"
                f"id {os_id}-{stamps[k.kver]}-{k.kver}\n"
                "grub_users $grub_users\n"
                "grub_arg --unrestricted\n"
                f"grub_class {grub_class}\n")


def blscfg_grub_cfg(boot_uuid, options):
    """The grub.cfg grub2-mkconfig writes for BLS: /boot found by UUID, kernelopts
    defaulting to options, then blscfg."""
    search = (f"insmod part_gpt\ninsmod xfs\n"
              f"search --no-floppy --fs-uuid --set=root {boot_uuid}\n")
    return (GRUB_HEAD.format(mkconfig="grub2-mkconfig", load_env=GRUB_LOAD_ENV_RH,
                             default="${saved_entry}") +
            "### BEGIN /etc/grub.d/10_linux ###\n" + search +
            search.replace("--set=root", "--set=boot") +
            "\n# This section was generated by a script. Do not modify the generated "
            "file - all changes\n# will be lost the next time file is regenerated. "
            "Instead edit the BootLoaderSpec files.\n#\n"
            "# The blscfg command parses the BootLoaderSpec files stored in "
            "/boot/loader/entries and\n# populates the boot menu.\n"
            "if [ -z \"${kernelopts}\" ]; then\n"
            f"  set kernelopts=\"{options} \"\nfi\n\n"
            "insmod blscfg\nblscfg\n### END /etc/grub.d/10_linux ###\n")


def bls_rocky(m, boot_uuid, options, stamps):
    """Rocky 9: BLS entries, grub2.cfg with blscfg, grubenv, ESP stub."""
    mid = m.machine_id
    bls_entries(m, "Rocky Linux", "rocky", f"{options} $tuned_params", "rocky", stamps)
    m.write("boot/grub2/grub.cfg", blscfg_grub_cfg(boot_uuid, options))
    m.write("boot/grub2/grubenv", grubenv(
        [f"saved_entry={mid}-{m.running.kver}", "menu_auto_hide=1",
         "boot_success=0", "boot_indeterminate=0"], rh=True))
    m.write("boot/efi/EFI/rocky/grub.cfg",
            f"search --no-floppy --fs-uuid --set=dev {boot_uuid}\n"
            "set prefix=($dev)/grub2\n\nexport $prefix\nconfigfile $prefix/grub.cfg\n")


def oe_title(k):
    return f"openEuler ({k.kver}) {k.title}"


def grub_openeuler(m, boot_uuid, root_uuid, options):
    """openEuler on UEFI: the whole grub.cfg and the grubenv live on the ESP;
    /boot/grub2/grubenv is a relative symlink to it."""
    out = [GRUB_HEAD.format(mkconfig="grub2-mkconfig", load_env=GRUB_LOAD_ENV_RH,
                            default="${saved_entry}"),
           "### BEGIN /etc/grub.d/10_linux ###\n"]
    for k in m.kernels:
        out.append(
            f"menuentry '{oe_title(k)}' --class openeuler --class gnu-linux "
            f"--class gnu --class os --unrestricted $menuentry_id_option "
            f"'gnulinux-{k.kver}-advanced-{root_uuid}' {{\n"
            "\tload_video\n\tset gfxpayload=keep\n\tinsmod gzio\n\tinsmod part_gpt\n"
            f"\tinsmod ext2\n\tsearch --no-floppy --fs-uuid --set=root {boot_uuid}\n"
            f"\techo\t'Loading Linux {k.kver} ...'\n"
            f"\tlinux\t/vmlinuz-{k.kver} {options}\n"
            "\techo\t'Loading initial ramdisk ...'\n"
            f"\tinitrd\t/initramfs-{k.kver}.img\n}}\n")
    out.append("### END /etc/grub.d/10_linux ###\n")
    m.write("boot/efi/EFI/openEuler/grub.cfg", "".join(out))
    m.write("boot/efi/EFI/openEuler/grubenv", grubenv(
        [f"saved_entry={oe_title(m.running)}", "boot_success=0"], rh=True))
    m.symlink("boot/grub2/grubenv", "../efi/EFI/openEuler/grubenv")
    m.write("boot/grub2/fonts/unicode.pf2", b"PFF2placeholder\n")


UBUNTU_OS_RELEASE = """PRETTY_NAME="Ubuntu {point} LTS"
NAME="Ubuntu"
VERSION_ID="{version}"
VERSION="{point} LTS ({name})"
VERSION_CODENAME={codename}
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
UBUNTU_CODENAME={codename}
"""


def ubuntu_os_release(point, name, extra=""):
    """os-release of an Ubuntu LTS point release, e.g. "22.04.4", "Jammy Jellyfish"."""
    return UBUNTU_OS_RELEASE.format(point=point, version=point[:5], name=name,
                                    codename=name.split()[0].lower()) + extra


OS_RELEASE = {
    "ubuntu2204": ubuntu_os_release("22.04.4", "Jammy Jellyfish"),
    "ubuntu2404": ubuntu_os_release("24.04.1", "Noble Numbat", "LOGO=ubuntu-logo\n"),
    "ubuntu2004": """NAME="Ubuntu"
VERSION="20.04.6 LTS (Focal Fossa)"
ID=ubuntu
ID_LIKE=debian
PRETTY_NAME="Ubuntu 20.04.6 LTS"
VERSION_ID="20.04"
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
VERSION_CODENAME=focal
UBUNTU_CODENAME=focal
""",
    "rhel810": """NAME="Red Hat Enterprise Linux"
VERSION="8.10 (Ootpa)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="8.10"
PLATFORM_ID="platform:el8"
PRETTY_NAME="Red Hat Enterprise Linux 8.10 (Ootpa)"
ANSI_COLOR="0;31"
CPE_NAME="cpe:/o:redhat:enterprise_linux:8::baseos"
HOME_URL="https://www.redhat.com/"
DOCUMENTATION_URL="https://access.redhat.com/documentation/en-us/red_hat_enterprise_linux/8"
BUG_REPORT_URL="https://bugzilla.redhat.com/"

REDHAT_BUGZILLA_PRODUCT="Red Hat Enterprise Linux 8"
REDHAT_BUGZILLA_PRODUCT_VERSION=8.10
REDHAT_SUPPORT_PRODUCT="Red Hat Enterprise Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="8.10"
""",
    "rocky93": """NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
ANSI_COLOR="0;32"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:rocky:rocky:9::baseos"
HOME_URL="https://rockylinux.org/"
BUG_REPORT_URL="https://bugs.rockylinux.org/"
SUPPORT_END="2032-05-31"
ROCKY_SUPPORT_PRODUCT="Rocky-Linux-9"
ROCKY_SUPPORT_PRODUCT_VERSION="9.3"
REDHAT_SUPPORT_PRODUCT="Rocky Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="9.3"
""",
    "openeuler2203sp3": """NAME="openEuler"
VERSION="22.03 (LTS-SP3)"
ID="openEuler"
VERSION_ID="22.03"
PRETTY_NAME="openEuler 22.03 (LTS-SP3)"
ANSI_COLOR="0;31"

""",
    "debian12": """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
""",
}


def make_os(m, release, etc_link, hostname, machine_id):
    """usr/lib/os-release and etc/os-release as: "relative" symlink
    ../usr/lib/os-release, "absolute" symlink, "file" (etc only) or
    "missing"; the usrmerge links; hostname and machine-id."""
    text = OS_RELEASE[release]
    if etc_link == "file":
        m.write("etc/os-release", text)
    else:
        m.write("usr/lib/os-release", text)
        if etc_link == "relative":
            m.symlink("etc/os-release", "../usr/lib/os-release")
        elif etc_link == "absolute":
            m.symlink("etc/os-release", "/usr/lib/os-release")
    for d in ["bin", "sbin", "lib"] + ["lib64"] * (m.arch == "x86_64"):
        m.mkdir(f"usr/{d}")
        m.symlink(d, f"usr/{d}")
    # Something in each merged directory (git keeps no empty ones).
    m.write("usr/bin/kmod", "#!/bin/sh\n# placeholder\n", 0o755)
    m.symlink("usr/sbin/modprobe", "../bin/kmod")
    if m.arch == "x86_64":
        m.write("usr/lib64/ld-linux-x86-64.so.2", b"\x7fELF placeholder\n")
    m.sysfs("etc/hostname", hostname)
    m.sysfs("etc/machine-id", machine_id)
    m.machine_id = machine_id
    m.sysfs("proc/sys/kernel/hostname", hostname)


def boot_identity(m, running, cmdline, version):
    m.running = running
    m.sysfs("proc/sys/kernel/osrelease", running.kver)
    m.sysfs("proc/cmdline", cmdline)
    m.sysfs("proc/version", f"Linux version {running.kver} {version}")


CUDA = {
    "12.2.2": {"cuda_cccl": "12.2.140", "cuda_cudart": "12.2.140",
               "cuda_nvcc": "12.2.140", "cuda_nvrtc": "12.2.140",
               "libcublas": "12.2.5.6", "nvidia_driver": "535.104.05"},
    "12.4.1": {"cuda_cccl": "12.4.127", "cuda_cudart": "12.4.127",
               "cuda_nvcc": "12.4.131", "cuda_nvrtc": "12.4.127",
               "libcublas": "12.4.5.8", "nvidia_driver": "550.54.15"},
    "12.6.2": {"cuda_cccl": "12.6.77", "cuda_cudart": "12.6.77",
               "cuda_nvcc": "12.6.77", "cuda_nvrtc": "12.6.77",
               "libcublas": "12.6.3.3", "nvidia_driver": "560.35.03"},
}
CUDA_NAMES = {"cuda": "CUDA SDK", "cuda_cccl": "CUDA C++ Core Compute Libraries",
              "cuda_cudart": "CUDA Runtime (cudart)", "cuda_nvcc": "CUDA NVCC",
              "cuda_nvrtc": "CUDA NVRTC", "libcublas": "CUDA cuBLAS",
              "nvidia_driver": "NVIDIA Linux Driver"}


def install_cuda(m, version):
    """usr/local/cuda-X.Y/version.json as the toolkit writes it, and the
    usr/local/cuda link."""
    short = ".".join(version.split(".")[:2])
    comps = {"cuda": version, **CUDA[version]}
    body = ",\n".join(f'   "{c}" : {{\n      "name" : "{CUDA_NAMES[c]}",\n'
                      f'      "version" : "{v}"\n   }}' for c, v in comps.items())
    m.write(f"usr/local/cuda-{short}/version.json", "{\n" + body + "\n}\n")
    m.write(f"usr/local/cuda-{short}/bin/nvcc", "#!/bin/sh\n# placeholder\n", 0o755)
    m.symlink("usr/local/cuda", f"cuda-{short}")


def cuda_from_apt(m, version):
    """CUDA installed from NVIDIA's apt repository: cuda-toolkit-X-Y and cuda-nvcc-X-Y
    in dpkg's database, and the toolkit itself (install_cuda)."""
    xy = "-".join(version.split(".")[:2])
    dpkg_package(m, f"cuda-toolkit-{xy}", f"{version}-1", DEB_ARCH[m.arch])
    dpkg_package(m, f"cuda-nvcc-{xy}", f"{CUDA[version]['cuda_nvcc']}-1", DEB_ARCH[m.arch])
    install_cuda(m, version)


def install_fabricmanager(m):
    m.write("usr/bin/nv-fabricmanager", "#!/bin/sh\n# placeholder\nexit 0\n", 0o755)
    m.write("usr/share/nvidia/nvswitch/fabricmanager.cfg",
            "# NVIDIA Fabric Manager configuration file.\n"
            "# Note: This config file is for Fabric Manager v1.0 and above\n\n"
            "LOG_LEVEL=4\nLOG_FILE_NAME=/var/log/fabricmanager.log\n"
            "LOG_APPEND_TO_LOG=1\nLOG_FILE_MAX_SIZE=1024\nLOG_USE_SYSLOG=0\n"
            "DAEMONIZE=1\nBIND_INTERFACE_IP=127.0.0.1\nSTARTING_TCP_PORT=16000\n"
            "FABRIC_MODE=0\nFABRIC_MODE_RESTART=0\n"
            "STATE_FILE_NAME=/tmp/fabricmanager.state\n"
            "FM_CMD_BIND_INTERFACE=127.0.0.1\nFM_CMD_PORT_NUMBER=6666\n"
            "FM_STAY_RESIDENT_ON_FAILURES=0\nACCESS_LINK_FAILURE_MODE=0\n"
            "TRUNK_LINK_FAILURE_MODE=0\nNVSWITCH_FAILURE_MODE=0\n"
            "ABORT_CUDA_JOBS_ON_FM_EXIT=1\n"
            "TOPOLOGY_FILE_PATH=/usr/share/nvidia/nvswitch\n"
            "DATABASE_PATH=/usr/share/nvidia/nvswitch\n")


def write_readme(m, text):
    with open(os.path.join(m.dir, "README.md"), "w") as f:
        f.write(text.strip() + "\n")


def finish(m):
    finish_kernels(m)
    pci_drivers(m)
    if m.dpkg:
        write_dpkg_status(m)


# ---------------------------------------------------------------------------
# Repository views: what the machine's repositories offer (doc/formats.md
# section 3).  Debian family: the Packages indexes apt keeps in
# var/lib/apt/lists; every family may have var/lib/gpuprov/repo.json.  Each
# index holds only the packages gpuprov looks at, not a whole archive.

UBUNTU_KERNEL_MAINT = "Ubuntu Kernel Team <kernel-team@lists.ubuntu.com>"
CANONICAL_KERNEL_MAINT = "Canonical Kernel Team <kernel-team@lists.ubuntu.com>"
DEBIAN_KERNEL_MAINT = "Debian Kernel Team <debian-kernel@lists.debian.org>"
DEB_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}


def apt_list(m, uri_path, stanzas):
    """var/lib/apt/lists/<name>: apt names an index after its URI without the
    scheme, '_' escaped as %5f, then '/' turned into '_'."""
    name = uri_path.replace("_", "%5f").replace("/", "_")
    # Sorted by package name as the archive tools write them; versions keep their order.
    stanzas = sorted(stanzas, key=lambda st: st.split("\n", 1)[0])
    m.write(f"var/lib/apt/lists/{name}", "\n".join(stanzas))


def pool_dir(component, source):
    """pool/<component>/<l or libX>/<source>, as Debian archives lay them out."""
    prefix = source[:4] if source.startswith("lib") else source[0]
    return f"pool/{component}/{prefix}/{source}"


def deb_stanza(name, version, arch, section, maint, desc, pool, source=None,
               depends=(), provides=(), kb=2, inst=None):
    """One Packages stanza as the archive publishes it: short description only
    (the long ones live in the Translation indexes), sizes and checksum fixed
    by the file name.  kb: download size in kB, inst: installed size in kB."""
    filename = f"{pool}/{name}_{version.split(':', 1)[-1]}_{arch}.deb"
    size = max(600, kb * 1024 - int(fixed_hex("size" + filename, 3), 16) % 1000)
    inst = inst if inst is not None else max(16, kb * 3)
    out = [f"Package: {name}", f"Architecture: {arch}", f"Version: {version}",
           "Priority: optional", f"Section: {section}"]
    if source:
        out.append(f"Source: {source}")
    out += [f"Maintainer: {maint}", f"Installed-Size: {inst}"]
    if provides:
        out.append("Provides: " + ", ".join(provides))
    if depends:
        out.append("Depends: " + ", ".join(depends))
    out += [f"Filename: {filename}", f"Size: {size}",
            f"SHA256: {fixed_hex('sha256' + filename, 64)}", f"Description: {desc}"]
    return "".join(line + "\n" for line in out)


def upstream(version):
    """550.127.05-0ubuntu0.22.04.1 -> 550.127.05"""
    return version.split(":", 1)[-1].split("-")[0]


# An Ubuntu kernel the archive offers.  src: the suffix of its source packages
# ("" for linux/linux-signed, "-hwe-6.8", "-nvidia", "-realtime"); lrm: the
# version of its precompiled NVIDIA module packages (linux-restricted-modules),
# None where Canonical builds none; built: branch -> the driver those modules
# were built from, where it is not the branch's current one.
UKernel = namedtuple("UKernel", "release pkgver src lrm built", defaults=(None, {}))
# Meta packages linux-<flavour>, linux-image-<flavour>, linux-headers-<flavour>
# pointing at kernel; lrm: version of linux-modules-nvidia-<br>-server[-open]-<flavour>.
UMeta = namedtuple("UMeta", "flavour version src kernel lrm", defaults=(None,))

# Per release: the libraries the kernel headers link against.
UBUNTU_SERIES = {
    "focal": ("20.04", ["libc6 (>= 2.14)", "libelf1 (>= 0.142)", "libssl1.1 (>= 1.1.0)"]),
    "jammy": ("22.04", ["libc6 (>= 2.34)", "libelf1 (>= 0.142)",
                        "libssl3 (>= 3.0.0~~alpha1)"]),
    "noble": ("24.04", ["libc6 (>= 2.38)", "libelf1t64 (>= 0.142)", "libssl3t64 (>= 3.0.0)"]),
}


def abi(release):
    """5.15.0-125-generic -> 5.15.0-125"""
    return "-".join(release.split("-")[:2])


def ubuntu_kernel_stanzas(series, arch, k, component="main"):
    """linux-image/-modules(-extra)/-headers-<release> of one Ubuntu kernel."""
    a = DEB_ARCH[arch]
    r, v = k.release, k.pkgver
    flavour = r.split("-", 2)[2]
    signed, unsigned = "linux-signed" + k.src, "linux" + k.src
    base = abi(r)
    common = (f"linux{k.src}-headers-{base}" if k.src else f"linux-headers-{base}")
    big = r.startswith("6.")
    out = [deb_stanza(f"linux-image-{r}", v, a, "kernel", UBUNTU_KERNEL_MAINT,
                      f"Signed kernel image {flavour}", pool_dir(component, signed),
                      signed, ["linux-base (>= 4.5ubuntu1~16.04.1)", f"linux-modules-{r}"],
                      kb=14800 if big else 11600, inst=16100 if big else 12700),
           deb_stanza(f"linux-modules-{r}", v, a, "kernel", UBUNTU_KERNEL_MAINT,
                      f"Linux kernel extra modules for version {r.split('-')[0]}",
                      pool_dir(component, unsigned), unsigned,
                      [f"linux-image-{r} | linux-image-unsigned-{r}"],
                      kb=25600 if big else 22400, inst=142900 if big else 101800)]
    if flavour == "generic" and arch == "x86_64":
        out.append(deb_stanza(f"linux-modules-extra-{r}", v, a, "kernel", UBUNTU_KERNEL_MAINT,
                              f"Linux kernel extra modules for version {r.split('-')[0]}",
                              pool_dir(component, unsigned), unsigned,
                              [f"linux-modules-{r}", "wireless-regdb"],
                              kb=89100 if big else 64300, inst=438200 if big else 321500))
    out.append(deb_stanza(f"linux-headers-{r}", v, a, "kernel", UBUNTU_KERNEL_MAINT,
                          f"Linux kernel headers for version {r.split('-')[0]}",
                          pool_dir(component, unsigned), unsigned,
                          [common] + UBUNTU_SERIES[series][1] + ["zlib1g (>= 1:1.2.3.3)"],
                          kb=3400 if big else 2900, inst=28700 if big else 23600))
    return out


def flavour_title(flavour):
    return {"generic": "Generic", "generic-64k": "Generic 64K", "nvidia-64k": "NVIDIA 64K",
            "realtime": "Realtime"}.get(flavour.replace("-hwe-22.04", ""), flavour)


def ubuntu_meta_stanzas(arch, meta, component="main"):
    """linux-<flavour>, linux-image-<flavour>, linux-headers-<flavour>."""
    a, f, v, r = DEB_ARCH[arch], meta.flavour, meta.version, meta.kernel.release
    pool = pool_dir(component, meta.src)
    title = flavour_title(f)
    image = [f"linux-image-{r}"]
    if f.startswith("generic") and arch == "x86_64":
        image += [f"linux-modules-extra-{r}", "linux-firmware", "intel-microcode",
                  "amd64-microcode"]
    else:
        image.append("linux-firmware")
    return [deb_stanza(f"linux-{f}", v, a, "kernel", UBUNTU_KERNEL_MAINT,
                       f"Complete {title} Linux kernel and headers", pool, meta.src,
                       [f"linux-image-{f} (= {v})", f"linux-headers-{f} (= {v})"]),
            deb_stanza(f"linux-image-{f}", v, a, "kernel", UBUNTU_KERNEL_MAINT,
                       f"{title} Linux kernel image", pool, meta.src, image),
            deb_stanza(f"linux-headers-{f}", v, a, "kernel", UBUNTU_KERNEL_MAINT,
                       f"{title} Linux kernel headers", pool, meta.src,
                       [f"linux-headers-{r}"])]


def ubuntu_driver_stanzas(arch, branch, version):
    """The Ubuntu archive's server driver branch <branch>: headless metas, the
    DKMS packages, the user space and fabric manager (restricted)."""
    a, v, d = DEB_ARCH[arch], version, upstream(version)
    src = f"nvidia-graphics-drivers-{branch}-server"
    pool = pool_dir("restricted", src)
    b = f"{branch}-server"
    out = []

    def pkg(name, section, desc, depends=(), provides=(), kb=12, inst=None):
        out.append(deb_stanza(name, v, a, f"restricted/{section}", UBUNTU_MAINT, desc,
                              pool, src, depends, provides, kb, inst))

    for kind, what in (("", ""), ("-open", " (open kernel module)")):
        pkg(f"nvidia-headless-{b}{kind}", "libs", f"NVIDIA headless metapackage{what}",
            [f"nvidia-headless-no-dkms-{b}{kind} (= {v})", f"nvidia-dkms-{b}{kind} (= {v})"],
            ["nvidia-headless"])
        pkg(f"nvidia-headless-no-dkms-{b}{kind}", "libs",
            f"NVIDIA headless metapackage - no DKMS{what}",
            [f"nvidia-kernel-common-{b} (= {v})", f"nvidia-kernel-source-{b}{kind} (= {v})",
             f"libnvidia-compute-{b} (= {v})", f"nvidia-compute-utils-{b} (= {v})"])
        pkg(f"nvidia-dkms-{b}{kind}", "libs", f"NVIDIA DKMS package{what}",
            ["dkms", f"nvidia-kernel-common-{b} (<= {d}-1)", f"nvidia-kernel-common-{b} (>= {d})",
             f"nvidia-kernel-source-{b}{kind} (<= {d}-1)",
             f"nvidia-kernel-source-{b}{kind} (>= {d})"], ["nvidia-dkms-kernel"], kb=40, inst=130)
        pkg(f"nvidia-kernel-source-{b}{kind}", "libs", f"NVIDIA kernel source package{what}",
            [f"nvidia-kernel-common-{b} (= {v})"], kb=8200 if kind else 41300,
            inst=62100 if kind else 77900)
    pkg(f"nvidia-kernel-common-{b}", "libs", "Shared files used with the kernel module",
        [], [f"nvidia-kernel-common-{b}-{d}"], kb=36200, inst=56400)
    pkg(f"libnvidia-compute-{b}", "libs", "NVIDIA libcompute package",
        ["libc6 (>= 2.34)"], kb=49300, inst=221500)
    pkg(f"nvidia-utils-{b}", "utils", "NVIDIA Server Driver support binaries",
        [f"libnvidia-compute-{b}"], kb=520, inst=1700)
    pkg(f"nvidia-compute-utils-{b}", "utils", "NVIDIA compute utilities",
        [f"libnvidia-compute-{b} (= {v})", "adduser"], kb=130, inst=420)
    fm_src = f"fabric-manager-{branch}"
    out.append(deb_stanza(f"nvidia-fabricmanager-{branch}", v, a, "restricted/utils",
                          UBUNTU_MAINT, "Fabric Manager for NVSwitch based systems.",
                          pool_dir("restricted", fm_src), fm_src, ["libc6 (>= 2.34)"],
                          kb=3000, inst=10100))
    return out


def ubuntu_lrm_stanzas(arch, k, branches):
    """Canonical's signed precompiled NVIDIA modules for kernel k: per branch
    linux-modules-nvidia-<br>-server[-open]-<release> (what gets installed),
    the objects they link from, and the kernel's module signatures."""
    a, r, lv = DEB_ARCH[arch], k.release, k.lrm
    src = "linux-restricted-modules" + k.src
    pool = pool_dir("restricted", src)
    out = [deb_stanza(f"linux-signatures-nvidia-{r}", lv, a, "restricted/kernel",
                      CANONICAL_KERNEL_MAINT, f"Linux kernel signatures for nvidia modules "
                      f"for version {r}", pool, src, kb=20, inst=90)]
    for branch, version in branches.items():
        d = k.built.get(branch, upstream(version))
        for kind in ("", "-open"):
            b = f"{branch}-server{kind}"
            out.append(deb_stanza(
                f"linux-modules-nvidia-{b}-{r}", lv, a, "restricted/kernel",
                CANONICAL_KERNEL_MAINT, f"Linux kernel nvidia modules for version {abi(r)}",
                pool, src, ["debconf (>= 0.5) | debconf-2.0",
                            f"linux-image-{r} | linux-image-unsigned-{r}",
                            f"linux-signatures-nvidia-{r} (= {lv})",
                            f"linux-objects-nvidia-{b}-{r} (= {lv})",
                            f"nvidia-kernel-common-{branch}-server (>= {d})"], kb=14, inst=60))
            out.append(deb_stanza(
                f"linux-objects-nvidia-{b}-{r}", lv, a, "restricted/kernel",
                CANONICAL_KERNEL_MAINT,
                f"Linux kernel nvidia modules for version {abi(r)} (objects)", pool, src,
                [f"linux-image-{r} | linux-image-unsigned-{r}"],
                kb=9100 if kind else 38600, inst=21700 if kind else 95800))
    return out


def ubuntu_lrm_meta_stanzas(arch, meta, branches):
    """linux-modules-nvidia-<br>-server[-open]-<flavour>: follows the flavour's newest kernel."""
    a, k, lv = DEB_ARCH[arch], meta.kernel, meta.lrm
    src = "linux-restricted-modules" + k.src
    out = []
    for branch, version in branches.items():
        for kind in ("", "-open"):
            b = f"{branch}-server{kind}"
            out.append(deb_stanza(
                f"linux-modules-nvidia-{b}-{meta.flavour}", lv, a, "restricted/kernel",
                CANONICAL_KERNEL_MAINT,
                f"Extra drivers for nvidia-{b} for the {meta.flavour} flavour",
                pool_dir("restricted", src), src,
                [f"linux-modules-nvidia-{b}-{k.release} (= {lv})",
                 f"nvidia-kernel-common-{branch}-server (>= {upstream(version)})"]))
    return out


def apt_ubuntu(m, mirror, series, kernels, metas, branches, transitional=()):
    """<series>-updates main (kernels and metas) and restricted (server drivers,
    precompiled modules).  transitional: (name, version, replacement)."""
    a = DEB_ARCH[m.arch]
    main, restricted = [], []
    for k in kernels:
        main += ubuntu_kernel_stanzas(series, m.arch, k)
        if k.lrm:
            restricted += ubuntu_lrm_stanzas(m.arch, k, branches)
    for meta in metas:
        main += ubuntu_meta_stanzas(m.arch, meta)
        if meta.lrm:
            restricted += ubuntu_lrm_meta_stanzas(m.arch, meta, branches)
    for branch, version in branches.items():
        restricted += ubuntu_driver_stanzas(m.arch, branch, version)
    for name, version, new in transitional:
        src = "nvidia-graphics-drivers-" + name.split("-")[-2] + "-server"
        restricted.append(deb_stanza(name, version, a, "restricted/libs", UBUNTU_MAINT,
                                     f"Transitional package for {new}",
                                     pool_dir("restricted", src), src, [new], kb=3, inst=12))
    dists = f"{mirror}/dists/{series}-updates"
    apt_list(m, f"{dists}/main/binary-{a}/Packages", main)
    apt_list(m, f"{dists}/restricted/binary-{a}/Packages", restricted)


# NVIDIA's CUDA repositories (flat: "deb <uri> /").  A driver release there:
# version, whether the nvidia-open meta package exists for it.
NvRepoDriver = namedtuple("NvRepoDriver", "version open_meta")
CUDA_TOOLKITS = {"12.2.2": "12.2.140", "12.4.1": "12.4.127", "12.6.2": "12.6.77",
                 "12.6.3": "12.6.85", "12.8.1": "12.8.93", "13.0.2": "13.0.96"}


def cuda_toolkit_stanza(a, version):
    """cuda-toolkit-X-Y: the meta package of one toolkit release."""
    xy = "-".join(version.split(".")[:2])
    tv = f"{version}-1"
    return deb_stanza(f"cuda-toolkit-{xy}", tv, a, "devel", CUDA_MAINT,
                      f"CUDA Toolkit {xy.replace('-', '.')} meta-package", ".", None,
                      [f"cuda-compiler-{xy} (>= {version})",
                       f"cuda-libraries-{xy} (>= {version})",
                       f"cuda-libraries-dev-{xy} (>= {version})",
                       f"cuda-tools-{xy} (>= {version})",
                       f"cuda-documentation-{xy} (>= {CUDA_TOOLKITS[version]})",
                       f"cuda-nvml-dev-{xy} (>= {CUDA_TOOLKITS[version]})"], kb=3, inst=8)


def nvidia_repo_ubuntu_driver(a, drv):
    """One driver release in the Ubuntu flavour of the NVIDIA repository:
    Ubuntu-style packages (version <driver>-0ubuntu1) plus NVIDIA's metas
    (nvidia-open, cuda-drivers[-<br>], fabric manager: <driver>-1)."""
    d, br = drv.version, drv.version.split(".")[0]
    u, n = f"{d}-0ubuntu1", f"{d}-1"
    out = []

    def pkg(name, version, section, desc, depends=(), provides=(), kb=12, inst=None):
        out.append(deb_stanza(name, version, a, section, CUDA_MAINT, desc, ".", None,
                              depends, provides, kb, inst))

    for kind, what in (("", ""), ("-open", " (open kernel)")):
        pkg(f"nvidia-driver-{br}{kind}", u, "libs", f"NVIDIA driver{what} metapackage",
            [f"nvidia-dkms-{br}{kind} (= {u})", f"nvidia-kernel-common-{br} (= {u})",
             f"libnvidia-compute-{br} (= {u})", f"nvidia-compute-utils-{br} (= {u})",
             f"nvidia-utils-{br} (= {u})"], kb=480, inst=1500)
        pkg(f"nvidia-dkms-{br}{kind}", u, "libs",
            f"NVIDIA DKMS package{' (open kernel module)' if kind else ''}",
            ["dkms", f"nvidia-kernel-common-{br} (<= {d}-1)",
             f"nvidia-kernel-common-{br} (>= {d})",
             f"nvidia-kernel-source-{br}{kind} (<= {d}-1)",
             f"nvidia-kernel-source-{br}{kind} (>= {d})"], ["nvidia-dkms-kernel"], kb=40, inst=130)
        pkg(f"nvidia-kernel-source-{br}{kind}", u, "libs", "NVIDIA kernel source package",
            [f"nvidia-kernel-common-{br} (= {u})"], kb=8300 if kind else 41500,
            inst=62300 if kind else 78100)
    pkg(f"nvidia-kernel-common-{br}", u, "libs", "Shared files used with the kernel module",
        [], kb=36300, inst=56500)
    pkg(f"libnvidia-compute-{br}", u, "libs", "NVIDIA libcompute package",
        ["libc6 (>= 2.17)"], kb=49400, inst=221700)
    pkg(f"nvidia-utils-{br}", u, "utils", "NVIDIA driver support binaries",
        [f"libnvidia-compute-{br}"], kb=520, inst=1700)
    pkg(f"nvidia-compute-utils-{br}", u, "utils", "NVIDIA compute utilities",
        [f"libnvidia-compute-{br} (= {u})", "adduser"], kb=130, inst=420)
    if drv.open_meta:
        pkg("nvidia-open", n, "multiverse/devel", "NVIDIA open kernel module driver metapackage",
            [f"nvidia-driver-{br}-open (>= {d})"])
    pkg(f"cuda-drivers-{br}", n, "multiverse/devel", f"CUDA Driver native {br} meta-package",
        [f"nvidia-driver-{br} (>= {d}) | nvidia-driver-{br}-open (>= {d})"])
    pkg("cuda-drivers", n, "multiverse/devel", "CUDA Driver meta-package, branch-agnostic",
        [f"cuda-drivers-{br} (= {n})"])
    pkg(f"nvidia-fabricmanager-{br}", n, "multiverse/devel",
        "Fabric Manager for NVSwitch based systems.", ["libc6 (>= 2.17)"], kb=3000, inst=10100)
    pkg(f"cuda-drivers-fabricmanager-{br}", n, "multiverse/devel",
        f"CUDA Driver native {br} meta-package with Fabric Manager",
        [f"cuda-drivers-{br} (= {n})", f"nvidia-fabricmanager-{br} (= {n})"])
    return out


def nvidia_repo_debian_driver(a, drv):
    """One driver release in the Debian flavour of the NVIDIA repository: Debian's
    package names, every one at <driver>-1, so several branches sit side by side."""
    d, br = drv.version, drv.version.split(".")[0]
    n = f"{d}-1"
    out = []

    def pkg(name, section, desc, depends=(), provides=(), kb=12, inst=None):
        out.append(deb_stanza(name, n, a, section, CUDA_MAINT, desc, ".", None,
                              depends, provides, kb, inst))

    pkg("nvidia-driver", "non-free/x11", "NVIDIA metapackage",
        [f"nvidia-kernel-dkms (= {n}) | nvidia-kernel-open-dkms (= {n})",
         f"nvidia-driver-libs (= {n})", f"nvidia-kernel-support (= {n})",
         f"firmware-nvidia-gsp (= {n})"], kb=480, inst=1500)
    pkg("nvidia-kernel-dkms", "non-free/kernel", "NVIDIA binary kernel module DKMS source",
        ["dkms (>= 2.1.0.0)", f"nvidia-kernel-support (= {n})"], [f"nvidia-kernel-{d}"],
        kb=41500, inst=78100)
    pkg("nvidia-kernel-open-dkms", "non-free/kernel",
        "NVIDIA binary kernel module DKMS source (open kernel module flavor)",
        ["dkms (>= 2.1.0.0)", f"nvidia-kernel-support (= {n})"], [f"nvidia-kernel-{d}"],
        kb=8300, inst=62300)
    pkg("nvidia-kernel-support", "non-free/kernel", "NVIDIA binary kernel module support files",
        [], kb=30, inst=90)
    pkg("firmware-nvidia-gsp", "non-free-firmware/kernel", "NVIDIA GSP firmware",
        [], kb=36100, inst=56300)
    if drv.open_meta:
        pkg("nvidia-open", "non-free/x11", "NVIDIA open kernel module driver metapackage",
            [f"nvidia-driver (= {n})", f"nvidia-kernel-open-dkms (= {n})"])
    pkg(f"cuda-drivers-{br}", "non-free/x11", f"CUDA Driver native {br} meta-package",
        [f"nvidia-driver (= {n})"])
    pkg("cuda-drivers", "non-free/x11", "CUDA Driver meta-package, branch-agnostic",
        [f"cuda-drivers-{br} (= {n})"])
    pkg(f"nvidia-fabricmanager-{br}", "non-free/x11",
        "Fabric Manager for NVSwitch based systems.", ["libc6 (>= 2.17)"], kb=3000, inst=10100)
    pkg(f"cuda-drivers-fabricmanager-{br}", "non-free/x11",
        f"CUDA Driver native {br} meta-package with Fabric Manager",
        [f"cuda-drivers-{br} (= {n})", f"nvidia-fabricmanager-{br} (= {n})"])
    return out


def apt_nvidia(m, distro, drivers, toolkits):
    """developer.download.nvidia.com/compute/cuda/repos/<distro>/<x86_64|sbsa>/."""
    a = DEB_ARCH[m.arch]
    one = nvidia_repo_debian_driver if distro.startswith("debian") else nvidia_repo_ubuntu_driver
    stanzas = [deb_stanza("cuda-keyring", "1.1-1", "all", "misc", CUDA_MAINT,
                          "GPG keyring for the CUDA repository", ".", None, kb=5, inst=17)]
    for drv in drivers:
        stanzas += one(a, drv)
    stanzas += [cuda_toolkit_stanza(a, t) for t in toolkits]
    where = "x86_64" if m.arch == "x86_64" else "sbsa"
    apt_list(m, f"developer.download.nvidia.com/compute/cuda/repos/{distro}/{where}/Packages",
             stanzas)


# NVIDIA's container toolkit repository (nvidia.github.io/libnvidia-container, stable),
# as a node configured for it by NVIDIA's install guide has it: one deb list per
# architecture, one rpm repository per architecture, the same for every distribution.
# The packages come from tests/pkg/ctk-packages, the stand-in repositories' one source.
# The releases: the newest the knowledge lists and older ones free of its CVEs, so that
# latest-for-driver has a choice and a pin to an older release is offered too.
CTK_PACKAGES = os.path.join(HERE, "..", "pkg", "ctk-packages")
CTK_RELEASES = ["1.17.8", "1.18.1", "1.20.0"]


def ctk_packages(kind, arch):
    return subprocess.run([CTK_PACKAGES, kind, arch, *CTK_RELEASES], check=True,
                          stdout=subprocess.PIPE, text=True).stdout


def apt_ctk(m):
    """var/lib/apt/lists for nvidia.github.io/libnvidia-container/stable/deb/<arch>."""
    a = DEB_ARCH[m.arch]
    stanzas = [st + "\n" for st in ctk_packages("deb", a).split("\n\n") if st.strip()]
    apt_list(m, f"nvidia.github.io/libnvidia-container/stable/deb/{a}/Packages", stanzas)


def rpm_ctk(arch):
    """The packages of nvidia.github.io/libnvidia-container/stable/rpm/<arch>, for repo_json."""
    return [(p["name"], p["version"], p["arch"], p["repo"])
            for p in json.loads(ctk_packages("rpm", arch))["packages"]]


# The Ubuntu archive as the machines see it.  Driver branches of the server
# series in <series>-updates restricted.
def ubuntu_branches(series, versions):
    return {v.split(".")[0]: f"{v}-0ubuntu0.{UBUNTU_SERIES[series][0]}.1" for v in versions}


JAMMY_K105 = UKernel("5.15.0-105-generic", "5.15.0-105.115", "", "5.15.0-105.115",
                     {"535": "535.171.04", "550": "550.54.15"})
JAMMY_K125 = UKernel("5.15.0-125-generic", "5.15.0-125.135", "", "5.15.0-125.135+1")
JAMMY_HWE49 = UKernel("6.8.0-49-generic", "6.8.0-49.49~22.04.1", "-hwe-6.8",
                      "6.8.0-49.49~22.04.1")
JAMMY_BRANCHES = ubuntu_branches("jammy", ["535.216.01", "550.127.05", "570.124.06",
                                           "580.95.05"])
NV_UBUNTU2204 = [NvRepoDriver("535.216.01", False), NvRepoDriver("550.54.15", False),
                 NvRepoDriver("550.127.05", True), NvRepoDriver("570.124.06", True),
                 NvRepoDriver("580.95.05", True)]


def repo_view_jammy(m):
    """Ubuntu 22.04 x86_64: jammy-updates (GA 5.15 and HWE 6.8 kernels, server
    drivers 535/550/570 with precompiled modules for every kernel, 525-server
    only as transitional packages) and NVIDIA's ubuntu2204 repository."""
    apt_ubuntu(m, "archive.ubuntu.com/ubuntu", "jammy",
               [JAMMY_K105, JAMMY_K125, JAMMY_HWE49],
               [UMeta("generic", "5.15.0.125.125", "linux-meta", JAMMY_K125, JAMMY_K125.lrm),
                UMeta("generic-hwe-22.04", "6.8.0-49.49~22.04.1", "linux-meta-hwe-6.8",
                      JAMMY_HWE49, JAMMY_HWE49.lrm)],
               JAMMY_BRANCHES,
               [(f"{p}-525-server", "525.147.05-0ubuntu2.22.04.1", f"{p}-535-server")
                for p in ("nvidia-headless", "nvidia-dkms", "nvidia-utils",
                          "nvidia-kernel-common")])
    apt_nvidia(m, "ubuntu2204", NV_UBUNTU2204,
               ["12.2.2", "12.4.1", "12.6.3", "12.8.1", "13.0.2"])
    apt_ctk(m)


def repo_view_focal(m):
    """Ubuntu 20.04 x86_64: focal-updates (5.4 GA kernels; server drivers 535
    and 550 only) and NVIDIA's ubuntu2004 repository."""
    k200 = UKernel("5.4.0-200-generic", "5.4.0-200.220", "", "5.4.0-200.220",
                   {"535": "535.183.01"})
    k204 = UKernel("5.4.0-204-generic", "5.4.0-204.224", "", "5.4.0-204.224")
    apt_ubuntu(m, "archive.ubuntu.com/ubuntu", "focal", [k200, k204],
               [UMeta("generic", "5.4.0.204.200", "linux-meta", k204, k204.lrm)],
               ubuntu_branches("focal", ["535.216.01", "550.127.05"]))
    apt_nvidia(m, "ubuntu2004",
               [NvRepoDriver("535.183.01", False), NvRepoDriver("535.216.01", False),
                NvRepoDriver("550.127.05", True), NvRepoDriver("570.124.06", True)],
               ["12.2.2", "12.4.1", "12.6.3", "12.8.1"])
    apt_ctk(m)


NOBLE_BRANCHES = ubuntu_branches("noble", ["535.216.01", "550.127.05", "570.124.06",
                                           "580.95.05"])


def repo_view_noble_amd64(m):
    """Ubuntu 24.04 x86_64: noble-updates (6.8 GA kernels, server drivers
    535/550/570/580) and NVIDIA's ubuntu2404/x86_64 repository (from CUDA 12.5)."""
    k48 = UKernel("6.8.0-48-generic", "6.8.0-48.48", "", "6.8.0-48.48")
    k49 = UKernel("6.8.0-49-generic", "6.8.0-49.49", "", "6.8.0-49.49+1")
    apt_ubuntu(m, "archive.ubuntu.com/ubuntu", "noble", [k48, k49],
               [UMeta("generic", "6.8.0-49.49", "linux-meta", k49, k49.lrm)], NOBLE_BRANCHES)
    apt_nvidia(m, "ubuntu2404",
               [NvRepoDriver("550.127.05", True), NvRepoDriver("570.124.06", True),
                NvRepoDriver("580.95.05", True)],
               ["12.6.3", "12.8.1", "13.0.2"])
    apt_ctk(m)


def repo_view_noble_arm64(m):
    """Ubuntu 24.04 arm64 (ports): the nvidia-64k and generic-64k kernels with
    their metas, server drivers, and NVIDIA's ubuntu2404/sbsa repository."""
    n1013 = UKernel("6.8.0-1013-nvidia-64k", "6.8.0-1013.14", "-nvidia", "6.8.0-1013.14")
    n1017 = UKernel("6.8.0-1017-nvidia-64k", "6.8.0-1017.18", "-nvidia", "6.8.0-1017.18+1")
    g49 = UKernel("6.8.0-49-generic-64k", "6.8.0-49.49", "", "6.8.0-49.49+1")
    apt_ubuntu(m, "ports.ubuntu.com/ubuntu-ports", "noble", [n1013, n1017, g49],
               [UMeta("nvidia-64k", "6.8.0-1017.18", "linux-meta-nvidia", n1017, n1017.lrm),
                UMeta("generic-64k", "6.8.0-49.49", "linux-meta", g49, g49.lrm)],
               NOBLE_BRANCHES)
    apt_nvidia(m, "ubuntu2404",
               [NvRepoDriver("550.127.05", True), NvRepoDriver("560.35.03", True),
                NvRepoDriver("570.124.06", True), NvRepoDriver("580.95.05", True)],
               ["12.6.2", "12.6.3", "12.8.1", "13.0.2"])
    apt_ctk(m)


def repo_view_realtime(m):
    """Ubuntu Pro's real-time kernel repository for 22.04: PREEMPT_RT kernels,
    for which Canonical builds no NVIDIA modules."""
    r1032 = UKernel("5.15.0-1032-realtime", "5.15.0-1032.35", "-realtime")
    r1034 = UKernel("5.15.0-1034-realtime", "5.15.0-1034.37", "-realtime")
    stanzas = []
    for k in (r1032, r1034):
        stanzas += ubuntu_kernel_stanzas("jammy", m.arch, k)
    stanzas += ubuntu_meta_stanzas(m.arch, UMeta("realtime", "5.15.0.1034.32",
                                                 "linux-meta-realtime", r1034))
    apt_list(m, "esm.ubuntu.com/realtime/ubuntu/dists/jammy/main/binary-amd64/Packages",
             stanzas)


# A Debian kernel ABI the archive offers: (abi, package version), e.g. ("6.1.0-18", "6.1.76-1").
def apt_debian(m, suite, kernels, gcc, dkms):
    """<suite> main on amd64: linux-image/-headers of each kernel ABI, the metas
    pointing at the last one, and dkms at version dkms."""
    main = []
    for kabi, v in kernels:
        up = v.split("-")[0]
        series = ".".join(up.split(".")[:2])
        main.append(deb_stanza(f"linux-image-{kabi}-amd64", v, "amd64", "kernel",
                               DEBIAN_KERNEL_MAINT, f"Linux {series} for 64-bit PCs (signed)",
                               pool_dir("main", "linux-signed-amd64"),
                               f"linux-signed-amd64 ({up}+1)",
                               ["kmod", "linux-base (>= 4.3~)",
                                "initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool"],
                               kb=68900, inst=410200))
        main.append(deb_stanza(f"linux-headers-{kabi}-amd64", v, "amd64", "kernel",
                               DEBIAN_KERNEL_MAINT,
                               f"Header files for Linux {kabi}-amd64",
                               pool_dir("main", "linux"), "linux",
                               [f"linux-headers-{kabi}-common (= {v})",
                                f"linux-kbuild-{series} (>= {v})",
                                f"linux-compiler-gcc-{gcc}-x86"],
                               kb=1400, inst=11800))
    kabi, v = kernels[-1]
    up = v.split("-")[0]
    main.append(deb_stanza("linux-image-amd64", v, "amd64", "kernel",
                           DEBIAN_KERNEL_MAINT, "Linux for 64-bit PCs (meta-package)",
                           pool_dir("main", "linux-signed-amd64"),
                           f"linux-signed-amd64 ({up}+1)",
                           [f"linux-image-{kabi}-amd64 (= {v})"]))
    main.append(deb_stanza("linux-headers-amd64", v, "amd64", "kernel",
                           DEBIAN_KERNEL_MAINT,
                           "Header files for Linux amd64 configuration (meta-package)",
                           pool_dir("main", "linux"), "linux",
                           [f"linux-headers-{kabi}-amd64 (= {v})"]))
    main.append(deb_stanza("dkms", dkms, "all", "kernel",
                           "Dynamic Kernel Module System Team "
                           "<dkms@packages.debian.org>",
                           "Dynamic Kernel Module System (DKMS)", pool_dir("main", "dkms"),
                           None, ["kmod | kldutils", "gcc | c-compiler", "dpkg-dev", "make",
                                  "coreutils (>= 7.3)", "patch"], kb=50, inst=198))
    apt_list(m, f"deb.debian.org/debian/dists/{suite}/main/binary-amd64/Packages", main)


def repo_view_bookworm(m):
    """Debian 12: bookworm main (two kernel ABIs, their metas, dkms) and
    NVIDIA's debian12 repository (CUDA from 12.3)."""
    apt_debian(m, "bookworm", [("6.1.0-18", "6.1.76-1"), ("6.1.0-27", "6.1.115-1")], "12",
               "3.0.10-8+deb12u1")
    apt_nvidia(m, "debian12",
               [NvRepoDriver("535.216.01", False), NvRepoDriver("550.54.15", False),
                NvRepoDriver("550.127.05", True), NvRepoDriver("570.124.06", True),
                NvRepoDriver("580.95.05", True)],
               ["12.4.1", "12.6.3", "12.8.1", "13.0.2"])
    apt_ctk(m)


def repo_json(m, packages, runfiles=()):
    """var/lib/gpuprov/repo.json as the dnf and runfile backends write it.
    packages: (name, version, arch, repo)."""
    def block(key, items):
        body = ",\n".join("    " + json.dumps(i) for i in items)
        return f'  "{key}": [\n{body}\n  ]' if items else f'  "{key}": []'

    pkgs = [{"name": n, "version": v, "arch": a, "repo": r} for n, v, a, r in packages]
    text = "{\n" + block("packages", pkgs) + ",\n" + block("runfiles", list(runfiles)) + "\n}\n"
    json.loads(text)
    m.write("var/lib/gpuprov/repo.json", text)


def rpm_kernels(versions, arch, base, devel_repo, matched=True):
    """kernel, kernel-core, kernel-modules (base repo), kernel-devel and, on EL9,
    kernel-devel-matched (devel_repo) of each version."""
    out = []
    for v in versions:
        out += [(n, v, arch, base) for n in ("kernel", "kernel-core", "kernel-modules")]
        out.append(("kernel-devel", v, arch, devel_repo))
        if matched:
            out.append(("kernel-devel-matched", v, arch, devel_repo))
    return out


def rpm_nvidia(el, drivers, toolkits):
    """NVIDIA's cuda-rhel<N>-x86_64 repository: the driver module streams'
    packages (release -1.el<N>), fabric manager and toolkit metas (release -1)."""
    repo = f"cuda-rhel{el}-x86_64"
    out = []
    for d in drivers:
        br = d.split(".")[0]
        out += [("nvidia-driver", f"{d}-1.el{el}", "x86_64", repo),
                ("kmod-nvidia-open-dkms", f"{d}-1.el{el}", "x86_64", repo),
                ("kmod-nvidia-latest-dkms", f"{d}-1.el{el}", "x86_64", repo),
                ("nvidia-persistenced", f"{d}-1.el{el}", "x86_64", repo),
                ("nvidia-fabric-manager", f"{d}-1", "x86_64", repo),
                (f"cuda-drivers-fabricmanager-{br}", f"{d}-1", "x86_64", repo)]
    out += [(f"cuda-toolkit-{t.split('.')[0]}-{t.split('.')[1]}", f"{t}-1", "x86_64", repo)
            for t in toolkits]
    return out


def runfile(kind, version, arch, file, driver=None):
    entry = {"kind": kind, "version": version}
    if driver:
        entry["driver"] = driver
    entry.update({"arch": arch, "file": file, "sha256": fixed_hex("run" + file, 64)})
    return entry



# ---------------------------------------------------------------------------
# The machines

UBUNTU_GCC9 = ("gcc (Ubuntu 9.4.0-1ubuntu1~20.04.2) 9.4.0", 90400)
UBUNTU_GCC11 = ("x86_64-linux-gnu-gcc-11 (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0", 110400)
UBUNTU_GCC13 = ("{}-linux-gnu-gcc-13 (Ubuntu 13.2.0-23ubuntu4) 13.2.0", 130200)
UBUNTU_SIGNER = "Build time autogenerated kernel key"

# A GPU server with InfiniBand HCAs, NVMe and an ASPEED BMC: the in-tree
# modules it has installed, and what it has loaded (newest first) with the
# NVIDIA driver running.
GPU_IB_INTREE = ["drm", "drm_kms_helper", "ast", "ib_core", "ib_uverbs", "mlx5_core",
                 "mlx5_ib", "nvme_core", "nvme", "nouveau", "ttm", "drm_ttm_helper"]
GPU_IB_LOADED = ["nvidia_peermem", "nvidia_uvm", "nvidia_drm", "nvidia_modeset", "nvidia",
                 "mlx5_ib", "ib_uverbs", "ib_core", "mlx5_core", "ast", "drm_kms_helper",
                 "drm", "nvme", "nvme_core"]


def ubuntu_kernel(kver, pkgver, arch, flavour, src=""):
    """An Ubuntu kernel; the "realtime" flavour is the PREEMPT_RT one (Ubuntu Pro)."""
    if kver.startswith("5.4."):
        cc, gcc, preempt = UBUNTU_GCC9[0], UBUNTU_GCC9[1], False
    elif kver.startswith("5.15"):
        cc, gcc, preempt = UBUNTU_GCC11[0], UBUNTU_GCC11[1], False
    else:
        cc, gcc, preempt = UBUNTU_GCC13[0].format(arch), UBUNTU_GCC13[1], True
    return Kernel(kver, "ubuntu", pkgver, cc, gcc, preempt, "sha512", UBUNTU_SIGNER,
                  page_64k=kver.endswith("-64k"), zst=kver.startswith("6."),
                  flavour=flavour, flavour_src=src, rt=flavour == "realtime",
                  old_config=kver.startswith("5.4."))


def install_ubuntu_kernels(m, kernels, intree, precompiled=None):
    """Ubuntu's kernels (depmod searches updates/ first), each with Canonical's signed
    precompiled NVIDIA modules in kernel/nvidia-<branch>srv/ when precompiled is a Driver."""
    m.write("etc/depmod.d/ubuntu.conf", "search updates ubuntu built-in\n")
    for k in kernels:
        make_kernel(m, k, intree)
        if precompiled:
            branch = precompiled.version.split(".")[0]
            install_nvidia(m, k, f"kernel/nvidia-{branch}srv", precompiled, UBUNTU_SIGNER,
                           "sha512")


def ubuntu_boot(m, running, root_uuid, cmdline, version, platform, saved=None, lvm=None):
    """Ubuntu booted by GRUB from / ext4 on GPT, found by UUID: proc/cmdline,
    proc/version and the grub.cfg update-grub writes; cmdline is what follows "ro".
    lvm: (vg, lv) when / is that LVM volume: GRUB finds it by its lvmid, and the
    kernel gets it by its /dev/mapper name (grub-mkconfig uses no UUID for LVM)."""
    root_arg, search = f"UUID={root_uuid}", "\tinsmod part_gpt\n\tinsmod ext2\n"
    hint = ""
    if lvm:
        root_arg = f"/dev/mapper/{lvm[0]}-{lvm[1]}"
        lvmid = "lvmid/" + "/".join(dashed_lvm(lvm_uuid(*lvm)[i:i + 32]) for i in (4, 36))
        search = f"\tinsmod part_gpt\n\tinsmod lvm\n\tinsmod ext2\n\tset root='{lvmid}'\n"
        hint = f" --hint='{lvmid}'"
    boot_identity(m, running, f"BOOT_IMAGE=/boot/vmlinuz-{running.kver} "
                  f"root={root_arg} ro" + (f" {cmdline}" if cmdline else ""), version)
    grub_debian(m, "Ubuntu", "ubuntu", root_uuid, root_arg, cmdline,
                search + f"\tsearch --no-floppy --fs-uuid --set=root{hint} {root_uuid}\n",
                platform, saved=saved)


def ubuntu_nvidia_packages(m, branch, drv_pkgver, kernels, open_=True, fm=None):
    arch = "amd64" if m.arch == "x86_64" else "arm64"
    for name in (f"nvidia-compute-utils-{branch}-server", f"nvidia-utils-{branch}-server",
                 f"libnvidia-compute-{branch}-server",
                 f"nvidia-kernel-common-{branch}-server"):
        dpkg_package(m, name, drv_pkgver, arch, f"nvidia-graphics-drivers-{branch}-server",
                     maint=UBUNTU_MAINT)
    kind = "-open" if open_ else ""
    for k in kernels:
        for what in ("modules", "objects"):
            name = f"linux-{what}-nvidia-{branch}-server{kind}-{k.kver}"
            dpkg_package(m, name, k.pkgver, arch, "linux-restricted-modules",
                         f"Linux kernel nvidia {what} for version {k.kver}", "kernel",
                         "Ubuntu Kernel Team <kernel-team@lists.ubuntu.com>")
            if what == "modules":
                m.write(f"var/lib/dpkg/info/{name}.list",
                        "/.\n/lib\n/lib/modules\n" f"/lib/modules/{k.kver}\n"
                        f"/lib/modules/{k.kver}/kernel\n"
                        f"/lib/modules/{k.kver}/kernel/nvidia-{branch}srv\n" +
                        "".join(f"/lib/modules/{k.kver}/kernel/nvidia-{branch}srv/{f}\n"
                                for f in NV_MODULES))
    if fm:
        dpkg_package(m, f"nvidia-fabricmanager-{branch}", fm, arch)


# Disk layouts that several machines share.


def nvme_parent(m):
    """sysfs path of the NVMe controller tagged nvme0, where its namespaces go."""
    return m.pci["nvme0"][1] + "/nvme/nvme0"


def ubuntu_nvme_disk(m, sectors, parts, root_uuid, esp_id, secure_boot, root_opts="defaults"):
    """Ubuntu's installer on UEFI: nvme0n1p1 vfat ESP on /boot/efi, nvme0n1p2 ext4 on /."""
    make_disk(m, nvme_parent(m), "nvme0n1", 259, 0, sectors, parts)
    make_fs(m, "nvme0n1p2", "ext4", root_uuid)
    make_fs(m, "nvme0n1p1", "vfat", esp_id)
    super_opts = "rw" if root_opts == "defaults" else f"rw,{root_opts}"
    write_mountinfo(m, ("/", "259:2", "ext4", "/dev/nvme0n1p2", super_opts, "rw,relatime"),
                    [("/boot/efi", "259:1", "vfat", "/dev/nvme0n1p1", VFAT_DEB,
                      "rw,relatime")])
    write_fstab(m, [(f"UUID={root_uuid}", "/", "ext4", root_opts, 0, 1),
                    (f"UUID={esp_id}", "/boot/efi", "vfat", "umask=0077", 0, 1)])
    make_efi(m, secure_boot=secure_boot)


GPT_ESP = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
GPT_LVM = "e6d6d379-f507-44c2-a23c-238f2a3df928"


def udev_partition(m, majmin, number, start, sectors, part_type, fs_type, fs_uuid, links):
    """run/udev/data/b<maj:min>: what udev's blkid builtin recorded of a GPT partition
    (ID_PART_ENTRY_* from the partition table, ID_FS_* from the filesystem)."""
    part_uuid = fixed_hex("partuuid" + majmin + m.name, 32)
    part_uuid = "-".join((part_uuid[:8], part_uuid[8:12], part_uuid[12:16], part_uuid[16:20],
                          part_uuid[20:]))
    lines = [f"S:{link}" for link in links + [f"disk/by-partuuid/{part_uuid}"]]
    lines += ["W:3", "I:6184025", "E:ID_PART_TABLE_TYPE=gpt", "E:ID_PART_ENTRY_SCHEME=gpt",
              f"E:ID_PART_ENTRY_UUID={part_uuid}", f"E:ID_PART_ENTRY_TYPE={part_type}",
              f"E:ID_PART_ENTRY_NUMBER={number}", f"E:ID_PART_ENTRY_OFFSET={start}",
              f"E:ID_PART_ENTRY_SIZE={sectors}", f"E:ID_PART_ENTRY_DISK={majmin.split(':')[0]}:0"]
    if fs_type:
        lines += [f"E:ID_FS_TYPE={fs_type}", f"E:ID_FS_UUID={fs_uuid}",
                  f"E:ID_FS_UUID_ENC={fs_uuid}", "E:ID_FS_USAGE=filesystem"]
    else:
        lines += ["E:ID_FS_TYPE=LVM2_member", "E:ID_FS_USAGE=raid"]
    lines += ["G:systemd", "Q:systemd", "V:1"]
    m.write(f"run/udev/data/b{majmin}", "".join(line + "\n" for line in lines))


def maas_lvm_disk(m, sectors, esp_sectors, vg, lv, root_uuid, esp_id, secure_boot):
    """MAAS's "lvm" storage layout on UEFI, on the M.2 NVMe: nvme0n1p1 a vfat ESP on
    /boot/efi, nvme0n1p2 an LVM PV for <vg>-<lv>, ext4 on /, with /boot in it."""
    pv_start = 2048 + esp_sectors
    pv_sectors = sectors - pv_start - 33  # the backup GPT's 33 sectors at the end
    parts = make_disk(m, nvme_parent(m), "nvme0n1", 259, 0, sectors,
                      [(2048, esp_sectors), (pv_start, pv_sectors)])
    # The LV takes the whole VG: the PV less LVM's first MiB, in 4 MiB extents.
    lvm_volume(m, vg, lv, 0, (pv_sectors - 2048) // 8192 * 8192, [parts["nvme0n1p2"]])
    make_fs(m, f"mapper/{vg}-{lv}", "ext4", root_uuid)
    make_fs(m, "nvme0n1p1", "vfat", esp_id)
    serial = "nvme-SAMSUNG_MZ1L2960HCJR-00A07_S665NE0T" + fixed_hex("serial" + m.name, 6).upper()
    udev_partition(m, "259:1", 1, 2048, esp_sectors, GPT_ESP, "vfat", esp_id,
                   [f"disk/by-id/{serial}-part1", f"disk/by-uuid/{esp_id}"])
    udev_partition(m, "259:2", 2, pv_start, pv_sectors, GPT_LVM, None, None,
                   [f"disk/by-id/{serial}-part2"])
    write_mountinfo(m, ("/", "253:0", "ext4", f"/dev/mapper/{vg}-{lv}", EXT4_ROOT, "rw,relatime"),
                    [("/boot/efi", "259:1", "vfat", "/dev/nvme0n1p1", VFAT_DEB, "rw,relatime")])
    dm_uuid = lvm_uuid(vg, lv)
    write_fstab(m, [(f"/dev/disk/by-id/dm-uuid-{dm_uuid}", "/", "ext4", "defaults", 0, 1),
                    (f"/dev/disk/by-uuid/{esp_id}", "/boot/efi", "vfat", "defaults", 0, 1)])
    make_efi(m, secure_boot=secure_boot)


def anaconda_disk(m, parent, disk, major, sectors, vg, lvs, fstype, super_opts, uuids,
                  secure_boot, **mountinfo_args):
    """Anaconda's default UEFI layout (RHEL family, openEuler): p1 600 MiB vfat ESP on
    /boot/efi, p2 1 GiB /boot, p3 the rest, an LVM PV for <vg>-root on / (and <vg>-swap)."""
    root_uuid, boot_uuid, esp_id = uuids
    # The last partition ends where the backup GPT (33 sectors) begins.
    parts = make_disk(m, parent, disk, major, 0, sectors,
                      [(2048, 1228800), (1230848, 2097152), (3328000, sectors - 3328000 - 33)])
    esp, boot, pv = list(parts)
    for minor, (lv, size) in enumerate(lvs):
        lvm_volume(m, vg, lv, minor, size, [parts[pv]])
    make_fs(m, f"mapper/{vg}-root", fstype, root_uuid)
    make_fs(m, boot, fstype, boot_uuid)
    make_fs(m, esp, "vfat", esp_id)
    write_mountinfo(m, ("/", "253:0", fstype, f"/dev/mapper/{vg}-root", super_opts,
                        "rw,relatime"),
                    [("/boot", f"{major}:2", fstype, f"/dev/{boot}", super_opts,
                      "rw,relatime"),
                     ("/boot/efi", f"{major}:1", "vfat", f"/dev/{esp}", VFAT_RH,
                      "rw,relatime")], **mountinfo_args)
    # Anaconda gives ext4 dump 1 and fsck passes 1 and 2; xfs is never fsck'd at boot.
    dump, root_pass, boot_pass = (0, 0, 0) if fstype == "xfs" else (1, 1, 2)
    rows = [(f"/dev/mapper/{vg}-root", "/", fstype, "defaults", dump, root_pass),
            (f"UUID={boot_uuid}", "/boot", fstype, "defaults", dump, boot_pass),
            (f"UUID={esp_id}", "/boot/efi", "vfat", "umask=0077,shortname=winnt", 0, 2)]
    if "swap" in dict(lvs):
        rows.append((f"/dev/mapper/{vg}-swap", "none", "swap", "defaults", 0, 0))
    write_fstab(m, rows)
    make_efi(m, secure_boot=secure_boot)


# Hardware and boot set-ups that several machines share.


def hgx_a100_board(m, gpu, rp, gpu_roots, nvswitch_root, absolute_links=False):
    """The 8-GPU HGX A100 baseboard (the A800 one is the same board): four PCIe
    switches, each with two GPUs and one ConnectX-6 HDR HCA (ib0..3, mlx5_0..3),
    and the 6 NVSwitches on a switch of their own, each switch behind a host
    root port of ids rp.  gpu_roots: (root bus, NUMA node, root port slot) of
    the four GPU switches; nvswitch_root: the same for the NVSwitches'."""
    for i, (root, numa, at) in enumerate(gpu_roots):
        pci_tree(m, 0, root, numa, bridge(at, rp, switch(
            PEX88000, Dev(gpu, "nvidia", f"gpu{2 * i}"), Dev(gpu, "nvidia", f"gpu{2 * i + 1}"),
            Dev(CX6_IB, "mlx5_core", f"ib{i}"))), absolute_links=absolute_links)
    root, numa, at = nvswitch_root
    pci_tree(m, 0, root, numa, bridge(at, rp, switch(
        PEX88000, *[Dev(NVSWITCH_A100, "nvidia-nvswitch") for _ in range(6)])),
        absolute_links=absolute_links)
    for i in range(len(gpu_roots)):
        make_hca(m, f"ib{i}", f"mlx5_{i}", "InfiniBand", "200 Gb/sec (4X HDR)", "20.39.1002")


def jammy_gpu_kernels(m, drv, root_uuid, cmdline, lvm=None):
    """Ubuntu 22.04 GA kernels on a GPU server with InfiniBand: running
    5.15.0-105-generic (GRUB's saved entry) and 5.15.0-94-generic, both with
    Canonical's signed precompiled NVIDIA modules drv.  Returns the running one."""
    running = ubuntu_kernel("5.15.0-105-generic", "5.15.0-105.115", "x86_64", "generic")
    old = ubuntu_kernel("5.15.0-94-generic", "5.15.0-94.104", "x86_64", "generic")
    install_ubuntu_kernels(m, (running, old), GPU_IB_INTREE, precompiled=drv)
    ubuntu_boot(m, running, root_uuid, cmdline,
                "(buildd@lcy02-amd64-051) (gcc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0, "
                "GNU ld (GNU Binutils for Ubuntu) 2.38) #115-Ubuntu SMP "
                "Mon Apr 15 09:52:04 UTC 2024", "x86_64-efi", saved=running.kver, lvm=lvm)
    return running, old


def rhel_kmod_gpu_node(m, drv, running, old, boot_uuid, options, version, *, refs,
                       nvidia_size, bls, stamps, cuda, packages):
    """The RHEL-family GPU node: NVIDIA's precompiled kmod in extra/ and BLS boot entries."""
    # The kmod is for the running kernel only; old has no NVIDIA module.  options: the
    # kernel command line after the image; version: proc/version after the kver; refs:
    # users of nvidia and nvidia_uvm beyond modules; bls: bls_rocky or bls_rhel8, with
    # stamps the build times of running and old; packages: what repo.json offers.
    m.write("etc/depmod.d/dist.conf", "#\n# depmod.conf\n#\n\n"
            "# override default search ordering for kmod packaging\n"
            "search updates extra built-in weak-updates\n")
    for k in (running, old):
        make_kernel(m, k, GPU_IB_INTREE)
    install_nvidia(m, running, "extra/drivers/video/nvidia", drv)
    boot_identity(m, running, f"BOOT_IMAGE=(hd0,gpt2)/vmlinuz-{running.kver} {options}",
                  version)
    # nvidia_peermem is installed but not loaded although HCAs are present.
    nvidia_refs, uvm_refs = refs
    load_modules(m, running, [n for n in GPU_IB_LOADED if n != "nvidia_peermem"],
                 taint={n: "POE" for n in NV_NAMES},
                 extra_refs={"nvidia": nvidia_refs, "nvidia_uvm": uvm_refs,
                             "nvidia_modeset": 2, "nvme": 4},
                 sizes={"nvidia": nvidia_size})
    nvidia_loaded(m, drv)
    bls(m, boot_uuid, options, {running.kver: stamps[0], old.kver: stamps[1]})
    install_cuda(m, cuda)
    repo_json(m, packages + rpm_ctk(m.arch))


# A server with an ASPEED BMC, an Intel I210 (igb) and NVMe: the in-tree modules it
# has installed.
IGB_INTREE = ["drm", "drm_kms_helper", "ast", "igb", "nvme_core", "nvme", "nouveau", "ttm",
              "drm_ttm_helper"]


def siena_l4_edge(m, node_mem_gib, gpu_driver, mac_seed):
    """A 1U AMD EPYC 8124P (Siena) edge server: 16 cores with core ids 0-3, 8-11, ...
    (partially enabled CCXs), one L4 bound to gpu_driver, NVMe, ASPEED BMC, I210 eno1."""
    make_cpus(m, EPYC_8124P, sockets=1, cores=16, threads=2, node_mem_gib=(node_mem_gib,),
              core_ids=[0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27])
    pci_tree(m, 0, 0x00, 0,
             bridge("01.1", GENOA_RP, Dev(L4, gpu_driver, "gpu0")),
             bridge("02.1", GENOA_RP, Dev(MICRON_7450, "nvme", "nvme0")),
             bridge("03.1", GENOA_RP, bridge(None, AST_BRIDGE, Dev(AST_VGA, "ast"),
                                             driver=None)),
             bridge("05.1", GENOA_RP, Dev(I210, "igb", "lan")))
    make_netdev(m, m.pci["lan"][1], "eno1", mac(mac_seed), 1, 1500)


def h100_board(m):
    """The DGX H100's PCI: 8 H100 SXM5, each behind a Broadcom switch with its
    ConnectX-7 InfiniBand HCA; 4 NVSwitches; the M.2 NVMe (nvme0) and the BMC's VGA;
    a dual-port ConnectX-7 in Ethernet mode.  HGX H100 8-GPU servers are built the same."""
    gpu_buses = [0x18, 0x2a, 0x3a, 0x5d, 0x9a, 0xab, 0xba, 0xdb]
    for i, bus in enumerate(gpu_buses):
        # Each switch carries one GPU and the InfiniBand HCA next to it.
        pci_tree(m, 0, bus - 3, 0 if bus < 0x80 else 1,
                 bridge("01.0", SPR_RP, switch(
                     PEX89000, Dev(H100_SXM5, "nvidia", f"gpu{i}"),
                     Dev(CX7_IB, "mlx5_core", f"ib{i}"))))
    pci_tree(m, 0, 0x00, 0,
             bridge("1c.0", EBG_RP, Dev(PM9A3, "nvme", "nvme0")),
             bridge("1c.4", EBG_RP, bridge(None, AST_BRIDGE, Dev(AST_VGA, "ast"),
                                           driver=None)))
    pci_tree(m, 0, 0x64, 0, bridge("01.0", SPR_RP, switch(
        PEX89000, *[Dev(NVSWITCH_H100, "nvidia-nvswitch") for _ in range(4)])))
    pci_tree(m, 0, 0xe8, 1, bridge("01.0", SPR_RP,
                                   Dev(CX7_ETH, "mlx5_core", "eth0"),
                                   Dev(CX7_ETH, "mlx5_core", "eth1", fn=1)))
    for i in range(8):
        make_hca(m, f"ib{i}", f"mlx5_{i}", "InfiniBand", "400 Gb/sec (4X NDR)", "28.39.1002")
    make_hca(m, "eth0", "mlx5_8", "Ethernet", "200 Gb/sec (4X HDR)", "28.39.1002")
    make_hca(m, "eth1", "mlx5_9", "Ethernet", "200 Gb/sec (4X HDR)", "28.39.1002")


def dgx_h100_driver():
    return Driver("550.54.15", True, "dvs-builder@U16-I3-B03-4-3",
                  "Tue Mar  5 22:15:33 UTC 2024",
                  "gcc version 11.4.0 (Ubuntu 11.4.0-1ubuntu1~22.04)")


def dgx_h100_stack(m, running, old, drv):
    """What runs on the DGX H100 and is installed for it: the driver and its modules,
    CUDA 12.4.1 from apt, the fabric manager, and jammy's repositories."""
    load_modules(m, running, GPU_IB_LOADED, taint={n: "O" for n in NV_NAMES},
                 extra_refs={"nvidia": 103, "nvidia_uvm": 4, "nvidia_modeset": 2, "nvme": 3},
                 sizes={"nvidia": 8974336})
    nvidia_loaded(m, drv)
    ubuntu_nvidia_packages(m, "550", "550.54.15-0ubuntu0.22.04.2", [running, old],
                           fm="550.54.15-1")
    cuda_from_apt(m, "12.4.1")
    install_fabricmanager(m)
    repo_view_jammy(m)


def dgx_h100():
    m = Machine("dgx-h100", "x86_64")
    make_os(m, "ubuntu2204", "relative", "dgx-h100-01", "4f8d2c1a9b7e4e3f8a6d5c4b3a291807")
    make_cpus(m, XEON_8480CL, sockets=2, cores=56, threads=2, node_mem_gib=(1024, 1024))
    h100_board(m)

    # Boot disk: 1.92 TB M.2, ESP + root.
    root_uuid = "7c2b0e5a-3f41-4d8e-9a6b-5e1f2c3d4a01"
    ubuntu_nvme_disk(m, 3750748848, [(2048, 1048576), (1050624, 3749696143)],
                     root_uuid, "3A1F-9C2E", secure_boot=False, root_opts="errors=remount-ro")

    drv = dgx_h100_driver()
    running, old = jammy_gpu_kernels(m, drv, root_uuid,
                                     "console=tty0 console=ttyS0,115200n8 pci=realloc=off")
    dgx_h100_stack(m, running, old, drv)
    finish(m)
    write_readme(m, """
# dgx-h100

Models an NVIDIA DGX H100: Ubuntu 22.04.4 LTS (DGX OS style), 2x Xeon Platinum
8480CL (2 x 56 cores, HT: 224 CPUs), 2 NUMA nodes, 2 TiB.

- 8x H100 SXM5 (10de:2330) at 18, 2a, 3a, 5d (node 0) and 9a, ab, ba, db (node 1),
  each behind a Broadcom PCIe switch with its ConnectX-7 InfiniBand HCA
  (mlx5_0..mlx5_7, ibp25s0 ...); 4x NVSwitch (10de:22a3, driver nvidia-nvswitch);
  one dual-port ConnectX-7 in Ethernet mode (mlx5_8/mlx5_9, enp233s0f0np0/f1np1).
- ASPEED BMC VGA behind its AST1150 bridge (a display controller, not a GPU).
- Running 5.15.0-105-generic, also 5.15.0-94-generic; both have Canonical's signed
  precompiled open modules 550.54.15 in kernel/nvidia-550srv/. Driver loaded incl.
  nvidia_peermem; CUDA 12.4.1; fabric manager 550.54.15-1.
- The consistent "happy path". UEFI, SB off; / ext4 nvme0n1p2, /boot/efi vfat
  nvme0n1p1; saved_entry = running kernel; etc/os-release -> ../usr/lib/os-release.
- Repository view (var/lib/apt/lists): jammy-updates main with 5.15.0-105/-125-generic,
  HWE 6.8.0-49-generic and the linux-generic / linux-generic-hwe-22.04 metas;
  jammy-updates restricted with the server drivers 535.216.01, 550.127.05, 570.124.06,
  580.95.05 (nvidia-headless-<br>-server[-open], nvidia-dkms-..., utils, fabric manager),
  Canonical's precompiled linux-modules-nvidia-<br>-server[-open]-<kver> for all three
  kernels (5.15.0-105's were built from 550.54.15 / 535.171.04) and 525-server only as
  transitional packages; NVIDIA's ubuntu2204 repository with drivers 535.216.01,
  550.54.15, 550.127.05, 570.124.06, 580.95.05 (nvidia-open for the last three,
  cuda-drivers-<br>, nvidia-fabricmanager-<br>), CUDA 12.2.2 / 12.4.1 / 12.6.3 / 12.8.1 /
  13.0.2.
""")


def hgx_h100_lvm():
    m = Machine("hgx-h100-lvm", "x86_64")
    make_os(m, "ubuntu2204", "relative", "hgx-h100-07", "9b3e5d7f1a2c4e6081f3a5c7e9b1d3f5")
    make_cpus(m, XEON_8480CL, sockets=2, cores=56, threads=2, node_mem_gib=(1024, 1024))
    h100_board(m)

    root_uuid = "2d6f8a1c-5e3b-4a7d-9c1e-6b4f2a8d0e37"
    maas_lvm_disk(m, NVME_1920[0], 1048576, "vgroot", "lvroot", root_uuid, "6E2A-94C1",
                  secure_boot=False)

    drv = dgx_h100_driver()
    running, old = jammy_gpu_kernels(m, drv, root_uuid, "console=tty0 console=ttyS0,115200n8",
                                     lvm=("vgroot", "lvroot"))
    dgx_h100_stack(m, running, old, drv)
    finish(m)
    write_readme(m, """
# hgx-h100-lvm

Models an HGX H100 8-GPU server deployed by MAAS with its "lvm" storage layout: Ubuntu
22.04.4 LTS, the board, CPUs (2x Xeon Platinum 8480CL, 224 CPUs), GPUs, NVSwitches, HCAs,
driver, CUDA and repositories of dgx-h100; only the disk and the boot differ.

- UEFI, Secure Boot off. M.2 NVMe: nvme0n1p1 a 512 MiB vfat ESP (GPT type EFI System,
  in udev's database run/udev/data/b259:1) on /boot/efi; nvme0n1p2 an LVM PV for
  vgroot-lvroot (dm-0), ext4 on /, with /boot inside it. GRUB finds / by its lvmid; the
  kernel gets root=/dev/mapper/vgroot-lvroot.
- GRUB cannot write /boot/grub/grubenv (on LVM): next_entry would never be cleared, and
  the node would enter the new kernel at every boot. The ESP is a plain FAT partition GRUB
  can write: a kernel switch keeps its boot-once entry in gpuprov's block there
  (/boot/efi/EFI/gpuprov/grubenv, gpuprov_once), taken by /etc/grub.d/01_gpuprov.
- Running 5.15.0-105-generic (saved_entry), also 5.15.0-94-generic, with Canonical's
  signed precompiled open modules 550.54.15; CUDA 12.4.1; fabric manager 550.54.15-1.
""")


def hgx_a100_rocky9():
    m = Machine("hgx-a100-rocky9", "x86_64")
    make_os(m, "rocky93", "relative", "hgx-a100-07", "2ec4b4f7f0364d7d9c0e6b76f4d0ec56")
    m.write("etc/redhat-release", "Rocky Linux release 9.3 (Blue Onyx)\n")
    m.symlink("etc/rocky-release", "redhat-release")
    make_cpus(m, EPYC_7742, sockets=2, cores=64, threads=2, node_mem_gib=(1024, 1024))
    # AMD root complexes at 00, 20, ... e0.
    hgx_a100_board(m, A100_SXM4_80, ROME_RP,
                   [(0x00, 0, "01.1"), (0x40, 0, "01.1"), (0x80, 1, "01.1"), (0xc0, 1, "01.1")],
                   (0x60, 0, "03.1"), absolute_links=True)
    pci_tree(m, 0, 0x20, 0, bridge("01.1", ROME_RP, Dev(MICRON_7450, "nvme", "nvme0")),
             absolute_links=True)
    pci_tree(m, 0, 0xe0, 1, bridge("03.1", ROME_RP, bridge(
        None, AST_BRIDGE, Dev(AST_VGA, "ast"), driver=None)), absolute_links=True)

    root_uuid = "1d6e4b2a-8c3f-4a5e-b7d9-0f2e1c4b6a82"
    boot_uuid = "6b3c9e1d-2a4f-4c8b-9e7d-3f5a1b2c4d93"
    anaconda_disk(m, nvme_parent(m), "nvme0n1", 259, 7501476528, "rl",
                  [("root", 146800640), ("swap", 8388608)], "xfs", XFS_OPTS,
                  (root_uuid, boot_uuid, "5E2D-4B7A"), secure_boot=False,
                  devtmpfs="devtmpfs")

    drv = Driver("535.129.03", False, None, "Thu Oct 19 18:56:32 UTC 2023",
                 "gcc version 11.4.1 20230605 (Red Hat 11.4.1-2) (GCC)")
    signer = "Rocky kernel signing key"
    running = Kernel("5.14.0-362.8.1.el9_3.x86_64", "rocky", "5.14.0-362.8.1.el9_3",
                     "gcc (GCC) 11.4.1 20230605 (Red Hat 11.4.1-2)", 110401, True,
                     "sha256", signer, xz=True, title="9.3 (Blue Onyx)")
    old = Kernel("5.14.0-284.11.1.el9_2.x86_64", "rocky", "5.14.0-284.11.1.el9_2",
                 "gcc (GCC) 11.3.1 20221121 (Red Hat 11.3.1-4)", 110301, True,
                 "sha256", signer, xz=True, title="9.2 (Blue Onyx)")
    options = ("root=/dev/mapper/rl-root ro crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M "
               "resume=/dev/mapper/rl-swap rd.lvm.lv=rl/root rd.lvm.lv=rl/swap "
               "rd.driver.blacklist=nouveau modprobe.blacklist=nouveau")
    rhel_kmod_gpu_node(
        m, drv, running, old, boot_uuid, options,
        "(mockbuild@iad1-prod-build001.bld.equ.rockylinux.org) (gcc (GCC) "
        "11.4.1 20230605 (Red Hat 11.4.1-2), GNU ld version 2.35.2-42.el9) "
        "#1 SMP PREEMPT_DYNAMIC Wed Nov 8 16:21:22 UTC 2023",
        refs=(151, 8), nvidia_size=56741888,
        bls=bls_rocky, stamps=("20231108162122", "20230508143425"), cuda="12.2.2",
        packages=rpm_kernels(["5.14.0-362.8.1.el9_3", "5.14.0-427.13.1.el9_4",
                              "5.14.0-503.14.1.el9_5"], "x86_64", "baseos", "appstream") +
        rpm_nvidia(9, ["535.129.03", "535.216.01", "550.127.05", "570.124.06", "580.95.05"],
                   ["12.2.2", "12.4.1", "12.8.1", "13.0.2"]))
    install_fabricmanager(m)
    finish(m)
    write_readme(m, """
# hgx-a100-rocky9

Models an 8-GPU HGX A100 80GB server on Rocky Linux 9.3: 2x AMD EPYC 7742
(2 x 64 cores, SMT: 256 CPUs), NPS1, 2 NUMA nodes.

- 8x A100 SXM4 80GB (10de:20b2), two per PCIe switch with one ConnectX-6 HDR
  HCA (mlx5_0..3, ibp5s0 ...); 6x NVSwitch (10de:1af1); ASPEED BMC VGA.
- sys/bus/pci/devices/* are ABSOLUTE links (/sys/devices/...): resolve in root.
- Proprietary driver 535.129.03 (license NVIDIA, taint POE) in
  extra/drivers/video/nvidia/ for the running 5.14.0-362.8.1.el9_3 ONLY; the other
  kernel, 5.14.0-284.11.1.el9_2, has none. In-tree modules are .ko.xz as on RHEL.
- nvidia_peermem is installed but NOT loaded although InfiniBand HCAs exist.
- CUDA 12.2.2, fabric manager; no RPM database is modelled. UEFI, SB off; BLS
  entries for both kernels, saved_entry = BLS id of the running kernel.
- / xfs on LVM (dm-0 rl-root on nvme0n1p3), /boot xfs nvme0n1p2, /boot/efi vfat.
- Repository view (var/lib/gpuprov/repo.json): kernel, kernel-core, kernel-modules
  (baseos), kernel-devel, kernel-devel-matched (appstream) 5.14.0-362.8.1.el9_3,
  427.13.1.el9_4, 503.14.1.el9_5; cuda-rhel9-x86_64 with nvidia-driver,
  kmod-nvidia-open-dkms, kmod-nvidia-latest-dkms 535.129.03 / 535.216.01 / 550.127.05 /
  570.124.06 / 580.95.05 (-1.el9), nvidia-fabric-manager and
  cuda-drivers-fabricmanager-<br> (-1), cuda-toolkit-12-2 / 12-4 / 12-8 / 13-0.
""")


def a800_ubuntu2204():
    m = Machine("a800-ubuntu2204", "x86_64")
    make_os(m, "ubuntu2204", "relative", "a800-node-01", "a8003c5e7d1f4b2a9e6c0d4f8b2a7e13")
    make_cpus(m, XEON_8358, sockets=2, cores=32, threads=2, node_mem_gib=(512, 512))
    # Ice Lake root complexes: 00 (PCH), 16, 30, 4a, 64 on socket 0; 80, 97 ... on socket 1.
    hgx_a100_board(m, A800_SXM4_80, ICX_RP,
                   [(0x16, 0, "02.0"), (0x30, 0, "02.0"), (0x97, 1, "02.0"), (0xb0, 1, "02.0")],
                   (0x4a, 0, "02.0"))
    pci_tree(m, 0, 0x00, 0, bridge("1c.0", C620_RP, bridge(
        None, AST_BRIDGE, Dev(AST_VGA, "ast"), driver=None)))
    pci_tree(m, 0, 0x64, 0, bridge("02.0", ICX_RP, Dev(PM9A3, "nvme", "nvme0")))

    root_uuid = "5e8a1c3f-7b2d-4f6e-9a0c-3d5b7e9f1a24"
    ubuntu_nvme_disk(m, *NVME_1920, root_uuid, "7D4B-2E91", secure_boot=False,
                     root_opts="errors=remount-ro")

    drv = Driver("535.183.01", False, None, "Sun May 12 19:39:15 UTC 2024",
                 "gcc version 11.4.0 (Ubuntu 11.4.0-1ubuntu1~22.04)")
    running, old = jammy_gpu_kernels(m, drv, root_uuid, "console=tty0 console=ttyS0,115200n8")
    load_modules(m, running, GPU_IB_LOADED, taint={n: "PO" for n in NV_NAMES},
                 extra_refs={"nvidia": 110, "nvidia_uvm": 4, "nvidia_modeset": 2, "nvme": 3},
                 sizes={"nvidia": 56229888})
    nvidia_loaded(m, drv)
    ubuntu_nvidia_packages(m, "535", "535.183.01-0ubuntu0.22.04.1", [running, old],
                           open_=False, fm="535.183.01-1")
    cuda_from_apt(m, "12.2.2")
    install_fabricmanager(m)
    repo_view_jammy(m)
    finish(m)
    write_readme(m, """
# a800-ubuntu2204

Models an HGX A800 80GB node as deployed in the China market: Ubuntu 22.04.4 LTS, 2x Xeon
Platinum 8358 (2 x 32 cores, HT: 128 CPUs), 2 NUMA nodes, 1 TiB.

- 8x A800 SXM4 80GB (10de:20f3, subsystem 10de:1463), two per PCIe switch with one
  ConnectX-6 HDR HCA (mlx5_0..3, ibp27s0 ...); 6x NVSwitch (10de:1af1); ASPEED BMC VGA; NVMe.
- Running 5.15.0-105-generic, also 5.15.0-94-generic; both have Canonical's signed precompiled
  PROPRIETARY 535.183.01 modules (linux-modules-nvidia-535-server-<kver>, taint PO). Driver
  loaded incl. nvidia_peermem; CUDA 12.2.2; fabric manager 535.183.01-1. UEFI, SB off;
  / ext4 nvme0n1p2, /boot/efi vfat nvme0n1p1. Repository view: the same as dgx-h100's.

What `plan a800-cuda128` should resolve: CUDA 12.8.1 needs >= 570.124.06 and R570 is past
end of life on 2026-11-21, so R580 LTSB (580.95.05), with the fabric manager at the driver's
version because of the NVSwitches. What `check` should flag: R535's end of life (2026-06).
""")


def kunpeng920_openeuler():
    m = Machine("kunpeng920-openeuler", "aarch64")
    make_os(m, "openeuler2203sp3", "file", "kunpeng-node03",
            "9c1e5b7a3d2f4e6a8b0c1d2e3f4a5b6c")
    m.write("etc/openEuler-release", "openEuler release 22.03 (LTS-SP3)\n")
    make_cpus(m, KUNPENG_920, sockets=2, cores=64, nodes_per_socket=2,
              node_mem_gib=(128, 128, 128, 128))
    pci_tree(m, 0, 0x00, 0,
             bridge("00.0", HISI_RP, Dev(CX6_ETH, "mlx5_core", "eth0"),
                    Dev(CX6_ETH, "mlx5_core", "eth1", fn=1)),
             bridge("08.0", HISI_RP, Dev(HIBMC_VGA, "hibmc-drm")),
             bridge("0c.0", HISI_RP, Dev(MEGARAID_3508, "megaraid_sas", "raid")),
             bridge("10.0", HISI_RP, Dev(A100_PCIE_80, "nouveau", "gpu0")),
             bridge("12.0", HISI_RP, Dev(PM9A3, "nvme", "nvme0")))
    pci_tree(m, 0, 0x80, 2, bridge("00.0", HISI_RP, Dev(A100_PCIE_80, "nouveau", "gpu1")))
    make_hca(m, "eth0", "mlx5_0", "Ethernet", "100 Gb/sec (4X EDR)", "20.39.1002")
    make_hca(m, "eth1", "mlx5_1", "Ethernet", "100 Gb/sec (4X EDR)", "20.39.1002")

    # The RAID controller exports one virtual drive as sda; a data NVMe.
    raid = m.pci["raid"][1] + "/host0/target0:2:0/0:2:0:0/block"
    root_uuid = "a3f1c6e2-7b4d-4c9a-8e5f-2d1b0c9a8e77"
    boot_uuid = "e5d4c3b2-a190-4f8e-9d7c-6b5a49382716"
    anaconda_disk(m, raid, "sda", 8, 1874329600, "openeuler", [("root", 146800640)],
                  "ext4", "rw", (root_uuid, boot_uuid, "7C1E-2B9D"), secure_boot=None,
                  cgroup="v1", devtmpfs="devtmpfs")
    make_disk(m, nvme_parent(m), "nvme0n1", 259, 0, 7501476528, [])

    cc = "gcc_old (GCC) 10.3.1"
    running = Kernel("5.10.0-182.0.0.95.oe2203sp3.aarch64", "openeuler",
                     "5.10.0-182.0.0.95.oe2203sp3", cc, 100301, False,
                     title="22.03 (LTS-SP3)")
    old = Kernel("5.10.0-153.12.0.92.oe2203sp2.aarch64", "openeuler",
                 "5.10.0-153.12.0.92.oe2203sp2", cc, 100301, False, io_uring=False,
                 title="22.03 (LTS-SP2)")
    m.write("etc/depmod.d/dist.conf", "search updates extra built-in weak-updates\n")
    intree = ["drm", "drm_kms_helper", "ttm", "drm_ttm_helper", "nouveau", "hibmc_drm",
              "ib_core", "ib_uverbs", "mlx5_core", "mlx5_ib", "nvme_core", "nvme",
              "megaraid_sas"]
    for k in (running, old):
        make_kernel(m, k, intree)
    options = ("root=/dev/mapper/openeuler-root ro rd.lvm.lv=openeuler/root "
               "rd.lvm.lv=openeuler/swap video=VGA-1:640x480-32@60me rhgb quiet "
               "console=tty0 cgroup_disable=files apparmor=0 crashkernel=1024M,high "
               "smmu.bypassdev=0x1000:0x17 smmu.bypassdev=0x1000:0x15 arm64.nopauth")
    boot_identity(m, running, f"BOOT_IMAGE=/vmlinuz-{running.kver} {options}",
                  "(root@dc-64g.compass-ci) (gcc_old (GCC) 10.3.1, GNU ld (GNU "
                  "Binutils) 2.37) #1 SMP Wed Dec 20 09:08:41 CST 2023")
    load_modules(m, running, ["nouveau", "hibmc_drm", "drm_ttm_helper", "ttm",
                              "drm_kms_helper", "drm", "mlx5_ib", "ib_uverbs", "ib_core",
                              "mlx5_core", "megaraid_sas", "nvme", "nvme_core"],
                 extra_refs={"nouveau": 2, "hibmc_drm": 1, "megaraid_sas": 4})
    grub_openeuler(m, boot_uuid, root_uuid, options)
    # openEuler's update repository has kernels, nothing from NVIDIA: the .run installers;
    # the container toolkit from NVIDIA's rpm repository, which serves any RPM distribution.
    repo_json(m, [(n, v, "aarch64", "update")
                  for v in ("5.10.0-182.0.0.95.oe2203sp3", "5.10.0-216.0.0.115.oe2203sp3")
                  for n in ("kernel", "kernel-devel")] + rpm_ctk(m.arch),
              [runfile("driver", "535.216.01", "aarch64", "NVIDIA-Linux-aarch64-535.216.01.run"),
               runfile("driver", "550.127.05", "aarch64", "NVIDIA-Linux-aarch64-550.127.05.run"),
               runfile("cuda", "12.2.2", "sbsa", "cuda_12.2.2_535.104.05_linux_sbsa.run",
                       "535.104.05"),
               runfile("cuda", "12.4.1", "sbsa", "cuda_12.4.1_550.54.15_linux_sbsa.run",
                       "550.54.15"),
               runfile("driver", "580.95.05", "aarch64", "NVIDIA-Linux-aarch64-580.95.05.run"),
               runfile("cuda", "12.8.1", "sbsa", "cuda_12.8.1_570.124.06_linux_sbsa.run",
                       "570.124.06"),
               runfile("cuda", "13.0.2", "sbsa", "cuda_13.0.2_580.95.05_linux_sbsa.run",
                       "580.95.05")])
    finish(m)
    write_readme(m, """
# kunpeng920-openeuler

Models a Huawei TaiShan 200 (2280), openEuler 22.03 LTS SP3, aarch64: 2x Kunpeng
920 (implementer 0x48, part 0xd01; 2 x 64 cores, no SMT), 4 NUMA nodes of 32 CPUs.

- 2x A100 PCIe 80GB (10de:20b5) on nodes 0 and 2, NO NVIDIA driver installed;
  nouveau loaded and bound to both GPUs. Huawei BMC VGA 19e5:1711 (hibmc-drm).
- Dual-port ConnectX-6 (15b3:101b) in Ethernet mode (RoCE): mlx5_0/1,
  link_layer Ethernet, netdevs enp1s0f0np0 and enp1s0f1np1.
- Running 5.10.0-182.0.0.95.oe2203sp3; also 5.10.0-153.12.0.92.oe2203sp2 whose
  config has `# CONFIG_IO_URING is not set`. UEFI, but no SecureBoot variable
  (state unknown); grub.cfg and grubenv on the ESP, boot/grub2/grubenv links there.
- etc/os-release is a regular file (ID="openEuler"); cgroup v1 mounts.
- / ext4 on LVM (openeuler-root on sda3, a MegaRAID virtual drive), /boot ext4
  sda2, /boot/efi vfat sda1.
- Repository view (var/lib/gpuprov/repo.json): kernel and kernel-devel
  5.10.0-182.0.0.95.oe2203sp3 and 5.10.0-216.0.0.115.oe2203sp3 (repo "update"), no
  NVIDIA packages; runfiles NVIDIA-Linux-aarch64-535.216.01.run / -550.127.05.run /
  -580.95.05.run and cuda_12.2.2 / 12.4.1 / 12.8.1 / 13.0.2 sbsa installers.
""")


def gh200_ubuntu2404():
    m = Machine("gh200-ubuntu2404", "aarch64")
    make_os(m, "ubuntu2404", "relative", "gh200-node12", "6a7b8c9d0e1f42a3b4c5d6e7f8091a2b")
    make_cpus(m, GRACE, sockets=1, cores=72, node_mem_gib=(480, 96), mem_only_nodes=(1,),
              hugepage_kb=524288)
    pci_tree(m, 0x0000, 0x00, 0, bridge("00.0", GRACE_RP, Dev(CX7_IB, "mlx5_core", "ib0")))
    pci_tree(m, 0x0002, 0x00, 0, bridge("00.0", GRACE_RP, Dev(PM9A3, "nvme", "nvme0")))
    pci_tree(m, 0x0008, 0x00, 0, bridge("00.0", GRACE_RP, bridge(
        None, AST_BRIDGE, Dev(AST_VGA, "ast"), driver=None)))
    pci_tree(m, 0x0009, 0x00, 0, bridge("00.0", GRACE_RP, Dev(GH200, "nvidia", "gpu0")))
    make_hca(m, "ib0", "mlx5_0", "InfiniBand", "400 Gb/sec (4X NDR)", "28.41.1000")

    root_uuid = "0b9e8d7c-6f5a-4b3c-9d2e-1f0a9b8c7d6e"
    ubuntu_nvme_disk(m, 3750748848, [(2048, 2201600), (2203648, 3748545167)],
                     root_uuid, "9E4C-1A7B", secure_boot=False)

    drv = Driver("560.35.03", True, "dvs-builder@U16-I3-B03-3-1",
                 "Fri Aug 16 21:21:48 UTC 2024",
                 "gcc version 13.2.0 (Ubuntu 13.2.0-23ubuntu4)")
    running = ubuntu_kernel("6.8.0-1013-nvidia-64k", "6.8.0-1013.14", "aarch64",
                            "nvidia-64k", "-nvidia")
    other = ubuntu_kernel("6.8.0-45-generic-64k", "6.8.0-45.45", "aarch64", "generic-64k")
    install_ubuntu_kernels(m, (running, other), GPU_IB_INTREE)
    # DKMS built the driver for the running kernel only, signed with the
    # machine's MOK that the kernel does not know (hence taint E).
    install_nvidia(m, running, "updates/dkms", drv,
                   "gh200-node12 Secure Boot Module Signature key", "sha512")
    ubuntu_boot(m, running, root_uuid,
                "iommu.passthrough=1 init_on_alloc=0 console=ttyAMA0,115200n8",
                "(buildd@bos03-arm64-041) (aarch64-linux-gnu-gcc-13 (Ubuntu "
                "13.2.0-23ubuntu4) 13.2.0, GNU ld (GNU Binutils for Ubuntu) 2.42) "
                "#14-Ubuntu SMP PREEMPT_DYNAMIC Thu Sep 12 10:42:04 UTC 2024",
                "arm64-efi", saved=running.kver)
    load_modules(m, running, GPU_IB_LOADED, taint={n: "OE" for n in NV_NAMES},
                 extra_refs={"nvidia": 12, "nvidia_uvm": 2, "nvidia_modeset": 2, "nvme": 3},
                 sizes={"nvidia": 9175040})
    nvidia_loaded(m, drv)
    for name, ver in (("nvidia-dkms-560-open", "560.35.03-0ubuntu1"),
                      ("nvidia-kernel-source-560-open", "560.35.03-0ubuntu1"),
                      ("nvidia-driver-560-open", "560.35.03-0ubuntu1"),
                      ("nvidia-open", "560.35.03-1"), ("cuda-toolkit-12-6", "12.6.2-1")):
        dpkg_package(m, name, ver, "arm64")
    dpkg_package(m, "dkms", "3.0.11-1ubuntu13", "all", maint=UBUNTU_MAINT)
    install_cuda(m, "12.6.2")
    repo_view_noble_arm64(m)
    finish(m)
    write_readme(m, """
# gh200-ubuntu2404

Models an NVIDIA GH200 Grace Hopper node (MGX 1U class) on Ubuntu 24.04.1 LTS.

- 1x Grace (CPU implementer 0x41, part 0xd4f = Neoverse V2; 72 cores, no SMT).
  NUMA node0 has the CPUs, node1 is memory-only (GPU HBM): empty cpulist.
- GH200 (10de:2342) at 0009:01:00.0 (non-zero PCI domain), ConnectX-7 IB at
  0000:01:00.0 (mlx5_0, ibp1s0), NVMe in domain 0002, ASPEED BMC VGA in
  domain 0008 (present on most GH200 servers, included on purpose).
- Running 6.8.0-1013-nvidia-64k (64K pages), also 6.8.0-45-generic-64k. Open
  driver 560.35.03 via DKMS: updates/dkms/ for the running kernel ONLY (switching
  to the other kernel would leave no driver); MOK-signed, taint OE.
- CUDA 12.6.2, no fabric manager, no NVSwitch. UEFI, Secure Boot off.
- etc/os-release is the relative symlink ../usr/lib/os-release, as Ubuntu ships it.
- / ext4 on nvme0n1p2, /boot/efi vfat on nvme0n1p1.
- Repository view (ports.ubuntu.com noble-updates, NVIDIA ubuntu2404/sbsa):
  6.8.0-1013/-1017-nvidia-64k and 6.8.0-49-generic-64k with the linux-nvidia-64k and
  linux-generic-64k metas; server drivers 535/550/570/580 with precompiled modules for
  all three kernels; NVIDIA's drivers 550.127.05, 560.35.03, 570.124.06, 580.95.05 and
  CUDA 12.6.2 / 12.6.3 / 12.8.1 / 13.0.2.
""")


def l4_edge_ubuntu2404():
    m = Machine("l4-edge-ubuntu2404", "x86_64")
    make_os(m, "ubuntu2404", "missing", "edge-l4-031", "d1e2f3a4b5c6478990a1b2c3d4e5f607")
    siena_l4_edge(m, 192, "nvidia", "eno1l4")

    root_uuid = "5f4e3d2c-1b0a-4998-8776-655443322110"
    ubuntu_nvme_disk(m, 1875385008, [(2048, 2201600), (2203648, 1873181327)],
                     root_uuid, "B0C4-5E61", secure_boot=True)

    drv = Driver("550.127.05", True, "dvs-builder@U16-I2-C03-12-4",
                 "Thu Oct 10 22:12:24 UTC 2024",
                 "gcc version 13.2.0 (Ubuntu 13.2.0-23ubuntu4)")
    running = ubuntu_kernel("6.8.0-48-generic", "6.8.0-48.48", "x86_64", "generic")
    old = ubuntu_kernel("6.8.0-45-generic", "6.8.0-45.45", "x86_64", "generic")
    install_ubuntu_kernels(m, (running, old), IGB_INTREE, precompiled=drv)
    ubuntu_boot(m, running, root_uuid, "",
                "(buildd@lcy02-amd64-010) (x86_64-linux-gnu-gcc-13 (Ubuntu "
                "13.2.0-23ubuntu4) 13.2.0, GNU ld (GNU Binutils for Ubuntu) 2.42) "
                "#48-Ubuntu SMP PREEMPT_DYNAMIC Fri Sep 27 14:04:52 UTC 2024", "x86_64-efi")
    load_modules(m, running, ["nvidia_uvm", "nvidia_drm", "nvidia_modeset", "nvidia",
                              "igb", "ast", "drm_kms_helper", "drm", "nvme", "nvme_core"],
                 taint={n: "O" for n in NV_NAMES},
                 extra_refs={"nvidia": 4, "nvidia_modeset": 2, "nvme": 3},
                 sizes={"nvidia": 8990720})
    nvidia_loaded(m, drv)
    ubuntu_nvidia_packages(m, "550", "550.127.05-0ubuntu0.24.04.1", [running, old])
    repo_view_noble_amd64(m)
    finish(m)
    write_readme(m, """
# l4-edge-ubuntu2404

Models a 1U edge inference server: Ubuntu 24.04.1 LTS, 1x AMD EPYC 8124P
(Siena, 16 cores, SMT: 32 CPUs), one NUMA node; core ids are not contiguous
(0-3, 8-11, 16-19, 24-27) as on parts with partially enabled CCXs.

- 1x L4 (10de:27b8), ASPEED BMC VGA, Intel I210 (eno1), NVMe. No HCA, no
  NVSwitch, no fabric manager, no CUDA toolkit.
- Secure Boot ON. The driver is 550.127.05 open from Canonical's precompiled,
  signed packages (linux-modules-nvidia-550-server-open-<kver>) in
  kernel/nvidia-550srv/ for BOTH kernels (6.8.0-48-generic running,
  6.8.0-45-generic): the Secure-Boot-safe way.
- etc/os-release is MISSING; only usr/lib/os-release exists.
- GRUB default is entry 0, grubenv is empty (no saved_entry).
- / ext4 on nvme0n1p2, /boot/efi vfat on nvme0n1p1.
- Repository view (noble-updates, NVIDIA ubuntu2404/x86_64): 6.8.0-48/-49-generic and
  linux-generic 6.8.0-49.49; server drivers 535.216.01 / 550.127.05 / 570.124.06 /
  580.95.05 with signed precompiled modules for both kernels (6.8.0-45 is installed but
  no longer offered); NVIDIA's 550.127.05 / 570.124.06 / 580.95.05, CUDA 12.6.3 /
  12.8.1 / 13.0.2.
""")


def debian12_nogpu():
    m = Machine("debian12-nogpu", "x86_64")
    make_os(m, "debian12", "absolute", "build-07", "0fa1b2c3d4e5461798a9b0c1d2e3f405")
    m.sysfs("etc/debian_version", "12.5")
    make_cpus(m, XEON_4314, sockets=1, cores=16, threads=2, node_mem_gib=(256,))
    pci_tree(m, 0, 0x00, -1,
             Dev(C620_AHCI, "ahci", "sata", at="17.0"),
             bridge("1c.0", C620_RP, bridge(None, AST_BRIDGE, Dev(AST_VGA, "ast"),
                                            driver=None)))
    pci_tree(m, 0, 0x17, -1, bridge("02.0", ICX_RP, Dev(X710, "i40e", "lan0"),
                                    Dev(X710, "i40e", "lan1", fn=1)))
    pci_tree(m, 0, 0x30, -1, bridge("02.0", ICX_RP, Dev(PM9A3, "nvme", "nvme0")))
    make_netdev(m, m.pci["lan0"][1], "eno1", mac("eno1deb"), 1, 1500)
    make_netdev(m, m.pci["lan1"][1], "eno2", mac("eno2deb"), 1, 1500)

    # Two SATA disks: BIOS boot partition + RAID member; md0 RAID1; LVM on md0.
    sata = m.pci["sata"][1]
    members = []
    for n, disk in enumerate(("sda", "sdb")):
        parent = f"{sata}/ata{n + 1}/host{n}/target{n}:0:0/{n}:0:0:0/block"
        parts = make_disk(m, parent, disk, 8, 16 * n, 937703088,
                          [(2048, 2048), (4096, 937698959)])
        members.append(parts[f"{disk}2"])
    md = make_virtual_block(m, "md0", "9:0", 937431040, members,
                            {"md/level": "raid1", "md/raid_disks": 2,
                             "md/metadata_version": "1.2", "md/array_state": "clean"})
    lvm_volume(m, "vg0", "root", 0, 209715200, [md])
    root_uuid = "c8d7e6f5-a4b3-4c2d-9e1f-0a9b8c7d6e5f"
    make_fs(m, "mapper/vg0-root", "ext4", root_uuid)
    write_mountinfo(m, ("/", "253:0", "ext4", "/dev/mapper/vg0-root", EXT4_ROOT,
                        "rw,relatime"),
                    [("/mnt/scratch area", "0:31", "tmpfs", "tmpfs",
                      "rw,size=16777216k,inode64", "rw,relatime")], efi=False)
    write_fstab(m, [("/dev/mapper/vg0-root", "/", "ext4", "errors=remount-ro", 0, 1),
                    ("tmpfs", "/mnt/scratch area", "tmpfs", "size=16G", 0, 0)])

    signer = "Debian Secure Boot Signer 2022 - linux"
    cc = "gcc-12 (Debian 12.2.0-14) 12.2.0"
    running = Kernel("6.1.0-18-amd64", "debian", "6.1.76-1", cc, 120200, True, "sha256",
                     signer)
    old = Kernel("6.1.0-17-amd64", "debian", "6.1.69-1", cc, 120200, True, "sha256", signer)
    intree = ["drm", "drm_kms_helper", "ast", "i40e", "ahci", "libahci", "md_mod",
              "raid1", "dm_mod", "nvme_core", "nvme", "nouveau", "ttm", "drm_ttm_helper"]
    for k in (running, old):
        make_kernel(m, k, intree)
    boot_identity(m, running, f"BOOT_IMAGE=/boot/vmlinuz-{running.kver} "
                  "root=/dev/mapper/vg0-root ro quiet",
                  "(debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0, "
                  "GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian "
                  "6.1.76-1 (2024-02-01)")
    load_modules(m, running, ["i40e", "ast", "drm_kms_helper", "drm", "dm_mod", "raid1",
                              "md_mod", "ahci", "libahci", "nvme", "nvme_core"],
                 extra_refs={"dm_mod": 2, "raid1": 1, "ahci": 4})
    lvmid = "lvmid/" + "/".join(dashed_lvm(lvm_uuid("vg0", "root")[i:i + 32])
                                for i in (4, 36))
    grub_debian(m, "Debian GNU/Linux", "debian", root_uuid, "/dev/mapper/vg0-root", "quiet",
                "\tinsmod part_gpt\n\tinsmod mdraid1x\n\tinsmod lvm\n\tinsmod ext2\n"
                f"\tset root='{lvmid}'\n"
                f"\tsearch --no-floppy --fs-uuid --set=root --hint='{lvmid}' {root_uuid}\n",
                "i386-pc", saved=running.kver)
    repo_view_bookworm(m)
    finish(m)
    write_readme(m, """
# debian12-nogpu

Models a plain 1U build/infra server: Debian 12.5 (bookworm), 1x Xeon Silver
4314 (16 cores, HT: 32 CPUs), one NUMA node (PCI numa_node is -1).

- No NVIDIA device at all. The ASPEED BMC VGA (class 0x030000) must not be
  counted as a GPU; Intel X710 (8086:1572, i40e) as eno1/eno2; an unused NVMe.
- Legacy BIOS boot: no sys/firmware/efi, no ESP; boot/grub/i386-pc.
- / ext4 on LVM (vg0-root, dm-0) on RAID1 md0 (sda2 + sdb2); /boot is inside /.
  GRUB cannot write its grubenv on LVM/RAID, so a one-shot boot entry
  would never be cleared.
- etc/os-release is an ABSOLUTE symlink /usr/lib/os-release (resolve in root).
- proc/self/mountinfo has a mount point with a space (/mnt/scratch\\040area).
- Running 6.1.0-18-amd64, also 6.1.0-17-amd64.
- Repository view: bookworm main with linux-image/-headers 6.1.0-18-amd64 (6.1.76-1) and
  6.1.0-27-amd64 (6.1.115-1), linux-image-amd64 / linux-headers-amd64 6.1.115-1, dkms;
  NVIDIA's debian12 repository (Debian names: nvidia-driver, nvidia-kernel-open-dkms,
  nvidia-kernel-dkms at 535.216.01-1 / 550.54.15-1 / 550.127.05-1 / 570.124.06-1 /
  580.95.05-1, nvidia-open, cuda-drivers-<br>, nvidia-fabricmanager-<br>; CUDA 12.4.1 /
  12.6.3 / 12.8.1 / 13.0.2).
""")


# Machines for the risk combinations: each models one way a provisioning plan goes wrong.

def xeon_server_pci(m, gpu, gpu_driver, numa=0):
    """A 1U Ice Lake server: ASPEED BMC, dual-port X710 (eno1/eno2), NVMe, one GPU."""
    pci_tree(m, 0, 0x00, numa,
             bridge("1c.0", C620_RP, bridge(None, AST_BRIDGE, Dev(AST_VGA, "ast"), driver=None)))
    pci_tree(m, 0, 0x17, numa, bridge("02.0", ICX_RP, Dev(X710, "i40e", "lan0"),
                                      Dev(X710, "i40e", "lan1", fn=1)))
    pci_tree(m, 0, 0x30, numa, bridge("02.0", ICX_RP, Dev(PM9A3, "nvme", "nvme0")))
    pci_tree(m, 0, 0x4a, numa, bridge("02.0", ICX_RP, Dev(gpu, gpu_driver, "gpu0")))
    make_netdev(m, m.pci["lan0"][1], "eno1", mac("eno1" + m.name), 1, 1500)
    make_netdev(m, m.pci["lan1"][1], "eno2", mac("eno2" + m.name), 1, 1500)


XEON_INTREE = ["drm", "drm_kms_helper", "ast", "i40e", "nvme_core", "nvme", "nouveau",
               "ttm", "drm_ttm_helper"]
XEON_LOADED = ["i40e", "ast", "drm_kms_helper", "drm", "nvme", "nvme_core"]
NV_STACK = ["nvidia_uvm", "nvidia_drm", "nvidia_modeset", "nvidia"]
# A 1.92 TB NVMe as the Ubuntu/Debian installers partition it on UEFI: 512 MiB ESP, root.
NVME_1920 = (1875385008, [(2048, 1048576), (1050624, 1874334351)])
BLACKLIST_NOUVEAU = "blacklist nouveau\noptions nouveau modeset=0\n"


def ubuntu_dpkg_branch(m, branch, version, names):
    """Ubuntu archive packages of server branch <branch> as dpkg knows them."""
    for name in names:
        dpkg_package(m, name.format(b=f"{branch}-server"), version, DEB_ARCH[m.arch],
                     f"nvidia-graphics-drivers-{branch}-server", maint=UBUNTU_MAINT)


def ubuntu2004_cuda122():
    m = Machine("ubuntu2004-cuda122", "x86_64")
    make_os(m, "ubuntu2004", "relative", "a100-focal-05", "8e1d2c3b4a5f46e7a8b9c0d1e2f3a4b5")
    make_cpus(m, XEON_4314, sockets=1, cores=16, threads=2, node_mem_gib=(256,))
    xeon_server_pci(m, A100_PCIE_80, "nvidia")
    root_uuid = "2b7e1c4d-9a3f-4e6b-8d2c-5f1a0b9c8d71"
    ubuntu_nvme_disk(m, *NVME_1920, root_uuid, "6C2A-91F4", secure_boot=False)

    drv = Driver("535.183.01", False, None, "Sun May 12 19:39:15 UTC 2024",
                 "gcc version 9.4.0 (Ubuntu 9.4.0-1ubuntu1~20.04.2)")
    running = ubuntu_kernel("5.4.0-200-generic", "5.4.0-200.220", "x86_64", "generic")
    old = ubuntu_kernel("5.4.0-198-generic", "5.4.0-198.218", "x86_64", "generic")
    install_ubuntu_kernels(m, (running, old), XEON_INTREE, precompiled=drv)
    ubuntu_boot(m, running, root_uuid, "",
                "(buildd@lcy02-amd64-026) (gcc version 9.4.0 (Ubuntu "
                "9.4.0-1ubuntu1~20.04.2)) #220-Ubuntu SMP Fri Sep 27 13:19:16 UTC 2024",
                "x86_64-efi", saved=running.kver)
    load_modules(m, running, NV_STACK + XEON_LOADED, taint={n: "PO" for n in NV_NAMES},
                 extra_refs={"nvidia": 4, "nvidia_modeset": 2, "nvme": 3},
                 sizes={"nvidia": 56229888})
    nvidia_loaded(m, drv)
    ubuntu_nvidia_packages(m, "535", "535.183.01-0ubuntu0.20.04.1", [running, old],
                           open_=False)
    cuda_from_apt(m, "12.2.2")
    repo_view_focal(m)
    finish(m)
    write_readme(m, """
# ubuntu2004-cuda122

Risk modelled: an old but consistent stack on an Ubuntu release past its standard
support. Ubuntu 20.04.6 LTS (Focal), 1x Xeon Silver 4314 (16 cores, HT: 32 CPUs).

- 1x A100 PCIe 80GB (10de:20b5) bound to nvidia; ASPEED BMC VGA, X710 (eno1/eno2), NVMe.
- Running 5.4.0-200-generic, also 5.4.0-198-generic; both have Canonical's signed
  precompiled PROPRIETARY 535.183.01 modules (linux-modules-nvidia-535-server-<kver>,
  license NVIDIA, taint PO) in kernel/nvidia-535srv/. Driver loaded.
- CUDA 12.2.2 (needs >= 535.104.05: satisfied). No fabric manager, no HCA.
- UEFI, Secure Boot off; / ext4 nvme0n1p2, /boot/efi vfat nvme0n1p1.
- Repository view: focal-updates offers 5.4.0-204-generic and the server branches 535
  (535.216.01) and 550 only, precompiled modules for both kernels; NVIDIA's ubuntu2004
  repository offers 535.183.01/535.216.01/550.127.05/570.124.06 and CUDA 12.2-12.8.

What `check` should say: the driver/CUDA pairing is fine; flag Ubuntu 20.04 (end of
standard support, May 2025) and that a CUDA >= 12.8 target needs a 570 driver, which the
Ubuntu archive does not offer for focal (only NVIDIA's repository, with DKMS).
""")


def rhel8_a100():
    m = Machine("rhel8-a100", "x86_64")
    make_os(m, "rhel810", "relative", "a100-rhel8-02", "5d3c2b1a0f9e48d7c6b5a4938271605f")
    m.write("etc/redhat-release", "Red Hat Enterprise Linux release 8.10 (Ootpa)\n")
    m.symlink("etc/system-release", "redhat-release")
    make_cpus(m, EPYC_7742, sockets=2, cores=64, threads=2, node_mem_gib=(512, 512))
    # HGX A100 4-GPU: the GPUs hang off CPU root ports (NVLink between them, no NVSwitch).
    for i, (root, numa) in enumerate(((0x00, 0), (0x40, 0), (0x80, 1), (0xc0, 1))):
        pci_tree(m, 0, root, numa, bridge("01.1", ROME_RP, Dev(A100_SXM4_80, "nvidia", f"gpu{i}")))
    pci_tree(m, 0, 0x20, 0, bridge("01.1", ROME_RP, Dev(MICRON_7450, "nvme", "nvme0")),
             bridge("03.1", ROME_RP, Dev(CX6_IB, "mlx5_core", "ib0")))
    pci_tree(m, 0, 0xe0, 1, bridge("03.1", ROME_RP, bridge(
        None, AST_BRIDGE, Dev(AST_VGA, "ast"), driver=None)))
    make_hca(m, "ib0", "mlx5_0", "InfiniBand", "200 Gb/sec (4X HDR)", "20.39.1002")

    root_uuid = "9f3e2d1c-0b4a-4c5d-8e6f-7a8b9c0d1e2f"
    boot_uuid = "3c4d5e6f-7a8b-4c9d-0e1f-2a3b4c5d6e7f"
    anaconda_disk(m, nvme_parent(m), "nvme0n1", 259, 7501476528, "rhel",
                  [("root", 146800640), ("swap", 8388608)], "xfs", XFS_OPTS,
                  (root_uuid, boot_uuid, "4A7C-2E91"), secure_boot=False,
                  cgroup="v1", devtmpfs="devtmpfs")

    drv = Driver("550.127.05", False, None, "Thu Oct 10 21:52:03 UTC 2024",
                 "gcc version 8.5.0 20210514 (Red Hat 8.5.0-22) (GCC)")
    signer = "Red Hat Enterprise Linux kernel signing key"
    running = Kernel("4.18.0-553.el8_10.x86_64", "rhel", "4.18.0-553.el8_10",
                     "gcc (GCC) 8.5.0 20210514 (Red Hat 8.5.0-22)", 80500, False, "sha256",
                     signer, io_uring=False, xz=True, title="8.10 (Ootpa)", old_config=True)
    old = Kernel("4.18.0-513.24.1.el8_9.x86_64", "rhel", "4.18.0-513.24.1.el8_9",
                 "gcc (GCC) 8.5.0 20210514 (Red Hat 8.5.0-20)", 80500, False, "sha256",
                 signer, io_uring=False, xz=True, title="8.9 (Ootpa)", old_config=True)
    options = ("root=/dev/mapper/rhel-root ro crashkernel=auto resume=/dev/mapper/rhel-swap "
               "rd.lvm.lv=rhel/root rd.lvm.lv=rhel/swap rhgb quiet "
               "rd.driver.blacklist=nouveau modprobe.blacklist=nouveau")
    base = "rhel-8-for-x86_64-baseos-rpms"
    rhel_kmod_gpu_node(
        m, drv, running, old, boot_uuid, options,
        "(mockbuild@x86-vm-07.build.eng.bos.redhat.com) (gcc version 8.5.0 "
        "20210514 (Red Hat 8.5.0-22) (GCC)) #1 SMP Wed May 8 10:51:04 EDT 2024",
        refs=(77, 4), nvidia_size=62988288,
        bls=bls_rhel8, stamps=("20240508145104", "20240305180452"), cuda="12.4.1",
        packages=rpm_kernels(["4.18.0-553.el8_10", "4.18.0-553.27.1.el8_10",
                              "4.18.0-553.30.1.el8_10"], "x86_64", base, base, matched=False) +
        rpm_nvidia(8, ["535.216.01", "550.127.05", "570.124.06", "580.95.05"],
                   ["12.2.2", "12.4.1", "12.8.1", "13.0.2"]))
    finish(m)
    write_readme(m, """
# rhel8-a100

Risk modelled: an end-of-life driver branch on an older enterprise release. Red Hat
Enterprise Linux 8.10 (Ootpa), HGX A100 4-GPU board, 2x AMD EPYC 7742 (256 CPUs), 2 NUMA
nodes.

- 4x A100 SXM4 80GB (10de:20b2) on CPU root ports, NVLink between them, NO NVSwitch (so no
  fabric manager is needed or installed); ConnectX-6 HDR HCA (mlx5_0); ASPEED BMC VGA.
- Proprietary driver 550.127.05 (R550: end of life) as a precompiled kmod in
  extra/drivers/video/nvidia/ for the running 4.18.0-553.el8_10 ONLY; the older
  4.18.0-513.24.1.el8_9 has none. Taint POE; nvidia_peermem not loaded. CUDA 12.4.1.
- Kernel configs: `# CONFIG_IO_URING is not set`, no CONFIG_CC_VERSION_TEXT (4.18).
  cgroup v1 mounts (RHEL 8 default). Modules .ko.xz.
- Boot: UEFI, SB off. BLS entries use `options $kernelopts $tuned_params`; kernelopts and
  saved_entry live in the grubenv. grub.cfg and grubenv are on the ESP (EFI/redhat/),
  boot/grub2/grubenv is a relative link to it. / xfs on LVM rhel-root.
- Repository view (repo.json): kernel, kernel-core, kernel-modules, kernel-devel
  4.18.0-553.el8_10 / 553.27.1 / 553.30.1 in rhel-8-for-x86_64-baseos-rpms (no
  kernel-devel-matched on EL8); cuda-rhel8-x86_64 with nvidia-driver,
  kmod-nvidia-open-dkms, kmod-nvidia-latest-dkms 535.216.01 / 550.127.05 / 570.124.06 /
  580.95.05 (-1.el8), nvidia-fabric-manager, CUDA 12.2.2 / 12.4.1 / 12.8.1 / 13.0.2.

What `check` should say: R550 is end of life (move to R535 or R580 LTSB, or R570);
the NVIDIA module exists for the running kernel only, so a kernel update from the repo
(553.27.1, 553.30.1) leaves no driver; io_uring is missing.
""")


def bls_rhel8(m, boot_uuid, options, stamps):
    """RHEL 8 on UEFI: BLS entries take their options from $kernelopts in the grubenv;
    the whole grub.cfg and the grubenv are on the ESP, boot/grub2/grubenv links there."""
    mid = m.machine_id
    bls_entries(m, "Red Hat Enterprise Linux", "rhel", "$kernelopts $tuned_params", "kernel",
                stamps)
    m.write("boot/efi/EFI/redhat/grub.cfg", blscfg_grub_cfg(boot_uuid, options))
    m.write("boot/efi/EFI/redhat/grubenv", grubenv(
        [f"saved_entry={mid}-{m.running.kver}", f"kernelopts={options} ",
         "boot_success=0", "boot_indeterminate=0"], rh=True))
    m.symlink("boot/grub2/grubenv", "../efi/EFI/redhat/grubenv")


def selfbuilt_kernel():
    m = Machine("selfbuilt-kernel", "x86_64")
    make_os(m, "debian12", "relative", "gpu-ws-04", "7b6a5f4e3d2c41b0a9f8e7d6c5b4a392")
    m.sysfs("etc/debian_version", "12.8")
    make_cpus(m, XEON_4314, sockets=1, cores=16, threads=2, node_mem_gib=(256,))
    xeon_server_pci(m, L40S, "nvidia")
    root_uuid = "e1d2c3b4-a596-4877-8695-a4b3c2d1e0f9"
    ubuntu_nvme_disk(m, *NVME_1920, root_uuid, "D4E5-F607", secure_boot=False,
                     root_opts="errors=remount-ro")

    cc = "gcc-12 (Debian 12.2.0-14) 12.2.0"
    debian = Kernel("6.1.0-18-amd64", "debian", "6.1.76-1", cc, 120200, True, "sha256",
                    "Debian Secure Boot Signer 2022 - linux")
    # make localmodconfig from Debian's config; make modules_install; make install.
    custom = Kernel("6.6.30", "custom", None, cc, 120200, True, "sha256",
                    "Build time autogenerated kernel key")
    for k in (debian, custom):
        make_kernel(m, k, XEON_INTREE)
    drv = Driver("550.127.05", True, "dvs-builder@U16-I2-C03-12-4",
                 "Thu Oct 10 22:12:24 UTC 2024", "gcc version 12.2.0 (Debian 12.2.0-14)")
    install_nvidia(m, custom, "updates/dkms", drv)
    boot_identity(m, custom, f"BOOT_IMAGE=/boot/vmlinuz-{custom.kver} root=UUID={root_uuid} "
                  "ro quiet",
                  "(root@gpu-ws-04) (gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils "
                  "for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Tue May 14 10:12:31 CEST 2024")
    grub_debian(m, "Debian GNU/Linux", "debian", root_uuid, f"UUID={root_uuid}", "quiet",
                "\tinsmod part_gpt\n\tinsmod ext2\n"
                f"\tsearch --no-floppy --fs-uuid --set=root {root_uuid}\n",
                "x86_64-efi", saved=custom.kver)
    load_modules(m, custom, NV_STACK + XEON_LOADED, taint={n: "OE" for n in NV_NAMES},
                 extra_refs={"nvidia": 3, "nvidia_modeset": 2, "nvme": 3},
                 sizes={"nvidia": 9011200})
    nvidia_loaded(m, drv)
    for name in ("nvidia-driver", "nvidia-kernel-open-dkms", "nvidia-kernel-support",
                 "firmware-nvidia-gsp"):
        dpkg_package(m, name, "550.127.05-1", "amd64")
    dpkg_package(m, "dkms", "3.0.10-8+deb12u1", "all", section="kernel",
                 maint="Dynamic Kernel Module System Team <dkms@packages.debian.org>")
    repo_view_bookworm(m)
    finish(m)
    write_readme(m, """
# selfbuilt-kernel

Risk modelled: the running kernel is not a distribution kernel. Debian 12.8 (bookworm),
1x Xeon Silver 4314 (16 cores, HT: 32 CPUs).

- Running a self-built 6.6.30 (release "6.6.30", no flavour): boot/vmlinuz-6.6.30,
  config and System.map from `make install`, initrd from Debian's hook, modules in
  lib/modules/6.6.30/ signed with the build's autogenerated key. NO dpkg file list for it
  and no lib/modules/6.6.30/vmlinuz: no package owns it.
- Also installed: Debian's 6.1.0-18-amd64 (linux-image-6.1.0-18-amd64, 6.1.76-1).
- 1x L40S (10de:26b9) bound to nvidia: open driver 550.127.05 built by DKMS for 6.6.30
  ONLY (updates/dkms/, unsigned, taint OE; packages from NVIDIA's debian12 repository:
  nvidia-kernel-open-dkms 550.127.05-1). Debian's kernel has no NVIDIA module.
- UEFI, Secure Boot off; GRUB saved_entry = 6.6.30. / ext4 nvme0n1p2.
- Repository view: bookworm main offers 6.1.0-18 and 6.1.0-27 (linux-image-amd64 meta
  6.1.115-1), headers, dkms; NVIDIA's debian12 repository 535/550/570 and CUDA 12.4-12.8.

What `check` should say: the running kernel is not from a package (nothing to hold, no
headers or precompiled modules from any repository, updates are manual); the driver
exists for it only through DKMS, and booting the Debian kernel would leave no driver.
""")


def preempt_rt():
    m = Machine("preempt-rt", "x86_64")
    make_os(m, "ubuntu2204", "relative", "rt-edge-11", "a0b1c2d3e4f5461728394a5b6c7d8e9f")
    siena_l4_edge(m, 128, "nouveau", "eno1rt")
    root_uuid = "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8"
    ubuntu_nvme_disk(m, *NVME_1920, root_uuid, "1F2E-3D4C", secure_boot=False,
                     root_opts="errors=remount-ro")

    rt = ubuntu_kernel("5.15.0-1032-realtime", "5.15.0-1032.35", "x86_64", "realtime",
                       "-realtime")
    generic = ubuntu_kernel("5.15.0-125-generic", "5.15.0-125.135", "x86_64", "generic")
    install_ubuntu_kernels(m, (rt, generic), IGB_INTREE)
    ubuntu_boot(m, rt, root_uuid, "nohz_full=2-15,18-31 rcu_nocbs=2-15,18-31 "
                "isolcpus=managed_irq,domain,2-15,18-31",
                "(buildd@lcy02-amd64-088) (gcc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0, GNU ld "
                "(GNU Binutils for Ubuntu) 2.38) #35-Ubuntu SMP PREEMPT_RT "
                "Thu Sep 12 10:54:12 UTC 2024", "x86_64-efi", saved=rt.kver)
    load_modules(m, rt, ["nouveau", "drm_ttm_helper", "ttm", "igb", "ast", "drm_kms_helper",
                         "drm", "nvme", "nvme_core"], extra_refs={"nouveau": 1, "nvme": 3})
    repo_view_jammy(m)
    repo_view_realtime(m)
    finish(m)
    write_readme(m, """
# preempt-rt

Risk modelled: a PREEMPT_RT kernel. Ubuntu 22.04.4 LTS with Ubuntu Pro's real-time
kernel, 1x AMD EPYC 8124P (16 cores, SMT: 32 CPUs), one NUMA node.

- Running 5.15.0-1032-realtime: boot/config has `CONFIG_PREEMPT_RT=y` (no "is not set"
  line for it), vermagic "SMP preempt_rt"; cmdline isolates CPUs (nohz_full, isolcpus).
  Also installed: 5.15.0-125-generic (not PREEMPT_RT).
- 1x L4 (10de:27b8) bound to nouveau (loaded); NO NVIDIA driver installed yet.
  ASPEED BMC VGA, I210 (eno1), NVMe. UEFI, Secure Boot off.
- Repository view: jammy-updates as on the other 22.04 machines (precompiled modules
  only for -generic kernels) plus esm.ubuntu.com/realtime (5.15.0-1032/-1034-realtime,
  linux-realtime meta) with NO precompiled NVIDIA modules.

What `check` should say: the NVIDIA open modules refuse to build on PREEMPT_RT kernels
(kernel-open/conftest.sh) and no precompiled modules exist for the realtime flavour, so
there is no driver path on the running kernel; nouveau holds the GPU and needs
blacklisting; the installed -generic kernel is the way to a driver.
""")


def old_driver_new_kernel():
    m = Machine("old-driver-new-kernel", "x86_64")
    make_os(m, "ubuntu2204", "relative", "a100-dev-03", "c9d8e7f6a5b44c3d2e1f0a9b8c7d6e5f")
    make_cpus(m, EPYC_7742, sockets=1, cores=64, threads=2, node_mem_gib=(512,))
    pci_tree(m, 0, 0x00, 0, bridge("01.1", ROME_RP, Dev(A100_PCIE_40, None, "gpu0")),
             bridge("03.1", ROME_RP, Dev(MICRON_7450, "nvme", "nvme0")))
    pci_tree(m, 0, 0x40, 0, bridge("01.1", ROME_RP, Dev(A100_PCIE_40, None, "gpu1")))
    pci_tree(m, 0, 0xc0, 0, bridge("03.1", ROME_RP, bridge(None, AST_BRIDGE,
                                                           Dev(AST_VGA, "ast"), driver=None)),
             bridge("05.1", ROME_RP, Dev(I210, "igb", "lan")))
    make_netdev(m, m.pci["lan"][1], "eno1", mac("eno1odnk"), 1, 1500)
    root_uuid = "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d"
    ubuntu_nvme_disk(m, *NVME_1920, root_uuid, "8B9C-0D1E", secure_boot=False,
                     root_opts="errors=remount-ro")

    hwe = ubuntu_kernel("6.8.0-49-generic", "6.8.0-49.49~22.04.1", "x86_64", "generic",
                        "-hwe-6.8")
    # The HWE kernels for 22.04 are built with 22.04's gcc-12.
    hwe.cc, hwe.gcc = "x86_64-linux-gnu-gcc-12 (Ubuntu 12.3.0-1ubuntu1~22.04) 12.3.0", 120300
    ga = ubuntu_kernel("5.15.0-105-generic", "5.15.0-105.115", "x86_64", "generic")
    install_ubuntu_kernels(m, (hwe, ga), IGB_INTREE)
    # DKMS built 525.147.05 for the GA kernel; its build for 6.8.0-49 failed, so the
    # running kernel has no NVIDIA module at all.
    old = Driver("525.147.05", False, None, "Wed Oct 25 20:27:35 UTC 2023",
                 "gcc version 11.4.0 (Ubuntu 11.4.0-1ubuntu1~22.04)")
    install_nvidia(m, ga, "updates/dkms", old)
    m.write("etc/modprobe.d/blacklist-nouveau.conf", BLACKLIST_NOUVEAU)
    ubuntu_boot(m, hwe, root_uuid, "",
                "(buildd@lcy02-amd64-103) (x86_64-linux-gnu-gcc-12 (Ubuntu "
                "12.3.0-1ubuntu1~22.04) 12.3.0, GNU ld (GNU Binutils for Ubuntu) 2.38) "
                "#49~22.04.1-Ubuntu SMP PREEMPT_DYNAMIC Wed Nov  6 17:42:15 UTC 2",
                "x86_64-efi", saved=hwe.kver)
    load_modules(m, hwe, ["igb", "ast", "drm_kms_helper", "drm", "nvme", "nvme_core"],
                 extra_refs={"nvme": 3})
    ubuntu_dpkg_branch(m, "525", "525.147.05-0ubuntu0.22.04.1",
                       ["nvidia-headless-{b}", "nvidia-headless-no-dkms-{b}", "nvidia-dkms-{b}",
                        "nvidia-kernel-source-{b}", "nvidia-kernel-common-{b}",
                        "libnvidia-compute-{b}", "nvidia-utils-{b}", "nvidia-compute-utils-{b}"])
    dpkg_package(m, "dkms", "2.8.7-2ubuntu2.2", "all", section="kernel", maint=UBUNTU_MAINT)
    repo_view_jammy(m)
    finish(m)
    write_readme(m, """
# old-driver-new-kernel

Risk modelled: an old driver branch left behind by a kernel upgrade. Ubuntu 22.04.4 LTS
moved to the HWE kernel, 1x AMD EPYC 7742 (64 cores, SMT: 128 CPUs), one NUMA node.

- Running 6.8.0-49-generic (HWE, 6.8.0-49.49~22.04.1): NO NVIDIA module for it.
- Also installed 5.15.0-105-generic (GA), which has the proprietary 525.147.05 module
  built by DKMS in updates/dkms/ (license NVIDIA, version 525.147.05, unsigned). dpkg has
  the Ubuntu 525-server packages (nvidia-dkms-525-server 525.147.05-0ubuntu0.22.04.1).
  The DKMS build for 6.8 failed (no build log is modelled).
- 2x A100 PCIe 40GB (10de:20f1), NOTHING bound: nouveau is blacklisted
  (etc/modprobe.d/blacklist-nouveau.conf) and nvidia is not loaded; no
  proc/driver/nvidia. ASPEED BMC VGA, I210 (eno1), NVMe. UEFI, Secure Boot off.
- Repository view: jammy-updates (5.15.0-105/-125, HWE 6.8.0-49, server drivers
  535/550/570 with precompiled modules for each kernel; 525-server only as transitional
  packages to 535-server) and NVIDIA's ubuntu2204 repository.

What `check` should say: R525 is end of life and has no module for the running kernel;
the GPUs have no driver; the fix is a supported branch (535/550/570 precompiled for
6.8.0-49-generic), not a rebuild of 525.
""")


def secureboot_dkms():
    m = Machine("secureboot-dkms", "x86_64")
    make_os(m, "ubuntu2204", "relative", "l40s-inf-07", "1e2d3c4b5a6947f8e9d0c1b2a3f4e5d6")
    make_cpus(m, XEON_4314, sockets=1, cores=16, threads=2, node_mem_gib=(256,))
    xeon_server_pci(m, L40S, None)
    root_uuid = "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e"
    ubuntu_nvme_disk(m, *NVME_1920, root_uuid, "5A6B-7C8D", secure_boot=True,
                     root_opts="errors=remount-ro")

    running = ubuntu_kernel("5.15.0-125-generic", "5.15.0-125.135", "x86_64", "generic")
    old = ubuntu_kernel("5.15.0-105-generic", "5.15.0-105.115", "x86_64", "generic")
    install_ubuntu_kernels(m, (running, old), XEON_INTREE)
    drv = Driver("550.127.05", True, "dvs-builder@U16-I2-C03-12-4",
                 "Thu Oct 10 22:12:24 UTC 2024",
                 "gcc version 11.4.0 (Ubuntu 11.4.0-1ubuntu1~22.04)")
    # DKMS built the open modules for both kernels but had no MOK to sign them with.
    for k in (running, old):
        install_nvidia(m, k, "updates/dkms", drv)
    m.write("etc/modprobe.d/blacklist-nouveau.conf", BLACKLIST_NOUVEAU)
    ubuntu_boot(m, running, root_uuid, "",
                "(buildd@lcy02-amd64-047) (gcc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0, GNU ld "
                "(GNU Binutils for Ubuntu) 2.38) #135-Ubuntu SMP Fri Sep 27 22:10:09 UTC 2024",
                "x86_64-efi", saved=running.kver)
    load_modules(m, running, XEON_LOADED, extra_refs={"nvme": 3})
    ubuntu_dpkg_branch(m, "550", "550.127.05-0ubuntu0.22.04.1",
                       ["nvidia-headless-{b}-open", "nvidia-headless-no-dkms-{b}-open",
                        "nvidia-dkms-{b}-open", "nvidia-kernel-source-{b}-open",
                        "nvidia-kernel-common-{b}", "libnvidia-compute-{b}", "nvidia-utils-{b}",
                        "nvidia-compute-utils-{b}"])
    dpkg_package(m, "dkms", "2.8.7-2ubuntu2.2", "all", section="kernel", maint=UBUNTU_MAINT)
    repo_view_jammy(m)
    finish(m)
    write_readme(m, """
# secureboot-dkms

Risk modelled: DKMS-built, unsigned modules under Secure Boot. Ubuntu 22.04.4 LTS,
1x Xeon Silver 4314 (16 cores, HT: 32 CPUs).

- UEFI, Secure Boot ON (SecureBoot efivar = 1).
- Running 5.15.0-125-generic, also 5.15.0-105-generic. The open driver 550.127.05 from
  the Ubuntu archive's DKMS packages (nvidia-dkms-550-server-open
  550.127.05-0ubuntu0.22.04.1) was built for both kernels into updates/dkms/ WITHOUT a
  module signature appended (no MOK); the kernel refuses to load them, so the driver is
  NOT loaded and there is no proc/driver/nvidia.
- 1x L40S (10de:26b9), nothing bound (nouveau blacklisted in
  etc/modprobe.d/blacklist-nouveau.conf). ASPEED BMC VGA, X710 (eno1/eno2), NVMe.
- Repository view: jammy-updates, with Canonical's signed precompiled
  linux-modules-nvidia-550-server-open-5.15.0-125-generic (and for every other kernel
  and branch offered), and NVIDIA's ubuntu2204 repository.

What `check` should say: Secure Boot is on and the installed modules are unsigned, so
they cannot load; enrolling a MOK needs a console. Prefer the signed precompiled
modules (linux-modules-nvidia-550-server-open-<kver>) over DKMS.
""")


MACHINES = {
    "dgx-h100": dgx_h100,
    "hgx-h100-lvm": hgx_h100_lvm,
    "hgx-a100-rocky9": hgx_a100_rocky9,
    "a800-ubuntu2204": a800_ubuntu2204,
    "kunpeng920-openeuler": kunpeng920_openeuler,
    "gh200-ubuntu2404": gh200_ubuntu2404,
    "l4-edge-ubuntu2404": l4_edge_ubuntu2404,
    "debian12-nogpu": debian12_nogpu,
    "ubuntu2004-cuda122": ubuntu2004_cuda122,
    "rhel8-a100": rhel8_a100,
    "selfbuilt-kernel": selfbuilt_kernel,
    "preempt-rt": preempt_rt,
    "old-driver-new-kernel": old_driver_new_kernel,
    "secureboot-dkms": secureboot_dkms,
}


def main(argv):
    os.umask(0o022)
    names = argv or list(MACHINES)
    for name in names:
        if name not in MACHINES:
            sys.exit(f"build-machines: unknown machine {name} "
                     f"(known: {', '.join(MACHINES)})")
    for name in names:
        MACHINES[name]()
        print(f"built tests/machines/{name}")


if __name__ == "__main__":
    main(sys.argv[1:])
