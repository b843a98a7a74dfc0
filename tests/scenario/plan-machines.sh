#!/bin/sh
# plan for every shipped profile on every fake machine, and check on every machine, against
# the expected output kept beside each machine (plan-<profile>.json, check.json), with the
# exit codes: plan 0 or 3 (refused), check 0 or 3 (errors found). lib.sh: golden
# (GPUPROV_REGENERATE=1 rewrites them); an expected plan or check nothing gives is stale.
. "$srcdir/tests/scenario/lib.sh"

# End of life is judged as of a fixed day, so the expected plans do not age.
GPUPROV_TODAY=2026-11-21
export GPUPROV_TODAY
profiles=$srcdir/profiles

# compare FILE-IN-MACHINE-DIR MACHINE DESCRIPTION
compare() {
	golden "$2: $3" "$TMPD/got" "$srcdir/tests/machines/$2/$1"
}

for dir in "$srcdir"/tests/machines/*/; do
	[ -d "$dir/root" ] || continue
	m=$(basename "$dir")
	for p in $(shipped_profiles); do
		gpuprov --root "$dir/root" --profiles "$profiles" plan "$p" --json >"$TMPD/got" 2>"$TMPD/err"
		rc=$?
		refused=$(jq -r .refused "$TMPD/got" 2>/dev/null)
		if { [ "$rc" -eq 0 ] && [ "$refused" = false ]; } || { [ "$rc" -eq 3 ] && [ "$refused" = true ]; }; then
			printf '{"exit": %d}\n' "$rc" >>"$TMPD/got"
			compare "plan-$p.json" "$m" "plan $p ($( [ $rc -eq 0 ] && echo planned || echo refused))"
		else
			not_ok "$m: plan $p exited $rc with refused=$refused"
			diag_file "$TMPD/err"
			golden_claim "$srcdir/tests/machines/$m/plan-$p.json"
		fi
	done
	gpuprov --root "$dir/root" --profiles "$profiles" check --json >"$TMPD/got" 2>"$TMPD/err"
	rc=$?
	errors=$(jq -r .errors "$TMPD/got" 2>/dev/null)
	if { [ "$rc" -eq 0 ] && [ "$errors" = false ]; } || { [ "$rc" -eq 3 ] && [ "$errors" = true ]; }; then
		compare check.json "$m" "check ($rc)"
	else
		not_ok "$m: check exited $rc with errors=$errors"
		diag_file "$TMPD/err"
		golden_claim "$srcdir/tests/machines/$m/check.json"
	fi
done

golden_stale "$srcdir"/tests/machines/*/plan-*.json "$srcdir"/tests/machines/*/check.json

# Same machine, same profile, same repositories: the same plan, byte for byte.
m=$srcdir/tests/machines/dgx-h100/root
gpuprov --root "$m" --profiles "$profiles" plan h100-nvlink --json >"$TMPD/a" 2>/dev/null
gpuprov --root "$m" --profiles "$profiles" plan h100-nvlink --json >"$TMPD/b" 2>/dev/null
check "plan is deterministic" cmp -s "$TMPD/a" "$TMPD/b"

done_testing
