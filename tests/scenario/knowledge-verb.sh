#!/bin/sh
# gpuprov knowledge: show (the file in use, its age, counts and sources, each counted here
# from the file with jq), lint (clean on tests/knowledge/verb/good.json, and each rule
# broken once on a copy edited in one place, found at the line and column of the edit),
# install (a signed, lint-clean, newer file taken; unsigned, another key's, altered, older or
# lint-failing files refused with nothing changed under the root), which knowledge plan and
# check use, and their warning when the knowledge in use is more than 120 days old.
. "$srcdir/tests/scenario/lib.sh"

command -v openssl >/dev/null 2>&1 || skip_all "openssl not found"
command -v jq >/dev/null 2>&1 || skip_all "jq not found"

GPUPROV_TODAY=2026-12-01
export GPUPROV_TODAY
GOOD=$srcdir/tests/knowledge/verb/good.json
good_as_of=$(jq -r .as_of "$GOOD")

# days_between A B: the days from date A to date B, by date(1).
days_between() {
	echo $((($(date -ud "$2" +%s) - $(date -ud "$1" +%s)) / 86400))
}

# The shipped directory: the good file dated earlier, and a profile that fits any machine.
SHIP=$TMPD/ship
mkdir -p "$SHIP"
sed 's/"as_of": "[0-9-]*"/"as_of": "2026-10-01"/; s/"verified": "2026-11-[0-9]*"/"verified": "2026-09-30"/' \
	"$GOOD" >"$SHIP/knowledge.json"
printf '{ "name": "p" }\n' >"$SHIP/p.json"

# --- show ---
gpuprov --profiles "$SHIP" knowledge show --json >"$TMPD/show.json" 2>"$TMPD/show.err"
check_json "show: the shipped file, format 2, as of its as_of, aged from today" \
	".origin == \"shipped\" and .path == \"$SHIP/knowledge.json\" and .format == 2 and .as_of == \"2026-10-01\"
	 and .age_days == $(days_between 2026-10-01 "$GPUPROV_TODAY") and .stale == false" "$TMPD/show.json"
jq -S '[to_entries[] | select(.value | type == "array" or type == "object")
	| {key, value: (if (.value | type) == "array" then (.value | length) else 1 end)}] | from_entries' \
	"$SHIP/knowledge.json" >"$TMPD/counts"
jq -S .sections "$TMPD/show.json" >"$TMPD/got-counts"
check "show: the entries of each section" cmp "$TMPD/counts" "$TMPD/got-counts"
jq -S '[.[] | if type == "array" then .[] elif type == "object" then . else empty end | .source]
	| group_by(.) | map({source: .[0], entries: length}) | sort_by(.source)' "$SHIP/knowledge.json" >"$TMPD/sources"
jq -S '.sources | sort_by(.source)' "$TMPD/show.json" >"$TMPD/got-sources"
check "show: each distinct source with the entries citing it" cmp "$TMPD/sources" "$TMPD/got-sources"
check_json "show: the most cited sources first" \
	'[.sources[].entries] as $n | $n == ($n | sort | reverse)' "$TMPD/show.json"
gpuprov --profiles "$SHIP" knowledge show >"$TMPD/show.txt" 2>&1
check "show for people: the file and how old it is" grep -qx \
	"As of       2026-10-01, $(days_between 2026-10-01 "$GPUPROV_TODAY") days ago" "$TMPD/show.txt"

# --- lint ---
gpuprov knowledge lint "$GOOD" >"$TMPD/lint.out" 2>&1
rc=$?
check "lint: the good file is clean (exit 0)" sh -c "[ $rc -eq 0 ] && grep -qx '$GOOD: clean' '$TMPD/lint.out'"

# where_of FILE KIND TEXT: LINE:COLUMN, found here with awk, of the last TEXT in FILE (a
# value made a duplicate is the later one): KIND value: where the value of the member TEXT
# ("key": value) starts; string: TEXT itself; object: the "{" of the object holding TEXT (a
# member the rule misses); top: 1:1.
where_of() {
	awk -v kind="$2" -v text="$3" '
		/^[ \t]*\{[ \t]*$/ { open_line = NR; open_col = index($0, "{") }
		kind != "top" && (i = index($0, text)) {
			if (kind == "value")
				at = NR ":" i + index(text, ": ") + 1
			else if (kind == "string")
				at = NR ":" i
			else
				at = open_line ":" open_col
		}
		END { print kind == "top" ? "1:1" : at }' "$1"
}

# Each case: a name, the sed edit of good.json that breaks one rule, where the finding
# stands (where_of's KIND and TEXT in the edited file), its path, and words of its reason.
n=0
while IFS='|' read -r name edit kind text path reason; do
	[ -n "$name" ] || continue
	n=$((n + 1))
	bad=$TMPD/lint-$name.json
	sed "$edit" "$GOOD" >"$bad"
	if cmp -s "$GOOD" "$bad"; then
		not_ok "lint $name: the edit changed nothing"
		continue
	fi
	where=$(where_of "$bad" "$kind" "$text")
	rc=0
	gpuprov knowledge lint "$bad" >"$TMPD/lint.out" 2>"$TMPD/lint.err" || rc=$?
	if [ "$rc" -ne 2 ]; then
		not_ok "lint $name: exit $rc, wanted 2"
		diag_file "$TMPD/lint.out"
	elif [ "$(wc -l <"$TMPD/lint.out")" -ne 1 ]; then
		not_ok "lint $name: wanted one finding"
		diag_file "$TMPD/lint.out"
	elif ! grep -qF "$bad:$where: $path${path:+: }" "$TMPD/lint.out" || ! grep -qF "$reason" "$TMPD/lint.out"; then
		not_ok "lint $name: wanted $bad:$where: $path: ...$reason..."
		diag_file "$TMPD/lint.out"
	else
		ok "lint $name: $(sed "s|^$TMPD/||" "$TMPD/lint.out")"
	fi
done <<'EOF'
format|s/"format": 2/"format": 1/|value|"format": 1|format|expected format 2
as_of-date|s/"as_of": "2026-11-20"/"as_of": "2026-11-31"/|value|"as_of": "2026-11-31"|as_of|not a calendar date
as_of-future|s/"as_of": "2026-11-20"/"as_of": "2026-12-02"/|value|"as_of": "2026-12-02"|as_of|in the future (today is 2026-12-01)
source-empty|s/"source": "CUDA C++ Programming Guide[^"]*"/"source": ""/|value|"source": ""|architectures[1].source|expected a non-empty source
source-facts|s/"source": "NVIDIA Data Center GPU Driver documentation[^"]*"/"source": "FACTS.md section 3"/|value|"source": "FACTS.md|gpus[1].source|cites FACTS.md
source-seed|s/"source": "Ubuntu kernel lifecycle[^"]*"/"source": "the seed risk list"/|value|"source": "the seed|os[0].source|cites FACTS.md or a seed document
verified-missing|0,/"verified": "2026-11-17"/s//"checked": "2026-11-17"/|object|"checked": "2026-11-17"|branches[0].verified|expected the date this entry was checked
verified-date|0,/"verified": "2026-11-14"/s//"verified": "2026-02-29"/|value|"verified": "2026-02-29"|module_options[0].verified|not a calendar date
verified-after|0,/"verified": "2026-11-19"/s//"verified": "2026-11-21"/|value|"verified": "2026-11-21"|gpus[0].verified|after as_of 2026-11-20
beta-gpu|s/"min_driver": "550.90.07"/"min_driver": "550.40.65"/|value|"min_driver": "550.40.65"|gpus[0].min_driver|Vulkan developer beta (branch VK551_06)
beta-update|s/"driver": "570.124.06"/"driver": "570.123.10"/|value|"driver": "570.123.10"|cuda[1].updates[0].driver|Vulkan developer beta (branch VK571_25)
driver-range|s/"driver_below": "471"/"driver_below": "470"/|value|"driver_below": "470"|kernel_failures[0].driver_below|the range is empty
kernel-range|s/"kernel_below": "6.12"/"kernel_below": "6.9"/|value|"kernel_below": "6.9"|kernel_failures[1].kernel_below|the range is empty
cuda-window|s/"cuda_below": "13.0"/"cuda_below": "9.0"/|value|"cuda_below": "9.0"|architectures[0].cuda_below|the range is empty
gpu-architecture|s/"architecture": "volta"/"architecture": "pascal"/|value|"architecture": "pascal"|gpus[1].architecture|no architecture of the file
platform-fabric|s/"fabric": \["fabricmanager"\]/"fabric": ["nvlsm"]/|string|"nvlsm"|platforms[0].fabric[0]|no fabric component of the file
device-ranges|s/"device_from": "10de:2321"/"device_from": "10de:1d81"/|value|"device_from": "10de:1d81"|architectures[1].device_from|device ranges overlap
contradicting-fixes|s/"driver_from": "535"/"driver_from": "470"/;s/"kernel_from": "6.10"/"kernel_from": "6.12"/;s/"kernel_below": "6.12"/"kernel_below": "6.13"/|value|"fixed_in": "535.216.01"|kernel_failures[1].fixed_in|kernel_failures[0] for the same breakage, flavour, drivers and kernels
fix-inside-range|s/"fixed_in": "535.216.01"/"fixed_in": "535.183.01"/|value|"fixed_in": "535.183.01"|kernel_failures[1].fixed_in|a driver the rule itself says fails
branch-twice|s/"branch": "580"/"branch": "570"/|value|"branch": "570",|branches[1].branch|is also branches[0]'s
cuda-order|s/"toolkit": "12.8"/"toolkit": "12.3"/|value|"toolkit": "12.3"|cuda[1].toolkit|the rows must go up
cuda-floor|s/"driver": "570.26"/"driver": "545.23.06"/|value|"driver": "545.23.06"|cuda[1].driver|below the floor 550.54.14
framework-mvc|s/"minor_compat": "unknown"/"minor_compat": "maybe"/|value|"minor_compat": "maybe"|frameworks[0].minor_compat|expected "yes", "no" or "unknown"
framework-why|s/"why": "its documents say nothing about minor-version compatibility"/"why": ""/|value|"why": ""|frameworks[0].why|needs its reason
framework-variant|s/"variants": \["cu124"\]/"variants": ["cu127"]/|object|"variants": ["cu127"]|frameworks[0].releases[0]|variant cu127 is not a CUDA build
section-missing|s/"runfiles": \[\]/"runfile": []/|top||runfiles|expected an array
not-json|s/"risks": \[\]/"risks": [,]/|string|,]||not valid JSON here
ctk-vulnerable-release|s/"version": "1.17.8"/"version": "1.17.7"/|value|"version": "1.17.7"|container_toolkit.releases[0].version|1.17.7 is vulnerable (CVE-2025-23266, fixed in 1.17.8)
ctk-cdi-from|s/"cdi_from": "1.12.0"/"cdi_from": "1.12"/|value|"cdi_from": "1.12"|container_toolkit.cdi_from|the first release with `nvidia-ctk cdi generate`
EOF
check_ran "lint: each rule broken once" "$n"
sed 's/"source": "Ubuntu kernel lifecycle/"source": "Seeded from the Ubuntu kernel lifecycle/' "$GOOD" >"$TMPD/seeded.json"
check "lint: a source with a word that only begins with seed is no seed list" gpuprov knowledge lint "$TMPD/seeded.json"
# The first of two betas stands for all: the finding names its branch.
for v in 515.49.05 525.47.35 535.43.08 550.40.85 570.123.01 580.94.18 595.44.03; do
	sed "s/\"min_driver\": \"550.90.07\"/\"min_driver\": \"$v\"/" "$GOOD" >"$TMPD/beta.json"
	gpuprov knowledge lint "$TMPD/beta.json" >"$TMPD/lint.out" 2>&1
	check "lint: $v, the first or last tag of a beta branch, is a beta" grep -q "$v is a Vulkan developer beta" \
		"$TMPD/lint.out"
done
for v in 550.40.07 550.54.14 570.124.04 580.95.05 595.45.04; do
	sed "s/\"min_driver\": \"550.90.07\"/\"min_driver\": \"$v\"/" "$GOOD" >"$TMPD/prod.json"
	check "lint: $v, next to a beta branch, is no beta" gpuprov knowledge lint "$TMPD/prod.json"
done

# --- install ---
NODE=$TMPD/node
cp -a "$srcdir/tests/machines/debian12-nogpu/root" "$NODE"
chmod -R u+w "$NODE"
# /run as a node has it, for the run lock.
mkdir -p "$NODE/etc/gpuprov/keys.d" "$NODE/run"
chmod 755 "$NODE/etc/gpuprov/keys.d"
gpuprov bundle keygen "$TMPD/site.key" >/dev/null
gpuprov bundle keygen "$TMPD/other.key" >/dev/null
cp "$TMPD/site.key.pub" "$NODE/etc/gpuprov/keys.d/site.pub"
chmod 644 "$NODE/etc/gpuprov/keys.d/site.pub"

# The node's whole tree: each entry with its mode and size, each file's SHA-256; but the run
# lock, which every run that may change the node takes (and leaves) first.
snapshot() {
	{
		find "$NODE" ! -path "$NODE/run/gpuprov.lock" -printf '%m %y %s %P\n' | sort
		find "$NODE" -type f ! -path "$NODE/run/gpuprov.lock" -print0 | sort -z | xargs -0 -r sha256sum
	} >"$1"
}

# signed NAME SED KEY: $TMPD/in/NAME.json, the good file edited by SED, signed with KEY.
mkdir -p "$TMPD/in"
signed() {
	sed "$2" "$GOOD" >"$TMPD/in/$1.json"
	gpuprov knowledge sign "$TMPD/in/$1.json" --key "$3" >/dev/null
}

signed new "" "$TMPD/site.key"
openssl pkeyutl -sign -rawin -inkey "$TMPD/site.key" -in "$TMPD/in/new.json" -out "$TMPD/openssl.sig"
check "knowledge sign: the file's Ed25519 signature, as openssl makes it" cmp "$TMPD/openssl.sig" "$TMPD/in/new.json.sig"

# refused NAME FILE RC MESSAGE: install of FILE exits RC, says MESSAGE on stderr (when not
# empty), and changes nothing.
refused() {
	snapshot "$TMPD/before"
	rc=0
	gpuprov --root "$NODE" --profiles "$SHIP" knowledge install "$2" >"$TMPD/install.out" 2>"$TMPD/install.err" || rc=$?
	snapshot "$TMPD/after"
	if [ "$rc" -ne "$3" ]; then
		not_ok "install $1: exit $rc, wanted $3"
		diag_file "$TMPD/install.err"
	elif [ -n "$4" ] && ! grep -qF -- "$4" "$TMPD/install.err"; then
		not_ok "install $1: the message does not say '$4'"
		diag_file "$TMPD/install.err"
	elif ! cmp -s "$TMPD/before" "$TMPD/after"; then
		not_ok "install $1: the root changed"
		diff -u "$TMPD/before" "$TMPD/after" | diag_file /dev/stdin
	else
		ok "install $1: exit $3, nothing changed: $(sed "s|$TMPD/||g" "$TMPD/install.err" "$TMPD/install.out" | head -1)"
	fi
}

cp "$TMPD/in/new.json" "$TMPD/in/unsigned.json"
refused unsigned "$TMPD/in/unsigned.json" 3 "not signed: $TMPD/in/unsigned.json.sig"
signed other "" "$TMPD/other.key"
refused "signed with a key not in keys.d" "$TMPD/in/other.json" 3 "the signature verifies with no key in"
cp "$TMPD/in/new.json.sig" "$TMPD/in/altered.json.sig"
sed 's/"symptom": "the module does not build"/"symptom": "works"/' "$TMPD/in/new.json" >"$TMPD/in/altered.json"
refused "altered after it was signed" "$TMPD/in/altered.json" 3 "the signature verifies with no key in"
head -c 32 "$TMPD/in/new.json.sig" >"$TMPD/in/short.json.sig"
cp "$TMPD/in/new.json" "$TMPD/in/short.json"
refused "with a signature cut short" "$TMPD/in/short.json" 3 "the signature is 32 bytes"
signed beta 's/"min_driver": "550.90.07"/"min_driver": "550.40.65"/' "$TMPD/site.key"
refused "that lint finds a problem in" "$TMPD/in/beta.json" 2 "lint finds 1 problem"
check "install prints lint's finding with its line and column" \
	grep -qF "$TMPD/in/beta.json:$(where_of "$TMPD/in/beta.json" value '"min_driver": "550.40.65"'): gpus[0].min_driver" \
	"$TMPD/install.out"
signed old 's/"as_of": "2026-11-20"/"as_of": "2026-09-30"/; s/"verified": "2026-11-[0-9]*"/"verified": "2026-09-30"/' \
	"$TMPD/site.key"
refused "older than the shipped knowledge" "$TMPD/in/old.json" 3 "as of 2026-09-30, older than the knowledge in use, $SHIP/knowledge.json (as of 2026-10-01)"
mv "$NODE/etc/gpuprov/keys.d" "$TMPD/keys.d"
refused "without keys.d" "$TMPD/in/new.json" 3 "holds no key"
mv "$TMPD/keys.d" "$NODE/etc/gpuprov/keys.d"

rc=0
gpuprov --root "$NODE" --profiles "$SHIP" knowledge install "$TMPD/in/new.json" >"$TMPD/install.out" 2>"$TMPD/install.err" || rc=$?
check "install: a signed, clean, newer file is taken (exit 0)" test "$rc" -eq 0
check "install: the file as it was signed, in /var/lib/gpuprov" cmp "$TMPD/in/new.json" "$NODE/var/lib/gpuprov/knowledge.json"
check "install: its signature beside it" cmp "$TMPD/in/new.json.sig" "$NODE/var/lib/gpuprov/knowledge.json.sig"
check "install: no temporary file left" sh -c "[ \$(ls -A '$NODE/var/lib/gpuprov' | grep -c knowledge) -eq 2 ]"
gpuprov --root "$NODE" --profiles "$SHIP" knowledge show --json >"$TMPD/show.json" 2>/dev/null
check_json "show: the installed knowledge is in use" \
	".origin == \"installed\" and .path == \"$NODE/var/lib/gpuprov/knowledge.json\" and .as_of == \"$good_as_of\"" \
	"$TMPD/show.json"
refused "the same again" "$TMPD/in/new.json" 0 ""
check "the same again: nothing to do" grep -q "the same as the knowledge in use .*: nothing to do" "$TMPD/install.out"
signed older 's/"as_of": "2026-11-20"/"as_of": "2026-11-19"/; s/"verified": "2026-11-[0-9]*"/"verified": "2026-11-19"/' \
	"$TMPD/site.key"
refused "older than the installed knowledge" "$TMPD/in/older.json" 3 "older than the knowledge in use, $NODE/var/lib/gpuprov/knowledge.json"

# plan and check name the knowledge they use when it is not the shipped one.
gpuprov --root "$NODE" --profiles "$SHIP" plan p --json >"$TMPD/plan.json" 2>"$TMPD/plan.err"
check_json "plan --json: the installed knowledge" ".knowledge.origin == \"installed\" and .knowledge.as_of == \"$good_as_of\"" \
	"$TMPD/plan.json"
gpuprov --root "$NODE" --profiles "$SHIP" plan p >"$TMPD/plan.txt" 2>&1
check "plan: its first line names the installed knowledge" sh -c \
	"head -1 '$TMPD/plan.txt' | grep -qx 'Knowledge   installed $NODE/var/lib/gpuprov/knowledge.json, as of $good_as_of'"
gpuprov --root "$NODE" --profiles "$SHIP" check --json >"$TMPD/check.json" 2>"$TMPD/check.err"
check_json "check --json: the installed knowledge" ".knowledge.origin == \"installed\"" "$TMPD/check.json"
mv "$NODE/var/lib/gpuprov/knowledge.json.sig" "$TMPD/kept.sig"
gpuprov --root "$NODE" --profiles "$SHIP" plan p --json >"$TMPD/plan-shipped.json" 2>"$TMPD/plan.err"
check_json "plan --json without the signature: the shipped knowledge, not named" "has(\"knowledge\") | not" \
	"$TMPD/plan-shipped.json"
check "plan says why the installed knowledge is not used" grep -q "installed knowledge not used: .*no signature" \
	"$TMPD/plan.err"
mv "$TMPD/kept.sig" "$NODE/var/lib/gpuprov/knowledge.json.sig"
printf ' ' >>"$NODE/var/lib/gpuprov/knowledge.json"
gpuprov --root "$NODE" --profiles "$SHIP" knowledge show --json >"$TMPD/show.json" 2>/dev/null
check_json "show: an installed file altered in place is passed over, and says why" \
	'.origin == "shipped" and (.passed_over | test("verifies with no key"))' "$TMPD/show.json"
cp "$TMPD/in/new.json" "$NODE/var/lib/gpuprov/knowledge.json"

# --- staleness: more than 120 days after the as_of of the knowledge in use ---
for age in 119 120 121; do
	day=$(date -ud "$good_as_of + $age days" +%F)
	GPUPROV_TODAY=$day gpuprov --root "$NODE" --profiles "$SHIP" plan p --json >"$TMPD/plan.json" 2>/dev/null
	GPUPROV_TODAY=$day gpuprov --root "$NODE" --profiles "$SHIP" check --json >"$TMPD/check.json" 2>/dev/null
	GPUPROV_TODAY=$day gpuprov --root "$NODE" --profiles "$SHIP" plan p >"$TMPD/plan.txt" 2>/dev/null
	want="is as of $good_as_of, $age days ago"
	if [ "$age" -gt 120 ]; then
		check_json "plan --json at $age days: warns" "any(.warnings[]; contains(\"$want\"))" "$TMPD/plan.json"
		check_json "check --json at $age days: a warning" \
			"any(.findings[]; .id == \"knowledge-stale\" and .severity == \"warning\" and (.message | contains(\"$want\")))" \
			"$TMPD/check.json"
		check "plan at $age days: among its warnings" grep -q "$want" "$TMPD/plan.txt"
	else
		check_json "plan --json at $age days: no warning of age" "all(.warnings[]; contains(\"days ago\") | not)" \
			"$TMPD/plan.json"
		check_json "check --json at $age days: no finding of age" "all(.findings[]; .id != \"knowledge-stale\")" \
			"$TMPD/check.json"
	fi
done

# --- install from a URL ---
WWW=$TMPD/www
mkdir -p "$WWW"
signed newer 's/"as_of": "2026-11-20"/"as_of": "2026-11-25"/' "$TMPD/site.key"
cp "$TMPD/in/newer.json" "$TMPD/in/newer.json.sig" "$TMPD/in/new.json" "$WWW/"
serve http
rc=0
gpuprov --root "$NODE" --profiles "$SHIP" knowledge install "http://127.0.0.1:$PORT/new.json" >/dev/null 2>&1 || rc=$?
check "install from a URL without its .sig: refused (3)" test "$rc" -eq 3
rc=0
gpuprov --root "$NODE" --profiles "$SHIP" knowledge install "http://127.0.0.1:$PORT/newer.json" >"$TMPD/install.out" \
	2>"$TMPD/install.err" || rc=$?
check "install from a URL: taken (exit 0)" test "$rc" -eq 0
check "install from a URL: the file as served" cmp "$TMPD/in/newer.json" "$NODE/var/lib/gpuprov/knowledge.json"

# --keys: another directory of trusted keys; runs still trust only the root's keys.d.
mkdir -m 755 "$TMPD/host-keys"
cp "$TMPD/other.key.pub" "$TMPD/host-keys/other.pub"
signed newest 's/"as_of": "2026-11-20"/"as_of": "2026-11-28"/' "$TMPD/other.key"
rc=0
gpuprov --root "$NODE" --profiles "$SHIP" knowledge install "$TMPD/in/newest.json" --keys "$TMPD/host-keys" \
	>/dev/null 2>"$TMPD/install.err" || rc=$?
check "install --keys DIR: a key of DIR is trusted (exit 0)" test "$rc" -eq 0
check "install --keys DIR: warns that no key of the root's keys.d verifies it" \
	grep -q "no key of the root's etc/gpuprov/keys.d verifies it: once installed, runs pass it over" "$TMPD/install.err"
gpuprov --root "$NODE" --profiles "$SHIP" knowledge show --json >"$TMPD/show.json" 2>/dev/null
check_json "and runs pass it over" '.origin == "shipped" and (.passed_over | test("verifies with no key"))' \
	"$TMPD/show.json"

# The knowledge gpuprov ships passes its own lint: every entry sourced and dated, no beta
# version, ranges that agree; judged on the real date, as of which the file was checked.
check "lint: the shipped knowledge is clean (exit 0)" env -u GPUPROV_TODAY ${TEST_WRAPPER:-} "$GPUPROV" knowledge lint \
	"$srcdir/profiles/knowledge.json"

done_testing
