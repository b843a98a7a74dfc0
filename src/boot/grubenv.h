/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "util/root.h"

/* A new block's size, and the most gpuprov reads of one: GRUB's own default, one
 * 1 KiB block GRUB can rewrite in place without allocating. */
#define GRUBENV_BLOCK_SIZE 1024
#define GRUBENV_HEADER "# GRUB Environment Block\n"

/*
 * Sets "name=value" assignments (NULL-terminated; none: only make sure the block exists) in
 * the GRUB environment block at path, written by gpuprov itself through descriptors opened
 * in the root, for a root that has no grub-editenv of its own: a host tool given a path
 * below the root would follow a link in it out of the root. A link at path is followed
 * inside the root; a file there that is no environment block is refused (-GPE_PARSE) and left
 * as it is; a missing block is made, GRUBENV_BLOCK_SIZE bytes. The block keeps its size (GRUB
 * writes it in place); -ENOSPC when the variables do not fit.
 */
int grubenv_set(const struct root *root, const char *path, char *const *assignments);
