/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The resolver against the shipped knowledge: CUDA -> driver floors, GPU minimums, the open
 * modules, known driver x kernel failures, end of life, fabric manager, Secure Boot. Each
 * case offers a small repository (repo.json in a temporary root) and checks the choice, or
 * that the refusal names the constraint. */
#include "unit.h"

#include <errno.h>
#include <sys/stat.h>

#include "files/render.h"
#include "profile/knowledge.h"
#include "profile/repo.h"
#include "profile/resolve.h"
#include "profile/resolve-internal.h"
#include "util/strutil.h"

static struct knowledge *kn;
static char tmp[64];

static int group_setup(void **state)
{
	const char *srcdir = getenv("srcdir");
	char dir[512];
	struct root *r = NULL;
	char *err = NULL;

	snprintf(dir, sizeof(dir), "%s/profiles", srcdir ? srcdir : ".");
	assert_int_equal(root_open(dir, &r), 0);
	assert_int_equal(knowledge_load(r, dir, &kn, &err), 0);
	root_free(r);
	strcpy(tmp, "/tmp/gpuprov-test-resolve-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	knowledge_free(kn);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd);
}

/* A machine of the RHEL family (dnf names) with one kind of GPU. */
struct machine {
	struct facts f;
	struct kernel kernel;
	struct pci_dev gpu, nvswitch;
	struct pci_dev gpus[8];
	char bdfs[8][16];
};

static void machine_init(struct machine *m, const char *os_id, uint16_t device, bool nvswitch)
{
	memset(m, 0, sizeof(*m));
	m->f.os.id = (char *)os_id;
	m->f.os.version_id = (char *)"9.4";
	m->f.os.family = OS_FAMILY_RHEL;
	m->f.cpu.arch = (char *)"x86_64";
	m->kernel = (struct kernel){ .release = (char *)"5.14.0-427.13.1.el9_4.x86_64", .flavour = (char *)"default",
				     .running = true, .has_image = true };
	m->f.kernels = (struct kernel_facts){ .running = m->kernel.release, .list = &m->kernel, .n = 1 };
	m->gpu = (struct pci_dev){ .bdf = (char *)"0000:18:00.0", .vendor = 0x10de, .device = device, .class = 0x030200 };
	m->f.pci.gpus = &m->gpu;
	m->f.pci.n_gpus = 1;
	if (nvswitch) {
		m->nvswitch = (struct pci_dev){ .bdf = (char *)"0000:67:00.0", .vendor = 0x10de, .device = 0x22a3 };
		m->f.pci.nvswitches = &m->nvswitch;
		m->f.pci.n_nvswitches = 1;
	}
	m->f.boot.secure_boot = TRI_NO;
	m->f.disk.grubenv_writable = TRI_YES;
}

/* The machine's GPU n times over (an 8-GPU baseboard), each at its own PCI address. */
static void machine_gpus(struct machine *m, size_t n)
{
	assert_true(n <= ELEMENTSOF(m->gpus));
	for (size_t i = 0; i < n; i++) {
		snprintf(m->bdfs[i], sizeof(m->bdfs[i]), "0000:%02zx:00.0", 0x18 + i);
		m->gpus[i] = m->gpu;
		m->gpus[i].bdf = m->bdfs[i];
	}
	m->f.pci.gpus = m->gpus;
	m->f.pci.n_gpus = n;
}

/* A repository: "name=version ..." packages (arch x86_64), its versions in that order. */
static struct repo_view *offer_in(enum vercmp_order order, const char *packages)
{
	char path[256], *copy = strdup(packages), *save = NULL;
	struct repo_view *v = NULL;
	struct root *r = NULL;
	char **warn = NULL;
	size_t nw = 0;
	FILE *f;

	snprintf(path, sizeof(path), "mkdir -p '%s/var/lib/gpuprov'", tmp);
	assert_int_equal(system(path), 0);
	snprintf(path, sizeof(path), "%s/var/lib/gpuprov/repo.json", tmp);
	f = fopen(path, "we");
	assert_non_null(f);
	fprintf(f, "{\"packages\": [");
	for (char *w = strtok_r(copy, " ", &save), *sep = ""; w; w = strtok_r(NULL, " ", &save), sep = ",") {
		char *eq = strchr(w, '=');

		assert_non_null(eq);
		*eq = '\0';
		fprintf(f, "%s{\"name\": \"%s\", \"version\": \"%s\", \"arch\": \"x86_64\"}", sep, w, eq + 1);
	}
	fprintf(f, "]}\n");
	fclose(f);
	free(copy);
	assert_int_equal(root_open(tmp, &r), 0);
	assert_int_equal(repo_view_load(r, order, NULL, &v, &warn, &nw), 0);
	assert_int_equal(nw, 0);
	root_free(r);
	return v;
}

/* The same with dnf names, in rpm's order. */
static struct repo_view *offer(const char *packages)
{
	return offer_in(VERCMP_RPM, packages);
}

static struct profile profile_default(void)
{
	return (struct profile){ .name = (char *)"test", .doc = NULL, .driver_flavour = "auto",
				 .driver_source = "nvidia-repo", .fabricmanager = "auto" };
}

/* Resolves; the profile's document (packages, kernel_config) is empty unless the case set one. */
static struct resolution *run(struct profile *p, struct machine *m, struct repo_view *v)
{
	struct resolution *r = NULL;
	cJSON *doc = p->doc ? NULL : cJSON_CreateObject();

	if (doc)
		p->doc = doc;
	assert_int_equal(resolve(&(struct resolve_input){ p, &m->f, kn, v, "2026-11-21", NULL, false }, &r), 0);
	if (doc) {
		cJSON_Delete(doc);
		p->doc = NULL;
	}
	return r;
}

static bool refusal_has(const struct resolution *r, const char *needle)
{
	for (size_t i = 0; i < r->n_refusals; i++)
		if (strstr(r->refusals[i], needle))
			return true;
	for (size_t i = 0; i < r->n_refusals; i++)
		print_message("refusal: %s\n", r->refusals[i]);
	return false;
}

#define DRIVER(v) "nvidia-driver=" v "-1.el9 kmod-nvidia-open-dkms=" v "-1.el9 kmod-nvidia-latest-dkms=" v "-1.el9"
#define KERNEL "kernel=5.14.0-427.13.1.el9_4 kernel-devel=5.14.0-427.13.1.el9_4"

static void test_cuda_128_needs_570(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v;
	struct resolution *r;

	machine_init(&m, "rocky", 0x20b2, false); /* A100 SXM4 80GB */
	p.cuda_version = "12.8";
	p.driver_allow_eol = true;

	v = offer(KERNEL " " DRIVER("565.57.01") " " DRIVER("570.26") " cuda-toolkit-12-8=12.8.0-1");
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_string_equal(r->driver, "570.26");
	assert_string_equal(r->cuda, "12.8.0");
	resolution_free(r);
	repo_view_free(v);

	/* 12.8 Update 1 raises the floor to 570.124.06: 570.26 no longer does. */
	v = offer(KERNEL " " DRIVER("570.26") " cuda-toolkit-12-8=12.8.1-1");
	r = run(&p, &m, v);
	assert_false(r->ok);
	assert_true(refusal_has(r, "driver 570.26: CUDA 12.8.1 needs 570.124.06 or newer"));
	resolution_free(r);
	repo_view_free(v);

	v = offer(KERNEL " " DRIVER("565.57.01") " cuda-toolkit-12-8=12.8.0-1");
	r = run(&p, &m, v);
	assert_false(r->ok);
	assert_true(refusal_has(r, "driver 565.57.01: CUDA 12.8.0 needs 570.26 or newer ['CUDA Toolkit Release Notes', Table 3"));
	resolution_free(r);
	repo_view_free(v);
}

static void test_minor_version_compat(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer(KERNEL " " DRIVER("535.216.01") " cuda-toolkit-12-8=12.8.1-1");
	struct resolution *r;

	machine_init(&m, "rocky", 0x20b2, false);
	p.cuda_version = "12.8";
	p.driver_allow_eol = true;
	r = run(&p, &m, v);
	assert_false(r->ok);
	resolution_free(r);

	/* 12.x runs on >= 525.60.13 under minor-version compatibility (release notes, Table 2). */
	p.cuda_minor_compat = true;
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_string_equal(r->driver, "535.216.01");
	resolution_free(r);
	repo_view_free(v);
}

static void test_h200_minimum(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer(KERNEL " " DRIVER("550.40.07"));
	struct resolution *r;

	machine_init(&m, "rocky", 0x2335, false); /* H200 SXM 141GB */
	p.driver_allow_eol = true;
	r = run(&p, &m, v);
	assert_false(r->ok);
	assert_true(refusal_has(r, "driver 550.40.07: the H200 SXM 141GB (Hopper) is supported from 550.90.07"));
	resolution_free(r);
	repo_view_free(v);

	/* 550.54.14 is a production release of the branch before the H200's README listing: a
	 * driver that cannot drive it, however new it looks beside the beta. */
	v = offer(KERNEL " " DRIVER("550.54.14") " " DRIVER("550.90.07"));
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_string_equal(r->driver, "550.90.07");
	resolution_free(r);
	repo_view_free(v);
	v = offer(KERNEL " " DRIVER("550.54.14"));
	r = run(&p, &m, v);
	assert_false(r->ok);
	assert_true(refusal_has(r, "driver 550.54.14: the H200 SXM 141GB (Hopper) is supported from 550.90.07"));
	resolution_free(r);
	repo_view_free(v);
}

static void test_b200_needs_open(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer(KERNEL " " DRIVER("580.95.05"));
	struct resolution *r;

	machine_init(&m, "rocky", 0x2901, false); /* B200 */
	p.driver_flavour = "proprietary";
	r = run(&p, &m, v);
	assert_false(r->ok);
	assert_true(refusal_has(r, "the B200 (Blackwell) works only with the open kernel modules"));
	resolution_free(r);

	p.driver_flavour = "auto";
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_string_equal(r->flavour, "open");
	resolution_free(r);
	repo_view_free(v);
}

static void test_470_with_612_refused(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v;
	struct resolution *r;

	/* A V100 on an OS the knowledge does not list: only the failure table can rule the
	 * pair out. */
	machine_init(&m, "fedora", 0x1db4, false);
	m.kernel.release = (char *)"6.12.4-200.fc41.x86_64";
	m.f.kernels.running = m.kernel.release;
	p.driver_allow_eol = true;
	v = offer(DRIVER("470.239.06"));
	r = run(&p, &m, v);
	assert_false(r->ok);
	assert_true(refusal_has(r, "kernel 6.12.4-200.fc41.x86_64 with driver 470.239.06"));
	assert_true(refusal_has(r, "void-linux/void-packages#53759"));
	assert_int_equal(r->n_warnings, 0); /* the V100 is known */
	resolution_free(r);
	repo_view_free(v);

	/* With a 6.1 kernel beside it, the older kernel is chosen. */
	v = offer(DRIVER("470.239.06") " kernel=6.1.112-200.fc39 kernel-devel=6.1.112-200.fc39");
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_string_equal(r->kernel, "6.1.112-200.fc39.x86_64");
	assert_true(r->kernel_change);
	resolution_free(r);
	repo_view_free(v);
}

static void test_end_of_life(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer(KERNEL " " DRIVER("550.127.05") " " DRIVER("580.95.05"));
	struct resolution *r;

	machine_init(&m, "rocky", 0x20b2, false);
	p.driver_branch = "550";
	r = run(&p, &m, v);
	assert_false(r->ok);
	assert_true(refusal_has(r, "branch 550 reached its end of life in a month NVIDIA does not give and driver.allow_eol is false"));
	resolution_free(r);

	p.driver_allow_eol = true;
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_string_equal(r->driver, "550.127.05");
	assert_int_equal(r->n_warnings, 1);
	resolution_free(r);

	/* No branch asked for: the newest that is not past its end of life. */
	p.driver_branch = NULL;
	p.driver_allow_eol = false;
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_string_equal(r->driver, "580.95.05");
	resolution_free(r);
	repo_view_free(v);
}

/* The fabric's components in the resolution, "name=version ..." in order. */
static void assert_fabric(const struct resolution *r, const char *platform, const char *want)
{
	char got[512] = "";

	assert_true(r->ok);
	assert_string_equal(r->platform, platform);
	for (size_t i = 0; i < r->n_fabric; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s=%s", i ? " " : "", r->fabric[i].package,
			 r->fabric[i].version);
	assert_string_equal(got, want);
}

/* The role of a package among the picks, or NULL when it was not picked. */
static const char *picked_role(const struct resolution *r, const char *name)
{
	for (size_t i = 0; i < r->n_picks; i++)
		if (streq(r->picks[i].name, name))
			return r->picks[i].role;
	return NULL;
}

static void test_fabricmanager_exact(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer(KERNEL " " DRIVER("580.95.05") " " DRIVER("580.82.07") " nvidia-fabric-manager=580.82.07-1");
	struct resolution *r;

	machine_init(&m, "rocky", 0x2330, true);
	machine_gpus(&m, 8);
	r = run(&p, &m, v);
	/* 580.95.05 has no fabric manager of its version: the older pair is the answer. */
	assert_true(r->ok);
	assert_string_equal(r->driver, "580.82.07");
	assert_fabric(r, "hgx-h100", "nvidia-fabric-manager=580.82.07-1");
	resolution_free(r);
	repo_view_free(v);

	v = offer(KERNEL " " DRIVER("580.95.05") " nvidia-fabric-manager=580.82.07-1");
	r = run(&p, &m, v);
	assert_false(r->ok);
	assert_true(refusal_has(r, "NVIDIA Fabric Manager (fabricmanager), which must be the driver's exact version, and nvidia-fabric-manager 580.95.05 is not offered"));
	resolution_free(r);
	repo_view_free(v);
}

/* GRUB cannot clear next_entry on LVM, RAID, ZFS: no switch, the running kernel is kept,
 * unless an ESP GRUB can write holds the boot-once entry instead. */
static bool reason_has(const struct resolution *r, const char *text)
{
	for (size_t i = 0; i < r->n_reasons; i++)
		if (strstr(r->reasons[i], text))
			return true;
	return false;
}

static void test_grubenv_unwritable(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer(KERNEL " kernel=5.14.0-503.14.1.el9_5 kernel-devel=5.14.0-503.14.1.el9_5 " DRIVER("580.95.05"));
	struct resolution *r;

	(void)state;
	machine_init(&m, "rocky", 0x20b2, false);
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_string_equal(r->kernel, "5.14.0-503.14.1.el9_5.x86_64"); /* the newest, by a switch */
	resolution_free(r);

	m.f.disk.grubenv_writable = TRI_NO;
	m.f.disk.grubenv_reason = (char *)"on lvm, which GRUB cannot write";
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_string_equal(r->kernel, "5.14.0-427.13.1.el9_4.x86_64"); /* the running one */
	assert_false(r->kernel_change);
	assert_true(reason_has(r, "no newer kernel is switched to: the GRUB environment block is on lvm"));
	assert_true(reason_has(r, "/boot on a plain partition, or an ESP GRUB can write, would allow a switch"));
	resolution_free(r);

	/* An ESP GRUB can write holds the boot-once entry instead: the switch is made. */
	m.f.disk.esp = (struct mount_facts){ .mountpoint = (char *)"/boot/efi", .fstype = (char *)"vfat", .uuid = (char *)"6E2A-94C1" };
	m.f.disk.esp_writable = TRI_YES;
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_string_equal(r->kernel, "5.14.0-503.14.1.el9_5.x86_64");
	assert_true(r->kernel_change);
	assert_true(reason_has(r, "entered once from gpuprov's block on the EFI System Partition"));
	resolution_free(r);

	/* An ESP on md RAID1 is one GRUB cannot write either. */
	m.f.disk.esp_writable = TRI_NO;
	m.f.disk.esp_reason = (char *)"on raid1, which GRUB cannot write";
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_false(r->kernel_change);
	assert_true(reason_has(r, "no EFI System Partition can hold one instead (on raid1, which GRUB cannot write)"));
	resolution_free(r);
	repo_view_free(v);
}

/* Why the running kernel is not kept is a reason of its own, from the refusals about that
 * kernel: not from those about another whose release merely begins with it (its +64k build). */
static void test_running_kernel_not_kept(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer(KERNEL " kernel-64k=5.14.0-427.13.1.el9_4 kernel=5.14.0-503.14.1.el9_5 "
					   "kernel-devel=5.14.0-503.14.1.el9_5 " DRIVER("580.95.05"));
	struct resolution *r;
	size_t n = 0;

	(void)state;
	machine_init(&m, "rocky", 0x20b2, false);
	p.kernel_release = "5.14.0-503.14.1.el9_5.x86_64";
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_true(r->kernel_change);
	assert_true(reason_has(r, "the running kernel is not kept: kernel 5.14.0-427.13.1.el9_4.x86_64: the profile "
				  "wants exactly 5.14.0-503.14.1.el9_5.x86_64 (kernel.release)"));
	for (size_t i = 0; i < r->n_reasons; i++)
		if (strstr(r->reasons[i], "the running kernel is not kept"))
			n++;
	assert_int_equal(n, 1);
	assert_false(reason_has(r, "+64k"));
	resolution_free(r);
	repo_view_free(v);
}

/* The content of the file render_files() gives at path, or NULL (the caller frees). */
static char *rendered(struct profile *p, struct machine *m, const struct resolution *r, const char *path)
{
	struct managed_file *files = NULL;
	size_t n = 0;
	char *content = NULL;
	cJSON *doc = cJSON_CreateObject();

	p->doc = doc;
	assert_int_equal(render_files(p, &m->f, r, &files, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (streq(files[i].path, path) && files[i].content)
			content = strdup(files[i].content);
	managed_files_free(files, n);
	p->doc = NULL;
	cJSON_Delete(doc);
	return content;
}

#define FABRIC(v) "nvidia-fabric-manager=" v "-1 nvidia-imex=" v "-1"

/* HGX B200: its NVSwitches are not on the host's PCI bus, yet it needs the fabric manager, the
 * NVLink subnet manager (its own versions, the newest taken) and ib_umad. */
static void test_fabric_hgx_b200(void **state)
{
	char *content;
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer(KERNEL " " DRIVER("580.95.05") " " FABRIC("580.95.05") " nvlsm=2025.06.5-1 nvlsm=2025.10.11-1");
	struct resolution *r;

	machine_init(&m, "rocky", 0x2901, false);
	machine_gpus(&m, 8);
	r = run(&p, &m, v);
	assert_fabric(r, "hgx-b200", "nvidia-fabric-manager=580.95.05-1 nvlsm=2025.10.11-1");
	assert_int_equal(r->n_fabric_modules, 1);
	assert_string_equal(r->fabric_modules[0], "ib_umad");
	assert_string_equal(picked_role(r, "nvlsm"), "nvlsm");
	assert_string_equal(picked_role(r, "nvidia-fabric-manager"), "fabricmanager");
	/* The fabric manager's service runs the subnet manager too: nvlsm has none of its own. */
	assert_string_equal(r->fabric[0].service, "nvidia-fabricmanager.service");
	assert_null(r->fabric[1].service);
	content = rendered(&p, &m, r, FABRIC_MODULES_FILE);
	assert_non_null(content);
	assert_non_null(strstr(content, "\nib_umad\n"));
	free(content);
	resolution_free(r);

	/* "off" drops the whole fabric, its module with it. */
	p.fabricmanager = "off";
	r = run(&p, &m, v);
	assert_fabric(r, "hgx-b200", "");
	assert_int_equal(r->n_fabric_modules, 0);
	assert_null(rendered(&p, &m, r, FABRIC_MODULES_FILE));
	resolution_free(r);
	repo_view_free(v);

	/* No NVLink subnet manager offered: refused, naming it and its package. */
	p.fabricmanager = "auto";
	v = offer(KERNEL " " DRIVER("580.95.05") " " FABRIC("580.95.05"));
	r = run(&p, &m, v);
	assert_false(r->ok);
	assert_true(refusal_has(r, "platform hgx-b200 needs NVIDIA NVLink Subnet Manager (nvlsm), and nvlsm is not offered"));
	resolution_free(r);
	repo_view_free(v);
}

/* GB200 NVL: IMEX at the driver's exact version, no fabric manager; the identical driver
 * across the NVLink domain is a warning. */
static void test_fabric_gb200(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer(KERNEL " " DRIVER("580.95.05") " " DRIVER("580.82.07") " " FABRIC("580.82.07"));
	struct resolution *r;

	machine_init(&m, "rocky", 0x2941, false);
	machine_gpus(&m, 4);
	r = run(&p, &m, v);
	/* 580.95.05 has no IMEX of its version: the older driver is the answer. */
	assert_string_equal(r->driver, "580.82.07");
	assert_fabric(r, "gb200-nvl", "nvidia-imex=580.82.07-1");
	assert_true(r->same_driver_domain);
	assert_string_equal(r->fabric[0].service, "nvidia-imex.service");
	assert_null(picked_role(r, "nvidia-fabric-manager"));
	resolution_free(r);
	repo_view_free(v);

	v = offer(KERNEL " " DRIVER("580.95.05") " " FABRIC("580.82.07"));
	r = run(&p, &m, v);
	assert_false(r->ok);
	assert_true(refusal_has(r, "platform gb200-nvl needs NVIDIA IMEX service (imex), which must be the driver's exact version, and nvidia-imex 580.95.05 is not offered"));
	resolution_free(r);
	repo_view_free(v);
}

/* HGX H100 with its NVSwitches on the PCI bus: the fabric manager alone. A single PCIe H100:
 * no fabric, unless the profile says fabricmanager "on". */
static void test_fabric_h100(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer(KERNEL " " DRIVER("580.95.05") " " FABRIC("580.95.05") " nvlsm=2025.10.11-1");
	struct resolution *r;

	machine_init(&m, "rocky", 0x2330, true);
	machine_gpus(&m, 8);
	r = run(&p, &m, v);
	assert_fabric(r, "hgx-h100", "nvidia-fabric-manager=580.95.05-1");
	assert_int_equal(r->n_fabric_modules, 0);
	resolution_free(r);

	machine_init(&m, "rocky", 0x2331, false);
	r = run(&p, &m, v);
	assert_fabric(r, "plain", "");
	assert_null(picked_role(r, "nvidia-fabric-manager"));
	resolution_free(r);

	p.fabricmanager = "on";
	r = run(&p, &m, v);
	assert_fabric(r, "plain", "nvidia-fabric-manager=580.95.05-1");
	resolution_free(r);
	repo_view_free(v);
}

static void test_secure_boot_dkms(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer(KERNEL " " DRIVER("580.95.05"));
	struct resolution *r;

	machine_init(&m, "rocky", 0x20b2, false);
	m.f.boot.secure_boot = TRI_YES;
	r = run(&p, &m, v);
	assert_false(r->ok);
	assert_true(refusal_has(r, "Secure Boot is on and nvidia-repo builds unsigned modules with DKMS"));
	resolution_free(r);
	repo_view_free(v);
}

static void test_kernel_config(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer(KERNEL " " DRIVER("580.95.05") " kernel=5.14.0-503.14.1.el9_5 kernel-devel=5.14.0-503.14.1.el9_5");
	struct resolution *r;

	machine_init(&m, "rocky", 0x20b2, false);
	m.kernel.has_config = true;
	for (int o = 0; o < _KCONFIG_MAX; o++)
		m.kernel.kconfig[o] = 'y';
	m.kernel.kconfig[KCONFIG_IO_URING] = 'n';
	m.kernel.kconfig[KCONFIG_PREEMPT_RT] = 'n';
	p.doc = cJSON_Parse("{\"kernel_config\": [\"CONFIG_IO_URING\"]}");
	p.kernel_flavour = "default";
	r = run(&p, &m, v);
	/* The installed kernel lacks io_uring: the one from the repository is chosen instead. */
	assert_true(r->ok);
	assert_string_equal(r->kernel, "5.14.0-503.14.1.el9_5.x86_64");
	resolution_free(r);
	repo_view_free(v);

	v = offer(KERNEL " " DRIVER("580.95.05"));
	r = run(&p, &m, v);
	assert_false(r->ok);
	assert_true(refusal_has(r, "CONFIG_IO_URING is not set and the profile requires it"));
	resolution_free(r);
	repo_view_free(v);
	cJSON_Delete(p.doc);
}

static void test_dkms_needs_headers(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer(KERNEL " " DRIVER("580.95.05") " kernel=5.14.0-503.14.1.el9_5");
	struct resolution *r;

	machine_init(&m, "rocky", 0x20b2, false);
	p.kernel_flavour = "default";
	r = run(&p, &m, v);
	/* The newer kernel has no kernel-devel to build the DKMS modules against. */
	assert_true(r->ok);
	assert_string_equal(r->kernel, "5.14.0-427.13.1.el9_4.x86_64");
	assert_false(r->kernel_change);
	resolution_free(r);
	repo_view_free(v);
}

/* The version picked for a package, or NULL. */
static const char *picked(const struct resolution *r, const char *name)
{
	for (size_t i = 0; i < r->n_picks; i++)
		if (!strcmp(r->picks[i].name, name))
			return r->picks[i].version;
	return NULL;
}

/* Of two revisions of one driver, the newer as rpm orders them: NVIDIA's packages carry
 * epoch 3, which comes before the version ("3:550.90.07-1.el9" > "550.90.07-2.el9"). */
static void test_newest_revision_rpm(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer(KERNEL " " DRIVER("550.90.07") " nvidia-driver=3:550.90.07-1.el9"
				    " kmod-nvidia-open-dkms=3:550.90.07-1.el9 kmod-nvidia-latest-dkms=3:550.90.07-1.el9");
	struct resolution *r;

	machine_init(&m, "rocky", 0x20b2, false);
	p.driver_allow_eol = true;
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_string_equal(r->driver, "550.90.07");
	assert_non_null(picked(r, "nvidia-driver"));
	assert_string_equal(picked(r, "nvidia-driver"), "3:550.90.07-1.el9");
	resolution_free(r);
	repo_view_free(v);
}

/* The view lists a package's versions newest first in the order it was given: "1.0+a" is
 * newer than "1.0b" for dpkg (letters sort before '+'), older for rpm ('+' separates). */
static void test_view_order(void **state)
{
	static const struct {
		enum vercmp_order order;
		const char *newest;
	} cases[] = { { VERCMP_DPKG, "1.0+a" }, { VERCMP_RPM, "1.0b" } };

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct repo_view *v = offer_in(cases[i].order, "p=1.0b p=1.0+a p=1.0~rc1");
		size_t n, first = repo_find(v, "p", &n);

		assert_int_equal(n, 3);
		assert_string_equal(repo_pkg(v, first).version, cases[i].newest);
		assert_string_equal(repo_pkg(v, first + 2).version, "1.0~rc1");
		repo_view_free(v);
	}
}

static const struct kernel_cand *cand(const struct rctx *c, const char *release)
{
	const struct kernel_cand *kc = kernel_find(c, release);

	if (!kc)
		fail_msg("no candidate for kernel %s", release);
	return kc;
}

/* The kernel candidates: one per release, whether installed, offered, or both (once or in
 * several versions): installed if any of them is, the first package version in the view's
 * order (newest first), running for the running release; newest first. */
static void test_kernel_candidates_merged(void **state)
{
	struct kernel kernels[] = {
		{ .release = (char *)"6.8.0-49-generic", .has_image = true },
		{ .release = (char *)"6.8.0-40-generic", .has_image = true },
		/* modules left behind, no image: no candidate */
		{ .release = (char *)"6.8.0-45-generic" },
		{ .release = (char *)"6.8.0-49-generic", .has_image = true },
	};
	struct repo_view *v = offer_in(VERCMP_DPKG, "linux-image-6.8.0-51-generic=6.8.0-51.52 "
						    "linux-image-6.8.0-49-generic=6.8.0-49.49 "
						    "linux-image-6.8.0-49-generic=6.8.0-49.50 "
						    "linux-image-generic=6.8.0.51.52");
	struct facts f = { .os.family = OS_FAMILY_DEBIAN };
	struct rctx c = { .family = OS_FAMILY_DEBIAN, .kernel_order = VERCMP_DPKG };
	const struct kernel_cand *kc;
	size_t n, first = repo_find(v, "linux-image-6.8.0-49-generic", &n);

	(void)state;
	f.kernels = (struct kernel_facts){ .running = kernels[0].release, .list = kernels,
					   .n = ELEMENTSOF(kernels) };
	c.in = &(struct resolve_input){ .facts = &f, .repo = v };
	assert_int_equal(n, 2);
	assert_int_equal(gather_kernels(&c), 0);

	assert_int_equal(c.n_kernels, 3);
	assert_string_equal(c.kernels[0].release, "6.8.0-51-generic");
	assert_string_equal(c.kernels[1].release, "6.8.0-49-generic");
	assert_string_equal(c.kernels[2].release, "6.8.0-40-generic");

	kc = cand(&c, "6.8.0-49-generic");
	assert_true(kc->installed);
	assert_true(kc->running);
	assert_string_equal(kc->pkgver, repo_pkg(v, first).version);
	assert_string_not_equal(kc->pkgver, repo_pkg(v, first + 1).version);

	kc = cand(&c, "6.8.0-51-generic");
	assert_false(kc->installed);
	assert_false(kc->running);
	assert_string_equal(kc->pkgver, "6.8.0-51.52");

	kc = cand(&c, "6.8.0-40-generic");
	assert_true(kc->installed);
	assert_false(kc->running);
	assert_string_equal(kc->pkgver, "");
	free(c.kernels);
	repo_view_free(v);
}

static void test_deterministic(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer(KERNEL " kernel=5.14.0-503.14.1.el9_5 " DRIVER("570.124.06") " " DRIVER("580.95.05") " cuda-toolkit-12-8=12.8.1-1 cuda-toolkit-13-0=13.0.2-1");
	struct resolution *a, *b;

	machine_init(&m, "rocky", 0x20b2, false);
	p.cuda_min_version = "12.4";
	a = run(&p, &m, v);
	b = run(&p, &m, v);
	assert_true(a->ok && b->ok);
	assert_string_equal(a->cuda, "13.0.2");
	assert_int_equal(a->n_picks, b->n_picks);
	for (size_t i = 0; i < a->n_picks; i++) {
		assert_string_equal(a->picks[i].name, b->picks[i].name);
		assert_string_equal(a->picks[i].version, b->picks[i].version);
	}
	assert_int_equal(a->n_reasons, b->n_reasons);
	resolution_free(a);
	resolution_free(b);
	repo_view_free(v);
}

static bool warning_has(const struct resolution *r, const char *text)
{
	for (size_t i = 0; i < r->n_warnings; i++)
		if (strstr(r->warnings[i], text))
			return true;
	for (size_t i = 0; i < r->n_warnings; i++)
		print_message("warning: %s\n", r->warnings[i]);
	return false;
}

/* A V100 (Volta): its architecture's window bounds the answer from above. R580 is the last
 * branch for it, CUDA 13.0 dropped it, and only the proprietary modules drive it ('CUDA
 * Toolkit, Driver, and Architecture Matrix'; the open modules need Turing or newer). */
static void test_volta_window(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer(KERNEL " " DRIVER("580.95.05") " " DRIVER("595.45.04")
				    " cuda-toolkit-12-8=12.8.1-1 cuda-toolkit-13-0=13.0.2-1");
	struct resolution *r;

	machine_init(&m, "rocky", 0x1db1, false); /* V100 SXM2 16GB */
	p.cuda_min_version = "12.0";
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_string_equal(r->driver, "580.95.05");
	assert_string_equal(r->flavour, "proprietary");
	assert_string_equal(r->cuda, "12.8.1");
	assert_true(reason_has(r, "the V100 SXM2 16GB (Volta) is supported by driver branches up to R580"));
	assert_true(reason_has(r, "the V100 SXM2 16GB (Volta) is supported by CUDA toolkits below 13.0"));
	assert_true(reason_has(r, "the V100 SXM2 16GB (Volta) works only with the proprietary kernel modules"));
	resolution_free(r);

	/* Only the newer branch and toolkit: both are refused, each saying why. */
	repo_view_free(v);
	v = offer(KERNEL " " DRIVER("595.45.04") " cuda-toolkit-13-0=13.0.2-1");
	r = run(&p, &m, v);
	assert_false(r->ok);
	assert_true(refusal_has(r, "CUDA 13.0.2: the V100 SXM2 16GB (Volta) is not supported from CUDA 13.0 on"));
	resolution_free(r);
	p.cuda_min_version = NULL;
	r = run(&p, &m, v);
	assert_false(r->ok);
	assert_true(refusal_has(r, "driver 595.45.04: the V100 SXM2 16GB (Volta) is supported by driver branches up to R580"));
	resolution_free(r);
	repo_view_free(v);

	v = offer(KERNEL " " DRIVER("580.95.05"));
	p.driver_flavour = "open";
	r = run(&p, &m, v);
	assert_false(r->ok);
	assert_true(refusal_has(r, "the V100 SXM2 16GB (Volta) works only with the proprietary kernel modules"));
	resolution_free(r);
	repo_view_free(v);
}

/* A B200 (Blackwell): CUDA 12.8 is the first toolkit for it. */
static void test_blackwell_cuda_floor(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer(KERNEL " " DRIVER("580.95.05") " cuda-toolkit-12-6=12.6.3-1 cuda-toolkit-12-8=12.8.1-1");
	struct resolution *r;

	machine_init(&m, "rocky", 0x2901, false); /* B200 */
	p.cuda_version = "12.6";
	r = run(&p, &m, v);
	assert_false(r->ok);
	assert_true(refusal_has(r, "CUDA 12.6.3: the B200 (Blackwell) needs CUDA 12.8 or newer"));
	resolution_free(r);

	p.cuda_version = NULL;
	p.cuda_min_version = "12.6";
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_string_equal(r->cuda, "12.8.1");
	assert_string_equal(r->flavour, "open");
	resolution_free(r);
	repo_view_free(v);
}

/* A GPU in no table: a warning, the newest production branch offered (no older one to fall
 * back to) and, in the Blackwell id range, the open modules; refused on request. */
static void test_unknown_gpu(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer(KERNEL " " DRIVER("570.172.08") " " DRIVER("580.95.05") " " DRIVER("590.48.01"));
	struct resolution *r;

	machine_init(&m, "rocky", 0x2bff, false);
	p.driver_allow_eol = true;
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_string_equal(r->driver, "580.95.05"); /* 590 is a new-feature branch */
	assert_string_equal(r->flavour, "open");
	assert_true(warning_has(r, "GPU 10de:2bff at 0000:18:00.0 is in no table of the knowledge"));
	assert_true(warning_has(r, "by its PCI id it is Blackwell or newer"));
	resolution_free(r);
	repo_view_free(v);

	/* The newest production branch fails with this kernel: no older branch instead. */
	v = offer(DRIVER("570.172.08") " " DRIVER("580.95.05") " kernel-devel=7.1.2-100.fc44");
	m.kernel.release = (char *)"7.1.2-100.fc44.x86_64";
	m.f.kernels.running = m.kernel.release;
	m.f.os.id = (char *)"fedora";
	r = run(&p, &m, v);
	assert_false(r->ok);
	assert_true(refusal_has(r, "driver 570.172.08: GPU 10de:2bff at 0000:18:00.0 is in no table of the knowledge: only the newest production branch offered, R580, is chosen for it"));
	resolution_free(r);
	machine_init(&m, "rocky", 0x2bff, false);

	p.driver_unknown_gpu = "refuse";
	r = run(&p, &m, v);
	assert_false(r->ok);
	assert_true(refusal_has(r, "driver.unknown_gpu \"refuse\" refuses a GPU gpuprov does not know"));
	resolution_free(r);
	repo_view_free(v);
}

/* A new-feature branch is chosen only when the profile asks for one. */
static void test_new_feature_branch(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer(KERNEL " " DRIVER("580.95.05") " " DRIVER("590.48.01"));
	const cJSON *entry;
	struct resolution *r;

	assert_true(kn_branch_nfb(kn, "590", &entry));
	machine_init(&m, "rocky", 0x20b2, false); /* A100 SXM4 80GB */
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_string_equal(r->driver, "580.95.05");
	resolution_free(r);

	p.driver_allow_nfb = true;
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_string_equal(r->driver, "590.48.01");
	resolution_free(r);
	repo_view_free(v);
}

/* Driver x kernel rules read a distro kernel as the upstream it is based on: Debian's
 * 6.1.0-18-amd64 is 6.1.76 (its package version), which the __rcu_read_lock break of the
 * proprietary modules reached; 6.1.0-17 (6.1.69) did not. Ubuntu's 6.8.0-49 is 6.8. RHEL's
 * 5.14.0 carries later kernels' changes: only rules stated in its own releases apply. */
static void test_kernel_upstream(void **state)
{
	const cJSON *debian = kn_os(kn, "debian", "12", "x86_64"), *ubuntu = kn_os(kn, "ubuntu", "24.04", "x86_64");
	const cJSON *rhel = kn_os(kn, "rhel", "9.8", "x86_64"), *e;
	struct kernel_version kv;
	char up[64];

	assert_non_null(debian);
	kn_kernel_version(debian, "6.1.0-18-amd64", "6.1.76-1", VERCMP_DPKG, up, sizeof(up), &kv);
	assert_string_equal(kv.upstream, "6.1.76");
	assert_non_null((e = kn_kernel_failure(kn, "535.154.05", "proprietary", &kv)));
	assert_non_null(strstr(json_str(e, "symptom"), "__rcu_read_lock"));
	assert_null(kn_kernel_failure(kn, "535.161.07", "proprietary", &kv));
	assert_null(kn_kernel_failure(kn, "535.154.05", "open", &kv));
	kn_kernel_version(debian, "6.1.0-17-amd64", "6.1.69-1", VERCMP_DPKG, up, sizeof(up), &kv);
	assert_null(kn_kernel_failure(kn, "535.154.05", "proprietary", &kv));

	assert_non_null(ubuntu);
	kn_kernel_version(ubuntu, "6.8.0-49-generic", "6.8.0-49.49", VERCMP_DPKG, up, sizeof(up), &kv);
	assert_string_equal(kv.upstream, "6.8");
	assert_null(kn_kernel_failure(kn, "550.127.05", "open", &kv));
	assert_non_null(kn_kernel_failure(kn, "550.54.15", "open", &kv) ? NULL : "no 6.10 rule on 6.8");

	assert_non_null(rhel);
	kn_kernel_version(rhel, "5.14.0-687.el9.x86_64", NULL, VERCMP_RPM, up, sizeof(up), &kv);
	assert_null(kv.upstream);
	assert_non_null(kn_kernel_failure(kn, "575.57.08", "open", &kv));
	kn_kernel_version(rhel, "5.14.0-570.el9.x86_64", NULL, VERCMP_RPM, up, sizeof(up), &kv);
	assert_null(kn_kernel_failure(kn, "575.57.08", "open", &kv));
}

/* CUDA 13.1 dropped Ubuntu 20.04: the toolkits there stop below it. */
static void test_os_cuda_window(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer_in(VERCMP_DPKG, "nvidia-open=590.48.01-0ubuntu1 linux-headers-5.4.0-200-generic=5.4.0-200.220"
				       " cuda-toolkit-13-1=13.1.1-1 cuda-toolkit-12-8=12.8.1-1");
	struct resolution *r;

	machine_init(&m, "ubuntu", 0x20b2, false);
	m.f.os.version_id = (char *)"20.04";
	m.f.os.family = OS_FAMILY_DEBIAN;
	m.kernel.release = (char *)"5.4.0-200-generic";
	m.kernel.flavour = (char *)"generic";
	m.f.kernels.running = m.kernel.release;
	p.driver_allow_nfb = true;
	p.cuda_min_version = "12.8";
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_string_equal(r->cuda, "12.8.1");
	resolution_free(r);

	p.cuda_min_version = "13.1";
	r = run(&p, &m, v);
	assert_false(r->ok);
	assert_true(refusal_has(r, "CUDA 13.1.1: CUDA 13.1 dropped ubuntu-20.04"));
	resolution_free(r);
	repo_view_free(v);
}

/* A T4: the open modules list it from 575.51.03; an older release drives it with the
 * proprietary ones only. */
static void test_min_driver_open(void **state)
{
	struct machine m;
	struct profile p = profile_default();
	struct repo_view *v = offer(KERNEL " " DRIVER("570.172.08"));
	struct resolution *r;

	machine_init(&m, "rocky", 0x1eb8, false); /* T4 */
	p.driver_allow_eol = true;
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_string_equal(r->flavour, "proprietary");
	resolution_free(r);

	p.driver_flavour = "open";
	r = run(&p, &m, v);
	assert_false(r->ok);
	assert_true(refusal_has(r, "driver 570.172.08: the T4 (Turing) is driven by the open kernel modules from 575.51.03"));
	resolution_free(r);
	repo_view_free(v);

	v = offer(KERNEL " " DRIVER("580.95.05"));
	p.driver_flavour = "auto";
	r = run(&p, &m, v);
	assert_true(r->ok);
	assert_string_equal(r->flavour, "open");
	resolution_free(r);
	repo_view_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cuda_128_needs_570),
		cmocka_unit_test(test_minor_version_compat),
		cmocka_unit_test(test_h200_minimum),
		cmocka_unit_test(test_b200_needs_open),
		cmocka_unit_test(test_470_with_612_refused),
		cmocka_unit_test(test_end_of_life),
		cmocka_unit_test(test_fabricmanager_exact),
		cmocka_unit_test(test_fabric_hgx_b200),
		cmocka_unit_test(test_fabric_gb200),
		cmocka_unit_test(test_fabric_h100),
		cmocka_unit_test(test_secure_boot_dkms),
		cmocka_unit_test(test_grubenv_unwritable),
		cmocka_unit_test(test_running_kernel_not_kept),
		cmocka_unit_test(test_kernel_config),
		cmocka_unit_test(test_dkms_needs_headers),
		cmocka_unit_test(test_view_order),
		cmocka_unit_test(test_newest_revision_rpm),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_kernel_candidates_merged),
		cmocka_unit_test(test_volta_window),
		cmocka_unit_test(test_blackwell_cuda_floor),
		cmocka_unit_test(test_unknown_gpu),
		cmocka_unit_test(test_new_feature_branch),
		cmocka_unit_test(test_kernel_upstream),
		cmocka_unit_test(test_os_cuda_window),
		cmocka_unit_test(test_min_driver_open),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
