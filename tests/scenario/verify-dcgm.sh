#!/bin/sh
# verify's "diag" check on the DGX H100 fake machine: without DCGM, a note that the diagnostic
# was skipped; with DCGM (the libdcgm stand-in, tests/helpers/dcgm-stub.c, and the dcgmi one,
# tests/helpers/dcgmi, in PATH) the level asked for is run and read: passing, a test failing on
# one GPU (named by bus id and serial, through the NVML stand-in) in DCGM 4's and DCGM 3's
# layouts, a dcgmi that hangs past verify.diag.timeout, output that is not a diagnostic, and
# level 0 running nothing.
. "$srcdir/tests/scenario/lib.sh"

M="$TMPD/dgx"
dgx_with_driver "$M"
: >"$M/dev/kmsg"
mkdir -p "$M/var/lib/gpuprov" "$TMPD/bin"
ln -s "$srcdir/tests/helpers/dcgmi" "$TMPD/bin/dcgmi"
cat >"$TMPD/nvml" <<'EOF2'
count=8
gpu0.bus=00000000:18:00.0
gpu0.serial=1654922012340
gpu3.bus=00000000:5D:00.0
gpu3.serial=1654922012343
EOF2
LD_LIBRARY_PATH="$top_builddir/tests/helpers${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
GPUPROV_TEST_NVML_FILE="$TMPD/nvml"
export LD_LIBRARY_PATH GPUPROV_TEST_NVML_FILE

# state DIAG: what apply would have recorded, with the profile's verify.diag DIAG (JSON).
state() {
	cat >"$M/var/lib/gpuprov/state.json" <<EOF2
{ "profile": "h100-nvlink", "kernel": "5.15.0-105-generic", "previous_kernel": "5.15.0-94-generic",
  "driver": "550.54.15", "flavour": "open", "source": "distro", "rdma": true, "reboot_required": true,
  "health": { "diag": $1 } }
EOF2
}
# run MODE: verify --json with the dcgmi stand-in in MODE and DCGM installed; sets rc.
run() {
	echo "$1" >"$TMPD/bin/dcgmi.mode"
	rc=0
	LD_LIBRARY_PATH="$top_builddir/tests/helpers/dcgm:$LD_LIBRARY_PATH" PATH="$TMPD/bin:$PATH" \
		gpuprov --root "$M" verify --json >"$TMPD/v.json" 2>"$TMPD/v.err" || rc=$?
}
diag() { jq -r '.checks[] | select(.check == "diag") | .detail' "$TMPD/v.json"; }

# --- not installed (where the host running the tests has no DCGM of its own) ---
state '{ "level": 1 }'
if ldconfig -p 2>/dev/null | grep -q 'libdcgm\.so\.[34] '; then
	for t in "DCGM not installed: verify exits 0" "a passing diag check says the diagnostic was skipped" "dcgmi was not run"; do
		ok "$t # SKIP this host has DCGM installed"
	done
else
	rc=0
	PATH="$TMPD/bin:$PATH" gpuprov --root "$M" verify --json >"$TMPD/v.json" 2>"$TMPD/v.err" || rc=$?
	check "DCGM not installed: verify exits 0" test "$rc" -eq 0
	check_json "a passing diag check says the diagnostic was skipped" \
		'.ok and (.checks[] | select(.check == "diag") | .ok and .detail == "DCGM not installed; diagnostic skipped")' "$TMPD/v.json"
	check "dcgmi was not run" test ! -e "$TMPD/bin/dcgmi.args"
fi

# --- installed, passing ---
state '{ "level": 2, "timeout": 60 }'
run pass
check "DCGM passing: verify exits 0" test "$rc" -eq 0
check_json "the diag check passes, saying what it read" \
	'.ok and (.checks[] | select(.check == "diag") | .ok and .detail == "DCGM diagnostic level 2 passed: 16 results, 0 skipped")' "$TMPD/v.json"
check "dcgmi ran the level of verify.diag, as JSON" grep -qx "diag -r 2 -j" "$TMPD/bin/dcgmi.args"
state '{ "timeout": 60 }'
run pass
check "without a level, level 1" grep -qx "diag -r 1 -j" "$TMPD/bin/dcgmi.args"
# A level edited by hand in state.json to what no profile can give is at its default.
for lv in 2.5 1e300 -1e300 5; do
	state "{ \"level\": $lv, \"timeout\": 1e300 }"
	rm -f "$TMPD/bin/dcgmi.args"
	run pass
	check "level $lv edited by hand: level 1, the default" sh -c "test $rc -eq 0 && grep -qx 'diag -r 1 -j' '$TMPD/bin/dcgmi.args'"
done

# --- a test failing on one GPU ---
failing() { # DESCRIPTION: verify exits 3 and diag fails, no other
	if [ "$rc" -eq 3 ] && jqt '.ok == false and [.checks[] | select(.ok | not) | .check] == ["diag"]'  "$TMPD/v.json"; then
		ok "$1: verify exits 3, the diag check fails, no other"
	else
		not_ok "$1: verify exits 3, the diag check fails, no other (exit $rc)"
		diag_file "$TMPD/v.json"
	fi
}
state '{ "level": 1 }'
run "fail:3:memory:Error details: 12 DBE found"
failing "memory failing on GPU 3 (DCGM 4)"
check "it names the GPU by bus id and serial, the test and DCGM's words" \
	test "$(diag)" = "DCGM diagnostic level 1: 1 of 16 results failed: GPU 0000:5d:00.0 (serial 1654922012343, DCGM GPU 3): memory: Error details: 12 DBE found"
run "fail3:0:software"
failing "software failing on GPU 0 (DCGM 3)"
check "it names the GPU and the test" sh -c "jq -r '.checks[] | select(.check == \"diag\") | .detail' '$TMPD/v.json' | grep -qF 'GPU 0000:18:00.0 (serial 1654922012340, DCGM GPU 0): software: Error details:'"
# Without NVML's answer, the GPU is DCGM's number.
run "fail:5:memory"
check "a GPU NVML does not name is DCGM's GPU N" sh -c "jq -r '.checks[] | select(.check == \"diag\") | .detail' '$TMPD/v.json' | grep -qF ': DCGM GPU 5: memory: '"

# --- timeout ---
state '{ "level": 1, "timeout": 1 }'
start=$(date +%s)
run sleep
failing "dcgmi hanging"
check "it says the timeout" test "$(diag)" = '`dcgmi diag -r 1` timed out after 1 s'
check "and verify did not wait for dcgmi" test "$(($(date +%s) - start))" -lt 30

# --- output that is not a diagnostic ---
state '{ "level": 1 }'
run garbage
failing "dcgmi printing no JSON"
check "it says why, with dcgmi's own words" \
	test "$(diag)" = '`dcgmi diag -r 1 -j` exited with 1, its output unreadable (not JSON): Error: unable to establish a connection to the specified host: localhost'

# --- level 0: no diagnostic ---
state '{ "level": 0 }'
rm -f "$TMPD/bin/dcgmi.args"
run "fail:0:memory"
check "level 0: verify exits 0" test "$rc" -eq 0
check_json "and has no diag check" '.ok and ([.checks[] | select(.check == "diag")] == [])' "$TMPD/v.json"
check "dcgmi was not run" test ! -e "$TMPD/bin/dcgmi.args"

# --- installed without dcgmi: reported, verify not failed ---
state '{ "level": 1 }'
rc=0
LD_LIBRARY_PATH="$top_builddir/tests/helpers/dcgm:$LD_LIBRARY_PATH" gpuprov --root "$M" verify --json >"$TMPD/v.json" 2>/dev/null || rc=$?
check "libdcgm without dcgmi: verify exits 0" test "$rc" -eq 0
check_json "the diag check fails as a warning only: dcgmi is missing" \
	'.ok and (.checks[] | select(.check == "diag") | (.ok | not) and (.detail | test("dcgmi is not in PATH")))' "$TMPD/v.json"

done_testing
