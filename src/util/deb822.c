/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "deb822.h"
#include "macro.h"

#define BLOCK (1u << 20)

bool deb822_value_eq(struct deb822_value v, const char *s)
{
	return v.p && strlen(s) == v.len && memcmp(v.p, s, v.len) == 0;
}

/* line[0..len) is "Name: value" for the field name (with its colon)? Then the value, with
 * the blanks around it gone. */
static bool field(const char *line, size_t len, const char *name, struct deb822_value *ret)
{
	size_t n = strlen(name), b, e;

	if (len < n || memcmp(line, name, n) != 0)
		return false;
	for (b = n; b < len && (line[b] == ' ' || line[b] == '\t'); b++)
		;
	for (e = len; e > b && (line[e - 1] == ' ' || line[e - 1] == '\t' || line[e - 1] == '\r'); e--)
		;
	*ret = (struct deb822_value){ line + b, e - b };
	return true;
}

/* The stanzas in buf[0..len), which ends at the end of a stanza or of the file. */
static int scan_block(const char *buf, size_t len, int (*fn)(const struct deb822_fields *, void *), void *userdata)
{
	struct deb822_fields s = {};
	bool any = false;
	int k;

	for (const char *p = buf, *end = buf + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		/* A blank line ends a stanza; blank lines before one are nothing. */
		if (n == 0) {
			if (any && (k = fn(&s, userdata)) != 0)
				return k;
			s = (struct deb822_fields){};
			any = false;
		} else {
			any = true;
			/* The first byte tells the few fields read from the many that are not. */
			switch (*p) {
			case 'P':
				(void)field(p, n, "Package:", &s.package);
				break;
			case 'V':
				(void)field(p, n, "Version:", &s.version);
				break;
			case 'A':
				(void)field(p, n, "Architecture:", &s.architecture);
				break;
			case 'S':
				(void)field(p, n, "Status:", &s.status);
				break;
			}
		}
		p += n + 1;
	}
	return any ? fn(&s, userdata) : 0;
}

/* Where the last complete stanza of buf[0..len) ends: just after its blank line; 0 when none
 * is complete. */
static size_t last_stanza_end(const char *buf, size_t len)
{
	for (size_t i = len; i >= 2; i--)
		if (buf[i - 1] == '\n' && buf[i - 2] == '\n')
			return i;
	return 0;
}

int deb822_scan(FILE *f, int (*fn)(const struct deb822_fields *s, void *userdata), void *userdata)
{
	_cleanup_free_ char *buf = NULL;
	size_t alloc = BLOCK, len = 0;
	bool eof = false;

	if (!(buf = malloc(alloc)))
		return -ENOMEM;
	while (!eof) {
		size_t n = fread(buf + len, 1, alloc - len, f), end;
		int k;

		len += n;
		if (len < alloc) {
			/* A read that failed is not the end of the file: fread(3) left its cause in
			 * errno (a decompressed stream's too, decompress.h). */
			if (ferror(f))
				return errno > 0 ? -errno : -EIO;
			eof = true;
		}
		end = eof ? len : last_stanza_end(buf, len);
		if (end == 0) {
			/* One stanza larger than the buffer: a larger buffer. */
			char *b = realloc(buf, alloc * 2);

			if (!b)
				return -ENOMEM;
			buf = b;
			alloc *= 2;
			continue;
		}
		if ((k = scan_block(buf, end, fn, userdata)) != 0)
			return k;
		memmove(buf, buf + end, len - end);
		len -= end;
	}
	return 0;
}
