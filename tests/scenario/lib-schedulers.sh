# Stand-ins for Slurm's scontrol and Kubernetes' kubectl in a target root, for the tests of
# gpuprov's maintenance: each records every call, its argv on one line (a word with a blank
# in double quotes), in /var/log/gpuprov-test/calls, and keeps one node's state in files
# under /var/lib/gpuprov-test/, so that a test sets the node up, runs gpuprov, and reads
# back the exact commands, their order, and what the node became. Sourced after
# lib-apt-target.sh.

# stand_ins ROOT: the two stand-ins and the hooks' stand-in in ROOT/usr/local/{bin,sbin}.
stand_ins() {
	mkdir -p "$1/usr/local/bin" "$1/usr/local/sbin" "$1/var/log/gpuprov-test" "$1/var/lib/gpuprov-test/ann"
	cat >"$1/usr/local/bin/scontrol" <<'EOF'
#!/bin/sh
# scontrol: "show node N --oneliner" and "update nodename=N state=drain|resume [reason=R]",
# answered as Slurm 22.05 does for node $S/name (State= from $S/state, "ALLOCATED" instead of
# "IDLE" while $S/jobs says jobs are left: each show with the node draining ends one).
S=/var/lib/gpuprov-test
line=scontrol
for a in "$@"; do case $a in *" "*) line="$line \"$a\"" ;; *) line="$line $a" ;; esac; done
echo "$line" >>/var/log/gpuprov-test/calls
name=$(cat $S/name)
state=$(cat $S/state)
jobs=$(cat $S/jobs 2>/dev/null || echo 0)
case "$1 $2" in
"show node")
	[ "$3" = "$name" ] || { echo "Node $3 not found" >&2; exit 1; }
	if [ "$jobs" -gt 0 ]; then
		case $state in *DRAIN*) echo $((jobs - 1)) >$S/jobs ;; esac
		state=$(echo "$state" | sed 's/^IDLE/ALLOCATED/')
	fi
	printf 'NodeName=%s Arch=x86_64 CoresPerSocket=32 CPUAlloc=0 CPUTot=128 Gres=gpu:h100:8 State=%s ThreadsPerCore=2 Partitions=gpu' "$name" "$state"
	[ ! -s $S/reason ] || printf ' Reason=%s' "$(cat $S/reason)"
	printf '\n'
	;;
"update nodename=$name")
	shift 2
	for a in "$@"; do
		case $a in
		state=drain) sed -i 's/+DRAIN$//; s/$/+DRAIN/' $S/state ;;
		state=resume)
			# A node slurmctld has not heard from since it started: the drain is
			# cleared, the state refused.
			case $state in UNKNOWN*)
				echo UNKNOWN+NOT_RESPONDING >$S/state; : >$S/reason
				echo "slurm_update error: Invalid node state specified" >&2; exit 1 ;;
			esac
			echo IDLE >$S/state; : >$S/reason ;;
		reason=*) echo "${a#reason=} [root@2026-12-07T01:00:00]" >$S/reason ;;
		*) echo "unknown $a" >&2; exit 1 ;;
		esac
	done
	;;
*) echo "scontrol stand-in: unexpected $*" >&2; exit 1 ;;
esac
EOF
	cat >"$1/usr/local/bin/kubectl" <<'EOF'
#!/bin/sh
# kubectl [--kubeconfig K]: "get node N -o json", "annotate [--overwrite] node N K=V|K-",
# "cordon N", "uncordon N", "drain N ...", for node $S/name: spec.unschedulable in
# $S/unschedulable, each annotation a file of $S/ann (its key's "/" as "_"); a drain fails
# while $S/drain-fails exists.
S=/var/lib/gpuprov-test
line=kubectl
for a in "$@"; do case $a in *" "*) line="$line \"$a\"" ;; *) line="$line $a" ;; esac; done
echo "$line" >>/var/log/gpuprov-test/calls
[ "$1" != --kubeconfig ] || shift 2
name=$(cat $S/name)
case $1 in
get)
	[ "$3" = "$name" ] || { echo "Error from server (NotFound): nodes \"$3\" not found" >&2; exit 1; }
	printf '{"apiVersion":"v1","kind":"Node","metadata":{"name":"%s","annotations":{"node.alpha.kubernetes.io/ttl":"0"' "$name"
	for f in $S/ann/*; do
		[ -e "$f" ] || continue
		printf ',"%s":"%s"' "$(basename "$f" | tr _ /)" "$(sed 's/[\\"]/\\&/g' "$f")"
	done
	printf '}},"spec":{"unschedulable":%s}}\n' "$(cat $S/unschedulable)"
	;;
annotate)
	shift
	[ "$1" != --overwrite ] || shift
	[ "$1 $2" = "node $name" ] || exit 1
	shift 2
	for a in "$@"; do
		case $a in
		*-) rm -f "$S/ann/$(echo "${a%-}" | tr / _)" ;;
		*=*) printf '%s' "${a#*=}" >"$S/ann/$(echo "${a%%=*}" | tr / _)" ;;
		esac
	done
	;;
cordon) echo true >$S/unschedulable ;;
uncordon) echo false >$S/unschedulable ;;
drain) [ ! -e $S/drain-fails ] || { echo "error: cannot evict pod as it would violate the pod's disruption budget" >&2; exit 1; } ;;
*) echo "kubectl stand-in: unexpected $*" >&2; exit 1 ;;
esac
EOF
	cat >"$1/usr/local/sbin/site-hook" <<'EOF'
#!/bin/sh
# A site's hook: records its argv and gpuprov's variables; exits 1 while
# /var/lib/gpuprov-test/hook-fails exists.
echo "site-hook $* phase=$GPUPROV_PHASE run=$GPUPROV_RUN_ID node=$GPUPROV_NODE profile=$GPUPROV_PROFILE reason=$GPUPROV_REASON" >>/var/log/gpuprov-test/calls
[ ! -e /var/lib/gpuprov-test/hook-fails ]
EOF
	chmod 755 "$1/usr/local/bin/scontrol" "$1/usr/local/bin/kubectl" "$1/usr/local/sbin/site-hook"
	echo gpu-a-017 >"$1/var/lib/gpuprov-test/name"
	echo IDLE >"$1/var/lib/gpuprov-test/state"
	echo false >"$1/var/lib/gpuprov-test/unschedulable"
}

# node_set FILE VALUE: the stand-ins' node state in the current target.
node_set() {
	printf '%s\n' "$2" >"$CH/var/lib/gpuprov-test/$1"
}
node_get() {
	cat "$CH/var/lib/gpuprov-test/$1"
}

# calls: the commands the stand-ins and the hook recorded since calls was last called.
calls() {
	cat "$CH/var/log/gpuprov-test/calls" 2>/dev/null
	: >"$CH/var/log/gpuprov-test/calls"
}
