/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>

#include "profile/knowledge.h"
#include "profile/profile.h"
#include "profile/repo.h"
#include "util/errors.h"
#include "util/jsonpath.h"
#include "util/strutil.h"

const char *const knowledge_arrays[KNOWLEDGE_N_ARRAYS] = { "architectures", "gpus", "platforms", "fabric",
							  "branches", "cuda", "minor_compat", "os",
							  "kernel_failures", "risks", "runfiles", "module_options",
							  "frameworks" };
const char *const knowledge_objects[KNOWLEDGE_N_OBJECTS] = { "open_default_from", "container_toolkit" };

/* Sets *ret_error to "FILE:LINE:COL: PATH: reason", the position that of the path's value. */
static int shape_error(const struct knowledge *k, const char *text, const char *section, int index,
		       const char *field, const char *reason, char **ret_error)
{
	struct jsonpath p = {};
	struct jsonpos pos = { 1, 1 };
	_cleanup_free_ char *where = NULL;
	int r;

	jsonpath_push_key(&p, section);
	if (index >= 0)
		jsonpath_push_index(&p, index);
	if (field)
		jsonpath_push_key(&p, field);
	(void)jsonpath_locate(text, &p, false, &pos);
	if (index >= 0)
		r = asprintf(&where, "%s[%d]%s%s", section, index, field ? "." : "", field ? field : "");
	else
		r = asprintf(&where, "%s%s%s", section, field ? "." : "", field ? field : "");
	if (r < 0 || asprintf(ret_error, "%s:%u:%u: %s: %s", k->file, pos.line, pos.column, where, reason) < 0)
		*ret_error = NULL;
	return -GPE_PARSE;
}

/* Every fact carries its source and the day it was last checked there (DESIGN rule 7); the
 * deeper rules (no beta versions, consistent ranges) are `gpuprov knowledge lint`'s. */
static int entry_ok(const struct knowledge *k, const char *text, const cJSON *e, const char *section, int index,
		    const char *as_of, char **ret_error)
{
	const char *verified = json_str(e, "verified");

	if (!cJSON_IsObject(e))
		return shape_error(k, text, section, index, NULL, "expected an object", ret_error);
	if (!json_str(e, "source") || !*json_str(e, "source"))
		return shape_error(k, text, section, index, "source", "every entry names its source", ret_error);
	if (!verified || !date_ok(verified))
		return shape_error(k, text, section, index, "verified",
				   "every entry says when it was last checked at its source, as YYYY-MM-DD", ret_error);
	if (strcmp(verified, as_of) > 0)
		return shape_error(k, text, section, index, "verified", "later than the file's as_of", ret_error);
	return 0;
}

/* A framework's releases are facts of their own: each names its source and its day too. */
static int frameworks_ok(const struct knowledge *k, const char *text, char **ret_error)
{
	const cJSON *fw, *e;
	int index = 0;

	cJSON_ArrayForEach(fw, cJSON_GetObjectItemCaseSensitive(k->doc, "frameworks")) {
		const cJSON *releases = cJSON_GetObjectItemCaseSensitive(fw, "releases");
		int i = 0;

		if (!json_str(fw, "name") || !cJSON_IsArray(releases))
			return shape_error(k, text, "frameworks", index, NULL, "expected a \"name\" and an array \"releases\"",
					   ret_error);
		cJSON_ArrayForEach(e, releases) {
			const char *verified = json_str(e, "verified");
			char reason[256];

			snprintf(reason, sizeof(reason),
				 "releases[%d]: every release names its \"release\", its source and the day it was last checked there (YYYY-MM-DD, not after as_of)",
				 i++);
			if (!json_str(e, "release") || !json_str(e, "source") || !*json_str(e, "source") || !verified ||
			    !date_ok(verified) || strcmp(verified, k->as_of) > 0)
				return shape_error(k, text, "frameworks", index, "releases", reason, ret_error);
		}
		index++;
	}
	return 0;
}

static int knowledge_check(struct knowledge *k, const char *text, char **ret_error)
{
	const cJSON *format = cJSON_GetObjectItemCaseSensitive(k->doc, "format");
	int r;

	if (!cJSON_IsObject(k->doc))
		return shape_error(k, text, "format", -1, NULL, "the knowledge is a JSON object", ret_error);
	if (!cJSON_IsNumber(format) || format->valuedouble != KNOWLEDGE_FORMAT)
		return shape_error(k, text, "format", -1, NULL,
				   "expected 2: this gpuprov reads knowledge format 2 (gpuprov-knowledge(5))", ret_error);
	k->as_of = json_str(k->doc, "as_of");
	if (!k->as_of || !date_ok(k->as_of))
		return shape_error(k, text, "as_of", -1, NULL, "expected the day the file was last checked, YYYY-MM-DD",
				   ret_error);
	for (size_t i = 0; i < KNOWLEDGE_N_ARRAYS; i++) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(k->doc, knowledge_arrays[i]), *e;
		int index = 0;

		if (!cJSON_IsArray(a))
			return shape_error(k, text, knowledge_arrays[i], -1, NULL, "expected an array", ret_error);
		cJSON_ArrayForEach(e, a)
			if ((r = entry_ok(k, text, e, knowledge_arrays[i], index++, k->as_of, ret_error)) < 0)
				return r;
	}
	if ((r = frameworks_ok(k, text, ret_error)) < 0)
		return r;
	for (size_t i = 0; i < KNOWLEDGE_N_OBJECTS; i++)
		if ((r = entry_ok(k, text, cJSON_GetObjectItemCaseSensitive(k->doc, knowledge_objects[i]), knowledge_objects[i],
				  -1, k->as_of, ret_error)) < 0)
			return r;
	return 0;
}

int knowledge_load_text(const char *file, const char *text, struct knowledge **ret, char **ret_error)
{
	_cleanup_(knowledge_freep) struct knowledge *k = calloc(1, sizeof(*k));
	const char *end = NULL;
	int r;

	*ret_error = NULL;
	if (!k || !(k->file = strdup(file)))
		return -ENOMEM;
	k->doc = cJSON_ParseWithOpts(text, &end, true);
	if (!k->doc) {
		struct jsonpos pos = jsonpos_of(text, end ? (size_t)(end - text) : 0);

		if (asprintf(ret_error, "%s:%u:%u: not valid JSON here", k->file, pos.line, pos.column) < 0)
			*ret_error = NULL;
		return -GPE_PARSE;
	}
	if ((r = knowledge_check(k, text, ret_error)) < 0)
		return r;
	*ret = TAKE_PTR(k);
	return 0;
}

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
	/* NVIDIA lists some branches as ended without saying when. */
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "ended")))
		return true;
	/* "2026-06": supported through June 2026; from July on, past its end of life. */
	return eol && today && strncmp(today, eol, 7) > 0;
}

const char *kn_branch_eol_said(const cJSON *branch)
{
	const char *eol = json_str(branch, "eol");

	return eol ? eol : "a month NVIDIA does not give";
}

bool kn_branch_nfb(const struct knowledge *k, const char *branch, const cJSON **ret_entry)
{
	const cJSON *e = kn_branch(k, branch);

	*ret_entry = e;
	return streq_ptr(json_str(e, "kind"), "NFB");
}

const char *kn_newest_production_branch(const struct knowledge *k, const cJSON **ret_entry)
{
	const cJSON *e;
	const char *best = NULL;

	*ret_entry = NULL;
	cJSON_ArrayForEach(e, section(k, "branches")) {
		const char *b = json_str(e, "branch"), *kind = json_str(e, "kind");

		if (b && (streq_ptr(kind, "PB") || streq_ptr(kind, "LTSB")) && (!best || vercmp_dotted(b, best) > 0)) {
			best = b;
			*ret_entry = e;
		}
	}
	return best;
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

const cJSON *kn_architecture(const struct knowledge *k, const char *name)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, section(k, "architectures"))
		if (streq_ptr(json_str(e, "name"), name))
			return e;
	return NULL;
}

/* "10de:2900" -> 0x2900 for vendor 0x10de; -1 when not that vendor's or not an id. */
static long device_of(const char *id, uint16_t vendor)
{
	unsigned v, d;
	int n = 0;

	if (!id || sscanf(id, "%4x:%4x%n", &v, &d, &n) != 2 || id[n] || v != vendor)
		return -1;
	return (long)d;
}

const cJSON *kn_gpu_architecture(const struct knowledge *k, uint16_t vendor, uint16_t device, bool *ret_by_range)
{
	const cJSON *g = kn_gpu(k, vendor, device), *e, *best = NULL;
	long best_from = -1;

	if (ret_by_range)
		*ret_by_range = false;
	if (g)
		return kn_architecture(k, json_str(g, "architecture"));
	/* The architecture whose range starts highest at or below the id: the ranges are
	 * disjoint and each runs up to the next one's start (the newest, open above). */
	cJSON_ArrayForEach(e, section(k, "architectures")) {
		long from = device_of(json_str(e, "device_from"), vendor);

		if (from >= 0 && from <= device && from > best_from) {
			best = e;
			best_from = from;
		}
	}
	if (ret_by_range)
		*ret_by_range = best != NULL;
	return best;
}

const char *kn_gpu_only_flavour(const cJSON *gpu, const cJSON *arch, const cJSON **ret_entry)
{
	const char *modules = json_str(arch, "modules");

	/* A GPU's own entry may require the open modules where its architecture does not (Grace
	 * Hopper); the architecture rules out the open ones before Turing. */
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(gpu, "open_required"))) {
		*ret_entry = gpu;
		return "open";
	}
	*ret_entry = arch;
	return streq_ptr(modules, "open") || streq_ptr(modules, "proprietary") ? modules : NULL;
}

bool version_in(enum vercmp_order order, const char *v, const char *from, const char *below)
{
	return (!from || vercmp(order, v, from) >= 0) && (!below || vercmp(order, v, below) < 0);
}

void kn_kernel_version(const cJSON *os, const char *release, const char *pkgver, enum vercmp_order order,
		       char *buf, size_t size, struct kernel_version *kv)
{
	const char *scheme = json_str(os, "kernel_upstream");

	*kv = (struct kernel_version){ .release = release, .upstream = buf, .order = order };
	*buf = '\0';
	if (streq_ptr(scheme, "backports")) {
		/* RHEL's 5.14.0-687 carries much of 6.x: its upstream number says little. */
		kv->upstream = NULL;
		kv->el = true;
	} else if (streq_ptr(scheme, "debian") && pkgver)
		upstream_version(pkgver, buf, size); /* linux-image-6.1.0-18-amd64 6.1.76-1: 6.1.76 */
	else if (streq_ptr(scheme, "debian") || streq_ptr(scheme, "ubuntu"))
		/* Ubuntu's 6.8.0-49 is 6.8 with stable fixes; its ".0" is not upstream's. */
		(void)kernel_series_of(release, buf, size);
	else
		snprintf(buf, size, "%.*s", (int)strspn(release, "0123456789."), release);
	if (kv->upstream && !*buf)
		kv->upstream = NULL;
}

const cJSON *kn_kernel_failure(const struct knowledge *k, const char *driver, const char *flavour,
			       const struct kernel_version *kv)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, section(k, "kernel_failures")) {
		const char *fl = json_str(e, "flavour");
		bool el = streq_ptr(json_str(e, "kernel_scheme"), "el");

		if ((fl && !streq(fl, "any") && !streq_ptr(fl, flavour)) ||
		    !version_in(VERCMP_DOTTED, driver, json_str(e, "driver_from"), json_str(e, "driver_below")))
			continue;
		if (el ? kv->el && version_in(kv->order, kv->release, json_str(e, "kernel_from"), json_str(e, "kernel_below"))
		       : kv->upstream && version_in(VERCMP_DOTTED, kv->upstream, json_str(e, "kernel_from"),
						    json_str(e, "kernel_below")))
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
