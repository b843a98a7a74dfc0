/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Carries out a plan through the three doors: package backends, managed files, boot. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/file.h>

#include "apply/apply.h"
#include "util/errors.h"
#include "util/strutil.h"
#include "util/write.h"

#define BACKUP_DIR "var/lib/gpuprov/backup"
#define MANAGED_MAX (1024 * 1024)

void apply_report_done(struct apply_report *rep)
{
	rep->done = strv_free(rep->done);
	rep->pending = strv_free(rep->pending);
	rep->error = mfree(rep->error);
	rep->n_done = rep->n_pending = 0;
}

static int report_fail(struct apply_report *rep, int error, const char *fmt, ...) _printf_(3, 4);
static int report_fail(struct apply_report *rep, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error = gp_error_setv(&rep->error, error, fmt, ap);
	va_end(ap);
	return error;
}

/* The wants of one kind of action for one backend, in plan order. */
static size_t collect(const struct plan *pl, const char *kind, const char *via, struct pkg_want *w)
{
	size_t n = 0;

	for (size_t i = 0; i < pl->n; i++)
		if (streq(pl->actions[i].kind, kind) && streq_ptr(pl->actions[i].via, via))
			w[n++] = (struct pkg_want){ pl->actions[i].target, pl->actions[i].version };
	return n;
}

/* Backends in the order their packages go in: the OS's first (kernel, kernel-devel), then
 * the runfiles, whose DKMS build needs them. */
static const char *const backend_order[] = { "apt", "dnf", "runfile" };

static int op_preflight(const struct pkg_backend *be, struct pkg_ctx *c, const struct pkg_want *w, size_t n)
{
	return be->preflight(c, w, n);
}
static int op_install(const struct pkg_backend *be, struct pkg_ctx *c, const struct pkg_want *w, size_t n)
{
	return be->install(c, w, n);
}
static int op_hold(const struct pkg_backend *be, struct pkg_ctx *c, const struct pkg_want *w, size_t n)
{
	return be->hold(c, w, n);
}

static int each_backend(struct pkg_ctx *c, const struct plan *pl, const char *kind, struct apply_report *rep,
			const char *what, int (*op)(const struct pkg_backend *, struct pkg_ctx *, const struct pkg_want *, size_t))
{
	struct pkg_want w[pl->n ? pl->n : 1];

	for (size_t b = 0; b < ELEMENTSOF(backend_order); b++) {
		const struct pkg_backend *be = pkg_backend_by_name(backend_order[b]);
		size_t n = collect(pl, kind, backend_order[b], w);
		int k;

		if (n == 0)
			continue;
		if ((k = op(be, c, w, n)) < 0) {
			/* A failed check changed nothing: a refusal, whatever the backend saw. */
			if (op == op_preflight && k != -ENOMEM && k != -GPE_DIGEST)
				k = -GPE_UNAVAILABLE;
			return report_fail(rep, k, "%s (%s): %s", what, be->name, c->error ? c->error : gp_strerror(k));
		}
		if (!streq(kind, "install") || !streq(what, "check"))
			for (size_t i = 0; i < n; i++)
				if (strv_pushf(&rep->done, &rep->n_done, "%s %s%s%s (%s)", what, w[i].name,
					       w[i].version ? " " : "", w[i].version ? w[i].version : "", be->name) < 0)
					return -ENOMEM;
	}
	return 0;
}

/* The content before gpuprov first changed the file, kept once (revert restores it); a
 * marker when there was none. */
static int backup_once(const struct root *root, const char *path)
{
	_cleanup_free_ char *old = NULL, *dest = NULL, *absent = NULL;
	size_t size = 0;
	int k;

	while (*path == '/')
		path++;
	if (asprintf(&dest, BACKUP_DIR "/%s", path) < 0 || asprintf(&absent, BACKUP_DIR "/%s.absent", path) < 0)
		return -ENOMEM;
	if (root_exists(root, dest) > 0 || root_exists(root, absent) > 0)
		return 0;
	k = root_read_file(root, path, MANAGED_MAX, &old, &size);
	if (k == -ENOENT)
		return root_write_atomic(root, absent, "", 0, 0600);
	if (k < 0)
		return k;
	return root_write_atomic(root, dest, old, size, 0600);
}

static int write_files(struct pkg_ctx *c, const struct plan *pl, struct apply_report *rep)
{
	for (size_t i = 0; i < pl->n; i++) {
		const struct action *a = &pl->actions[i];
		int k;

		if (!streq(a->kind, "file"))
			continue;
		if ((k = backup_once(c->root, a->target)) < 0)
			return report_fail(rep, k, "cannot back up %s: %s", a->target, gp_strerror(k));
		k = a->content ? root_write_atomic(c->root, a->target, a->content, strlen(a->content), 0644)
			       : root_unlink(c->root, a->target);
		if (k < 0)
			return report_fail(rep, k, "cannot write %s: %s", a->target, gp_strerror(k));
		if (strv_pushf(&rep->done, &rep->n_done, "%s %s", a->content ? "wrote" : "removed", a->target) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int run_step(struct pkg_ctx *c, struct apply_report *rep, unsigned flags, char *const argv[], const char *done)
{
	int k = pkg_run(c, flags, argv, NULL, NULL);

	if (k < 0)
		return report_fail(rep, k, "%s", c->error ? c->error : gp_strerror(k));
	return strv_push(&rep->done, &rep->n_done, done) < 0 ? -ENOMEM : 0;
}

static int initramfs(struct pkg_ctx *c, const struct action *a, struct apply_report *rep)
{
	_cleanup_(strv_freep) char **argv = NULL;
	_cleanup_free_ char *copy = strdup(a->target);
	size_t n = 0;

	/* The target is one of gpuprov's own fixed commands ("update-initramfs -u"). */
	if (!copy)
		return -ENOMEM;
	for (char *save = NULL, *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (strv_push(&argv, &n, w) < 0)
			return -ENOMEM;
	/* A target without the generator (an image root being assembled) has no initramfs of
	 * its own yet: its kernel's install makes one later, with the files already in place. */
	if (!argv || !spawn_have(c->root, argv[0]))
		return strv_pushf(&rep->pending, &rep->n_pending, "initramfs: %s is not installed in %s; regenerate it there",
				  argv ? argv[0] : a->target, c->root->path) < 0 ? -ENOMEM : 0;
	return run_step(c, rep, SPAWN_IN_ROOT, argv, "regenerated the initramfs");
}

/* systemctl enable: inside the target with --root, which needs no running systemd there. */
static int service(struct pkg_ctx *c, const struct action *a, struct apply_report *rep)
{
	_cleanup_free_ char *rootopt = NULL, *done = NULL;
	const char *how = a->detail ? a->detail : "enable";
	bool top = streq(c->root->path, "/");

	if (asprintf(&rootopt, "--root=%s", c->root->path) < 0 || asprintf(&done, "%sd %s", how, a->target) < 0)
		return -ENOMEM;
	char *argv[] = { "systemctl", top ? (char *)how : rootopt, top ? a->target : (char *)how,
			 top ? NULL : a->target, NULL };
	return run_step(c, rep, 0, argv, done);
}

int apply_plan(struct pkg_ctx *c, const struct plan *pl, struct apply_report *rep)
{
	int k;

	/* 1. Everything that can refuse, before anything changes (DESIGN rule 5). */
	if ((k = each_backend(c, pl, "install", rep, "check", op_preflight)) < 0)
		return k;

	/* 2. Packages. */
	if ((k = each_backend(c, pl, "install", rep, "installed", op_install)) < 0)
		return k;

	/* 3. The previous kernel: kept installed and held before anything else is held. */
	for (size_t i = 0; i < pl->n; i++) {
		const struct action *a = &pl->actions[i];
		const struct pkg_backend *be = pkg_backend_by_name(a->via);

		if (!streq(a->kind, "keep-kernel") || !be)
			continue;
		if ((k = be->keep_kernel(c, a->target)) < 0)
			return report_fail(rep, k, "keeping kernel %s: %s", a->target, c->error ? c->error : gp_strerror(k));
		if (strv_pushf(&rep->done, &rep->n_done, "kept kernel %s (%s)", a->target, be->name) < 0)
			return -ENOMEM;
	}

	/* 4. Holds, then 5. the managed files (the apt pins among them). */
	if ((k = each_backend(c, pl, "hold", rep, "held", op_hold)) < 0 || (k = write_files(c, pl, rep)) < 0)
		return k;

	/* 6. The initramfs, the services; 7. what the boot backend will do. */
	for (size_t i = 0; i < pl->n; i++) {
		const struct action *a = &pl->actions[i];

		if (streq(a->kind, "initramfs"))
			k = initramfs(c, a, rep);
		else if (streq(a->kind, "service"))
			k = service(c, a, rep);
		else if (streq(a->kind, "boot-once") || streq(a->kind, "cmdline") || streq(a->kind, "reboot"))
			k = strv_pushf(&rep->pending, &rep->n_pending, "%s %s%s%s: not carried out by this version; do it by hand",
				       a->kind, a->target, a->detail ? " " : "", a->detail ? a->detail : "");
		else
			continue;
		if (k < 0)
			return k;
	}
	rep->changed = rep->n_done > 0;
	return 0;
}
