/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing an offline bundle: hash the files, sign the manifest, stream all into a tar. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "net/bundle.h"
#include "net/sign.h"
#include "util/archive-lib.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/strutil.h"

#define COPY_CHUNK (1u << 20)

static int open_member(const struct root *root, const char *dir, const char *path, char **ret_error)
{
	_cleanup_free_ char *full = NULL;
	int fd;

	if (!bundle_path_ok(path))
		return gp_error_set(ret_error, -EINVAL, "'%s': not a path a bundle may hold", path);
	if (asprintf(&full, "%s/%s", dir, path) < 0)
		return -ENOMEM;
	fd = root_open_regular(root, full);
	return fd < 0 ? gp_error_set(ret_error, fd, "%s: %s", full, gp_strerror(fd)) : fd;
}

/* The manifest's "files": each path with its size and SHA-256. */
static int list_files(cJSON *manifest, const struct root *root, const char *dir, char *const *paths, char **ret_error)
{
	cJSON *files = cJSON_CreateArray();

	if (!files)
		return -ENOMEM;
	cJSON_DeleteItemFromObjectCaseSensitive(manifest, "files");
	cJSON_AddItemToObject(manifest, "files", files);
	for (char *const *p = paths; p && *p; p++) {
		_cleanup_close_ int fd = open_member(root, dir, *p, ret_error);
		char hex[SHA256_HEX_LEN + 1];
		struct stat st;
		cJSON *f;
		int k;

		if (fd < 0)
			return fd;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
			return gp_error_set(ret_error, -EINVAL, "%s/%s: not a regular file", dir, *p);
		if ((k = sha256_fd(fd, hex)) < 0)
			return gp_error_set(ret_error, k, "%s/%s: %s", dir, *p, gp_strerror(k));
		if (!(f = cJSON_CreateObject()) || !cJSON_AddItemToArray(files, f) || !cJSON_AddStringToObject(f, "path", *p) ||
		    !cJSON_AddNumberToObject(f, "size", (double)st.st_size) || !cJSON_AddStringToObject(f, "sha256", hex))
			return -ENOMEM;
	}
	return 0;
}

static int add_entry(struct archive *a, const char *name, int64_t size, time_t mtime, char **ret_error)
{
	_cleanup_(archive_entry_freep) struct archive_entry *e = archive_fn.archive_entry_new();

	if (!e)
		return -ENOMEM;
	archive_fn.archive_entry_set_pathname(e, name);
	archive_fn.archive_entry_set_filetype(e, AE_IFREG);
	archive_fn.archive_entry_set_perm(e, 0644);
	archive_fn.archive_entry_set_size(e, size);
	archive_fn.archive_entry_set_mtime(e, mtime, 0);
	if (archive_fn.archive_write_header(a, e) != ARCHIVE_OK)
		return gp_error_set(ret_error, -EIO, "%s: %s", name, archive_fn.archive_error_string(a));
	return 0;
}

static int add_data(struct archive *a, const char *name, const void *data, size_t len, char **ret_error)
{
	if (archive_fn.archive_write_data(a, data, len) != (la_ssize_t)len)
		return gp_error_set(ret_error, -EIO, "%s: %s", name,
				    archive_fn.archive_error_string(a) ?: "short write");
	return 0;
}

/* A file after the manifest: streamed; it must still be what was hashed. */
static int add_file(struct archive *a, const struct root *root, const char *dir, const struct bundle_file *bf,
		    unsigned char *buf, time_t mtime, char **ret_error)
{
	_cleanup_close_ int fd = open_member(root, dir, bf->path, ret_error);
	uint64_t done = 0;
	ssize_t n;
	int k;

	if (fd < 0)
		return fd;
	if ((k = add_entry(a, bf->path, (int64_t)bf->size, mtime, ret_error)) < 0)
		return k;
	while (done < bf->size && (n = read(fd, buf, MIN((uint64_t)COPY_CHUNK, bf->size - done))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return gp_error_set(ret_error, -errno, "%s/%s: %s", dir, bf->path, strerror(errno));
		if ((k = add_data(a, bf->path, buf, (size_t)n, ret_error)) < 0)
			return k;
		done += (uint64_t)n;
	}
	if (done != bf->size)
		return gp_error_set(ret_error, -EIO, "%s/%s: changed while the bundle was written", dir, bf->path);
	return 0;
}

int bundle_write(int out_fd, cJSON *manifest, const struct root *root, const char *dir, char *const *paths,
		 EVP_PKEY *key, char **ret_error)
{
	_cleanup_(archive_write_freep) struct archive *a = NULL;
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ unsigned char *buf = malloc(COPY_CHUNK);
	unsigned char sig[SIGN_SIG_LEN];
	char id[SIGN_KEY_ID_LEN + 1];
	const cJSON *f;
	time_t now = time(NULL);
	int k;

	*ret_error = NULL;
	if ((k = dynlib_need(&libarchive, "writing bundles", ret_error)) < 0 ||
	    (k = dynlib_need(&libcrypto, "signing bundles", ret_error)) < 0)
		return k;
	if (!(a = archive_fn.archive_write_new()) || !buf)
		return -ENOMEM;
	if ((k = list_files(manifest, root, dir, paths, ret_error)) < 0)
		return k;
	if ((k = sign_key_id(key, id)) < 0)
		return gp_error_set(ret_error, k, "the signing key: %s", gp_strerror(k));
	cJSON_DeleteItemFromObjectCaseSensitive(manifest, "format");
	cJSON_DeleteItemFromObjectCaseSensitive(manifest, "key_id");
	if (!cJSON_AddNumberToObject(manifest, "format", BUNDLE_FORMAT) || !cJSON_AddStringToObject(manifest, "key_id", id) ||
	    !(text = cJSON_Print(manifest)))
		return -ENOMEM;
	if ((k = sign_data(key, text, strlen(text), sig)) < 0)
		return gp_error_set(ret_error, k, "signing the manifest: %s", gp_strerror(k));
	/* pax where ustar cannot say it (long names, big sizes), ustar elsewhere. */
	if (archive_fn.archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_fn.archive_write_open_fd(a, out_fd) != ARCHIVE_OK)
		return gp_error_set(ret_error, -EIO, "%s", archive_fn.archive_error_string(a));
	if ((k = add_entry(a, BUNDLE_MANIFEST, (int64_t)strlen(text), now, ret_error)) < 0 ||
	    (k = add_data(a, BUNDLE_MANIFEST, text, strlen(text), ret_error)) < 0 ||
	    (k = add_entry(a, BUNDLE_SIGNATURE, SIGN_SIG_LEN, now, ret_error)) < 0 ||
	    (k = add_data(a, BUNDLE_SIGNATURE, sig, SIGN_SIG_LEN, ret_error)) < 0)
		return k;
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(manifest, "files")) {
		const struct bundle_file bf = {
			.path = (char *)json_str(f, "path"),
			.size = (uint64_t)cJSON_GetObjectItemCaseSensitive(f, "size")->valuedouble,
		};

		if ((k = add_file(a, root, dir, &bf, buf, now, ret_error)) < 0)
			return k;
	}
	if (archive_fn.archive_write_close(a) != ARCHIVE_OK)
		return gp_error_set(ret_error, -EIO, "%s", archive_fn.archive_error_string(a));
	return 0;
}
