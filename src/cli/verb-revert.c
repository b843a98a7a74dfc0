/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov revert: every file gpuprov manages back to its content before gpuprov. */
#include <errno.h>
#include <unistd.h>

#include "apply/journal.h"
#include "apply/state.h"
#include "cli.h"
#include "files/managed.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/write.h"

const char verb_revert_usage[] = "[--dry-run] [--json]\n"
				 "Restore every file gpuprov wrote to its content and mode before gpuprov first\n"
				 "changed it, byte for byte, and remove the files it created. Packages, holds and\n"
				 "pins in the package managers' own databases stay as they are (rollback, for the\n"
				 "kernel and the stack, is separate).\n"
				 "  --dry-run  say what would be restored, change nothing\n"
				 "  --json     what was restored, as JSON\n";

int verb_revert(struct cli *cli, _unused_ const struct verb *self, _unused_ int argc, _unused_ char **argv)
{
	_cleanup_(strv_freep) char **done = NULL;
	_cleanup_free_ char *why = NULL;
	size_t n = 0;
	int k;

	k = managed_revert(cli->root, cli->dry_run, &done, &n, &why);
	if (k >= 0 && n > 0 && !cli->dry_run) {
		/* What apply recorded no longer describes the files: say it was reverted. A state
		 * that does not read is replaced, as before. */
		_cleanup_(state_freep) struct state *state = NULL;

		if (state_load(cli->root, &state) < 0)
			state = calloc(1, sizeof(*state));
		k = state ? state_reverted(state) : -ENOMEM;
		if (k >= 0)
			k = state_save(cli->root, state);
	}
	if (cli->json) {
		cJSON *doc = cJSON_CreateObject();

		if (!doc || !cJSON_AddBoolToObject(doc, "ok", k >= 0) || json_add_strv(doc, "done", done) < 0) {
			cJSON_Delete(doc);
			return log_error_errno(-ENOMEM, "cannot write JSON"), EXIT_CODE_FAILURE;
		}
		(void)cli_print_json(doc);
	} else {
		for (char **d = done; d && *d; d++)
			printf("  %s\n", *d);
		if (k >= 0)
			printf("%s\n", !n ? "Nothing to revert: gpuprov has changed no file here."
				       : cli->dry_run ? "Nothing changed (--dry-run)." : "Reverted.");
	}
	if (k == -GPE_REFUSED)
		return log_error("revert refused, nothing changed: %s", strna(why)), EXIT_CODE_REFUSED;
	if (k < 0)
		return log_error("revert stopped: %s; run it again to finish", gp_strerror(k)), EXIT_CODE_FAILURE;
	return EXIT_CODE_OK;
}
