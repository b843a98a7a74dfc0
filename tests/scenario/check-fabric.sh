#!/bin/sh
# check on an RPM-family machine (hgx-a100-rocky9: HGX A100 with its NVSwitches on the PCI
# bus, driver 535.129.03) whose fabric manager is of another version: the version read from
# the target's RPM database with the host's rpm, else from repo.json's "installed" entries,
# each finding naming where it was read and the knowledge's source; the fabric manager at the
# driver's version passes, and one not installed is missing. Then on a Debian-family machine
# (dgx-h100), every component read from dpkg's status in one pass.
. "$srcdir/tests/scenario/lib.sh"

M=$TMPD/m
cp -a "$srcdir/tests/machines/hgx-a100-rocky9/root" "$M"
chmod -R u+w "$M"
DRIVER=535.129.03

# check_run NAME: check --json into $TMPD/NAME.json, its exit status into $TMPD/NAME.rc.
check_run() {
	gpuprov --root "$M" --profiles "$srcdir/profiles" check --json >"$TMPD/$1.json" 2>"$TMPD/$1.err"
	echo $? >"$TMPD/$1.rc"
}

# finding ID FILE: the message of the finding ID, or nothing.
finding() {
	jq -r --arg id "$1" '.findings[] | select(.id == $id) | .message' "$2"
}

SOURCE=$(jq -r '.fabric[] | select(.name == "fabricmanager") | .source' "$srcdir/profiles/knowledge.json")

# --- repo.json's "installed" entries: no rpm database in the target ---
check_run before
check "without a version known, no version finding" test -z "$(finding fabricmanager-version "$TMPD/before.json")"
jq '.installed = [{"name": "nvidia-fabric-manager", "version": "535.104.05-1", "arch": "x86_64"}]' \
	"$M/var/lib/gpuprov/repo.json" >"$TMPD/repo.json"
cp "$TMPD/repo.json" "$M/var/lib/gpuprov/repo.json"
check_run repojson
check "a fabric manager of another version is an error (exit 3)" test "$(cat "$TMPD/repojson.rc")" = 3
check "it names both versions and repo.json" test "$(finding fabricmanager-version "$TMPD/repojson.json")" = \
	"NVIDIA Fabric Manager 535.104.05 (read from repo.json) differs from driver $DRIVER; they must be equal"
check "it quotes the knowledge's source" test \
	"$(jq -r '.findings[] | select(.id == "fabricmanager-version") | .source' "$TMPD/repojson.json")" = "$SOURCE"

# --- the target's RPM database, read with the host's rpm ---
if command -v rpm >/dev/null 2>&1 && command -v rpmbuild >/dev/null 2>&1; then
	# rpm_fm VERSION [NAME VERSION]...: the target's database with an nvidia-fabric-manager of
	# that version, and the other packages named.
	rpm_fm() {
		rm -rf "$TMPD/rpmbuild" "$M/var/lib/rpm"
		mkdir -p "$TMPD/rpmbuild/SPECS" "$M/var/lib/rpm"
		set -- nvidia-fabric-manager "$@"
		while [ $# -ge 2 ]; do
			printf 'Name: %s\nVersion: %s\nRelease: 1\nSummary: test\nLicense: MIT\nBuildArch: noarch\n%%description\ntest\n%%files\n' \
				"$1" "$2" >"$TMPD/rpmbuild/SPECS/$1.spec"
			rpmbuild -bb --quiet --define "_topdir $TMPD/rpmbuild" "$TMPD/rpmbuild/SPECS/$1.spec" >/dev/null 2>&1 || return 1
			shift 2
		done
		rpm --dbpath "$M/var/lib/rpm" --initdb &&
			rpm --dbpath "$M/var/lib/rpm" -i --justdb --nodeps --noscripts "$TMPD"/rpmbuild/RPMS/noarch/*.rpm
	}
	# repo.json says nothing installed now: what check reports comes from the database.
	jq 'del(.installed)' "$TMPD/repo.json" >"$M/var/lib/gpuprov/repo.json"
	check "an RPM database with nvidia-fabric-manager 535.104.05" rpm_fm 535.104.05
	find "$M/var/lib/rpm" -printf '%y %p %s %T@ %m\n' | sort >"$TMPD/rpmdb.0"
	check_run rpmdb
	find "$M/var/lib/rpm" -printf '%y %p %s %T@ %m\n' | sort >"$TMPD/rpmdb.1"
	check "the target's RPM database is left as it was" cmp -s "$TMPD/rpmdb.0" "$TMPD/rpmdb.1"
	check "read from the RPM database: the same error (exit 3)" test "$(cat "$TMPD/rpmdb.rc")" = 3
	check "it names both versions and the RPM database" test "$(finding fabricmanager-version "$TMPD/rpmdb.json")" = \
		"NVIDIA Fabric Manager 535.104.05 (read from rpm) differs from driver $DRIVER; they must be equal"
	gpuprov --root "$M" detect --json >"$TMPD/detect.json" 2>/dev/null
	check_json "detect says where the version was read" \
		'.nvidia.fabric.read_from == "rpm" and .nvidia.fabric.installed == [{"component": "fabricmanager", "package": "nvidia-fabric-manager", "version": "535.104.05"}] and .nvidia.fabricmanager.version == "535.104.05"' \
		"$TMPD/detect.json"
	check "the fabric manager at the driver's version, and an NVLink subnet manager" rpm_fm "$DRIVER" nvlsm 2025.10.11
	check_run equal
	check "then no fabric finding (an HGX A100 needs no nvlsm)" test \
		-z "$(jq -r '.findings[] | select(.id | test("^(fabricmanager|nvlsm)-")) | .id' "$TMPD/equal.json")"
	gpuprov --root "$M" detect >"$TMPD/detect.txt" 2>/dev/null
	check "detect lists the subnet manager where it is installed" \
		grep -qx 'NVLink      nvlsm 2025.10.11 (nvlsm, read from rpm)' "$TMPD/detect.txt"
else
	for n in 1 2 3 4 5 6 7 8; do
		ok "# SKIP rpm or rpmbuild not found"
	done
fi

# --- no fabric manager at all: its binary gone, no package in any database ---
rm -rf "$M/var/lib/rpm" "$M/usr/bin/nv-fabricmanager"
check_run missing
check "a fabric manager missing on an HGX A100 is an error (exit 3)" test "$(cat "$TMPD/missing.rc")" = 3
check "it names the platform and the database" test "$(finding fabricmanager-missing "$TMPD/missing.json")" = \
	"platform hgx-a100 needs NVIDIA Fabric Manager (fabricmanager) and it is not installed (read from repo.json): the GPUs will not join the NVLink fabric"

# --- dpkg: every component read in the one pass over the status file ---
D=$TMPD/d
cp -a "$srcdir/tests/machines/dgx-h100/root" "$D"
chmod -R u+w "$D"
# Stanzas after the fabric manager's: a pass that stopped at the first answer would miss them.
printf 'Package: nvlsm\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2025.10.11-1\n\nPackage: nvidia-imex-550\nStatus: install ok installed\nArchitecture: amd64\nVersion: 550.54.15-1\n\n' \
	>>"$D/var/lib/dpkg/status"
gpuprov --root "$D" detect --json >"$TMPD/dpkg.json" 2>"$TMPD/dpkg.err"
check "dpkg: the fabric manager, the NVLink subnet manager and IMEX, each with its version" test \
	"$(jq -c '[.nvidia.fabric.installed[] | [.component, .package, .version]]' "$TMPD/dpkg.json")" = \
	'[["fabricmanager","nvidia-fabricmanager-550","550.54.15"],["nvlsm","nvlsm","2025.10.11"],["imex","nvidia-imex-550","550.54.15"]]'
check "dpkg: read from dpkg" jqt '.nvidia.fabric.read_from == "dpkg"' "$TMPD/dpkg.json"

done_testing
