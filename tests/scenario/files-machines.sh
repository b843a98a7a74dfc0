#!/bin/sh
# The files apply writes, as trees: for every shipped profile planned on every fake machine,
# tests/machines/<machine>/files/<profile>/ holds each managed file with the content apply
# gives it (from plan --json's diff of it), to be read and reviewed like code (lib.sh: golden;
# GPUPROV_REGENERATE=1 rewrites the trees). Whether plan refuses a combination is not taken
# from plan itself: tests/machines/stacks.tsv lists each one with its exit code, so a
# combination that planned before and now fails is a failure, and so is a tree for one
# refused.
. "$srcdir/tests/scenario/lib.sh"

GPUPROV_TODAY=2026-11-21
export GPUPROV_TODAY
profiles=$srcdir/profiles

for m in $(fake_machines); do
	for p in $(shipped_profiles); do
		want="$srcdir/tests/machines/$m/files/$p"
		gpuprov --root "$srcdir/tests/machines/$m/root" --profiles "$profiles" plan "$p" --json \
			>"$TMPD/plan.json" 2>"$TMPD/err"
		rc=$?
		listed=$(listed_plan_exit "$m" "$p")
		if [ -z "$listed" ]; then
			not_ok "$m: plan $p is not listed in tests/machines/stacks.tsv"
			golden_claim "$want"
			continue
		elif [ "$rc" -ne "$listed" ]; then
			not_ok "$m: plan $p exited $rc, stacks.tsv says $listed"
			diag_file "$TMPD/err"
			golden_claim "$want"
			continue
		elif [ "$rc" -ne 0 ]; then
			ok "$m: plan $p refused (exit $rc), as listed: no files"
			continue
		fi
		got="$TMPD/tree/$m/$p"
		mkdir -p "$got"
		# The new content: the diff's added and unchanged lines (diff.c marks them "+" and " ").
		jq -r '.actions[] | select(.action == "file") | .target' "$TMPD/plan.json" | while read -r f; do
			mkdir -p "$got$(dirname "$f")"
			jq -r --arg f "$f" '.actions[] | select(.action == "file" and .target == $f) | .detail' "$TMPD/plan.json" |
				sed -n 's/^[+ ]//p' >"$got$f"
		done
		golden "$m: the files $p writes" "$got" "$want"
	done
done
# A tree no planned combination writes: a machine or a profile gone, or now refused.
golden_stale "$srcdir"/tests/machines/*/files/*

done_testing
