#!/bin/sh
# gpuprov under --root writes inside the root only, whatever links the tree holds: each case
# plants a link to a decoy "host" file in the test's temporary directory, runs gpuprov, and
# checks the decoy byte for byte.
. "$srcdir/tests/scenario/lib.sh"

command -v grub-editenv >/dev/null 2>&1 || { echo "1..0 # SKIP grub-editenv not found (package grub-common)"; exit 0; }
HOST="$TMPD/host"
mkdir -p "$HOST"

# machine NAME PREVIOUS: a copy of a fake machine at $R whose last apply switched away from
# the kernel PREVIOUS, so that rollback has a saved default to write.
machine() {
	R="$TMPD/$1"
	rm -rf "$R"
	cp -a "$srcdir/tests/machines/$1/root" "$R"
	mkdir -p "$R/var/lib/gpuprov"
	printf '{ "profile": "base", "kernel": "x", "previous_kernel": "%s", "driver": "x" }\n' "$2" \
		>"$R/var/lib/gpuprov/state.json"
}

# roll: rollback on $R, its exit code in rc, what it said in $TMPD/out.
roll() {
	rc=0
	gpuprov --root "$R" rollback >"$TMPD/out" 2>&1 || rc=$?
}

# decoy NAME: a GRUB environment block on the "host", the file a link in the root names (a
# host grub-editenv would write it gladly); its copy kept to compare.
decoy() {
	rm -f "$HOST/$1"
	grub-editenv "$HOST/$1" create
	grub-editenv "$HOST/$1" set host_only=1
	cp "$HOST/$1" "$HOST/$1.orig"
}

# --- GRUB's own block an absolute link out of the root (Debian, then RHEL's grub2) ---
for m in "dgx-h100 5.15.0-94-generic boot/grub/grubenv" \
	"hgx-a100-rocky9 5.14.0-284.11.1.el9_2.x86_64 boot/grub2/grubenv"; do
	set -- $m
	machine "$1" "$2"
	decoy "$1.grubenv"
	rm -f "$R/$3"
	ln -s "$HOST/$1.grubenv" "$R/$3"
	roll
	check "$1: rollback with /$3 a link out of the root exits 0" test "$rc" -eq 0
	check "$1: the host file the link names is untouched" cmp "$HOST/$1.grubenv.orig" "$HOST/$1.grubenv"
	check "$1: the saved default is in a block inside the root, where the link was" \
		sh -c "test -f '$R/$3' && ! test -L '$R/$3' && grub-editenv '$R/$3' list | grep -q '^saved_entry=.*$2'"
done

# --- a link to a file of the root that is no environment block: refused, left alone ---
machine dgx-h100 5.15.0-94-generic
rm -f "$R/boot/grub/grubenv"
printf 'dgx-h100\n' >"$R/etc/hostname"
ln -s /etc/hostname "$R/boot/grub/grubenv"
roll
check "a block linked to /etc/hostname: rollback fails (exit $rc)" test "$rc" -ne 0
check "it says the file is no GRUB environment block" grep -q "not a GRUB environment block" "$TMPD/out"
check "and /etc/hostname is as it was" sh -c "test \"\$(cat '$R/etc/hostname')\" = dgx-h100"

# --- gpuprov's block on the ESP a link out of the root: verify --commit cancels nothing there ---
machine hgx-h100-lvm 5.15.0-94-generic
decoy esp.grubenv
mkdir -p "$R/boot/efi/EFI/gpuprov"
ln -s "$HOST/esp.grubenv" "$R/boot/efi/EFI/gpuprov/grubenv"
roll
check "hgx-h100-lvm: rollback with gpuprov's ESP block a link out of the root exits 0" test "$rc" -eq 0
check "hgx-h100-lvm: the host file the link names is untouched" cmp "$HOST/esp.grubenv.orig" "$HOST/esp.grubenv"

# --- a FIFO where a file is read: refused at once, naming it, never waited on ---
machine dgx-h100 5.15.0-94-generic
mkdir -p "$R/etc/modprobe.d"
mkfifo "$R/etc/modprobe.d/gpuprov.conf"
rc=0
timeout 60 ${TEST_WRAPPER:-} "$GPUPROV" --profiles "$srcdir/profiles" --root "$R" plan h100-nvlink >"$TMPD/out" 2>&1 || rc=$?
check "a FIFO at a managed file: plan does not hang (exit $rc)" test "$rc" -ne 124
check "it fails, naming the file and what it is" \
	sh -c "test $rc -ne 0 && grep -q 'etc/modprobe.d/gpuprov.conf.*not a regular file' '$TMPD/out'"
rm -f "$R/etc/modprobe.d/gpuprov.conf"
for l in "$R"/var/lib/apt/lists/*_Packages; do
	[ -f "$l" ] || continue
	rm -f "$l" && mkfifo "$l"
	break
done
rc=0
timeout 60 ${TEST_WRAPPER:-} "$GPUPROV" --profiles "$srcdir/profiles" --root "$R" plan h100-nvlink >"$TMPD/out" 2>&1 || rc=$?
check "a FIFO among apt's lists: plan does not hang (exit $rc)" test "$rc" -ne 124 -a -p "$l"
check "it says which list is no regular file" grep -q "$(basename "$l").*not a regular file" "$TMPD/out"

done_testing
