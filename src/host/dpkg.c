/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What dpkg's status database says is installed (Debian and Ubuntu). */
#include <errno.h>

#include "facts.h"
#include "util/deb822.h"
#include "util/strutil.h"

/* Status is "want flag state": "install ok installed", or "hold ok installed" once apt-mark
 * hold has held the package, as apply holds the stack. Installed is the state. */
static bool dpkg_status_installed(struct deb822_value status)
{
	static const char suffix[] = " ok installed";

	return status.p && status.len >= strlen(suffix) &&
	       memcmp(status.p + status.len - strlen(suffix), suffix, strlen(suffix)) == 0;
}

struct pass {
	struct dpkg_query *q;
	size_t n, left; /* queries, and those still unanswered */
};

static int answer(const struct deb822_fields *s, void *userdata)
{
	struct pass *p = userdata;
	_cleanup_free_ char *name = NULL;

	if (!s->package.p || !s->version.p || !dpkg_status_installed(s->status))
		return 0;
	if (!(name = strndup(s->package.p, s->package.len)))
		return -ENOMEM;
	for (size_t i = 0; i < p->n; i++) {
		struct dpkg_query *q = &p->q[i];

		if (q->package || (q->match ? !q->match(name) : !streq(name, q->name)))
			continue;
		if (!(q->package = strdup(name)) || !(q->version = strndup(s->version.p, s->version.len)))
			return -ENOMEM;
		p->left--;
	}
	/* Every question answered: the rest of the file is not read. */
	return p->left == 0;
}

int dpkg_query(const struct root *root, struct dpkg_query *q, size_t n)
{
	_cleanup_fclose_ FILE *f = NULL;
	struct pass p = { q, n, n };
	int k = root_fopen(root, "var/lib/dpkg/status", &f);

	if (k < 0)
		return k;
	k = n ? deb822_scan(f, answer, &p) : 0;
	return k < 0 ? k : 0;
}

void dpkg_queries_done(struct dpkg_query *q, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		q[i].package = mfree(q[i].package);
		q[i].version = mfree(q[i].version);
	}
}

int dpkg_package_version(const struct root *root, const char *name, char **ret_version)
{
	struct dpkg_query q = { .name = name };
	int k = dpkg_query(root, &q, 1);

	free(q.package);
	if (k < 0) {
		free(q.version);
		return k;
	}
	*ret_version = q.version;
	return q.version ? 1 : 0;
}
