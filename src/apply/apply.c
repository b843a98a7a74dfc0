/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Carries out a plan through the three doors: package backends, managed files, boot. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/file.h>

#include "apply/apply.h"
#include "apply/journal.h"
#include "apply/rollback.h"
#include "boot/grub.h"
#include "files/managed.h"
#include "util/errors.h"
#include "util/strutil.h"
#include "util/write.h"


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

/* Every backend's check, before anything changes (DESIGN rule 5). A failed check changed
 * nothing: a refusal, whatever the backend saw. */
static int check_all(struct pkg_ctx *c, const struct plan *pl, struct apply_report *rep)
{
	struct pkg_want w[pl->n ? pl->n : 1];

	for (size_t b = 0; b < ELEMENTSOF(backend_order); b++) {
		const struct pkg_backend *be = pkg_backend_by_name(backend_order[b]);
		size_t n = collect(pl, "install", backend_order[b], w);
		int k;

		if (n > 0 && (k = be->preflight(c, w, n)) < 0) {
			k = gp_error_refusal(k);
			return report_fail(rep, k, "check (%s): %s", be->name, c->error ? c->error : gp_strerror(k));
		}
	}
	/* Every file can be written: a read-only /etc found now, not half way. */
	for (size_t i = 0; i < pl->n; i++) {
		const char *path = pl->actions[i].target;
		int k;

		if (!streq(pl->actions[i].kind, "file") || (k = root_writable(c->root, path)) > 0)
			continue;
		return report_fail(rep, -GPE_REFUSED, "%s cannot be written: %s", path,
				   k == 0		? "its filesystem is mounted read-only"
				   : k == -ENOTDIR ? "a directory on its path is a file, or a link that leads nowhere in the root"
						   : gp_strerror(k));
	}
	return 0;
}

static int write_file(struct pkg_ctx *c, const struct action *a, struct apply_report *rep)
{
	int k = managed_write(c->root, a->target, a->content, a->content ? strlen(a->content) : 0, a->mode ? a->mode : 0644);

	if (k < 0)
		return report_fail(rep, k, "cannot write %s: %s", a->target, gp_strerror(k));
	return strv_pushf(&rep->done, &rep->n_done, "%s %s", a->content ? "wrote" : "removed", a->target) < 0 ? -ENOMEM : 0;
}

static int run_step(struct pkg_ctx *c, struct apply_report *rep, unsigned flags, char *const argv[], const char *done)
{
	int k = pkg_run(c, flags, argv, NULL, NULL);

	if (k < 0)
		return report_fail(rep, k, "%s", c->error ? c->error : gp_strerror(k));
	return strv_push(&rep->done, &rep->n_done, done) < 0 ? -ENOMEM : 0;
}

/* A command of gpuprov's own (initramfs, bootloader) run in the target. */
static int tool(struct pkg_ctx *c, const struct action *a, struct apply_report *rep, const char *done)
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
	/* A target without the tool (an image root being assembled) has no initramfs or GRUB
	 * configuration of its own yet: its kernel's install makes them later, from the files
	 * already in place. */
	if (!argv || !spawn_have(c->root, argv[0]))
		return strv_pushf(&rep->pending, &rep->n_pending, "%s: %s is not installed in %s; run `%s` there",
				  a->kind, argv ? argv[0] : a->target, c->root->path, a->target) < 0 ? -ENOMEM : 0;
	return run_step(c, rep, SPAWN_IN_ROOT, argv, done);
}

/*
 * The switch (DESIGN rule 6): before any package, the known-good kernel becomes the saved
 * default; last, the new one is entered once through next_entry, which GRUB clears as it
 * boots it, or, where GRUB cannot write its own block, through gpuprov's block on the ESP,
 * which /etc/grub.d/01_gpuprov makes GRUB clear the same way. A panic there (panic=N) or any
 * later boot comes back to the saved default until verify commits the new one.
 */
static int boot_set(struct pkg_ctx *c, const struct action *a, struct apply_report *rep, bool once)
{
	_cleanup_free_ char *why = NULL, *file = NULL;
	const char *release = once ? a->target : a->detail, *var = NULL;
	int k;

	/* A target without GRUB (an image root being assembled) has no menu to switch yet;
	 * said once, though the saved default is set both before and after the packages. */
	if (!c->facts->boot.loader) {
		_cleanup_free_ char *line = NULL;

		if (asprintf(&line, "%s %s: no GRUB in %s; set it there", once ? "boot-once" : "saved default", release,
			     c->root->path) < 0)
			return -ENOMEM;
		return strv_contains(rep->pending, line) ? 0 : strv_push_take(&rep->pending, &rep->n_pending, TAKE_PTR(line));
	}
	k = once ? boot_once_set(c->facts, c->root, release, &why) : boot_default_set(c->facts, c->root, release, false, &why);
	if (k < 0)
		return report_fail(rep, k, "%s %s: %s", once ? "boot-once" : "saved default", release, why ? why : gp_strerror(k));
	if (!once)
		return strv_pushf(&rep->done, &rep->n_done, "the saved GRUB default is %s, the known-good kernel", release) < 0 ? -ENOMEM : 0;
	if ((k = boot_once_where(c->facts, &var, &file)) < 0)
		return k;
	return strv_pushf(&rep->done, &rep->n_done, "next boot enters %s once (%s in %s)", release, var, file) < 0 ? -ENOMEM : 0;
}

/* BLS entries (RHEL 9): grubby changes every kernel's entry, the known-good one included,
 * so that falling back keeps the settings (FACTS 8). */
static int grubby(struct pkg_ctx *c, const struct action *a, struct apply_report *rep)
{
	_cleanup_free_ char *opt = NULL, *done = NULL;
	bool add = streq(a->target, "add");

	if (asprintf(&opt, "%s=%s", add ? "--args" : "--remove-args", a->detail) < 0 ||
	    asprintf(&done, "%s kernel argument %s (every BLS entry)", add ? "added" : "removed", a->detail) < 0)
		return -ENOMEM;
	if (!spawn_have(c->root, "grubby"))
		return strv_pushf(&rep->pending, &rep->n_pending, "cmdline %s %s: grubby is not installed in %s", a->target,
				  a->detail, c->root->path) < 0 ? -ENOMEM : 0;
	char *argv[] = { "grubby", "--update-kernel=ALL", opt, NULL };
	return run_step(c, rep, SPAWN_IN_ROOT, argv, done);
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

/* One step of a run: what the journal lists, and what apply_plan does for it. */
enum step_kind { STEP_CHECK, STEP_RECORD, STEP_INSTALL, STEP_KEEP, STEP_HOLD, STEP_FILE, STEP_SYSCTL, STEP_INITRAMFS,
		 STEP_BOOTLOADER, STEP_CMDLINE, STEP_SERVICE, STEP_BOOT_DEFAULT, STEP_BOOT_ONCE };

struct step {
	enum step_kind kind;
	const char *via; /* STEP_CHECK, STEP_INSTALL, STEP_HOLD: the backend ("" for every one) */
	size_t action;   /* STEP_KEEP, STEP_FILE, STEP_INITRAMFS, STEP_SERVICE: the plan's action */
};

static bool plan_has(const struct plan *pl, const char *kind, const char *via)
{
	for (size_t i = 0; i < pl->n; i++)
		if (streq(pl->actions[i].kind, kind) && (!via || streq_ptr(pl->actions[i].via, via)))
			return true;
	return false;
}

/* The steps in the order they run: checks, packages, the kept kernel, holds, files, the
 * kernel's settings taking effect, services. Labels go to the journal. */
static bool is_grub_file(const struct action *a)
{
	return streq(a->kind, "file") && managed_feeds_grub(a->target);
}

/*
 * The steps in the order they run. GRUB first, before any package: a new kernel's install
 * regenerates GRUB's menu, and by then GRUB_DEFAULT=saved and the known-good saved_entry
 * must be in place, or a run stopped there would leave the new kernel the default (DESIGN
 * rule 6). Then the packages, the kept kernel, the holds, the other files, sysctl, the
 * initramfs, the BLS arguments, the services, and last the boot-once entry. Labels go to
 * the journal.
 */
static int build_steps(const struct pkg_ctx *c, const struct plan *pl, bool record, struct step **ret, char ***ret_labels)
{
	_cleanup_free_ struct step *st = calloc(pl->n * 2 + ELEMENTSOF(backend_order) * 2 + 4, sizeof(*st));
	_cleanup_(strv_freep) char **labels = NULL;
	size_t n = 0, nl = 0;
	bool sysctl = false;

	if (!st)
		return -ENOMEM;
#define ADD(...)                                                          \
	do {                                                              \
		if (strv_pushf(&labels, &nl, __VA_ARGS__) < 0)            \
			return -ENOMEM;                                   \
	} while (0)
	if (plan_has(pl, "install", NULL) || plan_has(pl, "file", NULL)) {
		st[n++] = (struct step){ STEP_CHECK, "", 0 };
		ADD("check that every package and runfile is there and every file can be written");
	}
	/* What rollback goes back to, once nothing can refuse and before anything changes. */
	if (record) {
		st[n++] = (struct step){ STEP_RECORD, NULL, 0 };
		ADD("record the stack before the switch (state.json " PREVIOUS_STACK ")");
	}
	for (size_t i = 0; i < pl->n; i++)
		if (is_grub_file(&pl->actions[i])) {
			st[n++] = (struct step){ STEP_FILE, NULL, i };
			ADD("write %s", pl->actions[i].target);
		}
	for (size_t i = 0; i < pl->n; i++)
		if (streq(pl->actions[i].kind, "bootloader")) {
			st[n++] = (struct step){ STEP_BOOTLOADER, NULL, i };
			ADD("bootloader %s", pl->actions[i].target);
		}
	for (size_t i = 0; i < pl->n; i++)
		if (streq(pl->actions[i].kind, "boot-once")) {
			st[n++] = (struct step){ STEP_BOOT_DEFAULT, NULL, i };
			ADD("saved default %s", pl->actions[i].detail);
		}
	for (size_t b = 0; b < ELEMENTSOF(backend_order); b++)
		if (plan_has(pl, "install", backend_order[b])) {
			st[n++] = (struct step){ STEP_INSTALL, backend_order[b], 0 };
			ADD("install (%s)", backend_order[b]);
		}
	for (size_t i = 0; i < pl->n; i++)
		if (streq(pl->actions[i].kind, "keep-kernel")) {
			st[n++] = (struct step){ STEP_KEEP, NULL, i };
			ADD("keep kernel %s", pl->actions[i].target);
		}
	for (size_t b = 0; b < ELEMENTSOF(backend_order); b++)
		if (plan_has(pl, "hold", backend_order[b])) {
			st[n++] = (struct step){ STEP_HOLD, backend_order[b], 0 };
			ADD("hold (%s)", backend_order[b]);
		}
	for (size_t i = 0; i < pl->n; i++)
		if (streq(pl->actions[i].kind, "file") && !is_grub_file(&pl->actions[i])) {
			st[n++] = (struct step){ STEP_FILE, NULL, i };
			ADD("write %s", pl->actions[i].target);
			sysctl |= startswith(pl->actions[i].target, "/etc/sysctl.d/") != NULL;
		}
	/* On the running system the new values take effect now; a target root gets them at boot. */
	if (sysctl && streq(c->root->path, "/")) {
		st[n++] = (struct step){ STEP_SYSCTL, NULL, 0 };
		ADD("sysctl --system");
	}
	for (size_t i = 0; i < pl->n; i++) {
		const char *kind = pl->actions[i].kind;
		enum step_kind sk = streq(kind, "service")   ? STEP_SERVICE
				    : streq(kind, "initramfs") ? STEP_INITRAMFS
				    : streq(kind, "cmdline")   ? STEP_CMDLINE
							       : STEP_CHECK;

		if (sk == STEP_CHECK)
			continue;
		st[n++] = (struct step){ sk, NULL, i };
		ADD("%s %s%s%s", kind, pl->actions[i].target, sk == STEP_CMDLINE ? " " : "",
		    sk == STEP_CMDLINE ? pl->actions[i].detail : "");
	}
	/* Again, now that the packages are in: a kernel's install may make itself the default
	 * (RHEL's UPDATEDEFAULT=yes), and only verify may do that. */
	for (size_t i = 0; i < pl->n; i++)
		if (streq(pl->actions[i].kind, "boot-once")) {
			st[n++] = (struct step){ STEP_BOOT_DEFAULT, NULL, i };
			ADD("saved default %s, after the packages", pl->actions[i].detail);
			st[n++] = (struct step){ STEP_BOOT_ONCE, NULL, i };
			ADD("boot-once %s", pl->actions[i].target);
		}
#undef ADD
	*ret = TAKE_PTR(st);
	*ret_labels = TAKE_PTR(labels);
	return (int)n;
}

static int do_step(struct pkg_ctx *c, const struct plan *pl, const cJSON *previous, const struct step *s,
		   struct apply_report *rep)
{
	const struct action *a = &pl->actions[s->action];
	const struct pkg_backend *be;
	int k;

	switch (s->kind) {
	case STEP_CHECK:
		/* Everything that can refuse, before anything changes (DESIGN rule 5). */
		return check_all(c, pl, rep);
	case STEP_RECORD:
		if ((k = previous_stack_save(c->root, previous)) < 0)
			return report_fail(rep, k, "cannot write %s: %s", STATE_FILE, gp_strerror(k));
		return 0;
	case STEP_INSTALL:
	case STEP_HOLD:
		be = pkg_backend_by_name(s->via);
		{
			struct pkg_want w[pl->n ? pl->n : 1];
			size_t n = collect(pl, s->kind == STEP_INSTALL ? "install" : "hold", s->via, w);
			const char *what = s->kind == STEP_INSTALL ? "installed" : "held";

			k = s->kind == STEP_INSTALL ? be->install(c, w, n) : be->hold(c, w, n);
			if (k < 0)
				return report_fail(rep, k, "%s (%s): %s", s->kind == STEP_INSTALL ? "install" : "hold",
						   be->name, c->error ? c->error : gp_strerror(k));
			for (size_t i = 0; i < n; i++)
				if (strv_pushf(&rep->done, &rep->n_done, "%s %s%s%s (%s)", what, w[i].name,
					       w[i].version ? " " : "", w[i].version ? w[i].version : "", be->name) < 0)
					return -ENOMEM;
		}
		return 0;
	case STEP_KEEP:
		if (!(be = pkg_backend_by_name(a->via)))
			return 0;
		if ((k = be->keep_kernel(c, a->target)) < 0)
			return report_fail(rep, k, "keeping kernel %s: %s", a->target, c->error ? c->error : gp_strerror(k));
		return strv_pushf(&rep->done, &rep->n_done, "kept kernel %s (%s)", a->target, be->name) < 0 ? -ENOMEM : 0;
	case STEP_FILE:
		return write_file(c, a, rep);
	case STEP_SYSCTL: {
		char *argv[] = { "sysctl", "--system", NULL };

		return run_step(c, rep, 0, argv, "applied the sysctl settings");
	}
	case STEP_INITRAMFS:
		return tool(c, a, rep, "regenerated the initramfs");
	case STEP_BOOTLOADER:
		return tool(c, a, rep, "regenerated GRUB's configuration");
	case STEP_CMDLINE:
		return grubby(c, a, rep);
	case STEP_BOOT_DEFAULT:
		return boot_set(c, a, rep, false);
	case STEP_BOOT_ONCE:
		return boot_set(c, a, rep, true);
	case STEP_SERVICE:
		return service(c, a, rep);
	}
	return -EINVAL;
}

/* A run killed before its end leaves its journal without "finished". */
static bool last_run_interrupted(const struct root *root)
{
	_cleanup_(cJSON_Deletep) cJSON *j = NULL;

	return journal_load(root, &j) >= 0 && j && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "finished"));
}

int apply_plan(struct pkg_ctx *c, const char *profile, const struct plan *pl, const cJSON *previous,
	       struct apply_report *rep)
{
	_cleanup_free_ struct step *steps = NULL;
	_cleanup_(strv_freep) char **labels = NULL;
	struct journal j = {};
	int n, k;

	if ((n = build_steps(c, pl, previous != NULL, &steps, &labels)) < 0)
		return n;
	/* The boot backend's part: reported, not yet done by this version. */
	for (size_t i = 0; i < pl->n; i++) {
		const struct action *a = &pl->actions[i];

		if (streq(a->kind, "reboot") &&
		    strv_pushf(&rep->pending, &rep->n_pending, "reboot into %s: apply does not reboot; reboot when it suits",
			       a->target) < 0)
			return -ENOMEM;
	}
	/* Killed after its last step, a run left its journal open and wrote no state: with
	 * nothing left to do, this run still closes the journal and has the state written. */
	rep->resumed = last_run_interrupted(c->root);
	if (n == 0 && !rep->resumed)
		return 0;
	if ((k = journal_begin(&j, c->root, profile, labels)) < 0) {
		journal_done(&j);
		return report_fail(rep, k, "cannot write %s: %s", JOURNAL_FILE, gp_strerror(k));
	}
	for (int i = 0; i < n; i++) {
		if ((k = do_step(c, pl, previous, &steps[i], rep)) < 0)
			break;
		if ((k = journal_step_done(&j, (size_t)i)) < 0) {
			report_fail(rep, k, "cannot write %s: %s", JOURNAL_FILE, gp_strerror(k));
			break;
		}
	}
	/* Changed: some step did something; a step only reported as pending changed nothing. */
	rep->changed = rep->n_done > 0;
	(void)journal_finish(&j, k < 0 ? rep->error : NULL);
	journal_done(&j);
	return k < 0 ? k : 0;
}
