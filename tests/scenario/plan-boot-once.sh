#!/bin/sh
# Where a kernel switch's boot-once entry lives. On hgx-h100-lvm GRUB cannot write its own
# environment block (/boot on LVM) but can write the ESP: the plan puts the entry in
# gpuprov's block there and installs /etc/grub.d/01_gpuprov, whose GRUB commands must pass
# grub-script-check. With the ESP on md RAID1, or no ESP at all, there is nowhere GRUB can
# clear the entry: the running kernel is kept, or the plan refused, saying why and what
# would allow a switch.
. "$srcdir/tests/scenario/lib.sh"

GPUPROV_TODAY=2026-11-21
export GPUPROV_TODAY
LVM="$srcdir/tests/machines/hgx-h100-lvm/root"
gp() {
	gpuprov --root "$1" --profiles "$srcdir/profiles" plan "$2" --json >"$TMPD/plan.json" 2>"$TMPD/plan.err"
}

# --- the ESP holds the entry ---
rc=0
gp "$LVM" h100-nvlink || rc=$?
check "hgx-h100-lvm: the switch is planned" test "$rc" -eq 0
check_json "the boot-once entry goes to gpuprov's block on the ESP" \
	'.actions[] | select(.action == "boot-once") | .reason | contains("gpuprov_once in /boot/efi/EFI/gpuprov/grubenv on the ESP")' \
	"$TMPD/plan.json"
check_json "the reasons say why: GRUB's own block is on LVM" \
	'any(.reasons[]; contains("GRUB'"'"'s environment block is on lvm") and contains("EFI System Partition instead"))' "$TMPD/plan.json"
check_json "01_gpuprov is written executable, before GRUB's configuration is made again" \
	'([.actions[] | .target] | index("/etc/grub.d/01_gpuprov")) < ([.actions[] | .action] | index("bootloader")) and
	 (.actions[] | select(.target == "/etc/grub.d/01_gpuprov") | .mode == "0755")' "$TMPD/plan.json"
jq -r '.actions[] | select(.target == "/etc/grub.d/01_gpuprov") | .detail' "$TMPD/plan.json" | sed -n 's/^[+ ]//p' >"$TMPD/01_gpuprov"
check "the script finds the ESP by its filesystem UUID" grep -q "search --no-floppy --fs-uuid --set=gpuprov_esp 6E2A-94C1" "$TMPD/01_gpuprov"
check "GRUB reads only gpuprov_once from gpuprov's block" grep -q 'load_env --file "${gpuprov_env}" gpuprov_once$' "$TMPD/01_gpuprov"
check "GRUB enters the entry only once it has cleared it" \
	sh -c "sh '$TMPD/01_gpuprov' | grep -A1 'if save_env --file \"\${gpuprov_env}\" gpuprov_once; then' | grep -q 'set default=\"\${gpuprov_entry}\"'"
if command -v grub-script-check >/dev/null 2>&1; then
	check "its GRUB commands pass grub-script-check" sh -c "sh '$TMPD/01_gpuprov' | grub-script-check"
else
	ok "# SKIP grub-script-check not found"
fi

# --- variants of the machine: the ESP on md RAID1, no ESP ---
# variant NAME: a copy of hgx-h100-lvm.
variant() {
	V="$TMPD/$1"
	cp -a "$LVM" "$V"
}
# The ESP mirrored by md RAID1 with metadata 1.0 (the FAT at the start of each member):
# mounted from md127, whose stack says raid1.
variant esp-raid
sed -i 's| 259:1 / /boot/efi \(.*\) - vfat /dev/nvme0n1p1 | 9:127 / /boot/efi \1 - vfat /dev/md127 |' "$V/proc/self/mountinfo"
mkdir -p "$V/sys/devices/virtual/block/md127/md"
echo 9:127 >"$V/sys/devices/virtual/block/md127/dev"
echo raid1 >"$V/sys/devices/virtual/block/md127/md/level"
echo 1.0 >"$V/sys/devices/virtual/block/md127/md/metadata_version"
ln -s ../../devices/virtual/block/md127 "$V/sys/dev/block/9:127"
cp "$V/dev/nvme0n1p1" "$V/dev/md127"
gpuprov --root "$V" detect --json >"$TMPD/detect.json" 2>/dev/null
check_json "an ESP on md RAID1: detect finds it, on raid1, and judges it unwritable" \
	'.storage.esp.mountpoint == "/boot/efi" and .storage.esp.stack == ["raid1"] and .storage.esp_writable == false and
	 .storage.esp_reason == "on raid1, which GRUB cannot write" and .storage.boot_once == null' "$TMPD/detect.json"
rc=0
gp "$V" h100-nvlink || rc=$?
check "an ESP on md RAID1: a profile the running kernel does not fit is refused (exit 3)" test "$rc" -eq 3
check_json "the refusal says why and keeps the running kernel" \
	'.refused and any(.reasons[]; contains("kernel 6.8.0-49-generic: a switch needs a boot-once entry GRUB can clear") and
	 contains("with no EFI System Partition to hold one instead (on raid1, which GRUB cannot write)"))' "$TMPD/plan.json"
rc=0
gp "$V" base || rc=$?
check_json "an ESP on md RAID1: base keeps the running kernel, no boot-once" \
	'.refused == false and .stack.kernel == "5.15.0-105-generic" and .stack.kernel_change == false and
	 ([.actions[] | select(.action == "boot-once" or .target == "/etc/grub.d/01_gpuprov")] | length) == 0' "$TMPD/plan.json"
check_json "and says what would allow a switch" \
	'any(.reasons[]; startswith("no newer kernel is switched to: the GRUB environment block is on lvm") and
	 contains("/boot on a plain partition, or an ESP GRUB can write, would allow a switch"))' "$TMPD/plan.json"

variant no-esp
sed -i '/ \/boot\/efi /d' "$V/proc/self/mountinfo"
rc=0
gp "$V" base || rc=$?
check_json "no ESP mounted: base keeps the running kernel, saying there is no ESP" \
	'.refused == false and .stack.kernel_change == false and
	 any(.reasons[]; contains("no EFI System Partition can hold one instead (no EFI System Partition is mounted)"))' "$TMPD/plan.json"

# Legacy BIOS with / and /boot on LVM on RAID1: nowhere GRUB can clear an entry.
gpuprov --root "$srcdir/tests/machines/debian12-nogpu/root" detect >"$TMPD/detect.txt" 2>/dev/null
check "debian12-nogpu: detect says no kernel switch can be made, and why" \
	grep -q "nor on an ESP (no EFI System Partition is mounted): no kernel switch" "$TMPD/detect.txt"

done_testing
