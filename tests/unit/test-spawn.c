/* SPDX-License-Identifier: GPL-2.0-or-later */
/* spawn_run_opts when reading the command's output fails (poll wrapped to fail once): the
 * read ends are closed and the command killed and reaped, never waited on while it blocks on
 * a full pipe; and a command that closes its output and then hangs is still ended at the
 * deadline. alarm() turns a deadlock into this test's failure. */
#include "unit.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "util/spawn.h"

int __real_poll(struct pollfd *fds, nfds_t n, int timeout);
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout);

static bool poll_fails;

int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (poll_fails) {
		poll_fails = false;
		errno = EIO;
		return -1;
	}
	return __real_poll(fds, n, timeout);
}

static void test_capture_error(void **state)
{
	/* Chatty for ever: it fills a pipe nobody reads and blocks there. */
	char *argv[] = { "sh", "-c", "while :; do echo chatter; done", NULL };
	struct spawn_opts opts = { .exec_fd = -1 };
	struct spawn_result r = {};

	(void)state;
	for (unsigned timeout = 0; timeout <= 30; timeout += 30) {
		opts.timeout_s = timeout;
		poll_fails = true;
		alarm(20);
		assert_int_equal(spawn_run_opts(NULL, 0, argv, NULL, &opts, &r), -EIO);
		alarm(0);
	}
}

static void test_closed_then_hung(void **state)
{
	char *argv[] = { "sh", "-c", "echo last words; exec >&- 2>&-; sleep 100", NULL };
	struct spawn_opts opts = { .timeout_s = 1, .exec_fd = -1 };
	struct spawn_result r = {};
	time_t start = time(NULL);

	(void)state;
	alarm(20);
	assert_int_equal(spawn_run_opts(NULL, 0, argv, NULL, &opts, &r), 0);
	alarm(0);
	assert_true(r.timed_out);
	assert_int_equal(r.signal, SIGKILL);
	assert_string_equal(r.out, "last words\n");
	assert_true(time(NULL) - start < 10);
	spawn_result_done(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_error),
		cmocka_unit_test(test_closed_then_hung),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
