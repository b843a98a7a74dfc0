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

/*
 * A bundle's freshness, as TUF and apk-tools judge theirs: a node records, per profile, the
 * newest bundle it accepted, and refuses an older one (a lower sequence), one past its
 * expiry, and one whose manifest proves no freshness (made by an older gpuprov), before
 * anything is unpacked: a superseded bundle, however validly signed, would install the old
 * driver. The record lives in BUNDLE_FRESHNESS_FILE; revert leaves it, for it is what
 * refuses a replayed bundle.
 */
#define BUNDLE_FRESHNESS_FILE "var/lib/gpuprov/bundle-freshness.json"

/* The record: an object of profiles, empty when there is none yet; -GPE_PARSE when the file
 * is not a JSON object. */
int bundle_freshness_load(const struct root *root, cJSON **ret);

/*
 * 0 when m may be taken: dated, not expired on today ("YYYY-MM-DD"), and not older than
 * record's newest for its profile (the same sequence is the same bundle again). Else
 * -GPE_STALE, ret_error naming the bundle, its sequence or expiry, and the recorded one;
 * with allow_older, 1 instead, ret_error saying what was let through.
 */
int bundle_fresh(const struct bundle_manifest *m, const cJSON *record, const char *today, bool allow_older,
		 char **ret_error);

/*
 * Records m as taken at when (a UTC time) and writes the record atomically: it becomes its
 * profile's newest when its sequence is higher; taken with allow_older (why: bundle_fresh's
 * message), it is added to the profile's "allowed_older" list, so that a deliberate
 * downgrade stays on the node's record.
 */
int bundle_freshness_save(const struct root *root, cJSON *record, const struct bundle_manifest *m, const char *when,
			  const char *allowed_older_why);
