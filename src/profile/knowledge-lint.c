/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lint of a knowledge file (format 2): the rules of its entries and between them, each
 * broken rule a finding at its line and column. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/framework.h"
#include "profile/knowledge-lint.h"
#include "profile/knowledge.h"
#include "util/json.h"
#include "util/jsonpath.h"
#include "util/strutil.h"
#include "util/vercmp.h"

/*
 * The Vulkan developer-beta branches of the driver: their tags are versions ("550.40.65")
 * that sort among and below production releases of the same branch, yet no production
 * release before the next one drives what the beta did. The versions are the tags reachable
 * only from each branch (first and last, both included) of NVIDIA/open-gpu-kernel-modules,
 * https://github.com/NVIDIA/open-gpu-kernel-modules (branches VK516_10 ... VK595_35); the
 * classification is kept in doc/knowledge-research-2026-12.md, "Tag classification".
 */
static const struct {
	const char *branch, *first, *last;
} vk_betas[] = {
	{ "VK516_10", "515.49.05", "515.49.25" },   { "VK526_25", "525.47.04", "525.47.35" },
	{ "VK535_87", "535.43.08", "535.43.28" },   { "VK551_06", "550.40.53", "550.40.85" },
	{ "VK571_25", "570.123.01", "570.123.19" }, { "VK580_65", "580.94.02", "580.94.18" },
	{ "VK595_35", "595.44.02", "595.44.03" },
};

/* The fields that hold a driver version, checked against the beta branches. */
static const struct {
	const char *section, *field;
} driver_fields[] = {
	{ "gpus", "min_driver" },	     { "gpus", "min_driver_open" },	    { "cuda", "driver" },
	{ "minor_compat", "driver" },	     { "kernel_failures", "driver_from" }, { "kernel_failures", "driver_below" },
	{ "kernel_failures", "fixed_in" },
};

/* The ranges [from, below) that must not be empty. */
static const struct {
	const char *section, *from, *below;
} ranges[] = {
	{ "kernel_failures", "driver_from", "driver_below" },
	{ "kernel_failures", "kernel_from", "kernel_below" },
	{ "architectures", "cuda_from", "cuda_below" },
	{ "minor_compat", "driver", "driver_below" },
};

struct lint {
	const char *text;
	const cJSON *doc;
	const char *as_of; /* NULL when the file has no valid one: dates are then not compared */
	const char *today;
	struct kn_lint *out;
	int error;
};

/* Whether word stands in s as a word of its own, in any case ("the seed list", not "seeded"). */
static bool mentions_word(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (const char *at = strcasestr(s, word); at; at = strcasestr(at + 1, word))
		if ((at == s || !isalpha((unsigned char)at[-1])) && !isalpha((unsigned char)at[n]))
			return true;
	return false;
}

const char *kn_beta_branch(const char *driver)
{
	if (!driver)
		return NULL;
	for (size_t i = 0; i < ELEMENTSOF(vk_betas); i++)
		if (vercmp_dotted(driver, vk_betas[i].first) >= 0 && vercmp_dotted(driver, vk_betas[i].last) <= 0)
			return vk_betas[i].branch;
	return NULL;
}

/* A finding at path (a value that is missing is reported where its object starts). */
static void report(struct lint *l, const struct jsonpath *path, const char *fmt, ...) _printf_(3, 4);
static void report(struct lint *l, const struct jsonpath *path, const char *fmt, ...)
{
	struct jsonpath p = *path;
	struct jsonpos pos = { 1, 1 };
	struct kn_finding *f;
	char where[256];
	va_list ap;
	int k;

	if (l->error)
		return;
	while (p.n > 0 && !jsonpath_locate(l->text, &p, false, &pos))
		jsonpath_pop(&p);
	jsonpath_format(path, where, sizeof(where));
	f = realloc(l->out->list, (l->out->n + 1) * sizeof(*f));
	if (!f) {
		l->error = -ENOMEM;
		return;
	}
	l->out->list = f;
	f = &f[l->out->n];
	*f = (struct kn_finding){ pos.line, pos.column, strdup(path->n ? where : ""), NULL };
	va_start(ap, fmt);
	k = vasprintf(&f->reason, fmt, ap);
	va_end(ap);
	if (k < 0 || !f->path) {
		free(f->path);
		l->error = -ENOMEM;
		return;
	}
	l->out->n++;
}

/* The path section[index].field (field NULL: the entry; index < 0: the section). */
static struct jsonpath at(const char *section, int index, const char *field)
{
	struct jsonpath p = {};

	jsonpath_push_key(&p, section);
	if (index >= 0)
		jsonpath_push_index(&p, index);
	if (field)
		jsonpath_push_key(&p, field);
	return p;
}

static void lint_top(struct lint *l)
{
	const cJSON *format = cJSON_GetObjectItemCaseSensitive(l->doc, "format");
	const char *as_of = json_str(l->doc, "as_of");
	struct jsonpath p = {};

	if (!cJSON_IsNumber(format) || format->valuedouble != KNOWLEDGE_FORMAT) {
		p = at("format", -1, NULL);
		report(l, &p, "expected format 2");
	}
	p = at("as_of", -1, NULL);
	if (!as_of)
		report(l, &p, "expected the date the file was checked, \"YYYY-MM-DD\"");
	else if (!date_ok(as_of))
		report(l, &p, "\"%s\" is not a calendar date YYYY-MM-DD", as_of);
	else if (strcmp(as_of, l->today) > 0)
		report(l, &p, "%s is in the future (today is %s)", as_of, l->today);
	else
		l->as_of = as_of;
	for (size_t i = 0; i < KNOWLEDGE_N_ARRAYS; i++)
		if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(l->doc, knowledge_arrays[i]))) {
			p = at(knowledge_arrays[i], -1, NULL);
			report(l, &p, "expected an array");
		}
	for (size_t i = 0; i < KNOWLEDGE_N_OBJECTS; i++)
		if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(l->doc, knowledge_objects[i]))) {
			p = at(knowledge_objects[i], -1, NULL);
			report(l, &p, "expected an object");
		}
}

/* Every entry (and object section) says where its facts come from, publicly, and when that
 * was checked. */
static void lint_sourced(struct lint *l, const cJSON *e, const struct jsonpath *entry)
{
	const char *source = json_str(e, "source"), *verified = json_str(e, "verified");
	struct jsonpath p = *entry;

	jsonpath_push_key(&p, "source");
	if (!source || !*source)
		report(l, &p, "expected a non-empty source: a public document's title and URL, or an issue");
	/* Our own notes are no source a user can follow (issue 15, class 10). */
	else if (strcasestr(source, "FACTS.md") || mentions_word(source, "seed"))
		report(l, &p, "cites FACTS.md or a seed document, which users cannot read: cite the public "
			      "document or issue itself");
	jsonpath_pop(&p);
	jsonpath_push_key(&p, "verified");
	if (!verified)
		report(l, &p, "expected the date this entry was checked against its source, \"YYYY-MM-DD\"");
	else if (!date_ok(verified))
		report(l, &p, "\"%s\" is not a calendar date YYYY-MM-DD", verified);
	else if (l->as_of && strcmp(verified, l->as_of) > 0)
		report(l, &p, "%s is after as_of %s", verified, l->as_of);
}

static void lint_entries(struct lint *l)
{
	const cJSON *s, *e;

	cJSON_ArrayForEach(s, l->doc) {
		int i = 0;

		if (cJSON_IsObject(s)) {
			struct jsonpath p = at(s->string, -1, NULL);

			lint_sourced(l, s, &p);
			continue;
		}
		if (!cJSON_IsArray(s))
			continue;
		cJSON_ArrayForEach(e, s) {
			struct jsonpath p = at(s->string, i, NULL);

			if (cJSON_IsObject(e))
				lint_sourced(l, e, &p);
			else
				report(l, &p, "expected an object");
			i++;
		}
	}
}

/* "1.17.8": the toolkit's versions are three numbers. */
static bool ctk_version_ok(const char *v)
{
	int n = 0;

	for (; v && *v; v++)
		if (*v == '.')
			n++;
		else if (!isdigit((unsigned char)*v))
			return false;
	return v && n == 2;
}

/* The container toolkit: every entry of its lists sourced; versions as the toolkit writes
 * them; a release gpuprov may pick is listed once and is none a bulletin says is vulnerable. */
static void lint_container(struct lint *l)
{
	static const char *const lists[] = { "releases", "vulnerable", "min_driver" };
	static const char *const version_fields[] = { "version", "fixed_in", "from" };
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(l->doc, "container_toolkit");
	struct jsonpath p = at("container_toolkit", -1, "cdi_from");

	if (!cJSON_IsObject(s))
		return;
	if (!ctk_version_ok(json_str(s, "cdi_from")))
		report(l, &p, "expected the first release with `nvidia-ctk cdi generate`, \"1.12.0\"");
	for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(s, lists[i]), *e;
		int n = 0;

		p = at("container_toolkit", -1, lists[i]);
		if (!cJSON_IsArray(a)) {
			report(l, &p, "expected an array");
			continue;
		}
		cJSON_ArrayForEach(e, a) {
			const char *v = json_str(e, version_fields[i]);

			jsonpath_push_index(&p, n++);
			if (!cJSON_IsObject(e)) {
				report(l, &p, "expected an object");
				jsonpath_pop(&p);
				continue;
			}
			lint_sourced(l, e, &p);
			jsonpath_push_key(&p, version_fields[i]);
			if (!ctk_version_ok(v))
				report(l, &p, "expected a toolkit version of three numbers, \"1.17.8\"");
			else if (i == 0) {
				const cJSON *vuln[1];
				const cJSON *o;

				if (kn_ctk_vulnerabilities(&(struct knowledge){ .doc = (cJSON *)l->doc }, v, vuln, 1))
					report(l, &p, "%s is vulnerable (%s, fixed in %s): no release gpuprov may pick", v,
					       strna(json_str(vuln[0], "cve")), strna(json_str(vuln[0], "fixed_in")));
				cJSON_ArrayForEach(o, a) {
					if (o == e)
						break;
					if (streq_ptr(json_str(o, "version"), v))
						report(l, &p, "release %s is listed twice", v);
				}
			}
			jsonpath_pop(&p);
			jsonpath_pop(&p);
		}
	}
}

static void lint_beta(struct lint *l, const char *version, const struct jsonpath *p)
{
	const char *branch = kn_beta_branch(version);

	if (branch)
		report(l, p, "%s is a Vulkan developer beta (branch %s), not a production release", version, branch);
}

static void lint_betas(struct lint *l)
{
	const cJSON *row, *u;
	int i = 0;

	for (size_t f = 0; f < ELEMENTSOF(driver_fields); f++) {
		const cJSON *e;
		int n = 0;

		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(l->doc, driver_fields[f].section)) {
			struct jsonpath p = at(driver_fields[f].section, n++, driver_fields[f].field);

			lint_beta(l, json_str(e, driver_fields[f].field), &p);
		}
	}
	/* A toolkit update's floor is a driver version too. */
	cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(l->doc, "cuda")) {
		int j = 0;

		cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(row, "updates")) {
			struct jsonpath p = at("cuda", i, "updates");

			jsonpath_push_index(&p, j++);
			jsonpath_push_key(&p, "driver");
			lint_beta(l, json_str(u, "driver"), &p);
		}
		i++;
	}
}

/* Kernel bounds are upstream versions unless the rule states them in RPM releases ("el"). */
static enum vercmp_order range_order(const cJSON *e, const char *from)
{
	if (startswith(from, "kernel_") && streq_ptr(json_str(e, "kernel_scheme"), "el"))
		return VERCMP_RPM;
	return VERCMP_DOTTED;
}

static void lint_ranges(struct lint *l)
{
	for (size_t r = 0; r < ELEMENTSOF(ranges); r++) {
		const cJSON *e;
		int i = 0;

		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(l->doc, ranges[r].section)) {
			const char *from = json_str(e, ranges[r].from), *below = json_str(e, ranges[r].below);
			struct jsonpath p = at(ranges[r].section, i++, ranges[r].below);

			if (from && below && vercmp(range_order(e, ranges[r].from), from, below) >= 0)
				report(l, &p, "%s is not above %s %s: the range is empty", below, ranges[r].from, from);
		}
	}
}

/* Whether name is the "name" of an entry of section. */
static bool named_in(const struct lint *l, const char *section, const char *name)
{
	return name && json_find_by(cJSON_GetObjectItemCaseSensitive(l->doc, section), "name", name);
}

static void lint_names(struct lint *l)
{
	const cJSON *e, *c;
	int i = 0;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(l->doc, "gpus")) {
		const char *arch = json_str(e, "architecture");
		struct jsonpath p = at("gpus", i++, "architecture");

		if (!named_in(l, "architectures", arch))
			report(l, &p, "\"%s\" is no architecture of the file", strna(arch));
	}
	i = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(l->doc, "platforms")) {
		int j = 0;

		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(e, "fabric")) {
			struct jsonpath p = at("platforms", i, "fabric");

			jsonpath_push_index(&p, j++);
			if (!named_in(l, "fabric", cJSON_GetStringValue(c)))
				report(l, &p, "\"%s\" is no fabric component of the file",
				       strna(cJSON_GetStringValue(c)));
		}
		i++;
	}
}

/* The i-th entry of a section, or NULL. */
static const cJSON *entry(const struct lint *l, const char *section, int i)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(l->doc, section), i);
}

/* Each value of field appears once in section: an architecture's device range starts where
 * no other's does (a GPU in no table is placed by these starts), a branch is listed once. */
static void lint_unique(struct lint *l, const char *section, const char *field, const char *why)
{
	const cJSON *e;
	int i = 0;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(l->doc, section)) {
		const char *v = json_str(e, field);
		struct jsonpath p = at(section, i, field);

		for (int j = 0; v && j < i; j++)
			if (streq_ptr(json_str(entry(l, section, j), field), v)) {
				report(l, &p, "%s is also %s[%d]'s: %s", v, section, j, why);
				break;
			}
		i++;
	}
}

/* [a_from, a_below) and [b_from, b_below) share a version; NULL bounds are open. */
static bool overlap(enum vercmp_order o, const char *a_from, const char *a_below, const char *b_from,
		    const char *b_below)
{
	return (!a_below || !b_from || vercmp(o, b_from, a_below) < 0) &&
	       (!b_below || !a_from || vercmp(o, a_from, b_below) < 0);
}

static bool same_flavour(const char *a, const char *b)
{
	return streq_ptr(a, b) || streq_ptr(a, "any") || streq_ptr(b, "any");
}

/* Two rules for one breakage (the same symptom) on the same drivers and kernels cannot name
 * different fixes; rules for different breakages may overlap (a 6.3 and a 6.10 one of a
 * branch, two of 6.15). A rule cannot name a fix inside the drivers it says fail. */
static void lint_failures(struct lint *l)
{
	const cJSON *a, *b;
	int i = 0;

	cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(l->doc, "kernel_failures")) {
		const char *scheme = json_str(b, "kernel_scheme") ? json_str(b, "kernel_scheme") : "upstream";
		struct jsonpath p = at("kernel_failures", i, "fixed_in");

		for (int j = 0; j < i; j++) {
			const char *other;

			a = entry(l, "kernel_failures", j);
			other = json_str(a, "kernel_scheme") ? json_str(a, "kernel_scheme") : "upstream";
			if (!streq(scheme, other) || !same_flavour(json_str(a, "flavour"), json_str(b, "flavour")) ||
			    !streq_ptr(json_str(a, "symptom"), json_str(b, "symptom")) ||
			    streq_ptr(json_str(a, "fixed_in"), json_str(b, "fixed_in")) ||
			    !overlap(VERCMP_DOTTED, json_str(a, "driver_from"), json_str(a, "driver_below"),
				     json_str(b, "driver_from"), json_str(b, "driver_below")) ||
			    !overlap(range_order(b, "kernel_from"), json_str(a, "kernel_from"), json_str(a, "kernel_below"),
				     json_str(b, "kernel_from"), json_str(b, "kernel_below")))
				continue;
			report(l, &p, "fixed in %s, but kernel_failures[%d] for the same breakage, flavour, drivers and kernels says "
				      "fixed in %s", strna(json_str(b, "fixed_in")), j, strna(json_str(a, "fixed_in")));
			break;
		}
		if (json_str(b, "fixed_in") &&
		    version_in(VERCMP_DOTTED, json_str(b, "fixed_in"), json_str(b, "driver_from"), json_str(b, "driver_below")))
			report(l, &p, "fixed in %s, a driver the rule itself says fails", json_str(b, "fixed_in"));
		i++;
	}
}

/* Whether a toolkit ("12.8", "12.9.1") has its row, the minor's for a point version. */
static bool toolkit_known(const struct lint *l, const char *toolkit)
{
	const cJSON *e;
	size_t n = strcspn(toolkit, ".");

	n += toolkit[n] ? 1 + strspn(toolkit + n + 1, "0123456789") : 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(l->doc, "cuda"))
		if (json_str(e, "toolkit") && strlen(json_str(e, "toolkit")) == n && strncmp(json_str(e, "toolkit"), toolkit, n) == 0)
			return true;
	return false;
}

/* The toolkit rows go up, and so do their driver floors: a later toolkit never needs less. */
static void lint_cuda(struct lint *l)
{
	const cJSON *e, *prev = NULL;
	int i = 0;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(l->doc, "cuda")) {
		const char *t = json_str(e, "toolkit"), *d = json_str(e, "driver");
		const char *pt = json_str(prev, "toolkit"), *pd = json_str(prev, "driver");
		struct jsonpath p = at("cuda", i, "toolkit");

		if (t && pt && vercmp_dotted(t, pt) <= 0)
			report(l, &p, "%s after %s: the rows must go up", t, pt);
		p = at("cuda", i, "driver");
		if (d && pd && vercmp_dotted(d, pd) < 0)
			report(l, &p, "%s is below the floor %s of toolkit %s before it", d, pd, strna(pt));
		prev = e;
		i++;
	}
}

/* A framework's CUDA must be a toolkit of the "cuda" rows: the floor is read there, never
 * written twice; its minor-version compatibility is a statement with its reason. */
static void lint_frameworks(struct lint *l)
{
	const cJSON *fw, *e, *v;
	int i = 0;

	cJSON_ArrayForEach(fw, cJSON_GetObjectItemCaseSensitive(l->doc, "frameworks")) {
		const char *mc = json_str(fw, "minor_compat");
		struct jsonpath p = at("frameworks", i, "minor_compat");
		int j = 0;

		if (!mc || !(streq(mc, "yes") || streq(mc, "no") || streq(mc, "unknown")))
			report(l, &p, "expected \"yes\", \"no\" or \"unknown\"");
		else if (!json_str(fw, "why") || !*json_str(fw, "why")) {
			p = at("frameworks", i, "why");
			report(l, &p, "minor-version compatibility \"%s\" needs its reason", mc);
		}
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(fw, "releases")) {
			char cuda[16];

			p = at("frameworks", i, "releases");
			jsonpath_push_index(&p, j++);
			if (json_str(e, "cuda") && !toolkit_known(l, json_str(e, "cuda")))
				report(l, &p, "CUDA %s is not a toolkit of the \"cuda\" rows: its driver floor would be unknown",
				       json_str(e, "cuda"));
			cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(e, "variants"))
				if (cJSON_IsString(v) && (!fw_variant_cuda(v->valuestring, cuda, sizeof(cuda)) || !toolkit_known(l, cuda)))
					report(l, &p, "variant %s is not a CUDA build (\"cu128\") of a toolkit in the \"cuda\" rows",
					       v->valuestring);
		}
		i++;
	}
}

int knowledge_lint(const char *text, const char *today, struct kn_lint *ret)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	struct lint l = { .text = text, .today = today, .out = ret };
	const char *end = NULL;

	*ret = (struct kn_lint){};
	doc = cJSON_ParseWithOpts(text, &end, true);
	if (!doc || !cJSON_IsObject(doc)) {
		struct jsonpos pos = jsonpos_of(text, doc || !end ? 0 : (size_t)(end - text));
		struct kn_finding *f = calloc(1, sizeof(*f));

		if (!f || !(f->path = strdup("")) ||
		    !(f->reason = strdup(doc ? "expected an object" : "not valid JSON here"))) {
			if (f)
				free(f->path);
			free(f);
			return -ENOMEM;
		}
		f->line = pos.line, f->column = pos.column;
		*ret = (struct kn_lint){ f, 1 };
		return 0;
	}
	l.doc = doc;
	lint_top(&l);
	lint_entries(&l);
	lint_betas(&l);
	lint_ranges(&l);
	lint_names(&l);
	lint_unique(&l, "architectures", "device_from", "the architectures' device ranges overlap");
	lint_unique(&l, "branches", "branch", "a branch is listed once");
	lint_failures(&l);
	lint_cuda(&l);
	lint_frameworks(&l);
	lint_container(&l);
	if (l.error < 0) {
		kn_lint_done(ret);
		return l.error;
	}
	return 0;
}

void kn_lint_done(struct kn_lint *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->list[i].path);
		free(l->list[i].reason);
	}
	free(l->list);
	*l = (struct kn_lint){};
}
