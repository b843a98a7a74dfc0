#!/bin/sh
# What the manual page promises of apply and revert, each shown on the apt chroot of
# lib-apt-target.sh: a bundle made for another OS or architecture refused by apply --bundle
# with the node untouched; --detailed-exitcodes 4 (changed, no reboot) and 5 (changed, a
# reboot); --reboot asking for the reboot when the plan ends in one and not otherwise; and
# revert refused while another run holds the lock, changing nothing.
. "${srcdir}/tests/scenario/lib.sh"

. "${srcdir}/tests/scenario/lib-apt-target.sh"

command -v openssl >/dev/null 2>&1 || skip_all "openssl not found"
command -v python3 >/dev/null 2>&1 || skip_all "python3 not found"
command -v flock >/dev/null 2>&1 || skip_all "flock not found"
apt_target linux-image-5.15.0-105-generic=5.15.0-105.115 linux-modules-5.15.0-105-generic=5.15.0-105.115 linux-generic
reboot_stand_in

# node STATE: what gpuprov may change on the node (packages, holds, /etc, its own state and
# bundles, GRUB's files), to tell "untouched" from a change.
node() {
	{
		installed
		in_target apt-mark showhold
		find "$CH/etc" "$CH/var/lib/gpuprov" "$CH/boot" -xdev \( -type f -o -type l \) 2>/dev/null | sort | xargs -r sha256sum
	} >"$1"
}

# resign BUNDLE OUT FILTER: BUNDLE with its manifest changed by the jq FILTER and signed again
# with the site's key, so that only what the manifest says can refuse it.
resign() {
	tar -xOf "$1" manifest.json | jq -c "$3" >"$TMPD/manifest.json"
	openssl pkeyutl -sign -rawin -inkey "$TMPD/site.key" -in "$TMPD/manifest.json" -out "$TMPD/manifest.sig" || exit 1
	python3 - "$1" "$2" "$TMPD/manifest.json" "$TMPD/manifest.sig" <<'EOF' || exit 1
import io, sys, tarfile
src, dst, manifest, sig = sys.argv[1:5]
new = {"manifest.json": open(manifest, "rb").read(), "manifest.sig": open(sig, "rb").read()}
with tarfile.open(src) as s, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as d:
    for m in s.getmembers():
        data = new.get(m.name, s.extractfile(m).read())
        m.size = len(data)
        d.addfile(m, io.BytesIO(data))
EOF
}

# --- a bundle made for another OS or architecture: refused, the node untouched ---
gpuprov bundle keygen "$TMPD/site.key" >/dev/null 2>&1 || exit 1
mkdir -p "$CH/etc/gpuprov/keys.d"
cp "$TMPD/site.key.pub" "$CH/etc/gpuprov/keys.d/site.pub"
gp bundle create h100-nvlink --os ubuntu-22.04 --arch x86_64 --key "$TMPD/site.key" -o "$TMPD/h100.bundle" \
	>/dev/null 2>"$TMPD/create.err" || { cat "$TMPD/create.err" >&2; exit 1; }
resign "$TMPD/h100.bundle" "$TMPD/resigned.bundle" .
rc=0
gp bundle verify "$TMPD/resigned.bundle" >/dev/null 2>"$TMPD/resigned.err" || rc=$?
check "a bundle signed again as these tests do verifies (exit 0)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/resigned.err"
# refused NAME FILTER MESSAGE: apply --bundle of the bundle whose manifest FILTER changed
# exits 3, saying MESSAGE, and changes nothing.
refused() {
	resign "$TMPD/h100.bundle" "$TMPD/other.bundle" "$2"
	node "$TMPD/node.0"
	rc=0
	gp apply h100-nvlink --yes --bundle "$TMPD/other.bundle" >"$TMPD/other.out" 2>"$TMPD/other.err" || rc=$?
	node "$TMPD/node.1"
	check "a bundle made for $1: apply --bundle refuses (exit 3)" test "$rc" -eq 3
	check "$1: it says what the bundle is for and what the node is" grep -qF "$3" "$TMPD/other.err"
	[ "$rc" -eq 3 ] && grep -qF "$3" "$TMPD/other.err" || diag_file "$TMPD/other.err"
	check "$1: nothing installed, unpacked or written" cmp -s "$TMPD/node.0" "$TMPD/node.1"
	cmp -s "$TMPD/node.0" "$TMPD/node.1" || diff "$TMPD/node.0" "$TMPD/node.1" | head -20 | diag_file /dev/stdin
}
refused "another OS" '.os = "rocky-9"' "was made for rocky-9; this node runs ubuntu 22.04"
refused "another architecture" '.arch = "aarch64"' "was made for aarch64; this node is x86_64"
check "no bundle is left unpacked" sh -c "! ls -A '$CH/var/lib/gpuprov/bundles' 2>/dev/null | grep -q ."
rm -r "$CH/etc/gpuprov/keys.d"

# --- a change that needs no reboot: 4, and --reboot leaves the node running ---
# The running kernel kept, no driver, no module blacklisted: only files and holds change.
mkdir -p "$CH/etc/gpuprov/profiles"
printf '{ "name": "stay", "include": ["no-gpu"], "kernel": { "release": "5.15.0-105-generic" } }\n' \
	>"$CH/etc/gpuprov/profiles/stay.json"
gp plan stay --json >"$TMPD/stay.plan" 2>/dev/null || true
check_json "the plan changes files and needs no reboot" \
	'(.reboot_required | not) and any(.actions[]; .action == "file")' "$TMPD/stay.plan"
reboots >/dev/null
rc=0
gp apply stay --yes --json --reboot --detailed-exitcodes >"$TMPD/stay.json" 2>"$TMPD/stay.err" || rc=$?
check "--detailed-exitcodes: changed, no reboot needed (4)" test "$rc" -eq 4
[ "$rc" -eq 4 ] || diag_file "$TMPD/stay.err"
check_json "apply reports the change, no reboot" '.changed and (.reboot_required | not)' "$TMPD/stay.json"
check "--reboot: no reboot asked for" test "$(reboots)" -eq 0

# --- a kernel switch: 5, and --reboot asks for the reboot, once ---
gp plan h100-nvlink --json >"$TMPD/h100.plan" 2>/dev/null || true
check_json "the h100-nvlink plan ends in a reboot" '.reboot_required and .actions[-1].action == "reboot"' "$TMPD/h100.plan"
rc=0
gp apply h100-nvlink --yes --json --reboot --detailed-exitcodes >"$TMPD/h100.json" 2>"$TMPD/h100.err" || rc=$?
check "--detailed-exitcodes: changed, reboot needed (5)" test "$rc" -eq 5
[ "$rc" -eq 5 ] || diag_file "$TMPD/h100.err"
check "--reboot: one reboot asked for" test "$(reboots)" -eq 1
# Before that reboot, a second run finds only the reboot left: nothing changes (0) and the
# reboot is asked for again.
rc=0
gp apply h100-nvlink --yes --json --reboot --detailed-exitcodes >"$TMPD/again.json" 2>"$TMPD/again.err" || rc=$?
check "only the reboot left: nothing changed (0)" test "$rc" -eq 0
check_json "only the reboot left: no change, the reboot pending" \
	'(.changed | not) and (.pending | map(select(startswith("reboot"))) | length == 1)' "$TMPD/again.json"
check "only the reboot left: --reboot asks for it again" test "$(reboots)" -eq 1
rc=0
gp apply h100-nvlink --yes --json --detailed-exitcodes >/dev/null 2>&1 || rc=$?
check "without --reboot, no reboot asked for" sh -c "[ $rc -eq 0 ] && [ $(reboots) -eq 0 ]"

# --- revert while another run holds the lock: refused, nothing changed ---
gp revert --dry-run --json >"$TMPD/revert-dry.json" 2>/dev/null || true
check_json "there are managed files to revert" '.done | length > 0' "$TMPD/revert-dry.json"
exec 9>"$CH/run/gpuprov.lock"
echo $$ >&9
flock -x 9
node "$TMPD/node.0"
rc=0
gp revert >"$TMPD/locked.out" 2>"$TMPD/locked.err" || rc=$?
node "$TMPD/node.1"
check "revert while the lock is held: refused (exit 3)" test "$rc" -eq 3
check "it names the holder's pid and the lock" grep -q "another gpuprov run (pid $$) holds $CH/run/gpuprov.lock" "$TMPD/locked.err"
check "revert while the lock is held changes nothing" cmp -s "$TMPD/node.0" "$TMPD/node.1"
cmp -s "$TMPD/node.0" "$TMPD/node.1" || diff "$TMPD/node.0" "$TMPD/node.1" | head -20 | diag_file /dev/stdin
exec 9>&-
rc=0
gp revert >"$TMPD/revert.out" 2>"$TMPD/revert.err" || rc=$?
node "$TMPD/node.2"
check "the lock released, revert puts the files back" sh -c "[ $rc -eq 0 ] && ! cmp -s '$TMPD/node.1' '$TMPD/node.2'"

done_testing
