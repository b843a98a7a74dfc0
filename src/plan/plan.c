/* SPDX-License-Identifier: GPL-2.0-or-later */
/* facts + resolved profile + stack -> the ordered actions apply would take, each with why. */
#include <errno.h>
#include <stdarg.h>

#include "util/json.h"
#include "plan/plan.h"
#include "boot/grub.h"
#include "files/json-keys.h"
#include "files/managed.h"
#include "files/runtimes.h"
#include "util/diff.h"
#include "util/errors.h"
#include "util/strutil.h"

/* Managed files are small; anything bigger at their path is not ours to diff. */
#define MANAGED_FILE_MAX (1024 * 1024)

static int act(struct plan *pl, const char *kind, const char *target, const char *version,
	       const char *detail, const char *fmt, ...) _printf_(6, 7);
static int act(struct plan *pl, const char *kind, const char *target, const char *version,
	       const char *detail, const char *fmt, ...)
{
	struct action *a = realloc(pl->actions, (pl->n + 1) * sizeof(*a));
	va_list ap;

	if (!a)
		return -ENOMEM;
	pl->actions = a;
	a = &a[pl->n++];
	*a = (struct action){ strdup(kind), strdup(target), version ? strdup(version) : NULL,
			      detail ? strdup(detail) : NULL, NULL, NULL, NULL, 0, NULL };
	va_start(ap, fmt);
	if (vasprintf(&a->reason, fmt, ap) < 0)
		a->reason = NULL;
	va_end(ap);
	return a->kind && a->target && a->reason && (!version || a->version) && (!detail || a->detail) ? 0 : -ENOMEM;
}

/* The last action's backend. */
static int act_via(struct plan *pl, const char *via)
{
	return (pl->actions[pl->n - 1].via = strdup(via)) ? 0 : -ENOMEM;
}

/* Which backend installs and holds a pick: runfiles by their own installer, the rest by
 * the OS's package manager. */
const char *plan_pick_via(const struct facts *f, const struct resolution *r, const struct pick *pk)
{
	if (streq(r->source, "runfile") && (streq(pk->role, "driver") || streq(pk->role, "cuda")))
		return "runfile";
	return f->os.family == OS_FAMILY_DEBIAN ? "apt" : "dnf";
}

static const char *role_reason(const char *role)
{
	static const struct {
		const char *role, *why;
	} reasons[] = {
		{ "kernel", "the resolved kernel" },
		{ "driver", "the resolved NVIDIA driver" },
		{ "modules", "the driver's kernel modules for the resolved kernel" },
		{ "cuda", "the resolved CUDA toolkit" },
		{ "nvml", "NVML (libnvidia-ml.so.1) at the driver's version: the frameworks load it, and the node has no CUDA toolkit" },
		{ "fabricmanager", "NVLink fabric manager at the driver's exact version" },
		{ "nvlsm", "NVLink subnet manager the platform's fabric manager needs" },
		{ "imex", "IMEX service at the driver's exact version, for the NVLink domain" },
		{ "extra", "listed in the profile's packages" },
		{ "container-toolkit", "NVIDIA Container Toolkit, all four packages at the version resolved for the driver" },
	};

	for (size_t i = 0; i < ELEMENTSOF(reasons); i++)
		if (streq(reasons[i].role, role))
			return reasons[i].why;
	return role;
}

/* The platform's fabric services: without them the GPUs never join the NVLink fabric and
 * CUDA reports the system not ready (NVIDIA Fabric Manager User Guide). */
static int enable_fabric_services(struct plan *pl, const struct resolution *r, const struct root *root)
{
	for (size_t i = 0; i < r->n_fabric; i++) {
		const char *unit = r->fabric[i].service;
		char name[256];
		int k;

		if (!unit || systemd_unit_enabled(root, unit))
			continue;
		/* Named as the other service actions name units: without ".service". */
		snprintf(name, sizeof(name), "%.*s", (int)(strlen(unit) - (endswith(unit, ".service") ? strlen(".service") : 0)),
			 unit);
		if ((k = act(pl, "service", name, NULL, "enable", "platform %s: %s must run for the GPUs to join the NVLink fabric",
			     r->platform ? r->platform : "unknown", r->fabric[i].component)) < 0)
			return k;
	}
	return 0;
}

/* Kernel meta packages: holding them is what stops an ABI bump bringing a new kernel
 * (holding a versioned image package does not). */
static int hold_kernel_metas(struct plan *pl, const struct facts *f, const struct resolution *r,
			     const struct repo_view *view)
{
	int k;

	if (f->os.family != OS_FAMILY_DEBIAN) {
		/* dnf: kernels are install-only; versionlock keeps new ones out. */
		if (repo_held(view, "kernel"))
			return 0;
		return act(pl, "hold", "kernel", NULL, NULL, "dnf versionlock: no kernel but the resolved one is installed (dnf versionlock plugin, https://dnf-plugins-core.readthedocs.io/en/latest/versionlock.html)") < 0
			       ? -ENOMEM : act_via(pl, "dnf");
	}
	for (size_t i = 0; i < r->n_kernel_metas; i++) {
		/* Only what is installed can be held; a meta package not installed brings nothing. */
		if (view->installed && (repo_held(view, r->kernel_metas[i]) || !repo_installed_any(view, r->kernel_metas[i])))
			continue;
		if ((k = act(pl, "hold", r->kernel_metas[i], NULL, NULL,
			     "kernel meta package: held so an ABI bump cannot bring a kernel the driver was not resolved for")) < 0 ||
		    (k = act_via(pl, "apt")) < 0)
			return k;
	}
	return 0;
}

/* Whether the command line has this argument as a whole word ("console=tty" is not in
 * "console=tty0"). */
static bool cmdline_has(const char *cmdline, const char *arg)
{
	size_t n = strlen(arg);

	for (const char *p = cmdline; p && (p = strstr(p, arg)); p++)
		if ((p == cmdline || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return true;
	return false;
}

/* "grub2-mkconfig -o /boot/grub2/grub.cfg", to the grub.cfg detect found. */
static const char *grub2_mkconfig(const struct facts *f, char *buf, size_t size)
{
	snprintf(buf, size, "grub2-mkconfig -o %s", f->boot.grub_cfg ? f->boot.grub_cfg : "/boot/grub2/grub.cfg");
	return buf;
}

/* Whether some BLS entry differs from what is wanted: lacks arg (want_present) or has it. */
static bool bls_differs(const struct root *root, const struct facts *f, const char *arg, bool want_present)
{
	for (char **id = f->boot.bls_entries; id && *id; id++) {
		_cleanup_free_ char *text = NULL;
		char path[512];
		bool has = false;

		if (root_read_file(root, path_fmt(path, "boot/loader/entries/%s.conf", *id), MANAGED_FILE_MAX, &text, NULL) < 0)
			continue;
		for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			if (startswith(l, "options ") && cmdline_has(l + strlen("options "), arg))
				has = true;
		if (has != want_present)
			return true;
	}
	return false;
}

/* Whether the switch is already arranged: saved_entry the running kernel's, the boot-once
 * entry the new one's, where it lives (a second apply before the reboot). */
static bool boot_once_arranged(const struct facts *f, const struct root *root, const char *kernel)
{
	_cleanup_free_ char *good = NULL, *next = NULL;
	const char *once = facts_boot_once(f) == BOOT_ONCE_ESP ? f->boot.gpuprov_once : f->boot.next_entry;

	if (!f->kernels.running || !f->boot.saved_entry || !once)
		return false;
	return boot_entry_id(f, root, f->kernels.running, &good) >= 0 && boot_entry_id(f, root, kernel, &next) >= 0 &&
	       streq(good, f->boot.saved_entry) && streq(next, once);
}

/* The boot-once action's reason: where the entry lives, and why there. */
static int boot_once_action(struct plan *pl, const struct facts *f, const struct resolution *r)
{
	_cleanup_free_ char *file = NULL;
	const char *var;
	int k;

	if ((k = boot_once_where(f, &var, &file)) < 0)
		return k;
	if (streq(var, "next_entry"))
		return act(pl, "boot-once", r->kernel, NULL, f->kernels.running,
			   "next boot enters %s once (next_entry) with panic=10; the saved default stays %s until verify commits",
			   r->kernel, strna(f->kernels.running));
	return act(pl, "boot-once", r->kernel, NULL, f->kernels.running,
		   "next boot enters %s once (%s in %s on the ESP, taken and cleared by GRUB through %s; %s is %s) with panic=10; the saved default stays %s until verify commits",
		   r->kernel, var, file, GRUB_ONCE_SCRIPT, strna(f->boot.grubenv), strna(f->disk.grubenv_reason),
		   strna(f->kernels.running));
}

/* The running kernel is already kept: its image package held (apt), or a versionlock entry
 * for it (dnf). */
static bool kernel_kept(const struct facts *f, const struct repo_view *view)
{
	char name[256];

	if (f->os.family == OS_FAMILY_DEBIAN)
		return snprintf(name, sizeof(name), "linux-image-%s", f->kernels.running) < (int)sizeof(name) &&
		       repo_held(view, name);
	return repo_held(view, "kernel");
}

/* A file of which only some keys are gpuprov's: its whole new content (the admin's keys
 * kept), and the record of gpuprov's keys to keep with it. */
static int merge_keys(const struct root *root, struct managed_file *mf, const char *old, char **ret_record,
		      char **ret_error)
{
	_cleanup_free_ char *record = NULL;
	int k = managed_keys_record(root, mf->path, &record);

	if (k < 0 && k != -ENOENT)
		return gp_error_set(ret_error, k, "the record of gpuprov's keys in %s: %s", mf->path, gp_strerror(k));
	return json_keys_merge(mf->path, old, mf->keys, record, &mf->content, ret_record, ret_error);
}

int plan_build(const struct profile *p, const struct facts *f, const struct resolution *r,
	       const struct repo_view *view, const struct root *root, struct plan **ret, char **ret_error)
{
	_cleanup_(plan_freep) struct plan *pl = calloc(1, sizeof(*pl));
	struct managed_file *files = NULL;
	bool blacklist_changed = false, driver_changed = false, cmdline_changed = false, script_changed = false;
	struct runtimes_seen rs;
	char mkconfig[512];
	const cJSON *x;
	size_t nf = 0;
	int k;

	if (!pl)
		return -ENOMEM;

	/* 1. Packages at exact versions, the kernel first: the driver's modules follow it. */
	for (size_t i = 0; i < r->n_picks; i++) {
		const struct pick *pk = &r->picks[i];

		if (pk->installed)
			continue;
		if (streq(pk->role, "driver") || streq(pk->role, "modules"))
			driver_changed = true;
		if ((k = act(pl, "install", pk->name, *pk->version ? pk->version : NULL, NULL, "%s", role_reason(pk->role))) < 0 ||
		    (k = act_via(pl, plan_pick_via(f, r, pk))) < 0)
			return k;
	}

	/* 2. The previous kernel is sacred (DESIGN rule 6): kept installed and pinned. */
	if (r->kernel_change && f->kernels.running && !kernel_kept(f, view) &&
	    ((k = act(pl, "keep-kernel", f->kernels.running, NULL, NULL,
		      "the running kernel stays installed, pinned and the saved GRUB default until %s passes verify",
		      r->kernel)) < 0 ||
	     (k = act_via(pl, f->os.family == OS_FAMILY_DEBIAN ? "apt" : "dnf")) < 0))
		return k;

	/* 3. Holds: the stack does not move unless gpuprov moves it. */
	for (size_t i = 0; i < r->n_picks; i++) {
		const struct pick *pk = &r->picks[i];

		if (!*pk->version || streq(pk->role, "extra") || streq(plan_pick_via(f, r, pk), "runfile"))
			continue;
		if (pk->installed && repo_held(view, pk->name))
			continue;
		if ((k = act(pl, "hold", pk->name, pk->version, NULL,
			     f->os.family == OS_FAMILY_DEBIAN ? "apt-mark hold, so unattended upgrades leave it alone (apt-mark(8))"
							      : "dnf versionlock, so updates leave it alone (dnf versionlock plugin, https://dnf-plugins-core.readthedocs.io/en/latest/versionlock.html)")) < 0 ||
		    (k = act_via(pl, plan_pick_via(f, r, pk))) < 0)
			return k;
	}
	if ((k = hold_kernel_metas(pl, f, r, view)) < 0)
		return k;

	/* 4. Managed files, each with its diff against what is there; the container runtimes'
	 * as the runtimes are seen in the root. */
	if ((k = runtimes_read(root, &rs)) < 0)
		return k;
	if ((k = render_files(p, f, r, &files, &nf)) < 0) {
		runtimes_seen_done(&rs);
		return k;
	}
	if ((k = render_container_files(p, &rs, &files, &nf)) < 0) {
		managed_files_free(files, nf);
		runtimes_seen_done(&rs);
		return k;
	}
	for (size_t i = 0; i < nf; i++) {
		_cleanup_free_ char *old = NULL, *diff = NULL, *record = NULL;
		int rk = root_read_file(root, files[i].path, MANAGED_FILE_MAX, &old, NULL);

		/* Missing is a new file; anything else that cannot be read (a FIFO, a directory)
		 * is not gpuprov's to replace. */
		if (rk < 0 && rk != -ENOENT) {
			k = gp_error_set(ret_error, rk, "%s: %s", files[i].path, gp_strerror(rk));
			break;
		}
		/* Only gpuprov's keys in it: merged into what is there. */
		if (files[i].keys && (k = merge_keys(root, &files[i], rk >= 0 ? old : NULL, &record, ret_error)) < 0)
			break;

		/* A shared path holding someone else's file: only gpuprov's block in it changes. */
		if (files[i].shared && rk >= 0 && files[i].content) {
			char *merged = managed_merge(old, files[i].content);

			if (!merged) {
				k = -ENOMEM;
				break;
			}
			free(files[i].content);
			files[i].content = merged;
		}
		if (rk >= 0 && streq(old, files[i].content))
			continue; /* already as it should be */
		diff = diff_lines(rk >= 0 ? old : "", files[i].content);
		if (!diff) {
			k = -ENOMEM;
			break;
		}
		if (strstr(files[i].path, "modprobe.d"))
			blacklist_changed = true;
		if (startswith(files[i].path, "/etc/default/grub"))
			cmdline_changed = true;
		else if (managed_feeds_grub(files[i].path))
			script_changed = true;
		k = act(pl, "file", files[i].path, NULL, diff, "%s%s", files[i].why, rk >= 0 ? "" : " (new file)");
		if (k < 0)
			break;
		pl->actions[pl->n - 1].content = TAKE_PTR(files[i].content);
		pl->actions[pl->n - 1].mode = files[i].mode;
		pl->actions[pl->n - 1].record = TAKE_PTR(record);
	}
	managed_files_free(files, nf);
	/* What the rest of the plan reads of the runtimes; the CRI tables went to the drop-in. */
	runtimes_seen_done(&rs);
	if (k < 0)
		return k;

	/* 5. Kernel command line. GRUB regenerates its configuration from the file written above
	 * (a drop-in on Debian and Ubuntu, gpuprov's block in /etc/default/grub elsewhere);
	 * BLS entries (RHEL 9) are changed in place with grubby(8). */
	if ((cmdline_changed || script_changed) &&
	    (k = act(pl, "bootloader",
		     f->os.family == OS_FAMILY_DEBIAN ? "update-grub" : grub2_mkconfig(f, mkconfig, sizeof(mkconfig)), NULL, NULL,
		     "%s; GRUB's configuration is made again",
		     !script_changed   ? "the kernel command line changed"
		     : cmdline_changed ? "the kernel command line and " GRUB_ONCE_SCRIPT " changed"
				       : GRUB_ONCE_SCRIPT " changed")) < 0)
		return k;
	if (f->os.family != OS_FAMILY_DEBIAN && f->boot.bls_entries && *f->boot.bls_entries) {
		cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p->doc, "cmdline"), "add"))
			if (bls_differs(root, f, x->valuestring, true) &&
			    (k = act(pl, "cmdline", "add", NULL, x->valuestring, "cmdline.add in the profile: grubby --update-kernel=ALL --args")) < 0)
				return k;
		if (bls_differs(root, f, KERNEL_PANIC_ARG, true) &&
		    (k = act(pl, "cmdline", "add", NULL, KERNEL_PANIC_ARG,
			     "a panic of the new kernel reboots into the saved known-good entry")) < 0)
			return k;
		cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p->doc, "cmdline"), "remove"))
			if (bls_differs(root, f, x->valuestring, false) &&
			    (k = act(pl, "cmdline", "remove", NULL, x->valuestring, "cmdline.remove in the profile: grubby --update-kernel=ALL --remove-args")) < 0)
				return k;
	}

	/* 6. The initramfs holds the module blacklist: regenerate it the way the OS does. */
	if (blacklist_changed &&
	    (k = act(pl, "initramfs", f->os.family == OS_FAMILY_DEBIAN ? "update-initramfs -u" : "dracut -f", NULL, NULL,
		     "the modprobe.d blacklist changed; the initramfs carries its own copy (initramfs-tools(7), dracut.conf(5))")) < 0)
		return k;

	/* 7. Services. */
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p->doc, "services"), "enable"))
		if (!systemd_unit_enabled(root, x->valuestring) &&
		    (k = act(pl, "service", x->valuestring, NULL, "enable", "services.enable in the profile")) < 0)
			return k;
	if ((k = enable_fabric_services(pl, r, root)) < 0)
		return k;
	/* The unit that commits the new kernel or rolls back after the reboot, where installed. */
	if (r->kernel_change && systemd_unit_installed(root, "gpuprov-verify.service") && !systemd_unit_enabled(root, "gpuprov-verify") &&
	    (k = act(pl, "service", "gpuprov-verify", NULL, "enable",
		     "after the reboot, verify --commit makes %s the default or rolls back to %s", r->kernel,
		     strna(f->kernels.running))) < 0)
		return k;
	/* The unit that makes the CDI spec anew at boot, before the runtimes. */
	if (p->container_toolkit && p->container_cdi && systemd_unit_installed(root, "gpuprov-cdi.service") &&
	    !systemd_unit_enabled(root, "gpuprov-cdi") &&
	    (k = act(pl, "service", "gpuprov-cdi", NULL, "enable",
		     "container.cdi: at each boot, the GPUs' CDI spec is made anew where it no longer fits the driver, before the runtimes start")) < 0)
		return k;
	/* The unit that sets the GPUs' declared state at boot, before what uses the GPUs. */
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(p->doc, "gpu")) && systemd_unit_installed(root, "gpuprov-gpu.service") &&
	    !systemd_unit_enabled(root, "gpuprov-gpu") &&
	    (k = act(pl, "service", "gpuprov-gpu", NULL, "enable",
		     "gpu: at each boot, the GPUs' declared state is set through NVML once the driver has loaded, before the runtimes and schedulers start")) < 0)
		return k;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p->doc, "services"), "disable"))
		if (systemd_unit_enabled(root, x->valuestring) &&
		    (k = act(pl, "service", x->valuestring, NULL, "disable", "services.disable in the profile")) < 0)
			return k;

	/* 8. The new kernel is entered once; the known-good one stays the saved default. */
	if (r->kernel_change && !boot_once_arranged(f, root, r->kernel) && (k = boot_once_action(pl, f, r)) < 0)
		return k;

	pl->reboot = r->kernel_change || blacklist_changed ||
		     (driver_changed && strv_contains(f->nvidia.loaded_modules, "nvidia"));
	/* 9. The GPUs' declared state, then their CDI spec (which names the MIG devices the
	 * state makes), each now or at the boot; then the runtimes whose drop-ins changed read
	 * them again: restarted, or at the reboot. */
	if ((k = plan_gpu(pl, p, f, r, root)) < 0 || (k = plan_cdi(pl, p, f, r, root)) < 0)
		return k;
	if ((k = plan_container_runtimes(pl, p, &rs)) < 0)
		return k;
	if (pl->reboot &&
	    (k = act(pl, "reboot", r->kernel, NULL, NULL, "%s",
		     r->kernel_change ? "the new kernel takes effect after a reboot (apply never reboots by itself)"
		     : blacklist_changed ? "the module blacklist takes effect after a reboot"
					 : "the running driver is replaced; its modules reload after a reboot")) < 0)
		return k;

	*ret = TAKE_PTR(pl);
	return 0;
}

struct plan *plan_free(struct plan *pl)
{
	if (!pl)
		return NULL;
	for (size_t i = 0; i < pl->n; i++) {
		struct action *a = &pl->actions[i];

		free(a->kind), free(a->target), free(a->version), free(a->detail), free(a->reason);
		free(a->via), free(a->content), free(a->record);
	}
	free(pl->actions);
	strv_free(pl->warnings);
	free(pl);
	return NULL;
}

int plan_add(struct plan *pl, const char *kind, const char *target, const char *version, const char *via,
	     const char *reason)
{
	int k = act(pl, kind, target, version, NULL, "%s", reason);

	return k < 0 || !via ? k : act_via(pl, via);
}

int plan_add_first(struct plan *pl, const char *kind, const char *target, const char *reason)
{
	struct action first;
	int k = act(pl, kind, target, NULL, NULL, "%s", reason);

	if (k < 0)
		return k;
	first = pl->actions[pl->n - 1];
	memmove(&pl->actions[1], &pl->actions[0], (pl->n - 1) * sizeof(*pl->actions));
	pl->actions[0] = first;
	return 0;
}

/* "0755": a file's mode as chmod takes it. */
static const char *mode_str(mode_t mode, char *buf, size_t size)
{
	snprintf(buf, size, "%04o", (unsigned)mode & 07777);
	return buf;
}

int plan_to_json(const struct profile *p, const struct resolution *r, const struct plan *pl, cJSON **ret)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = cJSON_CreateObject();
	cJSON *stack, *acts, *picks, *fabric, *fws = NULL;

	if (!doc || !json_add_str_or_null(doc, "profile", p->name) || json_add_strv(doc, "profiles_applied", p->chain) < 0 ||
	    !cJSON_AddBoolToObject(doc, "refused", !r->ok))
		return -ENOMEM;
	/* Only where the resolver chained frameworks: other plans read as they did. */
	if (r->n_frameworks && (fws = cJSON_AddArrayToObject(doc, "frameworks")) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_frameworks; i++)
		if (!cJSON_AddItemToArray(fws, fw_chain_json(&r->frameworks[i])))
			return -ENOMEM;
	if (!r->ok) {
		if (json_add_strv(doc, "reasons", r->refusals) < 0 || json_add_strv(doc, "warnings", r->warnings) < 0)
			return -ENOMEM;
		*ret = TAKE_PTR(doc);
		return 0;
	}
	stack = cJSON_AddObjectToObject(doc, "stack");
	if (!stack || !json_add_str_or_null(stack, "cuda", r->cuda) || !json_add_str_or_null(stack, "driver", r->driver) ||
	    !json_add_str_or_null(stack, "branch", r->branch) || !json_add_str_or_null(stack, "flavour", r->flavour) ||
	    !json_add_str_or_null(stack, "source", r->source) || !json_add_str_or_null(stack, "kernel", r->kernel) ||
	    !cJSON_AddBoolToObject(stack, "kernel_change", r->kernel_change) ||
	    !json_add_str_or_null(stack, "fabricmanager", resolution_has_fabric(r, "fabricmanager") ? r->driver : NULL) ||
	    !json_add_str_or_null(stack, "platform", r->platform) ||
	    !json_add_str_or_null(stack, "container_toolkit", r->ctk_version) || !(fabric = cJSON_AddArrayToObject(stack, "fabric")) ||
	    !(picks = cJSON_AddArrayToObject(stack, "packages")))
		return -ENOMEM;
	for (size_t i = 0; i < r->n_fabric; i++) {
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(fabric, o) || !json_add_str_or_null(o, "component", r->fabric[i].component) ||
		    !json_add_str_or_null(o, "package", r->fabric[i].package) ||
		    !json_add_str_or_null(o, "version", r->fabric[i].version))
			return -ENOMEM;
	}
	for (size_t i = 0; i < r->n_picks; i++) {
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(picks, o) || !json_add_str_or_null(o, "name", r->picks[i].name) ||
		    !json_add_str_or_null(o, "version", *r->picks[i].version ? r->picks[i].version : NULL) ||
		    !json_add_str_or_null(o, "role", r->picks[i].role) || !cJSON_AddBoolToObject(o, "installed", r->picks[i].installed))
			return -ENOMEM;
	}
	if (json_add_strv(doc, "reasons", r->reasons) < 0 || json_add_strv(doc, "warnings", r->warnings) < 0 ||
	    !(acts = cJSON_AddArrayToObject(doc, "actions")))
		return -ENOMEM;
	for (size_t i = 0; i < pl->n; i++) {
		const struct action *a = &pl->actions[i];
		cJSON *o = cJSON_CreateObject();
		char mode[8];

		if (!o || !cJSON_AddItemToArray(acts, o) || !json_add_str_or_null(o, "action", a->kind) || !json_add_str_or_null(o, "target", a->target) ||
		    (a->version && !json_add_str_or_null(o, "version", a->version)) || (a->via && !json_add_str_or_null(o, "via", a->via)) ||
		    (a->detail && !json_add_str_or_null(o, "detail", a->detail)) ||
		    (a->mode && !cJSON_AddStringToObject(o, "mode", mode_str(a->mode, mode, sizeof(mode)))) ||
		    !json_add_str_or_null(o, "reason", a->reason))
			return -ENOMEM;
	}
	if (!cJSON_AddBoolToObject(doc, "reboot_required", pl->reboot))
		return -ENOMEM;
	*ret = TAKE_PTR(doc);
	return 0;
}
