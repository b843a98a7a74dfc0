/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "host/facts.h"
#include "profile/knowledge.h"
#include "profile/profile.h"
#include "util/spawn.h"

/* A package at an exact version (NULL: the repository's candidate, for the profile's extras). */
struct pkg_want {
	const char *name;
	const char *version;
};

/*
 * What every backend call gets. Under a --root other than "/", apt and the runfile
 * installers run inside the target (chroot) and dnf with --installroot, as an installer's
 * in-target step would.
 */
struct pkg_ctx {
	const struct root *root;
	const struct facts *facts;
	const struct profile *profile;
	const struct knowledge *knowledge;
	const char *kernel;  /* the resolved kernel release: runfile DKMS builds for it */
	const char *flavour; /* "open" or "proprietary" kernel modules */
	const char *branch;  /* the driver branch: dnf enables its module stream */
	char *error; /* why the last call failed: the command and what it said */
};

/*
 * One interface, three backends (STYLE: a table chosen once from the facts). Every call
 * returns >= 0 or a negative error and then sets ctx->error.
 */
struct pkg_backend {
	const char *name;
	/* Fetches the repositories' metadata, so the view offers what they offer now. */
	int (*refresh)(struct pkg_ctx *c);
	/* Refuses before anything is installed: the whole transaction, tried without changes. */
	int (*preflight)(struct pkg_ctx *c, const struct pkg_want *w, size_t n);
	/* Installs exact versions, non-interactively, in one transaction where it can. */
	int (*install)(struct pkg_ctx *c, const struct pkg_want *w, size_t n);
	/* Holds installed packages at their version; so nothing but gpuprov moves them. */
	int (*hold)(struct pkg_ctx *c, const struct pkg_want *w, size_t n);
	int (*unhold)(struct pkg_ctx *c, const struct pkg_want *w, size_t n);
	/* Keeps a kernel release installed and bootable whatever autoremove or a limit says. */
	int (*keep_kernel)(struct pkg_ctx *c, const char *release);
	/* The installed version, or 0 and NULL when not installed. */
	int (*installed)(struct pkg_ctx *c, const char *name, char **ret_version);
	/* Removes what was installed (runfile: the installer's own uninstall). */
	int (*remove)(struct pkg_ctx *c, const struct pkg_want *w, size_t n);
	/* Offline bundles (bundle create): the wanted packages' files, with what they need
	 * that the root lacks, into dir (inside the root) without installing them. NULL: the
	 * backend cannot. */
	int (*download)(struct pkg_ctx *c, const struct pkg_want *w, size_t n, const char *dir);
	/* Makes dir a repository the backend installs from with no network (apt: Packages).
	 * ret_files: every file of the repository, relative to dir, sorted. */
	int (*index)(struct pkg_ctx *c, const char *dir, char ***ret_files);
};

extern const struct pkg_backend pkg_apt, pkg_dnf, pkg_runfile;

/* "apt", "dnf", "runfile" -> the backend; NULL for an unknown name. */
const struct pkg_backend *pkg_backend_by_name(const char *name);
/* The OS's package manager from the facts (the runfile backend is chosen per package). */
const struct pkg_backend *pkg_backend_for(const struct facts *f);

void pkg_ctx_done(struct pkg_ctx *c);

/* Whether the profile asks for recommended (apt) or weak (dnf) dependencies too. */
bool pkg_want_recommends(const struct pkg_ctx *c);

/* Appends each want to an argv: "name<sep>version" ("=" for apt, "-" for dnf), or the name
 * alone where sep is NULL or the want has no version. */
int pkg_push_wants(char ***argv, const struct pkg_want *w, size_t n, const char *sep);

/*
 * Refuses, naming the versions there are, unless every want is offered: offers is what the
 * repositories answered, as "name", "version" pairs in one strv. The backends differ only in
 * how they ask (apt-cache madison, dnf repoquery).
 */
int pkg_check_offered(struct pkg_ctx *c, const struct pkg_want *w, size_t n, char *const *offers);

/* The Packages stanza of the .deb dir/file (inside root), its Filename relative to dir;
 * -GPE_LIBRARY when libarchive cannot be loaded. */
int deb_index_entry(const struct root *root, const char *dir, const char *file, char **ret_stanza);

/* apply --bundle: the runfiles unpacked in dir go where the runfile backend looks before it
 * fetches (hard links); preflight checks their SHA-256 there as it would a download's. */
int runfile_adopt(struct pkg_ctx *c, const char *dir);

/* The files in dir (inside the root) whose names end with suffix, sorted. */
int pkg_list_files(struct pkg_ctx *c, const char *dir, const char *suffix, char ***ret);

/* Records why a call failed and returns error. */
int pkg_fail(struct pkg_ctx *c, int error, const char *fmt, ...) _printf_(3, 4);
/* Runs a command; a non-zero exit becomes -GPE_COMMAND with the command and its stderr in
 * ctx->error. ret (optional) gets the output; the caller frees it with spawn_result_done. */
int pkg_run(struct pkg_ctx *c, unsigned flags, char *const argv[], char *const env[], struct spawn_result *ret);
