/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A capture as --root FILE unpacks it: the input is the whole file (zstd, gzip or a plain
 * tar). Whatever it holds, nothing may land outside the directory it is unpacked into, and
 * nothing of that directory may be left once the capture is freed; a capture that unpacks
 * is then read as a root, as detect would begin. */
#include <errno.h>

#include "capture/capture.h"
#include "fuzz.h"
#include "util/strutil.h"

#define INPUT  "capture.tar"
#define UNPACK "unpack"

/* What the fake root may hold once the capture is freed: the input and the empty directory
 * it was unpacked under. Anything else came from a member that escaped or was left behind. */
static const char *const tree[] = { INPUT, UNPACK, UNPACK "/.keep", NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *file = NULL, *unpack = NULL, *error = NULL;
	struct capture *c = NULL;

	fuzz_put(INPUT, data, size);
	fuzz_put(UNPACK "/.keep", "", 0);
	if (asprintf(&file, "%s/" INPUT, fuzz_root()->path) < 0 || asprintf(&unpack, "%s/" UNPACK, fuzz_root()->path) < 0)
		fuzz_die("asprintf", -ENOMEM);
	if (capture_open(file, unpack, &c, &error) >= 0) {
		_cleanup_(root_freep) struct root *r = NULL;
		_cleanup_(strv_freep) char **names = NULL;
		_cleanup_free_ char *line = NULL;

		if (root_open(c->root, &r) >= 0) {
			(void)root_list_dir(r, "sys/bus/pci/devices", &names);
			(void)root_read_line(r, "etc/os-release", &line);
		}
		c = capture_free(c);
	}
	fuzz_check_tree(tree);
	return 0;
}
