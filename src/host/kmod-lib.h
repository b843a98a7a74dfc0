/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <libkmod.h>

#include "util/dynlib.h"
#include "util/macro.h"

/*
 * libkmod, loaded by the first module detect cannot read itself (dynlib.h): a compressed
 * nvidia.ko.zst or .ko.xz, or a module directory without a text modules.dep. libkmod maps
 * libcrypto, liblzma and libzstd with it, which a detect of plain modules never needs.
 */
#define KMOD_FUNCTIONS(X)                  \
	X(kmod_new)                        \
	X(kmod_unref)                      \
	X(kmod_set_log_fn)                 \
	X(kmod_list_next)                  \
	X(kmod_module_new_from_lookup)     \
	X(kmod_module_unref_list)          \
	X(kmod_module_get_module)          \
	X(kmod_module_get_path)            \
	X(kmod_module_unref)               \
	X(kmod_module_get_info)            \
	X(kmod_module_info_free_list)      \
	X(kmod_module_info_get_key)        \
	X(kmod_module_info_get_value)

#define KMOD_LIB_MEMBER(f) __typeof__(f) *f;
struct kmod_lib {
	KMOD_FUNCTIONS(KMOD_LIB_MEMBER)
};
#undef KMOD_LIB_MEMBER

/* The table, valid once dynlib_need(&libkmod, ...) returned 0. */
extern struct kmod_lib kmod_fn;
extern struct dynlib libkmod;
