#!/bin/sh
# The bash completion (completion/gpuprov): verbs, options, profile names from the shipped
# and site directories and from --profiles, bundle's and knowledge's subcommands, files and directories;
# then every option of `gpuprov --help` and of each `gpuprov VERB --help` against what it
# completes, both ways, so that the two cannot drift apart.
. "$srcdir/tests/scenario/lib.sh"

command -v bash >/dev/null 2>&1 || { echo "1..0 # SKIP bash not found"; exit 0; }
built=$top_builddir/completion/gpuprov
[ -f "$built" ] || { echo "Bail out! $built was not built (make check builds it)"; exit 1; }

# The shipped directory as installed: the built script's, pointed at the source's profiles.
mkdir -p "$TMPD/share"
ln -s "$srcdir/profiles" "$TMPD/share/profiles"
sed "s|@pkgdatadir@|$TMPD/share|g" "$srcdir/completion/gpuprov.in" >"$TMPD/gpuprov-completion"

# A site directory under a root, and a --profiles directory of its own.
mkdir -p "$TMPD/node/etc/gpuprov/profiles" "$TMPD/mine"
echo '{}' >"$TMPD/node/etc/gpuprov/profiles/site-h100.json"
for p in alpha beta knowledge gpuprov-profile.schema; do echo '{}' >"$TMPD/mine/$p.json"; done
mkdir -p "$TMPD/files/dir-a"
: >"$TMPD/files/file-a.prom"
# Roots: directories and captures, nothing else.
mkdir -p "$TMPD/roots/node-a"
: >"$TMPD/roots/node-b.tar.zst"
: >"$TMPD/roots/node-c.tar.gz"
: >"$TMPD/roots/notes.txt"

# The driver: loads the script (after bash-completion's own, with PRE set), sets the words
# as bash does for a line (the last one being completed), and prints COMPREPLY sorted.
cat >"$TMPD/drive.bash" <<'EOF'
[ -n "${PRE:-}" ] && . "$PRE"
. "$1"
shift
COMP_WORDS=(gpuprov "$@")
COMP_CWORD=$#
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
_gpuprov gpuprov "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
[ ${#COMPREPLY[@]} -gt 0 ] && printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort
exit 0
EOF

# completes WORDS... : what the script offers for the last word, one a line.
completes() {
	bash "$TMPD/drive.bash" "$script" "$@" 2>"$TMPD/drive.err"
}

# expect DESCRIPTION "WANTED, space-separated" WORDS...
expect() {
	desc=$1
	want=$(printf '%s\n' $2 | LC_ALL=C sort)
	shift 2
	got=$(completes "$@")
	if [ "$got" = "$want" ]; then
		ok "$desc"
	else
		not_ok "$desc"
		echo "# wanted: $(echo $want)"
		echo "# got:    $(echo $got)"
		diag_file "$TMPD/drive.err"
	fi
}

shipped="a100-stable a800-cuda128 base gh200 h100-nvlink kunpeng-a100 l4-edge no-gpu"
apply_opts="--dry-run --yes --no-refresh --reboot --detailed-exitcodes --json --retry-failed --strict --bundle --mirror --cacert --allow-older --connect-timeout --stall-time --max-time --min-rate --help"

run_cases() {
	expect "$1: a verb from its start" "apply" ap
	expect "$1: every verb" "detect profiles show plan check apply verify rollback cdi gpu status revert bundle knowledge maintenance capture" ""
	expect "$1: global options" "--root --sysroot --profiles --json --dry-run --yes --verbose --quiet --help --version" --
	expect "$1: apply's options" "$apply_opts" apply --
	expect "$1: apply's options after its profile" "--detailed-exitcodes --dry-run" apply h100-nvlink --d
	expect "$1: a shipped profile" "h100-nvlink" apply h1
	expect "$1: every shipped profile for plan" "$shipped" plan ""
	expect "$1: nothing after the profile" "" plan base ""
	expect "$1: --profiles DIR earlier on the line" "alpha beta" --profiles "$TMPD/mine" plan ""
	expect "$1: --profiles=DIR, split at =" "alpha beta" --profiles = "$TMPD/mine" show ""
	expect "$1: the site's profiles under --root" "$shipped site-h100" --root "$TMPD/node" apply ""
	expect "$1: bundle's subcommands" "keygen create verify unpack" bundle ""
	expect "$1: bundle create takes a profile" "gh200" bundle create gh
	expect "$1: bundle's options" "--output --os" bundle create base --o
	expect "$1: --arch" "aarch64 x86_64" bundle create base --arch ""
	expect "$1: bundle create's freshness options" "--expires" bundle create base --exp
	expect "$1: --expires offers durations" "12w 30d 90d" bundle create base --expires ""
	expect "$1: --allow-older for a bundle read" "--allow-older" bundle verify x.bundle --al
	expect "$1: status's options" "--json --prometheus --output --reboot-required --help" status --
	expect "$1: verify's options" "--commit --no-reboot --json --help" verify --
	expect "$1: status --output completes files" "$TMPD/files/dir-a $TMPD/files/file-a.prom" \
		status --prometheus --output "$TMPD/files/"
	expect "$1: --cacert completes files" "$TMPD/files/file-a.prom" apply base --cacert "$TMPD/files/f"
	expect "$1: --root completes directories" "$TMPD/files/dir-a" --root "$TMPD/files/"
	expect "$1: --root=, split at =" "$TMPD/files/dir-a" --root = "$TMPD/files/"
	expect "$1: --root completes captures too" "$TMPD/roots/node-a $TMPD/roots/node-b.tar.zst $TMPD/roots/node-c.tar.gz" \
		--root "$TMPD/roots/"
	expect "$1: --sysroot as well" "$TMPD/roots/node-b.tar.zst" --sysroot "$TMPD/roots/node-b"
	expect "$1: capture's options" "--output -o --profile --help" capture -
	expect "$1: capture --profile completes profile names" "h100-nvlink" capture -o x.tar.zst --profile h1
	expect "$1: bundle verify completes files" "$TMPD/files/file-a.prom" bundle verify "$TMPD/files/fi"
	expect "$1: --mirror takes a URL: nothing offered" "" apply base --mirror ""
	expect "$1: --max-time takes a number: nothing offered" "" apply --max-time ""
	expect "$1: knowledge's subcommands" "install lint show sign" knowledge ""
	expect "$1: knowledge install completes files" "$TMPD/files/file-a.prom" knowledge install "$TMPD/files/fi"
	expect "$1: knowledge install --keys completes directories" "$TMPD/files/dir-a" knowledge install k.json --keys "$TMPD/files/"
	expect "$1: nothing after knowledge lint's file" "" knowledge lint k.json ""
	expect "$1: maintenance's subcommands" "end start status" maintenance ""
	expect "$1: maintenance start completes profile names" "site-h100" --root "$TMPD/node" maintenance start site-
	expect "$1: nothing after maintenance end" "" maintenance end ""
	expect "$1: cdi's commands" "check refresh" cdi ""
}

script=$TMPD/gpuprov-completion
PRE=
export PRE
run_cases "alone"
if [ -f /usr/share/bash-completion/bash_completion ]; then
	PRE=/usr/share/bash-completion/bash_completion
	run_cases "with bash-completion loaded"
	PRE=
else
	ok "with bash-completion loaded # SKIP /usr/share/bash-completion/bash_completion not found (package bash-completion)"
fi
check "bash -n: the script parses" bash -n "$srcdir/completion/gpuprov.in"
check "the built script names the installed profile directory" \
	sh -c "! grep -q '@pkgdatadir@' '$built' && grep -q 'profiles=.*/gpuprov/profiles' '$built'"

# --- the options of --help against the completion, both ways ---
script=$built
# Options a help text offers: those of its first (usage) line and those opening a line
# (indented by two: the others go on a description).
help_opts() {
	{
		sed -n '1p' "$1" | grep -oE '(^|[][ |,(])--?[a-zA-Z][a-zA-Z-]*'
		grep -E '^  -' "$1" | grep -oE '^  --?[a-zA-Z][a-zA-Z-]*(, --?[a-zA-Z][a-zA-Z-]*)?'
	} | tr ',' '\n' | sed 's/^[][ |,(]*//' | grep . | LC_ALL=C sort -u
}
# in_list WORD LIST: true when WORD is one of LIST's lines.
in_list() {
	printf '%s\n' "$2" | grep -qxF -- "$1"
}

gpuprov --help >"$TMPD/help"
global=$(completes -)
missing=
for o in $(help_opts "$TMPD/help"); do
	in_list "$o" "$global" || missing="$missing $o"
done
check "every global option of --help is completed${missing:+ (missing:$missing)}" test -z "$missing"

verbs=$(sed -n '/^Verbs:/,/^$/p' "$TMPD/help" | awk 'NF && $1 != "Verbs:" { print $1 }')
check "the verbs of --help are those completed" test "$(echo $verbs | tr ' ' '\n' | LC_ALL=C sort)" = "$(completes "")"
for v in $verbs; do
	gpuprov "$v" --help >"$TMPD/vhelp" 2>&1
	got=$(completes "$v" -)
	missing=
	for o in $(help_opts "$TMPD/vhelp"); do
		in_list "$o" "$got" || missing="$missing $o"
	done
	check "$v: every option of its --help is completed${missing:+ (missing:$missing)}" test -z "$missing"
	extra=
	for o in $got; do
		[ "$o" = --help ] || grep -qe "$o\\b" "$TMPD/vhelp" || extra="$extra $o"
	done
	check "$v: every option completed is in its --help${extra:+ (not there:$extra)}" test -z "$extra"
done

done_testing
