# The corpus runner (tests/knowledge/README.md), shared by the knowledge corpus and the
# framework scenarios: corpus_run DIR runs every DIR/*.case: builds the machine in a temp dir
# with tests/knowledge/corpus.py, runs plan and check on it, and gives one test point per case
# and expectation, the case's sources shown when one is not met. An expectation marked
# pending is reported "# TODO" until gpuprov meets it.

# The machines are built with tests/machines/build-machines.py's pieces: python3, depmod and
# zstd (Ubuntu's 6.x kernels compress their modules), looked for as the builder does.
for t in python3 depmod zstd; do
	if ! command -v "$t" >/dev/null 2>&1 && ! [ -x "/sbin/$t" ] && ! [ -x "/usr/sbin/$t" ]; then
		echo "1..0 # SKIP $t not found (scripts/install-deps)"
		exit 0
	fi
done

corpus=$srcdir/tests/knowledge
# As of this day unless a case says otherwise (today:), so end-of-life and staleness rules
# give the same answer whenever the corpus runs.
default_today=2026-12-01

corpus_run() {
	for case in "$1"/*.case; do
		name=$(basename "$case" .case)
		dir=$TMPD/$name
		if ! python3 "$corpus/corpus.py" build "$case" "$dir" >"$TMPD/build.out" 2>&1; then
			not_ok "$name: the machine could not be built"
			diag_file "$TMPD/build.out"
			continue
		fi
		GPUPROV_TODAY=$(sed -n 's/^today: *//p' "$case")
		GPUPROV_TODAY=${GPUPROV_TODAY:-$default_today}
		export GPUPROV_TODAY
		profile=$(sed -n 's/^profile: *//p' "$case")
		if [ -z "$profile" ]; then
			profile=$(sed -n 's/^profile-json: *//p' "$case" | jq -r .name)
		fi
		python3 "$corpus/corpus.py" runs "$case" >"$TMPD/runs"
		while read -r verb opts; do
			run="$verb${opts:+ $opts}"
			# Word splitting of $opts is wanted: they are options like --strict.
			case $verb in
			plan) set -- plan "${profile:-base}" $opts --json ;;
			*) set -- "$verb" $opts --json ;;
			esac
			gpuprov --root "$dir/machine/root" --profiles "$dir/profiles" "$@" >"$TMPD/out" 2>"$TMPD/err"
			rc=$?
			python3 "$corpus/corpus.py" judge "$case" "$run" "$TMPD/out" "$rc" >"$TMPD/verdicts"
			while IFS='	' read -r verdict what why; do
				if [ "$verdict" = ok ]; then
					ok "$what"
				else
					case $what in
					# A pending expectation: reported, not counted as a failure (the
					# harness counts it as an expected one).
					*" # TODO "*) tap_n=$((tap_n + 1)); echo "not ok $tap_n - $what" ;;
					*) not_ok "$what" ;;
					esac
					echo "# $why"
					diag_file "$TMPD/err"
				fi
			done <"$TMPD/verdicts"
		done <"$TMPD/runs"
		rm -rf "$dir"
	done
}
