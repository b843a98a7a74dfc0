/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A file's content as a stdio stream, plain or decompressed by libarchive (decompress.h). A
 * plain file is read as it is, without libarchive: a node whose lists are plain never loads
 * it. */
#include <errno.h>

#include "util/archive-lib.h"
#include "util/decompress.h"
#include "util/errors.h"

/* libarchive reads in blocks of this size; the stream hands the content on in the same. */
#define STREAM_BLOCK 65536

/* support: the slot of libarchive's table that holds the filter's function, read once the
 * library is loaded. */
static const struct {
	const char *suffix;
	int filter; /* the ARCHIVE_FILTER_* libarchive says it read */
	int (*const *support)(struct archive *a);
} compressions[_COMPRESSION_MAX] = {
	[COMPRESSION_NONE] = { "", ARCHIVE_FILTER_NONE, NULL },
	[COMPRESSION_GZIP] = { ".gz", ARCHIVE_FILTER_GZIP, &archive_fn.archive_read_support_filter_gzip },
	[COMPRESSION_XZ] = { ".xz", ARCHIVE_FILTER_XZ, &archive_fn.archive_read_support_filter_xz },
	[COMPRESSION_LZ4] = { ".lz4", ARCHIVE_FILTER_LZ4, &archive_fn.archive_read_support_filter_lz4 },
	[COMPRESSION_ZSTD] = { ".zst", ARCHIVE_FILTER_ZSTD, &archive_fn.archive_read_support_filter_zstd },
};

enum compression compression_from_name(const char *name, size_t *ret_base_len)
{
	size_t len = strlen(name);

	for (enum compression c = COMPRESSION_NONE + 1; c < _COMPRESSION_MAX; c++) {
		size_t n = strlen(compressions[c].suffix);

		if (len > n && streq(name + len - n, compressions[c].suffix)) {
			*ret_base_len = len - n;
			return c;
		}
	}
	*ret_base_len = len;
	return COMPRESSION_NONE;
}

const char *compression_suffix(enum compression c)
{
	return c >= COMPRESSION_NONE && c < _COMPRESSION_MAX ? compressions[c].suffix : "";
}

struct stream {
	struct archive *a; /* NULL: a plain file, read as it is */
	int fd;
	uint64_t left; /* bytes of content still to be given at most */
	bool eof;      /* an empty file: libarchive has no data to read */
	int error;     /* the first error, kept: every later read fails with it */
};

static struct stream *stream_free(struct stream *s)
{
	if (!s)
		return NULL;
	if (s->a)
		archive_fn.archive_read_free(s->a);
	safe_close(s->fd);
	free(s);
	return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(struct stream *, stream_free)

/* libarchive's error as a positive code: a system error (EIO, ENOMEM) stays itself; libarchive's
 * own codes (-1 for ARCHIVE_ERRNO_MISC, EILSEQ for a bad format, EINVAL for a misuse, in its
 * archive_private.h) are what it says of damaged data. */
static int stream_archive_error(struct archive *a)
{
	int e = archive_fn.archive_errno(a);

	return e > 0 && e != EILSEQ && e != EINVAL ? e : GPE_PARSE;
}

/* The next bytes of content, through libarchive's filter or from the plain file; on a
 * failure, s->error says why. */
static ssize_t stream_next(struct stream *s, char *buf, size_t size)
{
	ssize_t n;

	if (s->a) {
		n = archive_fn.archive_read_data(s->a, buf, size);
		if (n < 0)
			s->error = stream_archive_error(s->a);
		return n;
	}
	do
		n = read(s->fd, buf, size);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		s->error = errno;
	return n;
}

static ssize_t stream_read(void *cookie, char *buf, size_t size)
{
	struct stream *s = cookie;
	ssize_t n;

	if (!s->error && !s->eof && (n = stream_next(s, buf, size)) >= 0) {
		if ((uint64_t)n <= s->left) {
			s->left -= (uint64_t)n;
			return n;
		}
		s->error = GPE_TOOBIG;
	}
	if (!s->error)
		return 0;
	errno = s->error;
	return -1;
}

static int stream_close(void *cookie)
{
	stream_free(cookie);
	return 0;
}

/* s->fd read through libarchive with the filter of c, up to the content's first byte. */
static int stream_open_filter(struct stream *s, enum compression c)
{
	struct archive_entry *e;
	int k;

	if ((k = dynlib_need(&libarchive, "reading compressed files", NULL)) < 0)
		return k;
	s->a = archive_fn.archive_read_new();
	if (!s->a)
		return -ENOMEM;
	/* The one filter the name says, not libarchive's others (a crafted file would start
	 * lrzip, lzop or grzip). A filter built without its library falls back to its own
	 * program (ARCHIVE_WARN), the same decompressor. "raw" is the content as it is, "empty"
	 * a file of nothing (raw wants a byte at least): a compressed file that holds nothing. */
	if ((*compressions[c].support)(s->a) < ARCHIVE_WARN ||
	    archive_fn.archive_read_support_format_raw(s->a) != ARCHIVE_OK ||
	    archive_fn.archive_read_support_format_empty(s->a) != ARCHIVE_OK ||
	    archive_fn.archive_read_open_fd(s->a, s->fd, STREAM_BLOCK) != ARCHIVE_OK)
		return -stream_archive_error(s->a);
	k = archive_fn.archive_read_next_header(s->a, &e);
	if (k == ARCHIVE_EOF)
		s->eof = true;
	else if (k != ARCHIVE_OK)
		return -stream_archive_error(s->a);
	/* Data that is not in the named format passes through no filter and would read as it
	 * is: a ".gz" that holds something else is damaged, not a list. */
	if (archive_fn.archive_filter_code(s->a, 0) != compressions[c].filter)
		return -GPE_PARSE;
	return 0;
}

int root_fopen_decompressed(const struct root *r, const char *path, enum compression c, uint64_t max,
			    FILE **ret)
{
	static const cookie_io_functions_t io = { .read = stream_read, .close = stream_close };
	_cleanup_(stream_freep) struct stream *s = NULL;
	FILE *f;
	int k;

	if (c < COMPRESSION_NONE || c >= _COMPRESSION_MAX)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->left = max;
	s->fd = root_open_regular(r, path);
	if (s->fd < 0)
		return s->fd;
	if (c != COMPRESSION_NONE && (k = stream_open_filter(s, c)) < 0)
		return k;
	f = fopencookie(s, "r", io);
	if (!f)
		return -errno;
	TAKE_PTR(s);
	(void)setvbuf(f, NULL, _IOFBF, STREAM_BLOCK);
	*ret = f;
	return 0;
}
