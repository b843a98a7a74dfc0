/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Libraries loaded on first use, each through its table of function pointers (dynlib.h). */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "util/dynlib.h"
#include "util/errors.h"
#include "util/macro.h"

/* The verbs load from the main thread, before a transfer's reader thread starts; the lock
 * keeps a first use from any other thread safe all the same. */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

/* Opens the library and resolves every symbol of its table, or none: the table is written
 * only once all are found. */
static int dynlib_open(struct dynlib *l)
{
	_cleanup_free_ void **fns = calloc(l->n_syms, sizeof(*fns));
	void *h;

	if (!fns)
		return -ENOMEM;
	h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return asprintf(&l->error, "%s", dlerror()) < 0 ? -ENOMEM : -GPE_LIBRARY;
	for (size_t i = 0; i < l->n_syms; i++) {
		(void)dlerror();
		fns[i] = dlsym(h, l->syms[i].name);
		if (!fns[i]) {
			const char *why = dlerror();

			if (asprintf(&l->error, "%s", why ? why : l->syms[i].name) < 0)
				l->error = NULL;
			dlclose(h);
			return l->error ? -GPE_LIBRARY : -ENOMEM;
		}
	}
	/* POSIX's dlsym hands functions out as void *; each goes back into its typed slot. */
	for (size_t i = 0; i < l->n_syms; i++)
		memcpy((char *)l->table + l->syms[i].offset, &fns[i], sizeof(fns[i]));
	l->handle = h;
	return 0;
}

/* Debian names a library's package after its soname: libcurl.so.4 is in libcurl4, a name
 * that ends in a digit gets a dash (Debian Policy 8.1). */
static int debian_package(const char *soname, char **ret)
{
	const char *so = strstr(soname, ".so.");
	size_t n;

	if (!so)
		return asprintf(ret, "%s", soname);
	n = (size_t)(so - soname);
	return asprintf(ret, "%.*s%s%s", (int)n, soname, n > 0 && isdigit((unsigned char)soname[n - 1]) ? "-" : "",
			so + strlen(".so."));
}

int dynlib_need(struct dynlib *l, const char *need, char **ret_error)
{
	_cleanup_free_ char *deb = NULL;
	int k = 0;

	pthread_mutex_lock(&load_lock);
	if (!l->tried) {
		k = dynlib_open(l);
		/* Out of memory is no verdict on the library: asked again next time. */
		l->tried = k != -ENOMEM;
	} else if (!l->handle)
		k = -GPE_LIBRARY;
	pthread_mutex_unlock(&load_lock);
	if (k >= 0 || !ret_error)
		return k;
	if (k == -ENOMEM || (l->deb ? asprintf(&deb, "%s", l->deb) : debian_package(l->soname, &deb)) < 0)
		return -ENOMEM;
	return gp_error_set(ret_error, k, "%s needs %s (%s): %s; install %s (Debian, Ubuntu) or %s (RHEL, openEuler)",
			    need, l->name, l->soname, strna(l->error), deb, l->rpm);
}
