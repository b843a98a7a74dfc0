# Shared by the scenario tests: TAP output and how to run gpuprov.
# Sourced, not run. The test harness exports GPUPROV, TEST_WRAPPER, srcdir and top_builddir.

: "${GPUPROV:?GPUPROV is not set (run the tests through make check)}"
: "${srcdir:=.}"
set -u

tap_n=0
tap_failed=0
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/gpuprov-test.XXXXXX")
# The test servers serve() started are stopped when the test ends, however it ends, after
# what at_exit asked for (unmounting what is mounted below $TMPD, before it is removed). A
# signal ends the test through the same path.
http_servers=""
exit_hooks=""
trap 'eval "$exit_hooks"; for s in $http_servers; do "$srcdir/tests/pkg/http-serve" --stop "$s"; done; rm -rf --one-file-system "$TMPD"' EXIT
trap 'exit 1' HUP INT TERM

# at_exit COMMAND: COMMAND runs when the test ends, before the earlier ones.
at_exit() {
	exit_hooks="$1
$exit_hooks"
}

# serve STATE [OPTIONS]: tests/pkg/http-serve of $WWW on 127.0.0.1 with its state in STATE
# (a path, or a name for $TMPD/NAME); sets PORT.
serve() {
	case $1 in /*) state=$1 ;; *) state=$TMPD/$1 ;; esac
	shift
	"$srcdir/tests/pkg/http-serve" "$@" "$WWW" "$state" || exit 1
	http_servers="$http_servers $state"
	PORT=$(cat "$state/port")
}

# gpuprov through the wrapper (qemu-user for a cross build); unquoted on purpose: it may
# hold a command and its options.
gpuprov() {
	${TEST_WRAPPER:-} "$GPUPROV" "$@"
}

ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $*"
}

not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $*"
}

# check DESCRIPTION COMMAND...: one test case from a command's success. The command is a
# predicate: its output is dropped, its errors shown when it fails.
check() {
	desc=$1
	shift
	if "$@" >/dev/null 2>"$TMPD/check.err"; then
		ok "$desc"
	else
		not_ok "$desc"
		diag_file "$TMPD/check.err"
	fi
}

# jqt FILTER FILE: true when FILE is a JSON document for which FILTER is true (jq -e
# alone takes an empty file for success).
jqt() {
	[ -s "$2" ] && jq -e "$1" "$2" >/dev/null
}

# check_json DESCRIPTION FILTER FILE: one test case from jqt, showing the document when it fails.
check_json() {
	if jqt "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1"
		diag_file "$3"
	fi
}

# check_ran DESCRIPTION COUNT: a loop of checks over a list proves nothing when the list
# was empty; this case fails when the loop ran COUNT = 0 times.
check_ran() {
	if [ "$2" -gt 0 ]; then
		ok "$1 ($2)"
	else
		not_ok "$1: the loop ran over nothing"
	fi
}

# The shipped profiles' names, one a line: the JSON files of profiles/ but the knowledge and
# the schema.
shipped_profiles() {
	for pf in "$srcdir"/profiles/*.json; do
		p=$(basename "$pf" .json)
		case "$p" in knowledge | gpuprov-*) continue ;; esac
		echo "$p"
	done
}

# ---- expected outputs kept in the source tree ("goldens") ----------------------------------
# GPUPROV_REGENERATE=1 rewrites them from what the program gives now, for a deliberate
# change: review the diff like code.
regenerating() {
	[ "${GPUPROV_REGENERATE:-0}" = 1 ]
}

# golden DESCRIPTION GOT WANT: one test case, GOT (a file or a folder, made by the test) the
# same as WANT (kept in the source tree). Regenerating, GOT replaces WANT and the case is
# reported skipped: a run that wrote its expectations has proven nothing. Each WANT is
# recorded for golden_stale.
golden() {
	golden_claim "$3"
	if regenerating; then
		rm -rf "$3"
		mkdir -p "$(dirname "$3")"
		cp -a "$2" "$3"
		ok "$1 # SKIP regenerated ${3#"$srcdir"/}"
	elif [ ! -e "$3" ]; then
		not_ok "$1: ${3#"$srcdir"/} is missing (regenerate and review)"
	elif diff -ru "$3" "$2" >"$TMPD/golden.diff" 2>&1; then
		ok "$1"
	else
		not_ok "$1: differs from ${3#"$srcdir"/}"
		diag_file "$TMPD/golden.diff"
	fi
}

# golden_claim WANT: WANT is this run's, though the case that would compare it failed before
# it could (golden_stale would call it stale too).
golden_claim() {
	echo "$1" >>"$TMPD/goldens"
}

# golden_stale PATH...: each of the paths (globs the caller expanded) that exists and that no
# golden call of this run compared is stale, left by a machine or a profile that is gone or
# an output no longer produced: a failure, or removed when regenerating.
golden_stale() {
	for g in "$@"; do
		[ -e "$g" ] || continue
		grep -qxF -- "$g" "$TMPD/goldens" 2>/dev/null && continue
		if regenerating; then
			rm -rf "$g"
			ok "${g#"$srcdir"/} is stale # SKIP regenerated: removed"
		else
			not_ok "${g#"$srcdir"/} is stale: this test produces nothing to compare with it"
		fi
	done
}

# The tables of tests/machines written by hand (facts.tsv, stacks.tsv): their rows, without
# the comments.
table_rows() {
	grep -v -e '^#' -e '^$' "$srcdir/tests/machines/$1"
}

# listed_plan_exit MACHINE PROFILE: the exit code stacks.tsv gives plan for the profile on the
# machine; nothing when the combination is not listed.
listed_plan_exit() {
	table_rows stacks.tsv | awk -F '\t' -v m="$1" -v p="$2" '$1 == m && $2 == p { print $3; exit }'
}

# The fake machines' names, one a line: the folders of tests/machines with a root.
fake_machines() {
	for dir in "$srcdir"/tests/machines/*/; do
		[ -d "$dir/root" ] && basename "$dir"
	done
}

# dgx_with_driver DIR: a copy of the dgx-h100 machine as its loaded driver leaves it: the
# device nodes of its eight GPUs and the control node.
dgx_with_driver() {
	cp -a "$srcdir/tests/machines/dgx-h100/root" "$1"
	for i in 0 1 2 3 4 5 6 7; do : >"$1/dev/nvidia$i"; done
	: >"$1/dev/nvidiactl"
}

# CTK_LIST: where NVIDIA's toolkit repository's list lands in apt's lists.
CTK_LIST=var/lib/apt/lists/nvidia.github.io_libnvidia-container_stable_deb_amd64_Packages
# offer_ctk ROOT VERSION...: ROOT's apt lists offer the NVIDIA Container Toolkit's four
# packages at each VERSION (tests/pkg/ctk-packages), as NVIDIA's repository would: what a
# profile with a container section needs on a fake machine.
offer_ctk() {
	_root=$1
	shift
	mkdir -p "$_root/${CTK_LIST%/*}"
	"$srcdir/tests/pkg/ctk-packages" deb amd64 "$@" >"$_root/$CTK_LIST"
}

# reboot_stand_in: gpuprov's reboots (apply --reboot, verify --commit after a failure) go to
# a stand-in for systemctl that records them, whatever the root (GPUPROV_TEST_REBOOT), never
# to the machine the tests run on. reboots prints how many were asked for since it was last
# called.
reboot_stand_in() {
	printf '#!/bin/sh\necho "$*" >>"%s"\n' "$TMPD/reboots" >"$TMPD/systemctl"
	chmod +x "$TMPD/systemctl"
	GPUPROV_TEST_REBOOT="$TMPD/systemctl"
	export GPUPROV_TEST_REBOOT
}
reboots() {
	if [ -f "$TMPD/reboots" ]; then grep -c . "$TMPD/reboots"; else echo 0; fi
	rm -f "$TMPD/reboots"
}

# Prints a file to the TAP stream as diagnostics (why a case failed).
diag_file() {
	sed 's/^/# /' "$1"
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

# verify_state TREE [HEALTH [GPU]]: state.json as apply records it for h100-nvlink on the DGX
# H100 fake machine, booted into its kernel 5.15.0-105-generic (the known-good one
# 5.15.0-94-generic), with HEALTH as the profile's resolved verify section and GPU as its gpu
# section (JSON; none by default).
verify_state() {
	mkdir -p "$1/var/lib/gpuprov"
	cat >"$1/var/lib/gpuprov/state.json" <<EOF
{ "profile": "h100-nvlink", "kernel": "5.15.0-105-generic", "previous_kernel": "5.15.0-94-generic",
  "driver": "550.54.15", "flavour": "open", "source": "distro", "rdma": true, "reboot_required": true${2:+, \"health\": $2}${3:+, \"gpu\": $3} }
EOF
}

# nvml_healthy_file TREE FILE: FILE for the NVML stand-in (GPUPROV_TEST_NVML_FILE) playing the
# GPUs of the fake machine TREE healthy: its NVIDIA display and 3D controllers (vendor 0x10de,
# class 0x0300xx or 0x0302xx) in PCI bus order, as NVML numbers them, each with its bus id as
# NVML writes it ("00000000:AB:00.0"), a serial of its own and an idle H100 SXM's answers: no
# pending page retirement or row remapping, no uncorrectable ECC error, a gen5 x16 link (at
# gen1, as an idle GPU lowers it), 18 NVLinks up, persistence mode on, only the idle clock
# event reason, 34 C. "count" is the number of GPUs found.
nvml_healthy_file() {
	_n=0
	: >"$2"
	for _d in "$1"/sys/bus/pci/devices/*; do
		[ "$(cat "$_d/vendor" 2>/dev/null)" = 0x10de ] || continue
		case $(cat "$_d/class" 2>/dev/null) in 0x0300?? | 0x0302??) ;; *) continue ;; esac
		cat >>"$2" <<EOF
gpu$_n.bus=$(echo "0000${_d##*/}" | tr a-f A-F)
gpu$_n.serial=$((1654922012340 + _n))
gpu$_n.retired_pending=0
gpu$_n.remap_corr=0
gpu$_n.remap_unc=0
gpu$_n.remap_pending=0
gpu$_n.remap_failed=0
gpu$_n.ecc_uncorrected=0
gpu$_n.pcie_gen=1
gpu$_n.pcie_gen_max=5
gpu$_n.pcie_gen_gpu_max=5
gpu$_n.pcie_width=16
gpu$_n.pcie_width_max=16
gpu$_n.nvlink=18
gpu$_n.nvlink_down=
gpu$_n.persistence=1
gpu$_n.throttle=0x1
gpu$_n.temperature=34
EOF
		_n=$((_n + 1))
	done
	echo "count=$_n" >>"$2"
}
