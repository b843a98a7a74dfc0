/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The profile format, as a table the validator walks. gpuprov-profile(5) documents it. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "host/facts.h"
#include "profile/framework.h"
#include "profile/profile.h"
#include "profile/validate.h"
#include "util/errors.h"
#include "util/macro.h"

enum ftype {
	F_STRING,
	F_BOOL,
	F_ENUM,
	F_NAME,           /* profile name */
	F_BRANCH,
	F_DRIVER_VERSION,
	F_SERIES,         /* kernel series "6.8" */
	F_RELEASE,        /* kernel release "6.8.0-49-generic" */
	F_TOOLKIT,        /* CUDA "12.4" */
	F_STRINGS,        /* array of non-empty strings */
	F_KERNEL_ARGS,    /* array of kernel arguments: "iommu=pt", no shell metacharacters */
	F_NAMES,          /* array of profile names */
	F_ENUMS,          /* array of enum values */
	F_GPU_IDS,        /* array of "10de:2330" */
	F_CONFIGS,        /* array of "CONFIG_*" */
	F_SCALAR_MAP,     /* object: key -> string or number */
	F_NCCL_MAP,       /* object: NCCL_* -> string or number */
	F_MODULE_OPTIONS, /* object: module -> scalar map */
	F_MEMLOCK,        /* "unlimited" or a positive integer */
	F_URL,            /* http:// or https:// */
	F_DIGEST_MAP,     /* object: file name -> 64 hex digits of SHA-256 */
	F_ARGV,           /* a command: a non-empty array of non-empty strings */
	F_SECONDS,        /* a whole number of seconds, 0 or more */
	F_NODE,           /* a scheduler's node name: a hostname */
	F_ABS_PATH,       /* a path in the root, from "/" */
	F_CTK,            /* NVIDIA Container Toolkit: "1.17.8", "latest-for-driver" or "none" */
	F_OBJECT,
	F_OVERRIDES,
	F_FRAMEWORKS,     /* array of { name, version, variant } */
	F_FW_VERSION,     /* a framework release: "2.7.1", "0.10.0", "25.10", "1.3.0rc24" */
	F_FW_VARIANT,     /* a wheel's build: "cu128", "cpu" */
	F_INT,            /* a whole number from field.min to field.max */
	F_LIMIT,          /* F_INT, or false: the check is off */
	F_CLOCKS,         /* [min, max] MHz, each from field.min to field.max, min <= max */
	F_MIG_LAYOUT,     /* array of GPU instance profile names: "1g.10gb", "3g.40gb", "1g.10gb+me" */
};

struct field {
	const char *key;
	enum ftype type;
	const struct field *children; /* F_OBJECT */
	const char *const *values;    /* F_ENUM, F_ENUMS */
	long long min, max;           /* F_INT, F_LIMIT, F_CLOCKS */
};

static const char *const archs[] = { "x86_64", "aarch64", NULL };
static const char *const families[] = { "debian", "rhel", "openeuler", "kylin", NULL };
static const char *const flavours[] = { "open", "proprietary", "auto", NULL };
static const char *const sources[] = { "distro", "nvidia-repo", "runfile", "none", NULL };
static const char *const unknown_gpu[] = { "warn", "refuse", NULL };
static const char *const fm_modes[] = { "auto", "on", "off", NULL };
static const char *const schedulers[] = { "slurm", "kubernetes", "none", NULL };
static const char *const cdi_dirs[] = { "/var/run/cdi", "/etc/cdi", NULL };
static const char *const toolkits[] = { "auto", "none", NULL };

#define FIELD(k, t) { .key = k, .type = t }
#define OBJ(k, c) { .key = k, .type = F_OBJECT, .children = c }
#define ENUM(k, v) { .key = k, .type = F_ENUM, .values = v }
#define ENUMS(k, v) { .key = k, .type = F_ENUMS, .values = v }
#define INT(k, t, lo, hi) { .key = k, .type = t, .min = lo, .max = hi }

static const struct field kernel_fields[] = {
	FIELD("series", F_SERIES), FIELD("min", F_SERIES), FIELD("max", F_SERIES),
	FIELD("release", F_RELEASE), FIELD("flavour", F_STRING), FIELD("hwe", F_BOOL), {},
};
static const struct field driver_fields[] = {
	FIELD("branch", F_BRANCH),	     FIELD("min_branch", F_BRANCH),
	FIELD("min_version", F_DRIVER_VERSION), ENUM("flavour", flavours),
	ENUM("source", sources), FIELD("allow_eol", F_BOOL),
	FIELD("allow_nfb", F_BOOL), ENUM("unknown_gpu", unknown_gpu),
	{},
};
static const struct field cuda_fields[] = {
	FIELD("version", F_TOOLKIT), FIELD("min_version", F_TOOLKIT), FIELD("framework", F_STRING),
	FIELD("minor_version_compat", F_BOOL), ENUM("toolkit", toolkits), {},
};
static const struct field framework_fields[] = {
	{ .key = "name", .type = F_ENUM, .values = framework_names }, FIELD("version", F_FW_VERSION),
	FIELD("variant", F_FW_VARIANT), {},
};
static const struct field modprobe_fields[] = {
	FIELD("blacklist", F_STRINGS), FIELD("options", F_MODULE_OPTIONS), {},
};
static const struct field rdma_fields[] = { FIELD("modules", F_STRINGS), FIELD("memlock", F_MEMLOCK), {} };
static const struct field cmdline_fields[] = { FIELD("add", F_KERNEL_ARGS), FIELD("remove", F_KERNEL_ARGS), {} };
static const struct field services_fields[] = { FIELD("enable", F_STRINGS), FIELD("disable", F_STRINGS), {} };
static const char *const pcie_modes[] = { "max", "width", "off", NULL };
static const char *const compute_modes[] = { "default", "exclusive_process", "prohibited", NULL };
/* DCGM's run levels: 1 quick (seconds), 2 medium (minutes), 3 and 4 long; 0: no diagnostic. */
static const struct field diag_fields[] = { INT("level", F_INT, 0, 4), FIELD("timeout", F_SECONDS), {} };
/* The health gate: each check's threshold, false for off (gpuprov-profile(5), "verify"). */
static const struct field verify_fields[] = {
	FIELD("reboot", F_BOOL),
	INT("ecc_uncorrected_max", F_LIMIT, 0, 1000000),
	FIELD("retired_pages", F_BOOL),
	ENUM("pcie", pcie_modes),
	FIELD("nvlink", F_BOOL),
	FIELD("persistence", F_BOOL),
	FIELD("throttle", F_BOOL),
	INT("temperature_max", F_LIMIT, 20, 120),
	OBJ("diag", diag_fields),
	FIELD("site_timeout", F_SECONDS),
	{},
};
static const struct field mig_fields[] = { FIELD("mode", F_BOOL), FIELD("layout", F_MIG_LAYOUT), {} };
/* The GPUs' declared state, set at every boot (gpuprov-profile(5), "gpu"). */
static const struct field gpu_fields[] = {
	FIELD("persistence", F_BOOL),
	OBJ("mig", mig_fields),
	INT("power_limit_w", F_LIMIT, 50, 2000),
	INT("locked_clocks", F_CLOCKS, 100, 5000),
	FIELD("ecc", F_BOOL),
	ENUM("compute_mode", compute_modes),
	{},
};
static const struct field runfile_fields[] = { FIELD("mirror", F_URL), FIELD("sha256", F_DIGEST_MAP), {} };
static const struct field maintenance_fields[] = {
	ENUM("scheduler", schedulers), FIELD("node", F_NODE), FIELD("drain_timeout", F_SECONDS),
	FIELD("kubeconfig", F_ABS_PATH), FIELD("pre", F_ARGV), FIELD("post", F_ARGV), {},
};
static const struct field container_fields[] = {
	FIELD("toolkit", F_CTK), ENUMS("runtimes", container_runtime_names), FIELD("cdi", F_BOOL),
	ENUM("cdi_dir", cdi_dirs), FIELD("default_runtime", F_BOOL), {},
};
static const struct field match_fields[] = {
	FIELD("gpus", F_GPU_IDS), ENUMS("arch", archs), FIELD("os", F_STRINGS),
	FIELD("nvswitch", F_BOOL), {},
};
static const struct field when_fields[] = {
	ENUM("arch", archs), ENUM("os_family", families), FIELD("os", F_STRING), {},
};

/* What a profile and each of its overrides may set. */
#define BODY_FIELDS                                                                          \
	OBJ("kernel", kernel_fields), OBJ("driver", driver_fields),        \
	OBJ("cuda", cuda_fields), ENUM("fabricmanager", fm_modes),      \
	FIELD("packages", F_STRINGS), OBJ("modprobe", modprobe_fields),                \
	FIELD("sysctl", F_SCALAR_MAP), FIELD("nccl", F_NCCL_MAP), OBJ("rdma", rdma_fields), \
	OBJ("cmdline", cmdline_fields), OBJ("services", services_fields),  \
	FIELD("kernel_config", F_CONFIGS), OBJ("runfile", runfile_fields),        \
	FIELD("install_recommends", F_BOOL), OBJ("verify", verify_fields),             \
	OBJ("maintenance", maintenance_fields), OBJ("container", container_fields),    \
	OBJ("gpu", gpu_fields)

static const struct field override_fields[] = {
	OBJ("when", when_fields), BODY_FIELDS, {},
};
static const struct field top_fields[] = {
	FIELD("$schema", F_STRING), FIELD("name", F_NAME), FIELD("description", F_STRING),
	FIELD("include", F_NAMES), OBJ("match", match_fields), BODY_FIELDS,
	FIELD("framework", F_FRAMEWORKS), FIELD("overrides", F_OVERRIDES), {},
};

/* Digits only, n of them. */
static int digits(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789") == n;
}

int valid_branch(const char *s)
{
	/* The oldest branch of any datacenter GPU gpuprov knows is R390-era; 3 digits. */
	return digits(s, 3) && atoi(s) >= 390;
}

int valid_driver_version(const char *s)
{
	/* "535.129.03", "570.26": a branch, then one or two dotted numbers. */
	const char *p = s;
	int parts = 0;

	if (!(strlen(s) > 3 && strspn(s, "0123456789") == 3 && s[3] == '.' && atoi(s) >= 390))
		return 0;
	p = s + 3;
	while (*p == '.') {
		size_t n = strspn(p + 1, "0123456789");

		if (n < 2 || n > 3)
			return 0;
		p += 1 + n;
		parts++;
	}
	return *p == '\0' && parts >= 1 && parts <= 2;
}

int valid_series(const char *s)
{
	size_t a = strspn(s, "0123456789");

	return a >= 1 && a <= 2 && s[a] == '.' && strspn(s + a + 1, "0123456789") >= 1 &&
	       s[a + 1 + strspn(s + a + 1, "0123456789")] == '\0';
}

/* A kernel release as uname -r prints it: starts with its series, then letters, digits and
 * the punctuation distributions use ("6.8.0-49-generic", "5.14.0-503.14.1.el9_5.x86_64",
 * "6.8.0-1017-nvidia-64k"); it ends up in file names and GRUB entries. */
static int valid_release(const char *s)
{
	size_t a = strspn(s, "0123456789"), n = strlen(s);

	return a >= 1 && s[a] == '.' && n < 128 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+~-") == n;
}

static int valid_toolkit(const char *s)
{
	return valid_series(s) && atoi(s) >= 10;
}

/* The toolkit's release versions are three dotted numbers ("1.17.8"); its release
 * candidates ("1.18.0~rc.1") are not production releases and are refused here. */
static int valid_ctk(const char *s)
{
	const char *p = s;

	if (streq(s, "latest-for-driver") || streq(s, "none"))
		return 1;
	for (int part = 0; part < 3; part++) {
		size_t n = strspn(p, "0123456789");

		if (n < 1 || n > 3 || p[n] != (part < 2 ? '.' : '\0'))
			return 0;
		p += n + 1;
	}
	return 1;
}

/* A GPU instance profile as nvidia-smi mig -lgip names it: slices "g.", memory "gb", and
 * where the profile has one a suffix of its media engines or graphics: "+me" (with the
 * media extensions), "-me" (without), "+me.all" (all of the GPU's), "+gfx". */
static int valid_mig_profile(const char *s)
{
	size_t n = strspn(s, "0123456789");

	if (n < 1 || n > 1 || s[0] == '0' || !startswith(s + n, "g."))
		return 0;
	s += n + 2;
	n = strspn(s, "0123456789");
	if (n < 1 || n > 4 || s[0] == '0' || !startswith(s + n, "gb"))
		return 0;
	s += n + 2;
	return !*s || streq(s, "+me") || streq(s, "-me") || streq(s, "+me.all") || streq(s, "+gfx");
}

static int valid_name(const char *s)
{
	if (!*s || strlen(s) > 64 || !(islower((unsigned char)*s) || isdigit((unsigned char)*s)))
		return 0;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-')
			return 0;
	return 1;
}

static int valid_gpu_id(const char *s)
{
	return strlen(s) == 9 && s[4] == ':' && strspn(s, "0123456789abcdef") == 4 &&
	       strspn(s + 5, "0123456789abcdef") == 4;
}

static int valid_config(const char *s)
{
	const char *rest = startswith(s, "CONFIG_");

	return rest && *rest && strspn(rest, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == strlen(rest);
}

/* Arrays of a profile are lists a person writes; thousands of items are a mistake (and
 * would make merging slow). */
#define ARRAY_MAX 1024

/* Text that goes into config files verbatim: no control characters at all (a newline in a
 * blacklist entry would smuggle in an "install" line), and no blanks in a name. */
static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static bool is_token(const char *s)
{
	return *s && !has_control(s) && !strpbrk(s, " \t");
}

static bool in_list(const char *s, const char *const *values)
{
	for (; *values; values++)
		if (streq(s, *values))
			return true;
	return false;
}

/* What was found, for the message: the value itself when short, else its JSON type. */
static void describe(const cJSON *v, char *buf, size_t size)
{
	if (cJSON_IsString(v)) {
		size_t n = 0;

		if (strlen(v->valuestring) > 40) {
			snprintf(buf, size, "a string of %zu characters", strlen(v->valuestring));
			return;
		}
		/* Quoted, control characters escaped: the message stays one line. */
		buf[n++] = '"';
		for (const char *p = v->valuestring; *p && n + 6 < size; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				n += (size_t)snprintf(buf + n, size - n, "\\x%02x", (unsigned char)*p);
			else
				buf[n++] = *p;
		snprintf(buf + n, size - n, "\"");
	} else if (cJSON_IsNumber(v)) {
		char *s = cJSON_PrintUnformatted(v);

		snprintf(buf, size, "%s", s ? s : "a number");
		free(s);
	} else if (cJSON_IsBool(v))
		snprintf(buf, size, "%s", cJSON_IsTrue(v) ? "true" : "false");
	else if (cJSON_IsNull(v))
		snprintf(buf, size, "null");
	else if (cJSON_IsArray(v))
		snprintf(buf, size, "an array");
	else
		snprintf(buf, size, "an object");
}

static int fail(const cJSON *v, char **ret_message, const char *expected)
{
	char found[256];

	describe(v, found, sizeof(found));
	if (asprintf(ret_message, "expected %s, got %s", expected, found) < 0)
		*ret_message = NULL;
	return -GPE_PARSE;
}

static char *enum_text(const char *const *values)
{
	char buf[256];
	size_t n = 0;

	buf[0] = '\0';
	for (const char *const *v = values; *v && n < sizeof(buf); v++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\"%s\"", v == values ? "one of " : ", ", *v);
	return strdup(buf);
}

struct vctx {
	struct jsonpath *path;
	int *at_key;
	char **message;
};

static int check_fields(const struct vctx *c, const cJSON *obj, const struct field *fields);

static int check_string_item(const struct vctx *c, const cJSON *v, enum ftype type,
			     const char *const *values)
{
	if (!cJSON_IsString(v) || !*v->valuestring)
		return fail(v, c->message, type == F_NAMES ? "a profile name" : "a non-empty string");
	if (!is_token(v->valuestring))
		return fail(v, c->message, "a name without blanks or control characters");
	switch (type) {
	case F_NAMES:
		return valid_name(v->valuestring) ? 0 : fail(v, c->message, "a profile name like \"base\"");
	case F_GPU_IDS:
		return valid_gpu_id(v->valuestring) ? 0 : fail(v, c->message, "a PCI id like \"10de:2330\"");
	case F_CONFIGS:
		if (!valid_config(v->valuestring))
			return fail(v, c->message, "a kernel option like \"CONFIG_IO_URING\"");
		/* Only the options detect reads from a kernel's config can be required. */
		for (int o = 0; o < _KCONFIG_MAX; o++)
			if (kconfig_rules[o].want_set && streq(kconfig_rules[o].name, v->valuestring))
				return 0;
		return fail(v, c->message, "one of the options gpuprov checks: CONFIG_CGROUPS, CONFIG_CGROUP_BPF, "
					   "CONFIG_IO_URING, CONFIG_HMM_MIRROR, CONFIG_DEVICE_PRIVATE, CONFIG_MODULE_SIG");
	case F_KERNEL_ARGS:
		/* They end up in files GRUB's shell scripts source: letters, digits and the
		 * punctuation kernel parameters use, nothing a shell would read. */
		if (strspn(v->valuestring, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._,:/=+-@") !=
		    strlen(v->valuestring))
			return fail(v, c->message, "a kernel argument of letters, digits and . _ , : / = + - @");
		return 0;
	case F_ENUMS:
		if (!in_list(v->valuestring, values)) {
			_cleanup_free_ char *e = enum_text(values);

			return fail(v, c->message, e ? e : "a known value");
		}
		return 0;
	default:
		return 0;
	}
}

static int check_array(const struct vctx *c, const cJSON *v, enum ftype type, const char *const *values)
{
	const cJSON *item;
	int i = 0, k;

	if (!cJSON_IsArray(v))
		return fail(v, c->message, "an array of strings");
	if (cJSON_GetArraySize(v) > ARRAY_MAX)
		return fail(v, c->message, "an array of at most 1024 items");
	cJSON_ArrayForEach(item, v) {
		jsonpath_push_index(c->path, i++);
		k = check_string_item(c, item, type, values);
		if (k < 0)
			return k;
		jsonpath_pop(c->path);
	}
	return 0;
}

static int check_scalar_map(const struct vctx *c, const cJSON *v, bool nccl)
{
	const cJSON *item;

	if (!cJSON_IsObject(v))
		return fail(v, c->message, "an object");
	if (cJSON_GetArraySize(v) > ARRAY_MAX)
		return fail(v, c->message, "an object of at most 1024 keys");
	cJSON_ArrayForEach(item, v) {
		jsonpath_push_key(c->path, item->string);
		if (!is_token(item->string) || strchr(item->string, '=')) {
			*c->at_key = 1;
			if (asprintf(c->message, "expected a key without blanks, '=' or control characters, got \"%s\"",
				     item->string) < 0)
				*c->message = NULL;
			return -GPE_PARSE;
		}
		if (cJSON_IsString(item) && has_control(item->valuestring))
			return fail(item, c->message, "a value without control characters");
		if (nccl && !startswith(item->string, "NCCL_")) {
			*c->at_key = 1;
			if (asprintf(c->message, "expected a key starting with NCCL_, got \"%s\"", item->string) < 0)
				*c->message = NULL;
			return -GPE_PARSE;
		}
		if (!(cJSON_IsString(item) && *item->valuestring) && !cJSON_IsNumber(item))
			return fail(item, c->message, "a string or a number");
		/* "auto" is derived from the machine, and only where gpuprov knows how. */
		if (nccl && cJSON_IsString(item) && streq(item->valuestring, "auto") &&
		    !streq(item->string, "NCCL_IB_HCA") && !streq(item->string, "NCCL_SOCKET_IFNAME"))
			return fail(item, c->message, "a value (\"auto\" only for NCCL_IB_HCA and NCCL_SOCKET_IFNAME)");
		jsonpath_pop(c->path);
	}
	return 0;
}

/* "framework": the frameworks the node serves, each named and at a release. */
static int check_frameworks(const struct vctx *c, const cJSON *v)
{
	const cJSON *item;
	int i = 0, k;

	if (!cJSON_IsArray(v))
		return fail(v, c->message, "an array of frameworks like [{ \"name\": \"vllm\", \"version\": \"0.10.0\" }]");
	/* A node serves a few images; dozens are a mistake. */
	if (cJSON_GetArraySize(v) > 32)
		return fail(v, c->message, "an array of at most 32 frameworks");
	cJSON_ArrayForEach(item, v) {
		jsonpath_push_index(c->path, i++);
		if (!cJSON_IsObject(item))
			return fail(item, c->message, "an object with \"name\" and \"version\"");
		if ((k = check_fields(c, item, framework_fields)) < 0)
			return k;
		if (!cJSON_GetObjectItemCaseSensitive(item, "name") || !cJSON_GetObjectItemCaseSensitive(item, "version"))
			return fail(item, c->message, "a framework with both \"name\" and \"version\"");
		jsonpath_pop(c->path);
	}
	return 0;
}

static int check_value(const struct vctx *c, const cJSON *v, const struct field *f)
{
	const cJSON *item;
	char expected[160];
	int i = 0, k;

	switch (f->type) {
	case F_STRING:
		if (!cJSON_IsString(v))
			return fail(v, c->message, "a string");
		return has_control(v->valuestring) ? fail(v, c->message, "one line of text, without control characters") : 0;
	case F_BOOL:
		return cJSON_IsBool(v) ? 0 : fail(v, c->message, "true or false");
	case F_ENUM:
		if (!cJSON_IsString(v) || !in_list(v->valuestring, f->values)) {
			_cleanup_free_ char *e = enum_text(f->values);

			return fail(v, c->message, e ? e : "a known value");
		}
		return 0;
	case F_NAME:
		return cJSON_IsString(v) && valid_name(v->valuestring)
			       ? 0 : fail(v, c->message, "a profile name of lower-case letters, digits and '-'");
	case F_BRANCH:
		return cJSON_IsString(v) && valid_branch(v->valuestring)
			       ? 0 : fail(v, c->message, "a driver branch like \"550\" (3 digits, 390 or newer)");
	case F_DRIVER_VERSION:
		return cJSON_IsString(v) && valid_driver_version(v->valuestring)
			       ? 0 : fail(v, c->message, "a driver version like \"535.129.03\"");
	case F_SERIES:
		return cJSON_IsString(v) && valid_series(v->valuestring)
			       ? 0 : fail(v, c->message, "a kernel series like \"6.8\"");
	case F_RELEASE:
		return cJSON_IsString(v) && valid_release(v->valuestring)
			       ? 0 : fail(v, c->message, "a kernel release like \"6.8.0-49-generic\" (as uname -r prints it)");
	case F_TOOLKIT:
		return cJSON_IsString(v) && valid_toolkit(v->valuestring)
			       ? 0 : fail(v, c->message, "a CUDA version like \"12.4\" (10.0 or newer)");
	case F_STRINGS:
	case F_KERNEL_ARGS:
	case F_NAMES:
	case F_ENUMS:
	case F_GPU_IDS:
	case F_CONFIGS:
		return check_array(c, v, f->type, f->values);
	case F_SCALAR_MAP:
	case F_NCCL_MAP:
		return check_scalar_map(c, v, f->type == F_NCCL_MAP);
	case F_MODULE_OPTIONS:
		if (!cJSON_IsObject(v))
			return fail(v, c->message, "an object of module names");
		cJSON_ArrayForEach(item, v) {
			jsonpath_push_key(c->path, item->string);
			if ((k = check_scalar_map(c, item, false)) < 0)
				return k;
			jsonpath_pop(c->path);
		}
		return 0;
	case F_MEMLOCK:
		if (cJSON_IsString(v) && streq(v->valuestring, "unlimited"))
			return 0;
		if (cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble == (double)(long long)v->valuedouble)
			return 0;
		return fail(v, c->message, "\"unlimited\" or a positive number of KiB");
	case F_URL:
		if (!cJSON_IsString(v) || !(startswith(v->valuestring, "http://") || startswith(v->valuestring, "https://")) ||
		    strpbrk(v->valuestring, " \t\n"))
			return fail(v, c->message, "an http:// or https:// URL");
		return 0;
	case F_DIGEST_MAP:
		if (!cJSON_IsObject(v))
			return fail(v, c->message, "an object of file names and SHA-256 digests");
		cJSON_ArrayForEach(item, v) {
			jsonpath_push_key(c->path, item->string);
			if (!cJSON_IsString(item) || strlen(item->valuestring) != 64 ||
			    strspn(item->valuestring, "0123456789abcdef") != 64)
				return fail(item, c->message, "64 lowercase hex digits (a SHA-256)");
			jsonpath_pop(c->path);
		}
		return 0;
	case F_ARGV:
		/* A command run as root: its words as they are, no shell to read them. */
		if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 0) {
			if (asprintf(c->message, "expected a command as a non-empty array of strings, like "
						 "[\"/usr/local/sbin/site-drain\", \"--now\"], got an empty array") < 0)
				*c->message = NULL;
			return -GPE_PARSE;
		}
		if (!cJSON_IsArray(v))
			return fail(v, c->message, "a command as a non-empty array of strings, like [\"/usr/local/sbin/site-drain\", \"--now\"]");
		if (cJSON_GetArraySize(v) > ARRAY_MAX)
			return fail(v, c->message, "an array of at most 1024 items");
		cJSON_ArrayForEach(item, v) {
			jsonpath_push_index(c->path, i++);
			if (!cJSON_IsString(item) || !*item->valuestring || has_control(item->valuestring))
				return fail(item, c->message, "a non-empty string without control characters");
			jsonpath_pop(c->path);
		}
		return 0;
	case F_SECONDS:
		/* Up to a week: a drain that takes longer is a mistake in the profile. */
		if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 604800 &&
		    v->valuedouble == (double)(long long)v->valuedouble)
			return 0;
		return fail(v, c->message, "a whole number of seconds from 0 to 604800");
	case F_NODE:
		/* Passed to scontrol and kubectl as a word: a hostname (RFC 1123), nothing else. */
		if (cJSON_IsString(v) && *v->valuestring && strlen(v->valuestring) <= 253 && *v->valuestring != '-' &&
		    strspn(v->valuestring, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") ==
			    strlen(v->valuestring))
			return 0;
		return fail(v, c->message, "a node name like \"gpu-a-017\" (letters, digits, '.', '-', '_')");
	case F_ABS_PATH:
		if (cJSON_IsString(v) && v->valuestring[0] == '/' && !has_control(v->valuestring))
			return 0;
		return fail(v, c->message, "an absolute path like \"/etc/gpuprov/kubeconfig\"");
	case F_CTK:
		return cJSON_IsString(v) && valid_ctk(v->valuestring)
			       ? 0 : fail(v, c->message, "an NVIDIA Container Toolkit version like \"1.17.8\", \"latest-for-driver\" or \"none\"");
	case F_OBJECT:
		if (!cJSON_IsObject(v))
			return fail(v, c->message, "an object");
		return check_fields(c, v, f->children);
	case F_FRAMEWORKS:
		return check_frameworks(c, v);
	case F_FW_VERSION:
		/* Digits first, then what release numbers hold: dots, "rc", "post", "a0". */
		if (cJSON_IsString(v) && isdigit((unsigned char)*v->valuestring) && strlen(v->valuestring) <= 32 &&
		    strspn(v->valuestring, "0123456789.abcdefghijklmnopqrstuvwxyz") == strlen(v->valuestring))
			return 0;
		return fail(v, c->message, "a release like \"2.7.1\", \"0.10.0\" or, for a container, \"25.10\"");
	case F_FW_VARIANT: {
		char cuda[16];

		if (cJSON_IsString(v) && (streq(v->valuestring, "cpu") || fw_variant_cuda(v->valuestring, cuda, sizeof(cuda))))
			return 0;
		return fail(v, c->message, "a wheel's build like \"cu128\" (CUDA 12.8) or \"cpu\"");
	}
	case F_INT:
	case F_LIMIT:
		if (f->type == F_LIMIT && cJSON_IsFalse(v))
			return 0;
		if (cJSON_IsNumber(v) && v->valuedouble >= (double)f->min && v->valuedouble <= (double)f->max &&
		    v->valuedouble == (double)(long long)v->valuedouble)
			return 0;
		snprintf(expected, sizeof(expected), "a whole number from %lld to %lld%s", f->min, f->max,
			 f->type == F_LIMIT ? ", or false (off)" : "");
		return fail(v, c->message, expected);
	case F_CLOCKS: {
		const cJSON *lo = cJSON_GetArrayItem(v, 0), *hi = cJSON_GetArrayItem(v, 1);

		if (cJSON_IsFalse(v))
			return 0;
		if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2 && cJSON_IsNumber(lo) && cJSON_IsNumber(hi) &&
		    lo->valuedouble >= (double)f->min && hi->valuedouble <= (double)f->max && lo->valuedouble <= hi->valuedouble &&
		    lo->valuedouble == (double)(long long)lo->valuedouble && hi->valuedouble == (double)(long long)hi->valuedouble)
			return 0;
		snprintf(expected, sizeof(expected), "[min, max] MHz, each from %lld to %lld, min not above max, like "
			 "[1980, 1980]; or false (clocks not locked)", f->min, f->max);
		return fail(v, c->message, expected);
	}
	case F_MIG_LAYOUT:
		/* At most 7 GPU instances fit a GPU (nvidia-smi mig -lgip: 7 of 1g). */
		if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > 7)
			return fail(v, c->message, "an array of at most 7 GPU instance profiles like [\"3g.40gb\", \"3g.40gb\"]");
		cJSON_ArrayForEach(item, v) {
			jsonpath_push_index(c->path, i++);
			if (!cJSON_IsString(item) || !valid_mig_profile(item->valuestring))
				return fail(item, c->message, "a GPU instance profile like \"1g.10gb\", \"3g.40gb\" or \"1g.10gb+me\"");
			jsonpath_pop(c->path);
		}
		return 0;
	case F_OVERRIDES:
		if (!cJSON_IsArray(v))
			return fail(v, c->message, "an array of overrides");
		cJSON_ArrayForEach(item, v) {
			jsonpath_push_index(c->path, i++);
			if (!cJSON_IsObject(item))
				return fail(item, c->message, "an object with \"when\"");
			if (!cJSON_GetObjectItemCaseSensitive(item, "when"))
				return fail(item, c->message, "an override with a \"when\" object");
			if ((k = check_fields(c, item, override_fields)) < 0)
				return k;
			jsonpath_pop(c->path);
		}
		return 0;
	}
	return 0;
}

/* Two keys that say the same thing two ways may not both be given. */
static int check_exclusive(const struct vctx *c, const cJSON *obj, const char *a, const char *b)
{
	const cJSON *vb = cJSON_GetObjectItemCaseSensitive(obj, b);

	if (!cJSON_GetObjectItemCaseSensitive(obj, a) || !vb)
		return 0;
	jsonpath_push_key(c->path, b);
	*c->at_key = 1;
	if (asprintf(c->message, "expected either \"%s\" or \"%s\", got both", a, b) < 0)
		*c->message = NULL;
	return -GPE_PARSE;
}

static int check_fields(const struct vctx *c, const cJSON *obj, const struct field *fields)
{
	const cJSON *item;
	int k;

	cJSON_ArrayForEach(item, obj) {
		const struct field *f = NULL;

		for (const struct field *x = fields; x->key; x++)
			if (streq(x->key, item->string))
				f = x;
		jsonpath_push_key(c->path, item->string);
		/* JSON allows a key twice; which one counts would be a guess. */
		for (const cJSON *prev = obj->child; prev != item; prev = prev->next)
			if (streq(prev->string, item->string)) {
				*c->at_key = 1;
				if (asprintf(c->message, "expected each key once, got \"%s\" again", item->string) < 0)
					*c->message = NULL;
				return -GPE_PARSE;
			}
		if (!f) {
			*c->at_key = 1;
			if (asprintf(c->message, "expected a key of gpuprov-profile(5), got unknown key \"%s\"", item->string) < 0)
				*c->message = NULL;
			return -GPE_PARSE;
		}
		if ((k = check_value(c, item, f)) < 0)
			return k;
		jsonpath_pop(c->path);
	}
	if ((k = check_exclusive(c, obj, "series", "min")) < 0 || (k = check_exclusive(c, obj, "series", "max")) < 0 ||
	    (k = check_exclusive(c, obj, "release", "series")) < 0 || (k = check_exclusive(c, obj, "release", "min")) < 0 ||
	    (k = check_exclusive(c, obj, "release", "max")) < 0 ||
	    (k = check_exclusive(c, obj, "branch", "min_branch")) < 0 ||
	    (k = check_exclusive(c, obj, "version", "min_version")) < 0)
		return k;
	/* A minimum version of another branch than the one asked for can never be met. */
	{
		const cJSON *br = cJSON_GetObjectItemCaseSensitive(obj, "branch");
		const cJSON *mv = cJSON_GetObjectItemCaseSensitive(obj, "min_version");

		if (cJSON_IsString(br) && cJSON_IsString(mv) && strncmp(br->valuestring, mv->valuestring, 3) != 0) {
			jsonpath_push_key(c->path, "min_version");
			return fail(mv, c->message, "a version of the branch given in \"branch\"");
		}
	}
	return 0;
}

int profile_validate(const cJSON *doc, struct jsonpath *ret_path, int *ret_at_key, char **ret_message)
{
	struct vctx c = { .path = ret_path, .at_key = ret_at_key, .message = ret_message };

	ret_path->n = 0;
	*ret_at_key = 0;
	*ret_message = NULL;
	if (!cJSON_IsObject(doc))
		return fail(doc, ret_message, "a JSON object");
	return check_fields(&c, doc, top_fields);
}
