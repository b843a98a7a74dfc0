/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The reading of `scontrol show node NODE --oneliner` that maintenance decides on: State=,
 * and Reason= without the " [user@time]" Slurm appends, and what a state says of the
 * node's drain and jobs. */
#include <string.h>

#include "apply/maintenance.h"
#include "unit.h"
#include "util/errors.h"

/* parse text: its state and reason, or NULL for each not there. */
static void expect(const char *text, const char *state, const char *reason)
{
	struct slurm_node n = {};

	assert_int_equal(slurm_node_parse(text, &n), 0);
	assert_string_equal(n.state, state);
	if (reason)
		assert_string_equal(n.reason, reason);
	else
		assert_null(n.reason);
	slurm_node_done(&n);
}

static void test_parse(void **state)
{
	struct slurm_node n = {};

	(void)state;
	/* As Slurm 22.05 prints a node an admin drained (scontrol(1), --oneliner). */
	expect("NodeName=gpu-a-017 Arch=x86_64 CoresPerSocket=32 CPUAlloc=0 CPUTot=128 Gres=gpu:h100:8 "
	       "State=IDLE+DRAIN ThreadsPerCore=2 Partitions=gpu Reason=hw-fault [root@2026-12-07T01:00:00]\n",
	       "IDLE+DRAIN", "hw-fault");
	/* gpuprov's reason, with its blanks and colons, and keys after the suffix. */
	expect("NodeName=n1 State=MIXED+DRAIN Reason=gpuprov: 20261207T012233Z-4f1a9c: verify failed: a b [slurm@2026-12-07T01:22:40] Comment=(null)",
	       "MIXED+DRAIN", "gpuprov: 20261207T012233Z-4f1a9c: verify failed: a b");
	/* No reason: a node in service. */
	expect("NodeName=n1 Arch=x86_64 State=IDLE ThreadsPerCore=2", "IDLE", NULL);
	/* A reason without Slurm's suffix (another version, a stand-in) runs to the line's end. */
	expect("NodeName=n1 State=DOWN+DRAIN Reason=Not responding", "DOWN+DRAIN", "Not responding");
	/* A key that ends in State (NextState=) is not State=; nor is a State= inside the reason. */
	expect("NodeName=n1 NextState=RESUME State=IDLE+DRAIN Reason=x State=IDLE [a@b]", "IDLE+DRAIN", "x State=IDLE");
	/* Only the first line counts. */
	expect("NodeName=n1 State=ALLOCATED\nNodeName=n2 State=IDLE+DRAIN Reason=r [a@b]", "ALLOCATED", NULL);
	/* No State= at all: not a node. */
	assert_int_equal(slurm_node_parse("Node gpu-a-017 not found", &n), -GPE_PARSE);
	assert_int_equal(slurm_node_parse("NodeName=n1 NextState=IDLE", &n), -GPE_PARSE);
	assert_int_equal(slurm_node_parse("", &n), -GPE_PARSE);
}

static void test_states(void **state)
{
	(void)state;
	assert_true(slurm_state_drain("IDLE+DRAIN"));
	assert_true(slurm_state_drain("DOWN+DRAIN"));
	assert_true(slurm_state_drain("ALLOCATED+DRAIN"));
	assert_false(slurm_state_drain("IDLE"));
	assert_false(slurm_state_drain("IDLE+DRAINX"));
	assert_false(slurm_state_drain(NULL));
	/* Drained: no job left. Draining: jobs still running or ending. */
	assert_true(slurm_state_empty("IDLE+DRAIN"));
	assert_true(slurm_state_empty("DOWN+DRAIN"));
	assert_false(slurm_state_empty("ALLOCATED+DRAIN"));
	assert_false(slurm_state_empty("MIXED+DRAIN"));
	assert_false(slurm_state_empty("IDLE+COMPLETING+DRAIN"));
	assert_false(slurm_state_empty(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_states),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
