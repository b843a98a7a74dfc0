/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov's GRUB environment block writer: byte for byte what the real grub-editenv writes,
 * and never a write through a link out of the root nor over a file that is no block. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "boot/grubenv.h"
#include "util/errors.h"
#include "util/root.h"
#include "util/strutil.h"

struct fixture {
	char top[64];   /* a temporary directory: top/root is the root, top/host the "host" */
	char root[128];
	char host[128];
	struct root *r;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	strcpy(fx->top, "/tmp/gpuprov-test-grubenv-XXXXXX");
	assert_non_null(mkdtemp(fx->top));
	snprintf(fx->root, sizeof(fx->root), "%s/root", fx->top);
	snprintf(fx->host, sizeof(fx->host), "%s/host", fx->top);
	assert_int_equal(mkdir(fx->root, 0755), 0);
	assert_int_equal(mkdir(fx->host, 0755), 0);
	unit_sh("mkdir -p %s/boot/grub", fx->root);
	assert_int_equal(root_open(fx->root, &fx->r), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	root_free(fx->r);
	unit_sh("rm -rf %s", fx->top);
	free(fx);
	return 0;
}

static char *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	char *buf = calloc(1, 65537);
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, 65536, f);
	fclose(f);
	*ret_len = n;
	return buf;
}

/* The real grub-editenv on a host file: FILE OP ARGS (shell words). */
static void editenv(const char *file, const char *op_args)
{

	unit_sh("grub-editenv '%s' %s", file, op_args);
}

static void assert_same_file(const char *a, const char *b)
{
	size_t la, lb;
	char *x = slurp(a, &la), *y = slurp(b, &lb);

	if (la != lb || memcmp(x, y, la) != 0) {
		print_error("%s (%zu bytes) and %s (%zu bytes) differ:\n%.*s\n---\n%.*s\n", a, la, b, lb, (int)la, x,
			    (int)lb, y);
		fail();
	}
	free(x);
	free(y);
}

/* A new block, variables added, one changed in place, escapes: each step the same bytes as
 * grub-editenv's on a copy beside the root. */
static void test_same_bytes_as_grub_editenv(void **state)
{
	struct fixture *fx = *state;
	char mine[256], theirs[256];

	snprintf(mine, sizeof(mine), "%s/boot/grub/grubenv", fx->root);
	snprintf(theirs, sizeof(theirs), "%s/grubenv", fx->host);

	assert_int_equal(grubenv_set(fx->r, "boot/grub/grubenv", NULL), 0);
	editenv(theirs, "create");
	assert_same_file(mine, theirs);

	assert_int_equal(grubenv_set(fx->r, "/boot/grub/grubenv",
				     (char *[]){ "saved_entry=gnulinux-advanced-1>gnulinux-6.1.0-55-amd64", "next_entry=", NULL }),
			 0);
	editenv(theirs, "set 'saved_entry=gnulinux-advanced-1>gnulinux-6.1.0-55-amd64' next_entry=");
	assert_same_file(mine, theirs);

	/* Changed in place, the order kept; a value with a backslash and a newline. */
	assert_int_equal(grubenv_set(fx->r, "boot/grub/grubenv",
				     (char *[]){ "saved_entry=other", "odd=a\\b\nc", NULL }),
			 0);
	editenv(theirs, "set saved_entry=other \"$(printf 'odd=a\\\\b\\nc')\"");
	assert_same_file(mine, theirs);

	/* And the escaped value read back, then another variable set after it. */
	assert_int_equal(grubenv_set(fx->r, "boot/grub/grubenv", (char *[]){ "next_entry=x", "z=1", NULL }), 0);
	editenv(theirs, "set next_entry=x z=1");
	assert_same_file(mine, theirs);
}

/* The same variable twice: set in turn, the second in the first's place, as grub-editenv does. */
static void test_assignments_in_turn(void **state)
{
	struct fixture *fx = *state;
	char mine[256], theirs[256];

	snprintf(mine, sizeof(mine), "%s/boot/grub/grubenv", fx->root);
	snprintf(theirs, sizeof(theirs), "%s/grubenv", fx->host);
	assert_int_equal(grubenv_set(fx->r, "boot/grub/grubenv", (char *[]){ "a=1", "b=2", "a=3", NULL }), 0);
	editenv(theirs, "create");
	editenv(theirs, "set a=1 b=2 a=3");
	assert_same_file(mine, theirs);
}

/* An absolute link to a file of the host: resolved inside the root, where its target is
 * missing; the host's file stays as it was. */
static void test_link_out_of_root(void **state)
{
	struct fixture *fx = *state;
	char decoy[256], link[256];
	size_t len;
	char *text;
	struct stat st;

	snprintf(decoy, sizeof(decoy), "%s/decoy", fx->host);
	snprintf(link, sizeof(link), "%s/boot/grub/grubenv", fx->root);
	unit_sh("printf 'host file\\n' >'%s'", decoy);
	assert_int_equal(symlink(decoy, link), 0);

	assert_int_equal(grubenv_set(fx->r, "boot/grub/grubenv", (char *[]){ "saved_entry=x", NULL }), 0);
	text = slurp(decoy, &len);
	assert_string_equal(text, "host file\n");
	free(text);
	/* The block went where the link was, inside the root. */
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, GRUBENV_BLOCK_SIZE);
}

/* An existing block keeps its mode (a read-only one too: root writes it all the same). */
static void test_mode_kept(void **state)
{
	struct fixture *fx = *state;
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/boot/grub/grubenv", fx->root);
	assert_int_equal(grubenv_set(fx->r, "boot/grub/grubenv", NULL), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(chmod(path, 0444), 0);
	assert_int_equal(grubenv_set(fx->r, "boot/grub/grubenv", (char *[]){ "saved_entry=x", NULL }), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0444);
}

/* A link to a file of the root that is no block: refused, the file as it was. */
static void test_not_a_block(void **state)
{
	struct fixture *fx = *state;
	char path[256], cmd[600];
	size_t len;
	char *text;

	snprintf(cmd, sizeof(cmd), "mkdir -p %s/etc && printf 'root:x:0:0\\n' >%s/etc/passwd && ln -s /etc/passwd %s/boot/grub/grubenv",
		 fx->root, fx->root, fx->root);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(grubenv_set(fx->r, "boot/grub/grubenv", (char *[]){ "saved_entry=x", NULL }), -GPE_PARSE);
	snprintf(path, sizeof(path), "%s/etc/passwd", fx->root);
	text = slurp(path, &len);
	assert_string_equal(text, "root:x:0:0\n");
	free(text);
}

/* Variables that do not fit the block's size: -ENOSPC, the block as it was; bad names. */
static void test_full_and_bad_names(void **state)
{
	struct fixture *fx = *state;
	char big[1100], path[256];
	size_t len;
	char *before, *after;

	snprintf(path, sizeof(path), "%s/boot/grub/grubenv", fx->root);
	assert_int_equal(grubenv_set(fx->r, "boot/grub/grubenv", (char *[]){ "a=1", NULL }), 0);
	before = slurp(path, &len);
	memset(big, 'x', sizeof(big) - 1);
	big[0] = 'b';
	big[1] = '=';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(grubenv_set(fx->r, "boot/grub/grubenv", (char *[]){ big, NULL }), -ENOSPC);
	assert_int_equal(grubenv_set(fx->r, "boot/grub/grubenv", (char *[]){ "=1", NULL }), -EINVAL);
	assert_int_equal(grubenv_set(fx->r, "boot/grub/grubenv", (char *[]){ "novalue", NULL }), -EINVAL);
	after = slurp(path, &len);
	assert_int_equal(len, GRUBENV_BLOCK_SIZE);
	assert_memory_equal(before, after, GRUBENV_BLOCK_SIZE);
	free(before);
	free(after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_same_bytes_as_grub_editenv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assignments_in_turn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_out_of_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_and_bad_names, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
