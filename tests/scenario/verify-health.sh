#!/bin/sh
# verify's health gate on the DGX H100 fake machine, its eight GPUs played by the NVML
# stand-in (tests/helpers/nvml-stub-health.c) from a file nvml_healthy_file writes: every
# check passing and saying what it read; each failing on one GPU, named by bus id and serial,
# and passing again at the edge of its threshold; a question NVML cannot answer passing,
# saying so; the thresholds of a site profile's verify section; a check turned off not run.
# Then the verdict of verify --commit: a check of the GPUs failed keeps the kernel and holds
# the node drained (Slurm's stand-in in a chroot), one of the stack rolls it back; status and
# its metrics (read by promtool) show which.
. "$srcdir/tests/scenario/lib.sh"

command -v grub-editenv >/dev/null 2>&1 || { echo "1..0 # SKIP grub-editenv not found"; exit 0; }
M="$TMPD/dgx"
dgx_with_driver "$M"
printf '6,1202,5000100,-;NVRM: loading NVIDIA UNIX Open Kernel Module\n' >"$M/dev/kmsg"
mkdir -p "$M/var/lib/gpuprov" "$M/proc/sys/kernel/random"
echo 0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d >"$M/proc/sys/kernel/random/boot_id"
NVML="$TMPD/nvml"
nvml_healthy_file "$M" "$NVML"
cp "$NVML" "$TMPD/nvml.healthy"
LD_LIBRARY_PATH="$top_builddir/tests/helpers${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
GPUPROV_TEST_NVML_FILE=$NVML
export LD_LIBRARY_PATH GPUPROV_TEST_NVML_FILE
reboot_stand_in
RUNNING=5.15.0-105-generic
PREVIOUS=5.15.0-94-generic
# The GPU the failures are played on: the fourth, as NVML and the bus name it.
BAD="GPU 0000:5d:00.0 (serial 1654922012343)"
CHECKS='["retired-pages", "ecc", "pcie", "nvlink", "persistence", "throttle", "temperature"]'

# state [HEALTH [GPU]]: state.json as apply records it for h100-nvlink on this node, booted into
# its kernel, with HEALTH as the profile's resolved verify section and GPU as its gpu section
# (none by default).
state() {
	verify_state "$M" "$@"
}
gv() { gpuprov --root "$M" "$@"; }
# gpu_set GPU KEY [VALUE]: the stand-in's answer for that GPU; without VALUE, none (not
# supported). healthy: every GPU healthy again.
gpu_set() {
	grep -v "^gpu$1\.$2=" "$NVML" >"$TMPD/nvml.new" || true
	[ "$#" -lt 3 ] || echo "gpu$1.$2=$3" >>"$TMPD/nvml.new"
	cp "$TMPD/nvml.new" "$NVML"
}
healthy() {
	cp "$TMPD/nvml.healthy" "$NVML"
}
# run_verify: verify --json into $TMPD/v.json, its exit status in rc.
run_verify() {
	rc=0
	gv verify --json >"$TMPD/v.json" 2>"$TMPD/v.err" || rc=$?
}
# detail CHECK: what that check said in the last run.
detail() {
	jq -r ".checks[] | select(.check == \"$1\") | .detail" "$TMPD/v.json"
}
# failing DESCRIPTION CHECK DETAIL: verify exits 3, that check fails, no other, and its
# detail is DETAIL.
failing() {
	run_verify
	if [ "$rc" -eq 3 ] && jqt ".ok == false and [.checks[] | select(.ok | not) | .check] == [\"$2\"]" "$TMPD/v.json" &&
		[ "$(detail "$2")" = "$3" ]; then
		ok "$1: the $2 check fails, no other, saying: $3"
	else
		not_ok "$1: the $2 check fails, no other, saying: $3 (exit $rc)"
		diag_file "$TMPD/v.json"
	fi
}
# passing DESCRIPTION CHECK DETAIL: verify exits 0, and that check passed saying DETAIL.
passing() {
	run_verify
	if [ "$rc" -eq 0 ] && jqt "all(.checks[]; .ok)" "$TMPD/v.json" && [ "$(detail "$2")" = "$3" ]; then
		ok "$1: the $2 check passes, saying: $3"
	else
		not_ok "$1: the $2 check passes, saying: $3 (exit $rc)"
		diag_file "$TMPD/v.json"
	fi
}
# absent DESCRIPTION CHECK: verify exits 0 without that check.
absent() {
	run_verify
	if [ "$rc" -eq 0 ] && jqt "all(.checks[]; .ok) and all(.checks[]; .check != \"$2\")" "$TMPD/v.json"; then
		ok "$1: no $2 check"
	else
		not_ok "$1: no $2 check (exit $rc)"
		diag_file "$TMPD/v.json"
	fi
}

# --- every GPU healthy: each check passes, saying what it read ---
state
run_verify
check "healthy: verify exits 0" test "$rc" -eq 0
check_json "healthy: the seven checks, after NVML's count and before the HCAs, all passing" \
	"[.checks[] | .check] == [\"kernel\", \"driver\", \"devices\", \"nvml\", \"fabricmanager\"] + $CHECKS + [\"rdma\", \"xid\", \"xid-hardware\", \"diag\"] and all(.checks[]; .ok)" \
	"$TMPD/v.json"
check_json "healthy: persistence is the stack's, the others the hardware's" \
	'[.checks[] | select(.class == "hardware") | .check] == ["retired-pages", "ecc", "pcie", "nvlink", "throttle", "temperature", "xid-hardware", "diag"] and all(.checks[]; .warn == false)' \
	"$TMPD/v.json"
for pair in \
	"retired-pages|8 GPUs: 0 rows remapped (0 for uncorrectable errors), none pending" \
	"ecc|8 GPUs: 0 uncorrectable ECC errors since boot" \
	"pcie|8 GPUs: x16 gen5" \
	"nvlink|8 GPUs: 18 NVLinks up" \
	"persistence|8 GPUs: persistence mode on" \
	"throttle|8 GPUs: no slowdown (clock event reasons 0x1: GPU idle)" \
	"temperature|8 GPUs at 34 C, at most 85 C"; do
	check "healthy: ${pair%%|*} says \"${pair#*|}\"" test "$(detail "${pair%%|*}")" = "${pair#*|}"
done
gpu_set 0 temperature 41
gpu_set 7 temperature 29
passing "temperatures that differ" temperature "8 GPUs at 29 to 41 C, at most 85 C"
healthy

# --- each check failing on one GPU, and passing again ---
gpu_set 3 remap_pending 1
gpu_set 3 remap_unc 2
failing "a row remapping pending" retired-pages \
	"$BAD: row remapping pending, a GPU reset is needed (2 rows remapped); 7 GPUs: 0 rows remapped (0 for uncorrectable errors), none pending"
gpu_set 3 remap_pending 0
passing "rows remapped, none pending" retired-pages \
	"7 GPUs: 0 rows remapped (0 for uncorrectable errors), none pending; 1 GPU: 2 rows remapped (2 for uncorrectable errors), none pending"
gpu_set 3 remap_failed 1
failing "a row remapping failed" retired-pages \
	"$BAD: row remapping failed, no spare row left (2 rows remapped); 7 GPUs: 0 rows remapped (0 for uncorrectable errors), none pending"
healthy
# A GPU before Ampere retires pages instead: NVML has no row remapping for it.
for g in 0 1 2 3 4 5 6 7; do gpu_set $g remap_pending; done
passing "pages retired before Ampere, none pending" retired-pages "8 GPUs: no page retirement pending"
gpu_set 3 retired_pending 1
failing "a page retirement pending" retired-pages \
	"$BAD: page retirement pending, a reboot is needed; 7 GPUs: no page retirement pending"
healthy

gpu_set 3 ecc_uncorrected 2
failing "uncorrectable ECC errors" ecc "$BAD: 2 uncorrectable ECC errors since boot, more than 0; 7 GPUs: 0 uncorrectable ECC errors since boot"
state '{ "ecc_uncorrected_max": 2 }'
passing "as many uncorrectable ECC errors as ecc_uncorrected_max" ecc \
	"7 GPUs: 0 uncorrectable ECC errors since boot; 1 GPU: 2 uncorrectable ECC errors since boot"
state '{ "ecc_uncorrected_max": 1 }'
failing "one more than ecc_uncorrected_max" ecc "$BAD: 2 uncorrectable ECC errors since boot, more than 1; 7 GPUs: 0 uncorrectable ECC errors since boot"
state '{ "ecc_uncorrected_max": false }'
absent "ecc_uncorrected_max false" ecc
state
healthy

gpu_set 3 pcie_width 8
failing "a link trained narrower" pcie "$BAD: x8 gen5, the link can do x16; 7 GPUs: x16 gen5"
state '{ "pcie": "width" }'
failing "a link trained narrower, pcie width" pcie "$BAD: x8 gen5, the link can do x16; 7 GPUs: x16 gen5"
healthy
state
gpu_set 3 pcie_gen_max 4
failing "a link that cannot reach the GPU's generation (a riser, a slot)" pcie "$BAD: x16 gen4, the GPU can do gen5; 7 GPUs: x16 gen5"
state '{ "pcie": "width" }'
passing "the same with pcie width: only the width counts" pcie "7 GPUs: x16 gen5; 1 GPU: x16 gen4"
state '{ "pcie": "off" }'
gpu_set 3 pcie_width 8
absent "pcie off" pcie
state
healthy
# An idle GPU's link at gen1 is the healthy file's: the current generation is not compared.
check "the healthy file plays idle links at gen1" grep -qx "gpu3.pcie_gen=1" "$NVML"

gpu_set 3 nvlink_down 3,7
failing "two NVLinks down" nvlink "$BAD: NVLinks 3, 7 down, of 18; 7 GPUs: 18 NVLinks up"
gpu_set 3 nvlink_down 17
failing "the last of 18 links down" nvlink "$BAD: NVLink 17 down, of 18; 7 GPUs: 18 NVLinks up"
# A GPU in MIG mode has no part in NVLink: its links down pass, saying so.
gpu_set 3 nvlink_down 3,7
gpu_set 3 mig 1
passing "NVLinks down on a GPU in MIG mode" nvlink "7 GPUs: 18 NVLinks up; 1 GPU: MIG mode on, its NVLinks unused (2 of 18 down)"
gpu_set 3 mig 0
failing "NVLinks down on a GPU with MIG mode off" nvlink "$BAD: NVLinks 3, 7 down, of 18; 7 GPUs: 18 NVLinks up"
gpu_set 3 mig 0
gpu_set 3 mig_pending 1
failing "NVLinks down on a GPU with MIG mode only pending" nvlink "$BAD: NVLinks 3, 7 down, of 18; 7 GPUs: 18 NVLinks up"
healthy
state '{ "nvlink": false }'
absent "nvlink false" nvlink
state
healthy
for g in 0 1 2 3 4 5 6 7; do gpu_set $g nvlink; done
passing "GPUs without NVLink (PCIe cards)" nvlink "8 GPUs: no NVLink"
healthy

gpu_set 3 persistence 0
failing "persistence mode off" persistence "$BAD: persistence mode off; 7 GPUs: persistence mode on"
state '{ "persistence": false }'
absent "persistence false" persistence
# The profile's gpu section turning persistence mode off turns the check off, unless the
# verify section asks for it; turning it on leaves the check on.
# (The GPUs as the gpu section declares them, or its own check, gpu-state, fails.)
for g in 0 1 2 4 5 6 7; do gpu_set $g persistence 0; done
state '' '{ "persistence": false }'
absent "gpu.persistence false" persistence
state '{ "persistence": true }' '{ "persistence": false }'
run_verify
check_json "gpu.persistence false, verify.persistence true: the persistence check fails, no other" \
	'[.checks[] | select(.ok | not) | .check] == ["persistence"]' "$TMPD/v.json"
state '{ "persistence": "yes" }' '{ "persistence": false }'
absent "gpu.persistence false, verify.persistence edited by hand to a string" persistence
healthy
gpu_set 3 persistence 0
state '' '{ "persistence": true }'
run_verify
check_json "gpu.persistence true: the persistence check on, failing beside gpu-state" \
	'[.checks[] | select(.ok | not) | .check] == ["persistence", "gpu-state"]' "$TMPD/v.json"
state
healthy

# Each clock event reason of a slowdown at idle fails; the others do not.
for pair in "0x8|HW slowdown" "0x20|SW thermal slowdown" "0x40|HW thermal slowdown" "0x80|HW power brake slowdown"; do
	gpu_set 3 throttle "$(printf '0x%x' $((${pair%%|*} | 1)))"
	failing "clocks slowed at idle by ${pair#*|}" throttle \
		"$BAD: ${pair#*|} at idle (clock event reasons $(printf '0x%x' $((${pair%%|*} | 1)))); 7 GPUs: no slowdown (clock event reasons 0x1: GPU idle)"
done
gpu_set 3 throttle 0x116
passing "the reasons of no concern at idle: application clocks, power cap, sync boost, display clock" throttle \
	"7 GPUs: no slowdown (clock event reasons 0x1: GPU idle); 1 GPU: no slowdown (clock event reasons 0x116: applications clocks setting, SW power cap, sync boost, display clock setting)"
gpu_set 3 throttle 0x60
failing "two slowdowns" throttle "$BAD: SW thermal slowdown, HW thermal slowdown at idle (clock event reasons 0x60); 7 GPUs: no slowdown (clock event reasons 0x1: GPU idle)"
# A driver before the clock event reasons were named so: the older name of the call.
gpu_set 3 throttle 0x41
LD_LIBRARY_PATH="$top_builddir/tests/helpers/nvml-throttle-reasons:$LD_LIBRARY_PATH" failing \
	"an older driver's nvmlDeviceGetCurrentClocksThrottleReasons" throttle \
	"$BAD: HW thermal slowdown at idle (clock event reasons 0x41); 7 GPUs: no slowdown (clock event reasons 0x1: GPU idle)"
OLD_NVML="$top_builddir/tests/helpers/nvml-throttle-reasons/libnvidia-ml.so.1"
check "the older driver's library has only the older name" \
	sh -c "grep -q nvmlDeviceGetCurrentClocksThrottleReasons '$OLD_NVML' && ! grep -q ClocksEventReasons '$OLD_NVML'"
state '{ "throttle": false }'
absent "throttle false" throttle
state
healthy

gpu_set 3 temperature 86
failing "a GPU above 85 C" temperature "$BAD: 86 C, above 85 C; 7 GPUs at 34 C, at most 85 C"
gpu_set 3 temperature 85
passing "a GPU at 85 C" temperature "8 GPUs at 34 to 85 C, at most 85 C"
state '{ "temperature_max": false }'
gpu_set 3 temperature 119
absent "temperature_max false" temperature
state
healthy

# --- what NVML cannot answer passes, saying so; an NVML error fails ---
for pair in "retired-pages|retired_pending remap_pending" "ecc|ecc_uncorrected" "pcie|pcie_width pcie_width_max" \
	"persistence|persistence" "throttle|throttle" "temperature|temperature"; do
	for g in 0 1 2 3 4 5 6 7; do
		for key in ${pair#*|}; do gpu_set $g "$key"; done
	done
	passing "not supported on any GPU" "${pair%%|*}" "8 GPUs: not supported by this GPU or driver"
	healthy
done
gpu_set 0 temperature
passing "not supported on one GPU" temperature "7 GPUs at 34 C, at most 85 C; 1 GPU: not supported by this GPU or driver"
gpu_set 3 temperature '!999'
failing "a GPU NVML gets an error from" temperature "$BAD: NVML: Unknown Error (999); 6 GPUs at 34 C, at most 85 C; 1 GPU: not supported by this GPU or driver"
# class CHECK: that check's class in the last run.
class() { jq -r ".checks[] | select(.check == \"$1\") | .class" "$TMPD/v.json"; }
check "an NVML error is the stack's, not the GPU's" test "$(class temperature)" = stack
healthy
# Only a GPU that is lost (NVML_ERROR_GPU_IS_LOST, 15) is the GPU's fault; NVML's other errors
# (uninitialised, no permission, driver not loaded, library and driver versions apart) the stack's.
for pair in "15|GPU is lost|hardware" "1|Unknown Error|stack" "4|Insufficient Permissions|stack" "9|Driver Not Loaded|stack" \
	"18|Unknown Error|stack"; do
	code=${pair%%|*} rest=${pair#*|}
	gpu_set 3 ecc_uncorrected "!$code"
	failing "NVML error $code from one GPU" ecc "$BAD: NVML: ${rest%|*} ($code); 7 GPUs: 0 uncorrectable ECC errors since boot"
	check "NVML error $code: the check's class is ${rest#*|}" test "$(class ecc)" = "${rest#*|}"
done
# A GPU lost beside a GPU whose reading NVML failed for the stack: the stack's.
gpu_set 0 ecc_uncorrected '!9'
gpu_set 3 ecc_uncorrected '!15'
run_verify
check "a lost GPU and an NVML error of the stack: the check is the stack's" test "$(class ecc)" = stack
healthy

# --- the thresholds of a site profile, as show resolves its verify section for apply ---
mkdir -p "$M/etc/gpuprov/profiles"
printf '{ "name": "site", "include": ["h100-nvlink"], "verify": { "temperature_max": 70, "ecc_uncorrected_max": false } }\n' \
	>"$M/etc/gpuprov/profiles/site.json"
gv --profiles "$srcdir/profiles" show site >"$TMPD/site.json"
check_json "the site profile resolves its verify section" '.settings.verify == {"temperature_max": 70, "ecc_uncorrected_max": false}' \
	"$TMPD/site.json"
state "$(jq -c .settings.verify "$TMPD/site.json")"
gpu_set 3 ecc_uncorrected 4
gpu_set 3 temperature 71
failing "site profile: 71 C above its temperature_max 70, ECC not checked" temperature "$BAD: 71 C, above 70 C; 7 GPUs at 34 C, at most 70 C"
check_json "site profile: no ecc check" 'all(.checks[]; .check != "ecc")' "$TMPD/v.json"
gpu_set 3 temperature 70
passing "site profile: 70 C" temperature "8 GPUs at 34 to 70 C, at most 70 C"
healthy

# --- a health section edited by hand: a member of another type, or out of range, is at its
# default ---
state '{ "temperature_max": "70", "ecc_uncorrected_max": 1e300, "pcie": 5, "nvlink": "no", "throttle": null }'
gpu_set 3 temperature 86
gpu_set 3 ecc_uncorrected 1
run_verify
check "edited by hand: exit 3" test "$rc" -eq 3
check_json "edited by hand: every check run, at its default (temperature_max 85, ecc_uncorrected_max 0)" \
	"[.checks[] | .check] == [\"kernel\", \"driver\", \"devices\", \"nvml\", \"fabricmanager\"] + $CHECKS + [\"rdma\", \"xid\", \"xid-hardware\", \"diag\"] and
	 [.checks[] | select(.ok | not) | .check] == [\"ecc\", \"temperature\"] and
	 ([.checks[] | select(.check == \"temperature\") | .detail] == [\"$BAD: 86 C, above 85 C; 7 GPUs at 34 C, at most 85 C\"])" \
	"$TMPD/v.json"
healthy

# --- the verdict: hardware or stack ---
# commit [HEALTH]: verify --commit --no-reboot on a new stack running, GRUB's default still
# the known-good kernel; rc its exit status.
ID() { echo "gnulinux-advanced-7c2b0e5a-3f41-4d8e-9a6b-5e1f2c3d4a01>gnulinux-$1-advanced-7c2b0e5a-3f41-4d8e-9a6b-5e1f2c3d4a01"; }
saved() { grub-editenv "$M/boot/grub/grubenv" list | sed -n 's/^saved_entry=//p'; }
commit() {
	state "${1:-}"
	grub-editenv "$M/boot/grub/grubenv" set saved_entry="$(ID "$PREVIOUS")"
	reboots >/dev/null
	rc=0
	gv verify --commit >"$TMPD/c.out" 2>"$TMPD/c.err" || rc=$?
}

gpu_set 3 ecc_uncorrected 2
gpu_set 5 nvlink_down 0
commit
check "hardware fault: verify --commit exits 3" test "$rc" -eq 3
check "hardware fault: the running kernel becomes GRUB's default" test "$(saved)" = "$(ID "$RUNNING")"
check "hardware fault: no reboot" test "$(reboots)" -eq 0
check_json "hardware fault: recorded as such, with each check, its class and what failed" \
	".verified.result == \"hardware fault\" and (.verified.failed | length) == 2 and
	 ([.verified.checks[] | select(.ok | not) | {check, class, warn}] == [{check: \"ecc\", class: \"hardware\", warn: false}, {check: \"nvlink\", class: \"hardware\", warn: false}]) and
	 ([.verified.checks[] | .check] | length) == 16" "$M/var/lib/gpuprov/state.json"
check_json "hardware fault: the kernel is not a failed one (plan and apply may choose it)" \
	'(.failed_kernels // []) | length == 0' "$M/var/lib/gpuprov/state.json"
check "hardware fault: the text names the class of each failure" \
	sh -c "grep -q '^  FAIL ecc            \[hardware\] $BAD: 2 uncorrectable' '$TMPD/c.out' && grep -q '^Hardware fault; the running kernel is now the default.' '$TMPD/c.out'"
gv status >"$TMPD/st.out" 2>&1
check "status: the hardware fault, what failed on which GPU" \
	sh -c "grep -q '^Verdict     hardware fault at 20.*: the kernel is kept, a GPU failed' '$TMPD/st.out' &&
		grep -qF 'Fault       ecc: $BAD: 2 uncorrectable ECC errors since boot, more than 0' '$TMPD/st.out' &&
		grep -qF 'Fault       nvlink: GPU 0000:ab:00.0 (serial 1654922012345): NVLink 0 down, of 18' '$TMPD/st.out'"
check "status: no scheduler to drain the node from, said" grep -q '^Node        not drained by gpuprov (no scheduler in the profile)' "$TMPD/st.out"
check "status: no reboot pending (the kernel is the stack's)" grep -qx 'Reboot      not pending' "$TMPD/st.out"
gv --profiles "$srcdir/profiles" status --prometheus >"$TMPD/m.prom" 2>"$TMPD/m.err"
check "metrics: the state is hardware_fault" grep -qx 'gpuprov_state{state="hardware_fault"} 1' "$TMPD/m.prom"
check "metrics: gpuprov_verify_check fail for ecc and nvlink, ok for the others" \
	sh -c "grep -qx 'gpuprov_verify_check{check=\"ecc\",result=\"fail\"} 1' '$TMPD/m.prom' &&
		grep -qx 'gpuprov_verify_check{check=\"nvlink\",result=\"fail\"} 1' '$TMPD/m.prom' &&
		grep -qx 'gpuprov_verify_check{check=\"temperature\",result=\"ok\"} 1' '$TMPD/m.prom' &&
		[ \$(grep -c '^gpuprov_verify_check{' '$TMPD/m.prom') -eq 16 ]"
if command -v promtool >/dev/null 2>&1; then
	check "metrics: promtool reads them, nothing to lint" sh -c "promtool check metrics <'$TMPD/m.prom'"
else
	ok "metrics: promtool reads them # SKIP promtool not found (Debian package prometheus)"
fi

# A check of the stack failed beside the GPUs': the kernel goes back, as always.
gpu_set 0 persistence 0
commit
check "stack and hardware: verify --commit exits 3" test "$rc" -eq 3
check "stack and hardware: the known-good kernel stays the default" test "$(saved)" = "$(ID "$PREVIOUS")"
check "stack and hardware: one reboot into it" test "$(reboots)" -eq 1
check_json "stack and hardware: rolled back, the kernel a failed one, persistence's class stack" \
	'.verified.result == "rolled back" and .failed_kernels[0].kernel == "5.15.0-105-generic" and
	 ([.verified.checks[] | select(.check == "persistence") | .class] == ["stack"])' "$M/var/lib/gpuprov/state.json"
check "stack and hardware: the text names the class" grep -q '^  FAIL persistence    \[stack\] GPU 0000:18:00.0' "$TMPD/c.out"
healthy
gpu_set 0 persistence 0
commit
check_json "persistence off alone: rolled back" '.verified.result == "rolled back"' "$M/var/lib/gpuprov/state.json"
check "persistence off alone: back to the known-good kernel" test "$(saved)" = "$(ID "$PREVIOUS")"
# The profile turned persistence off: the same GPUs commit.
commit '{ "persistence": false }'
check "persistence false in the profile: committed (exit 0)" test "$rc" -eq 0
check_json "persistence false in the profile: the verdict" '.verified.result == "committed"' "$M/var/lib/gpuprov/state.json"
check "committed: the running kernel is the default" test "$(saved)" = "$(ID "$RUNNING")"
healthy

# --- Xids: those NVIDIA attributes to the GPU's hardware a hardware fault, naming each GPU;
# any other the stack's ---
cp "$M/dev/kmsg" "$TMPD/kmsg"
printf '%s\n' '4,1300,9000000,-;NVRM: Xid (PCI:0000:5d:00): 79, pid=1234, GPU has fallen off the bus.' \
	'4,1301,9000100,-;NVRM: Xid (PCI:0000:5d:00): 48, pid=1234, DBE' \
	'4,1302,9000200,-;NVRM: Xid (PCI:0000:ab:00): 94, pid=88, Contained ECC error' \
	'4,1303,9000300,-;NVRM: Xid (PCI:0000:5d:00): 79, pid=1234, again' >>"$M/dev/kmsg"
state
failing "Xids 79, 48 and 94 in the kernel log" xid-hardware \
	"4 Xid errors of a GPU's hardware since boot: $BAD: Xid 79, 48; GPU 0000:ab:00.0 (serial 1654922012345): Xid 94; the first: NVRM: Xid (PCI:0000:5d:00): 79, pid=1234, GPU has fallen off the bus."
check "the other Xids: none" test "$(detail xid)" = "0 Xid errors not of a GPU's hardware since boot"
check "xid-hardware is the hardware's" test "$(class xid-hardware)" = hardware
commit
check "hardware Xids: verify --commit exits 3" test "$rc" -eq 3
check "hardware Xids: the running kernel becomes GRUB's default" test "$(saved)" = "$(ID "$RUNNING")"
check_json "hardware Xids: a hardware fault, xid-hardware failed, the kernel not a failed one" \
	'.verified.result == "hardware fault" and ([.verified.checks[] | select(.ok | not) | .check] == ["xid-hardware"]) and
	 ((.failed_kernels // []) | length == 0)' "$M/var/lib/gpuprov/state.json"
# An Xid of the stack or an application beside them (13: a graphics engine exception, 31: an
# MMU fault): both checks fail, and the stack's failure rolls back.
printf '%s\n' '4,1304,9000400,-;NVRM: Xid (PCI:0000:18:00): 13, pid=99, Graphics Exception' \
	'4,1305,9000500,-;NVRM: Xid (PCI:0000:18:00): 31, pid=99, MMU Fault' >>"$M/dev/kmsg"
run_verify
check_json "stack and hardware Xids: xid and xid-hardware fail" \
	'[.checks[] | select(.ok | not) | {check, class}] == [{check: "xid", class: "stack"}, {check: "xid-hardware", class: "hardware"}]' \
	"$TMPD/v.json"
check "the xid check counts the stack's only" \
	test "$(detail xid)" = "2 Xid errors not of a GPU's hardware since boot, the first: NVRM: Xid (PCI:0000:18:00): 13, pid=99, Graphics Exception"
commit
check_json "stack and hardware Xids: rolled back" '.verified.result == "rolled back"' "$M/var/lib/gpuprov/state.json"
check "stack and hardware Xids: back to the known-good kernel" test "$(saved)" = "$(ID "$PREVIOUS")"
cp "$TMPD/kmsg" "$M/dev/kmsg"

# --- a hardware fault on a Slurm node gpuprov drained: it stays drained, the GPUs named ---
if [ "$(id -u)" -ne 0 ]; then
	ok "hardware fault on a drained node # SKIP needs root (chroot)"
else
	. "$srcdir/tests/scenario/lib-schedulers.sh"
	CH="$TMPD/target"
	drc=0
	"$srcdir/tests/pkg/debian-chroot" "$CH" 2>"$TMPD/chroot.err" || drc=$?
	if [ "$drc" -eq 77 ]; then
		ok "hardware fault on a drained node # SKIP $(tail -n 1 "$TMPD/chroot.err")"
	elif [ "$drc" -ne 0 ]; then
		not_ok "hardware fault on a drained node: the chroot"
		diag_file "$TMPD/chroot.err"
	else
		# GRUB and the packages of the node (the fabric manager verify checks) as M has them.
		cp -a "$M/boot/grub" "$CH/boot/"
		cp "$M/var/lib/dpkg/status" "$CH/var/lib/dpkg/status"
		stand_ins "$CH"
		RUN=20261207T012233Z-4f1a9c
		node_set state IDLE+DRAIN
		node_set reason "gpuprov: $RUN [root@2026-12-07T01:22:33]"
		mkdir -p "$CH/var/lib/gpuprov"
		jq --arg run "$RUN" '. + {maintenance: {scheduler: "slurm", node: "gpu-a-017", run_id: $run,
			reason: ("gpuprov: " + $run), drained: true, since: "2026-12-07T01:22:33Z", held: null, ended: null}}' \
			"$M/var/lib/gpuprov/state.json" >"$CH/var/lib/gpuprov/state.json"
		jq 'del(.verified) | del(.failed_kernels)' "$CH/var/lib/gpuprov/state.json" >"$TMPD/s" &&
			cp "$TMPD/s" "$CH/var/lib/gpuprov/state.json"
		gpu_set 3 ecc_uncorrected 2
		rc=0
		gpuprov --root "$CH" --sysroot "$M" verify --commit --no-reboot >"$TMPD/d.out" 2>&1 || rc=$?
		check "drained node, hardware fault: exit 3" test "$rc" -eq 3
		calls >"$TMPD/calls"
		check "drained node: Slurm's reason names the check, the GPU's bus id and serial" \
			grep -q "^scontrol update nodename=gpu-a-017 state=drain \"reason=gpuprov: $RUN: verify failed: hardware fault: ecc: GPU 0000:5d:00.0 (serial 1654922012343): 2 uncorrectable ECC errors since boot" \
			"$TMPD/calls"
		check "drained node: it stays drained" grep -q DRAIN "$CH/var/lib/gpuprov-test/state"
		check "drained node: no resume" sh -c "! grep -q state=resume '$TMPD/calls'"
		check_json "drained node: the record is held with the fault, not ended; the kernel kept" \
			'.verified.result == "hardware fault" and (.maintenance.held | startswith("hardware fault: ecc: GPU 0000:5d:00.0 (serial 1654922012343)")) and .maintenance.ended == null' \
			"$CH/var/lib/gpuprov/state.json"
		check "drained node: the running kernel is the default" \
			sh -c "grub-editenv '$CH/boot/grub/grubenv' list | grep -qxF 'saved_entry=$(ID "$RUNNING")'"
		gpuprov --root "$CH" --sysroot "$M" status >"$TMPD/dst.out" 2>&1 || true
		check "drained node: status says it is held until the GPUs are repaired" \
			grep -q '^Node        held out of service (slurm gpu-a-017) until the GPUs are repaired' "$TMPD/dst.out"
		healthy
	fi
fi

done_testing
