/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NVIDIA's .run installers, where NVIDIA ships no package for the OS (openEuler and Kylin on
 * arm64): fetched from the profile's mirror, checked against a SHA-256 that the
 * profile or the knowledge vouches for, run silently inside the target, and recorded in
 * var/lib/gpuprov/runfiles.json so that they can be uninstalled exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "net/fetch.h"
#include "pkg/pkg.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/jsonpath.h"
#include "util/strutil.h"
#include "util/write.h"

#define CACHE_DIR "var/lib/gpuprov/cache"
#define RECORD "var/lib/gpuprov/runfiles.json"
#define RECORD_MAX (1024 * 1024)
/* The CUDA toolkit runfile is about 5 GiB; nothing NVIDIA ships is near 16. */
#define RUNFILE_MAX (16ull << 30)

enum runfile_kind { RUNFILE_DRIVER, RUNFILE_CUDA, RUNFILE_UNKNOWN };

/* NVIDIA-Linux-<arch>-<version>.run, cuda_<version>_<driver>_linux[_sbsa].run. */
static enum runfile_kind kind_of(const char *file)
{
	if (startswith(file, "NVIDIA-Linux-"))
		return RUNFILE_DRIVER;
	if (startswith(file, "cuda_"))
		return RUNFILE_CUDA;
	return RUNFILE_UNKNOWN;
}

/* The digest the profile or the knowledge gives for a file, and where it came from. */
static const char *trusted_digest(const struct pkg_ctx *c, const char *file, const char **ret_from)
{
	const cJSON *pin = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c->profile->doc, "runfile"), "sha256"), file);
	const cJSON *kn;

	if (cJSON_IsString(pin)) {
		*ret_from = "the profile's runfile.sha256";
		return pin->valuestring;
	}
	kn = c->knowledge ? kn_runfile(c->knowledge, file) : NULL;
	if (kn) {
		*ret_from = json_str(kn, "source");
		return json_str(kn, "sha256");
	}
	return NULL;
}

static const char *mirror_of(const struct pkg_ctx *c)
{
	return json_str(cJSON_GetObjectItemCaseSensitive(c->profile->doc, "runfile"), "mirror");
}

/* The cached file, when it is there with the expected digest. */
static int cached_ok(const struct pkg_ctx *c, const char *path, const char *want)
{
	_cleanup_close_ int fd = root_open_regular(c->root, path);
	char got[SHA256_HEX_LEN + 1];

	if (fd < 0)
		return 0;
	return sha256_fd(fd, got) >= 0 && streq(got, want);
}

static int fetch_one(struct pkg_ctx *c, const struct pkg_want *w)
{
	_cleanup_free_ char *url = NULL, *path = NULL, *part = NULL, *why = NULL;
	_cleanup_close_ int dfd = -EBADF, fd = -EBADF;
	char got[SHA256_HEX_LEN + 1];
	const char *from = NULL, *want, *mirror = mirror_of(c);
	int k;

	if (kind_of(w->name) == RUNFILE_UNKNOWN || strchr(w->name, '/'))
		return pkg_fail(c, -EINVAL, "%s: not an NVIDIA driver or CUDA runfile name", w->name);
	want = trusted_digest(c, w->name, &from);
	if (!want)
		return pkg_fail(c, -GPE_DIGEST,
				"%s: no SHA-256 to check it against: neither the profile's runfile.sha256 nor the "
				"knowledge names one; it is not run unchecked",
				w->name);
	if (asprintf(&path, CACHE_DIR "/%s", w->name) < 0 || asprintf(&part, "%s.part", w->name) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	/* Fetched before, or placed there from an offline bundle: checked all the same. */
	if (cached_ok(c, path, want) > 0)
		return 0;
	if (!mirror)
		return pkg_fail(c, -GPE_UNAVAILABLE, "%s: the profile names no runfile.mirror to fetch it from", w->name);
	if (asprintf(&url, "%s%s%s", mirror, endswith(mirror, "/") ? "" : "/", w->name) < 0)
		return pkg_fail(c, -ENOMEM, "out of memory");
	/* libcurl before the download cache is made: without it nothing is. */
	if ((k = fetch_ready(&why)) < 0)
		return pkg_fail(c, k, "%s: %s", w->name, strna(why));
	if ((k = root_mkdir_p(c->root, CACHE_DIR, 0700)) < 0 ||
	    (dfd = root_open_at(c->root, CACHE_DIR, O_DIRECTORY | O_RDONLY | O_CLOEXEC)) < 0)
		return pkg_fail(c, k < 0 ? k : dfd, "%s: cannot make the download cache: %s", CACHE_DIR,
				gp_strerror(k < 0 ? k : dfd));
	fd = openat(dfd, part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return pkg_fail(c, -errno, "%s/%s: %s", CACHE_DIR, part, strerror(errno));
	k = fetch_url(url, fd, RUNFILE_MAX, got, &why);
	if (k >= 0 && fsync(fd) < 0)
		k = -errno;
	if (k < 0) {
		(void)unlinkat(dfd, part, 0);
		return pkg_fail(c, k == -GPE_UNAVAILABLE ? k : k == -GPE_TOOBIG ? k : -GPE_UNAVAILABLE,
				"%s: cannot fetch %s: %s", w->name, url, why ? why : gp_strerror(k));
	}
	if (!streq(got, want)) {
		(void)unlinkat(dfd, part, 0);
		return pkg_fail(c, -GPE_DIGEST, "%s from %s: SHA-256 %s, but %s says %s; not run", w->name, url, got,
				strna(from), want);
	}
	if (renameat(dfd, part, dfd, w->name) < 0 || fsync(dfd) < 0)
		return pkg_fail(c, -errno, "%s: %s", path, strerror(errno));
	return 0;
}

static int record_load(struct pkg_ctx *c, cJSON **ret);

static int runfile_preflight(struct pkg_ctx *c, const struct pkg_want *w, size_t n)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	int k;

	/* The record install adds to and remove goes by: refused now, before anything changes,
	 * rather than once a runfile has run. */
	if ((k = record_load(c, &doc)) < 0)
		return k;
	/* Every file fetched and verified before the first one runs. */
	for (size_t i = 0; i < n; i++)
		if ((k = fetch_one(c, &w[i])) < 0)
			return k;
	return 0;
}

/* The arguments NVIDIA documents for an unattended install (see gpuprov(8), RUNFILES). */
static int install_args(const struct pkg_ctx *c, const struct pkg_want *w, char ***ret)
{
	_cleanup_(strv_freep) char **v = NULL;
	size_t n = 0;
	int k = 0;

	if (kind_of(w->name) == RUNFILE_DRIVER) {
		k |= strv_push(&v, &n, "--silent");
		/* DKMS rebuilds the modules for every kernel gpuprov installs, the pinned one first. */
		k |= strv_push(&v, &n, "--dkms");
		if (streq_ptr(c->flavour, "open"))
			k |= strv_push(&v, &n, "-m=kernel-open");
		if (c->kernel)
			k |= strv_pushf(&v, &n, "--kernel-name=%s", c->kernel);
	} else {
		k |= strv_push(&v, &n, "--silent");
		/* The toolkit only: the driver is the one gpuprov resolved, installed above. */
		k |= strv_push(&v, &n, "--toolkit");
	}
	if (k < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(v);
	return 0;
}

/* The command that undoes an install, as the installer leaves it on the machine. */
static int uninstall_args(const struct pkg_want *w, char ***ret)
{
	_cleanup_(strv_freep) char **v = NULL;
	size_t n = 0;
	char series[64];
	int k = 0;

	if (kind_of(w->name) == RUNFILE_DRIVER) {
		k |= strv_push(&v, &n, "nvidia-uninstall");
		k |= strv_push(&v, &n, "--silent");
	} else {
		/* cuda_12.4.1_... -> /usr/local/cuda-12.4/bin/cuda-uninstaller */
		const char *ver = w->version;
		size_t dot1 = strcspn(ver, "."), dot2 = ver[dot1] ? dot1 + 1 + strcspn(ver + dot1 + 1, ".") : dot1;

		snprintf(series, sizeof(series), "%.*s", (int)dot2, ver);
		k |= strv_pushf(&v, &n, "/usr/local/cuda-%s/bin/cuda-uninstaller", series);
		k |= strv_push(&v, &n, "--silent");
	}
	if (k < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(v);
	return 0;
}

/* What is wrong with one entry of the record, or NULL; ret_key: the member at fault. */
static const char *record_entry_error(const cJSON *e, const char **ret_key)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(e, "uninstall"), *a;

	*ret_key = NULL;
	if (!cJSON_IsObject(e))
		return "expected an object for each runfile installed";
	*ret_key = "file";
	if (!json_str(e, "file") || kind_of(json_str(e, "file")) == RUNFILE_UNKNOWN || strchr(json_str(e, "file"), '/'))
		return "expected the name of an NVIDIA driver or CUDA runfile";
	*ret_key = "version";
	if (!json_str(e, "version"))
		return "expected the version installed, a string";
	*ret_key = "uninstall";
	if (!cJSON_IsArray(u) || cJSON_GetArraySize(u) == 0)
		return "expected the command that uninstalls it, a list of words";
	cJSON_ArrayForEach(a, u)
		if (!cJSON_IsString(a))
			return "expected the command that uninstalls it, a list of words (strings)";
	return NULL;
}

/*
 * runfiles.json, every entry as install and remove need it; an empty list when there is
 * none. A file that does not parse is refused with its name, the place and the reason in
 * c->error (-GPE_PARSE): gpuprov uninstalls by it, and guesses nothing.
 */
static int record_load(struct pkg_ctx *c, cJSON **ret)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	const char *end = NULL, *why, *key;
	struct jsonpath path = {};
	struct jsonpos pos = { 1, 1 };
	char where[128];
	const cJSON *e;
	int k = root_read_file(c->root, RECORD, RECORD_MAX, &text, NULL), i = 0;

	if (k == -ENOENT)
		return (*ret = cJSON_CreateArray()) ? 0 : pkg_fail(c, -ENOMEM, "out of memory");
	if (k < 0)
		return pkg_fail(c, k, "%s: %s", RECORD, gp_strerror(k));
	if (!(doc = cJSON_ParseWithOpts(text, &end, true))) {
		pos = jsonpos_of(text, end && end >= text ? (size_t)(end - text) : 0);
		return pkg_fail(c, -GPE_PARSE, "%s:%u:%u: not JSON; gpuprov uninstalls its runfiles by this file", RECORD,
				pos.line, pos.column);
	}
	if (!cJSON_IsArray(doc))
		return pkg_fail(c, -GPE_PARSE, "%s:1:1: (top level): expected a list of the runfiles gpuprov installed",
				RECORD);
	cJSON_ArrayForEach(e, doc) {
		if ((why = record_entry_error(e, &key))) {
			jsonpath_push_index(&path, i);
			if (key && cJSON_GetObjectItemCaseSensitive(e, key))
				jsonpath_push_key(&path, key);
			(void)jsonpath_locate(text, &path, false, &pos);
			jsonpath_format(&path, where, sizeof(where));
			return pkg_fail(c, -GPE_PARSE, "%s:%u:%u: %s%s%s: %s", RECORD, pos.line, pos.column, where,
					key && !cJSON_GetObjectItemCaseSensitive(e, key) ? "." : "",
					key && !cJSON_GetObjectItemCaseSensitive(e, key) ? key : "", why);
		}
		i++;
	}
	*ret = TAKE_PTR(doc);
	return 0;
}

static int record_save(const struct pkg_ctx *c, cJSON *doc)
{
	_cleanup_free_ char *text = cJSON_Print(doc);
	_cleanup_free_ char *line = NULL;

	if (!text || asprintf(&line, "%s\n", text) < 0)
		return -ENOMEM;
	return root_write_atomic(c->root, RECORD, line, strlen(line), 0644);
}

/* Drops the record of a file's kind (one driver, one toolkit per machine), returns it. */
static cJSON *record_take(cJSON *doc, enum runfile_kind kind)
{
	cJSON *e;

	cJSON_ArrayForEach(e, doc)
		if (json_str(e, "file") && kind_of(json_str(e, "file")) == kind)
			return cJSON_DetachItemViaPointer(doc, e);
	return NULL;
}

static int runfile_install(struct pkg_ctx *c, const struct pkg_want *w, size_t n)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	int k;

	if ((k = record_load(c, &doc)) < 0)
		return k;
	for (size_t i = 0; i < n; i++) {
		_cleanup_(strv_freep) char **args = NULL, **argv = NULL, **undo = NULL;
		_cleanup_(cJSON_Deletep) cJSON *old = NULL;
		const char *from = NULL, *digest = trusted_digest(c, w[i].name, &from);
		size_t len = 0;
		cJSON *e;

		if ((k = install_args(c, &w[i], &args)) < 0 || (k = uninstall_args(&w[i], &undo)) < 0 ||
		    strv_push(&argv, &len, "sh") < 0 || strv_pushf(&argv, &len, "/" CACHE_DIR "/%s", w[i].name) < 0)
			return pkg_fail(c, -ENOMEM, "out of memory");
		for (char **a = args; *a; a++)
			if (strv_push(&argv, &len, *a) < 0)
				return pkg_fail(c, -ENOMEM, "out of memory");
		if ((k = pkg_run(c, SPAWN_IN_ROOT, argv, NULL, NULL)) < 0)
			return k;
		/* What was installed, exactly, and how to take it away again. */
		old = record_take(doc, kind_of(w[i].name));
		e = cJSON_CreateObject();
		if (!e || !cJSON_AddItemToArray(doc, e) || !cJSON_AddStringToObject(e, "file", w[i].name) ||
		    !cJSON_AddStringToObject(e, "version", w[i].version ? w[i].version : "") ||
		    !cJSON_AddStringToObject(e, "sha256", strna(digest)) || json_add_strv(e, "args", args) < 0 ||
		    json_add_strv(e, "uninstall", undo) < 0)
			return pkg_fail(c, -ENOMEM, "out of memory");
		if ((k = record_save(c, doc)) < 0)
			return pkg_fail(c, k, "%s: %s", RECORD, gp_strerror(k));
	}
	return 0;
}

static int runfile_remove(struct pkg_ctx *c, const struct pkg_want *w, size_t n)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	int k;

	if ((k = record_load(c, &doc)) < 0)
		return k;
	for (size_t i = 0; i < n; i++) {
		_cleanup_(cJSON_Deletep) cJSON *e = record_take(doc, kind_of(w[i].name));
		_cleanup_(strv_freep) char **argv = NULL;
		const cJSON *a;
		size_t len = 0;

		if (!e || !streq_ptr(json_str(e, "file"), w[i].name))
			return pkg_fail(c, -ENOENT, "%s: not recorded as installed by gpuprov", w[i].name);
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(e, "uninstall"))
			if (!cJSON_IsString(a) || strv_push(&argv, &len, a->valuestring) < 0)
				return pkg_fail(c, -GPE_PARSE, "%s: a bad uninstall command", RECORD);
		if (!argv)
			return pkg_fail(c, -GPE_PARSE, "%s: no uninstall command for %s", RECORD, w[i].name);
		if ((k = pkg_run(c, SPAWN_IN_ROOT, argv, NULL, NULL)) < 0 || (k = record_save(c, doc)) < 0)
			return c->error ? k : pkg_fail(c, k, "%s: %s", RECORD, gp_strerror(k));
	}
	return 0;
}

static int runfile_installed(struct pkg_ctx *c, const char *name, char **ret_version)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	const cJSON *e;
	int k;

	*ret_version = NULL;
	if ((k = record_load(c, &doc)) < 0)
		return k;
	cJSON_ArrayForEach(e, doc)
		if (streq_ptr(json_str(e, "file"), name))
			return (*ret_version = strdup(strna(json_str(e, "version")))) ? 1 : -ENOMEM;
	return 0;
}

/* Runfiles are not package-managed: nothing else moves them, nothing to hold or keep. */
static int runfile_nothing(struct pkg_ctx *c _unused_, const struct pkg_want *w _unused_, size_t n _unused_)
{
	return 0;
}

static int runfile_keep_kernel(struct pkg_ctx *c _unused_, const char *release _unused_)
{
	return 0;
}

static int runfile_refresh(struct pkg_ctx *c _unused_)
{
	return 0;
}

/* Links name from one directory of the root into another (both under var/lib/gpuprov). */
static int link_into(struct pkg_ctx *c, const char *from_dir, const char *to_dir, const char *name)
{
	_cleanup_close_ int from = root_open_at(c->root, from_dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int to = -EBADF;
	int k;

	if (from < 0)
		return pkg_fail(c, from, "%s: %s", from_dir, gp_strerror(from));
	if ((k = root_mkdir_p(c->root, to_dir, 0700)) < 0 ||
	    (to = k = root_open_at(c->root, to_dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC)) < 0)
		return pkg_fail(c, k, "%s: %s", to_dir, gp_strerror(k));
	(void)unlinkat(to, name, 0);
	if (linkat(from, name, to, name, 0) < 0)
		return pkg_fail(c, -errno, "%s/%s: %s", to_dir, name, strerror(errno));
	return 0;
}

/* Each runfile fetched and checked as preflight does, then placed in dir. */
static int runfile_download(struct pkg_ctx *c, const struct pkg_want *w, size_t n, const char *dir)
{
	int k;

	for (size_t i = 0; i < n; i++)
		if ((k = fetch_one(c, &w[i])) < 0 || (k = link_into(c, CACHE_DIR, dir, w[i].name)) < 0)
			return k;
	return 0;
}

/* A bundle's runfiles are its files as they are: no index to make. */
static int runfile_index(struct pkg_ctx *c, const char *dir, char ***ret_files)
{
	int k = pkg_list_files(c, dir, ".run", ret_files);

	return k < 0 ? k : 0;
}

int runfile_adopt(struct pkg_ctx *c, const char *dir)
{
	_cleanup_(strv_freep) char **runs = NULL;
	int k;

	if ((k = pkg_list_files(c, dir, ".run", &runs)) < 0)
		return k;
	for (char **r = runs; *r; r++)
		if ((k = link_into(c, dir, CACHE_DIR, *r)) < 0)
			return k;
	return 0;
}

const struct pkg_backend pkg_runfile = {
	.name = "runfile",
	.refresh = runfile_refresh,
	.preflight = runfile_preflight,
	.install = runfile_install,
	.hold = runfile_nothing,
	.unhold = runfile_nothing,
	.keep_kernel = runfile_keep_kernel,
	.installed = runfile_installed,
	.remove = runfile_remove,
	.download = runfile_download,
	.index = runfile_index,
};
