"""What the VM tests (tests/vm/e2e, tests/vm/slurm-fleet) share: the layouts and their
kernels, the test's site profiles, the package and the image, the qemu machine, its serial
console, and the TAP lines."""
import json, os, re, shutil, signal, subprocess, sys, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
GRUB = re.compile(rb"GNU GRUB")
BANNER = re.compile(rb"Linux version |Kernel panic - not syncing")
PANIC = re.compile(rb"Kernel panic - not syncing")
BOOT_TIMEOUT = int(os.environ.get("GPUPROV_VM_BOOT_TIMEOUT", "300"))
# An apply installs a kernel and makes initramfs images: minutes under emulation, more when
# other machines share the host's cores.
APPLY_TIMEOUT = int(os.environ.get("GPUPROV_VM_APPLY_TIMEOUT", "1200"))

# The layouts (tests/vm/build-image makes their images). "esp": GRUB cannot write its own
# environment block (root on LVM), so gpuprov's boot-once entry is in its block on the ESP.
LAYOUTS = {
    ("x86_64", "bios"): dict(good="6.1.0-55-amd64", new="6.1.0-56-amd64", broken="6.1.0-99-amd64",
                             module="floppy", esp=False, pagesize=None, hwe=False),
    ("x86_64", "uefi"): dict(good="6.1.0-55-amd64", new="6.1.0-56-amd64", broken="6.1.0-99-amd64",
                             module="floppy", esp=True, pagesize=None, hwe=False),
    # 6.12 is Debian 12's newer series (bookworm-security) besides its GA 6.1: kernel.hwe.
    ("arm64", "uefi"): dict(good="6.1.0-55-arm64", new="6.12.118+deb12-arm64-16k", broken="6.1.0-99-arm64",
                            module="virtio_rng", esp=False, pagesize="16384", hwe=True),
}
# The module blacklisted is one really loaded before: QEMU's PC has a floppy controller, the
# arm64 machine a virtio RNG (qemu_argv adds it).


def layout(arch, firmware):
    """The layout's parts, with the kernels GPUPROV_VM_GOOD and GPUPROV_VM_NEW name."""
    L = dict(LAYOUTS[(arch, firmware)])
    for k, v in (("good", "GPUPROV_VM_GOOD"), ("new", "GPUPROV_VM_NEW")):
        if os.environ.get(v):
            L[k] = os.environ[v]
    return L


def site_profiles(L, d, extra=None, blacklist=True):
    """The test's site profiles, written in d: vm-e2e, the shipped no-gpu profile (no driver:
    the VM has no GPU) with exactly the new kernel and (blacklist) a module blacklisted;
    vm-e2e-broken, the same with the broken kernel. extra: sections added to vm-e2e (both
    inherit them). Without the blacklist an apply makes one initramfs fewer: minutes saved
    under emulation where the blacklist is proven elsewhere."""
    kernel = {"release": L["new"]}
    if L["hwe"]:
        kernel["hwe"] = True
    docs = {
        "vm-e2e": {"name": "vm-e2e",
                   "description": "gpuprov VM test: no GPU, exactly the kernel %s%s" % (
                       L["new"], ", %s blacklisted" % L["module"] if blacklist else ""),
                   "include": ["no-gpu"], "kernel": kernel},
        "vm-e2e-broken": {"name": "vm-e2e-broken",
                          "description": "gpuprov VM test: vm-e2e with the kernel whose boot panics",
                          "include": ["vm-e2e"], "kernel": {"release": L["broken"]}},
    }
    if blacklist:
        docs["vm-e2e"]["modprobe"] = {"blacklist": [L["module"]]}
    docs["vm-e2e"].update(extra or {})
    for name, doc in docs.items():
        with open(os.path.join(d, name + ".json"), "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
    return [n + ".json" for n in docs]


def exit_on_term():
    """SIGTERM (a CI job stopped) ends the run as an exception would: the machines are shut
    down and what was seen is printed, instead of qemu processes left behind."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def skip(why):
    # CI must not go green on a run that proved nothing.
    if os.environ.get("CI") == "true":
        print("1..1\nnot ok 1 - cannot run here, and CI=true allows no skip: " + why)
        sys.exit(1)
    print("1..0 # SKIP " + why)
    sys.exit(77)


def fail_early(what, detail=""):
    """A run that cannot begin: one failed TAP line, exit 1."""
    if detail:
        sys.stdout.write("# " + detail[-3000:].replace("\n", "\n# ") + "\n")
    print("1..1\nnot ok 1 - " + what)
    sys.exit(1)


def need_root_and_qemu(arch):
    if os.geteuid() != 0:
        skip("needs root (the image is built with debootstrap and chroot)")
    need = ["qemu-img", "qemu-system-aarch64" if arch == "arm64" else "qemu-system-x86_64"]
    missing = [t for t in need if not shutil.which(t)]
    if missing:
        skip(" ".join(missing) + " not found (scripts/install-deps --vm)")


def package(deb):
    """The package under test: deb, or built from the tree (make dist in build/vm-e2e, then
    scripts/build-packages)."""
    if deb:
        return deb
    b = os.path.join(TOP, "build", "vm-e2e")
    os.makedirs(b, exist_ok=True)
    r = subprocess.run("{ [ -f Makefile ] || ../../configure; } && make -j2 dist && "
                       "../../scripts/build-packages --deb gpuprov-*.tar.gz pkg",
                       shell=True, cwd=b, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        fail_early("build the gpuprov package (make dist, scripts/build-packages)",
                   r.stdout.decode(errors="replace"))
    debs = sorted(f for f in os.listdir(os.path.join(b, "pkg")) if f.endswith(".deb"))
    return os.path.join(b, "pkg", debs[-1])


def image(arch, firmware, deb, variant=None):
    """The cached image of the layout (GPUPROV_VM_IMAGE: one to boot instead)."""
    if os.environ.get("GPUPROV_VM_IMAGE"):
        return os.environ["GPUPROV_VM_IMAGE"]
    argv = [os.path.join(HERE, "build-image"), "--arch", arch, "--firmware", firmware]
    if variant:
        argv += ["--variant", variant]
    r = subprocess.run(argv + [deb], stdout=subprocess.PIPE)
    if r.returncode == 77:
        skip("the VM image cannot be built here")
    if r.returncode != 0:
        fail_early("build the VM image (tests/vm/build-image exit %d)" % r.returncode)
    return r.stdout.decode().strip().splitlines()[-1]


def overlay(img, path):
    """A throwaway qcow2 overlay of the cached image."""
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", img, path], check=True)
    return path


def kvm_usable():
    # KVM only where the CPU shows virtualization: a /dev/kvm without it can hang.
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
        return re.search(r"\b(vmx|svm)\b", open("/proc/cpuinfo").read()) is not None
    except OSError:
        return False


def qemu_argv(arch, firmware, tmp, devices, smp=2, nic=None):
    """The machine: smp vCPUs, the serial console on stdio, devices (drives, NICs) as given;
    no network unless devices has a NIC (nic=True)."""
    common = ["-smp", str(smp), "-display", "none", "-serial", "stdio", "-monitor", "none"]
    if not nic:
        common += ["-nic", "none"]
    if arch == "arm64":
        qemu = shutil.which("qemu-system-aarch64")
        code, vars_ = "/usr/share/AAVMF/AAVMF_CODE.fd", "/usr/share/AAVMF/AAVMF_VARS.fd"
        accel = "tcg"
        # cortex-a57 cannot run the 16k-page kernel; "max" can. A virtio RNG gives the
        # blacklist a module that is really loaded.
        argv = [qemu, "-M", "virt", "-cpu", "max,pauth-impdef=on", "-accel", "tcg,thread=multi",
                "-m", "2048", "-device", "virtio-rng-pci"]
    else:
        qemu = shutil.which("qemu-system-x86_64")
        code, vars_ = "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"
        accel = os.environ.get("GPUPROV_VM_ACCEL") or ("kvm" if kvm_usable() else "tcg")
        argv = [qemu, "-accel", accel, "-m", "1024"] + (["-cpu", "host"] if accel == "kvm" else [])
        if firmware == "uefi":
            argv[1:1] = ["-M", "q35"]
    if firmware == "uefi":
        # The firmware's variables: a fresh copy for each machine.
        own = os.path.join(tmp, "efivars.fd")
        shutil.copyfile(vars_, own)
        argv += ["-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + code,
                 "-drive", "if=pflash,format=raw,unit=1,file=" + own]
    return argv + common + devices, accel


class Console:
    """The VM's serial console. qemu runs with -no-reboot: a reset of the guest (a reboot, the
    panic's included) ends the process, and the same machine (disk overlay, firmware
    variables) is started again at once. A warm reset of an SMP guest under TCG with OVMF can
    hang in the firmware; a fresh start is the power cycle a BMC would give, and the boot
    path (firmware, GRUB, its environment, the kernel) is the same."""

    def __init__(self, argv, log, prompt=rb"root@gpuprov-vm:[^\r\n]*# ", name="gpuprov-e2e"):
        self.argv = argv + ["-no-reboot"]
        self.prompt = re.compile(prompt)
        self.name = name.encode()
        self.log = open(log, "wb")
        self.logname = log
        self.buf = b""
        self.pos = 0
        self.closing = False
        self.dead = False
        self.starts = 0
        self.lock = threading.Condition()
        self._start()
        threading.Thread(target=self._reader, daemon=True).start()

    def _start(self):
        self.starts += 1
        self.p = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)

    def _reader(self):
        while True:
            b = os.read(self.p.stdout.fileno(), 65536)
            with self.lock:
                if not b:
                    rc = self.p.wait()
                    if not self.closing and rc == 0:
                        # The guest reset (qemu exits 0): power it on again.
                        note = b"\n[" + self.name + b": the guest reset; qemu started again]\n"
                        self.buf += note
                        self.log.write(note)
                        self._start()
                        continue
                    self.buf += b"\n[qemu exited %d]\n" % rc
                    self.dead = True
                    self.lock.notify_all()
                    return
                self.buf += b
                self.log.write(b)
                self.log.flush()
                self.lock.notify_all()

    def close(self):
        with self.lock:
            self.closing = True
        self.p.kill()
        self.p.wait()

    def expect(self, pattern, timeout):
        """Wait for pattern after the last match; return the match or None."""
        if isinstance(pattern, bytes):
            pattern = re.compile(pattern)
        end = time.time() + timeout
        with self.lock:
            while True:
                m = pattern.search(self.buf, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                if self.dead or time.time() >= end:
                    return None
                self.lock.wait(min(1.0, max(0.01, end - time.time())))

    def mark(self):
        """From now on, expect looks only at what the console prints after this."""
        with self.lock:
            self.pos = len(self.buf)

    def send(self, s):
        try:
            self.p.stdin.write(s.encode())
            self.p.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass  # the machine is starting again; what was typed is lost, as on a real console

    def run(self, cmd, timeout=120):
        """Run cmd in root's shell; return (status, output) or (None, what there is)."""
        n = str(time.monotonic_ns())
        self.send(cmd + "; echo \"@@\"\"END-" + n + " $?\"\n")
        start = self.pos
        m = self.expect(re.compile(rb"@@END-" + n.encode() + rb" (\d+)"), timeout)
        if not m:
            return None, self.buf[start:].decode(errors="replace")
        out = self.buf[start:m.start()].decode(errors="replace")
        # The terminal does not echo (stty -echo in login()): all of it is output.
        self.expect(self.prompt, 30)
        return int(m.group(1)), out.replace("\r", "")

    def login(self, timeout=BOOT_TIMEOUT):
        if not self.expect(self.prompt, timeout):
            return False
        time.sleep(1)
        # Kernel messages (a late driver's probe line) go to this same serial console and
        # would land inside a command's output, breaking its JSON: only emergencies (a
        # panic, which the tests wait for) still reach the console after login.
        self.send("export TERM=dumb PAGER=cat SYSTEMD_PAGER= ; stty cols 1000 -echo; dmesg -n 1\n")
        return bool(self.expect(self.prompt, 30))

    def tail(self, n=60):
        return self.buf.decode(errors="replace").replace("\r", "").splitlines()[-n:]


class Tap:
    """The run's TAP lines: a plan of named tests, each reported once, in order."""

    def __init__(self, names):
        self.names = names
        self.n = 0
        self.failed = 0

    def plan(self):
        print("1..%d" % len(self.names))
        sys.stdout.flush()

    def result(self, ok, detail=""):
        self.n += 1
        print("%s %d - %s%s" % ("ok" if ok else "not ok", self.n, self.names[self.n - 1],
                                 (" # " + detail) if detail and not ok else ""))
        if not ok:
            self.failed += 1
        sys.stdout.flush()
        return ok

    def blocked(self, why):
        while self.n < len(self.names):
            self.result(False, "not run: " + why)


def comment(text, prefix="#   "):
    """Print text as TAP comments."""
    for line in text.rstrip("\n").split("\n"):
        print(prefix + line)
    sys.stdout.flush()


# --- a site's apt repository over HTTP, and a NoCloud seed (e2e's cloud-init entry) -------
# The guest reaches the host's HTTP server (on 127.0.0.1 only) at this address: qemu's user
# network, isolated (restrict=on) but for this one forward, whose every connection runs
# tests/vm/guestfwd-relay.
SITE_ADDR = "10.0.2.100"


def site_nic(port):
    """A NIC on qemu's isolated user network whose only way out is SITE_ADDR:80, forwarded to
    127.0.0.1:port on the host."""
    relay = os.path.join(HERE, "guestfwd-relay")
    return ["-nic", "user,model=virtio-net-pci,restrict=on,guestfwd=tcp:%s:80-cmd:%s %s %d"
            % (SITE_ADDR, sys.executable, relay, port)]


def serve_http(root):
    """An HTTP server for the files under root on 127.0.0.1 (a port of its own), in a thread;
    returns (server, the paths it was asked for, in order)."""
    import functools, http.server
    asked = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, fmt, *args):
            asked.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=root))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, asked


def signed_apt_repo(tmp, debs, suite="stable", component="main", arch="amd64"):
    """A site's apt repository in tmp/www/gpuprov (pool/ and dists/SUITE), its Release signed
    (InRelease, Release.gpg) with a key made for the run (gpg, ed25519); returns the key's
    armored public half."""
    home = os.path.join(tmp, "gnupg")
    os.makedirs(home, mode=0o700)
    env = dict(os.environ, GNUPGHOME=home)
    gpg = ["gpg", "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run(gpg + ["--quick-gen-key", "gpuprov test site repository", "ed25519", "sign", "never"],
                   env=env, check=True)
    repo = os.path.join(tmp, "www", "gpuprov")
    pool = os.path.join(repo, "pool", component)
    dist = os.path.join(repo, "dists", suite)
    bindir = os.path.join(dist, component, "binary-" + arch)
    os.makedirs(pool)
    os.makedirs(bindir)
    for d in debs:
        shutil.copyfile(d, os.path.join(pool, os.path.basename(d)))
    with open(os.path.join(bindir, "Packages"), "wb") as f:
        subprocess.run(["apt-ftparchive", "packages", "pool"], cwd=repo, stdout=f, check=True)
    ftp = []
    for k, v in (("Suite", suite), ("Codename", suite), ("Components", component), ("Architectures", arch)):
        ftp += ["-o", "APT::FTPArchive::Release::%s=%s" % (k, v)]
    with open(os.path.join(tmp, "Release"), "wb") as f:
        subprocess.run(["apt-ftparchive"] + ftp + ["release", dist], stdout=f, check=True)
    shutil.move(os.path.join(tmp, "Release"), os.path.join(dist, "Release"))
    subprocess.run(gpg + ["--clearsign", "-o", os.path.join(dist, "InRelease"), os.path.join(dist, "Release")],
                   env=env, check=True)
    subprocess.run(gpg + ["-abs", "-o", os.path.join(dist, "Release.gpg"), os.path.join(dist, "Release")],
                   env=env, check=True)
    return subprocess.run(gpg + ["--armor", "--export"], env=env, stdout=subprocess.PIPE,
                          check=True).stdout.decode()


def nocloud_seed(path, files):
    """A NoCloud seed: a FAT image labelled CIDATA holding files (name -> text), made with
    mkfs.vfat and mtools' mcopy."""
    d = path + ".d"
    os.makedirs(d)
    for name, text in files.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    subprocess.run(["mkfs.vfat", "-C", "-n", "CIDATA", path, "2048"], stdout=subprocess.DEVNULL, check=True)
    subprocess.run(["mcopy", "-i", path] + [os.path.join(d, n) for n in files] + ["::"], check=True)
    return path
