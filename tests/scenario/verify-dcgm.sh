#!/bin/sh
# verify's "diag" check on the DGX H100 fake machine: without DCGM, a note that the diagnostic
# was skipped; with DCGM (the libdcgm stand-in, tests/helpers/dcgm-stub.c, and the dcgmi one,
# tests/helpers/dcgmi, at the fake machine's /usr/bin/dcgmi) the level asked for is run and
# read: passing; a hardware test failing on one GPU (named by bus id and serial, through the
# NVML stand-in) in DCGM 4's and DCGM 3's layouts, the GPU's fault; DCGM's software test
# failing, the stack's; and what is DCGM's own trouble, only warned of: a dcgmi that closes its
# output and hangs past verify.diag.timeout, output that is not a diagnostic (no host engine),
# DCGM's runtime error. A GPU in MIG mode skips the diagnostic. dcgmi is never taken from the
# caller's PATH, nor run where it may not be trusted. Level 0 runs nothing.
. "$srcdir/tests/scenario/lib.sh"

M="$TMPD/dgx"
dgx_with_driver "$M"
: >"$M/dev/kmsg"
mkdir -p "$M/var/lib/gpuprov" "$TMPD/bin" "$TMPD/path" "$M/usr/bin"
chmod 755 "$M/usr/bin"
abs_srcdir=$(cd "$srcdir" && pwd)
printf '#!/bin/sh\nDCGMI_STUB_DIR=%s exec /bin/sh %s/tests/helpers/dcgmi "$@"\n' "$TMPD/bin" "$abs_srcdir" >"$M/usr/bin/dcgmi"
chmod 755 "$M/usr/bin/dcgmi"
# A dcgmi in the caller's PATH: never to be run.
printf '#!/bin/sh\necho ran >"%s"\n' "$TMPD/path/ran" >"$TMPD/path/dcgmi"
chmod 755 "$TMPD/path/dcgmi"
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
	verify_state "$M" "{ \"diag\": $1 }"
}
# run MODE: verify --json with the dcgmi stand-in in MODE and DCGM installed; sets rc.
run() {
	echo "$1" >"$TMPD/bin/dcgmi.mode"
	rm -f "$TMPD/bin/dcgmi.args"
	rc=0
	LD_LIBRARY_PATH="$top_builddir/tests/helpers/dcgm:$LD_LIBRARY_PATH" PATH="$TMPD/path:$PATH" \
		gpuprov --root "$M" verify --json >"$TMPD/v.json" 2>"$TMPD/v.err" || rc=$?
}
diag() { jq -r '.checks[] | select(.check == "diag") | .detail' "$TMPD/v.json"; }
# warned DESCRIPTION: verify exits 0, the diag check failed as a warning only
warned() {
	if [ "$rc" -eq 0 ] && jqt '.ok and [.checks[] | select(.ok | not) | [.check, .warn, .class]] == [["diag", true, "stack"]]' "$TMPD/v.json"; then
		ok "$1: verify exits 0, the diag check only warns"
	else
		not_ok "$1: verify exits 0, the diag check only warns (exit $rc)"
		diag_file "$TMPD/v.json"
	fi
}

# --- not installed (where the host running the tests has no DCGM of its own) ---
state '{ "level": 1 }'
if ldconfig -p 2>/dev/null | grep -q 'libdcgm\.so\.[34] '; then
	for t in "DCGM not installed: verify exits 0" "a passing diag check says the diagnostic was skipped" "dcgmi was not run"; do
		ok "$t # SKIP this host has DCGM installed"
	done
else
	rc=0
	PATH="$TMPD/path:$PATH" gpuprov --root "$M" verify --json >"$TMPD/v.json" 2>"$TMPD/v.err" || rc=$?
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
failing() { # DESCRIPTION CLASS: verify exits 3 and diag fails as CLASS's fault, no other
	if [ "$rc" -eq 3 ] && jqt ".ok == false and [.checks[] | select(.ok | not) | [.check, .warn, .class]] == [[\"diag\", false, \"$2\"]]" "$TMPD/v.json"; then
		ok "$1: verify exits 3, the diag check fails as the $2's fault, no other"
	else
		not_ok "$1: verify exits 3, the diag check fails as the $2's fault, no other (exit $rc)"
		diag_file "$TMPD/v.json"
	fi
}
state '{ "level": 1 }'
run "fail:3:memory:Error details: 12 DBE found"
failing "memory failing on GPU 3 (DCGM 4)" hardware
check "it names the GPU by bus id and serial, the test and DCGM's words" \
	test "$(diag)" = "DCGM diagnostic level 1: 1 of 16 results failed: GPU 0000:5d:00.0 (serial 1654922012343, DCGM GPU 3): memory: Error details: 12 DBE found"
run "fail3:0:software"
failing "software failing on GPU 0 (DCGM 3)" stack
check "it names the GPU and the test" sh -c "jq -r '.checks[] | select(.check == \"diag\") | .detail' '$TMPD/v.json' | grep -qF 'GPU 0000:18:00.0 (serial 1654922012340, DCGM GPU 0): software: Error details:'"
# Without NVML's answer, the GPU is DCGM's number.
run "fail:5:memory"
failing "memory failing on GPU 5" hardware
check "a GPU NVML does not name is DCGM's GPU N" sh -c "jq -r '.checks[] | select(.check == \"diag\") | .detail' '$TMPD/v.json' | grep -qF ': DCGM GPU 5: memory: '"

run "fail:2:software:Error details: nouveau is loaded"
failing "DCGM 4's software test failing: the stack" stack

# --- DCGM's own trouble: warned of ---
state '{ "level": 1, "timeout": 2 }'
start=$(date +%s)
run sleep
warned "dcgmi closing its output and hanging"
check "it says the timeout" test "$(diag)" = '`dcgmi diag -r 1` timed out after 2 s'
check "and verify did not wait for dcgmi" test "$(($(date +%s) - start))" -lt 30
state '{ "level": 1 }'
run garbage
warned "dcgmi printing no JSON (no host engine)"
check "it says why, with dcgmi's own words" \
	test "$(diag)" = '`dcgmi diag -r 1 -j` exited with 1, its output unreadable (not JSON): Error: unable to establish a connection to the specified host: localhost'
run runtime
warned "DCGM's runtime error"
check "it says DCGM's words" sh -c "jq -r '.checks[] | select(.check == \"diag\") | .detail' '$TMPD/v.json' | grep -qF 'runtime error: Error: Unable to complete diagnostic'"

# --- a GPU in MIG mode: no diagnostic ---
cp "$TMPD/nvml" "$TMPD/nvml.plain"
echo "gpu3.mig=1" >>"$TMPD/nvml"
run "fail:3:memory"
check "a GPU in MIG mode: verify exits 0" test "$rc" -eq 0
check_json "the diag check passes, saying it was skipped for the GPU in MIG mode" \
	'.ok and (.checks[] | select(.check == "diag") | .ok and .detail == "diagnostic skipped: DCGM'"'"'s diagnostic does not run on GPUs in MIG mode: GPU 0000:5d:00.0 (serial 1654922012343)")' "$TMPD/v.json"
check "dcgmi was not run" test ! -e "$TMPD/bin/dcgmi.args"
echo "gpu3.mig=0" >>"$TMPD/nvml"
run "fail:3:memory"
failing "MIG mode off: the diagnostic runs" hardware
cp "$TMPD/nvml.plain" "$TMPD/nvml"

# --- a dcgmi that may not be trusted is not run ---
chmod 775 "$M/usr/bin/dcgmi"
run pass
warned "a group-writable dcgmi"
check "it says why" test "$(diag)" = "/usr/bin/dcgmi refused, diagnostic skipped: writable by group or others"
check "and it was not run" test ! -e "$TMPD/bin/dcgmi.args"
chmod 755 "$M/usr/bin/dcgmi"

# --- level 0: no diagnostic ---
state '{ "level": 0 }'
rm -f "$TMPD/bin/dcgmi.args"
run "fail:0:memory"
check "level 0: verify exits 0" test "$rc" -eq 0
check_json "and has no diag check" '.ok and ([.checks[] | select(.check == "diag")] == [])' "$TMPD/v.json"
check "dcgmi was not run" test ! -e "$TMPD/bin/dcgmi.args"

# --- installed without dcgmi in the root: reported, verify not failed, PATH not searched ---
state '{ "level": 1 }'
mv "$M/usr/bin/dcgmi" "$TMPD/dcgmi.away"
run pass
warned "libdcgm without dcgmi"
check "it says where dcgmi was looked for" \
	test "$(diag)" = "DCGM is installed (libdcgm) but dcgmi is not in /usr/bin, /usr/sbin or /usr/local/bin; diagnostic skipped"
check "the dcgmi in the caller's PATH was not run" test ! -e "$TMPD/path/ran"
mkdir -p "$M/usr/local/bin"
mv "$TMPD/dcgmi.away" "$M/usr/local/bin/dcgmi"
run pass
check "dcgmi in /usr/local/bin runs" grep -qx "diag -r 1 -j" "$TMPD/bin/dcgmi.args"

done_testing
