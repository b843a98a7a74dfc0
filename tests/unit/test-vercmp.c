/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The version orders on the cases that tell them apart. The expected answers are dpkg's
 * (dpkg --compare-versions) and rpm's (rpm.vercmp of rpm 4.18); vercmp.sh checks the same
 * orders against both tools on thousands of pairs from real package lists.
 */
#include "unit.h"

#include <stdio.h>

#include "util/macro.h"
#include "util/vercmp.h"

struct pair {
	const char *a, *b;
	int want; /* a against b: -1 older, 0 the same, 1 newer */
};

/* Every pair both ways round (b against a must be the opposite); prints each pair that
 * differs, then fails once with their count. */
static void check(enum vercmp_order order, const struct pair *p, size_t n)
{
	static const char *const names[] = { [VERCMP_DPKG] = "dpkg", [VERCMP_RPM] = "rpm", [VERCMP_DOTTED] = "dotted" };
	unsigned bad = 0;

	for (size_t i = 0; i < n; i++) {
		int ab = vercmp(order, p[i].a, p[i].b), ba = vercmp(order, p[i].b, p[i].a);

		if (ab != p[i].want || ba != -p[i].want) {
			print_error("%s: %s against %s: %d (and %d the other way), want %d\n", names[order], p[i].a, p[i].b,
				    ab, ba, p[i].want);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void test_dpkg(void **state)
{
	static const struct pair p[] = {
		/* '~' sorts before anything, the end of the string included. */
		{ "1.0~rc1", "1.0", -1 },
		{ "1.0~", "1.0", -1 },
		{ "1.0~~", "1.0~", -1 },
		{ "1.0~rc1", "1.0~rc2", -1 },
		{ "6.8.0-49.49~22.04.1", "6.8.0-49.49", -1 },
		{ "550.90.07-0ubuntu0.22.04.1", "550.90.07-0ubuntu0~22.04.1", 1 },
		{ "1.0-1~bpo12+1", "1.0-1", -1 },
		/* The epoch first, as a number. */
		{ "1:550.54.15-1", "550.90.07-1", 1 },
		{ "2:0.1", "1:9.9", 1 },
		{ "0:1.0-1", "1.0-1", 0 },
		{ "01:1.0", "1:1.0", 0 },
		/* No revision is revision "0". */
		{ "1.0", "1.0-0", 0 },
		{ "1.0", "1.0-1", -1 },
		{ "1.0-1", "1.0-1.1", -1 },
		{ "1.0-1", "1.0-1ubuntu1", -1 },
		/* The revision after the last '-' only. */
		{ "1.0-2-3", "1.0-10-1", -1 },
		{ "0.9-1-1", "0.9-20+b1", 1 },
		{ "1.3+ds-2", "1.3-0-1", -1 },
		/* Letters before the end's neighbours: end < letters < '+' < '-' < '.'. */
		{ "1.0a", "1.0", 1 },
		{ "1.0a", "1.0+b1", -1 },
		{ "1.0+dfsg", "1.0.1", -1 },
		{ "1.0+dfsg-1", "1.0-1", 1 },
		{ "1.0Z", "1.0a", -1 },
		{ "1.0a", "1.0.1", -1 },
		/* Numbers as numbers: leading zeros do not count, longer runs are larger. */
		{ "1.007", "1.7", 0 },
		{ "1.00", "1.0", 0 },
		{ "550.127.05-0ubuntu1", "550.54.15-0ubuntu1", 1 },
		{ "1.10", "1.9", 1 },
		{ "1.2.3", "1.2.3.0", -1 },
		/* Kernel releases as Debian's and Ubuntu's kernels name them. */
		{ "5.15.0-105-generic", "5.15.0-94-generic", 1 },
		{ "6.8.0-1013-nvidia-64k", "6.8.0-45-generic-64k", 1 },
		{ "6.1.0-18-amd64", "6.1.0-9-amd64", 1 },
	};

	check(VERCMP_DPKG, p, ELEMENTSOF(p));
}

static void test_rpm(void **state)
{
	static const struct pair p[] = {
		/* '~' before anything, the end included. */
		{ "1.0~rc1", "1.0", -1 },
		{ "1.0~rc1", "1.0~rc2", -1 },
		{ "1.0~~", "1.0~", -1 },
		{ "570.86.15-1~el9", "570.86.15-1", -1 },
		/* '^' after the end but before anything else. */
		{ "1.0^", "1.0", 1 },
		{ "1.0^git1", "1.0", 1 },
		{ "1.0^git1", "1.0.1", -1 },
		{ "1.0^git1", "1.0^git2", -1 },
		{ "1.0~rc1^git1", "1.0~rc1", 1 },
		{ "1.0~rc1^git1", "1.0", -1 },
		/* epoch:version-release, the epoch first; none is 0. */
		{ "3:570.86.15-1.el9", "570.124.06-1.el9", 1 },
		{ "1:1.0", "2.0", 1 },
		{ "0:1.0-1", "1.0-1", 0 },
		{ ":1.0", "1.0", 0 },
		{ "01:1.0", "1:1.0", 0 },
		/* A release, even an empty one, is newer than none (rpm 4.18). */
		{ "1.0-1", "1.0", 1 },
		{ "1.0-", "1.0", 1 },
		{ "1.0-1", "1.0-1.el9", -1 },
		/* Segments of digits against segments of letters: digits are newer. */
		{ "1.0.1", "1.0a", 1 },
		{ "1.0a", "1.0", 1 },
		{ "2.a", "2.1", -1 },
		{ "1a", "1.a", 0 },
		{ "1.0a", "1.0B", 1 },
		{ "el9", "el9_4", -1 },
		/* Leading zeros do not count. */
		{ "1.01", "1.1", 0 },
		{ "1.001", "1.0001", 0 },
		{ "1.010", "1.9", 1 },
		/* Separators are nothing but separators, any number of them. */
		{ "1.0", "1_0", 0 },
		{ "1.0", "1.0.", 0 },
		{ "1..0", "1.0", 0 },
		{ "1.0", "1.0.0", -1 },
		{ "1.0+b1", "1.0.b1", 0 },
		/* Kernel releases as the RPM families name them. */
		{ "5.14.0-362.8.1.el9_3.x86_64", "5.14.0-284.11.1.el9_2.x86_64", 1 },
		{ "5.14.0-427.13.1.el9_4.x86_64", "5.14.0-427.el9.x86_64", 1 },
		{ "5.10.0-182.0.0.95.oe2203sp3.aarch64", "5.10.0-60.18.0.50.oe2203.aarch64", 1 },
	};

	check(VERCMP_RPM, p, ELEMENTSOF(p));
}

/* Dotted numbers: the plain order, and both package orders, give the same answer. */
static void test_dotted(void **state)
{
	static const struct pair p[] = {
		{ "550.127.05", "550.54.15", 1 },
		{ "550.54.14", "550.54.15", -1 },
		{ "535.129.03", "535.129.03", 0 },
		{ "12.4", "12.4.1", -1 },
		{ "570.26", "570.124.06", -1 },
		{ "12.10", "12.9", 1 },
		{ "550", "550.54", -1 },
		{ "007", "7", 0 },
		{ "1.0", "1.00", 0 },
		{ "6.8", "6.11", -1 },
	};

	check(VERCMP_DOTTED, p, ELEMENTSOF(p));
	check(VERCMP_DPKG, p, ELEMENTSOF(p));
	check(VERCMP_RPM, p, ELEMENTSOF(p));
}

static void test_order_names(void **state)
{
	assert_int_equal(vercmp_order_from_string("dpkg"), VERCMP_DPKG);
	assert_int_equal(vercmp_order_from_string("rpm"), VERCMP_RPM);
	assert_int_equal(vercmp_order_from_string("dotted"), VERCMP_DOTTED);
	assert_int_equal(vercmp_order_from_string("apt"), -1);
	assert_int_equal(vercmp_order_from_string(NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dpkg),
		cmocka_unit_test(test_rpm),
		cmocka_unit_test(test_dotted),
		cmocka_unit_test(test_order_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
