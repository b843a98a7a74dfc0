/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CPU: architecture, vendor and model, sockets, cores, threads, NUMA nodes. */
#include <errno.h>
#include <limits.h>

#include "facts.h"
#include "util/errors.h"
#include "util/strutil.h"

/*
 * arm64 /proc/cpuinfo has no model name: the implementer and part identify the core.
 * Source: Linux arch/arm64/include/asm/cputype.h; util-linux sys-utils/lscpu-arm.c.
 * No public source maps a part to "Kunpeng 930": none is invented here.
 */
static const struct arm_part {
	unsigned implementer, part;
	const char *vendor, *name;
} arm_parts[] = {
	{ 0x48, 0xd01, "HiSilicon", "Kunpeng 920" },
	{ 0x48, 0xd02, "HiSilicon", "HIP09 (Kunpeng 920 family)" },
	{ 0x48, 0xd06, "HiSilicon", "HIP12 (Kunpeng 950)" },
	{ 0x41, 0xd0c, "ARM", "Neoverse N1 (Ampere Altra, AWS Graviton2)" },
	{ 0x41, 0xd40, "ARM", "Neoverse V1 (AWS Graviton3)" },
	{ 0x41, 0xd4f, "ARM", "Neoverse V2 (NVIDIA Grace or AWS Graviton4)" },
	{ 0xc0, 0xac3, "Ampere", "AmpereOne" },
};

static const struct arm_implementer {
	unsigned id;
	const char *vendor;
} arm_implementers[] = {
	{ 0x41, "ARM" }, { 0x48, "HiSilicon" }, { 0x4e, "NVIDIA" }, { 0xc0, "Ampere" },
};

const char *arm_cpu_name(unsigned implementer, unsigned part, const char **ret_vendor)
{
	for (size_t i = 0; i < ELEMENTSOF(arm_parts); i++)
		if (arm_parts[i].implementer == implementer && arm_parts[i].part == part) {
			if (ret_vendor)
				*ret_vendor = arm_parts[i].vendor;
			return arm_parts[i].name;
		}
	if (ret_vendor) {
		*ret_vendor = NULL;
		for (size_t i = 0; i < ELEMENTSOF(arm_implementers); i++)
			if (arm_implementers[i].id == implementer)
				*ret_vendor = arm_implementers[i].vendor;
	}
	return NULL;
}

/* A (socket, core) pair, to count distinct cores on x86 where cpuinfo lists threads. */
struct core_id {
	long socket, core;
};

static int cmp_core(const void *a, const void *b)
{
	const struct core_id *x = a, *y = b;

	if (x->socket != y->socket)
		return x->socket < y->socket ? -1 : 1;
	return (x->core > y->core) - (x->core < y->core);
}

/* Counts distinct sockets and cores in a sorted list. */
static void count_topology(struct core_id *ids, size_t n, unsigned *sockets, unsigned *cores)
{
	qsort(ids, n, sizeof(*ids), cmp_core);
	*sockets = *cores = 0;
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || ids[i].socket != ids[i - 1].socket)
			(*sockets)++;
		if (i == 0 || cmp_core(&ids[i], &ids[i - 1]) != 0)
			(*cores)++;
	}
}

int cpuinfo_parse(FILE *f, struct cpu_facts *cpu)
{
	_cleanup_free_ struct core_id *ids = NULL;
	_cleanup_free_ char *line = NULL;
	size_t n_ids = 0, alloc_ids = 0, linesz = 0;
	long socket = -1, implementer = -1, part = -1;
	bool x86_64 = false, arm64 = false;
	int k;

	while (getline(&line, &linesz, f) >= 0) {
		char *colon = strchr(line, ':'), *key, *value;
		int64_t v;

		if (!colon)
			continue;
		*colon = '\0';
		key = strstrip(line);
		value = strstrip(colon + 1);

		if (streq(key, "processor")) {
			cpu->threads++;
			socket = -1;
		} else if (streq(key, "vendor_id")) {
			if (!cpu->vendor && (k = free_and_strdup(&cpu->vendor, value)) < 0)
				return k;
		} else if (streq(key, "model name")) {
			if (!cpu->model && (k = free_and_strdup(&cpu->model, value)) < 0)
				return k;
		} else if (streq(key, "flags")) {
			/* "lm" (long mode) is what makes an x86 CPU 64-bit. */
			_cleanup_free_ char *padded = NULL;

			if (asprintf(&padded, " %s ", value) < 0)
				return -ENOMEM;
			if (strstr(padded, " lm "))
				x86_64 = true;
		} else if (streq(key, "physical id")) {
			if (parse_s64(value, &v) >= 0)
				socket = v;
		} else if (streq(key, "core id")) {
			if (parse_s64(value, &v) < 0 || socket < 0)
				continue;
			if (n_ids == alloc_ids) {
				size_t na = alloc_ids ? alloc_ids * 2 : 64;
				struct core_id *p = realloc(ids, na * sizeof(*ids));

				if (!p)
					return -ENOMEM;
				ids = p;
				alloc_ids = na;
			}
			ids[n_ids++] = (struct core_id){ socket, v };
		} else if (streq(key, "CPU implementer")) {
			if (implementer < 0 && parse_s64(value, &v) >= 0)
				implementer = v;
		} else if (streq(key, "CPU part")) {
			if (part < 0 && parse_s64(value, &v) >= 0)
				part = v;
		} else if (streq(key, "CPU architecture")) {
			/* "8" (ARMv8 and later); a 32-bit kernel would say "7". */
			if (parse_s64(value, &v) >= 0 && v >= 8)
				arm64 = true;
		}
	}

	if (x86_64 && !cpu->arch && (k = free_and_strdup(&cpu->arch, "x86_64")) < 0)
		return k;
	if (arm64 && !x86_64 && !cpu->arch && (k = free_and_strdup(&cpu->arch, "aarch64")) < 0)
		return k;
	if (implementer >= 0 && part >= 0) {
		const char *vendor, *name;
		char buf[32];

		name = arm_cpu_name((unsigned)implementer, (unsigned)part, &vendor);
		snprintf(buf, sizeof(buf), "0x%02lx", implementer);
		if ((k = free_and_strdup(&cpu->implementer, buf)) < 0)
			return k;
		snprintf(buf, sizeof(buf), "0x%03lx", part);
		if ((k = free_and_strdup(&cpu->part, buf)) < 0)
			return k;
		if (vendor && !cpu->vendor && (k = free_and_strdup(&cpu->vendor, vendor)) < 0)
			return k;
		if (name && !cpu->model && (k = free_and_strdup(&cpu->model, name)) < 0)
			return k;
	}
	if (n_ids > 0)
		count_topology(ids, n_ids, &cpu->sockets, &cpu->cores);
	return 0;
}

/* arm64 cpuinfo has no topology: read it from sysfs, one directory per CPU. */
static int cpu_topology_from_sysfs(const struct root *sys, struct cpu_facts *cpu)
{
	_cleanup_(strv_freep) char **names = NULL;
	_cleanup_free_ struct core_id *ids = NULL;
	size_t n = 0;
	int k;

	k = root_list_dir(sys, "sys/devices/system/cpu", &names);
	if (k < 0)
		return k;
	ids = calloc(strv_length(names) + 1, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (char **p = names; *p; p++) {
		char path[PATH_MAX];
		int64_t pkg, core;
		const char *num = startswith(*p, "cpu");

		if (!num || !*num || num[strspn(num, "0123456789")] != '\0')
			continue;
		if (root_read_s64(sys, path_fmt(path, "sys/devices/system/cpu/%s/topology/physical_package_id", *p), &pkg) < 0 ||
		    root_read_s64(sys, path_fmt(path, "sys/devices/system/cpu/%s/topology/core_id", *p), &core) < 0)
			continue;
		/* -1: firmware gave no topology (no ACPI PPTT); the count would be a guess. */
		if (pkg < 0)
			return -GPE_PARSE;
		ids[n++] = (struct core_id){ pkg, core };
	}
	if (n == 0)
		return -ENOENT;
	count_topology(ids, n, &cpu->sockets, &cpu->cores);
	return 0;
}

static unsigned count_numa_nodes(const struct root *sys)
{
	_cleanup_(strv_freep) char **names = NULL;
	unsigned n = 0;

	if (root_list_dir(sys, "sys/devices/system/node", &names) < 0)
		return 0;
	for (char **p = names; *p; p++) {
		const char *num = startswith(*p, "node");

		if (num && *num && num[strspn(num, "0123456789")] == '\0')
			n++;
	}
	return n;
}

int cpu_detect(const struct detect_ctx *ctx)
{
	struct facts *f = ctx->facts;
	_cleanup_fclose_ FILE *cpuinfo = NULL;
	int k;

	k = root_fopen(ctx->sys, "proc/cpuinfo", &cpuinfo);
	if (k < 0)
		facts_warn(f, "cannot read proc/cpuinfo: %s", gp_strerror(k));
	else if ((k = cpuinfo_parse(cpuinfo, &f->cpu)) < 0)
		return k;
	if (!f->cpu.arch)
		facts_warn(f, "proc/cpuinfo: architecture not recognised");

	if (f->cpu.sockets == 0 && f->cpu.threads > 0) {
		k = cpu_topology_from_sysfs(ctx->sys, &f->cpu);
		if (k == -ENOMEM)
			return k;
		if (k < 0)
			facts_warn(f, "sys/devices/system/cpu: no CPU topology: %s", gp_strerror(k));
	}
	f->cpu.numa_nodes = count_numa_nodes(ctx->sys);
	return 0;
}

void cpu_refine(const struct detect_ctx *ctx)
{
	struct facts *f = ctx->facts;
	_cleanup_free_ char *sys_vendor = NULL;
	const char *name = NULL;
	bool grace_gpu = false;

	if (!f->cpu.implementer || !f->cpu.part)
		return;
	/* Neoverse V2 is both Grace and Graviton4: tell them by the platform. */
	for (size_t i = 0; i < f->pci.n_gpus; i++)
		if (f->pci.gpus[i].device == 0x2342 || f->pci.gpus[i].device == 0x2348 ||
		    f->pci.gpus[i].device == 0x2941)
			grace_gpu = true;
	(void)root_read_line(ctx->sys, "sys/class/dmi/id/sys_vendor", &sys_vendor);

	if (streq(f->cpu.part, "0xd4f")) {
		if (grace_gpu || (sys_vendor && strstr(sys_vendor, "NVIDIA")))
			name = "NVIDIA Grace (Neoverse V2)";
		else if (sys_vendor && streq(sys_vendor, "Amazon EC2"))
			name = "AWS Graviton4 (Neoverse V2)";
	} else if (streq(f->cpu.part, "0xd0c") && sys_vendor) {
		name = streq(sys_vendor, "Amazon EC2") ? "AWS Graviton2 (Neoverse N1)"
						       : "Ampere Altra (Neoverse N1)";
	}
	if (name)
		(void)free_and_strdup(&f->cpu.model, name);
}
