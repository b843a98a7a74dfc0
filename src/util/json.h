/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>

#include "macro.h"

/* What every module that builds or reads cJSON documents needs, once. */
DEFINE_TRIVIAL_CLEANUP_FUNC(cJSON *, cJSON_Delete)

/* A string member of an object, or NULL (missing, not a string, or not an object). */
static inline const char *json_str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* The first object of an array whose string member key is value, or NULL. */
static inline cJSON *json_find_by(const cJSON *array, const char *key, const char *value)
{
	cJSON *e;

	cJSON_ArrayForEach(e, array)
		if (value && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, key)) &&
		    !strcmp(json_str(e, key), value))
			return e;
	return NULL;
}

/* Adds key: v, or key: null where v is NULL (JSON readers see "none" as null, not absent). */
static inline cJSON *json_add_str_or_null(cJSON *o, const char *key, const char *v)
{
	return v ? cJSON_AddStringToObject(o, key, v) : cJSON_AddNullToObject(o, key);
}

/* Adds key: [strings of a NULL-terminated vector] to o. */
static inline int json_add_strv(cJSON *o, const char *key, char *const *v)
{
	cJSON *a = cJSON_AddArrayToObject(o, key);

	if (!a)
		return -ENOMEM;
	for (; v && *v; v++) {
		cJSON *s = cJSON_CreateString(*v);

		if (!s || !cJSON_AddItemToArray(a, s)) {
			cJSON_Delete(s);
			return -ENOMEM;
		}
	}
	return 0;
}

/* A member that must be a whole number in min..max (hand edits of state.json included), or
 * def: converting a double out of its type's range, or with a fraction, to an integer type
 * is not defined (C11 6.3.1.4), so nothing else is converted. */
static inline long long json_whole(const cJSON *o, const char *key, long long min, long long max, long long def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)min && v->valuedouble <= (double)max) ||
	    v->valuedouble != (double)(long long)v->valuedouble)
		return def;
	return (long long)v->valuedouble;
}
