/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov gpu apply|show: the GPUs' declared state (the profile's "gpu" section) set through
 * NVML (gpuprov-gpu.service runs apply at every boot), or shown beside what the GPUs say. */
#include <errno.h>
#include <stdio.h>

#include "apply/gpu-state.h"
#include "apply/state.h"
#include "cli.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"

const char verb_gpu_usage[] = "apply|show\n"
			      "The GPUs' declared state, the \"gpu\" section of the profile last applied\n"
			      "(persistence, ECC, MIG mode and layout, compute mode, power limit, locked\n"
			      "clocks). apply sets, through NVML, what differs on each GPU; ECC and MIG\n"
			      "mode take effect after a reboot or a GPU reset and are reported pending\n"
			      "(exit 3 when a setting could not be set). show prints, per GPU, each\n"
			      "declared value beside the GPU's (--json: as a document).\n";

static void print_lines(const char *what, char *const *v)
{
	for (; v && *v; v++)
		printf("%s%s\n", what, *v);
}

static int gpu_apply(struct cli *cli, const cJSON *decl)
{
	_cleanup_free_ char *why = NULL;
	struct gpu_apply_report rep = {};
	int k = gpu_state_apply(cli->root, decl, &rep, &why);
	bool failed;

	if (k < 0)
		return log_error("gpu apply: %s", why ? why : gp_strerror(k)), EXIT_CODE_FAILURE;
	print_lines("set: ", rep.done);
	print_lines("pending: ", rep.pending);
	print_lines("as declared: ", rep.unchanged);
	for (char **f = rep.failed; f && *f; f++)
		log_error("not set: %s", *f);
	if (rep.n_done == 0 && rep.n_failed == 0)
		puts("nothing changed: every GPU is as declared (or pending)");
	failed = rep.n_failed > 0;
	gpu_apply_report_done(&rep);
	return failed ? EXIT_CODE_REFUSED : EXIT_CODE_OK;
}

static int gpu_show(struct cli *cli, const cJSON *decl)
{
	_cleanup_(nvml_closep) struct nvml *n = NULL;
	_cleanup_(cJSON_Deletep) cJSON *doc = cJSON_CreateArray();
	_cleanup_free_ char *why = NULL;
	unsigned count = 0;
	int k;

	if (!doc)
		return log_error_errno(-ENOMEM, "gpu show"), EXIT_CODE_FAILURE;
	if ((k = nvml_open_count(&n, &count, &why)) < 0)
		return log_error("gpu show: %s", strna(why)), EXIT_CODE_FAILURE;
	for (unsigned i = 0; i < count; i++) {
		struct gpu_view v;
		cJSON *g, *set;

		if ((k = gpu_view_read(n, cli->root, decl, i, &v)) < 0)
			return log_error_errno(k, "gpu show: GPU %u", i), EXIT_CODE_FAILURE;
		if (!cli->json)
			printf("GPU %s (serial %s)\n", v.bus, v.serial);
		if (!(g = cJSON_CreateObject()) || !cJSON_AddItemToArray(doc, g) || !cJSON_AddStringToObject(g, "bus", v.bus) ||
		    !cJSON_AddStringToObject(g, "serial", v.serial) || !(set = cJSON_AddArrayToObject(g, "settings")))
			return gpu_view_done(&v), log_error_errno(-ENOMEM, "gpu show"), EXIT_CODE_FAILURE;
		for (size_t j = 0; j < v.n; j++) {
			const struct gpu_setting *s = &v.settings[j];
			_cleanup_free_ char *line = NULL;
			cJSON *o;

			if (gpu_setting_describe(s, &line) < 0 || !(o = cJSON_CreateObject()) || !cJSON_AddItemToArray(set, o) ||
			    !cJSON_AddStringToObject(o, "key", s->key) || !cJSON_AddStringToObject(o, "declared", s->want) ||
			    !json_add_str_or_null(o, "actual", s->have) || !json_add_str_or_null(o, "pending", s->pending) ||
			    !cJSON_AddBoolToObject(o, "recorded", s->recorded) ||
			    !cJSON_AddBoolToObject(o, "as_declared", s->have && gpu_setting_ok(s)))
				return gpu_view_done(&v), log_error_errno(-ENOMEM, "gpu show"), EXIT_CODE_FAILURE;
			if (!cli->json)
				printf("  %s %s\n", gpu_setting_ok(s) ? "ok  " : "DIFF", line);
		}
		gpu_view_done(&v);
	}
	return cli->json ? cli_print_json(TAKE_PTR(doc)) : EXIT_CODE_OK;
}

int verb_gpu(struct cli *cli, _unused_ const struct verb *self, _unused_ int argc, char **argv)
{
	_cleanup_(state_freep) struct state *state = NULL;
	bool apply = streq(argv[0], "apply");
	int k;

	if (!apply && !streq(argv[0], "show"))
		return log_error("gpu: unknown command '%s' (apply, show)", argv[0]), EXIT_CODE_USAGE;
	k = state_load(cli->root, &state);
	if (k < 0 && k != -ENOENT)
		return log_error("%s/%s: %s", cli->root->path, STATE_FILE, gp_strerror(k)), EXIT_CODE_FAILURE;
	if (k < 0 || !state->gpu)
		return puts("the profile last applied declares no GPU state; nothing to do"), EXIT_CODE_OK;
	return apply ? gpu_apply(cli, state->gpu) : gpu_show(cli, state->gpu);
}
