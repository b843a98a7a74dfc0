#!/bin/sh
# Bad profiles: each refused before anything happens, with file:line:column, the key path,
# what was expected and what was found (tests/profiles/bad/<case>/expected), exit 2, and
# the machine untouched. The profile under test is p.json (nosuch for unknown-name).
. "$srcdir/tests/scenario/lib.sh"

machine=$srcdir/tests/machines/dgx-h100/root
# A fingerprint of the machine's tree: names, sizes and times; any write would change it.
fingerprint() {
	find "$machine" -printf '%P %s %T@\n' | sort | cksum
}
before=$(fingerprint)

n=0
for dir in "$srcdir"/tests/profiles/bad/*/; do
	case=$(basename "$dir")
	name=p
	[ "$case" = unknown-name ] && name=nosuch
	n=$((n + 1))
	for verb in show plan apply; do
		(cd "$dir" && gpuprov --root "$machine" --profiles . $verb $name >"$TMPD/out" 2>"$TMPD/err")
		rc=$?
		sed 's/^gpuprov: //' "$TMPD/err" >"$TMPD/msg"
		if [ "$rc" -ne 2 ]; then
			not_ok "$case: $verb exits $rc, wanted 2"
			diag_file "$TMPD/err"
		elif ! cmp -s "$TMPD/msg" "$dir/expected"; then
			not_ok "$case: $verb says something else than expected"
			diff -u "$dir/expected" "$TMPD/msg" | diag_file /dev/stdin
		elif [ -s "$TMPD/out" ]; then
			not_ok "$case: $verb printed a plan or profile anyway"
		else
			ok "$case: $verb refuses: $(cat "$TMPD/msg")"
		fi
	done
done
check "at least 20 bad profiles" [ "$n" -ge 20 ]

# A profile too large to be one, made here rather than shipped.
mkdir -p "$TMPD/huge"
{ printf '{ "name": "p", "description": "'; head -c 1100000 /dev/zero | tr '\0' 'x'; printf '" }\n'; } >"$TMPD/huge/p.json"
(cd "$TMPD/huge" && gpuprov --root "$machine" --profiles . show p >/dev/null 2>"$TMPD/err")
rc=$?
check "an oversized profile is refused with exit 2" [ "$rc" -eq 2 ]
check "an oversized profile's message names the file and the limit" grep -q "p.json: expected a profile of at most 1048576 bytes" "$TMPD/err"

# A site profile of the same name wins over the shipped one (the site dir is the root's).
mkdir -p "$TMPD/site/etc/gpuprov/profiles" "$TMPD/ship"
printf '{ "name": "p", "description": "shipped" }\n' >"$TMPD/ship/p.json"
printf '{ "name": "p", "description": "site" }\n' >"$TMPD/site/etc/gpuprov/profiles/p.json"
gpuprov --root "$TMPD/site" --profiles "$TMPD/ship" show p 2>/dev/null >"$TMPD/out"
check "a site profile overrides the shipped one of the same name" jq -e '.description == "site"' "$TMPD/out"

# The knowledge ships with gpuprov, but a broken copy is refused the same way: where, why.
mkdir -p "$TMPD/kn"
printf '{ "name": "p" }\n' >"$TMPD/kn/p.json"
printf '{ "cuda": [ { "toolkit": "12.4" ' >"$TMPD/kn/knowledge.json"
gpuprov --root "$machine" --profiles "$TMPD/kn" plan p >/dev/null 2>"$TMPD/err"
rc=$?
check "a truncated knowledge.json: exit 2" [ "$rc" -eq 2 ]
check "a truncated knowledge.json: file, line, column" grep -q "knowledge.json:1:[0-9]*: not valid JSON here" "$TMPD/err"
# bad_knowledge WHAT SED MESSAGE: the shipped knowledge edited by SED is refused (exit 2)
# with MESSAGE (a grep pattern: file, line, column, the path and why).
bad_knowledge() {
	sed "$2" "$srcdir/profiles/knowledge.json" >"$TMPD/kn/knowledge.json"
	gpuprov --root "$machine" --profiles "$TMPD/kn" plan p >/dev/null 2>"$TMPD/err"
	rc=$?
	check "$1: exit 2" [ "$rc" -eq 2 ]
	check "$1: names the entry" grep -q "$3" "$TMPD/err"
}
bad_knowledge "knowledge without sources" 's/"source": "[^"]*"/"source": ""/' \
	'knowledge.json:[0-9]*:[0-9]*: architectures\[0\].source: every entry names its source'
bad_knowledge "knowledge with a date that is none" 's/"verified": "[^"]*"/"verified": "2026-13-01"/' \
	'knowledge.json:[0-9]*:[0-9]*: architectures\[0\].verified: every entry says when it was last checked'
bad_knowledge "knowledge of format 1" 's/"format": 2/"format": 1/' 'knowledge.json:2:[0-9]*: format: expected 2'

# A garbled repository view is a warning, and its packages are not offered: the plan refuses
# with that reason rather than inventing versions.
cp -a "$srcdir/tests/machines/hgx-a100-rocky9/root" "$TMPD/garbled"
printf '{ "packages": [ { "name": ' >"$TMPD/garbled/var/lib/gpuprov/repo.json"
gpuprov --root "$TMPD/garbled" --profiles "$srcdir/profiles" plan a100-stable >"$TMPD/out" 2>"$TMPD/err"
rc=$?
check "a garbled repo.json: plan refuses (exit 3)" [ "$rc" -eq 3 ]
check "a garbled repo.json: warned, with the file" grep -q "var/lib/gpuprov/repo.json: unexpected format; its packages are not offered" "$TMPD/err"
check "a garbled repo.json: the refusal says nothing is offered" grep -q "no NVIDIA driver is offered" "$TMPD/out"

check "no bad profile changed the machine" [ "$(fingerprint)" = "$before" ]

done_testing
