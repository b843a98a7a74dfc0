/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writes inside the root: directories, atomic file replacement, removal. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "util/write.h"

/* "etc/apt/preferences.d/gpuprov" -> dir "etc/apt/preferences.d", base "gpuprov". */
static int split_path(const char *path, char **ret_dir, const char **ret_base)
{
	const char *slash;

	while (*path == '/')
		path++;
	slash = strrchr(path, '/');
	if (!*path || (slash && !slash[1]))
		return -EINVAL;
	*ret_dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
	*ret_base = slash ? slash + 1 : path;
	return *ret_dir ? 0 : -ENOMEM;
}

/* The directory holding path, opened (the descriptor, or -errno), and path's last part. */
static int open_parent(const struct root *r, const char *path, char **ret_dir, const char **ret_base)
{
	int k = split_path(path, ret_dir, ret_base);

	return k < 0 ? k : root_open_at(r, *ret_dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
}

/* Names tried before giving up: a clash of two random 64-bit names is not to be expected. */
#define TMP_TRIES 16

/*
 * A new temporary file in dfd for replacing base: a random name, opened O_EXCL|O_NOFOLLOW,
 * so nothing planted under a name gpuprov would pick (a hard link to a file elsewhere, a
 * symlink, a FIFO) is ever opened, let alone written through. Not O_TMPFILE: vfat (the ESP)
 * has none. name: the file's name, for the rename and for removal on failure.
 */
static int tmp_create(int dfd, const char *base, mode_t mode, char *name, size_t size)
{
	for (int i = 0; i < TMP_TRIES; i++) {
		uint64_t rnd;
		int fd;

		if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -errno;
		if (snprintf(name, size, ".#%s.%016" PRIx64, base, rnd) >= (int)size)
			return -ENAMETOOLONG;
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

int fd_write_all(int fd, const void *data, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t l = write(fd, (const char *)data + done, len - done);

		if (l < 0 && errno == EINTR)
			continue;
		if (l < 0)
			return -errno;
		done += (size_t)l;
	}
	return 0;
}

int root_mkdir_p(const struct root *r, const char *path, mode_t mode)
{
	_cleanup_free_ char *copy = strdup(path);
	int k;

	if (!copy)
		return -ENOMEM;
	for (char *p = copy; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char save = *p;
		*p = '\0';
		if (*copy && !streq(copy, "/")) {
			k = root_is_dir(r, copy);
			if (!k) {
				_cleanup_free_ char *dir = NULL;
				_cleanup_close_ int dfd = -EBADF;
				const char *base;

				if ((k = split_path(copy, &dir, &base)) < 0)
					return k;
				dfd = root_open_at(r, dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
				if (dfd < 0)
					return dfd;
				if (mkdirat(dfd, base, mode) < 0 && errno != EEXIST)
					return -errno;
			}
		}
		if (save == '\0')
			break;
		*p = save;
	}
	return 0;
}

int root_write_atomic(const struct root *r, const char *path, const char *content, size_t size, mode_t mode)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int dfd = -EBADF, fd = -EBADF;
	char tmp[256];
	const char *base;
	int k;

	if ((k = split_path(path, &dir, &base)) < 0)
		return k;
	if ((k = root_mkdir_p(r, dir, 0755)) < 0)
		return k;
	dfd = root_open_at(r, dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (dfd < 0)
		return dfd;
	fd = tmp_create(dfd, base, mode, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	for (size_t done = 0; done < size;) {
		ssize_t l = write(fd, content + done, size - done);

		if (l < 0 && errno == EINTR)
			continue;
		if (l < 0) {
			k = -errno;
			goto fail;
		}
		done += (size_t)l;
	}
	/* The mode asked for, whatever the umask said. */
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		k = -errno;
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -EBADF;
		k = -errno;
		goto fail;
	}
	fd = -EBADF;
	if (renameat(dfd, tmp, dfd, base) < 0) {
		k = -errno;
		goto fail;
	}
	if (fsync(dfd) < 0)
		return -errno;
	return 0;
fail:
	(void)unlinkat(dfd, tmp, 0);
	return k;
}

int root_unlink(const struct root *r, const char *path)
{
	_cleanup_free_ char *dir = NULL;
	const char *base;
	_cleanup_close_ int dfd = open_parent(r, path, &dir, &base);

	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return dfd;
	if (unlinkat(dfd, base, 0) < 0)
		return errno == ENOENT ? 0 : -errno;
	return fsync(dfd) < 0 ? -errno : 1;
}

int root_writable(const struct root *r, const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	struct statvfs sv;

	if (!dir)
		return -ENOMEM;
	for (;;) {
		char *slash = strrchr(dir, '/');
		_cleanup_close_ int fd = -EBADF;

		if (slash)
			*slash = '\0';
		fd = root_open_at(r, slash && *dir ? dir : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0)
			return fstatvfs(fd, &sv) < 0 ? -errno : !(sv.f_flag & ST_RDONLY);
		if (fd != -ENOENT || !slash || !*dir)
			return fd;
		/* Missing, or its name taken by a link that leads nowhere in the root: mkdir
		 * would fail there, after the packages are in. */
		if (root_is_dangling_link(r, dir))
			return -ENOTDIR;
	}
}

/* Removes what dfd's entry name is, directories with their content, never following a link. */
static int rm_rf_at(int dfd, const char *name, unsigned depth)
{
	_cleanup_close_ int sub = -EBADF;
	DIR *d;
	struct dirent *e;
	int k = 0;

	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	if (depth > 32)
		return -ELOOP;
	sub = openat(dfd, name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		return -errno;
	d = fdopendir(sub);
	if (!d)
		return -errno;
	sub = -EBADF; /* the DIR owns it now */
	while (k >= 0 && (e = readdir(d)))
		if (!streq(e->d_name, ".") && !streq(e->d_name, ".."))
			k = rm_rf_at(dirfd(d), e->d_name, depth + 1);
	closedir(d);
	if (k < 0)
		return k;
	return unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

int root_rm_rf(const struct root *r, const char *path)
{
	_cleanup_free_ char *dir = NULL;
	const char *base;
	_cleanup_close_ int dfd = open_parent(r, path, &dir, &base);

	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return dfd;
	return rm_rf_at(dfd, base, 0);
}

int root_rename(const struct root *r, const char *from, const char *to)
{
	_cleanup_free_ char *fdir = NULL, *tdir = NULL;
	const char *fbase, *tbase;
	_cleanup_close_ int ffd = open_parent(r, from, &fdir, &fbase), tfd = open_parent(r, to, &tdir, &tbase);

	if (ffd < 0)
		return ffd;
	if (tfd < 0)
		return tfd;
	if (renameat(ffd, fbase, tfd, tbase) < 0)
		return -errno;
	return fsync(tfd) < 0 ? -errno : 0;
}

int root_copy(const struct root *r, const char *from, const char *to)
{
	_cleanup_free_ char *dir = NULL;
	const char *base;
	_cleanup_close_ int in = root_open_regular(r, from), dfd = open_parent(r, to, &dir, &base);
	_cleanup_close_ int out = -EBADF;
	char buf[1 << 16], tmp[256];
	ssize_t n;
	int k;

	if (in < 0)
		return in;
	if (dfd < 0)
		return dfd;
	if ((out = tmp_create(dfd, base, 0644, tmp, sizeof(tmp))) < 0)
		return out;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (k = fd_write_all(out, buf, (size_t)n)) < 0) {
			k = n < 0 ? -errno : k;
			(void)unlinkat(dfd, tmp, 0);
			return k;
		}
	}
	if (fsync(out) < 0 || renameat(dfd, tmp, dfd, base) < 0) {
		k = -errno;
		(void)unlinkat(dfd, tmp, 0);
		return k;
	}
	return 0;
}
