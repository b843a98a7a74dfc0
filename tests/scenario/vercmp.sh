#!/bin/sh
# gpuprov's version orders against the package managers' own, on pairs of versions from real
# package lists (tests/vercmp/, see make-versions.py there): dpkg's order against
# `dpkg --compare-versions`, rpm's against rpm's rpm.vercmp (in rpm's Lua, one run for all
# the pairs), and the plain dotted order against both on dotted numbers. gpuprov's answers
# come from tests/helpers/vercmp, which reads the same pairs.
. "$srcdir/tests/scenario/lib.sh"

VERCMP="${TEST_WRAPPER:-} $top_builddir/tests/helpers/vercmp"
DEB="$srcdir/tests/vercmp/versions-deb.txt"
RPM="$srcdir/tests/vercmp/versions-rpm.txt"

# pairs FILE DISTANCE RANDOM: "A B" lines: each version with the next, and up to DISTANCE
# lines on (the list is in byte order, so these share a prefix and differ where the orders
# are subtle: "1.0~rc1" and "1.0", "1.0" and "1.0-1"), then RANDOM pairs drawn with a fixed
# seed.
pairs() {
	awk -v distance="$2" -v n_random="$3" '{ v[NR] = $1 }
	END {
		for (d = 1; d <= distance; d++)
			for (i = 1; i + d <= NR; i++)
				print v[i], v[i + d]
		# Park and Miller'"'"'s generator: exact in any awk (products stay under 2^53),
		# so every awk draws the same pairs.
		s = 20241124
		for (i = 0; i < n_random; i++) {
			s = (s * 16807) % 2147483647
			a = s % NR + 1
			s = (s * 16807) % 2147483647
			print v[a], v[s % NR + 1]
		}
	}' "$1"
}

# dpkg_answers PAIRS: -1, 0 or 1 for each pair by dpkg, "error" where dpkg refused a version.
dpkg_answers() {
	while read -r a b; do
		if dpkg --compare-versions "$a" lt "$b" 2>/dev/null; then
			echo -1
		elif [ $? -ne 1 ]; then
			echo error
		elif dpkg --compare-versions "$a" eq "$b"; then
			echo 0
		else
			echo 1
		fi
	done <"$1"
}

# rpm_answers PAIRS: the same by rpm 4.18's rpm.vercmp (epoch:version-release, as rpm
# compares two packages' EVRs). No '%' in the Lua: rpm would take it for a macro; io.write,
# not print, which rpm gathers into the expansion without the newlines.
rpm_answers() {
	rpm --eval "%{lua:
		for l in io.lines('$1') do
			local sp = l:find(' ', 1, true)
			io.write(rpm.vercmp(l:sub(1, sp - 1), l:sub(sp + 1)), '\n')
		end
	}" | sed '/^$/d'
}

# agree DESCRIPTION PAIRS OURS TOOL THEIRS: one case; the first mismatches, with both
# versions and both answers, as diagnostics.
agree() {
	n=$(wc -l <"$2")
	if [ "$n" -lt 100 ] || [ "$(wc -l <"$3")" -ne "$n" ] || [ "$(wc -l <"$5")" -ne "$n" ]; then
		not_ok "$1"
		echo "# $n pairs, $(wc -l <"$3") answers from gpuprov, $(wc -l <"$5") from $4"
		return
	fi
	paste -d ' ' "$2" "$3" "$5" | awk -v tool="$4" '$3 != $4 {
		if (++bad <= 10)
			printf "%s against %s: gpuprov says %s, %s says %s\n", $1, $2, $3, tool, $4
	}
	END {
		if (bad > 10)
			printf "(and %d more)\n", bad - 10
		exit bad > 0
	}' >"$TMPD/mismatch" && ok "$1" || {
		not_ok "$1"
		diag_file "$TMPD/mismatch"
	}
}

pairs "$DEB" 2 1000 >"$TMPD/deb.pairs"
pairs "$RPM" 2 1500 >"$TMPD/rpm.pairs"
# Dotted numbers: the upstream part of every version that has one ("550.127.05" of
# "3:550.127.05-1.el9"), in byte order.
sed -n 's/^\([0-9]*:\)\{0,1\}\([0-9][0-9.]*[0-9]\)\([^0-9.].*\)\{0,1\}$/\2/p' "$DEB" "$RPM" |
	grep -Ex '[0-9]+(\.[0-9]+)*' | sort -u >"$TMPD/dotted"
pairs "$TMPD/dotted" 1 500 >"$TMPD/dotted.pairs"
for order in dpkg rpm dotted; do
	for list in deb rpm dotted; do
		$VERCMP "$order" <"$TMPD/$list.pairs" >"$TMPD/$list.$order" || echo "# tests/helpers/vercmp $order failed on the $list pairs"
	done
done

if command -v dpkg >/dev/null 2>&1; then
	dpkg_answers "$TMPD/deb.pairs" >"$TMPD/deb.dpkg-tool"
	agree "dpkg's order: $(wc -l <"$TMPD/deb.pairs") pairs of Debian and Ubuntu versions as dpkg --compare-versions orders them" \
		"$TMPD/deb.pairs" "$TMPD/deb.dpkg" "dpkg" "$TMPD/deb.dpkg-tool"
	dpkg_answers "$TMPD/dotted.pairs" >"$TMPD/dotted.dpkg-tool"
	agree "the dotted order: $(wc -l <"$TMPD/dotted.pairs") pairs of dotted numbers as dpkg orders them" \
		"$TMPD/dotted.pairs" "$TMPD/dotted.dotted" "dpkg" "$TMPD/dotted.dpkg-tool"
else
	ok "# SKIP dpkg not found"
	ok "# SKIP dpkg not found"
fi

# rpm.vercmp splits epoch:version-release from rpm 4.18 on; before, it compared whole strings.
if command -v rpm >/dev/null 2>&1 && [ "$(rpm --eval '%{lua: print(rpm.vercmp("1:1.0", "2.0"))}' 2>/dev/null)" = 1 ]; then
	rpm_answers "$TMPD/rpm.pairs" >"$TMPD/rpm.rpm-tool"
	agree "rpm's order: $(wc -l <"$TMPD/rpm.pairs") pairs of RHEL, openEuler, Fedora and NVIDIA versions as rpm.vercmp orders them" \
		"$TMPD/rpm.pairs" "$TMPD/rpm.rpm" "rpm" "$TMPD/rpm.rpm-tool"
	rpm_answers "$TMPD/deb.pairs" >"$TMPD/deb.rpm-tool"
	agree "rpm's order: the Debian and Ubuntu pairs as rpm.vercmp orders them" \
		"$TMPD/deb.pairs" "$TMPD/deb.rpm" "rpm" "$TMPD/deb.rpm-tool"
	rpm_answers "$TMPD/dotted.pairs" >"$TMPD/dotted.rpm-tool"
	agree "the dotted order: the pairs of dotted numbers as rpm orders them" \
		"$TMPD/dotted.pairs" "$TMPD/dotted.dotted" "rpm" "$TMPD/dotted.rpm-tool"
else
	for i in 1 2 3; do
		ok "# SKIP rpm 4.18 or later not found (its Lua rpm.vercmp)"
	done
fi

done_testing
