/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The GPUs' CDI spec: parsed (untrusted: anything may have written it), and held against the
 * device nodes and the driver that run. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "host/cdi.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/strutil.h"

/* A spec of a node's GPUs names a few dozen nodes; more is not a spec of a machine. */
#define CDI_NODES_MAX 4096
/* Each device's name and each path is short; the limit keeps reports readable. */
#define CDI_STRING_MAX 4096

/* The driver's fixed minors (nvidia-modprobe's mknod calls, NVIDIA's driver README "Device
 * files"): the control device 255, modeset 254; nvidia-uvm 0, nvidia-uvm-tools 1. */
#define NVIDIA_CTL_MINOR 255
#define NVIDIA_MODESET_MINOR 254

struct cdi_spec *cdi_spec_free(struct cdi_spec *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_nodes; i++)
		free(s->nodes[i].path), free(s->nodes[i].host_path);
	free(s->nodes);
	strv_free(s->devices);
	free(s->kind);
	free(s->driver_version);
	free(s);
	return NULL;
}

char *cdi_spec_path(const char *dir)
{
	char *p;
	size_t l = strlen(dir);

	return asprintf(&p, "%s%s" CDI_SPEC_NAME, dir, l && dir[l - 1] == '/' ? "" : "/") < 0 ? NULL : p;
}

static bool name_ok(const char *s)
{
	/* CDI's device names: letters, digits, '-', '_', '.', ':' (SPEC.md, "devices"). */
	if (!*s || strlen(s) > CDI_STRING_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.:", *s))
			return false;
	return true;
}

static bool path_ok(const char *s)
{
	return s[0] == '/' && strlen(s) <= CDI_STRING_MAX;
}

/* A number the spec may state for a node: a whole, non-negative one that fits a dev_t part. */
static int node_number(const cJSON *o, const char *key, long *ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*ret = -1;
	if (!v)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 0xfffff || v->valuedouble != (double)(long)v->valuedouble)
		return -GPE_PARSE;
	*ret = (long)v->valuedouble;
	return 0;
}

static int add_node(struct cdi_spec *s, const cJSON *o, const char *where, size_t i, char **ret_error)
{
	const char *path = json_str(o, "path"), *host = json_str(o, "hostPath");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
	struct cdi_node *n;
	long major, minor;

	if (!cJSON_IsObject(o))
		return gp_error_set(ret_error, -GPE_PARSE, "%s.deviceNodes[%zu]: not an object", where, i);
	if (!path || !path_ok(path))
		return gp_error_set(ret_error, -GPE_PARSE, "%s.deviceNodes[%zu].path: %s", where, i,
				    path ? "not an absolute path" : "missing or not a string");
	if (cJSON_GetObjectItemCaseSensitive(o, "hostPath") && (!host || !path_ok(host)))
		return gp_error_set(ret_error, -GPE_PARSE, "%s.deviceNodes[%zu].hostPath: not an absolute path", where, i);
	/* GPUs are character devices; "b" or anything else is not a spec of theirs. */
	if (type && !(cJSON_IsString(type) && streq(type->valuestring, "c")))
		return gp_error_set(ret_error, -GPE_PARSE, "%s.deviceNodes[%zu].type: expected \"c\"", where, i);
	if (node_number(o, "major", &major) < 0 || node_number(o, "minor", &minor) < 0)
		return gp_error_set(ret_error, -GPE_PARSE, "%s.deviceNodes[%zu]: major and minor must be whole numbers from 0",
				    where, i);
	/* Each node once: the same node comes in "0", its UUID's device and "all". */
	for (size_t j = 0; j < s->n_nodes; j++)
		if (streq(s->nodes[j].path, path) && streq_ptr(s->nodes[j].host_path, host)) {
			if ((major >= 0 && s->nodes[j].major >= 0 && major != s->nodes[j].major) ||
			    (minor >= 0 && s->nodes[j].minor >= 0 && minor != s->nodes[j].minor))
				return gp_error_set(ret_error, -GPE_PARSE, "%s.deviceNodes[%zu]: %s is given two numbers", where,
						    i, path);
			return 0;
		}
	if (s->n_nodes >= CDI_NODES_MAX)
		return gp_error_set(ret_error, -GPE_PARSE, "%s.deviceNodes: more than %d nodes", where, CDI_NODES_MAX);
	n = realloc(s->nodes, (s->n_nodes + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->nodes = n;
	n = &n[s->n_nodes];
	*n = (struct cdi_node){ strdup(path), host ? strdup(host) : NULL, major, minor };
	if (!n->path || (host && !n->host_path)) {
		free(n->path), free(n->host_path);
		return -ENOMEM;
	}
	s->n_nodes++;
	return 0;
}

/* "libcuda.so.550.54.15" -> "550.54.15": the driver's libraries carry its version in their
 * file names; NULL for any other file. */
static const char *library_version(const char *path)
{
	static const char *const libs[] = { "libcuda.so.", "libnvidia-ml.so." };
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path, *v;

	for (size_t i = 0; i < ELEMENTSOF(libs); i++)
		if ((v = startswith(base, libs[i])) && isdigit((unsigned char)*v) && strchr(v, '.') &&
		    strspn(v, "0123456789.") == strlen(v))
			return v;
	return NULL;
}

static int add_mount(struct cdi_spec *s, const cJSON *o, const char *where, size_t i, char **ret_error)
{
	const char *host = json_str(o, "hostPath"), *cont = json_str(o, "containerPath"), *v;

	if (!cJSON_IsObject(o) || !host || !cont)
		return gp_error_set(ret_error, -GPE_PARSE, "%s.mounts[%zu]: expected an object with hostPath and containerPath",
				    where, i);
	if (!(v = library_version(cont)) && !(v = library_version(host)))
		return 0;
	if (s->driver_version && !streq(s->driver_version, v))
		return gp_error_set(ret_error, -GPE_PARSE, "%s.mounts[%zu]: %s is of driver %s, another mount of %s", where, i,
				    cont, v, s->driver_version);
	return s->driver_version || (s->driver_version = strdup(v)) ? 0 : -ENOMEM;
}

static int parse_edits(struct cdi_spec *s, const cJSON *edits, const char *where, char **ret_error)
{
	const cJSON *nodes, *mounts, *e;
	size_t i = 0;
	int k;

	if (!edits)
		return 0;
	if (!cJSON_IsObject(edits))
		return gp_error_set(ret_error, -GPE_PARSE, "%s: not an object", where);
	nodes = cJSON_GetObjectItemCaseSensitive(edits, "deviceNodes");
	mounts = cJSON_GetObjectItemCaseSensitive(edits, "mounts");
	if ((nodes && !cJSON_IsArray(nodes)) || (mounts && !cJSON_IsArray(mounts)))
		return gp_error_set(ret_error, -GPE_PARSE, "%s: deviceNodes and mounts must be arrays", where);
	cJSON_ArrayForEach(e, nodes)
		if ((k = add_node(s, e, where, i++, ret_error)) < 0)
			return k;
	i = 0;
	cJSON_ArrayForEach(e, mounts)
		if ((k = add_mount(s, e, where, i++, ret_error)) < 0)
			return k;
	return 0;
}

int cdi_spec_parse(const char *text, size_t len, struct cdi_spec **ret, char **ret_error)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = cJSON_ParseWithLength(text, len);
	_cleanup_(cdi_spec_freep) struct cdi_spec *s = calloc(1, sizeof(*s));
	const char *version, *kind;
	const cJSON *devices, *d;
	char where[64];
	size_t i = 0;
	int k;

	if (!s)
		return -ENOMEM;
	if (!cJSON_IsObject(doc))
		return gp_error_set(ret_error, -GPE_PARSE, "not a JSON object");
	version = json_str(doc, "cdiVersion");
	kind = json_str(doc, "kind");
	if (!version || !*version)
		return gp_error_set(ret_error, -GPE_PARSE, "cdiVersion: missing or not a string");
	/* kind is "vendor/class" (SPEC.md). */
	if (!kind || !strchr(kind, '/') || strchr(kind, '/') == kind || !strchr(kind, '/')[1] || strlen(kind) > CDI_STRING_MAX)
		return gp_error_set(ret_error, -GPE_PARSE, "kind: expected \"vendor/class\"");
	devices = cJSON_GetObjectItemCaseSensitive(doc, "devices");
	if (!cJSON_IsArray(devices) || cJSON_GetArraySize(devices) == 0)
		return gp_error_set(ret_error, -GPE_PARSE, "devices: missing or empty");
	if (!(s->kind = strdup(kind)))
		return -ENOMEM;
	cJSON_ArrayForEach(d, devices) {
		const char *name = json_str(d, "name");

		if (!cJSON_IsObject(d) || !name || !name_ok(name))
			return gp_error_set(ret_error, -GPE_PARSE, "devices[%zu].name: missing, or not a CDI device name", i);
		if (strv_contains(s->devices, name))
			return gp_error_set(ret_error, -GPE_PARSE, "devices[%zu].name: \"%s\" is there twice", i, name);
		if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(d, "containerEdits")))
			return gp_error_set(ret_error, -GPE_PARSE, "devices[%zu].containerEdits: missing or not an object", i);
		if (strv_push(&s->devices, &s->n_devices, name) < 0)
			return -ENOMEM;
		snprintf(where, sizeof(where), "devices[%zu].containerEdits", i++);
		if ((k = parse_edits(s, cJSON_GetObjectItemCaseSensitive(d, "containerEdits"), where, ret_error)) < 0)
			return k;
	}
	if ((k = parse_edits(s, cJSON_GetObjectItemCaseSensitive(doc, "containerEdits"), "containerEdits", ret_error)) < 0)
		return k;
	*ret = TAKE_PTR(s);
	return 0;
}

int cdi_spec_load(const struct root *root, const char *path, struct cdi_spec **ret, char **ret_error)
{
	_cleanup_free_ char *text = NULL, *why = NULL;
	size_t len = 0;
	int k = root_read_file(root, path, CDI_SPEC_MAX, &text, &len);

	if (k < 0)
		return gp_error_set(ret_error, k, "%s: %s", path, gp_strerror(k));
	if ((k = cdi_spec_parse(text, len, ret, &why)) < 0)
		return gp_error_set(ret_error, k, "%s: %s", path, why ? why : gp_strerror(k));
	return 0;
}

/* The majors the kernel gave the driver's character devices, from /proc/devices. */
struct majors {
	long nvidia, uvm, caps;
};

static int read_majors(const struct root *sys, struct majors *ret)
{
	_cleanup_free_ char *text = NULL;
	bool chr = false;
	int k = root_read_file(sys, "proc/devices", 1u << 20, &text, NULL);

	*ret = (struct majors){ -1, -1, -1 };
	if (k < 0)
		return k;
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[64];
		long major;

		if (startswith(l, "Character devices:") || startswith(l, "Block devices:")) {
			chr = startswith(l, "Character");
			continue;
		}
		if (!chr || sscanf(l, "%ld %63s", &major, name) != 2)
			continue;
		/* The GPUs' major is "nvidia-frontend" where the driver loads that way, else "nvidia". */
		if (streq(name, "nvidia-frontend") || (streq(name, "nvidia") && ret->nvidia < 0))
			ret->nvidia = major;
		else if (streq(name, "nvidia-uvm"))
			ret->uvm = major;
		else if (streq(name, "nvidia-caps"))
			ret->caps = major;
	}
	return 0;
}

/* The minors of the GPUs the driver has, each GPU's "Device Minor". */
static int read_gpu_minors(const struct root *sys, char ***ret)
{
	_cleanup_(strv_freep) char **gpus = NULL, **minors = NULL;
	size_t n = 0;
	char path[512];
	int k = root_list_dir(sys, "proc/driver/nvidia/gpus", &gpus);

	if (k < 0 && k != -ENOENT)
		return k;
	for (char **g = gpus; g && *g; g++) {
		_cleanup_free_ char *info = NULL;
		const char *m;

		if (snprintf(path, sizeof(path), "proc/driver/nvidia/gpus/%s/information", *g) >= (int)sizeof(path) ||
		    root_read_file(sys, path, 1u << 16, &info, NULL) < 0 || !(m = strstr(info, "Device Minor:")))
			continue;
		m += strlen("Device Minor:");
		m += strspn(m, " \t");
		if (strv_pushf(&minors, &n, "%.*s", (int)strspn(m, "0123456789"), m) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(minors);
	return 0;
}

/* What the driver gives the node at path: major and minor (-1 where it does not fix one),
 * and the name of the /proc/devices entry the major comes from. false: not a node of the
 * driver's (a DRI node), which is held only to the spec's own numbers. */
static bool node_wanted(const char *path, const struct majors *mj, long *ret_major, long *ret_minor, const char **ret_from)
{
	const char *n = startswith(path, "/dev/"), *idx;

	*ret_major = *ret_minor = -1;
	if (!n)
		return false;
	if (startswith(n, "nvidia-caps/")) {
		*ret_major = mj->caps, *ret_from = "nvidia-caps";
		return true;
	}
	*ret_from = "nvidia";
	if (streq(n, "nvidiactl"))
		*ret_major = mj->nvidia, *ret_minor = NVIDIA_CTL_MINOR;
	else if (streq(n, "nvidia-modeset"))
		*ret_major = mj->nvidia, *ret_minor = NVIDIA_MODESET_MINOR;
	else if (streq(n, "nvidia-uvm") || streq(n, "nvidia-uvm-tools"))
		*ret_major = mj->uvm, *ret_minor = streq(n, "nvidia-uvm") ? 0 : 1, *ret_from = "nvidia-uvm";
	else if ((idx = startswith(n, "nvidia")) && *idx && strspn(idx, "0123456789") == strlen(idx) && strlen(idx) < 6)
		*ret_major = mj->nvidia, *ret_minor = atol(idx);
	else
		return false;
	return true;
}

static int check_node(const struct root *root, const struct cdi_node *n, const struct majors *mj, char *const *minors,
		      char ***problems, size_t *np)
{
	const char *where = n->host_path ? n->host_path : n->path, *from = NULL;
	bool ours;
	long want_major, want_minor;
	struct stat st;
	int k = root_stat(root, where, &st);

	if (k < 0)
		return strv_pushf(problems, np, "%s named by the spec %s", where, k == -ENOENT ? "is missing" : gp_strerror(k));
	if (!S_ISCHR(st.st_mode))
		return strv_pushf(problems, np, "%s is not a character device", where);
	if ((n->major >= 0 && (long)major(st.st_rdev) != n->major) || (n->minor >= 0 && (long)minor(st.st_rdev) != n->minor))
		return strv_pushf(problems, np, "%s is %u:%u, the spec says %ld:%ld", where, major(st.st_rdev),
				  minor(st.st_rdev), n->major, n->minor);
	ours = node_wanted(n->path, mj, &want_major, &want_minor, &from);
	if (!ours)
		return 0;
	if (want_major < 0)
		return strv_pushf(problems, np, "%s: /proc/devices has no %s major (the driver's module is not loaded)",
				  where, from);
	if ((long)major(st.st_rdev) != want_major || (want_minor >= 0 && (long)minor(st.st_rdev) != want_minor))
		return strv_pushf(problems, np, "%s is %u:%u, the driver's is %ld:%ld (%s in /proc/devices)", where,
				  major(st.st_rdev), minor(st.st_rdev), want_major, want_minor, from);
	/* /dev/nvidiaN is a GPU the driver has: one whose Device Minor is N. */
	if (want_major == mj->nvidia && want_minor < NVIDIA_MODESET_MINOR) {
		char m[24];

		snprintf(m, sizeof(m), "%ld", want_minor);
		if (!strv_contains(minors, m))
			return strv_pushf(problems, np, "%s: no GPU of the driver has Device Minor %ld", where, want_minor);
	}
	return 0;
}

int cdi_spec_check(const struct root *root, const struct root *sys, const struct cdi_spec *s, const char *driver,
		   char ***ret_problems, char **ret_read)
{
	_cleanup_(strv_freep) char **problems = NULL, **minors = NULL;
	_cleanup_free_ char *gpus = NULL;
	struct majors mj;
	size_t np = 0;
	int k;

	if ((k = read_majors(sys, &mj)) < 0 && k != -ENOENT)
		return k;
	if (k == -ENOENT && strv_push(&problems, &np, "/proc/devices cannot be read") < 0)
		return -ENOMEM;
	if ((k = read_gpu_minors(sys, &minors)) < 0)
		return k;
	for (size_t i = 0; i < s->n_nodes; i++)
		if ((k = check_node(root, &s->nodes[i], &mj, minors, &problems, &np)) < 0)
			return k;
	if (!s->driver_version)
		k = strv_push(&problems, &np, "the spec mounts no versioned driver library (libcuda.so.VERSION)");
	else if (!driver)
		k = strv_pushf(&problems, &np, "the spec is of driver %s; no running driver is known", s->driver_version);
	else if (!streq(s->driver_version, driver))
		k = strv_pushf(&problems, &np, "the spec is of driver %s, the running one is %s", s->driver_version, driver);
	if (k < 0)
		return k;
	if (!(gpus = minors ? strv_join(minors, ",") : strdup("none")))
		return -ENOMEM;
	if (ret_read &&
	    asprintf(ret_read, "%s, %zu devices, %zu nodes, driver %s; /proc/devices: nvidia %ld, nvidia-uvm %ld, nvidia-caps %ld; GPU minors %s; running driver %s",
		     s->kind, s->n_devices, s->n_nodes, strna(s->driver_version), mj.nvidia, mj.uvm, mj.caps,
		     *gpus ? gpus : "none", strna(driver)) < 0)
		return -ENOMEM;
	*ret_problems = TAKE_PTR(problems);
	return (int)np;
}

int cdi_refresh_spec_conflicts(const struct root *root, const char *ours)
{
	_cleanup_free_ char *text = NULL, *theirs = NULL, *mine = NULL;
	int k;

	if (root_chase(root, CDI_REFRESH_SPEC, &theirs) < 0 || root_chase(root, ours, &mine) < 0 || streq(theirs, mine))
		return 0;
	if ((k = root_read_file(root, CDI_REFRESH_SPEC, CDI_SPEC_MAX, &text, NULL)) < 0)
		return k == -ENOENT ? 0 : k;
	/* nvidia-ctk writes YAML there: "kind: nvidia.com/gpu" on a line of its own. */
	return strstr(text, "\nkind: " CDI_KIND "\n") || strstr(text, "\"kind\":\"" CDI_KIND "\"") ? 1 : 0;
}

int cdi_spec_audit(const struct root *root, const struct root *sys, const char *dir, const char *driver,
		   char ***ret_problems, char **ret_read)
{
	_cleanup_(cdi_spec_freep) struct cdi_spec *s = NULL;
	_cleanup_free_ char *path = cdi_spec_path(dir), *why = NULL;
	_cleanup_(strv_freep) char **problems = NULL;
	size_t n = 0;
	int k;

	if (!path)
		return -ENOMEM;
	k = cdi_spec_load(root, path, &s, &why);
	if (k == -ENOMEM)
		return k;
	if (k < 0) {
		/* Missing or unreadable: a problem of the spec, which a new one cures. */
		if (strv_push(&problems, &n, k == -ENOENT ? "no CDI spec" : why) < 0 ||
		    (ret_read && asprintf(ret_read, "%s", path) < 0))
			return -ENOMEM;
		*ret_problems = TAKE_PTR(problems);
		return 1;
	}
	if ((k = cdi_spec_check(root, sys, s, driver, &problems, &why)) < 0)
		return k;
	n = (size_t)k;
	k = cdi_refresh_spec_conflicts(root, path);
	if (k > 0 && strv_push(&problems, &n, "a second spec of " CDI_KIND ", " CDI_REFRESH_SPEC
					      " (NVIDIA's nvidia-cdi-refresh.service), makes CDI refuse its devices") < 0)
		return -ENOMEM;
	*ret_problems = TAKE_PTR(problems);
	if (ret_read && asprintf(ret_read, "%s: %s", path, why) < 0)
		return -ENOMEM;
	return (int)n;
}
