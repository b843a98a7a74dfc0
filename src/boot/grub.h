/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "host/facts.h"
#include "util/root.h"

/*
 * The boot backend, apply's third door: GRUB's environment block and its entry ids.
 *
 * The id GRUB gives a kernel's entry, as saved_entry and next_entry name it:
 * BLS systems "<machine-id>-<release>"; Debian and Ubuntu "gnulinux-advanced-<root uuid>>
 * gnulinux-<release>-advanced-<root uuid>"; other grub2 layouts (openEuler) the entry's
 * title, made from the running kernel's by putting the release in. The entry need not exist
 * yet: update-grub or the kernel's install makes it.
 */
int boot_entry_id(const struct facts *f, const struct root *root, const char *release, char **ret);

/*
 * Sets variables ("saved_entry=...") in the environment block with grub-editenv (grub2-editenv
 * on the RPM family) run in the target when it has one, else written by gpuprov through the
 * root (grubenv.h). ret_error: what failed, with the command's words.
 */
int boot_env_set(const struct facts *f, const struct root *root, char *const *assignments, char **ret_error);

/*
 * Where a kernel switch's boot-once entry lives on this machine (facts_boot_once): the
 * variable and its block as the node sees it: "next_entry" in GRUB's own block, or, where
 * GRUB cannot write that, GPUPROV_ONCE_VAR in gpuprov's block on the ESP, which
 * /etc/grub.d/01_gpuprov makes GRUB take and clear. -ENOENT: nowhere GRUB can clear one.
 */
int boot_once_where(const struct facts *f, const char **ret_var, char **ret_file);

/* The next boot enters release once, where boot_once_where() says; gpuprov's block on the
 * ESP is made first when it is not there. */
int boot_once_set(const struct facts *f, const struct root *root, const char *release, char **ret_error);

/* release's entry becomes GRUB's saved default (saved_entry), which GRUB only reads.
 * cancel_once: and a boot-once entry not yet used is cancelled wherever it is: next_entry,
 * and GPUPROV_ONCE_VAR where gpuprov's block on the ESP is. */
int boot_default_set(const struct facts *f, const struct root *root, const char *release, bool cancel_once,
		     char **ret_error);
