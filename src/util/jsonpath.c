/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "jsonpath.h"

void jsonpath_push_key(struct jsonpath *p, const char *key)
{
	if (p->n < JSONPATH_MAX)
		p->seg[p->n].key = key, p->seg[p->n].index = -1;
	p->n++;
}

void jsonpath_push_index(struct jsonpath *p, int index)
{
	if (p->n < JSONPATH_MAX)
		p->seg[p->n].key = NULL, p->seg[p->n].index = index;
	p->n++;
}

void jsonpath_pop(struct jsonpath *p)
{
	if (p->n > 0)
		p->n--;
}

static bool is_identifier(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '$')
			return false;
	return true;
}

void jsonpath_format(const struct jsonpath *p, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < p->n && i < JSONPATH_MAX && len < size; i++) {
		int k;

		if (!p->seg[i].key)
			k = snprintf(buf + len, size - len, "[%d]", p->seg[i].index);
		else if (is_identifier(p->seg[i].key))
			k = snprintf(buf + len, size - len, "%s%s", i ? "." : "", p->seg[i].key);
		else
			k = snprintf(buf + len, size - len, "[\"%s\"]", p->seg[i].key);
		if (k < 0)
			break;
		len += (size_t)k;
	}
	if (p->n == 0)
		snprintf(buf, size, "(top level)");
}

struct jsonpos jsonpos_of(const char *text, size_t offset)
{
	struct jsonpos pos = { 1, 1 };

	for (size_t i = 0; i < offset && text[i]; i++) {
		if (text[i] == '\n') {
			pos.line++;
			pos.column = 1;
		} else
			pos.column++;
	}
	return pos;
}

/* A scanner as forgiving as needed: it runs on text cJSON has already accepted. */
struct scan {
	const char *text, *p;
	const struct jsonpath *want;
	struct jsonpath at;
	bool want_key;
	const char *found;
};

static void skip_ws(struct scan *s)
{
	while (*s->p && isspace((unsigned char)*s->p))
		s->p++;
}

/* Skips a string at s->p (on its opening quote); copies up to size-1 raw bytes of it. */
static void scan_string(struct scan *s, char *out, size_t size)
{
	size_t n = 0;

	s->p++;
	while (*s->p && *s->p != '"') {
		if (*s->p == '\\' && s->p[1])
			s->p++;
		if (out && n + 1 < size)
			out[n++] = *s->p;
		s->p++;
	}
	if (*s->p == '"')
		s->p++;
	if (out)
		out[n] = '\0';
}

static bool at_wanted(const struct scan *s)
{
	if (s->at.n != s->want->n)
		return false;
	for (int i = 0; i < s->at.n && i < JSONPATH_MAX; i++) {
		const char *a = s->at.seg[i].key, *b = s->want->seg[i].key;

		if (!a != !b)
			return false;
		if (a ? strcmp(a, b) != 0 : s->at.seg[i].index != s->want->seg[i].index)
			return false;
	}
	return true;
}

static void scan_value(struct scan *s, int depth);

static void scan_object(struct scan *s, int depth)
{
	s->p++;
	for (;;) {
		char key[4096];
		const char *key_at;

		skip_ws(s);
		if (*s->p != '"')
			break;
		key_at = s->p;
		scan_string(s, key, sizeof(key));
		skip_ws(s);
		if (*s->p == ':')
			s->p++;
		jsonpath_push_key(&s->at, key);
		if (s->want_key && !s->found && at_wanted(s))
			s->found = key_at;
		scan_value(s, depth + 1);
		jsonpath_pop(&s->at);
		skip_ws(s);
		if (*s->p != ',')
			break;
		s->p++;
	}
	skip_ws(s);
	if (*s->p == '}')
		s->p++;
}

static void scan_array(struct scan *s, int depth)
{
	int index = 0;

	s->p++;
	for (;;) {
		skip_ws(s);
		if (*s->p == ']' || !*s->p)
			break;
		jsonpath_push_index(&s->at, index++);
		scan_value(s, depth + 1);
		jsonpath_pop(&s->at);
		skip_ws(s);
		if (*s->p != ',')
			break;
		s->p++;
	}
	if (*s->p == ']')
		s->p++;
}

static void scan_value(struct scan *s, int depth)
{
	skip_ws(s);
	if (!s->want_key && !s->found && at_wanted(s))
		s->found = s->p;
	if (depth > 64)
		return;
	switch (*s->p) {
	case '{':
		scan_object(s, depth);
		break;
	case '[':
		scan_array(s, depth);
		break;
	case '"':
		scan_string(s, NULL, 0);
		break;
	default:
		while (*s->p && !strchr(",]} \t\r\n", *s->p))
			s->p++;
	}
}

bool jsonpath_locate(const char *text, const struct jsonpath *path, bool want_key, struct jsonpos *ret)
{
	struct scan s = { .text = text, .p = text, .want = path, .want_key = want_key };

	scan_value(&s, 0);
	if (!s.found)
		return false;
	*ret = jsonpos_of(text, (size_t)(s.found - text));
	return true;
}
