#!/bin/sh
# Offline bundles for dnf: made on a connected Rocky 9 installroot from the test
# repository, installed into a fresh one that has no repository at all.
. "${srcdir}/tests/scenario/lib.sh"

. "${srcdir}/tests/scenario/lib-dnf-target.sh"

command -v dnf >/dev/null 2>&1 && dnf download --help >/dev/null 2>&1 || skip_all "dnf download (dnf-plugins-core) not found"

CONNECTED="$TMPD/connected"
NODE="$TMPD/node"
new_target "$CONNECTED"
new_target "$NODE"
gpuprov bundle keygen "$TMPD/site.key" >/dev/null

rc=0
gp "$CONNECTED" bundle create a100-stable --os rocky-9 --arch x86_64 --key "$TMPD/site.key" -o "$TMPD/a100.bundle" \
	>"$TMPD/create.out" 2>"$TMPD/create.err" || rc=$?
check "bundle create on a dnf root succeeds" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/create.err"
tar -tf "$TMPD/a100.bundle" >"$TMPD/members"
check "the bundle holds the repository metadata" grep -qx "repodata/repomd.xml" "$TMPD/members"
gp "$CONNECTED" plan a100-stable --json >"$TMPD/plan.json"
jq -r '.stack.packages[] | select(.version != null) | "\(.name) \(.version)"' "$TMPD/plan.json" >"$TMPD/picks"
check "the plan picked the stack" test -s "$TMPD/picks"
while read -r name version; do
	check "the bundle holds $name-$version" grep -q "^$name-$version\.[a-z0-9_]*\.rpm\$" "$TMPD/members"
done <"$TMPD/picks"

# The node: no repository but the bundle's.
rm -f "$NODE/etc/yum.repos.d/gpuprov-test.repo"
mkdir -p "$NODE/etc/gpuprov/keys.d"
cp "$TMPD/site.key.pub" "$NODE/etc/gpuprov/keys.d/site.pub"
rc=0
gp "$NODE" apply a100-stable --yes --json --bundle "$TMPD/a100.bundle" >"$TMPD/apply.json" 2>"$TMPD/apply.err" || rc=$?
check "apply --bundle from a file installs on the node without a repository" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/apply.err"
while read -r name version; do
	check "$name-$version is installed from the bundle" has "$NODE" "$name-$version"
done <"$TMPD/picks"
check "the bundle is the node's repository" grep -q "^baseurl=file://.*/var/lib/gpuprov/bundles/a100-stable-rocky-9-x86_64\$" \
	"$NODE/etc/yum.repos.d/gpuprov-bundle.repo"
rc=0
gp "$NODE" apply h100-nvlink --yes --bundle "$TMPD/a100.bundle" >/dev/null 2>"$TMPD/other.err" || rc=$?
check "a bundle made for another profile: refused (3)" test "$rc" -eq 3
check "the refusal says which profile it was made for" grep -q "made for profile a100-stable, not h100-nvlink" "$TMPD/other.err"
check "the refusal left the unpacked bundle the node installs from alone" \
	test -f "$NODE/var/lib/gpuprov/bundles/a100-stable-rocky-9-x86_64/repodata/repomd.xml"

# dnf download --destdir and createrepo_c run on the host: the directory they are given is
# resolved inside the root first. var/cache/gpuprov here is a link to a directory that
# both the root and the host have (the host's a decoy); the bundle is gathered in the
# root's.
DECOY=$(realpath "$TMPD")/host-cache
mkdir -p "$DECOY" "$CONNECTED$DECOY"
rm -rf "$CONNECTED/var/cache/gpuprov"
ln -s "$DECOY" "$CONNECTED/var/cache/gpuprov"
rc=0
gp "$CONNECTED" bundle create a100-stable --os rocky-9 --arch x86_64 --key "$TMPD/site.key" -o "$TMPD/linked.bundle" \
	>/dev/null 2>"$TMPD/linked.err" || rc=$?
check "bundle create with var/cache/gpuprov a link out of the root succeeds" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/linked.err"
check "the host directory the link names stays empty" test -z "$(ls -A "$DECOY")"
check "the bundle holds the packages and their index" \
	sh -c "tar -tf '$TMPD/linked.bundle' | grep -qx 'repodata/repomd.xml' && tar -tf '$TMPD/linked.bundle' | grep -q '^nvidia-driver-.*\.rpm\$'"

done_testing
