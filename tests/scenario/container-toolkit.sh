#!/bin/sh
# The NVIDIA Container Toolkit with the stack, on the DGX H100 (driver 580.95.05 resolved for
# h100-nvlink): stand-in packages of the toolkit at 1.17.3 (vulnerable: CVE-2025-23359,
# CVE-2025-23266), 1.17.8 and 1.18.1 published whole, 1.19.0 without libnvidia-container1.
# On the fake machine: latest-for-driver's pick, and with a driver floor added to the
# knowledge another one; an exact pin; toolkit "none" in a child; check on a node whose
# toolkit is vulnerable, mixed or behind. On the apt chroot target: the vulnerable pin and a
# version not offered refused with nothing changed; apply installs and holds the four
# packages exactly; a second apply changes nothing; bundle create carries them.
# tests/scenario/container-toolkit-dnf.sh is the same on a dnf installroot.
. "${srcdir}/tests/scenario/lib.sh"

CTK="libnvidia-container1 libnvidia-container-tools nvidia-container-toolkit-base nvidia-container-toolkit"
LIST=nvidia.github.io_libnvidia-container_stable_deb_amd64_Packages

# ctk_lists FILE: the toolkit's stanzas as NVIDIA's repository would list them here.
ctk_lists() {
	{
		"$srcdir/tests/pkg/ctk-packages" deb amd64 1.17.3 1.17.8 1.18.1
		"$srcdir/tests/pkg/ctk-packages" deb amd64 1.19.0 | awk -v RS= -v ORS='\n\n' '!/^Package: libnvidia-container1\n/'
	} >"$1"
}

# site DIR NAME JSON: a site profile NAME in DIR's etc/gpuprov/profiles.
site() {
	mkdir -p "$1/etc/gpuprov/profiles"
	printf '%s\n' "$3" >"$1/etc/gpuprov/profiles/$2.json"
}

M=$TMPD/m
cp -a "$srcdir/tests/machines/dgx-h100/root" "$M"
chmod -R u+w "$M"
ctk_lists "$M/var/lib/apt/lists/$LIST"
check "the 1.19.0 stand-ins lack libnvidia-container1" \
	test "$(grep -c '^Package: libnvidia-container1$' "$M/var/lib/apt/lists/$LIST")" -eq 3
site "$M" ctk '{ "name": "ctk", "include": ["h100-nvlink"], "container": { "runtimes": ["containerd"] } }'
site "$M" ctk-pin '{ "name": "ctk-pin", "include": ["h100-nvlink"], "container": { "toolkit": "1.17.8" } }'
site "$M" ctk-off '{ "name": "ctk-off", "include": ["ctk"], "container": { "toolkit": "none" } }'
plan() { # PROFILE_DIR PROFILE: plan --json into $TMPD/PROFILE.json
	gpuprov --root "$M" --profiles "$1" plan "$2" --json >"$TMPD/$2.json" 2>"$TMPD/$2.err"
}

# --- latest-for-driver ---
plan "$srcdir/profiles" ctk
check_json "latest-for-driver: 1.18.1, the newest offered whole (1.19.0 lacks a package)" \
	'.stack.container_toolkit == "1.18.1" and .stack.driver == "580.95.05"' "$TMPD/ctk.json"
check_json "the four packages are picks at 1.18.1-1, in the order they install" \
	"[.stack.packages[] | select(.role == \"container-toolkit\") | \"\\(.name)=\\(.version)\"] == [\"libnvidia-container1=1.18.1-1\", \"libnvidia-container-tools=1.18.1-1\", \"nvidia-container-toolkit-base=1.18.1-1\", \"nvidia-container-toolkit=1.18.1-1\"]" \
	"$TMPD/ctk.json"
check_json "a reason names the version, the driver and the release's source" \
	'.reasons | map(select(startswith("container toolkit 1.18.1: the newest offered that the knowledge accepts for driver 580.95.05") and contains("releases/tag/v1.18.1"))) | length == 1' \
	"$TMPD/ctk.json"
check_json "each package is installed and held" \
	"[.actions[] | select(.target | test(\"^(lib)?nvidia-container\")) | .action] | (map(select(. == \"install\")) | length) == 4 and (map(select(. == \"hold\")) | length) == 4" \
	"$TMPD/ctk.json"

# A driver floor for 1.18.0 and later above the stack's driver: latest-for-driver steps down.
cp -a "$srcdir/profiles" "$TMPD/profiles"
jq '.container_toolkit.min_driver += [{"from": "1.18.0", "driver": "590.44.01", "source": "a floor made for this test", "verified": .as_of}]' \
	"$srcdir/profiles/knowledge.json" >"$TMPD/profiles/knowledge.json"
plan "$TMPD/profiles" ctk
check_json "a floor above driver 580.95.05 from 1.18.0: latest-for-driver picks 1.17.8" \
	'.stack.container_toolkit == "1.17.8"' "$TMPD/ctk.json"
jq '.container_toolkit.min_driver += [{"from": "1.17.0", "driver": "590.44.01", "source": "a floor made for this test", "verified": .as_of}]' \
	"$srcdir/profiles/knowledge.json" >"$TMPD/profiles/knowledge.json"
rc=0
plan "$TMPD/profiles" ctk || rc=$?
check "a floor above the driver for every release offered: refused (exit 3)" test "$rc" -eq 3
check_json "the refusal lists each version offered and why it was passed over" \
	'.reasons == ["container.toolkit \"latest-for-driver\": no version of nvidia-container-toolkit offered in this machine'"'"'s repositories is one the knowledge accepts for driver 580.95.05: 1.19.0 (libnvidia-container1 not offered), 1.18.1 (needs driver 590.44.01), 1.17.8 (needs driver 590.44.01), 1.17.3 (CVE-2025-23266)"]' \
	"$TMPD/ctk.json"

# CDI generation from 1.18.0 on (a knowledge made for this test): a pin to 1.17.8 with cdi
# on is refused, with cdi off taken.
jq '.container_toolkit.cdi_from = "1.18.0"' "$srcdir/profiles/knowledge.json" >"$TMPD/profiles/knowledge.json"
rc=0
plan "$TMPD/profiles" ctk-pin || rc=$?
check "cdi on and a pin below the first CDI release: refused (exit 3)" test "$rc" -eq 3
check_json "the refusal names the first release with CDI generation and the way out" \
	'.reasons[0] | startswith("container.toolkit 1.17.8: container.cdi is on and `nvidia-ctk cdi generate` first came with 1.18.0; pin 1.18.0 or later, or set cdi false")' \
	"$TMPD/ctk-pin.json"
site "$M" ctk-pin-nocdi '{ "name": "ctk-pin-nocdi", "include": ["ctk-pin"], "container": { "cdi": false } }'
plan "$TMPD/profiles" ctk-pin-nocdi
check_json "the same pin with cdi false: taken" '.stack.container_toolkit == "1.17.8"' "$TMPD/ctk-pin-nocdi.json"

# --- an exact pin; "none" in a child ---
plan "$srcdir/profiles" ctk-pin
check_json "container.toolkit 1.17.8: the four packages at 1.17.8-1" \
	'.stack.container_toolkit == "1.17.8" and ([.stack.packages[] | select(.role == "container-toolkit" and .version == "1.17.8-1")] | length) == 4' \
	"$TMPD/ctk-pin.json"
plan "$srcdir/profiles" ctk-off
check_json "toolkit \"none\" in a child of ctk: no toolkit, no package of it" \
	'.stack.container_toolkit == null and ([.stack.packages[] | select(.role == "container-toolkit")] | length) == 0 and .stack.driver == "580.95.05"' \
	"$TMPD/ctk-off.json"

# --- check: the toolkit installed on the node ---
# installed_ctk VERSION...: dpkg's status with the four packages at these versions, in order.
installed_ctk() {
	cp "$srcdir/tests/machines/dgx-h100/root/var/lib/dpkg/status" "$M/var/lib/dpkg/status"
	for n in $CTK; do
		printf '\nPackage: %s\nStatus: install ok installed\nArchitecture: amd64\nVersion: %s-1\n' "$n" "$1" \
			>>"$M/var/lib/dpkg/status"
		shift
	done
}
check_run() { # NAME: check --json into $TMPD/NAME.json, its status into $TMPD/NAME.rc
	rc=0
	gpuprov --root "$M" --profiles "$srcdir/profiles" check --json >"$TMPD/$1.json" 2>"$TMPD/$1.err" || rc=$?
	echo "$rc" >"$TMPD/$1.rc"
}
ids() { jq -r '[.findings[].id | select(startswith("container-toolkit"))] | join(" ")' "$1"; }

check_run none
check "no toolkit installed: no toolkit finding" test -z "$(ids "$TMPD/none.json")"
installed_ctk 1.18.1 1.18.1 1.18.1 1.18.1
check_run current
check "1.18.1 whole, what latest-for-driver picks: no toolkit finding" test -z "$(ids "$TMPD/current.json")"
installed_ctk 1.17.3 1.17.3 1.17.3 1.17.3
check_run vulnerable
check "1.17.3: an error (exit 3) for each CVE, and the newer release" \
	test "$(cat "$TMPD/vulnerable.rc") $(ids "$TMPD/vulnerable.json")" = \
	"3 container-toolkit-vulnerable container-toolkit-vulnerable container-toolkit-version"
check_json "each names the CVE, the fixed version, what to install and NVIDIA's bulletin" \
	'[.findings[] | select(.id == "container-toolkit-vulnerable")] | map("\(.message) \(.source | test("nvidia.custhelp.com"))") == ["NVIDIA Container Toolkit 1.17.3 is affected by CVE-2025-23359, fixed in 1.17.4: install 1.17.8 or later true", "NVIDIA Container Toolkit 1.17.3 is affected by CVE-2025-23266, fixed in 1.17.8: install 1.17.8 or later true"]' \
	"$TMPD/vulnerable.json"
installed_ctk 1.18.1 1.18.1 1.17.8 1.18.1
check_run mixed
check "the base at 1.17.8 beside 1.18.1: an error (exit 3)" \
	test "$(cat "$TMPD/mixed.rc") $(ids "$TMPD/mixed.json")" = "3 container-toolkit-mixed"
check_json "it lists each package's version" \
	'.findings[] | select(.id == "container-toolkit-mixed") | .message | contains("nvidia-container-toolkit-base 1.17.8, nvidia-container-toolkit 1.18.1")' \
	"$TMPD/mixed.json"
installed_ctk 1.17.8 1.17.8 1.17.8 1.17.8
check_run behind
# check judges against the driver loaded now: the fake machine's 550.54.15.
check "1.17.8 whole, 1.18.1 offered: a warning (exit 0)" \
	test "$(cat "$TMPD/behind.rc") $(ids "$TMPD/behind.json")" = "0 container-toolkit-version"
check_json "it names both versions and the driver" \
	'.findings[] | select(.id == "container-toolkit-version") | .severity == "warning" and (.message | startswith("NVIDIA Container Toolkit 1.17.8 is installed; the newest the repositories offer that the knowledge accepts for driver 550.54.15 is 1.18.1"))' \
	"$TMPD/behind.json"

# --- the apt chroot target ---
# Its repository is made from the machine's lists: a copy of the DGX H100 whose toolkit list
# is this test's, in place of the releases the fake machine offers.
MACHINE=$TMPD/mt
cp -a "$srcdir/tests/machines/dgx-h100/root" "$MACHINE"
chmod -R u+w "$MACHINE"
ctk_lists "$MACHINE/var/lib/apt/lists/$LIST"
. "${srcdir}/tests/scenario/lib-apt-target.sh"
# The checks above ran: what cannot run here is skipped from this point on.
skip_all() {
	ok "# SKIP the apt target: $*"
	done_testing
	exit 0
}
command -v systemctl >/dev/null 2>&1 || skip_all "systemctl not found"
apt_target linux-image-5.15.0-105-generic=5.15.0-105.115 linux-modules-5.15.0-105-generic=5.15.0-105.115 linux-generic
site "$CH" ctk '{ "name": "ctk", "include": ["h100-nvlink"], "container": { "runtimes": ["containerd"] } }'
site "$CH" ctk-vuln '{ "name": "ctk-vuln", "include": ["ctk"], "container": { "toolkit": "1.17.3" } }'
site "$CH" ctk-missing '{ "name": "ctk-missing", "include": ["ctk"], "container": { "toolkit": "1.19.0" } }'
snapshot() {
	{
		installed
		find "$CH/etc" "$CH/var/lib/gpuprov" -xdev \( -type f -o -type l \) 2>/dev/null | sort | xargs -r sha256sum
	} >"$1"
}

snapshot "$TMPD/before"
rc=0
gp apply ctk-vuln --yes >"$TMPD/vuln.out" 2>"$TMPD/vuln.err" || rc=$?
check "a pin to 1.17.3: refused (exit 3)" test "$rc" -eq 3
check "the refusal names the CVEs, their fixes and what to pin" grep -qF \
	'container.toolkit 1.17.3: affected by CVE-2025-23359 (fixed in 1.17.4), CVE-2025-23266 (fixed in 1.17.8); pin 1.17.8 or later, or "latest-for-driver"' \
	"$TMPD/vuln.out"
snapshot "$TMPD/after-vuln"
check "the refusal changed nothing" cmp -s "$TMPD/before" "$TMPD/after-vuln"
rc=0
gp apply ctk-missing --yes >"$TMPD/missing.out" 2>"$TMPD/missing.err" || rc=$?
check "a pin to 1.19.0, offered without libnvidia-container1: refused (exit 3)" test "$rc" -eq 3
check "the refusal names the package and what is offered" grep -qF \
	"container.toolkit 1.19.0: libnvidia-container1 is not offered at 1.19.0 in this machine's repositories (offered: 1.17.3-1, 1.17.8-1, 1.18.1-1)" \
	"$TMPD/missing.out"
snapshot "$TMPD/after-missing"
check "the refusal changed nothing" cmp -s "$TMPD/before" "$TMPD/after-missing"

rc=0
gp apply ctk --yes --json >"$TMPD/apply.json" 2>"$TMPD/apply.err" || rc=$?
check "apply ctk succeeds" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/apply.err"
in_target dpkg-query -W -f='${Package}=${Version} ${db:Status-Status}\n' $CTK | sort >"$TMPD/ctk.installed"
check "the four packages are installed at 1.18.1-1" test "$(cat "$TMPD/ctk.installed")" = "$(for n in $CTK; do echo "$n=1.18.1-1 installed"; done | sort)"
in_target apt-mark showhold | grep -E '^(lib)?nvidia-container' | sort >"$TMPD/held"
check "exactly the four are held" test "$(cat "$TMPD/held")" = "$(printf '%s\n' $CTK | sort)"
check "apt pins each of them at 1.18.1-1" sh -c "for n in $CTK; do grep -A1 -x \"Package: \$n\" '$CH/etc/apt/preferences.d/gpuprov' | grep -qx 'Pin: version 1.18.1-1' || exit 1; done"
check "nvidia-ctk is the stand-in, from nvidia-container-toolkit-base" cmp -s "$srcdir/tests/pkg/nvidia-ctk" "$CH/usr/bin/nvidia-ctk"
check "nvidia-container-runtime answers --version" in_target nvidia-container-runtime --version

installed >"$TMPD/dpkg.2"
rc=0
gp apply ctk --yes --json >"$TMPD/again.json" 2>"$TMPD/again.err" || rc=$?
check "a second apply exits 0 and changes nothing" test "$rc" -eq 0
check_json "a second apply reports no change" '.changed == false and (.done | length) == 0' "$TMPD/again.json"
installed >"$TMPD/dpkg.3"
check "a second apply installed nothing" cmp -s "$TMPD/dpkg.2" "$TMPD/dpkg.3"

# --- bundle create carries the four packages ---
gpuprov bundle keygen "$TMPD/site.key" >/dev/null 2>&1
rc=0
gp bundle create ctk --os ubuntu-22.04 --arch x86_64 --key "$TMPD/site.key" -o "$TMPD/ctk.bundle" \
	>"$TMPD/bundle.out" 2>"$TMPD/bundle.err" || rc=$?
check "bundle create ctk succeeds" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/bundle.err"
tar -tf "$TMPD/ctk.bundle" >"$TMPD/members" 2>/dev/null
for n in $CTK; do
	check "the bundle holds ${n}_1.18.1-1" grep -q "^${n}_1.18.1-1_.*\.deb\$" "$TMPD/members"
done

done_testing
