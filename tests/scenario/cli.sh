#!/bin/sh
# The command line: help, version, and bad usage answered with exit 2 and a one-line hint.
. "$srcdir/tests/scenario/lib.sh"

out=$TMPD/out
err=$TMPD/err

# expect_exit CODE DESCRIPTION ARGS...: runs gpuprov ARGS and checks its exit status.
expect_exit() {
	want=$1
	desc=$2
	shift 2
	gpuprov "$@" >"$out" 2>"$err"
	got=$?
	if [ "$got" -eq "$want" ]; then
		ok "$desc (exit $want)"
	else
		not_ok "$desc: exit $got, wanted $want"
		diag_file "$err"
	fi
}

# A usage error says what is wrong on one line and points at --help.
one_line_hint() {
	[ "$(wc -l <"$err")" -eq 1 ] && grep -q -- "--help" "$err" && grep -q -- "$1" "$err"
}

expect_exit 0 "--help" --help
for verb in detect profiles show plan check; do
	check "--help lists the $verb verb" grep -q "^  $verb " "$out"
done
check "--help names every global option" sh -c "grep -q -- '--root DIR' '$out' && grep -q -- '--sysroot DIR' '$out' && grep -q -- '--profiles DIR' '$out' && grep -q -- '--json' '$out' && grep -q -- '--verbose' '$out' && grep -q -- '--quiet' '$out'"

expect_exit 0 "--version" --version
check "--version prints the package version" grep -qx "gpuprov [0-9][0-9.]*" "$out"

expect_exit 2 "no verb"
check "no verb: one-line hint" one_line_hint "no verb"
expect_exit 2 "unknown verb" frobnicate
check "unknown verb: one-line hint naming it" one_line_hint "frobnicate"
expect_exit 2 "unknown global option" --frob detect
check "unknown global option: one-line hint naming it" one_line_hint "--frob"
expect_exit 2 "--root without its argument" --root
check "--root without argument: one-line hint" one_line_hint "needs an argument"
expect_exit 2 "--root that does not exist" --root "$TMPD/nonexistent" detect
check "--root that does not exist: the message names it" grep -q "$TMPD/nonexistent" "$err"
: >"$TMPD/plainfile"
expect_exit 2 "--sysroot that is a file" --sysroot "$TMPD/plainfile" detect
expect_exit 0 "detect --help" detect --help
check "detect --help shows its usage" grep -q "^Usage: gpuprov \[OPTIONS\] detect \[--json\]" "$out"
expect_exit 2 "detect with an extra argument" detect extra
check "detect extra argument: one-line hint" one_line_hint "extra"
expect_exit 2 "detect with an unknown option" detect --frob
check "detect unknown option: one-line hint" one_line_hint "--frob"

# A verb rejects the options of other verbs, as it does unknown ones.
expect_exit 2 "rollback --reboot" rollback --reboot
check "rollback --reboot: one-line hint naming it" one_line_hint "--reboot"
expect_exit 2 "rollback --commit" rollback --commit
expect_exit 2 "rollback --detailed-exitcodes" rollback --detailed-exitcodes
expect_exit 2 "revert --yes" revert --yes
check "revert --yes: one-line hint naming it" one_line_hint "--yes"
expect_exit 2 "revert --kernel-only" revert --kernel-only
expect_exit 2 "apply --kernel-only" apply base --kernel-only
expect_exit 2 "plan --dry-run" plan base --dry-run
expect_exit 0 "rollback --help" rollback --help
check "rollback --help names its options" \
	sh -c "grep -q -- --kernel-only '$out' && grep -q -- --remove-new '$out' && ! grep -q -- --reboot '$out'"

machine=$srcdir/tests/machines/dgx-h100/root
P="--root $machine --profiles $srcdir/profiles"
expect_exit 2 "plan without a profile name" $P plan
check "plan without a name: one-line hint" one_line_hint "missing argument"
expect_exit 2 "show with two names" $P show base base
check "show with two names: one-line hint naming the extra one" one_line_hint "unexpected argument 'base'"
expect_exit 2 "check with an argument" $P check now
expect_exit 2 "plan of an unknown profile" $P plan nosuch
check "an unknown profile: the message lists the available ones" grep -q 'available: a100-stable, a800-cuda128, base' "$err"
expect_exit 2 "--profiles that does not exist" --root "$machine" --profiles "$TMPD/none" plan base
check "--profiles that does not exist: the message names it" grep -q "no profile directory at $TMPD/none" "$err"
expect_exit 0 "plan --help" plan --help
check "plan --help shows its usage" grep -q "^Usage: gpuprov \[OPTIONS\] plan NAME \[--retry-failed\] \[--strict\] \[--json\]" "$out"
expect_exit 0 "options after the argument" $P plan h100-nvlink --json
check "plan NAME --json prints JSON" jq -e '.profile == "h100-nvlink"' "$out"

done_testing
