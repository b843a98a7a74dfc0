/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "host/facts.h"
#include "profile/profile.h"
#include "profile/resolve.h"

/* A file gpuprov manages: where it goes on the node, and its whole content. */
struct managed_file {
	char *path;    /* "/etc/modprobe.d/gpuprov.conf" */
	char *content; /* NULL: the profile asks for nothing here, the file should not exist */
	char *why;
};

/*
 * Renders every managed file for a resolved profile (FACTS 9 for the formats). Pure: no
 * file is read or written. Each starts with a header naming gpuprov and the profile.
 */
int render_files(const struct profile *p, const struct facts *f, const struct resolution *r,
		 struct managed_file **ret, size_t *ret_n);
void managed_files_free(struct managed_file *files, size_t n);

/* NCCL_IB_HCA / NCCL_SOCKET_IFNAME for "auto": from the HCAs found. NULL when none. */
char *nccl_auto_value(const struct facts *f, const char *key);
