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
#include "host/nvml-state.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/root.h"
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

/*
 * Where DCGM's packages (datacenter-gpu-manager) put dcgmi, then a local build's place; looked
 * up in the system root, never in the caller's PATH: an operator's shell may name a directory
 * anyone can write, and dcgmi runs as root.
 */
static const char *const dcgmi_paths[] = { "usr/bin/dcgmi", "usr/sbin/dcgmi", "usr/local/bin/dcgmi" };

/*
 * dcgmi opened in the root, to be run through the descriptor (what was checked is what runs);
 * *ret_path its path. -ENOENT where there is none; -EPERM with *ret_why where the first one
 * found may not be trusted to run as root (verify_untrusted); -errno.
 */
static int open_dcgmi(const struct root *sys, const char **ret_path, const char **ret_why)
{
	for (size_t i = 0; i < ELEMENTSOF(dcgmi_paths); i++) {
		_cleanup_close_ int fd = root_open_regular(sys, dcgmi_paths[i]);
		struct stat st;
		int k;

		if (fd == -ENOENT)
			continue;
		*ret_path = dcgmi_paths[i];
		if (fd < 0) {
			*ret_why = gp_strerror(fd);
			return fd == -ENOMEM ? fd : -EPERM;
		}
		if (fstat(fd, &st) < 0)
			return -errno;
		if ((*ret_why = verify_untrusted(&st, false)))
			return -EPERM;
		k = fd;
		fd = -1;
		return k;
	}
	return -ENOENT;
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

static void add_failure(struct dcgm_diag *d, const char *test, int gpu, enum dcgm_kind kind, const char *text)
{
	if (d->n_failures < DCGM_FAILURES_MAX) {
		struct dcgm_failure *f = &d->failures[d->n_failures];

		copy_text(f->test, sizeof(f->test), test);
		f->gpu = gpu;
		f->kind = kind;
		copy_text(f->info, sizeof(f->info), text ? text : "no reason given");
	}
	d->n_failures++;
}

static int bad(char **ret_why, const char *why)
{
	*ret_why = strdup(why);
	return *ret_why ? -EBADMSG : -ENOMEM;
}

/*
 * DCGM's software checks (denylisted modules, the NVML and CUDA libraries, permissions,
 * persistence mode, ...) are the category "Deployment": in DCGM 4 the one test "software", in
 * DCGM 3 a test each (DCGM User Guide, "DCGM Diagnostics": the run levels' Deployment tests,
 * the Software plugin). A failure there is the stack's, whatever GPU it names.
 */
static bool software_test(const char *category, const char *name)
{
	return (category && strcasecmp(category, "Deployment") == 0) || strcasecmp(name, "software") == 0;
}

static int parse_test(const cJSON *test, const char *category, struct dcgm_diag *d, char **ret_why)
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
			int gpu = result_gpu(res);

			add_failure(d, name, gpu,
				    software_test(category, name) ? DCGM_SOFTWARE
				    : gpu >= 0		      ? DCGM_HARDWARE
							      : DCGM_OTHER,
				    result_text(res));
			failed++;
		}
	}
	/* DCGM 4's summary of the test, failed for a reason no GPU's result carries. */
	if (summary && strcasecmp(summary, "fail") == 0 && failed == 0)
		add_failure(d, name, -1, software_test(category, name) ? DCGM_SOFTWARE : DCGM_OTHER,
			    result_text(cJSON_GetObjectItemCaseSensitive(test, "test_summary")));
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
		add_failure(&d, "runtime error", -1, DCGM_OTHER, runtime);
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
			if ((k = parse_test(test, json_str(cat, "category"), &d, ret_why)) < 0)
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

/* The check "diag", of class: what failed says whose fault it is. */
static int add_diag(struct verify_report *r, enum verify_class class, bool warn, bool ok, const char *fmt, ...)
	_printf_(5, 6);
static int add_diag(struct verify_report *r, enum verify_class class, bool warn, bool ok, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = verify_addv(r, "diag", class, warn, ok, fmt, ap);
	va_end(ap);
	return k;
}

/* A note that the diagnostic did not run (passing, of the GPUs as a diagnostic that passed),
 * or a failure of DCGM itself (no host engine, its runtime error, a hang, output not its JSON):
 * neither the new stack's fault, to roll it back for, nor a GPU's, to hold the node for; it is
 * software trouble, reported, verify not failed. */
#define add_note(r, ok, ...) add_diag(r, (ok) ? VERIFY_HARDWARE : VERIFY_STACK, !(ok), ok, __VA_ARGS__)

/*
 * One check for all failures, so that the name stays one: a software test failed, the stack's
 * fault (and the hardware tests' results after it are not trusted to condemn a GPU); else a
 * GPU failed a hardware test, the GPU's; else DCGM failed, a warning.
 */
static int report_failures(struct verify_report *r, int level, const struct dcgm_diag *d)
{
	_cleanup_(nvml_closep) struct nvml *nvml = NULL;
	_cleanup_free_ char *why = NULL, *text = NULL;
	bool software = false, hardware = false;
	size_t len = 0;
	FILE *f;

	if (nvml_open(&nvml, &why) == -ENOMEM)
		return -ENOMEM;
	if (!(f = open_memstream(&text, &len)))
		return -ENOMEM;
	fprintf(f, "DCGM diagnostic level %d: %u of %u results failed: ", level, d->n_failures, d->tests);
	for (unsigned i = 0; i < d->n_failures && i < DCGM_FAILURES_MAX; i++) {
		software |= d->failures[i].kind == DCGM_SOFTWARE;
		hardware |= d->failures[i].kind == DCGM_HARDWARE;
		fputs(i ? "; " : "", f);
		print_gpu(f, nvml, d->failures[i].gpu);
		fprintf(f, ": %s: %s", d->failures[i].test, d->failures[i].info);
	}
	if (d->n_failures > DCGM_FAILURES_MAX)
		fprintf(f, "; and %u more", d->n_failures - DCGM_FAILURES_MAX);
	if (fclose(f) != 0)
		return -ENOMEM;
	if (software || hardware)
		return add_diag(r, software ? VERIFY_STACK : VERIFY_HARDWARE, false, false, "%s", text);
	return add_note(r, false, "%s", text);
}

/*
 * DCGM's diagnostic does not run on a GPU in MIG mode (DCGM User Guide, "DCGM Diagnostics":
 * MIG is not supported): where one is, nothing is run. 1 with a note added, 0 where no GPU
 * NVML knows is in MIG mode, -ENOMEM. NVML is closed again before dcgmi runs.
 */
static int mig_skip(struct verify_report *r)
{
	_cleanup_(nvml_closep) struct nvml *nvml = NULL;
	_cleanup_free_ char *why = NULL, *text = NULL;
	unsigned count = 0, mig = 0;
	size_t len = 0;
	FILE *f;
	int k = nvml_open(&nvml, &why);

	if (k == -ENOMEM)
		return k;
	if (k < 0 || nvml_count(nvml, &count) != NVML_OK)
		return 0;
	if (!(f = open_memstream(&text, &len)))
		return -ENOMEM;
	for (unsigned i = 0; i < count; i++) {
		nvml_device_t dev;
		char bus[32], serial[32];
		bool current = false, pending = false;

		if (nvml_device(nvml, i, &dev) != NVML_OK || nvml_mig_get(nvml, dev, &current, &pending) != NVML_OK ||
		    !current)
			continue;
		nvml_identity(nvml, dev, bus, serial);
		fprintf(f, "%sGPU %s (serial %s)", mig++ ? ", " : "", bus, serial);
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	if (!mig)
		return 0;
	k = add_note(r, true, "diagnostic skipped: DCGM's diagnostic does not run on GPUs in MIG mode: %s", text);
	return k < 0 ? k : 1;
}

int verify_dcgm(const struct root *sys, const struct state *state, struct verify_report *r)
{
	const cJSON *diag = cJSON_GetObjectItemCaseSensitive(state->health, "diag");
	/* The ranges profile validation allows: state.json may have been edited by hand since. */
	int level = (int)json_whole(diag, "level", 0, 4, DIAG_LEVEL_DEFAULT);
	unsigned timeout = (unsigned)json_whole(diag, "timeout", 0, VERIFY_SECONDS_MAX, DIAG_TIMEOUT_DEFAULT);
	_cleanup_free_ char *why = NULL;
	_cleanup_close_ int fd = -1;
	const char *dcgmi = NULL, *untrusted = NULL;
	struct spawn_result sr = {};
	struct dcgm_diag d;
	char levelstr[16], line[256];
	int k;

	if (level <= 0)
		return 0;
	if (!dcgm_installed())
		return add_note(r, true, "DCGM not installed; diagnostic skipped");
	if ((k = mig_skip(r)) != 0)
		return k < 0 ? k : 0;
	/* A packaging matter, not the GPUs': reported, verify not failed for it. */
	fd = open_dcgmi(sys, &dcgmi, &untrusted);
	if (fd == -ENOENT)
		return add_note(r, false,
				"DCGM is installed (libdcgm) but dcgmi is not in /usr/bin, /usr/sbin or /usr/local/bin; diagnostic skipped");
	if (fd == -EPERM)
		return add_note(r, false, "/%s refused, diagnostic skipped: %s", dcgmi, untrusted);
	if (fd < 0)
		return fd;
	snprintf(levelstr, sizeof(levelstr), "%d", level);
	char *argv[] = { "dcgmi", "diag", "-r", levelstr, "-j", NULL };
	struct spawn_opts opts = { .timeout_s = timeout, .exec_fd = fd };

	if ((k = spawn_run_opts(NULL, 0, argv, NULL, &opts, &sr)) < 0)
		return k == -ENOMEM ? k : add_note(r, false, "/%s cannot be run: %s", dcgmi, gp_strerror(k));
	if (sr.timed_out)
		k = add_note(r, false, "`dcgmi diag -r %d` timed out after %u s", level, timeout);
	else if ((k = dcgm_diag_parse(sr.out, &d, &why)) == -ENOMEM)
		;
	else if (k < 0) {
		/* dcgmi's own error (no host engine to connect to, a level it does not have) is on
		 * stderr, or in place of the JSON. */
		spawn_last_line(*sr.err ? sr.err : sr.out, line, sizeof(line));
		k = add_note(r, false, "`dcgmi diag -r %d -j` exited with %d, its output unreadable (%s)%s%s", level,
			     sr.status, why, *line ? ": " : "", line);
	} else if (d.n_failures > 0)
		k = report_failures(r, level, &d);
	else
		k = add_diag(r, VERIFY_HARDWARE, false, true, "DCGM diagnostic level %d passed: %u results, %u skipped",
			     level, d.tests, d.skipped);
	spawn_result_done(&sr);
	return k;
}
