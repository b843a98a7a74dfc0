/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "profile/knowledge.h"

/*
 * The first link of the chain: a framework (a pip wheel, a container image) fixes the CUDA
 * runtime it brings, and CUDA fixes the driver (knowledge "frameworks", then the toolkit table
 * kn_cuda_floor reads). A chain is worked out from the knowledge alone; what the machine's
 * GPUs and driver make of it is the resolver's and check's business.
 */

/* The frameworks a profile may name ("framework": [{ "name": ... }]), NULL-terminated. */
extern const char *const framework_names[];

struct fw_chain {
	char *name;    /* the profile's name: "vllm" */
	char *version; /* "0.10.0" */
	char *variant; /* the CUDA variant the chain took ("cu128"), or NULL: the release has one CUDA */
	char *text;    /* "vLLM 0.10.0 -> PyTorch 2.7.1 (cu128) -> CUDA 12.8 runtime" */
	char *cuda;    /* "12.8", NULL: a CPU build, no driver floor */
	char *note;    /* how the chain was read where not from a release the knowledge lists, or NULL */
	const char *title;        /* "vLLM", borrowed from the knowledge */
	const char *floor;        /* the minimum driver of the CUDA runtime, borrowed */
	const cJSON *floor_entry; /* its toolkit row, for the source */
	const char *mvc_floor;    /* the floor of its major under minor-version compatibility */
	const cJSON *mvc_entry;
	const char *minor_compat; /* the framework's: "yes", "no", "unknown" */
	const cJSON *framework;   /* the knowledge's framework entry */
	const cJSON *release;     /* its release entry, NULL: not listed (the variant said the CUDA) */
	const cJSON *forward_compat; /* the release's [{branch, from}] on data center GPUs, or NULL */
};

/* Works out the chain of name at version, with variant ("cu128", "cpu") or NULL: the
 * release's default. On -ENOENT (the knowledge cannot say) ret_why says why, for the user. */
int kn_framework_chain(const struct knowledge *k, const char *name, const char *version, const char *variant,
		       struct fw_chain *ret, char **ret_why);
void fw_chain_done(struct fw_chain *c);
/* The chain as one line, with the driver floor and minor-version compatibility:
 * "vLLM 0.10.0 -> PyTorch 2.7.1 (cu128) -> CUDA 12.8 runtime -> driver >= 570.26 (...)". */
char *fw_chain_line(const struct fw_chain *c);
/* The chain as plan --json and show give it: name, version, variant, chain, cuda,
 * driver_floor, minor_compat_floor, minor_compat, minor_compat_why, forward_compat, sources.
 * NULL: no memory. */
cJSON *fw_chain_json(const struct fw_chain *c);
/* What a framework's minor_compat ("yes", "no", "unknown") says of minor-version
 * compatibility: "which it tolerates", "which it does not tolerate", "which it is not known
 * to tolerate". */
const char *fw_minor_compat_said(const char *minor_compat);
/* The sources of the chain's links, "; "-joined. */
char *fw_chain_sources(const struct fw_chain *c);
/* "cu128" -> "12.8"; false when variant is not "cuNNN". */
bool fw_variant_cuda(const char *variant, char *buf, size_t size);
/* The forward-compatible entry ({branch, from}) of the chain that lets driver run it, or NULL. */
const cJSON *fw_forward_compat(const struct fw_chain *c, const char *driver);
