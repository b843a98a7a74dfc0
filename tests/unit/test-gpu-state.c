/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The GPUs' declared state: GPU instance profiles named as nvidia-smi names them; a
 * setting judged and described the way verify, check and gpu show print it; and the plan's
 * gpu action, asked of the NVML stand-in (tests/helpers/nvml-stub-state.c), flagged by what
 * its changes need, or left to the boot unit. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply/gpu-state.h"
#include "host/nvml-state.h"
#include "plan/plan.h"
#include "util/root.h"

static void test_mig_profile_name(void **state)
{
	char buf[32];

	(void)state;
	/* nvidia-smi mig -lgip on an A100 40GB (NVIDIA's MIG User Guide): 39.25 GiB is 7g.40gb,
	 * 4.75 GiB 1g.5gb: the memory is rounded up. */
	nvml_mig_profile_name(4, 7, 40192, buf);
	assert_string_equal(buf, "7g.40gb");
	nvml_mig_profile_name(0, 1, 4864, buf);
	assert_string_equal(buf, "1g.5gb");
	nvml_mig_profile_name(2, 3, 40192, buf);
	assert_string_equal(buf, "3g.40gb");
	/* Whole GiB stay as they are. */
	nvml_mig_profile_name(0, 1, 10240, buf);
	assert_string_equal(buf, "1g.10gb");
	/* The _REV1 profiles (0x7, 0x8) carry the media extensions. */
	nvml_mig_profile_name(7, 1, 9856, buf);
	assert_string_equal(buf, "1g.10gb+me");
	nvml_mig_profile_name(8, 2, 19968, buf);
	assert_string_equal(buf, "2g.20gb+me");
	/* _REV2 (0x9) has none: its memory tells it apart. */
	nvml_mig_profile_name(9, 1, 19968, buf);
	assert_string_equal(buf, "1g.20gb");
}

static void test_setting(void **state)
{
	struct gpu_setting s = { .key = "power_limit_w", .want = "500", .have = "700" };
	char *line = NULL;

	(void)state;
	assert_false(gpu_setting_ok(&s));
	assert_int_equal(gpu_setting_describe(&s, &line), 0);
	assert_string_equal(line, "power_limit_w 500 W (now 700 W)");
	free(line);
	s.have = "500";
	assert_true(gpu_setting_ok(&s));
	/* Nothing to read it from: not a difference, and said so. */
	s.have = NULL;
	assert_true(gpu_setting_ok(&s));
	assert_int_equal(gpu_setting_describe(&s, &line), 0);
	assert_string_equal(line, "power_limit_w 500 W (not supported by this GPU or driver, and not set by gpuprov gpu apply)");
	free(line);
	s = (struct gpu_setting){ .key = "ecc", .want = "on", .have = "off", .pending = "on" };
	assert_false(gpu_setting_ok(&s));
	assert_string_equal(gpu_setting_needs(&s), "needs a reboot");
	assert_int_equal(gpu_setting_describe(&s, &line), 0);
	assert_string_equal(line, "ecc on (now off; pending on, needs a reboot)");
	free(line);
	s = (struct gpu_setting){ .key = "mig.layout", .want = "", .have = "3g.40gb", .recorded = false };
	assert_int_equal(gpu_setting_describe(&s, &line), 0);
	assert_string_equal(line, "mig.layout none (now 3g.40gb)");
	free(line);
	s = (struct gpu_setting){ .key = "locked_clocks", .want = "1200,1980", .have = "1200,1980", .recorded = true };
	assert_int_equal(gpu_setting_describe(&s, &line), 0);
	assert_string_equal(line, "locked_clocks 1200,1980 (now 1200,1980 as gpuprov set it)");
	assert_null(gpu_setting_needs(&s));
	free(line);
}

struct fixture {
	char top[64];
	struct root *r;
	struct profile p;
	struct facts f;
	struct resolution res;
	struct plan *pl;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char nvml[128];

	strcpy(fx->top, "/tmp/gpuprov-test-gpu-XXXXXX");
	assert_non_null(mkdtemp(fx->top));
	snprintf(nvml, sizeof(nvml), "%s/nvml", fx->top);
	unit_put(fx->top, "nvml",
		 "count=1\ngpu0.bus=00000000:18:00.0\ngpu0.serial=1654922012345\ngpu0.ecc=0\ngpu0.mig=0\n"
		 "gpu0.power_limit=700000\ngpu0.power_min=200000\ngpu0.power_max=700000\n");
	setenv("GPUPROV_TEST_NVML_FILE", nvml, 1);
	assert_int_equal(root_open(fx->top, &fx->r), 0);
	fx->p = (struct profile){ .name = "gpu" };
	fx->f.nvidia.driver_version = (char *)"570.133.20";
	fx->res.driver = (char *)"570.133.20";
	assert_non_null(fx->pl = calloc(1, sizeof(*fx->pl)));
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	root_free(fx->r);
	plan_free(fx->pl);
	cJSON_Delete(fx->p.doc);
	unit_sh("rm -rf %s", fx->top);
	free(fx);
	return 0;
}

static const struct action *gpu_action(const struct plan *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		if (!strcmp(pl->actions[i].kind, "gpu"))
			return &pl->actions[i];
	return NULL;
}

static void plan_with(struct fixture *fx, const char *profile)
{
	assert_non_null(fx->p.doc = cJSON_Parse(profile));
	assert_int_equal(plan_gpu(fx->pl, &fx->p, &fx->f, &fx->res, fx->r), 0);
}

static void test_plan_now(void **state)
{
	struct fixture *fx = *state;
	const struct action *a;

	plan_with(fx, "{\"gpu\": {\"power_limit_w\": 500, \"ecc\": true, \"mig\": {\"mode\": true}}}");
	assert_non_null(a = gpu_action(fx->pl));
	assert_string_equal(a->reason, "GPU 0000:18:00.0 (serial 1654922012345): ecc off -> on, needs a reboot; "
				       "GPU 0000:18:00.0 (serial 1654922012345): mig.mode off -> on, needs a GPU reset or reboot; "
				       "GPU 0000:18:00.0 (serial 1654922012345): power_limit_w 700 -> 500");
	/* The strongest need: a reboot covers a GPU reset. */
	assert_string_equal(a->detail, "needs a reboot");
}

/* A GPU NVML has no handle for: the other GPUs' differences stay, and the plan names it. */
static void test_plan_lost_gpu(void **state)
{
	struct fixture *fx = *state;
	const struct action *a;

	unit_put(fx->top, "nvml",
		 "count=2\ngpu0.lost=1\ngpu1.bus=00000000:2a:00.0\ngpu1.serial=1654922012346\ngpu1.ecc=1\ngpu1.mig=0\n"
		 "gpu1.power_limit=700000\ngpu1.power_min=200000\ngpu1.power_max=700000\n");
	plan_with(fx, "{\"gpu\": {\"power_limit_w\": 500}}");
	assert_non_null(a = gpu_action(fx->pl));
	assert_string_equal(a->reason, "GPU 0: cannot be read, NVML has no handle for it; "
				       "GPU 0000:2a:00.0 (serial 1654922012346): power_limit_w 700 -> 500");
}

static void test_plan_reset(void **state)
{
	struct fixture *fx = *state;
	const struct action *a;

	plan_with(fx, "{\"gpu\": {\"mig\": {\"mode\": true}}}");
	assert_non_null(a = gpu_action(fx->pl));
	assert_string_equal(a->detail, "needs a GPU reset or reboot");
}

static void test_plan_converged(void **state)
{
	struct fixture *fx = *state;

	plan_with(fx, "{\"gpu\": {\"power_limit_w\": 700, \"ecc\": false}}");
	assert_null(gpu_action(fx->pl));
}

static void test_plan_none(void **state)
{
	struct fixture *fx = *state;

	plan_with(fx, "{\"name\": \"gpu\"}");
	assert_null(gpu_action(fx->pl));
}

static void test_plan_at_boot(void **state)
{
	struct fixture *fx = *state;
	const struct action *a;

	/* Another driver runs now: the one that will is asked at the boot, by the unit. */
	fx->f.nvidia.driver_version = (char *)"550.54.15";
	plan_with(fx, "{\"gpu\": {\"power_limit_w\": 500}}");
	assert_non_null(a = gpu_action(fx->pl));
	assert_string_equal(a->detail, "at boot");
	assert_non_null(strstr(a->reason, "gpuprov-gpu.service sets the GPUs' declared state at the next boot, once driver 570.133.20 has loaded"));
}

static void test_plan_reboot(void **state)
{
	struct fixture *fx = *state;
	const struct action *a;

	fx->pl->reboot = true;
	plan_with(fx, "{\"gpu\": {\"power_limit_w\": 500}}");
	assert_non_null(a = gpu_action(fx->pl));
	assert_string_equal(a->detail, "at boot");
}

/* state.json edited by hand: what is not of the declared form is not a setting. */
static void test_view_bad_state(void **state)
{
	struct fixture *fx = *state;
	struct nvml *n = NULL;
	struct gpu_view v;
	char *why = NULL;

	assert_non_null(fx->p.doc = cJSON_Parse("{\"locked_clocks\": [], \"power_limit_w\": \"500\", \"mig\": 3, "
						 "\"ecc\": [1], \"compute_mode\": \"exclusive_process\"}"));
	assert_int_equal(nvml_open(&n, &why), 0);
	assert_int_equal(gpu_view_read(n, fx->r, fx->p.doc, 0, &v), 0);
	/* Only compute_mode is of its key's form. */
	assert_int_equal(v.n, 1);
	assert_string_equal(v.settings[0].key, "compute_mode");
	gpu_view_done(&v);
	nvml_close(n);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mig_profile_name),
		cmocka_unit_test(test_setting),
		cmocka_unit_test_setup_teardown(test_plan_now, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_lost_gpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_converged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_at_boot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_reboot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_view_bad_state, setup, teardown),
	};
	const char *top = getenv("top_builddir"), *wrapper = getenv("TEST_WRAPPER");
	char path[4096];

	/* The loader reads LD_LIBRARY_PATH once, at the start: run again with the stand-in's
	 * directory in it, so that dlopen finds it and never a real libnvidia-ml. A cross
	 * build's test runs under its wrapper (qemu-user), which must run it again too: there
	 * /proc/self/exe is the wrapper's own. */
	if (!getenv("GPUPROV_TEST_GPU_REEXEC")) {
		snprintf(path, sizeof(path), "%s/tests/helpers", top ? top : ".");
		setenv("LD_LIBRARY_PATH", path, 1);
		setenv("GPUPROV_TEST_GPU_REEXEC", "1", 1);
		if (wrapper && *wrapper) {
			char **args = calloc((size_t)argc + 2, sizeof(char *));

			if (!args)
				return 1;
			args[0] = (char *)wrapper;
			for (int i = 0; i < argc; i++)
				args[i + 1] = argv[i];
			execvp(wrapper, args);
		} else
			execv("/proc/self/exe", argv);
		fprintf(stderr, "test-gpu-state: cannot run itself again: %s\n", strerror(errno));
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
