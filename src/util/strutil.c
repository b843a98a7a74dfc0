/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "strutil.h"

char *strstrip(char *s)
{
	char *end;

	s += strspn(s, " \t\r\n");
	end = s + strlen(s);
	while (end > s && strchr(" \t\r\n", end[-1]))
		end--;
	*end = '\0';
	return s;
}

int parse_s64(const char *s, int64_t *ret)
{
	char *end;
	long long v;

	if (!s)
		return -GPE_PARSE;
	s += strspn(s, " \t");
	if (!*s)
		return -GPE_PARSE;
	/* Hexadecimal only with "0x"; "010" is ten, as the kernel means it, not octal 8. */
	errno = 0;
	if (startswith(s, "0x") || startswith(s, "0X") || startswith(s, "-0x"))
		v = strtoll(s, &end, 16);
	else
		v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return -GPE_PARSE;
	if (end == s || end[strspn(end, " \t\r\n")] != '\0')
		return -GPE_PARSE;
	*ret = v;
	return 0;
}

int free_and_strdup(char **field, const char *value)
{
	char *s = strdup(value);

	if (!s)
		return -ENOMEM;
	free(*field);
	*field = s;
	return 0;
}

int strv_push_take(char ***v, size_t *n, char *s)
{
	char **p;

	if (!s)
		return -ENOMEM;
	p = realloc(*v, (*n + 2) * sizeof(char *));
	if (!p) {
		free(s);
		return -ENOMEM;
	}
	p[(*n)++] = s;
	p[*n] = NULL;
	*v = p;
	return 0;
}

int strv_push(char ***v, size_t *n, const char *s)
{
	return strv_push_take(v, n, strdup(s));
}

int strv_pushv(char ***v, size_t *n, const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		return -ENOMEM;
	return strv_push_take(v, n, s);
}

int strv_pushf(char ***v, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = strv_pushv(v, n, fmt, ap);
	va_end(ap);
	return k;
}

char **strv_free(char **v)
{
	if (!v)
		return NULL;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
	return NULL;
}

size_t strv_length(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strv_sort(char **v)
{
	size_t n = strv_length(v);

	if (n > 1)
		qsort(v, n, sizeof(char *), cmp_str);
}

int strv_contains(char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (streq(*v, s))
			return 1;
	return 0;
}

int strv_extend(char ***v, char *const *items)
{
	size_t n = strv_length(*v);

	for (; items && *items; items++)
		if (strv_push(v, &n, *items) < 0)
			return -ENOMEM;
	return 0;
}

char *strv_join(char *const *v, const char *sep)
{
	size_t len = 1, ls = strlen(sep);
	char *s, *p;

	for (char *const *i = v; i && *i; i++)
		len += strlen(*i) + ls;
	p = s = malloc(len);
	if (!s)
		return NULL;
	*s = '\0';
	for (char *const *i = v; i && *i; i++)
		p = stpcpy(stpcpy(p, i == v ? "" : sep), *i);
	return s;
}

/* The date's calendar fields, when it is one: a day out of its month is not. */
static bool date_parse(const char *s, struct tm *ret)
{
	struct tm tm = {}, check;
	time_t t;

	if (!s || strlen(s) != DATE_LEN || s[4] != '-' || s[7] != '-' ||
	    strspn(s, "0123456789") != 4 || strspn(s + 5, "0123456789") != 2 || strspn(s + 8, "0123456789") != 2)
		return false;
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	tm.tm_hour = 12; /* far from a day's edges */
	check = tm;
	t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_year != check.tm_year || tm.tm_mon != check.tm_mon || tm.tm_mday != check.tm_mday)
		return false;
	*ret = tm;
	return true;
}

bool date_ok(const char *s)
{
	struct tm tm;

	return date_parse(s, &tm);
}

int date_add_days(const char *date, unsigned days, char ret[static DATE_LEN + 1])
{
	struct tm tm;
	time_t t;

	if (!date_parse(date, &tm))
		return -EINVAL;
	t = timegm(&tm) + (time_t)days * 86400;
	if (!gmtime_r(&t, &tm) || strftime(ret, DATE_LEN + 1, "%Y-%m-%d", &tm) != DATE_LEN)
		return -EINVAL;
	return 0;
}

int date_days_between(const char *a, const char *b, long *ret)
{
	struct tm ta, tb;

	if (!date_parse(a, &ta) || !date_parse(b, &tb))
		return -EINVAL;
	/* Both at noon UTC: whole days, whatever the leap seconds. */
	*ret = (long)((timegm(&tb) - timegm(&ta)) / 86400);
	return 0;
}

static char *utc_format(char buf[static 32], bool compact)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	if (compact)
		strftime(buf, 32, "%Y%m%dT%H%M%SZ", &tm);
	else
		strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

char *utc_now(char buf[static 32])
{
	return utc_format(buf, false);
}

char *utc_now_compact(char buf[static 32])
{
	return utc_format(buf, true);
}
