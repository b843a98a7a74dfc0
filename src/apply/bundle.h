/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "host/facts.h"
#include "net/bundle.h"
#include "pkg/pkg.h"

/* The package sources apply --bundle writes (managed files: revert removes them). */
#define BUNDLE_APT_LIST "etc/apt/sources.list.d/gpuprov-bundle.list"
#define BUNDLE_DNF_REPO "etc/yum.repos.d/gpuprov-bundle.repo"

/* -GPE_REFUSED, saying why, unless the bundle was made for this profile, OS, architecture
 * and package manager. */
int bundle_fits(const struct bundle_manifest *m, const char *profile, const struct facts *f, char **ret_error);

/*
 * Makes the bundle unpacked in BUNDLE_DIR/<name> the node's package source: an apt list or
 * a dnf repository file pointing there, and its runfiles where the runfile backend looks
 * before it fetches. The backends then install from it with no network.
 */
int bundle_use(struct pkg_ctx *c, const struct bundle_manifest *m);
