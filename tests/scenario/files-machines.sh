#!/bin/sh
# The files apply writes, as trees: for every shipped profile planned on every fake machine,
# tests/machines/<machine>/files/<profile>/ holds each managed file with the content apply
# gives it (from plan --json's diff of it), to be read and reviewed like code.
# GPUPROV_REGENERATE=1 rewrites the trees instead.
. "$srcdir/tests/scenario/lib.sh"

GPUPROV_TODAY=2026-11-21
export GPUPROV_TODAY
profiles=$srcdir/profiles

for dir in "$srcdir"/tests/machines/*/; do
	[ -d "$dir/root" ] || continue
	m=$(basename "$dir")
	for p in $(shipped_profiles); do
		gpuprov --root "$dir/root" --profiles "$profiles" plan "$p" --json >"$TMPD/plan.json" 2>/dev/null || continue
		got="$TMPD/tree/$m/$p"
		rm -rf "$got"
		mkdir -p "$got"
		# The new content: the diff's added and unchanged lines (diff.c marks them "+" and " ").
		jq -r '.actions[] | select(.action == "file") | .target' "$TMPD/plan.json" | while read -r f; do
			mkdir -p "$got$(dirname "$f")"
			jq -r --arg f "$f" '.actions[] | select(.action == "file" and .target == $f) | .detail' "$TMPD/plan.json" |
				sed -n 's/^[+ ]//p' >"$got$f"
		done
		want="$dir/files/$p"
		if [ "${GPUPROV_REGENERATE:-0}" = 1 ]; then
			rm -rf "$want"
			mkdir -p "$want"
			cp -a "$got/." "$want/"
			ok "$m: files of $p regenerated"
		elif [ ! -d "$want" ]; then
			not_ok "$m: files of $p missing (regenerate and review)"
		elif diff -r "$want" "$got" >"$TMPD/diff"; then
			ok "$m: the files $p writes"
		else
			not_ok "$m: the files $p writes differ from files/$p"
			diag_file "$TMPD/diff"
		fi
	done
done

done_testing
