/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The knowledge's platforms (which machine is which board) and the NVLink fabric components
 * each platform needs. */
#include <stdio.h>
#include <strings.h>

#include "host/facts.h"
#include "profile/knowledge.h"
#include "util/strutil.h"

/* Whether every NVIDIA GPU of the machine is one of the platform's "gpus" ("10de:2901"). */
static bool platform_gpus_match(const cJSON *platform, const struct pci_dev *gpus, size_t n_gpus)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(platform, "gpus"), *e;

	if (cJSON_GetArraySize(list) == 0)
		return true;
	for (size_t i = 0; i < n_gpus; i++) {
		char id[16];
		bool listed = false;

		snprintf(id, sizeof(id), "%04x:%04x", gpus[i].vendor, gpus[i].device);
		cJSON_ArrayForEach(e, list)
			if (cJSON_IsString(e) && strcasecmp(e->valuestring, id) == 0)
				listed = true;
		if (!listed)
			return false;
	}
	return n_gpus > 0;
}

const cJSON *kn_platform(const struct knowledge *k, const struct pci_dev *gpus, size_t n_gpus, size_t n_nvswitches)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(k->doc, "platforms")) {
		const cJSON *min = cJSON_GetObjectItemCaseSensitive(e, "min_gpus");
		const cJSON *sw = cJSON_GetObjectItemCaseSensitive(e, "pci_nvswitches");

		if (!platform_gpus_match(e, gpus, n_gpus))
			continue;
		if (cJSON_IsNumber(min) && (double)n_gpus < min->valuedouble)
			continue;
		/* true: NVSwitches on the host's PCI bus required; false: absent; null or missing: either. */
		if ((cJSON_IsTrue(sw) && n_nvswitches == 0) || (cJSON_IsFalse(sw) && n_nvswitches > 0))
			continue;
		return e;
	}
	return NULL;
}

const cJSON *kn_fabric_component(const struct knowledge *k, const char *name)
{
	return json_find_by(cJSON_GetObjectItemCaseSensitive(k->doc, "fabric"), "name", name);
}

bool kn_fabric_package(const cJSON *component, bool debian, const char *branch, char *buf, size_t size)
{
	const char *pattern = json_str(cJSON_GetObjectItemCaseSensitive(component, "packages"), debian ? "deb" : "rpm");
	const char *at = pattern ? strstr(pattern, "{branch}") : NULL;
	int n;

	if (!pattern)
		return false;
	if (at)
		n = snprintf(buf, size, "%.*s%s%s", (int)(at - pattern), pattern, branch ? branch : "",
			     at + strlen("{branch}"));
	else
		n = snprintf(buf, size, "%s", pattern);
	return n >= 0 && (size_t)n < size;
}

bool kn_fabric_version_equal(const cJSON *component)
{
	/* Only "independent" (nvlsm's dated versions) is not held to the driver's version; a
	 * component without a rule is, as the fabric manager is. */
	return !streq_ptr(json_str(component, "version_rule"), "independent");
}
