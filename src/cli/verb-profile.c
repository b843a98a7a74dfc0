/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov profiles, gpuprov show NAME */
#include <errno.h>

#include "util/json.h"
#include "cli.h"
#include "host/facts.h"
#include "profile/framework.h"
#include "profile/knowledge-source.h"
#include "profile/profile.h"
#include "util/log.h"
#include "util/strutil.h"

const char verb_profiles_usage[] = "[--json]\n"
				   "List the profiles, site and shipped, and whether each fits this machine.\n"
				   "  --json   as JSON\n";
const char verb_show_usage[] = "NAME\n"
			       "Print profile NAME fully resolved for this machine: includes merged,\n"
			       "overrides for this architecture and OS applied, and each framework's chain\n"
			       "to its driver floor. Always JSON.\n";

int verb_profiles(struct cli *cli, _unused_ const struct verb *self, _unused_ int argc, _unused_ char **argv)
{
	_cleanup_(facts_freep) struct facts *f = NULL;
	struct profile_dirs dirs = {};
	_cleanup_(profile_dirs_closep) struct profile_dirs *d = NULL;
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	struct profile_info *list = NULL;
	size_t n = 0;
	int r, k;

	if ((r = cli_detect(cli, false, &f)) != EXIT_CODE_OK || (r = cli_profile_dirs(cli, &dirs)) != EXIT_CODE_OK)
		return r;
	d = &dirs;
	k = profile_list(d, &list, &n);
	if (k < 0)
		return log_error_errno(k, "cannot list profiles"), EXIT_CODE_FAILURE;
	doc = cJSON_CreateArray();
	for (size_t i = 0; i < n && doc; i++) {
		_cleanup_(profile_freep) struct profile *p = NULL;
		_cleanup_free_ char *why = NULL, *err = NULL;
		struct profile_error e = {};
		cJSON *o = cJSON_CreateObject();
		bool fits = false;

		k = profile_load(d, list[i].name, f, &p, &e);
		if (k >= 0)
			fits = profile_matches(p, f, &why);
		else
			err = profile_error_format(&e);
		profile_error_clear(&e);
		if (!o || !cJSON_AddItemToArray(doc, o) || !cJSON_AddStringToObject(o, "name", list[i].name) ||
		    !cJSON_AddStringToObject(o, "description", strna(list[i].description)) ||
		    !cJSON_AddStringToObject(o, "origin", list[i].site ? "site" : "shipped") ||
		    !cJSON_AddStringToObject(o, "file", strna(list[i].file)) ||
		    !(err ? cJSON_AddStringToObject(o, "error", err) : cJSON_AddBoolToObject(o, "matches", fits)) ||
		    !json_add_str_or_null(o, "why_not", why)) {
			profile_info_free(list, n);
			return log_error_errno(-ENOMEM, "cannot list profiles"), EXIT_CODE_FAILURE;
		}
	}
	profile_info_free(list, n);
	if (!doc)
		return EXIT_CODE_FAILURE;
	if (cli->json)
		return cli_print_json(TAKE_PTR(doc));

	for (const cJSON *o = doc->child; o; o = o->next) {
		const char *err = cJSON_GetStringValue(cJSON_GetObjectItem(o, "error"));
		const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(o, "why_not"));

		printf("%-16s %-7s %-8s %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(o, "name")),
		       cJSON_GetStringValue(cJSON_GetObjectItem(o, "origin")),
		       err ? "invalid" : cJSON_IsTrue(cJSON_GetObjectItem(o, "matches")) ? "fits" : "-",
		       cJSON_GetStringValue(cJSON_GetObjectItem(o, "description")));
		if (err)
			printf("%-16s %s\n", "", err);
		else if (why)
			printf("%-16s not for this machine: %s\n", "", why);
	}
	return EXIT_CODE_OK;
}

/* Each framework's chain to its driver floor, from the knowledge alone: what the machine
 * makes of it is plan's. A chain the knowledge cannot work out says why instead. */
static int show_frameworks(struct cli *cli, const struct profile_dirs *d, const struct profile *p, cJSON *doc)
{
	_cleanup_(knowledge_in_use_done) struct knowledge_in_use kn = {};
	cJSON *list = cJSON_AddArrayToObject(doc, "frameworks");
	const cJSON *item;
	int r;

	if (!list)
		return log_error_errno(-ENOMEM, "cannot show the profile"), EXIT_CODE_FAILURE;
	if ((r = cli_knowledge(cli, d, &kn)) != EXIT_CODE_OK)
		return r;
	cJSON_ArrayForEach(item, p->frameworks) {
		_cleanup_free_ char *why = NULL;
		struct fw_chain c;
		cJSON *o;
		int k = kn_framework_chain(kn.k, json_str(item, "name"), json_str(item, "version"), json_str(item, "variant"),
					   &c, &why);

		if (k == -ENOENT) {
			o = cJSON_CreateObject();
			if (o && (!json_add_str_or_null(o, "name", json_str(item, "name")) ||
				  !json_add_str_or_null(o, "version", json_str(item, "version")) ||
				  !json_add_str_or_null(o, "error", why)))
				o = (cJSON_Delete(o), NULL);
		} else if (k < 0)
			o = NULL;
		else {
			o = fw_chain_json(&c);
			fw_chain_done(&c);
		}
		if (!o || !cJSON_AddItemToArray(list, o)) {
			cJSON_Delete(o);
			return log_error_errno(-ENOMEM, "cannot show the profile"), EXIT_CODE_FAILURE;
		}
	}
	return EXIT_CODE_OK;
}

int verb_show(struct cli *cli, _unused_ const struct verb *self, _unused_ int argc, char **argv)
{
	_cleanup_(facts_freep) struct facts *f = NULL;
	_cleanup_(profile_freep) struct profile *p = NULL;
	struct profile_dirs dirs = {};
	_cleanup_(profile_dirs_closep) struct profile_dirs *d = NULL;
	cJSON *doc, *chain;
	int r;

	r = cli_load_profile(cli, argv[0], &f, &dirs, &p);
	d = &dirs;
	if (r != EXIT_CODE_OK)
		return r;
	/* What was applied, then the settings: a document a person can read top down. */
	doc = cJSON_CreateObject();
	chain = cJSON_CreateStringArray((const char *const *)p->chain, (int)strv_length(p->chain));
	if (!doc || !cJSON_AddStringToObject(doc, "name", p->name) ||
	    !cJSON_AddStringToObject(doc, "description", p->description) ||
	    !cJSON_AddStringToObject(doc, "file", strna(p->file)) || !chain ||
	    !cJSON_AddItemToObject(doc, "profiles_applied", chain) ||
	    !cJSON_AddItemToObject(doc, "match", p->match ? cJSON_Duplicate(p->match, true) : cJSON_CreateObject()) ||
	    !cJSON_AddItemToObject(doc, "settings", cJSON_Duplicate(p->doc, true))) {
		cJSON_Delete(doc);
		return log_error_errno(-ENOMEM, "cannot show the profile"), EXIT_CODE_FAILURE;
	}
	if (p->frameworks && (r = show_frameworks(cli, d, p, doc)) != EXIT_CODE_OK) {
		cJSON_Delete(doc);
		return r;
	}
	return cli_print_json(doc);
}
