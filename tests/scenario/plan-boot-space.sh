#!/bin/sh
# /boot too small for another kernel: the switch is refused with the numbers, before
# anything is installed. A small tmpfs stands for /boot, in a mount namespace of the test.
. "$srcdir/tests/scenario/lib.sh"

[ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null || { echo "1..0 # SKIP needs root and mount namespaces"; exit 0; }
export GPUPROV_TODAY=2026-11-21
M="$TMPD/dgx"
cp -a "$srcdir/tests/machines/dgx-h100/root" "$M"
cp -a "$M/boot" "$TMPD/boot"

# plan_with_boot SIZE: plan h100-nvlink with /boot a tmpfs of SIZE holding the machine's
# /boot, the running kernel's initramfs made 40 MiB (sparse: it takes no memory).
plan_with_boot() {
	unshare -m sh -c 'mount -t tmpfs -o "size=$1" tmpfs "$2/boot" && cp -a "$3/." "$2/boot/" &&
		truncate -s 40M "$2/boot/initrd.img-5.15.0-105-generic" && shift 3 && exec "$@"' sh "$1" "$M" "$TMPD/boot" \
		${TEST_WRAPPER:-} "$GPUPROV" --root "$M" --profiles "$srcdir/profiles" plan h100-nvlink
}

rc=0
plan_with_boot 8m >"$TMPD/small.out" 2>"$TMPD/small.err" || rc=$?
check "a /boot of 8 MiB: the switch to a new kernel is refused (exit 3)" test "$rc" -eq 3
check "the refusal gives the space there is and the space needed" \
	grep -q "kernel 6.8.0-49-generic: /boot has [0-9]* MiB free and a kernel with its initramfs needs about 50 MiB" "$TMPD/small.out"
rc=0
plan_with_boot 256m >"$TMPD/big.out" 2>"$TMPD/big.err" || rc=$?
check "a /boot of 256 MiB: the switch is planned" sh -c "[ $rc -eq 0 ] && grep -q 'kernel 6.8.0-49-generic' '$TMPD/big.out'"

done_testing
