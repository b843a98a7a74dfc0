/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The dist-info reader of check (host/pip.h): METADATA headers as pip and the wheel builders
 * write them, torch/version.py, and text that is neither. */
#include "unit.h"

#include <string.h>

#include "host/pip.h"
#include "util/errors.h"

/* The headers of torch 2.7.1's PyPI wheel (its METADATA, shortened): the CUDA runtime wheel
 * pinned for Linux x86_64 is the only trace of its CUDA. */
static void test_metadata_torch(void **state)
{
	static const char text[] =
		"Metadata-Version: 2.1\nName: torch\nVersion: 2.7.1\nSummary: Tensors and Dynamic neural networks\n"
		"Requires-Dist: filelock\n"
		"Requires-Dist: nvidia-cuda-nvrtc-cu12==12.6.77; platform_system == \"Linux\" and platform_machine == \"x86_64\"\n"
		"Requires-Dist: nvidia-cuda-runtime-cu12==12.6.77; platform_system == \"Linux\" and platform_machine == \"x86_64\"\n"
		"\nRequires-Dist: nvidia-cuda-runtime-cu12==99.1.1\n";
	struct pip_metadata m;

	assert_int_equal(pip_metadata_parse(text, &m), 0);
	assert_string_equal(m.name, "torch");
	assert_string_equal(m.version, "2.7.1");
	/* nvrtc is not the runtime; the body after the blank line is not a header. */
	assert_string_equal(m.runtime, "12.6");
	assert_string_equal(m.torch, "");
}

/* vllm pins torch; older metadata writes the pin in parentheses; CRLF line ends. */
static void test_metadata_vllm(void **state)
{
	struct pip_metadata m;

	assert_int_equal(pip_metadata_parse("Name: vllm\r\nVersion: 0.10.0\r\nRequires-Dist: torch==2.7.1\r\n", &m), 0);
	assert_string_equal(m.name, "vllm");
	assert_string_equal(m.version, "0.10.0");
	assert_string_equal(m.torch, "2.7.1");
	assert_int_equal(pip_metadata_parse("Name: x\nVersion: 1\nRequires-Dist: torch (==2.1.0)\n"
					    "Requires-Dist: nvidia-cuda-runtime-cu11 (==11.8.89)\n", &m), 0);
	assert_string_equal(m.torch, "2.1.0");
	assert_string_equal(m.runtime, "11.8");
	/* torchvision is not torch. */
	assert_int_equal(pip_metadata_parse("Name: x\nVersion: 1\nRequires-Dist: torchvision==0.22.1\n", &m), 0);
	assert_string_equal(m.torch, "");
}

static void test_metadata_garbage(void **state)
{
	struct pip_metadata m = { .name = "kept" };
	char longname[200];

	assert_int_equal(pip_metadata_parse("", &m), -GPE_PARSE);
	assert_int_equal(pip_metadata_parse("Version: 1\n", &m), -GPE_PARSE);
	assert_int_equal(pip_metadata_parse("\nName: torch\nVersion: 1\n", &m), -GPE_PARSE);
	assert_int_equal(pip_metadata_parse("Name torch\nVersion 1\n", &m), -GPE_PARSE);
	/* A name too long for any distribution is dropped, not cut. */
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	{
		char text[300];

		snprintf(text, sizeof(text), "Name: %s\nVersion: 1\n", longname);
		assert_int_equal(pip_metadata_parse(text, &m), -GPE_PARSE);
	}
	assert_string_equal(m.name, "kept");
	/* A runtime pin that is not a version. */
	assert_int_equal(pip_metadata_parse("Name: t\nVersion: 1\nRequires-Dist: nvidia-cuda-runtime-cu12==x\n"
					    "Requires-Dist: nvidia-cuda-runtime-cu12==12.\n", &m), 0);
	assert_string_equal(m.runtime, "");
}

static void test_version_label(void **state)
{
	char buf[16];

	assert_int_equal(pip_version_cuda("2.7.1+cu128", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "12.8");
	assert_int_equal(pip_version_cuda("2.0.1+cu118", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "11.8");
	assert_int_equal(pip_version_cuda("2.9.1+cu130", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "13.0");
	assert_int_equal(pip_version_cuda("0.4.0+cu118.post1", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "11.8");
	assert_int_equal(pip_version_cuda("2.7.1", buf, sizeof(buf)), 0);
	assert_int_equal(pip_version_cuda("2.7.1+cpu", buf, sizeof(buf)), 0);
	assert_int_equal(pip_version_cuda("2.5.1+rocm6.2", buf, sizeof(buf)), 0);
	/* NGC's builds: a git hash and the month, no CUDA in the label. */
	assert_int_equal(pip_version_cuda("2.8.0a0+5228986c39.nv25.6", buf, sizeof(buf)), 0);
	assert_int_equal(pip_version_cuda("1+cu1", buf, sizeof(buf)), 0);
	assert_int_equal(pip_version_cuda("1+cu12345", buf, sizeof(buf)), 0);
	assert_int_equal(pip_version_cuda("1+cu128x", buf, sizeof(buf)), 0);
}

static void test_version_py(void **state)
{
	char buf[16];

	assert_int_equal(pip_torch_version_cuda("__version__ = '2.8.0a0+5228986c39.nv25.6'\n"
						"debug = False\ncuda: Optional[str] = '12.9'\nhip = None\n",
						buf, sizeof(buf)), 1);
	assert_string_equal(buf, "12.9");
	assert_int_equal(pip_torch_version_cuda("cuda = '11.8'\n", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "11.8");
	assert_int_equal(pip_torch_version_cuda("cuda: Optional[str] = None\n", buf, sizeof(buf)), 0);
	assert_int_equal(pip_torch_version_cuda("cudnn = '9.1'\n", buf, sizeof(buf)), 0);
	assert_int_equal(pip_torch_version_cuda("cuda: Optional[str] = 'x'\n", buf, sizeof(buf)), 0);
	assert_int_equal(pip_torch_version_cuda("cuda: Optional[str] = '12", buf, sizeof(buf)), 0);
	assert_int_equal(pip_torch_version_cuda("", buf, sizeof(buf)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metadata_torch),
		cmocka_unit_test(test_metadata_vllm),
		cmocka_unit_test(test_metadata_garbage),
		cmocka_unit_test(test_version_label),
		cmocka_unit_test(test_version_py),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
