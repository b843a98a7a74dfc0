#!/bin/sh
# What a node trusts in an offline bundle beyond its signature: that it is not older than
# the newest one it accepted for the profile, not expired and dated at all (each refused
# with nothing changed, or taken with --allow-older and recorded), and which keys may sign:
# keys.d and its key files owned by root and writable by no one else, no key revoked in
# keys.d/revoked, none past the Expires line of its file.
. "${srcdir}/tests/scenario/lib.sh"

. "${srcdir}/tests/scenario/lib-apt-target.sh"

command -v openssl >/dev/null 2>&1 || skip_all "openssl not found"
command -v python3 >/dev/null 2>&1 || skip_all "python3 not found"
apt_target linux-image-5.15.0-105-generic=5.15.0-105.115 linux-modules-5.15.0-105-generic=5.15.0-105.115 linux-generic

KEYS="$CH/etc/gpuprov/keys.d"
RECORD="$CH/var/lib/gpuprov/bundle-freshness.json"
LIST="$CH/etc/apt/sources.list.d/gpuprov-bundle.list"

# The tree a bundle may change: the packages, /etc (the apt source) and gpuprov's state
# (the unpacked bundles, the record), each file by its SHA-256 and mode, each link by its
# target (some lead nowhere in the chroot).
snapshot() {
	{
		installed
		find "$CH/etc" "$CH/var/lib/gpuprov" -xdev -type f -printf '%m %p\n' | sort
		find "$CH/etc" "$CH/var/lib/gpuprov" -xdev -type f -print0 | sort -z | xargs -0 -r sha256sum
		find "$CH/etc" "$CH/var/lib/gpuprov" -xdev -type l -printf '%p -> %l\n' | sort
	} >"$1"
}

# create FILE KEY OPTIONS...: bundle create of h100-nvlink on the connected chroot.
create() {
	out=$1
	key=$2
	shift 2
	rc=0
	gp bundle create h100-nvlink --os ubuntu-22.04 --arch x86_64 --key "$key" -o "$out" "$@" \
		>"$TMPD/create.out" 2>"$TMPD/create.err" || rc=$?
	[ "$rc" -eq 0 ] || { diag_file "$TMPD/create.err"; exit 1; }
}

# resign SRC DST KEY PYTHON: DST is SRC with its manifest edited by PYTHON (a dict named m;
# the files, a list of [TarInfo, bytes] named members, too: the manifest lists them anew)
# and signed again with KEY, as a holder of the key could.
resign() {
	python3 - "$@" <<'EOF'
import hashlib, io, json, subprocess, sys, tarfile, tempfile
src, dst, key, edit = sys.argv[1:5]
with tarfile.open(src) as t:
    members = [[i, t.extractfile(i).read()] for i in t.getmembers()]
m = json.loads(members[0][1])
exec(edit)
m["files"] = [{"path": i.name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
              for i, data in members[2:]]
text = json.dumps(m, indent=1).encode()
with tempfile.NamedTemporaryFile() as f, tempfile.NamedTemporaryFile() as s:
    f.write(text)
    f.flush()
    subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", key, "-in", f.name, "-out", s.name],
                   check=True)
    members[0][1], members[1][1] = text, open(s.name, "rb").read()
with tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as t:
    for info, data in members:
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
EOF
}

# --- the bundles, made on the connected chroot ---
gpuprov bundle keygen "$TMPD/site.key" >/dev/null
gpuprov bundle keygen "$TMPD/old.key" >/dev/null
create "$TMPD/new.bundle" "$TMPD/site.key" --sequence 200
tar -xOf "$TMPD/new.bundle" manifest.json >"$TMPD/new.json"
check_json "bundle create signs sequence, created and a default expiry 90 days on" \
	".sequence == 200 and (.created | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T\")) and
	 .expires == (now + 90 * 86400 | strftime(\"%Y-%m-%d\"))" "$TMPD/new.json"
check "create says the sequence and the expiry" grep -q "sequence 200, expires $(jq -r .expires "$TMPD/new.json")" \
	"$TMPD/create.out"
# The older bundle is signed with another trusted key: once taken, the apt source names it.
create "$TMPD/old.bundle" "$TMPD/old.key" --sequence 100 --expires 2w
tar -xOf "$TMPD/old.bundle" manifest.json >"$TMPD/old.json"
check_json "--expires 2w: 14 days on" ".expires == (now + 14 * 86400 | strftime(\"%Y-%m-%d\"))" "$TMPD/old.json"
# Made as of a day long past, so that it expired long ago.
export GPUPROV_TODAY=2020-01-01
create "$TMPD/expired.bundle" "$TMPD/site.key" --sequence 300 --expires 2020-01-31
unset GPUPROV_TODAY
create "$TMPD/default-seq.bundle" "$TMPD/site.key"
tar -xOf "$TMPD/default-seq.bundle" manifest.json >"$TMPD/seq.json"
check_json "without --sequence, the seconds since the epoch: later than any --sequence here" \
	".sequence > $(date -d '1 minute ago' +%s) and .sequence <= $(date +%s)" "$TMPD/seq.json"
rc=0
gp bundle create h100-nvlink --os ubuntu-22.04 --arch x86_64 --key "$TMPD/site.key" -o "$TMPD/x.bundle" \
	--expires 2020-01-01 >/dev/null 2>"$TMPD/past.err" || rc=$?
check "create --expires a past day: usage error (2), saying so" \
	sh -c "[ $rc -eq 2 ] && grep -q -- '--expires 2020-01-01: that day is past' '$TMPD/past.err'"
rc=0
gp bundle create h100-nvlink --os ubuntu-22.04 --arch x86_64 --key "$TMPD/site.key" -o "$TMPD/x.bundle" \
	--sequence 0 >/dev/null 2>"$TMPD/seq.err" || rc=$?
check "create --sequence 0: usage error (2)" sh -c "[ $rc -eq 2 ] && grep -q -- '--sequence 0: expected' '$TMPD/seq.err'"
# Signed with the other key too: once taken, the apt source would say so.
resign "$TMPD/new.bundle" "$TMPD/undated.bundle" "$TMPD/old.key" \
	"del m['created'], m['expires'], m['sequence']; m['key_id'] = '$(jq -r .key_id "$TMPD/old.json")'"

# --- the node, cut off from its repository, trusting both keys ---
rm -rf "$CH$REPO" "$CH/etc/apt/sources.list" "$CH"/var/lib/apt/lists/*_Packages
in_target apt-get update -q >/dev/null 2>&1
mkdir -p "$KEYS"
cp "$TMPD/site.key.pub" "$KEYS/site.pub"
cp "$TMPD/old.key.pub" "$KEYS/old.pub"

# A bundle that verifies but offers no package: the plan refuses it once it is the source.
resign "$TMPD/new.bundle" "$TMPD/empty.bundle" "$TMPD/site.key" \
	"m['sequence'] = 150; members[2:] = [[i, b''] for i, d in members[2:] if i.name == 'Packages']"
snapshot "$TMPD/tree.0"
rc=0
gp apply h100-nvlink --yes --bundle "$TMPD/empty.bundle" >/dev/null 2>"$TMPD/empty.err" || rc=$?
snapshot "$TMPD/tree.1"
check "a bundle the plan finds nothing in: refused (3)" test "$rc" -eq 3
check "the refusal says the package source changed, not that nothing did" \
	grep -q "refused; nothing changed but the package source, now bundle h100-nvlink-ubuntu-22.04-x86_64" "$TMPD/empty.err"
check "and the source did change" sh -c "! cmp -s '$TMPD/tree.0' '$TMPD/tree.1' && test -e '$LIST'"
check "no message says nothing changed" sh -c "! grep -q 'refused, nothing changed' '$TMPD/empty.err'"

rc=0
gp apply h100-nvlink --yes --bundle "$TMPD/new.bundle" >"$TMPD/apply.out" 2>"$TMPD/apply.err" || rc=$?
check "apply of the newer bundle (sequence 200) succeeds" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/apply.err"
check_json "the node records it as the newest for the profile" \
	'.["h100-nvlink"] | .sequence == 200 and .bundle == "h100-nvlink-ubuntu-22.04-x86_64" and (.accepted | length) > 0' \
	"$RECORD"
check "the apt source is the bundle, naming its key" grep -q "(key $(jq -r .key_id "$TMPD/new.json"))" "$LIST"

# refused NAME FILE WHAT...: apply --bundle FILE exits 3, its message says each WHAT, and
# the tree is as before, the apt source and the unpacked bundle included.
refused() {
	name=$1
	file=$2
	shift 2
	snapshot "$TMPD/tree.0"
	rc=0
	gp apply h100-nvlink --yes --bundle "$file" >"$TMPD/t.out" 2>"$TMPD/t.err" || rc=$?
	check "$name: refused (exit 3)" test "$rc" -eq 3
	for what in "$@"; do
		check "$name: the message says '$what'" grep -q -- "$what" "$TMPD/t.err"
	done
	[ "$rc" -eq 3 ] || diag_file "$TMPD/t.err"
	snapshot "$TMPD/tree.1"
	check "$name: nothing changed (packages, apt source, unpacked bundle, record)" cmp -s "$TMPD/tree.0" "$TMPD/tree.1"
	cmp -s "$TMPD/tree.0" "$TMPD/tree.1" || diff "$TMPD/tree.0" "$TMPD/tree.1" | diag_file /dev/stdin
}

refused "an older bundle after a newer one" "$TMPD/old.bundle" \
	"bundle h100-nvlink-ubuntu-22.04-x86_64 has sequence 100, older than sequence 200" \
	"accepted for profile h100-nvlink on" "--allow-older" "nothing was unpacked or installed"
refused "an expired bundle" "$TMPD/expired.bundle" "(sequence 300) expired on 2020-01-31; today is"
refused "a bundle without freshness fields" "$TMPD/undated.bundle" \
	"has no signed created, expires and sequence (made by an older gpuprov)"
export GPUPROV_TODAY=2020-02-01
refused "expiry judged as of GPUPROV_TODAY" "$TMPD/expired.bundle" "expired on 2020-01-31; today is 2020-02-01"
export GPUPROV_TODAY=2020-01-31
rc=0
gp bundle verify "$TMPD/expired.bundle" >/dev/null 2>"$TMPD/t.err" || rc=$?
check "the same bundle on its last valid day verifies" test "$rc" -eq 0
unset GPUPROV_TODAY
rc=0
gp bundle verify "$TMPD/old.bundle" >/dev/null 2>"$TMPD/verify-old.err" || rc=$?
check "bundle verify refuses the older bundle too (exit 3)" \
	sh -c "[ $rc -eq 3 ] && grep -q 'older than sequence 200' '$TMPD/verify-old.err'"
rc=0
gp bundle unpack "$TMPD/old.bundle" >/dev/null 2>&1 || rc=$?
check "so does bundle unpack, which would replace the unpacked tree" test "$rc" -eq 3
echo "not json" >"$TMPD/record.bad"
cp "$RECORD" "$TMPD/record.good"
cp "$TMPD/record.bad" "$RECORD"
rc=0
gp bundle verify "$TMPD/new.bundle" >/dev/null 2>"$TMPD/record.err" || rc=$?
check "a record that does not read: exit 2, naming it, nothing taken" \
	sh -c "[ $rc -eq 2 ] && grep -q 'var/lib/gpuprov/bundle-freshness.json: unexpected format' '$TMPD/record.err'"
cp "$TMPD/record.good" "$RECORD"

# --- a deliberate downgrade ---
rc=0
gp apply h100-nvlink --yes --allow-older --bundle "$TMPD/old.bundle" >"$TMPD/older.out" 2>"$TMPD/older.err" || rc=$?
check "--allow-older takes the older bundle" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/older.err"
check "a warning says what was let through and that it is recorded" \
	grep -q "older than sequence 200.*; taken because of --allow-older, and recorded in /var/lib/gpuprov/bundle-freshness.json" \
	"$TMPD/older.err"
check "the apt source is now the older bundle, naming its key" grep -q "(key $(jq -r .key_id "$TMPD/old.json"))" "$LIST"
check_json "the record keeps 200 as the newest and lists the downgrade to 100" \
	'.["h100-nvlink"] | .sequence == 200 and (.allowed_older | length == 1 and .[0].sequence == 100 and
	 (.[0].why | test("older than sequence 200")))' "$RECORD"
rc=0
gp apply h100-nvlink --yes --bundle "$TMPD/new.bundle" >/dev/null 2>"$TMPD/same.err" || rc=$?
check "the newest bundle again (the same sequence) is taken" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/same.err"
refused "without --allow-older, the older bundle is refused again" "$TMPD/old.bundle" "older than sequence 200"
rc=0
gp apply h100-nvlink --yes --bundle "$TMPD/default-seq.bundle" >/dev/null 2>"$TMPD/later.err" || rc=$?
check "a later bundle is taken as ever" test "$rc" -eq 0
check_json "and is the newest now, the downgrade still listed" \
	"$(printf '.["h100-nvlink"] | .sequence == %s and (.allowed_older | length) == 1' "$(jq .sequence "$TMPD/seq.json")")" \
	"$RECORD"

# --- which keys are trusted ---
# Only the key the checks are about is in keys.d from here on.
mkdir -p "$TMPD/k3"
gpuprov bundle keygen "$TMPD/k3/k3.key" >/dev/null
create "$TMPD/k3.bundle" "$TMPD/k3/k3.key"
K3_ID=$(tar -xOf "$TMPD/k3.bundle" manifest.json | jq -r .key_id)
rm -f "$KEYS"/*.pub
cp "$TMPD/k3/k3.key.pub" "$KEYS/k3.pub"
# trust NAME WANT_RC WHAT...: bundle verify of k3.bundle exits WANT_RC, its stderr says each WHAT.
trust() {
	name=$1
	want=$2
	shift 2
	rc=0
	gp bundle verify "$TMPD/k3.bundle" >/dev/null 2>"$TMPD/k.err" || rc=$?
	check "$name: exit $want" test "$rc" -eq "$want"
	for what in "$@"; do
		check "$name: stderr says '$what'" grep -q -- "$what" "$TMPD/k.err"
	done
	[ "$rc" -eq "$want" ] || diag_file "$TMPD/k.err"
}
trust "k3, root's and mode 0644" 0
chmod 0666 "$KEYS/k3.pub"
trust "a key file anyone may write" 3 \
	"warning: etc/gpuprov/keys.d/k3.pub: writable by anyone (mode 0666); the key in it is not trusted" \
	"signed by key $K3_ID, which is not among the trusted keys"
chmod 0664 "$KEYS/k3.pub"
trust "a key file its group may write" 3 "etc/gpuprov/keys.d/k3.pub: writable by its group (mode 0664)"
chmod 0644 "$KEYS/k3.pub"
chown 1000 "$KEYS/k3.pub"
trust "a key file owned by uid 1000" 3 "etc/gpuprov/keys.d/k3.pub: owned by uid 1000, not root"
chown 0 "$KEYS/k3.pub"
chmod 0777 "$KEYS"
trust "keys.d writable by anyone" 3 "etc/gpuprov/keys.d: writable by anyone (mode 0777); no key in it is trusted"
chmod 0755 "$KEYS"
chown 1000 "$KEYS"
trust "keys.d owned by uid 1000" 3 "etc/gpuprov/keys.d: owned by uid 1000, not root; no key in it is trusted"
chown 0 "$KEYS"
trust "all safe again" 0

printf '# retired after the laptop was lost\n%s  # k3\n' "$K3_ID" >"$KEYS/revoked"
trust "a revoked key" 3 \
	"signed by key $K3_ID, which is revoked in etc/gpuprov/keys.d/revoked; it verifies nothing" \
	"warning: etc/gpuprov/keys.d/k3.pub: key $K3_ID, which is revoked"
snapshot "$TMPD/tree.0"
rc=0
gp apply h100-nvlink --yes --bundle "$TMPD/k3.bundle" >/dev/null 2>&1 || rc=$?
snapshot "$TMPD/tree.1"
check "apply of a bundle signed by a revoked key: refused (3), nothing changed" \
	sh -c "[ $rc -eq 3 ] && cmp -s '$TMPD/tree.0' '$TMPD/tree.1'"
printf '%s\n' "0123456789abcdef" >"$KEYS/revoked"
trust "a revocation list without k3" 0
echo "not-a-key-id" >>"$KEYS/revoked"
trust "a revocation list that does not read trusts no key" 3 \
	"etc/gpuprov/keys.d/revoked: line 2: 'not-a-key-id' is not a key id (16 hex digits); no key is trusted until it can be"
printf '%s\n' "0123456789abcdef" >"$KEYS/revoked"
chmod 0666 "$KEYS/revoked"
trust "a revocation list anyone may write trusts no key" 3 "etc/gpuprov/keys.d/revoked: writable by anyone"
rm -f "$KEYS/revoked"

{ printf '# k3, the 2026 signing key\nExpires: 2026-06-30\n'; cat "$TMPD/k3/k3.key.pub"; } >"$KEYS/k3.pub"
export GPUPROV_TODAY=2026-06-30
trust "a key on its last valid day" 0
export GPUPROV_TODAY=2026-07-01
trust "an expired key" 3 \
	"signed by key $K3_ID, which expired on 2026-06-30 (the Expires line of etc/gpuprov/keys.d/k3.pub); it verifies nothing" \
	"warning: etc/gpuprov/keys.d/k3.pub: key $K3_ID, which expired on 2026-06-30"
unset GPUPROV_TODAY
{ printf 'Expire: 2099-01-01\n'; cat "$TMPD/k3/k3.key.pub"; } >"$KEYS/k3.pub"
trust "a key file with a misspelt field" 3 \
	"etc/gpuprov/keys.d/k3.pub: line 1: 'Expire: 2099-01-01' is neither a comment nor 'Expires: YYYY-MM-DD'"

done_testing
