/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verify's site checks: the executables of /etc/gpuprov/verify.d/required/ and wanted/, run
 * in name order (the layout greenboot uses for its health checks). A required one failing
 * fails verify as the stack's fault; a wanted one failing is reported as a warning.
 *
 * They run as root at every boot, so what runs must be what root put there: each directory
 * and file is opened through the root (a link never leads out of it), must belong to root
 * or to the user running gpuprov and be writable by no one else, and the file is run from
 * the descriptor it was checked through.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply/verify.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/spawn.h"
#include "util/strutil.h"

#define SITE_DIR "etc/gpuprov/verify.d"
static const char *const site_parents[] = { "etc", "etc/gpuprov" };
/* As verify.diag.timeout's default: a site check that takes longer is taken as hung. */
#define SITE_TIMEOUT_DEFAULT 300u
#define SITE_OUTPUT_MAX 200

/*
 * The check names ("site:NAME"): a report does not own its names, and these are made at run
 * time, so they are kept here for the life of the process (a handful per run).
 */
static char **site_names;
static size_t n_site_names;

static const char *site_name(const char *name)
{
	for (size_t i = 0; i < n_site_names; i++)
		if (streq(site_names[i] + strlen("site:"), name))
			return site_names[i];
	if (strv_pushf(&site_names, &n_site_names, "site:%s", name) < 0)
		return NULL;
	return site_names[n_site_names - 1];
}

/* Editor backups, package managers' leftovers and hidden files are not checks: a
 * "check~" or "check.dpkg-old" would run an old version beside the new one. */
static bool skipped(const char *name)
{
	size_t l = strlen(name);

	return name[0] == '.' || name[l - 1] == '~' || strstr(name, ".dpkg-") || strstr(name, ".rpm");
}

const char *verify_untrusted(const struct stat *st, bool dir)
{
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return "owned by another user than root";
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return "writable by group or others";
	if (!dir && !(st->st_mode & S_IXUSR))
		return "not executable";
	return NULL;
}

struct site_ctx {
	struct verify_report *r;
	char **env;
	unsigned timeout;
};

/* A check that failed, as its directory says: required fails verify, wanted warns. */
static int add_site(struct verify_report *r, const char *name, bool required, bool ok, const char *fmt, ...)
	_printf_(5, 6);
static int add_site(struct verify_report *r, const char *name, bool required, bool ok, const char *fmt, ...)
{
	const char *check = site_name(name);
	va_list ap;
	int k;

	if (!check)
		return -ENOMEM;
	va_start(ap, fmt);
	k = verify_addv(r, check, VERIFY_STACK, !required, ok, fmt, ap);
	va_end(ap);
	return k;
}

static int run_one(const struct site_ctx *c, const struct root_dir *d, const char *name, bool required)
{
	_cleanup_close_ int fd = fd_keep_regular(root_dir_open_at(d, name, O_RDONLY | O_NONBLOCK));
	char *argv[] = { (char *)name, NULL };
	struct spawn_result sr = {};
	struct spawn_opts opts = { .timeout_s = c->timeout, .exec_fd = fd };
	const char *why;
	char line[SITE_OUTPUT_MAX];
	struct stat st;
	int k;

	if (fd == -ENOMEM)
		return fd;
	if (fd < 0)
		return add_site(c->r, name, required, false, "/%s/%s refused: %s", d->path, name, gp_strerror(fd));
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((why = verify_untrusted(&st, false)))
		return add_site(c->r, name, required, false, "/%s/%s refused: %s", d->path, name, why);
	if ((k = spawn_run_opts(NULL, 0, argv, c->env, &opts, &sr)) < 0)
		return k == -ENOMEM ? k
				    : add_site(c->r, name, required, false, "/%s/%s cannot be run: %s", d->path, name,
					       gp_strerror(k));
	spawn_last_line(*sr.out ? sr.out : sr.err, line, sizeof(line));
	if (sr.timed_out)
		k = add_site(c->r, name, required, false, "/%s/%s timed out after %u s%s%s", d->path, name, c->timeout,
			     *line ? ": " : "", line);
	else if (sr.signal)
		k = add_site(c->r, name, required, false, "/%s/%s killed by signal %d%s%s", d->path, name, sr.signal,
			     *line ? ": " : "", line);
	else
		k = add_site(c->r, name, required, sr.status == 0, "/%s/%s exited with %d%s%s", d->path, name,
			     sr.status, *line ? ": " : "", line);
	spawn_result_done(&sr);
	return k;
}

/* A directory of checks just opened (opened: what the opening returned, d the result): 1 when
 * its checks may run; 0 when it is absent, or refused, with the failed check "site:CHECK"
 * added saying why (nothing in it runs); -errno. */
static int dir_trusted(struct verify_report *r, int opened, const struct root_dir *d, const char *path,
		       const char *check, bool required)
{
	const char *why;
	struct stat st;
	int k;

	if (opened == -ENOENT)
		return 0;
	if (opened == -ENOMEM || !path)
		return opened < 0 ? opened : -ENAMETOOLONG;
	if (opened < 0)
		k = add_site(r, check, required, false, "/%s refused: %s", path, gp_strerror(opened));
	else if (fstat(d->fd, &st) < 0)
		return -errno;
	else if ((why = verify_untrusted(&st, true)))
		k = add_site(r, check, required, false, "/%s refused, none of its checks run: %s", path, why);
	else
		return 1;
	return k < 0 ? k : 0;
}

/*
 * A check's name becomes "site:NAME" in state.json, in text and in the metrics' label values,
 * where bytes that are not UTF-8 make the whole exposition unreadable: a name of other bytes
 * than these is refused as the check "site:?", its detail naming the file with each other
 * byte as \xNN.
 */
#define SITE_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@+-"

static int refuse_name(const struct site_ctx *c, const struct root_dir *d, const char *name, bool required)
{
	char escaped[NAME_MAX * 4 + 1], *e = escaped;

	for (const char *p = name; *p && e < escaped + sizeof(escaped) - 5; p++)
		e += strchr(SITE_NAME_CHARS, *p) ? sprintf(e, "%c", *p) : sprintf(e, "\\x%02x", (unsigned char)*p);
	*e = '\0';
	return add_site(c->r, "?", required, false,
			"/%s/%s refused: a check's name may hold only A-Z, a-z, 0-9, '.', '_', '@', '+' and "
			"'-'", d->path, escaped);
}

/* verify.d/required or verify.d/wanted: absent is fine, untrusted refuses all it holds. */
static int run_dir(const struct site_ctx *c, const struct root_dir *top, const char *sub)
{
	_cleanup_(root_dir_freep) struct root_dir *d = NULL;
	_cleanup_(strv_freep) char **names = NULL;
	bool required = streq(sub, "required");
	char path[PATH_MAX];
	int k = root_dir_open_dir(top, sub, &d);

	if ((k = dir_trusted(c->r, k, d, path_fmt(path, "%s/%s", top->path, sub), sub, required)) <= 0)
		return k;
	if ((k = root_dir_list(d, NULL, &names)) < 0)
		return k == -ENOMEM ? k
				    : add_site(c->r, sub, required, false, "/%s cannot be listed: %s", d->path,
					       gp_strerror(k));
	for (char **n = names; *n; n++) {
		if (skipped(*n))
			continue;
		if ((k = strspn(*n, SITE_NAME_CHARS) == strlen(*n) ? run_one(c, d, *n, required)
								: refuse_name(c, d, *n, required)) < 0)
			return k;
	}
	return 0;
}

int verify_site(const struct root *sys, const struct state *state, struct verify_report *r)
{
	_cleanup_(root_dir_freep) struct root_dir *top = NULL;
	_cleanup_(strv_freep) char **env = NULL;
	size_t n = 0;
	int k = root_dir_open(sys, SITE_DIR, &top);

	if (k == -ENOENT)
		return 0;
	/* Who may write /etc or /etc/gpuprov may put another verify.d in its place: then its
	 * checks are not root's either. Only looked at where there is a verify.d to run. */
	for (size_t i = 0; i < ELEMENTSOF(site_parents); i++) {
		_cleanup_(root_dir_freep) struct root_dir *p = NULL;
		int o = root_dir_open(sys, site_parents[i], &p);

		if ((o = dir_trusted(r, o, p, site_parents[i], "verify.d", true)) <= 0)
			return o;
	}
	if ((k = dir_trusted(r, k, top, SITE_DIR, "verify.d", true)) <= 0)
		return k;
	if (strv_pushf(&env, &n, "GPUPROV_PROFILE=%s", state->profile ? state->profile : "") < 0 ||
	    strv_pushf(&env, &n, "GPUPROV_KERNEL=%s", state->kernel ? state->kernel : "") < 0 ||
	    strv_pushf(&env, &n, "GPUPROV_DRIVER=%s", state->driver ? state->driver : "") < 0)
		return -ENOMEM;

	/* The range profile validation allows: state.json may have been edited by hand since. */
	struct site_ctx c = { r, env,
			      (unsigned)json_whole(state->health, "site_timeout", 0, VERIFY_SECONDS_MAX,
						   SITE_TIMEOUT_DEFAULT) };

	if ((k = run_dir(&c, top, "required")) < 0)
		return k;
	return run_dir(&c, top, "wanted");
}
