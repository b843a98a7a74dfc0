/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include "util/dynlib.h"
#include "util/macro.h"

/*
 * libarchive, loaded by the first archive read or written (dynlib.h): the functions gpuprov
 * calls (bundles, .deb control files, apt's compressed lists, captures), by their own names.
 */
#define ARCHIVE_FUNCTIONS(X)                       \
	X(archive_read_new)                        \
	X(archive_read_free)                       \
	X(archive_read_support_format_tar)         \
	X(archive_read_support_format_ar)          \
	X(archive_read_support_format_raw)         \
	X(archive_read_support_format_empty)       \
	X(archive_read_support_filter_gzip)        \
	X(archive_read_support_filter_xz)          \
	X(archive_read_support_filter_lz4)         \
	X(archive_read_support_filter_zstd)        \
	X(archive_read_open)                       \
	X(archive_read_open_fd)                    \
	X(archive_read_open_memory)                \
	X(archive_read_next_header)                \
	X(archive_read_data)                       \
	X(archive_read_data_block)                 \
	X(archive_filter_code)                     \
	X(archive_errno)                           \
	X(archive_error_string)                    \
	X(archive_set_error)                       \
	X(archive_write_new)                       \
	X(archive_write_free)                      \
	X(archive_write_set_format_pax_restricted) \
	X(archive_write_add_filter_gzip)           \
	X(archive_write_add_filter_zstd)           \
	X(archive_write_open_fd)                   \
	X(archive_write_header)                    \
	X(archive_write_data)                      \
	X(archive_write_close)                     \
	X(archive_entry_new)                       \
	X(archive_entry_free)                      \
	X(archive_entry_pathname)                  \
	X(archive_entry_filetype)                  \
	X(archive_entry_size)                      \
	X(archive_entry_size_is_set)               \
	X(archive_entry_hardlink)                  \
	X(archive_entry_symlink)                   \
	X(archive_entry_set_pathname)              \
	X(archive_entry_set_filetype)              \
	X(archive_entry_set_perm)                  \
	X(archive_entry_set_size)                  \
	X(archive_entry_set_mtime)                 \
	X(archive_entry_set_symlink)               \
	X(archive_entry_perm)

#define ARCHIVE_LIB_MEMBER(f) __typeof__(f) *f;
struct archive_lib {
	ARCHIVE_FUNCTIONS(ARCHIVE_LIB_MEMBER)
};
#undef ARCHIVE_LIB_MEMBER

/* The table, valid once dynlib_need(&libarchive, ...) returned 0. */
extern struct archive_lib archive_fn;
extern struct dynlib libarchive;

/* Cleanups for the handles, through the table. */
static inline void archive_read_freep(struct archive **a)
{
	if (*a)
		archive_fn.archive_read_free(*a);
}

static inline void archive_write_freep(struct archive **a)
{
	if (*a)
		archive_fn.archive_write_free(*a);
}

static inline void archive_entry_freep(struct archive_entry **e)
{
	if (*e)
		archive_fn.archive_entry_free(*e);
}
