#!/bin/sh
# libcurl, libarchive, libkmod and libcrypto are loaded when a verb first fetches, unpacks,
# hashes or checks a signature, or detect reads a compressed module (src/util/dynlib.h), never
# linked: the program does not name them among the libraries it needs; detect, plan on plain
# lists, check and status on a machine of plain modules never map them, as the dynamic
# linker's own record shows, while a plan on compressed lists maps libarchive, a bundle
# libarchive and libcrypto, one fetched from a URL libcurl, and detect on a machine whose
# nvidia module is compressed libkmod. Then with a copy of one that loads but lacks its
# functions, or that is not a library at all, found first through LD_LIBRARY_PATH: the verbs
# that need it stop with exit 6, a message naming the library, what needed it and the package
# to install, and nothing changed on the root; detect, and a plan on plain lists, still work,
# and detect without libkmod says once what it could not read.
. "$srcdir/tests/scenario/lib.sh"

GPUPROV_TODAY=2026-11-21
export GPUPROV_TODAY
: "${CURL_SONAME:?CURL_SONAME is not set (run the tests through make check)}"
: "${ARCHIVE_SONAME:?ARCHIVE_SONAME is not set (run the tests through make check)}"
: "${KMOD_SONAME:?KMOD_SONAME is not set (run the tests through make check)}"
: "${CRYPTO_SONAME:?CRYPTO_SONAME is not set (run the tests through make check)}"
M=dgx-h100
P="--profiles $srcdir/profiles"
URL=http://127.0.0.1:9/none.tar
R=$TMPD/root
cp -a "$srcdir/tests/machines/$M/root" "$R"
# The same root with apt's lists kept compressed (gzip, as Acquire::GzipIndexes does).
RZ=$TMPD/rootz
cp -a "$R" "$RZ"
nz=0
for f in "$RZ"/var/lib/apt/lists/*_Packages; do
	[ -f "$f" ] || continue
	gzip "$f"
	nz=$((nz + 1))
done
check_ran "lists compressed in $RZ" "$nz"

# mapped OUT ARGS...: runs gpuprov ARGS under the dynamic linker's debugging output, which
# names every shared object it maps, needed at start or loaded by dlopen later; OUT gets
# those names, one a line, and OUT.rc the exit status.
mapped() {
	out=$1
	shift
	rm -f "$TMPD"/ld.*
	rc=0
	LD_DEBUG=files LD_DEBUG_OUTPUT=$TMPD/ld gpuprov "$@" >/dev/null 2>"$out.err" || rc=$?
	echo "$rc" >"$out.rc"
	cat "$TMPD"/ld.* 2>/dev/null | sed -n 's/.*[[:space:]]file=\([^[:space:]]*\).*/\1/p' | sort -u >"$out"
}

# maps_not DESCRIPTION OUT SONAME...: none of SONAME among what OUT says was mapped, and the
# run mapped something (the record was read at all).
maps_not() {
	desc=$1
	out=$2
	shift 2
	found=""
	for so in "$@"; do
		grep -qx "$so" "$out" && found="$found $so"
	done
	if [ ! -s "$out" ]; then
		not_ok "$desc: the dynamic linker recorded nothing"
	elif [ -n "$found" ]; then
		not_ok "$desc: mapped$found"
		diag_file "$out"
	else
		ok "$desc"
	fi
}

# maps DESCRIPTION OUT SONAME: SONAME among what OUT says was mapped.
maps() {
	if grep -qx "$3" "$2"; then
		ok "$1"
	else
		not_ok "$1"
		diag_file "$2"
	fi
}

# exits DESCRIPTION OUT WANT...: the run of OUT exited with one of WANT.
exits() {
	desc=$1
	run=$2
	got=$(cat "$run.rc")
	shift 2
	for want in "$@"; do
		if [ "$got" = "$want" ]; then
			ok "$desc (exit $got)"
			return
		fi
	done
	not_ok "$desc: exit $got"
	diag_file "$run.err"
}

# The program names neither among the libraries it needs.
if command -v readelf >/dev/null 2>&1; then
	readelf -d "$GPUPROV" >"$TMPD/dynamic"
	check "readelf -d gpuprov: some libraries are needed (the record is read)" grep -q '(NEEDED)' "$TMPD/dynamic"
	check "gpuprov does not need $CURL_SONAME, $ARCHIVE_SONAME, $KMOD_SONAME or $CRYPTO_SONAME" \
		sh -c '! grep "(NEEDED)" "$1" | grep -qF -e "[$2]" -e "[$3]" -e "[$4]" -e "[$5]"' sh "$TMPD/dynamic" \
		"$CURL_SONAME" "$ARCHIVE_SONAME" "$KMOD_SONAME" "$CRYPTO_SONAME"
else
	ok "# SKIP readelf not found"
fi

# The verbs that neither fetch, unpack nor hash, on a machine whose modules are plain ELF files.
ALL="$CURL_SONAME $ARCHIVE_SONAME $KMOD_SONAME $CRYPTO_SONAME"
mapped "$TMPD/detect" --root "$R" detect --json
exits "detect" "$TMPD/detect" 0
maps_not "detect maps none of the four" "$TMPD/detect" $ALL
mapped "$TMPD/plan" --root "$R" $P plan h100-nvlink --json
exits "plan on plain lists" "$TMPD/plan" 0
maps_not "plan on plain lists maps none of the four" "$TMPD/plan" $ALL
mapped "$TMPD/check" --root "$R" $P check
exits "check" "$TMPD/check" 0 3
maps_not "check maps none of the four" "$TMPD/check" $ALL
mapped "$TMPD/status" --root "$R" status --json
exits "status" "$TMPD/status" 0
maps_not "status maps none of the four" "$TMPD/status" $ALL

# The ones that do, each only the library it uses.
mapped "$TMPD/planz" --root "$RZ" $P plan h100-nvlink --json
exits "plan on compressed lists" "$TMPD/planz" 0
maps "plan on compressed lists maps $ARCHIVE_SONAME" "$TMPD/planz" "$ARCHIVE_SONAME"
maps_not "... and not $CURL_SONAME" "$TMPD/planz" "$CURL_SONAME"
printf 'not a tar archive\n' >"$TMPD/garbage.tar"
mapped "$TMPD/verify-file" --root "$R" bundle verify "$TMPD/garbage.tar"
exits "bundle verify of a file that is no bundle" "$TMPD/verify-file" 3
maps "bundle verify FILE maps $ARCHIVE_SONAME" "$TMPD/verify-file" "$ARCHIVE_SONAME"
maps "... and $CRYPTO_SONAME, before the signature" "$TMPD/verify-file" "$CRYPTO_SONAME"
maps_not "... and not $CURL_SONAME" "$TMPD/verify-file" "$CURL_SONAME"
mapped "$TMPD/verify-url" --root "$R" bundle verify "$URL" --max-time 1
exits "bundle verify of a URL nothing answers" "$TMPD/verify-url" 1
maps "bundle verify URL maps $CURL_SONAME" "$TMPD/verify-url" "$CURL_SONAME"
# A machine whose nvidia.ko is kept compressed (.ko.zst), in both its kernels: detect reads
# it through libkmod.
MZ=$srcdir/tests/machines/l4-edge-ubuntu2404/root
mapped "$TMPD/detect-zst" --root "$MZ" detect --json
exits "detect, compressed modules" "$TMPD/detect-zst" 0
maps "detect, compressed modules maps $KMOD_SONAME" "$TMPD/detect-zst" "$KMOD_SONAME"

# snapshot ROOT OUT: every path under ROOT with its type, size, mode and time.
snapshot() {
	(cd "$1" && find . -printf '%p %y %s %m %T@\n' | sort) >"$2"
}

# refused DESCRIPTION LIBDIR WANT-RE ARGS...: gpuprov ARGS on a copy of the root, with
# LD_LIBRARY_PATH=LIBDIR, exits 6 with one error that matches WANT-RE (an extended regex),
# and leaves the root as it was, to the last file's time.
refused() {
	desc=$1
	dir=$2
	want=$3
	shift 3
	rm -rf "$TMPD/work"
	cp -a "$R" "$TMPD/work"
	snapshot "$TMPD/work" "$TMPD/before"
	rc=0
	LD_LIBRARY_PATH=$dir gpuprov --root "$TMPD/work" "$@" >"$TMPD/out" 2>"$TMPD/err" || rc=$?
	if [ "$rc" = 6 ]; then
		ok "$desc: exit 6"
	else
		not_ok "$desc: exit $rc, not 6"
		diag_file "$TMPD/err"
	fi
	if [ "$(grep -cE "$want" "$TMPD/err")" = 1 ]; then
		ok "$desc: says so"
	else
		not_ok "$desc: no error matching: $want"
		diag_file "$TMPD/err"
	fi
	snapshot "$TMPD/work" "$TMPD/after"
	if cmp -s "$TMPD/before" "$TMPD/after"; then
		ok "$desc: nothing changed under the root"
	else
		not_ok "$desc: the root changed"
		diff "$TMPD/before" "$TMPD/after" >"$TMPD/changed"
		diag_file "$TMPD/changed"
	fi
}

# What Debian calls the package of a library (dpkg -S), where dpkg knows it.
deb_package() {
	dpkg -S "*/$1" 2>/dev/null | sed -n '1s/[:,].*//p'
}
curl_deb=$(deb_package "$CURL_SONAME")
archive_deb=$(deb_package "$ARCHIVE_SONAME")
kmod_deb=$(deb_package "$KMOD_SONAME")

NOCURL=$top_builddir/tests/helpers/no-curl
NOARCHIVE=$top_builddir/tests/helpers/no-archive
NOKMOD=$top_builddir/tests/helpers/no-kmod
NOCRYPTO=$top_builddir/tests/helpers/no-crypto
# A copy that is no library at all.
mkdir "$TMPD/not-elf"
printf 'not a shared library\n' >"$TMPD/not-elf/$CURL_SONAME"
# curl_re WHY, archive_re WHY: the message of a libcurl or a libarchive that cannot be loaded,
# as an extended regex; WHY: the loader's reason.
curl_re() {
	printf "%s\n" "fetching needs libcurl \\($CURL_SONAME\\): $1; install ${curl_deb:-[^ ]+} \\(Debian, Ubuntu\\) or libcurl \\(RHEL, openEuler\\)"
}
archive_re() {
	printf "%s\n" "needs libarchive \\($ARCHIVE_SONAME\\): $1; install ${archive_deb:-[^ ]+} \\(Debian, Ubuntu\\) or libarchive \\(RHEL, openEuler\\)"
}
# libcrypto is in libssl3 (libssl3t64 on Ubuntu 24.04), not a package named after it.
crypto_re() {
	printf "%s\n" "needs libcrypto \\($CRYPTO_SONAME\\): $1; install libssl3 or libssl3t64 \\(Debian, Ubuntu\\) or openssl-libs \\(RHEL, openEuler\\)"
}
refused "bundle unpack URL with a libcurl that lacks its functions" "$NOCURL" \
	"^gpuprov: error: $URL: $(curl_re '.*curl_easy_init')" bundle unpack "$URL"
refused "apply --bundle URL with a libcurl that lacks its functions" "$NOCURL" \
	"^gpuprov: error: $URL: $(curl_re '.*curl_easy_init')" $P apply h100-nvlink --yes --bundle "$URL"
refused "bundle verify URL with a libcurl that is not a library" "$TMPD/not-elf" \
	"^gpuprov: error: $URL: $(curl_re '.+')" bundle verify "$URL"
refused "bundle unpack FILE with a libarchive that lacks its functions" "$NOARCHIVE" \
	"^gpuprov: error: $TMPD/garbage.tar: unpacking bundles $(archive_re '.*archive_read_new')" \
	bundle unpack "$TMPD/garbage.tar"
refused "bundle unpack FILE with a libcrypto that lacks its functions" "$NOCRYPTO" \
	"^gpuprov: error: $TMPD/garbage.tar: unpacking bundles $(crypto_re '.*ERR_get_error')" \
	bundle unpack "$TMPD/garbage.tar"
refused "bundle verify FILE with a libcrypto that lacks its functions" "$NOCRYPTO" \
	"^gpuprov: error: $TMPD/garbage.tar: checking bundles $(crypto_re '.*ERR_get_error')" \
	bundle verify "$TMPD/garbage.tar"
refused "apply with a libcrypto that lacks its functions" "$NOCRYPTO" \
	"^gpuprov: error: checking what apply installs $(crypto_re '.*ERR_get_error')" $P apply h100-nvlink --yes
R_SAVED=$R
R=$RZ
refused "plan on compressed lists with a libarchive that lacks its functions" "$NOARCHIVE" \
	"^gpuprov: error: reading apt's compressed lists $(archive_re '.*archive_read_new')" $P plan h100-nvlink
R=$R_SAVED

# What does not need them works without them. The free space of the filesystem the root is
# on moves between two runs: masked.
mask_space() {
	sed -E 's/("(free|total)_bytes":[[:space:]]*)[0-9]+/\1"(masked)"/' "$1" >"$1.masked"
}
gpuprov --root "$R" detect --json >"$TMPD/detect.json" 2>/dev/null
mask_space "$TMPD/detect.json"
for dir in "$NOCURL" "$NOARCHIVE" "$NOKMOD" "$NOCRYPTO" "$TMPD/not-elf"; do
	rc=0
	LD_LIBRARY_PATH=$dir gpuprov --root "$R" detect --json >"$TMPD/detect-without.json" 2>"$TMPD/err" || rc=$?
	mask_space "$TMPD/detect-without.json"
	check "detect with LD_LIBRARY_PATH=$dir: exit 0, the same facts" \
		sh -c '[ "$1" = 0 ] && diff "$2" "$3" >&2' sh "$rc" "$TMPD/detect.json.masked" "$TMPD/detect-without.json.masked"
done
gpuprov --root "$R" $P plan h100-nvlink --json >"$TMPD/plan.json" 2>/dev/null
rc=0
LD_LIBRARY_PATH=$NOARCHIVE gpuprov --root "$R" $P plan h100-nvlink --json >"$TMPD/plan-without.json" 2>"$TMPD/err" || rc=$?
check "plan on plain lists with a libarchive that lacks its functions: exit 0, the same plan" \
	sh -c '[ "$1" = 0 ] && cmp "$2" "$3"' sh "$rc" "$TMPD/plan.json" "$TMPD/plan-without.json"

# Without libkmod, detect on the machine of compressed modules goes on: exit 0, one warning
# that names the library and the package, the module's version unknown and nothing else
# changed; the same run with libkmod read the version (the control).
kmod_re="^gpuprov: warning: reading compressed kernel modules needs libkmod \\($KMOD_SONAME\\): .*kmod_new; install ${kmod_deb:-[^ ]+} \\(Debian, Ubuntu\\) or kmod-libs \\(RHEL, openEuler\\); the version, licence and signature of such a module stay unknown\$"
gpuprov --root "$MZ" detect --json >"$TMPD/zst.json" 2>/dev/null
rc=0
LD_LIBRARY_PATH=$NOKMOD gpuprov --root "$MZ" detect --json >"$TMPD/zst-without.json" 2>"$TMPD/err" || rc=$?
check "detect, compressed modules, with a libkmod that lacks its functions: exit 0" test "$rc" = 0
check "... warns once, naming $KMOD_SONAME and the package" sh -c '[ "$(grep -cE "$1" "$2")" = 1 ] && [ "$(grep -c warning "$2")" = 1 ]' sh "$kmod_re" "$TMPD/err"
check "... with libkmod the compressed module is read (the control)" grep -q '"module":[[:space:]]*"kernel/nvidia-550srv/nvidia.ko.zst"' "$TMPD/zst.json"
check "... without it, what libkmod reads is unknown" sh -c '! grep -q "nvidia.ko.zst" "$1"' sh "$TMPD/zst-without.json"
# The kernels' nvidia objects (4 tabs in) and the warnings left out, the rest is the same.
no_module() {
	mask_space "$1"
	awk '/^\t\t\t\t"nvidia":\t\{$/ { skip = 1; next } skip && /^\t\t\t\t\}/ { skip = 0; next } skip { next }
		/^\t\t\t\t"nvidia":\tnull/ || /^\t"warnings":/ { next } { print }' "$1.masked" >"$1.rest"
}
no_module "$TMPD/zst.json"
no_module "$TMPD/zst-without.json"
check "... and every other fact the same" diff "$TMPD/zst.json.rest" "$TMPD/zst-without.json.rest"

done_testing
