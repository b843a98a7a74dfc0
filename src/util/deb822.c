/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "deb822.h"
#include "macro.h"
#include "strutil.h"

void deb822_stanza_clear(struct deb822_stanza *s)
{
	free(s->package);
	free(s->version);
	free(s->architecture);
	free(s->status);
	*s = (struct deb822_stanza){};
}

int deb822_next(FILE *f, struct deb822_stanza *s)
{
	static const struct {
		const char *prefix;
		size_t offset;
	} fields[] = {
		{ "Package: ", offsetof(struct deb822_stanza, package) },
		{ "Version: ", offsetof(struct deb822_stanza, version) },
		{ "Architecture: ", offsetof(struct deb822_stanza, architecture) },
		{ "Status: ", offsetof(struct deb822_stanza, status) },
	};
	_cleanup_free_ char *line = NULL;
	size_t linesz = 0;
	bool any = false;

	deb822_stanza_clear(s);
	while (getline(&line, &linesz, f) >= 0) {
		line[strcspn(line, "\n")] = '\0';
		/* A blank line ends a stanza; blank lines before one are nothing. */
		if (!*line) {
			if (any)
				return 1;
			continue;
		}
		any = true;
		for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
			const char *v = startswith(line, fields[i].prefix);

			if (v && free_and_strdup((char **)((char *)s + fields[i].offset), v) < 0)
				return -ENOMEM;
		}
	}
	/* A read that failed is not the end of the file: getline(3) left its cause in errno
	 * (a decompressed stream's too, decompress.h). */
	if (ferror(f))
		return errno > 0 ? -errno : -EIO;
	return any ? 1 : 0;
}
