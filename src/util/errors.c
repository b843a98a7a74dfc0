/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov's own errors: their text and their kind, both from the one list GP_ERRORS. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "macro.h"

#define GP_ERROR_TEXT(name, text, exit) [GPE_##name - GPE_BASE - 1] = text,
static const char *const messages[] = { GP_ERRORS(GP_ERROR_TEXT) };
#undef GP_ERROR_TEXT

#define GP_ERROR_EXIT(name, text, exit) [GPE_##name - GPE_BASE - 1] = GP_EXIT_##exit,
static const enum gp_exit exits[] = { GP_ERRORS(GP_ERROR_EXIT) };
#undef GP_ERROR_EXIT

/* The index of a -GPE_* value in the tables, or -1 for anything else. Bounded by the
 * tables' own size, not by GPE_MAX, so that a code the tables lack reads as an errno value
 * (strerror's "Unknown error") instead of past their end. */
static int gp_error_index(int error)
{
	int e = error < 0 ? -error : error;

	if (e > GPE_BASE && (size_t)(e - GPE_BASE - 1) < ELEMENTSOF(messages) && messages[e - GPE_BASE - 1])
		return e - GPE_BASE - 1;
	return -1;
}

const char *gp_strerror(int error)
{
	int i = gp_error_index(error);

	return i >= 0 ? messages[i] : strerror(error < 0 ? -error : error);
}

enum gp_exit gp_error_exit(int error)
{
	int i = gp_error_index(error);

	_Static_assert(ELEMENTSOF(exits) == ELEMENTSOF(messages), "GP_ERRORS gives each code a text and a kind");
	return i >= 0 && (size_t)i < ELEMENTSOF(exits) ? exits[i] : GP_EXIT_FAILURE;
}

int gp_error_refusal(int error)
{
	if (error == -ENOMEM || gp_error_exit(error) != GP_EXIT_FAILURE)
		return error;
	return -GPE_REFUSED;
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
