/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The recorder notes what was read; a capture holds that, less the secrets, and reads back
 * as the same tree; a capture that is not one is refused with nothing left behind. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/capture.h"
#include "util/archive-lib.h"
#include "util/errors.h"
#include "util/root.h"
#include "util/strutil.h"

struct fixture {
	char top[64];   /* a temporary directory */
	char tree[128]; /* top/tree: the node */
	char unpack[128]; /* top/unpack: where captures are unpacked */
	struct root *r;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	strcpy(fx->top, "/tmp/gpuprov-test-capture-XXXXXX");
	assert_non_null(mkdtemp(fx->top));
	snprintf(fx->tree, sizeof(fx->tree), "%s/tree", fx->top);
	snprintf(fx->unpack, sizeof(fx->unpack), "%s/unpack", fx->top);
	unit_sh("mkdir -p %s/usr/lib %s/sys/devices/pci0/0000:01:00.0 %s/sys/bus/pci/devices %s/boot %s/etc %s",
		fx->tree, fx->tree, fx->tree, fx->tree, fx->tree, fx->unpack);
	unit_put(fx->tree, "usr/lib/os-release", "ID=debian\n");
	unit_put(fx->tree, "sys/devices/pci0/0000:01:00.0/vendor", "0x10de\n");
	unit_put(fx->tree, "boot/vmlinuz-6.1.0-18-amd64", "a kernel nothing reads\n");
	unit_put(fx->tree, "etc/shadow", "root:$6$secret:19000::::::\n");
	unit_put(fx->tree, "etc/unread", "never read\n");
	/* An initramfs of 20 MiB, only stat'ed; it begins with bytes that are not zeros. */
	unit_put(fx->tree, "boot/initrd.img-6.1.0-18-amd64", "070701 not zeros");
	unit_sh("truncate -s 20M %s/boot/initrd.img-6.1.0-18-amd64", fx->tree);
	unit_sh("ln -s ../usr/lib/os-release %s/etc/os-release", fx->tree);
	unit_sh("ln -s ../../../devices/pci0/0000:01:00.0 %s/sys/bus/pci/devices/0000:01:00.0", fx->tree);
	assert_int_equal(root_open(fx->tree, &fx->r), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	root_free(fx->r);
	unit_sh("rm -rf %s", fx->top);
	free(fx);
	return 0;
}

static bool noted(const struct root_record *rec, char kind, const char *path)
{
	for (size_t i = 0; i < rec->n; i++)
		if (rec->notes[i][0] == kind && streq(rec->notes[i] + 1, path))
			return true;
	return false;
}

/* The reads detect makes of this tree, recorded or not; secret: etc/shadow is there to read. */
static void read_like_detect(const struct root *r, bool secret)
{
	_cleanup_free_ char *s = NULL, *link = NULL;
	_cleanup_(strv_freep) char **names = NULL;
	struct stat st;

	assert_int_equal(root_read_line(r, "etc/os-release", &s), 0);
	assert_string_equal(s, "ID=debian");
	assert_int_equal(root_list_dir(r, "boot", &names), 0);
	assert_int_equal(root_readlink_name(r, "sys/bus/pci/devices/0000:01:00.0", &link), 0);
	free(s);
	assert_int_equal(root_read_line(r, "sys/bus/pci/devices/0000:01:00.0/vendor", &s), 0);
	assert_string_equal(s, "0x10de");
	/* Read, so recorded; withheld when archived all the same. */
	s = mfree(s);
	assert_int_equal(root_read_line(r, "etc/shadow", &s), secret ? 0 : -ENOENT);
	assert_int_equal(root_exists(r, "etc/missing"), 0);
	assert_int_equal(root_stat(r, "boot/initrd.img-6.1.0-18-amd64", &st), 0);
	assert_int_equal(st.st_size, 20 << 20);
}

static void test_recorder(void **state)
{
	struct fixture *fx = *state;
	_cleanup_(root_record_freep) struct root_record *rec = NULL;

	/* Off, nothing is kept. */
	read_like_detect(fx->r, true);
	assert_null(root_record_stop(fx->r));

	assert_int_equal(root_record_start(fx->r), 0);
	read_like_detect(fx->r, true);
	rec = root_record_stop(fx->r);
	assert_non_null(rec);
	assert_int_equal(rec->error, 0);
	assert_true(noted(rec, ROOT_SEEN_PATH, "etc/os-release"));
	assert_true(noted(rec, ROOT_SEEN_LIST, "boot"));
	assert_true(noted(rec, ROOT_SEEN_LINK, "sys/bus/pci/devices/0000:01:00.0"));
	assert_true(noted(rec, ROOT_SEEN_PATH, "sys/bus/pci/devices/0000:01:00.0/vendor"));
	/* Looked for, not read. */
	assert_true(noted(rec, ROOT_SEEN_STAT, "etc/missing"));
	assert_false(noted(rec, ROOT_SEEN_PATH, "etc/unread"));
	/* Stopped, it notes nothing more. */
	assert_null(fx->r->record);
}

static void test_withheld(void **state)
{
	static const char *const secret[] = { "etc/shadow", "etc/gshadow-", "etc/ssh/ssh_host_rsa_key", "root/.bashrc",
					      "home/ops/.ssh/authorized_keys", "srv/x/id_ed25519", "etc/pki/tls/site.key",
					      "etc/gpuprov/keys.d/site", "etc/gpuprov/keys.d/sub/a.pub",
					      "var/log/journal/abc/system.journal", "proc/1/environ", "etc/environment",
					      "opt/app/.env" };
	static const char *const fine[] = { "etc/passwd", "etc/ssh/ssh_host_rsa_key.pub", "etc/gpuprov/keys.d/site.pub",
					    "etc/gpuprov/keys.d/revoked", "var/lib/dpkg/status", "proc/cpuinfo",
					    "root", "home", "etc/os-release",
					    "etc/nvidia-container-toolkit/nvidia-cdi-refresh.env" };

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(secret); i++) {
		if (!capture_withheld(secret[i]))
			fail_msg("%s is archived", secret[i]);
	}
	for (size_t i = 0; i < ELEMENTSOF(fine); i++) {
		if (capture_withheld(fine[i]))
			fail_msg("%s is withheld", fine[i]);
	}
	assert_true(capture_is_private_key("x\n-----BEGIN EC PRIVATE KEY-----\n", 33));
	assert_false(capture_is_private_key("-----BEGIN PUBLIC KEY-----\n", 27));
}

static void test_round_trip(void **state)
{
	struct fixture *fx = *state;
	_cleanup_(root_record_freep) struct root_record *rec = NULL;
	_cleanup_(capture_freep) struct capture *c = NULL;
	_cleanup_(root_freep) struct root *back = NULL;
	_cleanup_free_ char *file = NULL, *error = NULL;
	struct stat st;

	assert_int_equal(root_record_start(fx->r), 0);
	read_like_detect(fx->r, true);
	rec = root_record_stop(fx->r);
	assert_true(asprintf(&file, "%s/node.tar.zst", fx->top) > 0);
	if (capture_write(fx->r, rec, fx->r, NULL, file, &(struct capture_info){ .hostname = "n1" }, &error) < 0)
		fail_msg("capture_write: %s", strna(error));

	if (capture_open(file, fx->unpack, &c, &error) < 0)
		fail_msg("capture_open: %s", strna(error));
	assert_int_equal(stat(c->dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* No sysroot/ part: --sysroot reads the root. */
	assert_string_equal(c->root, c->sysroot);
	assert_int_equal(root_open(c->root, &back), 0);
	read_like_detect(back, false);
}

static void test_round_trip_contents(void **state)
{
	struct fixture *fx = *state;
	_cleanup_(root_record_freep) struct root_record *rec = NULL;
	_cleanup_(capture_freep) struct capture *c = NULL;
	_cleanup_free_ char *file = NULL, *error = NULL, *path = NULL, *dir = NULL;
	char target[128];
	struct stat st;
	ssize_t len;

	assert_int_equal(root_record_start(fx->r), 0);
	read_like_detect(fx->r, true);
	rec = root_record_stop(fx->r);
	assert_true(asprintf(&file, "%s/node.tar.gz", fx->top) > 0);
	if (capture_write(fx->r, rec, fx->r, NULL, file, NULL, &error) < 0)
		fail_msg("capture_write: %s", strna(error));
	if (capture_open(file, fx->unpack, &c, &error) < 0)
		fail_msg("capture_open: %s", strna(error));

	/* Links stay links, with their targets as they were. */
	assert_true(asprintf(&path, "%s/etc/os-release", c->root) > 0);
	len = readlink(path, target, sizeof(target) - 1);
	assert_true(len > 0);
	target[len] = '\0';
	assert_string_equal(target, "../usr/lib/os-release");
	/* A name only listed is there, empty; what nothing read, and the secret, are not. */
	free(path);
	assert_true(asprintf(&path, "%s/boot/vmlinuz-6.1.0-18-amd64", c->root) > 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);
	free(path);
	assert_true(asprintf(&path, "%s/etc/unread", c->root) > 0);
	assert_int_equal(access(path, F_OK), -1);
	free(path);
	assert_true(asprintf(&path, "%s/etc/shadow", c->root) > 0);
	assert_int_equal(access(path, F_OK), -1);

	/* Only stat'ed: its size, zeros for content, and a hole on disk. */
	free(path);
	assert_true(asprintf(&path, "%s/boot/initrd.img-6.1.0-18-amd64", c->root) > 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 20 << 20);
	assert_true(st.st_blocks * 512 < (1 << 20));
	{
		_cleanup_free_ char *head = NULL;
		_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
		size_t n;

		assert_int_equal(fd_read_file(fd, 64 << 20, &head, &n), 0);
		assert_int_equal(n, 20 << 20);
		assert_int_equal(head[0], 0);
	}

	/* Freed, nothing is left of it. */
	dir = strdup(c->dir);
	c = capture_free(c);
	assert_int_equal(access(dir, F_OK), -1);
}

/* A tar of one member name (a regular file), with or without a manifest, plain (no filter). */
static void write_tar(const char *file, const char *member, bool manifest)
{
	static const char m[] = "{\"format\": 1}";
	_cleanup_(archive_write_freep) struct archive *a = NULL;
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(dynlib_need(&libarchive, "tests", NULL), 0);
	a = archive_fn.archive_write_new();
	assert_int_equal(archive_fn.archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_fn.archive_write_open_fd(a, fd), ARCHIVE_OK);
	for (int i = manifest ? 0 : 1; i < 2; i++) {
		_cleanup_(archive_entry_freep) struct archive_entry *e = archive_fn.archive_entry_new();
		const char *name = i == 0 ? CAPTURE_MANIFEST : member;
		size_t size = i == 0 ? strlen(m) : 1;

		archive_fn.archive_entry_set_pathname(e, name);
		archive_fn.archive_entry_set_filetype(e, AE_IFREG);
		archive_fn.archive_entry_set_perm(e, 0644);
		archive_fn.archive_entry_set_size(e, (int64_t)size);
		assert_int_equal(archive_fn.archive_write_header(a, e), ARCHIVE_OK);
		assert_int_equal(archive_fn.archive_write_data(a, i == 0 ? m : "x", size), (la_ssize_t)size);
	}
	assert_int_equal(archive_fn.archive_write_close(a), ARCHIVE_OK);
	close(fd);
}

static void assert_refused(struct fixture *fx, const char *member, bool manifest, const char *why)
{
	_cleanup_(capture_freep) struct capture *c = NULL;
	_cleanup_free_ char *file = NULL, *error = NULL;
	DIR *d;
	struct dirent *e;
	int n = 0;

	assert_true(asprintf(&file, "%s/bad.tar", fx->top) > 0);
	write_tar(file, member, manifest);
	assert_int_equal(capture_open(file, fx->unpack, &c, &error), -GPE_PARSE);
	assert_null(c);
	if (!error || !strstr(error, why))
		fail_msg("%s: refused for \"%s\", not \"%s\"", member, strna(error), why);
	/* Nothing left where it was to be unpacked. */
	d = opendir(fx->unpack);
	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n, 0);
}

static void test_refused(void **state)
{
	struct fixture *fx = *state;

	assert_refused(fx, "root/etc/x", false, "no " CAPTURE_MANIFEST);
	assert_refused(fx, "/etc/x", true, "/etc/x: not a path under root/");
	assert_refused(fx, "root/../x", true, "root/../x: not a path under root/");
	assert_refused(fx, "root//x", true, "root//x: not a path under root/");
	assert_refused(fx, "rootless/x", true, "rootless/x: not a path under root/");
	assert_refused(fx, "root", true, "root: the top of a tree, and not a directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_recorder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_withheld, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_contents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
