/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verify's health gate: what NVML says of each GPU's memory, links, mode, clocks and heat,
 * against the thresholds of the profile's verify section (state.json's "health"). One check a
 * question across all GPUs, its detail naming each GPU that failed and what the others read.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply/verify.h"
#include "host/nvml-health.h"
#include "host/nvml-state.h"
#include "util/json.h"
#include "util/strutil.h"

/* The thresholds, with the defaults of gpuprov-profile(5) where the profile says nothing. */
enum pcie_mode {
	PCIE_OFF,
	PCIE_WIDTH,
	PCIE_MAX,
};

struct limits {
	long long ecc_max; /* -1: off */
	bool retired_pages, nvlink, persistence, throttle;
	enum pcie_mode pcie;
	long long temperature_max; /* -1: off */
};

#define ECC_UNCORRECTED_MAX_DEFAULT 0
#define TEMPERATURE_MAX_DEFAULT 85

#define LIMIT_NUMBER_MAX 1000000000000LL

/* A member as profile validation allows it; another type or a number far out of its range
 * (state.json edited by hand) reads as absent, as state.c reads every member. */
static bool limit_bool(const cJSON *h, const char *key)
{
	return !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(h, key));
}

static long long limit_number(const cJSON *h, const char *key, long long def)
{
	if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(h, key)))
		return -1;
	return json_whole(h, key, 0, LIMIT_NUMBER_MAX, def);
}

/* The persistence check, unless the verify section turns it on or off itself, follows the
 * profile's gpu.persistence: a profile that has gpu apply turn persistence mode off (as one
 * running nvidia-persistenced instead may) must not fail every verify for it. */
static bool persistence_wanted(const cJSON *h, const cJSON *gpu)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(h, "persistence");

	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v);
	return !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(gpu, "persistence"));
}

static void limits_from(const cJSON *h, const cJSON *gpu, struct limits *ret)
{
	const char *pcie = json_str(h, "pcie");

	*ret = (struct limits){
		.ecc_max = limit_number(h, "ecc_uncorrected_max", ECC_UNCORRECTED_MAX_DEFAULT),
		.retired_pages = limit_bool(h, "retired_pages"),
		.nvlink = limit_bool(h, "nvlink"),
		.persistence = persistence_wanted(h, gpu),
		.throttle = limit_bool(h, "throttle"),
		.pcie = streq_ptr(pcie, "off") ? PCIE_OFF : streq_ptr(pcie, "width") ? PCIE_WIDTH : PCIE_MAX,
		.temperature_max = limit_number(h, "temperature_max", TEMPERATURE_MAX_DEFAULT),
	};
}

/* What one GPU answered to one check: NVML's code, and on NVML_OK whether it passed and what
 * was read ("x16 gen5"). value: the number a ranged check summarises (temperature). */
struct reading {
	int code;
	bool ok;
	unsigned value;
	char text[160];
};

static void say(struct reading *g, bool ok, const char *fmt, ...) _printf_(3, 4);
static void say(struct reading *g, bool ok, const char *fmt, ...)
{
	va_list ap;

	g->ok = ok;
	va_start(ap, fmt);
	vsnprintf(g->text, sizeof(g->text), fmt, ap);
	va_end(ap);
}

/* Pages retired (before Ampere) or rows remapped (Ampere and later): a retirement or a
 * remapping that waits for a reset leaves the GPU without that memory's repair until then,
 * and a remapping that failed means no spare row is left; the counts are shown either way. */
static void read_retired_pages(struct nvml *n, nvml_device_t dev, _unused_ const struct limits *l, struct reading *g)
{
	struct nvml_remapped_rows rows = {};
	bool retired = false;
	int kp = nvml_retired_pages_pending(n, dev, &retired), kr = nvml_remapped_rows(n, dev, &rows);

	/* A GPU answers one of the two, by its generation. */
	if (kp != NVML_OK && kp != NVML_E_NOT_SUPPORTED)
		g->code = kp;
	else if (kr != NVML_OK && kr != NVML_E_NOT_SUPPORTED)
		g->code = kr;
	else
		g->code = kp == NVML_OK || kr == NVML_OK ? NVML_OK : NVML_E_NOT_SUPPORTED;
	if (g->code != NVML_OK)
		return;
	if (kr == NVML_OK && rows.failed)
		say(g, false, "row remapping failed, no spare row left (%u rows remapped)", rows.corrected + rows.uncorrected);
	else if (kr == NVML_OK && rows.pending)
		say(g, false, "row remapping pending, a GPU reset is needed (%u rows remapped)",
		    rows.corrected + rows.uncorrected);
	else if (kp == NVML_OK && retired)
		say(g, false, "page retirement pending, a reboot is needed");
	else if (kr == NVML_OK)
		say(g, true, "%u rows remapped (%u for uncorrectable errors), none pending", rows.corrected + rows.uncorrected,
		    rows.uncorrected);
	else
		say(g, true, "no page retirement pending");
}

static void read_ecc(struct nvml *n, nvml_device_t dev, const struct limits *l, struct reading *g)
{
	unsigned long long count = 0;

	if ((g->code = nvml_ecc_uncorrected(n, dev, &count)) != NVML_OK)
		return;
	if (count > (unsigned long long)l->ecc_max)
		say(g, false, "%llu uncorrectable ECC errors since boot, more than %lld", count, l->ecc_max);
	else
		say(g, true, "%llu uncorrectable ECC errors since boot", count);
}

/* An idle GPU lowers its link's generation to save power and raises it under load, so the
 * current generation says nothing at boot: "max" compares the highest generation the link
 * allows (GPU and slot together) with the GPU's own, which is where a riser or a slot that
 * trained low shows; the width does not change with load and is compared as it is now. */
static void read_pcie(struct nvml *n, nvml_device_t dev, const struct limits *l, struct reading *g)
{
	struct nvml_pcie_link link = {};
	char gen[16] = "";

	if ((g->code = nvml_pcie_link(n, dev, &link)) != NVML_OK)
		return;
	if (link.gen_max)
		snprintf(gen, sizeof(gen), " gen%u", link.gen_max);
	if (link.width < link.width_max)
		say(g, false, "x%u%s, the link can do x%u", link.width, gen, link.width_max);
	else if (l->pcie == PCIE_MAX && link.gen_max && link.gen_gpu_max && link.gen_max < link.gen_gpu_max)
		say(g, false, "x%u gen%u, the GPU can do gen%u", link.width, link.gen_max, link.gen_gpu_max);
	else
		say(g, true, "x%u%s", link.width, gen);
}

/* A GPU in MIG mode takes no part in NVLink: NVIDIA's Multi-Instance GPU User Guide
 * ("Deployment Considerations", docs.nvidia.com/datacenter/tesla/mig-user-guide) has no GPU
 * to GPU peer-to-peer over NVLink in MIG mode, so its links may read inactive and say nothing
 * of the cables or the switches then. */
static void read_nvlink(struct nvml *n, nvml_device_t dev, _unused_ const struct limits *l, struct reading *g)
{
	unsigned links = 0, n_down = 0;
	uint32_t down = 0;
	bool mig = false, mig_pending = false;
	char list[96] = "";

	if ((g->code = nvml_nvlink_state(n, dev, &links, &down)) != NVML_OK)
		return;
	for (unsigned i = 0; i < NVML_NVLINK_MAX_LINKS; i++)
		if (down & (UINT32_C(1) << i))
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%u", n_down++ ? ", " : "", i);
	if (links == 0)
		say(g, true, "no NVLink");
	else if (n_down && nvml_mig_get(n, dev, &mig, &mig_pending) == NVML_OK && mig)
		say(g, true, "MIG mode on, its NVLinks unused (%u of %u down)", n_down, links);
	else if (n_down)
		say(g, false, "NVLink%s %s down, of %u", n_down > 1 ? "s" : "", list, links);
	else
		say(g, true, "%u NVLinks up", links);
}

static void read_persistence(struct nvml *n, nvml_device_t dev, _unused_ const struct limits *l, struct reading *g)
{
	bool on = false;

	if ((g->code = nvml_persistence_mode(n, dev, &on)) == NVML_OK)
		say(g, on, "persistence mode %s", on ? "on" : "off");
}

/*
 * The clock event reasons of NVML's nvmlClocksEventReasons (NVML API Reference,
 * "NvmlClocksEventReasons"). At idle, a GPU's clocks are down for reasons of no concern
 * (idle, application clocks, the power cap, sync boost, display clocks); a slowdown for heat
 * or by the board's hardware (slowdown, thermal, power brake) at idle means cooling or power
 * delivery is wrong.
 */
static const struct {
	unsigned long long bit;
	const char *name;
	bool fault;
} clock_reasons[] = {
	{ 0x1, "GPU idle", false },
	{ 0x2, "applications clocks setting", false },
	{ 0x4, "SW power cap", false },
	{ 0x8, "HW slowdown", true },
	{ 0x10, "sync boost", false },
	{ 0x20, "SW thermal slowdown", true },
	{ 0x40, "HW thermal slowdown", true },
	{ 0x80, "HW power brake slowdown", true },
	{ 0x100, "display clock setting", false },
};

static void read_throttle(struct nvml *n, nvml_device_t dev, _unused_ const struct limits *l, struct reading *g)
{
	unsigned long long reasons = 0;
	char names[128] = "", faults[128] = "";

	if ((g->code = nvml_clocks_event_reasons(n, dev, &reasons)) != NVML_OK)
		return;
	for (size_t i = 0; i < ELEMENTSOF(clock_reasons); i++) {
		if (!(reasons & clock_reasons[i].bit))
			continue;
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", *names ? ", " : "",
			 clock_reasons[i].name);
		if (clock_reasons[i].fault)
			snprintf(faults + strlen(faults), sizeof(faults) - strlen(faults), "%s%s", *faults ? ", " : "",
				 clock_reasons[i].name);
	}
	if (*faults)
		say(g, false, "%s at idle (clock event reasons 0x%llx)", faults, reasons);
	else
		say(g, true, "no slowdown (clock event reasons 0x%llx%s%s)", reasons, *names ? ": " : "", names);
}

static void read_temperature(struct nvml *n, nvml_device_t dev, const struct limits *l, struct reading *g)
{
	if ((g->code = nvml_temperature(n, dev, &g->value)) != NVML_OK)
		return;
	if (g->value > (unsigned long long)l->temperature_max)
		say(g, false, "%u C, above %lld C", g->value, l->temperature_max);
	else
		say(g, true, "%u C", g->value);
}

static bool want_retired_pages(const struct limits *l) { return l->retired_pages; }
static bool want_ecc(const struct limits *l) { return l->ecc_max >= 0; }
static bool want_pcie(const struct limits *l) { return l->pcie != PCIE_OFF; }
static bool want_nvlink(const struct limits *l) { return l->nvlink; }
static bool want_persistence(const struct limits *l) { return l->persistence; }
static bool want_throttle(const struct limits *l) { return l->throttle; }
static bool want_temperature(const struct limits *l) { return l->temperature_max >= 0; }

/* The checks, in the order verify reports them. Persistence mode is the stack's (the driver
 * package's nvidia-persistenced keeps it on); the others are the GPU's and its links'. ranged:
 * the GPUs that pass are summed up by their lowest and highest value, not by what each read. */
static const struct health_check {
	const char *name;
	enum verify_class class;
	bool ranged;
	bool (*wanted)(const struct limits *l);
	void (*read)(struct nvml *n, nvml_device_t dev, const struct limits *l, struct reading *g);
} health_checks[] = {
	{ "retired-pages", VERIFY_HARDWARE, false, want_retired_pages, read_retired_pages },
	{ "ecc", VERIFY_HARDWARE, false, want_ecc, read_ecc },
	{ "pcie", VERIFY_HARDWARE, false, want_pcie, read_pcie },
	{ "nvlink", VERIFY_HARDWARE, false, want_nvlink, read_nvlink },
	{ "persistence", VERIFY_STACK, false, want_persistence, read_persistence },
	{ "throttle", VERIFY_HARDWARE, false, want_throttle, read_throttle },
	{ "temperature", VERIFY_HARDWARE, true, want_temperature, read_temperature },
};

void verify_gpu_name(struct nvml *n, nvml_device_t dev, char out[static 96])
{
	char bus[32], serial[32];

	nvml_identity(n, dev, bus, serial);
	snprintf(out, 96, "GPU %s (serial %s)", bus, serial);
}

/* The passing GPUs' readings, each distinct one with how many GPUs read it. */
struct groups {
	char **text;
	size_t n;
	unsigned *count; /* room for one a GPU */
};

static int groups_add(struct groups *gs, const char *text)
{
	for (size_t i = 0; i < gs->n; i++)
		if (streq(gs->text[i], text)) {
			gs->count[i]++;
			return 0;
		}
	if (strv_push(&gs->text, &gs->n, text) < 0)
		return -ENOMEM;
	gs->count[gs->n - 1] = 1;
	return 0;
}

static int run_check(struct verify_report *r, struct nvml *n, unsigned gpus, const struct health_check *hc,
		     const struct limits *l)
{
	_cleanup_(strv_freep) char **parts = NULL;
	_cleanup_free_ unsigned *counts = calloc(gpus, sizeof(*counts));
	_cleanup_free_ char *detail = NULL;
	struct groups gs = { .count = counts };
	unsigned unsupported = 0, low = 0, high = 0, in_range = 0;
	size_t n_parts = 0;
	bool ok = true, stack = false;
	int k = 0;

	if (!counts)
		return -ENOMEM;
	for (unsigned i = 0; i < gpus && k >= 0; i++) {
		struct reading g = {};
		nvml_device_t dev = NULL;
		char name[96];

		if ((g.code = nvml_device(n, i, &dev)) == NVML_OK)
			hc->read(n, dev, l, &g);
		if (g.code == NVML_E_NOT_SUPPORTED) {
			unsupported++;
			continue;
		}
		/* Only a GPU lost to the driver is the GPU's fault; NVML failing otherwise (driver not
		 * loaded, library and kernel module of different versions, no permission, an unknown
		 * error) is the stack's, whatever the question. */
		if (g.code != NVML_OK) {
			stack |= g.code != NVML_E_GPU_IS_LOST;
			say(&g, false, "NVML: %s (%d)", nvml_strerror(n, g.code), g.code);
		}
		if (!g.ok) {
			ok = false;
			if (dev)
				verify_gpu_name(n, dev, name);
			else
				snprintf(name, sizeof(name), "GPU %u", i);
			k = strv_pushf(&parts, &n_parts, "%s: %s", name, g.text);
		} else if (hc->ranged) {
			low = in_range++ ? MIN(low, g.value) : g.value;
			high = MAX(high, g.value);
		} else
			k = groups_add(&gs, g.text);
	}
	for (size_t i = 0; i < gs.n && k >= 0; i++)
		k = strv_pushf(&parts, &n_parts, "%u GPU%s: %s", gs.count[i], gs.count[i] > 1 ? "s" : "", gs.text[i]);
	if (in_range && k >= 0)
		k = low == high ? strv_pushf(&parts, &n_parts, "%u GPU%s at %u C, at most %lld C", in_range,
					     in_range > 1 ? "s" : "", low, l->temperature_max)
				: strv_pushf(&parts, &n_parts, "%u GPUs at %u to %u C, at most %lld C", in_range, low, high,
					     l->temperature_max);
	if (unsupported && k >= 0)
		k = strv_pushf(&parts, &n_parts, "%u GPU%s: not supported by this GPU or driver", unsupported,
			       unsupported > 1 ? "s" : "");
	strv_free(gs.text);
	if (k < 0 || !(detail = strv_join(parts, "; ")))
		return -ENOMEM;
	return verify_add(r, hc->name, stack ? VERIFY_STACK : hc->class, false, ok, "%s", detail);
}

int verify_health(struct verify_report *r, struct nvml *n, const struct state *state)
{
	struct limits l;
	unsigned gpus = 0;
	int k;

	limits_from(state->health, state->gpu, &l);
	if (nvml_count(n, &gpus) != NVML_OK || gpus == 0)
		return 0;
	for (size_t i = 0; i < ELEMENTSOF(health_checks); i++)
		if (health_checks[i].wanted(&l) && (k = run_check(r, n, gpus, &health_checks[i], &l)) < 0)
			return k;
	return 0;
}
