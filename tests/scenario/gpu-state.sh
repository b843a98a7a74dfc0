#!/bin/sh
# The GPUs' declared state (the profile's "gpu" section) on the DGX H100 fake machine, with
# the NVML stand-in (tests/helpers/nvml-stub-state.c) playing one GPU from a file: plan
# enabling gpuprov-gpu.service and leaving the state to it at the boot; gpu apply setting each
# value, ECC and MIG mode left pending until the reboot or reset, then the MIG layout; a
# second run changing nothing; check and verify finding a value changed behind gpuprov's
# back; a power limit out of the GPU's range and a layout on a busy GPU refused; the unit's
# ordering.
. "$srcdir/tests/scenario/lib.sh"

M="$TMPD/dgx"
dgx_with_driver "$M"
mkdir -p "$M/var/lib/gpuprov" "$M/usr/lib/systemd/system"
LD_LIBRARY_PATH="$top_builddir/tests/helpers${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
GPUPROV_TEST_NVML_FILE="$TMPD/nvml"
export LD_LIBRARY_PATH GPUPROV_TEST_NVML_FILE
g() { gpuprov --root "$M" "$@"; }
gpu_state_check() {
	g verify --json >"$TMPD/v.json" 2>/dev/null || true
	jq -c '[.checks[] | select(.check == "gpu-state")]' "$TMPD/v.json"
}

# --- plan: the unit enabled, the state left to it at the boot the driver change needs ------
PD="$TMPD/profiles"
cp -r "$srcdir/profiles" "$PD"
chmod -R u+w "$PD"
printf '{"name": "gpu-h100", "include": ["h100-nvlink"], "gpu": {"persistence": true, "ecc": true}}\n' >"$PD/gpu-h100.json"
sed -e "s|@sbindir@|/usr/sbin|g" "$srcdir/data/gpuprov-gpu.service.in" >"$M/usr/lib/systemd/system/gpuprov-gpu.service"
g --profiles "$PD" --json plan gpu-h100 >"$TMPD/plan.json" 2>"$TMPD/plan.err"
check "plan enables gpuprov-gpu.service for a profile with a gpu section" \
	jqt '[.actions[] | select(.action == "service" and .target == "gpuprov-gpu" and .detail == "enable")] | length == 1' "$TMPD/plan.json"
diag_file "$TMPD/plan.err"
check "a reboot pending: the gpu action is left to the boot unit" \
	jqt '[.actions[] | select(.action == "gpu" and .detail == "at boot" and (.reason | test("next boot, once driver 580[.]95[.]05")))] | length == 1' "$TMPD/plan.json"
check "before the cdi action, as apply runs them" jqt '[.actions[].action] | index("gpu") < index("cdi")' "$TMPD/plan.json"
# Every suffix NVIDIA's profile names carry (R570 and later) is a layout a profile may declare.
printf '{"name": "gpu-mig-names", "gpu": {"mig": {"mode": true, "layout": ["2g.20gb+me.all", "1g.10gb-me", "1g.10gb+me", "1g.24gb+gfx"]}}}\n' \
	>"$PD/gpu-mig-names.json"
check "the layout's names take NVIDIA's suffixes (+me, -me, +me.all, +gfx)" g --profiles "$PD" show gpu-mig-names
g --profiles "$PD" --json plan h100-nvlink >"$TMPD/plan0.json" 2>/dev/null
check "a profile without a gpu section: neither" \
	jqt '[.actions[] | select(.action == "gpu" or .target == "gpuprov-gpu")] | length == 0' "$TMPD/plan0.json"

# --- gpu apply ---------------------------------------------------------------------------
cat >"$M/var/lib/gpuprov/state.json" <<'EOF2'
{ "profile": "gpu-h100", "kernel": "5.15.0-105-generic", "driver": "550.54.15", "source": "distro",
  "gpu": { "persistence": true, "mig": { "mode": true, "layout": ["3g.40gb", "1g.10gb"] }, "power_limit_w": 500,
           "locked_clocks": [1200, 1980], "ecc": true, "compute_mode": "exclusive_process" } }
EOF2
cat >"$TMPD/nvml" <<'EOF2'
count=1
gpu0.bus=00000000:18:00.0
gpu0.serial=1654922012345
gpu0.name=NVIDIA H100 80GB HBM3
gpu0.mig=0
gpu0.ecc=0
gpu0.compute_mode=0
gpu0.power_limit=700000
gpu0.power_min=200000
gpu0.power_max=700000
gpu0.clocks_locked=
gpu0.gi=
gpu0.processes=0
EOF2
has() { grep -qxF "gpu0.$1" "$TMPD/nvml"; }
rc=0
g gpu apply >"$TMPD/a1.out" 2>&1 || rc=$?
check "gpu apply exits 0" test "$rc" -eq 0
diag_file "$TMPD/a1.out"
check "it sets persistence, compute mode, power limit and locked clocks" \
	sh -c 'grep -qxF gpu0.persistence=1 "$1" && grep -qxF gpu0.compute_mode=3 "$1" && grep -qxF gpu0.power_limit=500000 "$1" && grep -qxF gpu0.clocks_locked=1200,1980 "$1"' sh "$TMPD/nvml"
check "it sets ECC and MIG mode pending" sh -c 'grep -qxF gpu0.ecc_pending=1 "$1" && grep -qxF gpu0.mig_pending=1 "$1" && grep -qxF gpu0.ecc=0 "$1"' sh "$TMPD/nvml"
check "it says ECC is pending until a reboot, naming the GPU" \
	grep -qF 'pending: GPU 0000:18:00.0 (serial 1654922012345): ecc on: set, pending, needs a reboot' "$TMPD/a1.out"
check "and MIG mode until a GPU reset" grep -qF 'mig.mode on: set, pending, needs a GPU reset or reboot' "$TMPD/a1.out"
check "the layout waits for MIG mode" grep -qF 'mig.layout 1g.10gb,3g.40gb: waits for MIG mode' "$TMPD/a1.out"
check_json "it records the locked clocks it set" \
	'.gpus[0].bus == "0000:18:00.0" and .gpus[0].set.locked_clocks == "1200,1980"' "$M/run/gpuprov/gpu-state.json"
gpu_state_check >"$TMPD/gs.json"
check_json "verify: ECC and MIG mode pending as declared, the layout waiting for the mode: a warning, no fault" \
	'length == 1 and .[0].ok == false and .[0].warn and (.[0].detail | test("pending: ecc on [(]now off; pending on, needs a reboot[)]; mig.mode on [(]now off; pending on, needs a GPU reset or reboot[)]; mig.layout"))' "$TMPD/gs.json"
cp "$TMPD/nvml" "$TMPD/nvml.1"
rc=0
g gpu apply >"$TMPD/a2.out" 2>&1 || rc=$?
check "a second run exits 0 and says nothing changed" sh -c "[ $rc -eq 0 ] && grep -q '^nothing changed' '$TMPD/a2.out'"
check "and changes nothing" cmp -s "$TMPD/nvml" "$TMPD/nvml.1"

# --- after the reset and the reboot: the layout -------------------------------------------
sed -i -e 's/^gpu0.mig=0$/gpu0.mig=1/' -e 's/^gpu0.ecc=0$/gpu0.ecc=1/' -e '/_pending=/d' "$TMPD/nvml"
rc=0
g gpu apply >"$TMPD/a3.out" 2>&1 || rc=$?
check "in MIG mode, gpu apply makes the layout, the largest instance first" sh -c "[ $rc -eq 0 ] && grep -qxF 'gpu0.gi=3g.40gb,1g.10gb' '$TMPD/nvml'"
diag_file "$TMPD/a3.out"
g --json gpu show >"$TMPD/show.json" 2>&1
check_json "gpu show: every setting as declared" 'length == 1 and all(.[0].settings[]; .as_declared)' "$TMPD/show.json"

# --- verify and check --------------------------------------------------------------------
gpu_state_check >"$TMPD/gs.json"
check_json "verify: gpu-state passes, every value read back" \
	'length == 1 and .[0].ok and (.[0].detail | test("as declared: .*ecc on [(]now on[)].*power_limit_w 500 W [(]now 500 W[)].*locked_clocks 1200,1980 [(]now 1200,1980 as gpuprov set it[)]"))' "$TMPD/gs.json"
sed -i 's/^gpu0.power_limit=500000$/gpu0.power_limit=700000/' "$TMPD/nvml"
gpu_state_check >"$TMPD/gs.json"
check_json "verify: a power limit changed behind gpuprov's back fails gpu-state as hardware, naming the GPU" \
	'.[0].ok == false and .[0].warn == false and .[0].class == "hardware" and (.[0].detail | test("GPU 0000:18:00.0 [(]serial 1654922012345[)]: not as declared: power_limit_w 500 W [(]now 700 W[)]"))' "$TMPD/gs.json"
g --profiles "$srcdir/profiles" --json check >"$TMPD/check.json" 2>/dev/null || true
check_json "check reports the drift" \
	'[.findings[] | select(.id == "gpu-state-drift" and (.message | test("power_limit_w 500 W [(]now 700 W[)]")))] | length == 1' "$TMPD/check.json"
g gpu apply >/dev/null 2>&1
g --profiles "$srcdir/profiles" --json check >"$TMPD/check.json" 2>/dev/null || true
check_json "after gpu apply, no drift" '[.findings[] | select(.id == "gpu-state-drift")] | length == 0' "$TMPD/check.json"

# --- refused -----------------------------------------------------------------------------
jq '.gpu.power_limit_w = 900' "$M/var/lib/gpuprov/state.json" >"$TMPD/s" && cp "$TMPD/s" "$M/var/lib/gpuprov/state.json"
rc=0
g gpu apply >"$TMPD/r.out" 2>&1 || rc=$?
check "a power limit out of the GPU's range: exit 3" test "$rc" -eq 3
check "it names the GPU and the range" \
	grep -qF 'not set: GPU 0000:18:00.0 (serial 1654922012345): power_limit_w 900 W: outside the range this GPU allows, 200..700 W' "$TMPD/r.out"
check "and leaves the limit alone" has power_limit=500000
gpu_state_check >"$TMPD/gs.json"
check_json "verify: a limit the GPU's range refuses is the profile's problem: a warning, no fault" \
	'.[0].ok == false and .[0].warn and (.[0].detail | test("not set by gpu apply [(]refused, or outside the GPU.s range[)]: power_limit_w 900 W [(]now 500 W[)]"))' "$TMPD/gs.json"
jq '.gpu.power_limit_w = -5' "$M/var/lib/gpuprov/state.json" >"$TMPD/s" && cp "$TMPD/s" "$M/var/lib/gpuprov/state.json"
rc=0
g gpu apply >"$TMPD/r.out" 2>&1 || rc=$?
check "a hand-edited negative power limit: exit 3, not sent to NVML" \
	sh -c "[ $rc -eq 3 ] && grep -qF 'power_limit_w -5: not a power limit gpuprov sets, 50..2000 W' '$TMPD/r.out' && grep -qxF gpu0.power_limit=500000 '$TMPD/nvml'"
sed -i -e '/^gpu0.power_min=/d' -e '/^gpu0.power_max=/d' "$TMPD/nvml"
jq '.gpu.power_limit_w = 450' "$M/var/lib/gpuprov/state.json" >"$TMPD/s" && cp "$TMPD/s" "$M/var/lib/gpuprov/state.json"
rc=0
g gpu apply >"$TMPD/r.out" 2>&1 || rc=$?
check "constraints NVML cannot say: the limit is tried, and set" sh -c "[ $rc -eq 0 ] && grep -qxF gpu0.power_limit=450000 '$TMPD/nvml'"
diag_file "$TMPD/r.out"
printf 'gpu0.power_min=200000\ngpu0.power_max=700000\n' >>"$TMPD/nvml"
jq '.gpu.power_limit_w = 500 | .gpu.mig.layout = ["7g.80gb"]' "$M/var/lib/gpuprov/state.json" >"$TMPD/s" && cp "$TMPD/s" "$M/var/lib/gpuprov/state.json"
sed -i 's/^gpu0.processes=0$/gpu0.processes=2/' "$TMPD/nvml"
rc=0
g gpu apply >"$TMPD/busy.out" 2>&1 || rc=$?
check "a new layout on a GPU in use: exit 3, the instances kept" \
	sh -c "[ $rc -eq 3 ] && grep -qF 'mig.layout 7g.80gb: not changed, 2 processes use the GPU' '$TMPD/busy.out' && grep -qxF 'gpu0.gi=3g.40gb,1g.10gb' '$TMPD/nvml'"
# Fail closed: a GPU NVML cannot count the processes of is not laid out anew.
sed -i '/^gpu0.processes=/d' "$TMPD/nvml"
rc=0
g gpu apply >"$TMPD/busy.out" 2>&1 || rc=$?
check "NVML unable to count the GPU's processes: exit 3, nothing destroyed" \
	sh -c "[ $rc -eq 3 ] && grep -qF 'mig.layout 7g.80gb: not changed, NVML cannot say whether processes use the GPU: Not Supported (3)' '$TMPD/busy.out' && grep -qxF 'gpu0.gi=3g.40gb,1g.10gb' '$TMPD/nvml' && ! grep -q '^gpu0.ci_destroyed=' '$TMPD/nvml'"
echo gpu0.processes=0 >>"$TMPD/nvml"
rc=0
g gpu apply >"$TMPD/idle.out" 2>&1 || rc=$?
check "idle, it is made anew" sh -c "[ $rc -eq 0 ] && grep -qxF 'gpu0.gi=7g.80gb' '$TMPD/nvml'"
check "each old GPU instance's compute instance destroyed first" has ci_destroyed=2

# --- MIG layouts: placement, NVIDIA's profile names, a compute instance refused -----------
layout() {
	jq --argjson l "$1" '.gpu.mig.layout = $l' "$M/var/lib/gpuprov/state.json" >"$TMPD/s" && cp "$TMPD/s" "$M/var/lib/gpuprov/state.json"
	rc=0
	g gpu apply >"$TMPD/l.out" 2>&1 || rc=$?
	diag_file "$TMPD/l.out"
}
# 4g.40gb starts at slice 0 only: made after three 1g.10gb it would find no room.
layout '["1g.10gb", "1g.10gb", "4g.40gb", "1g.10gb"]'
check "4g.40gb with three 1g.10gb: made, the 4g.40gb first" sh -c "[ $rc -eq 0 ] && grep -qxF 'gpu0.gi=4g.40gb,1g.10gb,1g.10gb,1g.10gb' '$TMPD/nvml'"
layout '["1g.10gb-me", "3g.40gb"]'
check "a profile past id 0x9 by NVIDIA's name (nvmlDeviceGetGpuInstanceProfileInfoV)" \
	sh -c "[ $rc -eq 0 ] && grep -qxF 'gpu0.gi=3g.40gb,1g.10gb-me' '$TMPD/nvml'"
g --json gpu show >"$TMPD/show.json" 2>&1
check_json "and read back by it" '[.[0].settings[] | select(.key == "mig.layout")][0] | .actual == "1g.10gb-me,3g.40gb" and .as_declared' "$TMPD/show.json"
echo gpu0.no_profile_info_v=1 >>"$TMPD/nvml"
layout '["2g.20gb", "1g.10gb"]'
check "a driver without it: the names gpuprov derives" sh -c "[ $rc -eq 0 ] && grep -qxF 'gpu0.gi=2g.20gb,1g.10gb' '$TMPD/nvml'"
layout '["1g.10gb-me"]'
check "where NVIDIA's names are unknown, a name only they give is refused before anything is destroyed" \
	sh -c "[ $rc -eq 3 ] && grep -qF 'no GPU instance profile 1g.10gb-me on this GPU' '$TMPD/l.out' && grep -qxF 'gpu0.gi=2g.20gb,1g.10gb' '$TMPD/nvml'"
sed -i '/^gpu0.no_profile_info_v=/d' "$TMPD/nvml"
echo gpu0.ci_fail=1 >>"$TMPD/nvml"
layout '["7g.80gb"]'
check "a compute instance refused: exit 3, its GPU instance destroyed again, the GPU's instances said" \
	sh -c "[ $rc -eq 3 ] && grep -qxE 'gpu0.gi=-?' '$TMPD/nvml' && grep -qF 'mig.layout 7g.80gb: nvmlGpuInstanceCreateComputeInstance: NVML: Unknown Error (23); the GPU has now: no instances' '$TMPD/l.out'"
sed -i '/^gpu0.ci_fail=/d' "$TMPD/nvml"
layout '["7g.80gb"]'
check "once it is, the layout is made" sh -c "[ $rc -eq 0 ] && grep -qxF 'gpu0.gi=7g.80gb' '$TMPD/nvml'"
sed -i '/^gpu0.power_limit=/d' "$TMPD/nvml"
jq '.gpu.power_limit_w = 450' "$M/var/lib/gpuprov/state.json" >"$TMPD/s" && cp "$TMPD/s" "$M/var/lib/gpuprov/state.json"
rc=0
g gpu apply >"$TMPD/ns.out" 2>&1 || rc=$?
check "a GPU without a settable power limit: exit 3, NVML's word for it" \
	sh -c "[ $rc -eq 3 ] && grep -qF 'power_limit_w 450 W: NVML: Not Supported (3)' '$TMPD/ns.out'"
gpu_state_check >"$TMPD/gs.json"
check_json "verify: a value NVML cannot read and gpuprov did not set passes, saying so" \
	'.[0].ok and (.[0].detail | test("power_limit_w 450 W [(]not supported by this GPU or driver"))' "$TMPD/gs.json"

# --- the lock: gpu apply never runs beside another run (apply's own gpu step) ----------------
if command -v flock >/dev/null 2>&1; then
	cp "$TMPD/nvml" "$TMPD/nvml.0"
	exec 9>"$M/run/gpuprov.lock"
	echo $$ >&9
	flock -x 9
	rc=0
	g gpu apply >"$TMPD/lock.out" 2>&1 || rc=$?
	check "gpu apply while another run holds the lock: refused (exit 3), naming the holder" \
		sh -c "[ $rc -eq 3 ] && grep -qF 'another gpuprov run (pid $$) holds $M/run/gpuprov.lock' '$TMPD/lock.out'"
	check "and changes nothing" cmp -s "$TMPD/nvml.0" "$TMPD/nvml"
	g gpu show >"$TMPD/show.out" 2>&1 && rc=0 || rc=$?
	check "gpu show only reads: it runs" test "$rc" -eq 0
	diag_file "$TMPD/show.out"
	exec 9>&-
else
	ok "# SKIP flock not found"
fi

# --- the boot unit's order ------------------------------------------------------------------
U="$TMPD/units"
mkdir -p "$U/kubelet.service.d" "$U/slurmd.service.d"
for name in gpuprov-gpu gpuprov-cdi gpuprov-verify; do
	sed -e "s|@sbindir@|$top_builddir|g" "$srcdir/data/$name.service.in" >"$U/$name.service"
done
check "gpuprov-gpu.service starts after the driver's loading" \
	grep -qx 'After=systemd-modules-load.service nvidia-persistenced.service local-fs.target' "$U/gpuprov-gpu.service"
check "with a start timeout: a hung NVML call holds none of them for good" grep -qx 'TimeoutStartSec=5min' "$U/gpuprov-gpu.service"
check "and before the CDI refresh, the runtimes, the kubelet, slurmd and verify" \
	grep -qx 'Before=gpuprov-cdi.service containerd.service docker.service crio.service kubelet.service slurmd.service gpuprov-verify.service' "$U/gpuprov-gpu.service"
# The schedulers' maintenance drop-ins order them after verify: no cycle through this unit.
for s in kubelet slurmd; do
	printf '[Unit]\nDescription=%s\n[Service]\nExecStart=/bin/true\n' "$s" >"$U/$s.service"
	printf '[Unit]\nAfter=gpuprov-verify.service\nWants=gpuprov-verify.service\n' >"$U/$s.service.d/90-gpuprov.conf"
done
if command -v systemd-analyze >/dev/null 2>&1; then
	(cd "$U" && SYSTEMD_UNIT_PATH="$U:" systemd-analyze verify --man=no ./gpuprov-gpu.service ./gpuprov-cdi.service \
		./gpuprov-verify.service ./kubelet.service ./slurmd.service) >"$TMPD/sa.out" 2>&1
	check "systemd-analyze verify: the units with the schedulers' drop-ins, without a word (no cycle)" sh -c "[ $? -eq 0 ] && ! grep -q . '$TMPD/sa.out'"
	diag_file "$TMPD/sa.out"
elif [ "${CI:-}" = true ]; then
	not_ok "systemd-analyze not found"
else
	ok "# SKIP systemd-analyze not found"
fi
done_testing
