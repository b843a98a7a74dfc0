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

# target_publish_ctk VERSION...: the target's repository offers stand-ins of the NVIDIA
# Container Toolkit's four packages at each VERSION (tests/pkg/ctk-packages), and apt knows.
target_publish_ctk() {
	"$srcdir/tests/pkg/ctk-packages" deb amd64 "$@" >"$TMPD/ctk.Packages"
	"$srcdir/tests/pkg/make-deb-repo" --base-status "$CH/var/lib/dpkg/status" "$CH$REPO" "$TMPD/ctk.Packages" \
		>"$TMPD/publish.log" 2>&1 || { cat "$TMPD/publish.log" >&2; exit 1; }
	in_target apt-get update -q >/dev/null
}

# grubenv: the target's GRUB environment block, as grub-editenv lists it.
grubenv() {
	grub-editenv "$CH/boot/grub/grubenv" list
}

# h100_stack: the packages h100-nvlink must install on the DGX H100, "name version" a line,
# from what the machine's apt lists offer (tests/pkg/make-deb-repo publishes every stanza at
# its version) and the profile's rules:
# - kernel 6.5 to 6.8, HWE allowed: the lists have 5.15.0-105, 5.15.0-125 and HWE 6.8.0-49
#   (6.8.0-49.49~22.04.1), the only one in range;
# - CUDA: the newest toolkit offered, 13.0 (cuda-toolkit-13-0 13.0.2-1), which needs a
#   580 driver (the knowledge's floor, 580.65.06);
# - the driver: branch 580, the open flavour, as Ubuntu builds it for servers (580.95.05-
#   0ubuntu0.22.04.1, the only 580 upload), and Canonical's precompiled open modules for
#   6.8.0-49, versioned as the kernel;
# - the fabric manager at exactly the driver's 580.95.05: Ubuntu's -0ubuntu0.22.04.1 and
#   NVIDIA's -1 are offered, and -1 is the higher.
# - the container toolkit (the profile's container section, latest-for-driver): NVIDIA's
#   toolkit repository offers 1.17.8, 1.18.1 and 1.20.0, none named by a bulletin nor with a
#   driver floor above 580.95.05: the newest, 1.20.0, its four packages in the order they install.
h100_stack() {
	cat <<-EOF
	linux-image-6.8.0-49-generic 6.8.0-49.49~22.04.1
	nvidia-headless-580-server-open 580.95.05-0ubuntu0.22.04.1
	nvidia-utils-580-server 580.95.05-0ubuntu0.22.04.1
	linux-modules-nvidia-580-server-open-6.8.0-49-generic 6.8.0-49.49~22.04.1
	cuda-toolkit-13-0 13.0.2-1
	nvidia-fabricmanager-580 580.95.05-1
	libnvidia-container1 1.20.0-1
	libnvidia-container-tools 1.20.0-1
	nvidia-container-toolkit-base 1.20.0-1
	nvidia-container-toolkit 1.20.0-1
	EOF
}

gp() {
	gpuprov --root "$CH" --sysroot "$MACHINE" --profiles "$srcdir/profiles" "$@"
}

installed() {
	in_target dpkg-query -W -f='${Package}=${Version} ${db:Status-Status}\n' | sort
}

# ---- fresh copies of one prepared target ----------------------------------------------------
# A test that starts many runs from the same node keeps the target once (target_keep) and
# gets a fresh copy of it before each run (target_fresh). The copy is an overlay: the kept
# tree read-only below, the run's changes in a directory of their own above, so that a copy
# costs a mount, not the chroot's 160 MB copied. Where overlayfs cannot be mounted (a
# container without the right to, a kernel without it) each copy is made with
# cp -a --reflink=auto, and the test's log says so once. GPUPROV_TEST_NO_OVERLAY=1 takes
# that way on purpose.
target_copy=overlay
[ "${GPUPROV_TEST_NO_OVERLAY:-0}" != 1 ] || target_copy="cp"
target_mounted=0

# target_keep: the target as it is now is kept as $PRISTINE, the lower tree of every copy;
# nothing may change it afterwards. $CH is gone until target_fresh.
target_keep() {
	PRISTINE=$TMPD/pristine
	mv "$CH" "$PRISTINE"
	at_exit target_unmount
	at_exit target_unmount_copies
	[ "$target_copy" = overlay ] ||
		echo "# fresh copies of the target by cp -a --reflink=auto: GPUPROV_TEST_NO_OVERLAY=1"
}

# target_unmount: the current copy's overlay unmounted, lazily where a process still holds
# it. A copy that stays mounted ends the test: removing it would go through the mount.
target_unmount() {
	[ "$target_mounted" = 1 ] || return 0
	if ! umount "$CH" 2>/dev/null && ! umount -l "$CH"; then
		echo "Bail out! cannot unmount the target copy $CH"
		exit 1
	fi
	target_mounted=0
}

# target_mount DIR OVERLAY: DIR is an overlay of $PRISTINE with an empty upper tree kept in
# OVERLAY; fails, and says why once, where overlayfs cannot be mounted.
target_mount() {
	mkdir -p "$1" "$2/upper" "$2/work"
	if mount -t overlay gpuprov-target -o \
		"lowerdir=$PRISTINE,upperdir=$2/upper,workdir=$2/work" \
		"$1" 2>"$TMPD/overlay.err"; then
		return 0
	fi
	echo "# fresh copies of the target by cp -a --reflink=auto: overlayfs cannot be mounted here ($(head -n 1 "$TMPD/overlay.err"))"
	target_copy="cp"
	rm -rf "$1" "$2"
	return 1
}

# target_fresh: $CH is a fresh copy of $PRISTINE, the previous copy gone.
target_fresh() {
	target_unmount
	rm -rf "$CH" "$TMPD/overlay"
	if [ "$target_copy" = overlay ] && target_mount "$CH" "$TMPD/overlay"; then
		target_mounted=1
		return 0
	fi
	cp -a --reflink=auto "$PRISTINE" "$CH"
}

# target_copy DIR: one more fresh copy of $PRISTINE, at DIR, beside $CH and the others, for a
# test that needs several nodes at once; it stays until the test ends.
target_copies=""
target_copy() {
	if [ "$target_copy" = overlay ] && target_mount "$1" "$1.overlay"; then
		target_copies="$target_copies $1"
		return 0
	fi
	cp -a --reflink=auto "$PRISTINE" "$1"
}

# target_unmount_copies: the copies target_copy mounted, unmounted as target_unmount does.
target_unmount_copies() {
	for c in $target_copies; do
		if ! umount "$c" 2>/dev/null && ! umount -l "$c"; then
			echo "Bail out! cannot unmount the target copy $c"
			exit 1
		fi
	done
	target_copies=""
}
