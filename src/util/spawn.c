/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runs commands from an argv, inside the root when asked, with their output captured. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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

/* In the child: never returns. Reports an exec failure's errno through errfd. */
_noreturn_ static void child(const struct root *root, unsigned flags, char *const argv[], char **envp, int out,
			     int err, int errfd)
{
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC), e;

	if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(err, STDERR_FILENO) < 0)
		goto fail;
	if ((flags & SPAWN_IN_ROOT) && root && !streq(root->path, "/") && (chroot(root->path) < 0 || chdir("/") < 0))
		goto fail;
	signal(SIGPIPE, SIG_DFL);
	environ = envp;
	execvp(argv[0], argv);
fail:
	e = errno;
	(void)!write(errfd, &e, sizeof(e));
	_exit(127);
}

int spawn_run(const struct root *root, unsigned flags, char *const argv[], char *const env[],
	      struct spawn_result *ret)
{
	_cleanup_(strv_freep) char **envp = NULL;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, px[2] = { -1, -1 };
	struct capture cap[2] = {};
	int k, status, e = 0;
	pid_t pid;

	if ((k = build_env(env, &envp)) < 0)
		return k;
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 || pipe2(px, O_CLOEXEC) < 0) {
		k = -errno;
		goto out;
	}
	if (log_get_level() >= LOG_LEVEL_DEBUG) {
		_cleanup_free_ char *line = spawn_describe(argv, NULL);

		log_debug("running %s%s%s", strna(line), (flags & SPAWN_IN_ROOT) && root ? " in " : "",
			  (flags & SPAWN_IN_ROOT) && root ? root->path : "");
	}
	pid = fork();
	if (pid < 0) {
		k = -errno;
		goto out;
	}
	if (pid == 0)
		child(root, flags, argv, envp, po[1], pe[1], px[1]);
	close(po[1]), close(pe[1]), close(px[1]);
	po[1] = pe[1] = px[1] = -1;

	cap[0].fd = po[0], cap[1].fd = pe[0];
	for (int open_fds = 2; open_fds > 0;) {
		struct pollfd p[2] = { { cap[0].fd, POLLIN, 0 }, { cap[1].fd, POLLIN, 0 } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			k = -errno;
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
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			k = -errno;
			goto out;
		}
	if (read(px[0], &e, sizeof(e)) == (ssize_t)sizeof(e) && e > 0) {
		k = -e; /* chroot or exec failed: the command never ran */
		goto out;
	}
	if (k < 0)
		goto out;
	*ret = (struct spawn_result){
		.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
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
