/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdbool.h>

#include "apply/state.h"
#include "util/macro.h"
#include "host/facts.h"

/*
 * What a failed check says about the node, which decides what verify --commit does:
 *   STACK     the software gpuprov installed (driver not loaded, wrong version, a required
 *             site check): the kernel is rolled back, as it always was
 *   HARDWARE  a GPU or its links (ECC, row remapping, PCIe width, NVLink, temperature, a
 *             DCGM diagnostic): the kernel is kept, the node stays drained with the GPU's
 *             bus id and serial as the reason
 */
enum verify_class {
	VERIFY_STACK,
	VERIFY_HARDWARE,
};

/* One check of verify: its name, whether it passed, and what was seen. A check with warn
 * set (a "wanted" site check, a check the driver cannot answer) is reported but does not
 * fail verify. */
struct verify_check {
	const char *name;
	bool ok;
	char *detail;
	enum verify_class class;
	bool warn;
};

struct verify_report {
	struct verify_check *checks;
	size_t n;
	bool ok; /* every check passed */
};

void verify_report_done(struct verify_report *r);
/* Adds a check to r: name must outlive r (a literal, or a string the report does not own);
 * r->ok stays true through a failed check with warn set. -ENOMEM only. */
int verify_add(struct verify_report *r, const char *name, enum verify_class class, bool warn, bool ok, const char *fmt, ...)
	_printf_(6, 7);
int verify_addv(struct verify_report *r, const char *name, enum verify_class class, bool warn, bool ok, const char *fmt,
		va_list ap) _printf_(6, 0);

/*
 * Post-boot health of the stack the last apply installed (state, from state.json), on the
 * running system read through sys: the running kernel is the target; where the stack has a
 * driver (not driver.source "none"), the nvidia modules are loaded at the driver's version
 * and flavour, /dev/nvidia* exist, NVML (dlopen libnvidia-ml.so.1) initialises and counts the
 * GPUs PCI shows, the fabric manager is at the driver's version where there are NVSwitches,
 * and no Xid is in the kernel log since boot; the modules the profile blacklists are not
 * loaded and those it loads at boot are; HCA ports are active where the profile uses RDMA.
 * Reads only.
 */
int verify_run(const struct root *sys, const struct facts *f, const struct state *state, struct verify_report *ret);

/* The CDI spec in dir (verify-cdi.c): ok when it fits the device nodes and the running driver;
 * ret_detail says what was read. */
int verify_cdi(const struct root *sys, const struct facts *f, const char *dir, bool *ret_ok, char **ret_detail);

/* DCGM's diagnostic (verify-dcgm.c): check "diag", where DCGM is installed, at the level and
 * within the timeout of the profile's verify.diag (state->health). */
int verify_dcgm(const struct root *sys, const struct state *state, struct verify_report *r);
/* What a failed result says of the node: only a GPU's result of a hardware test is the
 * GPU's fault; DCGM's software (Deployment) tests check the stack; the rest (DCGM's runtime
 * error, a test failed for no one GPU) proves neither. */
enum dcgm_kind { DCGM_OTHER, DCGM_HARDWARE, DCGM_SOFTWARE };
/* One failed result of `dcgmi diag -j`: the test, DCGM's GPU id (-1: not of one GPU) and
 * what DCGM said of it (bounded). */
struct dcgm_failure {
	char test[64];
	int gpu;
	char info[256];
	enum dcgm_kind kind;
};
#define DCGM_FAILURES_MAX 32
struct dcgm_diag {
	unsigned tests, skipped;   /* results read, and those DCGM skipped */
	unsigned n_failures;       /* all of them; the first DCGM_FAILURES_MAX are kept */
	struct dcgm_failure failures[DCGM_FAILURES_MAX];
};
/* Parses `dcgmi diag -j` output (DCGM 3's and 4's layouts); -EBADMSG with ret_why saying
 * what is wrong where it is not such a document. */
int dcgm_diag_parse(const char *text, struct dcgm_diag *ret, char **ret_why);

/* The site's own checks (verify-site.c): checks "site:NAME" of /etc/gpuprov/verify.d. */
int verify_site(const struct root *sys, const struct state *state, struct verify_report *r);
struct nvml;
/* The health gate (verify-health.c): per GPU that NVML counts, one check a question (retired
 * pages or row remapping, ECC, PCIe link, NVLink, persistence mode, clock slowdown at idle,
 * temperature), each with the threshold of state->health, or its default; a check the profile
 * turns off is not run. A question NVML cannot answer passes, saying so. -ENOMEM only. */
int verify_health(struct verify_report *r, struct nvml *n, const struct state *state);
/* "gpu-state" (verify-gpu.c), one per GPU: the profile's "gpu" section read back. */
int verify_gpu(struct verify_report *r, const struct root *sys, const struct state *state);
/* NULL when a file (dir: a directory) of st may be trusted to run as root: owned by root or
 * the user running gpuprov, writable by no one else, a file executable; otherwise why not.
 * For the site checks and dcgmi alike. */
struct stat;
const char *verify_untrusted(const struct stat *st, bool dir);
/* The longest time a profile's verify section may give in seconds (profile validation's limit). */
#define VERIFY_SECONDS_MAX 604800
/* One kernel log line of the driver's "NVRM: Xid (PCI:0000:18:00): 79, pid=..., ..." (xid.c):
 * 0 with the Xid's number and the GPU's PCI address as the driver wrote it; -ENOENT for a line
 * that is no Xid; -EBADMSG for an Xid whose address or number cannot be read. */
int xid_parse(const char *line, unsigned *ret_xid, char ret_pci[static 32]);
/* Whether NVIDIA's Xid documentation puts the cause of that Xid in the GPU's hardware. */
bool xid_hardware(unsigned xid);
/* "GPU 0000:18:00.0 (serial 1654922012345)": how a check's detail names a GPU (verify-health.c). */
void verify_gpu_name(struct nvml *n, void *dev, char out[static 96]);
