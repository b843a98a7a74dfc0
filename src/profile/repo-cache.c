/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "profile/repo-cache.h"
#include "util/root.h"
#include "util/strutil.h"
#include "util/write.h"

#define CACHE_DIR "var/cache/gpuprov"
#define CACHE_FILE CACHE_DIR "/repo-view.idx"
/* Bumped whenever the layout or the meaning of the records changes. */
#define CACHE_FORMAT 1

/*
 * The layout: the header, the key (padded to 8 bytes), the records, the strings. In the byte
 * order and sizes of the machine that wrote it: an index is never carried to another machine,
 * and one that is (a copied disk image) fails the header's check and is rewritten.
 */
struct header {
	char magic[8];
	uint32_t format, rec_size;
	uint64_t key_len, n_recs, pool_len;
};

static const char magic[8] = "gpuprovI";

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

int repo_cache_key(const struct apt_list *lists, size_t n, enum vercmp_order order, const char *arch, void **ret,
		   size_t *ret_len)
{
	char *key = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&key, &len);

	if (!f)
		return -ENOMEM;
	fprintf(f, "order %d arch %s\n", (int)order, arch ? arch : "*");
	for (size_t i = 0; i < n; i++) {
		const struct stat *st = &lists[i].st;

		fprintf(f, "%s %llu %llu %lld %lld.%09ld\n", lists[i].file, (unsigned long long)st->st_dev,
			(unsigned long long)st->st_ino, (long long)st->st_size, (long long)st->st_mtim.tv_sec,
			st->st_mtim.tv_nsec);
	}
	if (fclose(f) != 0) {
		free(key);
		return -ENOMEM;
	}
	*ret = key;
	*ret_len = len;
	return 0;
}

int repo_cache_parse(const void *data, size_t len, const void *key, size_t key_len, const struct repo_rec **ret_recs,
		     size_t *ret_n, const char **ret_pool, size_t *ret_pool_len)
{
	const char *p = data;
	struct header h;
	size_t recs_at, pool_at;

	if (len < sizeof(h))
		return 0;
	memcpy(&h, p, sizeof(h));
	if (memcmp(h.magic, magic, sizeof(magic)) != 0 || h.format != CACHE_FORMAT ||
	    h.rec_size != sizeof(struct repo_rec) || h.key_len != key_len || h.pool_len == 0)
		return 0;
	/* Every size checked against what is there before it is added: no sum can wrap. */
	recs_at = sizeof(h) + pad8(key_len);
	if (recs_at > len || h.n_recs > (len - recs_at) / sizeof(struct repo_rec))
		return 0;
	pool_at = recs_at + h.n_recs * sizeof(struct repo_rec);
	if (h.pool_len != len - pool_at || memcmp(p + sizeof(h), key, key_len) != 0 || p[len - 1] != '\0')
		return 0;
	*ret_recs = (const struct repo_rec *)(const void *)(p + recs_at);
	*ret_n = h.n_recs;
	*ret_pool = p + pool_at;
	*ret_pool_len = h.pool_len;
	return 1;
}

/* The directory is the user's own and no one else's to write: else an index in it could be
 * someone else's. */
static bool owned(const struct stat *st)
{
	return st->st_uid == geteuid() && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/* Whether the root has the cache directory, and it is ours: else no index is read or written. */
static bool cache_dir_ours(const struct root *root)
{
	struct stat dir;

	return root_stat(root, CACHE_DIR, &dir) >= 0 && S_ISDIR(dir.st_mode) && owned(&dir);
}

int repo_cache_load(const struct root *root, const void *key, size_t key_len, struct repo_view *v)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	void *map;
	int k;

	if (!cache_dir_ours(root))
		return 0;
	if ((fd = root_open_regular(root, CACHE_FILE)) < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !owned(&st) || st.st_size < (off_t)sizeof(struct header))
		return 0;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return 0;
	k = repo_cache_parse(map, (size_t)st.st_size, key, key_len, &v->recs, &v->n_pkgs, &v->pool, &v->pool_len);
	if (k <= 0) {
		(void)munmap(map, (size_t)st.st_size);
		return 0;
	}
	v->map = map;
	v->map_len = (size_t)st.st_size;
	return 1;
}

void repo_cache_save(const struct root *root, const void *key, size_t key_len, const struct repo_view *v)
{
	_cleanup_free_ char *buf = NULL;
	struct header h = { .format = CACHE_FORMAT, .rec_size = sizeof(struct repo_rec), .key_len = key_len,
			    .n_recs = v->n_pkgs, .pool_len = v->pool_len };
	size_t recs_at = sizeof(h) + pad8(key_len), pool_at = recs_at + v->n_pkgs * sizeof(struct repo_rec);

	if (!v->pool_len || !cache_dir_ours(root))
		return;
	if (!(buf = calloc(1, pool_at + v->pool_len)))
		return;
	memcpy(h.magic, magic, sizeof(magic));
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), key, key_len);
	memcpy(buf + recs_at, v->recs, v->n_pkgs * sizeof(struct repo_rec));
	memcpy(buf + pool_at, v->pool, v->pool_len);
	/* Written whole under another name and renamed: a plan beside never maps half of one. */
	(void)root_write_atomic(root, CACHE_FILE, buf, pool_at + v->pool_len, 0644);
}
