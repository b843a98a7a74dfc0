/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <sys/types.h>

#include "net/fetch.h"

/*
 * Reads a download (a fetch stream) or a file ahead of its consumer, on a thread of its
 * own, through a ring of 1 MiB blocks: the transfer goes on while the consumer hashes and
 * writes, so that the whole takes about as long as the slower of the two, not their sum.
 * The stream, once given, belongs to the reader thread until prefetch_stop.
 */
struct prefetch;

/* stream: read that; else fd (a file). progress (may be NULL): called as a file is read,
 * with its total size; a stream reports its own progress. */
int prefetch_start(struct fetch_stream *stream, int fd, const struct fetch_opts *progress, struct prefetch **ret);

/* The next block: its size at *ret_data (valid until the next call), 0 at the end, or the
 * source's error (fetch_stream_read's, or -errno of read). */
ssize_t prefetch_read(struct prefetch *p, const void **ret_data);

/* The error in words, once prefetch_read returned one. */
const char *prefetch_error(const struct prefetch *p);

/* Stops the reader thread and frees all; a stream is cancelled (fetch_stream_cancel), so
 * that the reader ends at once rather than after the block it is filling. */
struct prefetch *prefetch_stop(struct prefetch *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct prefetch *, prefetch_stop)
