/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.json and journal.json as the next run reads them: the state's previous stack
 * checked and turned into a rollback (the names and versions rollback hands to apt and dnf),
 * its failed kernels looked up and dropped; the journal of an interrupted run. */
#include <stdlib.h>

#include "apply/journal.h"
#include "apply/rollback.h"
#include "fuzz.h"
#include "util/json.h"
#include "util/strutil.h"

static void roll_back(const cJSON *record, bool kernel_only, bool remove_new)
{
	struct rollback_options o = { .kernel_only = kernel_only, .remove_new = remove_new };
	_cleanup_(rollback_freep) struct rollback *rb = NULL;
	_cleanup_(cJSON_Deletep) cJSON *json = NULL;
	_cleanup_(strv_freep) char **labels = NULL;
	_cleanup_free_ char *why = NULL;
	struct repo_view view = {};

	if (rollback_build(fuzz_root(), fuzz_facts(), &view, record, &o, &rb, &why) < 0)
		return;
	(void)rollback_to_json(rb, &json);
	(void)rollback_steps(rb, &labels);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(cJSON_Deletep) cJSON *state = NULL, *journal = NULL;
	_cleanup_free_ char *why = NULL;
	const cJSON *record;

	fuzz_put(STATE_FILE, data, size);
	fuzz_put(JOURNAL_FILE, data, size);
	(void)journal_load(fuzz_root(), &journal);
	if (state_load(fuzz_root(), &state) < 0)
		return 0;
	(void)json_find_by(cJSON_GetObjectItemCaseSensitive(state, FAILED_KERNELS), "kernel", "6.8.0-49-generic");
	failed_kernels_drop(cJSON_GetObjectItemCaseSensitive(state, FAILED_KERNELS), "6.8.0-49-generic");
	record = cJSON_GetObjectItemCaseSensitive(state, PREVIOUS_STACK);
	/* As rollback does: a record is built on only once it checked. */
	if (previous_stack_check(record, &why) < 0)
		return 0;
	roll_back(record, false, false);
	roll_back(record, false, true);
	roll_back(record, true, false);
	return 0;
}
