/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The resolver's first link: what the machine's GPUs demand of a driver and a toolkit. */
#include <errno.h>

#include "profile/resolve-internal.h"
#include "util/strutil.h"
#include "util/vercmp.h"

int gather_gpus(struct rctx *c)
{
	const struct facts *f = c->in->facts;

	for (size_t i = 0; i < f->pci.n_gpus; i++) {
		const struct pci_dev *g = &f->pci.gpus[i];
		const cJSON *e = kn_gpu(c->in->knowledge, g->vendor, g->device);
		const char *min;

		if (!e) {
			int k = WARN(c, "GPU %04x:%04x at %s is not in the knowledge: no minimum driver is known for it",
				     g->vendor, g->device, g->bdf);
			if (k < 0)
				return k;
			continue;
		}
		min = json_str(e, "min_driver");
		if (min && (!c->gpu_min || vercmp_dotted(min, c->gpu_min) > 0)) {
			c->gpu_min = min;
			c->gpu_min_entry = e;
		}
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "open_required")) && !c->open_required)
			c->open_required = e;
	}
	return 0;
}
