/* SPDX-License-Identifier: GPL-2.0-or-later */
/* GRUB: entry ids per OS layout, and the environment block through grub-editenv. */
#include <errno.h>

#include "boot/grub.h"
#include "util/errors.h"
#include "util/spawn.h"
#include "util/strutil.h"

#define CFG_MAX (4 * 1024 * 1024)

/* The root filesystem's UUID as GRUB's ids carry it: libblkid's, else the submenu id in
 * grub.cfg, else root=UUID= on the command line. */
static char *root_uuid(const struct facts *f, const struct root *root)
{
	_cleanup_free_ char *cfg = NULL;
	const char *p;

	if (f->disk.root.uuid)
		return strdup(f->disk.root.uuid);
	if (f->boot.grub_cfg && root_read_file(root, f->boot.grub_cfg, CFG_MAX, &cfg, NULL) >= 0 &&
	    (p = strstr(cfg, "'gnulinux-advanced-")))
		return strndup(p + strlen("'gnulinux-advanced-"), strcspn(p + strlen("'gnulinux-advanced-"), "'"));
	if (f->boot.cmdline && (p = strstr(f->boot.cmdline, "root=UUID=")))
		return strndup(p + strlen("root=UUID="), strcspn(p + strlen("root=UUID="), " "));
	return NULL;
}

/* "openEuler (5.10.0-182...aarch64) 22.03 (LTS-SP3)" with the running release replaced. */
static int title_id(const struct facts *f, const struct root *root, const char *release, char **ret)
{
	_cleanup_free_ char *cfg = NULL, *title = NULL;
	const char *running = f->kernels.running, *at;

	if (!running)
		return -ENOENT;
	if (f->boot.saved_entry && strstr(f->boot.saved_entry, running))
		title = strdup(f->boot.saved_entry);
	else if (f->boot.grub_cfg && root_read_file(root, f->boot.grub_cfg, CFG_MAX, &cfg, NULL) >= 0)
		for (char *save = NULL, *l = strtok_r(cfg, "\n", &save); l && !title; l = strtok_r(NULL, "\n", &save)) {
			const char *q = startswith(l + strspn(l, " \t"), "menuentry '");

			if (q && strstr(q, running) && !strstr(q, "rescue") && !strstr(q, "recovery"))
				title = strndup(q, strcspn(q, "'"));
		}
	if (!title || !(at = strstr(title, running)))
		return -ENOENT;
	return asprintf(ret, "%.*s%s%s", (int)(at - title), title, release, at + strlen(running)) < 0 ? -ENOMEM : 0;
}

int boot_entry_id(const struct facts *f, const struct root *root, const char *release, char **ret)
{
	if (f->boot.bls_entries && *f->boot.bls_entries) {
		_cleanup_free_ char *mid = NULL;
		int k = root_read_line(root, "etc/machine-id", &mid);

		if (k < 0)
			return k;
		return asprintf(ret, "%s-%s", mid, release) < 0 ? -ENOMEM : 0;
	}
	if (f->os.family == OS_FAMILY_DEBIAN) {
		_cleanup_free_ char *uuid = root_uuid(f, root);

		if (!uuid)
			return -ENOENT;
		return asprintf(ret, "gnulinux-advanced-%s>gnulinux-%s-advanced-%s", uuid, release, uuid) < 0 ? -ENOMEM : 0;
	}
	return title_id(f, root, release, ret);
}

int boot_env_set(const struct facts *f, const struct root *root, char *const *assignments, char **ret_error)
{
	static const char *const tools[] = { "grub-editenv", "grub2-editenv" };
	const char *mine = streq_ptr(f->boot.loader, "grub2") ? tools[1] : tools[0];
	_cleanup_(strv_freep) char **argv = NULL;
	_cleanup_free_ char *host = NULL;
	struct spawn_result r = {};
	size_t n = 0;
	int k = 0;

	*ret_error = NULL;
	/* No block yet: grub-editenv makes it, where GRUB looks for it beside its grub.cfg. */
	_cleanup_free_ char *fallback = NULL;
	const char *env = f->boot.grubenv;
	if (!env && (asprintf(&fallback, "/boot/%s/grubenv", streq_ptr(f->boot.loader, "grub2") ? "grub2" : "grub") < 0 ||
		     !(env = fallback)))
		return -ENOMEM;
	/* The target's own tool, on its own path; or, for a root without one (an image being
	 * assembled, a fake machine), the installer's tool on the target's file. */
	bool in_root = spawn_have(root, mine);
	if (!in_root && (k = root_host_path(root, env, &host)) < 0)
		return k;
	for (size_t t = 0; t < ELEMENTSOF(tools); t++) {
		const char *tool = t == 0 ? mine : streq(mine, tools[0]) ? tools[1] : tools[0];

		argv = strv_free(argv);
		n = 0;
		if (strv_push(&argv, &n, tool) < 0 || strv_push(&argv, &n, in_root ? env : host) < 0 ||
		    strv_push(&argv, &n, "set") < 0)
			return -ENOMEM;
		for (char *const *a = assignments; *a; a++)
			if (strv_push(&argv, &n, *a) < 0)
				return -ENOMEM;
		k = spawn_run(root, in_root ? SPAWN_IN_ROOT : 0, argv, NULL, &r);
		if (k != -ENOENT || in_root)
			break;
	}
	if (k < 0)
		return asprintf(ret_error, "cannot run %s: %s", mine, gp_strerror(k)) < 0 ? -ENOMEM : k;
	if (r.status != 0) {
		*ret_error = spawn_describe(argv, &r);
		k = -GPE_COMMAND;
	}
	spawn_result_done(&r);
	return k;
}
