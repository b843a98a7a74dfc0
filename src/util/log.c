/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>

#include "errors.h"
#include "log.h"

static enum log_level max_level = LOG_LEVEL_WARNING;

void log_set_level(enum log_level level)
{
	max_level = level;
}

enum log_level log_get_level(void)
{
	return max_level;
}

int log_full_errno(enum log_level level, int error, const char *fmt, ...)
{
	static const char *const prefix[] = {
		[LOG_LEVEL_ERROR] = "error: ",
		[LOG_LEVEL_WARNING] = "warning: ",
		[LOG_LEVEL_INFO] = "",
		[LOG_LEVEL_DEBUG] = "debug: ",
	};
	va_list ap;

	if (level > max_level)
		return error;

	fprintf(stderr, "gpuprov: %s", prefix[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (error < 0)
		fprintf(stderr, ": %s", gp_strerror(error));
	fputc('\n', stderr);
	return error;
}
