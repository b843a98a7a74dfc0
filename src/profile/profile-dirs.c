/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where profiles are: the site's directory in the target and the shipped one; finding a
 * profile's file (the site's first) and listing them all. */
#include <errno.h>
#include <limits.h>

#include "util/json.h"
#include "profile/profile.h"
#include "util/strutil.h"

#define SITE_DIR "etc/gpuprov/profiles"

int profile_dirs_open(const struct root *target, const char *shipped, struct profile_dirs *ret)
{
	struct root *site = NULL, *ship = NULL;
	_cleanup_free_ char *site_host = NULL;
	int k;

	*ret = (struct profile_dirs){ .site_path = "/" SITE_DIR, .shipped_path = shipped };
	/* The site directory is the target's, resolved inside it. */
	if (root_host_path(target, SITE_DIR, &site_host) >= 0 && root_is_dir(target, SITE_DIR)) {
		k = root_open(site_host, &site);
		if (k < 0)
			return k;
	}
	if (shipped && (k = root_open(shipped, &ship)) < 0 && k != -ENOENT) {
		root_free(site);
		return k;
	}
	ret->site = site;
	ret->shipped = ship;
	return 0;
}

void profile_dirs_close(struct profile_dirs *d)
{
	root_free((struct root *)d->site);
	root_free((struct root *)d->shipped);
	d->site = d->shipped = NULL;
}

/* Finds NAME.json: the site's first. */
int profile_read(const struct profile_dirs *d, const char *name, char **ret_text, size_t *ret_size,
			char **ret_file)
{
	const struct {
		const struct root *dir;
		const char *path;
	} dirs[] = { { d->site, d->site_path }, { d->shipped, d->shipped_path } };
	char file[NAME_MAX + 1];
	int k;

	if (strchr(name, '/') || snprintf(file, sizeof(file), "%s.json", name) >= (int)sizeof(file))
		return -ENOENT;
	for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
		if (!dirs[i].dir)
			continue;
		k = root_read_file(dirs[i].dir, file, PROFILE_MAX, ret_text, ret_size);
		if (k == -ENOENT)
			continue;
		if (asprintf(ret_file, "%s/%s", dirs[i].path, file) < 0)
			return -ENOMEM;
		return k;
	}
	return -ENOENT;
}

/* The names in one directory: *.json. */
static int dir_names(const struct root *dir, char ***names, size_t *n)
{
	_cleanup_(strv_freep) char **files = NULL;
	int k;

	if (!dir || root_list_dir(dir, ".", &files) < 0)
		return 0;
	for (char **x = files; *x; x++) {
		size_t len = strlen(*x);
		_cleanup_free_ char *name = NULL;

		if (len <= 5 || !streq(*x + len - 5, ".json") || startswith(*x, "gpuprov-") ||
		    streq(*x, "knowledge.json"))
			continue;
		name = strndup(*x, len - 5);
		if (!name)
			return -ENOMEM;
		if (strv_contains(*names, name))
			continue;
		if ((k = strv_push(names, n, name)) < 0)
			return k;
	}
	return 0;
}

int profile_names(const struct profile_dirs *d, char ***ret)
{
	_cleanup_(strv_freep) char **names = NULL;
	size_t n = 0;
	int k;

	if ((k = dir_names(d->site, &names, &n)) < 0 || (k = dir_names(d->shipped, &names, &n)) < 0)
		return k;
	strv_sort(names);
	*ret = TAKE_PTR(names);
	return 0;
}

int profile_list(const struct profile_dirs *d, struct profile_info **ret, size_t *ret_n)
{
	_cleanup_(strv_freep) char **names = NULL;
	struct profile_info *list;
	size_t n;
	int k;

	k = profile_names(d, &names);
	if (k < 0)
		return k;
	n = strv_length(names);
	list = calloc(n + 1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *text = NULL;
		_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
		const char *desc;

		list[i].name = strdup(names[i]);
		if (!list[i].name || profile_read(d, names[i], &text, NULL, &list[i].file) == -ENOMEM) {
			profile_info_free(list, n);
			return -ENOMEM;
		}
		list[i].site = list[i].file && startswith(list[i].file, d->site_path);
		doc = text ? cJSON_Parse(text) : NULL;
		desc = json_str(doc, "description");
		list[i].description = desc ? strdup(desc) : NULL;
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

void profile_info_free(struct profile_info *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++) {
		free(list[i].name);
		free(list[i].description);
		free(list[i].file);
	}
	free(list);
}
