#!/bin/sh
# Paths that gpuprov hands to tools running on the host are resolved inside the root
# first: createrepo_c (bundle create on dnf) and the baseurl dnf reads for apply --bundle.
# Each case plants, in the root, an absolute link that names a decoy "host" directory in
# the test's temporary directory; the tool must be led to the root's own copy of that path,
# and the decoy must stay empty. (dnf download --destdir takes the same resolved path;
# bundle-dnf.sh runs it where the test repository's packages can be built.)
. "$srcdir/tests/scenario/lib.sh"

command -v createrepo_c >/dev/null 2>&1 || { echo "1..0 # SKIP createrepo_c not found"; exit 0; }
PKGOP="${TEST_WRAPPER:-} $top_builddir/tests/helpers/pkg-op"
HOST=$(realpath "$TMPD")/host
R=$(realpath "$TMPD")/root

# empty DIR: DIR holds nothing.
empty() {
	[ -z "$(ls -A "$1")" ]
}
# inside PATH: PATH, every link in it followed on the host, is in the root.
inside() {
	case "$(realpath "$1")" in "$R"/*) return 0 ;; esac
	echo "$1 is $(realpath "$1") on the host, outside $R" >&2
	return 1
}

# --- bundle create's index: var/cache/gpuprov a link to the host's directory ---
mkdir -p "$HOST/cache/bundle-1" "$R/var/cache" "$R$HOST/cache/bundle-1"
ln -s "$HOST/cache" "$R/var/cache/gpuprov"
rc=0
$PKGOP "$R" dnf index var/cache/gpuprov/bundle-1 >"$TMPD/index.out" 2>"$TMPD/index.err" || rc=$?
check "createrepo_c through a link to a host directory: done (exit 0)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/index.err"
check "the host directory the link names stays empty" empty "$HOST/cache/bundle-1"
check "the index is where the link leads inside the root" test -f "$R$HOST/cache/bundle-1/repodata/repomd.xml"
check "the bundle's file list has the index" grep -qx "repodata/repomd.xml" "$TMPD/index.out"

# --- apply --bundle's repository file: var/lib/gpuprov/bundles a link to the host's ---
mkdir -p "$HOST/bundles/b1/repodata" "$R/var/lib/gpuprov" "$R$HOST/bundles/b1/repodata"
ln -s "$HOST/bundles" "$R/var/lib/gpuprov/bundles"
rc=0
$PKGOP "$R" dnf bundle-use b1 >/dev/null 2>"$TMPD/use.err" || rc=$?
check "the repository file of a bundle through a link: written (exit 0)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/use.err"
sed -n 's|^baseurl=file://||p' "$R/etc/yum.repos.d/gpuprov-bundle.repo" >"$TMPD/baseurl"
check "it has a file:// baseurl" test -s "$TMPD/baseurl"
check "the baseurl, read on the host, is the bundle inside the root" inside "$(cat "$TMPD/baseurl")"
check "the baseurl names the bundle the root holds" test "$(realpath "$(cat "$TMPD/baseurl")")" = "$R$HOST/bundles/b1"

done_testing
