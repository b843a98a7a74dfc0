#!/bin/sh
# gpuprov apply against the real dnf: an installroot laid out as the HGX A100's Rocky 9, a
# createrepo_c repository of RPMs built with rpmbuild from that machine's repository view,
# dnf run with --installroot as an installer would: exact versions, locks, upgrades that
# move nothing of the stack, revert. The hardware comes through --sysroot.
. "${srcdir}/tests/scenario/lib.sh"

. "${srcdir}/tests/scenario/lib-dnf-target.sh"

CH="$TMPD/target"
LOCKS="$CH/etc/dnf/plugins/versionlock.list"
# The site's own agent, which gpuprov has no business with, never locked: the control that
# shows an upgrade does move what it may. agent VERSION is a list of it for make-rpm-repo.
agent() {
	printf '{ "packages": [ { "name": "site-agent", "version": "%s", "arch": "noarch" } ] }\n' "$1"
}
agent 1.0-1 >"$TMPD/agent.json"
"$srcdir/tests/pkg/make-rpm-repo" "$REPO" "$TMPD/agent.json" >"$TMPD/agent.log" 2>&1 ||
	{ cat "$TMPD/agent.log" >&2; exit 1; }
# with_agent DIR: the agent installed on target DIR, as the site would have it.
with_agent() {
	dnf --installroot="$1" --releasever=9 -y -q install site-agent-1.0-1 >"$TMPD/agent.log" 2>&1 ||
		{ cat "$TMPD/agent.log" >&2; exit 1; }
}
new_target "$CH"
with_agent "$CH"
# A lock of the site's own, which gpuprov must leave as it is and revert must find again.
printf '# The site: keep OpenSSH where it was validated.\nopenssh-server-0:8.7p1-38.el9.*\n' >>"$LOCKS"
cp "$LOCKS" "$TMPD/locks.before"

# --- a refusal changes nothing ---
installed "$CH" >"$TMPD/rpm.0"
mkdir -p "$CH/etc/gpuprov/profiles"
cat >"$CH/etc/gpuprov/profiles/needs-missing.json" <<'EOF'
{ "name": "needs-missing", "include": ["a100-stable"], "packages": ["gpuprov-no-such-package"] }
EOF
rc=0
gp "$CH" apply needs-missing --yes >"$TMPD/missing.out" 2>"$TMPD/missing.err" || rc=$?
check "a package the repository lacks: refused with exit 3" test "$rc" -eq 3
check "the refusal names the package" grep -q "gpuprov-no-such-package is not offered" "$TMPD/missing.err"
installed "$CH" >"$TMPD/rpm.1"
check "the refusal installed nothing" cmp -s "$TMPD/rpm.0" "$TMPD/rpm.1"
rm "$CH/etc/gpuprov/profiles/needs-missing.json"

# --- apply installs the exact versions and locks them ---
rc=0
gp "$CH" apply a100-stable --yes --json >"$TMPD/apply.json" 2>"$TMPD/apply.err" || rc=$?
check "apply a100-stable exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/apply.err"
check_json "apply reports a change" '.changed' "$TMPD/apply.json"
gp "$CH" plan a100-stable --json >"$TMPD/plan.json" || true
a100_stack >"$TMPD/picks"
jq -r '.stack.packages[] | "\(.name) \(.version)"' "$TMPD/plan.json" >"$TMPD/plan.picks"
check "the plan picks the stack the repository and the profile call for" cmp -s "$TMPD/picks" "$TMPD/plan.picks"
diff "$TMPD/picks" "$TMPD/plan.picks" | diag_file /dev/stdin
n=0
while read -r name version; do
	check "$name-$version is installed" has "$CH" "$name-$version"
	check "$name-$version is locked" grep -qxF "$name-0:$version.*" "$LOCKS"
	n=$((n + 1))
done <"$TMPD/picks"
check_ran "every package of the stack is checked" "$n"
check "the site's own lock is kept" grep -qxF "openssh-server-0:8.7p1-38.el9.*" "$LOCKS"
check "the running kernel is still installed" has "$CH" kernel-5.14.0-362.8.1.el9_3
check "the driver branch's module stream is enabled" grep -qx "stream=535-dkms" "$CH/etc/dnf/modules.d/nvidia-driver.module"
check "the running kernel is locked too" grep -q "^kernel-0:5.14.0-362.8.1.el9_3" "$LOCKS"

# --- a second apply changes nothing ---
installed "$CH" >"$TMPD/rpm.2"
rc=0
gp "$CH" apply a100-stable --yes --json >"$TMPD/again.json" 2>"$TMPD/again.err" || rc=$?
check "a second apply exits 0" test "$rc" -eq 0
check_json "a second apply reports no change" '.changed == false and (.done | length) == 0' "$TMPD/again.json"
installed "$CH" >"$TMPD/rpm.3"
check "a second apply installed nothing" cmp -s "$TMPD/rpm.2" "$TMPD/rpm.3"
check_json "repo.json is written from what dnf says, the locks with it" \
	'.installed | map(select(.name == "kernel" and .held)) | length == 2' "$CH/var/lib/gpuprov/repo.json"

# --- newer versions published: dnf upgrade moves the site's agent, nothing of the stack ---
cat >"$TMPD/newer.json" <<'EOF'
{ "packages": [
  { "name": "kernel", "version": "5.14.0-570.12.1.el9_6", "arch": "x86_64" },
  { "name": "kernel-core", "version": "5.14.0-570.12.1.el9_6", "arch": "x86_64" },
  { "name": "kernel-modules", "version": "5.14.0-570.12.1.el9_6", "arch": "x86_64" },
  { "name": "kernel-devel", "version": "5.14.0-570.12.1.el9_6", "arch": "x86_64" },
  { "name": "nvidia-driver", "version": "535.247.01-1.el9", "arch": "x86_64" },
  { "name": "kmod-nvidia-latest-dkms", "version": "535.247.01-1.el9", "arch": "x86_64" },
  { "name": "nvidia-persistenced", "version": "535.247.01-1.el9", "arch": "x86_64" },
  { "name": "nvidia-fabric-manager", "version": "535.247.01-1", "arch": "x86_64" }
] }
EOF
agent 1.0-2 >"$TMPD/agent2.json"
streams 535.129.03 535.216.01 535.247.01 >"$TMPD/modules.yaml"
"$srcdir/tests/pkg/make-rpm-repo" --modules "$TMPD/modules.yaml" "$REPO" "$MACHINE/var/lib/gpuprov/repo.json" \
	"$TMPD/newer.json" "$TMPD/agent2.json" >"$TMPD/repo2.log" 2>&1 ||
	{ cat "$TMPD/repo2.log" >&2; exit 1; }
check "the site's agent is at 1.0-1 before the upgrade" grep -qx "site-agent-1.0-1" "$TMPD/rpm.3"
# upgrade_moves_agent DIR BEFORE HOW: dnf upgrade on target DIR, whose packages were BEFORE
# and whose stack HOW holds, exits 0 and moves the agent to 1.0-2 and nothing else.
upgrade_moves_agent() {
	rc=0
	dnf --installroot="$1" --releasever=9 -y -q upgrade >"$TMPD/upgrade.log" 2>&1 || rc=$?
	check "dnf upgrade exits 0 ($3)" test "$rc" -eq 0
	[ "$rc" -eq 0 ] || diag_file "$TMPD/upgrade.log"
	sed 's/^site-agent-1\.0-1$/site-agent-1.0-2/' "$2" >"$TMPD/rpm.expect"
	installed "$1" >"$TMPD/rpm.after"
	check "dnf upgrade moves the site's agent and nothing of the stack ($3)" cmp -s "$TMPD/rpm.expect" "$TMPD/rpm.after"
	diff "$TMPD/rpm.expect" "$TMPD/rpm.after" | diag_file /dev/stdin
}
upgrade_moves_agent "$CH" "$TMPD/rpm.3" versionlock
check "the newer driver is offered" sh -c "dnf --installroot='$CH' --releasever=9 -q repoquery --disableexcludes=all nvidia-driver-535.247.01 | grep -q 535.247.01"

# --- revert: versionlock.list as it was before gpuprov, byte for byte ---
rc=0
gp "$CH" revert >"$TMPD/revert.out" 2>"$TMPD/revert.err" || rc=$?
check "revert exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/revert.err"
check "revert puts versionlock.list back as it was, byte for byte" cmp -s "$TMPD/locks.before" "$LOCKS"
diff "$TMPD/locks.before" "$LOCKS" | diag_file /dev/stdin

# --- without the versionlock plugin: an excludepkgs line does the holding ---
CH2="$TMPD/target2"
new_target "$CH2"
with_agent "$CH2"
rm "$CH2/etc/dnf/plugins/versionlock.conf"
rc=0
gp "$CH2" apply a100-stable --yes >"$TMPD/apply2.out" 2>"$TMPD/apply2.err" || rc=$?
check "apply without versionlock exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/apply2.err"
check "the stack is excluded in dnf.conf" grep -q "^excludepkgs=.*nvidia-driver" "$CH2/etc/dnf/dnf.conf"
installed "$CH2" >"$TMPD/rpm.5"
upgrade_moves_agent "$CH2" "$TMPD/rpm.5" excludepkgs
check "installonly_limit stays at least 2" grep -q "^installonly_limit=[2-9]" "$CH2/etc/dnf/dnf.conf"

# --- a version that vanished from the repository since the view was written ---
CH3="$TMPD/target3"
new_target "$CH3"
mkdir -p "$CH3/var/lib/gpuprov"
cp "$MACHINE/var/lib/gpuprov/repo.json" "$CH3/var/lib/gpuprov/repo.json"
rm "$REPO"/Packages/nvidia-fabric-manager-535.216.01-1.*.rpm
createrepo_c --update --keep-all-metadata "$REPO" >/dev/null 2>&1
# The node's dnf metadata is older than the change, as it would be after a day.
rm -rf "$CH3/var/cache/dnf"
installed "$CH3" >"$TMPD/rpm.7"
rc=0
gp "$CH3" apply a100-stable --yes --no-refresh >"$TMPD/vanished.out" 2>"$TMPD/vanished.err" || rc=$?
check "a vanished version: refused with exit 3" test "$rc" -eq 3
[ "$rc" -eq 3 ] || diag_file "$TMPD/vanished.err"
check "the refusal names the package, the version and the versions there are" \
	grep -q "nvidia-fabric-manager 535.216.01-1 is not offered by the repositories; they have .*535.129.03-1" "$TMPD/vanished.err"
installed "$CH3" >"$TMPD/rpm.8"
check "the refusal installed nothing" cmp -s "$TMPD/rpm.7" "$TMPD/rpm.8"
check "the refusal locked nothing" test ! -s "$CH3/etc/dnf/plugins/versionlock.list"

# --- rollback: v1 (535.129.03, locked) to v2 (535.216.01), then back ---
# A repository of its own, which offers 535.216.01 only from v2 on; the machine's GRUB, so
# that the kernel goes back too (BLS ids: the machine id and the release).
REPO4="$TMPD/repo4"
CH4="$TMPD/target4"
LOCKS="$CH4/etc/dnf/plugins/versionlock.list"
STATE="$CH4/var/lib/gpuprov/state.json"
GOOD="$(cat "$MACHINE/etc/machine-id")-5.14.0-362.8.1.el9_3.x86_64"
jq '.packages |= map(select(.version | startswith("535.216.01") | not))' "$MACHINE/var/lib/gpuprov/repo.json" \
	>"$TMPD/v1.json"
streams 535.129.03 >"$TMPD/modules4.yaml"
"$srcdir/tests/pkg/make-rpm-repo" --modules "$TMPD/modules4.yaml" "$REPO4" "$TMPD/v1.json" >"$TMPD/repo4.log" 2>&1 ||
	{ cat "$TMPD/repo4.log" >&2; exit 1; }
REPO_ALL=$REPO
REPO=$REPO4
new_target "$CH4"
REPO=$REPO_ALL
cp -a "$MACHINE/boot/grub2" "$MACHINE/boot/loader" "$CH4/boot/"
cp "$MACHINE/etc/machine-id" "$CH4/etc/machine-id"
rc=0
gp "$CH4" apply a100-stable --yes >"$TMPD/v1.out" 2>"$TMPD/v1.err" || rc=$?
check "rollback: v1 applied" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/v1.err"
check "v1: nvidia-driver 535.129.03 is locked" grep -qxF "nvidia-driver-0:535.129.03-1.el9.*" "$LOCKS"
sort "$LOCKS" >"$TMPD/locks.v1"
installed "$CH4" >"$TMPD/rpm4.v1"
streams 535.129.03 535.216.01 >"$TMPD/modules4.yaml"
"$srcdir/tests/pkg/make-rpm-repo" --modules "$TMPD/modules4.yaml" "$REPO4" "$MACHINE/var/lib/gpuprov/repo.json" \
	>"$TMPD/repo4.log" 2>&1 || { cat "$TMPD/repo4.log" >&2; exit 1; }
rc=0
gp "$CH4" apply a100-stable --yes >"$TMPD/v2.out" 2>"$TMPD/v2.err" || rc=$?
check "rollback: v2 applied" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/v2.err"
check "v2: nvidia-driver 535.216.01 is installed" has "$CH4" nvidia-driver-535.216.01-1.el9
check "v2: and locked there, no longer at 535.129.03" \
	sh -c "grep -qxF 'nvidia-driver-0:535.216.01-1.el9.*' '$LOCKS' && ! grep -q 535.129.03 '$LOCKS'"
check_json "the record is v1's: versions and locks" \
	'(.previous_stack.packages | map(select(.name == "nvidia-driver" and .version == "535.129.03-1.el9" and .held)) | length == 1) and
	 (.previous_stack.packages | map(select(.name == "kernel" and .kernel and .version == "5.14.0-362.8.1.el9_3")) | length == 1) and
	 .previous_stack.via == "dnf" and .previous_stack.driver == "535.129.03"' "$STATE"
check_json "repo.json says what is installed now, not what the refresh before v2 found" \
	'.installed | map(select(.name == "nvidia-driver" and .version == "535.216.01-1.el9" and .held)) | length == 1' \
	"$CH4/var/lib/gpuprov/repo.json"
editenv() {
	grub-editenv "$CH4/boot/grub2/grubenv" "$@"
}
editenv set saved_entry=somewhere-else
installed "$CH4" >"$TMPD/rpm4.v2"
cp "$LOCKS" "$TMPD/locks.v2"

# --dry-run: every action, and nothing changed
snapshot4() {
	find "$CH4" -xdev -printf '%y %p %s %T@ %m\n' | sort
}
snapshot4 >"$TMPD/snap4.0"
rc=0
gp "$CH4" rollback --dry-run >"$TMPD/dry4.out" 2>"$TMPD/dry4.err" || rc=$?
snapshot4 >"$TMPD/snap4.1"
check "dnf: rollback --dry-run exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/dry4.err"
check "dnf: rollback --dry-run changes nothing in the tree" cmp -s "$TMPD/snap4.0" "$TMPD/snap4.1"
check "dnf: it would reinstall nvidia-driver 535.129.03" grep -q "install .*nvidia-driver = 535.129.03-1.el9" "$TMPD/dry4.out"
check "dnf: it would lock it there again" grep -q "hold .*nvidia-driver = 535.129.03-1.el9" "$TMPD/dry4.out"

# a version of v1 gone from the repository: refused, nothing changed
mv "$REPO4"/Packages/nvidia-driver-535.129.03-1.*.rpm "$TMPD/"
createrepo_c --update --keep-all-metadata "$REPO4" >/dev/null 2>&1
cp "$STATE" "$TMPD/state4.before"
rc=0
gp "$CH4" rollback --yes >"$TMPD/gone4.out" 2>"$TMPD/gone4.err" || rc=$?
check "dnf: a version of before gone: rollback refused with exit 3" test "$rc" -eq 3
check "dnf: the refusal names the package and the version" \
	grep -q "nvidia-driver 535.129.03-1.el9 is not offered by the repositories" "$TMPD/gone4.err"
installed "$CH4" >"$TMPD/rpm4.gone"
check "dnf: the refusal installed nothing" cmp -s "$TMPD/rpm4.v2" "$TMPD/rpm4.gone"
check "dnf: the refusal locked nothing" cmp -s "$TMPD/locks.v2" "$LOCKS"
check "dnf: the refusal left GRUB's environment" sh -c "grub-editenv '$CH4/boot/grub2/grubenv' list | grep -qx saved_entry=somewhere-else"
check "dnf: the refusal left state.json" cmp -s "$TMPD/state4.before" "$STATE"

# --kernel-only: the locks and the kernel, no package moves
rc=0
gp "$CH4" rollback --kernel-only --yes >"$TMPD/konly4.out" 2>"$TMPD/konly4.err" || rc=$?
check "dnf: rollback --kernel-only exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/konly4.err"
installed "$CH4" >"$TMPD/rpm4.konly"
check "dnf: --kernel-only installed and removed nothing" cmp -s "$TMPD/rpm4.v2" "$TMPD/rpm4.konly"
check "dnf: --kernel-only: the locks are v1's" sh -c "sort '$LOCKS' | cmp -s - '$TMPD/locks.v1'"
sort "$LOCKS" | diff "$TMPD/locks.v1" - | diag_file /dev/stdin
check "dnf: --kernel-only: the previous kernel is the saved default" \
	sh -c "grub-editenv '$CH4/boot/grub2/grubenv' list | grep -qxF 'saved_entry=$GOOD'"

# the version back: the whole rollback
mv "$TMPD"/nvidia-driver-535.129.03-1.*.rpm "$REPO4/Packages/"
createrepo_c --update --keep-all-metadata "$REPO4" >/dev/null 2>&1
editenv set saved_entry=somewhere-else
rc=0
gp "$CH4" rollback --yes >"$TMPD/rb4.out" 2>"$TMPD/rb4.err" || rc=$?
check "dnf: rollback exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/rb4.err"
installed "$CH4" >"$TMPD/rpm4.back"
check "dnf: rollback: the packages are v1's again" cmp -s "$TMPD/rpm4.v1" "$TMPD/rpm4.back"
diff "$TMPD/rpm4.v1" "$TMPD/rpm4.back" | diag_file /dev/stdin
check "dnf: rollback: the locks are v1's, v2's gone" sh -c "sort '$LOCKS' | cmp -s - '$TMPD/locks.v1'"
sort "$LOCKS" | diff "$TMPD/locks.v1" - | diag_file /dev/stdin
check "dnf: rollback: the previous kernel is the saved default" \
	sh -c "grub-editenv '$CH4/boot/grub2/grubenv' list | grep -qxF 'saved_entry=$GOOD'"
check_json "dnf: rollback is recorded" '.verified.result == "rolled back by hand"' "$STATE"

done_testing
