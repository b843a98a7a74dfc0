/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The run lock and the journal of a run's steps. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "apply/journal.h"
#include "util/errors.h"
#include "util/strutil.h"
#include "util/write.h"

#define JOURNAL_MAX (4 * 1024 * 1024)

int run_lock(const struct root *root, int *ret_fd, pid_t *ret_holder)
{
	char pid[32];
	int fd, k, l;

	*ret_holder = 0;
	if ((k = root_mkdir_p(root, "run", 0755)) < 0)
		return k;
	fd = root_open_at(root, LOCK_FILE, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -ENOENT) {
		/* root_open_at does not create: make the file, then open it. */
		if ((k = root_write_atomic(root, LOCK_FILE, "", 0, 0644)) < 0)
			return k;
		fd = root_open_at(root, LOCK_FILE, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0)
		return fd;
	/* status peeks with a shared lock for an instant: a few short tries do not mistake it
	 * for a run, and a real run (seconds at least) is still refused at once. */
	for (int i = 0; i < 20 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK; i++)
		usleep(10 * 1000);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		k = errno == EWOULDBLOCK ? -GPE_LOCKED : -errno;
		if (k == -GPE_LOCKED && (l = (int)pread(fd, pid, sizeof(pid) - 1, 0)) > 0) {
			pid[l] = '\0';
			*ret_holder = (pid_t)atol(pid);
		}
		close(fd);
		return k;
	}
	l = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)l, 0) != l) {
		k = -errno;
		close(fd);
		return k;
	}
	*ret_fd = fd;
	return 0;
}

pid_t run_lock_holder(const struct root *root)
{
	_cleanup_close_ int fd = root_open_at(root, LOCK_FILE, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	char pid[32];
	ssize_t l;

	/* A shared lock is refused only while a run holds the exclusive one; it writes nothing. */
	if (fd < 0 || flock(fd, LOCK_SH | LOCK_NB) >= 0 || errno != EWOULDBLOCK)
		return 0;
	l = pread(fd, pid, sizeof(pid) - 1, 0);
	if (l <= 0)
		return -1;
	pid[l] = '\0';
	return (pid_t)atol(pid);
}

static int journal_save(struct journal *j)
{
	_cleanup_free_ char *text = cJSON_Print(j->doc), *line = NULL;

	if (!text || asprintf(&line, "%s\n", text) < 0)
		return -ENOMEM;
	return root_write_atomic(j->root, JOURNAL_FILE, line, strlen(line), 0644);
}

int journal_begin_run(struct journal *j, const struct root *root, const char *verb, const char *profile,
		      char *const *steps)
{
	char when[32];

	utc_now(when);
	*j = (struct journal){ .root = root, .doc = cJSON_CreateObject() };
	if (!j->doc || !cJSON_AddStringToObject(j->doc, "verb", verb) ||
	    !(profile ? cJSON_AddStringToObject(j->doc, "profile", profile) : cJSON_AddNullToObject(j->doc, "profile")) ||
	    !cJSON_AddStringToObject(j->doc, "started", when) || !cJSON_AddNumberToObject(j->doc, "pid", getpid()) ||
	    !(j->steps = cJSON_AddArrayToObject(j->doc, "steps")) || !cJSON_AddNullToObject(j->doc, "finished"))
		return -ENOMEM;
	for (; steps && *steps; steps++) {
		cJSON *s = cJSON_CreateObject();

		if (!s || !cJSON_AddItemToArray(j->steps, s) || !cJSON_AddStringToObject(s, "step", *steps) ||
		    !cJSON_AddFalseToObject(s, "done"))
			return -ENOMEM;
	}
	return journal_save(j);
}

int journal_step_done(struct journal *j, size_t i)
{
	cJSON *s = cJSON_GetArrayItem(j->steps, (int)i);
	const char *abort_after = getenv("GPUPROV_TEST_ABORT_AFTER");
	int k;

	if (!s || !cJSON_ReplaceItemInObjectCaseSensitive(s, "done", cJSON_CreateTrue()))
		return -ENOMEM;
	if ((k = journal_save(j)) < 0)
		return k;
	/* The crash tests: die here as a kill would, no cleanup, the lock released by the kernel. */
	if (abort_after && (size_t)atol(abort_after) == i + 1)
		raise(SIGKILL);
	return 0;
}

int journal_finish(struct journal *j, const char *error)
{
	char when[32];

	utc_now(when);
	if (!cJSON_ReplaceItemInObjectCaseSensitive(j->doc, "finished", cJSON_CreateString(when)) ||
	    !(error ? cJSON_AddStringToObject(j->doc, "error", error) : cJSON_AddNullToObject(j->doc, "error")))
		return -ENOMEM;
	return journal_save(j);
}

void journal_done(struct journal *j)
{
	cJSON_Delete(j->doc);
	*j = (struct journal){};
}

int journal_load(const struct root *root, cJSON **ret)
{
	_cleanup_free_ char *text = NULL;
	int k = root_read_file(root, JOURNAL_FILE, JOURNAL_MAX, &text, NULL);

	*ret = NULL;
	if (k == -ENOENT)
		return 0;
	if (k < 0)
		return k;
	*ret = cJSON_Parse(text);
	return *ret && cJSON_IsObject(*ret) && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(*ret, "steps"))
		       ? 1
		       : (cJSON_Delete(*ret), *ret = NULL, -GPE_PARSE);
}
