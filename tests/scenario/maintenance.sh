#!/bin/sh
# Maintenance the scheduler knows about, on the apt target of lib-apt-target.sh with the
# stand-ins of lib-schedulers.sh for scontrol, kubectl and a site's hook: apply drains a
# Slurm node before its first change and waits for its jobs, a drain that does not end in
# time is undone and refuses, verify --commit resumes only gpuprov's own drain and holds
# the node after a rollback, an admin's drain is left alone; Kubernetes' annotate, cordon,
# drain and uncordon; the hooks; status --reboot-required; revert and the drop-in. The
# verdicts come from the DGX H100 fake machine as sysroot (as verify.sh makes them).
. "${srcdir}/tests/scenario/lib.sh"
. "${srcdir}/tests/scenario/lib-apt-target.sh"
. "${srcdir}/tests/scenario/lib-schedulers.sh"

command -v systemctl >/dev/null 2>&1 || skip_all "systemctl not found"
command -v grub-editenv >/dev/null 2>&1 || skip_all "grub-editenv not found"
apt_target linux-image-5.15.0-105-generic=5.15.0-105.115 linux-modules-5.15.0-105-generic=5.15.0-105.115 linux-generic
stand_ins "$CH"
mkdir -p "$CH/etc/gpuprov/profiles"
# profile NAME MAINTENANCE [MORE]: a site profile of the DGX H100's stack with that section,
# containers off: verify's CDI check wants the spec gpuprov-cdi.service makes at boot, which
# the fake boots here do not run (container-cdi.sh checks it).
profile() {
	printf '{ "name": "%s", "include": ["h100-nvlink"], "container": { "toolkit": "none" }, "maintenance": %s%s }\n' "$1" "$2" "${3:-}" \
		>"$CH/etc/gpuprov/profiles/$1.json"
}
profile slurm '{ "scheduler": "slurm", "node": "gpu-a-017", "drain_timeout": 30 }'
profile slurm-quick '{ "scheduler": "slurm", "node": "gpu-a-017", "drain_timeout": 3 }'
profile kube '{ "scheduler": "kubernetes", "node": "gpu-a-017", "kubeconfig": "/etc/gpuprov/kubeconfig", "drain_timeout": 60 }'
profile hooks '{ "node": "gpu-a-017", "pre": ["site-hook", "--now"], "post": ["site-hook", "--resume"] }'
# A layer's hook replaces the one it includes (a command is one whole, not a list to add to).
printf '{ "name": "layered", "include": ["hooks"], "maintenance": { "pre": ["site-hook", "--later"] } }\n' \
	>"$CH/etc/gpuprov/profiles/layered.json"
# No kernel or driver to change: the running kernel, settings only.
printf '{ "name": "tune", "kernel": { "release": "5.15.0-105-generic" }, "driver": { "source": "none" }, "sysctl": { "vm.swappiness": 10 }, "maintenance": { "scheduler": "slurm", "node": "gpu-a-017" } }\n' \
	>"$CH/etc/gpuprov/profiles/tune.json"
target_keep

# The node after its reboot, for verify: the DGX H100 with the stack's driver loaded (the
# fabric manager apply installed is checked against it), in another boot.
M="$TMPD/dgx"
dgx_with_driver "$M"
for f in proc/driver/nvidia/version sys/module/nvidia*/version; do
	sed -i 's/550\.54\.15/580.95.05/' "$M"/$f
done
printf '6,1202,5000100,-;NVRM: loading NVIDIA UNIX Open Kernel Module\n' >"$M/dev/kmsg"
mkdir -p "$M/proc/sys/kernel/random"
echo 0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d >"$M/proc/sys/kernel/random/boot_id"
LD_LIBRARY_PATH="$top_builddir/tests/helpers${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
GPUPROV_TEST_NVML_COUNT=8
export LD_LIBRARY_PATH GPUPROV_TEST_NVML_COUNT
reboot_stand_in
STATE=var/lib/gpuprov/state.json
DROPIN=etc/systemd/system/slurmd.service.d/gpuprov.conf

# verify_on_new_stack: state.json's stack made the one the fake machine runs (what apply
# recorded, as if the node had booted into it), so that verify's verdict is "committed".
verify_on_new_stack() {
	jq '. + { kernel: "5.15.0-105-generic", previous_kernel: "5.15.0-94-generic", driver: "580.95.05",
		flavour: "open", source: "distro", rdma: true, cuda: null, modules: { absent: [], loaded: [] } }' \
		"$CH/$STATE" >"$TMPD/s" && cp "$TMPD/s" "$CH/$STATE"
}
gv() { gpuprov --root "$CH" --sysroot "$M" "$@"; }
# expect DESCRIPTION FILE: the calls recorded since the last look are exactly FILE's lines.
expect_calls() {
	calls >"$TMPD/calls"
	if cmp -s "$2" "$TMPD/calls"; then
		ok "$1"
	else
		not_ok "$1"
		diff "$2" "$TMPD/calls" | diag_file /dev/stdin
	fi
}

# --- a plan that needs a reboot: maintenance first, the drop-in; the scheduler not asked ---
target_fresh
rc=0
gp status --reboot-required >"$TMPD/rr.out" 2>&1 || rc=$?
check "status --reboot-required before any apply: exit 1, nothing printed" sh -c "[ $rc -eq 1 ] && [ ! -s '$TMPD/rr.out' ]"
gp -v status --reboot-required >"$TMPD/rr.out" 2>&1 || true
check "with -v it says so" grep -qx "Reboot      not pending" "$TMPD/rr.out"
gp plan slurm --json >"$TMPD/plan.json"
check_json "plan: the first action drains the Slurm node" \
	'.actions[0].action == "maintenance" and .actions[0].target == "slurm node gpu-a-017" and (.actions[0].reason | test("gpuprov: RUNID"))' \
	"$TMPD/plan.json"
check_json "plan: the slurmd drop-in orders it after gpuprov-verify" \
	"[.actions[] | select(.action == \"file\" and .target == \"/$DROPIN\")] | length == 1" "$TMPD/plan.json"
: >"$TMPD/none"
expect_calls "plan asks the scheduler nothing" "$TMPD/none"

gp show layered >"$TMPD/layered.json"
check_json "an including profile's pre hook replaces the included one's; post is inherited" \
	'.settings.maintenance.pre == ["site-hook", "--later"] and .settings.maintenance.post == ["site-hook", "--resume"]' "$TMPD/layered.json"

# --- a plan that needs no reboot does not drain ---
gp plan tune --json >"$TMPD/tune.json"
check_json "a plan with no reboot has no maintenance action" \
	'.reboot_required == false and ([.actions[] | select(.action == "maintenance")] | length == 0)' "$TMPD/tune.json"
rc=0
gp apply tune --yes >"$TMPD/tune.out" 2>&1 || rc=$?
check "its apply succeeds" test "$rc" -eq 0
expect_calls "and runs no scontrol" "$TMPD/none"
check "state.json has no maintenance" sh -c "jq -e '.maintenance == null' '$CH/$STATE'"

# --- a failing pre hook refuses, nothing changed ---
target_fresh
installed >"$TMPD/dpkg.0"
: >"$CH/var/lib/gpuprov-test/hook-fails"
rc=0
gp apply hooks --yes >"$TMPD/hook.out" 2>&1 || rc=$?
check "a failing pre hook refuses the apply (exit 3)" test "$rc" -eq 3
[ "$rc" -eq 3 ] || diag_file "$TMPD/hook.out"
check "the refusal says the pre hook failed" grep -q "the pre hook failed" "$TMPD/hook.out"
installed >"$TMPD/dpkg.1"
check "it installed nothing" cmp -s "$TMPD/dpkg.0" "$TMPD/dpkg.1"
check "it wrote no file" test ! -e "$CH/etc/apt/preferences.d/gpuprov"
check "it recorded no maintenance" sh -c "! jq -e '.maintenance' '$CH/$STATE' 2>/dev/null"
calls >"$TMPD/calls"
check "the hook ran once, as pre, with its argv" sh -c "[ \$(wc -l <'$TMPD/calls') -eq 1 ] && grep -q '^site-hook --now phase=pre run=20[0-9]*T[0-9]*Z-[0-9a-f]\{6\} node=gpu-a-017 profile=hooks reason=gpuprov: ' '$TMPD/calls'"

# --- hooks: pre at start, post at end, with their environment ---
rm "$CH/var/lib/gpuprov-test/hook-fails"
rc=0
gp maintenance start hooks >"$TMPD/start.out" 2>&1 || rc=$?
check "maintenance start hooks: exit 0" test "$rc" -eq 0
RUN=$(jq -r .maintenance.run_id "$CH/$STATE")
printf 'site-hook --now phase=pre run=%s node=gpu-a-017 profile=hooks reason=gpuprov: %s\n' "$RUN" "$RUN" >"$TMPD/want"
expect_calls "the pre hook ran with GPUPROV_PHASE, _RUN_ID, _NODE, _PROFILE and _REASON" "$TMPD/want"
rc=0
gp maintenance end >"$TMPD/end.out" 2>&1 || rc=$?
check "maintenance end: exit 0" test "$rc" -eq 0
printf 'site-hook --resume phase=post run=%s node=gpu-a-017 profile=hooks reason=gpuprov: %s\n' "$RUN" "$RUN" >"$TMPD/want"
expect_calls "the post hook ran, as post" "$TMPD/want"
check "the record is ended" sh -c "jq -e '.maintenance.ended | test(\"^20\")' '$CH/$STATE'"
rc=0
gp maintenance end >"$TMPD/end2.out" 2>&1 || rc=$?
check "maintenance end with nothing to end: exit 0" test "$rc" -eq 0
expect_calls "and runs nothing" "$TMPD/none"

# --- a drain that does not end in time: undone, refused, nothing changed ---
target_fresh
installed >"$TMPD/dpkg.0"
node_set jobs 1000
rc=0
gp apply slurm-quick --yes >"$TMPD/quick.out" 2>&1 || rc=$?
check "a node that keeps its jobs past drain_timeout: apply refuses (exit 3)" test "$rc" -eq 3
[ "$rc" -eq 3 ] || diag_file "$TMPD/quick.out"
check "the refusal names the timeout" grep -q "still had jobs after 3s (drain_timeout)" "$TMPD/quick.out"
calls >"$TMPD/calls"
check "it drained, polled, and resumed last" sh -c "
	sed -n 2p '$TMPD/calls' | grep -q '^scontrol update nodename=gpu-a-017 state=drain \"reason=gpuprov: ' &&
	[ \$(grep -c '^scontrol show node gpu-a-017 --oneliner\$' '$TMPD/calls') -ge 2 ] &&
	[ \"\$(tail -n 1 '$TMPD/calls')\" = 'scontrol update nodename=gpu-a-017 state=resume' ]"
[ "$tap_failed" -eq 0 ] || diag_file "$TMPD/calls"
check "the node is back to IDLE" sh -c "[ \"\$(cat '$CH/var/lib/gpuprov-test/state')\" = IDLE ]"
installed >"$TMPD/dpkg.1"
check "it installed nothing" cmp -s "$TMPD/dpkg.0" "$TMPD/dpkg.1"
check "it wrote no file (no pins, no drop-in)" sh -c "[ ! -e '$CH/etc/apt/preferences.d/gpuprov' ] && [ ! -e '$CH/$DROPIN' ]"
check "it recorded no maintenance" sh -c "! jq -e '.maintenance' '$CH/$STATE' 2>/dev/null"

# --- apply drains with gpuprov's reason and waits for the jobs ---
target_fresh
node_set jobs 1
rc=0
gp apply slurm --yes --json --detailed-exitcodes >"$TMPD/apply.json" 2>"$TMPD/apply.err" || rc=$?
check "apply slurm: changed, reboot needed (5)" test "$rc" -eq 5
[ "$rc" -eq 5 ] || diag_file "$TMPD/apply.err"
RUN=$(jq -r .maintenance.run_id "$CH/$STATE")
check "the run id is the time and six hex digits" sh -c "echo '$RUN' | grep -qx '20[0-9]\{6\}T[0-9]\{6\}Z-[0-9a-f]\{6\}'"
{
	echo "scontrol show node gpu-a-017 --oneliner"
	echo "scontrol update nodename=gpu-a-017 state=drain \"reason=gpuprov: $RUN\""
	echo "scontrol show node gpu-a-017 --oneliner"
	echo "scontrol show node gpu-a-017 --oneliner"
} >"$TMPD/want"
expect_calls "apply: show, drain with reason \"gpuprov: RUNID\", then polls until IDLE+DRAIN" "$TMPD/want"
check_json "state.json records gpuprov's drain" \
	".maintenance | .scheduler == \"slurm\" and .node == \"gpu-a-017\" and .drained == true and .reason == \"gpuprov: $RUN\" and .ended == null and .held == null and (.since | test(\"^20\"))" \
	"$CH/$STATE"
check_json "the drain came before the first package (the journal's order)" \
	'[.steps[].step] | (index("maintenance slurm node gpu-a-017")) as $m | $m != null and $m < (map(test("^install")) | index(true))' \
	"$CH/var/lib/gpuprov/journal.json"
check "the slurmd drop-in is written" sh -c "grep -qx 'After=gpuprov-verify.service' '$CH/$DROPIN' && grep -qx 'Wants=gpuprov-verify.service' '$CH/$DROPIN'"
gp status --json >"$TMPD/status.json"
check_json "status --json shows the record under applied" ".applied.maintenance.run_id == \"$RUN\"" "$TMPD/status.json"
rc=0
gp status --reboot-required >"$TMPD/rr.out" 2>&1 || rc=$?
check "status --reboot-required after the kernel switch: exit 0, nothing printed" sh -c "[ $rc -eq 0 ] && [ ! -s '$TMPD/rr.out' ]"
rc=0
gp maintenance status --json >"$TMPD/mstatus.json" 2>&1 || rc=$?
check "maintenance status: exit 0" test "$rc" -eq 0
check_json "maintenance status: the record and Slurm's view now, its reason without [user@time]" \
	".maintenance.run_id == \"$RUN\" and .scheduler.state == \"IDLE+DRAIN\" and .scheduler.reason == \"gpuprov: $RUN\"" \
	"$TMPD/mstatus.json"
calls >/dev/null
# keep_applied: the record and the node as apply left them, kept; back_to_applied puts them back.
keep_applied() {
	rm -rf "$TMPD/applied"
	mkdir -p "$TMPD/applied"
	cp -a "$CH/$STATE" "$CH/var/lib/gpuprov-test" "$TMPD/applied/"
}
back_to_applied() {
	cp "$TMPD/applied/state.json" "$CH/$STATE"
	rm -rf "$CH/var/lib/gpuprov-test"
	cp -a "$TMPD/applied/gpuprov-test" "$CH/var/lib/gpuprov-test"
}
keep_applied

# --- verify --commit committed: gpuprov's drain is resumed ---
verify_on_new_stack
rc=0
gv verify --commit --no-reboot >"$TMPD/commit.out" 2>&1 || rc=$?
check "verify --commit on the new stack: exit 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/commit.out"
printf 'scontrol show node gpu-a-017 --oneliner\nscontrol update nodename=gpu-a-017 state=resume\n' >"$TMPD/want"
expect_calls "committed: show, then resume" "$TMPD/want"
check_json "the record is ended, nothing left behind" '.verified.result == "committed" and (.maintenance.ended | test("^20")) and .maintenance.left == null' "$CH/$STATE"

# --- the controller restarted with the node (slurmd waits for verify): Slurm refuses to
# resume a node it has not heard from, yet clears its drain ---
back_to_applied
node_set state UNKNOWN+DRAIN+NOT_RESPONDING
verify_on_new_stack
rc=0
gv verify --commit --no-reboot >"$TMPD/unknown.out" 2>&1 || rc=$?
check "verify --commit on a node slurmctld has not heard from yet: exit 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/unknown.out"
printf 'scontrol show node gpu-a-017 --oneliner\nscontrol update nodename=gpu-a-017 state=resume\nscontrol show node gpu-a-017 --oneliner\n' >"$TMPD/want"
expect_calls "show, resume (refused), show again: no longer drained" "$TMPD/want"
check_json "its drain cleared, the resume counts: the record is ended, nothing left behind" \
	'(.maintenance.ended | test("^20")) and .maintenance.left == null' "$CH/$STATE"

# --- an admin's reason after gpuprov drained: not undone ---
back_to_applied
node_set reason "hw-fault: GPU 3 fell off the bus [admin@2026-12-07T02:00:00]"
verify_on_new_stack
rc=0
gv verify --commit --no-reboot >"$TMPD/admin.out" 2>&1 || rc=$?
check "verify --commit with an admin's reason: exit 0" test "$rc" -eq 0
printf 'scontrol show node gpu-a-017 --oneliner\n' >"$TMPD/want"
expect_calls "it only looks: no resume" "$TMPD/want"
check "the node stays drained with the admin's reason" sh -c "grep -q '^hw-fault: GPU 3' '$CH/var/lib/gpuprov-test/reason' && grep -q DRAIN '$CH/var/lib/gpuprov-test/state'"
check_json "the record ends, saying the drain is no longer gpuprov's" \
	'(.maintenance.ended | test("^20")) and (.maintenance.left | test("no longer gpuprov.s"))' "$CH/$STATE"
check "verify says so" grep -q "left as it is: the drain is no longer gpuprov's" "$TMPD/admin.out"

# --- rolled back: the node is held; end refuses without --force ---
back_to_applied
rc=0
gv verify --commit --no-reboot >"$TMPD/rb.out" 2>&1 || rc=$?
check "verify --commit on the old kernel: rolled back (exit 3)" test "$rc" -eq 3
calls >"$TMPD/calls"
check "held: the reason becomes \"gpuprov: RUNID: verify failed: ...\"" sh -c "
	[ \$(wc -l <'$TMPD/calls') -eq 2 ] && head -n 1 '$TMPD/calls' | grep -qx 'scontrol show node gpu-a-017 --oneliner' &&
	sed -n 2p '$TMPD/calls' | grep -q '^scontrol update nodename=gpu-a-017 state=drain \"reason=gpuprov: $RUN: verify failed: .'"
[ "$tap_failed" -eq 0 ] || diag_file "$TMPD/calls"
check_json "the record says held, with the new reason, not ended" \
	".verified.result == \"rolled back\" and (.maintenance.held | length > 0) and (.maintenance.reason | startswith(\"gpuprov: $RUN: verify failed: \")) and .maintenance.ended == null" \
	"$CH/$STATE"
rc=0
gp maintenance end >"$TMPD/end.out" 2>&1 || rc=$?
check "maintenance end on a held node: exit 3" test "$rc" -eq 3
check "it says --force lets it back" grep -q -- "--force lets it back" "$TMPD/end.out"
expect_calls "and asks the scheduler nothing" "$TMPD/none"

# A new apply on the held node is the operator's retry: it drains nothing more, and the
# verify after it decides. Committed: the node is let back without --force.
rm -rf "$TMPD/held" && mkdir -p "$TMPD/held" && cp -a "$CH/$STATE" "$CH/var/lib/gpuprov-test" "$TMPD/held/"
rc=0
gp apply slurm --yes --retry-failed >"$TMPD/retry.out" 2>&1 || rc=$?
check "apply on the held node: exit 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/retry.out"
check "apply says it retries the held maintenance" grep -q "gpu-a-017 was held in gpuprov's maintenance (run $RUN: .*); this apply retries" "$TMPD/retry.out"
expect_calls "apply drains nothing more" "$TMPD/none"
check_json "the record keeps its run and says when it was retried" \
	".maintenance.run_id == \"$RUN\" and (.maintenance.retried | test(\"^20\")) and (.maintenance.held | length > 0) and .maintenance.ended == null" "$CH/$STATE"
gp status >"$TMPD/retry-status.out" 2>&1 || true
check "status shows the maintenance held and retried" \
	grep -q "^Maintenance slurm gpu-a-017, run $RUN, drained by gpuprov (held, retried 20" "$TMPD/retry-status.out"
verify_on_new_stack
rc=0
gv verify --commit --no-reboot >"$TMPD/retry-commit.out" 2>&1 || rc=$?
check "verify --commit after the retry: exit 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/retry-commit.out"
printf 'scontrol show node gpu-a-017 --oneliner\nscontrol update nodename=gpu-a-017 state=resume\n' >"$TMPD/want"
expect_calls "committed after the retry: show, then resume" "$TMPD/want"
check_json "the retried record is ended" '(.maintenance.ended | test("^20")) and .maintenance.left == null' "$CH/$STATE"
gp status >"$TMPD/retry-status.out" 2>&1 || true
check "status shows it ended" grep -q "^Maintenance slurm gpu-a-017, run $RUN, ended 20" "$TMPD/retry-status.out"
cp "$TMPD/held/state.json" "$CH/$STATE"
rm -rf "$CH/var/lib/gpuprov-test" && cp -a "$TMPD/held/gpuprov-test" "$CH/var/lib/gpuprov-test"
rc=0
gp maintenance end --force --json >"$TMPD/force.json" 2>"$TMPD/force.err" || rc=$?
check "maintenance end --force: exit 0" test "$rc" -eq 0
printf 'scontrol show node gpu-a-017 --oneliner\nscontrol update nodename=gpu-a-017 state=resume\n' >"$TMPD/want"
expect_calls "--force: show, then resume" "$TMPD/want"
check_json "--force ends the record" '.ok and (.maintenance.ended | test("^20"))' "$TMPD/force.json"

# --- revert: the drop-in goes with gpuprov's other files ---
rc=0
gp revert >"$TMPD/revert.out" 2>&1 || rc=$?
check "revert: exit 0" test "$rc" -eq 0
check "revert removed the slurmd drop-in" test ! -e "$CH/$DROPIN"

# --- an admin's drain before apply: apply and verify leave it alone ---
target_fresh
node_set state IDLE+DRAIN
node_set reason "hw-fault [admin@2026-12-06T10:00:00]"
rc=0
gp apply slurm --yes >"$TMPD/hw.out" 2>&1 || rc=$?
check "apply on a node an admin drained: exit 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/hw.out"
printf 'scontrol show node gpu-a-017 --oneliner\n' >"$TMPD/want"
expect_calls "apply only looks: no drain of its own" "$TMPD/want"
check_json "the record says the drain is not gpuprov's" '.maintenance.drained == false' "$CH/$STATE"
verify_on_new_stack
rc=0
gv verify --commit --no-reboot >"$TMPD/hw-commit.out" 2>&1 || rc=$?
check "verify --commit: exit 0" test "$rc" -eq 0
expect_calls "verify does not resume it" "$TMPD/none"
check "verify says the drain before its run is not gpuprov's" grep -q "slurm node gpu-a-017: the drain before gpuprov's run is not gpuprov's, left as it is" "$TMPD/hw-commit.out"
check_json "the record says why the node was left" '.maintenance.left == "drained by someone else before gpuprov"' "$CH/$STATE"
check "the admin's drain and reason are there still" sh -c "[ \"\$(cat '$CH/var/lib/gpuprov-test/state')\" = IDLE+DRAIN ] && grep -qx 'hw-fault \[admin@2026-12-06T10:00:00\]' '$CH/var/lib/gpuprov-test/reason'"

# --- Kubernetes: annotate, cordon, drain; uncordon only with gpuprov's annotation ---
target_fresh
rc=0
gp apply kube --yes >"$TMPD/kube.out" 2>&1 || rc=$?
check "apply kube: exit 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/kube.out"
RUN=$(jq -r .maintenance.run_id "$CH/$STATE")
K="kubectl --kubeconfig /etc/gpuprov/kubeconfig"
{
	echo "$K get node gpu-a-017 -o json"
	echo "$K annotate --overwrite node gpu-a-017 gpuprov/cordoned=$RUN"
	echo "$K cordon gpu-a-017"
	echo "$K drain gpu-a-017 --ignore-daemonsets --delete-emptydir-data --timeout=60s"
} >"$TMPD/want"
expect_calls "apply: get, annotate with the run id, cordon, drain, in that order" "$TMPD/want"
check "the kubelet drop-in is written" grep -qx 'After=gpuprov-verify.service' "$CH/etc/systemd/system/kubelet.service.d/gpuprov.conf"
keep_applied

# Rolled back: the node stays cordoned with gpuprov/held; only end --force lets it back.
rc=0
gv verify --commit --no-reboot >"$TMPD/krb.out" 2>&1 || rc=$?
check "verify --commit on the old kernel: rolled back (exit 3)" test "$rc" -eq 3
calls >"$TMPD/calls"
check "held: gpuprov/held annotated with the first failed check" sh -c "
	[ \$(wc -l <'$TMPD/calls') -eq 2 ] && head -n 1 '$TMPD/calls' | grep -qx '$K get node gpu-a-017 -o json' &&
	sed -n 2p '$TMPD/calls' | grep -q '^$K annotate --overwrite node gpu-a-017 \"gpuprov/held=.'"
[ "$tap_failed" -eq 0 ] || diag_file "$TMPD/calls"
check "the node stays cordoned" sh -c "[ \"\$(cat '$CH/var/lib/gpuprov-test/unschedulable')\" = true ]"
gp maintenance end --force >/dev/null 2>&1 || true
{
	echo "$K get node gpu-a-017 -o json"
	echo "$K uncordon gpu-a-017"
	echo "$K annotate node gpu-a-017 gpuprov/cordoned- gpuprov/held-"
} >"$TMPD/want"
expect_calls "end --force: uncordon, then both annotations removed" "$TMPD/want"
check "no gpuprov annotation is left" sh -c "! ls '$CH/var/lib/gpuprov-test/ann' | grep -q gpuprov"
back_to_applied
verify_on_new_stack
rc=0
gv verify --commit --no-reboot >"$TMPD/kcommit.out" 2>&1 || rc=$?
check "verify --commit: exit 0" test "$rc" -eq 0
{
	echo "$K get node gpu-a-017 -o json"
	echo "$K uncordon gpu-a-017"
	echo "$K annotate node gpu-a-017 gpuprov/cordoned-"
} >"$TMPD/want"
expect_calls "committed: uncordon, then the annotation removed" "$TMPD/want"
check "the node is schedulable, without the annotation" sh -c "[ \"\$(cat '$CH/var/lib/gpuprov-test/unschedulable')\" = false ] && [ ! -e '$CH/var/lib/gpuprov-test/ann/gpuprov_cordoned' ]"

# The annotation changed by someone else after the cordon: not uncordoned.
rc=0
gp maintenance start kube >/dev/null 2>&1 || rc=$?
check "maintenance start kube: exit 0" test "$rc" -eq 0
calls >/dev/null
printf 'someone-else' >"$CH/var/lib/gpuprov-test/ann/gpuprov_cordoned"
rc=0
gp maintenance end >"$TMPD/kend.out" 2>&1 || rc=$?
check "maintenance end: exit 0" test "$rc" -eq 0
printf '%s get node gpu-a-017 -o json\n' "$K" >"$TMPD/want"
expect_calls "an annotation that is not the run id: only looked at" "$TMPD/want"
check "the node stays cordoned" sh -c "[ \"\$(cat '$CH/var/lib/gpuprov-test/unschedulable')\" = true ]"

# An admin's cordon (no annotation): not gpuprov's, untouched by start and end.
rm -f "$CH/var/lib/gpuprov-test/ann/gpuprov_cordoned"
gp maintenance start kube >/dev/null 2>&1 || true
gp maintenance end >"$TMPD/kend.out" 2>&1 || true
check "end says the cordon before its run is not gpuprov's" grep -q "kubernetes node gpu-a-017: the cordon before gpuprov's run is not gpuprov's, left as it is" "$TMPD/kend.out"
printf '%s get node gpu-a-017 -o json\n' "$K" >"$TMPD/want"
expect_calls "an admin's cordon: start only looks, end runs nothing" "$TMPD/want"
check "the admin's cordon stays" sh -c "[ \"\$(cat '$CH/var/lib/gpuprov-test/unschedulable')\" = true ]"

# A drain that fails: gpuprov's cordon and annotation undone, refused.
node_set unschedulable false
: >"$CH/var/lib/gpuprov-test/drain-fails"
rc=0
gp maintenance start kube >"$TMPD/kfail.out" 2>&1 || rc=$?
check "a drain that fails: maintenance start refuses (exit 3)" test "$rc" -eq 3
calls >"$TMPD/calls"
check "it cordoned, drained, then uncordoned and removed its annotation" sh -c "
	sed 's/cordoned=.*/cordoned=RUN/' '$TMPD/calls' | tr '\n' '|' | grep -qx '$K get node gpu-a-017 -o json|$K annotate --overwrite node gpu-a-017 gpuprov/cordoned=RUN|$K cordon gpu-a-017|$K drain gpu-a-017 --ignore-daemonsets --delete-emptydir-data --timeout=60s|$K uncordon gpu-a-017|$K annotate node gpu-a-017 gpuprov/cordoned-|'"
[ "$tap_failed" -eq 0 ] || diag_file "$TMPD/calls"
check "the node is as before" sh -c "[ \"\$(cat '$CH/var/lib/gpuprov-test/unschedulable')\" = false ] && [ ! -e '$CH/var/lib/gpuprov-test/ann/gpuprov_cordoned' ]"

done_testing
