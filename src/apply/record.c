/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The stack before a switch, as apply records it in state.json before it changes packages
 * (previous_stack), and the check of a record before rollback builds on it (rollback.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <time.h>

#include "apply/rollback.h"
#include "files/render.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/strutil.h"

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
bool previous_stack_of_kernel(const char *name, const char *version, const char *release)
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

		if ((p->held || previous_stack_of_kernel(p->name, p->version, f->kernels.running)) &&
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
		if (previous_stack_of_kernel(name, view->installed[i].version, release))
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

	utc_now(when);
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
