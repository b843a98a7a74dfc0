/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>

#include "profile/knowledge.h"
#include "profile/profile.h"
#include "util/errors.h"
#include "util/jsonpath.h"
#include "util/strutil.h"

/* The arrays knowledge.json must have, each entry an object with a "source". */
static const char *const sections[] = { "cuda", "minor_compat", "branches", "gpus",
					"kernel_failures", "risks", "os", "runfiles", "module_options" };

int knowledge_load(const struct root *dir, const char *dir_path, struct knowledge **ret, char **ret_error)
{
	_cleanup_free_ char *text = NULL, *file = NULL;
	int r;

	*ret_error = NULL;
	if (asprintf(&file, "%s/knowledge.json", dir_path) < 0)
		return -ENOMEM;
	r = dir ? root_read_file(dir, "knowledge.json", KNOWLEDGE_MAX, &text, NULL) : -ENOENT;
	if (r < 0) {
		if (asprintf(ret_error, "%s: %s", file, gp_strerror(r)) < 0)
			*ret_error = NULL;
		return r;
	}
	return knowledge_load_text(file, text, ret, ret_error);
}

int knowledge_load_text(const char *file, const char *text, struct knowledge **ret, char **ret_error)
{
	struct knowledge *k;
	const char *end = NULL;

	*ret_error = NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	if (!(k->file = strdup(file))) {
		free(k);
		return -ENOMEM;
	}
	k->doc = cJSON_ParseWithOpts(text, &end, true);
	if (!k->doc) {
		struct jsonpos pos = jsonpos_of(text, end ? (size_t)(end - text) : 0);

		if (asprintf(ret_error, "%s:%u:%u: not valid JSON here", k->file, pos.line, pos.column) < 0)
			*ret_error = NULL;
		knowledge_free(k);
		return -GPE_PARSE;
	}
	for (size_t i = 0; i < ELEMENTSOF(sections); i++) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(k->doc, sections[i]), *e;
		int index = 0;

		if (!cJSON_IsArray(a)) {
			if (asprintf(ret_error, "%s: %s: expected an array", k->file, sections[i]) < 0)
				*ret_error = NULL;
			knowledge_free(k);
			return -GPE_PARSE;
		}
		cJSON_ArrayForEach(e, a) {
			/* Facts carry their source (DESIGN rule 7): an entry without one is refused. */
			if (!cJSON_IsObject(e) || !json_str(e, "source") || !*json_str(e, "source")) {
				struct jsonpath p = {};
				struct jsonpos pos = { 1, 1 };

				jsonpath_push_key(&p, sections[i]);
				jsonpath_push_index(&p, index);
				(void)jsonpath_locate(text, &p, false, &pos);
				if (asprintf(ret_error, "%s:%u:%u: %s[%d]: expected an object with a \"source\"",
					     k->file, pos.line, pos.column, sections[i], index) < 0)
					*ret_error = NULL;
				knowledge_free(k);
				return -GPE_PARSE;
			}
			index++;
		}
	}
	*ret = k;
	return 0;
}

struct knowledge *knowledge_free(struct knowledge *k)
{
	if (!k)
		return NULL;
	cJSON_Delete(k->doc);
	free(k->file);
	free(k);
	return NULL;
}

static const cJSON *section(const struct knowledge *k, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(k->doc, name);
}

/* "12.4.1" -> "12.4" */
static void minor_of(const char *version, char *buf, size_t size)
{
	const char *dot = strchr(version, '.');
	size_t n = dot ? (size_t)(dot - version) + 1 + strspn(dot + 1, "0123456789") : strlen(version);

	snprintf(buf, size, "%.*s", (int)n, version);
}

const cJSON *kn_cuda(const struct knowledge *k, const char *toolkit)
{
	const cJSON *e;
	char minor[32];

	minor_of(toolkit, minor, sizeof(minor));
	cJSON_ArrayForEach(e, section(k, "cuda"))
		if (streq_ptr(json_str(e, "toolkit"), minor))
			return e;
	return NULL;
}

const char *kn_cuda_floor(const struct knowledge *k, const char *toolkit, bool minor_compat,
			  const cJSON **ret_entry)
{
	const cJSON *row = kn_cuda(k, toolkit), *u, *e;

	if (minor_compat) {
		int major = atoi(toolkit);

		cJSON_ArrayForEach(e, section(k, "minor_compat")) {
			const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "major");

			if (cJSON_IsNumber(m) && m->valueint == major) {
				*ret_entry = e;
				return json_str(e, "driver");
			}
		}
	}
	*ret_entry = row;
	if (!row)
		return NULL;
	cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(row, "updates"))
		if (streq_ptr(json_str(u, "name"), toolkit))
			return json_str(u, "driver");
	return json_str(row, "driver");
}

const cJSON *kn_branch(const struct knowledge *k, const char *branch)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, section(k, "branches"))
		if (streq_ptr(json_str(e, "branch"), branch))
			return e;
	return NULL;
}

bool kn_branch_eol(const struct knowledge *k, const char *branch, const char *today, const cJSON **ret_entry)
{
	const cJSON *e = kn_branch(k, branch);
	const char *eol = json_str(e, "eol");

	*ret_entry = e;
	/* "2026-06": supported through June 2026; from July on, past its end of life. */
	return eol && today && strncmp(today, eol, 7) > 0;
}

const char *kn_open_default_from(const struct knowledge *k)
{
	return json_str(section(k, "open_default_from"), "branch");
}

const cJSON *kn_gpu(const struct knowledge *k, uint16_t vendor, uint16_t device)
{
	const cJSON *e;
	char id[16];

	snprintf(id, sizeof(id), "%04x:%04x", vendor, device);
	cJSON_ArrayForEach(e, section(k, "gpus"))
		if (streq_ptr(json_str(e, "device"), id))
			return e;
	return NULL;
}

bool version_in(enum vercmp_order order, const char *v, const char *from, const char *below)
{
	return (!from || vercmp(order, v, from) >= 0) && (!below || vercmp(order, v, below) < 0);
}

const cJSON *kn_kernel_failure(const struct knowledge *k, const char *driver, const char *flavour,
			       const char *kernel, enum vercmp_order kernel_order)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, section(k, "kernel_failures")) {
		const char *fl = json_str(e, "flavour");

		if (fl && !streq(fl, "any") && !streq_ptr(fl, flavour))
			continue;
		if (version_in(VERCMP_DOTTED, driver, json_str(e, "driver_from"), json_str(e, "driver_below")) &&
		    version_in(kernel_order, kernel, json_str(e, "kernel_from"), json_str(e, "kernel_below")))
			return e;
	}
	return NULL;
}

const cJSON *kn_os(const struct knowledge *k, const char *id, const char *version_id, const char *arch)
{
	const cJSON *e, *any = NULL;

	cJSON_ArrayForEach(e, section(k, "os")) {
		const char *spec = json_str(e, "os"), *a = json_str(e, "arch");

		if (!spec || !os_spec_matches(spec, id, version_id))
			continue;
		if (a && streq_ptr(a, arch))
			return e; /* the entry for this architecture wins */
		if (!a && !any)
			any = e;
	}
	return any;
}

const char *kn_os_series_kind(const cJSON *os, const char *series)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(os, "kernels"))
		if (streq_ptr(json_str(e, "series"), series))
			return json_str(e, "kind");
	return NULL;
}

const cJSON *kn_risks(const struct knowledge *k)
{
	return section(k, "risks");
}

const cJSON *kn_module_option_conflict(const struct knowledge *k, const char *flavour, const cJSON *options)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, section(k, "module_options")) {
		const cJSON *mod = cJSON_GetObjectItemCaseSensitive(options, strna(json_str(e, "module")));
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(mod, strna(json_str(e, "option")));
		char text[64] = "";

		if (!v || !streq_ptr(json_str(e, "flavour"), flavour))
			continue;
		if (cJSON_IsString(v))
			snprintf(text, sizeof(text), "%s", v->valuestring);
		else if (cJSON_IsNumber(v))
			snprintf(text, sizeof(text), "%g", v->valuedouble);
		if (streq_ptr(json_str(e, "value"), text))
			return e;
	}
	return NULL;
}

const cJSON *kn_runfile(const struct knowledge *k, const char *file)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, section(k, "runfiles"))
		if (streq_ptr(json_str(e, "file"), file) && json_str(e, "sha256"))
			return e;
	return NULL;
}

const char *kn_fabricmanager_source(const struct knowledge *k)
{
	return json_str(section(k, "fabricmanager"), "source");
}

bool kernel_series_of(const char *release, char *buf, size_t size)
{
	size_t a = strspn(release, "0123456789"), b;

	if (a == 0 || release[a] != '.')
		return false;
	b = strspn(release + a + 1, "0123456789");
	if (b == 0)
		return false;
	snprintf(buf, size, "%.*s", (int)(a + 1 + b), release);
	return true;
}
