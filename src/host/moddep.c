/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A module's path from a module directory's modules.dep, the text depmod(8) writes beside its
 * binary indexes: one line "path: dependencies..." per module, the path relative to the
 * directory. Read here so that a kernel whose nvidia.ko is a plain ELF file is read without
 * libkmod (kmod-lib.h), which detect loads only for a compressed one. depmod names a module
 * after its file, up to the first '.', with '-' read as '_' (kmod's modname_normalize).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "facts.h"
#include "util/errors.h"
#include "util/strutil.h"

/* Whether the module file at path (line up to its ':') is the module name. */
static bool moddep_is(const char *path, size_t len, const char *name)
{
	const char *base = memrchr(path, '/', len);
	size_t n;

	base = base ? base + 1 : path;
	for (n = 0; base + n < path + len && base[n] != '.'; n++) {
		char c = base[n] == '-' ? '_' : base[n];

		/* The name's end first: a NUL in the line would match it and read on. */
		if (name[n] == '\0' || name[n] != c)
			return false;
	}
	return name[n] == '\0' && n > 0;
}

int moddep_find(const struct root *root, const char *moddir, const char *name, char **ret_path)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	char path[PATH_MAX];
	size_t alloc = 0;
	ssize_t l;
	int k;

	k = root_fopen(root, path_fmt(path, "%s/modules.dep", moddir), &f);
	if (k < 0)
		return k;
	errno = 0;
	while ((l = getline(&line, &alloc, f)) >= 0) {
		const char *colon = memchr(line, ':', (size_t)l);

		if (!colon || !moddep_is(line, (size_t)(colon - line), name))
			continue;
		/* depmod lists one file per name: the one its search order (updates/ first)
		 * picks. */
		*ret_path = strndup(line, (size_t)(colon - line));
		return *ret_path ? 1 : -ENOMEM;
	}
	return ferror(f) ? -(errno ? errno : EIO) : 0;
}
