/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Managed files: backed up once, written atomically, restored by revert. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "files/managed.h"
#include "util/strutil.h"
#include "util/write.h"

#define MANAGED_MAX (1024 * 1024)
#define ABSENT ".absent"

static int backup_once(const struct root *root, const char *path)
{
	_cleanup_free_ char *old = NULL, *dest = NULL, *absent = NULL;
	struct stat st;
	size_t size = 0;
	int k;

	if (asprintf(&dest, MANAGED_BACKUP_DIR "/%s", path) < 0 || asprintf(&absent, "%s" ABSENT, dest) < 0)
		return -ENOMEM;
	if (root_exists(root, dest) > 0 || root_exists(root, absent) > 0)
		return 0;
	k = root_read_file(root, path, MANAGED_MAX, &old, &size);
	if (k == -ENOENT)
		return root_write_atomic(root, absent, "", 0, 0600);
	if (k < 0 || (k = root_stat(root, path, &st)) < 0)
		return k;
	return root_write_atomic(root, dest, old, size, st.st_mode & 07777);
}

int managed_write(const struct root *root, const char *path, const char *content, size_t size, mode_t mode)
{
	struct stat st;
	int k;

	while (*path == '/')
		path++;
	if ((k = backup_once(root, path)) < 0)
		return k;
	/* A file that is there keeps its mode: an admin's 0640 stays 0640. */
	if (root_stat(root, path, &st) >= 0 && S_ISREG(st.st_mode))
		mode = st.st_mode & 07777;
	return content ? root_write_atomic(root, path, content, size, mode) : root_unlink(root, path);
}

/* Every file below dir (relative to the backup directory), depth first. */
static int walk(const struct root *root, const char *dir, char ***files, size_t *n)
{
	_cleanup_(strv_freep) char **names = NULL;
	_cleanup_free_ char *full = NULL;
	int k;

	if (asprintf(&full, MANAGED_BACKUP_DIR "%s%s", *dir ? "/" : "", dir) < 0)
		return -ENOMEM;
	if ((k = root_list_dir(root, full, &names)) < 0)
		return k == -ENOENT ? 0 : k;
	for (char **e = names; *e; e++) {
		_cleanup_free_ char *rel = NULL, *abs = NULL;

		if (asprintf(&rel, "%s%s%s", dir, *dir ? "/" : "", *e) < 0 || asprintf(&abs, "%s/%s", full, *e) < 0)
			return -ENOMEM;
		k = root_is_dir(root, abs) ? walk(root, rel, files, n) : strv_push(files, n, rel);
		if (k < 0)
			return k;
	}
	return 0;
}

int managed_revert(const struct root *root, bool dry_run, char ***ret_done, size_t *ret_n)
{
	_cleanup_(strv_freep) char **files = NULL;
	size_t n = 0;
	int k;

	if ((k = walk(root, "", &files, &n)) < 0)
		return k;
	for (char **f = files; f && *f; f++) {
		_cleanup_free_ char *backup = NULL, *content = NULL, *target = NULL;
		size_t size = 0;
		struct stat st;
		bool absent = endswith(*f, ABSENT);

		if (asprintf(&backup, MANAGED_BACKUP_DIR "/%s", *f) < 0 ||
		    !(target = absent ? strndup(*f, strlen(*f) - strlen(ABSENT)) : strdup(*f)))
			return -ENOMEM;
		if (dry_run) {
			if (ret_done && strv_pushf(ret_done, ret_n, "would %s /%s", absent ? "remove" : "restore", target) < 0)
				return -ENOMEM;
			continue;
		}
		if (absent)
			k = root_unlink(root, target);
		else if ((k = root_read_file(root, backup, MANAGED_MAX, &content, &size)) >= 0 &&
			 (k = root_stat(root, backup, &st)) >= 0)
			k = root_write_atomic(root, target, content, size, st.st_mode & 07777);
		if (k < 0)
			return k;
		if ((k = root_unlink(root, backup)) < 0)
			return k;
		if (ret_done && strv_pushf(ret_done, ret_n, "%s /%s", absent ? "removed" : "restored", target) < 0)
			return -ENOMEM;
	}
	return 0;
}
