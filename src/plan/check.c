/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check: the installed stack against the compatibility knowledge. */
#include <errno.h>
#include <stdarg.h>

#include "plan/check.h"
#include "profile/profile.h"
#include "util/strutil.h"
#include "util/vercmp.h"

static int found(struct findings *fs, enum severity sev, const char *id, const char *source,
		 const char *fmt, ...) _printf_(5, 6);
static int found(struct findings *fs, enum severity sev, const char *id, const char *source,
		 const char *fmt, ...)
{
	struct finding *p = realloc(fs->list, (fs->n + 1) * sizeof(*p));
	va_list ap;

	if (!p)
		return -ENOMEM;
	fs->list = p;
	p = &p[fs->n++];
	*p = (struct finding){ sev, strdup(id), NULL, strdup(source ? source : "gpuprov") };
	va_start(ap, fmt);
	if (vasprintf(&p->message, fmt, ap) < 0)
		p->message = NULL;
	va_end(ap);
	return p->id && p->message && p->source ? 0 : -ENOMEM;
}

const char *severity_to_string(enum severity s)
{
	return s == SEVERITY_ERROR ? "error" : s == SEVERITY_WARNING ? "warning" : "info";
}

/* The driver that is (or will be, at next boot) in use: the loaded one, else the module
 * the running kernel would load, else the newest built for another kernel (returned in
 * ret_other: that kernel's entry). */
static void driver_in_use(const struct facts *f, const char **version, const char **flavour,
			  const struct kernel **ret_other)
{
	const struct kernel *k = facts_running_kernel(f);

	*version = f->nvidia.driver_version;
	*flavour = f->nvidia.driver_flavour;
	*ret_other = NULL;
	if (!*version && k) {
		*version = k->nvidia_version;
		*flavour = k->nvidia_flavour;
	}
	/* Kernels are listed oldest first: look from the newest down. */
	for (size_t i = f->kernels.n; !*version && i-- > 0;)
		if (f->kernels.list[i].nvidia_version) {
			*ret_other = &f->kernels.list[i];
			*version = f->kernels.list[i].nvidia_version;
			*flavour = f->kernels.list[i].nvidia_flavour;
		}
}

/* The platform's NVLink fabric: each component installed, at the driver's version where its
 * rule asks it (the version read from the package database detect names). */
static int check_fabric(const struct facts *f, const struct knowledge *kn, const char *drv, struct findings *fs)
{
	const cJSON *platform = kn_platform(kn, f->pci.gpus, f->pci.n_gpus, f->pci.n_nvswitches), *e;
	const char *db = f->nvidia.fabric_read_from ? f->nvidia.fabric_read_from : "no package database";
	int r = 0;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(platform, "fabric")) {
		const cJSON *comp = cJSON_IsString(e) ? kn_fabric_component(kn, e->valuestring) : NULL;
		const char *ver = comp ? facts_fabric_version(f, e->valuestring) : NULL;
		/* The fabric manager's binary tells it is there even where no database gave its version. */
		bool there = ver || (streq(e->valuestring, "fabricmanager") && f->nvidia.fabricmanager == TRI_YES);
		char id[64];

		if (!comp)
			continue;
		if (!there) {
			snprintf(id, sizeof(id), "%s-missing", e->valuestring);
			r = found(fs, SEVERITY_ERROR, id, json_str(comp, "source"),
				  "platform %s needs %s (%s) and it is not installed (read from %s): the GPUs will not join the NVLink fabric",
				  strna(json_str(platform, "name")), strna(json_str(comp, "title")), e->valuestring, db);
		} else if (ver && kn_fabric_version_equal(comp) && !streq(ver, drv)) {
			snprintf(id, sizeof(id), "%s-version", e->valuestring);
			r = found(fs, SEVERITY_ERROR, id, json_str(comp, "source"),
				  "%s %s (read from %s) differs from driver %s; they must be equal",
				  strna(json_str(comp, "title")), ver, db, drv);
		}
		if (r < 0)
			return r;
	}
	return r;
}

static int check_kernel(const struct facts *f, const struct knowledge *kn, struct findings *fs)
{
	const struct kernel *k = facts_running_kernel(f);
	const cJSON *risk;
	int r = 0;

	if (f->kernels.running_is_distro == TRI_NO) {
		cJSON_ArrayForEach(risk, kn_risks(kn))
			if (streq_ptr(json_str(risk, "condition"), "self-built-kernel"))
				r = found(fs, SEVERITY_WARNING, "self-built-kernel", json_str(risk, "source"),
					  "kernel %s is not a distribution kernel: %s", strna(f->kernels.running),
					  strna(json_str(risk, "message")));
		if (r < 0)
			return r;
	}
	if (!k)
		return 0;
	for (int o = 0; o < _KCONFIG_MAX && r >= 0; o++) {
		if (kernel_kconfig_ok(k, o) != TRI_NO)
			continue;
		if (o == KCONFIG_PREEMPT_RT) {
			cJSON_ArrayForEach(risk, kn_risks(kn))
				if (streq_ptr(json_str(risk, "condition"), "preempt-rt"))
					r = found(fs, SEVERITY_ERROR, "preempt-rt", json_str(risk, "source"),
						  "kernel %s is PREEMPT_RT: %s", k->release, strna(json_str(risk, "message")));
		} else if (o != KCONFIG_MODULE_SIG || f->boot.secure_boot == TRI_YES)
			r = found(fs, SEVERITY_WARNING, "kernel-config", "gpuprov-profile(5), kernel_config",
				  "kernel %s: %s is not set: %s", k->release, kconfig_rules[o].name, kconfig_rules[o].reason);
	}
	return r;
}

/* One GPU against the driver in use: its first production driver, its architecture's last
 * branch and module flavour; a GPU in no table is a warning (an error with --strict). */
static int check_gpu(const struct knowledge *kn, const struct pci_dev *gpu, const char *drv, const char *flavour,
		     bool strict, struct findings *fs)
{
	const cJSON *g = kn_gpu(kn, gpu->vendor, gpu->device), *arch, *why;
	const char *min = json_str(g, "min_driver"), *last, *only;
	char name[96], branch[4];
	bool by_range;

	arch = kn_gpu_architecture(kn, gpu->vendor, gpu->device, &by_range);
	last = json_str(arch, "driver_last_branch");
	only = kn_gpu_only_flavour(g, arch, &why);
	snprintf(branch, sizeof(branch), "%.3s", drv);
	if (g)
		snprintf(name, sizeof(name), "%s at %s", strna(json_str(g, "name")), gpu->bdf);
	else
		snprintf(name, sizeof(name), "GPU %04x:%04x at %s", gpu->vendor, gpu->device, gpu->bdf);
	if (!g)
		return found(fs, strict ? SEVERITY_ERROR : SEVERITY_WARNING, "gpu-unknown", kn->file,
			     "%s is in no table of the knowledge (as of %s)%s%s: gpuprov cannot tell whether driver %s supports it; newer knowledge (gpuprov knowledge install) may",
			     name, strna(kn->as_of), by_range ? "; by its PCI id it is " : "",
			     by_range ? strna(json_str(arch, "title")) : "", drv);
	if (min && vercmp_dotted(drv, min) < 0)
		return found(fs, SEVERITY_ERROR, "gpu-min-driver", json_str(g, "source"),
			     "%s needs driver %s or newer; %s is installed", name, min, drv);
	if (json_str(g, "min_driver_open") && streq_ptr(flavour, "open") && vercmp_dotted(drv, json_str(g, "min_driver_open")) < 0)
		return found(fs, SEVERITY_ERROR, "gpu-min-driver-open", json_str(g, "source"),
			     "%s is driven by the open kernel modules from %s; the open modules of %s are installed", name,
			     json_str(g, "min_driver_open"), drv);
	if (last && vercmp_dotted(branch, last) > 0)
		return found(fs, SEVERITY_ERROR, "gpu-last-branch", json_str(arch, "source"),
			     "%s (%s) is supported by driver branches up to R%s; %s is installed", name,
			     strna(json_str(arch, "title")), last, drv);
	if (streq_ptr(only, "open") && streq_ptr(flavour, "proprietary"))
		return found(fs, SEVERITY_ERROR, "open-required", json_str(why, "source"),
			     "%s works only with the open kernel modules; the proprietary ones are installed", name);
	if (streq_ptr(only, "proprietary") && streq_ptr(flavour, "open"))
		return found(fs, SEVERITY_ERROR, "proprietary-required", json_str(why, "source"),
			     "%s (%s) works only with the proprietary kernel modules; the open ones are installed", name,
			     strna(json_str(arch, "title")));
	return 0;
}

/* Whether a legacy branch is the last one for every GPU here (R470 for Kepler): then it is
 * the right branch, not an old one. */
static bool legacy_is_last(const struct facts *f, const struct knowledge *kn, const char *branch)
{
	for (size_t i = 0; i < f->pci.n_gpus; i++) {
		const cJSON *arch = kn_gpu_architecture(kn, f->pci.gpus[i].vendor, f->pci.gpus[i].device, NULL);

		if (!streq_ptr(json_str(arch, "driver_last_branch"), branch))
			return false;
	}
	return f->pci.n_gpus > 0;
}

/* An installed toolkit against the GPUs' architectures: CUDA 13 on a V100 compiles nothing
 * it can run. */
static int check_cuda_window(const struct facts *f, const struct knowledge *kn, const struct cuda_toolkit *cuda,
			     struct findings *fs)
{
	for (size_t i = 0; i < f->pci.n_gpus; i++) {
		const cJSON *g = kn_gpu(kn, f->pci.gpus[i].vendor, f->pci.gpus[i].device);
		const cJSON *arch = kn_gpu_architecture(kn, f->pci.gpus[i].vendor, f->pci.gpus[i].device, NULL);
		const char *from, *below;

		from = json_str(arch, "cuda_from"), below = json_str(arch, "cuda_below");
		if ((from && vercmp_dotted(cuda->version, from) < 0) || (below && vercmp_dotted(cuda->version, below) >= 0))
			return found(fs, SEVERITY_ERROR, "cuda-architecture", json_str(arch, "source"),
				     "CUDA %s (%s) does not support the %s (%s), whose toolkits are %s%s%s%s", cuda->version,
				     cuda->path, g ? strna(json_str(g, "name")) : "GPU", strna(json_str(arch, "title")),
				     from ? "from " : "", from ? from : "", below ? " and below " : "", below ? below : "");
	}
	return 0;
}

/* An installed toolkit against the driver: below its floor it fails, unless its major's
 * minor-version compatibility covers the driver, which is a note with its limits. */
static int check_cuda(const struct knowledge *kn, const struct cuda_toolkit *cuda, const char *drv,
		      struct findings *fs)
{
	const cJSON *e, *mvc;
	const char *floor = kn_cuda_floor(kn, cuda->version, false, &e);
	const char *mvc_floor = kn_cuda_floor(kn, cuda->version, true, &mvc);

	if (!floor || vercmp_dotted(drv, floor) >= 0)
		return 0;
	if (mvc_floor && mvc != e && vercmp_dotted(drv, mvc_floor) >= 0 &&
	    (!json_str(mvc, "driver_below") || vercmp_dotted(drv, json_str(mvc, "driver_below")) < 0))
		return found(fs, SEVERITY_INFO, "cuda-minor-compat", json_str(mvc, "source"),
			     "CUDA %s (%s) asks for driver %s; driver %s runs it under minor-version compatibility (CUDA %d.x from %s): applications run, but features that need the newer driver (and PTX newer than the driver) do not",
			     cuda->version, cuda->path, floor, drv, atoi(cuda->version), mvc_floor);
	return found(fs, SEVERITY_ERROR, "cuda-driver-floor", json_str(e, "source"),
		     "CUDA %s (%s) needs driver %s or newer, %s is installed", cuda->version, cuda->path, floor, drv);
}

static int check_driver(const struct facts *f, const struct knowledge *kn, const char *today, bool strict,
			struct findings *fs)
{
	const struct kernel *k = facts_running_kernel(f), *other;
	const char *drv, *flavour;
	const cJSON *e, *risk;
	char branch[4];
	int r = 0;

	driver_in_use(f, &drv, &flavour, &other);
	if (other && (r = found(fs, SEVERITY_WARNING, "driver-not-for-running-kernel", NULL,
				"driver %s is installed for kernel %s but not for the running kernel %s: it did not build, or was not built, for it",
				drv, other->release, strna(f->kernels.running))) < 0)
		return r;
	if (!drv) {
		if (f->pci.n_gpus > 0)
			r = found(fs, SEVERITY_INFO, "no-driver", NULL, "%zu NVIDIA GPUs and no NVIDIA driver installed for the running kernel",
				  f->pci.n_gpus);
		if (r >= 0 && f->pci.n_gpus > 0 && strv_contains(f->nvidia.loaded_modules, "nouveau"))
			r = found(fs, SEVERITY_WARNING, "nouveau", NULL,
				  "nouveau is loaded; it must be blacklisted before the NVIDIA driver can bind (profile base)");
		return r;
	}
	snprintf(branch, sizeof(branch), "%.3s", drv);

	if (kn_branch_eol(kn, branch, today, &e))
		r = found(fs, SEVERITY_WARNING, "branch-eol", json_str(e, "source"),
			  "driver %s: branch %s reached its end of life in %s; no more fixes", drv, branch, kn_branch_eol_said(e));
	else if (streq_ptr(json_str(e, "kind"), "legacy") && !legacy_is_last(f, kn, branch))
		r = found(fs, SEVERITY_WARNING, "branch-legacy", json_str(e, "source"),
			  "driver %s: branch %s is NVIDIA's legacy branch, kept for GPUs the newer branches dropped, with critical fixes only; these GPUs have newer production branches",
			  drv, branch);
	if (r >= 0 && k) {
		char up[64];
		struct kernel_version kv;

		kn_kernel_version(kn_os(kn, f->os.id, f->os.version_id, f->cpu.arch), k->release,
				  f->kernels.running_package_version, os_version_order(f->os.family), up, sizeof(up), &kv);
		e = kn_kernel_failure(kn, drv, flavour, &kv);
	}
	if (r >= 0 && k && e)
		r = found(fs, SEVERITY_ERROR, "kernel-failure", json_str(e, "source"),
			  "driver %s with kernel %s: %s%s%s", drv, k->release, strna(json_str(e, "symptom")),
			  json_str(e, "fixed_in") ? "; fixed in " : "", json_str(e, "fixed_in") ? json_str(e, "fixed_in") : "");
	cJSON_ArrayForEach(risk, kn_risks(kn)) {
		const char *kfrom = json_str(risk, "kernel_from"), *dbelow = json_str(risk, "driver_below");

		if (r < 0 || !kfrom || !dbelow || !f->kernels.running)
			continue;
		if (vercmp(os_version_order(f->os.family), f->kernels.running, kfrom) >= 0 && vercmp_dotted(drv, dbelow) < 0)
			r = found(fs, SEVERITY_ERROR, strna(json_str(risk, "id")), json_str(risk, "source"),
				  "kernel %s with driver %s: %s", f->kernels.running, drv, strna(json_str(risk, "message")));
	}
	for (size_t i = 0; i < f->pci.n_gpus && r >= 0; i++)
		r = check_gpu(kn, &f->pci.gpus[i], drv, flavour, strict, fs);
	for (size_t i = 0; i < f->nvidia.n_cuda && r >= 0; i++)
		if ((r = check_cuda(kn, &f->nvidia.cuda[i], drv, fs)) >= 0)
			r = check_cuda_window(f, kn, &f->nvidia.cuda[i], fs);
	for (size_t i = 0; i < f->nvidia.n_frameworks && r >= 0; i++)
		r = check_framework(kn, &f->nvidia.frameworks[i], drv, fs);
	if (r >= 0)
		r = check_fabric(f, kn, drv, fs);
	if (r >= 0 && f->boot.secure_boot == TRI_YES && k && k->nvidia_version && k->nvidia_signed == TRI_NO)
		r = found(fs, SEVERITY_ERROR, "secure-boot-unsigned", SOURCE_MODULE_SIGNING,
			  "Secure Boot is on and the nvidia module for %s (%s) is unsigned: it will not load", k->release,
			  strna(k->nvidia_module));
	return r;
}

/* The knowledge's OS-level risk combinations: an OS (and a kernel series, where the risk
 * names one), with CUDA or GPUs. */
static int check_risks(const struct facts *f, const struct knowledge *kn, struct findings *fs)
{
	const cJSON *risk;
	char series[32];
	int r = 0;

	if (!f->kernels.running || !kernel_series_of(f->kernels.running, series, sizeof(series)))
		return 0;
	cJSON_ArrayForEach(risk, kn_risks(kn)) {
		const char *os = json_str(risk, "os"), *ks = json_str(risk, "kernel_series"), *cuda = json_str(risk, "cuda_from");
		const cJSON *gens = cJSON_GetObjectItemCaseSensitive(risk, "architectures"), *g;
		bool hit;

		if (!os || !os_spec_matches(os, f->os.id, f->os.version_id) || (ks && !streq(ks, series)))
			continue;
		hit = !cuda && !gens;
		for (size_t i = 0; cuda && i < f->nvidia.n_cuda; i++)
			hit |= vercmp_dotted(f->nvidia.cuda[i].version, cuda) >= 0;
		cJSON_ArrayForEach(g, gens)
			for (size_t i = 0; i < f->pci.n_gpus; i++)
				hit |= streq_ptr(json_str(kn_gpu(kn, f->pci.gpus[i].vendor, f->pci.gpus[i].device), "architecture"),
						 g->valuestring);
		if (hit && (r = found(fs, streq_ptr(json_str(risk, "severity"), "error") ? SEVERITY_ERROR : SEVERITY_WARNING,
				      strna(json_str(risk, "id")), json_str(risk, "source"), "%s", strna(json_str(risk, "message")))) < 0)
			return r;
	}
	return 0;
}

int check_run(const struct facts *f, const struct knowledge *k, const char *today, bool strict, struct findings *ret)
{
	int r;

	*ret = (struct findings){};
	if ((r = check_kernel(f, k, ret)) < 0 || (r = check_driver(f, k, today, strict, ret)) < 0 ||
	    (r = check_risks(f, k, ret)) < 0) {
		findings_clear(ret);
		return r;
	}
	return 0;
}

void findings_clear(struct findings *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->list[i].id);
		free(fs->list[i].message);
		free(fs->list[i].source);
	}
	free(fs->list);
	*fs = (struct findings){};
}

int findings_to_json(const struct findings *fs, cJSON **ret)
{
	cJSON *a = cJSON_CreateArray();

	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < fs->n; i++) {
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(a, o) ||
		    !cJSON_AddStringToObject(o, "severity", severity_to_string(fs->list[i].severity)) ||
		    !cJSON_AddStringToObject(o, "id", fs->list[i].id) || !cJSON_AddStringToObject(o, "message", fs->list[i].message) ||
		    !cJSON_AddStringToObject(o, "source", fs->list[i].source)) {
			cJSON_Delete(a);
			return -ENOMEM;
		}
	}
	*ret = a;
	return 0;
}

int findings_add(struct findings *fs, enum severity sev, const char *id, const char *source, const char *message)
{
	return found(fs, sev, id, source, "%s", message);
}

int findings_addf(struct findings *fs, enum severity sev, const char *id, const char *source, const char *fmt, ...)
{
	_cleanup_free_ char *m = NULL;
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vasprintf(&m, fmt, ap);
	va_end(ap);
	return k < 0 ? -ENOMEM : findings_add(fs, sev, id, source, m);
}
