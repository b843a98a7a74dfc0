/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SHA-256 with OpenSSL, whole files or data as it passes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "net/crypto-lib.h"
#include "net/fetch.h"
#include "util/macro.h"

struct sha256 {
	EVP_MD_CTX *md;
};

struct sha256 *sha256_free(struct sha256 *h)
{
	if (h) {
		crypto_fn.EVP_MD_CTX_free(h->md);
		free(h);
	}
	return NULL;
}

int sha256_reset(struct sha256 *h)
{
	return crypto_fn.EVP_DigestInit_ex(h->md, crypto_fn.EVP_sha256(), NULL) == 1 ? 0 : -EIO;
}

int sha256_new(struct sha256 **ret)
{
	struct sha256 *h;
	int k = crypto_ready();

	if (k < 0)
		return k;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->md = crypto_fn.EVP_MD_CTX_new();
	k = h->md ? sha256_reset(h) : -ENOMEM;
	if (k < 0) {
		sha256_free(h);
		return k;
	}
	*ret = h;
	return 0;
}

int sha256_update(struct sha256 *h, const void *data, size_t len)
{
	return crypto_fn.EVP_DigestUpdate(h->md, data, len) == 1 ? 0 : -EIO;
}

int sha256_final(struct sha256 *h, char ret_hex[static SHA256_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (crypto_fn.EVP_DigestFinal_ex(h->md, digest, &n) != 1 || n != SHA256_HEX_LEN / 2)
		return -EIO;
	for (unsigned i = 0; i < n; i++) {
		ret_hex[2 * i] = hex[digest[i] >> 4];
		ret_hex[2 * i + 1] = hex[digest[i] & 0xf];
	}
	ret_hex[2 * n] = '\0';
	return 0;
}

int sha256_fd(int fd, char ret_hex[static SHA256_HEX_LEN + 1])
{
	_cleanup_(sha256_freep) struct sha256 *h = NULL;
	unsigned char buf[65536];
	ssize_t l;
	int k;

	if ((k = sha256_new(&h)) < 0)
		return k;
	while ((l = read(fd, buf, sizeof(buf))) != 0) {
		if (l < 0 && errno == EINTR)
			continue;
		if (l < 0)
			return -errno;
		if ((k = sha256_update(h, buf, (size_t)l)) < 0)
			return k;
	}
	return sha256_final(h, ret_hex);
}
