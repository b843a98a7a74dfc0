/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Ed25519 keys and signatures with OpenSSL's EVP interface (libcrypto 1.1.1 and 3.x). */
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "net/sign.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/write.h"

/* A PEM key is a few hundred bytes; anything much larger is not one. */
#define KEY_FILE_MAX (64 * 1024)
#define RAW_KEY_LEN  32

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY_CTX *, EVP_PKEY_CTX_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free)

/* The one place OpenSSL's errors are turned into ours: its queue of reasons goes to the
 * debug log, and is emptied so that nothing stale is reported later. */
static int ssl_error(int error, const char *what)
{
	unsigned long e;
	char buf[256];
	bool any = false;

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_debug("%s: %s", what, buf);
		any = true;
	}
	if (!any)
		log_debug("%s: failed", what);
	return error;
}

/* The bytes of a key file: a private key's are erased before they are freed. */
struct key_file {
	char *data;
	size_t size;
};

static void key_file_erase(struct key_file *f)
{
	if (f->data) {
		OPENSSL_cleanse(f->data, f->size);
		free(f->data);
	}
}

static int key_file_read(const struct root *root, const char *path, struct key_file *ret)
{
	struct stat st;
	int k;

	k = root_stat(root, path, &st);
	if (k < 0)
		return k;
	/* A FIFO or a device in a key directory must not hang or feed the parser. */
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	return root_read_file(root, path, KEY_FILE_MAX, &ret->data, &ret->size);
}

/* Encrypted private keys are not taken: without this OpenSSL would ask on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
	(void)buf, (void)size, (void)rwflag, (void)userdata;
	return -1;
}

static int check_ed25519(EVP_PKEY *key, const char *path)
{
	if (EVP_PKEY_id(key) == EVP_PKEY_ED25519)
		return 0;
	log_debug("%s: a %s key, not Ed25519", path, OBJ_nid2sn(EVP_PKEY_id(key)));
	return -GPE_PARSE;
}

static int load_key(const struct root *root, const char *path, bool private, EVP_PKEY **ret)
{
	_cleanup_(key_file_erase) struct key_file f = {0};
	_cleanup_(BIO_freep) BIO *bio = NULL;
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
	int k;

	k = key_file_read(root, path, &f);
	if (k < 0)
		return k;
	bio = BIO_new_mem_buf(f.data, (int)f.size);
	if (!bio)
		return ssl_error(-ENOMEM, path);
	key = private ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)
		      : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if (!key)
		return ssl_error(-GPE_PARSE, path);
	k = check_ed25519(key, path);
	if (k < 0)
		return k;
	*ret = TAKE_PTR(key);
	return 0;
}

int sign_load_private(const struct root *root, const char *path, EVP_PKEY **ret)
{
	return load_key(root, path, true, ret);
}

int sign_load_public(const struct root *root, const char *path, EVP_PKEY **ret)
{
	return load_key(root, path, false, ret);
}

/* Writes a memory BIO's content to path inside root. */
static int write_bio(const struct root *root, const char *path, BIO *bio, mode_t mode)
{
	char *p = NULL;
	long n = BIO_get_mem_data(bio, &p);

	if (n <= 0 || !p)
		return -EIO;
	return root_write_atomic(root, path, p, (size_t)n, mode);
}

int sign_keygen(const struct root *root, const char *private_path, const char *public_path)
{
	_cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
	_cleanup_(BIO_freep) BIO *priv = NULL, *pub = NULL;
	int k;

	k = root_exists(root, private_path);
	if (k < 0)
		return k;
	if (k > 0)
		return log_debug_errno(-EEXIST, "%s: a key is there already, not replaced",
				       private_path);

	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (!ctx)
		return ssl_error(-ENOMEM, "Ed25519 key generation");
	if (EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &key) != 1)
		return ssl_error(-EIO, "Ed25519 key generation");

	/* The secure memory BIO erases the private key's PEM when it is freed. */
	priv = BIO_new(BIO_s_secmem());
	pub = BIO_new(BIO_s_mem());
	if (!priv || !pub)
		return ssl_error(-ENOMEM, "Ed25519 key generation");
	/* No cipher: PKCS#8 PrivateKeyInfo, as `openssl genpkey` writes it. */
	if (PEM_write_bio_PrivateKey(priv, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_PUBKEY(pub, key) != 1)
		return ssl_error(-EIO, "writing the Ed25519 key as PEM");

	k = write_bio(root, private_path, priv, 0600);
	if (k < 0)
		return k;
	k = write_bio(root, public_path, pub, 0644);
	if (k < 0) {
		/* A private key without its public half would only block the next try. */
		(void)root_unlink(root, private_path);
		return k;
	}
	return 0;
}

/* What signing and verifying both take: an Ed25519 key, and data unless it is empty. */
static int ed25519_args(const EVP_MD_CTX *md, const EVP_PKEY *key, const void *data, size_t len)
{
	if (!md)
		return -ENOMEM;
	return (!data && len > 0) || EVP_PKEY_id(key) != EVP_PKEY_ED25519 ? -EINVAL : 0;
}

int sign_data(EVP_PKEY *key, const void *data, size_t len,
	      unsigned char ret_sig[static SIGN_SIG_LEN])
{
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sig[SIGN_SIG_LEN];
	size_t siglen = sizeof(sig);
	int k = ed25519_args(md, key, data, len);

	if (k < 0)
		return k;
	/* Ed25519 hashes the message itself: no digest, and the whole message at once. */
	if (EVP_DigestSignInit(md, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, data ? data : "", len) != 1)
		/* With an Ed25519 key, that fails only for a key without its private half. */
		return ssl_error(-EINVAL, "Ed25519 signing");
	if (siglen != SIGN_SIG_LEN)
		return -EIO;
	memcpy(ret_sig, sig, SIGN_SIG_LEN);
	return 0;
}

int sign_verify(EVP_PKEY *key, const void *data, size_t len,
		const unsigned char sig[static SIGN_SIG_LEN])
{
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
	int k = ed25519_args(md, key, data, len);

	if (k < 0)
		return k;
	if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) != 1)
		return ssl_error(-EIO, "Ed25519 verification");
	/* Anything but 1 is a refusal: a malformed signature is an error to OpenSSL, not 0. */
	if (EVP_DigestVerify(md, sig, SIGN_SIG_LEN, data ? data : "", len) != 1)
		return ssl_error(-GPE_SIGNATURE, "Ed25519 verification");
	return 0;
}

int sign_key_id(EVP_PKEY *key, char ret_id[static SIGN_KEY_ID_LEN + 1])
{
	unsigned char raw[RAW_KEY_LEN], digest[EVP_MAX_MD_SIZE];
	size_t rawlen = sizeof(raw);
	unsigned dlen = 0;

	if (EVP_PKEY_id(key) != EVP_PKEY_ED25519)
		return -EINVAL;
	if (EVP_PKEY_get_raw_public_key(key, raw, &rawlen) != 1 || rawlen != RAW_KEY_LEN)
		return ssl_error(-EIO, "Ed25519 public key");
	if (EVP_Digest(raw, rawlen, digest, &dlen, EVP_sha256(), NULL) != 1 ||
	    dlen < SIGN_KEY_ID_LEN / 2)
		return ssl_error(-EIO, "SHA-256");
	for (unsigned i = 0; i < SIGN_KEY_ID_LEN / 2; i++)
		sprintf(ret_id + 2 * i, "%02x", digest[i]);
	ret_id[SIGN_KEY_ID_LEN] = '\0';
	return 0;
}

int sign_verify_dir(const struct root *root, const char *keys_dir, const void *data, size_t len,
		    const unsigned char sig[static SIGN_SIG_LEN], const char *want_id,
		    char ret_id[SIGN_KEY_ID_LEN + 1])
{
	_cleanup_(strv_freep) char **names = NULL;
	bool tried = false;
	int k;

	k = root_list_dir(root, keys_dir, &names);
	if (k == -ENOENT || k == -ENOTDIR)
		return log_debug_errno(-GPE_UNKNOWN_KEY, "%s: no key directory", keys_dir);
	if (k < 0)
		return k;

	for (char **n = names; *n; n++) {
		_cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
		_cleanup_free_ char *path = NULL;
		char id[SIGN_KEY_ID_LEN + 1];

		/* Hidden files are editors' and writers' temporaries. */
		if (!endswith(*n, ".pub") || (*n)[0] == '.')
			continue;
		if (asprintf(&path, "%s/%s", keys_dir, *n) < 0)
			return -ENOMEM;
		k = sign_load_public(root, path, &key);
		if (k == -ENOMEM)
			return k;
		if (k < 0) {
			log_debug_errno(k, "%s: skipped, not a usable Ed25519 public key", path);
			continue;
		}
		k = sign_key_id(key, id);
		if (k < 0)
			return k;
		if (want_id && strcasecmp(id, want_id) != 0)
			continue;
		tried = true;
		k = sign_verify(key, data, len, sig);
		if (k == 0) {
			log_debug("signature verified with %s (key %s)", path, id);
			if (ret_id)
				memcpy(ret_id, id, sizeof(id));
			return 0;
		}
		if (k != -GPE_SIGNATURE)
			return k;
		log_debug("%s: key %s does not verify the signature", path, id);
	}
	if (!tried)
		return log_debug_errno(-GPE_UNKNOWN_KEY, "%s: no Ed25519 key%s%s", keys_dir,
				       want_id ? " with id " : "", want_id ? want_id : "");
	return -GPE_SIGNATURE;
}
