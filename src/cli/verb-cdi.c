/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov cdi check|refresh [DIR]: the GPUs' CDI spec against the devices and the driver that
 * run; refresh makes it anew where it is stale (gpuprov-cdi.service runs it at boot). */
#include <errno.h>
#include <stdio.h>

#include "apply/cdi-generate.h"
#include "apply/state.h"
#include "cli.h"
#include "host/facts.h"
#include "host/cdi.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/strutil.h"

const char verb_cdi_usage[] = "check|refresh [DIR]\n"
			      "The GPUs' CDI spec, DIR/" CDI_SPEC_NAME " (DIR: the container.cdi_dir of the\n"
			      "profile last applied), against the node: every device node it names is\n"
			      "there with the driver's major and minor, and its driver version is the\n"
			      "running one. check reports (exit 3 when the spec is stale); refresh has\n"
			      "nvidia-ctk write it anew when it is stale or missing, then checks again\n"
			      "(exit 3 when the new one is still wrong, 1 when it cannot be made).\n"
			      "Without DIR and without a profile that wants CDI, both do nothing.\n";

/* The spec's problems as one report; 0 when none. */
static int report(const char *read, char **problems, int n)
{
	_cleanup_free_ char *text = problems ? strv_join(problems, "; ") : NULL;

	if (n == 0) {
		printf("CDI spec up to date (%s)\n", read);
		return 0;
	}
	log_error("CDI spec is stale: %s (read %s)", strna(text), read);
	return n;
}

int verb_cdi(struct cli *cli, _unused_ const struct verb *self, int argc, char **argv)
{
	_cleanup_(facts_freep) struct facts *f = NULL;
	_cleanup_(state_freep) struct state *state = NULL;
	_cleanup_(strv_freep) char **problems = NULL;
	_cleanup_free_ char *read = NULL, *why = NULL;
	const char *dir = argc > 1 ? argv[1] : NULL;
	bool refresh = streq(argv[0], "refresh");
	int r, k;

	if (!refresh && !streq(argv[0], "check"))
		return log_error("cdi: unknown command '%s' (check, refresh)", argv[0]), EXIT_CODE_USAGE;
	if (!dir) {
		k = state_load(cli->root, &state);
		if (k < 0 && k != -ENOENT)
			return log_error("%s/%s: %s", cli->root->path, STATE_FILE, gp_strerror(k)), EXIT_CODE_FAILURE;
		if (k < 0 || !state->cdi_dir)
			return puts("the profile last applied wants no CDI spec; nothing to do"), EXIT_CODE_OK;
		dir = state->cdi_dir;
	}
	if ((r = cli_detect(cli, false, &f)) != EXIT_CODE_OK)
		return r;
	if ((k = cdi_spec_audit(cli->root, cli->sys, dir, f->nvidia.driver_version, &problems, &read)) < 0)
		return log_error_errno(k, "cannot check the CDI spec in %s", dir), EXIT_CODE_FAILURE;
	if (!refresh || k == 0)
		return report(read, problems, k) ? EXIT_CODE_REFUSED : EXIT_CODE_OK;
	_cleanup_free_ char *before = strv_join(problems, "; ");

	printf("CDI spec in %s is stale (%s): nvidia-ctk makes it anew\n", dir, strna(before));
	if ((k = cdi_generate(cli->root, dir, &why)) < 0)
		return log_error("cannot make the CDI spec: %s", why ? why : gp_strerror(k)), EXIT_CODE_FAILURE;
	problems = strv_free(problems);
	read = mfree(read);
	if ((k = cdi_spec_audit(cli->root, cli->sys, dir, f->nvidia.driver_version, &problems, &read)) < 0)
		return log_error_errno(k, "cannot check the CDI spec in %s", dir), EXIT_CODE_FAILURE;
	return report(read, problems, k) ? EXIT_CODE_REFUSED : EXIT_CODE_OK;
}
