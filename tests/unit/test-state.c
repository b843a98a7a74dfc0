/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.json through state.c: what is saved reads back the same, the file keeps the format
 * status and older gpuprov read, members it does not know survive, and each verb's
 * transition keeps what it should (failed_kernels always). */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "apply/state.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/root.h"
#include "util/strutil.h"
#include "util/write.h"

struct fixture {
	char top[64];
	struct root *r;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	strcpy(fx->top, "/tmp/gpuprov-test-state-XXXXXX");
	assert_non_null(mkdtemp(fx->top));
	unit_sh("mkdir -p %s/var/lib/gpuprov", fx->top);
	assert_int_equal(root_open(fx->top, &fx->r), 0);
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

/* A state as a finished apply, a verify that rolled back and an older failure leave it,
 * with a member of a newer gpuprov: written out by hand, as the file says it. */
static const char full_text[] =
	"{\"profile\": \"h100-nvlink\", \"applied\": \"2026-03-01T10:00:00Z\", \"kernel\": \"6.8.0-49-generic\","
	" \"previous_kernel\": \"5.15.0-105-generic\", \"driver\": \"580.95.05\", \"cuda\": null,"
	" \"source\": \"ubuntu\", \"flavour\": \"open\", \"rdma\": true,"
	" \"modules\": {\"absent\": [\"nouveau\"], \"loaded\": [\"nvidia-peermem\", \"rdma_cm\"]},"
	" \"verify_reboot\": false, \"reboot_required\": true,"
	" \"packages\": [\"nvidia-driver-580-server-open=580.95.05-0ubuntu1\", \"linux-image-6.8.0-49-generic=6.8.0-49.49\"],"
	" \"previous_stack\": {\"kernel\": \"5.15.0-105-generic\", \"via\": \"apt\", \"packages\": []},"
	" \"failed_kernels\": [{\"kernel\": \"6.5.0-1-generic\", \"at\": \"2026-02-01T00:00:00Z\", \"failed\": [\"nvml\"]},"
	" {\"kernel\": \"6.8.0-49-generic\", \"at\": \"2026-03-02T08:00:00Z\", \"failed\": [\"xid\", \"devices\"]}],"
	" \"boot_id\": \"3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f\","
	" \"boot_once\": {\"via\": \"esp\", \"variable\": \"gpuprov_once\", \"file\": \"/boot/efi/EFI/gpuprov/grubenv\"},"
	" \"verified\": {\"result\": \"rolled back\", \"at\": \"2026-03-02T08:00:00Z\", \"failed\": [\"xid\", \"devices\"],"
	" \"checks\": [{\"check\": \"xid\", \"ok\": false, \"class\": \"stack\", \"warn\": false, \"detail\": \"1 Xid\"}]},"
	" \"maintenance\": {\"scheduler\": \"slurm\", \"node\": \"gpu-a-017\", \"run_id\": \"20260301T100000Z-4f1a9c\","
	" \"drained\": true, \"held\": \"xid\", \"ended\": null},"
	" \"from_a_newer_gpuprov\": {\"x\": [1, 2]}}";

static void put(const struct fixture *fx, const char *text)
{
	assert_int_equal(root_write_atomic(fx->r, STATE_FILE, text, strlen(text), 0644), 0);
}

static cJSON *read_back(const struct fixture *fx)
{
	_cleanup_free_ char *text = NULL;

	assert_int_equal(root_read_file(fx->r, STATE_FILE, 1 << 20, &text, NULL), 0);
	return cJSON_Parse(text);
}

static void assert_strv_equal(char *const *a, char *const *b)
{
	assert_int_equal(strv_length(a), strv_length(b));
	for (size_t i = 0; a && a[i]; i++)
		assert_string_equal(a[i], b[i]);
}

static void assert_str_equal(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

/* Every member, one by one. */
static void assert_state_equal(const struct state *a, const struct state *b)
{
	const char *const sa[] = { a->profile, a->applied, a->kernel, a->previous_kernel, a->driver, a->cuda, a->source,
				   a->flavour, a->boot_id, a->boot_once_via, a->boot_once_variable, a->boot_once_file };
	const char *const sb[] = { b->profile, b->applied, b->kernel, b->previous_kernel, b->driver, b->cuda, b->source,
				   b->flavour, b->boot_id, b->boot_once_via, b->boot_once_variable, b->boot_once_file };

	for (size_t i = 0; i < ELEMENTSOF(sa); i++)
		assert_str_equal(sa[i], sb[i]);
	assert_int_equal(a->rdma, b->rdma);
	assert_int_equal(a->verify_reboot, b->verify_reboot);
	assert_int_equal(a->reboot_required, b->reboot_required);
	assert_int_equal(a->reverted, b->reverted);
	assert_strv_equal(a->modules_absent, b->modules_absent);
	assert_strv_equal(a->modules_loaded, b->modules_loaded);
	assert_strv_equal(a->packages, b->packages);
	assert_true(a->previous_stack ? cJSON_Compare(a->previous_stack, b->previous_stack, true) : !b->previous_stack);
	assert_true(a->unknown ? cJSON_Compare(a->unknown, b->unknown, true) : !b->unknown);
	assert_true(a->maintenance ? cJSON_Compare(a->maintenance, b->maintenance, true) : !b->maintenance);
	assert_int_equal(a->n_failed_kernels, b->n_failed_kernels);
	for (size_t i = 0; i < a->n_failed_kernels; i++) {
		assert_str_equal(a->failed_kernels[i].kernel, b->failed_kernels[i].kernel);
		assert_str_equal(a->failed_kernels[i].at, b->failed_kernels[i].at);
		assert_strv_equal(a->failed_kernels[i].failed, b->failed_kernels[i].failed);
	}
	assert_int_equal(!a->verified, !b->verified);
	if (a->verified) {
		assert_str_equal(a->verified->result, b->verified->result);
		assert_str_equal(a->verified->at, b->verified->at);
		assert_str_equal(a->verified->kernel, b->verified->kernel);
		assert_int_equal(a->verified->kernel_only, b->verified->kernel_only);
		assert_strv_equal(a->verified->failed, b->verified->failed);
		assert_true(a->verified->checks ? cJSON_Compare(a->verified->checks, b->verified->checks, true)
						: !b->verified->checks);
	}
}

/* load(save(x)) == x, and the file save wrote is the document it was read from. */
static void test_round_trip(void **state)
{
	struct fixture *fx = *state;
	_cleanup_(state_freep) struct state *a = NULL, *b = NULL;
	_cleanup_(cJSON_Deletep) cJSON *want = cJSON_Parse(full_text), *got = NULL;

	put(fx, full_text);
	assert_int_equal(state_load(fx->r, &a), 0);
	assert_string_equal(a->profile, "h100-nvlink");
	assert_null(a->cuda);
	assert_false(a->verify_reboot);
	assert_int_equal(a->n_failed_kernels, 2);
	assert_string_equal(a->failed_kernels[1].failed[1], "devices");
	assert_string_equal(a->verified->result, "rolled back");
	assert_non_null(cJSON_GetObjectItemCaseSensitive(a->unknown, "from_a_newer_gpuprov"));
	assert_null(cJSON_GetObjectItemCaseSensitive(a->unknown, "maintenance"));
	assert_string_equal(json_str(a->maintenance, "run_id"), "20260301T100000Z-4f1a9c");
	assert_non_null(state_failed_kernel(a, "6.5.0-1-generic"));
	assert_null(state_failed_kernel(a, "5.15.0-105-generic"));

	assert_int_equal(state_save(fx->r, a), 0);
	got = read_back(fx);
	assert_true(cJSON_Compare(want, got, true));
	assert_int_equal(state_load(fx->r, &b), 0);
	assert_state_equal(a, b);
}

/* A hand edit: members of the wrong type read as absent and are not written back; the
 * failed kernels without a name are left out. */
static void test_hand_edited(void **state)
{
	struct fixture *fx = *state;
	_cleanup_(state_freep) struct state *s = NULL;
	_cleanup_(cJSON_Deletep) cJSON *got = NULL;

	put(fx, "{\"kernel\": 7, \"reverted\": \"yes\", \"failed_kernels\": [42, {\"kernel\": 7}, {\"at\": \"x\"},"
		" {\"kernel\": \"6.8.0-49-generic\"}], \"verified\": [\"committed\"], \"maintenance\": \"slurm\"}");
	assert_int_equal(state_load(fx->r, &s), 0);
	assert_null(s->kernel);
	assert_false(s->reverted);
	assert_null(s->verified);
	assert_null(s->maintenance);
	assert_int_equal(s->n_failed_kernels, 1);
	assert_string_equal(s->failed_kernels[0].kernel, "6.8.0-49-generic");
	assert_int_equal(state_save(fx->r, s), 0);
	got = read_back(fx);
	assert_null(cJSON_GetObjectItemCaseSensitive(got, "kernel"));
	assert_null(cJSON_GetObjectItemCaseSensitive(got, "verified"));
	assert_null(cJSON_GetObjectItemCaseSensitive(got, "maintenance"));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(got, "failed_kernels")), 1);

	/* A verdict's checks that are no list read as none, and are not written back. */
	s = state_free(s);
	cJSON_Delete(got);
	put(fx, "{\"kernel\": \"6.8.0-49-generic\", \"verified\": {\"result\": \"committed\", \"checks\": \"ecc\"}}");
	assert_int_equal(state_load(fx->r, &s), 0);
	assert_string_equal(s->verified->result, "committed");
	assert_null(s->verified->checks);
	assert_int_equal(state_save(fx->r, s), 0);
	got = read_back(fx);
	assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(got, "verified"), "checks"));
}

static void test_unreadable(void **state)
{
	struct fixture *fx = *state;
	struct state *s = NULL;

	assert_int_equal(state_load(fx->r, &s), -ENOENT);
	put(fx, "[1]");
	assert_int_equal(state_load(fx->r, &s), -GPE_PARSE);
	put(fx, "{\"profile\": ");
	assert_int_equal(state_load(fx->r, &s), -GPE_PARSE);
	assert_null(s);
}

/* revert: the stack and its record go; the failed kernels and the unknown members stay. */
static void test_reverted(void **state)
{
	struct fixture *fx = *state;
	_cleanup_(state_freep) struct state *s = NULL, *again = NULL;

	put(fx, full_text);
	assert_int_equal(state_load(fx->r, &s), 0);
	assert_int_equal(state_reverted(s), 0);
	assert_true(s->reverted);
	assert_null(s->kernel);
	assert_null(s->profile);
	assert_null(s->previous_kernel);
	assert_null(s->previous_stack);
	assert_null(s->verified);
	assert_int_equal(s->n_failed_kernels, 2);
	assert_non_null(state_failed_kernel(s, "6.8.0-49-generic"));
	assert_non_null(cJSON_GetObjectItemCaseSensitive(s->unknown, "from_a_newer_gpuprov"));
	/* The node stays drained: revert does not end its maintenance. */
	assert_string_equal(json_str(s->maintenance, "node"), "gpu-a-017");
	assert_int_equal(state_save(fx->r, s), 0);
	assert_int_equal(state_load(fx->r, &again), 0);
	assert_state_equal(s, again);
}

/* apply: a new stack; the record and the failed kernels carry over, but the kernel applied
 * now, which verify judges anew; the known-good kernel is the record's. */
static void test_applied(void **state)
{
	struct fixture *fx = *state;
	_cleanup_(state_freep) struct state *s = NULL, *next = calloc(1, sizeof(*next));

	put(fx, full_text);
	assert_int_equal(state_load(fx->r, &s), 0);
	next->profile = strdup("base");
	next->kernel = strdup("6.5.0-1-generic");
	assert_int_equal(state_applied(s, next, "6.8.0-49-generic"), 0);
	assert_string_equal(s->profile, "base");
	assert_string_equal(s->previous_kernel, "5.15.0-105-generic");
	assert_string_equal(json_str(s->previous_stack, "via"), "apt");
	assert_int_equal(s->n_failed_kernels, 1);
	assert_string_equal(s->failed_kernels[0].kernel, "6.8.0-49-generic");
	assert_null(s->verified);
	assert_null(s->unknown);
	assert_null(next->profile);
	/* A drain apply entered before its record stays, until verify --commit ends it. */
	assert_string_equal(json_str(s->maintenance, "held"), "xid");

	/* Without a record, the kernel that ran during the apply is the known-good one. */
	cJSON_Delete(s->previous_stack);
	s->previous_stack = NULL;
	next->kernel = strdup("6.8.0-50-generic");
	assert_int_equal(state_applied(s, next, "6.8.0-49-generic"), 0);
	assert_string_equal(s->previous_kernel, "6.8.0-49-generic");
	assert_int_equal(s->n_failed_kernels, 1);
}

/* verify: a roll back adds the kernel to failed_kernels, once, with the newest verdict. */
static void test_verified(void **state)
{
	struct fixture *fx = *state;
	_cleanup_(state_freep) struct state *s = NULL;
	char *failed[] = { "nvml", NULL };
	_cleanup_(cJSON_Deletep) cJSON *checks =
		cJSON_Parse("[{\"check\": \"ecc\", \"ok\": false, \"class\": \"hardware\", \"warn\": false, \"detail\": \"x\"}]");

	put(fx, full_text);
	assert_int_equal(state_load(fx->r, &s), 0);
	assert_int_equal(state_verified(s, "committed", "2026-03-03T00:00:00Z", NULL, NULL), 0);
	assert_int_equal(s->n_failed_kernels, 2);
	assert_string_equal(s->verified->result, "committed");
	assert_null(s->verified->checks);
	/* A hardware fault keeps the kernel: it is no failed kernel. */
	assert_int_equal(state_verified(s, HARDWARE_FAULT, "2026-03-03T01:00:00Z", failed, checks), 0);
	assert_int_equal(s->n_failed_kernels, 2);
	assert_true(cJSON_Compare(s->verified->checks, checks, true));
	assert_int_equal(state_verified(s, "rolled back", "2026-03-04T00:00:00Z", failed, checks), 0);
	assert_int_equal(s->n_failed_kernels, 2);
	assert_string_equal(s->failed_kernels[1].kernel, "6.8.0-49-generic");
	assert_string_equal(s->failed_kernels[1].at, "2026-03-04T00:00:00Z");
	assert_strv_equal(s->failed_kernels[1].failed, failed);
	assert_int_equal(state_rolled_back(s, "2026-03-05T00:00:00Z", "5.15.0-105-generic", true), 0);
	assert_string_equal(s->verified->result, ROLLED_BACK_BY_HAND);
	assert_string_equal(s->verified->kernel, "5.15.0-105-generic");
	assert_true(s->verified->kernel_only);
	assert_int_equal(s->n_failed_kernels, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hand_edited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reverted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_applied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verified, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
