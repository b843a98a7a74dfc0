/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A Packages index for a directory of .deb files, so that apt installs from it as from any
 * flat repository ("deb file:/dir ./"). A .deb is an ar archive whose control.tar.{gz,xz,zst}
 * holds ./control (deb(5)); libarchive reads both layers. Written here rather than with
 * dpkg-scanpackages or apt-ftparchive so that a host without them can make a bundle.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/fetch.h"
#include "pkg/pkg.h"
#include "util/archive-lib.h"
#include "util/errors.h"
#include "util/strutil.h"

#define CONTROL_TAR_MAX (16u << 20)
#define CONTROL_MAX (1u << 20)

/* The current entry's data, whole, at most max bytes. */
static int read_entry(struct archive *a, struct archive_entry *e, size_t max, char **ret, size_t *ret_len)
{
	int64_t size = archive_fn.archive_entry_size(e);
	_cleanup_free_ char *buf = NULL;

	if (size < 0 || (uint64_t)size > max)
		return -GPE_TOOBIG;
	if (!(buf = malloc((size_t)size + 1)))
		return -ENOMEM;
	if (archive_fn.archive_read_data(a, buf, (size_t)size) != (la_ssize_t)size)
		return -GPE_PARSE;
	buf[size] = '\0';
	*ret_len = (size_t)size;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* ./control out of control.tar.* (in memory). */
static int control_from_tar(const char *tar, size_t len, char **ret)
{
	_cleanup_(archive_read_freep) struct archive *a = archive_fn.archive_read_new();
	struct archive_entry *e;
	size_t n;

	if (!a)
		return -ENOMEM;
	/* Only what dpkg-deb writes a control.tar with (none, gzip, xz, zstd): libarchive's other
	 * filters would let a package from outside start lrzip, lzop or grzip. A filter built
	 * without its library falls back to its own program (ARCHIVE_WARN), which is one of
	 * these three. */
	if (archive_fn.archive_read_support_filter_gzip(a) < ARCHIVE_WARN ||
	    archive_fn.archive_read_support_filter_xz(a) < ARCHIVE_WARN ||
	    archive_fn.archive_read_support_filter_zstd(a) < ARCHIVE_WARN ||
	    archive_fn.archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_fn.archive_read_open_memory(a, tar, len) != ARCHIVE_OK)
		return -GPE_PARSE;
	while (archive_fn.archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *name = archive_fn.archive_entry_pathname(e);

		if (streq_ptr(name, "./control") || streq_ptr(name, "control"))
			return read_entry(a, e, CONTROL_MAX, ret, &n);
	}
	return -GPE_PARSE;
}

/* The control file of the .deb open at fd. */
static int deb_control(int fd, char **ret)
{
	_cleanup_(archive_read_freep) struct archive *a = archive_fn.archive_read_new();
	struct archive_entry *e;

	if (!a)
		return -ENOMEM;
	if (archive_fn.archive_read_support_format_ar(a) != ARCHIVE_OK ||
	    archive_fn.archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK)
		return -GPE_PARSE;
	while (archive_fn.archive_read_next_header(a, &e) == ARCHIVE_OK) {
		_cleanup_free_ char *tar = NULL;
		size_t len;
		int k;

		if (!startswith(strna(archive_fn.archive_entry_pathname(e)), "control.tar"))
			continue;
		if ((k = read_entry(a, e, CONTROL_TAR_MAX, &tar, &len)) < 0)
			return k;
		return control_from_tar(tar, len, ret);
	}
	return -GPE_PARSE;
}

int deb_index_entry(const struct root *root, const char *dir, const char *file, char **ret_stanza)
{
	_cleanup_free_ char *path = NULL, *control = NULL;
	_cleanup_close_ int fd = -EBADF;
	char hex[SHA256_HEX_LEN + 1];
	struct stat st;
	size_t len;
	int k;

	/* The table the helpers above call through. */
	if ((k = dynlib_need(&libarchive, "reading .deb packages", NULL)) < 0)
		return k;
	if (asprintf(&path, "%s/%s", dir, file) < 0)
		return -ENOMEM;
	if ((fd = root_open_regular(root, path)) < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((k = deb_control(fd, &control)) < 0)
		return k;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	if ((k = sha256_fd(fd, hex)) < 0)
		return k;
	/* A stanza ends at its first empty line: the control file's trailing newlines go. */
	len = strlen(control);
	while (len > 0 && control[len - 1] == '\n')
		control[--len] = '\0';
	if (!*control || strstr(control, "\n\n"))
		return -GPE_PARSE;
	return asprintf(ret_stanza, "%s\nFilename: ./%s\nSize: %lld\nSHA256: %s\n\n", control, file,
			(long long)st.st_size, hex) < 0 ? -ENOMEM : 0;
}
