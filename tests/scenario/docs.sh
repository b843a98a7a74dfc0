#!/bin/sh
# The man pages say what the program does: every verb and option that --help lists is in
# gpuprov(8), with every exit code and environment variable the program reads; every key
# of the profile schema is in gpuprov-profile(5); both pages are mandoc -Tlint clean.
. "${srcdir}/tests/scenario/lib.sh"

man="$srcdir/man/gpuprov.8"
man5="$srcdir/man/gpuprov-profile.5"
# in_man PAGE WORD: the word as roff writes it (a '-' is '\-').
in_man() {
	grep -qF -- "$(printf '%s' "$2" | sed 's/-/\\-/g')" "$1"
}

gpuprov --help >"$TMPD/help"
sed -n '/^Verbs:/,/^$/s/^  \([a-z]*\) .*/\1/p' "$TMPD/help" >"$TMPD/verbs"
check "--help lists the verbs" test "$(wc -l <"$TMPD/verbs")" -ge 10
while read -r verb; do
	check "gpuprov(8) describes the verb $verb" grep -q "^\.B $verb\b" "$man"
	gpuprov "$verb" --help >"$TMPD/vhelp" 2>&1 || true
	for opt in $(grep -o -- '--[a-z][a-z-]*' "$TMPD/vhelp" | sort -u); do
		check "gpuprov(8) documents $verb's $opt" in_man "$man" "$opt"
	done
done <"$TMPD/verbs"
for opt in $(grep -o -- '--[a-z][a-z-]*' "$TMPD/help" | sort -u); do
	check "gpuprov(8) documents the global $opt" in_man "$man" "$opt"
done
# The exit codes are the program's enum in src/cli/cli.h; EXIT STATUS gives each as the tag
# of its own paragraph, and no other.
sed -n 's/^[[:space:]]*EXIT_CODE_[A-Z_]* = \([0-9]*\),.*/\1/p' "$srcdir/src/cli/cli.h" >"$TMPD/codes"
sed -n '/^\.SH EXIT STATUS$/,/^\.SH [^E]/{/^\.TP$/{n;s/^\.B \([0-9]*\)$/\1/p;};}' "$man" >"$TMPD/man-codes"
check "src/cli/cli.h names at least 4 exit codes" test "$(wc -l <"$TMPD/codes")" -ge 4
while read -r code; do
	check "gpuprov(8) documents exit status $code" grep -qx "$code" "$TMPD/man-codes"
done <"$TMPD/codes"
while read -r code; do
	check "exit status $code in gpuprov(8) is one the program has" grep -qx "$code" "$TMPD/codes"
done <"$TMPD/man-codes"
# Every GPUPROV_* variable the program reads (the test-only ones included: they are
# documented as such).
for var in $(grep -oh 'getenv("GPUPROV_[A-Z_]*")' "$srcdir"/src/*/*.c | sed 's/getenv("\(.*\)")/\1/' | sort -u); do
	check "gpuprov(8) documents $var" in_man "$man" "$var"
done
# state.json's record of the stack before a switch, which rollback reads.
check "gpuprov(8) documents previous_stack" in_man "$man" previous_stack

# schema_keys: every key path of the profile schema (driver.branch, overrides.when.os), each
# once. A $ref is followed where it is first met: the body an override shares with the top
# level is the top level's, as the page describes it once. The keys of maps (sysctl,
# modprobe.options) are the site's, not the schema's.
schema_keys() {
	jq -r '
	def keys_walk($root; $s; $p):
		(if ($s | has("$ref")) and (.seen | index([$s["$ref"]]) | not) then
			.seen += [$s["$ref"]]
			| keys_walk($root; $root["$defs"][$s["$ref"] | ltrimstr("#/$defs/")]; $p)
		else . end)
		| reduce (($s.properties // {}) | to_entries[]) as $e (.;
			.out += [$p + [$e.key]] | keys_walk($root; $e.value; $p + [$e.key]))
		| if ($s.items | type) == "object" then keys_walk($root; $s.items; $p) else . end;
	. as $root | {seen: [], out: []} | keys_walk($root; $root; []) | .out[] | join(".")
	' "$srcdir/profiles/gpuprov-profile.schema.json"
}

# man5_documents KEY-PATH: a top-level key has its own subsection (.SS key); a key below it is
# the tag of a paragraph (.TP) in the subsection of its top-level key, or in the section named
# after that key (OVERRIDES for overrides.when.os).
man5_documents() {
	top=${1%%.*}
	if [ "$top" = "$1" ]; then
		grep -qxF ".SS $top" "$man5"
		return
	fi
	awk -v ss=".SS $top" -v sh=".SH $(printf '%s' "$top" | tr a-z A-Z)" '
		/^\.S[SH] / { in_key = ($0 == ss || $0 == sh) }
		in_key && prev == ".TP" { print }
		{ prev = $0 }' "$man5" | grep -qw -- "${1##*.}"
}

schema_keys >"$TMPD/keys"
check "the schema has at least 50 key paths" test "$(wc -l <"$TMPD/keys")" -ge 50
while read -r key; do
	check "gpuprov-profile(5) documents the key $key" man5_documents "$key"
done <"$TMPD/keys"
for page in "$man" "$man5"; do
	if command -v mandoc >/dev/null 2>&1; then
		check "$(basename "$page") is mandoc -Tlint clean" sh -c "[ -z \"\$(mandoc -Tlint '$page' 2>&1)\" ]"
	else
		ok "$(basename "$page") lint # SKIP mandoc is not installed"
	fi
done

done_testing
