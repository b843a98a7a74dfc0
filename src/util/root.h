/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "macro.h"

/*
 * A directory that stands for "/": the target filesystem (--root) or the place /proc and
 * /sys are read from (--sysroot). Every path given to these functions is inside it; a
 * leading slash means its top, and symlinks, absolute or relative, are resolved inside it,
 * so no path, link or ".." leads out. This is what lets every test run on a fake machine.
 */
struct root_record;
struct root {
	int fd;     /* O_PATH descriptor of the directory */
	char *path; /* canonical absolute path: for libraries that only take paths */
	bool openat2; /* the kernel resolves inside the root for us (openat2 RESOLVE_IN_ROOT) */
	struct root_record *record; /* NULL unless root_record_start(): what was read (capture) */
};

int root_open(const char *path, struct root **ret);

/* Tests set this to exercise the manual resolution that stands in for openat2(). */
extern bool root_force_chase;
struct root *root_free(struct root *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct root *, root_free)

/* Resolves path inside the root. ret: a relative path without symlinks ("." for the top). */
int root_chase(const struct root *r, const char *path, char **ret);
/* The same, calling on_link(at, target) for each symlink met on the way, at its place in
 * the root (a relative path without symlinks), also when the resolution then fails. */
int root_chase_links(const struct root *r, const char *path,
		     int (*on_link)(const char *at, const char *target, void *userdata), void *userdata,
		     char **ret);
/* Like root_chase(), but the result is the host path (r->path + "/" + resolved). */
int root_host_path(const struct root *r, const char *path, char **ret);

/* Opens a file or directory inside the root; returns the descriptor or -errno. */
int root_open_at(const struct root *r, const char *path, int flags);
/* Opens a regular file inside the root to read it (sysfs and procfs attributes are regular
 * files too); anything else (a FIFO, a device, a directory) is -GPE_NOT_REGULAR. */
int root_open_regular(const struct root *r, const char *path);
/* fd when it is open on a regular file; otherwise closes it and returns why (-GPE_NOT_REGULAR,
 * or fd itself when it is already an error). */
int fd_keep_regular(int fd);
int root_fopen(const struct root *r, const char *path, FILE **ret);
int root_stat(const struct root *r, const char *path, struct stat *ret);
/* 1 when path exists inside the root, 0 when not, -errno when it cannot be told. */
int root_exists(const struct root *r, const char *path);
int root_is_dir(const struct root *r, const char *path);

/* Reads a whole file of at most max bytes; the result is NUL-terminated. These readers
 * (and root_fopen) take regular files only: anything else is -GPE_NOT_REGULAR, never waited on. */
int root_read_file(const struct root *r, const char *path, size_t max, char **ret,
		   size_t *ret_size);
/* The same from a file already open, read to its end (a caller that checked it first). */
int fd_read_file(int fd, size_t max, char **ret, size_t *ret_size);
/* Reads the first line, without surrounding whitespace (sysfs attributes, osrelease). */
int root_read_line(const struct root *r, const char *path, char **ret);
int fd_read_line(int fd, char **ret);
/* Reads a number written as the kernel writes it: "0x10de", "-1", "42". */
int root_read_s64(const struct root *r, const char *path, int64_t *ret);

/* Names in a directory, sorted, without "." and "..". ret is a NULL-terminated strv. */
int root_list_dir(const struct root *r, const char *path, char ***ret);
/* The same of a directory already open (fd stays open, the caller's). */
int fd_list_dir(int fd, char ***ret);
/* 1 when any of names (NULL-terminated) in the directory is itself a symlink, else 0. */
int root_dir_has_symlink(const struct root *r, const char *dir, const char *const *names);
/* Whether path is a symlink whose target does not exist inside the root. */
bool root_is_dangling_link(const struct root *r, const char *path);
/* The last component of a symlink's target (e.g. a device's "driver" link). */
int root_readlink_name(const struct root *r, const char *path, char **ret);
/* The same of a link named in a directory already open. */
int fd_readlink_name(int dirfd, const char *name, char **ret);

/*
 * A directory inside the root, opened once so that its entries are then opened relative to
 * it: one lookup of a name instead of one of the whole path (detect reads a GPU's or an HCA's
 * attributes, RDMA ports and net devices this way). A name that is itself a symlink, or one
 * that is not a plain entry ("..", "a/b"), is resolved from the directory's path through the
 * root, as root_open_at() would: nothing leads out of the root that does not by path.
 */
struct root_dir {
	const struct root *root;
	int fd;     /* O_PATH descriptor of the directory */
	char *path; /* as it was given, inside the root: where a symlink in it is resolved from */
};

int root_dir_open(const struct root *r, const char *path, struct root_dir **ret);
/* An entry of d that is a directory, held open the same way. */
int root_dir_open_dir(const struct root_dir *d, const char *name, struct root_dir **ret);
struct root_dir *root_dir_free(struct root_dir *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct root_dir *, root_dir_free)

/* The root_* functions of the same name, of an entry of d. */
int root_dir_open_at(const struct root_dir *d, const char *name, int flags);
int root_dir_read_line(const struct root_dir *d, const char *name, char **ret);
int root_dir_read_s64(const struct root_dir *d, const char *name, int64_t *ret);
int root_dir_readlink_name(const struct root_dir *d, const char *name, char **ret);
/* Names in d's entry name (NULL: in d itself), sorted, as root_list_dir(). */
int root_dir_list(const struct root_dir *d, const char *name, char ***ret);

/*
 * The recorder: while it is on, every path the functions above open, stat, list or readlink
 * is noted, as it was asked for, so that `gpuprov capture` archives exactly what detect, plan
 * and check read (src/capture/). Off, it costs one test of a NULL pointer.
 */
enum root_seen {
	ROOT_SEEN_PATH = 'p', /* opened: the path, the links on its way, what it leads to */
	ROOT_SEEN_STAT = 's', /* opened O_PATH (stat'ed, found, a directory held): no content read */
	ROOT_SEEN_LINK = 'l', /* readlink'ed or lstat'ed: its last component itself, not followed */
	ROOT_SEEN_LIST = 'd', /* listed: the directory and the names in it */
	ROOT_SEEN_FILES = 'f', /* every regular file in the directory read, by a descriptor of it */
};
struct root_record {
	char **notes; /* each: its enum root_seen, then the path */
	size_t n;
	int error;    /* the first failure to note one (-ENOMEM): the record is incomplete */
};
int root_record_start(struct root *r);
/* Turns the recorder off and hands what it noted on (NULL when it was not on). */
struct root_record *root_record_stop(struct root *r);
struct root_record *root_record_free(struct root_record *rec);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct root_record *, root_record_free)
void root_record_note(const struct root *r, enum root_seen kind, const char *path);
#define root_note(r, kind, path)                             \
	do {                                                 \
		if ((r)->record)                             \
			root_record_note((r), (kind), (path)); \
	} while (0)

/* Formats a path into a fixed buffer; yields NULL (read as ENAMETOOLONG) when it does not fit. */
#define path_fmt(buf, ...) \
	(snprintf((buf), sizeof(buf), __VA_ARGS__) < (int)sizeof(buf) ? (buf) : NULL)
