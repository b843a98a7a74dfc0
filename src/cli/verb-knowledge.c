/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov knowledge show|lint|install|sign: the compatibility knowledge in use, its lint, and
 * newer knowledge taken without a new gpuprov. */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"
#include "net/fetch.h"
#include "net/sign.h"
#include "profile/knowledge-source.h"
#include "profile/profile.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/write.h"

const char verb_knowledge_usage[] =
	"show | lint [FILE] | install FILE|URL [--keys DIR] | sign FILE --key KEY\n"
	"  show         the knowledge in use (shipped, or installed and newer): its file, format,\n"
	"               as_of and age, the entries of each section, and its sources with how\n"
	"               many entries cite each\n"
	"  lint [FILE]  check a knowledge file (default: the one in use): every entry sourced\n"
	"               and dated, no developer-beta driver, ranges not empty, names that exist,\n"
	"               nothing listed twice, no rules that contradict; each finding as\n"
	"               FILE:LINE:COLUMN: path: reason, exit 2 when there is any\n"
	"  install SRC  take a knowledge file (a file or an http(s) URL) signed with a key of\n"
	"               /etc/gpuprov/keys.d (its signature in SRC.sig), lint-clean and not older\n"
	"               than the knowledge in use, as /var/lib/gpuprov/knowledge.json; refused\n"
	"               with nothing changed otherwise (exit 3; exit 2 when lint finds problems)\n"
	"  sign FILE    write FILE.sig, FILE's Ed25519 signature with --key KEY (a private key of\n"
	"               gpuprov bundle keygen)\n"
	"  --keys DIR   install: trust the public keys in DIR instead of the root's keys.d\n"
	"  --key KEY    sign: the private key\n"
	"  --json       show: as JSON\n";

/* The number of entries of each section (an object section is one), in the file's order. */
static cJSON *sections_json(const cJSON *doc)
{
	cJSON *o = cJSON_CreateObject();
	const cJSON *s;

	cJSON_ArrayForEach(s, doc)
		if ((cJSON_IsArray(s) || cJSON_IsObject(s)) &&
		    !cJSON_AddNumberToObject(o, s->string, cJSON_IsArray(s) ? cJSON_GetArraySize(s) : 1))
			return cJSON_Delete(o), NULL;
	return o;
}

static void source_count(cJSON *counts, const cJSON *e)
{
	const char *source = json_str(e, "source");
	cJSON *n;

	if (!source)
		return;
	if ((n = cJSON_GetObjectItemCaseSensitive(counts, source)))
		cJSON_SetNumberValue(n, n->valuedouble + 1);
	else
		cJSON_AddNumberToObject(counts, source, 1);
}

static int by_entries(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

	if (x->valuedouble != y->valuedouble)
		return x->valuedouble < y->valuedouble ? 1 : -1;
	return strcmp(x->string, y->string);
}

/* The distinct sources, most cited first: [{ "source", "entries" }]. */
static cJSON *sources_json(const cJSON *doc)
{
	_cleanup_(cJSON_Deletep) cJSON *counts = cJSON_CreateObject();
	_cleanup_free_ const cJSON **sorted = NULL;
	cJSON *list = cJSON_CreateArray();
	const cJSON *s, *e;
	size_t n = 0;

	if (!counts || !list)
		return cJSON_Delete(list), NULL;
	cJSON_ArrayForEach(s, doc) {
		if (cJSON_IsObject(s))
			source_count(counts, s);
		cJSON_ArrayForEach(e, (cJSON_IsArray(s) ? s : NULL))
			source_count(counts, e);
	}
	if (!(sorted = calloc((size_t)cJSON_GetArraySize(counts) + 1, sizeof(*sorted))))
		return cJSON_Delete(list), NULL;
	cJSON_ArrayForEach(e, counts)
		sorted[n++] = e;
	qsort(sorted, n, sizeof(*sorted), by_entries);
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(list, o) || !cJSON_AddStringToObject(o, "source", sorted[i]->string) ||
		    !cJSON_AddNumberToObject(o, "entries", sorted[i]->valuedouble))
			return cJSON_Delete(list), NULL;
	}
	return list;
}

static int load_in_use(struct cli *cli, struct knowledge_in_use *ret)
{
	struct profile_dirs dirs = {};
	_cleanup_(profile_dirs_closep) struct profile_dirs *d = NULL;
	int r;

	if ((r = cli_profile_dirs(cli, &dirs)) != EXIT_CODE_OK)
		return r;
	d = &dirs;
	return cli_knowledge(cli, d, ret);
}

static int knowledge_show(struct cli *cli)
{
	_cleanup_(knowledge_in_use_done) struct knowledge_in_use u = {};
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	const cJSON *format, *e;
	char today[11];
	long days;
	int r;

	if ((r = load_in_use(cli, &u)) != EXIT_CODE_OK)
		return r;
	format = cJSON_GetObjectItemCaseSensitive(u.k->doc, "format");
	/* A file without "format" is of the first format, which had none. */
	if (!(doc = cli_knowledge_json(&u, cli_today(today))) ||
	    !cJSON_AddNumberToObject(doc, "format", cJSON_IsNumber(format) ? format->valuedouble : 1) ||
	    !cJSON_AddItemToObject(doc, "sections", sections_json(u.k->doc)) ||
	    !cJSON_AddItemToObject(doc, "sources", sources_json(u.k->doc)))
		return log_error_errno(-ENOMEM, "cannot show the knowledge"), EXIT_CODE_FAILURE;
	if (cli->json)
		return cli_print_json(TAKE_PTR(doc));

	(void)knowledge_stale(u.k, today, &days);
	printf("Knowledge   %s (%s)\n", u.path, knowledge_origin_to_string(u.origin));
	printf("Format      %d\n", cJSON_GetObjectItemCaseSensitive(doc, "format")->valueint);
	if (days >= 0)
		printf("As of       %s, %ld days ago%s\n", knowledge_as_of(u.k), days,
		       days > KNOWLEDGE_STALE_DAYS ? ": stale, install newer knowledge" : "");
	else
		printf("As of       unknown (the file has no as_of)\n");
	if (u.passed_over)
		printf("Not used    %s\n", u.passed_over);
	printf("Sections\n");
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "sections"))
		printf("  %-18s %d\n", e->string, e->valueint);
	printf("Sources     %d distinct (entries citing each)\n",
	       cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "sources")));
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "sources"))
		printf("  %4d  %s\n", cJSON_GetObjectItemCaseSensitive(e, "entries")->valueint, json_str(e, "source"));
	return EXIT_CODE_OK;
}

static void print_findings(const char *file, const struct kn_lint *l)
{
	for (size_t i = 0; i < l->n; i++)
		printf("%s:%u:%u: %s%s%s\n", file, l->list[i].line, l->list[i].column, l->list[i].path,
		       *l->list[i].path ? ": " : "", l->list[i].reason);
}

static int knowledge_lint_file(struct cli *cli, const char *file)
{
	_cleanup_(knowledge_in_use_done) struct knowledge_in_use u = {};
	_cleanup_free_ char *text = NULL;
	struct kn_lint l = {};
	char today[11];
	int r, k;

	if (!file) {
		if ((r = load_in_use(cli, &u)) != EXIT_CODE_OK)
			return r;
		file = u.path;
	}
	if ((k = cli_read_host_file(file, KNOWLEDGE_MAX, &text, NULL)) < 0)
		return log_error_errno(k, "%s", file), k == -ENOENT ? EXIT_CODE_USAGE : exit_code_for(k);
	if ((k = knowledge_lint(text, cli_today(today), &l)) < 0)
		return log_error_errno(k, "cannot lint %s", file), EXIT_CODE_FAILURE;
	print_findings(file, &l);
	r = l.n > 0 ? exit_code_for(-GPE_PARSE) : EXIT_CODE_OK;
	if (l.n > 0)
		log_error("%s: %zu problem%s", file, l.n, l.n == 1 ? "" : "s");
	else if (!cli->json)
		printf("%s: clean\n", file);
	kn_lint_done(&l);
	return r;
}

/* Reads a knowledge file and its signature from a file or a URL; sig NULL (and *ret_sig_error
 * why) when there is none. */
static int fetch_to_memory(const char *url, size_t max, char **ret, size_t *ret_size, char **ret_error)
{
	_cleanup_close_ int fd = memfd_create("gpuprov-knowledge", MFD_CLOEXEC);
	char hex[SHA256_HEX_LEN + 1];
	int k;

	if (fd < 0)
		return -errno;
	if ((k = fetch_url(url, fd, max, hex, ret_error)) < 0)
		return k;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	return fd_read_file(fd, max, ret, ret_size);
}

static int read_source(const char *src, const char *suffix, size_t max, char **ret, size_t *ret_size, char **ret_error)
{
	_cleanup_free_ char *name = NULL;

	if (asprintf(&name, "%s%s", src, suffix) < 0)
		return -ENOMEM;
	*ret_error = NULL;
	if (strstr(src, "://"))
		return fetch_to_memory(name, max, ret, ret_size, ret_error);
	return cli_read_host_file(name, max, ret, ret_size);
}

/* Whether src replaces the knowledge in use (*ret_newer), saying so when it does not: the
 * same day is nothing to do, an older one is refused (exit 3). */
static int compare_in_use(const char *src, const char *as_of, const struct knowledge_in_use *u, bool *ret_newer)
{
	const char *in_use = knowledge_as_of(u->k);
	int c = in_use ? strcmp(as_of, in_use) : 1;

	*ret_newer = c > 0;
	if (c < 0)
		return log_error("%s: as of %s, older than the knowledge in use, %s (as of %s); nothing changed", src,
				 as_of, u->path, in_use),
		       EXIT_CODE_REFUSED;
	if (c == 0)
		printf("%s: as of %s, the same as the knowledge in use (%s): nothing to do\n", src, as_of, u->path);
	return EXIT_CODE_OK;
}

static int knowledge_install(struct cli *cli, const char *src)
{
	_cleanup_(knowledge_in_use_done) struct knowledge_in_use u = {};
	_cleanup_(sign_verdict_done) struct sign_verdict v = {}, root_verdict = {};
	_cleanup_(knowledge_freep) struct knowledge *k = NULL;
	_cleanup_(root_freep) struct root *host = NULL;
	_cleanup_free_ char *text = NULL, *sig = NULL, *keys = NULL, *why = NULL;
	const struct root *keys_root = cli->root;
	const char *keys_dir = SIGN_KEYS_DIR;
	size_t len = 0, sig_len = 0;
	struct kn_lint l = {};
	char today[11];
	bool newer;
	int r, e;

	if ((e = read_source(src, "", KNOWLEDGE_MAX, &text, &len, &why)) < 0)
		return log_error("%s: %s; nothing changed", src, why ? why : gp_strerror(e)),
		       e == -ENOENT ? EXIT_CODE_USAGE : exit_code_for(e);
	why = mfree(why);
	/* Unsigned is refused as a signature that does not verify: nothing vouches for it. */
	if ((e = read_source(src, KNOWLEDGE_SIG_SUFFIX, SIGN_SIG_LEN + 1, &sig, &sig_len, &why)) < 0)
		return log_error("%s: not signed: %s%s: %s; sign it with gpuprov knowledge sign; nothing changed", src, src,
				 KNOWLEDGE_SIG_SUFFIX, why ? why : gp_strerror(e)),
		       EXIT_CODE_REFUSED;
	if (cli->keys) {
		if ((e = cli_host_path(cli->keys, &keys)) < 0 || (e = root_open("/", &host)) < 0)
			return log_error_errno(e, "--keys %s", cli->keys), EXIT_CODE_FAILURE;
		keys_root = host;
		keys_dir = keys;
	}
	why = mfree(why);
	e = knowledge_check_signed(keys_root, keys_dir, cli_today(today), text, len, sig, sig_len, &v, &l, &why);
	for (size_t i = 0; i < v.n_warnings; i++)
		log_warning("%s", v.warnings[i]);
	print_findings(src, &l);
	kn_lint_done(&l);
	if (e < 0)
		return log_error("%s: %s; nothing changed", src, strna(why)), exit_code_for(e);
	/* Runs trust the installed file only with a key of the root's keys.d. */
	if (cli->keys && sign_verify_dir(cli->root, SIGN_KEYS_DIR, today, text, len, (const unsigned char *)sig, NULL,
					 &root_verdict) < 0)
		log_warning("%s: no key of the root's %s verifies it: once installed, runs pass it over", src,
			    SIGN_KEYS_DIR);
	why = mfree(why);
	if ((e = knowledge_load_text(src, text, &k, &why)) < 0)
		return log_error("%s; nothing changed", why ? why : gp_strerror(e)), exit_code_for(e);

	if ((r = load_in_use(cli, &u)) != EXIT_CODE_OK ||
	    (r = compare_in_use(src, knowledge_as_of(k), &u, &newer)) != EXIT_CODE_OK || !newer)
		return r;
	/* The signature first: a file beside a signature that is not its own is passed over,
	 * and the shipped knowledge used, should the second write not happen. */
	if ((e = root_write_atomic(cli->root, KNOWLEDGE_INSTALLED_SIG, sig, sig_len, 0644)) < 0 ||
	    (e = root_write_atomic(cli->root, KNOWLEDGE_INSTALLED_FILE, text, len, 0644)) < 0)
		return log_error_errno(e, "cannot write %s/%s", cli->root->path, KNOWLEDGE_INSTALLED_FILE), EXIT_CODE_FAILURE;
	printf("Installed %s (as of %s, signed by key %s) as /%s: the knowledge in use from now on.\n", src,
	       knowledge_as_of(k), v.id, KNOWLEDGE_INSTALLED_FILE);
	return EXIT_CODE_OK;
}

/* Signs as bundle create signs its manifest: the file's bytes, with a keygen key. */
static int knowledge_sign(struct cli *cli, const char *file)
{
	_cleanup_(root_freep) struct root *host = NULL;
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
	_cleanup_free_ char *keypath = NULL, *abs = NULL, *sigpath = NULL, *text = NULL;
	unsigned char sig[SIGN_SIG_LEN];
	char id[SIGN_KEY_ID_LEN + 1];
	size_t len = 0;
	int k;

	if (!cli->key)
		return log_error("knowledge sign needs --key KEY"), EXIT_CODE_USAGE;
	if ((k = cli_crypto_library("signing knowledge")) != EXIT_CODE_OK)
		return k;
	if ((k = cli_host_path(cli->key, &keypath)) < 0 || (k = cli_host_path(file, &abs)) < 0 ||
	    asprintf(&sigpath, "%s%s", abs, KNOWLEDGE_SIG_SUFFIX) < 0 || (k = root_open("/", &host)) < 0)
		return log_error_errno(k < 0 ? k : -ENOMEM, "%s", file), EXIT_CODE_FAILURE;
	if ((k = sign_load_private(host, keypath, &key)) < 0)
		return log_error("--key %s: %s", cli->key, gp_strerror(k)), EXIT_CODE_USAGE;
	if ((k = root_read_file(host, abs, KNOWLEDGE_MAX, &text, &len)) < 0)
		return log_error_errno(k, "%s", file), EXIT_CODE_USAGE;
	if ((k = sign_data(key, text, len, sig)) < 0 || (k = sign_key_id(key, id)) < 0 ||
	    (k = root_write_atomic(host, sigpath, (const char *)sig, sizeof(sig), 0644)) < 0)
		return log_error_errno(k, "cannot sign %s", file), EXIT_CODE_FAILURE;
	printf("Wrote %s (signed by key %s).\n", sigpath, id);
	return EXIT_CODE_OK;
}

int verb_knowledge(struct cli *cli, _unused_ const struct verb *self, int argc, char **argv)
{
	const char *cmd = argv[0], *arg = argc > 1 ? argv[1] : NULL;

	if (streq(cmd, "show") && !arg)
		return knowledge_show(cli);
	if (streq(cmd, "lint"))
		return knowledge_lint_file(cli, arg);
	if (streq(cmd, "install") && arg)
		return knowledge_install(cli, arg);
	if (streq(cmd, "sign") && arg)
		return knowledge_sign(cli, arg);
	fprintf(stderr, "gpuprov knowledge: '%s%s%s' is no command; try 'gpuprov knowledge --help'\n", cmd,
		arg ? " " : "", arg ? arg : "");
	return EXIT_CODE_USAGE;
}
