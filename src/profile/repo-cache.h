/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <sys/stat.h>

#include "profile/repo.h"
#include "util/decompress.h"

/*
 * The index of apt's lists: the offered packages of a repository view as it reads them, sorted,
 * in var/cache/gpuprov/repo-view.idx under the root, so that a plan after apt-get update reads
 * the lists once and later plans map the index and look up only what they ask for. The index
 * names the lists it is of (name, device, inode, size, modification time, and the version
 * order): a list replaced, added or removed makes it stale, and the next plan reads the lists
 * again and writes a new one.
 *
 * gpuprov keeps an index only where var/cache/gpuprov is a directory of its own (owned by the
 * user gpuprov runs as, writable by no one else), as the package makes it; a tree without it
 * (a machine image, a test's fake root) is read and never written. An index not owned as its
 * directory is, not in this format, or of other lists is not used.
 */

/* One list apt keeps (the name in var/lib/apt/lists, compressed as c says), and what stat
 * says of it, so that a list apt has replaced is told from the one indexed. */
struct apt_list {
	char *file, *origin; /* origin: the plain list's name, whichever way apt keeps it */
	enum compression c;
	struct stat st;
};

/* What an index of these lists, in this order, of this architecture's packages (NULL: all)
 * names itself by. */
int repo_cache_key(const struct apt_list *lists, size_t n, enum vercmp_order order, const char *arch, void **ret,
		   size_t *ret_len);

/* Maps the index into v (recs, pool, map) when it is of the lists key names: 1; 0 when there
 * is none to use; -errno. */
int repo_cache_load(const struct root *root, const void *key, size_t key_len, struct repo_view *v);

/* Checks data[0..len) as an index of the lists key names: 1 and the records and strings in it;
 * 0 when it is not one (another format, other lists, damaged). */
int repo_cache_parse(const void *data, size_t len, const void *key, size_t key_len, const struct repo_rec **ret_recs,
		     size_t *ret_n, const char **ret_pool, size_t *ret_pool_len);

/* Writes v's offered packages as the index of the lists key names, when there is a place for
 * it; an index that cannot be written is not an error (the next plan reads the lists). */
void repo_cache_save(const struct root *root, const void *key, size_t key_len, const struct repo_view *v);
