#!/bin/sh
# A kernel switch where GRUB cannot write its own environment block (/ and /boot on LVM) but
# can write the EFI System Partition: hgx-h100-lvm, on the apt target of lib-apt-target.sh
# with the real apt and grub-editenv. apply puts the boot-once entry in gpuprov's block on
# the ESP and keeps the known-good kernel the saved default in GRUB's own; then, as after the
# reboot into the new kernel, verify --commit both ways and rollback, each checked with
# grub-editenv on both blocks. NVML is the stand-in the tests build (nvml-stub.c), as in
# verify.sh.
. "${srcdir}/tests/scenario/lib.sh"

MACHINE="$srcdir/tests/machines/hgx-h100-lvm/root"
. "${srcdir}/tests/scenario/lib-apt-target.sh"

command -v systemctl >/dev/null 2>&1 || skip_all "systemctl not found"
command -v grub-editenv >/dev/null 2>&1 || skip_all "grub-editenv not found"
apt_target linux-image-5.15.0-105-generic=5.15.0-105.115 linux-modules-5.15.0-105-generic=5.15.0-105.115 linux-generic
# The machine's ESP: its files, and the FAT image libblkid reads the UUID from that GRUB
# finds the ESP by.
mkdir -p "$CH/boot/efi"
cp -a "$MACHINE/boot/efi/." "$CH/boot/efi/"
cp "$MACHINE/dev/nvme0n1p1" "$CH/dev/nvme0n1p1"

U=2d6f8a1c-5e3b-4a7d-9c1e-6b4f2a8d0e37
GOOD="gnulinux-advanced-$U>gnulinux-5.15.0-105-generic-advanced-$U"
NEW="gnulinux-advanced-$U>gnulinux-6.8.0-49-generic-advanced-$U"
GRUBENV="$CH/boot/grub/grubenv"
ESPENV="$CH/boot/efi/EFI/gpuprov/grubenv"
STATE="$CH/var/lib/gpuprov/state.json"
# has BLOCK LINE: grub-editenv lists that line in the environment block.
has() {
	grub-editenv "$1" list | grep -qxF "$2"
}

# The DGX H100's stack with containers off: verify's CDI check wants the spec
# gpuprov-cdi.service makes at boot, which the fake boot here does not run (container-cdi.sh).
mkdir -p "$CH/etc/gpuprov/profiles"
echo '{ "name": "h100-esp", "include": ["h100-nvlink"], "container": { "toolkit": "none" } }' \
	>"$CH/etc/gpuprov/profiles/h100-esp.json"

# --- apply: the entry on the ESP ---
rc=0
gp apply h100-esp --yes --json >"$TMPD/apply.json" 2>"$TMPD/apply.err" || rc=$?
check "apply h100-esp exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/apply.err"
check "gpuprov's block on the ESP is made, 1024 bytes as GRUB's own" test "$(stat -c %s "$ESPENV" 2>/dev/null)" = 1024
check "it holds the new kernel's boot-once entry" has "$ESPENV" "gpuprov_once=$NEW"
check "GRUB's own block keeps the known-good kernel the saved default" has "$GRUBENV" "saved_entry=$GOOD"
check "and holds no next_entry, which GRUB could never clear on LVM" sh -c "! grub-editenv '$GRUBENV' list | grep -q '^next_entry=.'"
check "/etc/grub.d/01_gpuprov is installed, executable" test -x "$CH/etc/grub.d/01_gpuprov"
check "it finds the ESP by its filesystem UUID" grep -q -- "--fs-uuid --set=gpuprov_esp 6E2A-94C1" "$CH/etc/grub.d/01_gpuprov"
if command -v grub-script-check >/dev/null 2>&1; then
	check "the GRUB commands it emits pass grub-script-check" sh -c "sh '$CH/etc/grub.d/01_gpuprov' | grub-script-check"
else
	ok "# SKIP grub-script-check not found"
fi
check_json "apply says where the entry went" \
	'any(.done[]; . == "next boot enters 6.8.0-49-generic once (gpuprov_once in /boot/efi/EFI/gpuprov/grubenv)")' "$TMPD/apply.json"
check_json "state.json records the mechanism" \
	'.boot_once == {"via": "esp", "variable": "gpuprov_once", "file": "/boot/efi/EFI/gpuprov/grubenv"}' "$STATE"
gp status >"$TMPD/status.txt" 2>&1
check "status says where the entry is" grep -q "^Boot-once   gpuprov_once in /boot/efi/EFI/gpuprov/grubenv (on the ESP" "$TMPD/status.txt"
gp detect --json >"$TMPD/detect.json" 2>/dev/null
check_json "detect reads gpuprov's block" \
	".boot.gpuprov_env == \"/boot/efi/EFI/gpuprov/grubenv\" and .boot.gpuprov_once == \"$NEW\" and .storage.boot_once == \"esp\"" \
	"$TMPD/detect.json"

# A second apply before the reboot finds the switch arranged there.
cp "$ESPENV" "$TMPD/espenv.1"
rc=0
gp apply h100-esp --yes --json >"$TMPD/again.json" 2>"$TMPD/again.err" || rc=$?
check_json "a second apply changes nothing" '.changed == false and (.done | length) == 0' "$TMPD/again.json"
check "nor gpuprov's block" cmp -s "$TMPD/espenv.1" "$ESPENV"

# --- after the reboot into the new kernel ---
# The generated packages carry no files: the fabric manager's binary, as its package has it.
# In the chroot it is an absolute link into /etc/alternatives: replaced, never written
# through (that would write the host's /etc).
mkdir -p "$CH/usr/bin"
rm -f "$CH/usr/bin/nv-fabricmanager"
: >"$CH/usr/bin/nv-fabricmanager"
SYS="$TMPD/sys"
cp -a "$MACHINE" "$SYS"
echo 6.8.0-49-generic >"$SYS/proc/sys/kernel/osrelease"
sed -i 's/  550\.54\.15  /  580.95.05  /' "$SYS/proc/driver/nvidia/version"
for i in 0 1 2 3 4 5 6 7; do : >"$SYS/dev/nvidia$i"; done
: >"$SYS/dev/nvidiactl"
: >"$SYS/dev/kmsg"
LD_LIBRARY_PATH="$top_builddir/tests/helpers${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
GPUPROV_TEST_NVML_COUNT=8
export LD_LIBRARY_PATH GPUPROV_TEST_NVML_COUNT
gv() {
	gpuprov --root "$CH" --sysroot "$SYS" --profiles "$srcdir/profiles" "$@"
}

# A healthy stack: the new kernel the default, an entry left on the ESP cancelled (GRUB has
# cleared it where it booted through 01_gpuprov; here it is left as if it had not).
rc=0
gv verify --commit --no-reboot --json >"$TMPD/commit.json" 2>"$TMPD/commit.err" || rc=$?
check "verify --commit on a healthy stack exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/commit.json"
check "the new kernel is the saved default" has "$GRUBENV" "saved_entry=$NEW"
check "gpuprov_once is cleared" has "$ESPENV" "gpuprov_once="
check "so is next_entry" has "$GRUBENV" "next_entry="
check_json "the commit is recorded" '.verified.result == "committed"' "$STATE"

# The same boot with a GPU short in NVML, the entry left on the ESP: the known-good kernel
# the default again, and the entry cancelled, or the next boot would enter the failed
# kernel once more.
jq 'del(.verified)' "$STATE" >"$TMPD/state" && cat "$TMPD/state" >"$STATE"
grub-editenv "$GRUBENV" set saved_entry="$GOOD"
grub-editenv "$ESPENV" set gpuprov_once="$NEW"
rc=0
GPUPROV_TEST_NVML_COUNT=7 gv verify --commit --no-reboot >"$TMPD/failed.out" 2>&1 || rc=$?
check "verify --commit on a failed stack exits 3" test "$rc" -eq 3
check "the known-good kernel stays the saved default" has "$GRUBENV" "saved_entry=$GOOD"
check "the boot-once entry on the ESP is cancelled" has "$ESPENV" "gpuprov_once="
check_json "the roll back is recorded" '.verified.result == "rolled back"' "$STATE"

# --- rollback by hand, the new kernel the default and its entry still on the ESP ---
grub-editenv "$GRUBENV" set saved_entry="$NEW"
grub-editenv "$ESPENV" set gpuprov_once="$NEW"
gv rollback --dry-run >"$TMPD/dry.out" 2>&1
check "rollback --dry-run names both entries it would clear" \
	grep -q "clear next_entry and gpuprov_once in /boot/efi/EFI/gpuprov/grubenv" "$TMPD/dry.out"
check "rollback --dry-run changes nothing" has "$ESPENV" "gpuprov_once=$NEW"
rc=0
gv rollback >"$TMPD/rollback.out" 2>&1 || rc=$?
check "rollback exits 0" test "$rc" -eq 0
check "rollback: the known-good kernel is the saved default" has "$GRUBENV" "saved_entry=$GOOD"
check "rollback: the unused entry on the ESP is cancelled" has "$ESPENV" "gpuprov_once="
check_json "rollback is recorded" '.verified.result == "rolled back by hand"' "$STATE"

done_testing
