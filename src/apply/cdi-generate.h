/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "util/root.h"

/*
 * Has nvidia-ctk write the GPUs' CDI spec anew to DIR/nvidia.json inside the root: run there
 * (chroot under --root, as apply runs the target's other tools), into a file of a private
 * directory made in DIR (the CDI library reads no subdirectory, so that no runtime sees a
 * half-made second spec), read back and checked to be a spec of CDI_KIND, then renamed over
 * the old one. The old spec stays when anything fails. ret_error: why.
 */
int cdi_generate(const struct root *root, const char *dir, char **ret_error);
