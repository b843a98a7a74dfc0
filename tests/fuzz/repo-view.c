/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The repository view, loaded and queried (repo-view.h). */
#include <stdlib.h>

#include "fuzz.h"
#include "profile/repo.h"
#include "repo-view.h"
#include "util/strutil.h"

void fuzz_repo_view(void)
{
	_cleanup_(repo_view_freep) struct repo_view *v = NULL;
	_cleanup_(strv_freep) char **warnings = NULL;
	size_t n_warnings = 0;

	if (repo_view_load(fuzz_root(), VERCMP_DPKG, "x86_64", &v, &warnings, &n_warnings) < 0)
		return;
	for (size_t i = 0; i < v->n_pkgs; i++) {
		struct repo_pkg p = repo_pkg(v, i);
		char upstream[256];
		size_t count;

		(void)repo_find(v, p.name, &count);
		(void)repo_find_prefix(v, p.name, &count);
		(void)repo_offered(v, p.name, p.version);
		(void)repo_installed(v, p.name, p.version);
		upstream_version(p.version, upstream, sizeof(upstream));
	}
	for (size_t i = 0; i < v->n_installed; i++) {
		size_t count;

		(void)repo_find_installed(v, v->installed[i].name, &count);
		(void)repo_installed_version(v, v->installed[i].name);
		(void)repo_held(v, v->installed[i].name);
	}
}
