/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Carries out a plan through the three doors: package backends, managed files, boot. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/file.h>

#include "apply/apply.h"
#include "apply/cdi-generate.h"
#include "apply/exec.h"
#include "apply/gpu-state.h"
#include "apply/journal.h"
#include "apply/maintenance.h"
#include "apply/state.h"
#include "apply/rollback.h"
#include "boot/grub.h"
#include "files/managed.h"
#include "host/cdi.h"
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
		size_t n = exec_collect(pl, "install", backend_order[b], w);
		int k;

		if (n > 0 && (k = be->preflight(c, w, n)) < 0) {
			k = gp_error_refusal(k);
			return exec_fail(rep, k, "check (%s): %s", be->name, c->error ? c->error : gp_strerror(k));
		}
	}
	/* Every file can be written: a read-only /etc found now, not half way. */
	for (size_t i = 0; i < pl->n; i++) {
		const char *path = pl->actions[i].target;
		int k;

		if (!streq(pl->actions[i].kind, "file") || (k = root_writable(c->root, path)) > 0)
			continue;
		return exec_fail(rep, -GPE_REFUSED, "%s cannot be written: %s", path,
				   k == 0		? "its filesystem is mounted read-only"
				   : k == -ENOTDIR ? "a directory on its path is a file, or a link that leads nowhere in the root"
						   : gp_strerror(k));
	}
	return 0;
}

static int run_step(const struct exec *x, unsigned flags, char *const argv[], const char *done)
{
	int k = pkg_run(x->c, flags, argv, NULL, NULL);

	if (k < 0)
		return exec_fail(x->rep, k, "%s", x->c->error ? x->c->error : gp_strerror(k));
	return strv_push(&x->rep->done, &x->rep->n_done, done) < 0 ? -ENOMEM : 0;
}

/* A command of gpuprov's own (initramfs, bootloader) run in the target. */
static int tool(const struct exec *x, const struct action *a, const char *done)
{
	_cleanup_(strv_freep) char **argv = NULL;
	_cleanup_free_ char *copy = strdup(a->target);
	struct pkg_ctx *c = x->c;
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
		return strv_pushf(&x->rep->pending, &x->rep->n_pending, "%s: %s is not installed in %s; run `%s` there",
				  a->kind, argv ? argv[0] : a->target, c->root->path, a->target) < 0 ? -ENOMEM : 0;
	return run_step(x, SPAWN_IN_ROOT, argv, done);
}

static int step_initramfs(const struct exec *x, const struct exec_step *s)
{
	return tool(x, &x->pl->actions[s->action], "regenerated the initramfs");
}

static int step_bootloader(const struct exec *x, const struct exec_step *s)
{
	return tool(x, &x->pl->actions[s->action], "regenerated GRUB's configuration");
}

/*
 * The switch (DESIGN rule 6): before any package, the known-good kernel becomes the saved
 * default; last, the new one is entered once through next_entry, which GRUB clears as it
 * boots it, or, where GRUB cannot write its own block, through gpuprov's block on the ESP,
 * which /etc/grub.d/01_gpuprov makes GRUB clear the same way. A panic there (panic=N) or any
 * later boot comes back to the saved default until verify commits the new one.
 */
static int boot_set(const struct exec *x, const struct action *a, bool once)
{
	_cleanup_free_ char *why = NULL, *file = NULL;
	const char *release = once ? a->target : a->detail, *var = NULL;
	struct pkg_ctx *c = x->c;
	struct apply_report *rep = x->rep;
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
		return exec_fail(rep, k, "%s %s: %s", once ? "boot-once" : "saved default", release, why ? why : gp_strerror(k));
	if (!once)
		return strv_pushf(&rep->done, &rep->n_done, "the saved GRUB default is %s, the known-good kernel", release) < 0 ? -ENOMEM : 0;
	if ((k = boot_once_where(c->facts, &var, &file)) < 0)
		return k;
	return strv_pushf(&rep->done, &rep->n_done, "next boot enters %s once (%s in %s)", release, var, file) < 0 ? -ENOMEM : 0;
}

static int step_boot_default(const struct exec *x, const struct exec_step *s)
{
	return boot_set(x, &x->pl->actions[s->action], false);
}

static int step_boot_once(const struct exec *x, const struct exec_step *s)
{
	return boot_set(x, &x->pl->actions[s->action], true);
}

/* BLS entries (RHEL 9): grubby changes every kernel's entry, the known-good one included,
 * so that falling back keeps the settings. */
static int step_cmdline(const struct exec *x, const struct exec_step *s)
{
	const struct action *a = &x->pl->actions[s->action];
	_cleanup_free_ char *opt = NULL, *done = NULL;
	bool add = streq(a->target, "add");

	if (asprintf(&opt, "%s=%s", add ? "--args" : "--remove-args", a->detail) < 0 ||
	    asprintf(&done, "%s kernel argument %s (every BLS entry)", add ? "added" : "removed", a->detail) < 0)
		return -ENOMEM;
	if (!spawn_have(x->c->root, "grubby"))
		return strv_pushf(&x->rep->pending, &x->rep->n_pending, "cmdline %s %s: grubby is not installed in %s",
				  a->target, a->detail, x->c->root->path) < 0 ? -ENOMEM : 0;
	char *argv[] = { "grubby", "--update-kernel=ALL", opt, NULL };
	return run_step(x, SPAWN_IN_ROOT, argv, done);
}

/* systemctl enable: inside the target with --root, which needs no running systemd there. */
static int step_service(const struct exec *x, const struct exec_step *s)
{
	const struct action *a = &x->pl->actions[s->action];
	_cleanup_free_ char *rootopt = NULL, *done = NULL;
	const char *how = a->detail ? a->detail : "enable";
	bool top = streq(x->c->root->path, "/");

	if (asprintf(&rootopt, "--root=%s", x->c->root->path) < 0 || asprintf(&done, "%sd %s", how, a->target) < 0)
		return -ENOMEM;
	char *argv[] = { "systemctl", top ? (char *)how : rootopt, top ? a->target : (char *)how,
			 top ? NULL : a->target, NULL };
	return run_step(x, 0, argv, done);
}

/* A container runtime reads its drop-ins again: systemctl try-restart, which leaves a
 * runtime that is not running stopped. A target root's runtime is not running here: it
 * reads them when it starts. */
static int step_restart(const struct exec *x, const struct exec_step *s)
{
	const struct action *a = &x->pl->actions[s->action];
	_cleanup_free_ char *done = NULL;

	if (!streq(x->c->root->path, "/"))
		return strv_pushf(&x->rep->pending, &x->rep->n_pending,
				  "restart %s: not running from %s here; it reads its new configuration when it starts",
				  a->target, x->c->root->path) < 0 ? -ENOMEM : 0;
	if (asprintf(&done, "restarted %s (if it was running)", a->target) < 0)
		return -ENOMEM;
	char *argv[] = { "systemctl", "try-restart", a->target, NULL };
	return run_step(x, 0, argv, done);
}

/* The GPUs' CDI spec made anew by nvidia-ctk, or left to the boot unit when the driver that
 * will run has not loaded yet (the action's detail says "at boot"). */
static int step_cdi(const struct exec *x, const struct exec_step *s)
{
	const struct action *a = &x->pl->actions[s->action];
	_cleanup_(strv_freep) char **problems = NULL;
	_cleanup_free_ char *dir = NULL, *why = NULL, *text = NULL;
	int k;

	if (a->detail)
		return strv_pushf(&x->rep->pending, &x->rep->n_pending,
				  "cdi %s: made at the next boot by gpuprov-cdi.service, once the stack's driver has loaded",
				  a->target) < 0 ? -ENOMEM : 0;
	if (!(dir = strndup(a->target, (size_t)(strrchr(a->target, '/') - a->target))))
		return -ENOMEM;
	if ((k = cdi_generate(x->c->root, dir, &why)) < 0)
		return exec_fail(x->rep, k, "cdi %s: %s", a->target, why ? why : gp_strerror(k));
	/* Made by nvidia-ctk from what it sees: still wrong, it is the node's to fix, not apply's. */
	if ((k = cdi_spec_audit(x->c->root, x->c->root, dir, x->c->facts->nvidia.driver_version, &problems, NULL)) < 0)
		return k;
	if (k > 0) {
		if (!(text = strv_join(problems, "; ")))
			return -ENOMEM;
		return strv_pushf(&x->rep->pending, &x->rep->n_pending, "cdi %s: nvidia-ctk made it, and it is still stale: %s",
				  a->target, text) < 0 ? -ENOMEM : 0;
	}
	return strv_pushf(&x->rep->done, &x->rep->n_done, "made the CDI spec %s (nvidia-ctk cdi generate)", a->target) < 0
		       ? -ENOMEM
		       : 0;
}

/* The GPUs' declared state set now through NVML, or left to gpuprov-gpu.service: at the boot
 * the plan waits for, and always under --root, whose GPUs are not this machine's. */
static int step_gpu(const struct exec *x, const struct exec_step *s)
{
	const struct action *a = &x->pl->actions[s->action];
	const cJSON *decl = cJSON_GetObjectItemCaseSensitive(x->c->profile->doc, "gpu");
	_cleanup_free_ char *why = NULL;
	struct gpu_apply_report rep = {};
	int k;

	if (streq_ptr(a->detail, "at boot") || !streq(x->c->root->path, "/"))
		return strv_pushf(&x->rep->pending, &x->rep->n_pending,
				  "gpu: the GPUs' declared state is set at the next boot by gpuprov-gpu.service") < 0 ? -ENOMEM : 0;
	if ((k = gpu_state_apply(x->c->root, decl, &rep, &why)) < 0)
		return exec_fail(x->rep, k, "gpu: %s", why ? why : gp_strerror(k));
	k = strv_extend(&x->rep->done, rep.done) < 0 || strv_extend(&x->rep->pending, rep.pending) < 0 ? -ENOMEM : 0;
	x->rep->n_done = strv_length(x->rep->done), x->rep->n_pending = strv_length(x->rep->pending);
	/* A GPU that refuses a setting is the node's to fix, not a reason to undo the stack. */
	for (size_t i = 0; k >= 0 && i < rep.n_failed; i++)
		k = strv_pushf(&x->rep->pending, &x->rep->n_pending, "gpu: not set: %s", rep.failed[i]);
	gpu_apply_report_done(&rep);
	return k;
}

static int step_sysctl(const struct exec *x, _unused_ const struct exec_step *s)
{
	char *argv[] = { "sysctl", "--system", NULL };

	return run_step(x, 0, argv, "applied the sysctl settings");
}

/* Everything that can refuse, before anything changes (DESIGN rule 5). */
static int step_check(const struct exec *x, _unused_ const struct exec_step *s)
{
	return check_all(x->c, x->pl, x->rep);
}

/*
 * The node leaves its scheduler once every check has passed and before the first change
 * (maintenance.h); its record goes to state.json now, so that a run that fails later still
 * says the node is drained and whose drain it is. A refusal (a pre hook that fails, a drain
 * that does not end in time) changed nothing: gpuprov's drain is undone first.
 */
static int step_maintenance(const struct exec *x, const struct exec_step *s)
{
	const struct action *a = &x->pl->actions[s->action];
	_cleanup_(maint_config_done) struct maint_config cfg = {};
	_cleanup_(state_freep) struct state *state = NULL;
	_cleanup_free_ char *node = NULL;
	struct maint_outcome out = {};
	int k;

	/* The node planned (its name in the target); for hooks only, the root's name for it. */
	if (maint_plan_node(a->target))
		node = strdup(maint_plan_node(a->target));
	else if (maint_node(x->c->profile, x->c->root, NULL, &node) < 0)
		node = strdup("");
	if (!node || (k = maint_config_from_profile(x->c->profile, node, &cfg)) < 0)
		return -ENOMEM;
	k = state_load(x->c->root, &state);
	/* None, or one that does not read: the record starts a new one, as previous_stack does. */
	if (k == -ENOENT || k == -GPE_PARSE)
		state = calloc(1, sizeof(*state));
	else if (k < 0)
		return exec_fail(x->rep, k, "cannot read %s: %s", STATE_FILE, gp_strerror(k));
	if (!state)
		return -ENOMEM;
	k = maint_enter(x->c->root, &cfg, &state->maintenance, &out);
	for (size_t i = 0; k >= 0 && i < out.n; i++)
		if (strv_push(&x->rep->done, &x->rep->n_done, out.lines[i]) < 0)
			k = -ENOMEM;
	if (k >= 0 && (k = state_save(x->c->root, state)) < 0)
		k = exec_fail(x->rep, k, "cannot write %s: %s", STATE_FILE, gp_strerror(k));
	else if (k < 0 && k != -ENOMEM)
		k = exec_fail(x->rep, k == -GPE_REFUSED ? k : -GPE_REFUSED, "maintenance: %s", strna(out.error));
	maint_outcome_done(&out);
	return k;
}

/* What rollback goes back to, once nothing can refuse and before anything changes. */
static int step_record(const struct exec *x, _unused_ const struct exec_step *s)
{
	int k = previous_stack_save(x->c->root, x->data);

	return k < 0 ? exec_fail(x->rep, k, "cannot write %s: %s", STATE_FILE, gp_strerror(k)) : 0;
}

static int step_keep(const struct exec *x, const struct exec_step *s)
{
	const struct action *a = &x->pl->actions[s->action];
	const struct pkg_backend *be = pkg_backend_by_name(a->via);
	int k;

	if (!be)
		return 0;
	if ((k = be->keep_kernel(x->c, a->target)) < 0)
		return exec_fail(x->rep, k, "keeping kernel %s: %s", a->target, x->c->error ? x->c->error : gp_strerror(k));
	return strv_pushf(&x->rep->done, &x->rep->n_done, "kept kernel %s (%s)", a->target, be->name) < 0 ? -ENOMEM : 0;
}

static bool plan_has(const struct plan *pl, const char *kind)
{
	for (size_t i = 0; i < pl->n; i++)
		if (streq(pl->actions[i].kind, kind))
			return true;
	return false;
}

static bool is_grub_file(const struct action *a)
{
	return streq(a->kind, "file") && managed_feeds_grub(a->target);
}

/* A step for each action of kind that which says of itself (NULL: any), labelled
 * "<label> <target>". */
static int add_each(struct exec_steps *st, const struct plan *pl, const char *kind, bool (*which)(const struct action *),
		    bool want, int (*run)(const struct exec *, const struct exec_step *), const char *label)
{
	for (size_t i = 0; i < pl->n; i++) {
		const struct action *a = &pl->actions[i];

		if (streq(a->kind, kind) && (!which || which(a) == want) &&
		    exec_add(st, &(struct exec_step){ .run = run, .action = i }, "%s %s", label, a->target) < 0)
			return -ENOMEM;
	}
	return 0;
}

/*
 * The steps in the order they run. GRUB first, before any package: a new kernel's install
 * regenerates GRUB's menu, and by then GRUB_DEFAULT=saved and the known-good saved_entry
 * must be in place, or a run stopped there would leave the new kernel the default (DESIGN
 * rule 6). Then the packages, the kept kernel, the holds, the other files, sysctl, the
 * initramfs, the BLS arguments, the services, and last the boot-once entry. Labels go to
 * the journal.
 */
static int build_steps(const struct pkg_ctx *c, const struct plan *pl, bool record, struct exec_steps *st)
{
	bool sysctl = false;

	if ((plan_has(pl, "install") || plan_has(pl, "file")) &&
	    exec_add(st, &(struct exec_step){ .run = step_check },
		     "check that every package and runfile is there and every file can be written") < 0)
		return -ENOMEM;
	if (add_each(st, pl, "maintenance", NULL, true, step_maintenance, "maintenance") < 0)
		return -ENOMEM;
	if (record && exec_add(st, &(struct exec_step){ .run = step_record },
			       "record the stack before the switch (state.json " PREVIOUS_STACK ")") < 0)
		return -ENOMEM;
	if (add_each(st, pl, "file", is_grub_file, true, exec_file, "write") < 0 ||
	    add_each(st, pl, "bootloader", NULL, true, step_bootloader, "bootloader") < 0)
		return -ENOMEM;
	for (size_t i = 0; i < pl->n; i++)
		if (streq(pl->actions[i].kind, "boot-once") &&
		    exec_add(st, &(struct exec_step){ .run = step_boot_default, .action = i }, "saved default %s",
			     pl->actions[i].detail) < 0)
			return -ENOMEM;
	for (size_t b = 0; b < ELEMENTSOF(backend_order); b++)
		if (exec_add_packages(st, pl, "install", backend_order[b], "install", "installed") < 0)
			return -ENOMEM;
	if (add_each(st, pl, "keep-kernel", NULL, true, step_keep, "keep kernel") < 0)
		return -ENOMEM;
	for (size_t b = 0; b < ELEMENTSOF(backend_order); b++)
		if (exec_add_packages(st, pl, "hold", backend_order[b], "hold", "held") < 0)
			return -ENOMEM;
	if (add_each(st, pl, "file", is_grub_file, false, exec_file, "write") < 0)
		return -ENOMEM;
	for (size_t i = 0; i < pl->n; i++)
		sysctl |= streq(pl->actions[i].kind, "file") && startswith(pl->actions[i].target, "/etc/sysctl.d/");
	/* On the running system the new values take effect now; a target root gets them at boot. */
	if (sysctl && streq(c->root->path, "/") && exec_add(st, &(struct exec_step){ .run = step_sysctl }, "sysctl --system") < 0)
		return -ENOMEM;
	/* Once the toolkit is installed and its environment file written; before the runtimes restart. */
	/* The GPUs' state before the CDI spec, which names the MIG devices it makes. */
	if (add_each(st, pl, "gpu", NULL, true, step_gpu, "gpu") < 0 || add_each(st, pl, "cdi", NULL, true, step_cdi, "cdi") < 0)
		return -ENOMEM;
	for (size_t i = 0; i < pl->n; i++) {
		const struct action *a = &pl->actions[i];
		int (*run)(const struct exec *, const struct exec_step *) = streq(a->kind, "service")	? step_service
									     : streq(a->kind, "restart")   ? step_restart
									     : streq(a->kind, "initramfs") ? step_initramfs
									     : streq(a->kind, "cmdline")   ? step_cmdline
													   : NULL;

		if (run && exec_add(st, &(struct exec_step){ .run = run, .action = i }, "%s %s%s%s", a->kind, a->target,
				    run == step_cmdline ? " " : "", run == step_cmdline ? a->detail : "") < 0)
			return -ENOMEM;
	}
	/* Again, now that the packages are in: a kernel's install may make itself the default
	 * (RHEL's UPDATEDEFAULT=yes), and only verify may do that. */
	for (size_t i = 0; i < pl->n; i++)
		if (streq(pl->actions[i].kind, "boot-once") &&
		    (exec_add(st, &(struct exec_step){ .run = step_boot_default, .action = i }, "saved default %s, after the packages",
			      pl->actions[i].detail) < 0 ||
		     exec_add(st, &(struct exec_step){ .run = step_boot_once, .action = i }, "boot-once %s",
			      pl->actions[i].target) < 0))
			return -ENOMEM;
	return 0;
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
	_cleanup_(exec_steps_done) struct exec_steps st = {};
	int k;

	if ((k = build_steps(c, pl, previous != NULL, &st)) < 0)
		return k;
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
	if (st.n == 0 && !rep->resumed)
		return 0;
	return exec_run(&(const struct exec){ .c = c, .pl = pl, .data = previous, .rep = rep }, "apply", profile, &st, NULL);
}
