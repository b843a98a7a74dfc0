#!/bin/sh
# status --prometheus on the DGX H100 fake machine: never applied, applied and waiting for the
# reboot, committed, a hardware fault, rolled back, failed; the values against state.json, the journal and
# check's findings; every output read by promtool (Debian's prometheus package) when it is
# there; --output replacing its file atomically, and its errors.
. "$srcdir/tests/scenario/lib.sh"

M="$TMPD/dgx"
cp -a "$srcdir/tests/machines/dgx-h100/root" "$M"
mkdir -p "$M/var/lib/gpuprov"
P="--root $M --profiles $srcdir/profiles"
prom=$TMPD/metrics.prom
running=$(cat "$M/proc/sys/kernel/osrelease")

# metrics: status --prometheus into $prom; one case for its exit status.
metrics() {
	rc=0
	gpuprov $P status --prometheus "$@" >"$prom" 2>"$TMPD/err" || rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$what: status --prometheus exits 0"
	else
		not_ok "$what: status --prometheus exits $rc"
		diag_file "$TMPD/err"
	fi
}

# value SERIES: the value of one series (name and labels as printed), or nothing.
value() {
	awk -v s="$1" 'substr($0, 1, length(s) + 1) == s " " { print substr($0, length(s) + 2) }' "$prom"
}

# is SERIES VALUE: one case, showing the metrics when it fails.
is() {
	got=$(value "$1")
	if [ "$got" = "$2" ]; then
		ok "$what: $1 is $2"
	else
		not_ok "$what: $1 is '$got', wanted '$2'"
		diag_file "$prom"
	fi
}

# absent NAME: no series of that metric.
absent() {
	if grep -q "^gpuprov_$1[{ ]" "$prom"; then
		not_ok "$what: no gpuprov_$1"
		diag_file "$prom"
	else
		ok "$what: no gpuprov_$1"
	fi
}

# The only state whose series is 1, and that every state has its series.
only_state() {
	if [ "$(grep -c '^gpuprov_state{' "$prom")" -eq 10 ] && [ "$(grep -c '^gpuprov_state{.*} 1$' "$prom")" -eq 1 ] &&
		[ "$(value "gpuprov_state{state=\"$1\"}")" = 1 ]; then
		ok "$what: state $1, one series a state"
	else
		not_ok "$what: state $1, one series a state"
		diag_file "$prom"
	fi
}

# The text format as Prometheus reads it, with its lint (HELP, TYPE, names, units).
promtool_ok() {
	if ! command -v promtool >/dev/null 2>&1; then
		ok "$what: promtool reads it # SKIP promtool not found (Debian package prometheus)"
	elif promtool check metrics <"$prom" >"$TMPD/promtool.out" 2>&1; then
		ok "$what: promtool reads it, nothing to lint"
	else
		not_ok "$what: promtool check metrics"
		diag_file "$TMPD/promtool.out"
		diag_file "$prom"
	fi
}

# Every metric has its HELP and TYPE, once, before its series.
headers_ok() {
	if awk '/^# HELP / { help[$3]++; next } /^# TYPE / { if (!help[$3]) bad = 1; type[$3]++; next }
		/^gpuprov_/ { n = $1; sub(/[{ ].*/, "", n); if (!type[n]) bad = 1 }
		END { for (n in help) if (help[n] != 1 || type[n] != 1) bad = 1; exit bad }' "$prom"; then
		ok "$what: HELP and TYPE once before each metric"
	else
		not_ok "$what: HELP and TYPE once before each metric"
		diag_file "$prom"
	fi
}

epoch() {
	date -u -d "$1" +%s
}

# The counts gpuprov check --json gives, by severity.
findings_ok() {
	gpuprov $P check --json >"$TMPD/check.json" 2>/dev/null
	for sev in error warning info; do
		is "gpuprov_check_findings{severity=\"$sev\"}" \
			"$(jq --arg s "$sev" '[.findings[] | select(.severity == $s)] | length' "$TMPD/check.json")"
	done
}

# --- never applied ---
what="never applied"
metrics
promtool_ok
headers_ok
only_state none
absent info
absent last_apply_timestamp_seconds
absent last_apply_success
absent last_verify_success
absent running_kernel_is_target
is gpuprov_reboot_required 0
findings_ok
check "the machine's warning is counted" test "$(value 'gpuprov_check_findings{severity="warning"}')" -ge 1

# --- applied, the reboot into the new kernel pending ---
what="applied"
cat >"$M/var/lib/gpuprov/state.json" <<EOF
{"profile": "h100-nvlink", "applied": "2026-11-21T09:30:00Z", "kernel": "6.8.0-49-generic",
 "previous_kernel": "$running", "driver": "550.54.15", "cuda": "12.4.1", "source": "distro",
 "flavour": "open", "rdma": true, "reboot_required": true}
EOF
metrics
promtool_ok
headers_ok
only_state applied
is 'gpuprov_info{profile="h100-nvlink",kernel="6.8.0-49-generic",driver="550.54.15",cuda="12.4.1",flavour="open",source="distro",fabricmanager="550.54.15"}' 1
check "applied: one gpuprov_info series" test "$(grep -c '^gpuprov_info{' "$prom")" -eq 1
is gpuprov_last_apply_timestamp_seconds "$(epoch 2026-11-21T09:30:00Z)"
is gpuprov_last_apply_success 1
is gpuprov_reboot_required 1
is gpuprov_running_kernel_is_target 0
absent last_verify_success
findings_ok

# The same through the host's textfile directory, replaced atomically.
what="--output"
out=$TMPD/textfile/gpuprov.prom
mkdir -p "$TMPD/textfile"
echo stale >"$out"
cp "$prom" "$TMPD/stdout.prom"
rc=0
(umask 077 && gpuprov $P status --prometheus --output "$out") >"$TMPD/out" 2>"$TMPD/err" || rc=$?
check "--output exits 0" test "$rc" -eq 0
check "--output prints nothing" test ! -s "$TMPD/out"
check "--output replaces the file with what stdout had" cmp "$TMPD/stdout.prom" "$out"
check "--output leaves no temporary file" test "$(ls -A "$TMPD/textfile")" = gpuprov.prom
check "--output: mode 0644 whatever the umask" test "$(stat -c %a "$out")" = 644
# A name relative to the working directory.
rc=0
(cd "$TMPD/textfile" && gpuprov $P status --prometheus --output rel.prom) 2>"$TMPD/err" || rc=$?
check "--output with a relative name" sh -c "[ $rc -eq 0 ] && cmp '$TMPD/stdout.prom' '$TMPD/textfile/rel.prom'"

rc=0
gpuprov $P status --prometheus --output "$TMPD/nosuch/gpuprov.prom" >"$TMPD/out" 2>"$TMPD/err" || rc=$?
check "--output in a directory that does not exist: exit 1" test "$rc" -eq 1
check "--output in a directory that does not exist: the message names it" grep -q "$TMPD/nosuch" "$TMPD/err"
check "--output in a directory that does not exist: nothing made" test ! -e "$TMPD/nosuch"
rc=0
gpuprov $P status --prometheus --output "$TMPD/textfile/" >"$TMPD/out" 2>"$TMPD/err" || rc=$?
check "--output naming a directory: exit 2" test "$rc" -eq 2
rc=0
gpuprov $P status --output "$out" >"$TMPD/out" 2>"$TMPD/err" || rc=$?
check "--output without --prometheus: exit 2 with a hint" sh -c "[ $rc -eq 2 ] && grep -q -- '--output needs --prometheus' '$TMPD/err'"
rc=0
gpuprov $P status --json --prometheus >"$TMPD/out" 2>"$TMPD/err" || rc=$?
check "--json with --prometheus: exit 2" test "$rc" -eq 2
rc=0
gpuprov $P check --prometheus >"$TMPD/out" 2>"$TMPD/err" || rc=$?
check "check --prometheus: another verb's option, exit 2" sh -c "[ $rc -eq 2 ] && grep -q -- '--prometheus' '$TMPD/err'"
rc=0
gpuprov $P verify --output "$out" >"$TMPD/out" 2>"$TMPD/err" || rc=$?
check "verify --output: exit 2" test "$rc" -eq 2

# --- committed by verify after the reboot into it ---
what="committed"
jq --arg k "$running" '.kernel = $k | .verified = {"result": "committed", "at": "2026-11-21T09:41:07Z", "failed": []}' \
	"$M/var/lib/gpuprov/state.json" >"$TMPD/state.json"
cp "$TMPD/state.json" "$M/var/lib/gpuprov/state.json"
metrics
promtool_ok
only_state committed
is gpuprov_last_verify_success 1
is gpuprov_last_verify_timestamp_seconds "$(epoch 2026-11-21T09:41:07Z)"
is gpuprov_running_kernel_is_target 1
is gpuprov_reboot_required 0

absent verify_check

# --- a hardware fault: the kernel kept, a GPU failed; verify's checks one series each ---
what="hardware fault"
jq '.verified = {"result": "hardware fault", "at": "2026-11-21T09:41:07Z", "failed": ["GPU 0000:18:00.0 (serial 1654922012340): NVLink 3 down, of 18"],
	"checks": [{"check": "kernel", "ok": true, "class": "stack", "warn": false, "detail": "running"},
		{"check": "nvlink", "ok": false, "class": "hardware", "warn": false, "detail": "GPU 0000:18:00.0 (serial 1654922012340): NVLink 3 down, of 18"},
		{"check": "site:\"odd\"", "ok": false, "class": "stack", "warn": true, "detail": "wanted"}]}' \
	"$TMPD/state.json" >"$M/var/lib/gpuprov/state.json"
metrics
promtool_ok
headers_ok
only_state hardware_fault
is gpuprov_last_verify_success 0
is gpuprov_running_kernel_is_target 1
is 'gpuprov_verify_check{check="kernel",result="ok"}' 1
is 'gpuprov_verify_check{check="nvlink",result="fail"}' 1
# (awk -v would unescape the label's quotes: compared as a fixed line)
check "hardware fault: a failed wanted check is a warn, its name escaped" \
	grep -qxF 'gpuprov_verify_check{check="site:\"odd\"",result="warn"} 1' "$prom"
check "hardware fault: one series a check" test "$(grep -c '^gpuprov_verify_check{' "$prom")" -eq 3

# --- rolled back by verify ---
what="rolled back"
jq '.kernel = "6.8.0-49-generic" | .verified = {"result": "rolled back", "at": "2026-11-21T09:41:07Z", "failed": ["NVML: Driver Not Loaded (9)"]}' \
	"$TMPD/state.json" >"$M/var/lib/gpuprov/state.json"
metrics
promtool_ok
only_state rolled_back
is gpuprov_last_verify_success 0
is gpuprov_running_kernel_is_target 0

# --- an apply that failed: its journal says so ---
what="failed"
cat >"$M/var/lib/gpuprov/journal.json" <<'EOF'
{"verb": "apply", "profile": "h100-nvlink", "started": "2026-11-22T10:00:00Z", "pid": 4242,
 "steps": [{"step": "install (apt)", "done": true}],
 "finished": "2026-11-22T10:03:00Z", "error": "apt-get install: exit status 100"}
EOF
metrics
promtool_ok
only_state failed
is gpuprov_last_apply_success 0
is gpuprov_last_apply_timestamp_seconds "$(epoch 2026-11-22T10:00:00Z)"

# --- an apply killed half way: its journal not finished ---
what="interrupted"
jq '.finished = null | del(.error) | .steps += [{"step": "hold (apt)", "done": false}]' \
	"$M/var/lib/gpuprov/journal.json" >"$TMPD/journal.json"
cp "$TMPD/journal.json" "$M/var/lib/gpuprov/journal.json"
metrics
promtool_ok
only_state interrupted
is gpuprov_last_apply_success 0

# --- rolled back by hand: the last run is rollback's, the apply's outcome from state.json ---
what="rolled back by hand"
echo '{"verb": "rollback", "profile": "h100-nvlink", "started": "2026-11-22T11:00:00Z", "pid": 4243, "steps": [], "finished": "2026-11-22T11:02:00Z", "error": null}' \
	>"$M/var/lib/gpuprov/journal.json"
jq --arg k "$running" '.kernel = "6.8.0-49-generic" | .verified = {"result": "rolled back by hand", "at": "2026-11-22T11:02:00Z", "kernel": $k, "kernel_only": false}' \
	"$TMPD/state.json" >"$M/var/lib/gpuprov/state.json"
metrics
promtool_ok
only_state rolled_back_by_hand
is gpuprov_last_apply_success 1
is gpuprov_last_apply_timestamp_seconds "$(epoch 2026-11-21T09:30:00Z)"
absent last_verify_success
is gpuprov_running_kernel_is_target 1
is gpuprov_reboot_required 0

# --- label values the format must escape, read back by a real parser ---
what="escaped labels"
rm "$M/var/lib/gpuprov/journal.json"
jq '.profile = "site\"q\\b" | .cuda = null' "$TMPD/state.json" >"$M/var/lib/gpuprov/state.json"
metrics
promtool_ok
check "escaped labels: quote and backslash escaped" grep -qF 'profile="site\"q\\b",' "$prom"
check "escaped labels: no toolkit, cuda empty" grep -qF 'cuda="",' "$prom"
# Debian's module is for Debian's python3, which another python3 may come before in PATH.
py=
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import prometheus_client' 2>/dev/null; then py=$p; break; fi
done
if [ -n "$py" ]; then
	check "escaped labels: the Python client's parser reads the profile back" "$py" -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
assert fams["gpuprov_info"].samples[0].labels["profile"] == "site\"q\\b", fams["gpuprov_info"].samples
' "$prom"
else
	ok "escaped labels: the Python client's parser reads it back # SKIP python3-prometheus-client not found"
fi

# --- reverted: no stack any more ---
what="reverted"
echo '{ "reverted": true }' >"$M/var/lib/gpuprov/state.json"
metrics
promtool_ok
only_state reverted
absent info
absent running_kernel_is_target

done_testing
