/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A shared library that loads but holds none of the functions gpuprov calls in libcurl or
 * libarchive: built under their sonames, it stands for a broken or foreign copy of either,
 * which gpuprov must refuse when it loads it, naming the library and the package to install.
 */
int gpuprov_lib_stub(void);

int gpuprov_lib_stub(void)
{
	return 0;
}
