/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verify's "diag" check: DCGM's GPU diagnostic, where DCGM is installed.
 *
 * libdcgm is only dlopen'ed, to learn that DCGM is there; the diagnostic itself runs as
 * `dcgmi diag -r LEVEL -j` and its JSON is read. Not dcgmRunDiagnostic in embedded mode
 * (dcgmStartEmbedded_v2): its result is a dcgmDiagResponse_vN whose layout and version
 * number change with each DCGM release (dcgm_structs.h), so reading it without the headers
 * of the very DCGM installed means guessing offsets; and an embedded host engine runs the
 * diagnostic's plugins in gpuprov's own process, where a hang cannot be ended by a timeout
 * short of ending verify. A dcgmi process can be killed at the timeout, and its -j output
 * is the form DCGM documents for scripts (DCGM User Guide, "DCGM Diagnostics").
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply/verify.h"
#include "host/nvml.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/spawn.h"
#include "util/strutil.h"

#define DIAG_LEVEL_DEFAULT 1
/* Level 1 normally lasts seconds, level 2 about two minutes, level 3 about 15 (NVIDIA's
 * dcgmi diag reference, --run): a longer diagnostic wants verify.diag.timeout raised. */
#define DIAG_TIMEOUT_DEFAULT 300u

/* The sonames of DCGM 4 and DCGM 3 (the datacenter-gpu-manager packages). */
static const char *const dcgm_libs[] = { "libdcgm.so.4", "libdcgm.so.3" };

static bool dcgm_installed(void)
{
	for (size_t i = 0; i < ELEMENTSOF(dcgm_libs); i++) {
		void *h = dlopen(dcgm_libs[i], RTLD_LAZY | RTLD_LOCAL);
		bool ok = h && dlsym(h, "dcgmInit");

		if (h)
			dlclose(h);
		if (ok)
			return true;
	}
	return false;
}

/* dcgmi in gpuprov's own PATH (the boot unit's, or the shell's); NULL when none. */
static char *find_dcgmi(void)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *dirs = strdup(path && *path ? path : "/usr/bin:/bin:/usr/sbin:/sbin");

	if (!dirs)
		return NULL;
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		struct stat st;
		char *p;

		if (*d != '/' || asprintf(&p, "%s/dcgmi", d) < 0)
			continue;
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

/* DCGM's words, on one line and bounded: they end up in a check's detail. */
static void copy_text(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; src && *src && i + 1 < size; src++)
		dst[i++] = (unsigned char)*src < 0x20 || *src == 0x7f ? ' ' : *src;
	dst[i] = '\0';
}

/* A GPU id as DCGM writes it, a number or a string of one; -1 for anything else (a list of
 * several, "0,1,2,3"). */
static int gpu_id(const cJSON *g)
{
	const char *s = cJSON_GetStringValue(g);
	double v = cJSON_IsNumber(g) ? g->valuedouble : -1;

	if (s && *s) {
		char *end;
		long l;

		errno = 0;
		l = strtol(s, &end, 10);
		v = errno == 0 && *end == '\0' ? (double)l : -1;
	}
	return v >= 0 && v < 4096 ? (int)v : -1;
}

/* DCGM 4 names a result's GPU "entity_id" (with "entity_group": "GPU"); DCGM 3 "gpu_id" or
 * "gpu_ids". -1: not one GPU. */
static int result_gpu(const cJSON *res)
{
	const char *group = json_str(res, "entity_group");
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(res, "entity_id");

	if (g)
		return !group || streq(group, "GPU") ? gpu_id(g) : -1;
	if (!(g = cJSON_GetObjectItemCaseSensitive(res, "gpu_id")))
		g = cJSON_GetObjectItemCaseSensitive(res, "gpu_ids");
	return gpu_id(g);
}

/* What DCGM said of a failed result: its first warning, else its info (a string in DCGM 3, an
 * array of strings in DCGM 4). */
static const char *result_text(const cJSON *res)
{
	const cJSON *w = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res, "warnings"), 0);
	const cJSON *info = cJSON_GetObjectItemCaseSensitive(res, "info");

	if (json_str(w, "warning"))
		return json_str(w, "warning");
	if (cJSON_IsArray(info))
		info = cJSON_GetArrayItem(info, 0);
	return cJSON_GetStringValue(info);
}

static void add_failure(struct dcgm_diag *d, const char *test, int gpu, const char *text)
{
	if (d->n_failures < DCGM_FAILURES_MAX) {
		struct dcgm_failure *f = &d->failures[d->n_failures];

		copy_text(f->test, sizeof(f->test), test);
		f->gpu = gpu;
		copy_text(f->info, sizeof(f->info), text ? text : "no reason given");
	}
	d->n_failures++;
}

static int bad(char **ret_why, const char *why)
{
	*ret_why = strdup(why);
	return *ret_why ? -EBADMSG : -ENOMEM;
}

static int parse_test(const cJSON *test, struct dcgm_diag *d, char **ret_why)
{
	const char *name = json_str(test, "name");
	const cJSON *results = cJSON_GetObjectItemCaseSensitive(test, "results"), *res;
	const char *summary = json_str(cJSON_GetObjectItemCaseSensitive(test, "test_summary"), "status");
	unsigned failed = 0;

	if (!name || !cJSON_IsArray(results))
		return bad(ret_why, "a test without a \"name\" or \"results\"");
	cJSON_ArrayForEach(res, results) {
		const char *status = json_str(res, "status");

		if (!status)
			return bad(ret_why, "a result without a \"status\"");
		d->tests++;
		if (strcasecmp(status, "skip") == 0)
			d->skipped++;
		else if (strcasecmp(status, "fail") == 0) {
			add_failure(d, name, result_gpu(res), result_text(res));
			failed++;
		}
	}
	/* DCGM 4's summary of the test, failed for a reason no GPU's result carries. */
	if (summary && strcasecmp(summary, "fail") == 0 && failed == 0)
		add_failure(d, name, -1, result_text(cJSON_GetObjectItemCaseSensitive(test, "test_summary")));
	return 0;
}

/* DCGM 3 writes {"DCGM GPU Diagnostic": {"test_categories": [{"category", "tests": [{"name",
 * "results": [{"gpu_id", "status", "warnings", "info"}]}]}]}}; DCGM 4 the same tree under
 * "DCGM Diagnostic", with results by "entity_group"/"entity_id", a "test_summary" per test
 * and "runtime_error" where the diagnostic could not run (DCGM release notes, 4.0 breaking
 * changes; the JSON checks of NVIDIA's DCGM test suite). */
int dcgm_diag_parse(const char *text, struct dcgm_diag *ret, char **ret_why)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = cJSON_Parse(text);
	const cJSON *top, *cats, *cat, *test;
	const char *runtime;
	struct dcgm_diag d = {};
	int k;

	*ret_why = NULL;
	if (!doc)
		return bad(ret_why, "not JSON");
	if (!(top = cJSON_GetObjectItemCaseSensitive(doc, "DCGM Diagnostic")))
		top = cJSON_GetObjectItemCaseSensitive(doc, "DCGM GPU Diagnostic");
	if (!cJSON_IsObject(top))
		return bad(ret_why, "no \"DCGM Diagnostic\" (or \"DCGM GPU Diagnostic\") object");
	if ((runtime = json_str(top, "runtime_error")) || (runtime = json_str(doc, "runtime_error"))) {
		add_failure(&d, "runtime error", -1, runtime);
		*ret = d;
		return 0;
	}
	cats = cJSON_GetObjectItemCaseSensitive(top, "test_categories");
	if (!cJSON_IsArray(cats))
		return bad(ret_why, "no \"test_categories\" array");
	cJSON_ArrayForEach(cat, cats) {
		const cJSON *tests = cJSON_GetObjectItemCaseSensitive(cat, "tests");

		if (!cJSON_IsArray(tests))
			return bad(ret_why, "a test category without a \"tests\" array");
		cJSON_ArrayForEach(test, tests)
			if ((k = parse_test(test, &d, ret_why)) < 0)
				return k;
	}
	if (d.tests == 0 && d.n_failures == 0)
		return bad(ret_why, "no test results");
	*ret = d;
	return 0;
}

/* "GPU 0000:18:00.0 (serial 1654922012345, DCGM GPU 0)": DCGM numbers the GPUs it finds in
 * NVML's order, so its id is taken as NVML's index where NVML answers. */
static void print_gpu(FILE *f, struct nvml *nvml, int gpu)
{
	nvml_device_t dev;
	char bus[32], serial[32];

	if (gpu < 0) {
		fputs("all GPUs", f);
		return;
	}
	if (nvml && nvml_device(nvml, (unsigned)gpu, &dev) == NVML_OK) {
		nvml_identity(nvml, dev, bus, serial);
		if (!streq(bus, "?")) {
			fprintf(f, "GPU %s (serial %s, DCGM GPU %d)", bus, serial, gpu);
			return;
		}
	}
	fprintf(f, "DCGM GPU %d", gpu);
}

/* The check "diag": the GPUs' health, not the stack's. */
static int add_diag(struct verify_report *r, bool warn, bool ok, const char *fmt, ...) _printf_(4, 5);
static int add_diag(struct verify_report *r, bool warn, bool ok, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = verify_addv(r, "diag", VERIFY_HARDWARE, warn, ok, fmt, ap);
	va_end(ap);
	return k;
}

static int report_failures(struct verify_report *r, int level, const struct dcgm_diag *d)
{
	_cleanup_(nvml_closep) struct nvml *nvml = NULL;
	_cleanup_free_ char *why = NULL, *text = NULL;
	size_t len = 0;
	FILE *f;

	if (nvml_open(&nvml, &why) == -ENOMEM)
		return -ENOMEM;
	if (!(f = open_memstream(&text, &len)))
		return -ENOMEM;
	fprintf(f, "DCGM diagnostic level %d: %u of %u results failed: ", level, d->n_failures, d->tests);
	for (unsigned i = 0; i < d->n_failures && i < DCGM_FAILURES_MAX; i++) {
		fputs(i ? "; " : "", f);
		print_gpu(f, nvml, d->failures[i].gpu);
		fprintf(f, ": %s: %s", d->failures[i].test, d->failures[i].info);
	}
	if (d->n_failures > DCGM_FAILURES_MAX)
		fprintf(f, "; and %u more", d->n_failures - DCGM_FAILURES_MAX);
	if (fclose(f) != 0)
		return -ENOMEM;
	return add_diag(r, false, false, "%s", text);
}

int verify_dcgm(const struct state *state, struct verify_report *r)
{
	const cJSON *diag = cJSON_GetObjectItemCaseSensitive(state->health, "diag");
	/* The ranges profile validation allows: state.json may have been edited by hand since. */
	int level = (int)json_whole(diag, "level", 0, 4, DIAG_LEVEL_DEFAULT);
	unsigned timeout = (unsigned)json_whole(diag, "timeout", 0, VERIFY_SECONDS_MAX, DIAG_TIMEOUT_DEFAULT);
	_cleanup_free_ char *dcgmi = NULL, *why = NULL;
	struct spawn_result sr = {};
	struct dcgm_diag d;
	char levelstr[16], line[256];
	int k;

	if (level <= 0)
		return 0;
	if (!dcgm_installed())
		return add_diag(r, false, true, "DCGM not installed; diagnostic skipped");
	/* A packaging matter, not the GPUs': reported, verify not failed for it. */
	if (!(dcgmi = find_dcgmi()))
		return add_diag(r, true, false,
				"DCGM is installed (libdcgm) but dcgmi is not in PATH; diagnostic skipped");
	snprintf(levelstr, sizeof(levelstr), "%d", level);
	char *argv[] = { dcgmi, "diag", "-r", levelstr, "-j", NULL };
	struct spawn_opts opts = { .timeout_s = timeout, .exec_fd = -1 };

	if ((k = spawn_run_opts(NULL, 0, argv, NULL, &opts, &sr)) < 0)
		return k == -ENOMEM ? k : add_diag(r, false, false, "%s cannot be run: %s", dcgmi, gp_strerror(k));
	if (sr.timed_out)
		k = add_diag(r, false, false, "`dcgmi diag -r %d` timed out after %u s", level, timeout);
	else if ((k = dcgm_diag_parse(sr.out, &d, &why)) == -ENOMEM)
		;
	else if (k < 0) {
		/* dcgmi's own error (no host engine to connect to, a level it does not have) is on
		 * stderr, or in place of the JSON. */
		spawn_last_line(*sr.err ? sr.err : sr.out, line, sizeof(line));
		k = add_diag(r, false, false, "`dcgmi diag -r %d -j` exited with %d, its output unreadable (%s)%s%s",
			     level, sr.status, why, *line ? ": " : "", line);
	} else if (d.n_failures > 0)
		k = report_failures(r, level, &d);
	else
		k = add_diag(r, false, true, "DCGM diagnostic level %d passed: %u results, %u skipped", level, d.tests,
			     d.skipped);
	spawn_result_done(&sr);
	return k;
}
