/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

#define SHA256_HEX_LEN 64

/*
 * Downloads url into fd (an empty file), at most max bytes, and computes the SHA-256 of
 * what arrived as it goes (lowercase hex into ret_hex). ret_error: the HTTP status or
 * transfer error in words. -GPE_UNAVAILABLE for a 404, -EIO for other failures.
 */
int fetch_url(const char *url, int fd, uint64_t max, char ret_hex[static SHA256_HEX_LEN + 1], char **ret_error);

/* The SHA-256 of a whole file, as lowercase hex. */
int sha256_fd(int fd, char ret_hex[static SHA256_HEX_LEN + 1]);
