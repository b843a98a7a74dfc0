/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writes inside the root: directories, atomic file replacement, removal. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	if (snprintf(tmp, sizeof(tmp), ".#%s.gpuprov-%ld", base, (long)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
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
	_cleanup_close_ int dfd = -EBADF;
	const char *base;
	int k;

	if ((k = split_path(path, &dir, &base)) < 0)
		return k;
	dfd = root_open_at(r, dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
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
	}
}
