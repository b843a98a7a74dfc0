#!/bin/sh
# A run killed after any step, or with dpkg killed inside its transaction, then run again,
# ends with exactly the tree and the gpuprov state of a run never interrupted; revert after
# a killed run puts back every file as it was; one run at a time; status tells what
# happened. On the apt target of lib-apt-target.sh, with the real apt and dpkg.
. "${srcdir}/tests/scenario/lib.sh"
. "${srcdir}/tests/scenario/lib-apt-target.sh"

command -v systemctl >/dev/null 2>&1 || skip_all "systemctl not found"
apt_target linux-image-5.15.0-105-generic=5.15.0-105.115 linux-modules-5.15.0-105-generic=5.15.0-105.115 linux-generic
# A file of the admin's at a path gpuprov shares: only gpuprov's own lines may change.
printf 'NCCL_DEBUG=WARN\n' >"$CH/etc/nccl.conf"
chmod 0640 "$CH/etc/nccl.conf"

# The dpkg kill's gate: the fabric manager's package of the stack, rebuilt with a postinst
# that, when the test has made the fifo /run/gpuprov-test-gate, says so through it and
# waits there to be killed; without the fifo it goes on as before. Every run below installs
# this same package, the uninterrupted one too.
GATE=run/gpuprov-test-gate
gate_deb="$CH$REPO/pool/nvidia-fabricmanager-580_$(h100_stack | awk '$1 == "nvidia-fabricmanager-580" { print $2 }')_$(dpkg --print-architecture).deb"
dpkg-deb -R "$gate_deb" "$TMPD/gate"
{
	printf '#!/bin/sh\n'
	printf 'if [ -p /%s ]; then echo "$DPKG_MAINTSCRIPT_PACKAGE postinst $1" >/%s; sleep 600; fi\n' "$GATE" "$GATE"
	[ ! -f "$TMPD/gate/DEBIAN/postinst" ] || sed 1d "$TMPD/gate/DEBIAN/postinst"
} >"$TMPD/postinst"
install -m 755 "$TMPD/postinst" "$TMPD/gate/DEBIAN/postinst"
dpkg-deb -b "$TMPD/gate" "$gate_deb" >/dev/null
"$srcdir/tests/pkg/make-deb-repo" "$CH$REPO" >"$TMPD/reindex.log" 2>&1 || { cat "$TMPD/reindex.log" >&2; exit 1; }
in_target apt-get update -q >/dev/null
target_keep

# node_tree DIR: what a run leaves on the node that matters: the packages and their
# selections, every file under etc and boot, the kernels' modules, /usr/local; not logs or
# caches.
node_tree() {
	(
		cd "$1" || exit 1
		chroot . dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev} ${Status}\n'
		cat var/lib/apt/extended_states 2>/dev/null
		find etc boot usr/lib/modules usr/local \( -type f -o -type l \) ! -path 'etc/ld.so.cache' -printf '%p %m %l\n' | sort
		find etc boot usr/lib/modules usr/local -type f ! -path 'etc/ld.so.cache' -exec sha256sum {} + | sort -k2
	)
}

# gpuprov_state DIR: gpuprov's own record under var/lib/gpuprov: state.json (with the node
# before the switch, previous_stack) and every backup, with its mode and content. Times,
# the boot id and pids are masked: they differ from run to run. The journal is left out:
# it is the last run's own list of steps.
gpuprov_state() {
	(
		cd "$1/var/lib/gpuprov" 2>/dev/null || exit 0
		[ ! -e state.json ] || jq -S 'walk(if type == "object" then with_entries(
			if (.key | test("^(applied|recorded|started|finished|at|boot_id|pid)$")) and (.value | type) != "object"
			then .value = "(masked)" else . end) else . end)' state.json
		find . ! -path ./state.json ! -path ./journal.json \( -type f -o -type l \) -printf '%p %m %l\n' | sort
		find . ! -path ./state.json ! -path ./journal.json -type f -exec sha256sum {} + | sort -k2
	)
}

# tree DIR: the node and gpuprov's record of it.
tree() {
	node_tree "$1"
	gpuprov_state "$1"
}

# --- the run never interrupted ---
target_fresh
rc=0
gp apply h100-nvlink --yes --json >"$TMPD/ref.json" 2>"$TMPD/ref.err" || rc=$?
check "the uninterrupted run exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/ref.err"
tree "$CH" >"$TMPD/tree.ref"
cp "$CH/var/lib/gpuprov/journal.json" "$TMPD/journal.ref"
steps=$(jq '.steps | length' "$TMPD/journal.ref")
check "the journal lists the steps, all done" jqt '(.steps | length) > 5 and all(.steps[]; .done) and .finished != null' \
	"$CH/var/lib/gpuprov/journal.json"
gp status --json >"$TMPD/status.json"
check_json "status: applied, by h100-nvlink, reboot pending" \
	'.state == "applied" and .applied.profile == "h100-nvlink" and .reboot_pending' "$TMPD/status.json"
check "apply flags the reboot the Debian way" test -f "$CH/run/reboot-required"
check "the admin's NCCL line is kept" grep -qx "NCCL_DEBUG=WARN" "$CH/etc/nccl.conf"
check "gpuprov's NCCL lines are added" grep -q "^NCCL_IB_HCA=mlx5_0" "$CH/etc/nccl.conf"

# --- killed after every step, then run again ---
n=1
while [ "$n" -le "$steps" ]; do
	target_fresh
	rc=0
	GPUPROV_TEST_ABORT_AFTER=$n gp apply h100-nvlink --yes >/dev/null 2>&1 || rc=$?
	label=$(jq -r ".steps[$((n - 1))].step" "$CH/var/lib/gpuprov/journal.json" 2>/dev/null)
	check "killed after step $n ($label)" test "$rc" -eq 137
	gp status --json >"$TMPD/status.json"
	check_json "status after step $n: interrupted" '.state == "interrupted"' "$TMPD/status.json"
	rc=0
	gp apply h100-nvlink --yes >"$TMPD/rerun.out" 2>&1 || rc=$?
	tree "$CH" >"$TMPD/tree.$n"
	if [ "$rc" -eq 0 ] && cmp -s "$TMPD/tree.ref" "$TMPD/tree.$n"; then
		ok "killed after step $n, the next run converges to the uninterrupted tree"
	else
		not_ok "killed after step $n, the next run converges to the uninterrupted tree"
		diag_file "$TMPD/rerun.out"
		diff "$TMPD/tree.ref" "$TMPD/tree.$n" | head -20 | diag_file /dev/stdin
	fi
	gp status --json >"$TMPD/status.json"
	check_json "killed after step $n, run again: status says applied" '.state == "applied"' "$TMPD/status.json"
	n=$((n + 1))
done
check_ran "a kill is checked after every step" "$((n - 1))"

# --- killed after any step, then revert: every file gpuprov wrote is as it was ---
# reverted_view DIR: the files under etc and boot that revert answers for: every file the
# node had before gpuprov, and every new one that is not a package's (dpkg's lists), an
# alternative's or an enabled unit's link. Revert leaves the packages, what their scripts
# made, the services and GRUB's environment block (the boot-once entry) as apply left them.
owned() {
	sed 's|^/||' "$1"/var/lib/dpkg/info/*.list | sort -u
}
owned "$PRISTINE" >"$TMPD/owned.pristine"
reverted_view() {
	owned "$1" | comm -23 - "$TMPD/owned.pristine" >"$TMPD/owned.new"
	(
		cd "$1" || exit 1
		find etc boot \( -type f -o -type l \) ! -path etc/ld.so.cache ! -path boot/grub/grubenv | sort |
			comm -23 - "$TMPD/owned.new" | grep -v -e '^etc/alternatives/' -e '^etc/systemd/system/[^/]*\.wants/' |
			while read -r f; do
				if [ -f "$f" ] && [ ! -L "$f" ]; then
					echo "$f $(stat -c %a "$f") $(sha256sum <"$f" | cut -d' ' -f1)"
				else
					echo "$f -> $(readlink "$f")"
				fi
			done
	)
}
reverted_view "$PRISTINE" >"$TMPD/view.pristine"
node_tree "$PRISTINE" >"$TMPD/node.pristine"
# The steps before the packages': a revert there must give back the whole node.
install_step=$(jq '[.steps[].step] | index("install (apt)") + 1' "$TMPD/journal.ref")
check "the journal has the package step" test "$install_step" -gt 1
n=1
while [ "$n" -le "$steps" ]; do
	target_fresh
	GPUPROV_TEST_ABORT_AFTER=$n gp apply h100-nvlink --yes >/dev/null 2>&1 || true
	rc=0
	gp revert >"$TMPD/revert.out" 2>&1 || rc=$?
	reverted_view "$CH" >"$TMPD/view.$n"
	if [ "$rc" -eq 0 ] && cmp -s "$TMPD/view.pristine" "$TMPD/view.$n"; then
		ok "killed after step $n, revert puts back every file as it was"
	else
		not_ok "killed after step $n, revert puts back every file as it was"
		diag_file "$TMPD/revert.out"
		diff "$TMPD/view.pristine" "$TMPD/view.$n" | head -20 | diag_file /dev/stdin
	fi
	if [ "$n" -lt "$install_step" ]; then
		node_tree "$CH" >"$TMPD/node.$n"
		check "killed after step $n, before the packages: revert leaves the node as it was" \
			cmp -s "$TMPD/node.pristine" "$TMPD/node.$n"
		diff "$TMPD/node.pristine" "$TMPD/node.$n" | head -20 | diag_file /dev/stdin
	fi
	n=$((n + 1))
done
check_ran "revert is checked after a kill at every step" "$((n - 1))"

# --- dpkg killed inside its transaction ---
# The run gets a process group of its own; when the gated postinst says it has been reached
# the whole group is killed, as a power cut or the OOM killer would end apt, dpkg and the
# script together. The next apply must finish dpkg's work (dpkg --configure -a) and end
# where the uninterrupted run did.
target_fresh
mkdir -p "$CH/run"
mkfifo "$CH/$GATE"
setsid ${TEST_WRAPPER:-} "$GPUPROV" --root "$CH" --sysroot "$MACHINE" --profiles "$srcdir/profiles" \
	apply h100-nvlink --yes >"$TMPD/gated.out" 2>&1 &
pid=$!
rc=0
timeout 300 cat "$CH/$GATE" >"$TMPD/gate.said" 2>&1 || rc=$?
check "the gated postinst is reached" sh -c "[ $rc -eq 0 ] && grep -qx 'nvidia-fabricmanager-580 postinst configure' '$TMPD/gate.said'"
check "the run leads a process group of its own" test "$(cut -d' ' -f5 "/proc/$pid/stat" 2>/dev/null)" = "$pid"
kill -KILL "-$pid"
rc=0
wait "$pid" || rc=$?
check "gpuprov was killed (SIGKILL)" test "$rc" -eq 137
# Zombies aside (their reaper may take a moment), no process of the group runs on. A killed
# process can take a moment to be gone on a loaded machine (dpkg's and apt's mount namespace,
# which holds a copy of every mount, torn down as it exits): up to 10 s.
group_left() {
	ps -o pid=,stat=,args= -g "$pid" | awk '$2 !~ /^Z/'
}
w=0
while [ -n "$(group_left)" ] && [ "$w" -lt 100 ]; do
	sleep 0.1
	w=$((w + 1))
done
group_left >"$TMPD/group.left"
check "nothing of its process group is left running" test ! -s "$TMPD/group.left"
diag_file "$TMPD/group.left"
rm -f "$CH/$GATE"
check "dpkg was killed inside its transaction: the package is half configured" \
	sh -c "chroot '$CH' dpkg-query -W -f='\${db:Status-Status}' nvidia-fabricmanager-580 | grep -qx half-configured"
check "dpkg --audit names what is left to finish" sh -c "chroot '$CH' dpkg --audit | grep -q nvidia-fabricmanager-580"
gp status --json >"$TMPD/status.json"
check_json "status after the dpkg kill: interrupted" '.state == "interrupted"' "$TMPD/status.json"
rc=0
gp apply h100-nvlink --yes >"$TMPD/recover.out" 2>&1 || rc=$?
check "the next apply finishes dpkg's work and exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/recover.out"
check "dpkg has nothing left to finish" sh -c "[ -z \"\$(chroot '$CH' dpkg --audit)\" ]"
tree "$CH" >"$TMPD/tree.dpkg"
check "after the dpkg kill, the next run converges to the uninterrupted tree and state" cmp -s "$TMPD/tree.ref" "$TMPD/tree.dpkg"
diff "$TMPD/tree.ref" "$TMPD/tree.dpkg" | head -20 | diag_file /dev/stdin

# --- one run at a time ---
target_fresh
exec 9>"$CH/run/gpuprov.lock" 2>/dev/null || { mkdir -p "$CH/run"; exec 9>"$CH/run/gpuprov.lock"; }
echo 4242 >&9
flock -x 9
rc=0
gp apply h100-nvlink --yes >"$TMPD/locked.out" 2>"$TMPD/locked.err" || rc=$?
check "a second run refuses at once with exit 3" test "$rc" -eq 3
check "it names the holder's pid" grep -q "pid 4242" "$TMPD/locked.err"
gp status --json >"$TMPD/status.json"
check_json "status: running, with the pid" '.state == "running" and .running_pid == 4242' "$TMPD/status.json"
exec 9>&-
check "nothing was installed meanwhile" sh -c "! chroot '$CH' dpkg-query -W nvidia-fabricmanager-580 >/dev/null 2>&1"

# --- revert: every managed file as it was, byte for byte ---
gp apply h100-nvlink --yes --json >"$TMPD/apply.json" 2>/dev/null
jq -r '.done[] | select(startswith("wrote ")) | ltrimstr("wrote ")' "$TMPD/apply.json" >"$TMPD/written"
check "apply wrote the managed files" test "$(wc -l <"$TMPD/written")" -ge 8
# A managed file edited by hand: the plan shows the difference, apply puts the profile's
# content back, and the backup still holds what was there before gpuprov.
cp "$CH/etc/sysctl.d/90-gpuprov.conf" "$TMPD/sysctl.good"
echo "vm.swappiness = 1" >>"$CH/etc/sysctl.d/90-gpuprov.conf"
gp plan h100-nvlink >"$TMPD/edited.plan"
check "an edited managed file: the plan shows the line to take out" grep -q -- "-vm.swappiness = 1" "$TMPD/edited.plan"
gp apply h100-nvlink --yes --json >"$TMPD/edited.json" 2>/dev/null
check_json "an edited managed file: apply writes it again, and only it" \
	'.done == ["wrote /etc/sysctl.d/90-gpuprov.conf"]' "$TMPD/edited.json"
check "an edited managed file: its content is the profile's again" cmp -s "$TMPD/sysctl.good" "$CH/etc/sysctl.d/90-gpuprov.conf"
tree "$CH" >"$TMPD/tree.dry0"
gp revert --dry-run >"$TMPD/revert-dry.out" 2>&1
check "revert --dry-run says what it would restore" grep -q "would restore /etc/nccl.conf" "$TMPD/revert-dry.out"
tree "$CH" >"$TMPD/tree.dry1"
check "revert --dry-run changes nothing" cmp -s "$TMPD/tree.dry0" "$TMPD/tree.dry1"
rc=0
gp revert --json >"$TMPD/revert.json" 2>"$TMPD/revert.err" || rc=$?
check "revert exits 0" test "$rc" -eq 0
while read -r f; do
	if [ -e "$PRISTINE$f" ]; then
		check "revert: $f has its content and mode again" sh -c \
			"cmp -s '$PRISTINE$f' '$CH$f' && [ \"\$(stat -c %a '$PRISTINE$f')\" = \"\$(stat -c %a '$CH$f')\" ]"
	else
		check "revert: $f, which gpuprov created, is gone" test ! -e "$CH$f"
	fi
done <"$TMPD/written"
gp status --json >"$TMPD/status.json"
check_json "status: reverted" '.state == "reverted"' "$TMPD/status.json"
rc=0
gp revert >"$TMPD/revert2.out" 2>&1 || rc=$?
check "a second revert has nothing to do" sh -c "[ $rc -eq 0 ] && grep -q 'Nothing to revert' '$TMPD/revert2.out'"

# --- a journal that cannot be read ---
echo '{ "steps": [ {"step": "install (apt)", "do' >"$CH/var/lib/gpuprov/journal.json"
rc=0
gp status >"$TMPD/corrupt.out" 2>"$TMPD/corrupt.err" || rc=$?
check "status on a corrupt journal: exit 1 naming the file" sh -c "[ $rc -eq 1 ] && grep -q 'journal.json' '$TMPD/corrupt.err'"
rc=0
gp apply h100-nvlink --yes >"$TMPD/corrupt-apply.out" 2>&1 || rc=$?
check "apply on a corrupt journal plans from the machine and succeeds" test "$rc" -eq 0
check "and leaves a journal that reads again" jqt '.finished != null' "$CH/var/lib/gpuprov/journal.json"

# --- a read-only /etc: refused before anything changes ---
target_fresh
if unshare -m true 2>/dev/null; then
	tree "$CH" >"$TMPD/tree.ro0"
	rc=0
	GP_ROOT=$CH unshare -m sh -c 'mount --bind "$GP_ROOT/etc" "$GP_ROOT/etc" &&
		mount -o remount,bind,ro "$GP_ROOT/etc" && exec "$@"' sh \
		${TEST_WRAPPER:-} "$GPUPROV" --root "$CH" --sysroot "$MACHINE" --profiles "$srcdir/profiles" \
		apply h100-nvlink --yes >"$TMPD/ro.out" 2>"$TMPD/ro.err" || rc=$?
	check "a read-only /etc: refused with exit 3" test "$rc" -eq 3
	[ "$rc" -eq 3 ] || diag_file "$TMPD/ro.err"
	check "the refusal names the file and the read-only filesystem" grep -q "/etc/.* cannot be written: its filesystem is mounted read-only" "$TMPD/ro.err"
	tree "$CH" >"$TMPD/tree.ro1"
	check "nothing was installed or written" cmp -s "$TMPD/tree.ro0" "$TMPD/tree.ro1"
else
	ok "# SKIP a read-only /etc: no mount namespaces here"
fi

done_testing
