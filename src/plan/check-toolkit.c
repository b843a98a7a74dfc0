/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check: the installed NVIDIA Container Toolkit against the stack: its four packages at one
 * version, none a security bulletin names, the driver it needs, and the version
 * "latest-for-driver" would pick now. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "plan/check.h"
#include "profile/resolve.h"
#include "util/strutil.h"
#include "util/vercmp.h"

#define SOURCE_CTK_PACKAGING \
	"NVIDIA/nvidia-container-toolkit, packaging/debian/control and packaging/rpm/SPECS/nvidia-container-toolkit.spec (https://github.com/NVIDIA/nvidia-container-toolkit/tree/main/packaging): nvidia-container-toolkit depends on nvidia-container-toolkit-base at its own version"


/* Whether the repositories offer all four packages at this upstream version. */
static bool offered_all(const struct repo_view *v, const char *version)
{
	for (size_t i = 0; i < CONTAINER_TOOLKIT_N_PACKAGES; i++) {
		size_t n, first = repo_find(v, container_toolkit_packages[i], &n);
		bool found = false;

		for (size_t j = first; j < first + n && !found; j++) {
			char up[128];

			upstream_version(repo_pkg(v, j).version, up, sizeof(up));
			found = streq(up, version);
		}
		if (!found)
			return false;
	}
	return true;
}

/* The newest release the knowledge lists, offered whole, clean of known vulnerabilities and
 * within the driver's reach: "latest-for-driver"'s answer without a profile (CDI aside). */
static const char *knowledge_pick(const struct repo_view *v, const struct knowledge *kn, const char *drv)
{
	const cJSON *rels = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(kn->doc, "container_toolkit"), "releases"), *e;
	const char *best = NULL;

	cJSON_ArrayForEach(e, rels) {
		const char *ver = json_str(e, "version"), *floor;

		if (!ver || (best && vercmp_dotted(ver, best) <= 0) || kn_ctk_vulnerabilities(kn, ver, NULL, 0) > 0 ||
		    !offered_all(v, ver))
			continue;
		floor = kn_ctk_min_driver(kn, ver, NULL);
		if (floor && drv && vercmp_dotted(drv, floor) < 0)
			continue;
		best = ver;
	}
	return best;
}

int check_container_toolkit(const struct facts *f, const struct repo_view *v, const struct knowledge *kn,
			    struct findings *fs)
{
	char ups[CONTAINER_TOOLKIT_N_PACKAGES][128] = {}, list[1024] = "";
	const cJSON *vuln[8], *entry = NULL;
	const char *version = NULL, *drv = f->nvidia.driver_version, *floor, *want;
	bool mixed = false;
	size_t nv, len = 0;
	int k;

	/* The toolkit's own version is nvidia-container-toolkit's, else its base's. */
	for (size_t i = CONTAINER_TOOLKIT_N_PACKAGES; i-- > 0;) {
		const char *pv = repo_installed_version(v, container_toolkit_packages[i]);

		if (pv)
			upstream_version(pv, ups[i], sizeof(ups[i]));
		if (*ups[i] && !version)
			version = ups[i];
	}
	if (!version)
		return 0;
	for (size_t i = 0; i < CONTAINER_TOOLKIT_N_PACKAGES; i++) {
		mixed |= !streq(ups[i], version);
		if (len < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s %s", i ? ", " : "",
						container_toolkit_packages[i], *ups[i] ? ups[i] : "not installed");
	}
	if (mixed && (k = findings_addf(fs, SEVERITY_ERROR, "container-toolkit-mixed", SOURCE_CTK_PACKAGING,
					   "the NVIDIA Container Toolkit's packages are not all at one version (%s): NVIDIA releases the four together",
					   list)) < 0)
		return k;

	nv = MIN(kn_ctk_vulnerabilities(kn, version, vuln, ELEMENTSOF(vuln)), ELEMENTSOF(vuln));
	for (size_t i = 0; i < nv; i++)
		if ((k = findings_addf(fs, SEVERITY_ERROR, "container-toolkit-vulnerable", json_str(vuln[i], "source"),
					  "NVIDIA Container Toolkit %s is affected by %s, fixed in %s: install %s or later", version,
					  strna(json_str(vuln[i], "cve")), strna(json_str(vuln[i], "fixed_in")),
					  strna(kn_ctk_first_fixed(kn)))) < 0)
			return k;

	floor = kn_ctk_min_driver(kn, version, &entry);
	if (floor && drv && vercmp_dotted(drv, floor) < 0 &&
	    (k = findings_addf(fs, SEVERITY_ERROR, "container-toolkit-driver", json_str(entry, "source"),
				  "NVIDIA Container Toolkit %s needs driver %s or newer, and driver %s is loaded", version, floor,
				  drv)) < 0)
		return k;

	want = knowledge_pick(v, kn, drv);
	if (want && !streq(want, version) &&
	    (k = findings_addf(fs, SEVERITY_WARNING, "container-toolkit-version",
				  json_str(kn_ctk_release(kn, want), "source"),
				  "NVIDIA Container Toolkit %s is installed; the newest the repositories offer that the knowledge accepts%s%s is %s, what a profile's \"latest-for-driver\" installs",
				  version, drv ? " for driver " : "", drv ? drv : "", want)) < 0)
		return k;
	return 0;
}
