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
 * Puts back every file gpuprov changed, byte for byte and with its mode, or removes the
 * ones it created; then forgets the backups. ret_done: one line per file (may be NULL).
 * dry_run: only the lines, nothing changed. Anything in the backup directory but
 * directories and regular files (a link above all, or the directory itself a link) is
 * -GPE_REFUSED, with ret_error saying which, before anything changed: no link is followed.
 */
int managed_revert(const struct root *root, bool dry_run, char ***ret_done, size_t *ret_n, char **ret_error);
