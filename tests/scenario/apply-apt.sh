#!/bin/sh
# gpuprov apply against the real apt and dpkg, on the DGX H100 dressed chroot of
# lib-apt-target.sh: exact versions, holds, pins, the previous kernel kept, idempotence,
# and upgrades (apt-get's, unattended-upgrades') that move nothing of the stack.
. "${srcdir}/tests/scenario/lib.sh"

. "${srcdir}/tests/scenario/lib-apt-target.sh"

command -v systemctl >/dev/null 2>&1 || skip_all "systemctl not found"
# The node before gpuprov: the running kernel (5.15.0-105) and the GA meta package, which
# brings 5.15.0-125 beside it, as a DGX OS install would be.
apt_target linux-image-5.15.0-105-generic=5.15.0-105.115 linux-modules-5.15.0-105-generic=5.15.0-105.115 linux-generic

# publish PACKAGES_FILE...: these stanzas added to the target's repository, apt told.
publish() {
	"$srcdir/tests/pkg/make-deb-repo" --base-status "$CH/var/lib/dpkg/status" "$CH$REPO" "$@" \
		>"$TMPD/publish.log" 2>&1 || { cat "$TMPD/publish.log" >&2; exit 1; }
	in_target apt-get update -q >/dev/null
}

# The site's own agent, which gpuprov has no business with, never held: the control that
# shows an upgrade does move what it may. agent VERSION [DEPENDS] is its stanza.
agent() {
	printf 'Package: site-agent\nVersion: %s\nArchitecture: all\nMaintainer: Site admins <root@localhost>\n' "$1"
	[ -z "${2:-}" ] || printf 'Depends: %s\n' "$2"
	printf 'Description: the site monitoring agent\n\n'
}
mkdir -p "$TMPD/site"
{
	agent 1.0-1 site-agent-data
	printf 'Package: site-agent-data\nVersion: 1.0-1\nArchitecture: all\nDescription: its data\n\n'
} >"$TMPD/site/Packages.1"
publish "$TMPD/site/Packages.1"
in_target apt-get install -y -q site-agent=1.0-1 >"$TMPD/agent.log" 2>&1 || { cat "$TMPD/agent.log" >&2; exit 1; }

has_version() {
	in_target dpkg-query -W -f='${Version} ${db:Status-Status}' "$1" 2>/dev/null | grep -qx "$2 installed"
}

held() {
	in_target apt-mark showhold | grep -qx "$1"
}

# --- refusals change nothing ---
installed >"$TMPD/dpkg.0"
mkdir -p "$CH/etc/gpuprov/profiles"
cat >"$CH/etc/gpuprov/profiles/needs-missing.json" <<'EOF'
{ "name": "needs-missing", "include": ["h100-nvlink"], "packages": ["gpuprov-no-such-package"] }
EOF
rc=0
gp apply needs-missing --yes >"$TMPD/missing.out" 2>"$TMPD/missing.err" || rc=$?
check "a package the repository lacks: refused with exit 3" test "$rc" -eq 3
check "the refusal names the package" grep -q "gpuprov-no-such-package is not offered" "$TMPD/missing.err"
installed >"$TMPD/dpkg.1"
check "the refusal installed nothing" cmp -s "$TMPD/dpkg.0" "$TMPD/dpkg.1"
check "the refusal wrote no file" test ! -e "$CH/etc/apt/preferences.d/gpuprov"
rm "$CH/etc/gpuprov/profiles/needs-missing.json"

# --- apply installs the exact versions ---
gp plan h100-nvlink --json >"$TMPD/plan.json"
rc=0
gp apply h100-nvlink --yes --json --detailed-exitcodes >"$TMPD/apply.json" 2>"$TMPD/apply.err" || rc=$?
check "apply h100-nvlink succeeds; --detailed-exitcodes: changed, reboot needed (5)" test "$rc" -eq 5
[ "$rc" -eq 5 ] || diag_file "$TMPD/apply.err"
check_json "apply reports a change and a reboot" '.changed and .reboot_required' "$TMPD/apply.json"
h100_stack >"$TMPD/picks"
jq -r '.stack.packages[] | "\(.name) \(.version)"' "$TMPD/plan.json" >"$TMPD/plan.picks"
check "the plan picks the stack the repository and the profile call for" cmp -s "$TMPD/picks" "$TMPD/plan.picks"
diff "$TMPD/picks" "$TMPD/plan.picks" | diag_file /dev/stdin
n=0
while read -r name version; do
	check "$name is installed at exactly $version" has_version "$name" "$version"
	check "$name is held" held "$name"
	n=$((n + 1))
done <"$TMPD/picks"
check_ran "every package of the stack is checked" "$n"
check "the running kernel's image is kept and held" held linux-image-5.15.0-105-generic
check "the running kernel's image is marked manual" sh -c "! chroot '$CH' apt-mark showauto | grep -qx linux-image-5.15.0-105-generic"
check "the kernel meta package is held" held linux-generic
check "apt pins at priority 1001" grep -q "Pin-Priority: 1001" "$CH/etc/apt/preferences.d/gpuprov"
check "unattended-upgrades is told to leave the stack alone" \
	grep -q "Unattended-Upgrade::Package-Blacklist" "$CH/etc/apt/apt.conf.d/51gpuprov-unattended-upgrades"
check "the fabric manager is enabled" test -L "$CH/etc/systemd/system/multi-user.target.wants/nvidia-fabricmanager.service"
check "the modprobe settings are written" grep -q "blacklist nouveau" "$CH/etc/modprobe.d/gpuprov.conf"
GOOD=gnulinux-advanced-7c2b0e5a-3f41-4d8e-9a6b-5e1f2c3d4a01\>gnulinux-5.15.0-105-generic-advanced-7c2b0e5a-3f41-4d8e-9a6b-5e1f2c3d4a01
NEW=gnulinux-advanced-7c2b0e5a-3f41-4d8e-9a6b-5e1f2c3d4a01\>gnulinux-6.8.0-49-generic-advanced-7c2b0e5a-3f41-4d8e-9a6b-5e1f2c3d4a01
check "the saved GRUB default is the known-good kernel" sh -c "grub-editenv '$CH/boot/grub/grubenv' list | grep -qx 'saved_entry=$GOOD'"
check "the next boot enters the new kernel once" sh -c "grub-editenv '$CH/boot/grub/grubenv' list | grep -qx 'next_entry=$NEW'"
check "GRUB boots the saved entry, and a panic reboots" sh -c "grep -qx GRUB_DEFAULT=saved '$CH/etc/default/grub.d/90-gpuprov.cfg' && grep -q 'panic=10' '$CH/etc/default/grub.d/90-gpuprov.cfg'"
check_json "the reboot is left to the operator" '.pending | map(select(startswith("reboot"))) | length == 1' "$TMPD/apply.json"
check_json "the state records the stack, and what verify needs" \
	'.profile == "h100-nvlink" and .driver == "580.95.05" and .flavour == "open" and .rdma and .verify_reboot and .previous_kernel == "5.15.0-105-generic"' \
	"$CH/var/lib/gpuprov/state.json"
check_json "the state records the node before the switch: what the plan installs, not installed; the running kernel's, unheld" \
	'.previous_stack.switch_to.profile == "h100-nvlink" and .previous_stack.kernel == "5.15.0-105-generic" and
	 (.previous_stack.packages | map(select(.name == "cuda-toolkit-13-0" and .version == null)) | length == 1) and
	 (.previous_stack.packages | map(select(.name == "linux-image-5.15.0-105-generic" and .kernel and (.held | not))) | length == 1) and
	 (.previous_stack.files | map(select(.path == "/etc/apt/preferences.d/gpuprov" and .content == null)) | length == 1)' \
	"$CH/var/lib/gpuprov/state.json"

# --- a second apply changes nothing ---
installed >"$TMPD/dpkg.2"
mtimes() { find "$CH/etc" "$CH/var/lib/dpkg/status" -newer "$CH/etc/os-release" -printf '%p %T@\n' | sort; }
mtimes >"$TMPD/mtimes.2"
rc=0
gp apply h100-nvlink --yes --json >"$TMPD/again.json" 2>"$TMPD/again.err" || rc=$?
check "a second apply exits 0" test "$rc" -eq 0
check_json "a second apply reports no change" '.changed == false and (.done | length) == 0' "$TMPD/again.json"
installed >"$TMPD/dpkg.3"
check "a second apply installed nothing" cmp -s "$TMPD/dpkg.2" "$TMPD/dpkg.3"
mtimes >"$TMPD/mtimes.3"
check "a second apply touched no file's mtime in /etc or dpkg's status" cmp -s "$TMPD/mtimes.2" "$TMPD/mtimes.3"
gp apply h100-nvlink --yes >"$TMPD/again.txt" 2>&1 || true
check "a second apply says so" grep -q "Nothing to do" "$TMPD/again.txt"
rc=0
gp apply h100-nvlink --yes --detailed-exitcodes >/dev/null 2>&1 || rc=$?
check "--detailed-exitcodes: nothing changed is 0" test "$rc" -eq 0

# --- newer versions published: the held stack stays, the site's agent moves ---
# unattended-upgrades from Debian's own package, told to take anything from the test
# repository (its Release's Origin): only gpuprov's holds, pins and blacklist keep the
# stack where it is.
rc=0
"$srcdir/tests/pkg/debian-debs" "$CH/tmp/uu" unattended-upgrades 2>"$TMPD/uu-debs.err" || rc=$?
if [ "$rc" -eq 0 ]; then
	in_target sh -c 'apt-get install -y -q --no-install-recommends /tmp/uu/*.deb' >"$TMPD/uu-install.log" 2>&1 ||
		{ cat "$TMPD/uu-install.log" >&2; exit 1; }
	printf 'Unattended-Upgrade::Origins-Pattern { "origin=gpuprov-test"; };\n' \
		>"$CH/etc/apt/apt.conf.d/52site-origins"
elif [ "$rc" -ne 77 ]; then
	cat "$TMPD/uu-debs.err" >&2
	exit 1
fi
mkdir -p "$TMPD/newer"
for f in "$LISTS"/*_Packages; do cat "$f"; echo; done | sed -e 's/^Version: 580\.95\.05-0ubuntu0\.22\.04\.1$/Version: 580.95.05-0ubuntu0.22.04.2/' \
	-e 's/^Version: 580\.95\.05-1$/Version: 580.95.05-2/' \
	-e 's/^Version: 13\.0\.2-1$/Version: 13.0.2-2/' \
	-e 's/^Version: 6\.8\.0-49\.49~22\.04\.1$/Version: 6.8.0-49.50~22.04.1/' \
	-e 's/(= 580\.95\.05-0ubuntu0\.22\.04\.1)/(= 580.95.05-0ubuntu0.22.04.2)/g' >"$TMPD/newer/Packages"
agent 1.0-2 site-agent-data >"$TMPD/site/Packages.2"
publish "$LISTS"/*_Packages "$TMPD/newer/Packages" "$TMPD/site/Packages.2"
check "the newer versions are offered" sh -c "chroot '$CH' apt-cache madison nvidia-fabricmanager-580 | grep -q 580.95.05-2"
installed >"$TMPD/dpkg.4"
check "the site's agent is at 1.0-1 before the upgrades" grep -qx "site-agent=1.0-1 installed" "$TMPD/dpkg.4"
# moved_to VERSION: the packages of before with the agent at VERSION, the rest as they were.
moved_to() {
	sed "s/^site-agent=[^ ]* /site-agent=$1 /" "$TMPD/dpkg.4"
}
# upgraded HOW EXPECTED RC: the packages after the upgrader HOW (its exit status RC) are EXPECTED.
upgraded() {
	installed >"$TMPD/dpkg.$1"
	check "$1 exits 0" test "$3" -eq 0
	[ "$3" -eq 0 ] || diag_file "$TMPD/$1.log"
	check "$1 moves the site's agent and nothing of the stack" cmp -s "$2" "$TMPD/dpkg.$1"
	diff "$2" "$TMPD/dpkg.$1" | diag_file /dev/stdin
}
if [ -x "$CH/usr/bin/unattended-upgrade" ]; then
	rc=0
	in_target unattended-upgrade -v >"$TMPD/unattended-upgrade.log" 2>&1 || rc=$?
	moved_to 1.0-2 >"$TMPD/expect"
	upgraded unattended-upgrade "$TMPD/expect" "$rc"
else
	ok "# SKIP unattended-upgrades: $(tail -n 1 "$TMPD/uu-debs.err")"
fi
# apt_upgrade HOW VERSION [DEPENDS]: an agent newer than the last published, then apt-get
# HOW, which must move it and nothing else.
apt_upgrade() {
	agent "$2" "${3:-}" >"$TMPD/site/Packages.$2"
	publish "$TMPD/site/Packages.$2"
	rc=0
	in_target apt-get "$1" -y -q >"$TMPD/apt-get $1.log" 2>&1 || rc=$?
	moved_to "$2" >"$TMPD/expect"
	upgraded "apt-get $1" "$TMPD/expect" "$rc"
}
apt_upgrade upgrade 1.0-3 site-agent-data
# The dist-upgrade's agent no longer needs its data package: autoremove must take that one,
# and only it (the previous kernel, kept manual, stays).
apt_upgrade dist-upgrade 1.0-4
rc=0
in_target apt-get autoremove -y -q >"$TMPD/apt-get autoremove.log" 2>&1 || rc=$?
moved_to 1.0-4 | grep -v "^site-agent-data=" >"$TMPD/expect"
upgraded "apt-get autoremove" "$TMPD/expect" "$rc"
check "the previous kernel is still installed" has_version linux-image-5.15.0-105-generic 5.15.0-105.115

# --- rollback: from a second stack back to the first, as apply recorded it ---
# The stack so far is v1: h100-nvlink at the first versions, held. v2: the same driver at
# the versions published since, on the GA kernel: packages v1 has move up (and the binaries
# of their source, which depend on each other at exactly their version, with them), and
# packages v1 did not have come in.
STATE="$CH/var/lib/gpuprov/state.json"
PINS="$CH/etc/apt/preferences.d/gpuprov"
UU="$CH/etc/apt/apt.conf.d/51gpuprov-unattended-upgrades"
cp "$PINS" "$TMPD/pins.v1"
cp "$UU" "$TMPD/uu.v1"
in_target apt-mark showhold >"$TMPD/holds.v1"
installed >"$TMPD/dpkg.v1"
cp "$TMPD/picks" "$TMPD/picks.v1"
mkdir -p "$CH/etc/gpuprov/profiles"
printf '{ "name": "h100-v2", "include": ["h100-nvlink"], "kernel": { "min": "5.15", "max": "5.15" } }\n' \
	>"$CH/etc/gpuprov/profiles/h100-v2.json"
# v2's kernel was rolled back here once (as verify records it): plan passes over it;
# --retry-failed takes it, and apply takes it off the list, keeping the other entry.
jq '. + {failed_kernels: [{kernel: "5.15.0-125-generic", at: "2026-11-01T00:00:00Z", failed: ["running 5.15.0-105-generic"]},
	{kernel: "6.8.0-99-generic", at: "2026-11-02T00:00:00Z", failed: ["x"]}]}' "$STATE" >"$TMPD/s" && cp "$TMPD/s" "$STATE"
gp plan h100-v2 --json >"$TMPD/v2plan.json" 2>/dev/null || true
check_json "plan passes over the kernel rolled back here, warning why" \
	'.stack.kernel == "5.15.0-105-generic" and any(.warnings[]; startswith("kernel 5.15.0-125-generic: verify rolled it back on this node at 2026-11-01T00:00:00Z (running 5.15.0-105-generic)"))' "$TMPD/v2plan.json"
rc=0
gp apply h100-v2 --retry-failed --yes --json >"$TMPD/v2.json" 2>"$TMPD/v2.err" || rc=$?
check_json "apply --retry-failed takes it, and off the list (the other kernel stays)" \
	'[.failed_kernels[].kernel] == ["6.8.0-99-generic"] and .kernel == "5.15.0-125-generic"' "$STATE"
check "apply of a second stack (v2) exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/v2.err"
check "v2 moved a package of v1 up" has_version nvidia-utils-580-server 580.95.05-0ubuntu0.22.04.2
check "v2 moved the binaries of that source with it" has_version nvidia-headless-no-dkms-580-server-open 580.95.05-0ubuntu0.22.04.2
check "v2 installed packages v1 did not have, and held them" held linux-modules-nvidia-580-server-open-5.15.0-125-generic
check "v2's pins are not v1's" sh -c "! cmp -s '$TMPD/pins.v1' '$PINS'"
check_json "the record is of v1: versions, holds" \
	'.previous_stack.switch_to.profile == "h100-v2" and
	 (.previous_stack.packages | map(select(.name == "nvidia-utils-580-server" and .version == "580.95.05-0ubuntu0.22.04.1" and .held)) | length == 1) and
	 (.previous_stack.packages | map(select(.name == "nvidia-headless-no-dkms-580-server-open" and .version == "580.95.05-0ubuntu0.22.04.1")) | length == 1) and
	 (.previous_stack.packages | map(select(.name == "linux-modules-nvidia-580-server-open-5.15.0-125-generic" and .version == null and (.held | not))) | length == 1) and
	 .previous_stack.profile == "h100-nvlink" and .previous_kernel == "5.15.0-105-generic"' "$STATE"
jq -j '.previous_stack.files[] | select(.path == "/etc/apt/preferences.d/gpuprov") | .content' "$STATE" >"$TMPD/pins.recorded"
check "the record holds v1's pins file as it was" cmp -s "$TMPD/pins.v1" "$TMPD/pins.recorded"

# A run that installs again (a package moved by hand) keeps the record of v1.
jq -S .previous_stack "$STATE" >"$TMPD/record.v2"
in_target apt-get install -y -q --allow-downgrades --allow-change-held-packages cuda-toolkit-13-0=13.0.2-1 \
	>"$TMPD/byhand.log" 2>&1
gp apply h100-v2 --yes >"$TMPD/v2again.out" 2>&1 || true
check "v2 applied again: the package is back at v2's version" has_version cuda-toolkit-13-0 13.0.2-2
jq -S .previous_stack "$STATE" >"$TMPD/record.v2again"
check "v2 applied again keeps the record of v1" cmp -s "$TMPD/record.v2" "$TMPD/record.v2again"

# As if verify had committed v2's kernel: rollback must make the known-good one the default.
grub-editenv "$CH/boot/grub/grubenv" set saved_entry="$NEW"
in_target apt-mark showhold >"$TMPD/holds.v2"
installed >"$TMPD/dpkg.v2"

# snapshot: every path of the target with its type, size, mtime and mode.
snapshot() {
	find "$CH" -xdev -printf '%y %p %s %T@ %m\n' | sort
}

# --- rollback --dry-run: every action, and nothing changed ---
snapshot >"$TMPD/snap.0"
rc=0
gp rollback --dry-run >"$TMPD/dry.out" 2>"$TMPD/dry.err" || rc=$?
snapshot >"$TMPD/snap.1"
check "rollback --dry-run exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/dry.err"
check "rollback --dry-run changes nothing in the tree" cmp -s "$TMPD/snap.0" "$TMPD/snap.1"
cmp -s "$TMPD/snap.0" "$TMPD/snap.1" || diff "$TMPD/snap.0" "$TMPD/snap.1" | head -20 | diag_file /dev/stdin
check "it would reinstall v1's versions" grep -q "install .*nvidia-utils-580-server = 580.95.05-0ubuntu0.22.04.1" "$TMPD/dry.out"
check "it would reinstall the binaries of their source" \
	grep -q "install .*nvidia-headless-no-dkms-580-server-open = 580.95.05-0ubuntu0.22.04.1" "$TMPD/dry.out"
check "it would unhold what v2 held and v1 had not" grep -q "unhold .*linux-image-5.15.0-125-generic" "$TMPD/dry.out"
check "it would put the pins back" grep -q "file .*/etc/apt/preferences.d/gpuprov" "$TMPD/dry.out"
check "it would make the previous kernel the default" grep -q "Would make 5.15.0-105-generic" "$TMPD/dry.out"
gp rollback --dry-run --json >"$TMPD/dry.json" 2>/dev/null || true
check_json "rollback --dry-run --json: the actions and what stays" \
	'.kernel == "5.15.0-105-generic" and (.actions | map(select(.action == "install")) | length) >= 4 and (.kept | index("linux-modules-nvidia-580-server-open-5.15.0-125-generic"))' \
	"$TMPD/dry.json"
snapshot >"$TMPD/snap.2"
check "rollback --dry-run --json changes nothing either" cmp -s "$TMPD/snap.0" "$TMPD/snap.2"

# --- a version of v1 gone from the repository: refused, nothing changed ---
GONE=$(ls "$CH$REPO"/pool/nvidia-utils-580-server_580.95.05-0ubuntu0.22.04.1_*.deb)
mv "$GONE" "$TMPD/"
"$srcdir/tests/pkg/make-deb-repo" "$CH$REPO" >"$TMPD/reindex.log" 2>&1 || { cat "$TMPD/reindex.log" >&2; exit 1; }
cp "$STATE" "$TMPD/state.before"
grubenv >"$TMPD/grubenv.before"
rc=0
gp rollback --yes >"$TMPD/gone.out" 2>"$TMPD/gone.err" || rc=$?
check "a version of before gone from the repository: rollback refused with exit 3" test "$rc" -eq 3
check "the refusal names the package and the version" \
	grep -q "nvidia-utils-580-server 580.95.05-0ubuntu0.22.04.1 is not offered by the repositories" "$TMPD/gone.err"
check "the refusal points at --kernel-only" grep -q -- "--kernel-only" "$TMPD/gone.err"
installed >"$TMPD/dpkg.gone"
check "the refusal installed nothing" cmp -s "$TMPD/dpkg.v2" "$TMPD/dpkg.gone"
in_target apt-mark showhold >"$TMPD/holds.gone"
check "the refusal held and unheld nothing" cmp -s "$TMPD/holds.v2" "$TMPD/holds.gone"
check "the refusal left the pins" sh -c "! cmp -s '$TMPD/pins.v1' '$PINS'"
grubenv >"$TMPD/grubenv.gone"
check "the refusal left GRUB's environment" cmp -s "$TMPD/grubenv.before" "$TMPD/grubenv.gone"
check "the refusal left state.json" cmp -s "$TMPD/state.before" "$STATE"

# --- --kernel-only: the holds, the pins and the kernel; no package moves ---
rc=0
gp rollback --kernel-only --yes >"$TMPD/konly.out" 2>"$TMPD/konly.err" || rc=$?
check "rollback --kernel-only exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/konly.err"
installed >"$TMPD/dpkg.konly"
check "--kernel-only installed and removed nothing" cmp -s "$TMPD/dpkg.v2" "$TMPD/dpkg.konly"
check "--kernel-only: the pins are v1's again" cmp -s "$TMPD/pins.v1" "$PINS"
check "--kernel-only: unattended-upgrades' list is v1's again" cmp -s "$TMPD/uu.v1" "$UU"
check "--kernel-only: v2's own holds are gone" sh -c "! chroot '$CH' apt-mark showhold | grep -q 5.15.0-125"
check "--kernel-only: the previous kernel is the saved default" \
	sh -c "grub-editenv '$CH/boot/grub/grubenv' list | grep -qx 'saved_entry=$GOOD'"
check_json "--kernel-only is recorded as such" '.verified.result == "rolled back by hand" and .verified.kernel_only' "$STATE"

# --- the version back in the repository: the whole rollback ---
mv "$TMPD/$(basename "$GONE")" "$GONE"
"$srcdir/tests/pkg/make-deb-repo" "$CH$REPO" >"$TMPD/reindex.log" 2>&1 || { cat "$TMPD/reindex.log" >&2; exit 1; }
grub-editenv "$CH/boot/grub/grubenv" set saved_entry="$NEW" next_entry="$NEW"
rc=0
gp rollback --yes --json >"$TMPD/rollback.json" 2>"$TMPD/rollback.err" || rc=$?
check "rollback exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/rollback.err"
check_json "rollback reports what it did and what it kept" \
	'.ok and (.done | length) > 0 and (.kept | index("linux-modules-nvidia-580-server-open-5.15.0-125-generic"))' "$TMPD/rollback.json"
n=0
while read -r name version; do
	check "rollback: $name is at v1's $version again" has_version "$name" "$version"
	check "rollback: $name is held" held "$name"
	n=$((n + 1))
done <"$TMPD/picks.v1"
check_ran "rollback: every package of v1's stack is checked" "$n"
installed >"$TMPD/dpkg.back"
comm -23 "$TMPD/dpkg.v1" "$TMPD/dpkg.back" >"$TMPD/dpkg.missing"
check "rollback: every package of v1 is installed at v1's version" test ! -s "$TMPD/dpkg.missing"
diag_file "$TMPD/dpkg.missing"
in_target apt-mark showhold >"$TMPD/holds.back"
check "rollback: the holds are v1's, v2's gone" cmp -s "$TMPD/holds.v1" "$TMPD/holds.back"
diff "$TMPD/holds.v1" "$TMPD/holds.back" | diag_file /dev/stdin
check "rollback: the pins file is v1's" cmp -s "$TMPD/pins.v1" "$PINS"
check "rollback: the previous kernel is the saved default" \
	sh -c "grub-editenv '$CH/boot/grub/grubenv' list | grep -qx 'saved_entry=$GOOD'"
check "rollback: the boot-once entry is cancelled" sh -c "grub-editenv '$CH/boot/grub/grubenv' list | grep -qx 'next_entry='"
check_json "rollback is recorded" \
	'.verified.result == "rolled back by hand" and (.verified.kernel_only | not) and .verified.kernel == "5.15.0-105-generic"' "$STATE"
check_json "the journal names the rollback's steps, all done" \
	'.verb == "rollback" and all(.steps[]; .done) and .error == null' "$CH/var/lib/gpuprov/journal.json"
gp status --json >"$TMPD/status.json" 2>/dev/null || true
check_json "status: rolled back" '.state == "rolled back" and .applied.verified.result == "rolled back by hand"' "$TMPD/status.json"
gp status >"$TMPD/status.txt" 2>&1 || true
check "status says it was rolled back by hand, to which kernel" \
	grep -q "^Verdict *rolled back by hand at .*: kernel 5.15.0-105-generic and the stack of before" "$TMPD/status.txt"

# --- --remove-new: what came with v2 alone goes too ---
rc=0
gp rollback --remove-new --yes >"$TMPD/rmnew.out" 2>"$TMPD/rmnew.err" || rc=$?
check "rollback --remove-new exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/rmnew.err"
check "--remove-new removes what v1 did not have" \
	sh -c "! chroot '$CH' dpkg-query -W -f='\${db:Status-Status}' linux-modules-nvidia-580-server-open-5.15.0-125-generic | grep -qx installed"
check "--remove-new leaves v1" has_version nvidia-utils-580-server 580.95.05-0ubuntu0.22.04.1

done_testing
