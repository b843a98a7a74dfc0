# Shared by the scenario tests: TAP output and how to run gpuprov.
# Sourced, not run. The test harness exports GPUPROV, TEST_WRAPPER, srcdir and top_builddir.

: "${GPUPROV:?GPUPROV is not set (run the tests through make check)}"
: "${srcdir:=.}"
set -u

tap_n=0
tap_failed=0
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/gpuprov-test.XXXXXX")
trap 'rm -rf "$TMPD"' EXIT

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

# Prints a file to the TAP stream as diagnostics (why a case failed).
diag_file() {
	sed 's/^/# /' "$1"
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}
