/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NVIDIA software: loaded modules, the running driver, CUDA toolkits, fabric manager. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>

#include "util/json.h"
#include "facts.h"
#include "util/errors.h"
#include "util/strutil.h"

/* The modules a GPU node's state shows in; listed in this order when loaded. */
static const char *const watched_modules[] = {
	"nvidia", "nvidia_uvm", "nvidia_modeset", "nvidia_drm", "nvidia_peermem", "nv_peer_mem",
	"nouveau", "mlx5_core", "mlx5_ib", "ib_core", "ib_uverbs",
};

/* version.json is a few kilobytes; version.txt one line. */
#define CUDA_VERSION_MAX 262144

/* proc/modules: "nvidia 54280192 106 nvidia_uvm,nvidia_modeset, Live 0x0 (POE)". */
int proc_modules_parse_line(const char *line, char **ret_name)
{
	size_t n = strcspn(line, " \n");

	if (n == 0 || n >= 64 || line[n] != ' ')
		return -GPE_PARSE;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)line[i]) && line[i] != '_' && line[i] != '-')
			return -GPE_PARSE;
	*ret_name = strndup(line, n);
	return *ret_name ? 0 : -ENOMEM;
}

/*
 * The first line of /proc/driver/nvidia/version:
 *   NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.129.03  Thu Oct 19 18:56:32 UTC 2023
 *   NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.15  Release Build  (...)
 */
int nvidia_version_parse(const char *text, char **ret_version, char **ret_flavour)
{
	_cleanup_free_ char *line = NULL;
	char *save = NULL;
	const char *rest;

	rest = startswith(text, "NVRM version:");
	if (!rest)
		return -GPE_PARSE;
	line = strndup(rest, strcspn(rest, "\n"));
	if (!line)
		return -ENOMEM;
	for (char *w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		/* The first word made of digits and dots, with at least one dot. */
		if (!isdigit((unsigned char)w[0]) || w[strspn(w, "0123456789.")] != '\0' || !strchr(w, '.'))
			continue;
		*ret_version = strdup(w);
		*ret_flavour = strdup(strstr(rest, "Open Kernel Module") ? "open" : "proprietary");
		if (!*ret_version || !*ret_flavour) {
			*ret_version = mfree(*ret_version);
			*ret_flavour = mfree(*ret_flavour);
			return -ENOMEM;
		}
		return 0;
	}
	return -GPE_PARSE;
}

static int nvidia_loaded_modules(const struct detect_ctx *ctx)
{
	struct nvidia_facts *nv = &ctx->facts->nvidia;
	_cleanup_(strv_freep) char **loaded = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t linesz = 0, n_loaded = 0, n = 0;
	int k;

	nv->loaded_modules = calloc(1, sizeof(char *));
	if (!nv->loaded_modules)
		return -ENOMEM;
	k = root_fopen(ctx->sys, "proc/modules", &f);
	if (k < 0) {
		facts_warn(ctx->facts, "proc/modules: %s", gp_strerror(k));
		return 0;
	}
	while (getline(&line, &linesz, f) >= 0) {
		char *name;

		if (proc_modules_parse_line(line, &name) < 0)
			continue;
		if ((k = strv_push_take(&loaded, &n_loaded, name)) < 0)
			return k;
	}
	for (size_t i = 0; i < ELEMENTSOF(watched_modules); i++)
		if (strv_contains(loaded, watched_modules[i]) &&
		    (k = strv_push(&nv->loaded_modules, &n, watched_modules[i])) < 0)
			return k;
	/* All of them, for verify's check of the modules a profile names. */
	if (!loaded && !(loaded = calloc(1, sizeof(char *))))
		return -ENOMEM;
	ctx->facts->kernels.modules = TAKE_PTR(loaded);
	return 0;
}

static int nvidia_running_driver(const struct detect_ctx *ctx)
{
	struct nvidia_facts *nv = &ctx->facts->nvidia;
	_cleanup_free_ char *text = NULL;
	int k;

	k = root_read_file(ctx->sys, "proc/driver/nvidia/version", 65536, &text, NULL);
	if (k >= 0)
		k = nvidia_version_parse(text, &nv->driver_version, &nv->driver_flavour);
	if (k == -ENOMEM)
		return k;
	if (k >= 0)
		return 0;
	if (k != -ENOENT)
		facts_warn(ctx->facts, "proc/driver/nvidia/version: %s", gp_strerror(k));
	/* The module's own sysfs entry, when procfs has nothing (flavour unknown then). */
	if (strv_contains(nv->loaded_modules, "nvidia")) {
		k = root_read_line(ctx->sys, "sys/module/nvidia/version", &nv->driver_version);
		if (k == -ENOMEM)
			return k;
	}
	return 0;
}

/* usr/local/cuda-X.Y/version.json: {"cuda": {"name": "CUDA SDK", "version": "12.4.1"}}. */
static int cuda_read_version(const struct detect_ctx *ctx, const char *dir, char **ret)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	_cleanup_free_ char *text = NULL;
	const cJSON *v;
	char path[PATH_MAX];
	const char *rest;
	int k;

	k = root_read_file(ctx->root, path_fmt(path, "%s/version.json", dir), CUDA_VERSION_MAX, &text, NULL);
	if (k >= 0) {
		doc = cJSON_Parse(text);
		v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "cuda"), "version");
		if (!cJSON_IsString(v))
			return -GPE_PARSE;
		*ret = strdup(v->valuestring);
		return *ret ? 0 : -ENOMEM;
	}
	if (k != -ENOENT)
		return k;
	/* Toolkits before 11.1 wrote "CUDA Version 11.0.228" to version.txt. */
	text = mfree(text);
	k = root_read_file(ctx->root, path_fmt(path, "%s/version.txt", dir), CUDA_VERSION_MAX, &text, NULL);
	if (k < 0)
		return k;
	rest = startswith(text, "CUDA Version ");
	if (!rest)
		return -GPE_PARSE;
	*ret = strndup(rest, strcspn(rest, " \n"));
	return *ret ? 0 : -ENOMEM;
}

static int nvidia_cuda(const struct detect_ctx *ctx)
{
	struct nvidia_facts *nv = &ctx->facts->nvidia;
	_cleanup_(strv_freep) char **names = NULL;
	_cleanup_free_ char *def = NULL;
	int k;

	if (root_list_dir(ctx->root, "usr/local", &names) < 0)
		return 0;
	nv->cuda = calloc(strv_length(names) + 1, sizeof(*nv->cuda));
	if (!nv->cuda)
		return -ENOMEM;
	for (char **p = names; *p; p++) {
		struct cuda_toolkit *t = &nv->cuda[nv->n_cuda];
		char dir[PATH_MAX];

		if (!startswith(*p, "cuda-") || !root_is_dir(ctx->root, path_fmt(dir, "usr/local/%s", *p)))
			continue;
		k = cuda_read_version(ctx, dir, &t->version);
		if (k == -ENOMEM)
			return k;
		/* Toolkits unpacked from pip wheels have neither file: the name tells. */
		if (k == -ENOENT)
			t->version = strdup(*p + strlen("cuda-"));
		else if (k < 0) {
			facts_warn(ctx->facts, "%s: unreadable version file: %s", dir, gp_strerror(k));
			continue;
		}
		if (!t->version)
			return -ENOMEM;
		/* Counted at once, so facts_free() frees what this entry already holds. */
		nv->n_cuda++;
		if (asprintf(&t->path, "/%s", dir) < 0) {
			t->path = NULL;
			return -ENOMEM;
		}
	}
	if (root_chase(ctx->root, "usr/local/cuda", &def) >= 0 && !streq(def, "usr/local/cuda") &&
	    asprintf(&nv->cuda_default, "/%s", def) < 0)
		return -ENOMEM;
	return 0;
}

/* The fabric manager's binary; its version, with the other fabric components', from the
 * package database (fabric.c). */
static int nvidia_fabricmanager(const struct detect_ctx *ctx)
{
	struct nvidia_facts *nv = &ctx->facts->nvidia;
	int k;

	nv->fabricmanager = root_exists(ctx->root, "usr/bin/nv-fabricmanager") > 0 ? TRI_YES : TRI_NO;
	if ((k = fabric_detect(ctx)) < 0)
		return k;
	if (nv->fabricmanager_version)
		nv->fabricmanager = TRI_YES;
	return 0;
}

int nvidia_detect(const struct detect_ctx *ctx)
{
	int k;

	if ((k = nvidia_loaded_modules(ctx)) < 0 || (k = nvidia_running_driver(ctx)) < 0 ||
	    (k = nvidia_cuda(ctx)) < 0 || (k = nvidia_fabricmanager(ctx)) < 0)
		return k;
	return 0;
}
