/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PCI: NVIDIA GPUs, NVSwitches, and Mellanox/NVIDIA HCAs with their RDMA and net devices. */
#include <errno.h>
#include <limits.h>

#include "facts.h"
#include "util/errors.h"
#include "util/strutil.h"

#define PCI_DEVICES "sys/bus/pci/devices"

static int pci_read_u16(const struct root_dir *dir, const char *attr, uint16_t *ret)
{
	int64_t v;
	int k;

	k = root_dir_read_s64(dir, attr, &v);
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

/* One RDMA device's ports, from its directory infiniband/NAME/ports. */
static int pci_read_rdma_ports(const struct root_dir *ibdev, struct rdma_dev *r)
{
	_cleanup_(root_dir_freep) struct root_dir *portsdir = NULL;
	_cleanup_(strv_freep) char **ports = NULL;

	if (root_dir_open_dir(ibdev, "ports", &portsdir) < 0 ||
	    root_dir_list(portsdir, NULL, &ports) < 0)
		return 0;
	r->ports = calloc(strv_length(ports) + 1, sizeof(*r->ports));
	if (!r->ports)
		return -ENOMEM;
	for (char **p = ports; *p; p++) {
		_cleanup_(root_dir_freep) struct root_dir *pdir = NULL;
		struct rdma_port *port = &r->ports[r->n_ports];
		int64_t num;

		if (parse_s64(*p, &num) < 0 || num < 0)
			continue;
		port->port = (unsigned)num;
		if (root_dir_open_dir(portsdir, *p, &pdir) >= 0) {
			if (root_dir_read_line(pdir, "state", &port->state) >= 0)
				port_state_name(port->state);
			(void)root_dir_read_line(pdir, "link_layer", &port->link_layer);
		}
		r->n_ports++;
	}
	return 0;
}

static int pci_read_rdma(const struct root_dir *dir, struct pci_dev *d)
{
	_cleanup_(root_dir_freep) struct root_dir *ib = NULL;
	_cleanup_(strv_freep) char **names = NULL;

	if (root_dir_open_dir(dir, "infiniband", &ib) < 0 || root_dir_list(ib, NULL, &names) < 0)
		return 0;
	d->rdma = calloc(strv_length(names) + 1, sizeof(*d->rdma));
	if (!d->rdma)
		return -ENOMEM;
	for (char **n = names; *n; n++) {
		_cleanup_(root_dir_freep) struct root_dir *ibdev = NULL;
		struct rdma_dev *r = &d->rdma[d->n_rdma++];
		int k;

		r->name = strdup(*n);
		if (!r->name)
			return -ENOMEM;
		if (root_dir_open_dir(ib, *n, &ibdev) < 0)
			continue;
		k = pci_read_rdma_ports(ibdev, r);
		if (k < 0)
			return k;
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
static int pci_read_ids(const struct root_dir *dir, struct pci_dev *d)
{
	int64_t class;
	int k;

	if ((k = pci_read_u16(dir, "vendor", &d->vendor)) < 0 ||
	    (k = pci_read_u16(dir, "device", &d->device)) < 0 ||
	    (k = root_dir_read_s64(dir, "class", &class)) < 0)
		return k;
	if (class < 0 || class > 0xffffff)
		return -GPE_PARSE;
	d->class = (uint32_t)class;
	return 0;
}

static int pci_read_device(const struct root_dir *dir, const char *bdf, bool from_uevent,
			   struct pci_dev *d)
{
	int64_t numa;
	int k;

	d->bdf = strdup(bdf);
	if (!d->bdf)
		return -ENOMEM;
	if (!from_uevent) {
		(void)pci_read_u16(dir, "subsystem_vendor", &d->subsystem_vendor);
		(void)pci_read_u16(dir, "subsystem_device", &d->subsystem_device);
		k = root_dir_readlink_name(dir, "driver", &d->driver);
		if (k == -ENOMEM)
			return k;
	}
	d->numa_node = root_dir_read_s64(dir, "numa_node", &numa) >= 0 ? (int)numa : -1;
	d->name = pci_product_name(d->vendor, d->device);
	if (pci_classify(d->vendor, d->class) != PCI_KIND_HCA)
		return 0;

	k = pci_read_rdma(dir, d);
	if (k < 0)
		return k;
	k = root_dir_list(dir, "net", &d->netdevs);
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
		_cleanup_(root_dir_freep) struct root_dir *dir = NULL;
		_cleanup_free_ char *uevent = NULL;
		struct pci_dev d = {};
		char path[PATH_MAX], attr[PATH_MAX];
		enum pci_kind kind;
		bool from_uevent;

		/* Most functions (bridges, SR-IOV virtual functions: a 72-GPU machine has some
		 * 1,700) need no more than their uevent, which says what five attribute files
		 * would, and whether physfn is there: one lookup each, by path. A device read
		 * further (a GPU, NVSwitch or HCA, or one without a readable uevent) has its
		 * directory opened once and the rest read relative to it. */
		path_fmt(path, PCI_DEVICES "/%s", *b);
		k = root_read_file(ctx->sys, path_fmt(attr, "%s/uevent", path), 4096, &uevent,
				   NULL);
		from_uevent = k >= 0 && pci_uevent_parse(uevent, &d) >= 0;
		if (!from_uevent) {
			d.driver = mfree(d.driver);
			k = root_dir_open(ctx->sys, path, &dir);
			if (k == -ENOMEM)
				return k;
			if (k < 0 || pci_read_ids(dir, &d) < 0) {
				facts_warn(ctx->facts, "%s: unreadable vendor, device or class",
					   path);
				continue;
			}
		}
		pf->n_devices++;
		kind = pci_classify(d.vendor, d.class);
		/* SR-IOV virtual functions belong to their physical function's device. */
		if (kind == PCI_KIND_OTHER ||
		    root_exists(ctx->sys, path_fmt(attr, "%s/physfn", path)) > 0) {
			free(d.driver);
			continue;
		}
		if (!dir) {
			k = root_dir_open(ctx->sys, path, &dir);
			if (k < 0) {
				free(d.driver);
				if (k == -ENOMEM)
					return k;
				facts_warn(ctx->facts, "%s: %s", path, gp_strerror(k));
				continue;
			}
		}

		k = pci_read_device(dir, *b, from_uevent, &d);
		if (k >= 0)
			k = pci_store(pf, kind, &d);
		if (k < 0) {
			pci_dev_free(&d);
			return k;
		}
	}
	return 0;
}
