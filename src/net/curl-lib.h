/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The functions are called through pointers, where curl.h's checks of curl_easy_setopt's
 * argument types (macros of the functions' names) cannot follow. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "util/dynlib.h"

/*
 * libcurl, loaded by the first transfer (dynlib.h): the functions fetch.c calls, by their
 * own names.
 */
#define CURL_FUNCTIONS(X)           \
	X(curl_easy_init)           \
	X(curl_easy_cleanup)        \
	X(curl_easy_setopt)         \
	X(curl_easy_getinfo)        \
	X(curl_easy_strerror)       \
	X(curl_multi_init)          \
	X(curl_multi_cleanup)       \
	X(curl_multi_add_handle)    \
	X(curl_multi_remove_handle) \
	X(curl_multi_perform)       \
	X(curl_multi_info_read)     \
	X(curl_multi_poll)          \
	X(curl_multi_wakeup)

#define CURL_LIB_MEMBER(f) __typeof__(f) *f;
struct curl_lib {
	CURL_FUNCTIONS(CURL_LIB_MEMBER)
};
#undef CURL_LIB_MEMBER

/* The table, valid once dynlib_need(&libcurl, ...) returned 0. */
extern struct curl_lib curl_fn;
extern struct dynlib libcurl;
