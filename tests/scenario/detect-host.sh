#!/bin/sh
# detect on the machine the tests run on: it must succeed and see what the machine is.
. "$srcdir/tests/scenario/lib.sh"

json=$TMPD/host.json
if gpuprov detect --json >"$json" 2>"$TMPD/err"; then
	ok "detect --json on this machine exits 0"
else
	not_ok "detect --json on this machine failed"
	diag_file "$TMPD/err"
fi
check "the JSON parses" jq -e .schema "$json"

# The architecture comes from the machine's files, not from the build: a cross-built
# gpuprov under qemu-user still reports the host's.
arch=$(uname -m)
check "reports the architecture of this machine ($arch)" jq -e --arg a "$arch" '.cpu.arch == $a' "$json"

# The oracle for GPUs is sysfs read by the shell: NVIDIA (0x10de) display controllers (0x03).
gpus=0
for d in /sys/bus/pci/devices/*; do
	[ -r "$d/vendor" ] || continue
	if [ "$(cat "$d/vendor")" = 0x10de ] && case "$(cat "$d/class")" in 0x03*) true ;; *) false ;; esac; then
		gpus=$((gpus + 1))
	fi
done
check "reports $gpus NVIDIA GPUs, as sysfs shows" jq -e --argjson n "$gpus" '.pci.gpus | length == $n' "$json"

running=$(cat /proc/sys/kernel/osrelease)
check "reports the running kernel $running" jq -e --arg k "$running" '.kernel.running == $k' "$json"
. /etc/os-release
check "reports the OS id $ID" jq -e --arg id "$ID" '.os.id == $id' "$json"
threads=$(grep -c '^processor' /proc/cpuinfo)
check "reports $threads logical CPUs" jq -e --argjson n "$threads" '.cpu.threads == $n' "$json"

# check, profiles and plan on the real machine: they must run, and say what they say in JSON.
P="--profiles $srcdir/profiles"
gpuprov $P check --json >"$TMPD/check.json" 2>"$TMPD/err"
rc=$?
check "check on this machine exits 0 or 3 ($rc)" [ "$rc" -eq 0 -o "$rc" -eq 3 ]
check "check on this machine prints its findings" jq -e '.findings | type == "array"' "$TMPD/check.json"
gpuprov $P profiles --json >"$TMPD/profiles.json" 2>"$TMPD/err"
check "profiles on this machine lists the shipped profiles" jq -e 'map(.name) | index("h100-nvlink") != null' "$TMPD/profiles.json"
if [ "$gpus" -eq 0 ]; then
	gpuprov $P plan base --json >"$TMPD/plan.json" 2>"$TMPD/err"
	rc=$?
	check "plan base without a GPU refuses (exit $rc)" sh -c "[ $rc -eq 3 ] && jq -e '.refused and (.reasons[0] | contains(\"no NVIDIA GPU\"))' '$TMPD/plan.json'"
fi

done_testing
