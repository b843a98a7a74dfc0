#!/bin/sh
# What state.json keeps through verify, revert and apply on the DGX H100 fake machine: a
# kernel verify rolled back stays refused after revert put the files back, so that the next
# apply of the same profile does not choose it again (revert used to write a state of its
# own, {"reverted": true}, and the kernel became choosable again).
. "$srcdir/tests/scenario/lib.sh"

command -v grub-editenv >/dev/null 2>&1 || { echo "1..0 # SKIP grub-editenv not found"; exit 0; }
M="$TMPD/dgx"
dgx_with_driver "$M"
mkdir -p "$M/var/lib/gpuprov"
LD_LIBRARY_PATH="$top_builddir/tests/helpers${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
GPUPROV_TEST_NVML_COUNT=8
export LD_LIBRARY_PATH GPUPROV_TEST_NVML_COUNT
reboot_stand_in
gv() { gpuprov --root "$M" "$@"; }
STATE="$M/var/lib/gpuprov/state.json"

# The machine runs 5.15.0-105-generic; an apply of h100-nvlink switched it to 6.8.0-49-generic
# (the only kernel the profile's range allows here), as apply records it, and wrote /etc/motd
# (its content before gpuprov kept as apply's file writer keeps it).
cat >"$STATE" <<'EOF2'
{ "profile": "h100-nvlink", "applied": "2026-11-01T00:00:00Z", "kernel": "6.8.0-49-generic",
  "previous_kernel": "5.15.0-105-generic", "driver": "550.54.15", "cuda": null, "source": "distro",
  "flavour": "open", "rdma": false, "modules": { "absent": [], "loaded": [] }, "verify_reboot": true,
  "reboot_required": true, "packages": [] }
EOF2
mkdir -p "$M/var/lib/gpuprov/backup/etc"
cp "$M/etc/motd" "$M/var/lib/gpuprov/backup/etc/motd" 2>/dev/null || : >"$M/var/lib/gpuprov/backup/etc/motd.absent"
printf 'written by apply\n' >"$M/etc/motd"

# The node came back on the known-good kernel: verify --commit fails the stack and rolls back.
rc=0
gv verify --commit --no-reboot >"$TMPD/verify.out" 2>&1 || rc=$?
check "verify --commit on the known-good kernel exits 3" test "$rc" -eq 3
[ "$rc" -eq 3 ] || diag_file "$TMPD/verify.out"
check_json "it remembers 6.8.0-49-generic as rolled back here" \
	'.verified.result == "rolled back" and [.failed_kernels[].kernel] == ["6.8.0-49-generic"]' "$STATE"

# revert: the files back as they were; the stack record goes, the failed kernel stays.
rc=0
gv revert >"$TMPD/revert.out" 2>&1 || rc=$?
check "revert exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/revert.out"
check "revert put /etc/motd back" sh -c "! grep -q 'written by apply' '$M/etc/motd' 2>/dev/null"
check_json "state.json says reverted, and no stack" '.reverted and .kernel == null and .profile == null' "$STATE"
check_json "state.json still names the kernel verify rolled back, with when and why" \
	'[.failed_kernels[].kernel] == ["6.8.0-49-generic"] and (.failed_kernels[0].at | test("^20")) and (.failed_kernels[0].failed | length) >= 1' \
	"$STATE"
gv status --json >"$TMPD/status.json" 2>/dev/null || true
check_json "status: reverted" '.state == "reverted"' "$TMPD/status.json"

# The same profile again: the kernel is still not chosen, and with no other kernel in the
# profile's range, apply refuses before anything changes.
cp "$STATE" "$TMPD/state.before"
rc=0
gv --profiles "$srcdir/profiles" apply h100-nvlink --no-refresh --yes >"$TMPD/apply.out" 2>&1 || rc=$?
# (Exit 3 alone would not tell: this machine has no apt to install with, and apply refuses
# any stack that chose the kernel at its check.)
check "apply of the same profile after revert: refused (exit 3) as verify rolled the kernel back here" \
	sh -c "[ $rc -eq 3 ] && grep -q 'kernel 6.8.0-49-generic: verify rolled it back on this node' '$TMPD/apply.out'"
[ "$rc" -eq 3 ] || diag_file "$TMPD/apply.out"
check "the refusal left state.json as it was" cmp -s "$TMPD/state.before" "$STATE"
gv --profiles "$srcdir/profiles" plan h100-nvlink --retry-failed --json >"$TMPD/retry.json" 2>/dev/null || true
check_json "--retry-failed still allows it" '.stack.kernel == "6.8.0-49-generic"' "$TMPD/retry.json"

done_testing
