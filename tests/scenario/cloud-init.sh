#!/bin/sh
# The cloud-init examples of scripts/cloud-init: each validated by cloud-init's own schema
# (a jinja template rendered first, with fake instance data, by cloud-init itself); the profile
# taken from the metadata; the runcmd and power_state's condition run against a stub gpuprov,
# so that the node reboots exactly when apply exits 5; and the per-instance script, the same
# way.
. "$srcdir/tests/scenario/lib.sh"

command -v cloud-init >/dev/null 2>&1 || { echo "1..0 # SKIP cloud-init is not installed"; exit 0; }
command -v python3 >/dev/null 2>&1 && python3 -c 'import yaml' 2>/dev/null ||
	{ echo "1..0 # SKIP python3 with yaml not found"; exit 0; }

CI="$srcdir/scripts/cloud-init"

# render TEMPLATE METADATA-JSON OUT: the user-data as cloud-init renders it on an instance
# whose datasource's meta_data is METADATA-JSON.
render() {
	printf '{"v1": {"instance_id": "i-0123456789", "cloud_name": "nocloud"}, "ds": {"meta_data": %s}}\n' "$2" \
		>"$TMPD/instance-data.json"
	cloud-init devel render -i "$TMPD/instance-data.json" "$1" >"$3" 2>"$TMPD/render.err"
}
# schema_ok DESC FILE: cloud-init schema validates FILE.
schema_ok() {
	if cloud-init schema --config-file "$2" >"$TMPD/schema.out" 2>&1; then
		ok "$1"
	else
		not_ok "$1"
		diag_file "$TMPD/schema.out"
	fi
}
# py FILE EXPR: prints EXPR, in which d is FILE's YAML.
py() {
	python3 -c "import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); print($2)" "$1"
}

# --- every example is valid cloud-config ---------------------------------------------------
n=0
for f in "$CI"/*.yaml "$srcdir/scripts/pxe/autoinstall-late-commands.yaml"; do
	n=$((n + 1))
	name=${f#"$srcdir"/}
	if [ "$(head -n 1 "$f")" = "## template: jinja" ]; then
		check "$name is a jinja template that starts #cloud-config once rendered" sh -c "sed -n 2p '$f' | grep -qx '#cloud-config'"
		if render "$f" '{}' "$TMPD/r$n.yaml"; then
			schema_ok "$name, rendered, is valid cloud-config" "$TMPD/r$n.yaml"
		else
			not_ok "$name renders"
			diag_file "$TMPD/render.err"
		fi
	else
		check "$name starts #cloud-config" sh -c "head -n 1 '$f' | grep -qx '#cloud-config'"
		schema_ok "$name is valid cloud-config" "$f"
	fi
done
check "there are cloud-config examples" test "$n" -ge 3
# The check itself: a misspelt module key fails it.
sed 's/^power_state:/power_stat:/; s/^  mode: reboot/  mode: rebooot/' "$CI/user-data-deb.yaml" >"$TMPD/bad.yaml"
if cloud-init schema --config-file "$TMPD/bad.yaml" >/dev/null 2>&1; then
	# Older schemas accept unknown top-level keys: check a bad value in a known one.
	sed 's/^  mode: reboot/  mode: rebooot/' "$CI/user-data-deb.yaml" >"$TMPD/bad.yaml"
fi
check "cloud-init schema rejects a bad example" sh -c "! cloud-init schema --config-file '$TMPD/bad.yaml'"

# --- the profile from the metadata ---------------------------------------------------------
UD="$CI/user-data.yaml"
# profile_is DESC METADATA-JSON WANT: rendered with that metadata, apply gets profile WANT.
profile_is() {
	if render "$UD" "$2" "$TMPD/p.yaml" && [ "$(py "$TMPD/p.yaml" "d['runcmd'][-1][-1]")" = "$3" ] &&
		cloud-init schema --config-file "$TMPD/p.yaml" >/dev/null 2>&1; then
		ok "$1"
	else
		not_ok "$1"
		diag_file "$TMPD/render.err"
		[ -f "$TMPD/p.yaml" ] && diag_file "$TMPD/p.yaml"
	fi
}
profile_is "no metadata: the default profile, h100-nvlink" '{}' h100-nvlink
profile_is "meta_data.gpuprov_profile (NoCloud meta-data)" '{"gpuprov_profile": "a100-stable"}' a100-stable
profile_is "meta_data.tags.instance.gpuprov_profile (an EC2 tag)" \
	'{"tags": {"instance": {"Name": "gpu-01", "gpuprov_profile": "l4-edge"}}}' l4-edge
profile_is "meta_data.meta.gpuprov_profile (OpenStack metadata)" '{"meta": {"gpuprov_profile": "gh200"}}' gh200
profile_is "a flat key wins over a tag" \
	'{"gpuprov_profile": "a800-cuda128", "tags": {"instance": {"gpuprov_profile": "l4-edge"}}}' a800-cuda128
profile_is "tags without the key: the default" '{"tags": {"instance": {"Name": "gpu-01"}}}' h100-nvlink
# A value that tries to add YAML stays one string.
evil='l4-edge"\n- evil: true\nbootcmd: [reboot]\n#'
profile_is "a hostile metadata value stays one string" "{\"gpuprov_profile\": \"$(printf '%s' "$evil" | sed 's/"/\\"/g')\"}" \
	"$(printf 'l4-edge"\n- evil: true\nbootcmd: [reboot]\n#')"
check "... and adds no module" sh -c "[ \"\$(python3 -c \"import yaml; print(sorted(yaml.safe_load(open('$TMPD/p.yaml'))))\")\" = \"['apt', 'package_update', 'packages', 'power_state', 'runcmd']\" ]"

# --- the reboot decision -------------------------------------------------------------------
# Stub gpuprov: records its arguments, exits with the code in $TMPD/rc.
B="$TMPD/bin"
mkdir -p "$B"
cat >"$B/gpuprov" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$TMPD/calls"
exit \$(cat "$TMPD/rc")
EOF
chmod +x "$B/gpuprov"
RUN="$TMPD/run"

# decision FILE: runcmd's apply command and power_state's condition from FILE (rendered),
# /run/gpuprov moved to $RUN, checked for each exit code of apply.
decision() {
	name=$1
	f=$2
	py "$f" "d['runcmd'][-1][2]" | sed "s|/run/gpuprov|$RUN|g" >"$TMPD/apply.sh"
	py "$f" "d['runcmd'][-1][-1]" >"$TMPD/profile"
	py "$f" "d['power_state']['condition']" | sed "s|/run/gpuprov|$RUN|g" >"$TMPD/cond.sh"
	check "$name: power_state reboots, on a condition" sh -c "[ \"\$(python3 -c \"import yaml; print(yaml.safe_load(open('$f'))['power_state']['mode'])\")\" = reboot ] && [ -s '$TMPD/cond.sh' ]"
	rm -rf "$RUN"
	crc=0
	sh "$TMPD/cond.sh" || crc=$?
	check "$name: before apply ran, the condition is not met (exit 1, not an error)" test "$crc" -eq 1
	for rc in 0 4 5 3 2 1; do
		rm -rf "$RUN" "$TMPD/calls"
		echo "$rc" >"$TMPD/rc"
		arc=0
		PATH="$B:$PATH" sh -c "$(cat "$TMPD/apply.sh")" gpuprov-apply "$(cat "$TMPD/profile")" >"$TMPD/apply.out" 2>&1 || arc=$?
		crc=0
		sh "$TMPD/cond.sh" || crc=$?
		case $rc in 5) want_c=0 ;; *) want_c=1 ;; esac
		case $rc in 0 | 4 | 5) want_a=0 ;; *) want_a=$rc ;; esac
		if [ "$crc" -eq "$want_c" ] && [ "$arc" -eq "$want_a" ] &&
			grep -qx "apply $(cat "$TMPD/profile") --yes --detailed-exitcodes" "$TMPD/calls"; then
			ok "$name: apply exits $rc: runcmd exits $want_a, reboot $([ "$want_c" -eq 0 ] && echo yes || echo no)"
		else
			not_ok "$name: apply exits $rc: runcmd exits $want_a (got $arc), condition $want_c (got $crc)"
			diag_file "$TMPD/apply.out"
		fi
	done
}
render "$UD" '{"gpuprov_profile": "a100-stable"}' "$TMPD/ud.yaml"
decision user-data.yaml "$TMPD/ud.yaml"
decision user-data-deb.yaml "$CI/user-data-deb.yaml"
check "user-data-deb.yaml installs the package before it applies" \
	sh -c "[ \"\$(python3 -c \"import yaml; print(yaml.safe_load(open('$CI/user-data-deb.yaml'))['runcmd'][0][2])\")\" != '' ]"
check "user-data.yaml installs gpuprov with packages" \
	sh -c "python3 -c \"import yaml,sys; sys.exit('gpuprov' not in yaml.safe_load(open('$TMPD/ud.yaml'))['packages'])\""

# --- the per-instance script ---------------------------------------------------------------
PI="$CI/gpuprov-per-instance.sh"
check "gpuprov-per-instance.sh is valid sh (sh -n)" sh -n "$PI"
if command -v shellcheck >/dev/null 2>&1; then
	check "gpuprov-per-instance.sh is shellcheck clean (POSIX sh)" shellcheck -s sh "$PI"
else
	ok "# SKIP shellcheck not found"
fi
check "gpuprov-per-instance.sh is executable" test -x "$PI"
# Stub cloud-init query: the value in $TMPD/md.KEY, else exit 1 as a missing key does.
cat >"$B/cloud-init" <<EOF
#!/bin/sh
[ "\$1" = query ] || exit 2
[ -f "$TMPD/md.\$2" ] || exit 1
cat "$TMPD/md.\$2"
EOF
cat >"$B/systemd-run" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$TMPD/systemd-run"
EOF
chmod +x "$B/cloud-init" "$B/systemd-run"
# pi RC [ARG]: the script with apply exiting RC; $pi_rc, $TMPD/pi.out.
pi() {
	echo "$1" >"$TMPD/rc"
	shift
	rm -rf "$RUN" "$TMPD/calls" "$TMPD/systemd-run"
	pi_rc=0
	PATH="$B:$PATH" GPUPROV_RUNDIR="$RUN" sh "$PI" "$@" >"$TMPD/pi.out" 2>&1 || pi_rc=$?
}
applied() { grep -qx "apply $1 --yes --detailed-exitcodes" "$TMPD/calls"; }
pexpect() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; diag_file "$TMPD/pi.out"; fi
}
pi 0
pexpect "per-instance: no metadata, the default profile" applied h100-nvlink
echo a100-stable >"$TMPD/md.ds.meta_data.meta.gpuprov_profile"
pi 0
pexpect "per-instance: OpenStack meta's gpuprov_profile" applied a100-stable
echo l4-edge >"$TMPD/md.ds.meta_data.gpuprov_profile"
pi 0
pexpect "per-instance: meta_data.gpuprov_profile first" applied l4-edge
GPUPROV_PROFILE=gh200
export GPUPROV_PROFILE
pi 0
pexpect "per-instance: \$GPUPROV_PROFILE before the metadata" applied gh200
pi 0 a800-cuda128
pexpect "per-instance: the argument first of all" applied a800-cuda128
unset GPUPROV_PROFILE
pi 0
pexpect "per-instance: exit 0: exits 0, no reboot, apply's code kept" \
	sh -c "[ $pi_rc -eq 0 ] && [ ! -e '$TMPD/systemd-run' ] && [ \"\$(cat '$RUN/cloud-init.rc')\" = 0 ]"
pi 4
pexpect "per-instance: exit 4: exits 0, no reboot" sh -c "[ $pi_rc -eq 0 ] && [ ! -e '$TMPD/systemd-run' ]"
pi 5
pexpect "per-instance: exit 5: exits 0" test "$pi_rc" -eq 0
pexpect "per-instance: exit 5: a reboot once cloud-final is done, without waiting for it" \
	sh -c "grep -q -- '--no-block' '$TMPD/systemd-run' && grep -q -- '--property=After=cloud-final.service systemctl reboot\$' '$TMPD/systemd-run'"
for rc in 3 2 1; do
	pi "$rc"
	pexpect "per-instance: exit $rc: exits $rc, no reboot" sh -c "[ $pi_rc -eq $rc ] && [ ! -e '$TMPD/systemd-run' ]"
done
printf -- '--root=/tmp\n' >"$TMPD/md.ds.meta_data.gpuprov_profile"
pi 0
pexpect "per-instance: a metadata value that is not a name: exit 2, apply not run" \
	sh -c "[ $pi_rc -eq 2 ] && [ ! -e '$TMPD/calls' ]"

done_testing
