/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Managed files: backed up once, written atomically, restored by revert. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files/json-keys.h"
#include "files/managed.h"
#include "util/errors.h"
#include "util/strutil.h"
#include "util/write.h"

#define MANAGED_MAX (1024 * 1024)
#define ABSENT ".absent"
/* Deeper than any path gpuprov manages (etc/modprobe.d/x.conf and the like). */
#define WALK_MAX_DEPTH 32

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

/* A backup entry (path, dfd's name) that is neither a directory nor a regular file: said,
 * with a link's target. */
static int refuse_entry(int dfd, const char *name, const char *path, const struct stat *st, char **ret_error)
{
	char target[PATH_MAX];
	ssize_t len;

	if (!S_ISLNK(st->st_mode))
		return gp_error_set(ret_error, -GPE_REFUSED,
				    "%s: not a file or a directory; gpuprov made no such thing there", path);
	len = readlinkat(dfd, name, target, sizeof(target) - 1);
	target[len < 0 ? 0 : len] = '\0';
	return gp_error_set(ret_error, -GPE_REFUSED,
			    "%s: a symbolic link (to %s); gpuprov writes none there and follows none: remove it, "
			    "then revert again", path, len < 0 ? "?" : target);
}

/* The backup directory, opened only when it is a directory itself, not a link to one (the
 * directories above it are the root's own and followed as every path is). -ENOENT when
 * there is none: nothing was backed up. */
static int open_backup_dir(const struct root *root, char **ret_error)
{
	_cleanup_close_ int parent = root_open_at(root, MANAGED_BACKUP_PARENT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd;

	if (parent < 0)
		return parent;
	fd = openat(parent, MANAGED_BACKUP_NAME, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 || errno == ENOENT)
		return fd >= 0 ? fd : -ENOENT;
	if (errno == ELOOP || errno == ENOTDIR) {
		struct stat st;

		if (fstatat(parent, MANAGED_BACKUP_NAME, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		return refuse_entry(parent, MANAGED_BACKUP_NAME, MANAGED_BACKUP_DIR, &st, ret_error);
	}
	return -errno;
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

static int keys_record_path(const char *path, char **ret)
{
	while (*path == '/')
		path++;
	return asprintf(ret, MANAGED_BACKUP_DIR "/%s" JSON_KEYS_RECORD, path) < 0 ? -ENOMEM : 0;
}

int managed_keys_record(const struct root *root, const char *path, char **ret)
{
	_cleanup_free_ char *rec = NULL;
	int k;

	if ((k = keys_record_path(path, &rec)) < 0)
		return k;
	return root_read_file(root, rec, MANAGED_MAX, ret, NULL);
}

int managed_write_keys(const struct root *root, const char *path, const char *content, mode_t mode, const char *record)
{
	_cleanup_free_ char *rec = NULL;
	struct stat st;
	int k;

	if ((k = keys_record_path(path, &rec)) < 0)
		return k;
	/* The record before the file: a run stopped between them leaves a record of a key not
	 * yet there, which revert passes over, never a key of gpuprov's it does not know. */
	k = record ? root_write_atomic(root, rec, record, strlen(record), 0600) : root_unlink(root, rec);
	if (k < 0 && k != -ENOENT)
		return k;
	while (*path == '/')
		path++;
	if (root_stat(root, path, &st) >= 0 && S_ISREG(st.st_mode))
		mode = st.st_mode & 07777;
	return root_write_atomic(root, path, content, strlen(content), mode);
}

/* Takes gpuprov's keys out of target, as its record (backup, under the backup directory)
 * names them; ret_line says what was done. */
static int revert_keys(const struct root *root, const char *backup, const char *target, bool dry_run, char **ret_line,
		       char **ret_error)
{
	_cleanup_free_ char *record = NULL, *old = NULL, *content = NULL, *shown = NULL;
	bool remove = false;
	unsigned kept = 0;
	struct stat st;
	int k;

	if (asprintf(&shown, "/%s", target) < 0)
		return -ENOMEM;
	if ((k = root_read_file(root, backup, MANAGED_MAX, &record, NULL)) < 0)
		return k;
	k = root_read_file(root, target, MANAGED_MAX, &old, NULL);
	if (k == -ENOENT) /* the admin removed the file: no key of gpuprov's is left there */
		return asprintf(ret_line, "%s: gone already, nothing to take out", shown) < 0 ? -ENOMEM : 0;
	if (k < 0 || (k = json_keys_unmerge(shown, old, record, &content, &remove, &kept, ret_error)) < 0)
		return k;
	if (dry_run)
		return asprintf(ret_line, "would %s%s", remove ? "remove " : "take gpuprov's keys out of ", shown) < 0
			       ? -ENOMEM : 0;
	if (remove)
		k = root_unlink(root, target);
	else if ((k = root_stat(root, target, &st)) >= 0)
		k = root_write_atomic(root, target, content, strlen(content), st.st_mode & 07777);
	if (k < 0)
		return k;
	if (kept > 0)
		return asprintf(ret_line, "took gpuprov's keys out of %s; %u the admin changed since kept", shown, kept) < 0
			       ? -ENOMEM : 0;
	return asprintf(ret_line, "%s %s", remove ? "removed" : "took gpuprov's keys out of", shown) < 0 ? -ENOMEM : 0;
}

/* Every file below dfd's directory dir (relative to the backup directory), depth first;
 * dfd is closed here.
 * gpuprov keeps only directories and regular files there: anything else, a link above all,
 * is refused, never followed (a link there to /etc had revert "restore" each file of /etc
 * onto itself and then delete it as a spent backup). */
static int walk(int dfd, const char *dir, unsigned depth, char ***files, size_t *n, char **ret_error)
{
	_cleanup_close_ int fd = dfd;
	_cleanup_(strv_freep) char **names = NULL;
	int k;

	if (depth > WALK_MAX_DEPTH)
		return gp_error_set(ret_error, -GPE_REFUSED, MANAGED_BACKUP_DIR "/%s: nested too deep", dir);
	if ((k = fd_list_dir(fd, &names)) < 0)
		return k;
	for (char **name = names; k >= 0 && *name; name++) {
		_cleanup_free_ char *rel = NULL, *shown = NULL;
		struct stat st;

		if (asprintf(&rel, "%s%s%s", dir, *dir ? "/" : "", *name) < 0 ||
		    asprintf(&shown, MANAGED_BACKUP_DIR "/%s", rel) < 0)
			return -ENOMEM;
		if (fstatat(fd, *name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			k = -errno;
		else if (S_ISDIR(st.st_mode)) {
			int sub = openat(fd, *name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			k = sub < 0 ? -errno : walk(sub, rel, depth + 1, files, n, ret_error);
		} else if (S_ISREG(st.st_mode))
			k = strv_push(files, n, rel);
		else
			k = refuse_entry(fd, *name, shown, &st, ret_error);
	}
	return k;
}

int managed_revert(const struct root *root, bool dry_run, char ***ret_done, size_t *ret_n, char **ret_error)
{
	_cleanup_(strv_freep) char **files = NULL;
	size_t n = 0;
	int k, dfd;

	/* Every entry is looked at before the first file is put back: a refusal changes nothing. */
	if ((dfd = open_backup_dir(root, ret_error)) < 0)
		return dfd == -ENOENT ? 0 : dfd;
	if ((k = walk(dfd, "", 0, &files, &n, ret_error)) < 0)
		return k;
	for (char **f = files; f && *f; f++) {
		_cleanup_free_ char *backup = NULL, *content = NULL, *target = NULL;
		size_t size = 0;
		struct stat st;
		bool absent = endswith(*f, ABSENT), keys = endswith(*f, JSON_KEYS_RECORD);

		if (asprintf(&backup, MANAGED_BACKUP_DIR "/%s", *f) < 0 ||
		    !(target = absent ? strndup(*f, strlen(*f) - strlen(ABSENT))
			       : keys ? strndup(*f, strlen(*f) - strlen(JSON_KEYS_RECORD)) : strdup(*f)))
			return -ENOMEM;
		if (keys) {
			_cleanup_free_ char *line = NULL;

			if ((k = revert_keys(root, backup, target, dry_run, &line, ret_error)) < 0 ||
			    (!dry_run && (k = root_unlink(root, backup)) < 0))
				return k;
			if (ret_done && strv_push(ret_done, ret_n, line) < 0)
				return -ENOMEM;
			continue;
		}
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
