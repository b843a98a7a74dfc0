#!/bin/sh
# apt's lists kept compressed (Acquire::GzipIndexes with Acquire::CompressionTypes::Order):
# the DGX H100 machine with its lists in each of gzip, xz, lz4 and zstd plans exactly as with
# them plain; a plain and a damaged compressed copy of a list, the plain one only is read; a
# list that unpacks past gpuprov's limit, and one that is a link out of the root, are each
# left out with a warning naming the file, as if the list were not there.
. "$srcdir/tests/scenario/lib.sh"
. "$srcdir/tests/scenario/lib-lists.sh"

# Messages compared too: a list that does not read is a warning.
SAME_MESSAGES=1
# gpuprov's limit on what it reads of one list (APT_LIST_MAX in src/profile/repo.c).
LIMIT_MIB=256

# compress KIND: standard input compressed as apt writes KIND ("gz", "xz", "lz4", "zst").
compress() {
	case $1 in
	gz) gzip -c ;;
	xz) xz -c ;;
	lz4) lz4 -q -c ;;
	zst) zstd -q -c ;;
	esac
}

# same_plan_warned DESCRIPTION A B FILE WHY: B the same plan as A, and B's run warned once
# about FILE (a path in the root), with WHY (an extended regex) in the warning.
same_plan_warned() {
	if cmp -s "$2" "$3" && cmp -s "$2.rc" "$3.rc" &&
		[ "$(grep -cE "^gpuprov: warning: /$4: .*$5" "$3.err")" = 1 ]; then
		ok "$1"
	else
		not_ok "$1"
		diff -u "$2" "$3" >"$TMPD/plan.diff" 2>&1
		diag_file "$TMPD/plan.diff"
		diag_file "$3.err"
	fi
}

lists_base
base=$TMPD/base

n=0
for kind in gz xz lz4 zst; do
	if ! command -v "$(echo "$kind" | sed 's/^gz$/gzip/; s/^zst$/zstd/')" >/dev/null; then
		ok "lists compressed with $kind # SKIP no compressor for $kind"
		continue
	fi
	root=$TMPD/$kind
	cp -a "$base" "$root"
	for f in "$root/$LISTS"/*_Packages; do
		compress "$kind" <"$f" >"$f.$kind" && rm "$f"
		n=$((n + 1))
	done
	plan_json "$root" "$TMPD/$kind.json"
	same_plan "lists compressed with $kind: the same plan as plain" "$TMPD/plain.json" "$TMPD/$kind.json"

	# A plain copy beside a compressed one that does not read: the plain one is read, alone.
	root=$TMPD/both-$kind
	cp -a "$base" "$root"
	for f in "$root/$LISTS"/*_Packages; do
		echo "not $kind data" >"$f.$kind"
	done
	plan_json "$root" "$TMPD/both-$kind.json"
	same_plan "a plain list and a damaged .$kind copy: the plain one read, not both" \
		"$TMPD/plain.json" "$TMPD/both-$kind.json"
done
check_ran "lists compressed" "$n"

# A list that unpacks past the limit: skipped with a warning, like any list that does not
# read, so that the other repositories still count (the plan refuses what they lack); what
# was read of it before the limit is not offered either. Its first part is the real list.
root=$TMPD/bomb
cp -a "$base" "$root"
{
	cat "$root/$LISTS/$NV"
	head -c $(((LIMIT_MIB + 1) * 1024 * 1024)) /dev/zero
} | gzip -1 -c >"$root/$LISTS/$NV.gz"
rm "$root/$LISTS/$NV"
plan_json "$root" "$TMPD/bomb.json"
same_plan_warned "a list that unpacks past $LIMIT_MIB MiB: left out, with a warning naming it and the limit" \
	"$TMPD/nonv.json" "$TMPD/bomb.json" "$LISTS/$NV.gz" "more than $LIMIT_MIB MiB"

# A list that is a link out of the root, absolute or relative: resolved inside the root,
# where there is no such file, never to the host's copy.
mkdir -p "$TMPD/outside"
gzip -c <"$base/$LISTS/$NV" >"$TMPD/outside/list.gz"
up=$(echo "$TMPD/x/$LISTS" | sed 's|/[^/]*|../|g')
for link in "$TMPD/outside/list.gz" "$up${TMPD#/}/outside/list.gz"; do
	root=$TMPD/link
	rm -rf "$root"
	cp -a "$base" "$root"
	rm "$root/$LISTS/$NV"
	ln -s "$link" "$root/$LISTS/$NV.gz"
	plan_json "$root" "$TMPD/link.json"
	same_plan_warned "a list linked out of the root ($link): not followed" \
		"$TMPD/nonv.json" "$TMPD/link.json" "$LISTS/$NV.gz" "No such file"
done

done_testing
