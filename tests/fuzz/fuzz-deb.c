/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A .deb (ar archive, control.tar.* inside) as bundle create indexes it: its control file
 * read through libarchive into the stanza of a Packages list. */
#include <stdlib.h>

#include "fuzz.h"
#include "pkg/pkg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *stanza = NULL;

	fuzz_put("pool/fuzz_1.0_amd64.deb", data, size);
	(void)deb_index_entry(fuzz_root(), "pool", "fuzz_1.0_amd64.deb", &stanza);
	return 0;
}
