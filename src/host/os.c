/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The distribution, from os-release(5). */
#include <ctype.h>
#include <errno.h>

#include "facts.h"
#include "util/errors.h"
#include "util/strutil.h"

/* os-release is a handful of lines; anything much larger is not one. */
#define OS_RELEASE_MAX 65536

/* Unquotes a shell-style value in place: "a b", 'a b', a\ b. */
static char *unquote(char *v)
{
	char *out = v, *in = v;
	char quote = 0;

	for (; *in; in++) {
		if (!quote && (*in == '"' || *in == '\'')) {
			quote = *in;
			continue;
		}
		if (quote && *in == quote) {
			quote = 0;
			continue;
		}
		if (*in == '\\' && quote != '\'' && in[1])
			in++;
		*out++ = *in;
	}
	*out = '\0';
	return v;
}

int os_release_parse(const char *text, struct os_facts *os)
{
	_cleanup_free_ char *copy = strdup(text);
	char *save = NULL;
	int k = 0;

	if (!copy)
		return -ENOMEM;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq, *key, *value;

		line = strstrip(line);
		if (*line == '#' || !(eq = strchr(line, '=')))
			continue;
		*eq = '\0';
		key = strstrip(line);
		value = unquote(strstrip(eq + 1));

		if (streq(key, "ID")) {
			/* openEuler writes ID="openEuler": compare in lower case. */
			for (char *c = value; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			k = free_and_strdup(&os->id, value);
		} else if (streq(key, "ID_LIKE"))
			k = free_and_strdup(&os->id_like, value);
		else if (streq(key, "VERSION_ID"))
			k = free_and_strdup(&os->version_id, value);
		else if (streq(key, "VERSION"))
			k = free_and_strdup(&os->version, value);
		else if (streq(key, "VERSION_CODENAME"))
			k = free_and_strdup(&os->codename, value);
		else if (streq(key, "PRETTY_NAME"))
			k = free_and_strdup(&os->pretty_name, value);
		if (k < 0)
			return k;
	}
	if (!os->id)
		return -GPE_PARSE;
	os->family = OS_FAMILY_UNKNOWN;

	/* The ID first, then what it says it is like. */
	static const struct {
		const char *id;
		enum os_family family;
	} families[] = {
		{ "debian", OS_FAMILY_DEBIAN },	      { "ubuntu", OS_FAMILY_DEBIAN },
		{ "rhel", OS_FAMILY_RHEL },	      { "rocky", OS_FAMILY_RHEL },
		{ "almalinux", OS_FAMILY_RHEL },      { "centos", OS_FAMILY_RHEL },
		{ "fedora", OS_FAMILY_RHEL },	      { "openeuler", OS_FAMILY_OPENEULER },
		{ "kylin", OS_FAMILY_KYLIN },
	};
	for (size_t i = 0; i < ELEMENTSOF(families); i++)
		if (streq(os->id, families[i].id)) {
			os->family = families[i].family;
			return 0;
		}
	if (os->id_like) {
		_cleanup_free_ char *like = strdup(os->id_like);
		char *s2 = NULL;

		if (!like)
			return -ENOMEM;
		for (char *w = strtok_r(like, " ", &s2); w; w = strtok_r(NULL, " ", &s2))
			for (size_t i = 0; i < ELEMENTSOF(families); i++)
				if (strcasecmp(w, families[i].id) == 0) {
					os->family = families[i].family;
					return 0;
				}
	}
	return 0;
}

const char *os_family_to_string(enum os_family f)
{
	static const char *const names[] = {
		[OS_FAMILY_UNKNOWN] = NULL,	    [OS_FAMILY_DEBIAN] = "debian",
		[OS_FAMILY_RHEL] = "rhel",	    [OS_FAMILY_OPENEULER] = "openeuler",
		[OS_FAMILY_KYLIN] = "kylin",
	};
	return names[f];
}

const char *os_package_manager(enum os_family f)
{
	switch (f) {
	case OS_FAMILY_DEBIAN:
		return "apt";
	case OS_FAMILY_RHEL:
	case OS_FAMILY_OPENEULER:
	case OS_FAMILY_KYLIN:
		return "dnf";
	default:
		return NULL;
	}
}

enum vercmp_order os_version_order(enum os_family f)
{
	switch (f) {
	case OS_FAMILY_RHEL:
	case OS_FAMILY_OPENEULER:
	case OS_FAMILY_KYLIN:
		return VERCMP_RPM;
	default:
		/* An unknown OS has no package manager of its own; apt's lists are what the
		 * repository view reads first. */
		return VERCMP_DPKG;
	}
}

int os_detect(const struct detect_ctx *ctx)
{
	/* os-release(5): /etc/os-release first, /usr/lib/os-release when it is missing (or,
	 * here, unusable). */
	static const char *const paths[] = { "etc/os-release", "usr/lib/os-release" };
	struct facts *f = ctx->facts;

	for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
		_cleanup_free_ char *text = NULL;
		int k;

		k = root_read_file(ctx->root, paths[i], OS_RELEASE_MAX, &text, NULL);
		if (k == -ENOENT)
			continue;
		if (k >= 0)
			k = os_release_parse(text, &f->os);
		if (k == -ENOMEM)
			return k;
		if (k < 0) {
			facts_warn(f, "%s: %s", paths[i], gp_strerror(k));
			/* Nothing of a file without an ID is kept: the next one is read whole. */
			os_facts_clear(&f->os);
			continue;
		}
		if (free_and_strdup(&f->os.source, paths[i]) < 0)
			return -ENOMEM;
		return 0;
	}
	if (!f->os.source)
		facts_warn(f, "no usable etc/os-release or usr/lib/os-release: OS unknown");
	return 0;
}
