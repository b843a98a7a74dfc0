/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A bundle's manifest.json, signed by a trusted key, as bundle_read reads it and apply
 * --bundle then judges it against the node (bundle_fits). */
#include <stdlib.h>

#include "apply/bundle.h"
#include "fuzz.h"
#include "signed-bundle.h"

static int fits(const struct bundle_manifest *m, void *userdata, char **ret_error)
{
	_cleanup_free_ char *why = NULL;

	(void)bundle_fits(m, "h100-nvlink", fuzz_facts(), &why);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ uint8_t *bundle = NULL;
	size_t bundle_size;

	/* No files follow: a manifest that lists some is read whole, then found truncated. */
	fuzz_bundle_sign(data, size, NULL, 0, &bundle, &bundle_size);
	fuzz_bundle_read(bundle, bundle_size, false, fits);
	return 0;
}
