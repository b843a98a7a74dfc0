/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Ed25519 keys and signatures with OpenSSL's EVP interface (libcrypto 1.1.1 and 3.x). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "net/crypto-lib.h"
#include "net/sign.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/write.h"

/* A PEM key is a few hundred bytes; anything much larger is not one. */
#define KEY_FILE_MAX (64 * 1024)
#define RAW_KEY_LEN  32


/* The one place OpenSSL's errors are turned into ours: its queue of reasons goes to the
 * debug log, and is emptied so that nothing stale is reported later. */
static int ssl_error(int error, const char *what)
{
	unsigned long e;
	char buf[256];
	bool any = false;

	while ((e = crypto_fn.ERR_get_error()) != 0) {
		crypto_fn.ERR_error_string_n(e, buf, sizeof(buf));
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
		crypto_fn.OPENSSL_cleanse(f->data, f->size);
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
	if (crypto_fn.EVP_PKEY_id(key) == EVP_PKEY_ED25519)
		return 0;
	log_debug("%s: a %s key, not Ed25519", path, crypto_fn.OBJ_nid2sn(crypto_fn.EVP_PKEY_id(key)));
	return -GPE_PARSE;
}

/* The key in a PEM file's bytes; path only names it in the debug log. */
static int parse_key(const struct key_file *f, const char *path, bool private, EVP_PKEY **ret)
{
	_cleanup_(BIO_freep) BIO *bio = NULL;
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
	int k;

	bio = crypto_fn.BIO_new_mem_buf(f->data, (int)f->size);
	if (!bio)
		return ssl_error(-ENOMEM, path);
	key = private ? crypto_fn.PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)
		      : crypto_fn.PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if (!key)
		return ssl_error(-GPE_PARSE, path);
	k = check_ed25519(key, path);
	if (k < 0)
		return k;
	*ret = TAKE_PTR(key);
	return 0;
}

static int load_key(const struct root *root, const char *path, bool private, EVP_PKEY **ret)
{
	_cleanup_(key_file_erase) struct key_file f = {0};
	int k = crypto_ready();

	if (k < 0)
		return k;
	k = key_file_read(root, path, &f);

	return k < 0 ? k : parse_key(&f, path, private, ret);
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
	long n = crypto_fn.BIO_ctrl(bio, BIO_CTRL_INFO, 0, (char *)&p); /* BIO_get_mem_data */

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

	if ((k = crypto_ready()) < 0)
		return k;
	k = root_exists(root, private_path);
	if (k < 0)
		return k;
	if (k > 0)
		return log_debug_errno(-EEXIST, "%s: a key is there already, not replaced",
				       private_path);

	ctx = crypto_fn.EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (!ctx)
		return ssl_error(-ENOMEM, "Ed25519 key generation");
	if (crypto_fn.EVP_PKEY_keygen_init(ctx) != 1 || crypto_fn.EVP_PKEY_keygen(ctx, &key) != 1)
		return ssl_error(-EIO, "Ed25519 key generation");

	/* The secure memory BIO erases the private key's PEM when it is freed. */
	priv = crypto_fn.BIO_new(crypto_fn.BIO_s_secmem());
	pub = crypto_fn.BIO_new(crypto_fn.BIO_s_mem());
	if (!priv || !pub)
		return ssl_error(-ENOMEM, "Ed25519 key generation");
	/* No cipher: PKCS#8 PrivateKeyInfo, as `openssl genpkey` writes it. */
	if (crypto_fn.PEM_write_bio_PrivateKey(priv, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    crypto_fn.PEM_write_bio_PUBKEY(pub, key) != 1)
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
	return (!data && len > 0) || crypto_fn.EVP_PKEY_id(key) != EVP_PKEY_ED25519 ? -EINVAL : 0;
}

int sign_data(EVP_PKEY *key, const void *data, size_t len,
	      unsigned char ret_sig[static SIGN_SIG_LEN])
{
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = crypto_fn.EVP_MD_CTX_new();
	unsigned char sig[SIGN_SIG_LEN];
	size_t siglen = sizeof(sig);
	int k = ed25519_args(md, key, data, len);

	if (k < 0)
		return k;
	/* Ed25519 hashes the message itself: no digest, and the whole message at once. */
	if (crypto_fn.EVP_DigestSignInit(md, NULL, NULL, NULL, key) != 1 ||
	    crypto_fn.EVP_DigestSign(md, sig, &siglen, data ? data : "", len) != 1)
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
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = crypto_fn.EVP_MD_CTX_new();
	int k = ed25519_args(md, key, data, len);

	if (k < 0)
		return k;
	if (crypto_fn.EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) != 1)
		return ssl_error(-EIO, "Ed25519 verification");
	/* Anything but 1 is a refusal: a malformed signature is an error to OpenSSL, not 0. */
	if (crypto_fn.EVP_DigestVerify(md, sig, SIGN_SIG_LEN, data ? data : "", len) != 1)
		return ssl_error(-GPE_SIGNATURE, "Ed25519 verification");
	return 0;
}

int sign_key_id(EVP_PKEY *key, char ret_id[static SIGN_KEY_ID_LEN + 1])
{
	unsigned char raw[RAW_KEY_LEN], digest[EVP_MAX_MD_SIZE];
	size_t rawlen = sizeof(raw);
	unsigned dlen = 0;

	if (crypto_fn.EVP_PKEY_id(key) != EVP_PKEY_ED25519)
		return -EINVAL;
	if (crypto_fn.EVP_PKEY_get_raw_public_key(key, raw, &rawlen) != 1 || rawlen != RAW_KEY_LEN)
		return ssl_error(-EIO, "Ed25519 public key");
	if (crypto_fn.EVP_Digest(raw, rawlen, digest, &dlen, crypto_fn.EVP_sha256(), NULL) != 1 ||
	    dlen < SIGN_KEY_ID_LEN / 2)
		return ssl_error(-EIO, "SHA-256");
	for (unsigned i = 0; i < SIGN_KEY_ID_LEN / 2; i++)
		sprintf(ret_id + 2 * i, "%02x", digest[i]);
	ret_id[SIGN_KEY_ID_LEN] = '\0';
	return 0;
}

void sign_verdict_done(struct sign_verdict *v)
{
	free(v->refusal);
	v->refusal = NULL;
	v->warnings = strv_free(v->warnings);
	v->n_warnings = 0;
}

/* sshd's StrictModes: a trust store anyone but root can write trusts whoever wrote it. The
 * user running gpuprov may own it too, for runs that are not root's (tests, a build host).
 * 1 with *ret_why when st is not to be trusted. */
static int unsafe_why(const struct stat *st, char **ret_why)
{
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return asprintf(ret_why, "owned by uid %u, not root", (unsigned)st->st_uid) < 0 ? -ENOMEM : 1;
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return asprintf(ret_why, "writable by %s (mode %04o)", st->st_mode & S_IWOTH ? "anyone" : "its group",
				(unsigned)(st->st_mode & 07777)) < 0
			       ? -ENOMEM
			       : 1;
	return 0;
}

/* A file of the trust store, read whole once the descriptor read from is found safe: 1
 * with *ret_why when it is not. */
static int trusted_read(const struct root *root, const char *path, struct key_file *ret, char **ret_why)
{
	_cleanup_close_ int fd = root_open_regular(root, path);
	struct stat st;
	int k;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((k = unsafe_why(&st, ret_why)) != 0)
		return k;
	return fd_read_file(fd, KEY_FILE_MAX, &ret->data, &ret->size);
}

/* The lines before a key's PEM block: blank lines, '#' comments and "Expires: YYYY-MM-DD".
 * Anything else makes the key ignored: a misspelt field must not leave it trusted forever.
 * 1 with *ret_why when the header is not one. */
static int key_header(const char *text, char ret_expires[static DATE_LEN + 1], char **ret_why)
{
	unsigned n = 0;

	ret_expires[0] = '\0';
	for (const char *line = text; *line; n++) {
		size_t len = strcspn(line, "\n");
		_cleanup_free_ char *copy = strndup(line, len);
		const char *value;
		char *l;

		if (!copy)
			return -ENOMEM;
		l = strstrip(copy);
		if (startswith(l, "-----BEGIN "))
			return 0;
		line += len + (line[len] == '\n');
		if (!*l || *l == '#')
			continue;
		if (strncasecmp(l, "Expires:", 8) != 0)
			return asprintf(ret_why, "line %u: '%s' is neither a comment nor 'Expires: YYYY-MM-DD'", n + 1, l) < 0
				       ? -ENOMEM
				       : 1;
		value = strstrip(l + 8);
		if (ret_expires[0] || !date_ok(value))
			return asprintf(ret_why, "line %u: %s", n + 1,
					ret_expires[0] ? "a second Expires" : "Expires: expected a date YYYY-MM-DD") < 0
				       ? -ENOMEM
				       : 1;
		memcpy(ret_expires, value, DATE_LEN + 1);
	}
	return 0;
}

/* A public key of the trust store, with its last valid day ("" for none). 1 with *ret_why
 * when the file is to be ignored; < 0 when it holds no usable key. */
static int trusted_key_load(const struct root *root, const char *path, EVP_PKEY **ret,
			    char ret_expires[static DATE_LEN + 1], char **ret_why)
{
	_cleanup_(key_file_erase) struct key_file f = {0};
	int k;

	if ((k = trusted_read(root, path, &f, ret_why)) != 0 || (k = key_header(f.data, ret_expires, ret_why)) != 0)
		return k;
	return parse_key(&f, path, false, ret);
}

static bool is_key_id(const char *s)
{
	return strlen(s) == SIGN_KEY_ID_LEN && strspn(s, "0123456789abcdefABCDEF") == SIGN_KEY_ID_LEN;
}

/* keys_dir/revoked: the ids it lists, lower case; none when there is no such file. 1 with
 * *ret_why when the list cannot be trusted: then no key is, for which are revoked is not
 * known. */
static int revoked_load(const struct root *root, const char *path, char ***ret, char **ret_why)
{
	_cleanup_(key_file_erase) struct key_file f = {0};
	_cleanup_(strv_freep) char **ids = NULL;
	size_t n_ids = 0;
	unsigned n = 0;
	char *save = NULL;
	int k;

	k = trusted_read(root, path, &f, ret_why);
	if (k == -ENOENT)
		return 0;
	if (k < 0 && k != -ENOMEM)
		return asprintf(ret_why, "cannot be read: %s", gp_strerror(k)) < 0 ? -ENOMEM : 1;
	if (k != 0)
		return k;
	/* strtok_r would merge empty lines and lose the line numbers. */
	for (char *line = f.data; line; line = save, n++) {
		char *id;

		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		line[strcspn(line, "#")] = '\0';
		id = strstrip(line);
		if (!*id)
			continue;
		if (!is_key_id(id))
			return asprintf(ret_why, "line %u: '%s' is not a key id (%d hex digits)", n + 1, id,
					SIGN_KEY_ID_LEN) < 0
				       ? -ENOMEM
				       : 1;
		for (char *c = id; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (strv_push(&ids, &n_ids, id) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(ids);
	return 0;
}

/* keys_dir itself, as unsafe_why judges it. */
static int dir_check(const struct root *root, const char *keys_dir, char **ret_why)
{
	_cleanup_close_ int fd = root_open_at(root, keys_dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	return unsafe_why(&st, ret_why);
}

/* Adds "path: why" to the warnings; frees why. */
static int warn(struct sign_verdict *v, const char *path, char *why, const char *then)
{
	int k = strv_pushf(&v->warnings, &v->n_warnings, "%s: %s; %s", path, why, then);

	free(why);
	return k < 0 ? -ENOMEM : 0;
}

int sign_verify_dir(const struct root *root, const char *keys_dir, const char *today, const void *data, size_t len,
		    const unsigned char sig[static SIGN_SIG_LEN], const char *want_id, struct sign_verdict *ret)
{
	_cleanup_(strv_freep) char **names = NULL, **revoked = NULL;
	_cleanup_free_ char *revoked_path = NULL;
	char *why = NULL, clock[DATE_LEN + 1];
	bool tried = false;
	int k;

	*ret = (struct sign_verdict){};
	if ((k = crypto_ready()) < 0)
		return k;
	if (!today) {
		time_t now = time(NULL);
		struct tm tm;

		strftime(clock, sizeof(clock), "%Y-%m-%d", gmtime_r(&now, &tm));
		today = clock;
	}
	k = dir_check(root, keys_dir, &why);
	if (k == -ENOENT || k == -ENOTDIR)
		return log_debug_errno(-GPE_UNKNOWN_KEY, "%s: no key directory", keys_dir);
	if (k == 1)
		return warn(ret, keys_dir, why, "no key in it is trusted") ?: -GPE_UNKNOWN_KEY;
	if (k < 0 || (k = root_list_dir(root, keys_dir, &names)) < 0)
		return k;
	if (asprintf(&revoked_path, "%s/%s", keys_dir, SIGN_REVOKED_FILE) < 0)
		return -ENOMEM;
	k = revoked_load(root, revoked_path, &revoked, &why);
	if (k == 1)
		return warn(ret, revoked_path, why, "no key is trusted until it can be") ?: -GPE_UNKNOWN_KEY;
	if (k < 0)
		return k;

	for (char **n = names; *n; n++) {
		_cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
		_cleanup_free_ char *path = NULL;
		char id[SIGN_KEY_ID_LEN + 1], expires[DATE_LEN + 1];

		/* Hidden files are editors' and writers' temporaries. */
		if (!endswith(*n, ".pub") || (*n)[0] == '.')
			continue;
		if (asprintf(&path, "%s/%s", keys_dir, *n) < 0)
			return -ENOMEM;
		k = trusted_key_load(root, path, &key, expires, &why);
		if (k == 1 && (k = warn(ret, path, why, "the key in it is not trusted")) < 0)
			return k;
		if (k == -ENOMEM)
			return k;
		if (!key) {
			if (k < 0)
				log_debug_errno(k, "%s: skipped, not a usable Ed25519 public key", path);
			continue;
		}
		k = sign_key_id(key, id);
		if (k < 0)
			return k;
		if (want_id && strcasecmp(id, want_id) != 0)
			continue;
		why = NULL;
		if (strv_contains(revoked, id))
			k = asprintf(&why, "key %s, which is revoked in %s", id, revoked_path);
		else if (expires[0] && strcmp(today, expires) > 0)
			k = asprintf(&why, "key %s, which expired on %s (the Expires line of %s)", id, expires, path);
		if (k < 0)
			return -ENOMEM;
		if (why) {
			if (want_id && !ret->refusal && !(ret->refusal = strdup(why)))
				return -ENOMEM;
			if ((k = warn(ret, path, why, "it verifies nothing")) < 0)
				return k;
			continue;
		}
		tried = true;
		k = sign_verify(key, data, len, sig);
		if (k == 0) {
			log_debug("signature verified with %s (key %s)", path, id);
			memcpy(ret->id, id, sizeof(id));
			return 0;
		}
		if (k != -GPE_SIGNATURE)
			return k;
		log_debug("%s: key %s does not verify the signature", path, id);
	}
	if (!tried && ret->refusal)
		return -GPE_KEY_REVOKED;
	if (!tried)
		return log_debug_errno(-GPE_UNKNOWN_KEY, "%s: no Ed25519 key%s%s", keys_dir,
				       want_id ? " with id " : "", want_id ? want_id : "");
	return -GPE_SIGNATURE;
}
