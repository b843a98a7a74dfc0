/* SPDX-License-Identifier: GPL-2.0-or-later */
/* detect(): read every fact, in the order the facts depend on each other. */
#include <errno.h>
#include <stdarg.h>

#include "facts.h"
#include "util/strutil.h"

void facts_warn(struct facts *f, const char *fmt, ...)
{
	va_list ap;

	/* Out of memory here loses a warning, not the detect. */
	va_start(ap, fmt);
	(void)strv_pushv(&f->warnings, &f->n_warnings, fmt, ap);
	va_end(ap);
}

const struct kernel *facts_kernel(const struct facts *f, const char *release)
{
	for (size_t i = 0; release && i < f->kernels.n; i++)
		if (streq(f->kernels.list[i].release, release))
			return &f->kernels.list[i];
	return NULL;
}

const struct kernel *facts_running_kernel(const struct facts *f)
{
	return facts_kernel(f, f->kernels.running);
}

const char *facts_fabric_version(const struct facts *f, const char *component)
{
	for (size_t i = 0; i < f->nvidia.n_fabric; i++)
		if (streq(f->nvidia.fabric[i].component, component))
			return f->nvidia.fabric[i].version;
	return NULL;
}

const char *tristate_to_string(enum tristate t)
{
	return t == TRI_YES ? "on" : t == TRI_NO ? "off" : "unknown";
}

int facts_detect(const struct root *root, const struct root *sys, struct facts **ret)
{
	_cleanup_(facts_freep) struct facts *f = NULL;
	struct detect_ctx ctx;
	int k;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	ctx = (struct detect_ctx){ .root = root, .sys = sys, .facts = f };

	/* The OS names the kernel flavours and the boot layout; /boot's storage needs the
	 * grubenv path, gpuprov's block on the ESP the ESP's; the CPU's name on Neoverse V2
	 * needs the GPUs. */
	if ((k = os_detect(&ctx)) < 0 || (k = cpu_detect(&ctx)) < 0 ||
	    (k = kernel_detect(&ctx)) < 0 || (k = boot_detect(&ctx)) < 0 ||
	    (k = disk_detect(&ctx)) < 0 || (k = boot_detect_esp_env(&ctx)) < 0 ||
	    (k = pci_detect(&ctx)) < 0 || (k = nvidia_detect(&ctx)) < 0 ||
	    (k = pip_detect(&ctx)) < 0)
		return k;
	cpu_refine(&ctx);
	if (!f->warnings && !(f->warnings = calloc(1, sizeof(char *))))
		return -ENOMEM;

	*ret = TAKE_PTR(f);
	return 0;
}

void cpu_facts_clear(struct cpu_facts *c)
{
	free(c->arch);
	free(c->vendor);
	free(c->model);
	free(c->implementer);
	free(c->part);
	*c = (struct cpu_facts){};
}

void os_facts_clear(struct os_facts *os)
{
	free(os->id);
	free(os->id_like);
	free(os->version_id);
	free(os->version);
	free(os->codename);
	free(os->pretty_name);
	free(os->source);
	*os = (struct os_facts){};
}

static void mount_facts_free(struct mount_facts *m)
{
	free(m->path);
	free(m->mountpoint);
	free(m->source);
	free(m->fstype);
	free(m->uuid);
	strv_free(m->stack);
}

static void pci_list_free(struct pci_dev *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pci_dev_free(&list[i]);
	free(list);
}

struct facts *facts_free(struct facts *f)
{
	if (!f)
		return NULL;
	cpu_facts_clear(&f->cpu);
	os_facts_clear(&f->os);

	for (size_t i = 0; i < f->kernels.n; i++) {
		struct kernel *k = &f->kernels.list[i];

		free(k->release);
		free(k->flavour);
		free(k->nvidia_version);
		free(k->nvidia_flavour);
		free(k->nvidia_module);
	}
	free(f->kernels.list);
	free(f->kernels.running);
	strv_free(f->kernels.modules);
	free(f->kernels.running_package);
	free(f->kernels.running_package_version);

	free(f->boot.grub_cfg);
	free(f->boot.grubenv);
	free(f->boot.saved_entry);
	free(f->boot.next_entry);
	free(f->boot.gpuprov_env);
	free(f->boot.gpuprov_once);
	strv_free(f->boot.bls_entries);
	free(f->boot.cmdline);

	mount_facts_free(&f->disk.root);
	mount_facts_free(&f->disk.boot);
	mount_facts_free(&f->disk.grubenv);
	mount_facts_free(&f->disk.esp);
	free(f->disk.grubenv_reason);
	free(f->disk.esp_reason);

	pci_list_free(f->pci.gpus, f->pci.n_gpus);
	pci_list_free(f->pci.nvswitches, f->pci.n_nvswitches);
	pci_list_free(f->pci.hcas, f->pci.n_hcas);

	strv_free(f->nvidia.loaded_modules);
	free(f->nvidia.driver_version);
	free(f->nvidia.driver_flavour);
	for (size_t i = 0; i < f->nvidia.n_cuda; i++) {
		free(f->nvidia.cuda[i].version);
		free(f->nvidia.cuda[i].path);
	}
	free(f->nvidia.cuda);
	free(f->nvidia.cuda_default);
	free(f->nvidia.fabricmanager_version);
	for (size_t i = 0; i < f->nvidia.n_fabric; i++)
		free(f->nvidia.fabric[i].package), free(f->nvidia.fabric[i].version);
	free(f->nvidia.fabric);
	for (size_t i = 0; i < f->nvidia.n_frameworks; i++) {
		struct pip_dist *d = &f->nvidia.frameworks[i];

		free(d->name), free(d->version), free(d->site), free(d->cuda), free(d->torch);
	}
	free(f->nvidia.frameworks);

	strv_free(f->warnings);
	free(f);
	return NULL;
}
