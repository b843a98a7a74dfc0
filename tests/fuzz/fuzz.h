/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What the libFuzzer harnesses share. Most of gpuprov's parsers read through a struct root,
 * as detect and apply do on a real target: a harness writes its input as a file in a fake
 * root (one per process, made on first use under $TMPDIR and removed at exit) and calls the
 * same reader the program calls. A failure to set the fake root up aborts: that is a broken
 * harness, not a finding in gpuprov.
 */
#include <stddef.h>
#include <stdint.h>

#include "host/facts.h"
#include "util/root.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const struct root *fuzz_root(void);
/* Replaces the file at path inside the fake root with data; parents are made. */
void fuzz_put(const char *path, const void *data, size_t size);
/* Removes a file or a tree inside the fake root, as a harness does after each input. */
void fuzz_remove(const char *path);
/* Aborts, naming it, when the fake root holds a path not in allowed (NULL-terminated,
 * relative to its top, every directory listed): for readers that write, the proof that
 * nothing landed outside where they may write. */
void fuzz_check_tree(const char *const *allowed);
/* Stops the harness with a message: the set-up failed. */
_noreturn_ void fuzz_die(const char *what, int error);

/*
 * The facts of one plausible GPU node (Ubuntu 22.04 on x86_64, an H100, kernel
 * 6.8.0-49-generic running), for the parsers whose output is matched against a machine:
 * profile overrides, bundle_fits, rollback and check. Made once; callers must not change it.
 */
const struct facts *fuzz_facts(void);

/* A fresh detect context on the fake root (as --root and --sysroot), with empty facts. */
struct detect_ctx fuzz_detect_ctx(void);
void fuzz_detect_ctx_done(struct detect_ctx *ctx);
