/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The stack before a switch: recorded by apply in state.json before it changes packages,
 * put back by rollback (the versions, the holds, gpuprov's apt pin files; the caller then
 * makes the kernel of before GRUB's saved default).
 */
#include <errno.h>
#include <stdarg.h>
#include <time.h>

#include "apply/rollback.h"
#include "files/managed.h"
#include "files/render.h"
#include "util/diff.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/strutil.h"

#define PIN_FILE_MAX (1024 * 1024)

/* gpuprov's apt pin files: whole files of its own, put back as they were. dnf's locks live
 * in files other software shares (versionlock.list, dnf.conf): there the holds put back
 * gpuprov's entries, and the rest of the file stays as it is. */
static const char *const apt_pin_files[] = { APT_PINS_FILE, APT_UNATTENDED_FILE, NULL };

static bool plan_installs(const struct plan *pl, const char *via)
{
	for (size_t i = 0; i < pl->n; i++)
		if (streq(pl->actions[i].kind, "install") && streq_ptr(pl->actions[i].via, via))
			return true;
	return false;
}

int previous_stack_picks(const struct resolution *r, cJSON **ret)
{
	_cleanup_(cJSON_Deletep) cJSON *a = cJSON_CreateArray();

	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_picks; i++) {
		_cleanup_free_ char *s = NULL;
		cJSON *item;

		if (asprintf(&s, "%s=%s", r->picks[i].name, r->picks[i].version) < 0 ||
		    !(item = cJSON_CreateString(s)) || !cJSON_AddItemToArray(a, item))
			return -ENOMEM;
	}
	*ret = TAKE_PTR(a);
	return 0;
}

/* One of the running kernel's packages: apt names them after the release
 * (linux-modules-6.8.0-49-generic), dnf gives them its version (kernel-core
 * 5.14.0-362.8.1.el9_3 of 5.14.0-362.8.1.el9_3.x86_64). */
static bool of_kernel(const char *name, const char *version, const char *release)
{
	size_t n;

	if (!release)
		return false;
	if (startswith(name, "linux-")) {
		n = strlen(name) - strlen(release);
		return strlen(name) > strlen(release) + 1 && name[n - 1] == '-' &&
		       streq(name + n, release);
	}
	n = version ? strlen(version) : 0;
	return startswith(name, "kernel") && n > 0 && strncmp(release, version, n) == 0 &&
	       (release[n] == '\0' || release[n] == '.');
}

/* Whether the node settled on the stack a record was made before: the apply of that stack
 * finished (state.json names its packages), and no rollback by hand with --kernel-only
 * left it half way back since. */
static bool settled(const struct state *state, const cJSON *record)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = cJSON_CreateObject();
	const struct state_verdict *v = state->verified;

	/* No stack recorded (reverted, or never finished): not settled. */
	if (!state->kernel || !doc || json_add_strv(doc, "packages", state->packages) < 0 ||
	    !cJSON_Compare(cJSON_GetObjectItemCaseSensitive(doc, "packages"),
			   cJSON_GetObjectItemCaseSensitive(
			       cJSON_GetObjectItemCaseSensitive(record, "switch_to"), "packages"),
			   true))
		return false;
	return !(v && streq(v->result, ROLLED_BACK_BY_HAND) && v->kernel_only);
}

static cJSON *switch_to(const char *profile, const cJSON *picks)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddStringToObject(o, "profile", profile) ||
	    !cJSON_AddItemToObject(o, "packages", cJSON_Duplicate(picks, true))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The names a record covers, sorted, each once (see previous_stack_record). */
static int record_names(const struct facts *f, const struct repo_view *view, const struct plan *pl,
			const char *via, char ***ret)
{
	_cleanup_(strv_freep) char **names = NULL, **out = NULL;
	size_t n = 0, no = 0;

	for (size_t i = 0; i < pl->n; i++) {
		const struct action *a = &pl->actions[i];
		const char *before;

		if (!(streq(a->kind, "install") || streq(a->kind, "hold")) ||
		    !streq_ptr(a->via, via))
			continue;
		if (strv_push(&names, &n, a->target) < 0)
			return -ENOMEM;
		/* One source's binaries share its version and depend on each other at exactly it:
		 * the ones beside a package the plan moves come back with it. */
		before = a->version ? repo_installed_version(view, a->target) : NULL;
		for (size_t j = 0; before && j < view->n_installed; j++)
			if (streq(view->installed[j].version, before) &&
			    strv_push(&names, &n, view->installed[j].name) < 0)
				return -ENOMEM;
	}
	for (size_t j = 0; j < view->n_installed; j++) {
		const struct repo_pkg *p = &view->installed[j];

		if ((p->held || of_kernel(p->name, p->version, f->kernels.running)) &&
		    strv_push(&names, &n, p->name) < 0)
			return -ENOMEM;
	}
	strv_sort(names);
	for (char **s = names; s && *s; s++)
		if ((s == names || !streq(s[-1], *s)) && strv_push(&out, &no, *s) < 0)
			return -ENOMEM;
	*ret = TAKE_PTR(out);
	return 0;
}

/* The version of name the running kernel has installed, or NULL. */
static const char *kernel_version(const struct repo_view *view, const char *name,
				  const char *release)
{
	size_t n, first = repo_find_installed(view, name, &n);

	for (size_t i = first; i < first + n; i++)
		if (of_kernel(name, view->installed[i].version, release))
			return view->installed[i].version;
	return NULL;
}

static int add_packages(cJSON *rec, const struct facts *f, const struct repo_view *view,
			char *const *names)
{
	cJSON *a = cJSON_AddArrayToObject(rec, "packages");

	if (!a)
		return -ENOMEM;
	for (char *const *s = names; s && *s; s++) {
		const char *kv = kernel_version(view, *s, f->kernels.running);
		const char *v = kv ? kv : repo_installed_version(view, *s);
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(a, o) || !cJSON_AddStringToObject(o, "name", *s) ||
		    !(v ? cJSON_AddStringToObject(o, "version", v)
			: cJSON_AddNullToObject(o, "version")) ||
		    !cJSON_AddBoolToObject(o, "held", repo_held(view, *s)) ||
		    !cJSON_AddBoolToObject(o, "kernel", kv != NULL))
			return -ENOMEM;
	}
	return 0;
}

static int add_pin_files(cJSON *rec, const struct root *root, const struct facts *f)
{
	cJSON *a = cJSON_AddArrayToObject(rec, "files");

	if (!a)
		return -ENOMEM;
	for (size_t i = 0; f->os.family == OS_FAMILY_DEBIAN && apt_pin_files[i]; i++) {
		_cleanup_free_ char *text = NULL;
		int k = root_read_file(root, apt_pin_files[i], PIN_FILE_MAX, &text, NULL);
		cJSON *o = cJSON_CreateObject();

		if (k < 0 && k != -ENOENT) {
			cJSON_Delete(o);
			return k;
		}
		if (!o || !cJSON_AddItemToArray(a, o) ||
		    !cJSON_AddStringToObject(o, "path", apt_pin_files[i]) ||
		    !(text ? cJSON_AddStringToObject(o, "content", text)
			   : cJSON_AddNullToObject(o, "content")))
			return -ENOMEM;
	}
	return 0;
}

/* The stack state.json described before the switch, where gpuprov installed it. */
static int add_stack(cJSON *rec, const struct state *state)
{
	bool ours = state && state->kernel;

	if (!json_add_str_or_null(rec, "profile", ours ? state->profile : NULL) ||
	    !json_add_str_or_null(rec, "driver", ours ? state->driver : NULL) ||
	    !json_add_str_or_null(rec, "flavour", ours ? state->flavour : NULL) ||
	    !json_add_str_or_null(rec, "cuda", ours ? state->cuda : NULL))
		return -ENOMEM;
	return 0;
}

int previous_stack_record(const struct root *root, const struct facts *f,
			  const struct repo_view *view, const char *profile,
			  const struct resolution *r, const struct plan *pl, cJSON **ret)
{
	_cleanup_(cJSON_Deletep) cJSON *picks = NULL, *rec = NULL;
	_cleanup_(state_freep) struct state *state = NULL;
	_cleanup_(strv_freep) char **names = NULL;
	const char *via = os_package_manager(f->os.family);
	const cJSON *old;
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	int k;

	*ret = NULL;
	if (!via || !plan_installs(pl, via))
		return 0;
	if ((k = previous_stack_picks(r, &picks)) < 0)
		return k;
	/* No state, or one that does not read: the node as it is now is all there is to go by. */
	k = state_load(root, &state);
	if (k < 0 && k != -ENOENT && k != -GPE_PARSE)
		return k;
	old = state ? state->previous_stack : NULL;
	if (cJSON_IsObject(old)) {
		cJSON *to;

		if (cJSON_Compare(
			cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(old, "switch_to"), "packages"),
			picks, true))
			return 0;
		if (!settled(state, old)) {
			if (!(rec = cJSON_Duplicate(old, true)) ||
			    !(to = switch_to(profile, picks)) ||
			    !cJSON_ReplaceItemInObjectCaseSensitive(rec, "switch_to", to))
				return -ENOMEM;
			*ret = TAKE_PTR(rec);
			return 0;
		}
	}

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	if ((k = record_names(f, view, pl, via, &names)) < 0)
		return k;
	if (!(rec = cJSON_CreateObject()) || !cJSON_AddStringToObject(rec, "recorded", when) ||
	    !cJSON_AddItemToObject(rec, "switch_to", switch_to(profile, picks)) ||
	    !cJSON_AddStringToObject(rec, "kernel", strna(f->kernels.running)) ||
	    add_stack(rec, state) < 0 || !cJSON_AddStringToObject(rec, "via", via) ||
	    add_packages(rec, f, view, names) < 0)
		return -ENOMEM;
	if ((k = add_pin_files(rec, root, f)) < 0)
		return k;
	*ret = TAKE_PTR(rec);
	return 0;
}

int previous_stack_save(const struct root *root, const cJSON *record)
{
	_cleanup_(state_freep) struct state *state = NULL;
	int k = state_load(root, &state);

	/* None, or one that does not read: the record starts a new one. */
	if (k < 0 && k != -ENOENT && k != -GPE_PARSE)
		return k;
	if (!state && !(state = calloc(1, sizeof(*state))))
		return -ENOMEM;
	if ((k = state_recorded(state, record)) < 0)
		return k;
	return state_save(root, state);
}

/* ---- rollback ---------------------------------------------------------------------- */

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

/* A package name or version as apt and dnf write them, and nothing a command line could take
 * for an option: the record goes onto apt's and dnf's argv. */
static bool plain_word(const char *s)
{
	if (!s ||
	    !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
		return false;
	return s[strspn(s,
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+-_~:")] ==
	       '\0';
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

/* A record refused: "state.json: previous_stack.<member>: expected ...". */
static int bad(char **ret_error, const char *fmt, ...) _printf_(2, 3);
static int bad(char **ret_error, const char *fmt, ...)
{
	_cleanup_free_ char *what = NULL;
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vasprintf(&what, fmt, ap);
	va_end(ap);
	if (k < 0)
		return -ENOMEM;
	return gp_error_set(ret_error, -GPE_PARSE, STATE_FILE ": " PREVIOUS_STACK ".%s", what);
}

int previous_stack_check(const cJSON *record, char **ret_error)
{
	const char *via = json_str(record, "via");
	const cJSON *pkgs = cJSON_GetObjectItemCaseSensitive(record, "packages"),
		    *files = cJSON_GetObjectItemCaseSensitive(record, "files"), *e;
	int i = 0;

	if (!json_str(record, "kernel"))
		return bad(ret_error,
			   "kernel: expected the kernel release that ran before the switch");
	if (!via || !(streq(via, "apt") || streq(via, "dnf")))
		return bad(ret_error, "via: expected the package backend, \"apt\" or \"dnf\"");
	if (!cJSON_IsArray(pkgs))
		return bad(ret_error, "packages: expected a list");
	if (files && !cJSON_IsArray(files))
		return bad(ret_error, "files: expected a list");
	cJSON_ArrayForEach(e, pkgs) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "version");

		if (!plain_word(json_str(e, "name")))
			return bad(ret_error, "packages[%d].name: expected a package name", i);
		if (cJSON_IsString(v) ? !plain_word(v->valuestring) : !cJSON_IsNull(v))
			return bad(ret_error,
				   "packages[%d].version: expected a version, or null for none", i);
		i++;
	}
	i = 0;
	cJSON_ArrayForEach(e, files) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "content");

		/* Only gpuprov's own pin files: a record is no way to write anywhere else. */
		if (!json_str(e, "path") ||
		    !strv_contains((char *const *)apt_pin_files, json_str(e, "path")))
			return bad(ret_error, "files[%d].path: expected one of gpuprov's pin files",
				   i);
		if (!cJSON_IsString(c) && !cJSON_IsNull(c))
			return bad(ret_error,
				   "files[%d].content: expected a text, or null for none", i);
		i++;
	}
	return 0;
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
				 !of_kernel(p.name, now, f->kernels.running);
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

/* The wants of one kind of action, in order. */
static size_t collect(const struct rollback *rb, const char *kind, struct pkg_want *w)
{
	size_t n = 0;

	for (size_t i = 0; i < rb->plan->n; i++)
		if (streq(rb->plan->actions[i].kind, kind))
			w[n++] = (struct pkg_want){ rb->plan->actions[i].target,
						    rb->plan->actions[i].version };
	return n;
}

int rollback_check(struct pkg_ctx *c, const struct rollback *rb)
{
	const struct pkg_backend *be = pkg_backend_by_name(rb->via);
	struct pkg_want w[rb->plan->n ? rb->plan->n : 1];
	size_t n = collect(rb, "install", w);
	int k;

	if (n == 0 || (k = be->preflight(c, w, n)) >= 0)
		return 0;
	return k == -ENOMEM || k == -GPE_UNAVAILABLE ? k : -GPE_REFUSED;
}

/* The steps: each kind of package action in one call to the backend, then each file. */
struct step {
	const char *kind;
	size_t action; /* "file": the action */
};

static const char *const package_kinds[] = { "install", "remove", "hold", "unhold" };

static size_t steps(const struct rollback *rb, struct step *st)
{
	struct pkg_want w[rb->plan->n ? rb->plan->n : 1];
	size_t n = 0;

	for (size_t i = 0; i < ELEMENTSOF(package_kinds); i++)
		if (collect(rb, package_kinds[i], w) > 0)
			st[n++] = (struct step){ package_kinds[i], 0 };
	for (size_t i = 0; i < rb->plan->n; i++)
		if (streq(rb->plan->actions[i].kind, "file"))
			st[n++] = (struct step){ "file", i };
	return n;
}

static const char *step_label(const char *kind)
{
	return streq(kind, "install")  ? "reinstall the versions of before the switch"
	       : streq(kind, "remove") ? "remove the packages new with the switch"
	       : streq(kind, "unhold") ? "unhold what was not held before the switch"
				       : "hold what was held before the switch";
}

int rollback_steps(const struct rollback *rb, char ***ret_labels)
{
	_cleanup_(strv_freep) char **labels = NULL;
	struct step st[rb->plan->n + ELEMENTSOF(package_kinds) + 1];
	size_t n = steps(rb, st), nl = 0;

	for (size_t i = 0; i < n; i++)
		if ((streq(st[i].kind, "file") ? strv_pushf(&labels, &nl, "write %s",
							    rb->plan->actions[st[i].action].target)
					       : strv_pushf(&labels, &nl, "%s (%s)",
							    step_label(st[i].kind), rb->via)) < 0)
			return -ENOMEM;
	*ret_labels = TAKE_PTR(labels);
	return (int)n;
}

static int do_packages(struct pkg_ctx *c, const struct rollback *rb, const char *kind,
		       struct apply_report *rep)
{
	static const char *const done[] = { "reinstalled", "removed", "held", "unheld" };
	const struct pkg_backend *be = pkg_backend_by_name(rb->via);
	struct pkg_want w[rb->plan->n ? rb->plan->n : 1];
	size_t n = collect(rb, kind, w), d = 0;
	int k;

	while (!streq(package_kinds[d], kind))
		d++;
	k = streq(kind, "install")  ? be->install(c, w, n)
	    : streq(kind, "remove") ? be->remove(c, w, n)
	    : streq(kind, "unhold") ? be->unhold(c, w, n)
				    : be->hold(c, w, n);
	if (k < 0)
		return gp_error_set(&rep->error, k, "%s (%s): %s", step_label(kind), be->name,
				    c->error ? c->error : gp_strerror(k));
	for (size_t i = 0; i < n; i++)
		if (strv_pushf(&rep->done, &rep->n_done, "%s %s%s%s (%s)", done[d], w[i].name,
			       w[i].version ? " " : "", w[i].version ? w[i].version : "",
			       be->name) < 0)
			return -ENOMEM;
	return 0;
}

int rollback_run(struct pkg_ctx *c, const struct rollback *rb, struct journal *j,
		 struct apply_report *rep)
{
	struct step st[rb->plan->n + ELEMENTSOF(package_kinds) + 1];
	size_t n = steps(rb, st);
	int k = 0;

	/* dnf enables the module stream of the driver of before (FACTS 7). */
	c->branch = rb->branch;
	c->flavour = rb->flavour;
	for (size_t i = 0; i < n; i++) {
		const struct action *a = &rb->plan->actions[st[i].action];

		if (!streq(st[i].kind, "file"))
			k = do_packages(c, rb, st[i].kind, rep);
		else if ((k = managed_write(c->root, a->target, a->content,
					    a->content ? strlen(a->content) : 0, 0644)) < 0)
			gp_error_set(&rep->error, k, "cannot write %s: %s", a->target,
				     gp_strerror(k));
		else
			k = strv_pushf(&rep->done, &rep->n_done, "%s %s",
				       a->content ? "wrote" : "removed", a->target) < 0
				? -ENOMEM
				: 0;
		if (k < 0)
			break;
		if ((k = journal_step_done(j, i)) < 0) {
			gp_error_set(&rep->error, k, "cannot write %s: %s", JOURNAL_FILE,
				     gp_strerror(k));
			break;
		}
	}
	rep->changed = rep->n_done > 0;
	return k < 0 ? k : 0;
}
