/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rollback: from the record of the stack before a switch (record.c), the plan that puts it
 * back (the versions, the holds, gpuprov's apt pin files) and its steps, the last making
 * the kernel of before GRUB's saved default; run by the executor (exec.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <time.h>

#include "apply/exec.h"
#include "apply/rollback.h"
#include "boot/grub.h"
#include "util/diff.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/strutil.h"

static int act(struct rollback *rb, const char *kind, const char *target, const char *version,
	       const char *fmt, ...) _printf_(5, 6);
static int act(struct rollback *rb, const char *kind, const char *target, const char *version,
	       const char *fmt, ...)
{
	_cleanup_free_ char *reason = NULL;
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vasprintf(&reason, fmt, ap);
	va_end(ap);
	return k < 0 ? -ENOMEM : plan_add(rb->plan, kind, target, version, rb->via, reason);
}
/* One recorded package, read and checked. */
struct recorded {
	const char *name;
	const char *version; /* NULL: not installed before the switch */
	bool held, kernel;
};

static struct recorded recorded_read(const cJSON *e)
{
	return (struct recorded){ json_str(e, "name"), json_str(e, "version"),
				  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "held")),
				  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "kernel")) };
}
/* The reinstalls, and what becomes of the packages new with the switch. */
static int build_packages(struct rollback *rb, const struct facts *f, const struct repo_view *view,
			  const cJSON *pkgs, const struct rollback_options *o)
{
	/* Held first, then unheld: apt holds a kernel image's parts with it, and a part new with
	 * the switch is unheld after. */
	static const char *const kinds[] = { "install", "remove", "hold", "unhold" };
	const cJSON *e;
	int k;

	/* One pass per kind, so that the actions come in the order they run. */
	for (size_t pass = 0; pass < ELEMENTSOF(kinds); pass++)
		cJSON_ArrayForEach(e, pkgs) {
			struct recorded p = recorded_read(e);
			const char *now = repo_installed_version(view, p.name);
			bool there, reinstall, remove, after;

			there = p.version && repo_installed(view, p.name, p.version) == 1;
			/* The kept kernel's packages stayed where they were (DESIGN rule 6). */
			reinstall = p.version && !there && !p.kernel && !o->kernel_only;
			/* Never the packages of the kernel that runs, whatever the record says. */
			remove = !p.version && now && o->remove_new && !o->kernel_only &&
				 !previous_stack_of_kernel(p.name, now, f->kernels.running);
			/* Installed once rollback is done, at whichever version. */
			after = (there || reinstall || now) && !remove;

			if (pass == 0 && reinstall) {
				k = act(rb, "install", p.name, p.version,
					"installed before the switch; now %s",
					now ? now : "not installed");
				if (k >= 0 && !repo_offered(view, p.name, p.version))
					k = strv_pushf(&rb->unavailable, &rb->n_unavailable,
						       "%s %s", p.name, p.version);
			} else if (pass == 0 && !p.version && now && !remove)
				k = strv_push(&rb->kept, &rb->n_kept, p.name);
			else if (pass == 1 && remove)
				k = act(rb, "remove", p.name, NULL,
					"not installed before the switch (--remove-new)");
			else if (pass == 2 && after && p.held && p.version &&
				 (!there || !repo_held(view, p.name)))
				/* Held again at the version of before, which dnf's locks name (also
				 * with kernel_only: the pins of before, as apt's pins file). */
				k = act(rb, "hold", p.name, p.version, "held before the switch");
			else if (pass == 3 && after && !p.held && repo_held(view, p.name))
				k = act(rb, "unhold", p.name, NULL, "not held before the switch");
			else
				k = 0;
			if (k < 0)
				return -ENOMEM;
		}
	return 0;
}

static int build_files(struct rollback *rb, const struct root *root, const cJSON *files,
		       char **ret_error)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, files) {
		_cleanup_free_ char *now = NULL, *diff = NULL;
		const char *path = json_str(e, "path"), *want = json_str(e, "content");
		int k = root_read_file(root, path, PIN_FILE_MAX, &now, NULL);

		if (k < 0 && k != -ENOENT)
			return gp_error_set(ret_error, k, "%s: %s", path, gp_strerror(k));
		if (streq_ptr(now, want))
			continue;
		if (!(diff = diff_lines(now ? now : "", want ? want : "")) ||
		    act(rb, "file", path, NULL, "%s",
			want ? "gpuprov's pins as they were before the switch"
			     : "there was no such file before the switch") < 0)
			return -ENOMEM;
		rb->plan->actions[rb->plan->n - 1].detail = TAKE_PTR(diff);
		if (want && !(rb->plan->actions[rb->plan->n - 1].content = strdup(want)))
			return -ENOMEM;
	}
	return 0;
}

int rollback_build(const struct root *root, const struct facts *f, const struct repo_view *view,
		   const cJSON *record, const struct rollback_options *o, struct rollback **ret,
		   char **ret_error)
{
	_cleanup_(rollback_freep) struct rollback *rb = calloc(1, sizeof(*rb));
	const char *via = json_str(record, "via"), *kernel = json_str(record, "kernel"),
		   *driver = json_str(record, "driver"), *flavour = json_str(record, "flavour");
	const cJSON *pkgs = cJSON_GetObjectItemCaseSensitive(record, "packages"),
		    *files = cJSON_GetObjectItemCaseSensitive(record, "files");
	int k;

	if (!rb || !(rb->plan = calloc(1, sizeof(*rb->plan))))
		return -ENOMEM;
	if ((k = previous_stack_check(record, ret_error)) < 0)
		return k;
	if (!(rb->via = strdup(via)) || !(rb->kernel = strdup(kernel)) ||
	    (driver && !(rb->branch = strndup(driver, strcspn(driver, ".")))) ||
	    (flavour && !(rb->flavour = strdup(flavour))))
		return -ENOMEM;
	if ((k = build_packages(rb, f, view, pkgs, o)) < 0 ||
	    (k = build_files(rb, root, files, ret_error)) < 0)
		return k;
	*ret = TAKE_PTR(rb);
	return 0;
}

struct rollback *rollback_free(struct rollback *rb)
{
	if (!rb)
		return NULL;
	plan_free(rb->plan);
	strv_free(rb->kept);
	strv_free(rb->unavailable);
	free(rb->via), free(rb->kernel), free(rb->branch), free(rb->flavour);
	free(rb);
	return NULL;
}

int rollback_to_json(const struct rollback *rb, cJSON **ret)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = cJSON_CreateObject();
	cJSON *acts;

	if (!doc || !cJSON_AddStringToObject(doc, "kernel", rb->kernel) ||
	    !(acts = cJSON_AddArrayToObject(doc, "actions")) ||
	    json_add_strv(doc, "kept", rb->kept) < 0 ||
	    json_add_strv(doc, "unavailable", rb->unavailable) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < rb->plan->n; i++) {
		const struct action *a = &rb->plan->actions[i];
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(acts, o) ||
		    !cJSON_AddStringToObject(o, "action", a->kind) ||
		    !cJSON_AddStringToObject(o, "target", a->target) ||
		    (a->version && !cJSON_AddStringToObject(o, "version", a->version)) ||
		    !cJSON_AddStringToObject(o, "via", a->via) ||
		    (a->detail && !cJSON_AddStringToObject(o, "detail", a->detail)) ||
		    !cJSON_AddStringToObject(o, "reason", a->reason))
			return -ENOMEM;
	}
	*ret = TAKE_PTR(doc);
	return 0;
}

int rollback_check(struct pkg_ctx *c, const struct rollback *rb)
{
	const struct pkg_backend *be = pkg_backend_by_name(rb->via);
	struct pkg_want w[rb->plan->n ? rb->plan->n : 1];
	size_t n = exec_collect(rb->plan, "install", rb->via, w);
	int k;

	if (n == 0 || (k = be->preflight(c, w, n)) >= 0)
		return 0;
	return gp_error_refusal(k);
}

/* What the steps are given beside the plan. */
struct rollback_run {
	const char *kernel;
	struct state *state;
	bool kernel_only;
};

/* Last: the kernel of before is GRUB's saved default again, a boot-once entry not yet used
 * cancelled; the next boot enters it. */
static int step_boot(const struct exec *x, _unused_ const struct exec_step *s)
{
	const struct rollback_run *run = x->data;
	_cleanup_free_ char *why = NULL;
	int k = boot_default_set(x->c->facts, x->c->root, run->kernel, true, &why);

	if (k < 0)
		return exec_fail(x->rep, k, "saved default %s: %s", run->kernel, why ? why : gp_strerror(k));
	return strv_pushf(&x->rep->done, &x->rep->n_done, "the saved GRUB default is %s, the kernel from before the switch",
			  run->kernel) < 0
		       ? -ENOMEM
		       : 0;
}

/* The verdict, once every step is done: without a record only the kernel went back. */
static int record_verdict(const struct exec *x)
{
	const struct rollback_run *run = x->data;
	char when[32];
	int k;

	utc_now(when);
	if ((k = state_rolled_back(run->state, when, run->kernel, run->kernel_only)) < 0)
		return k;
	return state_save(x->c->root, run->state);
}

int rollback_steps(const struct rollback *rb, const char *kernel, struct exec_steps *st)
{
	/* One step per kind, in the order build_packages plans them. */
	static const struct {
		const char *kind, *what, *done;
	} packages[] = {
		{ "install", "reinstall the versions of before the switch", "reinstalled" },
		{ "remove", "remove the packages new with the switch", "removed" },
		{ "hold", "hold what was held before the switch", "held" },
		{ "unhold", "unhold what was not held before the switch", "unheld" },
	};

	for (size_t i = 0; rb && i < ELEMENTSOF(packages); i++)
		if (exec_add_packages(st, rb->plan, packages[i].kind, rb->via, packages[i].what, packages[i].done) < 0)
			return -ENOMEM;
	for (size_t i = 0; rb && i < rb->plan->n; i++)
		if (streq(rb->plan->actions[i].kind, "file") &&
		    exec_add(st, &(struct exec_step){ .run = exec_file, .action = i }, "write %s",
			     rb->plan->actions[i].target) < 0)
			return -ENOMEM;
	return exec_add(st, &(struct exec_step){ .run = step_boot }, "saved default %s, boot-once entry cancelled", kernel);
}

int rollback_run(struct pkg_ctx *c, const struct rollback *rb, const char *kernel, struct state *state,
		 bool kernel_only, struct apply_report *rep)
{
	_cleanup_(exec_steps_done) struct exec_steps st = {};
	static const struct plan none = {};
	int k;

	if ((k = rollback_steps(rb, kernel, &st)) < 0)
		return k;
	/* dnf enables the module stream of the driver of before (dnf module(8)). */
	c->branch = rb ? rb->branch : NULL;
	c->flavour = rb ? rb->flavour : NULL;
	return exec_run(&(const struct exec){ .c = c,
					      .pl = rb ? rb->plan : &none,
					      .data = &(struct rollback_run){ kernel, state, kernel_only },
					      .rep = rep },
			"rollback", state->profile, &st, record_verdict);
}
