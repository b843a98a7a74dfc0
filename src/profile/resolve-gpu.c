/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The resolver's first link: what the machine's GPUs demand of a driver and a toolkit. Each
 * GPU's first production driver; its architecture's window (the last branch that drives it,
 * the toolkits that support it) and the kernel modules that can drive it; and for a GPU the
 * knowledge has no entry for, the newest production branch. */
#include <errno.h>

#include "profile/resolve-internal.h"
#include "util/strutil.h"
#include "util/vercmp.h"

/* Keeps the higher (above > 0) or the lower (above < 0) of two demands. */
static void need(struct gpu_need *n, int above, const char *value, const char *gpu, const char *arch,
		 const cJSON *entry)
{
	if (value && (!n->value || vercmp_dotted(value, n->value) * above > 0))
		*n = (struct gpu_need){ value, gpu, arch, entry };
}

/* A GPU no "gpus" entry names: a clear warning, and the newest production branch the
 * repositories offer (a new GPU needs a new driver: an older branch is not fallen back to);
 * the open modules where its id range says an open-only architecture. A profile with
 * driver.unknown_gpu "refuse", or --strict, refuses the machine instead. */
static int unknown_gpu(struct rctx *c, const struct pci_dev *g, const cJSON *arch)
{
	const struct knowledge *kn = c->in->knowledge;
	_cleanup_free_ char *by_range = NULL;
	int k;

	snprintf(c->unknown_name, sizeof(c->unknown_name), "GPU %04x:%04x at %s", g->vendor, g->device, g->bdf);
	if (arch && asprintf(&by_range, "; by its PCI id it is %s or newer", strna(json_str(arch, "title"))) < 0)
		return -ENOMEM;
	if (c->in->strict || streq_ptr(c->in->profile->driver_unknown_gpu, "refuse")) {
		c->stop = true;
		return refuse(c, ABOUT_SEARCH, "unknown-gpu", NULL,
			      "%s is in no table of the knowledge (as of %s)%s; %s refuses a GPU gpuprov does not know: install newer knowledge (gpuprov knowledge install) or allow it",
			      c->unknown_name, strna(kn->as_of), by_range ? by_range : "",
			      c->in->strict ? "--strict" : "driver.unknown_gpu \"refuse\"");
	}
	k = WARN(c, "%s is in no table of the knowledge (as of %s)%s: no minimum driver is known for it, so only the newest production branch offered is chosen%s; newer knowledge (gpuprov knowledge install) may know it, and driver.unknown_gpu \"refuse\" or --strict refuses such a machine",
		 c->unknown_name, strna(kn->as_of), by_range ? by_range : "",
		 streq_ptr(json_str(arch, "modules"), "open") ? ", with the open kernel modules" : "");
	if (k < 0)
		return k;
	if (!c->unknown.gpu)
		c->unknown = (struct gpu_need){ NULL, c->unknown_name, arch ? json_str(arch, "title") : NULL, NULL };
	return 0;
}

void settle_unknown_gpu(struct rctx *c)
{
	const struct profile *p = c->in->profile;

	if (!c->unknown.gpu)
		return;
	/* The drivers are sorted newest first: the first branch a node may take. */
	for (size_t i = 0; i < c->n_drivers; i++) {
		const cJSON *entry;
		bool nfb = kn_branch_nfb(c->in->knowledge, c->drivers[i].branch, &entry);

		if (!nfb || p->driver_allow_nfb || streq_ptr(p->driver_branch, c->drivers[i].branch)) {
			c->unknown.value = c->drivers[i].branch;
			c->unknown.entry = entry;
			return;
		}
	}
}

int gather_gpus(struct rctx *c)
{
	const struct knowledge *kn = c->in->knowledge;
	const struct facts *f = c->in->facts;
	int k;

	for (size_t i = 0; i < f->pci.n_gpus && !c->stop; i++) {
		const struct pci_dev *g = &f->pci.gpus[i];
		const cJSON *e = kn_gpu(kn, g->vendor, g->device), *arch = kn_gpu_architecture(kn, g->vendor, g->device, NULL);
		const cJSON *why;
		const char *name, *title, *only;

		if (!e && (k = unknown_gpu(c, g, arch)) < 0)
			return k;
		name = e ? json_str(e, "name") : c->unknown_name;
		title = json_str(arch, "title");
		if (e) {
			need(&c->min_driver, +1, json_str(e, "min_driver"), name, title, e);
			need(&c->min_driver_open, +1, json_str(e, "min_driver_open"), name, title, e);
		}
		need(&c->last_branch, -1, json_str(arch, "driver_last_branch"), name, title, arch);
		need(&c->cuda_from, +1, json_str(arch, "cuda_from"), name, title, arch);
		need(&c->cuda_below, -1, json_str(arch, "cuda_below"), name, title, arch);

		only = kn_gpu_only_flavour(e, arch, &why);
		if (!c->open.gpu && streq_ptr(only, "open"))
			c->open = (struct gpu_need){ "open", name, title, why };
		if (!c->proprietary.gpu && streq_ptr(only, "proprietary"))
			c->proprietary = (struct gpu_need){ "proprietary", name, title, why };
	}
	/* The board the GPUs make, once: every driver candidate's fabric is judged against it. */
	c->platform = kn_platform(kn, f->pci.gpus, f->pci.n_gpus, f->pci.n_nvswitches);
	return 0;
}
