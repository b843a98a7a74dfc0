/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Functions return >= 0 on success, -errno on a system error, or -GPE_* for errors of
 * gpuprov's own domain. The base keeps them clear of every errno value.
 */
enum {
	GPE_BASE = 1 << 12,
	GPE_PARSE,   /* content does not have the expected format */
	GPE_TOOBIG,  /* a file or field is larger than gpuprov accepts */
	GPE_COMMAND, /* a command (package manager, installer) failed */
	GPE_UNAVAILABLE, /* the repository or mirror does not offer what the plan needs */
	GPE_DIGEST,  /* a download's SHA-256 is not the one expected */
	GPE_LOCKED,  /* another gpuprov run holds the lock */
	GPE_REFUSED, /* a check before any change refused */
	GPE_SIGNATURE,   /* a signature verifies with no trusted key (or not with the one named) */
	GPE_UNKNOWN_KEY, /* signed by no key of the key directory (or the directory has none) */
	GPE_NOT_REGULAR, /* a file gpuprov reads or replaces is a FIFO, device, socket or directory */
	GPE_KEY_REVOKED, /* signed by a trusted key that is revoked or past its expiry */
	GPE_STALE,       /* a bundle older than the one accepted before, expired, or undated */
	GPE_MAX,
};

/* Like strerror(), for both -errno and -GPE_* values. Never returns NULL. */
const char *gp_strerror(int error);

#include <stdarg.h>

/* Replaces *msg with a formatted message (NULL when out of memory) and returns error: for
 * the error strings a core object keeps for its caller to report. */
int gp_error_setv(char **msg, int error, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
int gp_error_set(char **msg, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
