/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A line diff of two texts: each line prefixed by ' ', '-' or '+' (longest common
 * subsequence; the texts are config files of tens of lines). NULL on out of memory. */
char *diff_lines(const char *old, const char *new);
