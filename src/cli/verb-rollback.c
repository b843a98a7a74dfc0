/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov rollback: back to the kernel that ran before the last apply's switch, by hand. */
#include <errno.h>
#include <unistd.h>

#include "apply/journal.h"
#include "boot/grub.h"
#include "cli.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/write.h"

const char verb_rollback_usage[] = "[--dry-run]\n"
				   "Make the kernel that ran before the last apply's switch GRUB's saved default\n"
				   "again and cancel a boot-once entry not yet used; the next boot enters it. That\n"
				   "kernel and its packages were kept installed and held by apply. Does not reboot.\n"
				   "  --dry-run  say what would be done\n";

int verb_rollback(struct cli *cli, const struct verb *self, int argc, char **argv)
{
	_cleanup_(facts_freep) struct facts *f = NULL;
	_cleanup_(cJSON_Deletep) cJSON *state = NULL;
	_cleanup_free_ char *id = NULL, *saved = NULL, *why = NULL;
	_cleanup_close_ int lock = -EBADF;
	const char *previous;
	int first, r, k;

	if ((r = cli_verb_args(cli, self, argc, argv, 0, 0, &first)) >= 0)
		return r;
	k = state_load(cli->root, &state);
	previous = k >= 0 ? json_str(state, "previous_kernel") : NULL;
	if (!previous)
		return log_error("%s/%s: %s; no previous kernel recorded to go back to", cli->root->path, STATE_FILE,
				 k < 0 ? gp_strerror(k) : "no previous_kernel"),
		       EXIT_CODE_REFUSED;
	if ((r = cli_detect(cli, false, &f)) >= 0)
		return r;
	if (!f->boot.loader)
		return log_error("%s: no GRUB found; nothing to roll back with", cli->root->path), EXIT_CODE_REFUSED;
	if ((k = boot_entry_id(f, cli->root, previous, &id)) < 0)
		return log_error("cannot tell GRUB's entry for %s: %s", previous, gp_strerror(k)), EXIT_CODE_FAILURE;
	if (cli->dry_run) {
		printf("Would make %s (%s) GRUB's saved default and clear next_entry.\n", previous, id);
		return EXIT_CODE_OK;
	}
	if ((r = cli_lock(cli, &lock)) >= 0)
		return r;
	if (asprintf(&saved, "saved_entry=%s", id) < 0)
		return log_error_errno(-ENOMEM, "out of memory"), EXIT_CODE_FAILURE;
	/* An empty next_entry is no boot-once entry: GRUB boots the saved default. */
	if ((k = boot_env_set(f, cli->root, (char *[]){ saved, "next_entry=", NULL }, &why)) < 0)
		return log_error("rollback: %s", why ? why : gp_strerror(k)), EXIT_CODE_FAILURE;
	cJSON_DeleteItemFromObjectCaseSensitive(state, "verified");
	cJSON *v = cJSON_AddObjectToObject(state, "verified");
	if (!v || !cJSON_AddStringToObject(v, "result", "rolled back by hand"))
		return log_error_errno(-ENOMEM, "out of memory"), EXIT_CODE_FAILURE;
	if ((k = state_save(cli->root, state)) < 0)
		return log_error_errno(k, "%s: %s", STATE_FILE, gp_strerror(k)), EXIT_CODE_FAILURE;
	printf("GRUB's saved default is %s again; reboot to enter it.\n", previous);
	return EXIT_CODE_OK;
}
