# Shared by the tests of the Ansible collection gpuprov.fleet (ansible/): Ansible kept inside
# the test's directory, and the collection built and installed there. Sourced after lib.sh;
# sets COLLECTIONS, COLLECTION_TARBALL.

for tool in ansible-galaxy ansible-doc ansible-playbook; do
	command -v "$tool" >/dev/null 2>&1 || { echo "1..0 # SKIP $tool not found (scripts/install-deps installs ansible)"; exit 0; }
done

# Everything Ansible would keep in the home directory (ANSIBLE_HOME, which the other paths
# derive from), its configuration and its temporary files stay in $TMPD: the ~/.ansible of
# whoever runs the tests is never read nor written. HOME itself stays: on Debian rpm finds
# its database through it (%_dbpath ~/.rpmdb, tests/pkg/dnf-root), and the dnf targets are
# made and applied to with the same one.
ANSIBLE_HOME=$TMPD/home/.ansible
ANSIBLE_LOCAL_TEMP=$TMPD/home/.ansible/tmp
ANSIBLE_REMOTE_TEMP=$TMPD/home/.ansible/remote-tmp
ANSIBLE_CONFIG=$TMPD/ansible.cfg
ANSIBLE_COLLECTIONS_PATH=$TMPD/collections
ANSIBLE_NOCOLOR=1
ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_HOME ANSIBLE_LOCAL_TEMP ANSIBLE_REMOTE_TEMP ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH \
	ANSIBLE_NOCOLOR ANSIBLE_RETRY_FILES_ENABLED
mkdir -p "$ANSIBLE_LOCAL_TEMP" "$ANSIBLE_COLLECTIONS_PATH"
: >"$ANSIBLE_CONFIG"
COLLECTIONS=$ANSIBLE_COLLECTIONS_PATH

# collection_install: ansible/ built with ansible-galaxy into $TMPD/galaxy (the tarball is
# $COLLECTION_TARBALL) and installed into $COLLECTIONS; the build's output is kept in
# $TMPD/galaxy-build.log, the install's in $TMPD/galaxy-install.log.
collection_install() {
	mkdir -p "$TMPD/galaxy"
	ansible-galaxy collection build --output-path "$TMPD/galaxy" "$srcdir/ansible" >"$TMPD/galaxy-build.log" 2>&1 ||
		return 1
	COLLECTION_TARBALL=$(ls "$TMPD"/galaxy/gpuprov-fleet-*.tar.gz) || return 1
	ansible-galaxy collection install -p "$COLLECTIONS" "$COLLECTION_TARBALL" >"$TMPD/galaxy-install.log" 2>&1
}
