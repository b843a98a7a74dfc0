/* SPDX-License-Identifier: GPL-2.0-or-later */
/* GP_ERRORS: every code has its own text and an exit status of gpuprov(8), and what is not
 * one of gpuprov's codes reads as an errno value. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/errors.h"

/* What strerror() says of a value it does not know, for comparison. TEXT is copied first:
 * for an unknown value strerror() formats into a buffer of its own that the next call
 * replaces, and gp_strerror() returned that very buffer. */
static bool is_strerror_text(int e, const char *text)
{
	char copy[128];

	snprintf(copy, sizeof(copy), "%s", text);
	return streq(copy, strerror(e));
}

static void test_every_code_has_text(void **state)
{
	(void)state;
	/* The list is not empty: a loop over nothing would pass. */
	assert_true(GPE_MAX - GPE_BASE - 1 >= 12);
	for (int e = GPE_BASE + 1; e < GPE_MAX; e++) {
		const char *text = gp_strerror(-e);

		assert_non_null(text);
		assert_true(text[0] != '\0');
		/* Its own text, not strerror's "Unknown error 4097" fallback. */
		if (is_strerror_text(e, text))
			fail_msg("gpuprov error %d has no text of its own", e);
		/* No two codes read the same: a message must tell them apart. */
		for (int o = GPE_BASE + 1; o < e; o++)
			if (streq(text, gp_strerror(-o)))
				fail_msg("gpuprov errors %d and %d both read \"%s\"", o, e, text);
	}
}

static void test_every_code_has_exit_status(void **state)
{
	(void)state;
	for (int e = GPE_BASE + 1; e < GPE_MAX; e++) {
		int code = exit_code_for(-e);

		/* One of the statuses gpuprov(8) gives a stop on an error: never 0 (success) nor
		 * apply --detailed-exitcodes' 4 and 5. */
		if (code != EXIT_CODE_FAILURE && code != EXIT_CODE_USAGE && code != EXIT_CODE_REFUSED &&
		    code != EXIT_CODE_LIBRARY)
			fail_msg("gpuprov error %d (%s) exits %d", e, gp_strerror(-e), code);
	}
	/* The ones gpuprov(8) names: bad input is 2, a refusal (the lock held, a package not
	 * offered, a bundle not what was signed) is 3; a system error is a failure. */
	assert_int_equal(exit_code_for(-GPE_PARSE), EXIT_CODE_USAGE);
	assert_int_equal(exit_code_for(-GPE_LOCKED), EXIT_CODE_REFUSED);
	assert_int_equal(exit_code_for(-GPE_UNAVAILABLE), EXIT_CODE_REFUSED);
	assert_int_equal(exit_code_for(-GPE_SIGNATURE), EXIT_CODE_REFUSED);
	assert_int_equal(exit_code_for(-GPE_COMMAND), EXIT_CODE_FAILURE);
	/* A library loaded on use that cannot be: 6, its own, so that a fleet tool can tell
	 * "install the package" from a failure. */
	assert_int_equal(exit_code_for(-GPE_LIBRARY), EXIT_CODE_LIBRARY);
	assert_int_equal(EXIT_CODE_LIBRARY, 6);
	assert_int_equal(exit_code_for(-ENOTDIR), EXIT_CODE_FAILURE);
	assert_int_equal(exit_code_for(0), EXIT_CODE_OK);
}

static void test_outside_the_list(void **state)
{
	(void)state;
	assert_string_equal(gp_strerror(-ENOENT), "No such file or directory");
	assert_string_equal(gp_strerror(ENOTDIR), "Not a directory");
	/* Past the list: strerror's text, not a read past the table. */
	assert_true(is_strerror_text(GPE_MAX, gp_strerror(-GPE_MAX)));
	assert_true(is_strerror_text(GPE_MAX + 100, gp_strerror(-(GPE_MAX + 100))));
	assert_true(is_strerror_text(GPE_BASE, gp_strerror(-GPE_BASE)));
	assert_int_equal(exit_code_for(-(GPE_MAX + 100)), EXIT_CODE_FAILURE);
}

static void test_refusal(void **state)
{
	(void)state;
	/* A check that failed changed nothing: a refusal, whatever the backend saw... */
	assert_int_equal(gp_error_refusal(-EIO), -GPE_REFUSED);
	assert_int_equal(gp_error_refusal(-GPE_COMMAND), -GPE_REFUSED);
	/* ...unless the error says more than that, or is no verdict at all. */
	assert_int_equal(gp_error_refusal(-GPE_UNAVAILABLE), -GPE_UNAVAILABLE);
	assert_int_equal(gp_error_refusal(-GPE_DIGEST), -GPE_DIGEST);
	assert_int_equal(gp_error_refusal(-GPE_PARSE), -GPE_PARSE);
	assert_int_equal(gp_error_refusal(-ENOMEM), -ENOMEM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_code_has_text),
		cmocka_unit_test(test_every_code_has_exit_status),
		cmocka_unit_test(test_outside_the_list),
		cmocka_unit_test(test_refusal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
