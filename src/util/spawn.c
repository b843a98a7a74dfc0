/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runs commands from an argv, inside the root when asked, with their output captured. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/spawn.h"
#include "util/strutil.h"

/* apt and dnf can be chatty; keep enough for any error report, drop the rest. */
#define CAPTURE_MAX (4u << 20)
#define DESCRIBE_LINES 6

extern char **environ;

struct capture {
	int fd;
	char *buf;
	size_t len, alloc;
};

static const char *const passed_on[] = { "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY",
					 "HTTPS_PROXY", "NO_PROXY", "TMPDIR" };

static int build_env(char *const extra[], char ***ret)
{
	_cleanup_(strv_freep) char **v = NULL;
	size_t n = 0;

	if (strv_push(&v, &n, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0 ||
	    strv_push(&v, &n, "LC_ALL=C") < 0 || strv_push(&v, &n, "HOME=/root") < 0)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(passed_on); i++) {
		const char *val = getenv(passed_on[i]);

		if (val && strv_pushf(&v, &n, "%s=%s", passed_on[i], val) < 0)
			return -ENOMEM;
	}
	for (; extra && *extra; extra++)
		if (strv_push(&v, &n, *extra) < 0)
			return -ENOMEM;
	*ret = TAKE_PTR(v);
	return 0;
}

static int capture_read(struct capture *c)
{
	char chunk[16384];
	ssize_t l = read(c->fd, chunk, sizeof(chunk));

	if (l < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -errno;
	if (l == 0)
		return 0;
	if (c->len < CAPTURE_MAX) {
		size_t take = (size_t)l < CAPTURE_MAX - c->len ? (size_t)l : CAPTURE_MAX - c->len;

		if (c->len + take + 1 > c->alloc) {
			size_t a = (c->len + take + 1) * 2;
			char *p = realloc(c->buf, a);

			if (!p)
				return -ENOMEM;
			c->buf = p;
			c->alloc = a;
		}
		memcpy(c->buf + c->len, chunk, take);
		c->len += take;
		c->buf[c->len] = '\0';
	}
	return 1;
}

/*
 * The host's API file systems a command in the target gets when the target has none of its
 * own (an installer's --root /target): a kernel's or DKMS's postinst reads /proc and /sys
 * and writes to /dev/null. probe: what shows the target has it already. /proc and /sys are
 * read-only: a script in the target must not change the running kernel's settings or a
 * device's attributes; /dev keeps its submounts (pts, shm) and stays writable.
 */
static const struct api_fs {
	const char *dir, *probe;
	unsigned long flags;
	bool read_only;
} api_fs[] = {
	{ "proc", "proc/self", MS_BIND, true },
	{ "sys", "sys/kernel", MS_BIND, true },
	{ "dev", "dev/null", MS_BIND | MS_REC, false },
};

/* What the child tells the parent through its CLOEXEC pipe, read once the child is gone. */
enum {
	NOTE_NOT_RUN = -1,    /* chroot or exec failed: the command never ran (err) */
	NOTE_NO_NAMESPACE = -2, /* no mount namespace (err): the command ran in a bare chroot */
	/* >= 0: api_fs[what] was not mounted (err: why); the command ran without it */
};

struct child_note {
	int what, err;
};

static void note(int fd, int what, int err)
{
	struct child_note n = { what, err };

	(void)!write(fd, &n, sizeof(n));
}

/* The api_fs[] entries the target lacks, as a bit mask; checked inside the root. */
static unsigned api_fs_missing(const struct root *root)
{
	unsigned mask = 0;

	for (size_t i = 0; i < ELEMENTSOF(api_fs); i++)
		if (root_exists(root, api_fs[i].probe) <= 0) {
			mask |= 1u << i;
			log_debug("%s has no %s: the host's /%s is bind-mounted for the command", root->path,
				  api_fs[i].probe, api_fs[i].dir);
		}
	return mask;
}

/* In the child: mounts the host's api_fs[i] on the target's directory, opened without
 * following a link (a target "proc" -> "/proc" would put the mount on the host's own, or
 * anywhere else a link says) and without creating it: a target without the directory gets
 * nothing. rootfd was opened in this mount namespace: a mount needs a target there. */
static int api_fs_mount(int rootfd, size_t i)
{
	_cleanup_close_ int fd = openat(rootfd, api_fs[i].dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int top = -1;
	char host[32], target[64];

	if (fd < 0)
		return -errno;
	snprintf(host, sizeof(host), "/%s", api_fs[i].dir);
	/* Through the descriptor, so the directory mounted on is the one just checked. */
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	if (mount(host, target, NULL, api_fs[i].flags, NULL) < 0)
		return -errno;
	if (!api_fs[i].read_only)
		return 0;
	/* The descriptor still names the directory under the new mount: read-only is set on
	 * the mount, opened anew (a bind mount takes MS_RDONLY only from a remount). */
	top = openat(rootfd, api_fs[i].dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (top < 0)
		return -errno;
	snprintf(target, sizeof(target), "/proc/self/fd/%d", top);
	if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	return 0;
}

/* In the child: a mount namespace of its own with the API file systems in missing mounted
 * into the target; rootfd is the target opened in it. Where no namespace can be made (no
 * CAP_SYS_ADMIN, as in most containers) the command runs in the bare chroot, as before. */
static int child_namespace(const struct root *root, unsigned missing, int notefd)
{
	int rootfd;

	if (!missing)
		return open(root->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* Slave first: what is mounted here must never propagate to the host, whose "/" is
	 * shared on systemd machines; mounts the host makes still reach the command. */
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
		note(notefd, NOTE_NO_NAMESPACE, errno);
		return open(root->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	rootfd = open(root->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -1;
	for (size_t i = 0; i < ELEMENTSOF(api_fs); i++) {
		int k;

		if ((missing & (1u << i)) && (k = api_fs_mount(rootfd, i)) < 0)
			note(notefd, (int)i, -k);
	}
	return rootfd;
}

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/*
 * In the child: every descriptor from 3 up closes at the exec. A command run as root (a site
 * check, dcgmi) must not inherit what gpuprov or its caller holds open without O_CLOEXEC: a
 * libnvidia-ml descriptor of /dev/nvidia* keeps the GPU "in use" for a check that resets it.
 * close_range()'s CLOSE_RANGE_CLOEXEC came with Linux 5.11; before, the descriptors /proc
 * lists (the host's: this runs before any chroot), else every one up to the limit.
 */
static int cloexec_from_3(void)
{
	struct rlimit rl;
	DIR *dir;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
#endif
	if ((dir = opendir("/proc/self/fd"))) {
		int self = dirfd(dir);

		for (struct dirent *de; (de = readdir(dir));) {
			int fd = atoi(de->d_name);

			if (fd >= 3 && fd != self && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF) {
				closedir(dir);
				return -errno;
			}
		}
		closedir(dir);
		return 0;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	for (rlim_t fd = 3; fd < rl.rlim_cur && fd < INT_MAX; fd++)
		if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF)
			return -errno;
	return 0;
}

/* In the child: never returns. Reports an exec failure's errno through notefd. missing:
 * the api_fs[] the target lacks, from api_fs_missing(). */
_noreturn_ static void child(const struct root *root, unsigned flags, unsigned missing, pid_t parent,
			     char *const argv[], char **envp, const struct spawn_opts *opts, int out, int err,
			     int notefd)
{
	int devnull, e;

	/* A command outlives no gpuprov killed under it (a DKMS build, a postinst). The parent
	 * may have died before the request: then it is already too late to be told. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(127);
	/* A group of its own, so that a timeout kills what the command started too. */
	if (opts->timeout_s && setpgid(0, 0) < 0)
		goto fail;
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(err, STDERR_FILENO) < 0)
		goto fail;
	if (cloexec_from_3() < 0)
		goto fail;
	if ((flags & SPAWN_IN_ROOT) && root && !streq(root->path, "/")) {
		int rootfd = child_namespace(root, missing, notefd);

		/* The root as opened after the mounts: the tree the command sees is theirs. */
		if (rootfd < 0 || fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0)
			goto fail;
		close(rootfd);
	}
	signal(SIGPIPE, SIG_DFL);
	environ = envp;
	if (opts->exec_fd >= 0) {
		/* A script's interpreter opens it again as /dev/fd/N: it must survive the exec. */
		if (fcntl(opts->exec_fd, F_SETFD, 0) < 0)
			goto fail;
		fexecve(opts->exec_fd, argv, envp);
	} else
		execvp(argv[0], argv);
fail:
	e = errno;
	note(notefd, NOTE_NOT_RUN, e);
	_exit(127);
}

/* After the child: what it told, logged; -errno when the command never ran, else 0. */
static int child_notes(int fd)
{
	struct child_note n;
	int k = 0;

	while (read(fd, &n, sizeof(n)) == (ssize_t)sizeof(n)) {
		if (n.what == NOTE_NOT_RUN && n.err > 0)
			k = -n.err;
		else if (n.what == NOTE_NO_NAMESPACE)
			log_debug("no mount namespace for the command (%s): it ran without /proc, /sys or /dev",
				  strerror(n.err));
		else if (n.what >= 0 && (size_t)n.what < ELEMENTSOF(api_fs))
			log_debug("the target's %s: %s; the command ran without the host's /%s", api_fs[n.what].dir,
				  n.err == ENOTDIR || n.err == ELOOP ? "not a directory (a link is not followed)"
								     : strerror(n.err),
				  api_fs[n.what].dir);
	}
	return k;
}

/* Milliseconds left to the deadline (never below 0), or -1 (poll's forever) without one. */
static int time_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	if (!deadline)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms;
}

/*
 * Waits for the child, to the deadline where there is one: its pipes at EOF do not mean it
 * has ended (`exec >&- 2>&-; sleep 100` closes them and hangs). Past the deadline its group
 * is killed and it is reaped; timed_out is set.
 */
static int reap(pid_t pid, const struct timespec *deadline, int *status, bool *timed_out)
{
	for (;;) {
		pid_t w = waitpid(pid, status, deadline && !*timed_out ? WNOHANG : 0);
		int left;

		if (w == pid)
			return 0;
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		left = time_left(deadline);
		if (left == 0) {
			(void)kill(-pid, SIGKILL);
			*timed_out = true;
			continue;
		}
		/* Short naps: a check that ends on time is noticed within 20 ms. */
		(void)nanosleep(&(struct timespec){ 0, (left < 20 ? left : 20) * 1000000L }, NULL);
	}
}

int spawn_run(const struct root *root, unsigned flags, char *const argv[], char *const env[],
	      struct spawn_result *ret)
{
	return spawn_run_opts(root, flags, argv, env, NULL, ret);
}

int spawn_run_opts(const struct root *root, unsigned flags, char *const argv[], char *const env[],
		   const struct spawn_opts *opts, struct spawn_result *ret)
{
	static const struct spawn_opts none = { .exec_fd = -1 };
	_cleanup_(strv_freep) char **envp = NULL;
	struct timespec deadline;
	bool timed_out = false;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, px[2] = { -1, -1 };
	struct capture cap[2] = {};
	unsigned missing = 0;
	int k, status, e;
	pid_t pid, parent = getpid();

	if (!opts)
		opts = &none;
	if ((k = build_env(env, &envp)) < 0)
		return k;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += opts->timeout_s;
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 || pipe2(px, O_CLOEXEC) < 0) {
		k = -errno;
		goto out;
	}
	if (log_get_level() >= LOG_LEVEL_DEBUG) {
		_cleanup_free_ char *line = spawn_describe(argv, NULL);

		log_debug("running %s%s%s", strna(line), (flags & SPAWN_IN_ROOT) && root ? " in " : "",
			  (flags & SPAWN_IN_ROOT) && root ? root->path : "");
	}
	if ((flags & SPAWN_IN_ROOT) && root && !streq(root->path, "/"))
		missing = api_fs_missing(root);
	pid = fork();
	if (pid < 0) {
		k = -errno;
		goto out;
	}
	if (pid == 0)
		child(root, flags, missing, parent, argv, envp, opts, po[1], pe[1], px[1]);
	/* Also here: the child may not have got to it when the deadline comes. */
	if (opts->timeout_s)
		(void)setpgid(pid, pid);
	close(po[1]), close(pe[1]), close(px[1]);
	po[1] = pe[1] = px[1] = -1;

	cap[0].fd = po[0], cap[1].fd = pe[0];
	for (int open_fds = 2; open_fds > 0;) {
		struct pollfd p[2] = { { cap[0].fd, POLLIN, 0 }, { cap[1].fd, POLLIN, 0 } };
		int ready = poll(p, 2, time_left(opts->timeout_s ? &deadline : NULL));

		if (ready < 0) {
			if (errno == EINTR)
				continue;
			k = -errno;
			break;
		}
		if (ready == 0) {
			/* What it wrote so far is kept: the last words of a hung command. */
			(void)kill(-pid, SIGKILL);
			timed_out = true;
			k = 0;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (cap[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			k = capture_read(&cap[i]);
			if (k < 0)
				break;
			if (k == 0) {
				cap[i].fd = -1; /* closed below, as po[0]/pe[0] */
				open_fds--;
			}
		}
		if (k < 0)
			break;
	}
	if (k < 0) {
		/* Unread pipes would block a chatty child, and its exit with them: nothing of it
		 * is wanted any more. */
		po[0] = safe_close(po[0]), pe[0] = safe_close(pe[0]);
		(void)kill(opts->timeout_s ? -pid : pid, SIGKILL);
	}
	if ((e = reap(pid, opts->timeout_s ? &deadline : NULL, &status, &timed_out)) < 0) {
		k = e;
		goto out;
	}
	if ((e = child_notes(px[0])) < 0) {
		k = e; /* chroot or exec failed: the command never ran */
		goto out;
	}
	if (k < 0)
		goto out;
	*ret = (struct spawn_result){
		.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
		.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0,
		.timed_out = timed_out,
		.out = cap[0].buf ? cap[0].buf : strdup(""),
		.err = cap[1].buf ? cap[1].buf : strdup(""),
	};
	cap[0].buf = cap[1].buf = NULL;
	if (!ret->out || !ret->err) {
		spawn_result_done(ret);
		k = -ENOMEM;
		goto out;
	}
	log_debug("exit %d; stdout %zu bytes, stderr %zu bytes", ret->status, strlen(ret->out), strlen(ret->err));
	k = 0;
out:
	for (int i = 0; i < 2; i++) {
		safe_close(po[i]), safe_close(pe[i]), safe_close(px[i]);
		free(cap[i].buf);
	}
	return k;
}

void spawn_result_done(struct spawn_result *r)
{
	r->out = mfree(r->out);
	r->err = mfree(r->err);
}

void spawn_last_line(const char *text, char *buf, size_t size)
{
	const char *end = text + strlen(text), *start;
	size_t i = 0;

	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (start = end; start > text && start[-1] != '\n'; start--)
		;
	for (; start < end && i + 1 < size; start++)
		buf[i++] = (unsigned char)*start < 0x20 || *start == 0x7f ? ' ' : *start;
	if (size)
		buf[i] = '\0';
}

char *spawn_describe(char *const argv[], const struct spawn_result *r)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	fputc('`', f);
	for (size_t i = 0; argv[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", argv[i]);
	fputc('`', f);
	if (r) {
		const char *text = r->err && *r->err ? r->err : r->out;
		const char *tail = text + strlen(text);

		fprintf(f, " exited with %d", r->status);
		/* The last lines say why: apt's "E:", dnf's "Error:", an installer's last words. */
		while (tail > text && (tail[-1] == '\n' || tail[-1] == ' '))
			tail--;
		const char *start = tail;
		for (int n = 0; start > text && n < DESCRIBE_LINES; n++) {
			start--;
			while (start > text && start[-1] != '\n')
				start--;
		}
		if (tail > start)
			fprintf(f, ":\n%.*s", (int)(tail - start), start);
	}
	if (fclose(f) != 0)
		return mfree(s);
	return s;
}

bool spawn_have(const struct root *root, const char *program)
{
	static const char *const dirs[] = { "usr/local/sbin", "usr/local/bin", "usr/sbin", "usr/bin", "sbin", "bin" };
	char path[4096];

	for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
		struct stat st;

		if (root_stat(root, path_fmt(path, "%s/%s", dirs[i], program), &st) >= 0 && S_ISREG(st.st_mode) &&
		    (st.st_mode & 0111))
			return true;
	}
	return false;
}
