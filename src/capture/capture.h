/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/root.h"

/*
 * A capture: a compressed tar of exactly the files detect, plan and check read on a node
 * (what root.h's recorder noted), which --root and --sysroot then take in place of a
 * directory. Its layout (doc/formats.md, "Captures"):
 *
 *	gpuprov-capture.json    the manifest, first: format, gpuprov's version, when, the
 *	                        node's hostname, every member and what was withheld
 *	root/...                the target filesystem, as --root reads it
 *	sysroot/...             /proc and /sys, only when they were read from another tree
 *	                        than the root (--sysroot); otherwise they are under root/
 *
 * Secrets are never archived, whatever read them (capture_withheld()).
 */

#define CAPTURE_MANIFEST "gpuprov-capture.json"
#define CAPTURE_FORMAT	 1

/* Limits, the same for writing and reading, so that a capture gpuprov writes it can read:
 * one member (a node's largest apt list or rpm database is a few hundred MiB at most), all
 * of them together, and how many. A capture past one is refused, not cut. */
#define CAPTURE_MEMBER_MAX   (256ull << 20)
#define CAPTURE_TOTAL_MAX    (2048ull << 20)
#define CAPTURE_MEMBERS_MAX  200000u
#define CAPTURE_MANIFEST_MAX (64u << 20)

/* Where a capture's compressed tar is written: zstd for a name ending in .zst, gzip for .gz. */
enum capture_compression { CAPTURE_ZSTD, CAPTURE_GZIP };
/* The compression a file name asks for; -EINVAL when it ends in neither. */
int capture_compression_for(const char *path, enum capture_compression *ret);

/* What the manifest says of the node besides its members. */
struct capture_info {
	const char *hostname; /* NULL: unknown */
	const char *profile;  /* the profile planned while recording; NULL: none */
};

/*
 * Writes the capture of what root's and sys's recorders noted (root_record_stop()) to path
 * on the host: a temporary file beside it, renamed over it once complete. When sys is the
 * same directory as root, one tree, root/. *ret_error: what failed, naming the member.
 */
int capture_write(const struct root *root, const struct root_record *root_rec, const struct root *sys,
		  const struct root_record *sys_rec, const char *path, const struct capture_info *info,
		  char **ret_error);

/* Whether a path inside the root is a secret that no capture holds: the node's password
 * hashes, SSH host and user keys, private keys, gpuprov's keys.d but its public keys, the
 * journal, /root and /home, environment files. doc/formats.md lists them. */
bool capture_withheld(const char *path);
/* Whether the content of a file is a private key (PEM, OpenSSH), wherever it lies. */
bool capture_is_private_key(const char *data, size_t size);

/* A capture unpacked into a private directory (mode 0700), removed by capture_free(). */
struct capture {
	char *file;       /* as it was given */
	char *dir;        /* the temporary directory */
	char *root;       /* dir/root */
	char *sysroot;    /* dir/sysroot, or dir/root when the capture has no sysroot/ */
	dev_t dev;        /* of the file: the same file given twice is unpacked once */
	ino_t ino;
	int guard;        /* capture_guard()'s end of its pipe, or -1 */
};

/*
 * Unpacks the capture at path (a regular file) into a new directory under tmpdir, treating
 * it as hostile: only the manifest, directories, regular files and symlinks under root/ or
 * sysroot/; no absolute path, no "..", no member through a symlink the archive made, none
 * twice; the limits above. Symlinks are made, never followed. On error nothing is left and
 * *ret_error names the member and the reason (the caller adds the capture's name):
 * -GPE_PARSE for a capture that is not one, is refused or is past a limit, -GPE_LIBRARY
 * when libarchive cannot be loaded, -errno otherwise.
 */
int capture_open(const char *path, const char *tmpdir, struct capture **ret, char **ret_error);
/* Has the directory removed when this process ends however it ends (a signal; SIGPIPE when
 * its reader, `| head`, stops reading), not only by capture_free(): a child process, in a
 * session of its own, waits for the end of a pipe only this process holds, then removes it. */
int capture_guard(struct capture *c);
/* Removes the directory and everything in it; accepts NULL, returns NULL. */
struct capture *capture_free(struct capture *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct capture *, capture_free)
