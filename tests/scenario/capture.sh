#!/bin/sh
# gpuprov capture and captures as --root/--sysroot: for every fake machine, detect, plan and
# check from its capture equal those from its tree; a capture holds what was read and
# nothing else, never a secret; a hostile capture is refused (exit 2) with nothing written
# outside gpuprov's private directory; verbs that change a node refuse a capture.
. "$srcdir/tests/scenario/lib.sh"

GPUPROV_TODAY=2026-11-21
export GPUPROV_TODAY
profiles=$srcdir/profiles
# gpuprov unpacks captures under TMPDIR: empty again after every run, however it ended.
UNPACK=$TMPD/unpack
mkdir "$UNPACK"

# Free space is that of the filesystem the tree sits on (detect-machines.sh masks it too).
mask() {
	sed -E 's/("(free|total)_bytes":[[:space:]]*)[0-9]+/\1"(masked)"/'
}

# members CAPTURE: the paths in the archive, one a line, sorted.
members() {
	zstd -qdc "$1" | tar -tf - | sed 's#/$##' | LC_ALL=C sort
}

# unpack_is_empty DESCRIPTION: nothing left under TMPDIR by the runs before.
unpack_is_empty() {
	check "$1" [ -z "$(ls -A "$UNPACK")" ]
}

# The places a capture may hold, as doc/formats.md lists them (globs between its markers),
# made regular expressions of a whole path: '.' itself, '*' anything.
sed -n '/<!-- capture-locations -->/,/<!-- \/capture-locations -->/p' "$srcdir/doc/formats.md" |
	grep -E '^[a-z]' | sed -e 's/[.]/\\./g' -e 's/\*/.*/g' -e 's/^/^/' -e 's/$/$/' >"$TMPD/locations"
check "doc/formats.md lists the places a capture holds" [ -s "$TMPD/locations" ]

# undocumented MEMBERS: the members (a file, one a line) in no such place.
undocumented() {
	grep -v -x -e gpuprov-capture.json -e root -e sysroot "$1" | sed -E 's#^(root|sysroot)/##' |
		grep -v -E -f "$TMPD/locations" | tr '\n' ' '
}

# fitting MACHINE: a profile made for such machines that plans there (its expected plan is
# not refused), else base.
fitting() {
	for g in "$srcdir/tests/machines/$1"/plan-*.json; do
		p=$(basename "$g" .json | sed 's/^plan-//')
		case $p in base | no-gpu) continue ;; esac
		# The expected plan, then its exit code: two documents.
		if jq -s -e '.[0].refused == false' "$g" >/dev/null 2>&1; then
			echo "$p"
			return
		fi
	done
	echo base
}

# Each machine: captured with the profile that fits it, then each verb over the tree and over
# the capture, its output (masked) and exit code compared.
n=0
for m in $(fake_machines); do
	n=$((n + 1))
	tree=$srcdir/tests/machines/$m/root
	cap=$TMPD/$m.tar.zst
	p=$(fitting "$m")
	if TMPDIR=$UNPACK gpuprov --root "$tree" --profiles "$profiles" capture -o "$cap" --profile "$p" 2>"$TMPD/err"; then
		ok "$m: capture --profile $p"
	else
		not_ok "$m: capture --profile $p failed"
		diag_file "$TMPD/err"
		continue
	fi
	for args in "detect --json" "plan $p --json" "check --json"; do
		# shellcheck disable=SC2086 # args are words
		gpuprov --root "$tree" --profiles "$profiles" $args 2>&1 | mask >"$TMPD/tree"
		echo "exit $?" >>"$TMPD/tree"
		# shellcheck disable=SC2086
		TMPDIR=$UNPACK gpuprov --root "$cap" --profiles "$profiles" $args 2>&1 | mask >"$TMPD/cap"
		echo "exit $?" >>"$TMPD/cap"
		if cmp -s "$TMPD/tree" "$TMPD/cap" && [ -s "$TMPD/tree" ]; then
			ok "$m: $args from the capture as from the tree"
		else
			not_ok "$m: $args from the capture differs from the tree"
			diff -u "$TMPD/tree" "$TMPD/cap" | diag_file /dev/stdin
		fi
	done

	# The archive holds the manifest and the members it lists, no more; each in a place
	# doc/formats.md names.
	members "$cap" >"$TMPD/in-tar"
	{
		echo gpuprov-capture.json
		zstd -qdc "$cap" | tar -xOf - gpuprov-capture.json | jq -r '.members[].path'
	} | LC_ALL=C sort >"$TMPD/listed"
	check "$m: the archive holds the manifest and what it lists, no more" cmp "$TMPD/in-tar" "$TMPD/listed"
	stray=$(undocumented "$TMPD/in-tar")
	check "$m: every member is in a place doc/formats.md names${stray:+ (not: $stray)}" [ -z "$stray" ]
done
check_ran "every fake machine captured" "$n"
unpack_is_empty "every unpacked capture was removed"

# ---- exactly what was read, never a secret -------------------------------------------------
node=$TMPD/node
cp -a "$srcdir/tests/machines/dgx-h100/root" "$node"
mkdir -p "$node/etc/ssh" "$node/root/.ssh" "$node/home/ops/.ssh" "$node/etc/gpuprov/keys.d" \
	"$node/var/log/journal/0123" "$node/proc/1"
echo 'root:$6$planted-hash:19000:0:99999:7:::' >"$node/etc/shadow"
echo 'root:!planted-gshadow::' >"$node/etc/gshadow"
key='-----BEGIN OPENSSH PRIVATE KEY-----
planted
-----END OPENSSH PRIVATE KEY-----'
echo "$key" >"$node/etc/ssh/ssh_host_ed25519_key"
echo "$key" >"$node/root/.ssh/id_ed25519"
echo "$key" >"$node/home/ops/.ssh/id_rsa"
echo "$key" >"$node/etc/gpuprov/keys.d/site"
echo "$key" >"$node/etc/pki-planted.key"
echo "$key" >"$node/etc/planted-notes.txt"
echo "planted journal" >"$node/var/log/journal/0123/system.journal"
echo "TOKEN=planted" >"$node/etc/environment"
echo "TOKEN=planted" >"$node/etc/site.env"
echo "TOKEN=planted" >"$node/proc/1/environ"
# Read by nothing: must not be in the capture either.
echo unread >"$node/etc/unread.conf"
echo unread >"$node/var/lib/dpkg/unread"
printf 'MZ not zeros' | dd of="$node/boot/vmlinuz-5.15.0-105-generic" conv=notrunc 2>/dev/null
truncate -s 50M "$node/boot/vmlinuz-5.15.0-105-generic"
# Each secret is made read: apt reads every *_Packages list, links included, inside the root.
for s in etc/shadow etc/gshadow etc/ssh/ssh_host_ed25519_key root/.ssh/id_ed25519 home/ops/.ssh/id_rsa \
	etc/gpuprov/keys.d/site etc/pki-planted.key etc/planted-notes.txt var/log/journal/0123/system.journal \
	etc/environment etc/site.env proc/1/environ; do
	ln -s "/$s" "$node/var/lib/apt/lists/zz-$(echo "$s" | tr / -)_Packages"
done
TMPDIR=$UNPACK gpuprov --root "$node" --profiles "$profiles" capture -o "$TMPD/node.tar.gz" 2>"$TMPD/err"
check "a node with secrets is captured (gzip)" [ -s "$TMPD/node.tar.gz" ]
tar -tzf "$TMPD/node.tar.gz" | sed 's#/$##' >"$TMPD/node-members"
check "the secrets were read: their links are captured" grep -qx 'root/var/lib/apt/lists/zz-etc-shadow_Packages' \
	"$TMPD/node-members"
for s in etc/shadow etc/gshadow etc/ssh/ssh_host_ed25519_key root/.ssh/id_ed25519 home/ops/.ssh/id_rsa \
	etc/gpuprov/keys.d/site etc/pki-planted.key etc/planted-notes.txt var/log/journal/0123/system.journal \
	etc/environment etc/site.env proc/1/environ; do
	check "withheld: $s" sh -c '! grep -qx "root/$1" "$2" && tar -xzOf "$3" gpuprov-capture.json |
		jq -e --arg p "root/$1" ".withheld | index(\$p)"' sh "$s" "$TMPD/node-members" "$TMPD/node.tar.gz"
done
check "no member holds a planted secret" sh -c '! tar -xzOf "$1" |
	grep -aqE "planted-hash|planted-gshadow|PRIVATE KEY|TOKEN=planted|planted journal"' sh "$TMPD/node.tar.gz"
check "a file nothing read is not captured" sh -c '! grep -q "unread" "$1"' sh "$TMPD/node-members"
# A kernel image detect only stat'ed (its size counts in /boot): its size, not its content.
k=root/boot/vmlinuz-5.15.0-105-generic
check "a file only stat'ed is in the manifest as such, with its size" sh -c 'tar -xzOf "$1" gpuprov-capture.json |
	jq -e --arg p "$2" ".members[] | select(.path == \$p) | .type == \"stat\" and .size == 52428800"' sh "$TMPD/node.tar.gz" "$k"
check "... and zeros for content" sh -c '[ "$(tar -xzOf "$1" "$2" | tr -d "\0" | wc -c)" -eq 0 ]' sh "$TMPD/node.tar.gz" "$k"
check "... so the capture stays small" [ "$(wc -c <"$TMPD/node.tar.gz")" -lt 1000000 ]
gpuprov --root "$node" --profiles "$profiles" detect --json 2>&1 | mask >"$TMPD/tree"
TMPDIR=$UNPACK gpuprov --root "$TMPD/node.tar.gz" --profiles "$profiles" detect --json 2>&1 | mask >"$TMPD/cap"
check "... and detect from it counts the same space in /boot" cmp "$TMPD/tree" "$TMPD/cap"

# A tree for /proc and /sys apart from the root: its own part, sysroot/, which --root alone
# then reads too; the same file as both is unpacked once.
cp -a "$srcdir/tests/machines/gh200-ubuntu2404/root" "$TMPD/sys"
gh=$srcdir/tests/machines/gh200-ubuntu2404/root
gpuprov --root "$gh" --sysroot "$TMPD/sys" capture -o "$TMPD/split.tar.zst" 2>"$TMPD/err"
members "$TMPD/split.tar.zst" >"$TMPD/split-members"
check "a separate --sysroot is captured under sysroot/" grep -qx 'sysroot/proc/cpuinfo' "$TMPD/split-members"
check "... and its /proc is not under root/" sh -c '! grep -qx "root/proc/cpuinfo" "$1"' sh "$TMPD/split-members"
gpuprov --root "$gh" --sysroot "$TMPD/sys" detect --json 2>&1 | mask >"$TMPD/tree"
TMPDIR=$UNPACK gpuprov --root "$TMPD/split.tar.zst" detect --json 2>&1 | mask >"$TMPD/cap"
check "--root CAPTURE alone reads its sysroot/ too" cmp "$TMPD/tree" "$TMPD/cap"
TMPDIR=$UNPACK gpuprov -v -v --root "$TMPD/split.tar.zst" --sysroot "$TMPD/split.tar.zst" detect --json \
	2>"$TMPD/err" | mask >"$TMPD/cap"
check "the same capture as --root and --sysroot: the same facts" cmp "$TMPD/tree" "$TMPD/cap"
check "... unpacked once" [ "$(grep -c 'unpacked .* into' "$TMPD/err")" -eq 1 ]

# Limits when capturing: a member past the most one may be stops the capture, clearly, and
# nothing is written.
cp -a "$srcdir/tests/machines/dgx-h100/root" "$TMPD/big"
truncate -s 300M "$TMPD/big/proc/cmdline"
TMPDIR=$UNPACK gpuprov --root "$TMPD/big" --profiles "$profiles" capture -o "$TMPD/big.tar.zst" 2>"$TMPD/err"
rc=$?
check "a member past the limit: capture fails (exit 1)" [ "$rc" -eq 1 ]
check "... naming the member and the limit" grep -q 'root/proc/cmdline: larger than 256 MiB' "$TMPD/err"
check "... and writes nothing" sh -c '! ls "$1"/big.tar.zst* 2>/dev/null | grep -q .' sh "$TMPD"
check "capture without -o is bad usage (exit 2)" sh -c '"$@" capture; [ $? -eq 2 ]' sh ${TEST_WRAPPER:-} "$GPUPROV" --root "$node"
check "a name that says no compression is bad usage (exit 2)" sh -c '"$@"; [ $? -eq 2 ]' sh ${TEST_WRAPPER:-} \
	"$GPUPROV" --root "$node" capture -o "$TMPD/x.tar"

# ---- verbs that change a node refuse a capture ---------------------------------------------
cap=$TMPD/dgx-h100.tar.zst
for v in "apply h100-nvlink --yes" "verify" "verify --commit" "rollback --yes" "revert"; do
	# shellcheck disable=SC2086
	TMPDIR=$UNPACK gpuprov --root "$cap" --profiles "$profiles" $v >/dev/null 2>"$TMPD/err"
	rc=$?
	if [ "$rc" -eq 2 ] && grep -q 'a capture, which only' "$TMPD/err"; then
		ok "$v refuses a capture (exit 2)"
	else
		not_ok "$v with a capture exited $rc"
		diag_file "$TMPD/err"
	fi
done
TMPDIR=$UNPACK gpuprov --root "$tree" --sysroot "$cap" verify >/dev/null 2>"$TMPD/err"
check "verify refuses a capture as --sysroot too (exit 2)" [ $? -eq 2 ]
unpack_is_empty "... and nothing was unpacked"

# ---- hostile captures ----------------------------------------------------------------------
# hostile NAME: a tar made by Python's tarfile (which writes what it is told), its members
# after the manifest as the case NAME says.
hostile() {
	python3 - "$1" "$TMPD/hostile-$1.tar" "$TMPD/escape" <<'EOF'
import io, sys, tarfile
case, out, escape = sys.argv[1:]
def reg(t, name, data=b"x", size=None):
    i = tarfile.TarInfo(name)
    i.size = len(data) if size is None else size
    if size is None:
        t.addfile(i, io.BytesIO(data))
    else:
        t.fileobj.write(i.tobuf(tarfile.GNU_FORMAT))
        t.fileobj.write(b"\0" * 512)
def special(t, name, kind, link=""):
    i = tarfile.TarInfo(name)
    i.type = kind
    i.linkname = link
    t.addfile(i)
with open(out, "wb") as f:
    t = tarfile.open(fileobj=f, mode="w", format=tarfile.GNU_FORMAT)
    reg(t, "gpuprov-capture.json", b'{"format": 1, "members": []}')
    reg(t, "root/etc/os-release", b"ID=debian\n")
    if case == "absolute":
        reg(t, escape + "/abs")
    elif case == "dotdot":
        reg(t, "root/../../escape/dotdot")
    elif case == "through-symlink":
        special(t, "root/etc/link", tarfile.SYMTYPE, escape)
        reg(t, "root/etc/link/through")
    elif case == "top-symlink":
        special(t, "sysroot", tarfile.SYMTYPE, "/")
    elif case == "device":
        special(t, "root/dev/sda", tarfile.BLKTYPE)
    elif case == "fifo":
        special(t, "root/dev/fifo", tarfile.FIFOTYPE)
    elif case == "hardlink":
        special(t, "root/etc/hosts", tarfile.LNKTYPE, "/etc/hostname")
    elif case == "twice":
        reg(t, "root/etc/os-release", b"ID=other\n")
    elif case == "outside-trees":
        reg(t, "elsewhere/file")
    elif case == "oversize":
        reg(t, "root/var/lib/big", size=300 << 20)
    if case != "oversize":
        t.close()
EOF
}
mkdir "$TMPD/escape"
# Each case, and the reason it is refused for: that one, not another that happens to stop it.
while read -r c why; do
	hostile "$c"
	gz=$TMPD/hostile-$c.tar.gz
	gzip -c "$TMPD/hostile-$c.tar" >"$gz"
	TMPDIR=$UNPACK gpuprov --root "$gz" detect --json >/dev/null 2>"$TMPD/err"
	rc=$?
	if [ "$rc" -eq 2 ] && grep -q "capture $gz: .*$why.*; nothing unpacked" "$TMPD/err"; then
		ok "hostile capture ($c) refused, exit 2: $(sed 's/.*\.tar\.gz: //' "$TMPD/err")"
	else
		not_ok "hostile capture ($c): exit $rc, not refused for: $why"
		diag_file "$TMPD/err"
	fi
done <<'EOF'
absolute not a path under root/ or sysroot/
dotdot not a path under root/ or sysroot/
through-symlink below a symlink
top-symlink the top of a tree, and not a directory
device a device, FIFO or socket
fifo a device, FIFO or socket
hardlink a hard link
twice in the archive twice
outside-trees not a path under root/ or sysroot/
oversize larger than 256 MiB
EOF
check "nothing landed outside through a hostile capture" [ -z "$(ls -A "$TMPD/escape")" ]
unpack_is_empty "every refused capture's directory was removed"

head -c 4096 /dev/urandom >"$TMPD/random.tar.zst"
head -c 20000 "$TMPD/dgx-h100.tar.zst" >"$TMPD/cut.tar.zst"
printf 'not a tar\n' >"$TMPD/text.tar.gz"
for f in random cut text; do
	file=$(ls "$TMPD/$f".tar.*)
	TMPDIR=$UNPACK gpuprov --root "$file" detect >/dev/null 2>"$TMPD/err"
	rc=$?
	if [ "$rc" -eq 2 ] && grep -q "capture $file: " "$TMPD/err"; then
		ok "$f capture refused, exit 2: $(sed 's/.*\.tar\.[a-z]*: //' "$TMPD/err")"
	else
		not_ok "$f capture: exit $rc"
		diag_file "$TMPD/err"
	fi
done
unpack_is_empty "nothing left of them either"

# tests/hw/run (run by hand on a GPU node, never here: tests/README.md) is clean for
# shellcheck and, without nvidia-smi, skips as TAP says.
hw=$srcdir/tests/hw/run
if command -v shellcheck >/dev/null 2>&1; then
	check "tests/hw/run is shellcheck clean (POSIX sh)" shellcheck -s sh "$hw"
elif [ "${CI:-}" = true ]; then
	not_ok "tests/hw/run: shellcheck is not installed (scripts/install-deps)"
else
	ok "tests/hw/run is shellcheck clean # SKIP shellcheck not found"
fi
mkdir "$TMPD/bin"
for t in sh sed mktemp dirname hostname date rm cat; do
	p=$(command -v "$t") && ln -s "$p" "$TMPD/bin/$t"
done
PATH=$TMPD/bin "$hw" >"$TMPD/hw.tap" 2>&1
rc=$?
check "tests/hw/run without nvidia-smi skips (exit 0, a plan of none, skipped)" sh -c '[ "$1" -eq 0 ] && grep -q "^1\.\.0 # SKIP" "$2"' sh "$rc" "$TMPD/hw.tap"

# Killed halfway (SIGPIPE of a reader that stops, here), the unpacked copy goes all the same.
TMPDIR=$UNPACK gpuprov --root "$cap" --profiles "$profiles" plan h100-nvlink 2>/dev/null | head -c 1 >/dev/null
sleep 1
unpack_is_empty "a run cut short by SIGPIPE leaves nothing unpacked"

done_testing
