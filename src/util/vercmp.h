/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Version orders. A package's versions are ordered the way its package manager orders them,
 * or the resolver picks a revision apt or dnf would not: dpkg's for apt's lists and dpkg's
 * status, rpm's for what dnf offers. Driver branches ("550"), driver versions ("550.90.07"),
 * CUDA versions ("12.4") and kernel series ("6.8") are no package's version: they have a
 * plain order of their own, which both package orders agree with on dotted numbers.
 *
 * Every comparison returns -1, 0 or 1: a is older than, the same as, newer than b.
 */
enum vercmp_order {
	VERCMP_DPKG,   /* [epoch:]upstream[-revision], Debian policy 5.6.12 */
	VERCMP_RPM,    /* [epoch:]version[-release], rpm's rpmvercmp on each */
	VERCMP_DOTTED, /* numbers with dots between them: "550.90.07", "12.4" */
};

int vercmp(enum vercmp_order order, const char *a, const char *b);

int vercmp_dpkg(const char *a, const char *b);
int vercmp_rpm(const char *a, const char *b);
/* rpm's order of one part (an epoch, a version or a release) against another: rpmvercmp. */
int vercmp_rpm_part(const char *a, const char *b);
/* Digit runs compare as numbers; a digit run outranks anything else and the end of a string
 * is lowest ("550.54" > "550", "12.10" > "12.9"); any other byte compares by its value. */
int vercmp_dotted(const char *a, const char *b);

/* "dpkg", "rpm", "dotted" -> the order; -1 for any other name. */
int vercmp_order_from_string(const char *s);
