#!/bin/sh
# Signed offline bundles: keygen, create from the test repository of the apt chroot, then
# the chroot cut off from its repository installs from the bundle over HTTP(S); every
# tamper case and broken transfer is refused with nothing unpacked and nothing installed.
. "${srcdir}/tests/scenario/lib.sh"

. "${srcdir}/tests/scenario/lib-apt-target.sh"

command -v openssl >/dev/null 2>&1 || skip_all "openssl not found"
command -v python3 >/dev/null 2>&1 || skip_all "python3 not found"
apt_target linux-image-5.15.0-105-generic=5.15.0-105.115 linux-modules-5.15.0-105-generic=5.15.0-105.115 linux-generic

WWW="$TMPD/www"
HTTP="$TMPD/http"
mkdir -p "$WWW"

# The tree gpuprov may change, to tell "nothing changed" from a change.
snapshot() {
	{
		installed
		find "$CH/etc" "$CH/var/lib/gpuprov" -xdev \( -type f -o -type l \) 2>/dev/null | sort | xargs -r sha256sum
	} >"$1"
}

# --- keygen ---
gpuprov bundle keygen "$TMPD/site.key" >"$TMPD/keygen.out" 2>&1
check "keygen writes the private key, mode 0600" test "$(stat -c %a "$TMPD/site.key")" = 600
check "keygen writes the public key" grep -q "BEGIN PUBLIC KEY" "$TMPD/site.key.pub"
rc=0
gpuprov bundle keygen "$TMPD/site.key" >/dev/null 2>"$TMPD/keygen2.err" || rc=$?
check "keygen never replaces a key (exit 2)" test "$rc" -eq 2
openssl genpkey -algorithm ed25519 -out "$TMPD/other.key" 2>/dev/null

# --- create, on the connected chroot ---
rc=0
gp bundle create h100-nvlink --os ubuntu-22.04 --arch x86_64 --key "$TMPD/site.key" -o "$WWW/h100.bundle" \
	>"$TMPD/create.out" 2>"$TMPD/create.err" || rc=$?
check "bundle create succeeds" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/create.err"
tar -tf "$WWW/h100.bundle" >"$TMPD/members"
check "the manifest comes first, its signature second" \
	sh -c "head -n 2 '$TMPD/members' | tr '\n' ' ' | grep -qx 'manifest.json manifest.sig '"
check "the bundle holds a Packages index" grep -qx Packages "$TMPD/members"
tar -xOf "$WWW/h100.bundle" manifest.json >"$TMPD/manifest.json"
h100_stack >"$TMPD/picks"
n=0
while read -r name version; do
	deb=$(echo "${name}_$version" | sed 's/:/%3a/')
	check "the bundle holds $deb" grep -q "^${deb}_.*\.deb\$" "$TMPD/members"
	n=$((n + 1))
done <"$TMPD/picks"
check_ran "the bundle is checked for every package of the stack" "$n"
check_json "the manifest names profile, OS, arch and the signing key" \
	'.profile == "h100-nvlink" and .os == "ubuntu-22.04" and .arch == "x86_64" and (.key_id | length) == 16' \
	"$TMPD/manifest.json"
check_json "the manifest lists every file with size and SHA-256" \
	"[.files[] | select((.sha256 | length) == 64 and .size > 0)] | length == $(($(wc -l <"$TMPD/members") - 2))" \
	"$TMPD/manifest.json"
rc=0
gp bundle create h100-nvlink --os rocky-9 --arch x86_64 --key "$TMPD/site.key" -o "$TMPD/x.bundle" \
	>/dev/null 2>"$TMPD/wrongos.err" || rc=$?
check "create for another OS than the root's: usage error (2)" test "$rc" -eq 2
check "it says what the root runs" grep -q "runs ubuntu 22.04" "$TMPD/wrongos.err"
check "and writes nothing" test ! -e "$TMPD/x.bundle" -a ! -e "$TMPD/x.bundle.partial"
rc=0
gp bundle create h100-nvlink --os ubuntu-22.04 --arch aarch64 --key "$TMPD/site.key" -o "$TMPD/x.bundle" \
	>/dev/null 2>"$TMPD/wrongarch.err" || rc=$?
check "create for another architecture: usage error (2), naming the machine's" \
	sh -c "[ $rc -eq 2 ] && grep -q -- '--arch aarch64: the machine read under .* is x86_64' '$TMPD/wrongarch.err'"
echo "not a key" >"$TMPD/garbage.key"
rc=0
gp bundle create h100-nvlink --os ubuntu-22.04 --arch x86_64 --key "$TMPD/garbage.key" -o "$TMPD/x.bundle" \
	>/dev/null 2>"$TMPD/badkey.err" || rc=$?
check "create with a file that holds no key: usage error (2), naming it" \
	sh -c "[ $rc -eq 2 ] && grep -q -- '--key $TMPD/garbage.key' '$TMPD/badkey.err'"
check "and writes nothing" test ! -e "$TMPD/x.bundle" -a ! -e "$TMPD/x.bundle.partial"

# --- the node, cut off from its repository ---
rm -rf "$CH$REPO" "$CH/etc/apt/sources.list" "$CH"/var/lib/apt/lists/*_Packages
in_target apt-get update -q >/dev/null 2>&1
mkdir -p "$CH/etc/gpuprov/keys.d"
serve "$HTTP"
URL="http://127.0.0.1:$PORT"

rc=0
gp bundle verify "$URL/h100.bundle" >"$TMPD/verify.out" 2>"$TMPD/verify.err" || rc=$?
check "a bundle signed by no trusted key: refused (3)" test "$rc" -eq 3
check "the refusal names the key and keys.d" grep -q "signed by key [0-9a-f]\{16\}, which is not among the trusted keys in etc/gpuprov/keys.d" "$TMPD/verify.err"
cp "$TMPD/site.key.pub" "$CH/etc/gpuprov/keys.d/site.pub"
rc=0
gp bundle verify "$URL/h100.bundle" >"$TMPD/verify.out" 2>"$TMPD/verify.err" || rc=$?
check "bundle verify over HTTP succeeds once the key is trusted" test "$rc" -eq 0
check "it says all verified" grep -q "all verified" "$TMPD/verify.out"
rc=0
gp bundle verify "$WWW/h100.bundle" --json >"$TMPD/verify.json" 2>"$TMPD/verify.err" || rc=$?
check "bundle verify of a file succeeds" test "$rc" -eq 0
check_json "verify --json names the stack" '.stack.kernel and .stack.driver and .files > 2' "$TMPD/verify.json"

# --- tampering, each refused with nothing unpacked, nothing installed ---
# retar SRC DST PYTHON: rewrites the bundle member by member; PYTHON edits `members`, a list
# of [TarInfo, bytes] in order.
retar() {
	python3 - "$1" "$2" "$3" <<'EOF'
import io, sys, tarfile
src, dst, edit = sys.argv[1:4]
members = []
with tarfile.open(src) as t:
    for m in t.getmembers():
        members.append([m, t.extractfile(m).read() if m.isfile() else None])
exec(edit)
with tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as t:
    for m, data in members:
        if data is not None:
            m.size = len(data)
        t.addfile(m, io.BytesIO(data) if data is not None else None)
EOF
}
snapshot "$TMPD/tree.0"
refused() { # refused NAME FILE WHAT: apply --bundle of $WWW/FILE fails, naming WHAT
	rc=0
	gp apply h100-nvlink --yes --bundle "$URL/$2" >"$TMPD/t.out" 2>"$TMPD/t.err" || rc=$?
	check "$1: refused (exit $3)" test "$rc" -eq "$3"
	check "$1: the message says '$4'" grep -q -- "$4" "$TMPD/t.err"
	[ "$rc" -eq "$3" ] && grep -q -- "$4" "$TMPD/t.err" || diag_file "$TMPD/t.err"
	snapshot "$TMPD/tree.1"
	check "$1: nothing unpacked, nothing installed, no file written" cmp -s "$TMPD/tree.0" "$TMPD/tree.1"
}
retar "$WWW/h100.bundle" "$WWW/altered.bundle" \
	'members[0][1] = members[0][1].replace(b"\"h100-nvlink\"", b"\"h100-nvlinK\"", 1)'
refused "an altered manifest" altered.bundle 3 "the signature does not verify"
openssl genpkey -algorithm ed25519 -out "$TMPD/other.key" 2>/dev/null
tar -xOf "$WWW/h100.bundle" manifest.json >"$TMPD/m.json"
openssl pkeyutl -sign -rawin -inkey "$TMPD/other.key" -in "$TMPD/m.json" -out "$TMPD/other.sig" 2>/dev/null
retar "$WWW/h100.bundle" "$WWW/resigned.bundle" "members[1][1] = open('$TMPD/other.sig', 'rb').read()"
refused "a manifest signed by another key" resigned.bundle 3 "the signature does not verify"
retar "$WWW/h100.bundle" "$WWW/swapped.bundle" \
	'i = next(i for i, m in enumerate(members) if m[0].name.endswith(".deb")); members[i][1] = bytes([members[i][1][0] ^ 1]) + members[i][1][1:]'
refused "a package changed after signing" swapped.bundle 3 "the manifest says"
head -c "$(($(stat -c %s "$WWW/h100.bundle") / 2))" "$WWW/h100.bundle" >"$WWW/truncated.bundle"
refused "a truncated bundle" truncated.bundle 3 "truncated"
retar "$WWW/h100.bundle" "$WWW/traversal.bundle" \
	'import copy; m = copy.copy(members[2][0]); m.name = "../../etc/cron.d/evil"; members.insert(2, [m, b"* * * * * root true\n"])'
refused "an entry with '..'" traversal.bundle 3 "unsafe path"
retar "$WWW/h100.bundle" "$WWW/absolute.bundle" \
	'import copy; m = copy.copy(members[2][0]); m.name = "/etc/evil"; members.insert(2, [m, b"x"])'
refused "an entry with an absolute path" absolute.bundle 3 "unsafe path"
retar "$WWW/h100.bundle" "$WWW/link.bundle" \
	'l = tarfile.TarInfo("pool-link"); l.type = tarfile.SYMTYPE; l.linkname = "/etc"; members.insert(2, [l, None])'
refused "a symlink entry" link.bundle 3 "not a regular file"
# A manifest that lists an unsafe path, properly signed: refused by what it says.
retar "$WWW/h100.bundle" "$WWW/unsafe.bundle" \
	'import json; m = json.loads(members[0][1]); m["files"][0]["path"] = "../../etc/evil"; members[0][1] = json.dumps(m).encode()'
tar -xOf "$WWW/unsafe.bundle" manifest.json >"$TMPD/unsafe.json"
openssl pkeyutl -sign -rawin -inkey "$TMPD/site.key" -in "$TMPD/unsafe.json" -out "$TMPD/unsafe.sig" 2>/dev/null
retar "$WWW/unsafe.bundle" "$WWW/unsafe.bundle" "members[1][1] = open('$TMPD/unsafe.sig', 'rb').read()"
refused "a signed manifest listing an unsafe path" unsafe.bundle 3 "is not a safe relative path"
rc=0
gp bundle verify "$TMPD/no-such.bundle" >/dev/null 2>"$TMPD/nofile.err" || rc=$?
check "verify of a file that is not there: exit 2, naming it" \
	sh -c "[ $rc -eq 2 ] && grep -q 'no-such.bundle: No such file' '$TMPD/nofile.err'"
retar "$WWW/h100.bundle" "$WWW/extra.bundle" \
	'import copy; m = copy.copy(members[2][0]); m.name = "extra.deb"; members.append([m, b"x"])'
refused "an entry the manifest does not list" extra.bundle 3 "not listed in the manifest"
refused "a bundle the server does not have" missing.bundle 1 "HTTP 404"
serve "$TMPD/broken" --status 500
rc=0
gp apply h100-nvlink --yes --bundle "http://127.0.0.1:$PORT/h100.bundle" >/dev/null 2>"$TMPD/t.err" || rc=$?
check "a server error: fails (exit 1) after its retries" test "$rc" -eq 1
check "the failure names the server's answer" grep -q "HTTP 500" "$TMPD/t.err"
snapshot "$TMPD/tree.1"
check "a server error: nothing unpacked, nothing installed" cmp -s "$TMPD/tree.0" "$TMPD/tree.1"
check "no partial bundle is left" sh -c "! ls -A '$CH/var/lib/gpuprov/bundles' 2>/dev/null | grep -q ."

# --- transfers: a cut resumed, a dead mirror left for the next, TLS ---
HALF=$(($(stat -c %s "$WWW/h100.bundle") / 2))
serve "$TMPD/cut" --cut-after "$HALF"
rc=0
gp bundle verify "http://127.0.0.1:$PORT/h100.bundle" >/dev/null 2>"$TMPD/cut.err" || rc=$?
check "a download cut halfway is resumed and verifies" test "$rc" -eq 0
check "the resume asked for the rest with a Range request" grep -q "206 .*Range: bytes=$HALF-" "$TMPD/cut/access.log"
"$srcdir/tests/pkg/make-test-ca" "$TMPD/ca" >/dev/null 2>&1 || exit 1
serve "$TMPD/tls" --tls "$TMPD/ca/server.pem" "$TMPD/ca/server.key"
rc=0
gp bundle verify "https://127.0.0.1:$PORT/h100.bundle" --cacert "$TMPD/ca/ca.pem" >/dev/null 2>"$TMPD/tls.err" || rc=$?
check "https with the site's CA (--cacert) verifies" test "$rc" -eq 0
rc=0
gp bundle verify "https://127.0.0.1:$PORT/h100.bundle" --cacert "$TMPD/ca/other-ca.pem" >/dev/null 2>"$TMPD/tls.err" || rc=$?
check "https with a CA that did not sign the server: fails (1)" test "$rc" -eq 1
rc=0
gp bundle verify "https://127.0.0.1:$PORT/h100.bundle" --cacert "$TMPD/no-such-ca.pem" >/dev/null 2>"$TMPD/noca.err" || rc=$?
check "--cacert naming no file: fails (1), saying so" sh -c "[ $rc -eq 1 ] && grep -qi 'CA cert\|cacert\|certificate' '$TMPD/noca.err'"
check "the failure is the certificate's" grep -qi "certificate" "$TMPD/tls.err"

# --- install from the bundle, the first mirror dead ---
rc=0
gp apply h100-nvlink --yes --json --bundle "http://127.0.0.1:9/h100.bundle" --mirror "$URL/h100.bundle" \
	>"$TMPD/apply.json" 2>"$TMPD/apply.err" || rc=$?
check "apply --bundle installs with the first mirror dead" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/apply.err"
n=0
while read -r name version; do
	check "$name is installed at exactly $version, from the bundle" \
		sh -c "chroot '$CH' dpkg-query -W -f='\${Version} \${db:Status-Status}' '$name' | grep -qx '$version installed'"
	n=$((n + 1))
done <"$TMPD/picks"
check_ran "every package of the stack is checked" "$n"
check "the bundle is the node's package source" \
	grep -q "^deb \[trusted=yes\] file:/var/lib/gpuprov/bundles/h100-nvlink-ubuntu-22.04-x86_64 ./" \
	"$CH/etc/apt/sources.list.d/gpuprov-bundle.list"
check "no partial or old copy is left beside it" \
	test "$(ls -A "$CH/var/lib/gpuprov/bundles")" = "h100-nvlink-ubuntu-22.04-x86_64"
rc=0
gp apply h100-nvlink --yes --json >"$TMPD/again.json" 2>&1 || rc=$?
check "a second apply, without the bundle and without network, changes nothing" \
	sh -c "[ $rc -eq 0 ] && jq -e '.changed == false' '$TMPD/again.json' >/dev/null"

done_testing
