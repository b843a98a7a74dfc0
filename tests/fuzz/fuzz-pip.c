/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The frameworks check reads (host/pip.c): a dist-info's METADATA and torch/version.py as a
 * venv's owner could write them, read through detect's scan of a fake root. */
#include "fuzz.h"

#include "host/pip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct detect_ctx ctx = fuzz_detect_ctx();
	char *text = malloc(size + 1), buf[16];
	struct pip_metadata m;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)pip_metadata_parse(text, &m);
	(void)pip_version_cuda(text, buf, sizeof(buf));
	(void)pip_torch_version_cuda(text, buf, sizeof(buf));
	free(text);
	fuzz_put("opt/llm/venv/lib/python3.12/site-packages/torch-2.7.1.dist-info/METADATA", data, size);
	fuzz_put("opt/llm/venv/lib/python3.12/site-packages/torch/version.py", data, size);
	fuzz_put("usr/lib/python3/dist-packages/vllm-0.10.0.dist-info/METADATA", data, size);
	(void)pip_detect(&ctx);
	fuzz_detect_ctx_done(&ctx);
	return 0;
}
