/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading a capture: unpacked into a private directory, every member taken as hostile. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "capture/capture.h"
#include "util/archive-lib.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/write.h"

#define READ_BLOCK (64u << 10)

/* The directory is ours, made by mkdtemp: removed through its parent, no link in it
 * followed (write.h). */
static void remove_dir(const char *dir)
{
	_cleanup_(root_freep) struct root *parent = NULL;
	const char *slash = strrchr(dir, '/');

	if (slash && root_open(slash == dir ? "/" : strndupa(dir, (size_t)(slash - dir)), &parent) >= 0)
		(void)root_rm_rf(parent, slash + 1);
}

int capture_guard(struct capture *c)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		char b;

		/* Nothing of the parent's held open (a pipe's reader waits for its stdout), and out
		 * of its process group (Ctrl-C stops the run, not this). */
		for (int fd = 0; fd < 3 && null >= 0; fd++)
			(void)dup2(null, fd);
		if (p[0] > 3)
			(void)close_range(3, (unsigned)p[0] - 1, 0);
		(void)close_range((unsigned)p[0] + 1, ~0u, 0);
		(void)setsid();
		while (read(p[0], &b, 1) < 0 && errno == EINTR)
			;
		remove_dir(c->dir);
		_exit(0);
	}
	close(p[0]);
	c->guard = p[1];
	return 0;
}

struct capture *capture_free(struct capture *c)
{
	if (!c)
		return NULL;
	if (c->dir)
		remove_dir(c->dir);
	if (c->guard >= 0)
		close(c->guard);
	free(c->file);
	free(c->dir);
	free(c->root);
	free(c->sysroot);
	free(c);
	return NULL;
}

/* A member's name as the archive may hold it: relative, under root/ or sysroot/, no empty,
 * "." or ".." component. *ret_len: its length without one trailing slash (a directory's). */
static bool member_name_ok(const char *name, size_t *ret_len)
{
	size_t len = strlen(name);
	const char *part = name;

	if (len && name[len - 1] == '/')
		len--;
	if (!len || len >= PATH_MAX || name[0] == '/')
		return false;
	if (!(len >= 4 && !strncmp(name, "root", 4) && (len == 4 || name[4] == '/')) &&
	    !(len >= 7 && !strncmp(name, "sysroot", 7) && (len == 7 || name[7] == '/')))
		return false;
	for (const char *p = name;; p++) {
		if (p == name + len || *p == '/') {
			size_t n = (size_t)(p - part);

			if (n == 0 || n > NAME_MAX || (n == 1 && part[0] == '.') || (n == 2 && part[0] == '.' && part[1] == '.'))
				return false;
			if (p == name + len)
				break;
			part = p + 1;
		}
	}
	*ret_len = len;
	return true;
}

/* The directory that holds path (its last component is *ret_base), made as needed below
 * top: each step opened with O_NOFOLLOW, so a link the archive made is never gone through. */
static int open_parent(int top, char *path, const char **ret_base)
{
	int cur = dup(top);
	char *p = path, *slash;

	if (cur < 0)
		return -errno;
	while ((slash = strchr(p, '/'))) {
		int next;

		*slash = '\0';
		if (mkdirat(cur, p, 0755) < 0 && errno != EEXIST) {
			int e = errno;

			close(cur);
			return -e;
		}
		next = openat(cur, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		*slash = '/';
		close(cur);
		if (next < 0)
			return errno == ELOOP || errno == ENOTDIR ? -ELOOP : -errno;
		cur = next;
		p = slash + 1;
	}
	*ret_base = p;
	return cur;
}

struct reader {
	struct archive *a;
	int top;
	uint64_t total;
	bool manifest;
	char **error;
};

static int refuse(struct reader *rd, const char *name, const char *why)
{
	return gp_error_set(rd->error, -GPE_PARSE, "%s: %s", name, why);
}

static int read_manifest(struct reader *rd, struct archive_entry *e)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	_cleanup_free_ char *text = NULL;
	la_int64_t size = archive_fn.archive_entry_size(e);
	la_ssize_t n;
	cJSON *format;

	if (rd->manifest)
		return refuse(rd, CAPTURE_MANIFEST, "more than once in the archive");
	if (archive_fn.archive_entry_filetype(e) != AE_IFREG || size < 0 || (uint64_t)size > CAPTURE_MANIFEST_MAX)
		return refuse(rd, CAPTURE_MANIFEST, "not a regular file of a manifest's size");
	if (!(text = malloc((size_t)size + 1)))
		return -ENOMEM;
	n = archive_fn.archive_read_data(rd->a, text, (size_t)size);
	if (n != size)
		return refuse(rd, CAPTURE_MANIFEST, "cut short");
	text[size] = '\0';
	doc = cJSON_Parse(text);
	format = cJSON_GetObjectItemCaseSensitive(doc, "format");
	if (!cJSON_IsObject(doc) || !cJSON_IsNumber(format))
		return refuse(rd, CAPTURE_MANIFEST, "not a capture's manifest (a JSON object with its format)");
	if (format->valuedouble != CAPTURE_FORMAT)
		return gp_error_set(rd->error, -GPE_PARSE, CAPTURE_MANIFEST ": format %g; this gpuprov reads format %d",
				    format->valuedouble, CAPTURE_FORMAT);
	rd->manifest = true;
	return 0;
}

static int write_file(struct reader *rd, const char *name, int dirfd, const char *base, mode_t perm, la_int64_t size)
{
	_cleanup_close_ int fd = -EBADF;
	char buf[READ_BLOCK];
	la_int64_t left = size;

	/* O_EXCL: a member named twice, or a link the archive made there, is never written through. */
	fd = openat(dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perm & 0755);
	if (fd < 0)
		return errno == EEXIST ? refuse(rd, name, "in the archive twice")
				       : gp_error_set(rd->error, -errno, "%s: %s", name, strerror(errno));
	while (left > 0) {
		la_ssize_t n = archive_fn.archive_read_data(rd->a, buf, sizeof(buf));
		int k = 0;

		if (n <= 0)
			return refuse(rd, name, n < 0 ? strna(archive_fn.archive_error_string(rd->a)) : "cut short");
		if (n > left)
			return refuse(rd, name, "longer than its header says");
		/* Zeros (a file only stat'ed on the node) are a hole: no disk for a kernel's size. */
		if (buf[0] == 0 && !memcmp(buf, buf + 1, (size_t)n - 1))
			k = lseek(fd, n, SEEK_CUR) < 0 ? -errno : 0;
		else
			k = fd_write_all(fd, buf, (size_t)n);
		if (k < 0)
			return gp_error_set(rd->error, k, "%s: %s", name, gp_strerror(k));
		left -= n;
	}
	/* A hole at the end is written by the size alone. */
	if (ftruncate(fd, size) < 0)
		return gp_error_set(rd->error, -errno, "%s: %s", name, strerror(errno));
	return 0;
}

static int read_member(struct reader *rd, struct archive_entry *e, const char *name)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int dirfd = -EBADF;
	mode_t type = archive_fn.archive_entry_filetype(e);
	la_int64_t size = archive_fn.archive_entry_size(e);
	const char *base = NULL, *target;
	struct stat st;
	size_t len;

	if (!member_name_ok(name, &len))
		return refuse(rd, name, "not a path under root/ or sysroot/ (absolute, \"..\", or outside them)");
	/* The two tops are opened as the roots: a link or a file there would be opened instead. */
	if ((len == 4 || len == 7) && type != AE_IFDIR)
		return refuse(rd, name, "the top of a tree, and not a directory");
	if (archive_fn.archive_entry_hardlink(e))
		return refuse(rd, name, "a hard link; a capture holds none");
	if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
		return refuse(rd, name, "a device, FIFO or socket; a capture holds none");
	if (type == AE_IFREG) {
		if (!archive_fn.archive_entry_size_is_set(e) || size < 0)
			return refuse(rd, name, "a file without a size");
		if ((uint64_t)size > CAPTURE_MEMBER_MAX)
			return gp_error_set(rd->error, -GPE_PARSE, "%s: larger than %llu MiB, the most one member may be",
					    name, CAPTURE_MEMBER_MAX >> 20);
		rd->total += (uint64_t)size;
		if (rd->total > CAPTURE_TOTAL_MAX)
			return gp_error_set(rd->error, -GPE_PARSE, "%s: the capture unpacks to more than %llu MiB", name,
					    CAPTURE_TOTAL_MAX >> 20);
	}
	if (!(path = strndup(name, len)))
		return -ENOMEM;
	dirfd = open_parent(rd->top, path, &base);
	if (dirfd == -ELOOP)
		return refuse(rd, name, "below a symlink or a file of the archive; never gone through");
	if (dirfd < 0)
		return gp_error_set(rd->error, dirfd, "%s: %s", name, gp_strerror(dirfd));
	if (type == AE_IFREG)
		return write_file(rd, name, dirfd, base, archive_fn.archive_entry_perm(e), size);
	if (type == AE_IFDIR) {
		if (mkdirat(dirfd, base, 0755) < 0 && errno != EEXIST)
			return gp_error_set(rd->error, -errno, "%s: %s", name, strerror(errno));
		if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			return refuse(rd, name, "a directory where the archive has something else");
		return 0;
	}
	/* Kept as it is, absolute or not: resolving it inside the root is root.c's job. */
	target = archive_fn.archive_entry_symlink(e);
	if (!target || !*target || strlen(target) >= PATH_MAX)
		return refuse(rd, name, "a symlink without a usable target");
	if (symlinkat(target, dirfd, base) < 0)
		return errno == EEXIST ? refuse(rd, name, "in the archive twice")
				       : gp_error_set(rd->error, -errno, "%s: %s", name, strerror(errno));
	return 0;
}

static int read_all(struct reader *rd)
{
	for (unsigned count = 0;; count++) {
		struct archive_entry *e;
		const char *name;
		int r = archive_fn.archive_read_next_header(rd->a, &e), k;

		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK)
			return gp_error_set(rd->error, -GPE_PARSE, "%s",
					    count == 0 ? "not a gpuprov capture (a tar compressed with zstd or gzip)"
						       : "the archive is cut short or damaged");
		if (count >= CAPTURE_MEMBERS_MAX)
			return gp_error_set(rd->error, -GPE_PARSE, "more than %u members, the most a capture holds",
					    CAPTURE_MEMBERS_MAX);
		name = archive_fn.archive_entry_pathname(e);
		if (!name)
			return gp_error_set(rd->error, -GPE_PARSE, "a member without a name");
		k = streq(name, CAPTURE_MANIFEST) ? read_manifest(rd, e) : read_member(rd, e, name);
		if (k < 0)
			return k;
	}
	if (!rd->manifest)
		return gp_error_set(rd->error, -GPE_PARSE, "no " CAPTURE_MANIFEST ": not a gpuprov capture");
	return 0;
}

int capture_open(const char *path, const char *tmpdir, struct capture **ret, char **ret_error)
{
	_cleanup_(capture_freep) struct capture *c = NULL;
	_cleanup_(archive_read_freep) struct archive *a = NULL;
	_cleanup_close_ int fd = -EBADF, top = -EBADF;
	struct reader rd = { .error = ret_error };
	struct stat st;
	int k;

	if ((k = dynlib_need(&libarchive, "reading captures", ret_error)) < 0)
		return k;
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0)
		return gp_error_set(ret_error, -errno, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return gp_error_set(ret_error, -GPE_PARSE, "not a regular file");
	if (!(c = calloc(1, sizeof(*c))))
		return -ENOMEM;
	c->guard = -1;
	if (!(c->file = strdup(path)) ||
	    asprintf(&c->dir, "%s/gpuprov-capture.XXXXXX", tmpdir) < 0)
		return -ENOMEM;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	if (!mkdtemp(c->dir)) {
		k = -errno;
		c->dir = mfree(c->dir);
		return gp_error_set(ret_error, k, "%s/gpuprov-capture.XXXXXX: %s", tmpdir, strerror(-k));
	}
	if ((top = open(c->dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;

	if (!(a = archive_fn.archive_read_new()))
		return -ENOMEM;
	archive_fn.archive_read_support_format_tar(a);
	archive_fn.archive_read_support_filter_zstd(a);
	archive_fn.archive_read_support_filter_gzip(a);
	if (archive_fn.archive_read_open_fd(a, fd, READ_BLOCK) != ARCHIVE_OK)
		return gp_error_set(ret_error, -GPE_PARSE, "not a gpuprov capture: %s",
				    strna(archive_fn.archive_error_string(a)));
	rd.a = a;
	rd.top = top;
	if ((k = read_all(&rd)) < 0)
		return k;
	/* An empty tree still stands for the root it was: detect finds nothing there. */
	if (mkdirat(top, "root", 0755) < 0 && errno != EEXIST)
		return -errno;
	if (asprintf(&c->root, "%s/root", c->dir) < 0 ||
	    asprintf(&c->sysroot, "%s/%s", c->dir, faccessat(top, "sysroot", F_OK, AT_SYMLINK_NOFOLLOW) == 0 ? "sysroot" : "root") < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(c);
	return 0;
}
