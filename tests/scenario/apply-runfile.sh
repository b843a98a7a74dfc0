#!/bin/sh
# gpuprov apply with NVIDIA's .run installers: generated self-extracting installers that
# take the real ones' command line, served by an HTTP server on 127.0.0.1 as a site's
# mirror would; the kernel and its headers come from the local apt repository of the apt
# test, in the same kind of debootstrap chroot. The hardware is the DGX H100's.
. "${srcdir}/tests/scenario/lib.sh"
. "${srcdir}/tests/scenario/lib-apt-target.sh"

MIRROR="$TMPD/mirror"
HTTP="$TMPD/http"
DRIVER=NVIDIA-Linux-x86_64-580.95.05.run
CUDA=cuda_13.0.2_580.95.05_linux.run

[ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ] || skip_all "the runfiles and the fake machine are x86_64"
command -v python3 >/dev/null 2>&1 || skip_all "python3 not found (the HTTP server)"
apt_target linux-image-5.15.0-105-generic=5.15.0-105.115 linux-modules-5.15.0-105-generic=5.15.0-105.115

# The mirror: the two installers, and what the site lists in its repository view.
mkdir -p "$MIRROR" "$HTTP" "$CH/var/lib/gpuprov"
"$srcdir/tests/pkg/make-runfile" "$MIRROR/$DRIVER" driver 580.95.05
"$srcdir/tests/pkg/make-runfile" "$MIRROR/$CUDA" cuda 13.0.2 580.95.05
cat >"$CH/var/lib/gpuprov/repo.json" <<EOF
{ "runfiles": [
  { "kind": "driver", "version": "580.95.05", "arch": "x86_64", "file": "$DRIVER" },
  { "kind": "cuda", "version": "13.0.2", "driver": "580.95.05", "arch": "x86_64", "file": "$CUDA" } ] }
EOF
"$srcdir/tests/pkg/http-serve" "$MIRROR" "$HTTP" || exit 1
trap '"$srcdir/tests/pkg/http-serve" --stop "$HTTP"; rm -rf "$TMPD"' EXIT
PORT=$(cat "$HTTP/port")
SUM_DRIVER=$(sha256sum "$MIRROR/$DRIVER" | cut -d' ' -f1)
SUM_CUDA=$(sha256sum "$MIRROR/$CUDA" | cut -d' ' -f1)
WRONG=0000000000000000000000000000000000000000000000000000000000000000

# profile DRIVER_SUM CUDA_SUM: the site profile, the DGX's settings with the runfiles. The
# container toolkit is off: its apt packages would stay after the runfiles' uninstall this
# test compares the tree by (container-toolkit.sh installs them).
profile() {
	mkdir -p "$CH/etc/gpuprov/profiles"
	cat >"$CH/etc/gpuprov/profiles/dgx-runfile.json" <<EOF
{ "name": "dgx-runfile", "include": ["h100-nvlink"], "fabricmanager": "off",
  "driver": { "source": "runfile" }, "container": { "toolkit": "none" },
  "runfile": { "mirror": "http://127.0.0.1:$PORT/", "sha256": { "$DRIVER": "$1"$2 } } }
EOF
}

# --- a wrong checksum is refused before anything runs ---
installed >"$TMPD/dpkg.0"
profile "$SUM_DRIVER" ", \"$CUDA\": \"$WRONG\""
rc=0
gp apply dgx-runfile --yes >"$TMPD/wrong.out" 2>"$TMPD/wrong.err" || rc=$?
check "a wrong SHA-256: refused with exit 3" test "$rc" -eq 3
check "the refusal says which file and both digests" grep -q "$CUDA.*SHA-256 $SUM_CUDA.*$WRONG" "$TMPD/wrong.err"
check "no installer ran" sh -c "! { test -e '$CH/usr/lib/gpuprov-test/nvidia-driver' || test -e '$CH/usr/lib/gpuprov-test/cuda'; }"
installed >"$TMPD/dpkg.1"
check "no package was installed" cmp -s "$TMPD/dpkg.0" "$TMPD/dpkg.1"
check "the bad download is not kept" test ! -e "$CH/var/lib/gpuprov/cache/$CUDA"

# --- no digest at all: not run unchecked ---
profile "$SUM_DRIVER" ""
rc=0
gp apply dgx-runfile --yes >"$TMPD/nosum.out" 2>"$TMPD/nosum.err" || rc=$?
check "a runfile without a known SHA-256: refused with exit 3" test "$rc" -eq 3
check "the refusal says there is nothing to check it against" grep -q "$CUDA: no SHA-256" "$TMPD/nosum.err"

# --- a runfile the mirror lacks ---
profile "$SUM_DRIVER" ", \"$CUDA\": \"$SUM_CUDA\""
mv "$MIRROR/$CUDA" "$TMPD/$CUDA"
rc=0
gp apply dgx-runfile --yes >"$TMPD/gone.out" 2>"$TMPD/gone.err" || rc=$?
check "a runfile missing from the mirror: refused with exit 3" test "$rc" -eq 3
check "the refusal names the URL" grep -q "127.0.0.1:$PORT/$CUDA" "$TMPD/gone.err"
check "still no installer ran" sh -c "! test -e '$CH/usr/lib/gpuprov-test/nvidia-driver'"
mv "$TMPD/$CUDA" "$MIRROR/$CUDA"

# --- a record of the runfiles installed that does not read: refused at the check ---
# gpuprov uninstalls by that file; a run that went on would add to it, or lose it.
RECORD="$CH/var/lib/gpuprov/runfiles.json"
GETS=$(grep -c "GET /" "$HTTP/access.log" || true)
printf '[ { "file": "%s", "version": "580.95.05",\n    "uninstall": "nvidia-uninstall --silent" } ]\n' "$DRIVER" >"$RECORD"
rc=0
gp apply dgx-runfile --yes >"$TMPD/record.out" 2>"$TMPD/record.err" || rc=$?
check "a runfiles.json with a bad field: refused with exit 2" test "$rc" -eq 2
check "the refusal names the file, the place, the field and the reason" \
	grep -q "var/lib/gpuprov/runfiles.json:2:18: \[0\]\.uninstall: expected the command that uninstalls it" "$TMPD/record.err"
[ "$rc" -eq 2 ] || diag_file "$TMPD/record.err"
printf '[ { "file": "%s", "version": ' "$DRIVER" >"$RECORD"
rc=0
gp apply dgx-runfile --yes >"$TMPD/record.out" 2>"$TMPD/record.err" || rc=$?
check "a runfiles.json that is not JSON: refused with exit 2, naming the file" \
	sh -c "[ $rc -eq 2 ] && grep -q 'var/lib/gpuprov/runfiles.json:1:[0-9]*: not JSON' '$TMPD/record.err'"
check "the refusal ran no installer and fetched nothing" \
	sh -c "! test -e '$CH/usr/lib/gpuprov-test/nvidia-driver' && [ \"\$(grep -c 'GET /' '$HTTP/access.log')\" -eq $GETS ]"
installed >"$TMPD/dpkg.2"
check "the refusal installed no package" cmp -s "$TMPD/dpkg.0" "$TMPD/dpkg.2"
check "the refusal wrote no file" test ! -e "$CH/etc/modprobe.d/gpuprov.conf"
check "the refusal left the record as it was" grep -q '"version": $' "$RECORD"
rm "$RECORD"

# What the installers may touch, before them: their uninstall must give it back.
snapshot() {
	(cd "$CH" && find usr/bin usr/local usr/lib var/lib/nvidia -path usr/lib/modules -prune -o -printf '%p %y %s\n' \
		2>/dev/null | sort)
}
snapshot >"$TMPD/tree.0"

# --- the right digests: fetched, checked, run silently ---
rc=0
gp apply dgx-runfile --yes --json >"$TMPD/apply.json" 2>"$TMPD/apply.err" || rc=$?
check "apply with runfiles exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/apply.err"
ARGS="$CH/usr/lib/gpuprov-test/nvidia-driver/580.95.05/installed-with"
check "the driver ran silently" grep -qx -- "--silent" "$ARGS"
check "the driver registered with DKMS" grep -qx -- "--dkms" "$ARGS"
check "the driver built the open modules" grep -qx -- "-m=kernel-open" "$ARGS"
check "the driver built for the pinned kernel" grep -qx -- "--kernel-name=6.8.0-49-generic" "$ARGS"
check "the toolkit was installed alone" grep -qx -- "--toolkit" "$CH/usr/lib/gpuprov-test/cuda/13.0.2/installed-with"
check "CUDA 13.0.2 is in place" grep -q '"13.0.2"' "$CH/usr/local/cuda-13.0/version.json"
check "the kernel's headers came from apt for DKMS" sh -c "chroot '$CH' dpkg-query -W linux-headers-6.8.0-49-generic >/dev/null"
check_json "what was installed is recorded, with how to uninstall it" \
	"map(select(.file == \"$DRIVER\" and .sha256 == \"$SUM_DRIVER\" and .uninstall[0] == \"nvidia-uninstall\")) | length == 1" \
	"$CH/var/lib/gpuprov/runfiles.json"
check "the verified driver was fetched once and kept" test "$(grep -c "GET /$DRIVER" "$HTTP/access.log")" -eq 1
GETS=$(grep -c "GET /" "$HTTP/access.log")

# --- a second apply changes nothing and fetches nothing ---
rc=0
gp apply dgx-runfile --yes --json >"$TMPD/again.json" 2>"$TMPD/again.err" || rc=$?
check "a second apply exits 0" test "$rc" -eq 0
check_json "a second apply reports no change" '.changed == false and (.done | length) == 0' "$TMPD/again.json"
check "a second apply fetched nothing" test "$(grep -c "GET /" "$HTTP/access.log")" -eq "$GETS"

# --- uninstalled as recorded (what rollback does), leaving the tree as it was ---
PKGOP="${TEST_WRAPPER:-} $top_builddir/tests/helpers/pkg-op"
check "the toolkit's record says it is installed" sh -c "$PKGOP '$CH' runfile installed '$CUDA' | grep -qx 13.0.2"
check "the toolkit uninstalls" $PKGOP "$CH" runfile remove "$CUDA"
check "the driver uninstalls" $PKGOP "$CH" runfile remove "$DRIVER"
check_json "the record is empty again" 'length == 0' "$CH/var/lib/gpuprov/runfiles.json"
snapshot >"$TMPD/tree.1"
check "the uninstallers removed exactly what the installers added" cmp -s "$TMPD/tree.0" "$TMPD/tree.1"
cmp -s "$TMPD/tree.0" "$TMPD/tree.1" || diff "$TMPD/tree.0" "$TMPD/tree.1" | diag_file /dev/stdin
rc=0
$PKGOP "$CH" runfile remove "$DRIVER" 2>"$TMPD/again.err" || rc=$?
check "removing what is not recorded fails, saying so" sh -c "[ $rc -eq 1 ] && grep -q 'not recorded' '$TMPD/again.err'"


# --- the runfiles in an offline bundle: made while the mirror is up, installed without it ---
gpuprov bundle keygen "$TMPD/site.key" >/dev/null
rc=0
gp bundle create dgx-runfile --os ubuntu-22.04 --arch x86_64 --key "$TMPD/site.key" -o "$TMPD/dgx.bundle" \
	>"$TMPD/bundle.out" 2>"$TMPD/bundle.err" || rc=$?
check "bundle create with runfiles succeeds" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/bundle.err"
tar -tf "$TMPD/dgx.bundle" >"$TMPD/members"
check "the bundle holds the driver's runfile" grep -qx "$DRIVER" "$TMPD/members"
check "the bundle holds the toolkit's runfile" grep -qx "$CUDA" "$TMPD/members"
"$srcdir/tests/pkg/http-serve" --stop "$HTTP"
rm -rf "$CH/var/lib/gpuprov/cache"
mkdir -p "$CH/etc/gpuprov/keys.d"
cp "$TMPD/site.key.pub" "$CH/etc/gpuprov/keys.d/site.pub"
rc=0
gp apply dgx-runfile --yes --bundle "$TMPD/dgx.bundle" >"$TMPD/offline.out" 2>"$TMPD/offline.err" || rc=$?
check "apply --bundle installs the runfiles with the mirror gone" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/offline.err"
check "the driver ran again, from the bundle" test -e "$ARGS"
check "CUDA 13.0.2 is in place again" grep -q '"13.0.2"' "$CH/usr/local/cuda-13.0/version.json"

done_testing
