/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Filesystems behind /, /boot, the GRUB environment block and the ESP, and what stands
 * under them. */
#include <blkid.h>
#include <errno.h>
#include <limits.h>
#include <strings.h>
#include <sys/statvfs.h>

#include "facts.h"
#include "util/errors.h"
#include "util/strutil.h"

/* Device-mapper and md layers nest: LVM on RAID on partitions. Deeper, or wider than a
 * storage server's disks, is not a real machine but a loop in sysfs. */
#define STACK_MAX_DEPTH 8
#define STACK_MAX_NODES 256

/* Decodes mountinfo's octal escapes ("\040" for a space) in place. */
static char *unescape_octal(char *s)
{
	char *out = s;

	for (char *in = s; *in; in++) {
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' &&
		    in[3] >= '0' && in[3] <= '7') {
			*out++ = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
			in += 3;
		} else
			*out++ = *in;
	}
	*out = '\0';
	return s;
}

/* proc(5) mountinfo: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw". */
int mountinfo_parse_line(const char *line, unsigned *ret_major, unsigned *ret_minor,
			 char **ret_mountpoint, char **ret_fstype, char **ret_source)
{
	_cleanup_free_ char *copy = strdup(line);
	char *save = NULL, *field[5] = {}, *fstype, *source, *w;
	unsigned major, minor;
	int i = 0;

	if (!copy)
		return -ENOMEM;
	for (w = strtok_r(copy, " \n", &save); w && i < 5; w = strtok_r(NULL, " \n", &save))
		field[i++] = w;
	if (i < 5 || sscanf(field[2], "%u:%u", &major, &minor) != 2)
		return -GPE_PARSE;
	/* Optional fields until a lone "-". */
	while (w && !streq(w, "-"))
		w = strtok_r(NULL, " \n", &save);
	if (!w || !(fstype = strtok_r(NULL, " \n", &save)) || !(source = strtok_r(NULL, " \n", &save)))
		return -GPE_PARSE;

	*ret_mountpoint = strdup(unescape_octal(field[4]));
	*ret_fstype = strdup(unescape_octal(fstype));
	*ret_source = strdup(unescape_octal(source));
	if (!*ret_mountpoint || !*ret_fstype || !*ret_source) {
		*ret_mountpoint = mfree(*ret_mountpoint);
		*ret_fstype = mfree(*ret_fstype);
		*ret_source = mfree(*ret_source);
		return -ENOMEM;
	}
	*ret_major = major;
	*ret_minor = minor;
	return 0;
}

/* Does the mount point hold path? "/boot" holds "/boot/grub/grubenv", "/" holds all. */
static size_t mount_covers(const char *mountpoint, const char *path)
{
	size_t n = strlen(mountpoint);

	if (streq(mountpoint, "/"))
		return 1;
	if (strncmp(mountpoint, path, n) != 0 || (path[n] != '\0' && path[n] != '/'))
		return 0;
	return n;
}

static int stack_push(char ***stack, const char *layer)
{
	size_t n = strv_length(*stack);

	if (strv_contains(*stack, layer))
		return 0;
	return strv_push(stack, &n, layer);
}

/* Walks a block device in sysfs and its slaves: LVM, crypt, multipath, md RAID. */
static int disk_walk_stack(const struct root *sys, const char *dir, unsigned depth, unsigned *budget,
			   char ***stack)
{
	_cleanup_(strv_freep) char **slaves = NULL;
	_cleanup_free_ char *uuid = NULL, *level = NULL;
	char path[PATH_MAX];
	int k = 0;

	if (depth > STACK_MAX_DEPTH || (*budget)-- == 0)
		return -ELOOP;
	/* A partition's layers are its disk's: md0p1 is on md0. */
	if (root_exists(sys, path_fmt(path, "%s/partition", dir)) > 0)
		return disk_walk_stack(sys, path_fmt(path, "%s/..", dir), depth + 1, budget, stack);

	if (root_read_line(sys, path_fmt(path, "%s/dm/uuid", dir), &uuid) >= 0) {
		/* dm uuids carry their target's prefix (lvm2 "LVM-", cryptsetup "CRYPT-"). */
		const char *layer = startswith(uuid, "LVM-")	 ? "lvm"
				    : startswith(uuid, "CRYPT-") ? "crypt"
				    : startswith(uuid, "mpath-") ? "multipath"
								 : "dm";
		k = stack_push(stack, layer);
	} else if (root_read_line(sys, path_fmt(path, "%s/md/level", dir), &level) >= 0)
		k = stack_push(stack, *level ? level : "raid");
	if (k < 0)
		return k;

	if (root_list_dir(sys, path_fmt(path, "%s/slaves", dir), &slaves) < 0)
		return 0;
	for (char **s = slaves; *s; s++) {
		char sub[PATH_MAX];

		k = disk_walk_stack(sys, path_fmt(sub, "%s/slaves/%s", dir, *s), depth + 1, budget, stack);
		if (k < 0)
			return k;
	}
	return 0;
}

/* Filesystem type and UUID from the device itself, when it can be read inside the root. */
static void disk_probe(const struct detect_ctx *ctx, struct mount_facts *m)
{
	_cleanup_free_ char *dev = NULL;
	blkid_probe pr;
	const char *value;

	if (!startswith(m->source, "/dev/") || root_host_path(ctx->root, m->source, &dev) < 0)
		return;
	pr = blkid_new_probe_from_filename(dev);
	if (!pr)
		return;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID);
	/* 0: found one; 1: nothing; -2: ambiguous; -1: error. Only 0 is an answer. */
	if (blkid_do_safeprobe(pr) == 0) {
		if (blkid_probe_lookup_value(pr, "TYPE", &value, NULL) == 0 && !streq_ptr(value, m->fstype)) {
			free(m->fstype);
			m->fstype = strdup(value);
		}
		if (blkid_probe_lookup_value(pr, "UUID", &value, NULL) == 0)
			m->uuid = strdup(value);
	}
	blkid_free_probe(pr);
}

/* One line of mountinfo, as much of it as detect needs. */
struct mount_entry {
	char *mountpoint, *fstype, *source;
	unsigned major, minor;
};

static void mount_table_free(struct mount_entry *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].mountpoint);
		free(t[i].fstype);
		free(t[i].source);
	}
	free(t);
}

/* Reads mountinfo once for all the paths asked about. Lines it cannot parse are skipped. */
static int mount_table_read(const struct detect_ctx *ctx, struct mount_entry **ret, size_t *ret_n)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	struct mount_entry *t = NULL;
	size_t linesz = 0, n = 0;
	int k;

	k = root_fopen(ctx->sys, "proc/self/mountinfo", &f);
	if (k < 0)
		return k;
	while (getline(&line, &linesz, f) >= 0) {
		struct mount_entry e, *p;

		k = mountinfo_parse_line(line, &e.major, &e.minor, &e.mountpoint, &e.fstype, &e.source);
		if (k == -ENOMEM) {
			mount_table_free(t, n);
			return k;
		}
		if (k < 0)
			continue;
		p = realloc(t, (n + 1) * sizeof(*t));
		if (!p) {
			mount_table_free(t, n);
			free(e.mountpoint), free(e.fstype), free(e.source);
			return -ENOMEM;
		}
		t = p;
		t[n++] = e;
	}
	*ret = t;
	*ret_n = n;
	return 0;
}

static int dup_field(char **field, const char *v)
{
	*field = strdup(v);
	return *field ? 0 : -ENOMEM;
}

/*
 * Where the root's "/" is in mountinfo's terms. A fake machine's mountinfo speaks of its own
 * "/"; a real procfs (gpuprov --root /target in an installer) speaks of gpuprov's, where the
 * target is mounted at /target. Told apart by a mount at the root's own path.
 */
static const char *mount_prefix(const struct detect_ctx *ctx, const struct mount_entry *table, size_t n)
{
	const char *top = ctx->root->path;

	if (streq(top, "/"))
		return "";
	for (size_t i = 0; i < n; i++)
		if (streq(table[i].mountpoint, top))
			return top;
	return "";
}

/* Describes the mount that holds path (a path on the node: "/boot"). */
static int disk_describe(const struct detect_ctx *ctx, const struct mount_entry *table, size_t n,
			 const char *path, struct mount_facts *m)
{
	const char *prefix = mount_prefix(ctx, table, n), *rest;
	char full[PATH_MAX];
	_cleanup_free_ char *host = NULL;
	const struct mount_entry *found = NULL;
	size_t best = 0;
	struct statvfs sv;
	char dir[PATH_MAX];
	int k;

	if ((k = dup_field(&m->path, path)) < 0)
		return k;
	if (snprintf(full, sizeof(full), "%s%s", prefix, streq(path, "/") && *prefix ? "" : path) >=
	    (int)sizeof(full))
		return -ENAMETOOLONG;
	for (size_t i = 0; i < n; i++) {
		size_t len = mount_covers(table[i].mountpoint, full);

		/* ">=": of mounts stacked on one point, the last one is visible. */
		if (len > 0 && len >= best) {
			best = len;
			found = &table[i];
		}
	}
	if (!found) {
		facts_warn(ctx->facts, "proc/self/mountinfo: no mount holds %s", path);
		return 0;
	}
	/* Shown as the node sees it: "/boot", not "/target/boot". The mount at the prefix
	 * itself covers every path below it, so the best match always starts with it. */
	rest = startswith(found->mountpoint, prefix);
	if ((k = dup_field(&m->mountpoint, rest && *rest ? rest : "/")) < 0 ||
	    (k = dup_field(&m->fstype, found->fstype)) < 0 || (k = dup_field(&m->source, found->source)) < 0)
		return k;

	disk_probe(ctx, m);
	if (found->major != 0) {
		unsigned budget = STACK_MAX_NODES;

		k = disk_walk_stack(ctx->sys, path_fmt(dir, "sys/dev/block/%u:%u", found->major, found->minor),
				    0, &budget, &m->stack);
		if (k == -ENOMEM)
			return k;
		if (k < 0)
			facts_warn(ctx->facts, "%s: %s", dir, gp_strerror(k));
	}
	if (!m->stack && !(m->stack = calloc(1, sizeof(char *))))
		return -ENOMEM;

	if (root_host_path(ctx->root, path, &host) >= 0 && statvfs(host, &sv) == 0) {
		m->have_space = true;
		m->free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
		m->total_bytes = (uint64_t)sv.f_blocks * sv.f_frsize;
	}
	return 0;
}

/*
 * Whether GRUB can write a file on this mount. GRUB writes its environment block only "on a
 * plain disk (no LVM or RAID), using a non-checksumming filesystem (no ZFS)": GRUB manual,
 * "Environment block". btrfs is checksumming too, and GRUB cannot write inside a LUKS
 * volume. ret_reason: why not.
 */
static enum tristate disk_judge_writable(const struct mount_facts *m, char **ret_reason)
{
	static const char *const bad_fs[] = { "zfs", "btrfs" };
	const char *bad = NULL;

	if (!m->mountpoint)
		return TRI_UNKNOWN;
	for (size_t i = 0; i < ELEMENTSOF(bad_fs); i++)
		if (streq_ptr(m->fstype, bad_fs[i]))
			bad = m->fstype;
	if (!bad && m->stack && m->stack[0])
		bad = m->stack[0];
	if (!bad)
		return TRI_YES;
	if (asprintf(ret_reason, "on %s, which GRUB cannot write", bad) < 0)
		*ret_reason = NULL;
	return TRI_NO;
}

/*
 * The ESP is GRUB's to write where it is vfat on a plain partition: an ESP mirrored by md
 * RAID1 (metadata 1.0 leaves the FAT readable to the firmware) shows md in its stack, and a
 * write by GRUB would reach one mirror only. GRUB finds it by its filesystem UUID.
 */
static void disk_judge_esp(struct disk_facts *d)
{
	const struct mount_facts *m = &d->esp;

	d->esp_writable = disk_judge_writable(m, &d->esp_reason);
	if (d->esp_writable == TRI_NO)
		return;
	if (!m->mountpoint) {
		d->esp_writable = TRI_NO;
		d->esp_reason = strdup("no EFI System Partition is mounted");
	} else if (!streq_ptr(m->fstype, "vfat") || !m->uuid) {
		d->esp_writable = TRI_NO;
		if (asprintf(&d->esp_reason, "%s at %s has %s", strna(m->fstype), m->mountpoint,
			     m->uuid ? "no FAT filesystem" : "no filesystem UUID GRUB could find it by") < 0)
			d->esp_reason = NULL;
	}
}

enum boot_once_via facts_boot_once(const struct facts *f)
{
	if (f->disk.grubenv_writable != TRI_NO)
		return BOOT_ONCE_GRUBENV;
	if (f->disk.esp_writable == TRI_YES && f->disk.esp.mountpoint && f->disk.esp.uuid)
		return BOOT_ONCE_ESP;
	return BOOT_ONCE_NONE;
}

const char *boot_once_via_to_string(enum boot_once_via v)
{
	return v == BOOT_ONCE_GRUBENV ? "grubenv" : v == BOOT_ONCE_ESP ? "esp" : NULL;
}

/* The ESP's partition types: GPT's "EFI System" GUID, MBR's 0xef (UEFI 2.10, 5.2.1, 5.3.3). */
static bool part_type_is_esp(const char *type)
{
	return type && (strcasecmp(type, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b") == 0 ||
			strcasecmp(type, "0xef") == 0);
}

/* The partition type udev recorded for a block device (its database's ID_PART_ENTRY_TYPE,
 * read where /sys is); NULL when there is none to read. */
static char *udev_part_type(const struct detect_ctx *ctx, unsigned major, unsigned minor)
{
	_cleanup_free_ char *text = NULL;
	char path[64], *save = NULL;

	if (root_read_file(ctx->sys, path_fmt(path, "run/udev/data/b%u:%u", major, minor), 65536, &text, NULL) < 0)
		return NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		const char *v = startswith(l, "E:ID_PART_ENTRY_TYPE=");

		if (v)
			return strdup(v);
	}
	return NULL;
}

/*
 * Where the ESP is mounted, as the node sees it: a vfat mount at /boot/efi, /efi or /boot
 * (where installers and systemd put it) whose partition is not known to be of another type;
 * else any vfat mount udev knows as the ESP's partition. NULL when there is none.
 */
static const char *disk_find_esp(const struct detect_ctx *ctx, const struct mount_entry *table, size_t n)
{
	static const char *const usual[] = { "/boot/efi", "/efi", "/boot" };
	const char *prefix = mount_prefix(ctx, table, n);

	for (size_t pass = 0; pass < 2; pass++)
		for (size_t u = 0; u < (pass == 0 ? ELEMENTSOF(usual) : 1); u++)
			for (size_t i = 0; i < n; i++) {
				const char *at = startswith(table[i].mountpoint, prefix);
				_cleanup_free_ char *type = NULL;

				if (!at || !streq(table[i].fstype, "vfat") || (pass == 0 && !streq(at, usual[u])))
					continue;
				type = udev_part_type(ctx, table[i].major, table[i].minor);
				if (pass == 0 ? !type || part_type_is_esp(type) : part_type_is_esp(type))
					return at;
			}
	return NULL;
}

/* GRUB's environment block: see disk_judge_writable(). */
static void disk_judge_grubenv(struct disk_facts *d)
{
	d->grubenv_writable = disk_judge_writable(&d->grubenv, &d->grubenv_reason);
}

int disk_detect(const struct detect_ctx *ctx)
{
	struct disk_facts *d = &ctx->facts->disk;
	struct mount_entry *table = NULL;
	const char *esp = NULL;
	size_t n = 0;
	int k;

	d->grubenv_writable = TRI_UNKNOWN;
	d->esp_writable = TRI_UNKNOWN;
	k = mount_table_read(ctx, &table, &n);
	if (k == -ENOMEM)
		return k;
	if (k < 0) {
		facts_warn(ctx->facts, "proc/self/mountinfo: %s", gp_strerror(k));
		return 0;
	}
	if ((k = disk_describe(ctx, table, n, "/", &d->root)) >= 0 &&
	    (k = disk_describe(ctx, table, n, "/boot", &d->boot)) >= 0 && ctx->facts->boot.grubenv &&
	    (k = disk_describe(ctx, table, n, ctx->facts->boot.grubenv, &d->grubenv)) >= 0)
		disk_judge_grubenv(d);
	if (k >= 0 && (esp = disk_find_esp(ctx, table, n)))
		k = disk_describe(ctx, table, n, esp, &d->esp);
	if (k >= 0)
		disk_judge_esp(d);
	mount_table_free(table, n);
	return k < 0 ? k : 0;
}
