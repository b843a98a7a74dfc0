#!/bin/sh
# apt's lists of another architecture than the node's (dpkg --add-architecture arm64 on an
# amd64 node), and another architecture's packages in a list of several (a flat
# repository's): offered to apt, never installed by it for the stack, so never offered to
# the resolver. The same newer kernel as the node's own architecture changes the plan (the
# control case); as another architecture's it does not.
. "$srcdir/tests/scenario/lib.sh"
. "$srcdir/tests/scenario/lib-lists.sh"

SUITE=archive.ubuntu.com_ubuntu_dists_jammy-updates_main

# kernel ARCH: stanzas of a newer kernel than any the node is offered, with its modules and
# NVIDIA's precompiled modules for the driver the plan picks.
kernel() {
	for p in linux-image-6.8.0-60-generic linux-modules-6.8.0-60-generic linux-headers-6.8.0-60-generic \
		linux-modules-nvidia-580-server-open-6.8.0-60-generic; do
		printf 'Package: %s\nArchitecture: %s\nVersion: 6.8.0-60.63~22.04.1\nPriority: optional\n\n' "$p" "$1"
	done
}

lists_base
base=$TMPD/base

n=0
for where in "${SUITE}_binary-amd64_Packages" local_Packages; do
	root=$TMPD/native-$n
	cp -a "$base" "$root"
	kernel amd64 >>"$root/$LISTS/$where"
	plan_json "$root" "$TMPD/native.json"
	differ "the newer kernel for amd64 in $where changes the plan" "$TMPD/plain.json" "$TMPD/native.json"
	n=$((n + 1))
done

# Another architecture's list, as apt names it, and another architecture's stanzas in a
# list of several.
for case in "list:${SUITE}_binary-arm64_Packages" "stanza:local_Packages"; do
	root=$TMPD/foreign-$n
	cp -a "$base" "$root"
	kernel arm64 >>"$root/$LISTS/${case#*:}"
	plan_json "$root" "$TMPD/foreign.json"
	same_plan "arm64's newer kernel (${case%%:*}, ${case#*:}): not offered on the amd64 node" \
		"$TMPD/plain.json" "$TMPD/foreign.json"
	n=$((n + 1))
done
check_ran "lists and stanzas of both architectures" "$n"

# A list of arm64 whose stanzas say amd64 (a repository that lies in one place or the other)
# is still arm64's: apt reads it for arm64 only.
root=$TMPD/named
cp -a "$base" "$root"
kernel amd64 >"$root/$LISTS/${SUITE}_binary-arm64_Packages"
plan_json "$root" "$TMPD/named.json"
same_plan "a list named for arm64 is not read on the amd64 node, whatever its stanzas say" \
	"$TMPD/plain.json" "$TMPD/named.json"

done_testing
