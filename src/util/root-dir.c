/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A directory inside the root held open, its entries read relative to it (root.h says why). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>

#include "errors.h"
#include "root.h"
#include "strutil.h"

struct root_dir *root_dir_free(struct root_dir *d)
{
	if (!d)
		return NULL;
	if (d->fd >= 0)
		close(d->fd);
	free(d->path);
	free(d);
	return NULL;
}

/* Takes fd (closed on failure) and a copy of path. */
static int root_dir_new(const struct root *r, int fd, const char *path, struct root_dir **ret)
{
	struct root_dir *d;

	if (fd < 0)
		return fd;
	d = calloc(1, sizeof(*d));
	if (!d || !(d->path = strdup(path))) {
		free(d);
		close(fd);
		return -ENOMEM;
	}
	d->root = r;
	d->fd = fd;
	*ret = d;
	return 0;
}

int root_dir_open(const struct root *r, const char *path, struct root_dir **ret)
{
	if (!path)
		return -ENAMETOOLONG;
	return root_dir_new(r, root_open_at(r, path, O_PATH | O_DIRECTORY), path, ret);
}

int root_dir_open_dir(const struct root_dir *d, const char *name, struct root_dir **ret)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", d->path, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return root_dir_new(d->root, root_dir_open_at(d, name, O_PATH | O_DIRECTORY), path, ret);
}

/* A name that is one entry of the directory: no slash, not "." or "..". */
static bool name_is_entry(const char *name)
{
	return *name && !strchr(name, '/') && !streq(name, ".") && !streq(name, "..");
}

int root_dir_open_at(const struct root_dir *d, const char *name, int flags)
{
	char path[PATH_MAX];

	if (name_is_entry(name)) {
		struct stat st;
		int fd;

		root_note(d->root, flags & O_PATH ? ROOT_SEEN_STAT : ROOT_SEEN_PATH,
			  path_fmt(path, "%s/%s", d->path, name));
		/* An entry, not a symlink, cannot lead anywhere but into this directory. */
		fd = openat(d->fd, name, flags | O_NOFOLLOW | O_CLOEXEC);

		if (fd < 0 && errno == ENOENT)
			return -ENOENT;
		/* O_PATH | O_NOFOLLOW opens a symlink itself rather than refusing it. */
		if (fd >= 0 && (!(flags & O_PATH) || (fstat(fd, &st) >= 0 && !S_ISLNK(st.st_mode))))
			return fd;
		if (fd >= 0)
			close(fd);
		/* A symlink (ELOOP, or ENOTDIR with O_DIRECTORY) or another error: the path's
		 * resolution through the root decides, and says the error as it would. */
	}
	return root_open_at(d->root, path_fmt(path, "%s/%s", d->path, name), flags);
}

int root_dir_read_line(const struct root_dir *d, const char *name, char **ret)
{
	_cleanup_close_ int fd = fd_keep_regular(root_dir_open_at(d, name, O_RDONLY | O_NONBLOCK));

	if (fd < 0)
		return fd;
	return fd_read_line(fd, ret);
}

int root_dir_read_s64(const struct root_dir *d, const char *name, int64_t *ret)
{
	_cleanup_free_ char *line = NULL;
	int k;

	k = root_dir_read_line(d, name, &line);
	if (k < 0)
		return k;
	return parse_s64(line, ret);
}

int root_dir_readlink_name(const struct root_dir *d, const char *name, char **ret)
{
	char path[PATH_MAX];

	/* readlinkat() never follows the link it reads: an entry is read where it is. */
	if (name_is_entry(name)) {
		root_note(d->root, ROOT_SEEN_LINK, path_fmt(path, "%s/%s", d->path, name));
		return fd_readlink_name(d->fd, name, ret);
	}
	return root_readlink_name(d->root, path_fmt(path, "%s/%s", d->path, name), ret);
}

int root_dir_list(const struct root_dir *d, const char *name, char ***ret)
{
	_cleanup_close_ int fd = -EBADF;
	char path[PATH_MAX];

	root_note(d->root, ROOT_SEEN_LIST, name ? path_fmt(path, "%s/%s", d->path, name) : d->path);
	/* "." of a directory held open is that directory, wherever it was reached from. */
	fd = name ? root_dir_open_at(d, name, O_RDONLY | O_DIRECTORY)
		  : openat(d->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return name ? fd : -errno;
	return fd_list_dir(fd, ret);
}
