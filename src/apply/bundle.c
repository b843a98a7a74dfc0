/* SPDX-License-Identifier: GPL-2.0-or-later */
/* apply --bundle: a verified, unpacked offline bundle becomes the node's package source. */
#include <errno.h>

#include "apply/bundle.h"
#include "files/managed.h"
#include "util/errors.h"
#include "util/strutil.h"

int bundle_fits(const struct bundle_manifest *m, const char *profile, const struct facts *f, char **ret_error)
{
	const struct pkg_backend *be = pkg_backend_for(f);

	if (!streq(m->profile, profile))
		return gp_error_set(ret_error, -GPE_REFUSED, "bundle %s was made for profile %s, not %s", m->name,
				    m->profile, profile);
	if (!os_spec_matches(m->os, f->os.id, f->os.version_id))
		return gp_error_set(ret_error, -GPE_REFUSED, "bundle %s was made for %s; this node runs %s %s", m->name,
				    m->os, strna(f->os.id), strna(f->os.version_id));
	if (!streq_ptr(m->arch, f->cpu.arch))
		return gp_error_set(ret_error, -GPE_REFUSED, "bundle %s was made for %s; this node is %s", m->name, m->arch,
				    strna(f->cpu.arch));
	if (!be || !streq(be->name, m->backend))
		return gp_error_set(ret_error, -GPE_REFUSED, "bundle %s holds %s packages; this node uses %s", m->name,
				    m->backend, be ? be->name : "no known package manager");
	return 0;
}

static bool holds_suffix(const struct bundle_manifest *m, const char *suffix)
{
	for (size_t i = 0; i < m->n_files; i++)
		if (endswith(m->files[i].path, suffix))
			return true;
	return false;
}

int bundle_use(struct pkg_ctx *c, const struct bundle_manifest *m)
{
	_cleanup_free_ char *dir = NULL, *text = NULL;
	const char *path;
	int k;

	if (asprintf(&dir, BUNDLE_DIR "/%s", m->name) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	/* The signature and every file's SHA-256 were checked as the bundle was unpacked: the
	 * repository itself carries no signature of its own. */
	if (streq(m->backend, "apt")) {
		path = BUNDLE_APT_LIST;
		k = asprintf(&text,
			     "# Managed by gpuprov: the packages of offline bundle %s (key %s), verified when unpacked.\n"
			     "deb [trusted=yes] file:/%s ./\n",
			     m->name, strna(m->key_id), dir);
	} else {
		/* dnf --installroot reads a repository's baseurl on the host: the directory's
		 * path resolved inside the root, so that no link in the root leads dnf to a
		 * repository of the host's that was never verified. */
		_cleanup_free_ char *host = NULL;

		if ((k = root_host_path(c->root, dir, &host)) < 0)
			return pkg_fail(c, k, "%s: %s", dir, gp_strerror(k));
		path = BUNDLE_DNF_REPO;
		k = asprintf(&text,
			     "# Managed by gpuprov: the packages of offline bundle %s (key %s), verified when unpacked.\n"
			     "[gpuprov-bundle]\nname=gpuprov offline bundle %s\nbaseurl=file://%s\nenabled=1\n"
			     "gpgcheck=0\nmodule_hotfixes=1\n",
			     m->name, strna(m->key_id), m->name, host);
	}
	if (k < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	if ((k = managed_write(c->root, path, text, strlen(text), 0644)) < 0)
		return pkg_fail(c, k, "%s: %s", path, gp_strerror(k));
	return holds_suffix(m, ".run") ? runfile_adopt(c, dir) : 0;
}
