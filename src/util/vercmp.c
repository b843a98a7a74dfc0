/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Version orders: dpkg's, rpm's and plain dotted numbers'. */
#include <stdbool.h>
#include <string.h>

#include "util/macro.h"
#include "util/vercmp.h"

/* ASCII classes, not the locale's: dpkg and rpm order bytes the same under every locale. */
static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int sign(int c)
{
	return (c > 0) - (c < 0);
}

/* Two digit runs [a, ae) and [b, be) as numbers of any length: leading zeros do not count. */
static int compare_digits(const char *a, const char *ae, const char *b, const char *be)
{
	while (a < ae && *a == '0')
		a++;
	while (b < be && *b == '0')
		b++;
	if (ae - a != be - b)
		return ae - a < be - b ? -1 : 1;
	return sign(memcmp(a, b, ae - a));
}

static const char *digits_end(const char *s, const char *end)
{
	while (s < end && is_digit(*s))
		s++;
	return s;
}

/* ---- dpkg -------------------------------------------------------------------------------- */

/* The weight of one byte in a run of non-digits (policy 5.6.12): '~' below everything, even
 * the end of the run (a digit ends it too), so "1.0~rc1" < "1.0"; then the end; then letters;
 * then every other byte, so "1.0a" < "1.0+b1" < "1.0.1". */
static int dpkg_weight(const char *s, const char *end)
{
	if (s == end || is_digit(*s))
		return 0;
	if (*s == '~')
		return -1;
	if (is_alpha(*s))
		return (unsigned char)*s;
	return (unsigned char)*s + 256;
}

/* An upstream version or a revision against another: alternately a run of non-digits, byte by
 * byte by weight, and a run of digits as a number (an absent run is 0: "1.0" = "1.00"). */
static int dpkg_compare_part(const char *a, const char *ae, const char *b, const char *be)
{
	while (a < ae || b < be) {
		const char *da, *db;
		int c;

		while ((a < ae && !is_digit(*a)) || (b < be && !is_digit(*b))) {
			int wa = dpkg_weight(a, ae), wb = dpkg_weight(b, be);

			/* Equal weights are never the end's: a non-digit is under one of them. */
			if (wa != wb)
				return wa < wb ? -1 : 1;
			a++;
			b++;
		}
		da = a, db = b;
		a = digits_end(a, ae);
		b = digits_end(b, be);
		if ((c = compare_digits(da, a, db, b)))
			return c;
	}
	return 0;
}

struct dpkg_version {
	const char *epoch, *epoch_end; /* an empty run when there is none: epoch 0 */
	const char *upstream, *upstream_end;
	const char *revision, *revision_end; /* after the last '-'; absent counts as "0" */
};

/* dpkg's split: the epoch before the first ':', the revision after the last '-' that follows
 * it. dpkg refuses an epoch that is not a number; such a version keeps its colon in the
 * upstream part here, so that it still has a place in the order. */
static struct dpkg_version dpkg_split(const char *s)
{
	const char *end = s + strlen(s), *colon = strchr(s, ':'), *hyphen;
	struct dpkg_version v = { .epoch = s, .epoch_end = s };

	if (colon && digits_end(s, colon) == colon) {
		v.epoch_end = colon;
		s = colon + 1;
	}
	hyphen = strrchr(s, '-');
	v.upstream = s;
	v.upstream_end = hyphen ? hyphen : end;
	v.revision = hyphen ? hyphen + 1 : end;
	v.revision_end = end;
	return v;
}

int vercmp_dpkg(const char *a, const char *b)
{
	struct dpkg_version x = dpkg_split(a), y = dpkg_split(b);
	int c;

	/* The epoch first: "1:550.54.15-1" is newer than any "550.90.07-1". */
	if ((c = compare_digits(x.epoch, x.epoch_end, y.epoch, y.epoch_end)))
		return c;
	if ((c = dpkg_compare_part(x.upstream, x.upstream_end, y.upstream, y.upstream_end)))
		return c;
	return dpkg_compare_part(x.revision, x.revision_end, y.revision, y.revision_end);
}

/* ---- rpm --------------------------------------------------------------------------------- */

/* rpmvercmp on [a, ae) and [b, be): segments of letters or of digits; whatever else is a
 * separator and compares as nothing, so "1.0" = "1_0" = "1.0."; '~' sorts before anything,
 * the end included ("1.0~rc1" < "1.0"); '^' after the end but before anything else
 * ("1.0" < "1.0^git1" < "1.0.1"). */
static int rpm_compare_part(const char *a, const char *ae, const char *b, const char *be)
{
	if (ae - a == be - b && memcmp(a, b, ae - a) == 0)
		return 0;
	for (;;) {
		const char *sa, *sb;
		bool num;
		int c;

		while (a < ae && !is_digit(*a) && !is_alpha(*a) && *a != '~' && *a != '^')
			a++;
		while (b < be && !is_digit(*b) && !is_alpha(*b) && *b != '~' && *b != '^')
			b++;
		if ((a < ae && *a == '~') || (b < be && *b == '~')) {
			if (a == ae || *a != '~')
				return 1;
			if (b == be || *b != '~')
				return -1;
			a++, b++;
			continue;
		}
		if ((a < ae && *a == '^') || (b < be && *b == '^')) {
			if (a == ae)
				return -1;
			if (b == be)
				return 1;
			if (*a != '^')
				return 1;
			if (*b != '^')
				return -1;
			a++, b++;
			continue;
		}
		if (a == ae || b == be)
			break;
		/* b's segment is of a's kind, or empty when b has the other kind there. */
		sa = a, sb = b;
		num = is_digit(*a);
		while (a < ae && (num ? is_digit(*a) : is_alpha(*a)))
			a++;
		while (b < be && (num ? is_digit(*b) : is_alpha(*b)))
			b++;
		/* A numeric segment is newer than a letters' one: "1.0.1" > "1.0a". */
		if (b == sb)
			return num ? 1 : -1;
		if (num)
			c = compare_digits(sa, a, sb, b);
		else if (!(c = sign(memcmp(sa, sb, MIN(a - sa, b - sb)))))
			c = a - sa == b - sb ? 0 : a - sa < b - sb ? -1 : 1;
		if (c)
			return c;
	}
	/* Every segment the same: the one with something left (a segment, not a separator:
	 * those were skipped) is newer. */
	if (a == ae && b == be)
		return 0;
	return a == ae ? -1 : 1;
}

int vercmp_rpm_part(const char *a, const char *b)
{
	return rpm_compare_part(a, a + strlen(a), b, b + strlen(b));
}

struct rpm_evr {
	const char *epoch, *epoch_end;       /* "0" when there is none */
	const char *version, *version_end;
	const char *release, *release_end;   /* NULL when there is no '-' */
};

/* rpm's split: an epoch only where the leading digits end at a ':' (an empty one is 0), the
 * release after the last '-'. */
static struct rpm_evr rpm_split(const char *s)
{
	const char *end = s + strlen(s), *digits = digits_end(s, end), *hyphen = strrchr(s, '-');
	struct rpm_evr v = { .epoch = "0" };

	v.epoch_end = v.epoch + 1;
	if (*digits == ':') {
		if (digits > s)
			v.epoch = s, v.epoch_end = digits;
		s = digits + 1;
	}
	v.version = s;
	v.version_end = hyphen ? hyphen : end;
	if (hyphen)
		v.release = hyphen + 1, v.release_end = end;
	return v;
}

int vercmp_rpm(const char *a, const char *b)
{
	struct rpm_evr x = rpm_split(a), y = rpm_split(b);
	int c;

	if ((c = rpm_compare_part(x.epoch, x.epoch_end, y.epoch, y.epoch_end)) ||
	    (c = rpm_compare_part(x.version, x.version_end, y.version, y.version_end)))
		return c;
	/* rpm 4.18's rpmverCmp: a release, even an empty one, is newer than none
	 * ("1.0-1" > "1.0"); older rpm and dnf's matching skip the release where one lacks it. */
	if (!x.release || !y.release)
		return (x.release != NULL) - (y.release != NULL);
	return rpm_compare_part(x.release, x.release_end, y.release, y.release_end);
}

/* ---- plain dotted numbers ------------------------------------------------------------------ */

int vercmp_dotted(const char *a, const char *b)
{
	const char *ae = a + strlen(a), *be = b + strlen(b);

	while (a < ae || b < be) {
		if (a < ae && b < be && is_digit(*a) && is_digit(*b)) {
			const char *da = a, *db = b;
			int c;

			a = digits_end(a, ae);
			b = digits_end(b, be);
			if ((c = compare_digits(da, a, db, b)))
				return c;
			continue;
		}
		/* The end is lowest and a digit run outranks any other byte, so that "5.15.0" >
		 * "5.15" and "5.15.0" > "5.15a" as both package orders have it. */
		if (a == ae || b == be)
			return a == ae ? -1 : 1;
		if (is_digit(*a) != is_digit(*b))
			return is_digit(*a) ? 1 : -1;
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++, b++;
	}
	return 0;
}

/* ---- by name --------------------------------------------------------------------------------- */

int vercmp(enum vercmp_order order, const char *a, const char *b)
{
	switch (order) {
	case VERCMP_DPKG:
		return vercmp_dpkg(a, b);
	case VERCMP_RPM:
		return vercmp_rpm(a, b);
	case VERCMP_DOTTED:
	default:
		return vercmp_dotted(a, b);
	}
}

int vercmp_order_from_string(const char *s)
{
	static const char *const names[] = { [VERCMP_DPKG] = "dpkg", [VERCMP_RPM] = "rpm", [VERCMP_DOTTED] = "dotted" };

	for (size_t i = 0; s && i < ELEMENTSOF(names); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}
