/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov's keys merged into, and taken out of, a JSON file others own (daemon.json). */
#include <errno.h>

#include "files/json-keys.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/jsonpath.h"
#include "util/strutil.h"

/* The keys gpuprov sets are a few levels deep ("runtimes" -> "nvidia"). */
#define PATH_MAX_DEPTH 8

/* text as a JSON object, or -GPE_REFUSED naming where it stops being JSON. */
static int parse_object(const char *path, const char *text, cJSON **ret, char **ret_error)
{
	const char *end = NULL;
	cJSON *doc = cJSON_ParseWithOpts(text, &end, true);
	struct jsonpos pos;

	if (doc && cJSON_IsObject(doc)) {
		*ret = doc;
		return 0;
	}
	cJSON_Delete(doc);
	if (doc)
		return gp_error_set(ret_error, -GPE_REFUSED, "%s: not a JSON object; gpuprov changes nothing in it", path);
	pos = jsonpos_of(text, end ? (size_t)(end - text) : 0);
	return gp_error_set(ret_error, -GPE_REFUSED,
			    "%s:%u:%u: not valid JSON; gpuprov changes nothing in it: correct the file, then run again",
			    path, pos.line, pos.column);
}

/* "runtimes.nvidia": a key's path as messages show it. */
static void path_show(const cJSON *keys, char *buf, size_t size)
{
	const cJSON *k;
	size_t len = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(k, keys)
		if (cJSON_IsString(k) && len < size)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "." : "", k->valuestring);
}

/* The value at keys, or NULL; ret_blocked: a key on the way holds something else than an
 * object, so the value cannot be there. */
static cJSON *lookup(cJSON *doc, const cJSON *keys, bool *ret_blocked)
{
	const cJSON *k;
	cJSON *o = doc;

	*ret_blocked = false;
	cJSON_ArrayForEach(k, keys) {
		if (!cJSON_IsObject(o)) {
			*ret_blocked = true;
			return NULL;
		}
		if (!cJSON_IsString(k) || !(o = cJSON_GetObjectItemCaseSensitive(o, k->valuestring)))
			return NULL;
	}
	return o;
}

/* Sets the value at keys, making the objects on the way; value is taken over. */
static int set_path(cJSON *doc, const cJSON *keys, cJSON *value)
{
	const cJSON *k;
	cJSON *o = doc;

	cJSON_ArrayForEach(k, keys) {
		cJSON *next = cJSON_GetObjectItemCaseSensitive(o, k->valuestring);

		if (!k->next) {
			if (next ? !cJSON_ReplaceItemInObjectCaseSensitive(o, k->valuestring, value)
				 : !cJSON_AddItemToObject(o, k->valuestring, value)) {
				cJSON_Delete(value);
				return -ENOMEM;
			}
			return 0;
		}
		if (!next && !(next = cJSON_AddObjectToObject(o, k->valuestring)))
			break;
		o = next;
	}
	cJSON_Delete(value);
	return -ENOMEM;
}

/* Takes the value at keys out, then every object on its path left empty, deepest first. */
static void delete_path(cJSON *doc, const cJSON *keys)
{
	cJSON *chain[PATH_MAX_DEPTH + 1] = { doc };
	const cJSON *names[PATH_MAX_DEPTH] = {};
	const cJSON *k;
	size_t n = 0;

	cJSON_ArrayForEach(k, keys) {
		if (n == PATH_MAX_DEPTH || !cJSON_IsObject(chain[n]))
			return;
		names[n] = k;
		chain[n + 1] = cJSON_GetObjectItemCaseSensitive(chain[n], k->valuestring);
		if (!chain[++n])
			return;
	}
	while (n-- > 0) {
		cJSON_DeleteItemFromObjectCaseSensitive(chain[n], names[n]->valuestring);
		if (n == 0 || cJSON_GetArraySize(chain[n]) > 0)
			break;
	}
}

/* The record's entry for the key at keys, or NULL. */
static const cJSON *record_entry(const cJSON *record, const cJSON *keys)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(record, "keys"))
		if (cJSON_Compare(cJSON_GetObjectItemCaseSensitive(e, "path"), keys, true))
			return e;
	return NULL;
}

/* The document's text as gpuprov writes it: indented by two spaces, as docker's own
 * examples are, ending with a newline. cJSON indents with tabs and puts one after each
 * colon; a tab inside a string it writes as \t, so every tab it prints is layout. */
static char *print_doc(const cJSON *doc)
{
	_cleanup_free_ char *s = cJSON_Print(doc);
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (!s || !(f = open_memstream(&out, &len)))
		return NULL;
	for (const char *c = s; *c; c++)
		fputs(*c != '\t' ? (char[]){ *c, '\0' } : c > s && c[-1] == ':' ? " " : "  ", f);
	fputc('\n', f);
	if (fclose(f) != 0)
		return mfree(out);
	return out;
}

static int parse_record(const char *text, cJSON **ret)
{
	cJSON *r;

	if (!text) {
		*ret = NULL;
		return 0;
	}
	r = cJSON_Parse(text);
	if (!cJSON_IsObject(r) || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(r, "keys"))) {
		cJSON_Delete(r);
		return -GPE_PARSE;
	}
	*ret = r;
	return 0;
}

int json_keys_merge(const char *path, const char *old, const cJSON *want, const char *record, char **ret_content,
		    char **ret_record, char **ret_error)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL, *rec = NULL, *next = cJSON_CreateObject();
	cJSON *keys;
	const cJSON *w, *e;
	bool changed = false, created;
	int k;

	if ((k = old ? parse_object(path, old, &doc, ret_error) : (doc = cJSON_CreateObject()) ? 0 : -ENOMEM) < 0)
		return k;
	if ((k = parse_record(record, &rec)) < 0)
		return gp_error_set(ret_error, k, "the record of gpuprov's keys in %s does not read", path);
	/* A file gpuprov created stays its creation until revert takes it away. */
	created = rec ? cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "created")) : !old;
	if (!next || !cJSON_AddBoolToObject(next, "created", created) || !(keys = cJSON_AddArrayToObject(next, "keys")))
		return -ENOMEM;
	cJSON_ArrayForEach(w, want) {
		const cJSON *kp = cJSON_GetObjectItemCaseSensitive(w, "path"), *v = cJSON_GetObjectItemCaseSensitive(w, "value");
		const cJSON *mine = record_entry(rec, kp);
		bool blocked, ours;
		cJSON *cur = lookup(doc, kp, &blocked);
		char shown[256];

		path_show(kp, shown, sizeof(shown));
		/* gpuprov's own value, or a value the admin set to just what gpuprov wants. */
		ours = !cur || (mine && cJSON_Compare(cur, cJSON_GetObjectItemCaseSensitive(mine, "value"), true));
		if (blocked || (cur && !ours && !cJSON_Compare(cur, v, true))) {
			_cleanup_free_ char *have = cur ? cJSON_PrintUnformatted(cur) : NULL, *wanted = cJSON_PrintUnformatted(v);

			return gp_error_set(ret_error, -GPE_REFUSED,
					    "%s: %s is %s, not gpuprov's, and the profile wants %s; gpuprov changes no value it "
					    "did not set: take %s out of the file (or make it %s), or change the profile",
					    path, shown, blocked ? "inside a value that is no object" : strna(have), strna(wanted),
					    shown, strna(wanted));
		}
		if (cur && !ours)
			continue; /* the admin's, already as wanted: left the admin's */
		if (!cJSON_Compare(cur, v, true)) {
			if ((k = set_path(doc, kp, cJSON_Duplicate(v, true))) < 0)
				return k;
			changed = true;
		}
		if (!cJSON_AddItemToArray(keys, cJSON_Duplicate(w, true)))
			return -ENOMEM;
	}
	/* Keys gpuprov set that the profile no longer asks for go, unless the admin changed them. */
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(rec, "keys")) {
		const cJSON *kp = cJSON_GetObjectItemCaseSensitive(e, "path");
		bool blocked, still_wanted = false;
		cJSON *cur = lookup(doc, kp, &blocked);

		cJSON_ArrayForEach(w, want)
			still_wanted |= cJSON_Compare(cJSON_GetObjectItemCaseSensitive(w, "path"), kp, true);
		if (!still_wanted && cur && cJSON_Compare(cur, cJSON_GetObjectItemCaseSensitive(e, "value"), true)) {
			delete_path(doc, kp);
			changed = true;
		}
	}
	/* Nothing to change: the file as the admin wrote it, not printed again. */
	if (!(*ret_content = changed || !old ? print_doc(doc) : strdup(old)))
		return -ENOMEM;
	*ret_record = NULL;
	if (cJSON_GetArraySize(keys) > 0 && !(*ret_record = print_doc(next))) {
		*ret_content = mfree(*ret_content);
		return -ENOMEM;
	}
	return 0;
}

int json_keys_unmerge(const char *path, const char *old, const char *record, char **ret_content, bool *ret_remove,
		      unsigned *ret_kept, char **ret_error)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL, *rec = NULL;
	const cJSON *e;
	unsigned kept = 0;
	int k;

	if ((k = parse_record(record, &rec)) < 0 || !rec)
		return gp_error_set(ret_error, -GPE_PARSE, "the record of gpuprov's keys in %s does not read", path);
	if ((k = parse_object(path, old, &doc, ret_error)) < 0)
		return k;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(rec, "keys")) {
		const cJSON *kp = cJSON_GetObjectItemCaseSensitive(e, "path");
		bool blocked;
		cJSON *cur = lookup(doc, kp, &blocked);

		if (cur && cJSON_Compare(cur, cJSON_GetObjectItemCaseSensitive(e, "value"), true))
			delete_path(doc, kp);
		else if (cur)
			kept++;
	}
	*ret_remove = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "created")) && cJSON_GetArraySize(doc) == 0;
	*ret_kept = kept;
	if (*ret_remove) {
		*ret_content = NULL;
		return 0;
	}
	return (*ret_content = print_doc(doc)) ? 0 : -ENOMEM;
}
