/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * HTTP(S) downloads with libcurl, read as a stream: the caller pulls pieces in order while
 * the transfer runs (curl's multi interface, one transfer at a time), so a bundle can be
 * verified and unpacked as it arrives. Cuts, server errors and dead mirrors are dealt with
 * here, out of the caller's sight: resume with Range, bounded retries, next mirror.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "net/crypto-lib.h"
#include "net/curl-lib.h"
#include "net/fetch.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/write.h"

/* curl's buffer per write callback; bigger than the 16 KiB default for fewer calls. */
#define FETCH_BUFFER_SIZE (256 * 1024)
#define BACKOFF_MAX_MS 30000u

struct fetch_stream {
	char **urls;
	size_t mirror; /* the one being tried */
	struct fetch_opts o;
	CURLM *multi;
	CURL *easy; /* the transfer in flight; NULL between tries */
	char errbuf[CURL_ERROR_SIZE];
	unsigned char *buf; /* received, not yet handed out */
	size_t len, cap;
	uint64_t offset;    /* bytes received in all: where a resumed transfer starts */
	uint64_t start;     /* where the transfer in flight started */
	uint64_t skip;      /* a server that ignored our Range: its bytes we already have */
	uint64_t total;     /* the whole size, once a server said it; 0 unknown */
	bool answered;      /* the transfer in flight has delivered its first byte */
	uint64_t deadline;  /* CLOCK_MONOTONIC ms by which the whole download ends */
	uint64_t began;     /* when the transfer in flight started, the same clock */
	bool slow;          /* the transfer in flight was given up for its average rate */
	atomic_bool cancelled;
	unsigned tries;     /* of the current mirror */
	unsigned missing;   /* mirrors that answered 404/410 */
	unsigned seed;
	bool done;
	int error;  /* sticky: once failed, every read fails */
	char *why;  /* "URL: reason" for each failed try, ";"-separated */
};

uint64_t fetch_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Only http and https, redirects included (no file://, no ftp); a redirect from https
 * stays on https, whatever host it names: plain http there would hand the download to
 * anyone on the path. The string form replaced the bitmask in libcurl 7.85 (Debian 12 has
 * 7.88); Ubuntu 22.04 has 7.81. */
static CURLcode set_protocols(CURL *curl, const char *url)
{
	bool tls = strncasecmp(url, "https://", strlen("https://")) == 0;
#if LIBCURL_VERSION_NUM >= 0x075500
	CURLcode c = curl_fn.curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");

	return c != CURLE_OK ? c
			     : curl_fn.curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, tls ? "https" : "http,https");
#else
	CURLcode c = curl_fn.curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));

	return c != CURLE_OK ? c
			     : curl_fn.curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS,
							tls ? (long)CURLPROTO_HTTPS : (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
}

/* The first byte of an answer: a server that ignored "Range: N-" sends everything again,
 * and the part we already have is dropped. */
static void stream_first_byte(struct fetch_stream *s)
{
	curl_off_t length = -1;
	long status = 0;

	s->answered = true;
	curl_fn.curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_fn.curl_easy_getinfo(s->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
	if (s->start > 0 && status != 206) {
		s->skip = s->start;
	}
	if (length >= 0 && s->total == 0)
		s->total = (uint64_t)length + (status == 206 ? s->start : 0);
	/* Announced too big: refused now, not once max bytes came in. */
	if (s->o.max && s->total > s->o.max)
		s->error = -GPE_TOOBIG;
}

static size_t stream_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct fetch_stream *s = userdata;
	size_t len = size * nmemb, take = len;

	if (!s->answered)
		stream_first_byte(s);
	if (s->error < 0 || atomic_load(&s->cancelled))
		return 0;
	if (s->skip > 0) {
		size_t drop = s->skip < take ? (size_t)s->skip : take;

		s->skip -= drop;
		data += drop;
		take -= drop;
	}
	if (s->o.max && s->offset + take > s->o.max) {
		s->error = -GPE_TOOBIG;
		return 0;
	}
	if (s->len + take > s->cap) {
		size_t cap = MAX(s->len + take, 2 * (size_t)FETCH_BUFFER_SIZE);
		unsigned char *b = realloc(s->buf, cap);

		if (!b) {
			s->error = -ENOMEM;
			return 0;
		}
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, take);
	s->len += take;
	s->offset += take;
	if (s->o.progress)
		s->o.progress(s->o.userdata, s->offset, s->total);
	return len;
}

/* Called by curl about once a second and as data moves: the limits curl has no option for,
 * and the caller's cancel. Non-zero ends the transfer at once. */
static int stream_xferinfo(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct fetch_stream *s = userdata;
	uint64_t now = fetch_now_ms(), ran = now - s->began;

	(void)dltotal, (void)ultotal, (void)ulnow;
	if (atomic_load(&s->cancelled) || now >= s->deadline)
		return 1;
	/* Judged once the try has run as long as a stall may last: the first second of a
	 * transfer says little about its rate. */
	if (s->o.min_rate && ran >= (uint64_t)s->o.stall_s * 1000 &&
	    (uint64_t)(dlnow > 0 ? dlnow : 0) * 1000 / ran < s->o.min_rate) {
		s->slow = true;
		return 1;
	}
	return 0;
}

static int stream_start(struct fetch_stream *s)
{
	const struct fetch_opts *o = &s->o;
	char range[32];

	s->easy = curl_fn.curl_easy_init();
	if (!s->easy)
		return -ENOMEM;
	s->errbuf[0] = '\0';
	s->start = s->offset;
	s->answered = false;
	s->slow = false;
	s->began = fetch_now_ms();
	snprintf(range, sizeof(range), "%llu-", (unsigned long long)s->offset);
	if (curl_fn.curl_easy_setopt(s->easy, CURLOPT_URL, s->urls[s->mirror]) != CURLE_OK ||
	    curl_fn.curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, stream_write) != CURLE_OK ||
	    curl_fn.curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s) != CURLE_OK ||
	    curl_fn.curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->errbuf) != CURLE_OK ||
	    curl_fn.curl_easy_setopt(s->easy, CURLOPT_BUFFERSIZE, (long)FETCH_BUFFER_SIZE) != CURLE_OK ||
	    curl_fn.curl_easy_setopt(s->easy, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK ||
	    curl_fn.curl_easy_setopt(s->easy, CURLOPT_MAXREDIRS, 5L) != CURLE_OK ||
	    set_protocols(s->easy, s->urls[s->mirror]) != CURLE_OK ||
	    curl_fn.curl_easy_setopt(s->easy, CURLOPT_FAILONERROR, 1L) != CURLE_OK ||
	    curl_fn.curl_easy_setopt(s->easy, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_fn.curl_easy_setopt(s->easy, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    (o->cacert && curl_fn.curl_easy_setopt(s->easy, CURLOPT_CAINFO, o->cacert) != CURLE_OK) ||
	    curl_fn.curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT, o->connect_timeout_s) != CURLE_OK ||
	    curl_fn.curl_easy_setopt(s->easy, CURLOPT_LOW_SPEED_LIMIT, 1024L) != CURLE_OK ||
	    curl_fn.curl_easy_setopt(s->easy, CURLOPT_LOW_SPEED_TIME, o->stall_s) != CURLE_OK ||
	    curl_fn.curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, (long)MAX(s->deadline - s->began, 1)) != CURLE_OK ||
	    curl_fn.curl_easy_setopt(s->easy, CURLOPT_XFERINFOFUNCTION, stream_xferinfo) != CURLE_OK ||
	    curl_fn.curl_easy_setopt(s->easy, CURLOPT_XFERINFODATA, s) != CURLE_OK ||
	    curl_fn.curl_easy_setopt(s->easy, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
	    curl_fn.curl_easy_setopt(s->easy, CURLOPT_USERAGENT, "gpuprov/" PACKAGE_VERSION) != CURLE_OK ||
	    (s->offset > 0 && curl_fn.curl_easy_setopt(s->easy, CURLOPT_RANGE, range) != CURLE_OK))
		return -EINVAL;
	if (curl_fn.curl_multi_add_handle(s->multi, s->easy) != CURLM_OK)
		return -EIO;
	if (s->offset > 0)
		log_debug("%s: resuming at byte %llu", s->urls[s->mirror], (unsigned long long)s->offset);
	return 0;
}

static void stream_stop(struct fetch_stream *s)
{
	if (!s->easy)
		return;
	curl_fn.curl_multi_remove_handle(s->multi, s->easy);
	curl_fn.curl_easy_cleanup(s->easy);
	s->easy = NULL;
}

/* A pause before trying again: backoff_ms doubled per try, between half and all of it
 * (jitter, so that a fleet cut off together does not come back in step). A wait on the
 * multi handle, which fetch_stream_cancel wakes, and never past the deadline. */
static void stream_pause(struct fetch_stream *s)
{
	unsigned ms = s->o.backoff_ms;
	uint64_t until;

	for (unsigned i = 1; i < s->tries && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	ms = MIN(ms, BACKOFF_MAX_MS);
	ms = ms / 2 + (unsigned)rand_r(&s->seed) % (ms / 2 + 1);
	until = MIN(fetch_now_ms() + ms, s->deadline);
	for (uint64_t now = fetch_now_ms(); now < until && !atomic_load(&s->cancelled); now = fetch_now_ms())
		if (curl_fn.curl_multi_poll(s->multi, NULL, 0, (int)(until - now), NULL) != CURLM_OK)
			break;
}

/* Remembers why a try failed: "URL: reason", for the final message. */
static int stream_note(struct fetch_stream *s, const char *detail)
{
	_cleanup_free_ char *line = NULL;
	char *joined;

	if (asprintf(&line, "%s: %s", s->urls[s->mirror], detail) < 0)
		return -ENOMEM;
	log_debug("%s", line);
	if (asprintf(&joined, "%s%s%s", s->why ? s->why : "", s->why ? "; " : "", line) < 0)
		return -ENOMEM;
	free(s->why);
	s->why = joined;
	return 0;
}

/* The whole download ran out of time: said once, and it ends here, whatever mirrors are left. */
static int stream_expired(struct fetch_stream *s)
{
	char why[96];
	int k;

	snprintf(why, sizeof(why), "not done within %ld s, the time a whole download may take; given up",
		 s->o.max_time_s);
	return (k = stream_note(s, why)) < 0 ? k : -EIO;
}

/* The transfer in flight has ended: done, or what to try next. */
static int stream_ended(struct fetch_stream *s, CURLcode cc)
{
	long status = 0;
	char code[16];
	int k;

	curl_fn.curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	stream_stop(s);
	if (cc == CURLE_OK) {
		s->done = true;
		return 0;
	}
	if (atomic_load(&s->cancelled))
		return -ECANCELED;
	if (s->error < 0) /* too big, out of memory: no mirror helps */
		return s->error;
	/* curl's own time limit is the same deadline, read on its clock: a hair early on ours. */
	if (fetch_now_ms() >= s->deadline || (cc == CURLE_OPERATION_TIMEDOUT && fetch_now_ms() + 1000 >= s->deadline))
		return stream_expired(s);
	if (s->slow) {
		char why[128];

		snprintf(why, sizeof(why), "slower than %llu bytes/s on average after %ld s; given up",
			 (unsigned long long)s->o.min_rate, s->o.stall_s);
		if ((k = stream_note(s, why)) < 0)
			return k;
		/* A mirror that slow stays slow: the next one, without the pauses. */
		s->tries = s->o.retries;
	} else if (cc == CURLE_UNSUPPORTED_PROTOCOL) {
		/* A URL, or a redirect, to a scheme not allowed (set_protocols): asking again
		 * will send us there again. */
		if ((k = stream_note(s, "a scheme gpuprov does not fetch: http and https only, and a redirect "
					"from https stays on https")) < 0)
			return k;
		s->tries = s->o.retries;
	} else {
		snprintf(code, sizeof(code), "HTTP %ld", status);
		k = stream_note(s, cc == CURLE_HTTP_RETURNED_ERROR ? code
				   : *s->errbuf ? s->errbuf
						: curl_fn.curl_easy_strerror(cc));
		if (k < 0)
			return k;
	}
	/* Not there, or not for us: asking this mirror again will not change that. */
	if (cc == CURLE_HTTP_RETURNED_ERROR && (status == 404 || status == 410 || status == 403 || status == 401)) {
		s->missing += status == 404 || status == 410;
		s->tries = s->o.retries;
	}
	/* A TLS peer that does not verify is not a passing fault either. */
	if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE)
		s->tries = s->o.retries;
	if (s->tries >= s->o.retries) {
		s->tries = 0;
		if (!s->urls[++s->mirror])
			return s->missing == s->mirror ? -GPE_UNAVAILABLE : -EIO;
		return 0;
	}
	s->tries++;
	stream_pause(s);
	return 0;
}

ssize_t fetch_stream_read_wait(struct fetch_stream *s, const void **ret_data, int wait_ms)
{
	static unsigned char none;
	uint64_t until = wait_ms >= 0 ? fetch_now_ms() + (uint64_t)wait_ms : UINT64_MAX;
	int running, k;

	s->len = 0;
	while (s->len == 0) {
		CURLMsg *msg;
		int queued, poll_ms = 1000;
		uint64_t now = fetch_now_ms();

		if (s->error < 0)
			return s->error;
		if (atomic_load(&s->cancelled))
			return s->error = -ECANCELED;
		if (s->done) {
			*ret_data = &none;
			return 0;
		}
		/* Between tries: the pause may have used the last of the time. */
		if (!s->easy && fetch_now_ms() >= s->deadline)
			return s->error = stream_expired(s);
		if (!s->easy && (k = stream_start(s)) < 0)
			return s->error = k;
		if (curl_fn.curl_multi_perform(s->multi, &running) != CURLM_OK)
			return s->error = -EIO;
		while ((msg = curl_fn.curl_multi_info_read(s->multi, &queued)))
			if (msg->msg == CURLMSG_DONE && (k = stream_ended(s, msg->data.result)) < 0)
				return s->error = k;
		if (s->len > 0 || !s->easy)
			continue;
		if (now >= until)
			return -EAGAIN;
		if (until - now < (uint64_t)poll_ms)
			poll_ms = (int)(until - now);
		if (curl_fn.curl_multi_poll(s->multi, NULL, 0, poll_ms, NULL) != CURLM_OK)
			return s->error = -EIO;
	}
	*ret_data = s->buf;
	return (ssize_t)s->len;
}

ssize_t fetch_stream_read(struct fetch_stream *s, const void **ret_data)
{
	return fetch_stream_read_wait(s, ret_data, -1);
}

int fetch_ready(char **ret_error)
{
	return dynlib_need(&libcurl, "fetching", ret_error);
}

int fetch_stream_open(char *const *urls, const struct fetch_opts *opts, struct fetch_stream **ret)
{
	_cleanup_(fetch_stream_freep) struct fetch_stream *s = NULL;
	int k;

	if (!urls || !urls[0])
		return -EINVAL;
	if ((k = fetch_ready(NULL)) < 0)
		return k;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->o = *opts;
	if (s->o.connect_timeout_s <= 0)
		s->o.connect_timeout_s = FETCH_CONNECT_TIMEOUT_S;
	if (s->o.stall_s <= 0)
		s->o.stall_s = FETCH_STALL_S;
	if (s->o.max_time_s <= 0)
		s->o.max_time_s = FETCH_MAX_TIME_S;
	if (s->o.min_rate == 0)
		s->o.min_rate = FETCH_MIN_RATE;
	if (s->o.backoff_ms == 0)
		s->o.backoff_ms = 1000;
	s->deadline = fetch_now_ms() + (uint64_t)s->o.max_time_s * 1000;
	s->seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	/* curl_global_init is implied by the first handle; gpuprov is single-threaded. */
	if (strv_extend(&s->urls, urls) < 0 || !(s->multi = curl_fn.curl_multi_init()))
		return -ENOMEM;
	*ret = TAKE_PTR(s);
	return 0;
}

void fetch_stream_cancel(struct fetch_stream *s)
{
	atomic_store(&s->cancelled, true);
	/* Out of curl_multi_poll now, not at its next timeout. */
	(void)curl_fn.curl_multi_wakeup(s->multi);
}

const char *fetch_stream_error(const struct fetch_stream *s)
{
	return s->why ? s->why : s->error < 0 ? gp_strerror(s->error) : "no error";
}

struct fetch_stream *fetch_stream_free(struct fetch_stream *s)
{
	if (!s)
		return NULL;
	stream_stop(s);
	if (s->multi)
		curl_fn.curl_multi_cleanup(s->multi);
	strv_free(s->urls);
	free(s->buf);
	free(s->why);
	free(s);
	return NULL;
}

int fetch_url(const char *url, int fd, uint64_t max, char ret_hex[static SHA256_HEX_LEN + 1], char **ret_error)
{
	_cleanup_(fetch_stream_freep) struct fetch_stream *s = NULL;
	_cleanup_(sha256_freep) struct sha256 *h = NULL;
	const struct fetch_opts o = { .max = max, .retries = 2 };
	const void *data;
	ssize_t n;
	int k;

	*ret_error = NULL;
	if ((k = dynlib_need(&libcrypto, "checking what is fetched", ret_error)) < 0 ||
	    (k = sha256_new(&h)) < 0)
		return k;
	if ((k = fetch_ready(ret_error)) < 0)
		return k;
	if ((k = fetch_stream_open((char *[]){ (char *)url, NULL }, &o, &s)) < 0)
		return k;
	while ((n = fetch_stream_read(s, &data)) > 0)
		if ((k = fd_write_all(fd, data, (size_t)n)) < 0 || (k = sha256_update(h, data, (size_t)n)) < 0)
			return k;
	if (n < 0) {
		if (n != -GPE_TOOBIG)
			*ret_error = strdup(fetch_stream_error(s));
		return (int)n;
	}
	return sha256_final(h, ret_hex);
}
