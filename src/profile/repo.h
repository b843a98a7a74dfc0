/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/facts.h"
#include "util/vercmp.h"

/*
 * What the machine's repositories offer: the package names and versions the resolver
 * chooses from. Read from apt's lists (var/lib/apt/lists/ *_Packages, plain or kept
 * compressed as .gz, .xz, .lz4 or .zst: one copy of each) and from var/lib/gpuprov/repo.json,
 * which the dnf and runfile backends write; fake machines carry both as a real machine would.
 */
struct repo_pkg {
	const char *name;
	const char *version; /* as the package manager writes it: "550.127.05-0ubuntu0.22.04.1" */
	const char *arch;
	const char *origin;  /* the list file or repository id it came from */
	bool held;           /* installed list: apt-mark hold, or a dnf versionlock entry */
};

/* One offered package as the view keeps it: offsets into its string pool. The apt lists'
 * part of a view is kept this way in the index under var/cache/gpuprov (repo-cache.c) and
 * read back without a copy. */
struct repo_rec {
	uint32_t name, version, arch, origin;
};

struct repo_runfile {
	char *kind; /* "driver", "cuda" */
	char *version;
	char *driver; /* cuda: the driver it bundles */
	char *arch;
	char *file;
	char *sha256;
};

struct repo_view {
	/* How the package manager orders the packages' versions (VERCMP_DPKG, VERCMP_RPM). */
	enum vercmp_order order;
	/* The offered packages, sorted by name, then version newest first: repo_pkg() gives one. */
	const struct repo_rec *recs;
	size_t n_pkgs;
	const char *pool; /* the strings recs name, pool_len bytes, the last a NUL */
	size_t pool_len;
	struct repo_runfile *runfiles; /* sorted by kind, then version (dotted) newest first */
	size_t n_runfiles;
	struct repo_pkg *installed; /* installed packages: dpkg's status, or repo.json's "installed"
				     * (the dnf backend writes it from rpm), by name */
	size_t n_installed;

	/* What the view owns: the index it was read from (mapped), or the records and strings
	 * it read from the lists; the installed packages' strings. */
	void *map;
	size_t map_len;
	struct repo_rec *own_recs;
	char *own_pool, *installed_pool;
};

/* order: the OS's (os_version_order), for every package the view lists; machine: the node's
 * architecture as uname names it (facts' cpu.arch), whose packages (and "all") alone apt's
 * lists offer; NULL: every architecture's. */
int repo_view_load(const struct root *root, enum vercmp_order order, const char *machine, struct repo_view **ret,
		   char ***warnings, size_t *n_warnings);
struct repo_view *repo_view_free(struct repo_view *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct repo_view *, repo_view_free)

/* The offered package at index i (< v->n_pkgs). */
struct repo_pkg repo_pkg(const struct repo_view *v, size_t i);

/* The versions of a package offered, newest first: the index of the first and the count. */
size_t repo_find(const struct repo_view *v, const char *name, size_t *ret_count);
/* The offered packages whose names begin with prefix, by name: the index of the first and the
 * count. What the resolver looks for ("linux-image-", "cuda-toolkit-") is a small part of a
 * view of 100,000 packages and more: found without a look at the rest. */
size_t repo_find_prefix(const struct repo_view *v, const char *prefix, size_t *ret_count);

/* The installed versions of a package, newest first: the index of the first in v->installed
 * and the count. */
size_t repo_find_installed(const struct repo_view *v, const char *name, size_t *ret_count);

/* Whether the repositories offer exactly this version of a package (false for NULL). */
bool repo_offered(const struct repo_view *v, const char *name, const char *version);

/* Whether dpkg has exactly this version installed. -1: not known (no dpkg database). */
int repo_installed(const struct repo_view *v, const char *name, const char *version);

/* The installed version of a package (the newest, for install-only kernels), or NULL. */
const char *repo_installed_version(const struct repo_view *v, const char *name);
/* Whether any version of the package is installed. */
bool repo_installed_any(const struct repo_view *v, const char *name);
/* Whether the installed package is held (apt-mark hold, dnf versionlock). */
bool repo_held(const struct repo_view *v, const char *name);

/* "1:550.127.05-0ubuntu0.22.04.1" -> "550.127.05": the upstream part of a package version. */
void upstream_version(const char *version, char *buf, size_t size);
