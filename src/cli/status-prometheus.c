/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * status --prometheus: the node's state as metrics in the Prometheus text exposition format
 * (0.0.4), for node_exporter's textfile collector. Every metric has its HELP and TYPE; a
 * metric that cannot be known (no apply yet, no verdict yet) is left out rather than given a
 * made-up value, except the state set, the reboot flag and check's counts, which are always
 * there so that alerts on them never see a series vanish.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "apply/state.h"
#include "cli.h"
#include "host/facts.h"
#include "plan/check.h"
#include "status.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/write.h"

/* The values of gpuprov_state's "state" label, one series each: a state set. */
static const char *const prom_states[] = {
	"none", "running", "interrupted", "failed", "applied", "committed", "hardware_fault", "rolled_back",
	"rolled_back_by_hand", "reverted",
};

/* status's state as a label value: "applied" splits by verify's verdict on the stack. */
static const char *prom_state(const struct status_view *s)
{
	static const struct {
		const char *status, *prom;
	} map[] = {
		{ "never applied", "none" }, { "running", "running" }, { "interrupted", "interrupted" },
		{ "failed", "failed" },      { "reverted", "reverted" }, { "rolled back", "rolled_back_by_hand" },
	};
	const char *result = s->verdict ? s->verdict->result : NULL;

	for (size_t i = 0; i < ELEMENTSOF(map); i++)
		if (streq(s->state_name, map[i].status))
			return map[i].prom;
	if (streq_ptr(result, "committed"))
		return "committed";
	if (streq_ptr(result, HARDWARE_FAULT))
		return "hardware_fault";
	if (streq_ptr(result, "rolled back"))
		return "rolled_back";
	return "applied";
}

/* "2026-11-21T09:30:00Z" as seconds since the epoch; false when it is not such a time. */
static bool parse_utc(const char *text, long long *ret)
{
	struct tm tm = {};
	const char *end;

	if (!text || !(end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm)) || *end)
		return false;
	*ret = (long long)timegm(&tm);
	return true;
}

/* A label value as the format wants it: backslash, double quote and newline escaped. */
static void put_label_value(FILE *out, const char *v)
{
	for (; v && *v; v++)
		if (*v == '\\')
			fputs("\\\\", out);
		else if (*v == '"')
			fputs("\\\"", out);
		else if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
}

static void put_header(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP gpuprov_%s %s\n# TYPE gpuprov_%s %s\n", name, help, name, type);
}

static void put_gauge(FILE *out, const char *name, const char *help, long long value)
{
	put_header(out, name, "gauge", help);
	fprintf(out, "gpuprov_%s %lld\n", name, value);
}

/* gpuprov_info: the stack state.json records, and the fabric manager installed now. */
static void put_info(FILE *out, const struct state *state, const struct facts *f)
{
	const struct {
		const char *key, *value;
	} labels[] = { { "profile", state->profile }, { "kernel", state->kernel }, { "driver", state->driver },
		       { "cuda", state->cuda },	      { "flavour", state->flavour }, { "source", state->source } };

	put_header(out, "info", "gauge",
		   "The stack the last apply installed (state.json; cuda empty without a toolkit) and the "
		   "fabric manager version installed now (empty when none); always 1.");
	fputs("gpuprov_info{", out);
	for (size_t i = 0; i < ELEMENTSOF(labels); i++) {
		fprintf(out, "%s=\"", labels[i].key);
		put_label_value(out, labels[i].value);
		fputs("\",", out);
	}
	fputs("fabricmanager=\"", out);
	put_label_value(out, f ? f->nvidia.fabricmanager_version : NULL);
	fputs("\"} 1\n", out);
}

/* When the last apply ran and whether it ended well: its journal when the last run was an
 * apply, else state.json, which only an apply that ended without error writes. */
static void put_last_apply(FILE *out, const struct status_view *s, bool stack)
{
	const char *verb = json_str(s->journal, "verb");
	bool from_journal = s->journal && (!verb || streq(verb, "apply"));
	long long when;

	if (from_journal ? parse_utc(json_str(s->journal, "started"), &when)
			 : stack && parse_utc(s->state->applied, &when))
		put_gauge(out, "last_apply_timestamp_seconds",
			  "When the last apply ran (its start, or state.json's time), in seconds since the epoch.", when);
	/* A run going on now has no outcome yet. */
	if (from_journal && s->holder)
		return;
	if (from_journal || stack)
		put_gauge(out, "last_apply_success",
			  "1 when the last apply ended without error, 0 when it failed or was interrupted.",
			  !from_journal || (json_str(s->journal, "finished") && !json_str(s->journal, "error")));
}

static void put_findings(FILE *out, const struct findings *fs)
{
	static const enum severity sev[] = { SEVERITY_ERROR, SEVERITY_WARNING, SEVERITY_INFO };

	put_header(out, "check_findings", "gauge",
		   "The findings of gpuprov check on the installed stack, by severity.");
	for (size_t i = 0; i < ELEMENTSOF(sev); i++) {
		long long n = 0;

		for (size_t j = 0; j < fs->n; j++)
			n += fs->list[j].severity == sev[i];
		fprintf(out, "gpuprov_check_findings{severity=\"%s\"} %lld\n", severity_to_string(sev[i]), n);
	}
}

/* A recorded check's result label: "warn" is a check that failed without failing verify. */
static const char *check_result(const cJSON *c)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "ok"))	   ? "ok"
	       : cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "warn")) ? "warn"
									   : "fail";
}

/* The checks of verify's verdict, one series each. A verdict of a gpuprov that did not record
 * its checks has none. */
static void put_verify_checks(FILE *out, const cJSON *checks)
{
	const cJSON *c, *prev;

	put_header(out, "verify_check", "gauge",
		   "The checks of verify's last verdict, one series a check with its result (ok, fail, or warn: "
		   "failed without failing verify); always 1.");
	cJSON_ArrayForEach(c, checks) {
		const char *name = json_str(c, "check");
		bool seen = false;

		if (!name)
			continue;
		/* A series once: two checks of one name and result would be one series twice. */
		cJSON_ArrayForEach(prev, checks) {
			if (prev == c)
				break;
			seen = seen || (streq_ptr(json_str(prev, "check"), name) && streq(check_result(prev), check_result(c)));
		}
		if (seen)
			continue;
		fputs("gpuprov_verify_check{check=\"", out);
		put_label_value(out, name);
		fprintf(out, "\",result=\"%s\"} 1\n", check_result(c));
	}
}

static void put_metrics(FILE *out, const struct status_view *s, const struct facts *f, const struct findings *fs)
{
	const char *st = prom_state(s), *result = s->verdict ? s->verdict->result : NULL, *kernel;
	/* A stack gpuprov installed and still stands by (revert drops it). */
	bool stack = s->state && s->state->profile && !s->state->reverted;
	long long at;

	if (stack)
		put_info(out, s->state, f);
	put_header(out, "state", "gauge",
		   "The node's state as status reports it, one series a state: 1 for the current one, 0 for the others.");
	for (size_t i = 0; i < ELEMENTSOF(prom_states); i++)
		fprintf(out, "gpuprov_state{state=\"%s\"} %d\n", prom_states[i], streq(prom_states[i], st));
	put_last_apply(out, s, stack);
	put_gauge(out, "reboot_required", "1 while a reboot is pending: into the new stack's kernel, or Debian's flag.",
		  s->reboot);
	/* Only verify's verdicts: a rollback by hand says nothing of the stack's health. */
	if (streq_ptr(result, "committed") || streq_ptr(result, HARDWARE_FAULT) || streq_ptr(result, "rolled back")) {
		put_gauge(out, "last_verify_success",
			  "1 when verify after the last boot into the stack passed and committed it, 0 when it rolled back "
			  "or found a hardware fault.",
			  streq(result, "committed"));
		if (parse_utc(s->verdict->at, &at))
			put_gauge(out, "last_verify_timestamp_seconds",
				  "When verify gave its last verdict, in seconds since the epoch.", at);
		if (cJSON_GetArraySize(s->verdict->checks) > 0)
			put_verify_checks(out, s->verdict->checks);
	}
	kernel = streq_ptr(result, ROLLED_BACK_BY_HAND) ? s->verdict->kernel : s->state ? s->state->kernel : NULL;
	if (stack && kernel && s->running)
		put_gauge(out, "running_kernel_is_target",
			  "1 when the running kernel is the one the stack wants (after a rollback by hand, the one it went back to).",
			  streq(kernel, s->running));
	put_findings(out, fs);
}

/* Replaces path (relative to the working directory, or absolute) atomically: the temporary
 * file goes in path's own directory, which must exist. */
static int write_output(const char *path, const char *text, size_t size)
{
	_cleanup_free_ char *d = strdup(path), *b = strdup(path);
	_cleanup_(root_freep) struct root *dir = NULL;
	const char *base;
	int k;

	if (!d || !b)
		return log_error_errno(-ENOMEM, "cannot write %s", path), EXIT_CODE_FAILURE;
	base = basename(b);
	if (!*path || path[strlen(path) - 1] == '/' || streq(base, ".") || streq(base, "..")) {
		fprintf(stderr, "gpuprov status: --output '%s' is not a file name; try 'gpuprov status --help'\n", path);
		return EXIT_CODE_USAGE;
	}
	if ((k = root_open(dirname(d), &dir)) < 0)
		return log_error_errno(k, "cannot write %s: its directory %s", path, d), EXIT_CODE_FAILURE;
	if ((k = root_write_atomic(dir, base, text, size, 0644)) < 0)
		return log_error_errno(k, "cannot write %s", path), EXIT_CODE_FAILURE;
	return EXIT_CODE_OK;
}

int status_prometheus(struct cli *cli, const struct status_view *s)
{
	_cleanup_(facts_freep) struct facts *f = NULL;
	_cleanup_free_ char *text = NULL;
	struct findings fs = {};
	size_t size = 0;
	FILE *out;
	int r;

	if ((r = cli_check_findings(cli, &f, NULL, &fs)) != EXIT_CODE_OK)
		return r;
	out = open_memstream(&text, &size);
	if (!out) {
		findings_clear(&fs);
		return log_error_errno(-errno, "cannot write the metrics"), EXIT_CODE_FAILURE;
	}
	put_metrics(out, s, f, &fs);
	findings_clear(&fs);
	if (fclose(out) != 0)
		return log_error_errno(-ENOMEM, "cannot write the metrics"), EXIT_CODE_FAILURE;
	if (cli->output)
		return write_output(cli->output, text, size);
	if (fwrite(text, 1, size, stdout) != size || fflush(stdout) != 0)
		return log_error_errno(-errno, "cannot write the metrics"), EXIT_CODE_FAILURE;
	return EXIT_CODE_OK;
}
