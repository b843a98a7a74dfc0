/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fake root and the machine the harnesses share (fuzz.h). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "util/errors.h"
#include "util/strutil.h"
#include "util/write.h"

static struct root *fake_root;
static char fake_top[4096];
static struct facts *node;

_noreturn_ void fuzz_die(const char *what, int error)
{
	fprintf(stderr, "fuzz harness: %s: %s\n", what, gp_strerror(error));
	abort();
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static void fake_root_remove(void)
{
	fake_root = root_free(fake_root);
	node = facts_free(node);
	if (*fake_top)
		(void)nftw(fake_top, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const struct root *fuzz_root(void)
{
	const char *tmp = getenv("TMPDIR");
	int k;

	if (fake_root)
		return fake_root;
	if (snprintf(fake_top, sizeof(fake_top), "%s/gpuprov-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp") >=
	    (int)sizeof(fake_top))
		fuzz_die("TMPDIR", -ENAMETOOLONG);
	if (!mkdtemp(fake_top))
		fuzz_die(fake_top, -errno);
	atexit(fake_root_remove);
	if ((k = root_open(fake_top, &fake_root)) < 0)
		fuzz_die(fake_top, k);
	return fake_root;
}

void fuzz_put(const char *path, const void *data, size_t size)
{
	const struct root *r = fuzz_root();
	_cleanup_free_ char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	_cleanup_close_ int fd = -EBADF;
	char host[8192];
	int k;

	/* No fsync: the file is read back by this process and thrown away. */
	if (slash) {
		*slash = '\0';
		if ((k = root_mkdir_p(r, dir, 0755)) < 0)
			fuzz_die(dir, k);
	}
	/* The harness made every directory of the fake root itself: no link to follow. */
	if (!path_fmt(host, "%s/%s", r->path, path))
		fuzz_die(path, -ENAMETOOLONG);
	if ((fd = open(host, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0)
		fuzz_die(host, -errno);
	if ((k = fd_write_all(fd, data, size)) < 0)
		fuzz_die(path, k);
}

void fuzz_remove(const char *path)
{
	int k = root_rm_rf(fuzz_root(), path);

	if (k < 0)
		fuzz_die(path, k);
}

static const char *const *tree_allowed;

static int check_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *rel = path + strlen(fake_top);

	if (*rel == '\0')
		return 0;
	if (!strv_contains((char *const *)tree_allowed, rel + 1)) {
		fprintf(stderr, "fuzz harness: %s was written outside where the reader may write\n", rel + 1);
		abort();
	}
	return 0;
}

void fuzz_check_tree(const char *const *allowed)
{
	(void)fuzz_root();
	tree_allowed = allowed;
	if (nftw(fake_top, check_one, 16, FTW_PHYS) < 0)
		fuzz_die(fake_top, -errno);
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		fuzz_die("strdup", -ENOMEM);
	return d;
}

const struct facts *fuzz_facts(void)
{
	struct kernel *kern;
	struct pci_dev *gpu;
	struct cuda_toolkit *cuda;

	if (node)
		return node;
	if (!(node = calloc(1, sizeof(*node))) || !(kern = calloc(1, sizeof(*kern))) ||
	    !(gpu = calloc(1, sizeof(*gpu))))
		fuzz_die("facts", -ENOMEM);
	node->cpu = (struct cpu_facts){ .arch = xstrdup("x86_64"), .vendor = xstrdup("GenuineIntel"),
					.threads = 8, .cores = 4, .sockets = 1, .numa_nodes = 1 };
	node->os = (struct os_facts){ .id = xstrdup("ubuntu"), .id_like = xstrdup("debian"),
				      .version_id = xstrdup("22.04"), .codename = xstrdup("jammy"),
				      .family = OS_FAMILY_DEBIAN };
	*kern = (struct kernel){ .release = xstrdup("6.8.0-49-generic"), .flavour = xstrdup("generic"),
				 .running = true, .has_image = true, .has_initramfs = true, .has_modules = true };
	node->kernels = (struct kernel_facts){ .running = xstrdup("6.8.0-49-generic"),
					       .running_is_distro = TRI_YES, .list = kern, .n = 1 };
	node->boot = (struct boot_facts){ .firmware = "uefi", .secure_boot = TRI_NO, .setup_mode = TRI_NO,
					  .loader = "grub" };
	*gpu = (struct pci_dev){ .bdf = xstrdup("0000:1b:00.0"), .vendor = 0x10de, .device = 0x2330,
				 .class = 0x030200, .numa_node = 0 };
	node->pci = (struct pci_facts){ .gpus = gpu, .n_gpus = 1, .n_devices = 1 };
	kern->nvidia_version = xstrdup("550.127.05");
	kern->nvidia_flavour = xstrdup("open");
	if (!(cuda = calloc(1, sizeof(*cuda))))
		fuzz_die("facts", -ENOMEM);
	*cuda = (struct cuda_toolkit){ .version = xstrdup("12.4"), .path = xstrdup("usr/local/cuda-12.4") };
	node->nvidia = (struct nvidia_facts){ .driver_version = xstrdup("550.127.05"), .driver_flavour = xstrdup("open"),
					      .cuda = cuda, .n_cuda = 1, .fabricmanager = TRI_NO };
	return node;
}

struct detect_ctx fuzz_detect_ctx(void)
{
	struct detect_ctx ctx = { .root = fuzz_root(), .sys = fuzz_root(), .facts = calloc(1, sizeof(struct facts)) };

	if (!ctx.facts)
		fuzz_die("facts", -ENOMEM);
	return ctx;
}

void fuzz_detect_ctx_done(struct detect_ctx *ctx)
{
	ctx->facts = facts_free(ctx->facts);
}
