/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Ed25519 keys and signatures: what verifies, what is refused, and which key said so. */
#include "unit.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "net/sign.h"
#include "util/errors.h"
#include "util/root.h"
#include "util/strutil.h"

/* RFC 8032 section 7.1, TEST 1: the key, as `openssl pkey` writes it, and the signature of
 * the empty message. */
static const char rfc_private[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
static const char rfc_public[] = "-----BEGIN PUBLIC KEY-----\n"
				 "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
				 "-----END PUBLIC KEY-----\n";
static const unsigned char rfc_sig[SIGN_SIG_LEN] = {
    0xe5, 0x56, 0x43, 0x00, 0xc3, 0x60, 0xac, 0x72, 0x90, 0x86, 0xe2, 0xcc, 0x80, 0x6e, 0x82, 0x8a,
    0x84, 0x87, 0x7f, 0x1e, 0xb8, 0xe5, 0xd9, 0x74, 0xd8, 0x73, 0xe0, 0x65, 0x22, 0x49, 0x01, 0x55,
    0x5f, 0xb8, 0x82, 0x15, 0x90, 0xa3, 0x3b, 0xac, 0xc6, 0x1e, 0x39, 0x70, 0x1c, 0xf9, 0xb4, 0x6b,
    0xd2, 0x5b, 0xf5, 0xf0, 0x59, 0x5b, 0xbe, 0x24, 0x65, 0x51, 0x41, 0x43, 0x8e, 0x7a, 0x10, 0x0b,
};
/* sha256(d75a9801...f707511a), the raw public key, cut to 16 hex digits. */
#define RFC_KEY_ID "21fe31dfa154a261"

/* An ECDSA P-256 public key: PEM that parses, but not Ed25519. */
static const char ec_public[] = "-----BEGIN PUBLIC KEY-----\n"
				"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE3zVIXgTo2OPuF/P26FzFEXUYwmqb\n"
				"1vBNEPQqG4x3diLxSJN9puhKAC7IpeaOqtNnlMuinLUm5XvRxd+iUTYjlw==\n"
				"-----END PUBLIC KEY-----\n";
/* An Ed25519 private key under a passphrase ("secret"): not taken, and never asked for. */
static const char encrypted_private[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAivTIEkgQSdyQICCAAw\n"
    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEEt4s4wC22oryxhcGiiJUzsEQJZ0\n"
    "zheaHr3T0hEHsv4d8hp8lD2SoEcORR09fcKk2dxLBrR8WUQ8aSjzxk56+tloFKj8\n"
    "PJxoxIxnMrgcmGz25NQ=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";

static const char manifest[] = "{ \"format\": 1, \"profile\": \"h100-nvlink\" }\n";

struct fixture {
	char top[64];
	struct root *r;
	EVP_PKEY *a; /* a's private key; a.pub is in the key directory */
	char a_id[SIGN_KEY_ID_LEN + 1];
	unsigned char sig[SIGN_SIG_LEN]; /* a's signature of manifest */
};

static void path_in(const struct fixture *fx, const char *rel, char *buf, size_t size)
{
	assert_true(snprintf(buf, size, "%s/%s", fx->top, rel) < (int)size);
}

static void put(const struct fixture *fx, const char *rel, const char *content)
{
	char path[256];
	FILE *f;

	path_in(fx, rel, path, sizeof(path));
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
}

static void make_dir(const struct fixture *fx, const char *rel)
{
	char path[256];

	path_in(fx, rel, path, sizeof(path));
	assert_int_equal(mkdir(path, 0755), 0);
}

static void copy(const struct fixture *fx, const char *from, const char *to)
{
	char *data = NULL;
	size_t size = 0;

	assert_int_equal(root_read_file(fx->r, from, 65536, &data, &size), 0);
	put(fx, to, data);
	free(data);
}

/* The day the tests judge keys' expiry by. */
#define TODAY "2026-06-01"

/* sign_verify_dir with the old shape: the id of the key that verified in ret_id (may be
 * NULL), left alone on a failure; the verdict's warnings dropped. */
static int verify_in(const struct fixture *fx, const char *dir, const void *data, size_t len,
		     const unsigned char *sig, const char *want_id, char *ret_id)
{
	_cleanup_(sign_verdict_done) struct sign_verdict v = {};
	int k = sign_verify_dir(fx->r, dir, TODAY, data, len, sig, want_id, &v);

	if (k == 0)
		assert_int_equal(strlen(v.id), SIGN_KEY_ID_LEN);
	else
		assert_string_equal(v.id, "");
	if (k == 0 && ret_id)
		memcpy(ret_id, v.id, sizeof(v.id));
	return k;
}

static void verify_dir_is(const struct fixture *fx, const void *data, size_t len,
			  const unsigned char *sig, const char *want_id, int expect)
{
	char id[SIGN_KEY_ID_LEN + 1] = "untouched";

	assert_int_equal(verify_in(fx, SIGN_KEYS_DIR, data, len, sig, want_id, id),
			 expect);
	if (expect < 0)
		assert_string_equal(id, "untouched");
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	/* Key files are trusted only when no one else may write them: the usual umask. */
	umask(022);
	strcpy(fx->top, "/tmp/gpuprov-test-sign-XXXXXX");
	assert_non_null(mkdtemp(fx->top));
	assert_int_equal(root_open(fx->top, &fx->r), 0);
	assert_int_equal(sign_keygen(fx->r, "build/a.key", SIGN_KEYS_DIR "/a.pub"), 0);
	assert_int_equal(sign_load_private(fx->r, "build/a.key", &fx->a), 0);
	assert_int_equal(sign_key_id(fx->a, fx->a_id), 0);
	assert_int_equal(sign_data(fx->a, manifest, strlen(manifest), fx->sig), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	EVP_PKEY_freep(&fx->a);
	root_free(fx->r);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->top);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static void assert_hex_id(const char *id)
{
	assert_int_equal(strlen(id), SIGN_KEY_ID_LEN);
	assert_int_equal(strspn(id, "0123456789abcdef"), SIGN_KEY_ID_LEN);
}

static void test_sign_verify(void **state)
{
	struct fixture *fx = *state;
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *pub = NULL;
	char id[SIGN_KEY_ID_LEN + 1] = "", pub_id[SIGN_KEY_ID_LEN + 1] = "",
				  upper[SIGN_KEY_ID_LEN + 1];

	assert_hex_id(fx->a_id);
	assert_int_equal(
	    verify_in(fx, SIGN_KEYS_DIR, manifest, strlen(manifest), fx->sig, NULL, id),
	    0);
	assert_string_equal(id, fx->a_id);
	/* Named by the signed document, in either case; ret_id may be left out. */
	assert_int_equal(verify_in(fx, SIGN_KEYS_DIR, manifest, strlen(manifest), fx->sig,
					 fx->a_id, NULL),
			 0);
	for (int i = 0; i <= SIGN_KEY_ID_LEN; i++)
		upper[i] = (char)toupper((unsigned char)fx->a_id[i]);
	verify_dir_is(fx, manifest, strlen(manifest), fx->sig, upper, 0);

	/* The public key file has the private key's id, and verifies on its own. */
	assert_int_equal(sign_load_public(fx->r, SIGN_KEYS_DIR "/a.pub", &pub), 0);
	assert_int_equal(sign_key_id(pub, pub_id), 0);
	assert_string_equal(pub_id, fx->a_id);
	assert_int_equal(sign_verify(pub, manifest, strlen(manifest), fx->sig), 0);
	/* A second key pair is another key. */
	assert_int_equal(sign_keygen(fx->r, "build/b.key", "build/b.pub"), 0);
	{
		_cleanup_(EVP_PKEY_freep) EVP_PKEY *b = NULL;

		assert_int_equal(sign_load_public(fx->r, "build/b.pub", &b), 0);
		assert_int_equal(sign_key_id(b, id), 0);
		assert_string_not_equal(id, fx->a_id);
		assert_int_equal(sign_verify(b, manifest, strlen(manifest), fx->sig),
				 -GPE_SIGNATURE);
	}
}

/* The known answer: keys in the form the openssl tool writes, the RFC's signature. */
static void test_rfc8032(void **state)
{
	struct fixture *fx = *state;
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
	unsigned char sig[SIGN_SIG_LEN];
	char id[SIGN_KEY_ID_LEN + 1];

	put(fx, "rfc.key", rfc_private);
	put(fx, SIGN_KEYS_DIR "/rfc.pub", rfc_public);
	assert_int_equal(sign_load_private(fx->r, "rfc.key", &key), 0);
	assert_int_equal(sign_data(key, NULL, 0, sig), 0);
	assert_memory_equal(sig, rfc_sig, SIGN_SIG_LEN);
	assert_int_equal(sign_key_id(key, id), 0);
	assert_string_equal(id, RFC_KEY_ID);
	assert_int_equal(sign_verify(key, "", 0, rfc_sig), 0);
	assert_int_equal(verify_in(fx, SIGN_KEYS_DIR, "", 0, rfc_sig, NULL, id), 0);
	assert_string_equal(id, RFC_KEY_ID);
	assert_int_equal(verify_in(fx, SIGN_KEYS_DIR, "", 0, rfc_sig, RFC_KEY_ID, id), 0);
	/* The RFC's signature is for the empty message only. */
	verify_dir_is(fx, "x", 1, rfc_sig, RFC_KEY_ID, -GPE_SIGNATURE);
}

static void test_flipped_data(void **state)
{
	struct fixture *fx = *state;
	size_t len = strlen(manifest);
	char data[sizeof(manifest)];

	verify_dir_is(fx, manifest, len, fx->sig, fx->a_id, 0);
	for (size_t at = 0; at < len; at += len / 4) {
		for (int bit = 0; bit < 8; bit += 7) {
			memcpy(data, manifest, sizeof(data));
			data[at] ^= (char)(1 << bit);
			verify_dir_is(fx, data, len, fx->sig, fx->a_id, -GPE_SIGNATURE);
			verify_dir_is(fx, data, len, fx->sig, NULL, -GPE_SIGNATURE);
		}
	}
	/* One byte more or less. */
	verify_dir_is(fx, manifest, len - 1, fx->sig, NULL, -GPE_SIGNATURE);
	verify_dir_is(fx, manifest, len + 1, fx->sig, NULL, -GPE_SIGNATURE);
}

static void test_flipped_signature(void **state)
{
	struct fixture *fx = *state;
	unsigned char sig[SIGN_SIG_LEN];

	/* R (the first half) and S (the second, whose top bits make it non-canonical). */
	for (int at = 0; at < SIGN_SIG_LEN; at += 7) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(sig, fx->sig, sizeof(sig));
			sig[at] ^= (unsigned char)(1 << bit);
			verify_dir_is(fx, manifest, strlen(manifest), sig, fx->a_id,
				      -GPE_SIGNATURE);
		}
	}
	memcpy(sig, fx->sig, sizeof(sig));
	sig[SIGN_SIG_LEN - 1] ^= 0x80;
	verify_dir_is(fx, manifest, strlen(manifest), sig, NULL, -GPE_SIGNATURE);
	memset(sig, 0, sizeof(sig));
	verify_dir_is(fx, manifest, strlen(manifest), sig, NULL, -GPE_SIGNATURE);
}

static void test_other_key(void **state)
{
	struct fixture *fx = *state;
	char a_pub[256], moved[256];

	/* Only b is trusted: a's document names a key this node does not have. */
	path_in(fx, SIGN_KEYS_DIR "/a.pub", a_pub, sizeof(a_pub));
	path_in(fx, "build/a.pub", moved, sizeof(moved));
	assert_int_equal(rename(a_pub, moved), 0);
	assert_int_equal(sign_keygen(fx->r, "build/b.key", SIGN_KEYS_DIR "/b.pub"), 0);
	verify_dir_is(fx, manifest, strlen(manifest), fx->sig, fx->a_id, -GPE_UNKNOWN_KEY);
	/* Without the name, b was tried and did not verify. */
	verify_dir_is(fx, manifest, strlen(manifest), fx->sig, NULL, -GPE_SIGNATURE);
	/* a trusted again, beside b. */
	assert_int_equal(rename(moved, a_pub), 0);
	verify_dir_is(fx, manifest, strlen(manifest), fx->sig, fx->a_id, 0);
	verify_dir_is(fx, manifest, strlen(manifest), fx->sig, NULL, 0);
}

static void test_no_keys(void **state)
{
	struct fixture *fx = *state;
	unsigned char sig[SIGN_SIG_LEN];

	memcpy(sig, fx->sig, sizeof(sig));
	assert_int_equal(
	    verify_in(fx, "etc/none", manifest, strlen(manifest), sig, NULL, NULL),
	    -GPE_UNKNOWN_KEY);
	make_dir(fx, "etc/empty");
	assert_int_equal(
	    verify_in(fx, "etc/empty", manifest, strlen(manifest), sig, NULL, NULL),
	    -GPE_UNKNOWN_KEY);
	put(fx, "etc/file", "");
	assert_int_equal(
	    verify_in(fx, "etc/file", manifest, strlen(manifest), sig, NULL, NULL),
	    -GPE_UNKNOWN_KEY);
	/* The fixture's directory does hold a's key. */
	assert_int_equal(
	    verify_in(fx, SIGN_KEYS_DIR, manifest, strlen(manifest), sig, NULL, NULL), 0);
}

static void test_garbage_skipped(void **state)
{
	struct fixture *fx = *state;
	char a_pub[256], fifo[256];

	path_in(fx, SIGN_KEYS_DIR "/a.pub", a_pub, sizeof(a_pub));
	copy(fx, SIGN_KEYS_DIR "/a.pub", "a.pem");
	assert_int_equal(unlink(a_pub), 0);
	put(fx, SIGN_KEYS_DIR "/0-garbage.pub", "not a key\n");
	put(fx, SIGN_KEYS_DIR "/1-ecdsa.pub", ec_public);
	put(fx, SIGN_KEYS_DIR "/2-empty.pub", "");
	make_dir(fx, SIGN_KEYS_DIR "/3-dir.pub");
	copy(fx, "build/a.key", SIGN_KEYS_DIR "/4-private.pub");
	path_in(fx, SIGN_KEYS_DIR "/5-fifo.pub", fifo, sizeof(fifo));
	assert_int_equal(mkfifo(fifo, 0644), 0);
	/* a's key, but not named *.pub, or hidden: not trusted. */
	copy(fx, "a.pem", SIGN_KEYS_DIR "/a.pem");
	copy(fx, "a.pem", SIGN_KEYS_DIR "/.a.pub");
	verify_dir_is(fx, manifest, strlen(manifest), fx->sig, NULL, -GPE_UNKNOWN_KEY);
	verify_dir_is(fx, manifest, strlen(manifest), fx->sig, fx->a_id, -GPE_UNKNOWN_KEY);
	/* The same garbage does not keep a good key from verifying. */
	copy(fx, "a.pem", SIGN_KEYS_DIR "/z.pub");
	verify_dir_is(fx, manifest, strlen(manifest), fx->sig, NULL, 0);
	verify_dir_is(fx, manifest, strlen(manifest), fx->sig, fx->a_id, 0);
}

static void test_load_errors(void **state)
{
	struct fixture *fx = *state;
	EVP_PKEY *key = NULL;
	unsigned char sig[SIGN_SIG_LEN];

	assert_int_equal(sign_load_private(fx->r, "build/none.key", &key), -ENOENT);
	assert_int_equal(sign_load_private(fx->r, SIGN_KEYS_DIR "/a.pub", &key), -GPE_PARSE);
	assert_int_equal(sign_load_public(fx->r, "build/a.key", &key), -GPE_PARSE);
	put(fx, "ec.pub", ec_public);
	assert_int_equal(sign_load_public(fx->r, "ec.pub", &key), -GPE_PARSE);
	put(fx, "encrypted.key", encrypted_private);
	assert_int_equal(sign_load_private(fx->r, "encrypted.key", &key), -GPE_PARSE);
	assert_int_equal(sign_load_private(fx->r, "build", &key), -EISDIR);
	assert_null(key);

	/* A public key cannot sign. */
	assert_int_equal(sign_load_public(fx->r, SIGN_KEYS_DIR "/a.pub", &key), 0);
	assert_int_equal(sign_data(key, manifest, strlen(manifest), sig), -EINVAL);
	EVP_PKEY_freep(&key);
}

static void test_keygen_refuses_overwrite(void **state)
{
	struct fixture *fx = *state;
	char *before = NULL, *after = NULL;

	assert_int_equal(root_read_file(fx->r, "build/a.key", 65536, &before, NULL), 0);
	assert_int_equal(sign_keygen(fx->r, "build/a.key", "build/new.pub"), -EEXIST);
	assert_int_equal(root_read_file(fx->r, "build/a.key", 65536, &after, NULL), 0);
	assert_string_equal(before, after);
	assert_int_equal(root_exists(fx->r, "build/new.pub"), 0);
	/* The refused run left a's key pair working. */
	verify_dir_is(fx, manifest, strlen(manifest), fx->sig, fx->a_id, 0);
	free(before);
	free(after);
}

static void test_keygen_files(void **state)
{
	struct fixture *fx = *state;
	struct stat st;
	char *text = NULL;
	mode_t old = umask(077);

	/* The modes asked for, whatever the umask says. */
	assert_int_equal(sign_keygen(fx->r, "k1/x.key", "k1/x.pub"), 0);
	umask(0);
	assert_int_equal(sign_keygen(fx->r, "k2/x.key", "k2/x.pub"), 0);
	umask(old);
	for (int i = 1; i <= 2; i++) {
		char priv[32], pub[32];

		snprintf(priv, sizeof(priv), "k%d/x.key", i);
		snprintf(pub, sizeof(pub), "k%d/x.pub", i);
		assert_int_equal(root_stat(fx->r, priv, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0600);
		assert_int_equal(root_stat(fx->r, pub, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0644);
	}
	/* PKCS#8 and SubjectPublicKeyInfo, unencrypted: what the openssl tool reads. */
	assert_int_equal(root_read_file(fx->r, "k1/x.key", 65536, &text, NULL), 0);
	assert_non_null(startswith(text, "-----BEGIN PRIVATE KEY-----\n"));
	free(text);
	assert_int_equal(root_read_file(fx->r, "k1/x.pub", 65536, &text, NULL), 0);
	assert_non_null(startswith(text, "-----BEGIN PUBLIC KEY-----\n"));
	free(text);
	/* No temporaries left beside them. */
	{
		char **names = NULL;

		assert_int_equal(root_list_dir(fx->r, "k1", &names), 0);
		assert_int_equal(strv_length(names), 2);
		strv_free(names);
	}
}

/* On a build host the key goes wherever the operator says: paths in the root "/". */
static void test_keygen_host_paths(void **state)
{
	struct fixture *fx = *state;
	_cleanup_(root_freep) struct root *host = NULL;
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
	char priv[256], pub[256], id[SIGN_KEY_ID_LEN + 1];
	unsigned char sig[SIGN_SIG_LEN];

	assert_int_equal(root_open("/", &host), 0);
	path_in(fx, "host/site.key", priv, sizeof(priv));
	path_in(fx, SIGN_KEYS_DIR "/site.pub", pub, sizeof(pub));
	assert_int_equal(sign_keygen(host, priv, pub), 0);
	assert_int_equal(sign_load_private(host, priv, &key), 0);
	assert_int_equal(sign_data(key, manifest, strlen(manifest), sig), 0);
	/* The node, with fx->top as its root, trusts it from its key directory. */
	assert_int_equal(
	    verify_in(fx, SIGN_KEYS_DIR, manifest, strlen(manifest), sig, NULL, id), 0);
	assert_string_not_equal(id, fx->a_id);
	assert_int_equal(sign_keygen(host, priv, pub), -EEXIST);
}

/* The verdict of a.pub's key, named or not, with its warnings joined for strstr. */
struct seen {
	int k;
	char refusal[512];
	char warnings[2048];
};

static struct seen verify_seen(const struct fixture *fx, const char *want_id, const char *today)
{
	_cleanup_(sign_verdict_done) struct sign_verdict v = {};
	_cleanup_free_ char *joined = NULL;
	struct seen s = {};

	s.k = sign_verify_dir(fx->r, SIGN_KEYS_DIR, today, manifest, strlen(manifest), fx->sig, want_id, &v);
	snprintf(s.refusal, sizeof(s.refusal), "%s", v.refusal ? v.refusal : "");
	assert_non_null(joined = strv_join(v.warnings, "\n"));
	snprintf(s.warnings, sizeof(s.warnings), "%s", joined);
	return s;
}

static void chmod_in(const struct fixture *fx, const char *rel, mode_t mode)
{
	char path[256];

	path_in(fx, rel, path, sizeof(path));
	assert_int_equal(chmod(path, mode), 0);
}

/* sshd's StrictModes for keys.d and each key file: the key ignored, the file named. */
static void test_strict_modes(void **state)
{
	struct fixture *fx = *state;
	char path[256];
	struct seen s;

	chmod_in(fx, SIGN_KEYS_DIR "/a.pub", 0666);
	s = verify_seen(fx, fx->a_id, TODAY);
	assert_int_equal(s.k, -GPE_UNKNOWN_KEY);
	assert_non_null(strstr(s.warnings, SIGN_KEYS_DIR "/a.pub: writable by anyone (mode 0666); the key in it is not trusted"));
	chmod_in(fx, SIGN_KEYS_DIR "/a.pub", 0620);
	s = verify_seen(fx, NULL, TODAY);
	assert_int_equal(s.k, -GPE_UNKNOWN_KEY);
	assert_non_null(strstr(s.warnings, "a.pub: writable by its group (mode 0620)"));
	/* Read-only for everyone, or private to root: trusted. */
	chmod_in(fx, SIGN_KEYS_DIR "/a.pub", 0444);
	assert_int_equal(verify_seen(fx, fx->a_id, TODAY).k, 0);
	chmod_in(fx, SIGN_KEYS_DIR "/a.pub", 0600);
	s = verify_seen(fx, fx->a_id, TODAY);
	assert_int_equal(s.k, 0);
	assert_string_equal(s.warnings, "");

	chmod_in(fx, SIGN_KEYS_DIR, 0777);
	s = verify_seen(fx, fx->a_id, TODAY);
	assert_int_equal(s.k, -GPE_UNKNOWN_KEY);
	assert_non_null(strstr(s.warnings, SIGN_KEYS_DIR ": writable by anyone (mode 0777); no key in it is trusted"));
	chmod_in(fx, SIGN_KEYS_DIR, 0775);
	assert_int_equal(verify_seen(fx, fx->a_id, TODAY).k, -GPE_UNKNOWN_KEY);
	/* The sticky bit is no help: anyone may still add a key. */
	chmod_in(fx, SIGN_KEYS_DIR, 01777);
	assert_int_equal(verify_seen(fx, fx->a_id, TODAY).k, -GPE_UNKNOWN_KEY);
	chmod_in(fx, SIGN_KEYS_DIR, 0755);
	assert_int_equal(verify_seen(fx, fx->a_id, TODAY).k, 0);

	/* Another user's file, when the tests run as root (they do in CI) and can give it away. */
	if (geteuid() != 0)
		return;
	path_in(fx, SIGN_KEYS_DIR "/a.pub", path, sizeof(path));
	assert_int_equal(chown(path, 1000, 1000), 0);
	s = verify_seen(fx, fx->a_id, TODAY);
	assert_int_equal(s.k, -GPE_UNKNOWN_KEY);
	assert_non_null(strstr(s.warnings, "a.pub: owned by uid 1000, not root"));
	assert_int_equal(chown(path, 0, 0), 0);
	path_in(fx, SIGN_KEYS_DIR, path, sizeof(path));
	assert_int_equal(chown(path, 1000, 1000), 0);
	s = verify_seen(fx, fx->a_id, TODAY);
	assert_int_equal(s.k, -GPE_UNKNOWN_KEY);
	assert_non_null(strstr(s.warnings, SIGN_KEYS_DIR ": owned by uid 1000, not root; no key in it is trusted"));
	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(verify_seen(fx, fx->a_id, TODAY).k, 0);
}

static void test_revoked(void **state)
{
	struct fixture *fx = *state;
	char text[256], upper[SIGN_KEY_ID_LEN + 1];
	struct seen s;

	for (int i = 0; i <= SIGN_KEY_ID_LEN; i++)
		upper[i] = (char)toupper((unsigned char)fx->a_id[i]);
	/* Other keys revoked: a's still verifies. */
	put(fx, SIGN_KEYS_DIR "/revoked", "# none of a's\n\n0123456789abcdef # an old key\n");
	assert_int_equal(verify_seen(fx, fx->a_id, TODAY).k, 0);
	/* a's, in capitals, after a comment and a blank line. */
	snprintf(text, sizeof(text), "# lost with a laptop\n\n  %s  # a\n", upper);
	put(fx, SIGN_KEYS_DIR "/revoked", text);
	s = verify_seen(fx, fx->a_id, TODAY);
	assert_int_equal(s.k, -GPE_KEY_REVOKED);
	snprintf(text, sizeof(text), "key %s, which is revoked in " SIGN_KEYS_DIR "/revoked", fx->a_id);
	assert_string_equal(s.refusal, text);
	assert_non_null(strstr(s.warnings, text));
	/* Unnamed by the document: a's key is not tried at all. */
	s = verify_seen(fx, NULL, TODAY);
	assert_int_equal(s.k, -GPE_UNKNOWN_KEY);
	assert_string_equal(s.refusal, "");
	assert_non_null(strstr(s.warnings, text));
	/* A list that does not read, or that anyone may write, trusts no key. */
	put(fx, SIGN_KEYS_DIR "/revoked", "0123456789abcdef\n0123456789abcde\n");
	s = verify_seen(fx, fx->a_id, TODAY);
	assert_int_equal(s.k, -GPE_UNKNOWN_KEY);
	assert_non_null(strstr(s.warnings, SIGN_KEYS_DIR "/revoked: line 2: '0123456789abcde' is not a key id (16 hex "
					   "digits); no key is trusted until it can be"));
	put(fx, SIGN_KEYS_DIR "/revoked", "0123456789abcdef\n");
	chmod_in(fx, SIGN_KEYS_DIR "/revoked", 0646);
	s = verify_seen(fx, fx->a_id, TODAY);
	assert_int_equal(s.k, -GPE_UNKNOWN_KEY);
	assert_non_null(strstr(s.warnings, SIGN_KEYS_DIR "/revoked: writable by anyone (mode 0646)"));
}

/* Writes a.pub again with header before its PEM block. */
static void a_pub_with(const struct fixture *fx, const char *header)
{
	char *pem = NULL, text[1024];

	assert_int_equal(root_read_file(fx->r, "build/a.pem", 4096, &pem, NULL), 0);
	snprintf(text, sizeof(text), "%s%s", header, pem);
	put(fx, SIGN_KEYS_DIR "/a.pub", text);
	free(pem);
}

static void test_key_expiry(void **state)
{
	struct fixture *fx = *state;
	char text[256];
	struct seen s;

	copy(fx, SIGN_KEYS_DIR "/a.pub", "build/a.pem");
	a_pub_with(fx, "# the 2026 key\nExpires: 2026-06-01\n\n");
	/* Valid through its last day. */
	s = verify_seen(fx, fx->a_id, "2026-06-01");
	assert_int_equal(s.k, 0);
	assert_string_equal(s.warnings, "");
	s = verify_seen(fx, fx->a_id, "2026-06-02");
	assert_int_equal(s.k, -GPE_KEY_REVOKED);
	snprintf(text, sizeof(text), "key %s, which expired on 2026-06-01 (the Expires line of " SIGN_KEYS_DIR "/a.pub)",
		 fx->a_id);
	assert_string_equal(s.refusal, text);
	assert_non_null(strstr(s.warnings, "; it verifies nothing"));
	/* The clock when no day is given: this one expired long ago. */
	a_pub_with(fx, "expires:   2020-01-31  \n");
	assert_int_equal(verify_seen(fx, fx->a_id, NULL).k, -GPE_KEY_REVOKED);
	a_pub_with(fx, "Expires: 2999-12-31\n");
	assert_int_equal(verify_seen(fx, fx->a_id, NULL).k, 0);
	/* A header that says something else is refused, not read as no expiry. */
	a_pub_with(fx, "Expire: 2999-12-31\n");
	s = verify_seen(fx, fx->a_id, TODAY);
	assert_int_equal(s.k, -GPE_UNKNOWN_KEY);
	assert_non_null(strstr(s.warnings, "a.pub: line 1: 'Expire: 2999-12-31' is neither a comment nor 'Expires: "
					   "YYYY-MM-DD'; the key in it is not trusted"));
	a_pub_with(fx, "Expires: 2026-02-30\n");
	s = verify_seen(fx, fx->a_id, TODAY);
	assert_int_equal(s.k, -GPE_UNKNOWN_KEY);
	assert_non_null(strstr(s.warnings, "line 1: Expires: expected a date YYYY-MM-DD"));
	a_pub_with(fx, "Expires: 2999-12-31\n#\nExpires: 2999-12-31\n");
	assert_non_null(strstr(verify_seen(fx, fx->a_id, TODAY).warnings, "line 3: a second Expires"));
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(gp_strerror(-GPE_SIGNATURE), "signature does not verify");
	assert_string_equal(gp_strerror(-GPE_UNKNOWN_KEY),
			    "signed by a key not in the key directory");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_sign_verify),
		T(test_rfc8032),
		T(test_flipped_data),
		T(test_flipped_signature),
		T(test_other_key),
		T(test_no_keys),
		T(test_garbage_skipped),
		T(test_load_errors),
		T(test_keygen_refuses_overwrite),
		T(test_keygen_files),
		T(test_keygen_host_paths),
		T(test_strict_modes),
		T(test_revoked),
		T(test_key_expiry),
		cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
