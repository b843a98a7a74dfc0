/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The GPUs' CDI spec made anew by nvidia-ctk, and put in place only once it reads as one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply/cdi-generate.h"
#include "host/cdi.h"
#include "util/errors.h"
#include "util/spawn.h"
#include "util/strutil.h"
#include "util/write.h"

/* Names tried for the private directory: two random 64-bit names do not clash. */
#define TMPDIR_TRIES 16

/* A new directory in dfd with a random name, made by mkdir (which fails when it exists). */
static int private_dir(int dfd, char *name, size_t size)
{
	for (int i = 0; i < TMPDIR_TRIES; i++) {
		uint64_t rnd;

		if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -EIO;
		snprintf(name, size, ".gpuprov-cdi-%016llx", (unsigned long long)rnd);
		if (mkdirat(dfd, name, 0700) == 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

static int run_ctk(const struct root *root, const char *output, char **ret_error)
{
	_cleanup_free_ char *opt = NULL, *what = NULL;
	struct spawn_result sr = {};
	int k;

	if (asprintf(&opt, "--output=%s", output) < 0)
		return -ENOMEM;
	/* JSON, the format gpuprov reads back; index and UUID names, as the real tool's default. */
	char *argv[] = { "nvidia-ctk", "cdi", "generate", opt, "--format=json", NULL };

	if (!spawn_have(root, "nvidia-ctk"))
		return gp_error_set(ret_error, -ENOENT, "nvidia-ctk is not installed in %s (nvidia-container-toolkit-base)",
				    root->path);
	if ((k = spawn_run(root, SPAWN_IN_ROOT, argv, NULL, &sr)) < 0)
		return gp_error_set(ret_error, k, "cannot run nvidia-ctk: %s", gp_strerror(k));
	if (sr.status != 0) {
		what = spawn_describe(argv, &sr);
		k = gp_error_set(ret_error, -GPE_COMMAND, "%s", what ? what : "nvidia-ctk cdi generate failed");
	}
	spawn_result_done(&sr);
	return k;
}

int cdi_generate(const struct root *root, const char *dir, char **ret_error)
{
	_cleanup_close_ int dfd = -EBADF, sfd = -EBADF, fd = -EBADF;
	_cleanup_(cdi_spec_freep) struct cdi_spec *s = NULL;
	_cleanup_free_ char *path = cdi_spec_path(dir), *tmp = NULL, *why = NULL, *text = NULL;
	char sub[64] = "";
	size_t len = 0;
	int k;

	if (!path)
		return -ENOMEM;
	if ((k = root_mkdir_p(root, dir, 0755)) < 0)
		return gp_error_set(ret_error, k, "%s: %s", dir, gp_strerror(k));
	if ((dfd = root_open_at(root, dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC)) < 0)
		return gp_error_set(ret_error, dfd, "%s: %s", dir, gp_strerror(dfd));
	if ((k = private_dir(dfd, sub, sizeof(sub))) < 0)
		return gp_error_set(ret_error, k, "%s: cannot make a directory for the new spec: %s", dir, gp_strerror(k));
	/* The file nvidia-ctk replaces, made here first so that no one else's is at its name. */
	if ((sfd = openat(dfd, sub, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 ||
	    (fd = openat(sfd, CDI_SPEC_NAME, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0) {
		k = gp_error_set(ret_error, -errno, "%s/%s: %s", dir, sub, gp_strerror(-errno));
		goto out;
	}
	fd = safe_close(fd);
	if (asprintf(&tmp, "%s/%s/" CDI_SPEC_NAME, dir, sub) < 0) {
		k = -ENOMEM;
		goto out;
	}
	if ((k = run_ctk(root, tmp, ret_error)) < 0)
		goto out;
	/* Read back through the directory made above: what nvidia-ctk wrote, nothing it links to. */
	fd = openat(sfd, CDI_SPEC_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	k = fd < 0 ? -errno : (fd = fd_keep_regular(fd)) < 0 ? fd : fd_read_file(fd, CDI_SPEC_MAX, &text, &len);
	if (k < 0) {
		k = gp_error_set(ret_error, k, "%s: the spec nvidia-ctk wrote cannot be read: %s", tmp, gp_strerror(k));
		goto out;
	}
	if ((k = cdi_spec_parse(text, len, &s, &why)) < 0) {
		k = gp_error_set(ret_error, k, "%s: the spec nvidia-ctk wrote: %s", tmp, why ? why : gp_strerror(k));
		goto out;
	}
	if (!streq(s->kind, CDI_KIND)) {
		k = gp_error_set(ret_error, -GPE_PARSE, "%s: the spec nvidia-ctk wrote is of kind %s, not " CDI_KIND, tmp, s->kind);
		goto out;
	}
	if (renameat(sfd, CDI_SPEC_NAME, dfd, CDI_SPEC_NAME) < 0 || fsync(dfd) < 0) {
		k = gp_error_set(ret_error, -errno, "%s: %s", path, gp_strerror(-errno));
		goto out;
	}
	/* Ours is in place: another spec of the kind would only make CDI refuse both. */
	k = cdi_refresh_spec_conflicts(root, path);
	if (k > 0)
		k = root_unlink(root, CDI_REFRESH_SPEC);
	if (k < 0)
		k = gp_error_set(ret_error, k, "%s, a second spec of " CDI_KIND ", cannot be removed: %s", CDI_REFRESH_SPEC,
				 gp_strerror(k));
out:
	/* Whatever is left in the private directory (the spec not taken, nvidia-ctk's own
	 * temporary file) goes with it. */
	if (sub[0]) {
		_cleanup_free_ char *subpath = NULL;

		if (asprintf(&subpath, "%s/%s", dir, sub) >= 0)
			(void)root_rm_rf(root, subpath);
	}
	return k;
}
