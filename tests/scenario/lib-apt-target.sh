# Shared by the tests that apply to an apt target: a Debian chroot made with debootstrap,
# dressed as the DGX H100's Ubuntu 22.04 (its os-release), with a local repository of
# generated packages carrying the names and versions of that machine's apt lists. The
# hardware (/proc, /sys) comes from the fake machine through --sysroot. Sourced after
# lib.sh; sets MACHINE (unless a test set it to another Ubuntu fake machine's root), LISTS,
# CH, REPO.

MACHINE=${MACHINE:-"$srcdir/tests/machines/dgx-h100/root"}
LISTS="$MACHINE/var/lib/apt/lists"
CH="$TMPD/target"
REPO=/srv/gpuprov-repo
PATH=$PATH:/usr/sbin:/sbin

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

in_target() {
	chroot "$CH" env DEBIAN_FRONTEND=noninteractive LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

# apt_target PACKAGE...: the chroot, the repository, and the node before gpuprov with
# these packages installed (tests/pkg/apt-target). Skips the whole test where a chroot
# cannot be made.
apt_target() {
	rc=0
	[ "$(id -u)" -eq 0 ] || skip_all "needs root (chroot, dpkg)"
	"$srcdir/tests/pkg/apt-target" "$CH" "$MACHINE" "$@" 2>"$TMPD/target.err" || rc=$?
	[ "$rc" -eq 77 ] && skip_all "$(tail -n 1 "$TMPD/target.err")"
	[ "$rc" -eq 0 ] || { cat "$TMPD/target.err" >&2; exit 1; }
	# The machine's GRUB, so that the kernel switch is made on a real environment block.
	cp -a "$MACHINE/boot/grub" "$CH/boot/"
}

# grubenv: the target's GRUB environment block, as grub-editenv lists it.
grubenv() {
	grub-editenv "$CH/boot/grub/grubenv" list
}

gp() {
	gpuprov --root "$CH" --sysroot "$MACHINE" --profiles "$srcdir/profiles" "$@"
}

installed() {
	in_target dpkg-query -W -f='${Package}=${Version} ${db:Status-Status}\n' | sort
}
