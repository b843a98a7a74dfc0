/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vercmp dpkg|rpm|dotted: compares the pairs of versions on stdin, one pair a line ("A B"),
 * and prints -1, 0 or 1 for each, so that a scenario test checks thousands of pairs against
 * dpkg and rpm in one run. Exit 0 done, 1 a line that is not a pair, 2 usage.
 */
#include <stdio.h>
#include <string.h>

#include "util/vercmp.h"

int main(int argc, char **argv)
{
	char line[4096];
	unsigned n = 0;
	int order;

	if (argc != 2 || (order = vercmp_order_from_string(argv[1])) < 0) {
		fprintf(stderr, "usage: vercmp dpkg|rpm|dotted <PAIRS\n");
		return 2;
	}
	while (fgets(line, sizeof(line), stdin)) {
		char *save = NULL, *a = strtok_r(line, " \t\n", &save), *b = strtok_r(NULL, " \t\n", &save);

		n++;
		if (!a || !b || strtok_r(NULL, " \t\n", &save)) {
			fprintf(stderr, "vercmp: line %u: expected two versions\n", n);
			return 1;
		}
		printf("%d\n", vercmp((enum vercmp_order)order, a, b));
	}
	return 0;
}
