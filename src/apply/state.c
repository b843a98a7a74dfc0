/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.json: the one place that reads and writes it, and what each verb makes of it. */
#include <errno.h>
#include <stdlib.h>

#include "apply/state.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/write.h"

/* A state is a few kilobytes; the limit only keeps a damaged file from filling memory. */
#define STATE_MAX (4 * 1024 * 1024)

/* The members this version reads, in the order it writes them; any other member is kept in
 * unknown. */
static const char *const known[] = {
	"profile",	   "applied",	"kernel",      "previous_kernel", "driver",	    "cuda",
	"source",	   "flavour",	"rdma",	       "modules",	  "verify_reboot", "reboot_required",
	"packages",	   PREVIOUS_STACK, "failed_kernels", "boot_id",	  "boot_once",	    "verified",
	"reverted",	   "maintenance",	"cdi_dir", "health", "gpu", NULL,
};

static void failed_kernel_done(struct state_failed_kernel *e)
{
	free(e->kernel);
	free(e->at);
	strv_free(e->failed);
}

static struct state_verdict *verdict_free(struct state_verdict *v)
{
	if (!v)
		return NULL;
	free(v->result);
	free(v->at);
	strv_free(v->failed);
	cJSON_Delete(v->checks);
	free(v->kernel);
	free(v);
	return NULL;
}

static void failed_kernels_clear(struct state *s)
{
	for (size_t i = 0; i < s->n_failed_kernels; i++)
		failed_kernel_done(&s->failed_kernels[i]);
	s->failed_kernels = mfree(s->failed_kernels);
	s->n_failed_kernels = 0;
}

/* Everything of a state but the struct itself. */
static void state_clear(struct state *s)
{
	char **strings[] = { &s->profile, &s->applied, &s->kernel, &s->previous_kernel, &s->driver, &s->cuda,
			     &s->source, &s->flavour, &s->boot_id, &s->boot_once_via, &s->boot_once_variable,
			     &s->boot_once_file, &s->cdi_dir };

	for (size_t i = 0; i < ELEMENTSOF(strings); i++)
		*strings[i] = mfree(*strings[i]);
	s->modules_absent = strv_free(s->modules_absent);
	s->modules_loaded = strv_free(s->modules_loaded);
	s->packages = strv_free(s->packages);
	cJSON_Delete(s->previous_stack);
	cJSON_Delete(s->unknown);
	cJSON_Delete(s->maintenance);
	cJSON_Delete(s->health);
	cJSON_Delete(s->gpu);
	failed_kernels_clear(s);
	verdict_free(s->verified);
	*s = (struct state){};
}

struct state *state_free(struct state *s)
{
	if (!s)
		return NULL;
	state_clear(s);
	free(s);
	return NULL;
}

/* ---- reading --------------------------------------------------------------------- */

/* A copy of a string member; 0 and NULL when it is absent or no string. */
static int read_str(const cJSON *o, const char *key, char **ret)
{
	const char *v = json_str(o, key);

	*ret = NULL;
	return !v || (*ret = strdup(v)) ? 0 : -ENOMEM;
}

/* The strings of a list member; the members that are no strings are left out. */
static int read_strv(const cJSON *o, const char *key, char ***ret)
{
	_cleanup_(strv_freep) char **v = NULL;
	const cJSON *e;
	size_t n = 0;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, key))
		if (cJSON_IsString(e) && strv_push(&v, &n, e->valuestring) < 0)
			return -ENOMEM;
	*ret = TAKE_PTR(v);
	return 0;
}

/* failed_kernels: the entries that name a kernel (by hand, anything may be there). */
static int read_failed_kernels(struct state *s, const cJSON *list)
{
	const cJSON *e;

	if (!cJSON_IsArray(list))
		return 0;
	s->failed_kernels = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(*s->failed_kernels));
	if (!s->failed_kernels)
		return -ENOMEM;
	cJSON_ArrayForEach(e, list) {
		struct state_failed_kernel *f = &s->failed_kernels[s->n_failed_kernels];

		if (!json_str(e, "kernel"))
			continue;
		s->n_failed_kernels++;
		if (read_str(e, "kernel", &f->kernel) < 0 || read_str(e, "at", &f->at) < 0 ||
		    read_strv(e, "failed", &f->failed) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* A verdict of a gpuprov before the checks were recorded has none: checks stays NULL. */
static int read_verdict(struct state *s, const cJSON *o)
{
	const cJSON *checks = cJSON_GetObjectItemCaseSensitive(o, "checks");

	if (!cJSON_IsObject(o) || !json_str(o, "result"))
		return 0;
	if (!(s->verified = calloc(1, sizeof(*s->verified))))
		return -ENOMEM;
	s->verified->kernel_only = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "kernel_only"));
	return read_str(o, "result", &s->verified->result) < 0 || read_str(o, "at", &s->verified->at) < 0 ||
			       read_strv(o, "failed", &s->verified->failed) < 0 ||
			       read_str(o, "kernel", &s->verified->kernel) < 0 ||
			       (cJSON_IsArray(checks) && !(s->verified->checks = cJSON_Duplicate(checks, true)))
		       ? -ENOMEM
		       : 0;
}

static int read_unknown(struct state *s, const cJSON *doc)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, doc) {
		cJSON *copy;

		if (strv_contains((char *const *)known, e->string) ||
		    cJSON_GetObjectItemCaseSensitive(s->unknown, e->string))
			continue;
		if ((!s->unknown && !(s->unknown = cJSON_CreateObject())) || !(copy = cJSON_Duplicate(e, true)) ||
		    !cJSON_AddItemToObject(s->unknown, e->string, copy))
			return -ENOMEM;
	}
	return 0;
}

int state_from_json(const cJSON *doc, struct state **ret)
{
	_cleanup_(state_freep) struct state *s = calloc(1, sizeof(*s));
	const cJSON *modules = cJSON_GetObjectItemCaseSensitive(doc, "modules"),
		    *once = cJSON_GetObjectItemCaseSensitive(doc, "boot_once"),
		    *record = cJSON_GetObjectItemCaseSensitive(doc, PREVIOUS_STACK),
		    *maint = cJSON_GetObjectItemCaseSensitive(doc, "maintenance"),
		    *health = cJSON_GetObjectItemCaseSensitive(doc, "health"),
		    *gpu = cJSON_GetObjectItemCaseSensitive(doc, "gpu");
	struct {
		const char *key;
		char **field;
	} strings[] = {
		{ "profile", &s->profile }, { "applied", &s->applied }, { "kernel", &s->kernel },
		{ "previous_kernel", &s->previous_kernel }, { "driver", &s->driver }, { "cuda", &s->cuda },
		{ "source", &s->source }, { "flavour", &s->flavour }, { "boot_id", &s->boot_id },
		{ "cdi_dir", &s->cdi_dir },
	};

	if (!cJSON_IsObject(doc))
		return -GPE_PARSE;
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(strings); i++)
		if (read_str(doc, strings[i].key, strings[i].field) < 0)
			return -ENOMEM;
	s->rdma = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "rdma"));
	/* verify --commit reboots after a failure unless the profile said no; a state without
	 * a stack has nothing to verify */
	s->verify_reboot = s->kernel && !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(doc, "verify_reboot"));
	s->reboot_required = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "reboot_required"));
	s->reverted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "reverted"));
	if (read_strv(modules, "absent", &s->modules_absent) < 0 || read_strv(modules, "loaded", &s->modules_loaded) < 0 ||
	    read_strv(doc, "packages", &s->packages) < 0 || read_str(once, "via", &s->boot_once_via) < 0 ||
	    read_str(once, "variable", &s->boot_once_variable) < 0 || read_str(once, "file", &s->boot_once_file) < 0 ||
	    (record && !(s->previous_stack = cJSON_Duplicate(record, true))) ||
	    (cJSON_IsObject(maint) && !(s->maintenance = cJSON_Duplicate(maint, true))) ||
	    (cJSON_IsObject(health) && !(s->health = cJSON_Duplicate(health, true))) ||
	    (cJSON_IsObject(gpu) && !(s->gpu = cJSON_Duplicate(gpu, true))) ||
	    read_failed_kernels(s, cJSON_GetObjectItemCaseSensitive(doc, "failed_kernels")) < 0 ||
	    read_verdict(s, cJSON_GetObjectItemCaseSensitive(doc, "verified")) < 0 || read_unknown(s, doc) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(s);
	return 0;
}

int state_load(const struct root *root, struct state **ret)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	_cleanup_free_ char *text = NULL;
	int k = root_read_file(root, STATE_FILE, STATE_MAX, &text, NULL);

	if (k < 0)
		return k;
	doc = cJSON_Parse(text);
	return state_from_json(doc, ret);
}

/* ---- writing --------------------------------------------------------------------- */

static int add_failed_kernels(cJSON *doc, const struct state *s)
{
	cJSON *list = cJSON_AddArrayToObject(doc, "failed_kernels");

	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_failed_kernels; i++) {
		const struct state_failed_kernel *f = &s->failed_kernels[i];
		cJSON *e = cJSON_CreateObject();

		if (!e || !cJSON_AddItemToArray(list, e) || !cJSON_AddStringToObject(e, "kernel", f->kernel) ||
		    !json_add_str_or_null(e, "at", f->at) || json_add_strv(e, "failed", f->failed) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* verify's verdict says which checks failed; rollback's, where it went and how far. */
static int add_verdict(cJSON *doc, const struct state_verdict *v)
{
	cJSON *o = cJSON_AddObjectToObject(doc, "verified");
	bool by_hand = streq(v->result, ROLLED_BACK_BY_HAND);

	if (!o || !cJSON_AddStringToObject(o, "result", v->result) || !json_add_str_or_null(o, "at", v->at) ||
	    (!by_hand && json_add_strv(o, "failed", v->failed) < 0) ||
	    (v->checks && !cJSON_AddItemToObject(o, "checks", cJSON_Duplicate(v->checks, true))) ||
	    (by_hand && (!json_add_str_or_null(o, "kernel", v->kernel) ||
			 !cJSON_AddBoolToObject(o, "kernel_only", v->kernel_only))))
		return -ENOMEM;
	return 0;
}

/* The stack apply recorded, as apply wrote it: none of "driver", "cuda" and "flavour" is
 * left out (null: none), so that readers see "none", not "unknown". */
static int add_stack(cJSON *doc, const struct state *s)
{
	cJSON *modules;

	if (!json_add_str_or_null(doc, "driver", s->driver) || !json_add_str_or_null(doc, "cuda", s->cuda) ||
	    (s->source && !cJSON_AddStringToObject(doc, "source", s->source)) ||
	    !json_add_str_or_null(doc, "flavour", s->flavour) || !cJSON_AddBoolToObject(doc, "rdma", s->rdma) ||
	    !(modules = cJSON_AddObjectToObject(doc, "modules")) ||
	    json_add_strv(modules, "absent", s->modules_absent) < 0 ||
	    json_add_strv(modules, "loaded", s->modules_loaded) < 0 ||
	    !cJSON_AddBoolToObject(doc, "verify_reboot", s->verify_reboot) ||
	    !cJSON_AddBoolToObject(doc, "reboot_required", s->reboot_required) ||
	    json_add_strv(doc, "packages", s->packages) < 0 || (s->cdi_dir && !cJSON_AddStringToObject(doc, "cdi_dir", s->cdi_dir)) ||
	    (s->health && !cJSON_AddItemToObject(doc, "health", cJSON_Duplicate(s->health, true))) ||
	    (s->gpu && !cJSON_AddItemToObject(doc, "gpu", cJSON_Duplicate(s->gpu, true))))
		return -ENOMEM;
	return 0;
}

int state_to_json(const struct state *s, cJSON **ret)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = cJSON_CreateObject();
	cJSON *once, *copy;
	const cJSON *e;

	if (!doc || (s->profile && !cJSON_AddStringToObject(doc, "profile", s->profile)) ||
	    (s->applied && !cJSON_AddStringToObject(doc, "applied", s->applied)) ||
	    (s->kernel && !cJSON_AddStringToObject(doc, "kernel", s->kernel)) ||
	    (s->previous_kernel && !cJSON_AddStringToObject(doc, "previous_kernel", s->previous_kernel)) ||
	    (s->kernel && add_stack(doc, s) < 0) ||
	    (s->previous_stack && !cJSON_AddItemToObject(doc, PREVIOUS_STACK, cJSON_Duplicate(s->previous_stack, true))) ||
	    (s->failed_kernels && add_failed_kernels(doc, s) < 0) ||
	    (s->boot_id && !cJSON_AddStringToObject(doc, "boot_id", s->boot_id)))
		return -ENOMEM;
	/* Where a switch's boot-once entry went; null without a switch. */
	if (s->kernel && !s->boot_once_via && !cJSON_AddNullToObject(doc, "boot_once"))
		return -ENOMEM;
	if (s->boot_once_via && (!(once = cJSON_AddObjectToObject(doc, "boot_once")) ||
				 !cJSON_AddStringToObject(once, "via", s->boot_once_via) ||
				 !json_add_str_or_null(once, "variable", s->boot_once_variable) ||
				 !json_add_str_or_null(once, "file", s->boot_once_file)))
		return -ENOMEM;
	if ((s->verified && add_verdict(doc, s->verified) < 0) ||
	    (s->reverted && !cJSON_AddTrueToObject(doc, "reverted")) ||
	    (s->maintenance && !cJSON_AddItemToObject(doc, "maintenance", cJSON_Duplicate(s->maintenance, true))))
		return -ENOMEM;
	cJSON_ArrayForEach(e, s->unknown)
		if (!(copy = cJSON_Duplicate(e, true)) || !cJSON_AddItemToObject(doc, e->string, copy))
			return cJSON_Delete(copy), -ENOMEM;
	*ret = TAKE_PTR(doc);
	return 0;
}

int state_save(const struct root *root, const struct state *s)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	_cleanup_free_ char *text = NULL, *line = NULL;
	int k = state_to_json(s, &doc);

	if (k < 0)
		return k;
	if (!(text = cJSON_Print(doc)) || asprintf(&line, "%s\n", text) < 0)
		return -ENOMEM;
	return root_write_atomic(root, STATE_FILE, line, strlen(line), 0644);
}

/* ---- failed kernels -------------------------------------------------------------- */

const struct state_failed_kernel *state_failed_kernel(const struct state *s, const char *kernel)
{
	for (size_t i = 0; kernel && i < s->n_failed_kernels; i++)
		if (streq(s->failed_kernels[i].kernel, kernel))
			return &s->failed_kernels[i];
	return NULL;
}

int state_failed_kernels_json(const struct state *s, cJSON **ret)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = cJSON_CreateObject();

	if (!doc || add_failed_kernels(doc, s) < 0)
		return -ENOMEM;
	*ret = cJSON_DetachItemFromObjectCaseSensitive(doc, "failed_kernels");
	return 0;
}

static void failed_kernel_drop(struct state *s, const char *kernel)
{
	const struct state_failed_kernel *e = state_failed_kernel(s, kernel);
	size_t i;

	if (!e)
		return;
	i = (size_t)(e - s->failed_kernels);
	failed_kernel_done(&s->failed_kernels[i]);
	memmove(&s->failed_kernels[i], &s->failed_kernels[i + 1],
		(s->n_failed_kernels - i - 1) * sizeof(*s->failed_kernels));
	s->n_failed_kernels--;
}

/* Last in the list: the newest verdict on a kernel replaces an older one. */
static int failed_kernel_add(struct state *s, const char *kernel, const char *at, char *const *failed)
{
	struct state_failed_kernel *list, *e;

	failed_kernel_drop(s, kernel);
	list = reallocarray(s->failed_kernels, s->n_failed_kernels + 1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	s->failed_kernels = list;
	e = &list[s->n_failed_kernels];
	*e = (struct state_failed_kernel){};
	if (!(e->kernel = strdup(kernel)) || !(e->at = strdup(at)) || strv_extend(&e->failed, failed) < 0) {
		failed_kernel_done(e);
		return -ENOMEM;
	}
	s->n_failed_kernels++;
	return 0;
}

/* ---- transitions ----------------------------------------------------------------- */

int state_recorded(struct state *s, const cJSON *previous_stack)
{
	cJSON *copy = cJSON_Duplicate(previous_stack, true);

	if (!copy)
		return -ENOMEM;
	cJSON_Delete(s->previous_stack);
	s->previous_stack = copy;
	return 0;
}

int state_applied(struct state *s, struct state *next, const char *running)
{
	const char *known_good = json_str(s->previous_stack, "kernel");

	if (!known_good)
		known_good = running;
	free(next->previous_kernel);
	if (!(next->previous_kernel = strdup(known_good)))
		return -ENOMEM;
	cJSON_Delete(next->previous_stack);
	next->previous_stack = cJSON_IsObject(s->previous_stack) ? TAKE_PTR(s->previous_stack) : NULL;
	failed_kernels_clear(next);
	next->failed_kernels = TAKE_PTR(s->failed_kernels);
	next->n_failed_kernels = s->n_failed_kernels;
	s->n_failed_kernels = 0;
	/* The kernel applied now is judged anew by verify. */
	failed_kernel_drop(next, next->kernel);
	/* The drain apply entered stays until verify --commit ends it. */
	cJSON_Delete(next->maintenance);
	next->maintenance = TAKE_PTR(s->maintenance);
	state_clear(s);
	*s = *next;
	*next = (struct state){};
	return 0;
}

static int verdict_set(struct state *s, const char *result, const char *at)
{
	verdict_free(s->verified);
	if (!(s->verified = calloc(1, sizeof(*s->verified))) || !(s->verified->result = strdup(result)) ||
	    !(s->verified->at = strdup(at)))
		return -ENOMEM;
	return 0;
}

int state_verified(struct state *s, const char *result, const char *at, char *const *failed, const cJSON *checks)
{
	int k;

	if ((k = verdict_set(s, result, at)) < 0 || strv_extend(&s->verified->failed, failed) < 0 ||
	    (checks && !(s->verified->checks = cJSON_Duplicate(checks, true))))
		return -ENOMEM;
	/* A kernel rolled back here is not chosen again by plan or apply (--retry-failed). */
	if (streq(result, "rolled back") && s->kernel)
		return failed_kernel_add(s, s->kernel, at, failed);
	return 0;
}

int state_rolled_back(struct state *s, const char *at, const char *kernel, bool kernel_only)
{
	if (verdict_set(s, ROLLED_BACK_BY_HAND, at) < 0 || !(s->verified->kernel = strdup(kernel)))
		return -ENOMEM;
	s->verified->kernel_only = kernel_only;
	return 0;
}

int state_reverted(struct state *s)
{
	struct state kept = { .failed_kernels = TAKE_PTR(s->failed_kernels),
			      .n_failed_kernels = s->n_failed_kernels,
			      .unknown = TAKE_PTR(s->unknown),
			      .maintenance = TAKE_PTR(s->maintenance),
			      .reverted = true };

	s->n_failed_kernels = 0;
	state_clear(s);
	*s = kept;
	return 0;
}
