#!/bin/sh
# Profiles without a driver (driver.source "none"): the kernel and the settings of a node
# without GPUs, chosen, pinned and switched like any other; and kernel.release, exactly one
# kernel. The shipped no-gpu profile's plan on every machine is in plan-machines.sh.
. "$srcdir/tests/scenario/lib.sh"

P="$TMPD/profiles"
mkdir -p "$P"
cp "$srcdir"/profiles/*.json "$P/"
export GPUPROV_TODAY=2026-11-21
nogpu=$srcdir/tests/machines/debian12-nogpu/root
dgx=$srcdir/tests/machines/dgx-h100/root
lvm=$srcdir/tests/machines/hgx-h100-lvm/root

# plan ROOT PROFILE OUT: plan --json, its exit status in $rc.
plan() {
	rc=0
	gpuprov --root "$1" --profiles "$P" plan "$2" --json >"$3" 2>"$TMPD/err" || rc=$?
}

# --- a machine without GPUs ---
plan "$nogpu" base "$TMPD/base.json"
check "no GPU, a profile with a driver: refused (exit 3)" test "$rc" -eq 3
check_json "the refusal points at driver.source none" \
	'.refused and (.reasons[0] | test("no NVIDIA GPU on this machine.*driver.source \"none\""))' "$TMPD/base.json"
plan "$nogpu" no-gpu "$TMPD/nogpu.json"
check "no GPU, no-gpu: planned (exit 0)" test "$rc" -eq 0
check_json "no driver, CUDA, fabric manager or branch in the stack" \
	'.stack.source == "none" and .stack.driver == null and .stack.cuda == null and .stack.fabricmanager == null and .stack.branch == null' "$TMPD/nogpu.json"
check_json "the kernel is the only package, held" \
	'([.stack.packages[].role] == ["kernel"]) and any(.actions[]; .action == "hold" and (.target | startswith("linux-image-")))' "$TMPD/nogpu.json"
check_json "no action touches NVIDIA packages or services" \
	'all(.actions[]; (.target | test("nvidia|cuda")) | not)' "$TMPD/nogpu.json"
gpuprov --root "$nogpu" --profiles "$P" plan no-gpu >"$TMPD/nogpu.txt" 2>&1
check "the plan says there is no driver" grep -q '^Stack       kernel 6.1.0-18-amd64, no NVIDIA driver (driver.source none)' "$TMPD/nogpu.txt"

# --- GPUs there, no driver asked for: planned, with a warning ---
plan "$dgx" no-gpu "$TMPD/dgx.json"
check "GPUs and driver.source none: planned" test "$rc" -eq 0
check_json "with a warning that the GPUs get no driver" \
	'any(.warnings[]; test("^8 NVIDIA GPUs are on this machine, and the profile installs no driver"))' "$TMPD/dgx.json"

# --- kernel.release: exactly that kernel, a switch where the machine allows one ---
printf '{ "name": "exact", "include": ["no-gpu"], "kernel": { "release": "5.15.0-94-generic" } }\n' >"$P/exact.json"
plan "$lvm" exact "$TMPD/exact.json"
check "kernel.release offered: planned" test "$rc" -eq 0
check_json "the stack's kernel is that release, a switch" \
	'.stack.kernel == "5.15.0-94-generic" and .stack.kernel_change and .reboot_required' "$TMPD/exact.json"
check_json "newer kernels offered are passed over" \
	'any(.reasons[]; . == "kernel 5.15.0-94-generic: the newest offered in the profile'"'"'s range")' "$TMPD/exact.json"
printf '{ "name": "exact", "include": ["h100-nvlink"], "kernel": { "release": "9.9.9-1-generic" } }\n' >"$P/exact.json"
plan "$dgx" exact "$TMPD/gone.json"
check "kernel.release neither installed nor offered: refused (exit 3)" test "$rc" -eq 3
check_json "and the refusal says so" \
	'any(.reasons[]; . == "kernel 9.9.9-1-generic (kernel.release in the profile) is neither installed nor offered in this machine'"'"'s repositories")' "$TMPD/gone.json"
# A layer with kernel.release drops an included series (and the other way round).
printf '{ "name": "ser", "include": ["h100-nvlink"], "kernel": { "series": "5.15" } }\n' >"$P/ser.json"
printf '{ "name": "rel", "include": ["ser"], "kernel": { "release": "5.15.0-105-generic" } }\n' >"$P/rel.json"
gpuprov --root "$dgx" --profiles "$P" show rel >"$TMPD/rel.json" 2>"$TMPD/err"
check_json "kernel.release replaces an included kernel.series" \
	'.settings.kernel.release == "5.15.0-105-generic" and (.settings.kernel | has("series") | not)' "$TMPD/rel.json"

# --- Debian 12's newer series: linux-6.12 from bookworm-security, a kernel.hwe opt-in ---
# The machine's tree with bookworm-security's list beside bookworm's, offering the 6.12
# kernel as Debian's index names it.
sec=$TMPD/debian12-security
cp -a "$nogpu" "$sec"
cat >"$sec/var/lib/apt/lists/security.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages" <<'LIST'
Package: linux-image-6.12.118+deb12-amd64
Source: linux-signed-6.12-amd64 (6.12.118+1~deb12u1)
Version: 6.12.118-1~deb12u1
Architecture: amd64
Maintainer: Debian Kernel Team <debian-kernel@lists.debian.org>
Installed-Size: 415000
Depends: kmod, initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool
Pre-Depends: linux-base (>= 4.12~)
Section: kernel
Priority: optional
Filename: pool/updates/main/l/linux-signed-6.12-amd64/linux-image-6.12.118+deb12-amd64_6.12.118-1~deb12u1_amd64.deb
Size: 70000000
SHA256: 0000000000000000000000000000000000000000000000000000000000000000
Description: Linux 6.12 for 64-bit PCs (signed)
LIST
printf '{ "name": "deb612", "include": ["no-gpu"], "kernel": { "release": "6.12.118+deb12-amd64" } }\n' >"$P/deb612.json"
plan "$sec" deb612 "$TMPD/deb612.json"
check "Debian 12, kernel 6.12 without kernel.hwe: refused (exit 3)" test "$rc" -eq 3
check_json "as Debian 12's newer (HWE) series, not as a series it does not ship" \
	'any(.reasons[]; test("^kernel 6.12.118\\+deb12-amd64: series 6.12 is debian-12.s HWE series and kernel.hwe is false"))' "$TMPD/deb612.json"
printf '{ "name": "deb612", "include": ["no-gpu"], "kernel": { "release": "6.12.118+deb12-amd64", "hwe": true } }\n' >"$P/deb612.json"
plan "$sec" deb612 "$TMPD/deb612.json"
# This machine's /boot is on LVM without an ESP: no kernel switch at all here, so the series
# passes and the refusal left is the boot layout's.
check_json "with kernel.hwe the series passes; what refuses 6.12 is this machine's boot layout" \
	'(any(.reasons[]; test("series 6.12")) | not) and any(.reasons[]; test("^kernel 6.12.118\\+deb12-amd64: a switch needs a boot-once entry"))' "$TMPD/deb612.json"
printf '{ "name": "deb613", "include": ["no-gpu"], "kernel": { "series": "6.13", "hwe": true } }\n' >"$P/deb613.json"
plan "$sec" deb613 "$TMPD/deb613.json"
check "a series Debian 12 does not ship stays refused" test "$rc" -eq 3

done_testing
