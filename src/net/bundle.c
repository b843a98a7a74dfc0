/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Offline bundles: a signed manifest and the files it lists, in one tar archive (bundle.h). */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "net/bundle.h"
#include "net/prefetch.h"
#include "net/sign.h"
#include "util/archive-lib.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/write.h"

#define MANIFEST_MAX (8u << 20)
#define DEFAULT_MAX_BYTES (64ull << 30)
#define DEFAULT_MAX_FILES 100000u

bool bundle_path_ok(const char *path)
{
	const char *part = path;

	if (!path || !*path || strlen(path) > 255)
		return false;
	for (const char *p = path;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t len = (size_t)(p - part);

			/* "" (a leading or doubled slash), "." and ".." */
			if (len == 0 || (len == 1 && part[0] == '.') || (len == 2 && part[0] == '.' && part[1] == '.'))
				return false;
			if (*p == '\0')
				return true;
			part = p + 1;
		} else if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+~%=@-", *p))
			return false;
	}
}

/* A bundle's name becomes a directory name: one plain component. */
static bool name_ok(const char *name)
{
	return name && *name != '.' && !strchr(name, '/') && strlen(name) <= 128 && bundle_path_ok(name);
}

struct bundle_manifest *bundle_manifest_free(struct bundle_manifest *m)
{
	if (!m)
		return NULL;
	for (size_t i = 0; i < m->n_files; i++)
		free(m->files[i].path);
	free(m->files);
	cJSON_Delete(m->doc);
	free(m);
	return NULL;
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct bundle_file *)a)->path, ((const struct bundle_file *)b)->path);
}

static bool is_hex64(const char *s)
{
	if (!s || strlen(s) != SHA256_HEX_LEN)
		return false;
	for (; *s; s++)
		if (!strchr("0123456789abcdef", *s))
			return false;
	return true;
}

/* created, expires and sequence: all three or none (a manifest of an older gpuprov, which
 * the node judges); one alone, or one that says nothing, is a damaged manifest. */
static int manifest_freshness(const cJSON *doc, struct bundle_manifest *m, char **ret_error)
{
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(doc, "sequence");
	bool any = seq || cJSON_GetObjectItemCaseSensitive(doc, "expires") ||
		   cJSON_GetObjectItemCaseSensitive(doc, "created");

	if (!any)
		return 0;
	m->created = json_str(doc, "created");
	m->expires = json_str(doc, "expires");
	if (!m->created || !date_ok(m->expires))
		return gp_error_set(ret_error, -GPE_PARSE, "%s: created and expires: expected a time and a date YYYY-MM-DD",
				    BUNDLE_MANIFEST);
	/* Whole, and within what is written back exactly. */
	if (!cJSON_IsNumber(seq) || seq->valuedouble < 1 || seq->valuedouble > (double)BUNDLE_SEQUENCE_MAX ||
	    seq->valuedouble != (double)(uint64_t)seq->valuedouble)
		return gp_error_set(ret_error, -GPE_PARSE, "%s: sequence: expected a whole number from 1 to %llu",
				    BUNDLE_MANIFEST, BUNDLE_SEQUENCE_MAX);
	m->sequence = (uint64_t)seq->valuedouble;
	m->dated = true;
	return 0;
}

/* The manifest's fields, once its signature verified; refuses what this reader cannot honour. */
static int manifest_parse(cJSON *doc, const struct bundle_limits *lim, struct bundle_manifest **ret, char **ret_error)
{
	_cleanup_(bundle_manifest_freep) struct bundle_manifest *m = calloc(1, sizeof(*m));
	const cJSON *files = cJSON_GetObjectItemCaseSensitive(doc, "files"), *f;
	const cJSON *format = cJSON_GetObjectItemCaseSensitive(doc, "format");
	int k;

	if (!m)
		return -ENOMEM;
	if (!cJSON_IsNumber(format) || format->valuedouble != BUNDLE_FORMAT)
		return gp_error_set(ret_error, -GPE_PARSE, "%s: format: expected %d", BUNDLE_MANIFEST, BUNDLE_FORMAT);
	m->name = json_str(doc, "name");
	m->profile = json_str(doc, "profile");
	m->os = json_str(doc, "os");
	m->arch = json_str(doc, "arch");
	m->backend = json_str(doc, "backend");
	m->key_id = json_str(doc, "key_id");
	if (!name_ok(m->name))
		return gp_error_set(ret_error, -GPE_PARSE, "%s: name: expected one plain path component", BUNDLE_MANIFEST);
	if (!m->profile || !m->os || !m->arch || !m->backend)
		return gp_error_set(ret_error, -GPE_PARSE, "%s: profile, os, arch and backend are required", BUNDLE_MANIFEST);
	if ((k = manifest_freshness(doc, m, ret_error)) < 0)
		return k;
	if (!cJSON_IsArray(files))
		return gp_error_set(ret_error, -GPE_PARSE, "%s: files: expected an array", BUNDLE_MANIFEST);
	if ((size_t)cJSON_GetArraySize(files) > lim->max_files)
		return gp_error_set(ret_error, -GPE_TOOBIG, "%s: files: %d entries, more than the %zu accepted", BUNDLE_MANIFEST,
			    cJSON_GetArraySize(files), lim->max_files);
	m->files = calloc((size_t)cJSON_GetArraySize(files) + 1, sizeof(*m->files));
	if (!m->files)
		return -ENOMEM;
	cJSON_ArrayForEach(f, files) {
		const cJSON *size = cJSON_GetObjectItemCaseSensitive(f, "size");
		const char *path = json_str(f, "path"), *sha = json_str(f, "sha256");
		struct bundle_file *bf = &m->files[m->n_files];

		if (!bundle_path_ok(path) || streq(path, BUNDLE_MANIFEST) || streq(path, BUNDLE_SIGNATURE))
			return gp_error_set(ret_error, -GPE_PARSE, "%s: files[%zu].path: '%s' is not a safe relative path",
				    BUNDLE_MANIFEST, m->n_files, strna(path));
		if (!cJSON_IsNumber(size) || size->valuedouble < 0 || size->valuedouble > (double)lim->max_bytes)
			return gp_error_set(ret_error, -GPE_PARSE, "%s: files[%zu].size: expected a size in bytes", BUNDLE_MANIFEST,
				    m->n_files);
		if (!is_hex64(sha))
			return gp_error_set(ret_error, -GPE_PARSE, "%s: files[%zu].sha256: expected 64 lowercase hex digits",
				    BUNDLE_MANIFEST, m->n_files);
		if (!(bf->path = strdup(path)))
			return -ENOMEM;
		bf->size = (uint64_t)size->valuedouble;
		memcpy(bf->sha256, sha, sizeof(bf->sha256));
		m->bytes += bf->size;
		m->n_files++;
		if (m->bytes > lim->max_bytes)
			return gp_error_set(ret_error, -GPE_TOOBIG, "%s: the files add up to more than the %llu bytes accepted",
				    BUNDLE_MANIFEST, (unsigned long long)lim->max_bytes);
	}
	qsort(m->files, m->n_files, sizeof(*m->files), file_cmp);
	for (size_t i = 1; i < m->n_files; i++)
		if (streq(m->files[i - 1].path, m->files[i].path))
			return gp_error_set(ret_error, -GPE_PARSE, "%s: files: '%s' is listed twice", BUNDLE_MANIFEST, m->files[i].path);
	/* Only now: on a failure the caller still owns doc. */
	m->doc = doc;
	*ret = TAKE_PTR(m);
	return 0;
}

/* What the archive is read from, for libarchive's callback: blocks read ahead on a thread. */
struct reader {
	struct prefetch *ahead;
	int error; /* of the transfer or the file, for a precise message */
};

static la_ssize_t reader_read(struct archive *a, void *userdata, const void **ret)
{
	struct reader *r = userdata;
	ssize_t n = prefetch_read(r->ahead, ret);

	if (n < 0) {
		r->error = (int)n;
		archive_fn.archive_set_error(a, EIO, "%s", prefetch_error(r->ahead));
		return -1;
	}
	return n;
}

/* An archive error in words; a transfer's own error wins, it says more. */
static int archive_fail(struct archive *a, const struct reader *r, char **ret_error, const char *what)
{
	if (r->error < 0)
		return gp_error_set(ret_error, r->error, "%s: %s", what,
				    archive_fn.archive_error_string(a) ?: gp_strerror(r->error));
	return gp_error_set(ret_error, -GPE_PARSE, "%s: damaged or truncated archive: %s", what,
		    archive_fn.archive_error_string(a) ?: "unexpected end");
}

/* The next entry, which must be a regular file of at most max bytes named name (NULL: any). */
static int next_entry(struct archive *a, const struct reader *r, const char *name, struct archive_entry **ret,
		      char **ret_error)
{
	struct archive_entry *e;
	int k = archive_fn.archive_read_next_header(a, &e);

	if (k == ARCHIVE_EOF)
		return name ? gp_error_set(ret_error, -GPE_PARSE, "the archive ends before %s", name) : 0;
	if (k < ARCHIVE_WARN)
		return archive_fail(a, r, ret_error, "bundle");
	if (name && !streq_ptr(archive_fn.archive_entry_pathname(e), name))
		return gp_error_set(ret_error, -GPE_PARSE, "the archive's entries must begin with %s and %s; found '%s'",
			    BUNDLE_MANIFEST, BUNDLE_SIGNATURE, strna(archive_fn.archive_entry_pathname(e)));
	*ret = e;
	return 1;
}

/* Reads a small entry whole. */
static int read_small(struct archive *a, const struct reader *r, struct archive_entry *e, size_t max, char **ret,
		      size_t *ret_len, char **ret_error)
{
	const char *name = archive_fn.archive_entry_pathname(e);
	int64_t size = archive_fn.archive_entry_size(e);
	_cleanup_free_ char *buf = NULL;
	la_ssize_t got;

	if (archive_fn.archive_entry_filetype(e) != AE_IFREG || size < 0 || (uint64_t)size > max)
		return gp_error_set(ret_error, -GPE_PARSE, "%s: expected a regular file of at most %zu bytes", name, max);
	if (!(buf = malloc((size_t)size + 1)))
		return -ENOMEM;
	got = archive_fn.archive_read_data(a, buf, (size_t)size);
	if (got != (la_ssize_t)size)
		return got < 0 ? archive_fail(a, r, ret_error, name) : gp_error_set(ret_error, -GPE_PARSE, "%s: truncated", name);
	buf[size] = '\0';
	*ret_len = (size_t)size;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* The manifest and its signature, checked against the trusted keys: nothing is written
 * before this passed. */
static int read_signed_manifest(struct archive *a, const struct reader *r, const struct root *root,
				const char *keys_dir, const char *today, const struct bundle_limits *lim,
				struct bundle_manifest **ret, char **ret_error, char ***ret_warnings)
{
	_cleanup_(sign_verdict_done) struct sign_verdict v = {};
	_cleanup_free_ char *text = NULL, *sig = NULL;
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	struct archive_entry *e = NULL;
	size_t len, sig_len;
	const char *want_id;
	int k;

	if ((k = next_entry(a, r, BUNDLE_MANIFEST, &e, ret_error)) < 0 ||
	    (k = read_small(a, r, e, MANIFEST_MAX, &text, &len, ret_error)) < 0)
		return k;
	if ((k = next_entry(a, r, BUNDLE_SIGNATURE, &e, ret_error)) < 0 ||
	    (k = read_small(a, r, e, SIGN_SIG_LEN, &sig, &sig_len, ret_error)) < 0)
		return k;
	if (sig_len != SIGN_SIG_LEN)
		return gp_error_set(ret_error, -GPE_SIGNATURE, "%s: %zu bytes, not an Ed25519 signature", BUNDLE_SIGNATURE, sig_len);
	/* The key id only chooses which trusted key to try; nothing else is read before the
	 * signature verifies. */
	doc = cJSON_ParseWithLength(text, len);
	want_id = json_str(doc, "key_id");
	k = sign_verify_dir(root, keys_dir, today, text, len, (const unsigned char *)sig, want_id, &v);
	if (ret_warnings)
		*ret_warnings = TAKE_PTR(v.warnings);
	if (k == -GPE_KEY_REVOKED)
		return gp_error_set(ret_error, k, "%s: signed by %s; it verifies nothing", BUNDLE_MANIFEST, v.refusal);
	if (k == -GPE_UNKNOWN_KEY)
		return gp_error_set(ret_error, k, "%s: signed by key %s, which is not among the trusted keys in %s",
			    BUNDLE_MANIFEST, want_id ? want_id : "(unnamed)", keys_dir);
	if (k < 0)
		return gp_error_set(ret_error, k, "%s: the signature does not verify with key %s from %s: the manifest "
			    "or its signature was altered", BUNDLE_MANIFEST, want_id ? want_id : "(any)", keys_dir);
	if (!doc)
		return gp_error_set(ret_error, -GPE_PARSE, "%s: not JSON", BUNDLE_MANIFEST);
	if ((k = manifest_parse(doc, lim, ret, ret_error)) < 0)
		return k;
	TAKE_PTR(doc); /* the manifest owns it now */
	return 0;
}

/* Creates the directories above path under dfd. The path was checked (bundle_path_ok)
 * and the directory is new: no link can stand in the way. */
static int open_new_file(int dfd, const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	int fd;

	if (!copy)
		return -ENOMEM;
	for (char *slash = strchr(copy, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdirat(dfd, copy, 0755) < 0 && errno != EEXIST)
			return -errno;
		*slash = '/';
	}
	fd = openat(dfd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	return fd < 0 ? -errno : fd;
}

/* One file entry: listed, the listed size, streamed to dfd (when unpacking) and hashed. */
static int read_file_entry(struct archive *a, const struct reader *r, struct archive_entry *e,
			   struct bundle_manifest *m, bool *seen, int dfd, struct sha256 *h, char **ret_error)
{
	const char *name = archive_fn.archive_entry_pathname(e);
	struct bundle_file key = { .path = (char *)name }, *bf;
	_cleanup_close_ int fd = -EBADF;
	char got[SHA256_HEX_LEN + 1];
	uint64_t written = 0;
	int k;

	if (!bundle_path_ok(name))
		return gp_error_set(ret_error, -GPE_PARSE, "entry '%s': an unsafe path (absolute, '..' or odd characters); refused",
			    strna(name));
	if (archive_fn.archive_entry_filetype(e) != AE_IFREG || archive_fn.archive_entry_hardlink(e) ||
	    archive_fn.archive_entry_symlink(e))
		return gp_error_set(ret_error, -GPE_PARSE, "entry '%s': not a regular file (a link, a directory or a device); refused",
			    name);
	bf = bsearch(&key, m->files, m->n_files, sizeof(*m->files), file_cmp);
	if (!bf)
		return gp_error_set(ret_error, -GPE_PARSE, "entry '%s': not listed in the manifest; refused", name);
	if (seen[bf - m->files])
		return gp_error_set(ret_error, -GPE_PARSE, "entry '%s': appears twice", name);
	seen[bf - m->files] = true;
	if (!archive_fn.archive_entry_size_is_set(e) || (uint64_t)archive_fn.archive_entry_size(e) != bf->size)
		return gp_error_set(ret_error, -GPE_DIGEST, "entry '%s': %lld bytes, the manifest says %llu", name,
			    (long long)archive_fn.archive_entry_size(e), (unsigned long long)bf->size);
	if (dfd >= 0 && (fd = open_new_file(dfd, name)) < 0)
		return gp_error_set(ret_error, fd, "%s: %s", name, gp_strerror(fd));
	if ((k = sha256_reset(h)) < 0)
		return k;
	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t offset;

		k = archive_fn.archive_read_data_block(a, &buf, &size, &offset);
		if (k == ARCHIVE_EOF)
			break;
		if (k < ARCHIVE_WARN)
			return archive_fail(a, r, ret_error, name);
		/* Sparse entries would leave holes unhashed. */
		if ((uint64_t)offset != written)
			return gp_error_set(ret_error, -GPE_PARSE, "entry '%s': a sparse file; refused", name);
		if ((k = sha256_update(h, buf, size)) < 0 || (fd >= 0 && (k = fd_write_all(fd, buf, size)) < 0))
			return gp_error_set(ret_error, k, "%s: %s", name, gp_strerror(k));
		written += size;
	}
	if (written != bf->size)
		return gp_error_set(ret_error, -GPE_PARSE, "entry '%s': truncated at %llu of %llu bytes", name,
			    (unsigned long long)written, (unsigned long long)bf->size);
	if ((k = sha256_final(h, got)) < 0)
		return k;
	if (!streq(got, bf->sha256))
		return gp_error_set(ret_error, -GPE_DIGEST, "entry '%s': SHA-256 %s, the manifest says %s; refused", name, got,
			    bf->sha256);
	if (fd >= 0 && fsync(fd) < 0)
		return -errno;
	return 0;
}

/* Every file after the signed manifest; into dfd when it is >= 0. */
static int read_files(struct archive *a, const struct reader *r, struct bundle_manifest *m, int dfd,
		      char **ret_error)
{
	_cleanup_free_ bool *seen = calloc(m->n_files + 1, sizeof(bool));
	_cleanup_(sha256_freep) struct sha256 *h = NULL;
	struct archive_entry *e = NULL;
	int k;

	if (!seen)
		return -ENOMEM;
	if ((k = sha256_new(&h)) < 0)
		return k;
	while ((k = next_entry(a, r, NULL, &e, ret_error)) > 0)
		if ((k = read_file_entry(a, r, e, m, seen, dfd, h, ret_error)) < 0)
			return k;
	if (k < 0)
		return k;
	for (size_t i = 0; i < m->n_files; i++)
		if (!seen[i])
			return gp_error_set(ret_error, -GPE_PARSE, "the archive ends without '%s', which the manifest lists: "
				    "truncated", m->files[i].path);
	return 0;
}

/* The staging directory's files become <parent>/<name>, replacing an older copy. */
static int put_in_place(const struct root *root, const char *staging, const char *final, char **ret_error)
{
	_cleanup_free_ char *old = NULL;
	int k;

	if (asprintf(&old, "%s.old", final) < 0)
		return -ENOMEM;
	(void)root_rm_rf(root, old);
	k = root_rename(root, final, old);
	if (k < 0 && k != -ENOENT)
		return gp_error_set(ret_error, k, "%s: %s", final, gp_strerror(k));
	if ((k = root_rename(root, staging, final)) < 0)
		return gp_error_set(ret_error, k, "%s: %s", final, gp_strerror(k));
	(void)root_rm_rf(root, old);
	return 0;
}

int bundle_read(const struct bundle_source *src, const struct root *root, const char *keys_dir,
		const char *dest_parent, const struct bundle_limits *limits, struct bundle_manifest **ret,
		char **ret_error, char ***ret_warnings)
{
	_cleanup_(archive_read_freep) struct archive *a = NULL;
	_cleanup_(bundle_manifest_freep) struct bundle_manifest *m = NULL;
	_cleanup_(fetch_stream_freep) struct fetch_stream *stream = NULL;
	_cleanup_(prefetch_stopp) struct prefetch *ahead = NULL;
	_cleanup_free_ char *staging = NULL, *final = NULL;
	_cleanup_close_ int dfd = -EBADF;
	struct bundle_limits lim = {
		.max_bytes = limits && limits->max_bytes ? limits->max_bytes : DEFAULT_MAX_BYTES,
		.max_files = limits && limits->max_files ? limits->max_files : DEFAULT_MAX_FILES,
	};
	struct reader r = {};
	int k;

	*ret_error = NULL;
	if (ret_warnings)
		*ret_warnings = NULL;
	/* The libraries before anything is fetched or written. */
	if ((k = dynlib_need(&libarchive, "reading bundles", ret_error)) < 0 ||
	    (k = dynlib_need(&libcrypto, "checking bundles", ret_error)) < 0 ||
	    (src->fd < 0 && (k = fetch_ready(ret_error)) < 0))
		return k;
	if (!(a = archive_fn.archive_read_new()))
		return -ENOMEM;
	if (src->fd < 0) {
		struct fetch_opts o = src->fetch;

		/* The archive is the files plus headers: a little over the limit, never far. */
		if (!o.max)
			o.max = lim.max_bytes + MANIFEST_MAX + (uint64_t)(lim.max_files + 2) * 1536 + 10240;
		if ((k = fetch_stream_open(src->urls, &o, &stream)) < 0)
			return k;
	}
	/* The stream is the reader thread's from here until prefetch_stop, which comes first
	 * (cleanups run in reverse). */
	if ((k = prefetch_start(stream, src->fd, &src->fetch, &ahead)) < 0)
		return k;
	r.ahead = ahead;
	/* A plain tar only: the packages inside are compressed already. */
	if (archive_fn.archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_fn.archive_read_open(a, &r, NULL, reader_read, NULL) != ARCHIVE_OK)
		return archive_fail(a, &r, ret_error, "bundle");
	if ((k = read_signed_manifest(a, &r, root, keys_dir, src->today, &lim, &m, ret_error, ret_warnings)) < 0 ||
	    (src->accept && (k = src->accept(m, src->userdata, ret_error)) < 0))
		return k;
	if (dest_parent) {
		if (asprintf(&final, "%s/%s", dest_parent, m->name) < 0 ||
		    asprintf(&staging, "%s/.%s.partial", dest_parent, m->name) < 0)
			return -ENOMEM;
		/* What a run killed half way left. */
		if ((k = root_rm_rf(root, staging)) < 0 || (k = root_mkdir_p(root, staging, 0755)) < 0)
			return gp_error_set(ret_error, k, "%s: %s", staging, gp_strerror(k));
		if ((dfd = root_open_at(root, staging, O_DIRECTORY | O_RDONLY | O_CLOEXEC)) < 0)
			return gp_error_set(ret_error, dfd, "%s: %s", staging, gp_strerror(dfd));
	}
	k = read_files(a, &r, m, dfd, ret_error);
	if (k >= 0 && dfd >= 0 && fsync(dfd) < 0)
		k = gp_error_set(ret_error, -errno, "%s: %s", staging, strerror(errno));
	if (k >= 0 && dest_parent)
		k = put_in_place(root, staging, final, ret_error);
	if (k < 0) {
		if (staging)
			(void)root_rm_rf(root, staging);
		return k;
	}
	*ret = TAKE_PTR(m);
	return 0;
}
