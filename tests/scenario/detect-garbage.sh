#!/bin/sh
# Garbage machines: detect degrades to "unknown" with warnings, never crashes, and never
# reads outside the root. Under the sanitizer build a memory error fails the run too.
. "$srcdir/tests/scenario/lib.sh"

# A file outside every garbage root: its marker must never show up in any output.
mkdir -p "$TMPD/outside"
printf 'ID=escaped\nPRETTY_NAME="ESCAPED"\n' >"$TMPD/outside/os-release"

# new_machine NAME: an empty root to spoil.
new_machine() {
	m=$TMPD/$1
	mkdir -p "$m/proc/sys/kernel" "$m/proc/self" "$m/etc" "$m/usr/lib" "$m/boot" \
		"$m/sys/bus/pci/devices" "$m/sys/devices/pci0000:00" "$m/sys/firmware/efi/efivars" \
		"$m/lib/modules" "$m/usr/local"
}

# survives NAME: detect, text and JSON, exits 0, the JSON parses, nothing escaped.
survives() {
	for mode in text json; do
		flag=
		[ "$mode" = json ] && flag=--json
		gpuprov --root "$TMPD/$1" detect $flag >"$TMPD/out" 2>"$TMPD/err"
		rc=$?
		if [ "$rc" -ne 0 ]; then
			not_ok "$1: detect ($mode) exited $rc"
			diag_file "$TMPD/err"
			continue
		fi
		if [ "$mode" = json ] && ! jq -e .schema "$TMPD/out" >/dev/null 2>&1; then
			not_ok "$1: detect --json printed no valid JSON"
			continue
		fi
		if grep -qi escaped "$TMPD/out" "$TMPD/err"; then
			not_ok "$1: detect ($mode) read a file outside the root"
			continue
		fi
		ok "$1: detect ($mode) survives"
	done
}

# warns NAME PATTERN: the JSON's warnings mention PATTERN.
warns() {
	gpuprov --root "$TMPD/$1" detect --json 2>/dev/null >"$TMPD/out"
	check "$1: warns about $2" jq -e --arg p "$2" '[.warnings[] | contains($p)] | any' "$TMPD/out"
}

new_machine empty
rm -rf "$TMPD/empty"/*
survives empty
warns empty "proc/cpuinfo"

new_machine random
head -c 65536 /dev/urandom >"$TMPD/random/proc/cpuinfo"
head -c 4096 /dev/urandom >"$TMPD/random/etc/os-release"
head -c 4096 /dev/urandom >"$TMPD/random/proc/self/mountinfo"
head -c 4096 /dev/urandom >"$TMPD/random/proc/modules"
head -c 300 /dev/urandom >"$TMPD/random/proc/sys/kernel/osrelease"
head -c 1024 /dev/urandom >"$TMPD/random/boot/grubenv"
head -c 99 /dev/urandom >"$TMPD/random/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
survives random
warns random "SecureBoot"

# A 2 MB line where a short one belongs.
new_machine longline
head -c 2097152 /dev/zero | tr '\0' 'x' >"$TMPD/longline/line"
{ printf 'processor : 0\nmodel name : '; cat "$TMPD/longline/line"; printf '\n'; } >"$TMPD/longline/proc/cpuinfo"
{ printf 'ID='; cat "$TMPD/longline/line"; printf '\n'; } >"$TMPD/longline/etc/os-release"
cp "$TMPD/longline/line" "$TMPD/longline/proc/cmdline"
cp "$TMPD/longline/line" "$TMPD/longline/proc/sys/kernel/osrelease"
cp "$TMPD/longline/line" "$TMPD/longline/proc/self/mountinfo"
rm "$TMPD/longline/line"
survives longline
warns longline "etc/os-release"

# Empty sysfs and procfs files, as a half-populated fake or a racing hot-unplug leaves them.
new_machine empty-files
dev="$TMPD/empty-files/sys/devices/pci0000:00/0000:17:00.0"
mkdir -p "$dev/infiniband/mlx5_0/ports/1" "$dev/net"
for f in vendor device class numa_node subsystem_vendor subsystem_device; do : >"$dev/$f"; done
ln -s ../../../devices/pci0000:00/0000:17:00.0 "$TMPD/empty-files/sys/bus/pci/devices/0000:17:00.0"
for f in proc/cpuinfo proc/sys/kernel/osrelease proc/cmdline proc/modules proc/self/mountinfo etc/os-release \
	sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c; do
	: >"$TMPD/empty-files/$f"
done
mkdir -p "$TMPD/empty-files/boot/grub" "$TMPD/empty-files/usr/local/cuda-12.4"
: >"$TMPD/empty-files/boot/grub/grubenv"
: >"$TMPD/empty-files/usr/local/cuda-12.4/version.json"
survives empty-files
warns empty-files "0000:17:00.0"
warns empty-files "cuda-12.4"

# Symlink loops everywhere a link is followed.
new_machine loops
l=$TMPD/loops
ln -s loop-b "$l/proc/loop-a"
ln -s /proc/loop-a "$l/proc/loop-b"
for f in cpuinfo cmdline modules; do ln -s loop-a "$l/proc/$f"; done
ln -s os-release "$l/etc/os-release.tmp" && mv "$l/etc/os-release.tmp" "$l/etc/os-release"
ln -s 0000:01:00.0 "$l/sys/bus/pci/devices/0000:01:00.0.tmp" && mv "$l/sys/bus/pci/devices/0000:01:00.0.tmp" "$l/sys/bus/pci/devices/0000:01:00.0"
ln -s ../cuda "$l/usr/local/cuda"
mkdir -p "$l/sys/dev/block"
ln -s 259:2 "$l/sys/dev/block/259:2.tmp" && mv "$l/sys/dev/block/259:2.tmp" "$l/sys/dev/block/259:2"
echo "29 1 259:2 / / rw - ext4 /dev/loop rw" >"$l/proc/self/mountinfo"
ln -s /dev/loop "$l/dev" 2>/dev/null || true
mkdir -p "$l/lib/modules/6.1.0-18-amd64"
ln -s /lib/modules/6.1.0-18-amd64 "$l/lib/modules/6.1.0-18-amd64/build"
survives loops
warns loops "0000:01:00.0"

# Links that point at the host: absolute ones resolve inside the root, ".." stops at its top.
new_machine escape
e=$TMPD/escape
rmdir "$e/etc" && ln -s /etc "$e/etc"
ln -s "$TMPD/outside/os-release" "$e/usr/lib/os-release"
ln -s ../../../../../../../../outside/os-release "$e/proc/cpuinfo"
ln -s /proc/self/mountinfo "$e/proc/self/mountinfo"
ln -s /sys/bus "$e/sys/devices/pci0000:00/bus"
survives escape
# The host's /etc/os-release exists; the root's etc -> /etc is the root's own etc: a loop.
warns escape "os-release"

# libkmod opens a module directory's index files by host path: a link among them that
# leads out of the root is refused, not followed. The host copy here is a real index.
cp -a "$srcdir/tests/machines/l4-edge-ubuntu2404/root" "$TMPD/kmod-escape"
moddir=$TMPD/kmod-escape/usr/lib/modules/6.8.0-48-generic
mv "$moddir/modules.dep.bin" "$TMPD/outside/modules.dep.bin"
ln -s "$TMPD/outside/modules.dep.bin" "$moddir/modules.dep.bin"
survives kmod-escape
warns kmod-escape "lib/modules/6.8.0-48-generic: cannot read the nvidia module"
gpuprov --root "$TMPD/kmod-escape" detect --json 2>/dev/null >"$TMPD/out"
check "kmod-escape: no module version read through the outside index" \
	jq -e '.kernel.installed[] | select(.release == "6.8.0-48-generic") | .nvidia == null' "$TMPD/out"
check "kmod-escape: the other kernel's module is still read" \
	jq -e '.kernel.installed[] | select(.release == "6.8.0-45-generic") | .nvidia.version == "550.127.05"' "$TMPD/out"

# An etc/os-release without ID: usr/lib/os-release is read instead, and nothing of the
# first one is kept.
new_machine half-os
printf 'PRETTY_NAME="Wrong"\nVERSION_ID=99\n' >"$TMPD/half-os/etc/os-release"
printf 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Right"\n' >"$TMPD/half-os/usr/lib/os-release"
survives half-os
gpuprov --root "$TMPD/half-os" detect --json 2>/dev/null >"$TMPD/out"
check "half-os: the OS comes from usr/lib/os-release alone" \
	jq -e '.os.pretty_name == "Right" and .os.version_id == "12" and .os.source == "usr/lib/os-release"' "$TMPD/out"

# Device-mapper slaves that lead back to their own device, six times over: a walk that
# followed them all would take 6^8 steps.
new_machine wide-loop
w=$TMPD/wide-loop
mkdir -p "$w/sys/devices/virtual/block/dm-0/dm" "$w/sys/devices/virtual/block/dm-0/slaves" "$w/sys/dev/block"
echo LVM-loop >"$w/sys/devices/virtual/block/dm-0/dm/uuid"
for i in 1 2 3 4 5 6; do ln -s ../../dm-0 "$w/sys/devices/virtual/block/dm-0/slaves/s$i"; done
ln -s ../../devices/virtual/block/dm-0 "$w/sys/dev/block/253:0"
echo "29 1 253:0 / / rw - ext4 /dev/mapper/vg-root rw" >"$w/proc/self/mountinfo"
if timeout 60 ${TEST_WRAPPER:-} "$GPUPROV" --root "$w" detect --json >"$TMPD/out" 2>/dev/null; then
	ok "wide-loop: detect ends"
else
	not_ok "wide-loop: detect did not end in 60 s"
fi
check "wide-loop: the layer is still named" jq -e '.storage.root.stack == ["lvm"]' "$TMPD/out"

# The fabric manager's version comes from its own package, not a -dev sibling listed first.
new_machine fm-dev
f=$TMPD/fm-dev
mkdir -p "$f/usr/bin" "$f/var/lib/dpkg"
: >"$f/usr/bin/nv-fabricmanager"
printf 'ID=ubuntu\nVERSION_ID="22.04"\n' >"$f/etc/os-release"
printf 'Package: nvidia-fabricmanager-dev-550\nStatus: install ok installed\nVersion: 9.9.9-1\n\nPackage: nvidia-fabricmanager-550\nStatus: install ok installed\nVersion: 1:550.54.15-1\n' \
	>"$f/var/lib/dpkg/status"
gpuprov --root "$f" detect --json 2>/dev/null >"$TMPD/out"
check "fm-dev: fabric manager version from nvidia-fabricmanager-550, epoch dropped" \
	jq -e '.nvidia.fabricmanager.version == "550.54.15"' "$TMPD/out"

# --root /target in an installer: proc is the installer's, whose mountinfo names the
# target's mounts by their place in the installer (/target, /target/boot).
new_machine target
t=$(realpath "$TMPD/target")
{
	echo "21 1 8:1 / / rw - ext4 /dev/sda1 rw"
	echo "40 21 259:2 / $t rw - xfs /dev/nvme0n1p2 rw"
	echo "41 40 259:1 / $t/boot rw - ext4 /dev/nvme0n1p1 rw"
} >"$t/proc/self/mountinfo"
gpuprov --root "$t" detect --json 2>/dev/null >"$TMPD/out"
check "target: / is the target's, named as the node sees it" \
	jq -e '.storage.root.mountpoint == "/" and .storage.root.source == "/dev/nvme0n1p2"' "$TMPD/out"
check "target: /boot is the target's" \
	jq -e '.storage.boot.mountpoint == "/boot" and .storage.boot.source == "/dev/nvme0n1p1"' "$TMPD/out"

# A machine whose facts are all there but whose boot device is a directory, not a disk.
new_machine odd-boot
o=$TMPD/odd-boot
echo "29 1 259:2 / / rw - ext4 /dev/nvme0n1p2 rw" >"$o/proc/self/mountinfo"
mkdir -p "$o/dev/nvme0n1p2" "$o/boot/grub"
printf '# GRUB Environment Block\nsaved_entry=x\n' >"$o/boot/grub/grubenv"
survives odd-boot

done_testing
