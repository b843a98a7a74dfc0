#!/bin/sh
# The Debian package, as built by scripts/build-packages (CI passes its path in
# GPUPROV_TEST_DEB): its fields and contents; then installed with apt into a Debian bookworm
# chroot (tests/pkg/debian-chroot) whose runtime libraries come from the Debian archive
# (GPUPROV_DEBIAN_MIRROR), where the installed gpuprov runs detect on the chroot itself and
# on a fake machine copied in (the same facts as the expected output), lists the shipped
# profiles from their installed place with no --profiles, leaves its units disabled; then
# purged. Skips without the package, without root, or when the archive cannot be reached.
. "$srcdir/tests/scenario/lib.sh"

PATH=$PATH:/usr/sbin:/sbin
deb=${GPUPROV_TEST_DEB:-}
mirror=${GPUPROV_DEBIAN_MIRROR:-http://deb.debian.org/debian}
CH=$TMPD/chroot

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

in_target() {
	chroot "$CH" env DEBIAN_FRONTEND=noninteractive LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

[ -n "$deb" ] || skip_all "no package to test (GPUPROV_TEST_DEB; scripts/build-packages makes one)"
[ -f "$deb" ] || skip_all "GPUPROV_TEST_DEB: $deb: no such file"
[ -z "${TEST_WRAPPER:-}" ] || skip_all "a cross build: the package is the build machine's"
command -v dpkg-deb >/dev/null 2>&1 || skip_all "dpkg-deb not found"
[ "$(id -u)" -eq 0 ] || skip_all "needs root (chroot, dpkg)"

# The package itself. The version is configure's, the one the program reports.
version=$(gpuprov --version | sed -n 's/^gpuprov //p')
dpkg-deb -f "$deb" >"$TMPD/fields"
check "Package: gpuprov" grep -qx "Package: gpuprov" "$TMPD/fields"
check "Version: $version-N (configure's version)" grep -qE "^Version: $version-[0-9]+\$" "$TMPD/fields"
for lib in libblkid1 libcjson1; do
	check "Depends on $lib (from the shared libraries)" grep -qE "^Depends: (.*[ ,])?$lib( |,|\$)" "$TMPD/fields"
done
# Loaded with dlopen on use, which dpkg-shlibdeps does not see: declared in debian/control.
for lib in libcurl4 libarchive13 libkmod2 libssl3; do
	check "Depends on $lib (loaded on use, declared)" grep -qE "^Depends: (.*[ ,])?$lib( |,|\$)" "$TMPD/fields"
done
# The RPM built beside it (scripts/build-packages), where rpm can read it: the same four,
# which rpm's dependency generator does not see either, required by the spec.
rpmfile=$(ls "$(dirname "$deb")"/gpuprov-*.rpm 2>/dev/null | grep -v '\.src\.rpm$' | head -n 1)
if [ -n "$rpmfile" ] && command -v rpm >/dev/null 2>&1; then
	rpm -qp --requires "$rpmfile" >"$TMPD/requires" 2>/dev/null
	for lib in libcurl libarchive kmod-libs openssl-libs; do
		check "the RPM requires $lib (loaded on use, declared)" grep -qE "^$lib(\(|[[:space:]]|\$)" "$TMPD/requires"
	done
else
	ok "# SKIP no RPM beside $deb, or no rpm to read one"
fi
check "Recommends apt and grub-common" sh -c 'grep "^Recommends:" "$1" | grep -qw apt && grep "^Recommends:" "$1" | grep -qw grub-common' sh "$TMPD/fields"
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' >"$TMPD/contents"
for p in /usr/sbin/gpuprov /usr/share/gpuprov/profiles/knowledge.json \
	/usr/share/gpuprov/profiles/gpuprov-profile.schema.json /usr/share/man/man8/gpuprov.8.gz \
	/usr/share/man/man5/gpuprov-profile.5.gz /usr/share/man/man5/gpuprov-knowledge.5.gz \
	/usr/share/gpuprov/profiles/gpuprov-knowledge.schema.json /etc/gpuprov/profiles /etc/gpuprov/keys.d /var/cache/gpuprov \
	/usr/share/bash-completion/completions/gpuprov; do
	check "the package holds $p" grep -qx "$p" "$TMPD/contents"
done
for p in $(shipped_profiles); do
	check "the package holds the shipped profile $p" grep -qx "/usr/share/gpuprov/profiles/$p.json" "$TMPD/contents"
done
check "the package holds gpuprov-verify.service in a systemd unit directory" \
	grep -qE '^(/usr)?/lib/systemd/system/gpuprov-verify.service$' "$TMPD/contents"

# A bookworm chroot with the Debian archive as its source, for the libraries.
rc=0
"$srcdir/tests/pkg/debian-chroot" "$CH" 2>"$TMPD/chroot.err" || rc=$?
[ "$rc" -eq 77 ] && skip_all "$(tail -n 1 "$TMPD/chroot.err")"
if [ "$rc" -ne 0 ]; then
	echo "Bail out! cannot make the chroot: $(tail -n 1 "$TMPD/chroot.err")"
	exit 1
fi
echo "deb $mirror bookworm main" >"$CH/etc/apt/sources.list"
cp /etc/resolv.conf "$CH/etc/resolv.conf" 2>/dev/null || true
if ! in_target apt-get update -q >"$TMPD/update.out" 2>&1; then
	# The cases above stand; the installation needs the archive.
	ok "# SKIP the Debian archive ($mirror) cannot be reached: $(tail -n 1 "$TMPD/update.out")"
	done_testing
	exit
fi
cp "$deb" "$CH/tmp/gpuprov.deb"
if in_target apt-get install -y -q --no-install-recommends /tmp/gpuprov.deb >"$TMPD/install.out" 2>&1; then
	ok "apt-get install ./gpuprov.deb in bookworm (its libraries from the archive)"
else
	not_ok "apt-get install ./gpuprov.deb in bookworm"
	diag_file "$TMPD/install.out"
	done_testing
	exit 1
fi
check "dpkg says gpuprov $version is installed" \
	sh -c '[ "$(chroot "$1" dpkg-query -W -f="\${db:Status-Status} \${Version}" gpuprov)" = "installed $2-1" ]' sh "$CH" "$version"
check "gpuprov --version" sh -c '[ "$(chroot "$1" gpuprov --version)" = "gpuprov $2" ]' sh "$CH" "$version"

# detect on the chroot itself: no /proc, /sys there, so mostly unknowns, but no failure.
if in_target gpuprov detect >"$TMPD/detect.txt" 2>"$TMPD/detect.err"; then
	ok "gpuprov detect runs in the chroot (exit 0)"
else
	not_ok "gpuprov detect in the chroot"
	diag_file "$TMPD/detect.err"
fi
in_target gpuprov detect --json >"$TMPD/detect.json" 2>/dev/null
check_json "gpuprov detect --json: the chroot's OS is Debian 12" '.os.id == "debian" and .os.version_id == "12"' "$TMPD/detect.json"

# A fake machine copied in: the packaged program gives the expected facts.
cp -a "$srcdir/tests/machines/dgx-h100/root" "$CH/srv/machine"
if in_target gpuprov --root /srv/machine detect --json >"$TMPD/raw.json" 2>"$TMPD/err"; then
	ok "gpuprov --root /srv/machine detect --json (dgx-h100)"
else
	not_ok "gpuprov --root /srv/machine detect --json (dgx-h100)"
	diag_file "$TMPD/err"
fi
sed -E 's/("(free|total)_bytes":[[:space:]]*)[0-9]+/\1"(masked)"/' "$TMPD/raw.json" >"$TMPD/got.json"
if diff -u "$srcdir/tests/machines/dgx-h100/detect.json" "$TMPD/got.json" >"$TMPD/diff"; then
	ok "... the facts are tests/machines/dgx-h100/detect.json"
else
	not_ok "... the facts differ from tests/machines/dgx-h100/detect.json"
	diag_file "$TMPD/diff"
fi

# The chroot as the target, the fake machine's hardware: its 8 GPUs on a Debian 12 root.
in_target gpuprov --root / --sysroot /srv/machine detect --json >"$TMPD/sysroot.json" 2>"$TMPD/err"
check "gpuprov --root / --sysroot /srv/machine detect --json (exit 0)" test "$?" -eq 0
check_json "... the machine's 8 GPUs, the chroot's Debian 12" \
	'(.pci.gpus | length) == 8 and .os.id == "debian" and .os.version_id == "12"' "$TMPD/sysroot.json"

# The shipped profiles, found where the package put them (no --profiles).
in_target gpuprov --root /srv/machine profiles >"$TMPD/profiles" 2>"$TMPD/profiles.err"
check "gpuprov profiles reads the installed profiles (exit 0)" test "$?" -eq 0
check "... h100-nvlink fits the DGX H100" grep -qE '^h100-nvlink +shipped +fits' "$TMPD/profiles"

# The units are installed, and none is enabled: apply enables verify's when it switches, and
# the CDI one where the profile wants CDI.
for u in gpuprov-verify.service gpuprov-firstboot.service gpuprov-cdi.service gpuprov-gpu.service; do
	if grep -qE "^(/usr)?/lib/systemd/system/$u\$" "$TMPD/contents"; then
		check "$u is not enabled by the installation" \
			sh -c '! ls "$1"/etc/systemd/system/*.wants/"$2" >/dev/null 2>&1' sh "$CH" "$u"
	fi
done

# plan on the chroot (its apt lists from the update above) keeps the index of the lists in
# the package's cache directory; a second plan, through it, is the same plan.
in_target gpuprov --root / plan no-gpu --json >"$TMPD/plan1.json" 2>"$TMPD/plan1.err"
echo $? >"$TMPD/plan1.rc"
check "plan keeps the index of apt's lists in /var/cache/gpuprov" test -s "$CH/var/cache/gpuprov/repo-view.idx"
in_target gpuprov --root / plan no-gpu --json >"$TMPD/plan2.json" 2>"$TMPD/plan2.err"
echo $? >"$TMPD/plan2.rc"
check "... a plan through the index is the same plan" \
	sh -c 'cmp -s "$1/plan1.json" "$1/plan2.json" && cmp -s "$1/plan1.rc" "$1/plan2.rc"' sh "$TMPD"

# Purge: the program, the profiles and the site directories go.
if in_target dpkg --purge gpuprov >"$TMPD/purge.out" 2>&1; then
	ok "dpkg --purge gpuprov"
else
	not_ok "dpkg --purge gpuprov"
	diag_file "$TMPD/purge.out"
fi
check "nothing of gpuprov is left in /usr, /etc or /var/cache" \
	sh -c '[ ! -e "$1/usr/sbin/gpuprov" ] && [ ! -e "$1/usr/share/gpuprov" ] && [ ! -e "$1/etc/gpuprov" ] &&
		[ ! -e "$1/var/cache/gpuprov" ]' sh "$CH"

# scripts/build-packages, which made the package: an architecture dpkg does not know is
# refused before anything is built or written.
rc=0
"$srcdir/scripts/build-packages" --deb --host-arch nonsense "$TMPD/none.tar.gz" "$TMPD/bp" >/dev/null 2>"$TMPD/bp.err" || rc=$?
check "build-packages --host-arch nonsense: exit 2" test "$rc" -eq 2
check "and says why" grep -q "^build-packages: --host-arch nonsense: not an architecture dpkg knows" "$TMPD/bp.err"
check "and writes nothing" test ! -e "$TMPD/bp"

done_testing
