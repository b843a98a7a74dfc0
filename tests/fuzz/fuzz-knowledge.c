/* SPDX-License-Identifier: GPL-2.0-or-later */
/* knowledge.json: read and checked for its shape, then asked what plan and check ask of it,
 * and check run on a machine against it. */
#include <stdlib.h>

#include "fuzz.h"
#include "plan/check.h"
#include "profile/knowledge.h"

static void ask(const struct knowledge *k)
{
	_cleanup_(cJSON_Deletep) cJSON *options = cJSON_Parse("{\"nvidia\": {\"NVreg_EnableGpuFirmware\": 0,"
							      " \"NVreg_OpenRmEnableUnsupportedGpus\": \"1\"}}");
	const cJSON *entry = NULL, *os;
	struct kernel_version kv;
	char up[64];
	bool by_range;

	(void)kn_cuda(k, "12.4");
	(void)kn_cuda_floor(k, "12.4.1", false, &entry);
	(void)kn_cuda_floor(k, "12.8", true, &entry);
	(void)kn_branch(k, "550");
	(void)kn_branch_eol(k, "535", "2026-12-01", &entry);
	(void)kn_open_default_from(k);
	(void)kn_branch_nfb(k, "590", &entry);
	(void)kn_newest_production_branch(k, &entry);
	(void)kn_gpu(k, 0x10de, 0x2330);
	(void)kn_gpu_architecture(k, 0x10de, 0x2bff, &by_range);
	(void)kn_gpu_architecture(k, 0x10de, 0x1db1, &by_range);
	os = kn_os(k, "ubuntu", "22.04", "x86_64");
	kn_kernel_version(os, "6.8.0-49-generic", NULL, VERCMP_DPKG, up, sizeof(up), &kv);
	(void)kn_kernel_failure(k, "550.127.05", "open", &kv);
	kn_kernel_version(kn_os(k, "debian", "12", "x86_64"), "6.1.0-18-amd64", "6.1.76-1", VERCMP_DPKG, up, sizeof(up), &kv);
	(void)kn_kernel_failure(k, "535.216.01", "proprietary", &kv);
	kn_kernel_version(kn_os(k, "rhel", "9.4", "x86_64"), "5.14.0-427.13.1.el9_4.x86_64", NULL, VERCMP_RPM, up, sizeof(up), &kv);
	(void)kn_kernel_failure(k, "535.216.01", "proprietary", &kv);
	(void)kn_os_series_kind(os, "6.8");
	(void)kn_os_series_kind(os, "5.15");
	(void)kn_risks(k);
	(void)kn_fabric_component(k, "fabricmanager");
	(void)kn_module_option_conflict(k, "open", options);
	(void)kn_runfile(k, "NVIDIA-Linux-x86_64-550.127.05.run");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(knowledge_freep) struct knowledge *k = NULL;
	_cleanup_free_ char *error = NULL;
	struct findings found = {};

	fuzz_put("knowledge.json", data, size);
	if (knowledge_load(fuzz_root(), "profiles", &k, &error) < 0)
		return 0;
	ask(k);
	if (check_run(fuzz_facts(), k, "2026-12-01", false, &found) >= 0) {
		_cleanup_(cJSON_Deletep) cJSON *json = NULL;

		(void)findings_to_json(&found, &json);
	}
	findings_clear(&found);
	return 0;
}
