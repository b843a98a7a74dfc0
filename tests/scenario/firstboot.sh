#!/bin/sh
# The first boot of a PXE-installed node: the shipped systemd units pass systemd-analyze
# verify; scripts/pxe/gpuprov-firstboot against a stub gpuprov and a stub systemctl on PATH
# and a fake kernel command line: what it parses, that it runs once (the stamp), that it
# reboots when apply says so (exit 5), keeps a refusal (3) from retrying, and retries a
# failure (1). The PXE snippets are well formed.
. "$srcdir/tests/scenario/lib.sh"

FB="$srcdir/scripts/pxe/gpuprov-firstboot"

# --- the units ---------------------------------------------------------------------------
# Substituted as Makefile.am does, with the paths pointing at files that exist here, so that
# systemd-analyze can check the commands too; --man=no: the page is not installed.
U="$TMPD/units"
mkdir -p "$U"
for src in "$srcdir"/data/*.service.in; do
	sed -e "s|@sbindir@|$top_builddir|g" -e "s|@pkglibexecdir@|$srcdir/scripts/pxe|g" \
		"$src" >"$U/$(basename "$src" .in)"
done
check "the units are gpuprov-verify.service and gpuprov-firstboot.service" \
	test -f "$U/gpuprov-verify.service" -a -f "$U/gpuprov-firstboot.service"
check "no @VARIABLE@ is left in a unit after substitution" sh -c "! grep -n '@[a-z]*@' '$U'/*.service"
if command -v systemd-analyze >/dev/null 2>&1; then
	for unit in "$U"/*.service; do
		name=$(basename "$unit")
		if (cd "$U" && systemd-analyze verify --man=no "./$name") >"$TMPD/sa.out" 2>&1 &&
			! grep -q . "$TMPD/sa.out"; then
			ok "systemd-analyze verify: $name, without a word"
		else
			not_ok "systemd-analyze verify: $name, without a word"
			diag_file "$TMPD/sa.out"
		fi
	done
	# The check itself: a misspelt key is reported.
	sed 's/^TimeoutStartSec=/TimeoutStrtSec=/' "$U/gpuprov-firstboot.service" >"$U/bad-firstboot.service"
	(cd "$U" && systemd-analyze verify --man=no ./bad-firstboot.service) >"$TMPD/sa.out" 2>&1
	check "systemd-analyze verify reports a misspelt key" grep -q "Unknown key 'TimeoutStrtSec'" "$TMPD/sa.out"
	rm -f "$U/bad-firstboot.service"
else
	ok "# SKIP systemd-analyze not found"
fi
fb_unit="$U/gpuprov-firstboot.service"
check "the first-boot unit is a oneshot" grep -qx 'Type=oneshot' "$fb_unit"
check "it runs only while the stamp is not there" grep -qx 'ConditionPathExists=!/var/lib/gpuprov/firstboot.done' "$fb_unit"
check "it runs only when the command line names gpuprov.profile" grep -qx 'ConditionKernelCommandLine=gpuprov.profile' "$fb_unit"
check "it waits for the network" sh -c "grep -qx 'Wants=network-online.target' '$fb_unit' && grep -q '^After=.*network-online.target' '$fb_unit'"
check "it runs after gpuprov-verify.service (which then finds no state.json in that boot)" \
	grep -q '^After=.*gpuprov-verify.service' "$fb_unit"
check "it has a start timeout of its own" grep -q '^TimeoutStartSec=[1-9]' "$fb_unit"
check "it is wanted by multi-user.target" grep -qx 'WantedBy=multi-user.target' "$fb_unit"
check "it runs the script" grep -qx "ExecStart=$srcdir/scripts/pxe/gpuprov-firstboot" "$fb_unit"
check "it finds gpuprov in sbindir" grep -q "^Environment=PATH=$top_builddir:" "$fb_unit"

# --- the script --------------------------------------------------------------------------
check "gpuprov-firstboot is valid sh (sh -n)" sh -n "$FB"
if command -v shellcheck >/dev/null 2>&1; then
	check "gpuprov-firstboot is shellcheck clean (POSIX sh)" shellcheck -s sh "$FB"
else
	ok "# SKIP shellcheck not found"
fi
if command -v dash >/dev/null 2>&1; then
	check "gpuprov-firstboot is valid for dash" dash -n "$FB"
fi

# Stubs: gpuprov records its arguments one a line, a blank line after each call, and exits
# with the code in $TMPD/rc; `gpuprov status --json` prints $TMPD/status. systemctl records.
B="$TMPD/bin"
mkdir -p "$B"
cat >"$B/gpuprov" <<EOF
#!/bin/sh
if [ "\$1" = status ]; then cat "$TMPD/status"; exit 0; fi
for a in "\$@"; do printf '%s\n' "\$a"; done >>"$TMPD/calls"
echo >>"$TMPD/calls"
exit \$(cat "$TMPD/rc")
EOF
cat >"$B/systemctl" <<EOF
#!/bin/sh
echo "systemctl \$*" >>"$TMPD/systemctl"
EOF
chmod +x "$B/gpuprov" "$B/systemctl"
echo '{"state": "applied"}' >"$TMPD/status"

STAMP="$TMPD/var/lib/gpuprov/firstboot.done"
# fb CMDLINE RC: a fresh run of the script (stamp kept) with that command line and apply
# exiting RC; its exit status in $fb_rc, its output in $TMPD/fb.out.
fb() {
	printf '%s\n' "$1" >"$TMPD/cmdline"
	echo "$2" >"$TMPD/rc"
	rm -f "$TMPD/calls" "$TMPD/systemctl"
	fb_rc=0
	PATH="$B:$PATH" GPUPROV_FIRSTBOOT_CMDLINE="$TMPD/cmdline" GPUPROV_FIRSTBOOT_STAMP="$STAMP" \
		sh "$FB" >"$TMPD/fb.out" 2>&1 || fb_rc=$?
}
# args_are ARG...: the one apply call had exactly these arguments.
args_are() {
	for a in "$@"; do printf '%s\n' "$a"; done >"$TMPD/want"
	echo >>"$TMPD/want"
	cmp -s "$TMPD/want" "$TMPD/calls"
}
showfb() { diag_file "$TMPD/fb.out"; [ -f "$TMPD/calls" ] && diag_file "$TMPD/calls"; return 0; }
# expect DESC TEST...: a case, with the script's output and apply's calls when it fails.
expect() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; showfb; fi
}

# No profile: nothing done, said so, exit 0, no stamp.
fb "BOOT_IMAGE=/vmlinuz-5.15.0-94-generic root=/dev/sda2 ro quiet gpuprov.bundle=http://x/b.tar" 0
expect "no gpuprov.profile=: exits 0" test "$fb_rc" -eq 0
expect "no gpuprov.profile=: apply not run" test ! -e "$TMPD/calls"
expect "no gpuprov.profile=: says so" grep -q "no gpuprov.profile=" "$TMPD/fb.out"
expect "no gpuprov.profile=: no stamp" test ! -e "$STAMP"
fb "root=/dev/sda2 xgpuprov.profile=a100-stable gpuprov.profiles=x" 0
expect "xgpuprov.profile= and gpuprov.profiles= are not gpuprov.profile=" test ! -e "$TMPD/calls"

# A plain profile; success with nothing changed: stamp, no reboot.
fb "BOOT_IMAGE=/vmlinuz root=/dev/sda2 ro gpuprov.profile=a100-stable quiet" 0
expect "gpuprov.profile=a100-stable: apply a100-stable --yes --detailed-exitcodes" \
	args_are apply a100-stable --yes --detailed-exitcodes
expect "exit 0: the script exits 0" test "$fb_rc" -eq 0
expect "exit 0: the stamp is written" test -f "$STAMP"
expect "the stamp names the profile and apply's exit" sh -c "grep -qx profile=a100-stable '$STAMP' && grep -qx exit=0 '$STAMP'"
expect "exit 0: no reboot" test ! -e "$TMPD/systemctl"
expect "the output names the command (for the journal)" grep -q "running: gpuprov apply a100-stable" "$TMPD/fb.out"

# Once: with the stamp there, nothing runs.
fb "gpuprov.profile=a100-stable" 5
expect "with the stamp there: apply is not run again" test ! -e "$TMPD/calls"
expect "with the stamp there: exits 0, no reboot" sh -c "[ $fb_rc -eq 0 ] && [ ! -e '$TMPD/systemctl' ]"
rm -f "$STAMP"

# Bundle, mirror, CA; quotes taken off as the kernel does; the last of each wins.
fb "ro \"gpuprov.profile=h100-nvlink\" gpuprov.bundle=\"https://repo.example/b dir/h100.tar\" gpuprov.mirror=http://m1/h100.tar gpuprov.cacert=/etc/pki/site.pem" 4
expect "bundle, mirror and cacert passed on; quoted values with a blank kept whole" \
	args_are apply h100-nvlink --yes --detailed-exitcodes --bundle "https://repo.example/b dir/h100.tar" \
	--mirror http://m1/h100.tar --cacert /etc/pki/site.pem
expect "exit 4: the script exits 0, stamp, no reboot" \
	sh -c "[ $fb_rc -eq 0 ] && [ -f '$STAMP' ] && [ ! -e '$TMPD/systemctl' ]"
rm -f "$STAMP"
fb "gpuprov.profile=l4-edge gpuprov.profile=\"gh200\"	gpuprov.bundle=/srv/b.tar" 0
expect "the last gpuprov.profile= wins; a tab separates too" args_are apply gh200 --yes --detailed-exitcodes --bundle /srv/b.tar
rm -f "$STAMP"

# A reboot needed: stamp first, then systemctl reboot without waiting for itself.
fb "gpuprov.profile=h100-nvlink" 5
expect "exit 5: the script exits 0" test "$fb_rc" -eq 0
expect "exit 5: the stamp is written before the reboot" sh -c "grep -qx exit=5 '$STAMP'"
expect "exit 5: systemctl --no-block reboot" grep -qx "systemctl --no-block reboot" "$TMPD/systemctl"
rm -f "$STAMP"
printf 'gpuprov.profile=h100-nvlink\n' >"$TMPD/cmdline"
echo 5 >"$TMPD/rc"
rm -f "$TMPD/systemctl"
PATH="$B:$PATH" GPUPROV_FIRSTBOOT_CMDLINE="$TMPD/cmdline" GPUPROV_FIRSTBOOT_STAMP="$STAMP" \
	GPUPROV_FIRSTBOOT_NOREBOOT=1 sh "$FB" >"$TMPD/fb.out" 2>&1
expect "GPUPROV_FIRSTBOOT_NOREBOOT: no reboot" test ! -e "$TMPD/systemctl"
rm -f "$STAMP"

# A refusal: stamp, exit 3 (the unit shows failed), and no retry at the next boot.
fb "gpuprov.profile=kunpeng-a100" 3
expect "exit 3: the script exits 3" test "$fb_rc" -eq 3
expect "exit 3: the stamp is written" sh -c "grep -qx exit=3 '$STAMP'"
expect "exit 3: no reboot" test ! -e "$TMPD/systemctl"
expect "exit 3: the message says how to retry" grep -q "remove $STAMP" "$TMPD/fb.out"
fb "gpuprov.profile=kunpeng-a100" 3
expect "after a refusal, the next boot does not retry" test ! -e "$TMPD/calls"
rm -f "$STAMP"
# ... but a refusal because another run holds the lock is tried again.
echo '{"state": "running", "running_pid": 4242}' >"$TMPD/status"
fb "gpuprov.profile=kunpeng-a100" 3
expect "exit 3 while another run holds the lock: no stamp" test ! -e "$STAMP"
echo '{"state": "applied"}' >"$TMPD/status"

# Bad input (an unknown profile): stamp, exit 2.
fb "gpuprov.profile=no-such-profile" 2
expect "exit 2: the script exits 2, with the stamp" sh -c "[ $fb_rc -eq 2 ] && grep -qx exit=2 '$STAMP'"
rm -f "$STAMP"

# A failure: no stamp, so the next boot tries again.
fb "gpuprov.profile=a100-stable" 1
expect "exit 1: the script exits 1" test "$fb_rc" -eq 1
expect "exit 1: no stamp" test ! -e "$STAMP"
expect "exit 1: no reboot" test ! -e "$TMPD/systemctl"
fb "gpuprov.profile=a100-stable" 0
expect "after a failure, the next boot runs apply again" args_are apply a100-stable --yes --detailed-exitcodes
rm -f "$STAMP"
fb "gpuprov.profile=a100-stable" 137
expect "killed (137): exits 1, no stamp" sh -c "[ $fb_rc -eq 1 ] && [ ! -e '$STAMP' ]"

# Names that are not profile names, values that would be options: apply never runs.
for bad in "gpuprov.profile=--root=/" "gpuprov.profile=../../etc/x" "gpuprov.profile=\"a b\"" \
	"gpuprov.profile=a100-stable gpuprov.bundle=--help"; do
	fb "$bad" 0
	expect "refused before apply: $bad" sh -c "[ $fb_rc -eq 2 ] && [ ! -e '$TMPD/calls' ] && [ ! -e '$STAMP' ]"
done
fb "gpuprov.profile=" 0
expect "an empty gpuprov.profile=: nothing to do" sh -c "[ $fb_rc -eq 0 ] && [ ! -e '$TMPD/calls' ]"

# An unreadable command line: exit 1, nothing run.
rm -f "$TMPD/calls"
fb_rc=0
PATH="$B:$PATH" GPUPROV_FIRSTBOOT_CMDLINE="$TMPD/none" GPUPROV_FIRSTBOOT_STAMP="$STAMP" \
	sh "$FB" >"$TMPD/fb.out" 2>&1 || fb_rc=$?
expect "no command line file: exits 1, apply not run" sh -c "[ $fb_rc -eq 1 ] && [ ! -e '$TMPD/calls' ]"

# --- the installer snippets --------------------------------------------------------------
ks="$srcdir/scripts/pxe/kickstart-post.ks"
check "kickstart: a %post section, closed" sh -c "grep -q '^%post' '$ks' && grep -qx '%end' '$ks'"
check "kickstart: the %post body is valid sh" sh -c "sed -n '/^%post/,/^%end/p' '$ks' | sed '1d;\$d' | sh -n"
check "kickstart: enables the first-boot unit" grep -q 'systemctl enable gpuprov-firstboot.service' "$ks"
autoinst="$srcdir/scripts/pxe/autoinstall-late-commands.yaml"
if command -v python3 >/dev/null 2>&1 && python3 -c 'import yaml' 2>/dev/null; then
	check "autoinstall: late-commands is a list of strings, one enabling the unit" python3 -c "
import sys, yaml
lc = yaml.safe_load(open(sys.argv[1]))['autoinstall']['late-commands']
assert all(isinstance(c, str) and c.startswith('curtin in-target --target=/target -- ') for c in lc), lc
assert any('systemctl enable gpuprov-firstboot.service' in c for c in lc), lc
" "$autoinst"
	# Each command's sh -c script parses.
	python3 -c "
import shlex, sys, yaml
for c in yaml.safe_load(open(sys.argv[1]))['autoinstall']['late-commands']:
    a = shlex.split(c)
    if 'sh' in a and a[a.index('sh') + 1] == '-c':
        print(a[a.index('sh') + 2])
" "$autoinst" >"$TMPD/autoinst.sh"
	check "autoinstall: the sh -c scripts parse" sh -c "[ -s '$TMPD/autoinst.sh' ] && sh -n '$TMPD/autoinst.sh'"
else
	ok "# SKIP python3 with yaml not found"
fi

done_testing
