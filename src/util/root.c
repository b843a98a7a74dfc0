/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

#include "errors.h"
#include "root.h"
#include "strutil.h"

/* The kernel's own limit on links followed while resolving one path. */
#define CHASE_MAX_LINKS 40

struct root *root_free(struct root *r)
{
	if (!r)
		return NULL;
	if (r->fd >= 0)
		close(r->fd);
	root_record_free(r->record);
	free(r->path);
	free(r);
	return NULL;
}

int root_record_start(struct root *r)
{
	if (!r->record && !(r->record = calloc(1, sizeof(*r->record))))
		return -ENOMEM;
	return 0;
}

struct root_record *root_record_stop(struct root *r)
{
	return TAKE_PTR(r->record);
}

struct root_record *root_record_free(struct root_record *rec)
{
	if (rec) {
		strv_free(rec->notes);
		free(rec);
	}
	return NULL;
}

void root_record_note(const struct root *r, enum root_seen kind, const char *path)
{
	struct root_record *rec = r->record;

	/* A path that did not fit its buffer (path_fmt) was never read: nothing to note. */
	if (!path || rec->error < 0)
		return;
	if (strv_pushf(&rec->notes, &rec->n, "%c%s", (char)kind, path) < 0)
		rec->error = -ENOMEM;
}

/* Drops the last component of a resolved relative path; the top stays the top. */
static void chase_pop(char *done)
{
	char *slash = strrchr(done, '/');

	if (slash)
		*slash = '\0';
	else
		done[0] = '\0';
}

int root_chase_links(const struct root *r, const char *path,
		     int (*on_link)(const char *at, const char *target, void *userdata), void *userdata,
		     char **ret)
{
	_cleanup_free_ char *todo = NULL, *done = NULL;
	unsigned links = 0;
	const char *p;

	if (!path)
		return -ENAMETOOLONG;
	todo = strdup(path);
	done = calloc(1, PATH_MAX);
	if (!todo || !done)
		return -ENOMEM;

	p = todo;
	for (;;) {
		char candidate[PATH_MAX], target[PATH_MAX];
		struct stat st;
		size_t n;
		ssize_t len;

		p += strspn(p, "/");
		if (!*p)
			break;
		n = strcspn(p, "/");
		if (n == 1 && p[0] == '.') {
			p += n;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			chase_pop(done);
			p += n;
			continue;
		}
		if (snprintf(candidate, sizeof(candidate), "%s%s%.*s", done, *done ? "/" : "",
			     (int)n, p) >= (int)sizeof(candidate))
			return -ENAMETOOLONG;
		p += n;

		if (fstatat(r->fd, candidate, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (S_ISLNK(st.st_mode)) {
			char *next;

			if (++links > CHASE_MAX_LINKS)
				return -ELOOP;
			len = readlinkat(r->fd, candidate, target, sizeof(target) - 1);
			if (len < 0)
				return -errno;
			target[len] = '\0';
			if (on_link) {
				int k = on_link(candidate, target, userdata);

				if (k < 0)
					return k;
			}
			/* An absolute target starts again from the top of the root, not the host's. */
			if (target[0] == '/')
				done[0] = '\0';
			if (asprintf(&next, "%s/%s", target, p) < 0)
				return -ENOMEM;
			free(todo);
			todo = next;
			p = todo;
			continue;
		}
		if (p[strspn(p, "/")] != '\0' && !S_ISDIR(st.st_mode))
			return -ENOTDIR;
		memcpy(done, candidate, strlen(candidate) + 1);
	}

	if (!*done)
		strcpy(done, ".");
	*ret = TAKE_PTR(done);
	return 0;
}

int root_chase(const struct root *r, const char *path, char **ret)
{
	root_note(r, ROOT_SEEN_PATH, path);
	return root_chase_links(r, path, NULL, NULL, ret);
}

int root_host_path(const struct root *r, const char *path, char **ret)
{
	_cleanup_free_ char *rel = NULL;
	int k;

	k = root_chase(r, path, &rel);
	if (k < 0)
		return k;
	if (asprintf(ret, "%s/%s", streq(r->path, "/") ? "" : r->path, rel) < 0)
		return -ENOMEM;
	return 0;
}

bool root_force_chase;

/* How one openat2() call may resolve: inside the root, and no /proc magic links. */
static long openat2_in_root(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	return syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/* Whether openat2() works here: Linux >= 5.6, and neither qemu-user nor a seccomp filter
 * in the way. Asked once per root, on its top, so a later error is that file's own. */
static bool openat2_works(int rootfd)
{
	long fd = openat2_in_root(rootfd, ".", O_PATH);

	if (fd < 0)
		return false;
	close((int)fd);
	return true;
}

int root_open(const char *path, struct root **ret)
{
	_cleanup_(root_freep) struct root *r = NULL;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r->fd < 0)
		return -errno;
	/* Absolute and canonical: libraries given a path below it (libkmod, libblkid) make
	 * theirs absolute, and the two must compare. */
	r->path = realpath(path, NULL);
	if (!r->path)
		return -errno;
	r->openat2 = openat2_works(r->fd);
	*ret = TAKE_PTR(r);
	return 0;
}

/* Attempts of openat2() when a rename elsewhere keeps racing the lookup (EAGAIN). */
#define OPENAT2_RETRIES 8

/*
 * The manual resolution, for where openat2() is missing (Linux < 5.6: openEuler 20.03 and
 * Kylin V10 run 4.19). It holds a descriptor of every directory on the way, so that no
 * rename or symlink swapped in meanwhile can lead out: each step opens one name below the
 * last with O_NOFOLLOW, a symlink is read through its own descriptor and started over,
 * ".." closes the last directory, and an absolute target drops back to the top.
 */
static int root_walk_open(const struct root *r, const char *path, int flags)
{
	_cleanup_free_ char *todo = strdup(path);
	_cleanup_free_ int *dirs = NULL;
	size_t depth = 0, alloc = 0;
	unsigned links = 0;
	const char *p;
	int k, fd;

	if (!todo)
		return -ENOMEM;
#define TOP (depth ? dirs[depth - 1] : r->fd)
	for (p = todo;;) {
		char name[NAME_MAX + 1], target[PATH_MAX];
		struct stat st;
		size_t n;
		bool last;

		p += strspn(p, "/");
		if (!*p) {
			/* Ended on a directory ("", "a/..", "a/."): open it as asked. */
			fd = openat(TOP, ".", flags | O_CLOEXEC);
			k = fd < 0 ? -errno : fd;
			break;
		}
		n = strcspn(p, "/");
		if (n > NAME_MAX) {
			k = -ENAMETOOLONG;
			break;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		last = p[strspn(p, "/")] == '\0';
		if (streq(name, "."))
			continue;
		if (streq(name, "..")) {
			if (depth)
				close(dirs[--depth]);
			continue;
		}

		fd = openat(TOP, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0) {
			k = -errno; /* before close() can change it */
			if (fd >= 0)
				close(fd);
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			ssize_t len = readlinkat(fd, "", target, sizeof(target) - 1);
			char *next;

			close(fd);
			if (len < 0 || ++links > CHASE_MAX_LINKS) {
				k = len < 0 ? -errno : -ELOOP;
				break;
			}
			target[len] = '\0';
			if (target[0] == '/')
				while (depth)
					close(dirs[--depth]);
			if (asprintf(&next, "%s/%s", target, p) < 0) {
				k = -ENOMEM;
				break;
			}
			free(todo);
			todo = next;
			p = todo;
			continue;
		}
		if (last) {
			/* Not a symlink when looked at; O_NOFOLLOW refuses one swapped in since. */
			close(fd);
			fd = openat(TOP, name, flags | O_NOFOLLOW | O_CLOEXEC);
			k = fd < 0 ? -errno : fd;
			break;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(fd);
			k = -ENOTDIR;
			break;
		}
		if (depth == alloc) {
			size_t na = alloc ? alloc * 2 : 16;
			int *nd = realloc(dirs, na * sizeof(*dirs));

			if (!nd) {
				close(fd);
				k = -ENOMEM;
				break;
			}
			dirs = nd;
			alloc = na;
		}
		dirs[depth++] = fd;
	}
#undef TOP
	while (depth)
		close(dirs[--depth]);
	return k;
}

int root_open_at(const struct root *r, const char *path, int flags)
{
	if (!path)
		return -ENAMETOOLONG;
	/* An O_PATH descriptor reads no content: what it stands for is kept without it. */
	root_note(r, flags & O_PATH ? ROOT_SEEN_STAT : ROOT_SEEN_PATH, path);
	if (r->openat2 && !root_force_chase) {
		for (int i = 0; i < OPENAT2_RETRIES; i++) {
			long fd = openat2_in_root(r->fd, *path ? path : ".", flags);

			if (fd >= 0)
				return (int)fd;
			/* EAGAIN: a rename raced the lookup; try again. EXDEV: the kernel saw the
			 * resolution escape (a race on ".."): an error, never a weaker retry. */
			if (errno != EAGAIN)
				return -errno;
		}
		return -EAGAIN;
	}
	return root_walk_open(r, path, flags);
}

/* O_NONBLOCK: a FIFO planted where a file is expected cannot hang the run (and the lock it
 * holds) before it is seen to be one. */
int root_open_regular(const struct root *r, const char *path)
{
	return fd_keep_regular(root_open_at(r, path, O_RDONLY | O_NONBLOCK));
}

int fd_keep_regular(int fd)
{
	struct stat st;
	int k;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		k = -errno;
	else if (!S_ISREG(st.st_mode))
		k = -GPE_NOT_REGULAR;
	else
		return fd;
	close(fd);
	return k;
}

int root_fopen(const struct root *r, const char *path, FILE **ret)
{
	int fd;
	FILE *f;

	fd = root_open_regular(r, path);
	if (fd < 0)
		return fd;
	f = fdopen(fd, "re");
	if (!f) {
		int e = errno;

		close(fd);
		return -e;
	}
	/* cpuinfo of a 224-thread machine is ~350 KiB: read it in gulps larger than stdio's 4 KiB,
	 * not so large that the buffer weighs on detect's memory. */
	setvbuf(f, NULL, _IOFBF, 16384);
	*ret = f;
	return 0;
}

int root_stat(const struct root *r, const char *path, struct stat *ret)
{
	_cleanup_close_ int fd = -EBADF;

	fd = root_open_at(r, path, O_PATH);
	if (fd < 0)
		return fd;
	if (fstat(fd, ret) < 0)
		return -errno;
	return 0;
}

int root_exists(const struct root *r, const char *path)
{
	int fd = root_open_at(r, path, O_PATH);

	if (fd == -ENOENT || fd == -ENOTDIR)
		return 0;
	if (fd < 0)
		return fd;
	close(fd);
	return 1;
}

int root_is_dir(const struct root *r, const char *path)
{
	struct stat st;

	return root_stat(r, path, &st) >= 0 && S_ISDIR(st.st_mode);
}

int fd_read_file(int fd, size_t max, char **ret, size_t *ret_size)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 0, alloc = 0;

	/* procfs and sysfs report a size of 0 or 4096: read until EOF, not by st_size. */
	for (;;) {
		ssize_t n;

		if (alloc - size < 2) {
			size_t want = alloc ? alloc * 2 : 4096;
			char *p;

			if (alloc > max + 1)
				return -GPE_TOOBIG;
			p = realloc(buf, want);
			if (!p)
				return -ENOMEM;
			buf = p;
			alloc = want;
		}
		n = read(fd, buf + size, alloc - size - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		size += (size_t)n;
		if (size > max)
			return -GPE_TOOBIG;
	}
	if (!buf) {
		buf = strdup("");
		if (!buf)
			return -ENOMEM;
	}
	buf[size] = '\0';
	if (ret_size)
		*ret_size = size;
	*ret = TAKE_PTR(buf);
	return 0;
}

int root_read_file(const struct root *r, const char *path, size_t max, char **ret,
		   size_t *ret_size)
{
	_cleanup_close_ int fd = root_open_regular(r, path);

	if (fd < 0)
		return fd;
	return fd_read_file(fd, max, ret, ret_size);
}

/* sysfs attributes and proc one-liners are small; anything larger is not what we expect. */
#define LINE_FILE_MAX 65536

int root_read_line(const struct root *r, const char *path, char **ret)
{
	_cleanup_close_ int fd = root_open_regular(r, path);

	if (fd < 0)
		return fd;
	return fd_read_line(fd, ret);
}

int fd_read_line(int fd, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	char small[4096], *line;
	ssize_t n;
	int k;

	/* Most callers read sysfs attributes: one read holds the whole first line, so the
	 * usual open + read + close is enough; only a longer line reads the whole file. */
	do
		n = read(fd, small, sizeof(small) - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	small[n] = '\0';
	if (!memchr(small, '\n', (size_t)n) && (size_t)n == sizeof(small) - 1) {
		if (lseek(fd, 0, SEEK_SET) < 0)
			return -errno;
		k = fd_read_file(fd, LINE_FILE_MAX, &buf, NULL);
		if (k < 0)
			return k;
	}
	line = buf ? buf : small;
	line[strcspn(line, "\n")] = '\0';
	line = strdup(strstrip(line));
	if (!line)
		return -ENOMEM;
	*ret = line;
	return 0;
}

int root_read_s64(const struct root *r, const char *path, int64_t *ret)
{
	_cleanup_free_ char *line = NULL;
	int k;

	k = root_read_line(r, path, &line);
	if (k < 0)
		return k;
	return parse_s64(line, ret);
}

int fd_list_dir(int fd, char ***ret)
{
	_cleanup_(strv_freep) char **names = NULL;
	struct dirent *de;
	size_t n = 0;
	int k = 0, own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d;

	/* A directory stream of its own: fd stays the caller's, open. */
	if (own < 0)
		return -errno;
	d = fdopendir(own);
	if (!d) {
		k = -errno;
		close(own);
		return k;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		k = strv_push(&names, &n, de->d_name);
		if (k < 0)
			break;
	}
	closedir(d);
	if (k < 0)
		return k;
	if (!names) {
		names = calloc(1, sizeof(char *));
		if (!names)
			return -ENOMEM;
	}
	strv_sort(names);
	*ret = TAKE_PTR(names);
	return 0;
}

int root_list_dir(const struct root *r, const char *path, char ***ret)
{
	_cleanup_close_ int fd = -EBADF;

	root_note(r, ROOT_SEEN_LIST, path);
	fd = root_open_at(r, path, O_RDONLY | O_DIRECTORY);

	if (fd < 0)
		return fd;
	return fd_list_dir(fd, ret);
}

int root_dir_has_symlink(const struct root *r, const char *dir, const char *const *names)
{
	_cleanup_close_ int dirfd = -EBADF;

	dirfd = root_open_at(r, dir, O_PATH | O_DIRECTORY);
	if (dirfd < 0)
		return dirfd;
	for (; *names; names++) {
		char path[PATH_MAX];
		struct stat st;

		root_note(r, ROOT_SEEN_LINK, path_fmt(path, "%s/%s", dir, *names));
		if (fstatat(dirfd, *names, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		if (S_ISLNK(st.st_mode))
			return 1;
	}
	return 0;
}

bool root_is_dangling_link(const struct root *r, const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dir = slash ? strndupa(path, (size_t)(slash - path)) : "";

	return root_dir_has_symlink(r, dir, (const char *const[]){ slash ? slash + 1 : path, NULL }) == 1 &&
	       root_exists(r, path) == 0;
}

int root_readlink_name(const struct root *r, const char *path, char **ret)
{
	_cleanup_close_ int dirfd = -EBADF;
	const char *slash, *name;
	char *dir;

	if (!path)
		return -ENAMETOOLONG;
	/* Resolve the directory holding the link, not the link itself. */
	slash = strrchr(path, '/');
	dir = strndupa(path, slash ? (size_t)(slash - path) : 0);
	name = slash ? slash + 1 : path;
	root_note(r, ROOT_SEEN_LINK, path);
	dirfd = root_open_at(r, dir, O_PATH | O_DIRECTORY);
	if (dirfd < 0)
		return dirfd;
	return fd_readlink_name(dirfd, name, ret);
}

int fd_readlink_name(int dirfd, const char *name, char **ret)
{
	char target[PATH_MAX];
	const char *slash;
	ssize_t len;

	len = readlinkat(dirfd, name, target, sizeof(target) - 1);
	if (len < 0)
		return -errno;
	target[len] = '\0';
	slash = strrchr(target, '/');
	*ret = strdup(slash ? slash + 1 : target);
	return *ret ? 0 : -ENOMEM;
}
