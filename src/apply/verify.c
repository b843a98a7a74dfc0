/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verify: is the stack apply installed healthy on the kernel that is running? */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
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

/* The kernel's log since boot: /dev/kmsg, read record by record without blocking (a fake
 * machine's is a plain file). Xid lines are the driver's reports of GPU errors. */
static int count_xids(const struct root *sys, unsigned *ret, char **ret_first)
{
	_cleanup_close_ int fd = root_open_at(sys, "dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	*ret = 0;
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
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (strstr(l, "NVRM: Xid")) {
			if (!*ret_first && !(*ret_first = strdup(strstr(l, "NVRM: Xid"))))
				return -ENOMEM;
			(*ret)++;
		}
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
	k = nvml_open(&nvml, &why);
	if (k == -ENOMEM)
		return k;
	if (k >= 0 && (k = nvml_count(nvml, &count)) != NVML_OK) {
		if (asprintf(&why, "NVML: %s (%d)", nvml_strerror(nvml, k), k) < 0)
			return -ENOMEM;
		k = -EIO;
	}
	if ((k = k < 0 ? add(r, "nvml", false, "%s", strna(why))
		       : add(r, "nvml", count == gpus, "NVML counts %u GPUs, PCI shows %u", count, gpus)) < 0 ||
	    (k = check_fabric(r, sys, f, driver)) < 0)
		return k;
	*ret_nvml = TAKE_PTR(nvml);
	return 0;
}

/* The driver's reports of GPU errors since boot. */
static int check_xid(struct verify_report *r, const struct root *sys)
{
	_cleanup_free_ char *xid = NULL;
	unsigned xids = 0;
	int k = count_xids(sys, &xids, &xid);

	if (k == -ENOMEM)
		return k;
	if (k < 0)
		return add(r, "xid", false, "the kernel log cannot be read: %s", gp_strerror(k));
	return add(r, "xid", xids == 0, "%u Xid errors since boot%s%s", xids, xid ? ", the first: " : "", xid ? xid : "");
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
	/* Commands run as root from here on: no NVML client of ours holds a GPU "in use" for them. */
	nvml = nvml_close(nvml);
	if (state->driver &&
	    ((k = verify_gpu(r, sys, state)) < 0 || (k = check_xid(r, sys)) < 0 || (k = verify_dcgm(sys, state, r)) < 0))
		return k;
	return verify_site(sys, state, r);
}
