#!/bin/sh
# The shipped compatibility knowledge (profiles/knowledge.json) against its JSON Schema
# (profiles/gpuprov-knowledge.schema.json, format 2), with python3-jsonschema; and copies of it that
# the schema must refuse, each for the field that is wrong: a driver version that is a Vulkan
# developer beta of the open modules (such versions sort among production releases that do
# not support the GPU), an entry without "verified", a file of format 1, a source that cites
# the project's own notes, and a key the format does not have.
. "${srcdir}/tests/scenario/lib.sh"

schema="$srcdir/profiles/gpuprov-knowledge.schema.json"
knowledge="$srcdir/profiles/knowledge.json"

# validate FILE: FILE against the schema; each error on a line of its own, "PATH: message"
# (PATH the JSON pointer of the value refused); exit 1 when there is one.
validate() {
	python3 - "$schema" "$1" <<'PY'
import json, sys
import jsonschema

with open(sys.argv[1]) as f:
    schema = json.load(f)
with open(sys.argv[2]) as f:
    doc = json.load(f)
jsonschema.Draft202012Validator.check_schema(schema)
errors = list(jsonschema.Draft202012Validator(schema).iter_errors(doc))
for e in errors:
    print("/" + "/".join(str(p) for p in e.absolute_path) + ": " + e.message[:200])
sys.exit(1 if errors else 0)
PY
}

if ! python3 -c 'import jsonschema' 2>/dev/null; then
	ok "# SKIP python3-jsonschema is not installed (scripts/install-deps)"
	done_testing
	exit 0
fi

if validate "$knowledge" >"$TMPD/shipped.out" 2>&1; then
	ok "profiles/knowledge.json is valid against profiles/gpuprov-knowledge.schema.json"
else
	not_ok "profiles/knowledge.json is valid against profiles/gpuprov-knowledge.schema.json"
	diag_file "$TMPD/shipped.out"
fi

# refused DESCRIPTION JQ POINTER: the shipped file changed by the jq filter JQ is refused, and
# the refusal names POINTER, the value the change made wrong (not some other field).
refused() {
	jq "$2" "$knowledge" >"$TMPD/bad.json" || {
		not_ok "$1: jq $2 failed"
		return
	}
	if validate "$TMPD/bad.json" >"$TMPD/bad.out" 2>&1; then
		not_ok "$1: accepted"
	elif grep -q "^$3: " "$TMPD/bad.out"; then
		ok "$1"
	else
		not_ok "$1: refused, but not at $3"
		diag_file "$TMPD/bad.out"
	fi
}

# The entry changed is found by its key, so that the cases hold when entries move.
h200='(.gpus | map(.device) | index("10de:2335"))'
h200_at=$(jq "$h200" "$knowledge")
check "the shipped knowledge has the H200 SXM (10de:2335)" test "$h200_at" -ge 0
refused "a Vulkan developer-beta tag's version as a GPU's first driver is refused" \
	".gpus[$h200].min_driver = \"550.40.65\"" "/gpus/$h200_at/min_driver"
refused "a Vulkan developer-beta tag's name as a GPU's first driver is refused" \
	".gpus[$h200].min_driver = \"VK551_06\"" "/gpus/$h200_at/min_driver"
refused "a beta version as a toolkit update's driver is refused" \
	'.cuda[0].updates = [{"name": "11.8.1", "driver": "580.94.13"}]' "/cuda/0/updates/0/driver"
refused "an entry without \"verified\" is refused" \
	"del(.gpus[$h200].verified)" "/gpus/$h200_at"
refused "a verified that is not a day is refused" \
	'.branches[0].verified = "2026-12"' "/branches/0/verified"
refused "a file of format 1 is refused" '.format = 1' "/format"
refused "a source citing the project's notes is refused" \
	'.kernel_failures[0].source = "FACTS.md section 2"' "/kernel_failures/0/source"
refused "a key the format does not have is refused" \
	'.platforms[0].generation = "hopper"' "/platforms/0"
refused "an upstream kernel bound written as a distribution release is refused" \
	'(.kernel_failures | map(.kernel_scheme // "upstream") | index("upstream")) as $i | .kernel_failures[$i].kernel_from = "6.1.0-18-amd64"' \
	"/kernel_failures/$(jq '.kernel_failures | map(.kernel_scheme // "upstream") | index("upstream")' "$knowledge")/kernel_from"
refused "a container toolkit release that is not three numbers is refused" \
	'.container_toolkit.releases[0].version = "1.17"' "/container_toolkit/releases/0/version"
refused "a container toolkit vulnerability without its fixed version is refused" \
	'del(.container_toolkit.vulnerable[0].fixed_in)' "/container_toolkit/vulnerable/0"

done_testing
