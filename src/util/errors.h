/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Functions return >= 0 on success, -errno on a system error, or -GPE_* for errors of
 * gpuprov's own domain. The base keeps them clear of every errno value.
 *
 * GP_ERRORS is the one list of gpuprov's own errors: each with its text (gp_strerror) and
 * what kind of stop it is (enum gp_exit), from which a verb's exit status follows
 * (exit_code_for, src/cli/cli.h). Every entry needs all three, so that a code without its
 * text or its kind does not compile.
 */
#define GP_ERRORS(X)                                                                                      \
	/* content does not have the expected format: bad input */                                        \
	X(PARSE, "unexpected format", USAGE)                                                               \
	/* a file or field is larger than gpuprov accepts */                                              \
	X(TOOBIG, "too large", FAILURE)                                                                    \
	/* a command (package manager, installer) failed */                                               \
	X(COMMAND, "command failed", FAILURE)                                                              \
	/* the repository or mirror does not offer what the plan needs: found before any change */        \
	X(UNAVAILABLE, "not offered by the repository", REFUSED)                                           \
	/* a download's SHA-256 is not the one expected: found before it is installed */                  \
	X(DIGEST, "SHA-256 does not match", REFUSED)                                                       \
	/* another gpuprov run holds the lock: nothing was changed */                                     \
	X(LOCKED, "another gpuprov run is in progress", REFUSED)                                           \
	/* a check before any change refused */                                                           \
	X(REFUSED, "refused before any change", REFUSED)                                                   \
	/* a signature verifies with no trusted key (or not with the one named) */                        \
	X(SIGNATURE, "signature does not verify", REFUSED)                                                 \
	/* signed by no key of the key directory (or the directory has none) */                           \
	X(UNKNOWN_KEY, "signed by a key not in the key directory", REFUSED)                                \
	/* a file gpuprov reads or replaces is a FIFO, device, socket or directory */                     \
	X(NOT_REGULAR, "not a regular file (a FIFO, device, socket or directory)", REFUSED)                \
	/* signed by a trusted key that is revoked or past its expiry */                                  \
	X(KEY_REVOKED, "signed by a key that is revoked or expired", REFUSED)                              \
	/* a bundle older than the one accepted before, expired, or undated */                            \
	X(STALE, "older than the bundle accepted before, or expired", REFUSED)                             \
	/* libcurl or libarchive, loaded when a verb first needs it, cannot be (or lacks a function) */   \
	X(LIBRARY, "a library gpuprov loads on use cannot be loaded", LIBRARY)

/* The kinds of stop, each one exit status of gpuprov(8): the core knows which kind an
 * error is, the command line which number that is. */
enum gp_exit {
	GP_EXIT_FAILURE, /* a hard failure; every errno value but those a verb names */
	GP_EXIT_USAGE,   /* bad usage or bad input */
	GP_EXIT_REFUSED, /* a safety or compatibility check refused; nothing changed */
	GP_EXIT_LIBRARY, /* a library the verb needs cannot be loaded; nothing changed */
};

#define GP_ERROR_ENUM(name, text, exit) GPE_##name,
enum {
	GPE_BASE = 1 << 12,
	GP_ERRORS(GP_ERROR_ENUM) GPE_MAX,
};
#undef GP_ERROR_ENUM

/* Like strerror(), for both -errno and -GPE_* values. Never returns NULL. */
const char *gp_strerror(int error);

/* The kind of stop error is: its entry's in GP_ERRORS, GP_EXIT_FAILURE for -errno. */
enum gp_exit gp_error_exit(int error);

/* What a check made before any change turns error into: a refusal (-GPE_REFUSED), unless
 * the error already has an exit status of its own that is not a plain failure (a package
 * not offered, bad input) or is running out of memory, which no check decides. */
int gp_error_refusal(int error);

#include <stdarg.h>

/* Replaces *msg with a formatted message (NULL when out of memory) and returns error: for
 * the error strings a core object keeps for its caller to report. */
int gp_error_setv(char **msg, int error, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
int gp_error_set(char **msg, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
