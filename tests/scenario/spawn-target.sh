#!/bin/sh
# What a command gpuprov runs in a target sees, and what becomes of it when gpuprov dies,
# in the debootstrap chroot (tests/pkg/debian-chroot: /proc and /sys unmounted, as an
# installer's /target is). tests/helpers/spawn-in runs each command the way gpuprov runs apt
# and dpkg there. A maintainer script of a package made here proves it saw the host's /proc,
# /sys and /dev; the host's mount table is the same after; a "proc" that is a link in the
# target is not followed; a target without "sys" gets none made; and the command gpuprov
# started is gone once gpuprov is killed with SIGKILL.
. "${srcdir}/tests/scenario/lib.sh"

SPAWN="${TEST_WRAPPER:-} $top_builddir/tests/helpers/spawn-in"
CH="$TMPD/target"
PATH=$PATH:/usr/sbin:/sbin

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

[ "$(id -u)" -eq 0 ] || skip_all "needs root (chroot, mount namespaces)"
for t in dpkg-deb findmnt nsenter; do
	command -v "$t" >/dev/null 2>&1 || skip_all "$t not found"
done
rc=0
"$srcdir/tests/pkg/debian-chroot" "$CH" 2>"$TMPD/chroot.err" || rc=$?
[ "$rc" -eq 77 ] && skip_all "$(tail -n 1 "$TMPD/chroot.err")"
[ "$rc" -eq 0 ] || { cat "$TMPD/chroot.err" >&2; exit 1; }

# The target's parent made a shared mount, as "/" is on a systemd host: a mount made for a
# command that is not kept in a namespace of its own would show up on the host here. Gone
# again at the end; nothing is removed while anything is still mounted below.
mount --bind "$TMPD" "$TMPD" && mount --make-shared "$TMPD" || { echo "cannot bind-mount $TMPD" >&2; exit 1; }
trap 'umount -R -l "$TMPD"; if findmnt -rn -o TARGET | grep -q "^$TMPD"; then
	echo "# mounts left below $TMPD: not removed" >&2; else rm -rf --one-file-system "$TMPD"; fi' EXIT

# mounts_below: the mount points the host has under the test's folder.
mounts_below() {
	findmnt -rn -o TARGET | grep "^$TMPD" | LC_ALL=C sort
}
mounts_below >"$TMPD/mounts.before"

# is_gone PID: true once PID is no process (or a zombie not yet reaped), waiting up to 10 s.
is_gone() {
	for _ in $(seq 50); do
		if [ ! -e "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# slow NAME: runs a command in the target that writes its pid to /run/NAME.pid and sleeps,
# through spawn-in in the background (its pid in HELPER); sets PID once the command runs.
slow() {
	rm -f "$CH/run/$1.pid"
	$SPAWN "$CH" sh -c "echo \$\$ >/run/$1.pid; exec sleep 300" >"$TMPD/$1.out" 2>"$TMPD/$1.err" &
	HELPER=$!
	PID=""
	for _ in $(seq 100); do
		[ -s "$CH/run/$1.pid" ] && PID=$(cat "$CH/run/$1.pid") && break
		sleep 0.1
	done
	[ -n "$PID" ] || { cat "$TMPD/$1.err" >&2; echo "the command in the target never ran" >&2; exit 1; }
}

# --- a maintainer script sees /proc, /sys and /dev ---
# The chroot's own /dev/null taken away: the host's /dev is what the script gets.
rm "$CH/dev/null"
pkg="$TMPD/probe"
mkdir -p "$pkg/DEBIAN"
cat >"$pkg/DEBIAN/control" <<EOF
Package: gpuprov-probe
Version: 1.0
Architecture: all
Maintainer: gpuprov tests <root@localhost>
Description: records what its postinst sees of /proc, /sys and /dev
EOF
# What a kernel's or DKMS's postinst reads: the mount table, the kernel's sysfs, /dev/null.
cat >"$pkg/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
out=/var/lib/gpuprov-probe
mkdir -p "$out"
cat /proc/self/mounts >"$out/mounts" 2>"$out/mounts.err" || :
ls /sys/kernel >"$out/sys-kernel" 2>"$out/sys-kernel.err" || :
stat -c '%F %t:%T' /dev/null >"$out/dev-null" 2>&1 || :
# In braces: a redirection that fails says so on the braces' stderr.
{ echo written >/dev/null; } 2>"$out/dev-null.err" || :
EOF
chmod 755 "$pkg/DEBIAN/postinst"
dpkg-deb --build --root-owner-group "$pkg" "$CH/tmp/gpuprov-probe.deb" >/dev/null
rc=0
$SPAWN "$CH" dpkg -i /tmp/gpuprov-probe.deb >"$TMPD/dpkg.out" 2>"$TMPD/dpkg.err" || rc=$?
if [ "$rc" -eq 0 ]; then ok "dpkg -i in the target exits 0"; else not_ok "dpkg -i exited $rc"; diag_file "$TMPD/dpkg.err"; fi
seen="$CH/var/lib/gpuprov-probe"
check "the postinst read /proc/self/mounts: the host's proc on /proc" grep -q '^proc /proc proc ' "$seen/mounts"
check "and sysfs on /sys" grep -q '^sysfs /sys sysfs ' "$seen/mounts"
check "both read-only" sh -c "grep -E '^(proc|sysfs) /(proc|sys) ' '$seen/mounts' | cut -d' ' -f4 | grep -c '^ro,' | grep -qx 2"
ls /sys/kernel >"$TMPD/sys-kernel"
check "/sys/kernel as the host has it" cmp "$TMPD/sys-kernel" "$seen/sys-kernel"
stat -c '%F %t:%T' /dev/null >"$TMPD/dev-null"
check "/dev/null the host's device" cmp "$TMPD/dev-null" "$seen/dev-null"
check "and written to" test ! -s "$seen/dev-null.err"
check "nothing was made in the target's /dev" test ! -e "$CH/dev/null"
mknod -m 666 "$CH/dev/null" c 1 3
mounts_below >"$TMPD/mounts.after"
check "the host's mount table is the same after" diff -u "$TMPD/mounts.before" "$TMPD/mounts.after"

# --- a link where the target's proc is: not followed, out of the target or anywhere ---
mv "$CH/proc" "$CH/proc.dir"
mkdir "$TMPD/outside"
ln -s "$TMPD/outside" "$CH/proc"
slow link
nsenter -t "$PID" -m findmnt -rn -o TARGET >"$TMPD/ns-mounts" 2>&1
check "the command's namespace has the target's /sys mounted" grep -qx "$CH/sys" "$TMPD/ns-mounts"
check "and nothing on the folder the target's proc links to" sh -c "! grep -q '$TMPD/outside' '$TMPD/ns-mounts'"
check "nor on the link" sh -c "! grep -qx '$CH/proc' '$TMPD/ns-mounts'"
kill "$PID"
wait "$HELPER"
check "spawn says why it did not mount /proc" grep -q "proc: not a directory (a link is not followed)" "$TMPD/link.err"
check "nothing was made in the folder the link names" sh -c "[ -z \"\$(ls -A '$TMPD/outside')\" ]"
rm "$CH/proc"
mv "$CH/proc.dir" "$CH/proc"

# --- a target without sys: none is made ---
rmdir "$CH/sys"
rc=0
$SPAWN "$CH" sh -c 'test ! -e /sys' >"$TMPD/nosys.out" 2>"$TMPD/nosys.err" || rc=$?
check "a target without sys: the command runs, and sees none" test "$rc" -eq 0
check "spawn says why" grep -q "sys: No such file or directory" "$TMPD/nosys.err"
check "no sys was made in the target" test ! -e "$CH/sys"
mkdir "$CH/sys"

# --- gpuprov killed: the command it started is stopped ---
slow kill
kill -9 "$HELPER"
wait "$HELPER" 2>/dev/null
check "gpuprov killed with SIGKILL: the command in the target is gone" is_gone "$PID"
kill -9 "$PID" 2>/dev/null

mounts_below >"$TMPD/mounts.end"
check "the host's mount table is the same at the end" diff -u "$TMPD/mounts.before" "$TMPD/mounts.end"

done_testing
