/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <cjson/cJSON.h>

/*
 * gpuprov's keys in a JSON file that is someone else's (docker's daemon.json): only those
 * keys are added, changed or taken out; every other key stays as the admin wrote it. A record
 * of which keys are gpuprov's, {"created": BOOL, "keys": [{"path": ["runtimes", "nvidia"],
 * "value": ...}, ...]}, is kept beside the file's backup (MANAGED_BACKUP_DIR/<path>.keys,
 * managed.h), so that a later merge knows its own values and revert takes out only them.
 */

/* What the record's name adds to the file's path under the backup directory. */
#define JSON_KEYS_RECORD ".keys"

/*
 * The file at path (shown in messages) with gpuprov's keys merged in. old: its text, NULL
 * when there is none. want: [{"path": [...], "value": ...}], the keys the profile asks for.
 * record: the last record's text, NULL when none. A key that is there with another value
 * and is not gpuprov's (the record does not say gpuprov set it) is a conflict: -GPE_REFUSED,
 * and so is text that is no JSON object (ret_error names the file, line and column).
 * ret_content: the new text; ret_record: the new record's text, NULL when no key is
 * gpuprov's any more.
 */
int json_keys_merge(const char *path, const char *old, const cJSON *want, const char *record, char **ret_content,
		    char **ret_record, char **ret_error);

/*
 * The file's text with gpuprov's keys taken out: each key the record names whose value is
 * still the one gpuprov set (an admin's later change to one is kept, and said in
 * ret_kept, a count), then each object left empty on its path. ret_remove: gpuprov created
 * the file and nothing else is left in it. Text that is no JSON object is -GPE_REFUSED.
 */
int json_keys_unmerge(const char *path, const char *old, const char *record, char **ret_content, bool *ret_remove,
		      unsigned *ret_kept, char **ret_error);
