#!/bin/sh
# The fake machines against what was read from their trees by hand, not from gpuprov:
# tests/machines/facts.tsv (the hardware, the OS, where a boot-once entry can live) against
# detect --json, and tests/machines/stacks.tsv (each shipped profile's outcome: refused, or
# the driver branch, the kernel series and the fabric manager) against plan --json. The
# expected outputs beside each machine are regenerated from gpuprov; these tables are not.
. "$srcdir/tests/scenario/lib.sh"

# End of life is judged as of the day stacks.tsv was worked out for.
GPUPROV_TODAY=2026-11-21
export GPUPROV_TODAY
profiles=$srcdir/profiles
tab=$(printf '\t')

# expect DESCRIPTION WANT FILTER FILE: one case, WANT the value FILTER gives (jq -r) of FILE.
expect() {
	got=$(jq -r "$3" "$4" 2>&1)
	if [ "$got" = "$2" ]; then
		ok "$1"
	else
		not_ok "$1: gpuprov says \"$got\", the table \"$2\""
	fi
}

# Both tables cover exactly the machines and, for stacks.tsv, every shipped profile on each.
fake_machines | sort >"$TMPD/machines"
table_rows facts.tsv | cut -f1 | sort >"$TMPD/listed"
check "facts.tsv has one row for each fake machine, and no other" diff -u "$TMPD/machines" "$TMPD/listed"
for m in $(fake_machines); do
	for p in $(shipped_profiles); do
		echo "$m$tab$p"
	done
done | sort >"$TMPD/pairs"
table_rows stacks.tsv | cut -f1,2 | sort >"$TMPD/listed"
check "stacks.tsv has one row for each machine and shipped profile, and no other" \
	diff -u "$TMPD/pairs" "$TMPD/listed"

# The loops read their table from a file, not a pipe: a pipe's loop would count its cases
# in a subshell, and lose them.
table_rows facts.tsv >"$TMPD/facts"
while IFS="$tab" read -r m arch os_id os_version gpus gpu_id gpu_model nvswitches hcas boot_once; do
	root="$srcdir/tests/machines/$m/root"
	[ -d "$root" ] || continue
	d="$TMPD/detect.json"
	if ! gpuprov --root "$root" detect --json </dev/null >"$d" 2>"$TMPD/err"; then
		not_ok "$m: detect --json failed"
		diag_file "$TMPD/err"
		continue
	fi
	expect "$m: architecture $arch" "$arch" .cpu.arch "$d"
	# Compared in lower case: profiles name an OS by its os-release ID so (gpuprov-profile(5)).
	expect "$m: OS $os_id $os_version" "$(printf '%s %s' "$os_id" "$os_version" | tr A-Z a-z)" \
		'"\(.os.id | ascii_downcase) \(.os.version_id)"' "$d"
	expect "$m: $gpus GPUs" "$gpus" '.pci.gpus | length' "$d"
	expect "$m: GPU id $gpu_id" "$gpu_id" \
		'[.pci.gpus[] | "\(.vendor | ltrimstr("0x")):\(.device | ltrimstr("0x"))"] | unique | join(",") | if . == "" then "-" else . end' "$d"
	expect "$m: GPU model $gpu_model" "$gpu_model" \
		'[.pci.gpus[].name] | unique | join(",") | if . == "" then "-" else . end' "$d"
	expect "$m: $nvswitches NVSwitches" "$nvswitches" '.pci.nvswitches | length' "$d"
	expect "$m: $hcas HCAs" "$hcas" '.pci.hcas | length' "$d"
	expect "$m: boot-once entry: $boot_once" "$boot_once" '.storage.boot_once // "none"' "$d"
done <"$TMPD/facts"

table_rows stacks.tsv >"$TMPD/stacks"
while IFS="$tab" read -r m p rc branch kernel fm why; do
	root="$srcdir/tests/machines/$m/root"
	[ -d "$root" ] || continue
	j="$TMPD/plan.json"
	gpuprov --root "$root" --profiles "$profiles" plan "$p" --json </dev/null >"$j" 2>"$TMPD/err"
	got=$?
	if [ "$got" -ne "$rc" ]; then
		not_ok "$m: plan $p exited $got, the table $rc ($why)"
		diag_file "$TMPD/err"
		continue
	fi
	if [ "$rc" -ne 0 ]; then
		expect "$m: plan $p refused ($why)" true .refused "$j"
		continue
	fi
	expect "$m: plan $p: driver branch $branch" "$branch" '.stack.branch // "-"' "$j"
	expect "$m: plan $p: kernel series $kernel" "$kernel" \
		'.stack.kernel | split(".") | .[0:2] | join(".")' "$j"
	expect "$m: plan $p: fabric manager $fm" "$fm" \
		'if .stack.fabricmanager then "yes" else "no" end' "$j"
done <"$TMPD/stacks"

done_testing
