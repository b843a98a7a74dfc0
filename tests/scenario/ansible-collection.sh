#!/bin/sh
# The Ansible collection gpuprov.fleet (ansible/): it builds with ansible-galaxy into a
# tarball holding the modules, the role and the playbook, its version is gpuprov's, every
# module compiles and its documentation prints with ansible-doc without a warning, and the
# playbook passes Ansible's syntax check with the collection installed.
. "${srcdir}/tests/scenario/lib.sh"

. "${srcdir}/tests/scenario/lib-ansible.sh"

if collection_install; then
	ok "ansible-galaxy builds the collection and installs it"
else
	not_ok "ansible-galaxy builds the collection and installs it"
	diag_file "$TMPD/galaxy-build.log"
	diag_file "$TMPD/galaxy-install.log" 2>/dev/null
	done_testing
	exit
fi
tar -tzf "$COLLECTION_TARBALL" >"$TMPD/tarball"
for f in plugins/modules/facts.py plugins/modules/apply.py plugins/modules/verify.py \
	plugins/module_utils/gpuprov.py plugins/doc_fragments/target.py meta/runtime.yml \
	roles/rolling_update/tasks/main.yml roles/rolling_update/defaults/main.yml \
	roles/rolling_update/meta/argument_specs.yml playbooks/rolling_update.yml README.md; do
	check "the tarball holds $f" grep -qx "$f" "$TMPD/tarball"
done
# All of ansible/ ships (galaxy.yml becomes MANIFEST.json): a file left out by build_ignore
# would be missing on every node.
(cd "$srcdir/ansible" && find . -type f ! -name galaxy.yml ! -name '*.pyc' ! -path '*/__pycache__/*' | sed 's|^[.]/||' | sort) \
	>"$TMPD/tree"
grep -v '/$' "$TMPD/tarball" | grep -vx -e MANIFEST.json -e FILES.json | sort >"$TMPD/shipped"
check "the tarball holds every file of ansible/" cmp -s "$TMPD/tree" "$TMPD/shipped"
diff "$TMPD/tree" "$TMPD/shipped" | diag_file /dev/stdin

# The version: configure.ac's AC_INIT, which gpuprov --version prints too.
version=$(sed -n 's/^AC_INIT(\[gpuprov\], \[\([^]]*\)\].*/\1/p' "$srcdir/configure.ac")
check "configure.ac has a version" test -n "$version"
check "galaxy.yml's version is gpuprov's ($version)" grep -qx "version: $version" "$srcdir/ansible/galaxy.yml"
check "the tarball is named with gpuprov's version" test "$(basename "$COLLECTION_TARBALL")" = "gpuprov-fleet-$version.tar.gz"
gpuprov --version >"$TMPD/gpuprov-version" 2>&1 || true
check "gpuprov --version is the collection's" grep -qx "gpuprov $version" "$TMPD/gpuprov-version"

# Every module and module utility compiles (in memory: the source tree may be read-only).
n=0
for f in $(find "$srcdir/ansible" -name '*.py' | sort); do
	check "python3 compiles ${f#"$srcdir"/}" python3 -c 'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "exec")' "$f"
	n=$((n + 1))
done
check_ran "every Python file of the collection is compiled" "$n"

# ansible-doc prints each module's documentation, with nothing on its standard error (a
# warning, a fragment it cannot find, a RETURN it cannot read).
n=0
for f in "$srcdir"/ansible/plugins/modules/*.py; do
	[ -e "$f" ] || continue
	m=gpuprov.fleet.$(basename "$f" .py)
	rc=0
	ansible-doc "$m" >"$TMPD/doc.out" 2>"$TMPD/doc.err" || rc=$?
	check "ansible-doc $m exits 0" test "$rc" -eq 0
	check "ansible-doc $m warns of nothing" test ! -s "$TMPD/doc.err"
	diag_file "$TMPD/doc.err"
	check "ansible-doc $m prints its options, examples and return values" \
		sh -c "grep -q '^OPTIONS' '$TMPD/doc.out' && grep -q '^EXAMPLES' '$TMPD/doc.out' && grep -q '^RETURN VALUES' '$TMPD/doc.out'"
	ansible-doc --json "$m" >"$TMPD/doc.json" 2>/dev/null || true
	check_json "ansible-doc $m documents the options the target takes (root, sysroot, binary)" \
		"(.\"$m\".doc.options | has(\"root\") and has(\"sysroot\") and has(\"binary\")) and (.\"$m\".return | length > 0)" \
		"$TMPD/doc.json"
	n=$((n + 1))
done
check_ran "every module's documentation is read" "$n"
ansible-doc --list gpuprov.fleet 2>"$TMPD/list.err" | awk '{ print $1 }' | sort >"$TMPD/listed"
printf 'gpuprov.fleet.apply\ngpuprov.fleet.facts\ngpuprov.fleet.verify\n' >"$TMPD/want"
check "ansible-doc lists the three modules of gpuprov.fleet" cmp -s "$TMPD/want" "$TMPD/listed"
diff "$TMPD/want" "$TMPD/listed" | diag_file /dev/stdin

# The playbook, with the role and the modules it names, as ansible-playbook reads it.
printf 'localhost ansible_connection=local\n' >"$TMPD/inventory"
rc=0
ansible-playbook --syntax-check -i "$TMPD/inventory" gpuprov.fleet.rolling_update >"$TMPD/syntax.log" 2>&1 || rc=$?
check "ansible-playbook --syntax-check passes the collection's rolling_update playbook" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/syntax.log"
# Ansible notes every playbook it runs from a collection: the only warning allowed.
check "the syntax check warns of nothing else" \
	sh -c "! grep WARNING '$TMPD/syntax.log' | grep -v 'running playbook inside collection gpuprov.fleet'"

# The role's argument spec: a variable of the wrong type fails the node before its first
# task, so gpuprov (here a stand-in that leaves a mark) never runs.
printf '#!/bin/sh\ntouch "%s/ran"\nexit 1\n' "$TMPD" >"$TMPD/gpuprov-mark"
chmod 755 "$TMPD/gpuprov-mark"
rc=0
ansible-playbook -i "$TMPD/inventory" gpuprov.fleet.rolling_update -e gpuprov_profile=h100-nvlink \
	-e gpuprov_binary="$TMPD/gpuprov-mark" -e gpuprov_reboot_timeout=soon >"$TMPD/spec.log" 2>&1 || rc=$?
check "a role variable of the wrong type fails the play" test "$rc" -ne 0
check "Ansible names the variable and its type" \
	sh -c "grep -q 'Validation of arguments failed' '$TMPD/spec.log' && grep -q \"argument 'gpuprov_reboot_timeout'.*int\" '$TMPD/spec.log'"
[ "$rc" -ne 0 ] || diag_file "$TMPD/spec.log"
check "gpuprov did not run" test ! -e "$TMPD/ran"

done_testing
