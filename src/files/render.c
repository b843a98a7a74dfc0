/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Renderers of the managed files: modprobe.d, modules-load.d, sysctl.d, nccl.conf, memlock,
 * apt pins. Formats: the tools' own manuals (modprobe.d(5), sysctl.d(5), apt_preferences(5)). */
#include <errno.h>
#include <stdarg.h>

#include "files/render-internal.h"
#include "host/cdi.h"
#include "util/strutil.h"

void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->alloc - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if (b->s && (size_t)n < b->alloc - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t na = (b->alloc ? b->alloc : 256) + (size_t)n + 256;
		char *p = realloc(b->s, na);

		if (!p) {
			b->failed = true;
			return;
		}
		b->s = p;
		b->alloc = na;
	}
}

void render_header(struct buf *b, const struct profile *p)
{
	bprintf(b, "# Managed by gpuprov for profile %s. Changes here are undone by the next\n"
		   "# gpuprov apply; change the profile instead. See gpuprov(8).\n", p->name);
}

/* A scalar of the profile as text: strings as they are, numbers without a fraction. */
static void scalar(struct buf *b, const cJSON *v)
{
	if (cJSON_IsString(v))
		bprintf(b, "%s", v->valuestring);
	else if (cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble)
		bprintf(b, "%lld", (long long)v->valuedouble);
	else if (cJSON_IsNumber(v))
		bprintf(b, "%g", v->valuedouble);
}

/* Shell lines for a file GRUB's scripts source: each removed argument taken out of both
 * command line variables, then the added ones appended to var. The arguments are checked
 * by the profile's validator to hold no shell or sed metacharacters but '.', bracketed here. */
static void grub_args(struct buf *b, const char *var, const cJSON *add, const cJSON *remove, const char *extra)
{
	static const char *const vars[] = { "GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT" };
	const cJSON *x;

	cJSON_ArrayForEach(x, remove)
		for (size_t i = 0; i < ELEMENTSOF(vars); i++) {
			bprintf(b, "%s=\"$(printf ' %%s ' \"$%s\" | sed 's| ", vars[i], vars[i]);
			for (const char *c = x->valuestring; *c; c++)
				bprintf(b, *c == '.' ? "[.]" : "%c", *c);
			bprintf(b, " | |g; s|^ *||; s| *$||')\"\n");
		}
	if (cJSON_GetArraySize(add) || extra) {
		bprintf(b, "%s=\"$%s", var, var);
		cJSON_ArrayForEach(x, add)
			bprintf(b, " %s", x->valuestring);
		if (extra)
			bprintf(b, " %s", extra);
		bprintf(b, "\"\n");
	}
}

/* "^name$" with the regex characters a package name may hold put in brackets: apt.conf
 * strings have no backslash escapes. */
static void regex_entry(struct buf *b, const char *name)
{
	bprintf(b, "\t\"^");
	for (const char *c = name; *c; c++)
		bprintf(b, *c == '.' || *c == '+' ? "[%c]" : "%c", *c);
	bprintf(b, "$\";\n");
}

int render_add(struct managed_file **files, size_t *n, struct managed_file f)
{
	struct managed_file *p = NULL;

	if ((f.content || f.keys) && f.path && f.why)
		p = realloc(*files, (*n + 1) * sizeof(*p));
	if (!p) {
		/* The file is dropped whole; render_files() fails with what it had. */
		free(f.path), free(f.content), free(f.why), cJSON_Delete(f.keys);
		return -ENOMEM;
	}
	*files = p;
	p[(*n)++] = f;
	return 0;
}

int render_add_file(struct managed_file **files, size_t *n, const char *path, struct buf *b, const char *why)
{
	struct managed_file f = { strdup(path), b->s, strdup(why), false, 0, NULL };

	if (b->failed)
		f.content = mfree(f.content);
	*b = (struct buf){};
	return render_add(files, n, f);
}

/*
 * /etc/grub.d/01_gpuprov: the GRUB commands that take a boot-once entry from gpuprov's block
 * on the ESP as 00_header takes next_entry (grub-mkconfig runs the scripts in order, so its
 * "default" wins over the saved one). The entry is cleared first and entered only where the
 * clearing worked: a boot-once entry GRUB could not clear would be entered at every boot.
 * GRUB finds the ESP by its filesystem UUID, reads only its own variable from the block
 * (load_env's whitelist) and writes it back with save_env, which it can on a plain FAT.
 */
static void grub_once_script(struct buf *b, const struct profile *p, const struct facts *f)
{
	bprintf(b, "#!/bin/sh\n");
	render_header(b, p);
	bprintf(b, "#\n# %s is %s:\n# a boot-once entry there would never be cleared. gpuprov keeps it in %s,\n"
		   "# in %s/%s on the EFI System Partition; these lines\n"
		   "# make GRUB clear it there, then boot it once. See gpuprov(8).\n",
		f->boot.grubenv ? f->boot.grubenv : "its environment block", strna(f->disk.grubenv_reason), GPUPROV_ONCE_VAR,
		f->disk.esp.mountpoint, GPUPROV_ESP_ENV);
	bprintf(b, "cat <<'EOF'\n"
		   "if search --no-floppy --fs-uuid --set=gpuprov_esp %s; then\n"
		   "  set gpuprov_env=\"(${gpuprov_esp})/%s\"\n"
		   "  if [ -s \"${gpuprov_env}\" ]; then\n"
		   "    load_env --file \"${gpuprov_env}\" %s\n"
		   "    if [ -n \"${%s}\" ]; then\n"
		   "      set gpuprov_entry=\"${%s}\"\n"
		   "      set %s=\n"
		   "      if save_env --file \"${gpuprov_env}\" %s; then\n"
		   "        set default=\"${gpuprov_entry}\"\n"
		   "        set boot_once=true\n"
		   "      fi\n"
		   "    fi\n"
		   "  fi\n"
		   "fi\n"
		   "EOF\n",
		f->disk.esp.uuid, GPUPROV_ESP_ENV, GPUPROV_ONCE_VAR, GPUPROV_ONCE_VAR, GPUPROV_ONCE_VAR, GPUPROV_ONCE_VAR,
		GPUPROV_ONCE_VAR);
}

bool managed_feeds_grub(const char *path)
{
	return startswith(path, "/etc/default/grub") || startswith(path, "/etc/grub.d/");
}

static const cJSON *get(const cJSON *doc, const char *a, const char *b)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(doc, a);

	return b ? cJSON_GetObjectItemCaseSensitive(o, b) : o;
}

/* Active RDMA devices of one link layer ("InfiniBand", "Ethernet"), comma-separated. */
static void rdma_devices(const struct facts *f, const char *link_layer, struct buf *b, bool *any)
{
	for (size_t i = 0; i < f->pci.n_hcas; i++)
		for (size_t j = 0; j < f->pci.hcas[i].n_rdma; j++) {
			const struct rdma_dev *r = &f->pci.hcas[i].rdma[j];
			bool fits = false;

			for (size_t p = 0; p < r->n_ports; p++)
				fits |= streq_ptr(r->ports[p].state, "ACTIVE") && streq_ptr(r->ports[p].link_layer, link_layer);
			if (fits) {
				bprintf(b, "%s%s", *any ? "," : "", r->name);
				*any = true;
			}
		}
}

char *nccl_auto_value(const struct facts *f, const char *key)
{
	struct buf b = {};
	bool any = false;

	if (streq(key, "NCCL_IB_HCA")) {
		/* The InfiniBand fabric when there is one; else RoCE over the Ethernet HCAs. A
		 * DGX's Ethernet ConnectX ports carry storage, not the GPU fabric. */
		rdma_devices(f, "InfiniBand", &b, &any);
		if (!any)
			rdma_devices(f, "Ethernet", &b, &any);
	} else {
		/* Bootstrap traffic on the HCAs' Ethernet interfaces; else anything but loopback
		 * and container bridges (NCCL's own exclusion syntax). */
		for (size_t i = 0; i < f->pci.n_hcas; i++) {
			const struct pci_dev *h = &f->pci.hcas[i];
			bool ethernet = false;

			for (size_t j = 0; j < h->n_rdma; j++)
				for (size_t p = 0; p < h->rdma[j].n_ports; p++)
					ethernet |= streq_ptr(h->rdma[j].ports[p].link_layer, "Ethernet");
			for (char **nd = h->netdevs; ethernet && nd && *nd; nd++) {
				bprintf(&b, "%s%s", any ? "," : "", *nd);
				any = true;
			}
		}
		if (!any)
			bprintf(&b, "^lo,docker");
	}
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

int render_files(const struct profile *p, const struct facts *f, const struct resolution *r,
		 struct managed_file **ret, size_t *ret_n)
{
	const cJSON *doc = p->doc, *x, *opt;
	struct managed_file *files = NULL;
	struct buf b = {};
	size_t n = 0;
	int k;

	/* modprobe.d: blacklists and module options (modprobe.d(5)). */
	if (cJSON_GetArraySize(get(doc, "modprobe", "blacklist")) || cJSON_GetArraySize(get(doc, "modprobe", "options"))) {
		render_header(&b, p);
		cJSON_ArrayForEach(x, get(doc, "modprobe", "blacklist"))
			bprintf(&b, "blacklist %s\n", x->valuestring);
		cJSON_ArrayForEach(x, get(doc, "modprobe", "options")) {
			bprintf(&b, "options %s", x->string);
			cJSON_ArrayForEach(opt, x) {
				bprintf(&b, " %s=", opt->string);
				scalar(&b, opt);
			}
			bprintf(&b, "\n");
		}
		if ((k = render_add_file(&files, &n, "/etc/modprobe.d/gpuprov.conf", &b, "the profile's modprobe.blacklist and modprobe.options")) < 0)
			goto fail;
	}

	/* modules-load.d: loaded at boot; nvidia-peermem for GPUDirect RDMA. Only with
	 * an HCA to do RDMA through: without one the modules have nothing to serve. */
	if (cJSON_GetArraySize(get(doc, "rdma", "modules")) && f->pci.n_hcas > 0) {
		render_header(&b, p);
		cJSON_ArrayForEach(x, get(doc, "rdma", "modules"))
			bprintf(&b, "%s\n", x->valuestring);
		if ((k = render_add_file(&files, &n, "/etc/modules-load.d/gpuprov.conf", &b, "the profile's rdma.modules: loaded at boot")) < 0)
			goto fail;
	}

	/* modules-load.d: the modules the platform's fabric needs (ib_umad for the NVLink subnet
	 * manager), a file of their own so that the profile's rdma.modules stay apart. */
	if (r && r->ok && r->n_fabric_modules) {
		render_header(&b, p);
		for (size_t i = 0; i < r->n_fabric_modules; i++)
			bprintf(&b, "%s\n", r->fabric_modules[i]);
		if ((k = render_add_file(&files, &n, FABRIC_MODULES_FILE, &b, "the platform's NVLink fabric modules: loaded at boot")) < 0)
			goto fail;
	}

	/* sysctl.d: the last file by basename wins; 90- comes after the distribution's. */
	if (cJSON_GetArraySize(get(doc, "sysctl", NULL))) {
		render_header(&b, p);
		cJSON_ArrayForEach(x, get(doc, "sysctl", NULL)) {
			bprintf(&b, "%s = ", x->string);
			scalar(&b, x);
			bprintf(&b, "\n");
		}
		if ((k = render_add_file(&files, &n, "/etc/sysctl.d/90-gpuprov.conf", &b, "the profile's sysctl")) < 0)
			goto fail;
	}

	/* /etc/nccl.conf: KEY=VALUE, no spaces. */
	if (cJSON_GetArraySize(get(doc, "nccl", NULL))) {
		render_header(&b, p);
		cJSON_ArrayForEach(x, get(doc, "nccl", NULL)) {
			if (cJSON_IsString(x) && streq(x->valuestring, "auto")) {
				_cleanup_free_ char *v = nccl_auto_value(f, x->string);

				if (!v || !*v) {
					bprintf(&b, "# %s=auto: no active RDMA device found, not set\n", x->string);
					continue;
				}
				bprintf(&b, "%s=%s\n", x->string, v);
				continue;
			}
			bprintf(&b, "%s=", x->string);
			scalar(&b, x);
			bprintf(&b, "\n");
		}
		if ((k = render_add_file(&files, &n, "/etc/nccl.conf", &b, "the profile's nccl settings")) < 0)
			goto fail;
		files[n - 1].shared = true;
	}

	/* memlock: limits.d covers login sessions, a systemd drop-in the services. */
	x = get(doc, "rdma", "memlock");
	if (x) {
		bool unlimited = cJSON_IsString(x);

		render_header(&b, p);
		if (unlimited)
			bprintf(&b, "* soft memlock unlimited\n* hard memlock unlimited\n");
		else
			bprintf(&b, "* soft memlock %lld\n* hard memlock %lld\n", (long long)x->valuedouble,
				(long long)x->valuedouble);
		if ((k = render_add_file(&files, &n, "/etc/security/limits.d/90-gpuprov-memlock.conf", &b, "the profile's rdma.memlock, for login sessions")) < 0)
			goto fail;
		render_header(&b, p);
		if (unlimited)
			bprintf(&b, "[Manager]\nDefaultLimitMEMLOCK=infinity\n");
		else
			bprintf(&b, "[Manager]\nDefaultLimitMEMLOCK=%lldK\n", (long long)x->valuedouble);
		if ((k = render_add_file(&files, &n, "/etc/systemd/system.conf.d/90-gpuprov-memlock.conf", &b, "the profile's rdma.memlock, for services")) < 0)
			goto fail;
	}

	/* The kernel command line, where GRUB's scripts read it: only the profile's arguments
	 * are added or taken off, by lines of gpuprov's own. A kernel switch also
	 * needs GRUB_DEFAULT=saved, so that the saved known-good entry is what boots when the
	 * boot-once entry is spent, and panic=N, so that a panic reboots into it. BLS entries
	 * are changed with grubby instead (plan.c). */
	/* Kept after the switch too: once gpuprov manages the boot, the default is saved_entry,
	 * which only verify --commit moves, and a panic always reboots. */
	bool switching = r && r->ok && f->boot.loader;
	if ((switching || cJSON_GetArraySize(get(doc, "cmdline", "add")) || cJSON_GetArraySize(get(doc, "cmdline", "remove"))) &&
	    (f->os.family == OS_FAMILY_DEBIAN || !f->boot.bls_entries || !*f->boot.bls_entries)) {
		bool debian = f->os.family == OS_FAMILY_DEBIAN;

		render_header(&b, p);
		if (switching)
			bprintf(&b, "GRUB_DEFAULT=saved\n");
		grub_args(&b, debian ? "GRUB_CMDLINE_LINUX_DEFAULT" : "GRUB_CMDLINE_LINUX", get(doc, "cmdline", "add"),
			  get(doc, "cmdline", "remove"), switching ? KERNEL_PANIC_ARG : NULL);
		if ((k = render_add_file(&files, &n, debian ? "/etc/default/grub.d/90-gpuprov.cfg" : "/etc/default/grub", &b,
				  debian ? "the profile's cmdline and the kernel switch, in a drop-in update-grub reads"
					 : "the profile's cmdline and the kernel switch, in gpuprov's own lines of the file grub2-mkconfig reads")) < 0)
			goto fail;
		/* RHEL's and openEuler's GRUB read no drop-ins: gpuprov's block in the admin's file. */
		files[n - 1].shared = !debian;
	}

	/* Where GRUB cannot write its own environment block, the boot-once entry lives in
	 * gpuprov's block on the ESP; this script of grub-mkconfig's, run after 00_header, makes
	 * GRUB take it from there. Kept after the switch too, as GRUB_DEFAULT=saved is. */
	if (switching && facts_boot_once(f) == BOOT_ONCE_ESP) {
		grub_once_script(&b, p, f);
		if ((k = render_add_file(&files, &n, GRUB_ONCE_SCRIPT, &b,
				  "GRUB cannot write its environment block: the boot-once entry is taken from gpuprov's block on the ESP, and cleared there, by GRUB itself")) < 0)
			goto fail;
		files[n - 1].mode = 0755;
	}

	/* The driver's runfile installs nvidia-persistenced but no unit for it (NVIDIA ships
	 * only a sample); packages do. A runfile node whose profile enables it gets one. */
	if (r && r->ok && streq_ptr(r->source, "runfile")) {
		cJSON_ArrayForEach(x, get(doc, "services", "enable"))
			if (cJSON_IsString(x) && (streq(x->valuestring, "nvidia-persistenced") ||
						   streq(x->valuestring, "nvidia-persistenced.service")))
				break;
		if (x) {
			render_header(&b, p);
			bprintf(&b, "[Unit]\nDescription=NVIDIA persistence daemon (the driver's runfile installs no unit)\n"
				    "ConditionPathExists=/usr/bin/nvidia-persistenced\n\n"
				    "[Service]\nType=forking\nExecStart=/usr/bin/nvidia-persistenced\n"
				    "ExecStopPost=/bin/rm -rf /run/nvidia-persistenced\n\n"
				    "[Install]\nWantedBy=multi-user.target\n");
			if ((k = render_add_file(&files, &n, "/etc/systemd/system/nvidia-persistenced.service", &b,
					  "services.enable names nvidia-persistenced; the runfile installs no unit")) < 0)
				goto fail;
		}
	}

	/* The scheduler's daemon starts after verify: a node registers with Slurm, or its
	 * kubelet with the API server, only once its stack is verified (systemd.unit(5):
	 * a drop-in adds After= and Wants= to the packaged unit). */
	x = get(doc, "maintenance", "scheduler");
	if (cJSON_IsString(x) && (streq(x->valuestring, "slurm") || streq(x->valuestring, "kubernetes"))) {
		bool slurm = streq(x->valuestring, "slurm");

		render_header(&b, p);
		bprintf(&b, "[Unit]\nAfter=gpuprov-verify.service\nWants=gpuprov-verify.service\n");
		if ((k = render_add_file(&files, &n, slurm ? SLURMD_DROPIN : KUBELET_DROPIN, &b,
				  slurm ? "maintenance.scheduler slurm: slurmd registers the node only after gpuprov verify"
					: "maintenance.scheduler kubernetes: the kubelet registers the node only after gpuprov verify")) < 0)
			goto fail;
	}

	/* NVIDIA's own nvidia-cdi-refresh.service (toolkit 1.18.0 on) writes /var/run/cdi/nvidia.yaml
	 * unless its environment file says otherwise: pointed at gpuprov's spec, both write one
	 * file, and no two specs define nvidia.com/gpu (doc/formats.md, "The GPUs' CDI spec"). */
	if (p->container_toolkit && p->container_cdi) {
		_cleanup_free_ char *spec = cdi_spec_path(p->container_cdi_dir ? p->container_cdi_dir : "/var/run/cdi");

		if (!spec) {
			k = -ENOMEM;
			goto fail;
		}
		render_header(&b, p);
		bprintf(&b, "NVIDIA_CTK_CDI_OUTPUT_FILE_PATH=%s\nNVIDIA_CTK_CDI_GENERATE_OUTPUT_FORMAT=json\n", spec);
		if ((k = render_add_file(&files, &n, CDI_REFRESH_ENV, &b,
				  "container.cdi: NVIDIA's nvidia-cdi-refresh.service writes gpuprov's CDI spec, not a second one")) < 0)
			goto fail;
		files[n - 1].shared = true;
	}

	/* apt pins: Pin-Priority 1001 on the chosen versions. */
	if (r && r->ok && f->os.family == OS_FAMILY_DEBIAN) {
		render_header(&b, p);
		for (size_t i = 0; i < r->n_picks; i++) {
			const struct pick *pk = &r->picks[i];

			if (!*pk->version || streq(pk->role, "extra"))
				continue;
			bprintf(&b, "\nPackage: %s\nPin: version %s\nPin-Priority: 1001\n", pk->name, pk->version);
		}
		if ((k = render_add_file(&files, &n, APT_PINS_FILE, &b, "apt pins (Pin-Priority 1001) on the resolved stack's versions (apt_preferences(5))")) < 0)
			goto fail;

		/* unattended-upgrades skips held packages already; its blacklist (regexes)
		 * also covers what the stack pulls in: the driver's libraries, the kernel's parts. */
		render_header(&b, p);
		bprintf(&b, "Unattended-Upgrade::Package-Blacklist {\n");
		for (size_t i = 0; i < r->n_picks; i++)
			if (*r->picks[i].version && !streq(r->picks[i].role, "extra"))
				regex_entry(&b, r->picks[i].name);
		for (size_t i = 0; i < r->n_kernel_metas; i++)
			regex_entry(&b, r->kernel_metas[i]);
		bprintf(&b, "\t\"^(lib)?nvidia-\";\n\t\"^cuda-\";\n"
			    "\t\"^linux-(image|modules|modules-extra|headers|objects|signatures)-[0-9]\";\n};\n");
		if ((k = render_add_file(&files, &n, APT_UNATTENDED_FILE, &b,
				  "unattended-upgrades leaves the stack and the kernels alone (its Package-Blacklist, unattended-upgrades README)")) < 0)
			goto fail;
	}

	*ret = files;
	*ret_n = n;
	return 0;
fail:
	managed_files_free(files, n);
	return k;
}

#define HEADER_START "# Managed by gpuprov"
#define BLOCK_BEGIN "# gpuprov begin: "
#define BLOCK_END "# gpuprov end\n"

char *managed_merge(const char *old, const char *rendered)
{
	const char *body = rendered, *begin, *end;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (!old || startswith(old, HEADER_START))
		return strdup(rendered);
	/* The rendered header is two comment lines; the block says the same in one. */
	for (int i = 0; i < 2 && startswith(body, "#") && strchr(body, '\n'); i++)
		body = strchr(body, '\n') + 1;
	if (!(f = open_memstream(&out, &len)))
		return NULL;
	begin = strstr(old, "\n" BLOCK_BEGIN) ? strstr(old, "\n" BLOCK_BEGIN) + 1 : startswith(old, BLOCK_BEGIN) ? old : NULL;
	end = begin ? strstr(begin, "\n" BLOCK_END) : NULL;
	if (begin && end) {
		fwrite(old, 1, (size_t)(begin - old), f);
		fputs(end + 1 + strlen(BLOCK_END), f);
	} else
		fputs(old, f);
	/* The block starts on a line of its own. */
	if (fflush(f) == 0 && len > 0 && out[len - 1] != '\n')
		fputc('\n', f);
	fprintf(f, BLOCK_BEGIN "these lines are gpuprov's (see gpuprov(8)); the rest of the file is left alone\n%s" BLOCK_END,
		body);
	if (fclose(f) != 0)
		return mfree(out);
	return out;
}

void managed_files_free(struct managed_file *files, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(files[i].path);
		free(files[i].content);
		free(files[i].why);
		cJSON_Delete(files[i].keys);
	}
	free(files);
}
