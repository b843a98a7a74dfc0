/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/root.h"

/*
 * A file read as the stream of its content, whether it is kept plain or compressed: apt keeps
 * its lists compressed when told to (Acquire::GzipIndexes, in the format that comes first in
 * Acquire::CompressionTypes::Order), and the suffix of the name says which. Only the four
 * that apt writes lists in today are read; the order here is the one callers prefer when a
 * file is there in more than one.
 */
enum compression {
	COMPRESSION_NONE,
	COMPRESSION_GZIP,
	COMPRESSION_XZ,
	COMPRESSION_LZ4,
	COMPRESSION_ZSTD,
	_COMPRESSION_MAX,
};

/* The compression a name's suffix says (".gz", ".xz", ".lz4", ".zst"; COMPRESSION_NONE for any
 * other name), and the length of the name without that suffix. */
enum compression compression_from_name(const char *name, size_t *ret_base_len);
/* The suffix of a compression: ".gz", ...; "" for COMPRESSION_NONE. */
const char *compression_suffix(enum compression c);

/*
 * Opens a regular file inside the root (root_open_regular: its links resolved inside the root)
 * as a stream of its content, decompressed as c says. At most max bytes of content are given:
 * a read past them fails with GPE_TOOBIG, whatever the size of the file, and content that is
 * not in c's format or is damaged fails with GPE_PARSE. A read that fails sets the stream's
 * error indicator and errno to the positive code, as getline(3) reports it. Opening fails with
 * -GPE_PARSE when the file does not begin in c's format, and with -GPE_LIBRARY when it is
 * compressed and libarchive cannot be loaded; a plain file is read without it.
 */
int root_fopen_decompressed(const struct root *r, const char *path, enum compression c, uint64_t max,
			    FILE **ret);
