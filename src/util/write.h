/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "util/root.h"

/* Creates a directory and its parents inside the root (like mkdir -p). */
int root_mkdir_p(const struct root *r, const char *path, mode_t mode);

/*
 * Replaces a file inside the root atomically (DESIGN rule 4): a temporary file in the same
 * directory, written and fsync'd, renamed over the old one, then the directory fsync'd. A
 * reader sees the old content or the new, never a part. Parent directories are created.
 */
int root_write_atomic(const struct root *r, const char *path, const char *content, size_t size, mode_t mode);

/* 1 when a file could be written at path: the nearest directory there is on a filesystem
 * mounted read-write; 0 when it is read-only; -errno when that cannot be told. */
int root_writable(const struct root *r, const char *path);

/* Removes a file inside the root; 0 when it was not there. */
int root_unlink(const struct root *r, const char *path);

/* Removes a file, or a directory and all it holds, inside the root; links are removed,
 * never followed. 0 also when it was not there. */
int root_rm_rf(const struct root *r, const char *path);

/* Renames inside the root (both in the same filesystem), then syncs the target directory. */
int root_rename(const struct root *r, const char *from, const char *to);

/* Copies a file inside the root (to: a new name in an existing directory; replaced
 * atomically), mode 0644. */
int root_copy(const struct root *r, const char *from, const char *to);

/* Writes all of data to fd, again after short writes and EINTR. */
int fd_write_all(int fd, const void *data, size_t len);
