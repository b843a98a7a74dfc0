#!/bin/sh
# revert and links in /var/lib/gpuprov/backup: gpuprov keeps only directories and regular
# files there, so a link found there (to a directory or to a file, absolute or relative, or
# the backup directory itself a link) is refused before anything is put back, and never
# followed. The files the links name are decoys in the test's own directory.
. "${srcdir}/tests/scenario/lib.sh"

# A root that apply has written to: /etc/motd replaced (its original kept as a backup) and
# /etc/gpuprov-new created (kept as an .absent marker); and decoy files, gpuprov's to leave
# alone, which the links name.
new_root() {
	R=$TMPD/$1
	mkdir -p "$R/etc" "$R/var/lib/gpuprov/backup/etc" "$R/srv/decoy/sub"
	printf 'written by apply\n' >"$R/etc/motd"
	printf 'created by apply\n' >"$R/etc/gpuprov-new"
	printf 'the motd before gpuprov\n' >"$R/var/lib/gpuprov/backup/etc/motd"
	: >"$R/var/lib/gpuprov/backup/etc/gpuprov-new.absent"
	printf 'decoy a\n' >"$R/srv/decoy/a"
	printf 'decoy b\n' >"$R/srv/decoy/sub/b"
	printf 'not for /etc/motd\n' >"$R/srv/decoy/secret"
	(cd "$R" && find srv etc -type f | sort | xargs sha256sum) >"$TMPD/$1.sums"
}
# untouched NAME: the decoys and the managed files are as new_root left them.
untouched() {
	(cd "$TMPD/$1" && sha256sum -c --quiet "$TMPD/$1.sums")
}
# revert NAME [OPTIONS]: its exit code in rc, its messages in $TMPD/NAME.err.
revert() {
	name=$1
	shift
	rc=0
	gpuprov --root "$TMPD/$name" revert "$@" >"$TMPD/$name.out" 2>"$TMPD/$name.err" || rc=$?
}

# A link to a directory, absolute: inside the root it names /srv/decoy.
new_root dirlink
ln -s /srv/decoy "$R/var/lib/gpuprov/backup/data"
revert dirlink
check "a directory link in the backup: refused (exit 3)" test "$rc" -eq 3
check "the refusal names the link and where it leads" \
	grep -q "var/lib/gpuprov/backup/data: a symbolic link (to /srv/decoy)" "$TMPD/dirlink.err"
check "the files it leads to stay where they are" untouched dirlink
check "nothing is made of them at the link's path" test ! -e "$R/data"
check "nothing else was put back first" grep -qx "written by apply" "$R/etc/motd"
check "the link is left for the admin to see" test -L "$R/var/lib/gpuprov/backup/data"
check "state.json does not say reverted" test ! -e "$R/var/lib/gpuprov/state.json"

# The same, relative, deeper in the tree.
new_root rellink
ln -s ../../../../../srv/decoy "$R/var/lib/gpuprov/backup/etc/sub"
revert rellink
check "a relative directory link: refused (exit 3)" test "$rc" -eq 3
check "the files it leads to stay where they are" untouched rellink
check "nothing is made of them at the link's path" test ! -e "$R/etc/sub"

# A link to a file, in the place of a backup.
new_root filelink
rm "$R/var/lib/gpuprov/backup/etc/motd"
ln -s /srv/decoy/secret "$R/var/lib/gpuprov/backup/etc/motd"
revert filelink
check "a file link in the place of a backup: refused (exit 3)" test "$rc" -eq 3
check "the file it leads to is not copied over the managed file" untouched filelink
revert filelink --dry-run
check "--dry-run refuses it too (exit 3)" test "$rc" -eq 3

# The backup directory itself a link.
new_root toplink
rm -rf "$R/var/lib/gpuprov/backup"
ln -s /srv/decoy "$R/var/lib/gpuprov/backup"
revert toplink
check "the backup directory a link: refused (exit 3)" test "$rc" -eq 3
check "the refusal names the backup directory" grep -q "var/lib/gpuprov/backup: a symbolic link" "$TMPD/toplink.err"
check "the files it leads to stay where they are" untouched toplink
check "nothing is made of them at the top of the root" test ! -e "$R/a" -a ! -e "$R/sub"

# Something else gpuprov makes no backup of: a FIFO.
new_root fifo
mkfifo "$R/var/lib/gpuprov/backup/etc/pipe"
revert fifo
check "a FIFO in the backup: refused (exit 3), not read" test "$rc" -eq 3
check "the refusal says what it is not" grep -q "backup/etc/pipe: not a file or a directory" "$TMPD/fifo.err"

# Once the link is gone, revert does its work.
rm "$TMPD/dirlink/var/lib/gpuprov/backup/data"
revert dirlink
R=$TMPD/dirlink
check "without the link: revert succeeds" test "$rc" -eq 0
check "the managed file is put back" grep -qx "the motd before gpuprov" "$R/etc/motd"
check "the file gpuprov created is removed" test ! -e "$R/etc/gpuprov-new"
check "the decoys are still there" sh -c "grep -qx 'decoy a' '$R/srv/decoy/a' && grep -qx 'decoy b' '$R/srv/decoy/sub/b'"

done_testing
