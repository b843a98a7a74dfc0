/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Boot: firmware, Secure Boot, the GRUB layout and environment, BLS entries, command line. */
#include <errno.h>
#include <limits.h>

#include "facts.h"
#include "util/errors.h"
#include "util/strutil.h"

/* The EFI global variable GUID (UEFI spec 3.3, "Globally Defined Variables"). */
#define EFI_GLOBAL_GUID "8be4df61-93ca-11d2-aa0d-00e098032b8c"

/* A GRUB environment block is 1024 bytes; accept a little slack, refuse anything huge. */
#define GRUBENV_MAX 65536

/* efivarfs files are 4 bytes of attributes, then the value: one byte for these. */
int efivar_parse_bool(const void *data, size_t size, enum tristate *ret)
{
	const unsigned char *b = data;

	if (size != 5 || b[4] > 1)
		return -GPE_PARSE;
	*ret = b[4] ? TRI_YES : TRI_NO;
	return 0;
}

static enum tristate boot_read_efivar(const struct detect_ctx *ctx, const char *name)
{
	_cleanup_free_ char *data = NULL;
	char path[PATH_MAX];
	enum tristate v;
	size_t size;
	int k;

	path_fmt(path, "sys/firmware/efi/efivars/%s-" EFI_GLOBAL_GUID, name);
	k = root_read_file(ctx->sys, path, 64, &data, &size);
	if (k == -ENOENT)
		return TRI_UNKNOWN;
	if (k >= 0)
		k = efivar_parse_bool(data, size, &v);
	if (k < 0) {
		facts_warn(ctx->facts, "%s: %s", path, gp_strerror(k));
		return TRI_UNKNOWN;
	}
	return v;
}

/* The first value of each of keys (NULL-terminated) in a GRUB environment block at path
 * ("key=value" lines, '#' pad); values[i] stays as it is where keys[i] is not there. */
static void boot_read_grubenv(const struct detect_ctx *ctx, const char *path, const char *const *keys, char **values)
{
	_cleanup_free_ char *text = NULL;
	char *save = NULL;
	int k;

	k = root_read_file(ctx->root, path, GRUBENV_MAX, &text, NULL);
	if (k >= 0 && !startswith(text, "# GRUB Environment Block\n"))
		k = -GPE_PARSE;
	if (k < 0) {
		facts_warn(ctx->facts, "%s: %s", path, gp_strerror(k));
		return;
	}
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		for (size_t i = 0; keys[i]; i++) {
			const char *v = startswith(line, keys[i]);

			if (v && *v == '=' && !values[i])
				values[i] = strdup(v + 1);
		}
}

static int set_path(char **field, const char *rel)
{
	/* Shown as the node sees it: from its top. */
	if (asprintf(field, "/%s", streq(rel, ".") ? "" : rel) < 0)
		return -ENOMEM;
	return 0;
}

/* Where grub.cfg and the environment block are: Debian's grub/, RHEL's grub2/, or the ESP. */
static int boot_find_grub(const struct detect_ctx *ctx, struct boot_facts *b)
{
	static const struct {
		const char *dir, *loader;
	} dirs[] = { { "boot/grub", "grub" }, { "boot/grub2", "grub2" } };
	_cleanup_(strv_freep) char **efi = NULL;
	char path[PATH_MAX];
	int k;

	for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
		if (!b->loader && root_exists(ctx->root, path_fmt(path, "%s/grub.cfg", dirs[i].dir)) > 0) {
			b->loader = dirs[i].loader;
			if ((k = set_path(&b->grub_cfg, path)) < 0)
				return k;
		}
		if (!b->grubenv) {
			_cleanup_free_ char *rel = NULL;

			/* Resolved: on openEuler EFI, grub2/grubenv links to the ESP's. */
			if (root_chase(ctx->root, path_fmt(path, "%s/grubenv", dirs[i].dir), &rel) >= 0 &&
			    (k = set_path(&b->grubenv, rel)) < 0)
				return k;
		}
	}

	if (root_list_dir(ctx->root, "boot/efi/EFI", &efi) >= 0)
		for (char **p = efi; *p && (!b->grubenv || !b->grub_cfg); p++) {
			if (streq(*p, "BOOT"))
				continue;
			if (!b->grub_cfg && root_exists(ctx->root, path_fmt(path, "boot/efi/EFI/%s/grub.cfg", *p)) > 0) {
				b->loader = ctx->facts->os.family == OS_FAMILY_DEBIAN ? "grub" : "grub2";
				if ((k = set_path(&b->grub_cfg, path)) < 0)
					return k;
			}
			if (!b->grubenv && root_exists(ctx->root, path_fmt(path, "boot/efi/EFI/%s/grubenv", *p)) > 0 &&
			    (k = set_path(&b->grubenv, path)) < 0)
				return k;
		}
	return 0;
}

static int boot_list_bls(const struct detect_ctx *ctx, struct boot_facts *b)
{
	_cleanup_(strv_freep) char **names = NULL;
	size_t n = 0;
	int k;

	if (root_list_dir(ctx->root, "boot/loader/entries", &names) < 0)
		return 0;
	for (char **p = names; *p; p++) {
		size_t len = strlen(*p);

		if (len <= 5 || !streq(*p + len - 5, ".conf"))
			continue;
		if ((k = strv_push_take(&b->bls_entries, &n, strndup(*p, len - 5))) < 0)
			return k;
	}
	return 0;
}

int boot_detect(const struct detect_ctx *ctx)
{
	struct boot_facts *b = &ctx->facts->boot;
	int k;

	b->firmware = root_is_dir(ctx->sys, "sys/firmware/efi") ? "uefi" : "bios";
	if (streq(b->firmware, "uefi")) {
		b->secure_boot = boot_read_efivar(ctx, "SecureBoot");
		b->setup_mode = boot_read_efivar(ctx, "SetupMode");
	} else {
		/* Secure Boot is a UEFI feature: a BIOS boot has none. */
		b->secure_boot = TRI_NO;
		b->setup_mode = TRI_UNKNOWN;
	}

	k = boot_find_grub(ctx, b);
	if (k < 0)
		return k;
	if (b->grubenv) {
		char *values[2] = {};

		boot_read_grubenv(ctx, b->grubenv, (const char *const[]){ "saved_entry", "next_entry", NULL }, values);
		b->saved_entry = values[0];
		b->next_entry = values[1];
	}
	k = boot_list_bls(ctx, b);
	if (k < 0)
		return k;

	k = root_read_line(ctx->sys, "proc/cmdline", &b->cmdline);
	if (k == -ENOMEM)
		return k;
	if (k < 0)
		facts_warn(ctx->facts, "proc/cmdline: %s", gp_strerror(k));
	return 0;
}

int boot_detect_esp_env(const struct detect_ctx *ctx)
{
	struct boot_facts *b = &ctx->facts->boot;
	const char *esp = ctx->facts->disk.esp.mountpoint;
	_cleanup_free_ char *path = NULL;
	char *value = NULL;

	if (!esp)
		return 0;
	if (asprintf(&path, "%s/" GPUPROV_ESP_ENV, streq(esp, "/") ? "" : esp) < 0)
		return -ENOMEM;
	if (root_exists(ctx->root, path) <= 0)
		return 0;
	boot_read_grubenv(ctx, path, (const char *const[]){ GPUPROV_ONCE_VAR, NULL }, &value);
	/* An empty entry is none: GRUB leaves it so when it has taken it. */
	if (value && !*value)
		value = mfree(value);
	b->gpuprov_once = value;
	b->gpuprov_env = TAKE_PTR(path);
	return 0;
}
