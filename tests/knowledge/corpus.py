#!/usr/bin/env python3
"""The knowledge corpus: machines gpuprov has never seen, each with the decision an
operator expects from its public sources (tests/knowledge/README.md).

A case is a small file under tests/knowledge/cases/; this script turns one into a
root tree with tests/machines/build-machines.py's pieces, and judges what gpuprov
said about it against the case's "expect:" lines.

  corpus.py build CASE DIR        DIR/machine/root (the machine) and DIR/profiles (shipped
                                  profiles and knowledge, plus the case's profile)
  corpus.py runs CASE             the runs the case's expectations need, one a line:
                                  VERB [OPTIONS...]
  corpus.py judge CASE RUN OUT RC one line per expectation of RUN on gpuprov's
                                  output OUT (exit status RC): "ok<TAB>what" or
                                  "not ok<TAB>what<TAB>why"
"""

import importlib.util
import json
import os
import re
import shutil
import sqlite3
import struct
import sys

# No bytecode next to build-machines.py: the source tree stays as it is (and may be read-only).
sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))

_spec = importlib.util.spec_from_file_location(
    "build_machines", os.path.join(SRC, "tests", "machines", "build-machines.py"))
bm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bm)


# ---------------------------------------------------------------------------
# Reading a case

class Case:
    """One case file: "key: value" lines; keys may repeat; "#" starts a comment line."""

    REPEATS = {"source", "gpu", "nvswitch", "hca", "kernel", "fabric", "cuda", "offer-kernel",
               "offer-driver", "offer-distro-driver", "offer-cuda", "offer-fabric", "expect",
               "profile-json", "class", "pip"}

    def __init__(self, path):
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.keys = {}
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                key, sep, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if not sep or not re.fullmatch(r"[a-z-]+", key):
                    sys.exit(f"{path}:{n}: expected 'key: value', got {line!r}")
                if key not in self.REPEATS and key in self.keys:
                    sys.exit(f"{path}:{n}: {key} given twice")
                self.keys.setdefault(key, []).append(value)
        for need in ("title", "source", "os", "expect"):
            if need not in self.keys:
                sys.exit(f"{path}: no {need}:")

    def one(self, key, default=None):
        return self.keys.get(key, [default])[0]

    def all(self, key):
        return self.keys.get(key, [])


def counted(value):
    """"10de:2330 x8" -> ("10de:2330", 8)"""
    m = re.fullmatch(r"(\S+)(?:\s+x(\d+))?", value)
    if not m:
        sys.exit(f"corpus: expected 'ID [xN]', got {value!r}")
    return m.group(1), int(m.group(2) or 1)


# ---------------------------------------------------------------------------
# Operating systems the corpus uses beyond build-machines.py's

def os_release(**fields):
    return "".join(f'{k}="{v}"\n' for k, v in fields.items())


def rhel_like(id_, name, version, like, codename, el):
    return os_release(NAME=name, VERSION=f"{version} ({codename})", ID=id_, ID_LIKE=like,
                      VERSION_ID=version, PLATFORM_ID=f"platform:el{el}",
                      PRETTY_NAME=f"{name} {version} ({codename})")


# os key -> (os-release text or build-machines.py's OS_RELEASE key, family, extra files)
OSES = {
    "ubuntu-20.04": ("ubuntu2004", "ubuntu", {}),
    "ubuntu-22.04": ("ubuntu2204", "ubuntu", {}),
    "ubuntu-24.04": ("ubuntu2404", "ubuntu", {}),
    "debian-12": ("debian12", "debian", {}),
    "debian-13": (os_release(PRETTY_NAME="Debian GNU/Linux 13 (trixie)",
                             NAME="Debian GNU/Linux", VERSION_ID="13",
                             VERSION="13 (trixie)", VERSION_CODENAME="trixie", ID="debian"),
                  "debian", {}),
    "rhel-8.10": ("rhel810", "rhel", {"etc/redhat-release":
                                      "Red Hat Enterprise Linux release 8.10 (Ootpa)\n"}),
    "rhel-9.6": (rhel_like("rhel", "Red Hat Enterprise Linux", "9.6", "fedora", "Plow", 9),
                 "rhel", {"etc/redhat-release":
                          "Red Hat Enterprise Linux release 9.6 (Plow)\n"}),
    "rhel-10.0": (rhel_like("rhel", "Red Hat Enterprise Linux", "10.0", "centos fedora",
                            "Coughlan", 10),
                  "rhel", {"etc/redhat-release":
                           "Red Hat Enterprise Linux release 10.0 (Coughlan)\n"}),
    "rocky-8.10": (rhel_like("rocky", "Rocky Linux", "8.10", "rhel centos fedora",
                             "Green Obsidian", 8), "rhel", {}),
    "rocky-9.3": ("rocky93", "rhel", {}),
    "rocky-9.5": (rhel_like("rocky", "Rocky Linux", "9.5", "rhel centos fedora",
                            "Blue Onyx", 9), "rhel", {}),
    "rocky-10.0": (rhel_like("rocky", "Rocky Linux", "10.0", "rhel centos fedora",
                             "Red Quartz", 10), "rhel", {}),
    "openeuler-22.03": ("openeuler2203sp3", "openeuler",
                        {"etc/openEuler-release": "openEuler release 22.03 (LTS-SP3)\n"}),
    "openeuler-24.03": (os_release(NAME="openEuler", VERSION="24.03 (LTS-SP1)", ID="openEuler",
                                   VERSION_ID="24.03", PRETTY_NAME="openEuler 24.03 (LTS-SP1)"),
                        "openeuler",
                        {"etc/openEuler-release": "openEuler release 24.03 (LTS-SP1)\n"}),
    "kylin-v10": (os_release(NAME="Kylin Linux Advanced Server", VERSION="V10 (Halberd)",
                             ID="kylin", VERSION_ID="V10",
                             PRETTY_NAME="Kylin Linux Advanced Server V10 (Halberd)"),
                  "kylin", {"etc/kylin-release":
                            "Kylin Linux Advanced Server release V10 (SP3) /(Lance)-aarch64-Build23/20230324\n"}),
}

UBUNTU_SERIES = {"ubuntu-20.04": "focal", "ubuntu-22.04": "jammy", "ubuntu-24.04": "noble"}
DEBIAN_SUITES = {"debian-12": ("bookworm", "12", "3.0.10-8+deb12u1", "debian12"),
                 "debian-13": ("trixie", "14", "3.2.1-1", "debian13")}

# PCI functions the corpus puts on its machines (build-machines.py's, and these).
GPU_IDS = {
    0x15f8: ("Tesla P100-PCIE-16GB", 0x118f), 0x1db1: ("Tesla V100-SXM2-16GB", 0x1212),
    0x1db4: ("Tesla V100-PCIE-16GB", 0x1214), 0x1eb8: ("Tesla T4", 0x12a2),
    0x20b0: ("NVIDIA A100-SXM4-40GB", 0x134f), 0x20b2: ("NVIDIA A100-SXM4-80GB", 0x1463),
    0x20b5: ("NVIDIA A100 80GB PCIe", 0x1533), 0x20f3: ("NVIDIA A800-SXM4-80GB", 0x1463),
    0x2321: ("NVIDIA H100 NVL", 0x1839), 0x2329: ("NVIDIA H20", 0x198b),
    0x2330: ("NVIDIA H100 80GB HBM3", 0x16c1), 0x2331: ("NVIDIA H100 PCIe", 0x1626),
    0x2335: ("NVIDIA H200", 0x18be), 0x233b: ("NVIDIA H200 NVL", 0x1996),
    0x2342: ("NVIDIA GH200 480GB", 0x16eb), 0x26b5: ("NVIDIA L40", 0x169d),
    0x26b9: ("NVIDIA L40S", 0x1851), 0x27b8: ("NVIDIA L4", 0x16ca),
    0x2901: ("NVIDIA B200", 0x1999), 0x2941: ("NVIDIA GB200", 0x2046),
    0x3182: ("NVIDIA B300 SXM6 AC", 0x20e6), 0x31c2: ("NVIDIA GB300", 0x21bb),
    0x2bff: ("NVIDIA Graphics Device", 0x0000),
}
NVSWITCH_IDS = {0x1af1: 0x1652, 0x22a3: 0x1796}
HCA_IDS = {"ib": (bm.CX7_IB, "InfiniBand", "400 Gb/sec (4X NDR)"),
           "eth": (bm.CX7_ETH, "Ethernet", "200 Gb/sec (4X HDR)")}
CPUS = {"x86_64": (bm.XEON_8480CL, bm.SPR_RP), "aarch64": (bm.GRACE, bm.GRACE_RP)}
CPU_MODELS = {"xeon": bm.XEON_8480CL, "epyc": bm.EPYC_7742, "grace": bm.GRACE,
              "kunpeng": bm.KUNPENG_920}

INTREE = ["drm", "drm_kms_helper", "ttm", "drm_ttm_helper", "nouveau", "nvme_core", "nvme"]
IB_INTREE = ["ib_core", "ib_uverbs", "mlx5_core"]

# What a CUDA runfile bundles: "CUDA Toolkit and Corresponding Driver Versions", CUDA 13.2
# release notes, https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html
CUDA_RUNFILE_DRIVER = {"12.2.2": "535.104.05", "12.4.1": "550.54.15", "12.6.3": "560.35.05",
                       "12.8.1": "570.124.06", "12.9.1": "575.57.08", "13.0.2": "580.95.05"}


def words(value):
    return value.split()


# ---------------------------------------------------------------------------
# Building a case's machine

def make_kernel_obj(family, arch, kver, pkgver):
    if family == "ubuntu":
        flavour = kver.split("-", 2)[2]
        src = "-nvidia" if "nvidia" in flavour else ""
        return bm.ubuntu_kernel(kver, pkgver or kver.rsplit("-", 1)[0].replace("-", ".", 1) +
                                "." + kver.split("-")[1], arch, flavour, src)
    if family == "debian":
        return bm.Kernel(kver, "debian", pkgver, "gcc-12 (Debian 12.2.0-14) 12.2.0", 120200,
                         True, "sha256", "Debian Secure Boot CA")
    distro = "rhel" if family == "rhel" else "openeuler"
    return bm.Kernel(kver, distro, pkgver or kver.rsplit(".", 1)[0],
                     "gcc (GCC) 11.5.0 20240719 (Red Hat 11.5.0-5)", 110500, False,
                     xz=family == "rhel", title=None)


def drivers_of(c):
    """driver: VERSION open|proprietary [loaded] [for KVER...] -> bm.Driver, loaded, kvers"""
    value = c.one("driver")
    if not value:
        return None, False, []
    w = words(value)
    drv = bm.Driver(w[0], w[1] == "open", "dvs-builder@U16-I3-B03-4-3",
                    "Tue Mar  4 01:02:03 UTC 2025", "gcc version 13.2.0")
    kvers = w[w.index("for") + 1:] if "for" in w else None
    return drv, "loaded" in w, kvers


def build(c, out):
    release, family, extra = OSES[c.one("os")]
    arch = c.one("arch", "x86_64")
    if release not in bm.OS_RELEASE:
        bm.OS_RELEASE[c.one("os")] = release
        release = c.one("os")
    m = bm.Machine("machine", arch, base=out)
    bm.make_os(m, release, "relative", c.name[:60], bm.fixed_hex(c.name, 32))
    for rel, text in extra.items():
        m.write(rel, text)
    cpu = CPU_MODELS[c.one("cpu", "xeon" if arch == "x86_64" else "grace")]
    bm.make_cpus(m, cpu, sockets=1, cores=8, node_mem_gib=(256,))
    rp = CPUS[arch][1]

    drv, loaded, drv_kvers = drivers_of(c)
    bind = "nvidia" if loaded else None
    devs, hcas = [], []
    for g in c.all("gpu"):
        gid, n = counted(g)
        dev = int(gid.split(":")[1], 16)
        name, sd = GPU_IDS[dev]
        bm.GPU_NAMES.setdefault(dev, name)
        for _ in range(n):
            devs.append(bm.Dev(bm.PciId(0x10de, dev, 0x030200, 0x10de, sd, 0xa1), bind,
                               f"gpu{len(devs)}"))
    for s in c.all("nvswitch"):
        sid, n = counted(s)
        dev = int(sid.split(":")[1], 16)
        devs += [bm.Dev(bm.PciId(0x10de, dev, 0x068000, 0x10de, NVSWITCH_IDS[dev], 0xa1),
                        "nvidia-nvswitch" if loaded else None) for _ in range(n)]
    for h in c.all("hca"):
        kind, n = counted(h)
        for _ in range(n):
            tag = f"hca{len(hcas)}"
            hcas.append((tag, kind))
            devs.append(bm.Dev(HCA_IDS[kind][0], "mlx5_core", tag))
    devs.append(bm.Dev(bm.PM9A3, "nvme", "nvme0"))
    # One root port per function, as on the boards these model.
    for i, d in enumerate(devs):
        bm.pci_tree(m, 0, i * 8, 0, bm.bridge("01.0", rp, d))
    for i, (tag, kind) in enumerate(hcas):
        _, layer, rate = HCA_IDS[kind]
        bm.make_hca(m, tag, f"mlx5_{i}", layer, rate, "28.39.1002")

    kernels, running = [], None
    for k in c.all("kernel"):
        w = words(k)
        pkgver = next((x for x in w[1:] if x != "running"), None)
        ko = make_kernel_obj(family, arch, w[0], pkgver)
        kernels.append(ko)
        if "running" in w:
            running = ko
    if not running:
        sys.exit(f"{c.path}: no running kernel")
    if family in ("rhel", "openeuler", "kylin"):
        m.write("etc/depmod.d/dist.conf", "search updates extra built-in weak-updates\n")
    elif family == "ubuntu":
        m.write("etc/depmod.d/ubuntu.conf", "search updates ubuntu built-in\n")
    intree = INTREE + IB_INTREE * bool(hcas)
    for k in kernels:
        bm.make_kernel(m, k, intree)
        if k.rpm:
            rpm_installed(m, "kernel-core", k.pkgver)
    bm.boot_identity(m, running, f"BOOT_IMAGE=/boot/vmlinuz-{running.kver} ro quiet",
                     f"(builder@example) ({running.cc}) #1 SMP")
    if drv:
        install_driver(m, c, family, drv, [k for k in kernels
                                           if drv_kvers is None or k.kver in drv_kvers])
    names = (bm.NV_STACK if loaded else ["nouveau"] * bool(c.all("gpu"))) + \
        ["nvme", "nvme_core"] + ["mlx5_core", "ib_uverbs", "ib_core"] * bool(hcas)
    bm.load_modules(m, running, [n for n in names if n != "nouveau" or not loaded],
                    taint={n: "O" if drv and drv.open else "PO" for n in bm.NV_NAMES})
    if loaded:
        bm.nvidia_loaded(m, drv)
    install_userspace(m, c, family, drv)
    install_pip(m, c)
    repository_view(m, c, family, arch)
    bm.finish(m)
    rpmdb_write(m)
    profiles(c, out)


def install_pip(m, c):
    """pip: SITE NAME VERSION [runtime=X.Y.Z] [torch=V] [version.py=X.Y]: a wheel's
    dist-info in a site-packages directory, its METADATA written as pip writes it
    (https://packaging.python.org/en/latest/specifications/core-metadata/), and for torch
    the torch/version.py its build writes."""
    for value in c.all("pip"):
        w = words(value)
        site, name, version = w[0].lstrip("/"), w[1], w[2]
        opts = dict(x.split("=", 1) for x in w[3:])
        lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        if "runtime" in opts:
            major = opts["runtime"].split(".")[0]
            lines.append(f"Requires-Dist: nvidia-cuda-runtime-cu{major}=={opts['runtime']}; "
                         'platform_system == "Linux" and platform_machine == "x86_64"')
        if "torch" in opts:
            lines.append(f"Requires-Dist: torch=={opts['torch']}")
        m.write(f"{site}/{name}-{version}.dist-info/METADATA", "\n".join(lines) + "\n\nA framework.\n")
        if "version.py" in opts:
            m.write(f"{site}/torch/version.py",
                    f"__version__ = '{version}'\ncuda: Optional[str] = '{opts['version.py']}'\n")


def install_driver(m, c, family, drv, kernels):
    """The driver's modules for kernels and its packages, as the OS's usual way installs
    them: Canonical's precompiled modules on Ubuntu, DKMS on Debian, NVIDIA's kmod on RPM."""
    branch = drv.version.split(".")[0]
    arch = bm.DEB_ARCH[m.arch]
    if family == "ubuntu":
        for k in kernels:
            bm.install_nvidia(m, k, f"kernel/nvidia-{branch}srv", drv, bm.UBUNTU_SIGNER)
        series = {"ubuntu-20.04": "20.04", "ubuntu-22.04": "22.04"}.get(c.one("os"), "24.04")
        bm.ubuntu_nvidia_packages(m, branch, f"{drv.version}-0ubuntu0.{series}.1", kernels,
                                  open_=drv.open)
    elif family == "debian":
        for k in kernels:
            bm.install_nvidia(m, k, "updates/dkms", drv)
        dkms = "nvidia-kernel-open-dkms" if drv.open else "nvidia-kernel-dkms"
        for name in ("nvidia-driver", dkms, "nvidia-kernel-support"):
            bm.dpkg_package(m, name, f"{drv.version}-1", arch)
    else:
        for k in kernels:
            bm.install_nvidia(m, k, "extra/drivers/video/nvidia", drv)
        el = re.search(r"\.el(\d+)", kernels[0].kver) if kernels else None
        release = f"1.el{el.group(1)}" if el else "1"
        for name in ("nvidia-driver", "kmod-nvidia-open-dkms" if drv.open
                     else "kmod-nvidia-latest-dkms"):
            rpm_installed(m, name, f"{drv.version}-{release}")


def install_userspace(m, c, family, drv):
    """Fabric components and CUDA toolkits the case says are installed."""
    arch = bm.DEB_ARCH[m.arch]
    for f in c.all("fabric"):
        name, version = words(f)
        branch = version.split(".")[0]
        if name == "fabricmanager":
            bm.install_fabricmanager(m)
            if family in ("ubuntu", "debian"):
                bm.dpkg_package(m, f"nvidia-fabricmanager-{branch}", f"{version}-1", arch)
            else:
                rpm_installed(m, "nvidia-fabric-manager", f"{version}-1")
        elif name == "nvlsm":
            m.write("usr/bin/nvlsm", "#!/bin/sh\n# placeholder\nexit 0\n", 0o755)
            if family in ("ubuntu", "debian"):
                bm.dpkg_package(m, "nvlsm", f"{version}-1", arch)
            else:
                rpm_installed(m, "nvlsm", f"{version}-1")
        elif name == "imex":
            m.write("usr/bin/nvidia-imex", "#!/bin/sh\n# placeholder\nexit 0\n", 0o755)
            if family in ("ubuntu", "debian"):
                bm.dpkg_package(m, f"nvidia-imex-{branch}", f"{version}-1", arch)
            else:
                rpm_installed(m, "nvidia-imex", f"{version}-1")
    for t in c.all("cuda"):
        if t not in bm.CUDA:
            # The toolkit's own components carry its version; only "cuda" and the
            # driver it bundles are read.
            bm.CUDA[t] = {k: t for k in ("cuda_cccl", "cuda_cudart", "cuda_nvcc",
                                         "cuda_nvrtc", "libcublas")}
            bm.CUDA[t]["nvidia_driver"] = CUDA_RUNFILE_DRIVER.get(t, drv.version if drv else t)
        if family in ("ubuntu", "debian"):
            bm.cuda_from_apt(m, t)
        else:
            bm.install_cuda(m, t)
            xy = "-".join(t.split(".")[:2])
            rpm_installed(m, f"cuda-toolkit-{xy}", f"{t}-1")


# The RPM database as rpm 4.16 and later keep it (var/lib/rpm/rpmdb.sqlite): one header
# blob per package in Packages, and index tables rpm opens with it; Name is the only index
# filled, by which "rpm -q NAME" finds a package.
RPMDB_INDEXES = {"Name": "TEXT", "Basenames": "TEXT", "Group": "TEXT", "Requirename": "TEXT",
                 "Providename": "TEXT", "Conflictname": "TEXT", "Obsoletename": "TEXT",
                 "Triggername": "TEXT", "Dirnames": "TEXT", "Installtid": "BLOB",
                 "Sigmd5": "BLOB", "Sha1header": "TEXT", "Filetriggername": "TEXT",
                 "Transfiletriggername": "TEXT", "Recommendname": "TEXT", "Suggestname": "TEXT",
                 "Supplementname": "TEXT", "Enhancename": "TEXT"}
RPMTAG = {"name": 1000, "version": 1001, "release": 1002, "os": 1021, "arch": 1022,
          "sourcerpm": 1044}
RPM_STRING = 6


def rpm_header(fields):
    """An RPM header as the database stores it (no lead magic): entry count, data size,
    the index entries (tag, type, offset, count) in tag order, then the data. Only
    strings are needed here."""
    index, data = b"", b""
    for tag, value in sorted((RPMTAG[k], v) for k, v in fields.items()):
        index += struct.pack(">iiii", tag, RPM_STRING, len(data), 1)
        data += value.encode() + b"\0"
    return struct.pack(">ii", len(fields), len(data)) + index + data


def rpm_installed(m, name, version):
    """Record an installed package (version: "VERSION-RELEASE") in the target's RPM
    database, which is written when the machine is finished (rpmdb_write)."""
    m.rpms = getattr(m, "rpms", []) + [(name, version)]


def rpmdb_write(m):
    rpms = getattr(m, "rpms", [])
    if not rpms:
        return
    arch = "x86_64" if m.arch == "x86_64" else "aarch64"
    path = m.path("var/lib/rpm/rpmdb.sqlite")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, "
               "blob BLOB NOT NULL)")
    for table, key in RPMDB_INDEXES.items():
        db.execute(f"CREATE TABLE '{table}' (key '{key}' NOT NULL, hnum INTEGER NOT NULL, "
                   "idx INTEGER NOT NULL, FOREIGN KEY (hnum) REFERENCES 'Packages'(hnum))")
    for name, evr in rpms:
        version, release = evr.rsplit("-", 1)
        blob = rpm_header({"name": name, "version": version, "release": release,
                           "os": "linux", "arch": arch,
                           "sourcerpm": f"{name}-{version}-{release}.src.rpm"})
        hnum = db.execute("INSERT INTO Packages (blob) VALUES (?)", (blob,)).lastrowid
        db.execute("INSERT INTO Name (key, hnum, idx) VALUES (?, ?, 0)", (name, hnum))
    db.commit()
    db.close()


def fabric_offers(c, drivers, family):
    """(package, version) of each "offer-fabric" line beyond the fabric manager, which
    NVIDIA's repository views carry already: "offer-fabric: nvlsm 2025.10.11-1" (versions
    of its own), "offer-fabric: imex" (at each offered driver's version, per branch on
    Debian and Ubuntu)."""
    out = []
    for line in c.all("offer-fabric"):
        w = words(line)
        if w[0] == "nvlsm":
            out += [("nvlsm", v) for v in w[1:]]
        elif w[0] == "imex":
            out += [(f"nvidia-imex-{d.split('.')[0]}" if family == "deb" else "nvidia-imex", f"{d}-1")
                    for d in drivers]
        else:
            raise SystemExit(f"{c.path}: offer-fabric: unknown component {w[0]}")
    return out


def fabric_debs(m, c, distro, drivers):
    """The fabric components beside NVIDIA's repository for <distro>, in an index of their
    own (apt reads every list it finds)."""
    offers = fabric_offers(c, drivers, "deb")
    if not offers:
        return
    a = bm.DEB_ARCH[m.arch]
    where = "x86_64" if m.arch == "x86_64" else "sbsa"
    bm.apt_list(m, f"developer.download.nvidia.com/compute/cuda/repos/{distro}/{where}/fabric/Packages",
                [bm.deb_stanza(name, ver, a, "multiverse/devel", bm.CUDA_MAINT, f"{name} for NVLink fabrics",
                               f"pool/{name}") for name, ver in offers])


def repository_view(m, c, family, arch):
    kernels = [words(k) for k in c.all("offer-kernel")]
    drivers = [d for v in c.all("offer-driver") for d in words(v)]
    # On Ubuntu the archive's server branches are what a node uses first; unless the case
    # says what the archive has, it has what NVIDIA's repository has.
    distro_drivers = [d for v in c.all("offer-distro-driver") for d in words(v)] or drivers
    toolkits = [t for v in c.all("offer-cuda") for t in words(v)]
    for t in toolkits:
        bm.CUDA_TOOLKITS.setdefault(t, t)
    if family == "ubuntu":
        series = UBUNTU_SERIES[c.one("os")]
        ver = bm.UBUNTU_SERIES[series][0]
        uk = []
        for w in kernels:
            kver, pkgver = w[0], w[1]
            src = "-nvidia" if "nvidia" in kver else ("-hwe-" + kver[:3] if "hwe" in w else "")
            uk.append(bm.UKernel(kver, pkgver, src, pkgver if distro_drivers else None))
        metas = []
        if uk:
            newest = uk[-1]
            flavour = newest.release.split("-", 2)[2]
            metas.append(bm.UMeta(flavour, newest.pkgver, "linux-meta" + newest.src, newest,
                                  newest.lrm))
        branches = {d.split(".")[0]: f"{d}-0ubuntu0.{ver}.1" for d in distro_drivers}
        mirror = "archive.ubuntu.com/ubuntu" if arch == "x86_64" else \
            "ports.ubuntu.com/ubuntu-ports"
        bm.apt_ubuntu(m, mirror, series, uk, metas, branches)
        # NVIDIA's container toolkit repository, configured as on the fake machines: the
        # shipped profiles that turn containers on need it.
        bm.apt_ctk(m)
        if drivers or toolkits:
            bm.apt_nvidia(m, "ubuntu" + ver.replace(".", ""),
                          [bm.NvRepoDriver(d, int(d.split(".")[0]) >= 550) for d in drivers],
                          toolkits)
            fabric_debs(m, c, "ubuntu" + ver.replace(".", ""), drivers)
    elif family == "debian":
        suite, gcc, dkms, nvdistro = DEBIAN_SUITES[c.one("os")]
        bm.apt_ctk(m)
        # "offer-kernel: ABI-amd64 VERSION backports": from <suite>-backports.
        for where, ks in ((suite, [w for w in kernels if "backports" not in w]),
                          (suite + "-backports", [w for w in kernels if "backports" in w])):
            if ks:
                bm.apt_debian(m, where, [(w[0].removesuffix("-amd64"), w[1]) for w in ks],
                              gcc, dkms)
        if drivers or toolkits:
            bm.apt_nvidia(m, nvdistro,
                          [bm.NvRepoDriver(d, int(d.split(".")[0]) >= 550) for d in drivers],
                          toolkits)
            fabric_debs(m, c, nvdistro, drivers)
    else:
        rpmarch = "x86_64" if arch == "x86_64" else "aarch64"
        pkgs, runfiles = bm.rpm_ctk(rpmarch), []
        if kernels:
            base = c.one("kernel-repo", "baseos")
            # An RPM's version-release is the kernel release without its architecture.
            pkgs += bm.rpm_kernels([w[0].removesuffix("." + rpmarch) for w in kernels],
                                   rpmarch, base, base,
                                   matched=family == "rhel")
        if family == "rhel" and arch == "x86_64":
            el = re.search(r"-(\d+)", c.one("os")).group(1)
            pkgs += bm.rpm_nvidia(int(el), drivers, toolkits)
            # NVML has a package of its own in NVIDIA's RPM repository (libnvidia-ml,
            # NVIDIA/yum-packaging-nvidia-driver), at each driver's version.
            pkgs += [("libnvidia-ml", f"{d}-1.el{el}", "x86_64", f"cuda-rhel{el}-x86_64") for d in drivers]
            pkgs += [(name, ver, rpmarch, f"cuda-rhel{el}-x86_64")
                     for name, ver in fabric_offers(c, drivers, "rpm")]
        else:
            suffix = "aarch64" if arch == "aarch64" else "x86_64"
            cuda_arch = "sbsa" if arch == "aarch64" else "x86_64"
            runfiles += [bm.runfile("driver", d, suffix, f"NVIDIA-Linux-{suffix}-{d}.run")
                         for d in drivers]
            runfiles += [bm.runfile("cuda", t, cuda_arch,
                                    f"cuda_{t}_{CUDA_RUNFILE_DRIVER[t]}_linux_{cuda_arch}.run",
                                    CUDA_RUNFILE_DRIVER[t]) for t in toolkits]
        bm.repo_json(m, pkgs, runfiles)


def profiles(c, out):
    """DIR/profiles: the shipped profiles and knowledge, and the case's own profile."""
    dest = os.path.join(out, "profiles")
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(os.path.join(SRC, "profiles"), dest)
    for text in c.all("profile-json"):
        p = json.loads(text)
        with open(os.path.join(dest, p["name"] + ".json"), "w") as f:
            json.dump(p, f, indent=2)


# ---------------------------------------------------------------------------
# Judging gpuprov's answer

def vkey(v):
    """A version as a key: "550.90.07" < "550.127.05", "12.8" < "12.10"."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-]", v)]


def lookup(doc, path):
    """doc at a dotted path ("stack.driver"); a missing step gives KeyError."""
    cur = doc
    for step in path.split("."):
        if isinstance(cur, list) and step.isdigit():
            cur = cur[int(step)]
        elif isinstance(cur, dict) and step in cur:
            cur = cur[step]
        else:
            raise KeyError(path)
    return cur


def item_names(value):
    """The names an array holds: strings as they are, objects by their "name" (or, for the
    plan's fabric, "component")."""
    if not isinstance(value, list):
        return []
    return [v if isinstance(v, str) else (v.get("name") or v.get("component")) if isinstance(v, dict) else None
            for v in value]


def scalar(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def compare(got, op, want, other=None):
    """other: for "same", the value at the path want names."""
    if op == "=":
        return scalar(got) == want
    if op == "!=":
        return scalar(got) != want
    if op == "~":
        return got is not None and re.search(want, scalar(got)) is not None
    if op == "same":
        return scalar(got) == scalar(other)
    if op == "has":
        return want in item_names(got)
    if op == "lacks":
        return want not in item_names(got)
    if got is None or not isinstance(got, str):
        return False
    g, w = vkey(got), vkey(want)
    return {"<": g < w, "<=": g <= w, ">": g > w, ">=": g >= w}[op]


def parse_expect(value):
    """"plan --strict stack.driver >= 570.86.15" -> (run, rest)"""
    w = value.split(None, 1)
    verb, rest = w[0], w[1] if len(w) > 1 else ""
    opts = []
    while rest.startswith("--"):
        o, _, rest = rest.partition(" ")
        opts.append(o)
    return " ".join([verb] + opts), rest.strip()


def judge_one(rest, doc, text, rc):
    """(passed, what went wrong); passed is None when the output lacks what the
    expectation is about, which is a failure either way."""
    w = rest.split(None, 2)
    kind = w[0]
    if kind in ("finding", "no-finding"):
        fid = w[1]
        sev = w[2] if len(w) > 2 else None
        got = [f for f in (doc or {}).get("findings", []) if f.get("id") == fid]
        if kind == "no-finding":
            # "no-finding ID SEVERITY": there may be one, of another severity.
            got = [f for f in got if not sev or f.get("severity") == sev]
            return not got, f"finding {fid} is there: {got[0] if got else ''}"
        if not got:
            ids = ", ".join(f"{f.get('id')} ({f.get('severity')})"
                            for f in (doc or {}).get("findings", []))
            return False, f"no finding {fid}; findings: {ids or 'none'}"
        if sev and all(f.get("severity") != sev for f in got):
            return False, f"finding {fid} is a {got[0].get('severity')}, not a {sev}"
        return True, ""
    if kind in ("reason", "no-reason", "warning", "no-warning"):
        field = "reasons" if "reason" in kind else "warnings"
        pattern = rest.split(None, 1)[1]
        lines = (doc or {}).get(field, [])
        hit = [x for x in lines if re.search(pattern, x)]
        if kind.startswith("no-"):
            return not hit, f"{field} has /{pattern}/: {hit[0] if hit else ''}"
        return bool(hit), f"no {field[:-1]} matches /{pattern}/; {field}: {lines}"
    if kind in ("text", "no-text"):
        pattern = rest.split(None, 1)[1]
        hit = re.search(pattern, text)
        return (not hit) if kind == "no-text" else bool(hit), \
            f"output {'has' if kind == 'no-text' else 'lacks'} /{pattern}/"
    if kind == "exit":
        return str(rc) == w[1], f"exit status {rc}, not {w[1]}"
    if len(w) < 3:
        sys.exit(f"corpus: cannot read expectation {rest!r}")
    path, op, want = w
    if doc is None:
        return None, "the output is not JSON"
    try:
        got = lookup(doc, path)
    except KeyError:
        return None, f"{path} is not in the output"
    other = None
    if op == "same":
        try:
            other = lookup(doc, want)
        except KeyError:
            return None, f"{want} is not in the output"
    return compare(got, op, want, other), f"{path} is {json.dumps(got)}" + \
        (f", {want} is {json.dumps(other)}" if op == "same" else "")


# CORPUS_NEGATE=1 judges the opposite of every expectation, to show each can fail.
NEGATE = os.environ.get("CORPUS_NEGATE") == "1"

# "expect: ... ## pending: WHAT" marks an expectation gpuprov does not meet yet, and why.
PENDING = "## pending:"


def judge(c, run, out, rc):
    text = open(out).read()
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    for value in c.all("expect"):
        value, _, pending = value.partition(PENDING)
        r, rest = parse_expect(value.strip())
        if r != run:
            continue
        passed, why = judge_one(rest, doc, text, rc)
        if NEGATE:
            # Every expectation turned into its opposite: an expectation that passes
            # both ways tests nothing (tests/knowledge/README.md).
            passed = None if passed is None else not passed
            why = "negated: " + why
        # A pending expectation is a TAP TODO: its failure does not fail the suite, and
        # once gpuprov meets it the harness reports it as passing unexpectedly, so the
        # mark is dropped with the change that made it pass.
        what = f"{c.name}: {run}: {rest}" + (f" # TODO {pending.strip()}" if pending else "")
        if passed:
            print(f"ok\t{what}")
        else:
            print(f"not ok\t{what}\t{why}; source: {' | '.join(c.all('source'))}")


def main(argv):
    if len(argv) >= 2 and argv[0] == "build" and len(argv) == 3:
        os.umask(0o022)
        build(Case(argv[1]), argv[2])
    elif len(argv) == 2 and argv[0] == "runs":
        seen = []
        for value in Case(argv[1]).all("expect"):
            r = parse_expect(value)[0]
            if r not in seen:
                seen.append(r)
        print("\n".join(seen))
    elif len(argv) == 5 and argv[0] == "judge":
        judge(Case(argv[1]), argv[2], argv[3], argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
