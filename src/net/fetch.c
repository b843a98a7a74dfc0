/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HTTP(S) downloads with libcurl, hashed with OpenSSL as they arrive. */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <unistd.h>

#include "net/fetch.h"
#include "util/errors.h"
#include "util/macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup)

struct sink {
	int fd;
	uint64_t got, max;
	EVP_MD_CTX *md;
	int error; /* first write error */
};

static size_t sink_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t len = size * nmemb;

	if (s->got + len > s->max) {
		s->error = -GPE_TOOBIG;
		return 0;
	}
	for (size_t done = 0; done < len;) {
		ssize_t l = write(s->fd, data + done, len - done);

		if (l < 0 && errno == EINTR)
			continue;
		if (l < 0) {
			s->error = -errno;
			return 0;
		}
		done += (size_t)l;
	}
	s->got += len;
	return EVP_DigestUpdate(s->md, data, len) == 1 ? len : 0;
}

static void to_hex(const unsigned char *d, unsigned n, char *out)
{
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
	out[2 * n] = '\0';
}

/* Only http and https, redirects included (no file://, no ftp). The string form replaced
 * the bitmask in libcurl 7.85; Ubuntu 22.04 has 7.81. */
static CURLcode set_protocols(CURL *curl)
{
#if LIBCURL_VERSION_NUM >= 0x075500
	CURLcode c = curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");

	return c != CURLE_OK ? c : curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	CURLcode c = curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));

	return c != CURLE_OK ? c : curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
}

int fetch_url(const char *url, int fd, uint64_t max, char ret_hex[static SHA256_HEX_LEN + 1], char **ret_error)
{
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
	_cleanup_(curl_easy_cleanupp) CURL *curl = NULL;
	struct sink s = { .fd = fd, .max = max, .md = md };
	char errbuf[CURL_ERROR_SIZE] = "";
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	long status = 0;
	CURLcode cc;

	*ret_error = NULL;
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		return -ENOMEM;
	/* curl_global_init is implied by the first easy handle; gpuprov is single-threaded. */
	curl = curl_easy_init();
	if (!curl)
		return -ENOMEM;
	if (curl_easy_setopt(curl, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink_write) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L) != CURLE_OK ||
	    set_protocols(curl) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L) != CURLE_OK ||
	    /* A stalled mirror: under 1 KiB/s for a minute is given up. */
	    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_USERAGENT, "gpuprov/" PACKAGE_VERSION) != CURLE_OK)
		return -EINVAL;
	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK) {
		if (s.error == -GPE_TOOBIG)
			return -GPE_TOOBIG;
		if (asprintf(ret_error, "%s", *errbuf ? errbuf : curl_easy_strerror(cc)) < 0)
			*ret_error = NULL;
		return status == 404 || status == 410 ? -GPE_UNAVAILABLE : s.error < 0 ? s.error : -EIO;
	}
	if (EVP_DigestFinal_ex(md, digest, &dlen) != 1 || dlen != SHA256_HEX_LEN / 2)
		return -EIO;
	to_hex(digest, dlen, ret_hex);
	return 0;
}

int sha256_fd(int fd, char ret_hex[static SHA256_HEX_LEN + 1])
{
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char digest[EVP_MAX_MD_SIZE], buf[65536];
	unsigned dlen = 0;
	ssize_t l;

	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		return -ENOMEM;
	while ((l = read(fd, buf, sizeof(buf))) != 0) {
		if (l < 0 && errno == EINTR)
			continue;
		if (l < 0)
			return -errno;
		if (EVP_DigestUpdate(md, buf, (size_t)l) != 1)
			return -EIO;
	}
	if (EVP_DigestFinal_ex(md, digest, &dlen) != 1 || dlen != SHA256_HEX_LEN / 2)
		return -EIO;
	to_hex(digest, dlen, ret_hex);
	return 0;
}
