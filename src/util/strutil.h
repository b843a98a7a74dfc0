/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Strips leading and trailing whitespace in place; returns the first kept character. */
char *strstrip(char *s);

/* Parses "0x10de", "-1", "42" (with optional trailing whitespace). -GPE_PARSE otherwise. */
int parse_s64(const char *s, int64_t *ret);

/* Replaces *field with a copy of value (the old one freed). */
int free_and_strdup(char **field, const char *value);

/* NULL-terminated string vectors. */
int strv_push(char ***v, size_t *n, const char *s);
int strv_push_take(char ***v, size_t *n, char *s);
/* Appends a formatted string. */
int strv_pushf(char ***v, size_t *n, const char *fmt, ...) _printf_(3, 4);
int strv_pushv(char ***v, size_t *n, const char *fmt, va_list ap) _printf_(3, 0);
/* Appends copies of every string of items (NULL-terminated) to *v. */
int strv_extend(char ***v, char *const *items);
char **strv_free(char **v);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free)
size_t strv_length(char *const *v);
/* Sorts a vector in place, byte order: listings come out the same whatever readdir says. */
void strv_sort(char **v);
int strv_contains(char *const *v, const char *s);
/* The strings joined with sep between them ("" for none); NULL when out of memory. */
char *strv_join(char *const *v, const char *sep);

/* Dates as gpuprov writes and compares them, "YYYY-MM-DD" (UTC): strcmp orders them. */
#define DATE_LEN 10
/* Whether s is such a date, and one that exists (2026-02-30 does not). */
bool date_ok(const char *s);
/* The date days after date, in ret; -EINVAL when date is not a date. */
int date_add_days(const char *date, unsigned days, char ret[static DATE_LEN + 1]);
/* The days from date a to date b (negative when b is earlier); -EINVAL when either is not a date. */
int date_days_between(const char *a, const char *b, long *ret);

/* Now, UTC, as gpuprov's records write a time: "2026-12-07T10:02:26Z"; compact, as a run id
 * starts: "20261207T100226Z". Each returns buf. */
char *utc_now(char buf[static 32]);
char *utc_now_compact(char buf[static 32]);
