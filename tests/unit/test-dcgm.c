/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dcgmi diag -j through dcgm_diag_parse: DCGM 4's and DCGM 3's layouts read with their failed
 * results (test, GPU, DCGM's words, whose fault), a runtime error as a failure, and each
 * document that is not a diagnostic's refused, saying why. */
#include "unit.h"

#include <errno.h>
#include <string.h>

#include "apply/verify.h"

/* DCGM 4: results by entity, a summary per test. */
static const char v4_fail[] =
	"{\"DCGM Diagnostic\":{\"test_categories\":["
	"{\"category\":\"Deployment\",\"tests\":[{\"name\":\"software\",\"results\":["
	"{\"entity_group\":\"GPU\",\"entity_group_id\":1,\"entity_id\":0,\"status\":\"Pass\"},"
	"{\"entity_group\":\"GPU\",\"entity_group_id\":1,\"entity_id\":1,\"status\":\"Skip\"}],"
	"\"test_summary\":{\"status\":\"Pass\"}}]},"
	"{\"category\":\"Hardware\",\"tests\":[{\"name\":\"memory\",\"results\":["
	"{\"entity_group\":\"GPU\",\"entity_group_id\":1,\"entity_id\":0,\"status\":\"Pass\"},"
	"{\"entity_group\":\"GPU\",\"entity_group_id\":1,\"entity_id\":1,\"status\":\"Fail\","
	"\"warnings\":[{\"error_id\":84,\"warning\":\"memory errors\\nfound\"}]}],"
	"\"test_summary\":{\"status\":\"Fail\"}}]}]},"
	"\"metadata\":{\"version\":\"4.2.3\"}}";

/* DCGM 3: results by gpu_id (a string), info a string. */
static const char v3_fail[] =
	"{\"DCGM GPU Diagnostic\":{\"test_categories\":[{\"category\":\"Hardware\",\"tests\":["
	"{\"name\":\"GPU Memory\",\"results\":[{\"gpu_id\":\"0\",\"status\":\"PASS\"},"
	"{\"gpu_id\":\"3\",\"status\":\"FAIL\",\"info\":\"Memory test failed\"}]}]}]}}";

static void test_v4(void **state)
{
	struct dcgm_diag d;
	char *why = NULL;

	(void)state;
	assert_int_equal(dcgm_diag_parse(v4_fail, &d, &why), 0);
	assert_null(why);
	assert_int_equal(d.tests, 4);
	assert_int_equal(d.skipped, 1);
	assert_int_equal(d.n_failures, 1);
	assert_string_equal(d.failures[0].test, "memory");
	assert_int_equal(d.failures[0].gpu, 1);
	/* DCGM's words on one line: they go into a one-line detail. */
	assert_string_equal(d.failures[0].info, "memory errors found");
	assert_int_equal(d.failures[0].kind, DCGM_HARDWARE);
}

static void test_v3(void **state)
{
	struct dcgm_diag d;
	char *why = NULL;

	(void)state;
	assert_int_equal(dcgm_diag_parse(v3_fail, &d, &why), 0);
	assert_int_equal(d.tests, 2);
	assert_int_equal(d.n_failures, 1);
	assert_string_equal(d.failures[0].test, "GPU Memory");
	assert_int_equal(d.failures[0].gpu, 3);
	assert_string_equal(d.failures[0].info, "Memory test failed");
	assert_int_equal(d.failures[0].kind, DCGM_HARDWARE);
}

/* DCGM's software checks fail on a GPU: the stack's fault, in either layout; found by the
 * category (DCGM 3's tests of their own names) or by the test's name. */
static void test_software(void **state)
{
	static const char v3[] =
		"{\"DCGM GPU Diagnostic\":{\"test_categories\":[{\"category\":\"Deployment\",\"tests\":["
		"{\"name\":\"Denylist\",\"results\":[{\"gpu_id\":\"2\",\"status\":\"Fail\",\"info\":\"nouveau\"}]}]}]}}";
	static const char v4[] =
		"{\"DCGM Diagnostic\":{\"test_categories\":[{\"category\":\"software\",\"tests\":["
		"{\"name\":\"software\",\"results\":[{\"entity_group\":\"GPU\",\"entity_id\":1,\"status\":\"Fail\"}],"
		"\"test_summary\":{\"status\":\"Fail\"}}]}]}}";
	struct dcgm_diag d;
	char *why = NULL;

	(void)state;
	assert_int_equal(dcgm_diag_parse(v3, &d, &why), 0);
	assert_int_equal(d.n_failures, 1);
	assert_int_equal(d.failures[0].gpu, 2);
	assert_int_equal(d.failures[0].kind, DCGM_SOFTWARE);
	assert_int_equal(dcgm_diag_parse(v4, &d, &why), 0);
	assert_int_equal(d.n_failures, 1);
	assert_int_equal(d.failures[0].kind, DCGM_SOFTWARE);
}

static void test_pass(void **state)
{
	static const char text[] = "{\"DCGM Diagnostic\":{\"test_categories\":[{\"category\":\"Deployment\",\"tests\":["
				   "{\"name\":\"software\",\"results\":[{\"entity_group\":\"GPU\",\"entity_id\":0,"
				   "\"status\":\"Pass\"}],\"test_summary\":{\"status\":\"Pass\"}}]}]}}";
	struct dcgm_diag d;
	char *why = NULL;

	(void)state;
	assert_int_equal(dcgm_diag_parse(text, &d, &why), 0);
	assert_int_equal(d.tests, 1);
	assert_int_equal(d.n_failures, 0);
}

/* A test failed as a whole (its summary) with no GPU's result failed: one failure of no GPU. */
static void test_summary_only(void **state)
{
	static const char text[] = "{\"DCGM Diagnostic\":{\"test_categories\":[{\"category\":\"Integration\",\"tests\":["
				   "{\"name\":\"pcie\",\"results\":[],\"test_summary\":{\"status\":\"Fail\","
				   "\"info\":[\"NVLink bandwidth low\"]}}]}]}}";
	struct dcgm_diag d;
	char *why = NULL;

	(void)state;
	assert_int_equal(dcgm_diag_parse(text, &d, &why), 0);
	assert_int_equal(d.n_failures, 1);
	assert_int_equal(d.failures[0].gpu, -1);
	assert_string_equal(d.failures[0].info, "NVLink bandwidth low");
	/* No one GPU named: not proof against any. */
	assert_int_equal(d.failures[0].kind, DCGM_OTHER);
}

static void test_runtime_error(void **state)
{
	static const char text[] = "{\"DCGM Diagnostic\":{\"runtime_error\":\"Unable to connect to the host engine\"}}";
	struct dcgm_diag d;
	char *why = NULL;

	(void)state;
	assert_int_equal(dcgm_diag_parse(text, &d, &why), 0);
	assert_int_equal(d.n_failures, 1);
	assert_string_equal(d.failures[0].test, "runtime error");
	assert_string_equal(d.failures[0].info, "Unable to connect to the host engine");
	assert_int_equal(d.failures[0].kind, DCGM_OTHER);
}

/* More failures than are kept: all counted, the first kept, none written past the array. */
static void test_many(void **state)
{
	char text[16384];
	size_t len = 0;
	struct dcgm_diag d;
	char *why = NULL;

	(void)state;
	len += (size_t)snprintf(text + len, sizeof(text) - len,
				"{\"DCGM Diagnostic\":{\"test_categories\":[{\"category\":\"Hardware\",\"tests\":[{\"name\":\"memory\",\"results\":[");
	for (int i = 0; i < DCGM_FAILURES_MAX + 8; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s{\"entity_id\":%d,\"status\":\"Fail\"}", i ? "," : "", i);
	snprintf(text + len, sizeof(text) - len, "]}]}]}}");
	assert_int_equal(dcgm_diag_parse(text, &d, &why), 0);
	assert_int_equal(d.n_failures, DCGM_FAILURES_MAX + 8);
	assert_int_equal(d.failures[DCGM_FAILURES_MAX - 1].gpu, DCGM_FAILURES_MAX - 1);
	assert_string_equal(d.failures[0].info, "no reason given");
}

static void test_bad(void **state)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
		{ "", "not JSON" },
		{ "Error: unable to establish a connection to the specified host: localhost", "not JSON" },
		{ "[]", "no \"DCGM Diagnostic\" (or \"DCGM GPU Diagnostic\") object" },
		{ "{\"DCGM Diagnostic\":[]}", "no \"DCGM Diagnostic\" (or \"DCGM GPU Diagnostic\") object" },
		{ "{\"DCGM Diagnostic\":{}}", "no \"test_categories\" array" },
		{ "{\"DCGM Diagnostic\":{\"test_categories\":[{\"category\":\"x\"}]}}", "a test category without a \"tests\" array" },
		{ "{\"DCGM Diagnostic\":{\"test_categories\":[{\"tests\":[{\"results\":[]}]}]}}", "a test without a \"name\" or \"results\"" },
		{ "{\"DCGM Diagnostic\":{\"test_categories\":[{\"tests\":[{\"name\":\"m\",\"results\":[{\"entity_id\":0}]}]}]}}",
		  "a result without a \"status\"" },
		{ "{\"DCGM Diagnostic\":{\"test_categories\":[]}}", "no test results" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dcgm_diag d;
		char *why = NULL;

		assert_int_equal(dcgm_diag_parse(cases[i].text, &d, &why), -EBADMSG);
		assert_non_null(why);
		assert_string_equal(why, cases[i].why);
		free(why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4),
		cmocka_unit_test(test_v3),
		cmocka_unit_test(test_software),
		cmocka_unit_test(test_pass),
		cmocka_unit_test(test_summary_only),
		cmocka_unit_test(test_runtime_error),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
