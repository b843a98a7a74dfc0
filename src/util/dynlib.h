/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Libraries loaded on first use (dlopen) instead of at exec: libcurl and libarchive pull in
 * some thirty others (TLS, Kerberos, LDAP, ICU, the C++ runtime), which every run would map
 * and relocate, while only the verbs that fetch or unpack call them; libcrypto and libkmod
 * (which maps libcrypto, liblzma and libzstd) likewise serve only the verbs that hash or
 * check signatures and a detect that meets a compressed module. Each such library has
 * one table of pointers to the functions gpuprov calls (their types from the library's own
 * headers), filled all at once by the first load: a library that lacks one of them is
 * refused then, not halfway through a transfer.
 */

struct dynlib_sym {
	const char *name;
	size_t offset; /* of its pointer in the library's table */
};

/* One library: its constants, then what loading it found. */
struct dynlib {
	const char *name;   /* "libcurl", as messages call it */
	const char *soname; /* "libcurl.so.4": configure's, from the library it built against */
	const char *rpm;    /* the package that holds it on RHEL and openEuler */
	const char *deb;    /* Debian's, where it is not named after the soname (NULL: it is) */
	const struct dynlib_sym *syms;
	size_t n_syms;
	void *table; /* the pointers; written only by a load that found every one */
	bool tried;
	void *handle;
	char *error; /* why it cannot be loaded (dlerror's text), after a load that failed */
};

/* The table entry of function f, whose pointer is the member f of type. */
#define DYNLIB_SYM(type, f) { #f, offsetof(type, f) }

/*
 * Loads l, once: 0 when its table is ready, else -GPE_LIBRARY, every time after the first
 * failure too, and *ret_error (when ret_error is not NULL) says what could not be done and
 * what to install: "<need> needs libcurl (libcurl.so.4): <why>; install libcurl4 (Debian,
 * Ubuntu) or libcurl (RHEL, openEuler)". need: what the caller was doing ("fetching").
 */
int dynlib_need(struct dynlib *l, const char *need, char **ret_error);
