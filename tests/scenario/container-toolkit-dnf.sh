#!/bin/sh
# The NVIDIA Container Toolkit with the stack on a dnf installroot (the HGX A100's Rocky 9 of
# lib-dnf-target.sh, a100-stable): stand-in RPMs of the toolkit at 1.17.3 (vulnerable) beside
# the machine's view of NVIDIA's toolkit repository (1.17.8, 1.18.1, 1.20.0). A pin to 1.17.3
# is refused with nothing changed; latest-for-driver installs the four packages at 1.20.0-1,
# the newest offered, and versionlocks exactly them; a second apply changes nothing.
# tests/scenario/container-toolkit.sh is the same and more on an apt target.
. "${srcdir}/tests/scenario/lib.sh"

. "${srcdir}/tests/scenario/lib-dnf-target.sh"

CTK="libnvidia-container1 libnvidia-container-tools nvidia-container-toolkit-base nvidia-container-toolkit"
CH="$TMPD/target"
LOCKS="$CH/etc/dnf/plugins/versionlock.list"
"$srcdir/tests/pkg/ctk-packages" rpm x86_64 1.17.3 >"$TMPD/ctk.json"
"$srcdir/tests/pkg/make-rpm-repo" "$REPO" "$TMPD/ctk.json" >"$TMPD/ctk.log" 2>&1 || { cat "$TMPD/ctk.log" >&2; exit 1; }
new_target "$CH"
mkdir -p "$CH/etc/gpuprov/profiles"
echo '{ "name": "ctk", "include": ["a100-stable"], "container": { "runtimes": ["podman"] } }' \
	>"$CH/etc/gpuprov/profiles/ctk.json"
echo '{ "name": "ctk-vuln", "include": ["ctk"], "container": { "toolkit": "1.17.3" } }' \
	>"$CH/etc/gpuprov/profiles/ctk-vuln.json"
snapshot() {
	{
		installed "$CH"
		find "$CH/etc" -xdev \( -type f -o -type l \) 2>/dev/null | sort | xargs -r sha256sum
	} >"$1"
}

# --- a vulnerable pin changes nothing ---
snapshot "$TMPD/before"
rc=0
gp "$CH" apply ctk-vuln --yes >"$TMPD/vuln.out" 2>"$TMPD/vuln.err" || rc=$?
check "a pin to 1.17.3: refused (exit 3)" test "$rc" -eq 3
check "the refusal names CVE-2025-23266 and its fix" grep -qF "CVE-2025-23266 (fixed in 1.17.8)" "$TMPD/vuln.out"
snapshot "$TMPD/after"
check "the refusal changed nothing" cmp -s "$TMPD/before" "$TMPD/after"

# --- latest-for-driver, installed and locked ---
rc=0
gp "$CH" apply ctk --yes --json >"$TMPD/apply.json" 2>"$TMPD/apply.err" || rc=$?
check "apply ctk exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/apply.err"
for n in $CTK; do
	check "$n-1.20.0-1 is installed" has "$CH" "$n-1.20.0-1"
done
grep -E '^(lib)?nvidia-container' "$LOCKS" | sort >"$TMPD/locks"
check "exactly the four are versionlocked, at 1.20.0-1" \
	test "$(cat "$TMPD/locks")" = "$(for n in $CTK; do echo "$n-0:1.20.0-1.*"; done | sort)"
check "nvidia-ctk is the stand-in, from nvidia-container-toolkit-base" cmp -s "$srcdir/tests/pkg/nvidia-ctk" "$CH/usr/bin/nvidia-ctk"

installed "$CH" >"$TMPD/rpm.1"
rc=0
gp "$CH" apply ctk --yes --json >"$TMPD/again.json" 2>"$TMPD/again.err" || rc=$?
check "a second apply exits 0" test "$rc" -eq 0
check_json "a second apply reports no change" '.changed == false and (.done | length) == 0' "$TMPD/again.json"
installed "$CH" >"$TMPD/rpm.2"
check "a second apply installed nothing" cmp -s "$TMPD/rpm.1" "$TMPD/rpm.2"

done_testing
