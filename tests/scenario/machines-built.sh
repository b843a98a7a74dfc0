#!/bin/sh
# The fake machines in the tree are what tests/machines/build-machines.py makes: it builds
# every machine into a scratch folder, and each committed root (files, symlinks and their
# targets, the executable bit) and README must be the same, with no machine folder it does
# not make. A tree edited by hand, or a builder changed without rebuilding, fails here.
. "$srcdir/tests/scenario/lib.sh"

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}
command -v python3 >/dev/null 2>&1 || skip_all "python3 not found"
# The builder's own tools (build-machines.py, its opening comment), looked for as it does.
for t in depmod mkfs.ext4 mkfs.vfat mkfs.xfs blkid; do
	command -v "$t" >/dev/null 2>&1 || [ -x "/sbin/$t" ] || [ -x "/usr/sbin/$t" ] ||
		skip_all "$t not found (scripts/install-deps)"
done

machines="$srcdir/tests/machines"
built="$TMPD/machines"
mkdir -p "$built"
# The builder writes beside itself: a copy of it builds into the scratch folder, with the
# toolkit's package lister where the builder looks for it (../pkg).
cp "$machines/build-machines.py" "$built/"
mkdir -p "$TMPD/pkg"
cp "$srcdir/tests/pkg/ctk-packages" "$TMPD/pkg/"
check "build-machines.py builds every machine" python3 "$built/build-machines.py"

# listing DIR: every path under DIR with its type and, for files, whether it is executable;
# diff -r compares contents and link targets, not these.
listing() {
	(cd "$1" && find . \( -type f -perm -u+x -printf '%P x\n' \) -o -printf '%P %y\n' | LC_ALL=C sort)
}

(cd "$built" && ls -d */ | tr -d /) >"$TMPD/built"
(cd "$machines" && ls -d */ | tr -d /) >"$TMPD/committed"
check "tests/machines holds the machines the builder makes, and no other" \
	diff -u "$TMPD/built" "$TMPD/committed"
compared=0
while read -r m; do
	[ -d "$machines/$m/root" ] || continue
	compared=$((compared + 1))
	if diff -r --no-dereference "$built/$m/root" "$machines/$m/root" >"$TMPD/diff" 2>&1 &&
		diff -u "$built/$m/README.md" "$machines/$m/README.md" >>"$TMPD/diff" 2>&1; then
		ok "$m: the committed tree is the one build-machines.py makes"
	else
		not_ok "$m: the committed tree differs from the one build-machines.py makes"
		head -n 50 "$TMPD/diff" | sed 's/^/# /'
	fi
	listing "$built/$m/root" >"$TMPD/want"
	listing "$machines/$m/root" >"$TMPD/got"
	check "$m: the same paths, types and executable bits" diff -u "$TMPD/want" "$TMPD/got"
done <"$TMPD/built"
check_ran "committed machine trees compared with the built ones" "$compared"

done_testing
