/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov detect: the machine's facts, for a person or as JSON. */
#include <errno.h>
#include <inttypes.h>

#include "cli.h"
#include "host/facts.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/strutil.h"

const char verb_detect_usage[] = "[--json]\n"
				 "Show what gpuprov reads of this machine. Changes nothing.\n"
				 "  --json   the facts in the schema of gpuprov(8)\n";

/* Labels are padded to one column so the values line up. */
#define LABEL "%-12s"

static void human_bytes(uint64_t n, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void print_cpu(const struct facts *f)
{
	const struct cpu_facts *c = &f->cpu;

	printf(LABEL "%s  %s\n", "CPU", strna(c->arch), strna(c->model));
	if (c->implementer)
		printf(LABEL "implementer %s, part %s\n", "", c->implementer, c->part);
	printf(LABEL, "");
	if (c->sockets)
		printf("%u socket%s, ", c->sockets, c->sockets == 1 ? "" : "s");
	if (c->cores)
		printf("%u cores, ", c->cores);
	printf("%u threads, %u NUMA node%s\n", c->threads, c->numa_nodes, c->numa_nodes == 1 ? "" : "s");
}

static void print_os(const struct facts *f)
{
	const struct os_facts *os = &f->os;

	if (!os->id) {
		printf(LABEL "unknown\n", "OS");
		return;
	}
	printf(LABEL "%s (%s %s, family %s, %s)\n", "OS", strna(os->pretty_name), os->id,
	       strna(os->version_id), strna(os_family_to_string(os->family)),
	       strna(os_package_manager(os->family)));
}

static void print_kernels(const struct facts *f)
{
	const struct kernel_facts *kf = &f->kernels;

	printf(LABEL "%s, %s\n", "Kernel", strna(kf->running),
	       kf->running_is_distro == TRI_YES  ? "distribution kernel"
	       : kf->running_is_distro == TRI_NO ? "not a distribution kernel"
						 : "origin unknown");
	for (size_t i = 0; i < kf->n; i++) {
		const struct kernel *k = &kf->list[i];
		char line[512];
		size_t n;

		/* Built in a buffer so the columns pad only between fields, never at the end. */
		n = (size_t)snprintf(line, sizeof(line), "%-36s %-12s", k->release, strna(k->flavour));
		if (n < sizeof(line) && k->page_size_kib && k->page_size_kib != 4)
			n += (size_t)snprintf(line + n, sizeof(line) - n, " %uk pages", k->page_size_kib);
		if (n < sizeof(line) && k->nvidia_version)
			n += (size_t)snprintf(line + n, sizeof(line) - n, " nvidia %s %s", k->nvidia_version,
					      strna(k->nvidia_flavour));
		if (n < sizeof(line) && !k->has_image)
			n += (size_t)snprintf(line + n, sizeof(line) - n, " (no image)");
		if (n < sizeof(line) && k->running)
			snprintf(line + n, sizeof(line) - n, " (running)");
		printf(LABEL "%s\n", i == 0 ? "Installed" : "", strstrip(line));
		for (int o = 0; o < _KCONFIG_MAX; o++)
			if (kernel_kconfig_ok(k, o) == TRI_NO)
				printf(LABEL "  %s=%c: %s\n", "", kconfig_rules[o].name, k->kconfig[o],
				       kconfig_rules[o].reason);
	}
}

static void print_boot(const struct facts *f)
{
	const struct boot_facts *b = &f->boot;
	const struct disk_facts *d = &f->disk;

	printf(LABEL "%s, Secure Boot %s, %s%s%s\n", "Boot", streq(b->firmware, "uefi") ? "UEFI" : "BIOS",
	       tristate_to_string(b->secure_boot), b->loader ? b->loader : "no GRUB found",
	       b->grub_cfg ? " " : "", b->grub_cfg ? b->grub_cfg : "");
	if (b->grubenv)
		printf(LABEL "%s, saved_entry %s%s%s\n", "", b->grubenv, b->saved_entry ? b->saved_entry : "(none)",
		       b->next_entry ? ", next_entry " : "", b->next_entry ? b->next_entry : "");
	if (b->gpuprov_env)
		printf(LABEL "%s, %s %s\n", "", b->gpuprov_env, GPUPROV_ONCE_VAR, b->gpuprov_once ? b->gpuprov_once : "(none)");
	if (d->grubenv_writable == TRI_NO)
		printf(LABEL "GRUB cannot clear a boot-once entry there: %s\n", "", strna(d->grubenv_reason));
	if (d->grubenv_writable == TRI_NO && facts_boot_once(f) == BOOT_ONCE_ESP)
		printf(LABEL "so boot-once entries go to %s/%s on the ESP\n", "", d->esp.mountpoint, GPUPROV_ESP_ENV);
	else if (d->grubenv_writable == TRI_NO)
		printf(LABEL "nor on an ESP (%s): no kernel switch\n", "", strna(d->esp_reason));
	if (b->bls_entries && b->bls_entries[0])
		printf(LABEL "%zu BLS entries\n", "", strv_length(b->bls_entries));
	printf(LABEL "%s\n", "Cmdline", strna(b->cmdline));
}

static void print_mount(const char *label, const struct mount_facts *m)
{
	char free_s[32] = "";

	if (!m->mountpoint) {
		printf(LABEL "unknown\n", label);
		return;
	}
	if (m->have_space)
		human_bytes(m->free_bytes, free_s, sizeof(free_s));
	printf(LABEL "%s on %s (mounted at %s)", label, strna(m->fstype), strna(m->source), m->mountpoint);
	for (char **s = m->stack; s && *s; s++)
		printf("%s%s", s == m->stack ? ", on " : " on ", *s);
	if (m->have_space)
		printf(", %s free", free_s);
	putchar('\n');
}

static void print_pci_dev(const char *label, const struct pci_dev *d)
{
	printf(LABEL "%s  %04x:%04x  %-26s", label, d->bdf, d->vendor, d->device,
	       d->name ? d->name : "(unknown model)");
	if (d->numa_node >= 0)
		printf(" numa %d", d->numa_node);
	printf(" %s", d->driver ? d->driver : "(no driver)");
	for (size_t i = 0; i < d->n_rdma; i++)
		for (size_t j = 0; j < d->rdma[i].n_ports; j++)
			printf(" %s/%u %s %s", d->rdma[i].name, d->rdma[i].ports[j].port,
			       strna(d->rdma[i].ports[j].state), strna(d->rdma[i].ports[j].link_layer));
	for (char **n = d->netdevs; n && *n; n++)
		printf(" %s", *n);
	putchar('\n');
}

static void print_pci_list(const char *label, const struct pci_dev *list, size_t n)
{
	if (n == 0) {
		printf(LABEL "none\n", label);
		return;
	}
	for (size_t i = 0; i < n; i++)
		print_pci_dev(i == 0 ? label : "", &list[i]);
}

static void print_nvidia(const struct facts *f)
{
	const struct nvidia_facts *nv = &f->nvidia;

	printf(LABEL, "Driver");
	if (nv->driver_version)
		printf("%s %s", nv->driver_version, strna(nv->driver_flavour));
	else
		printf("not loaded");
	printf("; modules:");
	for (char **m = nv->loaded_modules; m && *m; m++)
		printf(" %s", *m);
	if (!nv->loaded_modules || !nv->loaded_modules[0])
		printf(" none");
	putchar('\n');
	if (nv->n_cuda == 0)
		printf(LABEL "none\n", "CUDA");
	for (size_t i = 0; i < nv->n_cuda; i++)
		printf(LABEL "%s %s%s\n", i == 0 ? "CUDA" : "", nv->cuda[i].version, nv->cuda[i].path,
		       streq_ptr(nv->cuda[i].path, nv->cuda_default) ? " (default)" : "");
	printf(LABEL "%s%s%s\n", "Fabric mgr",
	       nv->fabricmanager == TRI_YES ? "installed" : "not installed",
	       nv->fabricmanager_version ? " " : "", nv->fabricmanager_version ? nv->fabricmanager_version : "");
	/* The other fabric components, only where installed: most nodes have none. */
	for (size_t i = 0; i < nv->n_fabric; i++)
		if (!streq(nv->fabric[i].component, "fabricmanager"))
			printf(LABEL "%s %s (%s, read from %s)\n", "NVLink", nv->fabric[i].component, nv->fabric[i].version,
			       nv->fabric[i].package, strna(nv->fabric_read_from));
}

static void print_facts(const struct facts *f)
{
	print_cpu(f);
	print_os(f);
	print_kernels(f);
	print_boot(f);
	print_mount("Root fs", &f->disk.root);
	print_mount("/boot", &f->disk.boot);
	if (f->disk.esp.mountpoint)
		print_mount("ESP", &f->disk.esp);
	print_pci_list("GPUs", f->pci.gpus, f->pci.n_gpus);
	print_pci_list("NVSwitches", f->pci.nvswitches, f->pci.n_nvswitches);
	print_pci_list("HCAs", f->pci.hcas, f->pci.n_hcas);
	print_nvidia(f);
}

int verb_detect(struct cli *cli, _unused_ const struct verb *self, _unused_ int argc, _unused_ char **argv)
{
	_cleanup_(facts_freep) struct facts *f = NULL;
	int k;

	k = facts_detect(cli->root, cli->sys, &f);
	if (k < 0) {
		log_error_errno(k, "detect failed");
		return EXIT_CODE_FAILURE;
	}
	for (char **w = f->warnings; *w; w++)
		log_warning("%s", *w);

	if (cli->json) {
		cJSON *doc = NULL;
		char *text;

		k = facts_to_json(f, &doc);
		if (k < 0 || !(text = cJSON_Print(doc))) {
			cJSON_Delete(doc);
			log_error_errno(k < 0 ? k : -ENOMEM, "cannot write JSON");
			return EXIT_CODE_FAILURE;
		}
		puts(text);
		free(text);
		cJSON_Delete(doc);
	} else
		print_facts(f);
	return fflush(stdout) == 0 ? EXIT_CODE_OK : EXIT_CODE_FAILURE;
}
