/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "macro.h"

const char *gp_strerror(int error)
{
	static const char *const messages[] = {
		[GPE_PARSE - GPE_BASE] = "unexpected format",
		[GPE_TOOBIG - GPE_BASE] = "too large",
		[GPE_COMMAND - GPE_BASE] = "command failed",
		[GPE_UNAVAILABLE - GPE_BASE] = "not offered by the repository",
		[GPE_DIGEST - GPE_BASE] = "SHA-256 does not match",
		[GPE_LOCKED - GPE_BASE] = "another gpuprov run is in progress",
		[GPE_REFUSED - GPE_BASE] = "refused before any change",
		[GPE_SIGNATURE - GPE_BASE] = "signature does not verify",
		[GPE_UNKNOWN_KEY - GPE_BASE] = "signed by a key not in the key directory",
		[GPE_NOT_REGULAR - GPE_BASE] = "not a regular file (a FIFO, device, socket or directory)",
		[GPE_KEY_REVOKED - GPE_BASE] = "signed by a key that is revoked or expired",
		[GPE_STALE - GPE_BASE] = "older than the bundle accepted before, or expired",
	};
	int e = error < 0 ? -error : error;

	if (e > GPE_BASE && e < GPE_MAX)
		return messages[e - GPE_BASE];
	return strerror(e);
}

int gp_error_setv(char **msg, int error, const char *fmt, va_list ap)
{
	free(*msg);
	if (vasprintf(msg, fmt, ap) < 0)
		*msg = NULL;
	return error;
}

int gp_error_set(char **msg, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error = gp_error_setv(msg, error, fmt, ap);
	va_end(ap);
	return error;
}
