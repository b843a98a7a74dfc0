/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What dpkg's status database says is installed (Debian and Ubuntu). */
#include <errno.h>

#include "facts.h"
#include "util/strutil.h"

struct stanza {
	char *package, *version;
	bool installed;
};

static void stanza_clear(struct stanza *s)
{
	s->package = mfree(s->package);
	s->version = mfree(s->version);
	s->installed = false;
}

int dpkg_installed_version(const struct root *root, bool (*match)(const char *name),
			   char **ret_package, char **ret_version)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	struct stanza s = {};
	size_t linesz = 0;
	bool eof = false;
	int k;

	k = root_fopen(root, "var/lib/dpkg/status", &f);
	if (k < 0)
		return k;
	while (!eof) {
		const char *v;

		eof = getline(&line, &linesz, f) < 0;
		if (eof || line[0] == '\n') {
			if (s.installed && s.package && s.version && match(s.package)) {
				*ret_package = TAKE_PTR(s.package);
				*ret_version = TAKE_PTR(s.version);
				stanza_clear(&s);
				return 1;
			}
			stanza_clear(&s);
			continue;
		}
		line[strcspn(line, "\n")] = '\0';
		if ((v = startswith(line, "Package: "))) {
			free(s.package);
			s.package = strdup(v);
		} else if ((v = startswith(line, "Version: "))) {
			free(s.version);
			s.version = strdup(v);
		} else if ((v = startswith(line, "Status: ")))
			s.installed = streq(v, "install ok installed");
	}
	stanza_clear(&s);
	return 0;
}
