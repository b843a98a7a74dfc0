/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What `dcgmi diag -r LEVEL -j` prints, as verify reads it for its "diag" check: any bytes a
 * dcgmi in PATH could print. */
#include <stdlib.h>
#include <string.h>

#include "apply/verify.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *why = NULL;
	struct dcgm_diag d;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (dcgm_diag_parse(text, &d, &why) == 0)
		for (unsigned i = 0; i < d.n_failures && i < DCGM_FAILURES_MAX; i++)
			if (strlen(d.failures[i].test) >= sizeof(d.failures[i].test) ||
			    strlen(d.failures[i].info) >= sizeof(d.failures[i].info))
				abort();
	free(why);
	free(text);
	return 0;
}
