/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing a capture: what the recorders noted, resolved to the members that reproduce it
 * (the links on the way, what they lead to, the names of listed directories), less the
 * secrets, into a compressed tar with its manifest. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "util/archive-lib.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"

/* A member of one tree: a path inside the root with no symlink above it. */
struct member {
	char *path;
	/* 'd' directory, 'l' link, and a regular file: 'f' read, its content; 's' stat'ed only,
	 * its size with zeros for content; 'n' listed only, a name */
	char type;
	char *target;
	mode_t mode;
	time_t mtime;
	uint64_t size; /* of an 's' */
};

struct tree {
	const struct root *root;
	const char *prefix; /* "root/" or "sysroot/" */
	struct member *m;
	size_t n, alloc;
	char ***withheld;
	size_t *n_withheld;
};

/* The secrets no capture holds, whatever read them (fnmatch(3) patterns without
 * FNM_PATHNAME: '*' spans directories). doc/formats.md lists them; keep the two together. */
static const char *const withheld_patterns[] = {
	"etc/shadow", "etc/shadow-", "etc/gshadow", "etc/gshadow-", "etc/security/opasswd",
	"etc/ssh/ssh_host_*key", "*/.ssh/*", "*/id_rsa", "*/id_dsa", "*/id_ecdsa", "*/id_ed25519",
	"*.key", "root/*", "home/*", "var/log/journal/*", "run/log/journal/*",
	"etc/environment", "*.env", "proc/*/environ",
};

bool capture_withheld(const char *path)
{
	const char *keys = startswith(path, "etc/gpuprov/keys.d/");

	/* A file gpuprov manages itself that only matches a pattern by its name: NVIDIA's CDI
	 * refresh unit's settings (container.cdi) hold paths, nothing secret. */
	if (streq(path, "etc/nvidia-container-toolkit/nvidia-cdi-refresh.env"))
		return false;
	/* keys.d keeps public keys and the revocation list; anything else there may be the
	 * private half of a signing key. */
	if (keys && *keys)
		return !(endswith(keys, ".pub") && !strchr(keys, '/')) && !streq(keys, "revoked");
	for (size_t i = 0; i < ELEMENTSOF(withheld_patterns); i++)
		if (fnmatch(withheld_patterns[i], path, 0) == 0)
			return true;
	return false;
}

bool capture_is_private_key(const char *data, size_t size)
{
	/* PEM ("-----BEGIN RSA PRIVATE KEY-----", "... EC PRIVATE KEY", PKCS#8 "PRIVATE KEY",
	 * "ENCRYPTED PRIVATE KEY") and OpenSSH's own format all say so in their armour. */
	return memmem(data, size, "PRIVATE KEY-----", 16) != NULL;
}

static int tree_withhold(struct tree *t, const char *path)
{
	return strv_pushf(t->withheld, t->n_withheld, "%s%s", t->prefix, path);
}

static int tree_push(struct tree *t, const char *path, char type, const char *target, const struct stat *st)
{
	struct member *m;

	if (capture_withheld(path))
		return tree_withhold(t, path);
	if (t->n == t->alloc) {
		size_t na = t->alloc ? t->alloc * 2 : 256;
		struct member *nm = realloc(t->m, na * sizeof(*nm));

		if (!nm)
			return -ENOMEM;
		t->m = nm;
		t->alloc = na;
	}
	m = &t->m[t->n];
	*m = (struct member){ .type = type, .mode = st->st_mode & 0777, .mtime = st->st_mtime, .size = (uint64_t)st->st_size };
	if (!(m->path = strdup(path)) || (target && !(m->target = strdup(target)))) {
		free(m->path);
		return -ENOMEM;
	}
	t->n++;
	return 0;
}

/* The entry at path (a directory inside the root with no symlink, then a name) as it is,
 * not followed; a regular file as file (a member type, 'f', 's' or 'n'). */
static int tree_add_entry(struct tree *t, const char *path, char file)
{
	const char *slash = strrchr(path, '/');
	_cleanup_close_ int dirfd = -EBADF;
	const char *name = slash ? slash + 1 : path;
	char target[PATH_MAX];
	struct stat st;
	ssize_t len;

	dirfd = root_open_at(t->root, slash ? strndupa(path, (size_t)(slash - path)) : ".", O_PATH | O_DIRECTORY);
	if (dirfd < 0)
		return dirfd == -ENOMEM ? dirfd : 0;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (S_ISDIR(st.st_mode))
		return tree_push(t, path, 'd', NULL, &st);
	if (S_ISREG(st.st_mode))
		return tree_push(t, path, file, NULL, &st);
	if (!S_ISLNK(st.st_mode))
		return 0; /* a device, FIFO or socket: nothing a capture can stand for */
	len = readlinkat(dirfd, name, target, sizeof(target) - 1);
	if (len < 0)
		return 0;
	target[len] = '\0';
	return tree_push(t, path, 'l', target, &st);
}

static int on_link(const char *at, const char *target, void *userdata)
{
	(void)target; /* read again where it is, with its mode */
	return tree_add_entry(userdata, at, 'f');
}

/* name in dir, a relative path without symlinks ("." for the top); NULL when out of memory. */
static char *rel_join(const char *dir, const char *name)
{
	bool top = streq(dir, ".");
	char *s;

	return asprintf(&s, "%s%s%s", top ? "" : dir, top ? "" : "/", name) < 0 ? NULL : s;
}

/* The names in directory path (resolved), each as what it is. files: regular files with
 * their content (a directory whose every file was read), else names only. */
static int tree_add_listing(struct tree *t, const char *path, bool files)
{
	_cleanup_(strv_freep) char **names = NULL;
	int k;

	if (root_list_dir(t->root, path, &names) < 0)
		return 0;
	for (char **n = names; *n; n++) {
		_cleanup_free_ char *sub = rel_join(path, *n);

		if (!sub)
			return -ENOMEM;
		if ((k = tree_add_entry(t, sub, files ? 'f' : 'n')) < 0)
			return k;
	}
	return 0;
}

/* One note: what it names, through the links on its way (each kept as a link). */
static int tree_note(struct tree *t, char kind, const char *path)
{
	_cleanup_free_ char *resolved = NULL, *joined = NULL;
	int k;

	while (*path == '/')
		path++;
	if (kind == ROOT_SEEN_LINK) {
		const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;

		if (*name && !streq(name, ".") && !streq(name, "..")) {
			k = root_chase_links(t->root, slash ? strndupa(path, (size_t)(slash - path)) : ".", on_link, t,
					     &resolved);
			if (k < 0)
				return k == -ENOMEM ? k : 0;
			if (!(joined = rel_join(resolved, name)))
				return -ENOMEM;
			return tree_add_entry(t, joined, 'f');
		}
	}
	/* Whatever failed to resolve was not there to read: its absence is captured by the
	 * links met on the way and the directories it was missing from. */
	k = root_chase_links(t->root, path, on_link, t, &resolved);
	if (k < 0)
		return k == -ENOMEM ? k : 0;
	if (!streq(resolved, ".") && (k = tree_add_entry(t, resolved, kind == ROOT_SEEN_STAT ? 's' : 'f')) < 0)
		return k;
	if (kind == ROOT_SEEN_LIST || kind == ROOT_SEEN_FILES)
		return tree_add_listing(t, resolved, kind == ROOT_SEEN_FILES);
	return 0;
}

static int member_cmp(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->path, ((const struct member *)b)->path);
}

/* How much of a regular file was taken: read beats stat'ed beats listed. */
static int file_rank(char type)
{
	return type == 'f' ? 3 : type == 's' ? 2 : type == 'n' ? 1 : 0;
}

/* Sorted, each path once, as much of it as was taken. */
static void tree_dedup(struct tree *t)
{
	size_t out = 0;

	if (t->n == 0)
		return; /* qsort() of no array at all (NULL) is undefined */
	qsort(t->m, t->n, sizeof(*t->m), member_cmp);
	for (size_t i = 0; i < t->n; i++) {
		if (out && streq(t->m[out - 1].path, t->m[i].path)) {
			if (file_rank(t->m[i].type) > file_rank(t->m[out - 1].type))
				t->m[out - 1].type = t->m[i].type;
			free(t->m[i].path);
			free(t->m[i].target);
			continue;
		}
		t->m[out++] = t->m[i];
	}
	t->n = out;
}

static int tree_build(struct tree *t, const struct root_record *rec)
{
	int k;

	if (!rec)
		return 0;
	if (rec->error < 0)
		return rec->error;
	for (size_t i = 0; i < rec->n; i++)
		if ((k = tree_note(t, rec->notes[i][0], rec->notes[i] + 1)) < 0)
			return k;
	return 0;
}

static void tree_done(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->m[i].path);
		free(t->m[i].target);
	}
	free(t->m);
}

/* The archive being written, with what the manifest will list. */
struct writer {
	struct archive *a;
	cJSON *members;
	uint64_t total;
	size_t count;
	char **error;
};

static int writer_header(struct writer *w, const char *name, mode_t type, mode_t perm, int64_t size, time_t mtime,
			 const char *target)
{
	_cleanup_(archive_entry_freep) struct archive_entry *e = archive_fn.archive_entry_new();

	if (!e)
		return -ENOMEM;
	if (++w->count > CAPTURE_MEMBERS_MAX)
		return gp_error_set(w->error, -GPE_TOOBIG, "%s: more than %u members, the most a capture holds", name,
				    CAPTURE_MEMBERS_MAX);
	archive_fn.archive_entry_set_pathname(e, name);
	archive_fn.archive_entry_set_filetype(e, type);
	archive_fn.archive_entry_set_perm(e, perm);
	archive_fn.archive_entry_set_size(e, size);
	archive_fn.archive_entry_set_mtime(e, mtime, 0);
	if (target)
		archive_fn.archive_entry_set_symlink(e, target);
	if (archive_fn.archive_write_header(w->a, e) != ARCHIVE_OK)
		return gp_error_set(w->error, -EIO, "%s: %s", name, archive_fn.archive_error_string(w->a));
	return 0;
}

static int writer_data(struct writer *w, const char *name, const char *data, size_t size)
{
	if (size && archive_fn.archive_write_data(w->a, data, size) != (la_ssize_t)size)
		return gp_error_set(w->error, -EIO, "%s: %s", name, archive_fn.archive_error_string(w->a) ?: "short write");
	return 0;
}

/* A stat'ed file's stand-in content: zeros, which compress to nearly nothing and unpack as
 * a sparse file. */
static int writer_zeros(struct writer *w, const char *name, uint64_t size)
{
	static const char zeros[65536];
	int k = 0;

	for (uint64_t left = size; left && k >= 0; left -= left < sizeof(zeros) ? left : sizeof(zeros))
		k = writer_data(w, name, zeros, left < sizeof(zeros) ? (size_t)left : sizeof(zeros));
	return k;
}

/* A regular file's content, read now: NULL with *ret_size 0 when it is gone or is no longer
 * a regular file (what was read is what detect saw; a file that vanished since is left out). */
static int read_member(const struct tree *t, const struct member *m, const char *name, char **ret, size_t *ret_size,
		       char **ret_error)
{
	_cleanup_close_ int fd = root_open_regular(t->root, m->path);
	struct stat st;
	int k;

	*ret = NULL;
	*ret_size = 0;
	if (fd < 0)
		return fd == -ENOMEM ? fd : 0;
	if (fstat(fd, &st) < 0)
		return -errno;
	k = (uint64_t)st.st_size > CAPTURE_MEMBER_MAX ? -GPE_TOOBIG : fd_read_file(fd, CAPTURE_MEMBER_MAX, ret, ret_size);
	if (k == -GPE_TOOBIG)
		return gp_error_set(ret_error, k, "%s: larger than %llu MiB, the most one member of a capture may be",
				    name, CAPTURE_MEMBER_MAX >> 20);
	if (k == -ENOMEM)
		return k;
	/* An attribute the kernel refuses to read now (EIO, EPERM) was no fact of detect's
	 * either: left out, as a file that vanished is. */
	if (k < 0) {
		log_debug("%s: %s; left out of the capture", name, gp_strerror(k));
		free(*ret);
		*ret = NULL;
		return 0;
	}
	return 1;
}

static int manifest_add(struct writer *w, const char *name, const struct member *m, size_t size)
{
	static const char *const types[] = { ['d'] = "directory", ['f'] = "file", ['s'] = "stat", ['n'] = "name",
					     ['l'] = "link" };
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddItemToArray(w->members, o) || !cJSON_AddStringToObject(o, "path", name) ||
	    !cJSON_AddStringToObject(o, "type", types[(unsigned char)m->type]) ||
	    ((m->type == 'f' || m->type == 's') && !cJSON_AddNumberToObject(o, "size", (double)size)) ||
	    (m->target && !cJSON_AddStringToObject(o, "target", m->target)))
		return -ENOMEM;
	return 0;
}

static int write_tree(struct writer *w, struct tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct member *m = &t->m[i];
		_cleanup_free_ char *name = NULL, *data = NULL;
		size_t size = 0;
		int k;

		if (asprintf(&name, "%s%s", t->prefix, m->path) < 0)
			return -ENOMEM;
		if (m->type == 'f') {
			if ((k = read_member(t, m, name, &data, &size, w->error)) < 0)
				return k;
			if (k == 0)
				continue;
			if (capture_is_private_key(data, size)) {
				if ((k = tree_withhold(t, m->path)) < 0)
					return k;
				continue;
			}
		}
		if (m->type == 's') {
			if (m->size > CAPTURE_MEMBER_MAX)
				return gp_error_set(w->error, -GPE_TOOBIG,
						    "%s: larger than %llu MiB, the most one member of a capture may be",
						    name, CAPTURE_MEMBER_MAX >> 20);
			size = (size_t)m->size;
		}
		if (m->type == 'f' || m->type == 's') {
			w->total += size;
			if (w->total > CAPTURE_TOTAL_MAX)
				return gp_error_set(w->error, -GPE_TOOBIG,
						    "%s: the capture grows past %llu MiB, the most it may hold", name,
						    CAPTURE_TOTAL_MAX >> 20);
		}
		k = writer_header(w, name,
				  m->type == 'd' ? AE_IFDIR : m->type == 'l' ? AE_IFLNK : AE_IFREG,
				  m->type == 'l' ? 0777 : m->mode, (int64_t)size, m->mtime, m->target);
		if (k >= 0)
			k = m->type == 's' ? writer_zeros(w, name, size) : writer_data(w, name, data, size);
		if (k < 0 || (k = manifest_add(w, name, m, size)) < 0)
			return k;
	}
	return 0;
}

static int write_manifest(struct writer *w, const struct capture_info *info, bool own_sysroot, char *const *withheld)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = cJSON_CreateObject();
	_cleanup_free_ char *text = NULL;
	char created[32];
	time_t now = time(NULL);
	struct tm tm;
	int k;

	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	if (!doc || !cJSON_AddNumberToObject(doc, "format", CAPTURE_FORMAT) ||
	    !cJSON_AddStringToObject(doc, "gpuprov", PACKAGE_VERSION) || !cJSON_AddStringToObject(doc, "created", created) ||
	    !json_add_str_or_null(doc, "hostname", info ? info->hostname : NULL) ||
	    !json_add_str_or_null(doc, "profile", info ? info->profile : NULL) ||
	    !cJSON_AddStringToObject(doc, "root", "root/") ||
	    !cJSON_AddStringToObject(doc, "sysroot", own_sysroot ? "sysroot/" : "root/") ||
	    !cJSON_AddItemToObject(doc, "members", w->members) || json_add_strv(doc, "withheld", withheld) < 0)
		return -ENOMEM;
	w->members = NULL; /* the document's now */
	if (!(text = cJSON_Print(doc)))
		return -ENOMEM;
	if ((k = writer_header(w, CAPTURE_MANIFEST, AE_IFREG, 0644, (int64_t)strlen(text), now, NULL)) < 0)
		return k;
	return writer_data(w, CAPTURE_MANIFEST, text, strlen(text));
}

int capture_compression_for(const char *path, enum capture_compression *ret)
{
	if (endswith(path, ".zst"))
		*ret = CAPTURE_ZSTD;
	else if (endswith(path, ".gz"))
		*ret = CAPTURE_GZIP;
	else
		return -EINVAL;
	return 0;
}

static int write_archive(int fd, enum capture_compression how, struct tree *trees, size_t n_trees,
			 const struct capture_info *info, char ***withheld, char **ret_error)
{
	_cleanup_(archive_write_freep) struct archive *a = NULL;
	struct writer w = { .error = ret_error };
	int k = 0;

	if (!(a = archive_fn.archive_write_new()) || !(w.members = cJSON_CreateArray()))
		k = -ENOMEM;
	else if (archive_fn.archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
		 (how == CAPTURE_ZSTD ? archive_fn.archive_write_add_filter_zstd(a)
				      : archive_fn.archive_write_add_filter_gzip(a)) != ARCHIVE_OK ||
		 archive_fn.archive_write_open_fd(a, fd) != ARCHIVE_OK)
		k = gp_error_set(ret_error, -EIO, "%s", archive_fn.archive_error_string(a) ?: "cannot start the archive");
	w.a = a;
	for (size_t i = 0; k >= 0 && i < n_trees; i++)
		k = write_tree(&w, &trees[i]);
	if (k >= 0) {
		strv_sort(*withheld);
		k = write_manifest(&w, info, n_trees > 1, *withheld);
	}
	cJSON_Delete(w.members);
	if (k >= 0 && archive_fn.archive_write_close(a) != ARCHIVE_OK)
		k = gp_error_set(ret_error, -EIO, "%s", archive_fn.archive_error_string(a) ?: "cannot finish the archive");
	return k;
}

int capture_write(const struct root *root, const struct root_record *root_rec, const struct root *sys,
		  const struct root_record *sys_rec, const char *path, const struct capture_info *info,
		  char **ret_error)
{
	_cleanup_(strv_freep) char **withheld = NULL;
	_cleanup_free_ char *tmp = NULL;
	size_t n_withheld = 0;
	bool one = streq(root->path, sys->path);
	struct tree trees[2] = {
		{ .root = root, .prefix = "root/", .withheld = &withheld, .n_withheld = &n_withheld },
		{ .root = sys, .prefix = "sysroot/", .withheld = &withheld, .n_withheld = &n_withheld },
	};
	enum capture_compression how;
	int fd = -EBADF, k;

	if (capture_compression_for(path, &how) < 0)
		return gp_error_set(ret_error, -EINVAL, "%s: a capture's name ends in .tar.zst or .tar.gz", path);
	if ((k = dynlib_need(&libarchive, "writing captures", ret_error)) < 0)
		return k;
	/* One directory for both: /proc and /sys were read from the root, and are archived there. */
	k = tree_build(&trees[0], root_rec);
	if (k >= 0)
		k = tree_build(&trees[one ? 0 : 1], sys_rec);
	for (size_t i = 0; k >= 0 && i < 2; i++)
		tree_dedup(&trees[i]);
	if (k >= 0 && asprintf(&tmp, "%s.XXXXXX", path) < 0)
		k = -ENOMEM;
	if (k >= 0 && (fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		k = gp_error_set(ret_error, -errno, "%s: %s", tmp, strerror(errno));
	if (k >= 0)
		k = write_archive(fd, how, trees, one ? 1 : 2, info, &withheld, ret_error);
	if (k >= 0 && fsync(fd) < 0)
		k = gp_error_set(ret_error, -errno, "%s: %s", tmp, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (k >= 0 && rename(tmp, path) < 0)
		k = gp_error_set(ret_error, -errno, "%s: %s", path, strerror(errno));
	if (k < 0 && fd >= 0)
		(void)unlink(tmp);
	tree_done(&trees[0]);
	tree_done(&trees[1]);
	return k;
}
