#!/bin/sh
# gpuprov apply against the real dnf: an installroot laid out as the HGX A100's Rocky 9, a
# createrepo_c repository of RPMs built with rpmbuild from that machine's repository view,
# dnf run with --installroot as an installer would. The hardware comes through --sysroot.
. "${srcdir}/tests/scenario/lib.sh"

MACHINE="$srcdir/tests/machines/hgx-a100-rocky9/root"
REPO="$TMPD/repo"
PATH=$PATH:/usr/sbin:/sbin

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

[ "$(id -u)" -eq 0 ] || skip_all "needs root (rpm database in the installroot)"
[ "$(uname -m)" = x86_64 ] || skip_all "the fake machine's kernels are x86_64"
for tool in dnf rpmbuild createrepo_c; do
	command -v "$tool" >/dev/null 2>&1 || skip_all "$tool not found"
done
# streams VERSION...: module metadata with NVIDIA's stream for branch 535's DKMS driver
# (nvidia-driver:535-dkms) holding these versions; the other branches stay outside.
streams() {
	printf -- '---\ndocument: modulemd\nversion: 2\ndata:\n  name: nvidia-driver\n  stream: "535-dkms"\n'
	printf '  version: 1\n  context: "00000001"\n  arch: x86_64\n  summary: NVIDIA driver 535, DKMS\n'
	printf '  description: NVIDIA driver branch 535 with DKMS kernel modules.\n  license:\n    module: [MIT]\n'
	printf '  profiles:\n    default:\n      rpms: [nvidia-driver, kmod-nvidia-latest-dkms]\n  artifacts:\n    rpms:\n'
	for v in "$@"; do
		printf '    - nvidia-driver-0:%s-1.el9.x86_64\n    - kmod-nvidia-latest-dkms-0:%s-1.el9.x86_64\n' "$v" "$v"
	done
	printf '...\n'
}
streams 535.129.03 535.216.01 >"$TMPD/modules.yaml"
"$srcdir/tests/pkg/make-rpm-repo" --modules "$TMPD/modules.yaml" "$REPO" "$MACHINE/var/lib/gpuprov/repo.json" \
	>"$TMPD/repo.log" 2>&1 || { cat "$TMPD/repo.log" >&2; exit 1; }

# A target: the installroot skeleton, then the node before gpuprov (running kernel, the
# toolkit the machine has).
new_target() {
	"$srcdir/tests/pkg/dnf-root" "$1" "$REPO" "$MACHINE/etc/os-release" >/dev/null
	dnf --installroot="$1" --releasever=9 -y -q install kernel-5.14.0-362.8.1.el9_3 cuda-toolkit-12-2-12.2.2-1 \
		>"$TMPD/before.log" 2>&1 || { cat "$TMPD/before.log" >&2; exit 1; }
}

gp() {
	root=$1
	shift
	gpuprov --root "$root" --sysroot "$MACHINE" --profiles "$srcdir/profiles" "$@"
}

installed() {
	rpm --root "$1" -qa --qf '%{NAME}-%{VERSION}-%{RELEASE}\n' | sort
}

has() {
	rpm --root "$1" -q "$2" >/dev/null 2>&1
}

CH="$TMPD/target"
new_target "$CH"

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
jq -r '.stack.packages[] | select(.version != null) | "\(.name) \(.version)"' "$TMPD/plan.json" >"$TMPD/picks"
check "the plan picked the stack" test -s "$TMPD/picks"
while read -r name version; do
	check "$name-$version is installed" has "$CH" "$name-$version"
	check "$name-$version is locked" grep -qxF "$name-0:$version.*" "$CH/etc/dnf/plugins/versionlock.list"
done <"$TMPD/picks"
check "the running kernel is still installed" has "$CH" kernel-5.14.0-362.8.1.el9_3
check "the driver branch's module stream is enabled" grep -qx "stream=535-dkms" "$CH/etc/dnf/modules.d/nvidia-driver.module"
check "the running kernel is locked too" grep -q "^kernel-0:5.14.0-362.8.1.el9_3" "$CH/etc/dnf/plugins/versionlock.list"

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

# --- newer versions published: dnf upgrade moves nothing ---
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
streams 535.129.03 535.216.01 535.247.01 >"$TMPD/modules.yaml"
"$srcdir/tests/pkg/make-rpm-repo" --modules "$TMPD/modules.yaml" "$REPO" "$MACHINE/var/lib/gpuprov/repo.json" \
	"$TMPD/newer.json" >"$TMPD/repo2.log" 2>&1 ||
	{ cat "$TMPD/repo2.log" >&2; exit 1; }
dnf --installroot="$CH" --releasever=9 -y -q upgrade >"$TMPD/upgrade.log" 2>&1 || true
installed "$CH" >"$TMPD/rpm.4"
check "dnf upgrade moves nothing" cmp -s "$TMPD/rpm.3" "$TMPD/rpm.4"
cmp -s "$TMPD/rpm.3" "$TMPD/rpm.4" || diff "$TMPD/rpm.3" "$TMPD/rpm.4" | sed 's/^/# /'
check "the newer driver is offered" sh -c "dnf --installroot='$CH' --releasever=9 -q repoquery --disableexcludes=all nvidia-driver-535.247.01 | grep -q 535.247.01"

# --- without the versionlock plugin: an excludepkgs line does the holding ---
CH2="$TMPD/target2"
new_target "$CH2"
rm "$CH2/etc/dnf/plugins/versionlock.conf"
rc=0
gp "$CH2" apply a100-stable --yes >"$TMPD/apply2.out" 2>"$TMPD/apply2.err" || rc=$?
check "apply without versionlock exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/apply2.err"
check "the stack is excluded in dnf.conf" grep -q "^excludepkgs=.*nvidia-driver" "$CH2/etc/dnf/dnf.conf"
installed "$CH2" >"$TMPD/rpm.5"
dnf --installroot="$CH2" --releasever=9 -y -q upgrade >"$TMPD/upgrade2.log" 2>&1 || true
installed "$CH2" >"$TMPD/rpm.6"
check "dnf upgrade moves nothing past the excludes" cmp -s "$TMPD/rpm.5" "$TMPD/rpm.6"
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

done_testing
