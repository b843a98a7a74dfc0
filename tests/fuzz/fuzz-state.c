/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.json and journal.json as the next run reads them: the state's previous stack
 * checked and turned into a rollback (the names and versions rollback hands to apt and dnf),
 * its failed kernels looked up, its round trip through state.c and the transitions verify and
 * revert make; the journal of an interrupted run. */
#include <stdlib.h>
#include <string.h>

#include "apply/exec.h"
#include "apply/journal.h"
#include "apply/rollback.h"
#include "apply/state.h"
#include "files/render.h"
#include "fuzz.h"
#include "util/json.h"
#include "util/strutil.h"

/* The node the record is rolled back on: what dpkg has installed and held, what the lists
 * offer, gpuprov's pins as they are now (the record's are diffed against them). */
static const char dpkg_status[] =
	"Package: nvidia-utils-580-server\nStatus: hold ok installed\nArchitecture: amd64\n"
	"Version: 580.95.05-0ubuntu0.22.04.2\n\n"
	"Package: linux-image-6.8.0-49-generic\nStatus: install ok installed\nArchitecture: amd64\n"
	"Version: 6.8.0-49.49~22.04.1\n\n"
	"Package: linux-image-5.15.0-105-generic\nStatus: install ok installed\nArchitecture: amd64\n"
	"Version: 5.15.0-105.115\n\n"
	"Package: linux-modules-nvidia-580-server-open-6.8.0-49-generic\nStatus: hold ok installed\n"
	"Architecture: amd64\nVersion: 6.8.0-49.49~22.04.1\n";
static const char packages[] =
	"Package: nvidia-utils-550-server\nArchitecture: amd64\nVersion: 550.127.05-0ubuntu0.22.04.1\n\n"
	"Package: nvidia-utils-580-server\nArchitecture: amd64\nVersion: 580.95.05-0ubuntu0.22.04.2\n";
static const char pins[] = "Package: nvidia-*\nPin: version 580.95.05-*\nPin-Priority: 1001\n";

static const struct repo_view *node_view(void)
{
	static struct repo_view *view;
	_cleanup_(strv_freep) char **warnings = NULL;
	size_t n = 0;
	int k;

	if (view)
		return view;
	fuzz_put("var/lib/dpkg/status", dpkg_status, sizeof(dpkg_status) - 1);
	fuzz_put("var/lib/apt/lists/archive.ubuntu.com_ubuntu_dists_jammy_main_binary-amd64_Packages", packages,
		 sizeof(packages) - 1);
	fuzz_put(APT_PINS_FILE, pins, sizeof(pins) - 1);
	if ((k = repo_view_load(fuzz_root(), VERCMP_DPKG, NULL, &view, &warnings, &n)) < 0)
		fuzz_die("repository view", k);
	return view;
}

static void roll_back(const cJSON *record, bool kernel_only, bool remove_new)
{
	struct rollback_options o = { .kernel_only = kernel_only, .remove_new = remove_new };
	_cleanup_(rollback_freep) struct rollback *rb = NULL;
	_cleanup_(cJSON_Deletep) cJSON *json = NULL;
	_cleanup_(exec_steps_done) struct exec_steps steps = {};
	_cleanup_free_ char *why = NULL;

	if (rollback_build(fuzz_root(), fuzz_facts(), node_view(), record, &o, &rb, &why) < 0)
		return;
	(void)rollback_to_json(rb, &json);
	(void)rollback_steps(rb, rb->kernel, &steps);
}

/* What state.c reads must write back and read again the same (the round trip the unit
 * test asks of known states), whatever the bytes. */
static void round_trip(const struct state *state)
{
	_cleanup_(cJSON_Deletep) cJSON *once = NULL, *twice = NULL;
	_cleanup_(state_freep) struct state *again = NULL;
	_cleanup_free_ char *a = NULL, *b = NULL;

	if (state_to_json(state, &once) < 0 || state_from_json(once, &again) < 0 || state_to_json(again, &twice) < 0)
		return;
	/* The texts, not cJSON_Compare: with a member named twice in an object (JSON allows
	 * it, and previous_stack is kept as read) cJSON_Compare finds the first of the two
	 * for both and calls a document unequal to itself. */
	a = cJSON_PrintUnformatted(once);
	b = cJSON_PrintUnformatted(twice);
	if (a && b && strcmp(a, b) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(state_freep) struct state *state = NULL;
	_cleanup_(cJSON_Deletep) cJSON *journal = NULL;
	_cleanup_free_ char *why = NULL;
	const cJSON *record;

	fuzz_put(STATE_FILE, data, size);
	fuzz_put(JOURNAL_FILE, data, size);
	(void)journal_load(fuzz_root(), &journal);
	if (state_load(fuzz_root(), &state) < 0)
		return 0;
	round_trip(state);
	(void)state_failed_kernel(state, "6.8.0-49-generic");
	record = state->previous_stack;
	/* As rollback does: a record is built on only once it checked. */
	if (previous_stack_check(record, &why) >= 0) {
		roll_back(record, false, false);
		roll_back(record, false, true);
		roll_back(record, true, false);
	}
	/* The transitions verify and revert make of it. */
	if (state_verified(state, "rolled back", "2026-01-01T00:00:00Z", NULL, NULL) >= 0)
		round_trip(state);
	if (state_reverted(state) >= 0)
		round_trip(state);
	return 0;
}
