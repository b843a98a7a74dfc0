/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Paths inside a root never lead out of it: absolute links, "..", loops. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "util/errors.h"
#include "util/root.h"
#include "util/strutil.h"
#include "util/write.h"

struct fixture {
	char top[64];   /* a temporary directory */
	char root[128]; /* top/root: the root under test; top/secret lies outside it */
	struct root *r;
};

static void mkdirs(const char *dir, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

static void link_to(const char *dir, const char *name, const char *target)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(symlink(target, path), 0);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	strcpy(fx->top, "/tmp/gpuprov-test-root-XXXXXX");
	assert_non_null(mkdtemp(fx->top));
	snprintf(fx->root, sizeof(fx->root), "%s/root", fx->top);
	assert_int_equal(mkdir(fx->root, 0755), 0);
	mkdirs(fx->root, "etc");
	mkdirs(fx->root, "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0");
	mkdirs(fx->root, "sys/bus/pci/devices");
	unit_put(fx->top, "secret", "ID=outside\n");
	unit_put(fx->root, "etc/os-release", "ID=inside\n");
	unit_put(fx->root, "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/vendor", "0x10de\n");
	unit_put(fx->root, "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/numa_node", "-1\n");
	unit_put(fx->root, "empty", "");
	link_to(fx->root, "sys/bus/pci/devices/0000:01:00.0", "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0");
	link_to(fx->root, "sys/bus/pci/devices/0000:02:00.0", "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0");
	link_to(fx->root, "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/driver", "../../../../bus/pci/drivers/nvidia");
	link_to(fx->root, "abs", "/etc/os-release");
	link_to(fx->root, "up", "../../../../../../etc/os-release");
	link_to(fx->root, "out-rel", "../secret");
	link_to(fx->root, "loop1", "loop2");
	link_to(fx->root, "loop2", "/loop1");
	link_to(fx->root, "self", "/");
	assert_int_equal(root_open(fx->root, &fx->r), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[256];

	root_free(fx->r);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->top);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static void expect_line(const struct root *r, const char *path, const char *want)
{
	_cleanup_free_ char *line = NULL;

	assert_int_equal(root_read_line(r, path, &line), 0);
	assert_string_equal(line, want);
}

static void test_chase_links_stay_inside(void **state)
{
	struct fixture *fx = *state;
	_cleanup_free_ char *rel = NULL;

	expect_line(fx->r, "abs", "ID=inside");
	expect_line(fx->r, "/abs", "ID=inside");
	expect_line(fx->r, "up", "ID=inside");
	expect_line(fx->r, "../../etc/os-release", "ID=inside");
	expect_line(fx->r, "self/self/etc/os-release", "ID=inside");
	/* "../secret" from the top is the top's "secret": absent, not the file outside. */
	assert_int_equal(root_read_line(fx->r, "out-rel", &rel), -ENOENT);
	assert_int_equal(root_chase(fx->r, "self/../..", &rel), 0);
	assert_string_equal(rel, ".");
}

static void test_chase_errors(void **state)
{
	struct fixture *fx = *state;
	char *s = NULL;

	assert_int_equal(root_chase(fx->r, "loop1", &s), -ELOOP);
	assert_int_equal(root_chase(fx->r, "etc/os-release/x", &s), -ENOTDIR);
	assert_int_equal(root_chase(fx->r, "nope/x", &s), -ENOENT);
	assert_int_equal(root_chase(fx->r, NULL, &s), -ENAMETOOLONG);
	assert_null(s);
	assert_int_equal(root_exists(fx->r, "loop1"), -ELOOP);
	assert_int_equal(root_exists(fx->r, "nope"), 0);
	assert_int_equal(root_exists(fx->r, "abs"), 1);
}

static void test_sysfs_links(void **state)
{
	struct fixture *fx = *state;
	_cleanup_free_ char *drv = NULL;
	int64_t v;

	/* Relative links as the kernel makes them, and absolute ones, both resolve inside. */
	assert_int_equal(root_read_s64(fx->r, "sys/bus/pci/devices/0000:01:00.0/vendor", &v), 0);
	assert_int_equal(v, 0x10de);
	assert_int_equal(root_read_s64(fx->r, "sys/bus/pci/devices/0000:02:00.0/numa_node", &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(root_readlink_name(fx->r, "sys/bus/pci/devices/0000:01:00.0/driver", &drv), 0);
	assert_string_equal(drv, "nvidia");
	assert_int_equal(root_read_s64(fx->r, "empty", &v), -GPE_PARSE);
}

static void test_read_file_limits(void **state)
{
	struct fixture *fx = *state;
	_cleanup_free_ char *text = NULL;
	size_t size = 99;

	assert_int_equal(root_read_file(fx->r, "etc/os-release", 4, &text, &size), -GPE_TOOBIG);
	assert_int_equal(root_read_file(fx->r, "etc/os-release", 10, &text, &size), 0);
	assert_int_equal(size, 10);
	assert_string_equal(text, "ID=inside\n");
	free(text);
	assert_int_equal(root_read_file(fx->r, "empty", 10, &text, &size), 0);
	assert_int_equal(size, 0);
	assert_string_equal(text, "");
}

static void test_list_dir(void **state)
{
	struct fixture *fx = *state;
	_cleanup_(strv_freep) char **names = NULL;

	assert_int_equal(root_list_dir(fx->r, "sys/bus/pci/devices", &names), 0);
	assert_int_equal(strv_length(names), 2);
	assert_string_equal(names[0], "0000:01:00.0");
	assert_string_equal(names[1], "0000:02:00.0");
	assert_int_equal(root_list_dir(fx->r, "etc/os-release", &names), -ENOTDIR);
}

static void test_host_path(void **state)
{
	struct fixture *fx = *state;
	_cleanup_free_ char *p = NULL;
	char want[256];

	assert_int_equal(root_host_path(fx->r, "abs", &p), 0);
	snprintf(want, sizeof(want), "%s/etc/os-release", fx->root);
	assert_string_equal(p, want);
	assert_true(fx->r->path[0] == '/');
}

static void expect_secret_untouched(const struct fixture *fx)
{
	char path[256], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/secret", fx->top);
	f = fopen(path, "re");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "ID=outside\n");
}

/* Hard links to a file outside the root planted under the temporary names gpuprov once
 * used (".#BASE.gpuprov-PID", ".BASE.tmp"): a replace or a copy never writes through them,
 * and leaves no temporary file of its own. */
static void test_write_planted_temp_names(void **state)
{
	struct fixture *fx = *state;
	_cleanup_(strv_freep) char **names = NULL;
	char secret[256], planted[256];

	snprintf(secret, sizeof(secret), "%s/secret", fx->top);
	snprintf(planted, sizeof(planted), "%s/etc/.#os-release.gpuprov-%ld", fx->root, (long)getpid());
	assert_int_equal(link(secret, planted), 0);
	snprintf(planted, sizeof(planted), "%s/etc/.copy.tmp", fx->root);
	assert_int_equal(link(secret, planted), 0);

	assert_int_equal(root_write_atomic(fx->r, "etc/os-release", "ID=new\n", 7, 0644), 0);
	assert_int_equal(root_copy(fx->r, "etc/os-release", "etc/copy"), 0);
	expect_secret_untouched(fx);
	expect_line(fx->r, "etc/copy", "ID=new");
	assert_int_equal(root_list_dir(fx->r, "etc", &names), 0);
	/* The two planted names, the file and its copy: no temporary file left. */
	assert_int_equal(strv_length(names), 4);
	assert_true(startswith(names[0], ".#os-release.gpuprov-"));
	assert_string_equal(names[1], ".copy.tmp");
	assert_string_equal(names[2], "copy");
	assert_string_equal(names[3], "os-release");
}

/* A FIFO where a file is expected: refused at once, never waited on (apply held its lock
 * forever on one). */
static void test_fifo_refused(void **state)
{
	struct fixture *fx = *state;
	_cleanup_free_ char *text = NULL, *line = NULL;
	char path[256];
	FILE *f = NULL;

	snprintf(path, sizeof(path), "%s/etc/fifo", fx->root);
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_int_equal(root_read_file(fx->r, "etc/fifo", 4096, &text, NULL), -GPE_NOT_REGULAR);
	assert_int_equal(root_read_line(fx->r, "etc/fifo", &line), -GPE_NOT_REGULAR);
	assert_int_equal(root_fopen(fx->r, "etc/fifo", &f), -GPE_NOT_REGULAR);
	assert_int_equal(root_copy(fx->r, "etc/fifo", "etc/copy"), -GPE_NOT_REGULAR);
	assert_int_equal(root_read_file(fx->r, "etc", 4096, &text, NULL), -GPE_NOT_REGULAR);
	/* Replacing one is fine: the rename takes its name, nothing opens it. */
	assert_int_equal(root_write_atomic(fx->r, "etc/fifo", "x\n", 2, 0644), 0);
	expect_line(fx->r, "etc/fifo", "x");
}

/* apply's check before any change: a directory on the way that is a link to nothing in the
 * root fails now (it failed after the packages were in); a missing one is made later. */
static void test_writable_dangling_dir(void **state)
{
	struct fixture *fx = *state;

	link_to(fx->root, "etc/modprobe.d", "/nowhere");
	link_to(fx->root, "etc/sysctl.d", "/etc");
	assert_int_equal(root_writable(fx->r, "etc/modprobe.d/gpuprov.conf"), -ENOTDIR);
	assert_int_equal(root_writable(fx->r, "/etc/modprobe.d/sub/gpuprov.conf"), -ENOTDIR);
	assert_int_equal(root_writable(fx->r, "etc/sysctl.d/gpuprov.conf"), 1);
	assert_int_equal(root_writable(fx->r, "etc/new/sub/gpuprov.conf"), 1);
	/* A link out of the root leads nowhere in it, though its target exists on the host. */
	link_to(fx->root, "etc/ld.so.conf.d", "/tmp");
	assert_int_equal(root_writable(fx->r, "etc/ld.so.conf.d/x.conf"), -ENOTDIR);
}

/* A directory held open reads its entries relative to it; an entry that is a symlink still
 * resolves inside the root, as a path would, never on the host. */
static void test_dir_entries(void **state)
{
	static const char dev[] = "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0";
	struct fixture *fx = *state;
	_cleanup_(root_dir_freep) struct root_dir *d = NULL, *sub = NULL;
	_cleanup_(strv_freep) char **names = NULL;
	_cleanup_free_ char *line = NULL, *drv = NULL;
	char path[256];
	int64_t v;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", fx->root, dev);
	mkdirs(path, "net/ib0");
	link_to(path, "abs-attr", "/etc/os-release");
	link_to(path, "up-attr", "../../../../../../secret");
	link_to(path, "host-attr", path);
	link_to(path, "physfn", "../../0000:00:01.0");
	link_to(path, "gone", "../nothing");
	snprintf(path, sizeof(path), "%s/%s/fifo", fx->root, dev);
	assert_int_equal(mkfifo(path, 0644), 0);

	/* Opened through the bus's link, as detect does. */
	assert_int_equal(root_dir_open(fx->r, "sys/bus/pci/devices/0000:01:00.0", &d), 0);
	assert_int_equal(root_dir_read_s64(d, "vendor", &v), 0);
	assert_int_equal(v, 0x10de);
	assert_int_equal(root_dir_read_s64(d, "numa_node", &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(root_dir_readlink_name(d, "driver", &drv), 0);
	assert_string_equal(drv, "nvidia");

	assert_int_equal(root_dir_read_line(d, "abs-attr", &line), 0);
	assert_string_equal(line, "ID=inside");
	line = mfree(line);
	/* Out of the root by "..": the root's top has no "secret"; the host's is not read. */
	assert_int_equal(root_dir_read_line(d, "up-attr", &line), -ENOENT);
	/* The host's path of this very directory means nothing inside the root. */
	assert_int_equal(root_dir_read_line(d, "host-attr/vendor", &line), -ENOENT);
	assert_int_equal(root_dir_read_line(d, "../0000:01:00.0/vendor", &line), 0);
	assert_string_equal(line, "0x10de");

	/* O_PATH opens a symlink itself when told not to follow it: not taken for its target. */
	fd = root_dir_open_at(d, "physfn", O_PATH | O_DIRECTORY);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(root_dir_open_at(d, "gone", O_PATH), -ENOENT);
	assert_int_equal(root_dir_open_at(d, "nope", O_PATH), -ENOENT);
	assert_int_equal(root_dir_read_line(d, "fifo", &line), -GPE_NOT_REGULAR);
	assert_int_equal(root_dir_read_line(d, "net", &line), -GPE_NOT_REGULAR);

	assert_int_equal(root_dir_list(d, "net", &names), 0);
	assert_int_equal(strv_length(names), 1);
	assert_string_equal(names[0], "ib0");
	names = strv_free(names);
	assert_int_equal(root_dir_list(d, "nope", &names), -ENOENT);
	assert_int_equal(root_dir_open_dir(d, "physfn", &sub), 0);
	assert_string_equal(sub->path, "sys/bus/pci/devices/0000:01:00.0/physfn");
	assert_int_equal(root_dir_list(sub, NULL, &names), 0);
	assert_int_equal(strv_length(names), 1);
	assert_string_equal(names[0], "0000:01:00.0");
}

/* The same cases through the manual chase that stands in where openat2() is missing. */
static int setup_chase(void **state)
{
	root_force_chase = true;
	return setup(state);
}

static int teardown_chase(void **state)
{
	root_force_chase = false;
	return teardown(state);
}

#define BOTH(t) cmocka_unit_test_setup_teardown(t, setup, teardown), \
		cmocka_unit_test_setup_teardown(t, setup_chase, teardown_chase)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_chase_links_stay_inside),
		BOTH(test_chase_errors),
		BOTH(test_sysfs_links),
		BOTH(test_read_file_limits),
		BOTH(test_list_dir),
		BOTH(test_host_path),
		BOTH(test_write_planted_temp_names),
		BOTH(test_fifo_refused),
		BOTH(test_writable_dangling_dir),
		BOTH(test_dir_entries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
