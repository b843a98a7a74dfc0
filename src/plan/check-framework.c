/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check: the frameworks pip installed (host/pip.c) against the driver in use, through the
 * knowledge's chain framework -> CUDA -> driver (profile/framework.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "plan/check.h"
#include "profile/framework.h"
#include "util/strutil.h"
#include "util/vercmp.h"


/* The knowledge's name of a distribution. */
static const char *framework_of(const char *dist)
{
	return streq(dist, "torch") ? "pytorch" : streq(dist, "vllm") ? "vllm" : streq(dist, "tensorrt_llm") ? "tensorrt-llm" : NULL;
}

int check_framework(const struct knowledge *kn, const struct pip_dist *d, const char *drv, struct findings *fs)
{
	const char *name = framework_of(d->name);
	_cleanup_free_ char *why = NULL, *line = NULL, *src = NULL;
	char variant[16] = "";
	struct fw_chain c;
	int k;

	if (!name)
		return 0;
	/* The CUDA the wheel says it was built for decides, where it says so; else the knowledge's
	 * PyPI default for the release. A wheel with one CUDA per release takes it from there. */
	if (d->cuda && !streq(name, "tensorrt-llm")) {
		const char *dot = strchr(d->cuda, '.');

		if (dot)
			snprintf(variant, sizeof(variant), "cu%.*s%s", (int)(dot - d->cuda), d->cuda, dot + 1);
	}
	k = kn_framework_chain(kn, name, d->version, *variant ? variant : NULL, &c, &why);
	if (k == -ENOENT)
		return findings_addf(fs, SEVERITY_INFO, "framework-unknown", NULL, "%s %s in %s: %s", d->name, d->version, d->site,
			   strna(why));
	if (k < 0)
		return k;
	line = fw_chain_line(&c);
	src = fw_chain_sources(&c);
	if (!line || !src)
		k = -ENOMEM;
	else if (!drv || !c.cuda || vercmp_dotted(drv, c.floor) >= 0)
		k = findings_addf(fs, SEVERITY_INFO, "framework", src, "%s %s in %s (CUDA from %s): %s%s%s", d->name, d->version,
			d->site, d->cuda_from ? d->cuda_from : "gpuprov's knowledge of the release", line,
			drv && c.cuda ? "; driver in use " : "", drv && c.cuda ? drv : "");
	else if (c.mvc_floor && vercmp_dotted(drv, c.mvc_floor) >= 0 &&
		 !streq_ptr(c.minor_compat, "no"))
		k = findings_addf(fs, streq_ptr(c.minor_compat, "yes") ? SEVERITY_INFO : SEVERITY_WARNING, "framework-minor-compat", src,
			"%s %s in %s: %s; driver %s is below that floor and could run it only under minor-version compatibility, %s",
			d->name, d->version, d->site, line, drv,
			fw_minor_compat_said(c.minor_compat));
	else
		k = findings_addf(fs, SEVERITY_ERROR, "framework-driver-floor", src,
			"%s %s in %s needs driver %s or newer, %s is in use: %s", d->name, d->version, d->site, c.floor, drv,
			line);
	fw_chain_done(&c);
	return k;
}
