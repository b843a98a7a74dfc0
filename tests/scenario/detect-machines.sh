#!/bin/sh
# detect on every fake machine, against the expected output kept beside it (lib.sh: golden;
# GPUPROV_REGENERATE=1 rewrites it); an expected output no machine gives is stale.
. "$srcdir/tests/scenario/lib.sh"

# Free space is that of the filesystem the test tree sits on: not a fact of the machine.
mask_json() {
	sed -E 's/("(free|total)_bytes":[[:space:]]*)[0-9]+/\1"(masked)"/'
}
mask_text() {
	sed -E 's/, [0-9.]+ (B|KiB|MiB|GiB|TiB) free/, (masked) free/'
}

# compare NAME KIND: the output against tests/machines/NAME/detect.KIND.
compare() {
	golden "$1: detect.$2 as expected" "$TMPD/$1.$2" "$srcdir/tests/machines/$1/detect.$2"
}

found=0
for dir in "$srcdir"/tests/machines/*/; do
	[ -d "$dir/root" ] || continue
	name=$(basename "$dir")
	found=$((found + 1))

	if gpuprov --root "$dir/root" detect --json >"$TMPD/raw.json" 2>"$TMPD/err"; then
		ok "$name: detect --json exits 0"
	else
		not_ok "$name: detect --json failed"
		diag_file "$TMPD/err"
	fi
	check "$name: the JSON parses" jq -e .schema "$TMPD/raw.json"
	check "$name: free space in /boot is known" jq -e '.storage.boot.free_bytes > 0' "$TMPD/raw.json"
	mask_json <"$TMPD/raw.json" >"$TMPD/$name.json"
	compare "$name" json

	gpuprov --root "$dir/root" detect >"$TMPD/raw.txt" 2>/dev/null
	mask_text <"$TMPD/raw.txt" >"$TMPD/$name.txt"
	compare "$name" txt

	# --sysroot separately: the same tree given as both must give the same facts.
	gpuprov --root "$dir/root" --sysroot "$dir/root" detect --json 2>/dev/null | mask_json >"$TMPD/sys.json"
	check "$name: --sysroot given explicitly changes nothing" cmp -s "$TMPD/$name.json" "$TMPD/sys.json"

	# A relative --root, as an operator types it, gives the same facts.
	(cd "$dir" && gpuprov --root root detect --json 2>/dev/null) | mask_json >"$TMPD/rel.json"
	check "$name: a relative --root gives the same facts" cmp -s "$TMPD/$name.json" "$TMPD/rel.json"
done
check "at least six fake machines" [ "$found" -ge 6 ]
golden_stale "$srcdir"/tests/machines/*/detect.*

done_testing
