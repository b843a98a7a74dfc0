/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The repository view read from the fake root and asked what the resolver asks of it:
 * the harnesses of repo.json and of apt's lists share it. */
void fuzz_repo_view(void);
