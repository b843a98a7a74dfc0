#!/bin/sh
# The GPUs' CDI spec: nvidia-ctk (the stand-in, tests/pkg/nvidia-ctk) run by gpuprov cdi refresh
# in a Debian chroot made a fake GPU machine (device nodes made with mknod, the driver's
# /proc files and libraries); the spec read back and checked against the nodes and the
# driver; a changed nvidia-uvm major and a new driver found stale and made anew; the boot
# unit's ordering; and podman running a container with --device from a spec the stand-in
# wrote, the GPU's node in it with its major and minor.
. "$srcdir/tests/scenario/lib.sh"

CTK="$srcdir/tests/pkg/nvidia-ctk"
[ "$(id -u)" -eq 0 ] || { [ "${CI:-}" = true ] && { not_ok "needs root"; done_testing; }; echo "1..0 # SKIP needs root"; exit 0; }

# --- a fake GPU machine: a Debian chroot with one H100's nodes, /proc and libraries -------
R="$TMPD/root"
"$srcdir/tests/pkg/debian-chroot" "$R" >"$TMPD/chroot.log" 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then
	if [ "$rc" -eq 77 ] && [ "${CI:-}" != true ]; then
		echo "1..0 # SKIP no Debian chroot here"
		exit 0
	fi
	not_ok "the Debian chroot is made"
	diag_file "$TMPD/chroot.log"
	done_testing
fi
install -m 0755 "$CTK" "$R/usr/bin/nvidia-ctk"
# A proc of its own (proc/self is what spawn looks for): the chroot's nvidia-ctk and gpuprov
# read the same fake files, and the host's /proc is not mounted over them.
mkdir -p "$R/proc/self" "$R/proc/driver/nvidia/gpus/0000:17:00.0" "$R/sys/module/nvidia" \
	"$R/usr/lib/x86_64-linux-gnu" "$R/var/lib/gpuprov"
proc_devices() { # UVM_MAJOR
	printf 'Character devices:\n  1 mem\n195 nvidia-frontend\n%s nvidia-uvm\n509 nvidia-caps\n\nBlock devices:\n  8 sd\n' "$1" >"$R/proc/devices"
}
driver() { # VERSION
	printf 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  %s  Tue Mar  5 22:23:56 UTC 2024\nGCC version:  gcc version 12.2.0\n' "$1" >"$R/proc/driver/nvidia/version"
	echo "$1" >"$R/sys/module/nvidia/version"
	: >"$R/usr/lib/x86_64-linux-gnu/libcuda.so.$1"
	: >"$R/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.$1"
}
proc_devices 511
driver 550.54.15
printf 'Model: \t\t NVIDIA H100 80GB HBM3\nIRQ:   \t\t 42\nGPU UUID: \t GPU-5d1b9c2e-0f3a-4b7c-9e21-6a8d0c4f1e77\nDevice Minor: \t 0\n' \
	>"$R/proc/driver/nvidia/gpus/0000:17:00.0/information"
mknod -m 0666 "$R/dev/nvidia0" c 195 0
mknod -m 0666 "$R/dev/nvidiactl" c 195 255
mknod -m 0666 "$R/dev/nvidia-uvm" c 511 0
mknod -m 0666 "$R/dev/nvidia-uvm-tools" c 511 1
echo '{"profile": "inference", "kernel": "6.1.0-18-amd64", "driver": "550.54.15", "cdi_dir": "/var/run/cdi"}' \
	>"$R/var/lib/gpuprov/state.json"
cdi() {
	gpuprov --root "$R" cdi "$@"
}
# /var/run is a link to /run in the chroot, followed inside it.
CDIDIR="$R/var/run/cdi"
[ -L "$R/var/run" ] && CDIDIR="$R/run/cdi"
SPEC="$CDIDIR/nvidia.json"

# --- generation ----------------------------------------------------------------------------
cdi check >"$TMPD/out" 2>&1
check "check before any spec: stale (exit 3), no spec" sh -c "[ $? -eq 3 ] && grep -q 'no CDI spec' '$TMPD/out'"
cdi refresh >"$TMPD/out" 2>&1
rc=$?
check "refresh makes the spec (exit 0)" test "$rc" -eq 0
diag_file "$TMPD/out"
check "the spec is $SPEC, JSON" jq -e . "$SPEC"
check "kind nvidia.com/gpu, devices 0, the GPU's UUID and all" \
	jqt '.kind == "nvidia.com/gpu" and ([.devices[].name] == ["0", "GPU-5d1b9c2e-0f3a-4b7c-9e21-6a8d0c4f1e77", "all"])' "$SPEC"
check "device 0 names /dev/nvidia0" jqt '.devices[0].containerEdits.deviceNodes == [{"path": "/dev/nvidia0"}]' "$SPEC"
check "the common edits name the control nodes and mount the driver's libraries by version" \
	jqt '([.containerEdits.deviceNodes[].path] == ["/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidiactl"]) and ([.containerEdits.mounts[].containerPath] == ["/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15", "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.550.54.15"])' "$SPEC"
check "no private directory is left in the CDI dir" sh -c "[ \"\$(ls -A '$CDIDIR')\" = nvidia.json ]"
cdi check >"$TMPD/out" 2>&1
check "check: up to date, saying what it read" sh -c "[ $? -eq 0 ] && grep -q 'up to date.*nvidia-uvm 511.*GPU minors 0.*running driver 550.54.15' '$TMPD/out'"
cp "$SPEC" "$TMPD/spec.before"
cdi refresh >/dev/null 2>&1
check "refresh of a spec that fits leaves it as it is" cmp "$SPEC" "$TMPD/spec.before"

# --- stale: the nvidia-uvm major moved ----------------------------------------------------
proc_devices 510
cdi check >"$TMPD/out" 2>&1
check "a changed nvidia-uvm major in /proc/devices: stale (exit 3)" sh -c "[ $? -eq 3 ] && grep -q '/dev/nvidia-uvm is 511:0, the driver.s is 510:0 (nvidia-uvm in /proc/devices)' '$TMPD/out'"
gpuprov --root "$R" --profiles "$srcdir/profiles" --json check >"$TMPD/check.json" 2>"$TMPD/out"
check "check finds it: CDI spec is stale, an error, naming the node" \
	jqt '[.findings[] | select(.id == "cdi-stale" and .severity == "error" and (.message | test("CDI spec is stale: /dev/nvidia-uvm is 511:0")))] | length == 1' "$TMPD/check.json"
gpuprov --root "$R" --json verify >"$TMPD/verify.json" 2>"$TMPD/out"
check "verify's cdi check fails, naming the node and what it read" \
	jqt '[.checks[] | select(.check == "cdi" and .ok == false and (.detail | test("/dev/nvidia-uvm is 511:0.*nvidia-uvm 510")))] | length == 1' "$TMPD/verify.json"
# The nodes made again by the driver's tools, the spec is good again without a new one.
rm "$R/dev/nvidia-uvm" "$R/dev/nvidia-uvm-tools"
mknod -m 0666 "$R/dev/nvidia-uvm" c 510 0
mknod -m 0666 "$R/dev/nvidia-uvm-tools" c 510 1
cdi check >/dev/null 2>&1
check "the nodes remade with the new major: up to date" test $? -eq 0
gpuprov --root "$R" --json verify >"$TMPD/verify.json" 2>"$TMPD/out"
check "verify's cdi check passes" jqt '[.checks[] | select(.check == "cdi" and .ok)] | length == 1' "$TMPD/verify.json"
# A node the spec names is gone.
mv "$R/dev/nvidia-uvm-tools" "$TMPD/uvm-tools"
cdi check >"$TMPD/out" 2>&1
check "a node of the spec missing: stale" sh -c "[ $? -eq 3 ] && grep -q '/dev/nvidia-uvm-tools named by the spec is missing' '$TMPD/out'"
mv "$TMPD/uvm-tools" "$R/dev/nvidia-uvm-tools"

# --- stale: a new driver ---------------------------------------------------------------------
driver 570.133.20
cdi check >"$TMPD/out" 2>&1
check "a new running driver: stale, naming both versions" sh -c "[ $? -eq 3 ] && grep -q 'the spec is of driver 550.54.15, the running one is 570.133.20' '$TMPD/out'"
# What NVIDIA's nvidia-cdi-refresh.service writes when the toolkit's postinst starts it.
printf -- '---\ncdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: "0"\n' >"$CDIDIR/nvidia.yaml"
cdi check >"$TMPD/out" 2>&1
check "a second spec of nvidia.com/gpu (NVIDIA's refresh unit's) is a problem too" \
	grep -q 'a second spec of nvidia.com/gpu, /var/run/cdi/nvidia.yaml' "$TMPD/out"
cdi refresh >"$TMPD/out" 2>&1
check "refresh makes it anew for the new driver" sh -c "[ $? -eq 0 ] && grep -q 'libcuda.so.570.133.20' '$SPEC'"
check "and removes the second spec" test ! -e "$CDIDIR/nvidia.yaml"
printf -- '---\ncdiVersion: 0.5.0\nkind: example.com/fpga\n' >"$CDIDIR/nvidia.yaml"
cdi check >"$TMPD/out" 2>&1
check "a spec of another kind at that name is no one's problem" test $? -eq 0
rm "$CDIDIR/nvidia.yaml"

# --- what gpuprov will not take ----------------------------------------------------------------
cp "$SPEC" "$TMPD/spec.good"
printf '#!/bin/sh\nfor a; do case $a in --output=*) printf "{\\"cdiVersion\\": \\"0.5.0\\", \\"kind\\": \\"nvidia.com/gpu\\", \\"devices\\": []}" >"${a#--output=}" ;; esac; done\n' \
	>"$R/usr/bin/nvidia-ctk"
driver 570.133.21
cdi refresh >"$TMPD/out" 2>&1
check "a spec nvidia-ctk writes that does not read is refused (exit 1), saying why" \
	sh -c "[ $? -eq 1 ] && grep -q 'devices: missing or empty' '$TMPD/out'"
check "and the old spec stays" cmp "$SPEC" "$TMPD/spec.good"
check "and no private directory is left" sh -c "[ \"\$(ls -A '$CDIDIR')\" = nvidia.json ]"
install -m 0755 "$CTK" "$R/usr/bin/nvidia-ctk"
driver 570.133.20
cdi check /etc/cdi >"$TMPD/out" 2>&1
check "check of another DIR: no spec there" sh -c "[ $? -eq 3 ] && grep -q 'no CDI spec' '$TMPD/out'"
echo '{"profile": "inference", "kernel": "6.1.0-18-amd64"}' >"$R/var/lib/gpuprov/state.json"
cdi refresh >"$TMPD/out" 2>&1
check "a profile without CDI: refresh does nothing (exit 0)" sh -c "[ $? -eq 0 ] && grep -q 'wants no CDI spec' '$TMPD/out'"

# --- the plan's cdi action ------------------------------------------------------------------
# On the DGX H100, whose plan switches the kernel and the driver (a reboot is pending), a
# profile that wants CDI in /etc/cdi. (The action made now, and none on a converged node, are
# tests/unit/test-cdi's: no fake machine here loads the stack's driver without a reboot.)
PD="$TMPD/profiles"
cp -r "$srcdir/profiles" "$PD"
chmod -R u+w "$PD" # a release tarball's sources are read-only (make distcheck)
printf '{"name": "cdi-h100", "include": ["h100-nvlink"], "container": {"toolkit": "1.17.8", "cdi_dir": "/etc/cdi"}}\n' >"$PD/cdi-h100.json"
D="$TMPD/dgx"
dgx_with_driver "$D"
offer_ctk "$D" 1.17.8
gpuprov --root "$D" --profiles "$PD" --json plan cdi-h100 >"$TMPD/plan.json" 2>"$TMPD/plan.err"
check "a reboot pending: the cdi action is left to the boot unit, naming the stack's driver" \
	jqt '[.actions[] | select(.action == "cdi" and .target == "/etc/cdi/nvidia.json" and .detail == "at boot" and (.reason | test("next boot, for driver 580[.]95[.]05")))] | length == 1' "$TMPD/plan.json"
diag_file "$TMPD/plan.err"
check "and it comes before the reboot" jqt '[.actions[].action] | index("cdi") < index("reboot")' "$TMPD/plan.json"
check "the environment file of NVIDIA's refresh unit points it at gpuprov's spec, JSON" \
	jqt '[.actions[] | select(.action == "file" and .target == "/etc/nvidia-container-toolkit/nvidia-cdi-refresh.env" and (.detail | test("\n[+]NVIDIA_CTK_CDI_OUTPUT_FILE_PATH=/etc/cdi/nvidia.json\n[+]NVIDIA_CTK_CDI_GENERATE_OUTPUT_FORMAT=json\n$")))] | length == 1' "$TMPD/plan.json"
gpuprov --root "$D" --profiles "$PD" plan cdi-h100 >"$TMPD/plan.txt" 2>&1
check "plan's text says it too" grep -q '^ *[0-9]*\. cdi  *\/etc\/cdi\/nvidia.json$' "$TMPD/plan.txt"
gpuprov --root "$D" --profiles "$PD" --json plan base >"$TMPD/plan.json" 2>"$TMPD/plan.err"
check "a profile without containers: no cdi action, no environment file" \
	jqt '[.actions[] | select(.action == "cdi" or (.target | test("nvidia-container-toolkit")))] | length == 0' "$TMPD/plan.json"

# --- the boot unit's order ------------------------------------------------------------------
U="$TMPD/units"
mkdir -p "$U"
for name in gpuprov-cdi gpuprov-verify; do
	sed -e "s|@sbindir@|$top_builddir|g" "$srcdir/data/$name.service.in" >"$U/$name.service"
done
check "gpuprov-cdi.service starts after the driver's loading" \
	grep -qx 'After=systemd-modules-load.service nvidia-persistenced.service local-fs.target' "$U/gpuprov-cdi.service"
check "and before the runtimes, the kubelet and verify" \
	grep -qx 'Before=containerd.service docker.service crio.service kubelet.service gpuprov-verify.service' "$U/gpuprov-cdi.service"
check "gpuprov-verify.service starts after it" grep -q '^After=.* gpuprov-cdi.service' "$U/gpuprov-verify.service"
# The kubelet's maintenance drop-in orders it after verify: no cycle through the CDI unit.
mkdir -p "$U/kubelet.service.d"
printf '[Unit]\nDescription=kubelet\n[Service]\nExecStart=/bin/true\n' >"$U/kubelet.service"
printf '[Unit]\nAfter=gpuprov-verify.service\nWants=gpuprov-verify.service\n' >"$U/kubelet.service.d/90-gpuprov.conf"
if command -v systemd-analyze >/dev/null 2>&1; then
	(cd "$U" && SYSTEMD_UNIT_PATH="$U:" systemd-analyze verify --man=no ./gpuprov-cdi.service ./gpuprov-verify.service ./kubelet.service) \
		>"$TMPD/sa.out" 2>&1
	check "systemd-analyze verify: the units with the kubelet's drop-in, without a word (no cycle)" sh -c "[ $? -eq 0 ] && ! grep -q . '$TMPD/sa.out'"
	diag_file "$TMPD/sa.out"
elif [ "${CI:-}" = true ]; then
	not_ok "systemd-analyze not found"
else
	ok "# SKIP systemd-analyze not found"
fi

# --- podman runs a container with the GPU from the spec -------------------------------------
if ! command -v podman >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1; then
	if [ "${CI:-}" = true ]; then
		not_ok "podman and runc are installed (scripts/install-deps)"
	else
		ok "# SKIP podman or runc not found"
	fi
	done_testing
fi
# The fake machine's nodes and libraries outside any chroot: the stand-in's --dev-root and
# --driver-root put them in the spec as hostPath.
M="$TMPD/machine"
mkdir -p "$M/dev" "$M/proc/driver/nvidia/gpus/0000:17:00.0" "$M/usr/lib/x86_64-linux-gnu"
cp "$R/proc/driver/nvidia/version" "$M/proc/driver/nvidia/version"
cp "$R/proc/driver/nvidia/gpus/0000:17:00.0/information" "$M/proc/driver/nvidia/gpus/0000:17:00.0/"
: >"$M/usr/lib/x86_64-linux-gnu/libcuda.so.570.133.20"
: >"$M/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.570.133.20"
mknod -m 0666 "$M/dev/nvidia0" c 195 0
mknod -m 0666 "$M/dev/nvidiactl" c 195 255
# Podman 4.3 reads specs only from /etc/cdi and /var/run/cdi: the test's spec goes there under
# a vendor of its own, so that it defines no device anyone else's spec does, and goes after.
vendor="gpuprov-test-$$.example.com"
if [ ! -d /var/run/cdi ]; then
	mkdir -p /var/run/cdi
	at_exit "rmdir /var/run/cdi 2>/dev/null"
fi
PSPEC="/var/run/cdi/gpuprov-test-$$.json"
at_exit "rm -f '$PSPEC'"
"$CTK" cdi generate --driver-root="$M" --vendor="$vendor" --output="$PSPEC" >"$TMPD/out" 2>&1
check "the stand-in writes a spec with hostPaths under the machine's tree" \
	jqt ".devices[0].containerEdits.deviceNodes == [{\"path\": \"/dev/nvidia0\", \"hostPath\": \"$M/dev/nvidia0\"}]" "$PSPEC"
# A storage of the test's own; runc with cgroupfs and the host's limits, which work in a
# container as on a node.
P="podman --root $TMPD/podman/root --runroot $TMPD/podman/run --storage-driver vfs --runtime runc --cgroup-manager cgroupfs"
at_exit "$P rm -af >/dev/null 2>&1; $P rmi -af >/dev/null 2>&1"
# The minbase tree tests/pkg/debian-chroot keeps (made above, when it was not there yet).
IMG="${GPUPROV_TEST_CACHE:-/var/cache/gpuprov-test}/debian-bookworm-minbase-initramfs-$(dpkg --print-architecture).tar"
$P import "$IMG" gpuprov-test-minbase >"$TMPD/out" 2>&1
check "the Debian minbase tree is imported as an image" sh -c "[ $? -eq 0 ]"
RUN="run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
$P $RUN --device "$vendor/gpu=0" gpuprov-test-minbase stat -c '%n %F %t:%T' /dev/nvidia0 /dev/nvidiactl \
	/usr/lib/x86_64-linux-gnu/libcuda.so.570.133.20 >"$TMPD/out" 2>&1
rc=$?
check "podman run --device $vendor/gpu=0: the GPU's node and nvidiactl, char devices c3:0 and c3:ff (195:0, 195:255), and the driver's library" \
	sh -c "[ $rc -eq 0 ] && grep -qx '/dev/nvidia0 character special file c3:0' '$TMPD/out' && grep -qx '/dev/nvidiactl character special file c3:ff' '$TMPD/out' && grep -q '^/usr/lib/x86_64-linux-gnu/libcuda.so.570.133.20 ' '$TMPD/out'"
diag_file "$TMPD/out"
$P $RUN --device "$vendor/gpu=9" gpuprov-test-minbase true >"$TMPD/out" 2>&1
rc=$?
check "podman run --device $vendor/gpu=9: refused, no such device" sh -c "[ $rc -ne 0 ] && grep -q 'unresolvable CDI devices $vendor/gpu=9' '$TMPD/out'"

done_testing
