#!/bin/sh
# Options and arguments as main() reads them for every verb: an option means the same
# before the verb and after it, an option the verb does not take is refused wherever it
# stands, the argument counts are checked (exit 2, naming the verb) before the lock is
# taken, and an error's cause is said once.
. "$srcdir/tests/scenario/lib.sh"

# A copy of a machine: the verbs that change the node take the lock in it.
node=$TMPD/node
cp -a "$srcdir/tests/machines/dgx-h100/root" "$node"
G="--root $node --profiles $srcdir/profiles"
: >"$TMPD/ca.pem"

# usage_error FILE: FILE holds a complaint about the command line (each ends with the hint).
usage_error() {
	grep -q "try 'gpuprov" "$1"
}

# free_space FILE: FILE with the free space of the filesystems detect reports (that of the
# disk the test runs on, which changes between two runs) as N.
free_space() {
	sed -E 's/("free_bytes":[[:space:]]*)[0-9]+/\1N/; s/[0-9.]+ [KMGT]?i?B free/N free/' "$1" >"$1.n" && mv "$1.n" "$1"
}

# both_positions "VERB ARGS" "OPTIONS" [FILE]: gpuprov with the global options and OPTIONS
# before the verb, then with all of them after its arguments: the same exit status, the
# same output (and the same FILE written, when given), and not a complaint about usage.
both_positions() {
	verb=$1
	opts=$(echo $2) # on one line, for the test's name
	file=${3:-}
	# shellcheck disable=SC2086 # the words are split on purpose
	gpuprov $G $opts $verb >"$TMPD/before.out" 2>"$TMPD/before.err"
	rc_before=$?
	[ -z "$file" ] || mv "$file" "$TMPD/before.file"
	# shellcheck disable=SC2086
	gpuprov $verb $opts $G >"$TMPD/after.out" 2>"$TMPD/after.err"
	rc_after=$?
	[ -z "$file" ] || mv "$file" "$TMPD/after.file"
	free_space "$TMPD/before.out"
	free_space "$TMPD/after.out"
	desc="$verb $opts: the same before and after the verb"
	if usage_error "$TMPD/before.err" || usage_error "$TMPD/after.err"; then
		not_ok "$desc: refused as bad usage"
		diag_file "$TMPD/before.err"
		diag_file "$TMPD/after.err"
	elif [ "$rc_before" -ne "$rc_after" ] || ! cmp -s "$TMPD/before.out" "$TMPD/after.out" ||
		! cmp -s "$TMPD/before.err" "$TMPD/after.err" ||
		{ [ -n "$file" ] && ! cmp -s "$TMPD/before.file" "$TMPD/after.file"; }; then
		not_ok "$desc: exit $rc_before before, $rc_after after"
		diff "$TMPD/before.out" "$TMPD/after.out" | diag_file /dev/stdin
		diff "$TMPD/before.err" "$TMPD/after.err" | diag_file /dev/stdin
	else
		ok "$desc (exit $rc_before)"
	fi
}

# --- every verb's options, before and after ---
both_positions "detect" "--json -q"
both_positions "profiles" "--json"
both_positions "show base" "-v"
both_positions "plan h100-nvlink" "--retry-failed --json"
both_positions "check" "--json"
both_positions "apply h100-nvlink" "--dry-run --yes --no-refresh --reboot --detailed-exitcodes --retry-failed --json"
both_positions "apply h100-nvlink" "--dry-run --bundle $TMPD/none.bundle --cacert $TMPD/ca.pem --allow-older
	--connect-timeout 5 --stall-time 5 --max-time 60 --min-rate 1K"
both_positions "verify" "--commit --no-reboot --json"
both_positions "rollback" "--dry-run --yes --kernel-only --remove-new --no-refresh --json"
both_positions "rollback" "--kernel-only"
both_positions "status" "--json"
both_positions "status" "--prometheus --output $TMPD/metrics.prom" "$TMPD/metrics.prom"
both_positions "status" "--prometheus -o $TMPD/metrics.prom" "$TMPD/metrics.prom"
both_positions "revert" "--dry-run --json"
both_positions "bundle verify $TMPD/none.bundle" "--cacert $TMPD/ca.pem --allow-older --connect-timeout 5
	--stall-time 5 --max-time 60 --min-rate 1K --json"
both_positions "bundle create base" "--os ubuntu-22.04 --arch x86_64 --key $TMPD/none.key -o $TMPD/b.bundle
	--expires 30d --sequence 7"

# The option that was read differently in each position: a verb that does not change the
# node refuses --dry-run before it as after it.
for line in "--dry-run detect" "detect --dry-run"; do
	# shellcheck disable=SC2086
	gpuprov $line >"$TMPD/out" 2>"$TMPD/err"
	rc=$?
	check "gpuprov $line: refused (exit 2)" test "$rc" -eq 2
done

# show NAME --root DIR: the root after the profile's name.
gpuprov show base --root "$node" --profiles "$srcdir/profiles" >"$TMPD/show.json" 2>"$TMPD/show.err"
rc=$?
check "show base --root DIR: exit 0" test "$rc" -eq 0
check "show base --root DIR: the profile base of that root" jqt '.name == "base"' "$TMPD/show.json"
diag_file "$TMPD/show.err"

# --- argument counts: exit 2, one line naming the verb and what is wrong ---
# counts "VERB ARGS" WHAT
counts() {
	verb=${1%% *}
	# shellcheck disable=SC2086
	gpuprov $G $1 >"$TMPD/out" 2>"$TMPD/err"
	rc=$?
	if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMPD/err")" -eq 1 ] && grep -q "^gpuprov $verb: $2" "$TMPD/err"; then
		ok "gpuprov $1: exit 2, \"gpuprov $verb: $2\""
	else
		not_ok "gpuprov $1: exit $rc, wanted 2 and \"gpuprov $verb: $2\""
		diag_file "$TMPD/err"
	fi
}
for verb in detect profiles check verify rollback status revert; do
	counts "$verb extra" "unexpected argument 'extra'"
done
for verb in show plan apply; do
	counts "$verb" "missing argument"
	counts "$verb base extra" "unexpected argument 'extra'"
done
counts "bundle" "missing argument"
counts "bundle create" "missing argument"
counts "bundle verify a.bundle extra" "unexpected argument 'extra'"

# Counted before the lock is taken: a run that holds it does not turn bad usage into a
# refusal (exit 3).
if command -v flock >/dev/null 2>&1; then
	mkdir -p "$node/run"
	exec 9>"$node/run/gpuprov.lock"
	flock -x 9
	counts "apply base extra" "unexpected argument 'extra'"
	counts "rollback extra" "unexpected argument 'extra'"
	# A profile that does not load is bad input, refused before the lock as plan refuses it.
	gpuprov $G apply nosuch >"$TMPD/out" 2>"$TMPD/err"
	rc=$?
	check "the lock held: apply of an unknown profile exits 2, naming the profiles there are" \
		sh -c "[ $rc -eq 2 ] && grep -q 'available: ' '$TMPD/err'"
	gpuprov $G rollback >"$TMPD/out" 2>"$TMPD/err"
	rc=$?
	check "the lock held: rollback refused (exit 3), so the counts above came first" \
		sh -c "[ $rc -eq 3 ] && grep -q 'another gpuprov run' '$TMPD/err'"
	exec 9>&-
else
	ok "counts before the lock # SKIP flock not found"
fi

# --- an option of another verb, before the verb or after it ---
# refused "VERB ARGS" OPTION
refused() {
	verb=${1%% *}
	for line in "$2 $1" "$1 $2"; do
		# shellcheck disable=SC2086
		gpuprov $G $line >"$TMPD/out" 2>"$TMPD/err"
		rc=$?
		if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMPD/err")" -eq 1 ] &&
			grep -q "^gpuprov $verb: the option '${2%% *}' does not apply here; try 'gpuprov $verb --help'" "$TMPD/err"; then
			ok "gpuprov $line: refused (exit 2), naming the option"
		else
			not_ok "gpuprov $line: exit $rc, wanted 2 and the option named"
			diag_file "$TMPD/err"
		fi
	done
}
refused "detect" "--dry-run"
refused "profiles" "--output $TMPD/x"
refused "show base" "--retry-failed"
refused "plan base" "--kernel-only"
refused "check" "--no-refresh"
refused "apply base" "--commit"
refused "verify" "--prometheus"
refused "rollback" "--retry-failed"
refused "status" "--bundle $TMPD/x"
refused "revert" "--yes"
refused "bundle verify $TMPD/x" "--reboot"
refused "detect" "-o $TMPD/x"

# --- an error's cause, said once: the lock in a root where run/ is a file ---
mkdir -p "$TMPD/flat"
: >"$TMPD/flat/run"
gpuprov --root "$TMPD/flat" revert >"$TMPD/out" 2>"$TMPD/err"
rc=$?
check "the lock under a file: exit 1" test "$rc" -eq 1
check "the lock under a file: the message names the lock and its cause" \
	grep -q "cannot take $TMPD/flat/run/gpuprov.lock: Not a directory\$" "$TMPD/err"
check "the lock under a file: the cause is said once" test "$(grep -o 'Not a directory' "$TMPD/err" | wc -l)" -eq 1
diag_file "$TMPD/err"

done_testing
