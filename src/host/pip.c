/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The frameworks pip installed in the root: torch, vllm and tensorrt_llm dist-info in the
 * system's site-packages and in the virtual environments at the conventional places, with the
 * CUDA each wheel was built for. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/facts.h"
#include "host/pip.h"
#include "util/errors.h"
#include "util/strutil.h"

/* A torch METADATA is some 30 KiB; anything past this is not a wheel's. */
#define METADATA_MAX (1024 * 1024)
#define VERSION_PY_MAX (64 * 1024)
/* Bounds on a tree others fill: the homes, /opt and /srv entries looked into, and the
 * frameworks reported. */
#define PIP_DIRS_MAX 256
#define PIP_DISTS_MAX 64

/* The distributions read, by their dist-info prefix (normalised names, PEP 503). */
static const char *const dists[] = { "torch-", "vllm-", "tensorrt_llm-" };

/* Copies a header's value, trimmed, if it fits. */
static void value_copy(const char *v, size_t n, char *buf, size_t size)
{
	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
		n--;
	if (n < size)
		snprintf(buf, size, "%.*s", (int)n, v);
}

/* "X.Y.Z" -> "X.Y", if it is digits and dots. */
static void major_minor(const char *v, size_t n, char *buf, size_t size)
{
	size_t a = strspn(v, "0123456789");

	if (a == 0 || a >= n || v[a] != '.')
		return;
	a += 1 + strspn(v + a + 1, "0123456789");
	if (a < size && v[a - 1] != '.')
		snprintf(buf, size, "%.*s", (int)a, v);
}

/* Requires-Dist: nvidia-cuda-runtime-cu12==12.8.90; platform_system == "Linux" ... (and
 * "nvidia-cuda-runtime-cu12 (==12.8.90)" as older metadata writes it), torch==2.7.1. */
static void requires_dist(const char *v, size_t n, struct pip_metadata *m)
{
	static const char *const runtimes[] = { "nvidia-cuda-runtime-cu", "nvidia-cuda-runtime" };
	const char *end = v + n, *pin;

	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	n = (size_t)(end - v);
	pin = memmem(v, n, "==", 2);
	if (!pin)
		return;
	pin += 2;
	for (size_t i = 0; i < ELEMENTSOF(runtimes); i++) {
		size_t l = strlen(runtimes[i]);

		if (n > l && strncmp(v, runtimes[i], l) == 0 && !m->runtime[0]) {
			major_minor(pin, (size_t)(end - pin), m->runtime, sizeof(m->runtime));
			return;
		}
	}
	if (n > 5 && strncmp(v, "torch", 5) == 0 && strchr(" (=", v[5]) && !m->torch[0]) {
		size_t t = strcspn(pin, " ;),");

		value_copy(pin, MIN(t, (size_t)(end - pin)), m->torch, sizeof(m->torch));
	}
}

int pip_metadata_parse(const char *text, struct pip_metadata *ret)
{
	struct pip_metadata m = {};
	const char *p = text;

	/* Headers end at the first blank line; the description (free text) follows. */
	while (*p && *p != '\n' && !(*p == '\r' && p[1] == '\n')) {
		size_t n = strcspn(p, "\n"), c = strcspn(p, ":\n");

		if (c < n) {
			const char *v = p + c + 1;
			size_t vn = n - c - 1;

			if (c == 4 && strncmp(p, "Name", 4) == 0)
				value_copy(v, vn, m.name, sizeof(m.name));
			else if (c == 7 && strncmp(p, "Version", 7) == 0)
				value_copy(v, vn, m.version, sizeof(m.version));
			else if (c == 13 && strncmp(p, "Requires-Dist", 13) == 0)
				requires_dist(v, vn, &m);
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	if (!m.name[0] || !m.version[0])
		return -GPE_PARSE;
	*ret = m;
	return 0;
}

int pip_version_cuda(const char *version, char *buf, size_t size)
{
	const char *label = strchr(version, '+'), *d;
	size_t n;

	/* PEP 440's local label: download.pytorch.org's wheels are "2.7.1+cu128". */
	if (!label || !(d = startswith(label + 1, "cu")))
		return 0;
	n = strspn(d, "0123456789");
	if (n < 2 || n > 3 || (d[n] != '\0' && d[n] != '.') || size < n + 2)
		return 0;
	snprintf(buf, size, "%.*s.%c", (int)(n - 1), d, d[n - 1]);
	return 1;
}

int pip_torch_version_cuda(const char *text, char *buf, size_t size)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *v = startswith(p, "cuda");
		size_t n;

		/* tools/generate_torch_version.py: cuda: Optional[str] = '12.8' (None for CPU). */
		if (!v || (*v != ':' && *v != ' ' && *v != '='))
			continue;
		v += strcspn(v, "=\n");
		if (*v != '=')
			continue;
		v += 1 + strspn(v + 1, " ");
		if (*v != '\'' && *v != '"')
			return 0;
		n = strcspn(v + 1, "'\"\n");
		buf[0] = '\0';
		major_minor(v + 1, n, buf, size);
		return buf[0] ? 1 : 0;
	}
	return 0;
}

/* ---- the scan ------------------------------------------------------------------------- */

static bool is_python_dir(const char *name)
{
	return startswith(name, "python3") != NULL;
}

/* One dist-info: its METADATA and, for torch, torch/version.py beside it. */
static int read_dist(const struct detect_ctx *ctx, const char *site, const char *entry)
{
	struct nvidia_facts *nv = &ctx->facts->nvidia;
	_cleanup_free_ char *text = NULL, *py = NULL;
	struct pip_metadata m;
	struct pip_dist *d;
	char path[PATH_MAX], cuda[16] = "";
	const char *from = NULL;
	int k;

	if (nv->n_frameworks >= PIP_DISTS_MAX)
		return 0;
	k = root_read_file(ctx->root, path_fmt(path, "%s/%s/METADATA", site, entry), METADATA_MAX, &text, NULL);
	if (k == -ENOMEM)
		return k;
	if (k < 0 || pip_metadata_parse(text, &m) < 0) {
		facts_warn(ctx->facts, "/%s/%s: no readable METADATA with Name and Version", site, entry);
		return 0;
	}
	if (pip_version_cuda(m.version, cuda, sizeof(cuda)) > 0)
		from = "the wheel's version label";
	else if (streq(m.name, "torch") &&
		 root_read_file(ctx->root, path_fmt(path, "%s/torch/version.py", site), VERSION_PY_MAX, &py, NULL) >= 0 &&
		 pip_torch_version_cuda(py, cuda, sizeof(cuda)) > 0)
		from = "torch/version.py";
	else if (m.runtime[0]) {
		snprintf(cuda, sizeof(cuda), "%s", m.runtime);
		from = "its Requires-Dist on the CUDA runtime wheel";
	}
	d = realloc(nv->frameworks, (nv->n_frameworks + 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	nv->frameworks = d;
	d = &d[nv->n_frameworks++];
	*d = (struct pip_dist){ strdup(m.name), strdup(m.version), NULL, cuda[0] ? strdup(cuda) : NULL, from,
				m.torch[0] ? strdup(m.torch) : NULL };
	if (asprintf(&d->site, "/%s", site) < 0)
		d->site = NULL;
	return d->name && d->version && d->site && (!cuda[0] || d->cuda) && (!m.torch[0] || d->torch) ? 0 : -ENOMEM;
}

static int scan_site(const struct detect_ctx *ctx, const char *site)
{
	_cleanup_(strv_freep) char **names = NULL;
	int k;

	if (root_list_dir(ctx->root, site, &names) < 0)
		return 0;
	for (char **p = names; *p; p++)
		for (size_t i = 0; i < ELEMENTSOF(dists); i++)
			if (startswith(*p, dists[i]) && endswith(*p, ".dist-info") && (k = read_dist(ctx, site, *p)) < 0)
				return k;
	return 0;
}

/* prefix/lib/python3.*\/{site,dist}-packages and lib64's: a system's, or a venv's. */
static int scan_prefix(const struct detect_ctx *ctx, const char *prefix)
{
	static const char *const libs[] = { "lib", "lib64" }, *const kinds[] = { "site-packages", "dist-packages" };
	char lib[PATH_MAX], site[PATH_MAX];
	int k;

	for (size_t l = 0; l < ELEMENTSOF(libs); l++) {
		_cleanup_(strv_freep) char **names = NULL;

		if (root_list_dir(ctx->root, path_fmt(lib, "%s/%s", prefix, libs[l]), &names) < 0)
			continue;
		for (char **p = names; *p; p++) {
			if (!is_python_dir(*p))
				continue;
			for (size_t s = 0; s < ELEMENTSOF(kinds); s++)
				if ((k = scan_site(ctx, path_fmt(site, "%s/%s/%s", lib, *p, kinds[s]))) < 0)
					return k;
		}
	}
	return 0;
}

/* The venvs of base/<entry>/{venv,.venv}, the first PIP_DIRS_MAX entries. */
static int scan_venvs(const struct detect_ctx *ctx, const char *base)
{
	static const char *const venvs[] = { "venv", ".venv" };
	_cleanup_(strv_freep) char **names = NULL;
	char prefix[PATH_MAX];
	size_t n = 0;
	int k;

	if (root_list_dir(ctx->root, base, &names) < 0)
		return 0;
	for (char **p = names; *p && n < PIP_DIRS_MAX; p++, n++)
		for (size_t v = 0; v < ELEMENTSOF(venvs); v++)
			if (root_is_dir(ctx->root, path_fmt(prefix, "%s/%s/%s", base, *p, venvs[v])) > 0 &&
			    (k = scan_prefix(ctx, prefix)) < 0)
				return k;
	return 0;
}

int pip_detect(const struct detect_ctx *ctx)
{
	static const char *const prefixes[] = { "usr", "usr/local", "root/.venv", "root/venv" };
	static const char *const bases[] = { "opt", "srv", "home" };
	int k;

	for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
		if ((k = scan_prefix(ctx, prefixes[i])) < 0)
			return k;
	for (size_t i = 0; i < ELEMENTSOF(bases); i++)
		if ((k = scan_venvs(ctx, bases[i])) < 0)
			return k;
	return 0;
}
