/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <cjson/cJSON.h>

#include "util/jsonpath.h"

/* Checks a parsed profile against the format of gpuprov-profile(5). On the first fault
 * returns -GPE_PARSE with the path of the culprit, whether the key itself (an unknown key)
 * or its value is at fault, and the message "expected ..., got ...". */
int profile_validate(const cJSON *doc, struct jsonpath *ret_path, int *ret_at_key, char **ret_message);

/* "550": a driver branch. "535.129.03": a driver version. "6.8", "12.4": a series. */
int valid_branch(const char *s);
int valid_driver_version(const char *s);
int valid_series(const char *s);
