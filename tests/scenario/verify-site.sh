#!/bin/sh
# verify's site checks, /etc/gpuprov/verify.d/required/ and wanted/ of the DGX H100 fake
# machine: each run in name order with the stack's profile, kernel and driver in its
# environment; a required one failing fails verify, a wanted one only warns; a hanging one is
# killed at verify.site_timeout, also when it closed its output first; a check inherits no
# descriptor but its own; and what may not be trusted to run as root at every boot is
# refused without running: a file or directory writable by group or others, a file of another
# user or not executable, a symlink leading out of the root, a verify.d in an /etc/gpuprov or
# /etc others may write. Backups and hidden files are not
# checks.
. "$srcdir/tests/scenario/lib.sh"

M="$TMPD/dgx"
dgx_with_driver "$M"
: >"$M/dev/kmsg"
mkdir -p "$M/var/lib/gpuprov"
D="$M/etc/gpuprov/verify.d"
mkdir -p "$D/required" "$D/wanted"
chmod 755 "$M/etc" "$M/etc/gpuprov" "$D" "$D/required" "$D/wanted"
LD_LIBRARY_PATH="$top_builddir/tests/helpers${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
GPUPROV_TEST_NVML_COUNT=8
export LD_LIBRARY_PATH GPUPROV_TEST_NVML_COUNT

# state SITE_TIMEOUT: what apply would have recorded (null: no verify.site_timeout).
state() {
	verify_state "$M" "{ \"site_timeout\": $1 }"
}
# put DIR/NAME BODY: a check, a shell script that notes it ran in $TMPD/ran, then BODY.
put() {
	printf '#!/bin/sh\necho %s >>"%s"\n%s\n' "$2" "$TMPD/ran" "$3" >"$D/$1/$2"
	chmod 755 "$D/$1/$2"
}
run() {
	rm -f "$TMPD/ran"
	rc=0
	gpuprov --root "$M" verify --json >"$TMPD/v.json" 2>"$TMPD/v.err" || rc=$?
}
detail() { jq -r --arg c "site:$1" '.checks[] | select(.check == $c) | .detail' "$TMPD/v.json"; }
site_checks() { jq -c '[.checks[] | select(.check | startswith("site:")) | [.check, .ok]]' "$TMPD/v.json"; }

# --- none: no site checks ---
state null
rmdir "$D/required" "$D/wanted"
run
check "no verify.d subdirectories: verify exits 0" test "$rc" -eq 0
check_json "and has no site check" '.ok and ([.checks[] | select(.check | startswith("site:"))] == [])' "$TMPD/v.json"
mkdir -p "$D/required" "$D/wanted"
chmod 755 "$D/required" "$D/wanted"

# --- required and wanted passing, in name order, with the stack in their environment ---
put required 20-fabric 'echo "all 18 NVLinks up"'
put required 10-env "env >\"$TMPD/env\"; read -r line && echo stdin-not-empty >>\"$TMPD/env\"; exit 0"
put wanted 50-disk 'echo "scratch 12% used"; echo'
run
check "required and wanted passing: verify exits 0" test "$rc" -eq 0
check "they ran in name order, required first" test "$(tr '\n' ' ' <"$TMPD/ran")" = "10-env 20-fabric 50-disk "
check "a check sees the profile" grep -qx "GPUPROV_PROFILE=h100-nvlink" "$TMPD/env"
check "a check sees the stack's kernel" grep -qx "GPUPROV_KERNEL=5.15.0-105-generic" "$TMPD/env"
check "a check sees the stack's driver" grep -qx "GPUPROV_DRIVER=550.54.15" "$TMPD/env"
check "a check's stdin is empty" sh -c "! grep -q stdin-not-empty '$TMPD/env'"
check "a check gets no environment of gpuprov's caller" sh -c "! grep -q GPUPROV_TEST_NVML_COUNT '$TMPD/env'"
check_json "each is a passing check site:NAME" \
	'[.checks[] | select(.check | startswith("site:")) | [.check, .ok]] == [["site:10-env", true], ["site:20-fabric", true], ["site:50-disk", true]]' "$TMPD/v.json"
check "the detail has the check's last line" \
	test "$(detail 20-fabric)" = "/etc/gpuprov/verify.d/required/20-fabric exited with 0: all 18 NVLinks up"
check "an empty last line is passed over" \
	test "$(detail 50-disk)" = "/etc/gpuprov/verify.d/wanted/50-disk exited with 0: scratch 12% used"

# --- a wanted one failing warns; a required one failing fails verify ---
put wanted 50-disk 'echo "scratch 97% used" >&2; exit 1'
run
check "a wanted check failing: verify still exits 0" test "$rc" -eq 0
check_json "the check fails, verify passes" '.ok and (.checks[] | select(.check == "site:50-disk") | .ok | not)' "$TMPD/v.json"
check "it says the status and the last line of stderr" \
	test "$(detail 50-disk)" = "/etc/gpuprov/verify.d/wanted/50-disk exited with 1: scratch 97% used"
put required 20-fabric 'echo "NVLink 7 of GPU 3 down"; exit 4'
run
check "a required check failing: verify exits 3" test "$rc" -eq 3
check_json "verify fails with site:20-fabric" '(.ok | not) and (.checks[] | select(.check == "site:20-fabric") | .ok | not)' "$TMPD/v.json"
check "it says the status and why" \
	test "$(detail 20-fabric)" = "/etc/gpuprov/verify.d/required/20-fabric exited with 4: NVLink 7 of GPU 3 down"
put required 20-fabric 'kill -TERM $$'
run
check "a check killed by a signal fails verify" test "$rc" -eq 3
check "it names the signal" test "$(detail 20-fabric)" = "/etc/gpuprov/verify.d/required/20-fabric killed by signal 15"
put required 20-fabric 'exit 0'
put wanted 50-disk 'exit 0'

# --- timeout ---
# hang WHAT TIMEOUT LAST BODY: the check 30-hang running BODY and printing LAST first is killed
# at TIMEOUT seconds, failing verify without holding it.
hang() {
	state "$2"
	put required 30-hang "echo \"$3\"; $4"
	start=$(date +%s)
	run
	check "$1 fails verify" test "$rc" -eq 3
	check "it says the timeout and the last words" \
		test "$(detail 30-hang)" = "/etc/gpuprov/verify.d/required/30-hang timed out after $2 s: $3"
	check "verify did not wait for it" test "$(($(date +%s) - start))" -lt 30
	check "the checks after it ran" grep -qx 50-disk "$TMPD/ran"
}
hang "a hanging required check" 1 "waiting for the fabric" "sleep 600"
# Its output closed, the pipes say nothing more: the deadline must still hold.
hang "a check that closes its output and hangs" 2 "closing up" "exec >&- 2>&-; sleep 100"
rm "$D/required/30-hang"
# A site_timeout edited by hand in state.json to what no profile can give (not a whole number
# of seconds) is at its default, not cut to 1 s.
for t in 1.5 -1 1e300; do
	state "$t"
	put required 30-slow 'sleep 2; echo "fabric up"'
	run
	check "site_timeout $t edited by hand: at its default, the slow check passes" \
		test "$rc.$(detail 30-slow)" = "0./etc/gpuprov/verify.d/required/30-slow exited with 0: fabric up"
done
rm "$D/required/30-slow"
state null

# --- no descriptor of gpuprov's, or of its caller's, reaches a check ---
# gpuprov gets descriptor 7 from the shell without close-on-exec. The check lists what its
# shell has open; its own script (fexecve's /dev/fd/N, the shell's reading of it) is allowed.
put required 15-fds "exec >\"$TMPD/fds\"; ls -l /proc/\$\$/fd"
rm -f "$TMPD/ran"
rc=0
gpuprov --root "$M" verify --json >"$TMPD/v.json" 2>"$TMPD/v.err" 7>"$TMPD/leak" || rc=$?
check "a check sees only its stdin, stdout and stderr open" \
	test "$(awk '$(NF-1) == "->" && $NF !~ /\/15-fds$/ { print $(NF-2) }' "$TMPD/fds" | sort -n | tr '\n' ' ')" = "0 1 2 "
rm "$D/required/15-fds"

# --- refused: what may not be trusted is not run ---
put required 40-gw 'exit 0'
chmod 775 "$D/required/40-gw"
run
check "a group-writable required check fails verify" test "$rc" -eq 3
check "it says why" test "$(detail 40-gw)" = "/etc/gpuprov/verify.d/required/40-gw refused: writable by group or others"
check "and it was not run" sh -c "! grep -qx 40-gw '$TMPD/ran'"
chmod 757 "$D/required/40-gw"
run
check "a world-writable one is refused too" test "$(detail 40-gw)" = "/etc/gpuprov/verify.d/required/40-gw refused: writable by group or others"
chmod 644 "$D/required/40-gw"
run
check "one not executable is refused" test "$(detail 40-gw)" = "/etc/gpuprov/verify.d/required/40-gw refused: not executable"
rm "$D/required/40-gw"
put wanted 60-gw 'exit 0'
chmod 775 "$D/wanted/60-gw"
run
check "a group-writable wanted check only warns" test "$rc" -eq 0
check_json "refused, as a failed check" '.ok and (.checks[] | select(.check == "site:60-gw") | .ok | not)' "$TMPD/v.json"
rm "$D/wanted/60-gw"
# Owned by another user than root and the user running gpuprov: only root can make one.
if [ "$(id -u)" -eq 0 ]; then
	put required 45-other 'exit 0'
	chown 65534 "$D/required/45-other"
	run
	check "a check owned by another user fails verify" test "$rc" -eq 3
	check "it says why" test "$(detail 45-other)" = "/etc/gpuprov/verify.d/required/45-other refused: owned by another user than root"
	check "and it was not run" sh -c "! grep -qx 45-other '$TMPD/ran'"
	rm "$D/required/45-other"
else
	for t in "a check owned by another user fails verify" "it says why" "and it was not run"; do
		ok "$t # SKIP not root: no file of another user can be made"
	done
fi
chmod 775 "$D/required"
run
check "a group-writable required directory fails verify" test "$rc" -eq 3
check "it says none of its checks run" \
	test "$(detail required)" = "/etc/gpuprov/verify.d/required refused, none of its checks run: writable by group or others"
check "and none ran" sh -c "! grep -q -e 10-env -e 20-fabric '$TMPD/ran'"
chmod 755 "$D/required"
chmod 777 "$D"
run
check "a world-writable verify.d fails verify, running nothing" sh -c "test $rc -eq 3 && test ! -e '$TMPD/ran'"
check "it says why" test "$(detail verify.d)" = "/etc/gpuprov/verify.d refused, none of its checks run: writable by group or others"
chmod 755 "$D"
# Who may write /etc/gpuprov or /etc may put another verify.d in place of this one.
for dir in etc/gpuprov etc; do
	chmod 757 "$M/$dir"
	run
	check "a world-writable /$dir fails verify, running nothing" sh -c "test $rc -eq 3 && test ! -e '$TMPD/ran'"
	check "it says why" test "$(detail verify.d)" = "/$dir refused, none of its checks run: writable by group or others"
	chmod 755 "$M/$dir"
done
run
check "/etc and /etc/gpuprov root's again: the checks run" sh -c "test $rc -eq 0 && grep -qx 10-env '$TMPD/ran'"

# A symlink out of the root: resolved inside it, where there is no such file.
printf '#!/bin/sh\necho outside >>"%s"\n' "$TMPD/ran" >"$TMPD/outside"
chmod 755 "$TMPD/outside"
ln -s "$TMPD/outside" "$D/required/70-abs"
ln -s "../../../../../../../../../../../../..$TMPD/outside" "$D/required/71-rel"
run
check "symlinks leading out of the root fail verify" test "$rc" -eq 3
check "the absolute one is refused" test "$(detail 70-abs)" = "/etc/gpuprov/verify.d/required/70-abs refused: No such file or directory"
check "the relative one is refused" test "$(detail 71-rel)" = "/etc/gpuprov/verify.d/required/71-rel refused: No such file or directory"
check "the file outside was not run" sh -c "! grep -qx outside '$TMPD/ran'"
rm "$D/required/70-abs" "$D/required/71-rel"
# A symlink inside the root is followed there, and what it leads to checked and run.
mkdir -p "$M/usr/lib/site"
put required 20-fabric 'exit 0'
mv "$D/required/20-fabric" "$M/usr/lib/site/fabric"
ln -s /usr/lib/site/fabric "$D/required/20-fabric"
run
check "a symlink to a check inside the root runs it" sh -c "test $rc -eq 0 && grep -qx 20-fabric '$TMPD/ran'"

# --- a name of other bytes than A-Z a-z 0-9 . _ @ + -: refused as "site:?", not run ---
# Such a name would be a label value of the metrics that is not UTF-8, or a line break in one.
bad=$(printf 'x\377y z')
put required "$bad" 'exit 0'
run
check "a required check of a name not UTF-8, with a space: verify exits 3" test "$rc" -eq 3
check_json "it is the failed check site:?, in its place by name" \
	'[.checks[] | select(.check | startswith("site:")) | [.check, .ok, .warn]] == [["site:10-env", true, false], ["site:20-fabric", true, false], ["site:?", false, false], ["site:50-disk", true, true]]' \
	"$TMPD/v.json"
check "the detail names the file, each byte outside the set escaped" \
	test "$(detail '?')" = "/etc/gpuprov/verify.d/required/x\\xffy\\x20z refused: a check's name may hold only A-Z, a-z, 0-9, '.', '_', '@', '+' and '-'"
check "and it was not run" sh -c "! grep -q '^x' '$TMPD/ran'"
# The verdict of such a run as state.json records it: the metrics' label is site:?, not the
# file's name.
jq --slurpfile v "$TMPD/v.json" '. + {verified: {result: "rolled back", at: "2026-12-07T01:22:33Z",
	failed: [], checks: $v[0].checks}}' "$M/var/lib/gpuprov/state.json" >"$TMPD/s.json"
cp "$M/var/lib/gpuprov/state.json" "$TMPD/s.saved"
cp "$TMPD/s.json" "$M/var/lib/gpuprov/state.json"
gpuprov --root "$M" --profiles "$srcdir/profiles" status --prometheus >"$TMPD/m.prom" 2>"$TMPD/m.err" || true
check "metrics: the refused check is site:?, failed" grep -qx 'gpuprov_verify_check{check="site:?",result="fail"} 1' "$TMPD/m.prom"
cp "$TMPD/s.saved" "$M/var/lib/gpuprov/state.json"
mv "$D/required/$bad" "$D/wanted/$bad"
run
check "the same name among the wanted checks only warns" test "$rc" -eq 0
check_json "site:? failed as a warning" '.ok and ([.checks[] | select(.check == "site:?") | [.ok, .warn]] == [[false, true]])' "$TMPD/v.json"
rm "$D/wanted/$bad"
for n in 'a@b+c_d.e-F9' 'new
line'; do
	put required "$n" 'exit 0'
done
run
check "the set's every kind of character runs; a line break in a name does not" \
	test "$rc.$(site_checks)" = '3.[["site:10-env",true],["site:20-fabric",true],["site:a@b+c_d.e-F9",true],["site:?",false],["site:50-disk",true]]'
check "the line break is escaped" test "$(detail '?')" = "/etc/gpuprov/verify.d/required/new\\x0aline refused: a check's name may hold only A-Z, a-z, 0-9, '.', '_', '@', '+' and '-'"
rm "$D/required/a@b+c_d.e-F9" "$D/required/new
line"

# --- not checks: hidden files, backups, package managers' leftovers ---
for n in .hidden 10-env~ 10-env.dpkg-old 10-env.dpkg-dist 10-env.rpmsave 10-env.rpmnew; do
	put required "$n" 'exit 1'
done
run
check "backups and hidden files: verify exits 0" test "$rc" -eq 0
check "none of them ran" test "$(tr '\n' ' ' <"$TMPD/ran")" = "10-env 20-fabric 50-disk "
check_json "none is a check" '[.checks[] | select(.check | startswith("site:")) | .check] == ["site:10-env", "site:20-fabric", "site:50-disk"]' "$TMPD/v.json"

done_testing
