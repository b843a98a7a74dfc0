#!/bin/sh
# gpuprov apply against the real apt and dpkg, on the DGX H100 dressed chroot of
# lib-apt-target.sh: exact versions, holds, pins, the previous kernel kept, idempotence,
# and upgrades that move nothing.
. "${srcdir}/tests/scenario/lib.sh"

. "${srcdir}/tests/scenario/lib-apt-target.sh"

command -v systemctl >/dev/null 2>&1 || skip_all "systemctl not found"
# The node before gpuprov: the running kernel (5.15.0-105) and the GA meta package, which
# brings 5.15.0-125 beside it, as a DGX OS install would be.
apt_target linux-image-5.15.0-105-generic=5.15.0-105.115 linux-modules-5.15.0-105-generic=5.15.0-105.115 linux-generic

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
jq -r '.stack.packages[] | "\(.name) \(.version)"' "$TMPD/plan.json" >"$TMPD/picks"
while read -r name version; do
	check "$name is installed at exactly $version" has_version "$name" "$version"
	check "$name is held" held "$name"
done <"$TMPD/picks"
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

# --- newer versions published: upgrades move nothing, autoremove keeps the old kernel ---
mkdir -p "$TMPD/newer"
for f in "$LISTS"/*_Packages; do cat "$f"; echo; done | sed -e 's/^Version: 580\.95\.05-0ubuntu0\.22\.04\.1$/Version: 580.95.05-0ubuntu0.22.04.2/' \
	-e 's/^Version: 580\.95\.05-1$/Version: 580.95.05-2/' \
	-e 's/^Version: 13\.0\.2-1$/Version: 13.0.2-2/' \
	-e 's/^Version: 6\.8\.0-49\.49~22\.04\.1$/Version: 6.8.0-49.50~22.04.1/' >"$TMPD/newer/Packages"
"$srcdir/tests/pkg/make-deb-repo" --base-status "$CH/var/lib/dpkg/status" "$CH$REPO" "$LISTS"/*_Packages \
	"$TMPD/newer/Packages" >"$TMPD/repo2.log" 2>&1 || { cat "$TMPD/repo2.log" >&2; exit 1; }
in_target apt-get update -q >/dev/null
check "the newer versions are offered" sh -c "chroot '$CH' apt-cache madison nvidia-fabricmanager-580 | grep -q 580.95.05-2"
installed >"$TMPD/dpkg.4"
for how in upgrade dist-upgrade autoremove; do
	in_target apt-get "$how" -y -q >"$TMPD/$how.log" 2>&1
	installed >"$TMPD/dpkg.$how"
	check "apt-get $how moves nothing" cmp -s "$TMPD/dpkg.4" "$TMPD/dpkg.$how"
	cmp -s "$TMPD/dpkg.4" "$TMPD/dpkg.$how" || diff "$TMPD/dpkg.4" "$TMPD/dpkg.$how" | sed 's/^/# /'
done
check "the previous kernel is still installed" has_version linux-image-5.15.0-105-generic 5.15.0-105.115

done_testing
