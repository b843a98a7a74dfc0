/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The deb822 scanner (block by block, fields by their first byte) and the string table the
 * repository view keeps its strings in. */
#include <string.h>

#include "unit.h"
#include "util/deb822.h"
#include "util/macro.h"
#include "util/strtab.h"

/* What the scanner gave, one "package|version|arch|status" line per stanza ("-" for a
 * field not there). */
struct seen {
	char *text;
	size_t len;
	FILE *out;
	int stop_after; /* stop with 7 after this many stanzas; 0: never */
	int n;
};

static void put(FILE *out, struct deb822_value v)
{
	if (v.p)
		fprintf(out, "%.*s", (int)v.len, v.p);
	else
		fputs("-", out);
}

static int record(const struct deb822_fields *s, void *userdata)
{
	struct seen *seen = userdata;

	put(seen->out, s->package), fputc('|', seen->out);
	put(seen->out, s->version), fputc('|', seen->out);
	put(seen->out, s->architecture), fputc('|', seen->out);
	put(seen->out, s->status), fputc('\n', seen->out);
	return ++seen->n == seen->stop_after ? 7 : 0;
}

/* Scans text (len bytes); the result, and what was seen in seen->text. */
static int scan(const char *text, size_t len, struct seen *seen)
{
	FILE *in = fmemopen((void *)text, len, "r");
	int k;

	assert_non_null(in);
	seen->out = open_memstream(&seen->text, &seen->len);
	assert_non_null(seen->out);
	k = deb822_scan(in, record, seen);
	fclose(seen->out);
	fclose(in);
	return k;
}

static void test_fields(void **state)
{
	static const char text[] =
		"\n\n"                                            /* blank lines before: nothing */
		"Package: a\nVersion: 1.0\nArchitecture: amd64\n" /* the three fields */
		"Description: x\n continued\n Package: not-a-field\n"
		"\n"
		"Package:b\t \r\nVersion:  2:3-4  \nStatus: hold ok installed\nPackages: no\nVersions: no\n"
		"\n\n\n"
		"Package: c\nPackage: c2\nVersion: 5\n"           /* named twice: the last */
		"\n"
		"Description: only\n"                             /* a stanza of none of them */
		"\n"
		"Package: last\nVersion: 9";                      /* no newline at the end */
	struct seen seen = {};

	assert_int_equal(scan(text, strlen(text), &seen), 0);
	assert_string_equal(seen.text, "a|1.0|amd64|-\n"
				       "b|2:3-4|-|hold ok installed\n"
				       "c2|5|-|-\n"
				       "-|-|-|-\n"
				       "last|9|-|-\n");
	free(seen.text);
}

/* fn's value other than 0 stops the read and comes back. */
static void test_stop(void **state)
{
	static const char text[] = "Package: a\n\nPackage: b\n\nPackage: c\n";
	struct seen seen = { .stop_after = 2 };

	assert_int_equal(scan(text, strlen(text), &seen), 7);
	assert_string_equal(seen.text, "a|-|-|-\nb|-|-|-\n");
	free(seen.text);
}

/* Many stanzas over several blocks, and one larger than a block: each read whole, in order,
 * wherever the blocks end. */
static void test_blocks(void **state)
{
	_cleanup_free_ char *text = NULL, *want = NULL;
	size_t len = 0, wlen = 0;
	FILE *t = open_memstream(&text, &len), *w = open_memstream(&want, &wlen);
	struct seen seen = {};

	assert_non_null(t);
	assert_non_null(w);
	for (int i = 0; i < 40000; i++) {
		fprintf(t, "Package: p%d\nVersion: %d.0\nDescription: %*s\n\n", i, i, i % 97, "");
		fprintf(w, "p%d|%d.0|-|-\n", i, i);
		if (i == 20000) {
			/* 3 MiB of one field before the ones read. */
			fprintf(t, "Package: big\nDescription: ");
			for (int j = 0; j < (3 << 20) / 64; j++)
				fprintf(t, " %063d\n", j);
			fprintf(t, "Version: big\n\n");
			fprintf(w, "big|big|-|-\n");
		}
	}
	fclose(t);
	fclose(w);
	assert_int_equal(scan(text, len, &seen), 0);
	assert_int_equal(seen.n, 40001);
	assert_true(seen.len == wlen && memcmp(seen.text, want, wlen) == 0);
	free(seen.text);
}

static void test_strtab(void **state)
{
	struct strtab t = {};
	int64_t a, b, c, e;

	a = strtab_intern(&t, "linux-image-6.1", 15);
	b = strtab_intern(&t, "linux-image-6.1.0", 15); /* the same 15 bytes */
	c = strtab_intern(&t, "linux-image-6.1.0", 17);
	e = strtab_intern(&t, "", 0);
	assert_true(a > 0);
	assert_int_equal(a, b);
	assert_true(c > 0 && c != a);
	assert_int_equal(e, 0);
	assert_string_equal(t.buf + a, "linux-image-6.1");
	assert_string_equal(t.buf + c, "linux-image-6.1.0");
	assert_string_equal(t.buf + e, "");
	/* A NUL inside ends the string. */
	assert_int_equal(strtab_intern(&t, "linux-image-6.1\0x", 17), a);
	/* Many: every one kept once, found again where it was put, as the table grows. */
	for (int i = 0; i < 100000; i++) {
		char s[32];
		int n = snprintf(s, sizeof(s), "pkg-%d", i % 50000);
		int64_t o = strtab_intern(&t, s, (size_t)n);

		assert_true(o > 0);
		assert_string_equal(t.buf + o, s);
	}
	assert_int_equal(t.n_used, 50000 + 2);
	strtab_done(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_strtab),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
