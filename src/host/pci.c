/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PCI: NVIDIA GPUs, NVSwitches, and Mellanox/NVIDIA HCAs with their RDMA and net devices. */
#include <errno.h>
#include <limits.h>

#include "facts.h"
#include "util/errors.h"
#include "util/strutil.h"

#define PCI_DEVICES "sys/bus/pci/devices"

static int pci_read_u16(const struct root *sys, const char *dir, const char *attr, uint16_t *ret)
{
	char path[PATH_MAX];
	int64_t v;
	int k;

	k = root_read_s64(sys, path_fmt(path, "%s/%s", dir, attr), &v);
	if (k < 0)
		return k;
	if (v < 0 || v > 0xffff)
		return -GPE_PARSE;
	*ret = (uint16_t)v;
	return 0;
}

static void rdma_dev_free(struct rdma_dev *r)
{
	for (size_t i = 0; i < r->n_ports; i++) {
		free(r->ports[i].state);
		free(r->ports[i].link_layer);
	}
	free(r->ports);
	free(r->name);
}

void pci_dev_free(struct pci_dev *d)
{
	free(d->bdf);
	free(d->driver);
	for (size_t i = 0; i < d->n_rdma; i++)
		rdma_dev_free(&d->rdma[i]);
	free(d->rdma);
	strv_free(d->netdevs);
}

/* "4: ACTIVE" -> "ACTIVE": the kernel writes the number and the name. */
static char *port_state_name(char *state)
{
	char *colon = strchr(state, ':');

	if (colon)
		memmove(state, strstrip(colon + 1), strlen(strstrip(colon + 1)) + 1);
	return state;
}

static int pci_read_rdma(const struct root *sys, const char *dir, struct pci_dev *d)
{
	_cleanup_(strv_freep) char **names = NULL;
	char path[PATH_MAX];

	if (root_list_dir(sys, path_fmt(path, "%s/infiniband", dir), &names) < 0)
		return 0;
	d->rdma = calloc(strv_length(names) + 1, sizeof(*d->rdma));
	if (!d->rdma)
		return -ENOMEM;
	for (char **n = names; *n; n++) {
		_cleanup_(strv_freep) char **ports = NULL;
		struct rdma_dev *r = &d->rdma[d->n_rdma++];
		char pdir[PATH_MAX];

		r->name = strdup(*n);
		if (!r->name)
			return -ENOMEM;
		if (root_list_dir(sys, path_fmt(pdir, "%s/infiniband/%s/ports", dir, *n), &ports) < 0)
			continue;
		r->ports = calloc(strv_length(ports) + 1, sizeof(*r->ports));
		if (!r->ports)
			return -ENOMEM;
		for (char **p = ports; *p; p++) {
			struct rdma_port *port = &r->ports[r->n_ports];
			int64_t num;

			if (parse_s64(*p, &num) < 0 || num < 0)
				continue;
			port->port = (unsigned)num;
			if (root_read_line(sys, path_fmt(path, "%s/%s/state", pdir, *p), &port->state) >= 0)
				port_state_name(port->state);
			(void)root_read_line(sys, path_fmt(path, "%s/%s/link_layer", pdir, *p), &port->link_layer);
			r->n_ports++;
		}
	}
	return 0;
}

/* A device's uevent, as the kernel writes it (drivers/pci/pci-driver.c, pci_uevent()):
 * "DRIVER=nvidia", "PCI_CLASS=30200", "PCI_ID=10DE:2330", "PCI_SUBSYS_ID=10DE:16C1". */
int pci_uevent_parse(const char *text, struct pci_dev *d)
{
	_cleanup_free_ char *copy = strdup(text);
	bool have_id = false, have_class = false;
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned a, b;
		char tail;
		const char *v;

		if ((v = startswith(line, "PCI_ID=")) && sscanf(v, "%4x:%4x%c", &a, &b, &tail) == 2) {
			d->vendor = (uint16_t)a;
			d->device = (uint16_t)b;
			have_id = true;
		} else if ((v = startswith(line, "PCI_SUBSYS_ID=")) && sscanf(v, "%4x:%4x%c", &a, &b, &tail) == 2) {
			d->subsystem_vendor = (uint16_t)a;
			d->subsystem_device = (uint16_t)b;
		} else if ((v = startswith(line, "PCI_CLASS=")) && sscanf(v, "%6x%c", &a, &tail) == 1) {
			d->class = a;
			have_class = true;
		} else if ((v = startswith(line, "DRIVER=")) && *v && !d->driver) {
			d->driver = strdup(v);
			if (!d->driver)
				return -ENOMEM;
		}
	}
	return have_id && have_class ? 0 : -GPE_PARSE;
}

/* Vendor, device and class from the attribute files, where uevent has not given them. */
static int pci_read_ids(const struct root *sys, const char *dir, struct pci_dev *d)
{
	char path[PATH_MAX];
	int64_t class;
	int k;

	if ((k = pci_read_u16(sys, dir, "vendor", &d->vendor)) < 0 ||
	    (k = pci_read_u16(sys, dir, "device", &d->device)) < 0 ||
	    (k = root_read_s64(sys, path_fmt(path, "%s/class", dir), &class)) < 0)
		return k;
	if (class < 0 || class > 0xffffff)
		return -GPE_PARSE;
	d->class = (uint32_t)class;
	return 0;
}

static int pci_read_device(const struct detect_ctx *ctx, const char *bdf, bool from_uevent,
			   struct pci_dev *d)
{
	const struct root *sys = ctx->sys;
	char dir[PATH_MAX], path[PATH_MAX];
	int64_t numa;
	int k;

	path_fmt(dir, PCI_DEVICES "/%s", bdf);
	d->bdf = strdup(bdf);
	if (!d->bdf)
		return -ENOMEM;
	if (!from_uevent) {
		(void)pci_read_u16(sys, dir, "subsystem_vendor", &d->subsystem_vendor);
		(void)pci_read_u16(sys, dir, "subsystem_device", &d->subsystem_device);
		k = root_readlink_name(sys, path_fmt(path, "%s/driver", dir), &d->driver);
		if (k == -ENOMEM)
			return k;
	}
	d->numa_node = root_read_s64(sys, path_fmt(path, "%s/numa_node", dir), &numa) >= 0 ? (int)numa : -1;
	d->name = pci_product_name(d->vendor, d->device);
	if (pci_classify(d->vendor, d->class) != PCI_KIND_HCA)
		return 0;

	k = pci_read_rdma(sys, dir, d);
	if (k < 0)
		return k;
	k = root_list_dir(sys, path_fmt(path, "%s/net", dir), &d->netdevs);
	if (k == -ENOMEM)
		return k;
	return 0;
}

static int pci_append(struct pci_dev **list, size_t *n, struct pci_dev *d)
{
	struct pci_dev *p = realloc(*list, (*n + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	p[(*n)++] = *d;
	*list = p;
	return 0;
}

static int pci_store(struct pci_facts *pf, enum pci_kind kind, struct pci_dev *d)
{
	switch (kind) {
	case PCI_KIND_GPU:
		return pci_append(&pf->gpus, &pf->n_gpus, d);
	case PCI_KIND_NVSWITCH:
		return pci_append(&pf->nvswitches, &pf->n_nvswitches, d);
	case PCI_KIND_HCA:
		return pci_append(&pf->hcas, &pf->n_hcas, d);
	default:
		return 0;
	}
}

int pci_detect(const struct detect_ctx *ctx)
{
	struct pci_facts *pf = &ctx->facts->pci;
	_cleanup_(strv_freep) char **bdfs = NULL;
	int k;

	k = root_list_dir(ctx->sys, PCI_DEVICES, &bdfs);
	if (k == -ENOMEM)
		return k;
	if (k < 0) {
		facts_warn(ctx->facts, PCI_DEVICES ": %s", gp_strerror(k));
		return 0;
	}
	for (char **b = bdfs; *b; b++) {
		_cleanup_free_ char *uevent = NULL;
		struct pci_dev d = {};
		char dir[PATH_MAX], path[PATH_MAX];
		enum pci_kind kind;
		bool from_uevent;

		/* One read of uevent says what five attribute files would; a machine hundreds
		 * of functions wide (DGX: ~70) feels the difference. */
		path_fmt(dir, PCI_DEVICES "/%s", *b);
		k = root_read_file(ctx->sys, path_fmt(path, "%s/uevent", dir), 4096, &uevent, NULL);
		from_uevent = k >= 0 && pci_uevent_parse(uevent, &d) >= 0;
		if (!from_uevent) {
			d.driver = mfree(d.driver);
			if (pci_read_ids(ctx->sys, dir, &d) < 0) {
				facts_warn(ctx->facts, "%s: unreadable vendor, device or class", dir);
				continue;
			}
		}
		pf->n_devices++;
		kind = pci_classify(d.vendor, d.class);
		/* SR-IOV virtual functions belong to their physical function's device. */
		if (kind == PCI_KIND_OTHER || root_exists(ctx->sys, path_fmt(path, "%s/physfn", dir)) > 0) {
			free(d.driver);
			continue;
		}

		k = pci_read_device(ctx, *b, from_uevent, &d);
		if (k >= 0)
			k = pci_store(pf, kind, &d);
		if (k < 0) {
			pci_dev_free(&d);
			return k;
		}
	}
	return 0;
}
