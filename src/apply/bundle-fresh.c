/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whether an offline bundle is fresh: signed dates and a sequence, judged against the newest
 * bundle this node accepted for the profile (apply/bundle.h). */
#include <errno.h>

#include "apply/bundle.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/write.h"

/* A few profiles, each with a short list of deliberate downgrades. */
#define FRESHNESS_MAX (1u << 20)

int bundle_freshness_load(const struct root *root, cJSON **ret)
{
	_cleanup_free_ char *text = NULL;
	cJSON *doc;
	int k = root_read_file(root, BUNDLE_FRESHNESS_FILE, FRESHNESS_MAX, &text, NULL);

	if (k == -ENOENT)
		doc = cJSON_CreateObject();
	else if (k < 0)
		return k;
	else if (!cJSON_IsObject(doc = cJSON_Parse(text))) {
		cJSON_Delete(doc);
		return -GPE_PARSE;
	}
	if (!doc)
		return -ENOMEM;
	*ret = doc;
	return 0;
}

/* The profile's newest sequence recorded, or 0 for none. */
static uint64_t newest_sequence(const cJSON *entry)
{
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(entry, "sequence");

	return cJSON_IsNumber(seq) && seq->valuedouble >= 1 ? (uint64_t)seq->valuedouble : 0;
}

/* Why m is not fresh, or 0 when it is. */
static int stale_why(const struct bundle_manifest *m, const cJSON *entry, const char *today, char **ret_error)
{
	uint64_t newest = newest_sequence(entry);

	if (!m->dated)
		return gp_error_set(ret_error, -GPE_STALE,
				    "bundle %s has no signed created, expires and sequence (made by an older gpuprov): "
				    "nothing shows it is not a superseded one",
				    m->name);
	if (strcmp(today, m->expires) > 0)
		return gp_error_set(ret_error, -GPE_STALE, "bundle %s (sequence %llu) expired on %s; today is %s", m->name,
				    (unsigned long long)m->sequence, m->expires, today);
	if (m->sequence < newest)
		return gp_error_set(ret_error, -GPE_STALE,
				    "bundle %s has sequence %llu, older than sequence %llu (bundle %s, created %s) accepted "
				    "for profile %s on %s",
				    m->name, (unsigned long long)m->sequence, (unsigned long long)newest,
				    strna(json_str(entry, "bundle")), strna(json_str(entry, "created")), m->profile,
				    strna(json_str(entry, "accepted")));
	return 0;
}

int bundle_fresh(const struct bundle_manifest *m, const cJSON *record, const char *today, bool allow_older,
		 char **ret_error)
{
	_cleanup_free_ char *why = NULL;
	int k = stale_why(m, cJSON_GetObjectItemCaseSensitive(record, m->profile), today, &why);

	if (k < 0 && allow_older)
		return gp_error_set(ret_error, 1, "%s", why);
	if (k < 0)
		return gp_error_set(ret_error, k, "%s; refused (--allow-older takes it deliberately)", why);
	return 0;
}

/* The fields that say which bundle an entry is about. */
static int describe(cJSON *o, const struct bundle_manifest *m, const char *when)
{
	if (!cJSON_AddStringToObject(o, "bundle", m->name) || !json_add_str_or_null(o, "created", m->created) ||
	    !json_add_str_or_null(o, "expires", m->expires) || !json_add_str_or_null(o, "key_id", m->key_id) ||
	    !cJSON_AddStringToObject(o, "accepted", when))
		return -ENOMEM;
	if (m->dated ? !cJSON_AddNumberToObject(o, "sequence", (double)m->sequence) : !cJSON_AddNullToObject(o, "sequence"))
		return -ENOMEM;
	return 0;
}

int bundle_freshness_save(const struct root *root, cJSON *record, const struct bundle_manifest *m, const char *when,
			  const char *allowed_older_why)
{
	cJSON *entry = cJSON_GetObjectItemCaseSensitive(record, m->profile), *list, *o;
	_cleanup_free_ char *text = NULL, *line = NULL;
	int k;

	if (!cJSON_IsObject(entry)) {
		cJSON_DeleteItemFromObjectCaseSensitive(record, m->profile);
		if (!(entry = cJSON_AddObjectToObject(record, m->profile)))
			return -ENOMEM;
	}
	if (m->dated && m->sequence > newest_sequence(entry)) {
		/* The newest's own fields, replaced; the list of downgrades stays. */
		list = cJSON_DetachItemFromObjectCaseSensitive(entry, "allowed_older");
		while (entry->child)
			cJSON_Delete(cJSON_DetachItemViaPointer(entry, entry->child));
		if ((k = describe(entry, m, when)) < 0 || (list && !cJSON_AddItemToObject(entry, "allowed_older", list))) {
			cJSON_Delete(list);
			return -ENOMEM;
		}
	}
	if (allowed_older_why) {
		list = cJSON_GetObjectItemCaseSensitive(entry, "allowed_older");
		if (!cJSON_IsArray(list)) {
			cJSON_DeleteItemFromObjectCaseSensitive(entry, "allowed_older");
			list = cJSON_AddArrayToObject(entry, "allowed_older");
		}
		if (!list || !(o = cJSON_CreateObject()))
			return -ENOMEM;
		if (!cJSON_AddItemToArray(list, o) || (k = describe(o, m, when)) < 0 ||
		    !cJSON_AddStringToObject(o, "why", allowed_older_why))
			return -ENOMEM;
	}
	if (!(text = cJSON_Print(record)) || asprintf(&line, "%s\n", text) < 0)
		return -ENOMEM;
	return root_write_atomic(root, BUNDLE_FRESHNESS_FILE, line, strlen(line), 0644);
}
