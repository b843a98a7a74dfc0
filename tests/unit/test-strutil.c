/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "unit.h"

#include <errno.h>

#include "util/errors.h"
#include "util/strutil.h"

static void test_strstrip(void **state)
{
	char a[] = "  \t550.54.15 \n", b[] = "", c[] = "\n\n";

	assert_string_equal(strstrip(a), "550.54.15");
	assert_string_equal(strstrip(b), "");
	assert_string_equal(strstrip(c), "");
}

static void test_parse_s64(void **state)
{
	int64_t v;

	assert_int_equal(parse_s64("0x10de\n", &v), 0);
	assert_int_equal(v, 0x10de);
	assert_int_equal(parse_s64("0x030200", &v), 0);
	assert_int_equal(v, 0x030200);
	assert_int_equal(parse_s64("-1\n", &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(parse_s64("42", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_s64("010", &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(parse_s64("09\n", &v), 0);
	assert_int_equal(v, 9);
	assert_int_equal(parse_s64("", &v), -GPE_PARSE);
	assert_int_equal(parse_s64("\n", &v), -GPE_PARSE);
	assert_int_equal(parse_s64("0x10de junk", &v), -GPE_PARSE);
	assert_int_equal(parse_s64("ten", &v), -GPE_PARSE);
	assert_int_equal(parse_s64("99999999999999999999999", &v), -GPE_PARSE);
	assert_int_equal(parse_s64(NULL, &v), -GPE_PARSE);
}

static void test_strv(void **state)
{
	char **v = NULL;
	size_t n = 0;

	assert_int_equal(strv_length(v), 0);
	assert_false(strv_contains(v, "a"));
	assert_int_equal(strv_push(&v, &n, "nvidia"), 0);
	assert_int_equal(strv_push(&v, &n, "nouveau"), 0);
	assert_int_equal(strv_length(v), 2);
	assert_true(strv_contains(v, "nouveau"));
	assert_false(strv_contains(v, "nvidia_uvm"));
	assert_null(v[2]);
	assert_null(strv_free(v));
}

static void test_dates(void **state)
{
	char d[DATE_LEN + 1];

	(void)state;
	assert_true(date_ok("2026-12-06"));
	assert_true(date_ok("2028-02-29"));
	assert_false(date_ok("2026-02-29"));
	assert_false(date_ok("2026-13-01"));
	assert_false(date_ok("2026-12-6"));
	assert_false(date_ok("2026-12-06T00:00:00Z"));
	assert_false(date_ok("2026/12/06"));
	assert_false(date_ok("+026-12-06"));
	assert_false(date_ok(NULL));
	assert_int_equal(date_add_days("2026-12-06", 90, d), 0);
	assert_string_equal(d, "2027-03-06");
	assert_int_equal(date_add_days("2028-02-28", 1, d), 0);
	assert_string_equal(d, "2028-02-29");
	assert_int_equal(date_add_days("2026-12-31", 0, d), 0);
	assert_string_equal(d, "2026-12-31");
	assert_int_equal(date_add_days("2026-02-30", 1, d), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strstrip),
		cmocka_unit_test(test_parse_s64),
		cmocka_unit_test(test_strv),
		cmocka_unit_test(test_dates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
