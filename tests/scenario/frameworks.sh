#!/bin/sh
# The chain from the framework (tests/frameworks/cases/, one machine and profile per case,
# each with the public sources that make its expectation right; the format is the knowledge
# corpus's, tests/knowledge/README.md): plan and check on each. Then show and plan for a
# profile that names only frameworks, against what the knowledge's rows say.
. "$srcdir/tests/scenario/lib.sh"
. "$srcdir/tests/scenario/lib-corpus.sh"

n=$(ls "$srcdir"/tests/frameworks/cases/*.case | wc -l)
check "at least 15 framework scenarios ($n)" [ "$n" -ge 15 ]
corpus_run "$srcdir/tests/frameworks/cases"

# show works the chain out from the knowledge alone, on any machine: vLLM 0.10.0 pins torch
# 2.7.1 and its PyPI wheel is CUDA 12.8 (vllm-project/vllm#21011), whose floor is the 12.8
# row of the CUDA table; both read here from the knowledge file itself.
mkdir -p "$TMPD/p"
cp "$srcdir"/profiles/*.json "$TMPD/p/"
cat >"$TMPD/p/only-fw.json" <<'JSON'
{ "name": "only-fw", "framework": [ { "name": "vllm", "version": "0.10.0" } ] }
JSON
kn=$srcdir/profiles/knowledge.json
torch=$(jq -r '.frameworks[] | select(.name == "vllm") | .releases[] | select(.release == "0.10.0") | .torch' "$kn")
floor=$(jq -r '.cuda[] | select(.toolkit == "12.8") | .driver' "$kn")
machine=$srcdir/tests/machines/dgx-h100/root
gpuprov --root "$machine" --profiles "$TMPD/p" show only-fw >"$TMPD/show" 2>"$TMPD/err"
check "show exits 0 for a profile that names only frameworks" [ $? -eq 0 ]
check "show gives the chain to the 12.8 floor ($torch, $floor)" \
	[ "$(jq -r '.frameworks[0].chain' "$TMPD/show" | grep -c "PyTorch $torch (cu128.*CUDA 12.8 runtime -> driver >= $floor ")" = 1 ]
check "show gives the floor as a field" [ "$(jq -r '.frameworks[0].driver_floor' "$TMPD/show")" = "$floor" ]
gpuprov --root "$machine" --profiles "$TMPD/p" plan only-fw >"$TMPD/plan" 2>"$TMPD/err"
rc=$?
check "plan of a profile that names only frameworks exits 0 or 3 ($rc)" [ $rc -eq 0 ] || [ $rc -eq 3 ]
check "plan prints the chain, one line per framework" grep -q "^  vLLM 0.10.0 -> PyTorch $torch (cu128" "$TMPD/plan"
gpuprov --root "$machine" --profiles "$TMPD/p" plan only-fw --json >"$TMPD/plan.json" 2>"$TMPD/err"
check "plan --json has the chain" [ "$(jq -r '.frameworks[0].driver_floor' "$TMPD/plan.json")" = "$floor" ]
check "a planned driver meets the floor" sh -c '[ "$(jq -r .refused "$1")" = true ] || [ "$(printf "%s\\n" "$2" "$(jq -r .stack.driver "$1")" | sort -V | head -n 1)" = "$2" ]' - "$TMPD/plan.json" "$floor"

# A framework release the knowledge lacks, without a variant: show says why, plan refuses
# naming it.
cat >"$TMPD/p/unknown-fw.json" <<'JSON'
{ "name": "unknown-fw", "framework": [ { "name": "vllm", "version": "0.1.0" } ] }
JSON
gpuprov --root "$machine" --profiles "$TMPD/p" show unknown-fw >"$TMPD/show" 2>"$TMPD/err"
check "show says why an unknown release has no chain" jq -e '.frameworks[0].error | test("not in gpuprov.s knowledge")' "$TMPD/show"
gpuprov --root "$machine" --profiles "$TMPD/p" plan unknown-fw >"$TMPD/plan" 2>"$TMPD/err"
check "plan refuses an unknown release (exit 3), naming it" sh -c '[ $0 -eq 3 ] && grep -q "framework vllm 0.1.0" "$1"' $? "$TMPD/plan"

# cuda.framework, a free string before the framework list: still read, changes nothing, and
# plan says it is deprecated and what replaces it.
cat >"$TMPD/p/old-fw.json" <<'JSON'
{ "name": "old-fw", "include": ["base"], "cuda": { "framework": "vllm" } }
JSON
gpuprov --root "$machine" --profiles "$TMPD/p" plan old-fw --json >"$TMPD/plan.json" 2>"$TMPD/err"
check "cuda.framework still plans, with a deprecation warning naming the framework list" \
	jq -e '.warnings | any(test("cuda.framework \\(\"vllm\"\\) is deprecated.*\"framework\""))' "$TMPD/plan.json"

done_testing
