/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The GPUs' declared state: GPU instance profiles named as nvidia-smi names them, and a
 * setting judged and described the way verify, check and gpu show print it. */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "apply/gpu-state.h"
#include "host/nvml-state.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mig_profile_name),
		cmocka_unit_test(test_setting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
