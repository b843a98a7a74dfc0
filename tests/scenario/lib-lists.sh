# Shared by the tests of the repository view's apt lists (apt-lists-*.sh, repo-index.sh):
# the DGX H100 machine's plan of h100-nvlink, run on a copy of its tree whose lists a test
# changes, compared as a whole. Sourced after lib.sh.

GPUPROV_TODAY=2026-11-21
export GPUPROV_TODAY
LISTS=var/lib/apt/lists
# The list whose packages (CUDA, the fabric manager) the plan cannot do without.
NV=developer.download.nvidia.com_compute_cuda_repos_ubuntu2204_x86%5f64_Packages

# plan_json ROOT OUT: plan h100-nvlink on ROOT, its JSON in OUT; the exit code in OUT.rc, the
# messages (the repository view's warnings among them) in OUT.err.
plan_json() {
	gpuprov --root "$1" --profiles "$srcdir/profiles" plan h100-nvlink --json >"$2" 2>"$2.err"
	echo $? >"$2.rc"
}

# same_plan DESCRIPTION A B: A and B the same plan and exit code; with SAME_MESSAGES=1 the
# same messages too (a list that does not read is a warning there, not in the JSON).
same_plan() {
	if cmp -s "$2" "$3" && cmp -s "$2.rc" "$3.rc" && { [ -z "${SAME_MESSAGES:-}" ] || cmp -s "$2.err" "$3.err"; }; then
		ok "$1"
	else
		not_ok "$1"
		diff -u "$2" "$3" >"$TMPD/plan.diff" 2>&1
		diff -u "$2.err" "$3.err" >>"$TMPD/plan.diff" 2>&1
		diag_file "$TMPD/plan.diff"
	fi
}

# differ DESCRIPTION A B: two plans that must not be the same (a control case: what the checks
# after it would show if the change they look for were not seen).
differ() {
	if cmp -s "$2" "$3"; then not_ok "$1"; else ok "$1"; fi
}

# lists_base: $TMPD/base, a copy of the machine, and its plan in $TMPD/plain.json;
# $TMPD/nonv.json, the plan without the NVIDIA list, which differs.
lists_base() {
	cp -a "$srcdir/tests/machines/dgx-h100/root" "$TMPD/base"
	plan_json "$TMPD/base" "$TMPD/plain.json"
	check_json "the machine's lists give a plan" '.refused == false' "$TMPD/plain.json"
	cp -a "$TMPD/base" "$TMPD/nonv"
	rm "$TMPD/nonv/$LISTS/$NV"
	plan_json "$TMPD/nonv" "$TMPD/nonv.json"
	differ "without $NV the plan differs (what a list left out gives)" "$TMPD/plain.json" "$TMPD/nonv.json"
}
