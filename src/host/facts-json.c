/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The facts as JSON. The schema is stable: fields are added, never renamed (gpuprov(8)). */
#include <errno.h>

#include "util/json.h"
#include "facts.h"
#include "util/strutil.h"

#define FACTS_SCHEMA_VERSION 1

/* cJSON's Add* functions return NULL on failure; every one is checked through these. */
static int add_str(cJSON *o, const char *key, const char *v)
{
	return (v ? cJSON_AddStringToObject(o, key, v) : cJSON_AddNullToObject(o, key)) ? 0 : -ENOMEM;
}

static int add_num(cJSON *o, const char *key, double v)
{
	return cJSON_AddNumberToObject(o, key, v) ? 0 : -ENOMEM;
}

/* A count that 0 means "unknown" for. */
static int add_count(cJSON *o, const char *key, unsigned v)
{
	return (v ? cJSON_AddNumberToObject(o, key, v) : cJSON_AddNullToObject(o, key)) ? 0 : -ENOMEM;
}

static int add_bool(cJSON *o, const char *key, bool v)
{
	return cJSON_AddBoolToObject(o, key, v) ? 0 : -ENOMEM;
}

static int add_tri(cJSON *o, const char *key, enum tristate t)
{
	return t == TRI_UNKNOWN ? (cJSON_AddNullToObject(o, key) ? 0 : -ENOMEM) : add_bool(o, key, t == TRI_YES);
}

static cJSON *add_obj(cJSON *parent, const char *key)
{
	return cJSON_AddObjectToObject(parent, key);
}

/* Appends a new object to an array. */
static cJSON *push_obj(cJSON *array)
{
	cJSON *o = cJSON_CreateObject();

	if (o && !cJSON_AddItemToArray(array, o)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int hex_id(cJSON *o, const char *key, unsigned v, int width)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "0x%0*x", width, v);
	return add_str(o, key, buf);
}

static int json_cpu(cJSON *root, const struct cpu_facts *c)
{
	cJSON *o = add_obj(root, "cpu");

	if (!o || add_str(o, "arch", c->arch) || add_str(o, "vendor", c->vendor) ||
	    add_str(o, "model", c->model) || add_str(o, "implementer", c->implementer) ||
	    add_str(o, "part", c->part) || add_count(o, "sockets", c->sockets) ||
	    add_count(o, "cores", c->cores) || add_count(o, "threads", c->threads) ||
	    add_count(o, "numa_nodes", c->numa_nodes))
		return -ENOMEM;
	return 0;
}

static int json_os(cJSON *root, const struct os_facts *os)
{
	cJSON *o = add_obj(root, "os");

	if (!o || add_str(o, "id", os->id) || add_str(o, "id_like", os->id_like) ||
	    add_str(o, "version_id", os->version_id) || add_str(o, "version", os->version) ||
	    add_str(o, "codename", os->codename) || add_str(o, "pretty_name", os->pretty_name) ||
	    add_str(o, "family", os_family_to_string(os->family)) ||
	    add_str(o, "package_manager", os_package_manager(os->family)) ||
	    add_str(o, "source", os->source))
		return -ENOMEM;
	return 0;
}

static int json_kernel(cJSON *array, const struct kernel *kern)
{
	cJSON *o = push_obj(array), *cfg, *problems, *nv;

	if (!o || add_str(o, "release", kern->release) || add_str(o, "flavour", kern->flavour) ||
	    add_bool(o, "running", kern->running) || add_bool(o, "image", kern->has_image) ||
	    add_bool(o, "initramfs", kern->has_initramfs) || add_bool(o, "modules", kern->has_modules) ||
	    add_count(o, "page_size_kib", kern->page_size_kib))
		return -ENOMEM;

	if (!kern->has_config) {
		if (!cJSON_AddNullToObject(o, "config") || !cJSON_AddNullToObject(o, "config_problems"))
			return -ENOMEM;
	} else {
		if (!(cfg = add_obj(o, "config")) || !(problems = cJSON_AddArrayToObject(o, "config_problems")))
			return -ENOMEM;
		for (int i = 0; i < _KCONFIG_MAX; i++) {
			char value[2] = { kern->kconfig[i], 0 };

			if (add_str(cfg, kconfig_rules[i].name, value))
				return -ENOMEM;
			if (kernel_kconfig_ok(kern, i) == TRI_NO) {
				cJSON *p = push_obj(problems);

				if (!p || add_str(p, "option", kconfig_rules[i].name) ||
				    add_str(p, "value", value) || add_str(p, "reason", kconfig_rules[i].reason))
					return -ENOMEM;
			}
		}
	}

	if (!kern->nvidia_version)
		return cJSON_AddNullToObject(o, "nvidia") ? 0 : -ENOMEM;
	if (!(nv = add_obj(o, "nvidia")) || add_str(nv, "version", kern->nvidia_version) ||
	    add_str(nv, "flavour", kern->nvidia_flavour) || add_str(nv, "module", kern->nvidia_module) ||
	    add_tri(nv, "signed", kern->nvidia_signed))
		return -ENOMEM;
	return 0;
}

static int json_kernels(cJSON *root, const struct kernel_facts *kf)
{
	cJSON *o = add_obj(root, "kernel"), *list;

	if (!o || add_str(o, "running", kf->running) ||
	    add_tri(o, "running_is_distro", kf->running_is_distro) ||
	    add_str(o, "running_package", kf->running_package) ||
	    add_str(o, "running_package_version", kf->running_package_version) ||
	    !(list = cJSON_AddArrayToObject(o, "installed")))
		return -ENOMEM;
	for (size_t i = 0; i < kf->n; i++)
		if (json_kernel(list, &kf->list[i]) < 0)
			return -ENOMEM;
	return 0;
}

static int json_boot(cJSON *root, const struct boot_facts *b)
{
	cJSON *o = add_obj(root, "boot");

	if (!o || add_str(o, "firmware", b->firmware) ||
	    add_str(o, "secure_boot", tristate_to_string(b->secure_boot)) ||
	    add_str(o, "setup_mode", tristate_to_string(b->setup_mode)) ||
	    add_str(o, "loader", b->loader) || add_str(o, "grub_cfg", b->grub_cfg) ||
	    add_str(o, "grubenv", b->grubenv) || add_str(o, "saved_entry", b->saved_entry) ||
	    add_str(o, "next_entry", b->next_entry) || add_str(o, "gpuprov_env", b->gpuprov_env) ||
	    add_str(o, "gpuprov_once", b->gpuprov_once) || json_add_strv(o, "bls_entries", b->bls_entries) ||
	    add_str(o, "cmdline", b->cmdline))
		return -ENOMEM;
	return 0;
}

static int json_mount(cJSON *parent, const char *key, const struct mount_facts *m)
{
	cJSON *o;

	if (!m->mountpoint)
		return cJSON_AddNullToObject(parent, key) ? 0 : -ENOMEM;
	o = add_obj(parent, key);
	if (!o || add_str(o, "path", m->path) || add_str(o, "mountpoint", m->mountpoint) ||
	    add_str(o, "source", m->source) || add_str(o, "fstype", m->fstype) ||
	    add_str(o, "uuid", m->uuid) || json_add_strv(o, "stack", m->stack))
		return -ENOMEM;
	if (!m->have_space)
		return cJSON_AddNullToObject(o, "free_bytes") && cJSON_AddNullToObject(o, "total_bytes") ? 0 : -ENOMEM;
	return add_num(o, "free_bytes", (double)m->free_bytes) || add_num(o, "total_bytes", (double)m->total_bytes)
		       ? -ENOMEM : 0;
}

static int json_storage(cJSON *root, const struct facts *f)
{
	const struct disk_facts *d = &f->disk;
	cJSON *o = add_obj(root, "storage");

	if (!o || json_mount(o, "root", &d->root) || json_mount(o, "boot", &d->boot) ||
	    json_mount(o, "grubenv", &d->grubenv) ||
	    add_tri(o, "grubenv_writable", d->grubenv_writable) ||
	    add_str(o, "grubenv_reason", d->grubenv_reason) || json_mount(o, "esp", &d->esp) ||
	    add_tri(o, "esp_writable", d->esp_writable) || add_str(o, "esp_reason", d->esp_reason) ||
	    add_str(o, "boot_once", boot_once_via_to_string(facts_boot_once(f))))
		return -ENOMEM;
	return 0;
}

static int json_pci_dev(cJSON *array, const struct pci_dev *d)
{
	cJSON *o = push_obj(array), *rdma;
	char sub[32];

	snprintf(sub, sizeof(sub), "0x%04x:0x%04x", d->subsystem_vendor, d->subsystem_device);
	if (!o || add_str(o, "address", d->bdf) || hex_id(o, "vendor", d->vendor, 4) ||
	    hex_id(o, "device", d->device, 4) || hex_id(o, "class", d->class, 6) ||
	    add_str(o, "subsystem", sub) || add_str(o, "name", d->name) ||
	    (d->numa_node >= 0 ? add_num(o, "numa_node", d->numa_node) : !cJSON_AddNullToObject(o, "numa_node")) ||
	    add_str(o, "driver", d->driver))
		return -ENOMEM;
	if (pci_classify(d->vendor, d->class) != PCI_KIND_HCA)
		return 0;

	if (!(rdma = cJSON_AddArrayToObject(o, "rdma")))
		return -ENOMEM;
	for (size_t i = 0; i < d->n_rdma; i++) {
		cJSON *r = push_obj(rdma), *ports;

		if (!r || add_str(r, "name", d->rdma[i].name) || !(ports = cJSON_AddArrayToObject(r, "ports")))
			return -ENOMEM;
		for (size_t j = 0; j < d->rdma[i].n_ports; j++) {
			const struct rdma_port *p = &d->rdma[i].ports[j];
			cJSON *po = push_obj(ports);

			if (!po || add_num(po, "port", p->port) || add_str(po, "state", p->state) ||
			    add_str(po, "link_layer", p->link_layer))
				return -ENOMEM;
		}
	}
	return json_add_strv(o, "netdevs", d->netdevs);
}

static int json_pci_list(cJSON *o, const char *key, const struct pci_dev *list, size_t n)
{
	cJSON *a = cJSON_AddArrayToObject(o, key);

	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (json_pci_dev(a, &list[i]) < 0)
			return -ENOMEM;
	return 0;
}

static int json_pci(cJSON *root, const struct pci_facts *p)
{
	cJSON *o = add_obj(root, "pci");

	if (!o || add_num(o, "devices", (double)p->n_devices) ||
	    json_pci_list(o, "gpus", p->gpus, p->n_gpus) ||
	    json_pci_list(o, "nvswitches", p->nvswitches, p->n_nvswitches) ||
	    json_pci_list(o, "hcas", p->hcas, p->n_hcas))
		return -ENOMEM;
	return 0;
}

static int json_nvidia(cJSON *root, const struct nvidia_facts *nv)
{
	cJSON *o = add_obj(root, "nvidia"), *drv, *cuda, *fm, *fabric, *list;

	if (!o || json_add_strv(o, "loaded_modules", nv->loaded_modules))
		return -ENOMEM;
	if (!nv->driver_version) {
		if (!cJSON_AddNullToObject(o, "driver"))
			return -ENOMEM;
	} else if (!(drv = add_obj(o, "driver")) || add_str(drv, "version", nv->driver_version) ||
		   add_str(drv, "flavour", nv->driver_flavour))
		return -ENOMEM;

	if (!(cuda = cJSON_AddArrayToObject(o, "cuda")))
		return -ENOMEM;
	for (size_t i = 0; i < nv->n_cuda; i++) {
		cJSON *t = push_obj(cuda);

		if (!t || add_str(t, "version", nv->cuda[i].version) || add_str(t, "path", nv->cuda[i].path))
			return -ENOMEM;
	}
	if (add_str(o, "cuda_default", nv->cuda_default) || !(fm = add_obj(o, "fabricmanager")) ||
	    add_tri(fm, "installed", nv->fabricmanager) || add_str(fm, "version", nv->fabricmanager_version))
		return -ENOMEM;
	/* Every fabric component installed, and the database its version was read from. */
	if (!(fabric = add_obj(o, "fabric")) || add_str(fabric, "read_from", nv->fabric_read_from) ||
	    !(list = cJSON_AddArrayToObject(fabric, "installed")))
		return -ENOMEM;
	for (size_t i = 0; i < nv->n_fabric; i++) {
		cJSON *c = push_obj(list);

		if (!c || add_str(c, "component", nv->fabric[i].component) || add_str(c, "package", nv->fabric[i].package) ||
		    add_str(c, "version", nv->fabric[i].version))
			return -ENOMEM;
	}
	/* Only where there are any: detect's documents of nodes without them read as before. */
	if (nv->n_frameworks && !(list = cJSON_AddArrayToObject(o, "frameworks")))
		return -ENOMEM;
	for (size_t i = 0; i < nv->n_frameworks; i++) {
		const struct pip_dist *d = &nv->frameworks[i];
		cJSON *c = push_obj(list);

		if (!c || add_str(c, "name", d->name) || add_str(c, "version", d->version) || add_str(c, "site", d->site) ||
		    add_str(c, "cuda", d->cuda) || add_str(c, "cuda_from", d->cuda_from))
			return -ENOMEM;
	}
	return 0;
}

int facts_to_json(const struct facts *f, cJSON **ret)
{
	_cleanup_(cJSON_Deletep) cJSON *root = cJSON_CreateObject();

	if (!root || add_num(root, "schema", FACTS_SCHEMA_VERSION) || json_cpu(root, &f->cpu) ||
	    json_os(root, &f->os) || json_kernels(root, &f->kernels) || json_boot(root, &f->boot) ||
	    json_storage(root, f) || json_pci(root, &f->pci) || json_nvidia(root, &f->nvidia) ||
	    json_add_strv(root, "warnings", f->warnings))
		return -ENOMEM;
	*ret = TAKE_PTR(root);
	return 0;
}
