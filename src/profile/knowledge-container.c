/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The knowledge of the NVIDIA Container Toolkit: the releases gpuprov may pick, the versions
 * NVIDIA's security bulletins say are vulnerable, the driver a release needs where NVIDIA
 * states one, and the first release with `nvidia-ctk cdi generate`. Versions are upstream
 * ones ("1.17.8"), compared as dotted numbers. */
#include "profile/knowledge.h"
#include "util/strutil.h"

static const cJSON *ctk_section(const struct knowledge *k, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(k->doc, "container_toolkit"), name);
}

const char *kn_ctk_cdi_from(const struct knowledge *k, const cJSON **ret_entry)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(k->doc, "container_toolkit");

	if (ret_entry)
		*ret_entry = s;
	return json_str(s, "cdi_from");
}

const cJSON *kn_ctk_release(const struct knowledge *k, const char *version)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, ctk_section(k, "releases"))
		if (streq_ptr(json_str(e, "version"), version))
			return e;
	return NULL;
}

size_t kn_ctk_vulnerabilities(const struct knowledge *k, const char *version, const cJSON **ret, size_t max)
{
	const cJSON *e;
	size_t n = 0;

	cJSON_ArrayForEach(e, ctk_section(k, "vulnerable")) {
		const char *fixed = json_str(e, "fixed_in");

		if (fixed && vercmp_dotted(version, fixed) < 0) {
			if (n < max)
				ret[n] = e;
			n++;
		}
	}
	return n;
}

const char *kn_ctk_first_fixed(const struct knowledge *k)
{
	const char *best = NULL;
	const cJSON *e;

	cJSON_ArrayForEach(e, ctk_section(k, "vulnerable")) {
		const char *fixed = json_str(e, "fixed_in");

		if (fixed && (!best || vercmp_dotted(fixed, best) > 0))
			best = fixed;
	}
	return best;
}

const char *kn_ctk_min_driver(const struct knowledge *k, const char *version, const cJSON **ret_entry)
{
	const char *best = NULL;
	const cJSON *e;

	cJSON_ArrayForEach(e, ctk_section(k, "min_driver")) {
		const char *from = json_str(e, "from"), *drv = json_str(e, "driver");

		if (from && drv && vercmp_dotted(version, from) >= 0 && (!best || vercmp_dotted(drv, best) > 0)) {
			best = drv;
			if (ret_entry)
				*ret_entry = e;
		}
	}
	return best;
}
