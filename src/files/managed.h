/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/root.h"

/* Where the content of every file before gpuprov first changed it is kept. */
#define MANAGED_BACKUP_PARENT "var/lib/gpuprov"
#define MANAGED_BACKUP_NAME "backup"
#define MANAGED_BACKUP_DIR MANAGED_BACKUP_PARENT "/" MANAGED_BACKUP_NAME

/*
 * The managed-file writer, one of apply's three doors (DESIGN): the original content and
 * mode are kept once under MANAGED_BACKUP_DIR/<path> (or <path>.absent when the file did
 * not exist), then the file is replaced atomically, keeping the mode of a file that is
 * there (mode is for a new one). content NULL removes the file.
 */
int managed_write(const struct root *root, const char *path, const char *content, size_t size, mode_t mode);

/*
 * The writer for a file of which only some keys are gpuprov's (json-keys.h): no backup of
 * the whole file, whose other keys the admin goes on editing; the record of gpuprov's keys
 * is written first, beside the backups, then the file. record NULL: no key is gpuprov's any
 * more, the record goes.
 */
int managed_write_keys(const struct root *root, const char *path, const char *content, mode_t mode, const char *record);
/* The record of gpuprov's keys in the file at path; -ENOENT when there is none. */
int managed_keys_record(const struct root *root, const char *path, char **ret);

/*
 * Puts back every file gpuprov changed, byte for byte and with its mode, or removes the
 * ones it created, and takes gpuprov's keys out of the files it merged them into (json-keys.h);
 * then forgets the backups. ret_done: one line per file (may be NULL).
 * dry_run: only the lines, nothing changed. Anything in the backup directory but
 * directories and regular files (a link above all, or the directory itself a link) is
 * -GPE_REFUSED, with ret_error saying which, before anything changed: no link is followed.
 */
int managed_revert(const struct root *root, bool dry_run, char ***ret_done, size_t *ret_n, char **ret_error);
