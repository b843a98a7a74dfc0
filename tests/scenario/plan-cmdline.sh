#!/bin/sh
# The kernel command line, per OS (these plans switch kernels, so panic=10 and, where GRUB
# reads its defaults, GRUB_DEFAULT=saved come with the profile's arguments): on Debian and Ubuntu a GRUB drop-in whose lines, sourced
# the way grub-mkconfig sources them, add and take off exactly the profile's arguments; on
# RHEL 9 grubby steps for the BLS entries that differ; on openEuler gpuprov's block in
# /etc/default/grub, the admin's lines kept.
. "$srcdir/tests/scenario/lib.sh"

P="$TMPD/profiles"
mkdir -p "$P"
cp "$srcdir"/profiles/*.json "$P/"
export GPUPROV_TODAY=2026-11-21

# profile NAME BASE: BASE plus cmdline changes.
profile() {
	cat >"$P/$1.json" <<EOF2
{ "name": "$1", "include": ["$2"],
  "cmdline": { "add": ["iommu=pt", "pci.realloc=off"], "remove": ["splash", "rd.driver.blacklist=nouveau"] } }
EOF2
}

# file_content PLAN PATH: the new content of a managed file, from plan --json's diff.
file_content() {
	jq -r --arg p "$2" '.actions[] | select(.action == "file" and .target == $p) | .detail' "$1" |
		sed -n 's/^[+ ]//p'
}

# --- Ubuntu: the drop-in ---
profile cl-dgx h100-nvlink
gpuprov --root "$srcdir/tests/machines/dgx-h100/root" --profiles "$P" plan cl-dgx --json >"$TMPD/dgx.json"
file_content "$TMPD/dgx.json" /etc/default/grub.d/90-gpuprov.cfg >"$TMPD/dropin"
check "Ubuntu: the arguments go to a GRUB drop-in" test -s "$TMPD/dropin"
check "Ubuntu: the drop-in carries gpuprov's header" grep -q "^# Managed by gpuprov for profile cl-dgx" "$TMPD/dropin"
check "Ubuntu: a kernel switch boots the saved entry once the boot-once one is spent" grep -qx "GRUB_DEFAULT=saved" "$TMPD/dropin"
got=$(sh -c 'GRUB_CMDLINE_LINUX="console=ttyS0 splash rd.driver.blacklist=nouveau"
	GRUB_CMDLINE_LINUX_DEFAULT="quiet splash"
	. "$1"; echo "$GRUB_CMDLINE_LINUX|$GRUB_CMDLINE_LINUX_DEFAULT"' sh "$TMPD/dropin")
check "Ubuntu: sourced, it adds and takes off only the profile's arguments (got: $got)" \
	test "$got" = "console=ttyS0|quiet iommu=pt pci.realloc=off panic=10"
got=$(sh -c 'GRUB_CMDLINE_LINUX="rd.driver.blacklist=nouveauX"; GRUB_CMDLINE_LINUX_DEFAULT=""
	. "$1"; echo "$GRUB_CMDLINE_LINUX|$GRUB_CMDLINE_LINUX_DEFAULT"' sh "$TMPD/dropin")
check "Ubuntu: an argument that only starts like a removed one stays (got: $got)" \
	test "$got" = "rd.driver.blacklist=nouveauX| iommu=pt pci.realloc=off panic=10"
check_json "Ubuntu: update-grub follows the drop-in" \
	'[.actions[] | .action] | index("bootloader") > index("file")' "$TMPD/dgx.json"
check_json "Ubuntu: update-grub is the command" '.actions[] | select(.action == "bootloader") | .target == "update-grub"' "$TMPD/dgx.json"

# --- RHEL 9 (BLS): grubby for the entries that differ ---
profile cl-hgx a100-stable
gpuprov --root "$srcdir/tests/machines/hgx-a100-rocky9/root" --profiles "$P" plan cl-hgx --json >"$TMPD/hgx.json"
check_json "RHEL 9: grubby adds what the entries lack" \
	'[.actions[] | select(.action == "cmdline" and .target == "add") | .detail] == ["iommu=pt", "pci.realloc=off", "panic=10"]' "$TMPD/hgx.json"
check_json "RHEL 9: grubby takes off what an entry has, only that" \
	'[.actions[] | select(.action == "cmdline" and .target == "remove") | .detail] == ["rd.driver.blacklist=nouveau"]' "$TMPD/hgx.json"
check_json "RHEL 9: no file for the command line" \
	'[.actions[] | select(.action == "file" and (.target | startswith("/etc/default/grub")))] | length == 0' "$TMPD/hgx.json"

# --- openEuler: gpuprov's block in /etc/default/grub, the admin's lines kept ---
M="$TMPD/kunpeng"
cp -a "$srcdir/tests/machines/kunpeng920-openeuler/root" "$M"
mkdir -p "$M/etc/default"
printf 'GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="crashkernel=512M rhgb quiet splash"\n' >"$M/etc/default/grub"
profile cl-kp kunpeng-a100
gpuprov --root "$M" --profiles "$P" plan cl-kp --json >"$TMPD/kp.json"
file_content "$TMPD/kp.json" /etc/default/grub >"$TMPD/grub"
check "openEuler: the admin's lines stay first" sh -c "head -n 2 '$TMPD/grub' | cmp -s - '$M/etc/default/grub'"
check "openEuler: gpuprov's lines are in its block" grep -q "^# gpuprov begin" "$TMPD/grub"
got=$(sh -c '. "$1"; echo "$GRUB_CMDLINE_LINUX"' sh "$TMPD/grub")
check "openEuler: sourced, the command line is right (got: $got)" \
	test "$got" = "crashkernel=512M rhgb quiet iommu=pt pci.realloc=off panic=10"
check_json "openEuler: grub2-mkconfig follows, to the grub.cfg detect found" \
	'.actions[] | select(.action == "bootloader") | .target | startswith("grub2-mkconfig -o /")' "$TMPD/kp.json"

done_testing
