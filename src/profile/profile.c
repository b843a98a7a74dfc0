/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Profiles: parse, validate, include, merge, override; match. Finding and listing them: profile-dirs.c. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>

#include "util/json.h"
#include "profile/profile.h"
#include "profile/validate.h"
#include "util/errors.h"
#include "util/jsonpath.h"
#include "util/strutil.h"

/* Includes of includes: deeper than this is a mistake, not a design. And however they are
 * arranged, a resolution that reads this many files is one (includes repeated in a fan). */
#define INCLUDE_MAX_DEPTH 16
#define INCLUDE_MAX_LOADS 256

void profile_error_clear(struct profile_error *e)
{
	free(e->file);
	free(e->message);
	*e = (struct profile_error){};
}

char *profile_error_format(const struct profile_error *e)
{
	char *s = NULL;
	int r;

	if (!e->file)
		r = asprintf(&s, "%s", strna(e->message));
	else if (e->line == 0)
		r = asprintf(&s, "%s: %s", e->file, strna(e->message));
	else
		r = asprintf(&s, "%s:%u:%u: %s", e->file, e->line, e->column, strna(e->message));
	return r < 0 ? NULL : s;
}

static int error_set(struct profile_error *e, const char *file, unsigned line, unsigned column,
		     const char *fmt, ...) _printf_(5, 6);
static int error_set(struct profile_error *e, const char *file, unsigned line, unsigned column,
		     const char *fmt, ...)
{
	va_list ap;

	profile_error_clear(e);
	e->file = file ? strdup(file) : NULL;
	e->line = line;
	e->column = column;
	va_start(ap, fmt);
	if (vasprintf(&e->message, fmt, ap) < 0)
		e->message = NULL;
	va_end(ap);
	return -GPE_PARSE;
}

/* An error at a path of a file's JSON: the position comes from the text. */
static int error_at(struct profile_error *e, const char *file, const char *text,
		    const struct jsonpath *path, bool at_key, const char *message)
{
	struct jsonpos pos = { 0, 0 };
	char where[256];

	jsonpath_format(path, where, sizeof(where));
	if (!jsonpath_locate(text, path, at_key, &pos) && !jsonpath_locate(text, path, !at_key, &pos))
		pos = (struct jsonpos){ 1, 1 };
	return error_set(e, file, pos.line, pos.column, "%s: %s", where, strna(message));
}

/* "unknown profile 'x'; available: a, b, c" */
static int error_unknown(struct profile_error *e, const struct profile_dirs *d, const char *name,
			 const char *file, const char *text, const struct jsonpath *path)
{
	_cleanup_(strv_freep) char **names = NULL;
	_cleanup_free_ char *list = NULL, *msg = NULL;
	size_t len = 0;

	(void)profile_names(d, &names);
	for (char **n = names; n && *n; n++)
		len += strlen(*n) + 2;
	list = calloc(1, len + 1);
	if (!list)
		return -ENOMEM;
	for (char **n = names; n && *n; n++) {
		strcat(list, *n);
		if (n[1])
			strcat(list, ", ");
	}
	if (!d->shipped && !*list) {
		if (asprintf(&msg, "expected the name of a profile, got \"%s\" (no profile directory at %s)", name,
			     strna(d->shipped_path)) < 0)
			return -ENOMEM;
	} else if (asprintf(&msg, "expected the name of a profile (available: %s), got \"%s\"", *list ? list : "none", name) < 0)
		return -ENOMEM;
	if (file)
		error_at(e, file, text, path, false, msg);
	else
		error_set(e, NULL, 0, 0, "%s", msg);
	return -ENOENT;
}

/* Two ways of saying one thing: a layer that says it one way drops the other way an
 * earlier layer said it (kernel.series vs min/max, driver.branch vs min_branch, ...). */
static const char *const exclusive[][2] = {
	{ "series", "min" }, { "series", "max" }, { "branch", "min_branch" }, { "version", "min_version" },
	{ "release", "series" }, { "release", "min" }, { "release", "max" },
};

static void drop_exclusive(cJSON *dst, const char *parent, const char *key)
{
	/* Only where those keys mean versions: not inside sysctl or module options. */
	if (!parent || !(streq(parent, "kernel") || streq(parent, "driver") || streq(parent, "cuda")))
		return;
	for (size_t i = 0; i < ELEMENTSOF(exclusive); i++)
		for (int side = 0; side < 2; side++)
			if (streq(key, exclusive[i][side]))
				cJSON_DeleteItemFromObjectCaseSensitive(dst, exclusive[i][!side]);
}

/* Arrays of strings accumulate (without duplicates), objects merge, the rest replaces.
 * parent: the key dst is the value of (NULL at the top). */
static int merge_into(cJSON *dst, const cJSON *src, const char *parent)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, src) {
		cJSON *have, *copy;
		bool whole;

		drop_exclusive(dst, parent, item->string);
		have = cJSON_GetObjectItemCaseSensitive(dst, item->string);
		if (have && cJSON_IsObject(have) && cJSON_IsObject(item)) {
			int k = merge_into(have, item, item->string);

			if (k < 0)
				return k;
			continue;
		}
		/* A command (maintenance's hooks) is one whole: a later layer's replaces an
		 * earlier one's, as a scalar does, below. */
		whole = streq_ptr(parent, "maintenance");
		/* A new array starts empty, so that its own duplicates go too. */
		if (!whole && !have && cJSON_IsArray(item) && !streq(item->string, "overrides")) {
			have = cJSON_AddArrayToObject(dst, item->string);
			if (!have)
				return -ENOMEM;
		}
		if (!whole && have && cJSON_IsArray(have) && cJSON_IsArray(item)) {
			const cJSON *el;

			cJSON_ArrayForEach(el, item) {
				const cJSON *x;
				bool dup = false;

				cJSON_ArrayForEach(x, have)
					if (cJSON_Compare(x, el, true))
						dup = true;
				if (dup)
					continue;
				if (!(copy = cJSON_Duplicate(el, true)))
					return -ENOMEM;
				if (!cJSON_AddItemToArray(have, copy)) {
					cJSON_Delete(copy);
					return -ENOMEM;
				}
			}
			continue;
		}
		copy = cJSON_Duplicate(item, true);
		if (!copy)
			return -ENOMEM;
		if (have)
			cJSON_ReplaceItemViaPointer(dst, have, copy);
		else if (!cJSON_AddItemToObject(dst, item->string, copy)) {
			cJSON_Delete(copy);
			return -ENOMEM;
		}
	}
	return 0;
}

/* The keys that belong to one profile and are not passed on to those including it. */
static bool own_key(const char *key)
{
	return streq(key, "name") || streq(key, "description") || streq(key, "include") ||
	       streq(key, "match") || streq(key, "$schema");
}

struct loading {
	const struct profile_dirs *dirs;
	const struct facts *facts;
	struct profile_error *err;
	const char *stack[INCLUDE_MAX_DEPTH];
	int depth;
	char **chain;
	size_t n_chain;
	unsigned loads;
};

static int apply_overrides(cJSON *body, const cJSON *list, const struct facts *f);

/* Loads one file and what it includes into *ret (its inheritable body, includes first). */
static int load_body(struct loading *l, const char *name, const char *from_file, const char *from_text,
		     const struct jsonpath *from_path, cJSON **ret, cJSON **ret_doc, char **ret_file)
{
	_cleanup_free_ char *text = NULL, *file = NULL, *message = NULL;
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL, *body = NULL;
	const cJSON *name_v, *inc, *item;
	struct jsonpath path = {};
	const char *end = NULL;
	size_t text_size = 0;
	int at_key, k, i = 0;

	for (int j = 0; j < l->depth; j++)
		if (streq(l->stack[j], name)) {
			char cycle[512] = "";
			size_t n = 0;

			for (int m = j; m < l->depth && n < sizeof(cycle); m++) {
				int w = snprintf(cycle + n, sizeof(cycle) - n, "%s -> ", l->stack[m]);

				n = w < 0 ? sizeof(cycle) : n + (size_t)w;
			}
			if (n < sizeof(cycle))
				snprintf(cycle + n, sizeof(cycle) - n, "%s", name);
			if (asprintf(&message, "expected no include cycle, got %s", cycle) < 0)
				return -ENOMEM;
			return error_at(l->err, from_file, from_text, from_path, false, message);
		}
	if (l->depth >= INCLUDE_MAX_DEPTH)
		return error_at(l->err, from_file, from_text, from_path, false,
				"expected includes nested at most 16 deep, got deeper");
	if (++l->loads > INCLUDE_MAX_LOADS)
		return error_at(l->err, from_file, from_text, from_path, false,
				"expected at most 256 profile files read through includes, got more");

	k = profile_read(l->dirs, name, &text, &text_size, &file);
	if (k == -ENOENT)
		return error_unknown(l->err, l->dirs, name, from_file, from_text, from_path);
	if (k == -GPE_TOOBIG)
		return error_set(l->err, file, 0, 0, "expected a profile of at most %d bytes, got more", PROFILE_MAX);
	if (k < 0) {
		error_set(l->err, file, 0, 0, "cannot read: %s", gp_strerror(k));
		return k;
	}

	if (strlen(text) != text_size) {
		struct jsonpos pos = jsonpos_of(text, strlen(text));

		return error_set(l->err, file, pos.line, pos.column, "expected text, got a NUL byte");
	}
	doc = cJSON_ParseWithOpts(text, &end, true);
	if (!doc) {
		size_t at = end ? (size_t)(end - text) : 0;
		struct jsonpos pos;

		/* cJSON may stop on the whitespace after the culprit: show the culprit itself. */
		while (at > 0 && (!text[at] || strchr(" \t\r\n", text[at])))
			at--;
		pos = jsonpos_of(text, at);
		if (!text[at])
			return error_set(l->err, file, pos.line, pos.column, "expected valid JSON, got the end of the file");
		return error_set(l->err, file, pos.line, pos.column, "expected valid JSON, got '%c'", text[at]);
	}
	k = profile_validate(doc, &path, &at_key, &message);
	if (k < 0)
		return error_at(l->err, file, text, &path, at_key, message);
	name_v = cJSON_GetObjectItemCaseSensitive(doc, "name");
	if (!name_v || !streq(name_v->valuestring, name)) {
		path = (struct jsonpath){};
		jsonpath_push_key(&path, "name");
		if (!name_v)
			return error_set(l->err, file, 1, 1, "name: expected \"%s\" (the file's name), got no name", name);
		if (asprintf(&message, "expected \"%s\" (the file's name), got \"%s\"", name, name_v->valuestring) < 0)
			return -ENOMEM;
		return error_at(l->err, file, text, &path, false, message);
	}

	body = cJSON_CreateObject();
	if (!body)
		return -ENOMEM;
	l->stack[l->depth++] = name;
	inc = cJSON_GetObjectItemCaseSensitive(doc, "include");
	cJSON_ArrayForEach(item, inc) {
		_cleanup_(cJSON_Deletep) cJSON *sub = NULL;

		path = (struct jsonpath){};
		jsonpath_push_key(&path, "include");
		jsonpath_push_index(&path, i++);
		k = load_body(l, item->valuestring, file, text, &path, &sub, NULL, NULL);
		if (k >= 0)
			k = merge_into(body, sub, NULL);
		if (k < 0) {
			l->depth--;
			return k;
		}
	}
	l->depth--;

	/* The profile's own keys over what it includes, then its overrides over both. */
	cJSON_ArrayForEach(item, doc) {
		_cleanup_(cJSON_Deletep) cJSON *one = NULL;

		if (own_key(item->string) || streq(item->string, "overrides"))
			continue;
		one = cJSON_CreateObject();
		if (!one || !cJSON_AddItemToObject(one, item->string, cJSON_Duplicate(item, true))) {
			cJSON_Delete(one);
			return -ENOMEM;
		}
		if ((k = merge_into(body, one, NULL)) < 0)
			return k;
	}
	if ((k = apply_overrides(body, cJSON_GetObjectItemCaseSensitive(doc, "overrides"), l->facts)) < 0 ||
	    (!strv_contains(l->chain, name) && (k = strv_push(&l->chain, &l->n_chain, name)) < 0))
		return k;

	*ret = TAKE_PTR(body);
	if (ret_doc)
		*ret_doc = TAKE_PTR(doc);
	if (ret_file)
		*ret_file = TAKE_PTR(file);
	return 0;
}

bool os_spec_matches(const char *spec, const char *id, const char *version_id)
{
	size_t n = id ? strlen(id) : 0;
	const char *v;

	if (!id || strncmp(spec, id, n) != 0)
		return false;
	if (spec[n] == '\0')
		return true;
	if (spec[n] != '-' || !version_id)
		return false;
	v = spec + n + 1;
	/* "9" matches "9.3" and "9", not "90"; "22.04" matches "22.04". */
	return strncmp(version_id, v, strlen(v)) == 0 &&
	       (version_id[strlen(v)] == '\0' || version_id[strlen(v)] == '.');
}

static bool when_matches(const cJSON *when, const struct facts *f)
{
	const cJSON *arch = cJSON_GetObjectItemCaseSensitive(when, "arch");
	const cJSON *fam = cJSON_GetObjectItemCaseSensitive(when, "os_family");
	const cJSON *os = cJSON_GetObjectItemCaseSensitive(when, "os");

	if (arch && !streq_ptr(arch->valuestring, f->cpu.arch))
		return false;
	if (fam && !streq_ptr(fam->valuestring, os_family_to_string(f->os.family)))
		return false;
	if (os && !os_spec_matches(os->valuestring, f->os.id, f->os.version_id))
		return false;
	return true;
}

/* Applies the overrides that fit the machine, in order. Without facts, none fit. */
static int apply_overrides(cJSON *body, const cJSON *list, const struct facts *f)
{
	const cJSON *o;
	int k;

	if (!f)
		return 0;
	cJSON_ArrayForEach(o, list) {
		_cleanup_(cJSON_Deletep) cJSON *b = NULL;

		if (!when_matches(cJSON_GetObjectItemCaseSensitive(o, "when"), f))
			continue;
		b = cJSON_Duplicate(o, true);
		if (!b)
			return -ENOMEM;
		cJSON_DeleteItemFromObjectCaseSensitive(b, "when");
		if ((k = merge_into(body, b, NULL)) < 0)
			return k;
	}
	return 0;
}

static const char *get_str(const cJSON *doc, const char *obj, const char *key)
{
	return json_str(obj ? cJSON_GetObjectItemCaseSensitive(doc, obj) : doc, key);
}

static bool get_bool(const cJSON *doc, const char *obj, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, obj), key));
}

/* cuda.toolkit "none" is a node whose frameworks bring their own CUDA runtime: a toolkit
 * asked for too would be installed against the profile's word, or not against its other word. */
static int check_toolkit(const struct profile *p, struct profile_error *err)
{
	const cJSON *cuda = cJSON_GetObjectItemCaseSensitive(p->doc, "cuda");
	const char *asks = cJSON_GetObjectItemCaseSensitive(cuda, "version") ? "version" : "min_version";

	if (streq_ptr(json_str(cuda, "toolkit"), "none") && cJSON_GetObjectItemCaseSensitive(cuda, asks))
		return error_set(err, p->file, 0, 0,
				 "cuda.toolkit: \"none\" (no CUDA toolkit) after includes and overrides, and cuda.%s asks for toolkit %s; expected one of them",
				 asks, strna(json_str(cuda, asks)));
	return 0;
}

/* A key of one scheduler with another: the profile means something it does not say. */
static int check_maintenance(const struct profile *p, struct profile_error *err)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(p->doc, "maintenance");
	const char *scheduler = json_str(m, "scheduler");

	if (cJSON_GetObjectItemCaseSensitive(m, "kubeconfig") && !streq_ptr(scheduler, "kubernetes"))
		return error_set(err, p->file, 0, 0,
				 "maintenance.kubeconfig: expected it only with scheduler \"kubernetes\" after includes and overrides, got scheduler \"%s\"",
				 scheduler ? scheduler : "none");
	return 0;
}

const char *const container_runtime_names[] = { "docker", "containerd", "crio", "podman", NULL };

unsigned container_runtime_bit(const char *name)
{
	for (size_t i = 0; container_runtime_names[i]; i++)
		if (streq_ptr(name, container_runtime_names[i]))
			return 1u << i;
	return 0;
}

const char *container_runtime_name(unsigned bit)
{
	for (size_t i = 0; container_runtime_names[i]; i++)
		if (bit == 1u << i)
			return container_runtime_names[i];
	return NULL;
}

/* Keys of the container section that cannot mean what they say together. */
static int check_container(const struct profile *p, struct profile_error *err)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(p->doc, "container"), *x;
	const cJSON *rts = cJSON_GetObjectItemCaseSensitive(c, "runtimes");
	unsigned bits = 0;

	if (!c || streq_ptr(json_str(c, "toolkit"), "none"))
		return 0;
	cJSON_ArrayForEach(x, rts)
		bits |= container_runtime_bit(x->valuestring);
	/* podman has no runtime hook of NVIDIA's to fall back on: CDI is how it sees a GPU. */
	if ((bits & CONTAINER_PODMAN) && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(c, "cdi")))
		return error_set(err, p->file, 0, 0,
				 "container.cdi: false after includes and overrides, and container.runtimes names podman, which sees GPUs only through CDI; expected cdi true, or no podman");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "default_runtime")) &&
	    !(bits & (CONTAINER_DOCKER | CONTAINER_CONTAINERD | CONTAINER_CRIO)))
		return error_set(err, p->file, 0, 0,
				 "container.default_runtime: true after includes and overrides, and container.runtimes names none of docker, containerd, crio; expected one of them, or default_runtime false");
	return 0;
}

/* What the layers say together must not contradict itself: an argument both added and
 * removed, a service both enabled and disabled, would flip at every apply. */
static int check_conflicts(const struct profile *p, struct profile_error *err)
{
	static const char *const pairs[][3] = { { "cmdline", "add", "remove" }, { "services", "enable", "disable" } };
	int k;

	for (size_t i = 0; i < ELEMENTSOF(pairs); i++) {
		const cJSON *o = cJSON_GetObjectItemCaseSensitive(p->doc, pairs[i][0]);
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, pairs[i][1]), *b = cJSON_GetObjectItemCaseSensitive(o, pairs[i][2]), *x, *y;

		cJSON_ArrayForEach(x, a)
			cJSON_ArrayForEach(y, b)
				if (cJSON_Compare(x, y, true))
					return error_set(err, p->file, 0, 0,
							 "%s: expected \"%s\" in %s.%s or %s.%s after includes and overrides, got it in both",
							 pairs[i][0], x->valuestring, pairs[i][0], pairs[i][1], pairs[i][0], pairs[i][2]);
	}
	if ((k = check_maintenance(p, err)) < 0)
		return k;
	if ((k = check_container(p, err)) < 0)
		return k;
	/* No driver: nothing may ask for one, or for what runs on one. */
	if (streq_ptr(get_str(p->doc, "driver", "source"), "none")) {
		static const char *const needs_driver[][2] = {
			{ "driver", "branch" }, { "driver", "min_branch" }, { "driver", "min_version" },
			{ "driver", "allow_eol" }, { "driver", "allow_nfb" }, { "driver", "unknown_gpu" }, { "cuda", NULL }, { "runfile", NULL },
			{ "container", NULL },
			{ "framework", NULL },
		};
		const char *flavour = get_str(p->doc, "driver", "flavour");

		for (size_t i = 0; i < ELEMENTSOF(needs_driver); i++) {
			const cJSON *o = cJSON_GetObjectItemCaseSensitive(p->doc, needs_driver[i][0]);

			char key[32];

			if (needs_driver[i][1] ? !cJSON_GetObjectItemCaseSensitive(o, needs_driver[i][1]) : !o)
				continue;
			snprintf(key, sizeof(key), "%s%s%s", needs_driver[i][0], needs_driver[i][1] ? "." : "",
				 needs_driver[i][1] ? needs_driver[i][1] : "");
			return error_set(err, p->file, 0, 0,
					 "driver.source: \"none\" (no NVIDIA driver) after includes and overrides, and %s asks for one; expected no %s",
					 key, key);
		}
		if (flavour && !streq(flavour, "auto"))
			return error_set(err, p->file, 0, 0,
					 "driver.source: \"none\" (no NVIDIA driver) after includes and overrides, and driver.flavour is \"%s\"; expected no flavour, or \"auto\"",
					 flavour);
		if (streq_ptr(get_str(p->doc, NULL, "fabricmanager"), "on"))
			return error_set(err, p->file, 0, 0,
					 "driver.source: \"none\" (no NVIDIA driver) after includes and overrides, and fabricmanager is \"on\"; expected \"auto\" or \"off\"");
	}
	return 0;
}

/* The container section, with its defaults; absent or toolkit "none": off. */
static void load_container(struct profile *p)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(p->doc, "container"), *x;

	p->container_toolkit = NULL;
	if (!c || streq_ptr(json_str(c, "toolkit"), "none"))
		return;
	p->container_toolkit = json_str(c, "toolkit") ? json_str(c, "toolkit") : "latest-for-driver";
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(c, "runtimes"))
		p->container_runtimes |= container_runtime_bit(x->valuestring);
	p->container_cdi = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(c, "cdi"));
	p->container_cdi_dir = json_str(c, "cdi_dir") ? json_str(c, "cdi_dir") : "/var/run/cdi";
	p->container_default_runtime = get_bool(p->doc, "container", "default_runtime");
}

int profile_load(const struct profile_dirs *d, const char *name, const struct facts *f,
		 struct profile **ret, struct profile_error *err)
{
	_cleanup_(profile_freep) struct profile *p = NULL;
	_cleanup_(cJSON_Deletep) cJSON *own = NULL;
	struct loading l = { .dirs = d, .facts = f, .err = err };
	const cJSON *v;
	int k;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	k = load_body(&l, name, NULL, NULL, NULL, &p->doc, &own, &p->file);
	p->chain = l.chain;
	if (k < 0)
		return k;

	if ((k = check_conflicts(p, err)) < 0 || (k = check_toolkit(p, err)) < 0)
		return k;

	p->name = strdup(name);
	v = cJSON_GetObjectItemCaseSensitive(own, "description");
	p->description = strdup(cJSON_IsString(v) ? v->valuestring : "");
	p->match = cJSON_DetachItemFromObjectCaseSensitive(own, "match");
	if (!p->name || !p->description)
		return -ENOMEM;

	p->kernel_series = get_str(p->doc, "kernel", "series");
	p->kernel_min = get_str(p->doc, "kernel", "min");
	p->kernel_max = get_str(p->doc, "kernel", "max");
	p->kernel_flavour = get_str(p->doc, "kernel", "flavour");
	p->kernel_release = get_str(p->doc, "kernel", "release");
	p->kernel_hwe = get_bool(p->doc, "kernel", "hwe");
	p->driver_branch = get_str(p->doc, "driver", "branch");
	p->driver_min_branch = get_str(p->doc, "driver", "min_branch");
	p->driver_min_version = get_str(p->doc, "driver", "min_version");
	p->driver_flavour = get_str(p->doc, "driver", "flavour");
	if (!p->driver_flavour)
		p->driver_flavour = "auto";
	p->driver_source = get_str(p->doc, "driver", "source");
	p->driver_allow_eol = get_bool(p->doc, "driver", "allow_eol");
	p->driver_allow_nfb = get_bool(p->doc, "driver", "allow_nfb");
	p->driver_unknown_gpu = get_str(p->doc, "driver", "unknown_gpu");
	p->cuda_version = get_str(p->doc, "cuda", "version");
	p->cuda_min_version = get_str(p->doc, "cuda", "min_version");
	p->cuda_framework = get_str(p->doc, "cuda", "framework");
	p->cuda_minor_compat = get_bool(p->doc, "cuda", "minor_version_compat");
	p->cuda_toolkit_none = streq_ptr(get_str(p->doc, "cuda", "toolkit"), "none");
	p->frameworks = cJSON_GetObjectItemCaseSensitive(p->doc, "framework");
	p->fabricmanager = get_str(p->doc, NULL, "fabricmanager");
	if (!p->fabricmanager)
		p->fabricmanager = "auto";
	load_container(p);

	*ret = TAKE_PTR(p);
	return 0;
}

struct profile *profile_free(struct profile *p)
{
	if (!p)
		return NULL;
	free(p->name);
	free(p->description);
	free(p->file);
	strv_free(p->chain);
	cJSON_Delete(p->doc);
	cJSON_Delete(p->match);
	free(p);
	return NULL;
}

static bool array_has(const cJSON *a, const char *s)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, a)
		if (cJSON_IsString(x) && streq_ptr(x->valuestring, s))
			return true;
	return false;
}

bool profile_matches(const struct profile *p, const struct facts *f, char **ret_why)
{
	const cJSON *gpus = cJSON_GetObjectItemCaseSensitive(p->match, "gpus");
	const cJSON *arch = cJSON_GetObjectItemCaseSensitive(p->match, "arch");
	const cJSON *os = cJSON_GetObjectItemCaseSensitive(p->match, "os");
	const cJSON *nvs = cJSON_GetObjectItemCaseSensitive(p->match, "nvswitch");
	const cJSON *x;
	bool any;
	int r = 0;

	*ret_why = NULL;
	if (arch && !array_has(arch, f->cpu.arch))
		r = asprintf(ret_why, "the architecture is %s, not one of the profile's", strna(f->cpu.arch));
	else if (os) {
		any = false;
		cJSON_ArrayForEach(x, os)
			any |= os_spec_matches(x->valuestring, f->os.id, f->os.version_id);
		if (!any)
			r = asprintf(ret_why, "the OS is %s %s, not one of the profile's", strna(f->os.id),
				     strna(f->os.version_id));
	}
	if (!*ret_why && gpus) {
		any = false;
		for (size_t i = 0; i < f->pci.n_gpus; i++) {
			char id[16];

			snprintf(id, sizeof(id), "%04x:%04x", f->pci.gpus[i].vendor, f->pci.gpus[i].device);
			any |= array_has(gpus, id);
		}
		if (!any)
			r = asprintf(ret_why, "none of the machine's %zu GPUs is one the profile is for", f->pci.n_gpus);
	}
	if (!*ret_why && cJSON_IsTrue(nvs) && f->pci.n_nvswitches == 0)
		r = asprintf(ret_why, "the profile is for NVSwitch systems and the machine has none");
	if (r < 0)
		*ret_why = NULL;
	return !*ret_why;
}
