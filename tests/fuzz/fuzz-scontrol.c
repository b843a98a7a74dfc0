/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What `scontrol show node NODE --oneliner` prints, as maintenance reads it before it
 * drains or resumes a node: any bytes a scontrol in the target could print. */
#include <stdlib.h>
#include <string.h>

#include "apply/maintenance.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct slurm_node n = {};

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (slurm_node_parse(text, &n) == 0) {
		(void)slurm_state_drain(n.state);
		(void)slurm_state_empty(n.state);
		slurm_node_done(&n);
	}
	free(text);
	return 0;
}
