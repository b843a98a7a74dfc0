/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "util/macro.h"

#define SHA256_HEX_LEN 64

/* The limits a download gets when its options leave them 0. A mirror that trickles just
 * fast enough never stalls: the average rate and the time limit end it, and with it the
 * hold of apply's lock. Six hours fit 64 GiB (the largest bundle) at 4 MB/s. */
#define FETCH_CONNECT_TIMEOUT_S 30
#define FETCH_STALL_S 60
#define FETCH_MAX_TIME_S (6 * 3600)
#define FETCH_MIN_RATE (16 * 1024)

/* Milliseconds on CLOCK_MONOTONIC: the clock of a download's deadline and pauses. */
uint64_t fetch_now_ms(void);

/* How a download behaves; zeroes mean the defaults. */
struct fetch_opts {
	const char *cacert;  /* PEM bundle of CAs to trust instead of the system's */
	uint64_t max;        /* the most bytes accepted; 0: no limit */
	unsigned retries;    /* further tries of one mirror after a cut or a server error */
	unsigned backoff_ms; /* the first pause between tries; doubles, with jitter, up to 30 s */
	long connect_timeout_s;
	long stall_s;    /* a transfer under 1 KiB/s for this long is given up */
	long max_time_s; /* the whole download, every try and mirror with their pauses */
	/* Bytes a second: a try slower than this on average, once it has run stall_s, is
	 * given up and the next mirror tried. */
	uint64_t min_rate;
	/* Called as data arrives (done and total in bytes; total 0 when unknown). */
	void (*progress)(void *userdata, uint64_t done, uint64_t total);
	void *userdata;
};

/*
 * Loads libcurl, which every download needs, if it is not yet: 0, or -GPE_LIBRARY and
 * *ret_error (when not NULL) names the library and the package to install. A download
 * loads it by itself; a caller that must change nothing before it knows a download can
 * start asks first.
 */
int fetch_ready(char **ret_error);

/*
 * One download read in order, from the first of several mirrors that delivers it. A cut
 * transfer is resumed where it stopped with a Range request; a mirror that keeps failing
 * (after opts->retries further tries, with growing pauses) is left for the next one, which
 * also resumes where the last one stopped. A 404 or 403 moves to the next mirror at once.
 * TLS peers are always verified. Only http and https, redirects included, and a redirect
 * from an https URL stays on https. A server that announces more than opts->max bytes is
 * refused before its first byte is taken. -GPE_LIBRARY when libcurl cannot be loaded.
 */
struct fetch_stream;

int fetch_stream_open(char *const *urls, const struct fetch_opts *opts, struct fetch_stream **ret);
/*
 * The next piece of the download: the number of bytes at *ret_data (valid until the next
 * call), 0 at the end, or a negative error: -GPE_UNAVAILABLE when every mirror answered
 * 404/410, -GPE_TOOBIG past opts->max, -ECANCELED after fetch_stream_cancel, -EIO for other
 * failures, past opts->max_time_s included (fetch_stream_error says what each mirror
 * answered).
 */
ssize_t fetch_stream_read(struct fetch_stream *s, const void **ret_data);
/* The same, but -EAGAIN when nothing came within wait_ms (the transfer goes on; read again). */
ssize_t fetch_stream_read_wait(struct fetch_stream *s, const void **ret_data, int wait_ms);
/*
 * Ends the transfer now, from any thread: a fetch_stream_read in progress returns
 * -ECANCELED at once, without waiting for more data, and so does every later one. For a
 * consumer that refused what arrived so far: the rest is not worth its time.
 */
void fetch_stream_cancel(struct fetch_stream *s);
/* What went wrong, in words ("http://a/x: HTTP 503; http://b/x: Connection refused"). */
const char *fetch_stream_error(const struct fetch_stream *s);
struct fetch_stream *fetch_stream_free(struct fetch_stream *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct fetch_stream *, fetch_stream_free)

/*
 * Downloads url into fd (an empty file), at most max bytes, and computes the SHA-256 of
 * what arrived as it goes (lowercase hex into ret_hex). ret_error: the HTTP status or
 * transfer error in words. -GPE_UNAVAILABLE for a 404, -EIO for other failures,
 * -GPE_LIBRARY when libcurl cannot be loaded (nothing written to fd).
 */
int fetch_url(const char *url, int fd, uint64_t max, char ret_hex[static SHA256_HEX_LEN + 1], char **ret_error);

/* The SHA-256 of a whole file, as lowercase hex. */
int sha256_fd(int fd, char ret_hex[static SHA256_HEX_LEN + 1]);

/* Incremental SHA-256 for callers that hash as data passes (bundles, downloads). */
struct sha256;
/* -GPE_LIBRARY when libcrypto cannot be loaded (net/crypto-lib.h), as sha256_fd. */
int sha256_new(struct sha256 **ret);
int sha256_update(struct sha256 *h, const void *data, size_t len);
/* Writes the lowercase hex digest; the object can be fed again only after sha256_reset. */
int sha256_final(struct sha256 *h, char ret_hex[static SHA256_HEX_LEN + 1]);
int sha256_reset(struct sha256 *h);
struct sha256 *sha256_free(struct sha256 *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct sha256 *, sha256_free)
