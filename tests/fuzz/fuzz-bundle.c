/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A bundle as apply --bundle unpacks it: the input is the whole tar archive. When it begins
 * with manifest.json and manifest.sig, the harness signs that manifest again with its
 * trusted key and keeps every byte after the signature's entry as it is, so that the file
 * entries (paths, links, sizes, sparse files, digests, truncation) reach the reader, which
 * unpacks them into the fake root; nothing may land outside its bundle directory. Any
 * other input is read as it is.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "net/sign.h"
#include "signed-bundle.h"
#include "util/strutil.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_read_free)

/* The manifest's bytes and where the entry after the signature begins, when the archive
 * begins with the two. */
static bool split(const uint8_t *data, size_t size, char **ret_manifest, size_t *ret_len, size_t *ret_rest)
{
	_cleanup_(archive_read_freep) struct archive *a = archive_read_new();
	_cleanup_free_ char *manifest = NULL;
	struct archive_entry *e;
	la_int64_t len;

	if (!a || archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open_memory(a, data, size) != ARCHIVE_OK)
		return false;
	if (archive_read_next_header(a, &e) != ARCHIVE_OK || !streq_ptr(archive_entry_pathname(e), BUNDLE_MANIFEST) ||
	    (len = archive_entry_size(e)) < 0 || (size_t)len > size || !(manifest = malloc((size_t)len + 1)) ||
	    archive_read_data(a, manifest, (size_t)len) != len)
		return false;
	if (archive_read_next_header(a, &e) != ARCHIVE_OK || !streq_ptr(archive_entry_pathname(e), BUNDLE_SIGNATURE) ||
	    archive_read_data_skip(a) != ARCHIVE_OK)
		return false;
	/* Skipping consumed the signature's data and padding: this is the next header's offset. */
	*ret_rest = (size_t)archive_filter_bytes(a, 0);
	if (*ret_rest > size)
		return false;
	*ret_len = (size_t)len;
	*ret_manifest = TAKE_PTR(manifest);
	return true;
}

/* Once the bundle's directory is removed again, what the fake root may hold: its key, and
 * the directories above BUNDLE_DIR. Anything else came from an entry that escaped. */
static const char *const tree[] = { "etc", "etc/gpuprov", "etc/gpuprov/keys.d", SIGN_KEYS_DIR "/fuzz.pub",
				    "var", "var/lib", "var/lib/gpuprov", NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *manifest = NULL;
	_cleanup_free_ uint8_t *bundle = NULL;
	size_t len, rest, bundle_size;

	if (!split(data, size, &manifest, &len, &rest))
		fuzz_bundle_read(data, size, true, NULL);
	else {
		fuzz_bundle_sign(manifest, len, data + rest, size - rest, &bundle, &bundle_size);
		fuzz_bundle_read(bundle, bundle_size, true, NULL);
	}
	fuzz_check_tree(tree);
	return 0;
}
