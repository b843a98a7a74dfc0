#!/bin/sh
# A fleet on this machine, driven by the collection gpuprov.fleet's rolling_update playbook:
# DGX H100 apt targets (overlay copies of one chroot, lib-apt-target.sh) and HGX A100 dnf
# installroots (lib-dnf-target.sh), each an inventory host with the local connection and the
# modules' root pointing at its tree. Check mode changes no byte of any tree and reports
# changed on every host, --diff shows a managed file's before and after; a first run changes
# every host to the expected stack, a second changes none; a host whose repository lacks the
# kernel is refused, and with serial and max_fail_percentage 0 the batches after it are not
# touched. Reboots are off (gpuprov_reboot=false): the trees are not machines.
. "${srcdir}/tests/scenario/lib.sh"

. "${srcdir}/tests/scenario/lib-ansible.sh"

# The plays' results are read from ansible.posix's json callback (in Debian's ansible).
ansible-doc -t callback ansible.posix.json >/dev/null 2>&1 ||
	{ echo "1..0 # SKIP the callback ansible.posix.json is not installed (package ansible)"; exit 0; }

. "${srcdir}/tests/scenario/lib-apt-target.sh"

apt_target linux-image-5.15.0-105-generic=5.15.0-105.115 linux-modules-5.15.0-105-generic=5.15.0-105.115 linux-generic
target_keep
# The hosts' paths are absolute: the modules run in a directory of Ansible's.
SRC=$(cd "$srcdir" && pwd)
APT_MACHINE=$SRC/${MACHINE#"$srcdir"/}
APT_REPO=$REPO
unset MACHINE

. "${srcdir}/tests/scenario/lib-dnf-target.sh"

DNF_MACHINE=$SRC/${MACHINE#"$srcdir"/}

collection_install || { cat "$TMPD/galaxy-build.log" "$TMPD/galaxy-install.log" >&2; exit 1; }
# The modules run gpuprov through the test's wrapper (qemu-user for a cross build).
printf '#!/bin/sh\nexec %s "%s" "$@"\n' "${TEST_WRAPPER:-}" "$GPUPROV" >"$TMPD/gpuprov"
chmod +x "$TMPD/gpuprov"

# hosts NAME...: inventory lines for these hosts, each with its tree at $TMPD/nodes/NAME;
# a name that starts with "a" or "r" is a DGX H100 apt target, with "d" an HGX A100 dnf
# installroot.
hosts() {
	for h in "$@"; do
		case $h in
		a* | r*) echo "$h gpuprov_root=$TMPD/nodes/$h gpuprov_sysroot=$APT_MACHINE gpuprov_profile=h100-nvlink" ;;
		d*) echo "$h gpuprov_root=$TMPD/nodes/$h gpuprov_sysroot=$DNF_MACHINE gpuprov_profile=a100-stable" ;;
		esac
	done
}

# new_nodes NAME...: a fresh tree for each host and an inventory of them in $TMPD/NAME1.ini.
new_nodes() {
	mkdir -p "$TMPD/nodes"
	for h in "$@"; do
		case $h in
		a* | r*) target_copy "$TMPD/nodes/$h" ;;
		d*)
			new_target "$TMPD/nodes/$h"
			# The repository view a refresh left there (apply's: plan reads what the
			# node has): the fake machine's, which the test repository is built from.
			mkdir -p "$TMPD/nodes/$h/var/lib/gpuprov"
			cp "$DNF_MACHINE/var/lib/gpuprov/repo.json" "$TMPD/nodes/$h/var/lib/gpuprov/"
			;;
		esac
	done
	{
		echo "[fleet]"
		hosts "$@"
		echo "[fleet:vars]"
		echo "ansible_connection=local"
		echo "ansible_python_interpreter=$(command -v python3)"
		echo "gpuprov_binary=$TMPD/gpuprov"
		echo "gpuprov_profiles=$SRC/profiles"
		echo "gpuprov_reboot=false"
	} >"$TMPD/$1.ini"
}

# play NAME INVENTORY [OPTIONS]: the collection's rolling_update playbook on the inventory;
# its results as JSON in $TMPD/NAME.json (ansible.posix's json callback), its exit status in
# $TMPD/NAME.rc.
play() {
	name=$1
	inventory=$2
	shift 2
	rc=0
	ANSIBLE_STDOUT_CALLBACK=ansible.posix.json ANSIBLE_FORKS=2 \
		ansible-playbook -i "$inventory" gpuprov.fleet.rolling_update "$@" \
		>"$TMPD/$name.json" 2>"$TMPD/$name.err" || rc=$?
	echo "$rc" >"$TMPD/$name.rc"
}

# results NAME TASK: the results of the role's task TASK in play NAME, an object keyed by host
# (every batch).
results() {
	jq --arg t "$2" '[.plays[].tasks[] | select(.task.name | endswith(": " + $t)) | .hosts | to_entries[]] | from_entries' \
		"$TMPD/$1.json"
}

# listing HOST...: every file of the hosts' trees with its type, mode, owner, size, mtime
# and link target, and the SHA-256 of every regular file: the trees' bytes, nothing left out.
listing() {
	for h in "$@"; do
		(cd "$TMPD/nodes/$h" && find . -printf '%y %m %U:%G %s %T@ %p -> %l\n' | LC_ALL=C sort &&
			find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
	done
}

APT_HOSTS="a1 a2 a3 a4 a5"
DNF_HOSTS="d1 d2 d3"
# shellcheck disable=SC2086
new_nodes $APT_HOSTS $DNF_HOSTS
ALL="$APT_HOSTS $DNF_HOSTS"
# An admin's line in a1's NCCL settings: the diff shows a file with a before.
printf 'NCCL_DEBUG=WARN\n' >"$TMPD/nodes/a1/etc/nccl.conf"
cp "$TMPD/nodes/a1/etc/nccl.conf" "$TMPD/nccl.before"

# --- check mode changes nothing and reports changed on every host ---
# shellcheck disable=SC2086
listing $ALL >"$TMPD/listing.0"
start=$(date +%s)
play check "$TMPD/a1.ini" --check --diff -e gpuprov_serial=100%
echo "# check mode on $(echo $ALL | wc -w) hosts: $(($(date +%s) - start)) s"
check "check mode: the play succeeds" test "$(cat "$TMPD/check.rc")" -eq 0
[ "$(cat "$TMPD/check.rc")" -eq 0 ] || diag_file "$TMPD/check.err"
# shellcheck disable=SC2086
listing $ALL >"$TMPD/listing.1"
check "check mode changes no byte of any tree" cmp -s "$TMPD/listing.0" "$TMPD/listing.1"
diff "$TMPD/listing.0" "$TMPD/listing.1" | head -n 20 | diag_file /dev/stdin
results check "Apply the profile" >"$TMPD/check.apply"
n=0
for h in $ALL; do
	check_json "check mode: $h is reported changed, with the planned actions" \
		".\"$h\" | .changed == true and (.actions | length) > 0 and (.failed | not)" "$TMPD/check.apply"
	n=$((n + 1))
done
check_ran "every host's check is looked at" "$n"

# --- a first run changes every host to the stack its repository and profile call for ---
start=$(date +%s)
play first "$TMPD/a1.ini" -e gpuprov_serial=100%
echo "# first run on $(echo $ALL | wc -w) hosts: $(($(date +%s) - start)) s"
check "the first run succeeds" test "$(cat "$TMPD/first.rc")" -eq 0
[ "$(cat "$TMPD/first.rc")" -eq 0 ] || diag_file "$TMPD/first.err"
results first "Apply the profile" >"$TMPD/first.apply"
# expected_stack STACK: the module's stack {kernel, driver, cuda} for the packages STACK
# ("name version" a line, lib-*-target.sh) installs: the kernel image's release, the
# driver's and the toolkit's upstream versions (an RPM kernel's release is its version,
# release and architecture).
expected_stack() {
	awk -v arch="$(uname -m)" '
		$1 ~ /^linux-image-/ { k = substr($1, 13) }
		$1 == "kernel" { k = $2 "." arch }
		$1 ~ /^nvidia-headless-/ || $1 == "nvidia-driver" { d = $2; sub(/-.*/, "", d) }
		$1 ~ /^cuda-toolkit-/ { c = $2; sub(/-.*/, "", c) }
		END { printf "{\"kernel\":\"%s\",\"driver\":\"%s\",\"cuda\":\"%s\"}\n", k, d, c }'
}
h100_stack | expected_stack >"$TMPD/h100.stack"
a100_stack | expected_stack >"$TMPD/a100.stack"
n=0
for h in $ALL; do
	case $h in a*) want=$TMPD/h100.stack ;; *) want=$TMPD/a100.stack ;; esac
	check_json "first run: $h changed, reboot required" ".\"$h\" | .changed and .reboot_required" "$TMPD/first.apply"
	jq -c --arg h "$h" '.[$h].stack' "$TMPD/first.apply" >"$TMPD/got.stack"
	check "first run: $h's stack is $(cat "$want")" jq -e --slurpfile w "$want" '. == $w[0]' "$TMPD/got.stack"
	n=$((n + 1))
done
check_ran "every host's first run is looked at" "$n"
h100_stack | sed 's/ /=/' >"$TMPD/want.a"
a100_stack | sed 's/ /-/' >"$TMPD/want.d"
n=0
for h in $ALL; do
	case $h in
	a*) chroot "$TMPD/nodes/$h" dpkg-query -W -f='${Package}=${Version}\n' >"$TMPD/has.$h" ;;
	d*) installed "$TMPD/nodes/$h" >"$TMPD/has.$h" ;;
	esac
	check "first run: $h has every package of its stack installed" \
		sh -c "! grep -vxFf '$TMPD/has.$h' '$TMPD/want.${h%%[0-9]*}'"
	n=$((n + 1))
done
check_ran "every host's packages are looked at" "$n"

# --- what --diff showed in check mode is what the first run wrote ---
# diff_of HOST FILE: the before and after check mode's diff gave for FILE on HOST.
diff_of() {
	jq -r --arg h "$1" --arg f "$2" --arg side "$3" \
		'.[$h].diff[] | select(.after_header == $f) | .[$side]' "$TMPD/check.apply"
}
n=0
for f in /etc/nccl.conf /etc/modprobe.d/gpuprov.conf; do
	diff_of a1 "$f" after >"$TMPD/diff.after"
	# jq -r ends the text with a newline of its own
	check "--diff: a1's $f after is the file the first run wrote" sh -c "printf '\\n' | cat '$TMPD/nodes/a1$f' - | cmp -s - '$TMPD/diff.after'"
	n=$((n + 1))
done
check_ran "the diff's files are looked at" "$n"
diff_of a1 /etc/nccl.conf before >"$TMPD/diff.before"
check "--diff: a1's /etc/nccl.conf before is the admin's file" sh -c "printf '\\n' | cat '$TMPD/nccl.before' - | cmp -s - '$TMPD/diff.before'"
diff_of a1 /etc/modprobe.d/gpuprov.conf before >"$TMPD/diff.before"
check "--diff: a1's new /etc/modprobe.d/gpuprov.conf has nothing before" test "$(cat "$TMPD/diff.before")" = ""

# --- a second run changes none ---
start=$(date +%s)
play second "$TMPD/a1.ini" -e gpuprov_serial=100%
echo "# second run on $(echo $ALL | wc -w) hosts: $(($(date +%s) - start)) s"
check "the second run succeeds" test "$(cat "$TMPD/second.rc")" -eq 0
[ "$(cat "$TMPD/second.rc")" -eq 0 ] || diag_file "$TMPD/second.err"
check_json "the second run changes no host" '[.stats[] | .changed] | length == 8 and all(. == 0)' "$TMPD/second.json"
results second "Apply the profile" >"$TMPD/second.apply"
check_json "the second run reports each host unchanged and no reboot" \
	'length == 8 and ([.[] | select(.changed or .reboot_required or .failed)] | length == 0)' "$TMPD/second.apply"

# --- verify: before the reboot, no verdict, the stack's kernel not running ---
rc=0
ANSIBLE_STDOUT_CALLBACK=ansible.posix.json ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ansible -i "$TMPD/a1.ini" a1 -m gpuprov.fleet.verify \
	-a "root=$TMPD/nodes/a1 sysroot=$APT_MACHINE binary=$TMPD/gpuprov" >"$TMPD/verify.json" 2>"$TMPD/verify.err" || rc=$?
check "the verify module runs" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/verify.err"
running=$(cat "$APT_MACHINE/proc/sys/kernel/osrelease")
check_json "verify: no verdict yet, the stack's kernel is not the running $running, a reboot is pending" \
	"[.plays[].tasks[].hosts.a1][0] | .verdict == null and (.committed | not) and .running_kernel == \"$running\"
	 and .kernel == $(jq '.kernel' "$TMPD/h100.stack") and .reboot_pending and .failed_checks == []" "$TMPD/verify.json"

# --- facts: detect's document as ansible_facts.gpuprov ---
rc=0
ANSIBLE_STDOUT_CALLBACK=ansible.posix.json ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ansible -i "$TMPD/a1.ini" d1 -m gpuprov.fleet.facts \
	-a "root=$TMPD/nodes/d1 sysroot=$DNF_MACHINE binary=$TMPD/gpuprov" >"$TMPD/facts.json" 2>"$TMPD/facts.err" || rc=$?
check "the facts module runs" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/facts.err"
gpuprov --root "$TMPD/nodes/d1" --sysroot "$DNF_MACHINE" detect --json >"$TMPD/detect.json"
# Free space is measured at each call, and the tree's filesystem is the busy host's.
check "facts: ansible_facts.gpuprov is what detect --json prints on the node (free space aside)" \
	jq -e --slurpfile d "$TMPD/detect.json" 'def nofree: walk(if type == "object" then del(.free_bytes) else . end);
		([.plays[].tasks[].hosts.d1][0].ansible_facts.gpuprov | nofree) == ($d[0] | nofree)' "$TMPD/facts.json"

# --- a refused host stops the rollout; the batches after it are not touched ---
# r1's repository lacks the kernel h100-nvlink needs (the only one in its range): the pool
# without it, indexed again.
new_nodes r1 r2 r3 d4 r4
rm "$TMPD/nodes/r1$APT_REPO"/pool/linux-image-6.8.0-49-generic_*.deb
"$srcdir/tests/pkg/make-deb-repo" "$TMPD/nodes/r1$APT_REPO" >"$TMPD/reindex.log" 2>&1 || { cat "$TMPD/reindex.log" >&2; exit 1; }
listing r3 d4 r4 >"$TMPD/later.0"
start=$(date +%s)
play refused "$TMPD/r1.ini" -e gpuprov_serial=2 -e gpuprov_max_fail_percentage=0
echo "# the refused rollout: $(($(date +%s) - start)) s"
check "the rollout fails" test "$(cat "$TMPD/refused.rc")" -ne 0
results refused "Apply the profile" >"$TMPD/refused.apply"
check_json "r1 fails with refused: true and the reasons" \
	'.r1 | .failed and .refused and (.reasons | length) > 0 and (.changed | not)' "$TMPD/refused.apply"
check_json "r1's reasons name the kernel the repository lacks" \
	'.r1.reasons | map(select(test("kernel .*below kernel.min"))) | length > 0' "$TMPD/refused.apply"
check_json "r2, in r1's batch, is applied" '.r2 | .changed and (.failed | not)' "$TMPD/refused.apply"
check_json "no host of a later batch is reached" 'has("r3") or has("d4") or has("r4") | not' "$TMPD/refused.apply"
listing r3 d4 r4 >"$TMPD/later.1"
check "the later batches' trees are byte for byte as they were" cmp -s "$TMPD/later.0" "$TMPD/later.1"
diff "$TMPD/later.0" "$TMPD/later.1" | head -n 20 | diag_file /dev/stdin

done_testing
