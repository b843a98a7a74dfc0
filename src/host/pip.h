/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

/*
 * The frameworks pip installed: a wheel's *.dist-info directory holds METADATA (the core
 * metadata, RFC 822-style headers: https://packaging.python.org/en/latest/specifications/core-metadata/).
 * These parse text others wrote (any user can pip install into a venv): bounded, and they
 * never trust a field's length.
 */

/* What a METADATA file says that gpuprov uses; strings point into buffers of ret. */
struct pip_metadata {
	char name[64];     /* "torch" */
	char version[64];  /* "2.7.1+cu128" */
	char runtime[16];  /* the CUDA pinned through nvidia-cuda-runtime[-cuNN]==X.Y.Z: "12.8", "" none */
	char torch[64];    /* vllm's pin torch==X: "2.7.1", "" none */
};

/* Parses METADATA's headers (up to the first blank line). -GPE_PARSE: no Name or Version. */
int pip_metadata_parse(const char *text, struct pip_metadata *ret);
/* The CUDA of a version's local label: "2.7.1+cu128" -> "12.8"; 0: none ("+cpu", no label). */
int pip_version_cuda(const char *version, char *buf, size_t size);
/* torch/version.py, as its build writes it: "cuda: Optional[str] = '12.8'" -> "12.8"; 0: a
 * CPU build or no such line. */
int pip_torch_version_cuda(const char *text, char *buf, size_t size);
