/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The knowledge's "frameworks": a framework release -> the CUDA runtime it brings -> the
 * driver that CUDA needs, the last link through the toolkit table (kn_cuda_floor). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "profile/framework.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/vercmp.h"

static const char *strempty(const char *s)
{
	return s ? s : "";
}

const char *const framework_names[] = { "pytorch", "vllm", "tensorrt-llm", "ngc-triton", "ngc-pytorch", NULL };

bool fw_variant_cuda(const char *variant, char *buf, size_t size)
{
	const char *d = variant ? startswith(variant, "cu") : NULL;
	size_t n = d ? strlen(d) : 0;

	/* PyTorch's and vLLM's wheel indexes: cu118 is CUDA 11.8, cu130 is 13.0 (the last digit
	 * is the minor). */
	if (!d || n < 2 || n > 3 || strspn(d, "0123456789") != n)
		return false;
	snprintf(buf, size, "%.*s.%c", (int)(n - 1), d, d[n - 1]);
	return true;
}

static const cJSON *framework_entry(const struct knowledge *k, const char *name)
{
	return json_find_by(cJSON_GetObjectItemCaseSensitive(k->doc, "frameworks"), "name", name);
}

/* The release entry of version: "2.7" holds "2.7.1" and "2.7.1+cu128", "0.10.0" only itself
 * and its post releases ("0.10.0.post1"). */
static const cJSON *release_entry(const cJSON *fw, const char *version)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(fw, "releases")) {
		const char *r = json_str(e, "release");
		size_t n = r ? strlen(r) : 0;

		if (r && strncmp(version, r, n) == 0 && (version[n] == '\0' || version[n] == '.' || version[n] == '+'))
			return e;
	}
	return NULL;
}

static bool in_strings(const cJSON *a, const char *s)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, a)
		if (cJSON_IsString(x) && streq(x->valuestring, s))
			return true;
	return false;
}

static int why(char **ret_why, const char *fmt, ...) _printf_(2, 3);
static int why(char **ret_why, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vasprintf(ret_why, fmt, ap);
	va_end(ap);
	if (k < 0)
		*ret_why = NULL;
	return k < 0 ? -ENOMEM : -ENOENT;
}

/* The CUDA variant of a wheel release: the profile's, checked against the variants the
 * knowledge lists, or the one PyPI serves. */
static int wheel_variant(const struct fw_chain *c, const cJSON *rel, const char *variant, const char **ret,
			 char **ret_why)
{
	const cJSON *variants = cJSON_GetObjectItemCaseSensitive(rel, "variants");
	const char *pypi = json_str(rel, "pypi");

	if (variant) {
		if (rel && cJSON_IsArray(variants) && !streq(variant, "cpu") && !in_strings(variants, variant))
			return why(ret_why, "%s %s has no %s build in gpuprov's knowledge (see gpuprov knowledge)",
				   c->title, c->version, variant);
		*ret = variant;
		return 0;
	}
	if (!pypi)
		return why(ret_why, "%s %s: %s; name the build in \"variant\" (\"cu128\", ...)", c->title, c->version,
			   rel ? "which CUDA its PyPI wheel is built for is not in gpuprov's knowledge"
			       : "this release is not in gpuprov's knowledge");
	*ret = pypi;
	return 0;
}

static int set_cuda(struct fw_chain *c, const char *cuda)
{
	return cuda && !(c->cuda = strdup(cuda)) ? -ENOMEM : 0;
}

/* PyTorch and vLLM: pip wheels, one per CUDA variant. */
static int chain_wheel(struct fw_chain *c, const cJSON *rel, const char *variant,
		       char **ret_why)
{
	const char *v = NULL, *torch = json_str(rel, "torch");
	char cuda[16] = "";
	int r;

	if ((r = wheel_variant(c, rel, variant, &v, ret_why)) < 0)
		return r;
	if (!streq(v, "cpu") && !fw_variant_cuda(v, cuda, sizeof(cuda)))
		return why(ret_why, "%s %s: \"%s\" is not a CUDA build (\"cu128\") or \"cpu\"", c->title, c->version, v);
	if (!(c->variant = strdup(v)) || (*cuda && (r = set_cuda(c, cuda)) < 0))
		return -ENOMEM;
	if (!rel && asprintf(&c->note, "%s %s is not in gpuprov's knowledge: its CUDA is read from the variant %s alone",
			     c->title, c->version, v) < 0)
		return -ENOMEM;
	if (torch)
		r = asprintf(&c->text, "%s %s -> PyTorch %s (%s%s)", c->title, c->version, torch, v,
			     variant ? "" : ", the PyPI wheel");
	else
		r = asprintf(&c->text, "%s %s (%s%s)", c->title, c->version, v, variant ? "" : ", the PyPI wheel");
	return r < 0 ? -ENOMEM : 0;
}

/* TensorRT-LLM and the NGC containers: one CUDA per release. */
static int chain_single(struct fw_chain *c, const cJSON *rel, const char *variant, char **ret_why)
{
	const char *cuda = json_str(rel, "cuda");
	char want[16];

	if (!rel)
		return why(ret_why, "%s %s is not in gpuprov's knowledge (see gpuprov knowledge)", c->title, c->version);
	if (!cuda)
		return why(ret_why, "%s %s: the knowledge names no CUDA for it", c->title, c->version);
	/* A variant the release is not built for is a mistake, not a choice. */
	if (variant && (!fw_variant_cuda(variant, want, sizeof(want)) || strncmp(cuda, want, strlen(want)) != 0 ||
			(cuda[strlen(want)] != '\0' && cuda[strlen(want)] != '.')))
		return why(ret_why, "%s %s is built for CUDA %s only, not %s", c->title, c->version, cuda, variant);
	if (set_cuda(c, cuda) < 0 || asprintf(&c->text, "%s %s", c->title, c->version) < 0)
		return -ENOMEM;
	c->forward_compat = cJSON_GetObjectItemCaseSensitive(rel, "forward_compat");
	return 0;
}

int kn_framework_chain(const struct knowledge *k, const char *name, const char *version, const char *variant,
		       struct fw_chain *ret, char **ret_why)
{
	struct fw_chain c = {};
	_cleanup_free_ char *text = NULL;
	int r;

	*ret_why = NULL;
	c.framework = framework_entry(k, name);
	if (!c.framework) {
		r = why(ret_why, "framework \"%s\" is not in gpuprov's knowledge", name);
		goto fail;
	}
	c.title = json_str(c.framework, "title");
	c.minor_compat = json_str(c.framework, "minor_compat");
	if (!(c.name = strdup(name)) || !(c.version = strdup(version))) {
		r = -ENOMEM;
		goto fail;
	}
	c.release = release_entry(c.framework, version);
	if (streq(name, "pytorch") || streq(name, "vllm"))
		r = chain_wheel(&c, c.release, variant, ret_why);
	else
		r = chain_single(&c, c.release, variant, ret_why);
	if (r < 0)
		goto fail;
	if (c.cuda) {
		c.floor = kn_cuda_floor(k, c.cuda, false, &c.floor_entry);
		c.mvc_floor = kn_cuda_floor(k, c.cuda, true, &c.mvc_entry);
		if (!c.floor) {
			r = why(ret_why, "%s -> CUDA %s: that CUDA is not in the knowledge's toolkit table, its minimum driver is unknown",
				c.text, c.cuda);
			goto fail;
		}
	}
	text = TAKE_PTR(c.text);
	if (asprintf(&c.text, "%s -> %s%s%s", text, c.cuda ? "CUDA " : "no CUDA (a CPU build)", strempty(c.cuda),
		     c.cuda ? " runtime" : "") < 0) {
		r = -ENOMEM;
		goto fail;
	}
	*ret = c;
	return 0;
fail:
	fw_chain_done(&c);
	return r;
}

void fw_chain_done(struct fw_chain *c)
{
	free(c->name), free(c->version), free(c->variant), free(c->text), free(c->cuda), free(c->note);
	*c = (struct fw_chain){};
}

const cJSON *fw_forward_compat(const struct fw_chain *c, const char *driver)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, c->forward_compat)
		if (strncmp(driver, strempty(json_str(e, "branch")), 3) == 0 && driver[3] == '.' &&
		    vercmp_dotted(driver, strempty(json_str(e, "from"))) >= 0)
			return e;
	return NULL;
}

const char *fw_minor_compat_said(const char *minor_compat)
{
	if (streq_ptr(minor_compat, "yes"))
		return "which it tolerates";
	if (streq_ptr(minor_compat, "no"))
		return "which it does not tolerate";
	return "which it is not known to tolerate";
}

char *fw_chain_line(const struct fw_chain *c)
{
	_cleanup_free_ char *fwd = NULL;
	const cJSON *e;
	char *s;

	if (!c->cuda)
		return asprintf(&s, "%s: no driver floor", c->text) < 0 ? NULL : s;
	cJSON_ArrayForEach(e, c->forward_compat) {
		char *n;

		if (asprintf(&n, "%s%s%s+ (R%s)", fwd ? fwd : "", fwd ? ", " : "", strna(json_str(e, "from")),
			     strna(json_str(e, "branch"))) < 0)
			return NULL;
		free(fwd);
		fwd = n;
	}
	if (asprintf(&s, "%s -> driver >= %s (>= %s under minor-version compatibility, %s: %s)%s%s", c->text, c->floor,
		     strna(c->mvc_floor), fw_minor_compat_said(c->minor_compat), strna(json_str(c->framework, "why")),
		     fwd ? "; on data center GPUs also through forward compatibility: " : "", fwd ? fwd : "") < 0)
		return NULL;
	return s;
}

char *fw_chain_sources(const struct fw_chain *c)
{
	char *s;

	if (asprintf(&s, "%s%s%s%s%s", c->release ? strna(json_str(c->release, "source")) : "",
		     c->release ? "; " : "", strna(json_str(c->framework, "source")),
		     c->floor_entry ? "; " : "", c->floor_entry ? strna(json_str(c->floor_entry, "source")) : "") < 0)
		return NULL;
	return s;
}

cJSON *fw_chain_json(const struct fw_chain *c)
{
	_cleanup_(cJSON_Deletep) cJSON *o = cJSON_CreateObject();
	_cleanup_free_ char *line = fw_chain_line(c), *src = fw_chain_sources(c);
	cJSON *fwd;

	if (!o || !line || !src || !json_add_str_or_null(o, "name", c->name) || !json_add_str_or_null(o, "version", c->version) ||
	    !json_add_str_or_null(o, "variant", c->variant) || !json_add_str_or_null(o, "chain", line) ||
	    !json_add_str_or_null(o, "cuda", c->cuda) || !json_add_str_or_null(o, "driver_floor", c->floor) ||
	    !json_add_str_or_null(o, "minor_compat_floor", c->cuda ? c->mvc_floor : NULL) ||
	    !json_add_str_or_null(o, "minor_compat", c->minor_compat) ||
	    !json_add_str_or_null(o, "minor_compat_why", json_str(c->framework, "why")) ||
	    !(fwd = c->forward_compat ? cJSON_Duplicate(c->forward_compat, true) : cJSON_CreateArray()) ||
	    !cJSON_AddItemToObject(o, "forward_compat", fwd) || !json_add_str_or_null(o, "note", c->note) ||
	    !json_add_str_or_null(o, "sources", src))
		return NULL;
	return TAKE_PTR(o);
}
