/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Offline bundles: the paths a bundle may hold, and the reader's limits and refusals on
 * bundles written and signed here. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply/bundle.h"
#include "net/bundle.h"
#include "net/sign.h"
#include "util/errors.h"
#include "util/json.h"
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
	/* The key directory is trusted only when no one else may write it: the usual umask. */
	umask(022);
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

	EVP_PKEY_freep(&fx->key);
	root_free(fx->r);
	unit_sh("rm -rf %s", fx->top);
	free(fx);
	return 0;
}

/* Writes bundle.tar from files/ with the manifest's fields in json (files, format and key_id
 * added) and reads it back with limits; returns bundle_read's result, and the manifest in
 * ret (may be NULL). */
static int round_trip_manifest(struct fixture *fx, const char *json, const struct bundle_limits *lim, const char *dest,
			       char **why, struct bundle_manifest **ret)
{
	char *const paths[] = { "Packages", "pool/a.deb", NULL };
	_cleanup_(bundle_manifest_freep) struct bundle_manifest *m = NULL;
	cJSON *manifest = cJSON_Parse(json);
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
		if (ret)
			*ret = TAKE_PTR(m);
	}
	return k;
}

#define MANIFEST_FIELDS "\"name\": \"t\", \"profile\": \"p\", \"os\": \"debian-12\", \"arch\": \"x86_64\", \"backend\": \"apt\""

static int round_trip(struct fixture *fx, const struct bundle_limits *lim, const char *dest, char **why)
{
	return round_trip_manifest(fx, "{" MANIFEST_FIELDS "}", lim, dest, why, NULL);
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

/* created, expires and sequence: read when all three are there and well formed; none is
 * an undated manifest; one alone or a malformed one is a damaged manifest. */
static void test_freshness_fields(void **state)
{
	static const char *const damaged[] = {
		"{" MANIFEST_FIELDS ", \"sequence\": 7}",
		"{" MANIFEST_FIELDS ", \"created\": \"2026-01-01T00:00:00Z\", \"expires\": \"2026-04-01\"}",
		"{" MANIFEST_FIELDS ", \"created\": \"2026-01-01T00:00:00Z\", \"expires\": \"2026-02-30\", \"sequence\": 7}",
		"{" MANIFEST_FIELDS ", \"created\": \"2026-01-01T00:00:00Z\", \"expires\": \"2026-04-01\", \"sequence\": 0}",
		"{" MANIFEST_FIELDS ", \"created\": \"2026-01-01T00:00:00Z\", \"expires\": \"2026-04-01\", \"sequence\": 1.5}",
		"{" MANIFEST_FIELDS ", \"created\": \"2026-01-01T00:00:00Z\", \"expires\": \"2026-04-01\", \"sequence\": \"7\"}",
		"{" MANIFEST_FIELDS ", \"created\": \"2026-01-01T00:00:00Z\", \"expires\": \"2026-04-01\", "
		"\"sequence\": 1000000000000000}",
	};
	struct fixture *fx = *state;
	_cleanup_(bundle_manifest_freep) struct bundle_manifest *m = NULL, *undated = NULL;
	char *why = NULL;

	assert_int_equal(round_trip_manifest(fx,
					     "{" MANIFEST_FIELDS ", \"created\": \"2026-01-01T00:00:00Z\", "
					     "\"expires\": \"2026-04-01\", \"sequence\": 999999999999999}",
					     NULL, NULL, &why, &m),
			 0);
	assert_true(m->dated);
	assert_string_equal(m->created, "2026-01-01T00:00:00Z");
	assert_string_equal(m->expires, "2026-04-01");
	assert_true(m->sequence == BUNDLE_SEQUENCE_MAX);
	assert_int_equal(round_trip_manifest(fx, "{" MANIFEST_FIELDS "}", NULL, NULL, &why, &undated), 0);
	assert_false(undated->dated);
	assert_null(undated->expires);
	for (size_t i = 0; i < ELEMENTSOF(damaged); i++) {
		assert_int_equal(round_trip_manifest(fx, damaged[i], NULL, "out", &why, NULL), -GPE_PARSE);
		assert_true(strstr(why, "sequence") || strstr(why, "expires"));
		assert_int_equal(root_exists(fx->r, "out"), 0);
	}
	free(why);
}

/* A manifest as manifest_parse leaves it, for the freshness rules alone. */
static struct bundle_manifest dated(uint64_t sequence, const char *expires)
{
	return (struct bundle_manifest){ .name = "p-debian-12-x86_64", .profile = "p", .created = "2026-01-01T00:00:00Z",
					 .expires = expires, .sequence = sequence, .dated = true };
}

static void test_fresh(void **state)
{
	_cleanup_(cJSON_Deletep) cJSON *record = cJSON_Parse(
		"{\"p\": {\"sequence\": 200, \"bundle\": \"p-debian-12-x86_64\", \"created\": \"2025-12-01T00:00:00Z\","
		" \"accepted\": \"2025-12-02T10:00:00Z\"}, \"q\": {\"sequence\": 900}}");
	struct bundle_manifest m = dated(200, "2026-04-01"), undated = { .name = "p-x", .profile = "p" };
	char *why = NULL;

	(void)state;
	assert_non_null(record);
	/* The same sequence is the same bundle again; a higher one is newer; q's is not p's. */
	assert_int_equal(bundle_fresh(&m, record, "2026-03-01", false, &why), 0);
	m.sequence = 201;
	assert_int_equal(bundle_fresh(&m, record, "2026-03-01", false, &why), 0);
	assert_null(why);
	/* Older than the newest recorded. */
	m.sequence = 199;
	assert_int_equal(bundle_fresh(&m, record, "2026-03-01", false, &why), -GPE_STALE);
	assert_non_null(strstr(why, "bundle p-debian-12-x86_64 has sequence 199, older than sequence 200 (bundle "
				    "p-debian-12-x86_64, created 2025-12-01T00:00:00Z) accepted for profile p on "
				    "2025-12-02T10:00:00Z; refused (--allow-older"));
	assert_int_equal(bundle_fresh(&m, record, "2026-03-01", true, &why), 1);
	assert_non_null(strstr(why, "older than sequence 200"));
	assert_null(strstr(why, "refused"));
	/* Valid through its last day. */
	m.sequence = 300;
	assert_int_equal(bundle_fresh(&m, record, "2026-04-01", false, &why), 0);
	assert_int_equal(bundle_fresh(&m, record, "2026-04-02", false, &why), -GPE_STALE);
	assert_non_null(strstr(why, "(sequence 300) expired on 2026-04-01; today is 2026-04-02"));
	assert_int_equal(bundle_fresh(&m, record, "2026-04-02", true, &why), 1);
	/* Nothing recorded yet: any dated bundle; never an undated one. */
	assert_int_equal(bundle_fresh(&m, NULL, "2026-03-01", false, &why), 0);
	assert_int_equal(bundle_fresh(&undated, NULL, "2026-03-01", false, &why), -GPE_STALE);
	assert_non_null(strstr(why, "no signed created, expires and sequence"));
	assert_int_equal(bundle_fresh(&undated, NULL, "2026-03-01", true, &why), 1);
	free(why);
}

static void test_freshness_record(void **state)
{
	struct fixture *fx = *state;
	_cleanup_(cJSON_Deletep) cJSON *record = NULL, *again = NULL;
	struct bundle_manifest m = dated(200, "2026-04-01"), undated = { .name = "p-x", .profile = "p" };
	const cJSON *p, *older;

	assert_int_equal(bundle_freshness_load(fx->r, &record), 0);
	assert_true(cJSON_IsObject(record) && !record->child);
	assert_int_equal(bundle_freshness_save(fx->r, record, &m, "2026-03-01T00:00:00Z", NULL), 0);
	/* An older one taken deliberately, and one without a date: listed, the newest kept. */
	m.sequence = 100;
	assert_int_equal(bundle_freshness_save(fx->r, record, &m, "2026-03-02T00:00:00Z", "older, taken"), 0);
	assert_int_equal(bundle_freshness_save(fx->r, record, &undated, "2026-03-03T00:00:00Z", "undated, taken"), 0);
	assert_int_equal(bundle_freshness_load(fx->r, &again), 0);
	p = cJSON_GetObjectItemCaseSensitive(again, "p");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(p, "sequence")->valuedouble, 200);
	assert_string_equal(json_str(p, "accepted"), "2026-03-01T00:00:00Z");
	older = cJSON_GetObjectItemCaseSensitive(p, "allowed_older");
	assert_int_equal(cJSON_GetArraySize(older), 2);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(older, 0), "sequence")->valuedouble, 100);
	assert_string_equal(json_str(cJSON_GetArrayItem(older, 0), "why"), "older, taken");
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(older, 1), "sequence")));
	/* A newer one becomes the newest; the list of downgrades stays. */
	m.sequence = 300;
	assert_int_equal(bundle_freshness_save(fx->r, again, &m, "2026-03-04T00:00:00Z", NULL), 0);
	cJSON_Delete(again);
	assert_int_equal(bundle_freshness_load(fx->r, &again), 0);
	p = cJSON_GetObjectItemCaseSensitive(again, "p");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(p, "sequence")->valuedouble, 300);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "allowed_older")), 2);
	/* A record that is not a JSON object is not taken for an empty one. */
	assert_int_equal(root_write_atomic(fx->r, BUNDLE_FRESHNESS_FILE, "[1]\n", 4, 0644), 0);
	cJSON_Delete(again);
	again = NULL;
	assert_int_equal(bundle_freshness_load(fx->r, &again), -GPE_PARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_untrusted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_freshness_fields, setup, teardown),
		cmocka_unit_test(test_fresh),
		cmocka_unit_test_setup_teardown(test_freshness_record, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
