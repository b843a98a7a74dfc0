#!/bin/sh
# verify on the DGX H100 fake machine, as after the reboot into a stack apply installed: every
# check passing; then each failure the checks are there for (wrong kernel booted, another
# driver version or flavour loaded, module not loaded, a device node missing, a GPU short in
# NVML, NVML missing or failing, an HCA port down, Xid errors); and --commit making the
# default or going back, rebooting into the known-good kernel when it is not the one running.
# NVML is the stand-in library the tests build (tests/helpers/nvml-stub.c); the reboot a
# stand-in for systemctl that records each request (GPUPROV_TEST_REBOOT).
. "$srcdir/tests/scenario/lib.sh"

command -v grub-editenv >/dev/null 2>&1 || { echo "1..0 # SKIP grub-editenv not found"; exit 0; }
M="$TMPD/dgx"
dgx_with_driver "$M"
printf '6,1201,5000000,-;nvidia-nvswitch: Probing device 0000:05:00.0\n6,1202,5000100,-;NVRM: loading NVIDIA UNIX Open Kernel Module\n' >"$M/dev/kmsg"
mkdir -p "$M/var/lib/gpuprov"
LD_LIBRARY_PATH="$top_builddir/tests/helpers${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
GPUPROV_TEST_NVML_COUNT=8
export LD_LIBRARY_PATH GPUPROV_TEST_NVML_COUNT
reboot_stand_in

# state KERNEL PREVIOUS: what apply would have recorded.
state() {
	cat >"$M/var/lib/gpuprov/state.json" <<EOF2
{ "profile": "h100-nvlink", "kernel": "$1", "previous_kernel": "$2", "driver": "550.54.15",
  "flavour": "open", "source": "distro", "rdma": true, "reboot_required": true }
EOF2
}
ID() { echo "gnulinux-advanced-7c2b0e5a-3f41-4d8e-9a6b-5e1f2c3d4a01>gnulinux-$1-advanced-7c2b0e5a-3f41-4d8e-9a6b-5e1f2c3d4a01"; }
gv() { gpuprov --root "$M" "$@"; }

# --- applied in this very boot (a first-boot run): no verdict until the reboot ---
state 5.15.0-105-generic 5.15.0-94-generic
mkdir -p "$M/proc/sys/kernel/random"
echo 3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f >"$M/proc/sys/kernel/random/boot_id"
jq '. + {boot_id: "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"}' "$M/var/lib/gpuprov/state.json" >"$TMPD/s" &&
	cp "$TMPD/s" "$M/var/lib/gpuprov/state.json"
cp "$M/boot/grub/grubenv" "$TMPD/grubenv.0"
rc=0
gv verify --commit --no-reboot >"$TMPD/same.out" 2>&1 || rc=$?
check "verify --commit in the boot that applied exits 0" test "$rc" -eq 0
check "it says the verdict waits for the reboot" grep -q "the verdict waits for the reboot into 5.15.0-105-generic" "$TMPD/same.out"
check "it gives no verdict" sh -c "! jq -e .verified '$M/var/lib/gpuprov/state.json' >/dev/null"
check "and leaves GRUB's environment alone" cmp -s "$TMPD/grubenv.0" "$M/boot/grub/grubenv"
echo 0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d >"$M/proc/sys/kernel/random/boot_id"

# --- all good ---
state 5.15.0-105-generic 5.15.0-94-generic
rc=0
gv verify --json >"$TMPD/ok.json" 2>"$TMPD/ok.err" || rc=$?
check "a healthy stack: verify exits 0" test "$rc" -eq 0
check_json "a healthy stack: every check passes" \
	'.ok and ([.checks[] | .check] == ["kernel", "driver", "devices", "nvml", "fabricmanager", "retired-pages", "ecc", "pcie", "nvlink", "persistence", "throttle", "temperature", "rdma", "xid", "xid-hardware", "diag"]) and all(.checks[]; .ok)' "$TMPD/ok.json"
grub-editenv "$M/boot/grub/grubenv" set saved_entry="$(ID 5.15.0-94-generic)"
rc=0
gv verify --commit --no-reboot >"$TMPD/commit.out" 2>&1 || rc=$?
check "verify --commit on a healthy stack exits 0" test "$rc" -eq 0
check "it makes the running kernel GRUB's saved default" \
	sh -c "grub-editenv '$M/boot/grub/grubenv' list | grep -qxF 'saved_entry=$(ID 5.15.0-105-generic)'"
check_json "it records the commit" '.verified.result == "committed"' "$M/var/lib/gpuprov/state.json"
# A fault long after the commit: reported, the committed kernel stays the default.
printf '4,1300,9000000,-;NVRM: Xid (PCI:0000:18:00): 48, pid=77, DBE\n' >>"$M/dev/kmsg"
rc=0
gv verify --commit --no-reboot >"$TMPD/later.out" 2>&1 || rc=$?
check "after the commit, a later failure is reported (exit 3)" test "$rc" -eq 3
check "and the committed kernel stays the default" \
	sh -c "grub-editenv '$M/boot/grub/grubenv' list | grep -qxF 'saved_entry=$(ID 5.15.0-105-generic)'"
sed -i '/Xid/d' "$M/dev/kmsg"

# --- each failure ---
failing() { # DESCRIPTION CHECK: verify exits 3 and that check fails, no other
	rc=0
	gv verify --json >"$TMPD/f.json" 2>/dev/null || rc=$?
	if [ "$rc" -eq 3 ] && jqt ".ok == false and [.checks[] | select(.ok | not) | .check] == [\"$2\"]" "$TMPD/f.json"; then
		ok "$1: verify exits 3, the $2 check fails, no other"
	else
		not_ok "$1: verify exits 3, the $2 check fails, no other (exit $rc)"
		diag_file "$TMPD/f.json"
	fi
}
# detail CHECK: what that check said in the last failing run.
detail() {
	jq -r ".checks[] | select(.check == \"$1\") | .detail" "$TMPD/f.json"
}
state 6.8.0-49-generic 5.15.0-105-generic
failing "the new kernel did not boot (a panic fell back)" kernel
state 5.15.0-105-generic 5.15.0-94-generic
GPUPROV_TEST_NVML_COUNT=7 failing "NVML sees a GPU fewer than PCI" nvml
cp "$M/proc/modules" "$TMPD/modules"
grep -v '^nvidia ' "$TMPD/modules" >"$M/proc/modules"
failing "the nvidia module is not loaded" driver
cp "$TMPD/modules" "$M/proc/modules"
rm "$M/dev/nvidia3"
failing "a device node is missing" devices
: >"$M/dev/nvidia3"
rm "$M/dev/nvidiactl"
failing "/dev/nvidiactl is missing" devices
check "it says which node" test "$(detail devices)" = "8 of 8 /dev/nvidiaN, no /dev/nvidiactl"
: >"$M/dev/nvidiactl"
# The running driver as /proc/driver/nvidia/version gives it: another version (the new
# modules left out of the initramfs, say), then the proprietary modules of the stack's.
cp "$M/proc/driver/nvidia/version" "$TMPD/nvversion"
sed -i 's/ 550\.54\.15 / 535.161.08 /' "$M/proc/driver/nvidia/version"
failing "the nvidia modules of another version are loaded" driver
check "it names both versions" test "$(detail driver)" = "nvidia 535.161.08 (open) loaded, the stack's 550.54.15 open"
sed 's/NVIDIA UNIX Open Kernel Module for x86_64/NVIDIA UNIX x86_64 Kernel Module/' "$TMPD/nvversion" >"$M/proc/driver/nvidia/version"
failing "the proprietary modules where the stack has the open ones" driver
check "it names both flavours" test "$(detail driver)" = "nvidia 550.54.15 (proprietary) loaded, the stack's 550.54.15 open"
cp "$TMPD/nvversion" "$M/proc/driver/nvidia/version"
GPUPROV_TEST_NVML_INIT=9 failing "nvmlInit fails" nvml
check "it quotes NVML's error" test "$(detail nvml)" = "NVML: Driver Not Loaded (9)"
if ldconfig -p 2>/dev/null | grep -q 'libnvidia-ml\.so\.1 '; then
	ok "# SKIP NVML missing: this machine has its own libnvidia-ml.so.1"
	ok "# SKIP NVML missing: the message"
else
	LD_LIBRARY_PATH=/nonexistent failing "NVML missing (no libnvidia-ml.so.1)" nvml
	check "it says the library cannot be loaded" sh -c "jq -r '.checks[] | select(.check == \"nvml\") | .detail' '$TMPD/f.json' | grep -q '^libnvidia-ml.so.1 cannot be loaded: '"
fi
# One HCA port down (a cable pulled, the subnet manager gone): the count says so.
PORT1=$(find "$M"/sys/class/infiniband/*/ports/ -mindepth 2 -maxdepth 2 -name state | sort | head -n 1)
cp "$PORT1" "$TMPD/port1"
echo "1: DOWN" >"$PORT1"
ports=$(find "$M"/sys/class/infiniband/*/ports/ -mindepth 2 -maxdepth 2 -name state | wc -l)
failing "an HCA port is not ACTIVE" rdma
check "it counts the ports active" test "$(detail rdma)" = "$((ports - 1)) of $ports HCA ports active"
cp "$TMPD/port1" "$PORT1"
cp "$M/var/lib/dpkg/status" "$TMPD/status"
sed -i 's/^Version: 550.54.15-1$/Version: 550.90.07-1/' "$M/var/lib/dpkg/status"
failing "the fabric manager is not the driver's version" fabricmanager
cp "$TMPD/status" "$M/var/lib/dpkg/status"
cp "$M/dev/kmsg" "$TMPD/kmsg"
# An Xid of the stack or an application (13: a graphics engine exception) fails "xid"; one
# NVIDIA attributes to the GPU (79: fallen off the bus) fails "xid-hardware", naming the GPU.
printf '4,1300,9000000,-;NVRM: Xid (PCI:0000:18:00): 13, pid=1234, Graphics Exception\n' >>"$M/dev/kmsg"
failing "an Xid in the kernel log" xid
check "the Xid is quoted" test "$(detail xid)" = \
	"1 Xid errors not of a GPU's hardware since boot, the first: NVRM: Xid (PCI:0000:18:00): 13, pid=1234, Graphics Exception"
cp "$TMPD/kmsg" "$M/dev/kmsg"
printf '4,1300,9000000,-;NVRM: Xid (PCI:0000:18:00): 79, pid=1234, GPU has fallen off the bus.\n' >>"$M/dev/kmsg"
failing "an Xid of a GPU's hardware in the kernel log" xid-hardware
# NVML here knows no bus ids (verify-health.sh has the GPUs' serials): the log's address.
check "the GPU is named by the log's address, the Xid quoted" test "$(detail xid-hardware)" = \
	"1 Xid errors of a GPU's hardware since boot: GPU 0000:18:00: Xid 79; the first: NVRM: Xid (PCI:0000:18:00): 79, pid=1234, GPU has fallen off the bus."

# --- a stack without a driver (driver.source "none"): the kernel and the modules only ---
cat >"$M/var/lib/gpuprov/state.json" <<'EOF2'
{ "profile": "no-gpu", "kernel": "5.15.0-105-generic", "previous_kernel": "5.15.0-94-generic",
  "driver": null, "flavour": null, "cuda": null, "source": "none", "rdma": false,
  "modules": { "absent": ["nouveau", "floppy"], "loaded": [] }, "reboot_required": true }
EOF2
rc=0
gv verify --json >"$TMPD/nodrv.json" 2>/dev/null || rc=$?
check "no driver: verify exits 0" test "$rc" -eq 0
check_json "no driver: only the kernel and the modules are checked, and pass" \
	'.ok and ([.checks[] | .check] == ["kernel", "modules"]) and all(.checks[]; .ok)' "$TMPD/nodrv.json"
check_json "no driver: the modules check counts what the profile names" \
	'.checks[1].detail == "2 of 2 as the profile wants them"' "$TMPD/nodrv.json"
cp "$M/proc/modules" "$TMPD/modules"
echo 'floppy 94208 0 - Live 0x0000000000000000' >>"$M/proc/modules"
failing "no driver: a blacklisted module is loaded" modules
check "it names the module" sh -c "jq -r '.checks[1].detail' '$TMPD/f.json' | grep -q 'floppy is loaded (blacklisted)'"
cp "$TMPD/modules" "$M/proc/modules"
jq '.modules.loaded = ["nvidia-peermem", "rdma_cm"]' "$M/var/lib/gpuprov/state.json" >"$TMPD/s" && cp "$TMPD/s" "$M/var/lib/gpuprov/state.json"
failing "a module the profile loads at boot is not loaded" modules
check "it names only the one missing (- and _ are the same)" \
	sh -c "jq -r '.checks[1].detail' '$TMPD/f.json' | grep -qx '3 of 4 as the profile wants them: rdma_cm is not loaded'"

# --- a failure with --commit: back to the known-good kernel ---
state 6.8.0-49-generic 5.15.0-105-generic
grub-editenv "$M/boot/grub/grubenv" set saved_entry="$(ID 6.8.0-49-generic)"
reboots >/dev/null
rc=0
gv verify --commit >"$TMPD/rb.out" 2>&1 || rc=$?
check "no reboot: the known-good kernel is the one running already" test "$(reboots)" -eq 0
check "verify --commit on a failed stack exits 3" test "$rc" -eq 3
check "the known-good kernel is GRUB's saved default again" \
	sh -c "grub-editenv '$M/boot/grub/grubenv' list | grep -qxF 'saved_entry=$(ID 5.15.0-105-generic)'"
check_json "it records the roll back and why" \
	'.verified.result == "rolled back" and (.verified.failed | length) >= 2' "$M/var/lib/gpuprov/state.json"
check_json "and remembers the kernel as failed here, with when and why" \
	'.failed_kernels | length == 1 and .[0].kernel == "6.8.0-49-generic" and (.[0].at | test("^20")) and (.[0].failed | length) >= 2' \
	"$M/var/lib/gpuprov/state.json"
# plan (as apply would) passes over it, saying why; --retry-failed allows it again.
gv --profiles "$srcdir/profiles" plan h100-nvlink --json >"$TMPD/p1.json" 2>/dev/null
# (the only kernel the profile's range allows here: the plan is refused, saying why)
check_json "plan does not choose the kernel rolled back here, and says when and why" \
	'.refused and .reasons[0] == "kernel 6.8.0-49-generic: verify rolled it back on this node; --retry-failed allows it again" and any(.warnings[]; test("^kernel 6.8.0-49-generic: verify rolled it back on this node at 20.*Z \\(running 5.15.0-105-generic"))' "$TMPD/p1.json"
# A failed_kernels that is not a list of entries (edited by hand) names no kernel.
cp "$M/var/lib/gpuprov/state.json" "$TMPD/state.failed"
jq '.failed_kernels = "6.8.0-49-generic"' "$TMPD/state.failed" >"$M/var/lib/gpuprov/state.json"
gv --profiles "$srcdir/profiles" plan h100-nvlink --json >"$TMPD/p3.json" 2>/dev/null
jq '.failed_kernels = [42, {"kernel": 7}, {"at": "x"}]' "$TMPD/state.failed" >"$M/var/lib/gpuprov/state.json"
gv --profiles "$srcdir/profiles" plan h100-nvlink --json >"$TMPD/p4.json" 2>/dev/null
check_json "a failed_kernels that is no list of entries is ignored" '.stack.kernel == "6.8.0-49-generic"' "$TMPD/p3.json"
check_json "and so are entries without a kernel's name" '.stack.kernel == "6.8.0-49-generic"' "$TMPD/p4.json"
cp "$TMPD/state.failed" "$M/var/lib/gpuprov/state.json"
gv --profiles "$srcdir/profiles" plan h100-nvlink --retry-failed --json >"$TMPD/p2.json" 2>/dev/null
check_json "plan --retry-failed chooses it again" '.stack.kernel == "6.8.0-49-generic" and (.warnings | length) == 0' "$TMPD/p2.json"
rc=0
gv status --retry-failed >/dev/null 2>&1 || rc=$?
check "--retry-failed is plan's and apply's only (status: exit 2)" test "$rc" -eq 2
gv status --json >"$TMPD/st.json" 2>/dev/null
check_json "status: the verdict, and no reboot pending on the known-good kernel" \
	'.applied.verified.result == "rolled back" and .running_kernel == "5.15.0-105-generic" and .reboot_pending == false' "$TMPD/st.json"

# --- a failure with --commit on the new kernel: a reboot into the known-good one ---
cp "$TMPD/kmsg" "$M/dev/kmsg" # the Xid above gone: NVML's count is the failure
# commit_failed ARGS...: verify --commit on 5.15.0-105 (the new kernel, running) with a GPU
# short in NVML; sets rc.
commit_failed() {
	state 5.15.0-105-generic 5.15.0-94-generic
	grub-editenv "$M/boot/grub/grubenv" set saved_entry="$(ID 5.15.0-105-generic)"
	reboots >/dev/null
	rc=0
	GPUPROV_TEST_NVML_COUNT=7 gv verify --commit "$@" >"$TMPD/cf.out" 2>"$TMPD/cf.err" || rc=$?
}
commit_failed
check "a failure on the new kernel: verify --commit exits 3" test "$rc" -eq 3
check "it asks for one reboot" test "$(reboots)" -eq 1
check "into the known-good kernel, GRUB's saved default again" \
	sh -c "grub-editenv '$M/boot/grub/grubenv' list | grep -qxF 'saved_entry=$(ID 5.15.0-94-generic)'"
commit_failed --no-reboot
check "--no-reboot: the same verdict (exit 3), no reboot" sh -c "[ $rc -eq 3 ] && [ $(reboots) -eq 0 ]"
check_json "--no-reboot: the roll back is recorded all the same" '.verified.result == "rolled back"' "$M/var/lib/gpuprov/state.json"
cp "$M/var/lib/gpuprov/state.json" "$TMPD/s.nr"
state 5.15.0-105-generic 5.15.0-94-generic
jq '. + {verify_reboot: false}' "$M/var/lib/gpuprov/state.json" >"$TMPD/s" && cp "$TMPD/s" "$M/var/lib/gpuprov/state.json"
reboots >/dev/null
rc=0
GPUPROV_TEST_NVML_COUNT=7 gv verify --commit >/dev/null 2>&1 || rc=$?
check "the profile's verify.reboot false: exit 3, no reboot" sh -c "[ $rc -eq 3 ] && [ $(reboots) -eq 0 ]"
# systemctl refusing: said, and the verdict stands.
printf '#!/bin/sh\nexit 1\n' >"$TMPD/systemctl-fails"
chmod +x "$TMPD/systemctl-fails"
GPUPROV_TEST_REBOOT="$TMPD/systemctl-fails" commit_failed
check "a reboot that fails: exit 3 all the same, the operator told to reboot" \
	sh -c "[ $rc -eq 3 ] && grep -q 'cannot reboot into the known-good kernel; reboot by hand' '$TMPD/cf.err'"
check_json "and the roll back is recorded" '.verified.result == "rolled back"' "$M/var/lib/gpuprov/state.json"
# A healthy stack committed: no reboot.
state 5.15.0-105-generic 5.15.0-94-generic
rc=0
gv verify --commit >/dev/null 2>&1 || rc=$?
check "a healthy stack committed: exit 0, no reboot" sh -c "[ $rc -eq 0 ] && [ $(reboots) -eq 0 ]"

# --- rollback by hand ---
state 6.8.0-49-generic 5.15.0-105-generic
grub-editenv "$M/boot/grub/grubenv" set saved_entry="$(ID 6.8.0-49-generic)" next_entry="$(ID 6.8.0-49-generic)"
rc=0
gv rollback >"$TMPD/rollback.out" 2>&1 || rc=$?
check "rollback exits 0" test "$rc" -eq 0
check "rollback: the previous kernel is the saved default" \
	sh -c "grub-editenv '$M/boot/grub/grubenv' list | grep -qxF 'saved_entry=$(ID 5.15.0-105-generic)'"
check "rollback: the unused boot-once entry is cancelled" \
	sh -c "grub-editenv '$M/boot/grub/grubenv' list | grep -qx 'next_entry='"
check_json "rollback is recorded" '.verified.result == "rolled back by hand"' "$M/var/lib/gpuprov/state.json"
check_json "its journal is rollback's, the boot step last and done, the run finished" \
	'.verb == "rollback" and (.steps | length) == 1 and (.steps[0].step | startswith("saved default 5.15.0-105-generic")) and .steps[0].done and (.finished | type) == "string"' \
	"$M/var/lib/gpuprov/journal.json"
# Killed after its last step (a power cut): the run did not end, so no verdict; status says
# interrupted, and rollback run again finishes it.
state 6.8.0-49-generic 5.15.0-105-generic
rc=0
GPUPROV_TEST_ABORT_AFTER=1 gv rollback >/dev/null 2>&1 || rc=$?
check "rollback killed after its last step dies (SIGKILL)" test "$rc" -eq 137
check_json "its journal: the step done, the run not finished" '.verb == "rollback" and .steps[0].done and .finished == null' \
	"$M/var/lib/gpuprov/journal.json"
check "no verdict is recorded" sh -c "! jq -e .verified '$M/var/lib/gpuprov/state.json' >/dev/null"
gv status --json >"$TMPD/killed.json" 2>/dev/null || true
check_json "status: interrupted" '.state == "interrupted"' "$TMPD/killed.json"
rc=0
gv rollback >/dev/null 2>&1 || rc=$?
check_json "run again, rollback finishes and records its verdict" '.verified.result == "rolled back by hand"' \
	"$M/var/lib/gpuprov/state.json"
check "and exits 0" test "$rc" -eq 0

# --- GRUB's ids on the other layouts: BLS (RHEL 9), openEuler's titles on EFI ---
# rollback_to MACHINE PREVIOUS GRUBENV: rollback on a copy, then the saved_entry it set.
rollback_to() {
	R="$TMPD/$1"
	cp -a "$srcdir/tests/machines/$1/root" "$R"
	mkdir -p "$R/var/lib/gpuprov"
	printf '{ "profile": "base", "kernel": "x", "previous_kernel": "%s", "driver": "x" }\n' "$2" >"$R/var/lib/gpuprov/state.json"
	gpuprov --root "$R" rollback >/dev/null 2>&1 && grub-editenv "$R$3" list | sed -n 's/^saved_entry=//p'
}
got=$(rollback_to hgx-a100-rocky9 5.14.0-284.11.1.el9_2.x86_64 /boot/grub2/grubenv)
check "RHEL 9: the BLS id of a kernel (got: $got)" test "$got" = "2ec4b4f7f0364d7d9c0e6b76f4d0ec56-5.14.0-284.11.1.el9_2.x86_64"
got=$(rollback_to kunpeng920-openeuler 5.10.0-216.0.0.115.oe2203sp3.aarch64 /boot/efi/EFI/openEuler/grubenv)
check "openEuler on EFI: the entry's title, the release put in (got: $got)" \
	test "$got" = "openEuler (5.10.0-216.0.0.115.oe2203sp3.aarch64) 22.03 (LTS-SP3)"

# --- a state.json that cannot be read: a clear message, nothing written ---
printf '{ "profile": "h100-nvlink", "kernel": ' >"$M/var/lib/gpuprov/state.json"
cp "$M/boot/grub/grubenv" "$TMPD/grubenv.before"
rc=0
gv verify --commit --no-reboot >"$TMPD/bad.out" 2>"$TMPD/bad.err" || rc=$?
check "a corrupt state.json: verify exits 1 naming the file" sh -c "[ $rc -eq 1 ] && grep -q 'state.json: unexpected format' '$TMPD/bad.err'"
rc=0
gv rollback >"$TMPD/bad.out" 2>"$TMPD/bad.err" || rc=$?
check "a corrupt state.json: rollback refuses (exit 3) naming the file" sh -c "[ $rc -eq 3 ] && grep -q 'state.json: unexpected format' '$TMPD/bad.err'"
check "a corrupt state.json: GRUB's environment is untouched" cmp -s "$TMPD/grubenv.before" "$M/boot/grub/grubenv"

# --- a record of the stack before the switch that does not read: named, nothing changed ---
cat >"$M/var/lib/gpuprov/state.json" <<'EOF2'
{ "profile": "h100-nvlink", "kernel": "6.8.0-49-generic", "previous_kernel": "5.15.0-105-generic",
  "previous_stack": { "kernel": "5.15.0-105-generic", "via": "apt",
    "packages": [ { "name": "--purge", "version": "1", "held": false } ], "files": [] } }
EOF2
rc=0
gv rollback --dry-run >"$TMPD/rec.out" 2>"$TMPD/rec.err" || rc=$?
check "a malformed previous_stack: rollback exits 2 naming the member" \
	sh -c "[ $rc -eq 2 ] && grep -q 'state.json: previous_stack.packages\[0\].name: expected a package name' '$TMPD/rec.err'"
rc=0
gv rollback >"$TMPD/rec.out" 2>"$TMPD/rec.err" || rc=$?
check "a malformed previous_stack: GRUB's environment is untouched" \
	sh -c "[ $rc -ne 0 ] && cmp -s '$TMPD/grubenv.before' '$M/boot/grub/grubenv'"

# --- nothing applied ---
rm "$M/var/lib/gpuprov/state.json"
rc=0
gv verify >"$TMPD/none.out" 2>"$TMPD/none.err" || rc=$?
check "nothing applied: verify refuses with exit 3, saying so" sh -c "[ $rc -eq 3 ] && grep -q 'nothing gpuprov applied' '$TMPD/none.err'"

done_testing
