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

done_testing
