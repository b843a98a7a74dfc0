/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The resolver: "the framework fixes CUDA, CUDA fixes the driver, the driver fixes the
 * kernel". Candidates come from the repository view; every constraint that rules one out is
 * recorded with the knowledge it came from, so a refusal says exactly why. This file holds
 * the search; resolve-internal.h says where the rest is.
 */
#include <errno.h>
#include <stdarg.h>

#include "profile/resolve-internal.h"
#include "util/strutil.h"
#include "util/vercmp.h"

int resolve_add_line(char ***list, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = strv_pushv(list, n, fmt, ap);
	va_end(ap);
	if (k < 0)
		return k;
	/* The same line found through several toolkits is said once. */
	for (size_t i = 0; i + 1 < *n; i++)
		if (streq((*list)[i], (*list)[*n - 1])) {
			free((*list)[--*n]);
			(*list)[*n] = NULL;
			break;
		}
	return 0;
}

const char *knowledge_src(const cJSON *entry)
{
	const char *s = json_str(entry, "source");

	return s ? s : "gpuprov knowledge";
}

/* ---- refusals -------------------------------------------------------------------------- */

int refuse(struct rctx *c, struct refusal_subject about, const char *rule, const char *source, const char *fmt, ...)
{
	_cleanup_free_ char *subject = NULL, *kernel = NULL, *text = NULL;
	struct refusal *p;
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (k < 0)
		return -ENOMEM;
	if (about.kernel && about.driver)
		k = asprintf(&subject, "kernel %s with driver %s", about.kernel, about.driver);
	else if (about.kernel)
		k = asprintf(&subject, "kernel %s", about.kernel);
	else if (about.driver)
		k = asprintf(&subject, "driver %s", about.driver);
	else if (about.cuda)
		k = asprintf(&subject, "CUDA %s", about.cuda);
	if (k < 0 || (about.kernel && !(kernel = strdup(about.kernel))))
		return -ENOMEM;
	p = realloc(c->refusals, (c->n_refusals + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	c->refusals = p;
	c->refusals[c->n_refusals++] = (struct refusal){ TAKE_PTR(subject), TAKE_PTR(kernel), rule, source, TAKE_PTR(text) };
	return 0;
}

static void refusals_free(struct rctx *c)
{
	for (size_t i = 0; i < c->n_refusals; i++)
		free(c->refusals[i].subject), free(c->refusals[i].kernel), free(c->refusals[i].text);
	c->refusals = mfree(c->refusals);
	c->n_refusals = 0;
}

/* A refusal as the user reads it: "driver 535.216.03: CUDA 12.8 needs 570.26 or newer [source]". */
static char *refusal_line(const struct refusal *f)
{
	char *s;

	if (asprintf(&s, "%s%s%s%s%s%s", f->subject ? f->subject : "", f->subject ? ": " : "", f->text,
		     f->source ? " [" : "", f->source ? f->source : "", f->source ? "]" : "") < 0)
		return NULL;
	return s;
}

/* The result's refusals when the search found nothing; when it found an answer they were the
 * road, not the result, but why the running kernel is not kept is worth a reason of its own. */
static int refusals_report(struct rctx *c)
{
	struct resolution *r = c->res;
	const char *running = c->in->facts->kernels.running;
	int k;

	for (size_t i = 0; i < c->n_refusals; i++) {
		const struct refusal *f = &c->refusals[i];
		_cleanup_free_ char *line = NULL;

		if (r->ok && !(r->kernel_change && running && streq_ptr(f->kernel, running)))
			continue;
		if (!(line = refusal_line(f)))
			return -ENOMEM;
		if (!r->ok)
			k = resolve_add_line(&r->refusals, &r->n_refusals, "%s", line);
		else
			k = resolve_add_line(&r->reasons, &r->n_reasons, "the running kernel is not kept: %s", line);
		if (k < 0)
			return k;
	}
	return 0;
}

/* Why this kernel, and how it is entered. driver: the driver it was paired with, or NULL. */
static int kernel_reasons(struct rctx *c, const struct kernel_cand *kc, const char *driver)
{
	const struct facts *f = c->in->facts;
	int k;

	if ((k = REASON(c, "kernel %s: %s%s%s", kc->release,
			kc->running ? "the running kernel, in the profile's range" : "the newest offered in the profile's range",
			driver ? "; no known failure with driver " : "", driver ? driver : "")) < 0)
		return k;
	if (kc->running && facts_boot_once(f) == BOOT_ONCE_NONE &&
	    (k = REASON(c, "no newer kernel is switched to: the GRUB environment block is %s, where GRUB cannot clear a boot-once entry, and no EFI System Partition can hold one instead (%s); /boot on a plain partition, or an ESP GRUB can write, would allow a switch [%s]",
			strna(f->disk.grubenv_reason), strna(f->disk.esp_reason), SOURCE_GRUB_ENVBLOCK)) < 0)
		return k;
	if (!kc->running && facts_boot_once(f) == BOOT_ONCE_ESP &&
	    (k = REASON(c, "GRUB's environment block is %s, so GRUB could never clear a boot-once entry there; kernel %s is entered once from gpuprov's block on the EFI System Partition instead [%s]",
			strna(f->disk.grubenv_reason), kc->release, SOURCE_GRUB_ENVBLOCK)) < 0)
		return k;
	return 0;
}

/* driver.source "none": the kernel and the settings only, on any machine, GPUs or not. */
static int choose_kernel(struct rctx *c)
{
	struct resolution *r = c->res;
	int k;

	for (size_t j = 0; j < c->n_kernels; j++) {
		const struct kernel_cand *kc = &c->kernels[j];

		k = 0; /* a kernel ruled out already is passed over, not an error */
		if (!c->kernel_ok[j] || (k = switch_acceptable(c, kc)) <= 0) {
			if (k < 0)
				return k;
			continue;
		}
		r->ok = true;
		r->kernel = strdup(kc->release);
		r->kernel_change = !kc->running;
		if (!r->kernel)
			return -ENOMEM;
		if (c->in->facts->pci.n_gpus > 0 &&
		    (k = WARN(c, "%zu NVIDIA GPU%s on this machine, and the profile installs no driver (driver.source \"none\"): gpuprov leaves any driver there is as it is",
			      c->in->facts->pci.n_gpus, c->in->facts->pci.n_gpus == 1 ? " is" : "s are")) < 0)
			return k;
		if ((k = REASON(c, "no NVIDIA driver, CUDA or fabric manager: the profile says driver.source \"none\"")) < 0 ||
		    (k = kernel_reasons(c, kc, NULL)) < 0 || (k = find_kernel_metas(c, kc->release)) < 0 ||
		    (k = pick_kernel(c, kc)) < 0)
			return k;
		return pick_extras(c);
	}
	return 0;
}

/* What the GPUs demanded of the answer, each with its source. */
static int gpu_reasons(struct rctx *c)
{
	int k = 0;

	if (c->min_driver.gpu)
		k = REASON(c, "the %s is supported from driver %s [%s]", c->min_driver.gpu,
			   c->min_driver.value, knowledge_src(c->min_driver.entry));
	if (k >= 0 && c->last_branch.gpu)
		k = REASON(c, "the %s (%s) is supported by driver branches up to R%s [%s]", c->last_branch.gpu,
			   strna(c->last_branch.arch), c->last_branch.value, knowledge_src(c->last_branch.entry));
	if (k >= 0 && c->cuda_below.gpu && c->res->cuda)
		k = REASON(c, "the %s (%s) is supported by CUDA toolkits below %s [%s]", c->cuda_below.gpu,
			   strna(c->cuda_below.arch), c->cuda_below.value, knowledge_src(c->cuda_below.entry));
	if (k >= 0 && c->open.gpu)
		k = REASON(c, "the %s works only with the open kernel modules [%s]", c->open.gpu, knowledge_src(c->open.entry));
	if (k >= 0 && c->proprietary.gpu)
		k = REASON(c, "the %s (%s) works only with the proprietary kernel modules [%s]", c->proprietary.gpu,
			   strna(c->proprietary.arch), knowledge_src(c->proprietary.entry));
	return k;
}

static int choose(struct rctx *c, const struct toolkit_cand *t)
{
	const struct profile *p = c->in->profile;
	const cJSON *floor_entry = NULL;
	const char *floor = NULL;
	int k;

	if (t) {
		if ((k = toolkit_acceptable(c, t)) <= 0)
			return k;
		floor = kn_cuda_floor(c->in->knowledge, t->version, p->cuda_minor_compat, &floor_entry);
		if (!floor)
			return refuse(c, (struct refusal_subject){ .cuda = t->version }, "cuda-driver-floor", NULL,
				      "not in the knowledge, its minimum driver is unknown");
	}
	for (size_t i = 0; i < c->n_drivers; i++) {
		const struct driver_cand *d = &c->drivers[i];
		const char *flavour = NULL;

		k = driver_acceptable(c, d, floor, floor_entry, t ? t->version : NULL, &flavour);
		if (k > 0)
			k = framework_driver_acceptable(c, d);
		if (k <= 0) {
			if (k < 0)
				return k;
			continue;
		}
		for (size_t j = 0; j < c->n_kernels; j++) {
			const struct kernel_cand *kc = &c->kernels[j];
			struct resolution *r = c->res;
			const cJSON *entry;

			if (!c->kernel_ok[j] || (k = pair_acceptable(c, d, flavour, kc)) <= 0) {
				if (k < 0)
					return k;
				continue;
			}

			r->ok = true;
			r->driver = strdup(d->version);
			r->branch = strdup(d->branch);
			r->flavour = flavour;
			r->kernel = strdup(kc->release);
			r->kernel_change = !kc->running;
			r->cuda = t ? strdup(t->version) : NULL;
			if (!r->driver || !r->branch || !r->kernel || (t && !r->cuda))
				return -ENOMEM;

			if (t && (k = REASON(c, "CUDA %s: the newest toolkit offered that the profile accepts (%s %s%s%s); its minimum driver is %s [%s]",
					     t->version, p->cuda_version ? "cuda.version" : "cuda.min_version",
					     p->cuda_version ? p->cuda_version : p->cuda_min_version,
					     p->cuda_framework ? ", for " : "", p->cuda_framework ? p->cuda_framework : "", floor,
					     knowledge_src(floor_entry))) < 0)
				return k;
			if (p->cuda_framework && (k = REASON(c, "framework %s asks for CUDA %s", p->cuda_framework,
							   p->cuda_version ? p->cuda_version : p->cuda_min_version)) < 0)
				return k;
			if ((k = framework_reasons(c, d)) < 0)
				return k;
			if (p->cuda_toolkit_none &&
			    (k = REASON(c, "no CUDA toolkit: cuda.toolkit \"none\", the frameworks bring their own CUDA runtime and need the driver and its NVML")) < 0)
				return k;
			if ((k = REASON(c, "driver %s (%s modules, from %s): the newest offered that meets every constraint",
					d->version, flavour, c->source)) < 0)
				return k;
			if ((k = gpu_reasons(c)) < 0)
				return k;
			if ((entry = kn_branch(c->in->knowledge, d->branch)) &&
			    (k = REASON(c, "branch %s is %s%s%s [%s]", d->branch, strna(json_str(entry, "kind")),
					json_str(entry, "eol") ? ", end of life " : "",
					json_str(entry, "eol") ? json_str(entry, "eol") : "", knowledge_src(entry))) < 0)
				return k;
			if (p->driver_allow_eol && kn_branch_eol(c->in->knowledge, d->branch, c->in->today, &entry) &&
			    (k = WARN(c, "branch %s is past its end of life (%s): the profile allows it, no fixes will come [%s]",
				      d->branch, kn_branch_eol_said(entry), knowledge_src(entry))) < 0)
				return k;
			if ((k = kernel_reasons(c, kc, d->version)) < 0)
				return k;
			if ((k = fabric_choose(c, d)) < 0)
				return k;
			if ((k = find_kernel_metas(c, kc->release)) < 0)
				return k;
			return build_picks(c, d, flavour, kc, t);
		}
	}
	return 0;
}

/* The driver source, chosen once: driver.source, or the first the knowledge lists for the OS.
 * NVIDIA's repository has one layout per OS family; anything else is NVIDIA's .run
 * installers (the profile's schema allows nothing else). */
static const struct driver_source *driver_source_for(const char *name, enum os_family family)
{
	static const struct driver_source *const sources[] = { &source_distro, &source_nvidia_deb, &source_nvidia_rpm };

	for (size_t i = 0; i < ELEMENTSOF(sources); i++)
		if (streq(sources[i]->name, name) &&
		    (sources[i]->family == OS_FAMILY_UNKNOWN || sources[i]->family == family))
			return sources[i];
	return &source_runfile;
}

static int gather_toolkits(struct rctx *c)
{
	int k;

	if (!c->in->profile->cuda_version && !c->in->profile->cuda_min_version)
		return 0;
	if ((k = c->src->gather_toolkits(c)) < 0)
		return k;
	sort_toolkits(c);
	return 0;
}

static int gather_drivers(struct rctx *c)
{
	int k = c->src->gather_drivers(c);

	if (k < 0)
		return k;
	sort_drivers(c);
	settle_unknown_gpu(c);
	return 0;
}

static int search(struct rctx *c, const cJSON *os)
{
	const struct resolve_input *in = c->in;
	const struct facts *f = in->facts;
	bool kernel_only = streq(c->source, "none");
	int k = 0;

	if (f->pci.n_gpus == 0 && !kernel_only)
		return refuse(c, ABOUT_SEARCH, "gpus", NULL,
			      "no NVIDIA GPU on this machine (PCI shows none): nothing for a driver to drive; a profile with driver.source \"none\" manages the kernel and settings of a node without GPUs");
	if (!kernel_only)
		c->src = driver_source_for(c->source, c->family);
	if ((k = gather_kernels(c)) < 0 ||
	    (!kernel_only && ((k = gather_gpus(c)) < 0 || (k = gather_frameworks(c)) < 0 || (k = gather_drivers(c)) < 0 ||
			      (k = gather_toolkits(c)) < 0)))
		return k;
	if (c->stop)
		return 0;

	/* The kernels' own constraints do not depend on the driver: judged once (a real
	 * archive offers hundreds of kernels). */
	c->kernel_ok = calloc(c->n_kernels + 1, sizeof(bool));
	if (!c->kernel_ok)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_kernels && k >= 0; i++)
		if ((k = kernel_acceptable(c, &c->kernels[i], os)) > 0)
			c->kernel_ok[i] = true;
	if (k < 0)
		return k;

	if (c->n_kernels == 0)
		return refuse(c, ABOUT_SEARCH, "kernels", NULL, "no kernel is installed or offered");
	if (in->profile->kernel_release && !kernel_find(c, in->profile->kernel_release))
		return refuse(c, ABOUT_SEARCH, "kernel.release", NULL,
			      "kernel %s (kernel.release in the profile) is neither installed nor offered in this machine's repositories",
			      in->profile->kernel_release);
	if (kernel_only)
		return choose_kernel(c);
	if (c->n_drivers == 0)
		return refuse(c, ABOUT_SEARCH, "drivers", NULL,
			      "no NVIDIA driver is offered by %s in this machine's repositories", c->source);
	if ((in->profile->cuda_version || in->profile->cuda_min_version) && c->n_toolkits == 0)
		return refuse(c, ABOUT_SEARCH, "cuda", NULL, "CUDA %s%s is not offered in this machine's repositories",
			      in->profile->cuda_version ? "" : ">= ",
			      in->profile->cuda_version ? in->profile->cuda_version : in->profile->cuda_min_version);
	if (c->n_toolkits == 0)
		return choose(c, NULL);
	k = 0;
	for (size_t i = 0; i < c->n_toolkits && !c->res->ok && k >= 0; i++)
		k = choose(c, &c->toolkits[i]);
	return k;
}

int resolve(const struct resolve_input *in, struct resolution **ret)
{
	_cleanup_(resolution_freep) struct resolution *r = calloc(1, sizeof(*r));
	const struct facts *f = in->facts;
	struct rctx c = { .in = in, .res = r, .family = f->os.family, .kernel_order = os_version_order(f->os.family) };
	const cJSON *os, *s;
	int k;

	if (!r)
		return -ENOMEM;
	os = c.os = kn_os(in->knowledge, f->os.id, f->os.version_id, f->cpu.arch);
	c.source = in->profile->driver_source;
	if (!c.source && os)
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(os, "sources"))
			if (!c.source && cJSON_IsString(s))
				c.source = s->valuestring;
	if (!c.source)
		k = refuse(&c, ABOUT_SEARCH, "driver.source", NULL,
			   "no driver source: the profile names none and the knowledge has none for %s %s",
			   strna(f->os.id), strna(f->os.version_id));
	else {
		r->source = c.source;
		k = search(&c, os);
	}
	if (k >= 0)
		k = refusals_report(&c);
	if (k >= 0 && r->ok && in->profile->container_toolkit)
		k = container_resolve(&c);
	free(c.drivers);
	free(c.kernels);
	free(c.kernel_ok);
	free(c.toolkits);
	refusals_free(&c);
	if (k < 0)
		return k;
	*ret = TAKE_PTR(r);
	return 0;
}

struct resolution *resolution_free(struct resolution *r)
{
	if (!r)
		return NULL;
	free(r->cuda), free(r->driver), free(r->branch), free(r->kernel), free(r->ctk_version);
	resolution_fabric_free(r);
	for (size_t i = 0; i < r->n_picks; i++)
		free(r->picks[i].name), free(r->picks[i].version), free(r->picks[i].role);
	free(r->picks);
	strv_free(r->kernel_metas);
	strv_free(r->reasons);
	strv_free(r->warnings);
	strv_free(r->refusals);
	for (size_t i = 0; i < r->n_frameworks; i++)
		fw_chain_done(&r->frameworks[i]);
	free(r->frameworks);
	free(r);
	return NULL;
}
