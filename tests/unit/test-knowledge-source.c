/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The knowledge a bundle carries: taken over the node's when it lints clean and is newer by
 * as_of; otherwise the node's stays, and why is said. tests/knowledge/verb/good.json, dated
 * by sed, stands for both. */
#include "unit.h"

#include <string.h>

#include "profile/knowledge-source.h"
#include "util/root.h"

#define TODAY	 "2026-12-01"
#define BUNDLE	 "var/lib/gpuprov/bundles/b"
#define SHIPPED	 "2026-10-01"

static char top[64];

/* DIR/knowledge.json under top: good.json as of as_of (its entries verified that day), with
 * the sed edit more (may be ""). */
static void knowledge_file(const char *dir, const char *as_of, const char *more)
{
	const char *srcdir = getenv("srcdir");

	unit_sh("mkdir -p %s/%s && sed 's/\"as_of\": \"[0-9-]*\"/\"as_of\": \"%s\"/; "
		"s/\"verified\": \"2026-11-[0-9]*\"/\"verified\": \"%s\"/; %s' %s/tests/knowledge/verb/good.json "
		">%s/%s/knowledge.json",
		top, dir, as_of, as_of, more, srcdir ? srcdir : ".", top, dir);
}

static int setup(void **state)
{
	(void)state;
	strcpy(top, "/tmp/gpuprov-test-kns-XXXXXX");
	assert_non_null(mkdtemp(top));
	knowledge_file("ship", SHIPPED, "");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unit_sh("rm -rf %s", top);
	return 0;
}

/* The node's choice (the shipped file: nothing installed), then the bundle's. */
static void choose(struct root **ret_root, struct knowledge_in_use *u)
{
	struct root *ship = NULL;
	char path[128], *err = NULL;

	snprintf(path, sizeof(path), "%s/ship", top);
	assert_int_equal(root_open(top, ret_root), 0);
	assert_int_equal(root_open(path, &ship), 0);
	assert_int_equal(knowledge_choose(*ret_root, ship, path, TODAY, u, &err), 0);
	root_free(ship);
	assert_int_equal(u->origin, KNOWLEDGE_SHIPPED);
	assert_int_equal(knowledge_choose_bundle(*ret_root, BUNDLE, TODAY, u), 0);
}

static void test_newer_taken(void **state)
{
	struct knowledge_in_use u = {};
	struct root *r = NULL;

	(void)state;
	knowledge_file(BUNDLE, "2026-11-20", "");
	choose(&r, &u);
	assert_int_equal(u.origin, KNOWLEDGE_BUNDLE);
	assert_string_equal(knowledge_as_of(u.k), "2026-11-20");
	assert_non_null(strstr(u.path, BUNDLE "/knowledge.json"));
	assert_null(u.passed_over);
	knowledge_in_use_done(&u);
	root_free(r);
}

static void test_older_passed_over(void **state)
{
	struct knowledge_in_use u = {};
	struct root *r = NULL;

	(void)state;
	knowledge_file(BUNDLE, "2026-09-01", "");
	choose(&r, &u);
	assert_int_equal(u.origin, KNOWLEDGE_SHIPPED);
	assert_string_equal(knowledge_as_of(u.k), SHIPPED);
	assert_non_null(strstr(u.passed_over, "as of 2026-09-01, not newer than"));
	knowledge_in_use_done(&u);
	root_free(r);
}

static void test_lint_failing_passed_over(void **state)
{
	struct knowledge_in_use u = {};
	struct root *r = NULL;

	(void)state;
	knowledge_file(BUNDLE, "2026-11-20", "s/\"min_driver\": \"550.90.07\"/\"min_driver\": \"550.40.65\"/");
	choose(&r, &u);
	assert_int_equal(u.origin, KNOWLEDGE_SHIPPED);
	assert_non_null(strstr(u.passed_over, "lint finds 1 problem"));
	knowledge_in_use_done(&u);
	root_free(r);
}

static void test_none_in_bundle(void **state)
{
	struct knowledge_in_use u = {};
	struct root *r = NULL;

	(void)state;
	unit_sh("rm -f %s/%s/knowledge.json", top, BUNDLE);
	choose(&r, &u);
	assert_int_equal(u.origin, KNOWLEDGE_SHIPPED);
	assert_null(u.passed_over);
	knowledge_in_use_done(&u);
	root_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_newer_taken),
		cmocka_unit_test(test_older_passed_over),
		cmocka_unit_test(test_lint_failing_passed_over),
		cmocka_unit_test(test_none_in_bundle),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
