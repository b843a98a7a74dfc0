/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verify: is the stack apply installed healthy on the kernel that is running? */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "apply/verify.h"
#include "host/nvml.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/spawn.h"
#include "util/strutil.h"

#define KMSG_MAX (4u << 20)

void verify_report_done(struct verify_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->checks[i].detail);
	free(r->checks);
	*r = (struct verify_report){};
}

int verify_addv(struct verify_report *r, const char *name, enum verify_class class, bool warn, bool ok, const char *fmt,
		va_list ap)
{
	struct verify_check *c = realloc(r->checks, (r->n + 1) * sizeof(*c));

	if (!c)
		return -ENOMEM;
	r->checks = c;
	c = &c[r->n++];
	*c = (struct verify_check){ .name = name, .ok = ok, .class = class, .warn = warn };
	if (vasprintf(&c->detail, fmt, ap) < 0)
		c->detail = NULL;
	r->ok &= ok || warn;
	return c->detail ? 0 : -ENOMEM;
}

int verify_add(struct verify_report *r, const char *name, enum verify_class class, bool warn, bool ok, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = verify_addv(r, name, class, warn, ok, fmt, ap);
	va_end(ap);
	return k;
}

/* A check of the stack that fails verify. */
static int add(struct verify_report *r, const char *name, bool ok, const char *fmt, ...) _printf_(4, 5);
static int add(struct verify_report *r, const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = verify_addv(r, name, VERIFY_STACK, false, ok, fmt, ap);
	va_end(ap);
	return k;
}

/* The kernel's log since boot (its first KMSG_MAX bytes), NUL-terminated: /dev/kmsg, read
 * record by record without blocking (a fake machine's is a plain file). */
static int read_kmsg(const struct root *sys, char **ret)
{
	_cleanup_close_ int fd = root_open_at(sys, "dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	if (fd < 0)
		return fd;
	if (!(buf = malloc(KMSG_MAX + 1)))
		return -ENOMEM;
	while (len < KMSG_MAX) {
		ssize_t l = read(fd, buf + len, KMSG_MAX - len);

		if (l == 0 || (l < 0 && errno == EAGAIN))
			break;
		if (l < 0 && (errno == EPIPE || errno == EINTR))
			continue; /* a record overwritten while reading: go on with the next */
		if (l < 0)
			return -errno;
		len += (size_t)l;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	return 0;
}

/* 1 when systemd says the unit is active, 0 when not, -1 when it cannot be asked. */
static int unit_active(const char *unit)
{
	char *argv[] = { "systemctl", "is-active", "--quiet", (char *)unit, NULL };
	struct spawn_result sr = {};
	int k = spawn_run(NULL, 0, argv, NULL, &sr);

	if (k < 0)
		return -1;
	k = sr.status == 0;
	spawn_result_done(&sr);
	return k;
}

static unsigned dev_nodes(const struct root *sys, unsigned gpus)
{
	unsigned n = 0;
	char path[64];

	for (unsigned i = 0; i < gpus; i++)
		n += root_exists(sys, path_fmt(path, "dev/nvidia%u", i)) > 0;
	return n;
}

/* Module names as /proc/modules writes them: "nvidia-peermem" is loaded as nvidia_peermem. */
static bool module_loaded(const struct facts *f, const char *name)
{
	char want[64];

	snprintf(want, sizeof(want), "%s", name);
	for (char *c = want; *c; c++)
		if (*c == '-')
			*c = '_';
	return strv_contains(f->kernels.modules, want);
}

/* The modules the profile names: those it blacklists are not loaded, those it has loaded at
 * boot are. One check for all, naming each that is wrong. */
static int check_modules(struct verify_report *r, const struct facts *f, const struct state *state)
{
	_cleanup_(strv_freep) char **wrong = NULL;
	_cleanup_free_ char *text = NULL;
	size_t n = 0, bad = 0;

	if (!f->kernels.modules)
		return add(r, "modules", false, "/proc/modules cannot be read");
	for (int want = 0; want <= 1; want++)
		for (char **x = want ? state->modules_loaded : state->modules_absent; x && *x; x++) {
			n++;
			if (module_loaded(f, *x) == want)
				continue;
			if (strv_pushf(&wrong, &bad, "%s %s", *x, want ? "is not loaded" : "is loaded (blacklisted)") < 0)
				return -ENOMEM;
		}
	if (n == 0)
		return 0;
	if (wrong && !(text = strv_join(wrong, ", ")))
		return -ENOMEM;
	return add(r, "modules", bad == 0, "%zu of %zu as the profile wants them%s%s", n - bad, n, text ? ": " : "",
		   text ? text : "");
}

/* The NVLink fabric's components installed (and the fabric manager wherever NVSwitches are
 * on the PCI bus): each at the driver's version where it is released with the driver, its
 * service running. */
static int check_fabric(struct verify_report *r, const struct root *sys, const struct facts *f, const char *driver)
{
	bool fm_seen = false;
	int k;

	for (size_t i = 0; i < f->nvidia.n_fabric; i++) {
		const struct fabric_installed *c = &f->nvidia.fabric[i];
		/* Running, asked of systemd, on the live system only: a sysroot of files has no
		 * services to ask about. */
		int active = c->service && streq(sys->path, "/") ? unit_active(c->service) : -1;

		fm_seen = fm_seen || streq(c->component, "fabricmanager");
		if ((k = add(r, c->component, (!c->driver_version || streq_ptr(c->version, driver)) && active != 0,
			     "%s %s%s%s", c->component, strna(c->version), active > 0 ? " active" : active == 0 ? " not active" : "",
			     c->driver_version ? ", the driver's version must be the same" : "")) < 0)
			return k;
	}
	if (!fm_seen && f->pci.n_nvswitches > 0)
		return add(r, "fabricmanager", false, "no fabric manager version known, and %zu NVSwitches need one at the driver's %s",
			   f->pci.n_nvswitches, strna(driver));
	return 0;
}

/* The driver's checks but Xid: only where the stack has one (driver.source "none" has not).
 * NVML, where it opened, is handed on in ret_nvml to the checks that ask it more. */
static int check_driver(struct verify_report *r, const struct root *sys, const struct facts *f, const struct state *state,
			struct nvml **ret_nvml)
{
	const char *driver = state->driver, *flavour = state->flavour;
	_cleanup_(nvml_closep) struct nvml *nvml = NULL;
	_cleanup_free_ char *why = NULL;
	unsigned gpus = (unsigned)f->pci.n_gpus, count = 0, nodes;
	int k;

	if ((k = add(r, "driver", strv_contains(f->nvidia.loaded_modules, "nvidia") && streq_ptr(f->nvidia.driver_version, driver) &&
				      (!flavour || streq_ptr(f->nvidia.driver_flavour, flavour)),
		     "nvidia %s (%s) %s, the stack's %s%s%s", strna(f->nvidia.driver_version), strna(f->nvidia.driver_flavour),
		     strv_contains(f->nvidia.loaded_modules, "nvidia") ? "loaded" : "not loaded", strna(driver),
		     flavour ? " " : "", flavour ? flavour : "")) < 0)
		return k;
	nodes = dev_nodes(sys, gpus);
	if ((k = add(r, "devices", nodes == gpus && root_exists(sys, "dev/nvidiactl") > 0, "%u of %u /dev/nvidiaN, %s", nodes,
		     gpus, root_exists(sys, "dev/nvidiactl") > 0 ? "/dev/nvidiactl" : "no /dev/nvidiactl")) < 0)
		return k;
	if ((k = nvml_open_count(&nvml, &count, &why)) == -ENOMEM)
		return k;
	if ((k = k < 0 ? add(r, "nvml", false, "%s", strna(why))
		       : add(r, "nvml", count == gpus, "NVML counts %u GPUs, PCI shows %u", count, gpus)) < 0 ||
	    (k = check_fabric(r, sys, f, driver)) < 0)
		return k;
	*ret_nvml = TAKE_PTR(nvml);
	return 0;
}

/* The Xids of the GPUs' hardware, a GPU each: its PCI address as the driver wrote it and
 * which Xids it had. */
#define XID_GPUS_MAX 16
#define XID_KINDS_MAX 8
struct xid_gpu {
	char pci[32];
	unsigned xids[XID_KINDS_MAX], n_xids;
};

struct xids {
	unsigned n, n_hardware;
	char *first, *first_hardware; /* the lines from "NVRM: Xid" on */
	struct xid_gpu gpus[XID_GPUS_MAX];
	unsigned n_gpus;
};

static void xids_done(struct xids *x)
{
	free(x->first);
	free(x->first_hardware);
}

static struct xid_gpu *xids_gpu(struct xids *x, const char *pci)
{
	for (unsigned i = 0; i < x->n_gpus; i++)
		if (strcasecmp(x->gpus[i].pci, pci) == 0)
			return &x->gpus[i];
	if (x->n_gpus == XID_GPUS_MAX)
		return NULL;
	x->gpus[x->n_gpus] = (struct xid_gpu){};
	strcpy(x->gpus[x->n_gpus].pci, pci);
	return &x->gpus[x->n_gpus++];
}

static int xids_add(struct xids *x, const char *line)
{
	char pci[32], **first = &x->first;
	unsigned xid = 0;
	int k = xid_parse(line, &xid, pci);
	struct xid_gpu *g;

	if (k == -ENOENT)
		return 0;
	/* An Xid whose number cannot be read is the stack's, as every Xid was before. */
	if (k < 0 || !xid_hardware(xid))
		x->n++;
	else {
		x->n_hardware++;
		first = &x->first_hardware;
		if ((g = xids_gpu(x, pci))) {
			unsigned i = 0;

			while (i < g->n_xids && g->xids[i] != xid)
				i++;
			if (i == g->n_xids && g->n_xids < XID_KINDS_MAX)
				g->xids[g->n_xids++] = xid;
		}
	}
	if (!*first && !(*first = strdup(strstr(line, "NVRM: Xid"))))
		return -ENOMEM;
	return 0;
}

/* "GPU 0000:18:00.0 (serial 1654922012345): Xid 79, 48": the GPU by NVML's name for it where
 * NVML has the address the driver logged (without the PCI function), else by that address. */
static int xid_gpu_text(struct nvml *nvml, const struct xid_gpu *g, char **ret)
{
	_cleanup_free_ char *text = NULL;
	size_t size = 0, l = strlen(g->pci);
	unsigned count = 0;
	char name[96];
	FILE *f;

	snprintf(name, sizeof(name), "GPU %s", g->pci);
	if (nvml && nvml_count(nvml, &count) == NVML_OK)
		for (unsigned i = 0; i < count; i++) {
			nvml_device_t dev = NULL;
			char bus[32], serial[32];

			if (nvml_device(nvml, i, &dev) != NVML_OK)
				continue;
			nvml_identity(nvml, dev, bus, serial);
			if (strncasecmp(bus, g->pci, l) == 0 && (bus[l] == '\0' || bus[l] == '.')) {
				verify_gpu_name(nvml, dev, name);
				break;
			}
		}
	if (!(f = open_memstream(&text, &size)))
		return -ENOMEM;
	fprintf(f, "%s: Xid", name);
	for (unsigned i = 0; i < g->n_xids; i++)
		fprintf(f, "%s %u", i ? "," : "", g->xids[i]);
	if (fclose(f) != 0)
		return -ENOMEM;
	*ret = TAKE_PTR(text);
	return 0;
}

/*
 * The driver's reports of GPU errors since boot, in two checks: "xid" for those of the stack
 * (or an application, or an Xid that cannot be read), which roll an apply back as any fault
 * of the stack; and "xid-hardware" for those NVIDIA attributes to the GPU (xid_hardware),
 * naming each GPU, which keep the kernel and hold the node as a hardware fault.
 */
static int check_xid(struct verify_report *r, const struct root *sys, struct nvml *nvml)
{
	_cleanup_(strv_freep) char **parts = NULL;
	_cleanup_free_ char *buf = NULL, *gpus = NULL;
	struct xids x = {};
	size_t n_parts = 0;
	int k = read_kmsg(sys, &buf);

	if (k == -ENOMEM)
		return k;
	if (k < 0) {
		if ((k = add(r, "xid", false, "the kernel log cannot be read: %s", gp_strerror(k))) < 0)
			return k;
		return verify_add(r, "xid-hardware", VERIFY_HARDWARE, false, false, "the kernel log cannot be read");
	}
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l && k >= 0; l = strtok_r(NULL, "\n", &save))
		k = xids_add(&x, l);
	for (unsigned i = 0; i < x.n_gpus && k >= 0; i++) {
		char *text = NULL;

		if ((k = xid_gpu_text(nvml, &x.gpus[i], &text)) >= 0)
			k = strv_push(&parts, &n_parts, text);
		free(text);
	}
	if (k >= 0 && x.n_gpus && !(gpus = strv_join(parts, "; ")))
		k = -ENOMEM;
	if (k >= 0)
		k = add(r, "xid", x.n == 0, "%u Xid errors not of a GPU's hardware since boot%s%s", x.n,
			x.first ? ", the first: " : "", x.first ? x.first : "");
	if (k >= 0)
		k = verify_add(r, "xid-hardware", VERIFY_HARDWARE, false, x.n_hardware == 0,
			       "%u Xid errors of a GPU's hardware since boot%s%s%s%s", x.n_hardware,
			       gpus ? ": " : "", gpus ? gpus : "", x.first_hardware ? "; the first: " : "",
			       x.first_hardware ? x.first_hardware : "");
	xids_done(&x);
	return k;
}

int verify_run(const struct root *sys, const struct facts *f, const struct state *state, struct verify_report *r)
{
	const char *kernel = state->kernel;
	_cleanup_(nvml_closep) struct nvml *nvml = NULL;
	int k;

	*r = (struct verify_report){ .ok = true };
	if ((k = add(r, "kernel", streq_ptr(f->kernels.running, kernel), "running %s, the stack's %s",
		     strna(f->kernels.running), strna(kernel))) < 0 ||
	    (state->driver && (k = check_driver(r, sys, f, state, &nvml)) < 0) ||
	    (nvml && (k = verify_health(r, nvml, state)) < 0) ||
	    (k = check_modules(r, f, state)) < 0)
		return k;
	if (state->rdma) {
		unsigned ports = 0, active = 0;

		for (size_t i = 0; i < f->pci.n_hcas; i++)
			for (size_t d = 0; d < f->pci.hcas[i].n_rdma; d++)
				for (size_t p = 0; p < f->pci.hcas[i].rdma[d].n_ports; p++) {
					ports++;
					active += streq_ptr(f->pci.hcas[i].rdma[d].ports[p].state, "ACTIVE");
				}
		if ((k = add(r, "rdma", ports > 0 && active == ports, "%u of %u HCA ports active", active, ports)) < 0)
			return k;
	}
	if (state->cdi_dir) {
		_cleanup_free_ char *cdi = NULL;
		bool ok = false;

		if ((k = verify_cdi(sys, f, state->cdi_dir, &ok, &cdi)) < 0 || (k = add(r, "cdi", ok, "%s", cdi)) < 0)
			return k;
	}
	/* The Xid lines' GPUs are named with NVML's serials while it is open. */
	if (state->driver && ((k = verify_gpu(r, sys, state)) < 0 || (k = check_xid(r, sys, nvml)) < 0))
		return k;
	/* Commands run as root from here on: no NVML client of ours holds a GPU "in use" for them. */
	nvml = nvml_close(nvml);
	if (state->driver && (k = verify_dcgm(sys, state, r)) < 0)
		return k;
	return verify_site(sys, state, r);
}
