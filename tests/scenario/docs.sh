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
for code in 0 1 2 3 4 5; do
	check "gpuprov(8) documents exit status $code" sed -n '/^\.SH EXIT STATUS/,/^\.SH/p' "$man" | grep -q "^\.B $code\$"
done
# Every GPUPROV_* variable the program reads (the test-only ones included: they are
# documented as such).
for var in $(grep -oh 'getenv("GPUPROV_[A-Z_]*")' "$srcdir"/src/*/*.c | sed 's/getenv("\(.*\)")/\1/' | sort -u); do
	check "gpuprov(8) documents $var" in_man "$man" "$var"
done
# state.json's record of the stack before a switch, which rollback reads.
check "gpuprov(8) documents previous_stack" in_man "$man" previous_stack
for key in $(jq -r '.properties | keys[]' "$srcdir/profiles/gpuprov-profile.schema.json"); do
	check "gpuprov-profile(5) documents the key $key" grep -q "$key" "$man5"
done
for page in "$man" "$man5"; do
	if command -v mandoc >/dev/null 2>&1; then
		check "$(basename "$page") is mandoc -Tlint clean" sh -c "[ -z \"\$(mandoc -Tlint '$page' 2>&1)\" ]"
	else
		ok "$(basename "$page") lint # SKIP mandoc is not installed"
	fi
done

done_testing
