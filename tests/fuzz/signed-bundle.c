/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bundles signed by the harness's own trusted key, read by bundle_read (signed-bundle.h). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "net/sign.h"
#include "signed-bundle.h"
#include "util/strutil.h"
#include "util/write.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_write_free)

static EVP_PKEY *key;

static void key_free(void)
{
	EVP_PKEY_free(key);
	key = NULL;
}

/* Made once: a fixed key, so that one input reads the same in every run. */
static EVP_PKEY *trusted_key(void)
{
	static const unsigned char seed[32] = "gpuprov fuzzing key, test only.";
	BIO *mem;
	char *pem;
	long len;

	int k;

	if (key)
		return key;
	/* The key is made here with libcrypto linked; gpuprov signs with it through the table of
	 * the copy it loads on use (net/crypto-lib.h), the same library. */
	if ((k = dynlib_need(&libcrypto, "signing the harness's bundles", NULL)) < 0)
		fuzz_die("libcrypto", k);
	if (!(key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed))))
		fuzz_die("Ed25519 key", -EINVAL);
	atexit(key_free);
	if (!(mem = BIO_new(BIO_s_mem())) || !PEM_write_bio_PUBKEY(mem, key) ||
	    (len = BIO_get_mem_data(mem, &pem)) <= 0)
		fuzz_die("public key", -ENOMEM);
	fuzz_put(SIGN_KEYS_DIR "/fuzz.pub", pem, (size_t)len);
	BIO_free(mem);
	return key;
}

/* One regular file entry, its data padded to the archive's 512-byte blocks. */
static void write_entry(struct archive *w, const char *name, const void *data, size_t size)
{
	struct archive_entry *e = archive_entry_new();

	if (!e)
		fuzz_die("archive entry", -ENOMEM);
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	if (archive_write_header(w, e) != ARCHIVE_OK ||
	    (size && archive_write_data(w, data, size) != (la_ssize_t)size) ||
	    archive_write_finish_entry(w) != ARCHIVE_OK)
		fuzz_die(archive_error_string(w) ?: name, -EIO);
	archive_entry_free(e);
}

void fuzz_bundle_sign(const void *manifest, size_t manifest_size, const void *rest, size_t rest_size,
		      uint8_t **ret, size_t *ret_size)
{
	/* Two entries' headers (pax: with an extended header each) and padding, the end's two
	 * blocks which archive_write_free adds past what is kept, and a whole last block. */
	size_t cap = manifest_size + SIGN_SIG_LEN + 8 * 1024 + 10240 + rest_size;
	unsigned char sig[SIGN_SIG_LEN];
	uint8_t *buf = malloc(cap);
	size_t used = 0, head;
	int k;

	if (!buf)
		fuzz_die("bundle", -ENOMEM);
	if ((k = sign_data(trusted_key(), manifest, manifest_size, sig)) < 0)
		fuzz_die("signature", k);
	{
		_cleanup_(archive_write_freep) struct archive *w = archive_write_new();

		/* Blocks of 512 bytes: each entry is out in the buffer once finished. */
		if (!w || archive_write_set_format_pax_restricted(w) != ARCHIVE_OK ||
		    archive_write_set_bytes_per_block(w, 512) != ARCHIVE_OK ||
		    archive_write_open_memory(w, buf, cap, &used) != ARCHIVE_OK)
			fuzz_die("archive", -ENOMEM);
		write_entry(w, BUNDLE_MANIFEST, manifest, manifest_size);
		write_entry(w, BUNDLE_SIGNATURE, sig, sizeof(sig));
		head = used;
	}
	if (rest_size)
		memcpy(buf + head, rest, rest_size);
	*ret = buf;
	*ret_size = head + rest_size;
}

void fuzz_bundle_read(const void *bundle, size_t size, bool unpack,
		      int (*accept)(const struct bundle_manifest *m, void *userdata, char **ret_error))
{
	_cleanup_(bundle_manifest_freep) struct bundle_manifest *m = NULL;
	_cleanup_close_ int fd = memfd_create("bundle", MFD_CLOEXEC);
	struct bundle_source src = { .fd = fd, .accept = accept };
	_cleanup_(strv_freep) char **warnings = NULL;
	_cleanup_free_ char *error = NULL;
	int k;

	(void)trusted_key();
	if (fd < 0)
		fuzz_die("memfd_create", -errno);
	if ((k = fd_write_all(fd, bundle, size)) < 0)
		fuzz_die("bundle", k);
	if (lseek(fd, 0, SEEK_SET) < 0)
		fuzz_die("bundle", -errno);
	(void)bundle_read(&src, fuzz_root(), SIGN_KEYS_DIR, unpack ? BUNDLE_DIR : NULL, NULL, &m, &error, &warnings);
	if (unpack)
		fuzz_remove(BUNDLE_DIR);
}
