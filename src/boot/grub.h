/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "host/facts.h"
#include "util/root.h"

/*
 * The boot backend, apply's third door: GRUB's environment block and its entry ids.
 *
 * The id GRUB gives a kernel's entry, as saved_entry and next_entry name it (FACTS 8):
 * BLS systems "<machine-id>-<release>"; Debian and Ubuntu "gnulinux-advanced-<root uuid>>
 * gnulinux-<release>-advanced-<root uuid>"; other grub2 layouts (openEuler) the entry's
 * title, made from the running kernel's by putting the release in. The entry need not exist
 * yet: update-grub or the kernel's install makes it.
 */
int boot_entry_id(const struct facts *f, const struct root *root, const char *release, char **ret);

/*
 * Sets variables ("saved_entry=...") in the environment block with grub-editenv (grub2-editenv
 * on the RPM family): the target's own when it has one, else the installer's on the
 * target's file. ret_error: what failed, with the command's words.
 */
int boot_env_set(const struct facts *f, const struct root *root, char *const *assignments, char **ret_error);
