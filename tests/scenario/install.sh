#!/bin/sh
# make install and make uninstall, into a staging directory (DESTDIR) from the build tree the
# tests run in: the program in sbindir, the shipped profiles, knowledge and schema in
# pkgdatadir/profiles (the program's default --profiles), the systemd units in
# systemdsystemunitdir with ExecStart naming the installed program, the man pages, the bash
# completion, the site's empty /etc/gpuprov directories; then uninstall leaves no file.
. "$srcdir/tests/scenario/lib.sh"

: "${top_builddir:?top_builddir is not set (run the tests through make check)}"
D=$TMPD/dest
MACHINE=$srcdir/tests/machines/dgx-h100/root

# This make, not the one running the tests: its jobserver is not ours to use.
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory -C "$top_builddir" "$@"
}

# var NAME: a variable of the build tree's Makefile, expanded.
var() {
	printf 'gp-print-var:\n\t@echo $(%s)\n' "$1" | mk -f Makefile -f - gp-print-var
}

# mode PATH: its permission bits in octal, e.g. 755.
mode() {
	stat -c %a "$1"
}

# file_mode DESCRIPTION PATH MODE: PATH is a plain file with those permission bits.
file_mode() {
	if [ -f "$2" ] && [ ! -L "$2" ] && [ "$(mode "$2")" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1: $2 is not a plain file of mode $3"
		ls -ld "$2" 2>&1 | sed 's/^/# /'
	fi
}

sbindir=$(var sbindir)
profilesdir=$(var profilesdir)
unitdir=$(var systemdsystemunitdir)
units=$(var systemdsystemunit_DATA)
mandir=$(var mandir)
sysconfdir=$(var sysconfdir)
completiondir=$(var bashcompletiondir)
completions=$(var bashcompletion_DATA)
pkglibexecdir=$(var pkglibexecdir)
if [ -z "$sbindir" ] || [ -z "$profilesdir" ] || [ -z "$unitdir" ]; then
	echo "Bail out! cannot read the install directories from $top_builddir/Makefile"
	exit 1
fi

if ! mk install DESTDIR="$D" >"$TMPD/install.out" 2>&1; then
	not_ok "make install DESTDIR=..."
	diag_file "$TMPD/install.out"
	done_testing
	exit 1
fi
ok "make install DESTDIR=..."

# The program.
file_mode "the program in sbindir ($sbindir/gpuprov), mode 755" "$D$sbindir/gpuprov" 755
check "the installed program runs (--version)" ${TEST_WRAPPER:-} "$D$sbindir/gpuprov" --version
${TEST_WRAPPER:-} "$D$sbindir/gpuprov" --help >"$TMPD/help" 2>&1
check "its default --profiles is the installed profiles directory ($profilesdir)" \
	grep -qF "(default $profilesdir)" "$TMPD/help"

# The shipped profiles, the knowledge and the schema, as in the source.
for f in "$srcdir"/profiles/*.json; do
	b=${f##*/}
	file_mode "profiles/$b installed, mode 644" "$D$profilesdir/$b" 644
	check "profiles/$b installed as shipped" cmp "$f" "$D$profilesdir/$b"
done
${TEST_WRAPPER:-} "$D$sbindir/gpuprov" --profiles "$D$profilesdir" --root "$MACHINE" profiles \
	>"$TMPD/profiles" 2>"$TMPD/profiles.err"
check "the installed program lists the installed profiles" test "$?" -eq 0
for p in $(shipped_profiles); do
	check "... $p among them" grep -q "^$p " "$TMPD/profiles"
done

# The systemd units, each starting the installed program.
for u in $units; do
	b=${u##*/}
	file_mode "$b in the unit directory ($unitdir), mode 644" "$D$unitdir/$b" 644
	# The programs its ExecStart= lines run: installed ones (gpuprov, or one of its own).
	sed -n 's/^ExecStart=[-@:+!]*\([^ ]*\).*/\1/p' "$D$unitdir/$b" >"$TMPD/exec"
	check "$b: ExecStart runs a program that make install put in sbindir or pkglibexecdir" \
		sh -c '[ -s "$1" ] && while read -r x; do
			case "$x" in "$3"/gpuprov | "$4"/*) [ -x "$2$x" ] || exit 1 ;; *) exit 1 ;; esac
		done <"$1"' sh "$TMPD/exec" "$D" "$sbindir" "$pkglibexecdir"
	check "$b: no @...@ left unsubstituted" sh -c '! grep -n "@[a-z_]*@" "$1"' sh "$D$unitdir/$b"
done
check "gpuprov-verify.service is among the units" sh -c 'case " $1 " in *"/gpuprov-verify.service "*) ;; *) exit 1 ;; esac' sh "$units"
check "gpuprov-verify.service runs $sbindir/gpuprov verify --commit" \
	grep -qxF "ExecStart=$sbindir/gpuprov verify --commit" "$D$unitdir/gpuprov-verify.service"
check "gpuprov-cdi.service is among the units" sh -c 'case " $1 " in *"/gpuprov-cdi.service "*) ;; *) exit 1 ;; esac' sh "$units"
check "gpuprov-cdi.service runs $sbindir/gpuprov cdi refresh" \
	grep -qxF "ExecStart=$sbindir/gpuprov cdi refresh" "$D$unitdir/gpuprov-cdi.service"
check "gpuprov-gpu.service is among the units" sh -c 'case " $1 " in *"/gpuprov-gpu.service "*) ;; *) exit 1 ;; esac' sh "$units"
check "gpuprov-gpu.service runs $sbindir/gpuprov gpu apply" \
	grep -qxF "ExecStart=$sbindir/gpuprov gpu apply" "$D$unitdir/gpuprov-gpu.service"

# The programs the units run, in pkglibexecdir.
for x in $(var pkglibexec_SCRIPTS); do
	file_mode "${x##*/} in $pkglibexecdir, mode 755" "$D$pkglibexecdir/${x##*/}" 755
done

# The man pages.
file_mode "gpuprov(8), mode 644" "$D$mandir/man8/gpuprov.8" 644
file_mode "gpuprov-profile(5), mode 644" "$D$mandir/man5/gpuprov-profile.5" 644
file_mode "gpuprov-knowledge(5), mode 644" "$D$mandir/man5/gpuprov-knowledge.5" 644

# The site's directories, made empty.
for d in profiles keys.d; do
	check "$sysconfdir/gpuprov/$d made, empty" sh -c '[ -d "$1" ] && [ -z "$(ls -A "$1")" ]' sh "$D$sysconfdir/gpuprov/$d"
done

# The cache directory, where plan keeps the index of apt's lists: root's, 755, empty.
localstatedir=$(var localstatedir)
check "$localstatedir/cache/gpuprov made, mode 755, empty" \
	sh -c '[ -d "$1" ] && [ "$(stat -c %a "$1")" = 755 ] && [ -z "$(ls -A "$1")" ]' sh "$D$localstatedir/cache/gpuprov"

# The bash completion, once the build installs one.
if [ -n "$completions" ]; then
	for c in $completions; do
		file_mode "bash completion ${c##*/} in $completiondir, mode 644" "$D$completiondir/${c##*/}" 644
	done
else
	ok "# SKIP the build installs no bash completion (no bashcompletion_DATA)"
fi

# Nothing installed outside the prefixes above.
find "$D" ! -type d | sed "s|^$D||" | sort >"$TMPD/files"
check "every installed file is one of the expected places" sh -c '! grep -vE "^($1/gpuprov|$2/[^/]+\.json|$3/gpuprov-[^/]+\.service|$4/man[58]/gpuprov[^/]*|$5/[^/]+|$6/[^/]+)\$" "$7"' sh \
	"$sbindir" "$profilesdir" "$unitdir" "$mandir" "${completiondir:-/nonexistent}" "$pkglibexecdir" "$TMPD/files"

# Uninstall: no file left, only directories.
if mk uninstall DESTDIR="$D" >"$TMPD/uninstall.out" 2>&1; then
	ok "make uninstall DESTDIR=..."
else
	not_ok "make uninstall DESTDIR=..."
	diag_file "$TMPD/uninstall.out"
fi
find "$D" ! -type d >"$TMPD/left"
if [ -s "$TMPD/left" ]; then
	not_ok "make uninstall leaves no file"
	diag_file "$TMPD/left"
else
	ok "make uninstall leaves no file"
fi

done_testing
