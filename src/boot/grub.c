/* SPDX-License-Identifier: GPL-2.0-or-later */
/* GRUB: entry ids per OS layout, and the environment block (grub-editenv, or gpuprov's own writer). */
#include <errno.h>

#include "boot/grub.h"
#include "boot/grubenv.h"
#include "util/errors.h"
#include "util/spawn.h"
#include "util/strutil.h"
#include "util/write.h"

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

/* GRUB's own environment block; where there is none yet, where grub-editenv makes it, beside
 * GRUB's grub.cfg. */
static const char *grubenv_path(const struct facts *f)
{
	if (f->boot.grubenv)
		return f->boot.grubenv;
	return streq_ptr(f->boot.loader, "grub2") ? "/boot/grub2/grubenv" : "/boot/grub/grubenv";
}

/* gpuprov's block on the ESP, as the node sees it; NULL without an ESP. */
static char *esp_env_path(const struct facts *f)
{
	const char *esp = f->disk.esp.mountpoint;
	char *path;

	if (!esp)
		return NULL;
	return asprintf(&path, "%s/" GPUPROV_ESP_ENV, streq(esp, "/") ? "" : esp) < 0 ? NULL : path;
}

/* grub-editenv FILE OP [ARG...] (grub2-editenv on the RPM family) in the target, where it has
 * one: the target's tool knows the target's block (in a chroot, its links stay in the root).
 * A root without one (an image being assembled, a fake machine) has its block written by
 * gpuprov through the root, never by a host tool given a path a link could lead out of. */
static int grubenv_edit(const struct facts *f, const struct root *root, const char *env, const char *op,
			char *const *args, char **ret_error)
{
	static const char *const tools[] = { "grub-editenv", "grub2-editenv" };
	const char *tool = streq_ptr(f->boot.loader, "grub2") ? tools[1] : tools[0];
	_cleanup_(strv_freep) char **argv = NULL;
	struct spawn_result r = {};
	size_t n = 0;
	int k;

	*ret_error = NULL;
	if (!spawn_have(root, tool)) {
		k = grubenv_set(root, env, streq(op, "create") ? NULL : args);
		if (k < 0)
			return asprintf(ret_error, "cannot write the GRUB environment block %s: %s", env,
					k == -GPE_PARSE ? "it is not a GRUB environment block" : gp_strerror(k)) < 0
				       ? -ENOMEM
				       : k;
		return 0;
	}
	if (strv_push(&argv, &n, tool) < 0 || strv_push(&argv, &n, env) < 0 || strv_push(&argv, &n, op) < 0)
		return -ENOMEM;
	for (char *const *a = args; a && *a; a++)
		if (strv_push(&argv, &n, *a) < 0)
			return -ENOMEM;
	k = spawn_run(root, SPAWN_IN_ROOT, argv, NULL, &r);
	if (k < 0)
		return asprintf(ret_error, "cannot run %s: %s", tool, gp_strerror(k)) < 0 ? -ENOMEM : k;
	if (r.status != 0) {
		*ret_error = spawn_describe(argv, &r);
		k = -GPE_COMMAND;
	}
	spawn_result_done(&r);
	return k;
}

int boot_env_set(const struct facts *f, const struct root *root, char *const *assignments, char **ret_error)
{
	return grubenv_edit(f, root, grubenv_path(f), "set", assignments, ret_error);
}

int boot_once_where(const struct facts *f, const char **ret_var, char **ret_file)
{
	char *file;

	switch (facts_boot_once(f)) {
	case BOOT_ONCE_GRUBENV:
		file = strdup(grubenv_path(f));
		*ret_var = "next_entry";
		break;
	case BOOT_ONCE_ESP:
		file = esp_env_path(f);
		*ret_var = GPUPROV_ONCE_VAR;
		break;
	default:
		return -ENOENT;
	}
	if (!file)
		return -ENOMEM;
	*ret_file = file;
	return 0;
}

/* "var=<GRUB's id of release's entry>". */
static int entry_assignment(const struct facts *f, const struct root *root, const char *var, const char *release,
			    char **ret, char **ret_error)
{
	_cleanup_free_ char *id = NULL;
	int k = boot_entry_id(f, root, release, &id);

	if (k < 0)
		return asprintf(ret_error, "cannot tell GRUB's entry id for %s: %s", release, gp_strerror(k)) < 0 ? -ENOMEM : k;
	return asprintf(ret, "%s=%s", var, id) < 0 ? -ENOMEM : 0;
}

int boot_default_set(const struct facts *f, const struct root *root, const char *release, bool cancel_once,
		     char **ret_error)
{
	_cleanup_free_ char *saved = NULL;
	int k;

	*ret_error = NULL;
	if ((k = entry_assignment(f, root, "saved_entry", release, &saved, ret_error)) < 0)
		return k;
	/* An empty next_entry is no boot-once entry: GRUB boots the saved default. */
	if ((k = boot_env_set(f, root, (char *[]){ saved, cancel_once ? "next_entry=" : NULL, NULL }, ret_error)) < 0 ||
	    !cancel_once)
		return k;
	/* gpuprov's block is cleared wherever it is, whatever the machine's storage now. */
	if (!f->boot.gpuprov_env)
		return 0;
	return grubenv_edit(f, root, f->boot.gpuprov_env, "set", (char *[]){ GPUPROV_ONCE_VAR "=", NULL }, ret_error);
}

int boot_once_set(const struct facts *f, const struct root *root, const char *release, char **ret_error)
{
	_cleanup_free_ char *file = NULL, *set = NULL, *dir = NULL;
	const char *var;
	int k;

	*ret_error = NULL;
	if ((k = boot_once_where(f, &var, &file)) < 0)
		return asprintf(ret_error, "no environment block GRUB can clear a boot-once entry in") < 0 ? -ENOMEM : k;
	if ((k = entry_assignment(f, root, var, release, &set, ret_error)) < 0)
		return k;
	/* gpuprov's block on the ESP: made the first time, 1024 bytes as GRUB's own. */
	if (streq(var, GPUPROV_ONCE_VAR) && (k = root_exists(root, file)) <= 0) {
		if (k < 0 || !(dir = strndup(file, (size_t)(strrchr(file, '/') - file))))
			return k < 0 ? k : -ENOMEM;
		if ((k = root_mkdir_p(root, dir, 0755)) < 0)
			return asprintf(ret_error, "cannot make %s: %s", dir, gp_strerror(k)) < 0 ? -ENOMEM : k;
		if ((k = grubenv_edit(f, root, file, "create", NULL, ret_error)) < 0)
			return k;
	}
	return grubenv_edit(f, root, file, "set", (char *[]){ set, NULL }, ret_error);
}
