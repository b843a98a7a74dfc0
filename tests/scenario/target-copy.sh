#!/bin/sh
# The fresh copies of a kept apt target (lib-apt-target.sh's target_keep and target_fresh),
# which apply-journal.sh starts each of its runs from: a copy starts as the kept tree, what a
# run changes stays in its copy, the kept tree never changes and the next copy has none of
# it, overlay and cp alike; and a test that ends, fails or is ended by a signal with a copy
# mounted leaves no mount behind. A small tree stands in for the chroot.
. "${srcdir}/tests/scenario/lib.sh"
. "${srcdir}/tests/scenario/lib-apt-target.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (mount)"
command -v findmnt >/dev/null 2>&1 || skip_all "findmnt not found"

# A file with its mode, a link, a fifo and an empty directory, as a chroot has them.
mkdir -p "$CH/etc/empty.d" "$CH/run"
echo 'NCCL_DEBUG=WARN' >"$CH/etc/nccl.conf"
chmod 640 "$CH/etc/nccl.conf"
ln -s nccl.conf "$CH/etc/link"
mkfifo "$CH/run/fifo"
target_keep

# snapshot DIR: every path with its type, mode and link target, and every file's content.
snapshot() {
	(
		cd "$1" || exit 1
		find . -printf '%p %y %m %l\n' | LC_ALL=C sort
		find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2
	)
}
snapshot "$PRISTINE" >"$TMPD/kept"

# same_as_kept DIR: DIR is what was kept, shown where it is not.
same_as_kept() {
	snapshot "$1" >"$TMPD/now"
	diff "$TMPD/kept" "$TMPD/now" >&2
}

# A run's changes: a file edited, one removed, a mode changed, a directory made and one
# removed.
change_copy() {
	echo 'NCCL_IB_HCA=mlx5_0' >>"$CH/etc/nccl.conf"
	rm "$CH/etc/link"
	chmod 600 "$CH/etc/nccl.conf"
	mkdir "$CH/etc/new.d" && : >"$CH/etc/new.d/file"
	rmdir "$CH/etc/empty.d"
}

# Where the kernel lets this test mount an overlay, the copies are overlays.
mkdir -p "$TMPD/probe/l" "$TMPD/probe/u" "$TMPD/probe/w" "$TMPD/probe/m"
if mount -t overlay probe -o "lowerdir=$TMPD/probe/l,upperdir=$TMPD/probe/u,workdir=$TMPD/probe/w" \
	"$TMPD/probe/m" 2>/dev/null; then
	umount "$TMPD/probe/m"
	target_fresh
	check "a copy is an overlay where the kernel allows one" \
		sh -c "[ \"\$(findmnt -n -o FSTYPE '$CH')\" = overlay ]"
else
	ok "a copy is an overlay where the kernel allows one # SKIP overlayfs cannot be mounted here"
fi

for way in overlay cp; do
	target_copy=$way
	target_fresh
	check "$way: a fresh copy is the kept tree" same_as_kept "$CH"
	change_copy
	check "$way: a run's changes stay in its copy" grep -qx 'NCCL_IB_HCA=mlx5_0' "$CH/etc/nccl.conf"
	check "$way: the kept tree is as it was" same_as_kept "$PRISTINE"
	target_fresh
	check "$way: the next copy has none of the last run's changes" same_as_kept "$CH"
done

# child END: a test of its own (its folder below ours) that mounts a copy and then ends:
# "exit 0", "exit 1" (a failed check) or "kill -TERM \$\$" (a signal, as make's timeout or a
# ^C sends). Prints the child's folder.
child() {
	mkdir -p "$TMPD/child"
	TMPDIR=$TMPD/child sh -c '
		. "$srcdir/tests/scenario/lib.sh"
		. "$srcdir/tests/scenario/lib-apt-target.sh"
		echo "$TMPD" >"$TMPDIR/dir"
		mkdir -p "$CH/etc" && target_keep && target_fresh
		: >"$CH/etc/written"
		'"$1" >"$TMPD/child.out" 2>&1
	cat "$TMPD/child/dir"
}

for end in "exit 0" "exit 1" "kill -TERM \$\$"; do
	dir=$(child "$end")
	check "a test that ends with '$end' with a copy mounted leaves no mount" \
		sh -c "[ -n '$dir' ] && ! findmnt -rn -o TARGET | grep -q '^$dir'"
	check "a test that ends with '$end' removes its folder" test ! -e "$dir"
	rm -rf "$TMPD/child"
done

done_testing
