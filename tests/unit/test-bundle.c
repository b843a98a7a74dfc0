/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Offline bundles: the paths a bundle may hold, and the reader's limits and refusals on
 * bundles written and signed here. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/bundle.h"
#include "net/sign.h"
#include "util/errors.h"
#include "util/root.h"
#include "util/write.h"

struct fixture {
	char top[64];
	struct root *r;
	EVP_PKEY *key;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	strcpy(fx->top, "/tmp/gpuprov-test-bundle.XXXXXX");
	assert_non_null(mkdtemp(fx->top));
	assert_int_equal(root_open(fx->top, &fx->r), 0);
	assert_int_equal(sign_keygen(fx->r, "site.key", SIGN_KEYS_DIR "/site.pub"), 0);
	assert_int_equal(sign_load_private(fx->r, "site.key", &fx->key), 0);
	assert_int_equal(root_write_atomic(fx->r, "files/pool/a.deb", "first file\n", 11, 0644), 0);
	assert_int_equal(root_write_atomic(fx->r, "files/Packages", "Package: a\n", 11, 0644), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	EVP_PKEY_free(fx->key);
	root_free(fx->r);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->top);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

/* Writes bundle.tar from files/ and reads it back with limits; returns bundle_read's result. */
static int round_trip(struct fixture *fx, const struct bundle_limits *lim, const char *dest, char **why)
{
	char *const paths[] = { "Packages", "pool/a.deb", NULL };
	_cleanup_(bundle_manifest_freep) struct bundle_manifest *m = NULL;
	cJSON *manifest = cJSON_Parse("{\"name\": \"t\", \"profile\": \"p\", \"os\": \"debian-12\","
				      " \"arch\": \"x86_64\", \"backend\": \"apt\"}");
	char *wrote = NULL;
	int fd, k;

	assert_non_null(manifest);
	free(*why); /* bundle_read sets it afresh */
	*why = NULL;
	fd = root_open_at(fx->r, ".", O_DIRECTORY | O_RDONLY);
	assert_true(fd >= 0);
	k = openat(fd, "bundle.tar", O_RDWR | O_CREAT | O_TRUNC, 0644);
	close(fd);
	fd = k;
	assert_true(fd >= 0);
	assert_int_equal(bundle_write(fd, manifest, fx->r, "files", paths, fx->key, &wrote), 0);
	cJSON_Delete(manifest);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	k = bundle_read(&(struct bundle_source){ .fd = fd }, fx->r, SIGN_KEYS_DIR, dest, lim, &m, why, NULL);
	close(fd);
	if (k >= 0) {
		assert_string_equal(m->name, "t");
		assert_int_equal(m->n_files, 2);
		assert_int_equal(m->bytes, 22);
	}
	return k;
}

static void test_paths(void **state)
{
	(void)state;
	assert_true(bundle_path_ok("Packages"));
	assert_true(bundle_path_ok("pool/linux-image-6.8.0-49-generic_6.8.0-49.49~22.04.1_amd64.deb"));
	assert_true(bundle_path_ok("repodata/repomd.xml"));
	assert_true(bundle_path_ok("nvidia-driver_1%3a580.95.05-1_amd64.deb"));
	assert_false(bundle_path_ok(""));
	assert_false(bundle_path_ok("/etc/passwd"));
	assert_false(bundle_path_ok("../x"));
	assert_false(bundle_path_ok("pool/../../x"));
	assert_false(bundle_path_ok("pool/.."));
	assert_false(bundle_path_ok("./Packages"));
	assert_false(bundle_path_ok("pool//a.deb"));
	assert_false(bundle_path_ok("pool/"));
	assert_false(bundle_path_ok("a b"));
	assert_false(bundle_path_ok("a\\b"));
	assert_false(bundle_path_ok("a\nb"));
}

static void test_round_trip(void **state)
{
	struct fixture *fx = *state;
	char *why = NULL, *text = NULL;
	size_t len;

	assert_int_equal(round_trip(fx, NULL, "var/lib/gpuprov/bundles", &why), 0);
	assert_int_equal(root_read_file(fx->r, "var/lib/gpuprov/bundles/t/pool/a.deb", 64, &text, &len), 0);
	assert_string_equal(text, "first file\n");
	free(text);
	assert_int_equal(root_exists(fx->r, "var/lib/gpuprov/bundles/.t.partial"), 0);
	/* A second time: the copy there is replaced whole. */
	assert_int_equal(round_trip(fx, NULL, "var/lib/gpuprov/bundles", &why), 0);
	assert_int_equal(root_exists(fx->r, "var/lib/gpuprov/bundles/t.old"), 0);
	free(why);
}

static void test_limits(void **state)
{
	struct fixture *fx = *state;
	char *why = NULL;

	assert_int_equal(round_trip(fx, &(struct bundle_limits){ .max_files = 1 }, "out", &why), -GPE_TOOBIG);
	assert_non_null(strstr(why, "more than the 1 accepted"));
	assert_int_equal(root_exists(fx->r, "out"), 0);
	assert_int_equal(round_trip(fx, &(struct bundle_limits){ .max_bytes = 21 }, "out", &why), -GPE_TOOBIG);
	assert_int_equal(round_trip(fx, &(struct bundle_limits){ .max_bytes = 22 }, NULL, &why), 0);
	free(why);
}

static void test_untrusted(void **state)
{
	struct fixture *fx = *state;
	char *why = NULL;

	assert_int_equal(root_rm_rf(fx->r, SIGN_KEYS_DIR), 0);
	assert_int_equal(round_trip(fx, NULL, "out", &why), -GPE_UNKNOWN_KEY);
	assert_non_null(strstr(why, "not among the trusted keys"));
	assert_int_equal(root_exists(fx->r, "out"), 0);
	free(why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_untrusted, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
