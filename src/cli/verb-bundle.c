/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpuprov bundle keygen|create|verify: signed offline bundles for air-gapped sites. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apply/bundle.h"
#include "cli.h"
#include "net/fetch.h"
#include "net/sign.h"
#include "pkg/pkg.h"
#include "plan/plan.h"
#include "profile/knowledge-source.h"
#include "util/archive-lib.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/write.h"

const char verb_bundle_usage[] =
	"keygen KEY | create NAME --os ID-VERSION --arch ARCH --key KEY -o FILE | verify SRC | unpack SRC\n"
	"      [--expires DURATION|DATE] [--sequence N] [--allow-older]\n"
	"  keygen KEY   a new Ed25519 key pair: KEY (private, mode 0600) and KEY.pub; nodes\n"
	"               trust bundles signed with it once KEY.pub is in /etc/gpuprov/keys.d\n"
	"  create NAME  on a connected host: resolve profile NAME for the machine the options\n"
	"               --root and --sysroot describe (a tree of the target OS), download the\n"
	"               exact packages and runfiles of the stack, and write them with a signed\n"
	"               manifest to FILE\n"
	"  verify SRC   fetch or read a bundle and check its signature against the keys in\n"
	"               /etc/gpuprov/keys.d of the root and every file against the manifest;\n"
	"               nothing is unpacked\n"
	"  unpack SRC   the same checks while unpacking into /var/lib/gpuprov/bundles/NAME:\n"
	"               a bundle staged ahead of apply --bundle; nothing is installed\n"
	"  --os ID-VERSION  create: the target OS, e.g. ubuntu-22.04; must be the root's\n"
	"  --arch ARCH  create: x86_64 or aarch64; must be the machine's\n"
	"  --key KEY    create: the private key to sign with\n"
	"  -o, --output FILE  create: where the bundle goes\n"
	"  --expires DURATION|DATE  create: the bundle's last valid day, as a duration from\n"
	"               today (30d, 12w) or a date YYYY-MM-DD; default 90d\n"
	"  --sequence N create: its place among the profile's bundles, higher is newer;\n"
	"               default the seconds since 1970, so a later bundle sorts later\n"
	"  --allow-older  verify, unpack: take a bundle older than the newest this node\n"
	"               accepted for the profile, expired, or without signed freshness\n"
	"               (refused otherwise, exit 3); a warning says so, and unpack records it\n"
	"  --mirror URL verify, unpack: another URL of the same bundle, tried when the first\n"
	"               fails\n"
	"               (repeatable)\n"
	"  --cacert FILE  verify, unpack: trust these CAs for https instead of the system's\n"
	"  --connect-timeout S, --stall-time S, --max-time S, --min-rate RATE\n"
	"               verify, unpack: a transfer's limits, as for apply --bundle\n"
	"  --json       verify: the manifest's summary as JSON\n";

static int with_host_root(struct root **ret)
{
	int k = root_open("/", ret);

	if (k < 0)
		log_error_errno(k, "cannot open /");
	return k;
}

static int bundle_keygen(struct cli *cli, const char *key)
{
	_cleanup_(root_freep) struct root *host = NULL;
	_cleanup_free_ char *priv = NULL, *pub = NULL;
	int k;

	(void)cli;
	if ((k = cli_crypto_library("making keys")) != EXIT_CODE_OK)
		return k;
	if ((k = cli_host_path(key, &priv)) < 0 || asprintf(&pub, "%s.pub", priv) < 0)
		return log_error_errno(k < 0 ? k : -ENOMEM, "%s", key), EXIT_CODE_FAILURE;
	if (with_host_root(&host) < 0)
		return EXIT_CODE_FAILURE;
	k = sign_keygen(host, priv, pub);
	if (k == -EEXIST)
		return log_error("%s: exists; a key is never replaced", priv), EXIT_CODE_USAGE;
	if (k < 0)
		return log_error_errno(k, "%s", priv), EXIT_CODE_FAILURE;
	printf("Wrote %s (private, keep it on the build host) and %s (copy it to /etc/gpuprov/keys.d/ on the nodes).\n",
	       priv, pub);
	return EXIT_CODE_OK;
}

/* Progress on a terminal as a bar redrawn in place; in a log (cloud-init, the journal) a
 * plain line at every tenth. */
struct progress {
	bool tty, drawn;
	int last_tenth;
	time_t started, drawn_at;
};

static void progress_show(void *userdata, uint64_t done, uint64_t total)
{
	struct progress *p = userdata;
	double mib = (double)done / (1 << 20), all = (double)total / (1 << 20);
	time_t now = time(NULL);
	double secs = now > p->started ? (double)(now - p->started) : 1;
	int tenth = total ? (int)(done * 10 / total) : -1;

	if (p->tty) {
		char bar[31];
		int fill = total ? (int)(done * 30 / total) : 0;

		/* Once a second is enough for a person, and costs nothing on a fast link. */
		if (now == p->drawn_at && done != total)
			return;
		p->drawn_at = now;
		memset(bar, '#', (size_t)fill);
		memset(bar + fill, '.', (size_t)(30 - fill));
		bar[30] = '\0';
		fprintf(stderr, "\r[%s] %5.1f%%  %.1f of %.1f MiB  %.1f MiB/s ", bar, total ? 100.0 * (double)done / (double)total : 0.0,
			mib, all, mib / secs);
		p->drawn = true;
	} else if (tenth > p->last_tenth) {
		p->last_tenth = tenth;
		fprintf(stderr, "gpuprov: bundle: %d%% (%.1f of %.1f MiB)\n", tenth * 10, mib, all);
	}
}

/* What a bundle read is judged by before anything is unpacked: the caller's check, then
 * freshness against the node's record. */
struct read_checks {
	const struct cli *cli;
	const struct bundle_accept *next;
	const cJSON *record;
	const char *today;
	char *allowed_why; /* what --allow-older let through, or NULL */
};

static int accept_checked(const struct bundle_manifest *m, void *userdata, char **ret_error)
{
	struct read_checks *c = userdata;
	int k;

	if (c->next && (k = c->next->fn(m, c->next->userdata, ret_error)) < 0)
		return k;
	k = bundle_fresh(m, c->record, c->today, c->cli->allow_older, ret_error);
	if (k == 1) {
		c->allowed_why = TAKE_PTR(*ret_error);
		return 0;
	}
	return k;
}

/* A bundle unpacked: the node's record of the newest one says so, or the next older bundle
 * would be taken. */
static int record_fresh(const struct cli *cli, cJSON *record, const struct bundle_manifest *m, const char *allowed_why)
{
	char when[32];
	int k;

	utc_now(when);
	k = bundle_freshness_save(cli->root, record, m, when, allowed_why);
	if (k < 0)
		return log_error("%s: %s; bundle %s is unpacked, but a later older bundle would not be refused",
				 BUNDLE_FRESHNESS_FILE, gp_strerror(k), m->name),
		       EXIT_CODE_FAILURE;
	return EXIT_CODE_OK;
}

int cli_crypto_library(const char *need)
{
	_cleanup_free_ char *why = NULL;
	int k = dynlib_need(&libcrypto, need, &why);

	if (k < 0)
		return log_error("%s; nothing changed", strna(why)), exit_code_for(k);
	return EXIT_CODE_OK;
}

int cli_bundle_libraries(const char *src, const char *need)
{
	_cleanup_free_ char *why = NULL;
	int k = dynlib_need(&libarchive, need, &why);

	if (k >= 0)
		k = dynlib_need(&libcrypto, need, &why);
	if (k >= 0 && src && strstr(src, "://"))
		k = fetch_ready(&why);
	if (k < 0)
		return log_error("%s%s%s; nothing changed", src ? src : "", src ? ": " : "", strna(why)),
		       exit_code_for(k);
	return EXIT_CODE_OK;
}

/* Reads the bundle at src (a URL, then the --mirror URLs, or a file), checking it, and
 * unpacks it under dest_parent (NULL: only checks). The exit code, or -1 to go on. */
int cli_bundle_read(struct cli *cli, const char *src, const char *dest_parent, const struct bundle_accept *accept,
		    struct bundle_manifest **ret)
{
	_cleanup_(strv_freep) char **urls = NULL, **warnings = NULL;
	_cleanup_(cJSON_Deletep) cJSON *record = NULL;
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *why = NULL;
	char today[DATE_LEN + 1];
	struct progress pr = { .tty = isatty(STDERR_FILENO), .last_tenth = 0, .started = time(NULL) };
	struct read_checks checks = { .cli = cli, .next = accept, .today = cli_today(today) };
	struct bundle_source s = {
		.fd = -EBADF,
		.fetch = { .cacert = cli->cacert, .retries = 3, .connect_timeout_s = cli->connect_timeout_s,
			   .stall_s = cli->stall_s, .max_time_s = cli->max_time_s, .min_rate = cli->min_rate },
		.accept = accept_checked,
		.userdata = &checks,
		.today = today,
	};
	size_t n = 0;
	int k, r;

	if ((k = bundle_freshness_load(cli->root, &record)) < 0)
		return log_error("%s: %s; it records the newest bundle accepted for each profile, without which "
				 "an older one cannot be refused", BUNDLE_FRESHNESS_FILE, gp_strerror(k)),
		       EXIT_CODE_USAGE;
	checks.record = record;
	if (log_get_level() > LOG_LEVEL_ERROR) {
		s.fetch.progress = progress_show;
		s.fetch.userdata = &pr;
	}
	if (strstr(src, "://")) {
		if (strv_push(&urls, &n, src) < 0)
			return log_error_errno(-ENOMEM, "out of memory"), EXIT_CODE_FAILURE;
		for (size_t i = 0; i < cli->n_mirrors; i++)
			if (strv_push(&urls, &n, cli->mirrors[i]) < 0)
				return log_error_errno(-ENOMEM, "out of memory"), EXIT_CODE_FAILURE;
		s.urls = urls;
	} else {
		if (cli->n_mirrors > 0)
			return log_error("--mirror is for a bundle fetched from a URL, not the file %s", src), EXIT_CODE_USAGE;
		if ((fd = open(src, O_RDONLY | O_CLOEXEC)) < 0)
			return log_error_errno(-errno, "%s", src), EXIT_CODE_USAGE;
		s.fd = fd;
	}
	k = bundle_read(&s, cli->root, SIGN_KEYS_DIR, dest_parent, NULL, ret, &why, &warnings);
	if (pr.drawn)
		fputc('\n', stderr);
	for (char **w = warnings; w && *w; w++)
		log_warning("%s", *w);
	if (k >= 0) {
		if (checks.allowed_why)
			log_warning("%s: %s; taken because of --allow-older%s", src, checks.allowed_why,
				    dest_parent ? ", and recorded in /" BUNDLE_FRESHNESS_FILE : "");
		r = dest_parent ? record_fresh(cli, record, *ret, checks.allowed_why) : EXIT_CODE_OK;
		free(checks.allowed_why);
		return r;
	}
	free(checks.allowed_why);
	log_error("%s: %s%s", src, why ? why : gp_strerror(k),
		  dest_parent ? "; nothing was unpacked or installed" : "");
	if (k == -GPE_LIBRARY)
		return EXIT_CODE_LIBRARY;
	/* A bundle that is not what was signed is refused; a transfer that failed is a failure. */
	return k == -EIO || k == -GPE_UNAVAILABLE || k == -ENOMEM || k == -ENOSPC ? EXIT_CODE_FAILURE
											 : EXIT_CODE_REFUSED;
}

static int bundle_verify(struct cli *cli, const char *src)
{
	_cleanup_(bundle_manifest_freep) struct bundle_manifest *m = NULL;
	int r;

	if ((r = cli_bundle_read(cli, src, NULL, NULL, &m)) != EXIT_CODE_OK)
		return r;
	if (cli->json) {
		cJSON *doc = cJSON_CreateObject();

		if (!doc || !cJSON_AddStringToObject(doc, "name", m->name) ||
		    !cJSON_AddStringToObject(doc, "profile", m->profile) || !cJSON_AddStringToObject(doc, "os", m->os) ||
		    !cJSON_AddStringToObject(doc, "arch", m->arch) || !cJSON_AddStringToObject(doc, "key_id", strna(m->key_id)) ||
		    !cJSON_AddNumberToObject(doc, "files", (double)m->n_files) ||
		    !cJSON_AddNumberToObject(doc, "bytes", (double)m->bytes) ||
		    !json_add_str_or_null(doc, "created", m->created) || !json_add_str_or_null(doc, "expires", m->expires) ||
		    !(m->dated ? cJSON_AddNumberToObject(doc, "sequence", (double)m->sequence)
			       : cJSON_AddNullToObject(doc, "sequence")) ||
		    !cJSON_AddItemToObject(doc, "stack", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(m->doc, "stack"), true))) {
			cJSON_Delete(doc);
			return log_error_errno(-ENOMEM, "out of memory"), EXIT_CODE_FAILURE;
		}
		return cli_print_json(doc) < 0 ? EXIT_CODE_FAILURE : EXIT_CODE_OK;
	}
	if (m->dated)
		printf("%s: bundle %s for profile %s on %s %s, sequence %llu, expires %s: %zu files, %llu bytes, signed by "
		       "key %s; all verified.\n",
		       src, m->name, m->profile, m->os, m->arch, (unsigned long long)m->sequence, m->expires, m->n_files,
		       (unsigned long long)m->bytes, strna(m->key_id));
	else
		printf("%s: bundle %s for profile %s on %s %s, undated: %zu files, %llu bytes, signed by key %s; all "
		       "verified.\n",
		       src, m->name, m->profile, m->os, m->arch, m->n_files, (unsigned long long)m->bytes,
		       strna(m->key_id));
	return EXIT_CODE_OK;
}

/* Unless --expires says otherwise, a bundle is good for a quarter: long enough to carry to
 * an air-gapped site, short enough that a stolen old one soon stops working. */
#define BUNDLE_EXPIRES_DAYS 90

/* --expires DURATION|DATE: "30d", "12w", or the last valid day "YYYY-MM-DD". */
static int create_expires(const struct cli *cli, char ret[static DATE_LEN + 1])
{
	const char *spec = cli->expires ? cli->expires : NULL;
	char today[DATE_LEN + 1], unit = 'd';
	unsigned long n = BUNDLE_EXPIRES_DAYS;
	char *end = NULL;

	cli_today(today);
	if (spec && date_ok(spec)) {
		if (strcmp(spec, today) < 0)
			return log_error("--expires %s: that day is past (today is %s)", spec, today), EXIT_CODE_USAGE;
		memcpy(ret, spec, DATE_LEN + 1);
		return EXIT_CODE_OK;
	}
	if (spec) {
		errno = 0;
		n = strtoul(spec, &end, 10);
		unit = *end;
		if (errno || end == spec || !strchr("dw", unit) || !unit || end[1] || n == 0 || n > 100000)
			return log_error("--expires %s: expected a duration like 90d or 12w, or a date YYYY-MM-DD", spec),
			       EXIT_CODE_USAGE;
	}
	if (date_add_days(today, (unsigned)(unit == 'w' ? n * 7 : n), ret) < 0)
		return log_error("--expires %s: out of range", spec), EXIT_CODE_USAGE;
	return EXIT_CODE_OK;
}

/* --sequence N, else the seconds since the epoch: a bundle made later sorts later without
 * anyone counting. */
static int create_sequence(const struct cli *cli, uint64_t *ret)
{
	unsigned long long n;
	char *end = NULL;

	if (!cli->sequence) {
		*ret = (uint64_t)time(NULL);
		return EXIT_CODE_OK;
	}
	errno = 0;
	n = strtoull(cli->sequence, &end, 10);
	if (errno || end == cli->sequence || *end || !isdigit((unsigned char)cli->sequence[0]) || n == 0 ||
	    n > BUNDLE_SEQUENCE_MAX)
		return log_error("--sequence %s: expected a whole number from 1 to %llu", cli->sequence, BUNDLE_SEQUENCE_MAX),
		       EXIT_CODE_USAGE;
	*ret = n;
	return EXIT_CODE_OK;
}

/* The manifest's description of what the bundle is for. */
static cJSON *create_manifest(const struct cli *cli, const struct planned *p, const char *backend, const char *expires,
			      uint64_t sequence)
{
	_cleanup_(cJSON_Deletep) cJSON *m = cJSON_CreateObject();
	const struct resolution *r = p->res;
	_cleanup_free_ char *name = NULL;
	char when[32];
	cJSON *stack, *pkgs;

	utc_now(when);
	if (!m || asprintf(&name, "%s-%s-%s", p->profile->name, cli->os, cli->arch) < 0)
		return NULL;
	if (!cJSON_AddStringToObject(m, "name", name) || !cJSON_AddStringToObject(m, "profile", p->profile->name) ||
	    !cJSON_AddStringToObject(m, "os", cli->os) || !cJSON_AddStringToObject(m, "arch", cli->arch) ||
	    !cJSON_AddStringToObject(m, "backend", backend) || !cJSON_AddStringToObject(m, "created", when) ||
	    !cJSON_AddStringToObject(m, "expires", expires) || !cJSON_AddNumberToObject(m, "sequence", (double)sequence) ||
	    !(stack = cJSON_AddObjectToObject(m, "stack")) || !cJSON_AddStringToObject(stack, "kernel", r->kernel) ||
	    !json_add_str_or_null(stack, "driver", r->driver) || !json_add_str_or_null(stack, "branch", r->branch) ||
	    !json_add_str_or_null(stack, "flavour", r->flavour) ||
	    !cJSON_AddStringToObject(stack, "source", r->source) ||
	    !json_add_str_or_null(stack, "cuda", r->cuda) ||
	    !json_add_str_or_null(stack, "fabricmanager", resolution_has_fabric(r, "fabricmanager") ? r->driver : NULL) ||
	    !(pkgs = cJSON_AddArrayToObject(m, "packages")))
		return NULL;
	for (size_t i = 0; i < r->n_picks; i++) {
		const struct pick *pk = &r->picks[i];
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(pkgs, o) || !cJSON_AddStringToObject(o, "name", pk->name) ||
		    !cJSON_AddStringToObject(o, "version", pk->version) || !cJSON_AddStringToObject(o, "role", pk->role) ||
		    !cJSON_AddStringToObject(o, "via", plan_pick_via(p->facts, r, pk)))
			return NULL;
	}
	return TAKE_PTR(m);
}

/* Every pick of each backend downloaded into dir, then the repository index made: the
 * bundle's files, relative to dir. */
static int create_gather(struct pkg_ctx *c, const struct planned *p, const char *dir, char ***ret_files)
{
	const char *order[] = { pkg_backend_for(p->facts)->name, "runfile" };
	_cleanup_(strv_freep) char **files = NULL;
	const struct resolution *r = p->res;
	struct pkg_want w[r->n_picks ? r->n_picks : 1];

	for (size_t b = 0; b < ELEMENTSOF(order); b++) {
		const struct pkg_backend *be = pkg_backend_by_name(order[b]);
		_cleanup_(strv_freep) char **part = NULL;
		size_t n = 0;
		int k;

		for (size_t i = 0; i < r->n_picks; i++)
			if (streq(plan_pick_via(p->facts, r, &r->picks[i]), order[b]))
				w[n++] = (struct pkg_want){ r->picks[i].name, *r->picks[i].version ? r->picks[i].version : NULL };
		if (n == 0)
			continue;
		if (!be->download || !be->index)
			return pkg_fail(c, -EOPNOTSUPP, "the %s backend cannot make offline bundles yet", be->name);
		if ((k = be->download(c, w, n, dir)) < 0 || (k = be->index(c, dir, &part)) < 0)
			return k;
		if (strv_extend(&files, part) < 0)
			return pkg_fail(c, -ENOMEM, "out of memory");
	}
	*ret_files = TAKE_PTR(files);
	return 0;
}

/* The knowledge this bundle was planned with travels in it, signed with the rest: a node that
 * knows less (older as_of) plans with it (knowledge-source.h). A knowledge file without an
 * as_of (the first format) could never be newer, and stays behind. */
static int create_knowledge(const struct planned *p, const struct root *root, const char *dir, char ***files)
{
	_cleanup_free_ char *text = NULL, *path = NULL;
	size_t len = 0, n;
	int k;

	if (!knowledge_as_of(p->knowledge))
		return 0;
	if ((k = cli_read_host_file(p->kn->path, KNOWLEDGE_MAX, &text, &len)) < 0)
		return log_error_errno(k, "%s", p->kn->path), k;
	if (asprintf(&path, "%s/knowledge.json", dir) < 0)
		return log_error_errno(-ENOMEM, "out of memory"), -ENOMEM;
	if ((k = root_write_atomic(root, path, text, len, 0644)) < 0)
		return log_error_errno(k, "%s", path), k;
	n = strv_length(*files);
	if ((k = strv_push(files, &n, "knowledge.json")) < 0)
		return log_error_errno(k, "out of memory"), k;
	return 0;
}

/* The bundle goes to FILE.partial first and takes its name once whole. */
static int create_write(const char *output, cJSON *manifest, const struct root *root, const char *dir,
			char *const *files, EVP_PKEY *key)
{
	_cleanup_free_ char *partial = NULL, *why = NULL;
	_cleanup_close_ int fd = -EBADF;
	int k;

	if (asprintf(&partial, "%s.partial", output) < 0)
		return log_error_errno(-ENOMEM, "out of memory"), EXIT_CODE_FAILURE;
	if ((fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return log_error_errno(-errno, "%s", partial), EXIT_CODE_FAILURE;
	k = bundle_write(fd, manifest, root, dir, files, key, &why);
	if (k >= 0 && fsync(fd) < 0)
		k = -errno;
	if (k >= 0 && rename(partial, output) < 0)
		k = -errno;
	if (k < 0) {
		(void)unlink(partial);
		return log_error("%s: %s", output, why ? why : gp_strerror(k)), EXIT_CODE_FAILURE;
	}
	return EXIT_CODE_OK;
}

static int bundle_create(struct cli *cli, const struct verb *self, const char *name)
{
	_cleanup_(planned_done) struct planned p = {};
	_cleanup_(root_freep) struct root *host = NULL;
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
	_cleanup_(cJSON_Deletep) cJSON *manifest = NULL;
	_cleanup_(strv_freep) char **files = NULL;
	_cleanup_free_ char *keypath = NULL, *dir = NULL;
	struct pkg_ctx c = {};
	const struct pkg_backend *be;
	char expires[DATE_LEN + 1];
	uint64_t sequence;
	int r, k;

	if ((r = cli_plan_begin(cli, self, name, &p)) != EXIT_CODE_OK)
		return r;
	if (!cli->os || !cli->arch || !cli->key || !cli->output)
		return log_error("bundle create needs --os, --arch, --key and --output"), EXIT_CODE_USAGE;
	if ((r = create_expires(cli, expires)) != EXIT_CODE_OK || (r = create_sequence(cli, &sequence)) != EXIT_CODE_OK)
		return r;
	/* The packages are those the root's package manager resolves: the root must be the
	 * target's OS, or the bundle would hold another distribution's packages. */
	if (!os_spec_matches(cli->os, p.facts->os.id, p.facts->os.version_id) || strchr(cli->os, '*'))
		return log_error("--os %s: the root %s runs %s %s; point --root at a tree of the target OS "
				 "(debootstrap, dnf --installroot)",
				 cli->os, cli->root->path, strna(p.facts->os.id), strna(p.facts->os.version_id)),
		       EXIT_CODE_USAGE;
	if (!streq_ptr(cli->arch, p.facts->cpu.arch))
		return log_error("--arch %s: the machine read under %s is %s", cli->arch,
				 cli->sysroot_path ? cli->sysroot_path : cli->root->path, strna(p.facts->cpu.arch)),
		       EXIT_CODE_USAGE;
	if ((k = cli_host_path(cli->key, &keypath)) < 0 || with_host_root(&host) < 0)
		return EXIT_CODE_FAILURE;
	if ((k = sign_load_private(host, keypath, &key)) < 0)
		return log_error("--key %s: %s", cli->key, gp_strerror(k)), EXIT_CODE_USAGE;
	c = (struct pkg_ctx){ .root = cli->root, .facts = p.facts, .profile = p.profile, .knowledge = p.knowledge };
	if (!(be = pkg_backend_for(p.facts)))
		return log_error("%s: no package backend for this OS family", cli->root->path), EXIT_CODE_REFUSED;
	if ((k = be->refresh(&c)) < 0) {
		log_error("cannot refresh the repository metadata: %s", strna(c.error));
		pkg_ctx_done(&c);
		return EXIT_CODE_FAILURE;
	}
	if ((r = cli_plan_finish(cli, &p)) != EXIT_CODE_OK) {
		pkg_ctx_done(&c);
		return r;
	}
	if (!p.res->ok) {
		pkg_ctx_done(&c);
		return cli_show_plan(cli, &p);
	}
	c.kernel = p.res->kernel;
	c.flavour = p.res->flavour;
	c.branch = p.res->branch;
	if (asprintf(&dir, "var/cache/gpuprov/bundle-%d", (int)getpid()) < 0 ||
	    !(manifest = create_manifest(cli, &p, be->name, expires, sequence))) {
		pkg_ctx_done(&c);
		return log_error_errno(-ENOMEM, "out of memory"), EXIT_CODE_FAILURE;
	}
	(void)root_rm_rf(cli->root, dir);
	if ((k = root_mkdir_p(cli->root, dir, 0755)) < 0) {
		log_error_errno(k, "%s", dir);
		r = EXIT_CODE_FAILURE;
	} else if ((k = create_gather(&c, &p, dir, &files)) < 0) {
		log_error("bundle create: %s", strna(c.error));
		r = exit_code_for(k);
	} else if ((k = create_knowledge(&p, cli->root, dir, &files)) < 0) {
		r = exit_code_for(k);
	} else if ((r = create_write(cli->output, manifest, cli->root, dir, files, key)) == EXIT_CODE_OK) {
		printf("Wrote %s: bundle %s-%s-%s, %zu files, sequence %llu, expires %s, signed by key %s.\n", cli->output,
		       p.profile->name, cli->os, cli->arch, strv_length(files), (unsigned long long)sequence, expires,
		       json_str(manifest, "key_id"));
		r = EXIT_CODE_OK;
	}
	(void)root_rm_rf(cli->root, dir);
	pkg_ctx_done(&c);
	return r;
}

/* Stages a bundle on the node ahead of time: checked and unpacked, nothing installed. */
static int bundle_unpack(struct cli *cli, const char *src)
{
	_cleanup_(bundle_manifest_freep) struct bundle_manifest *m = NULL;
	int r;

	if ((r = cli_bundle_read(cli, src, BUNDLE_DIR, NULL, &m)) != EXIT_CODE_OK)
		return r;
	if (!cli->json)
		printf("Bundle %s verified (key %s) and unpacked in /%s/%s.\n", m->name, strna(m->key_id), BUNDLE_DIR,
		       m->name);
	return EXIT_CODE_OK;
}

/* Each command takes one argument: main() checked that there are two. */
int verb_bundle(struct cli *cli, const struct verb *self, _unused_ int argc, char **argv)
{
	if (streq(argv[0], "create"))
		return bundle_create(cli, self, argv[1]);
	if (streq(argv[0], "keygen"))
		return bundle_keygen(cli, argv[1]);
	if (streq(argv[0], "verify"))
		return bundle_verify(cli, argv[1]);
	if (streq(argv[0], "unpack"))
		return bundle_unpack(cli, argv[1]);
	fprintf(stderr, "gpuprov bundle: unknown command '%s'; try 'gpuprov bundle --help'\n", argv[0]);
	return EXIT_CODE_USAGE;
}
