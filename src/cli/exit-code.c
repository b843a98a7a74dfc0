/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The exit status of a verb that stops on an error: the kind GP_ERRORS gives the error, as
 * the number gpuprov(8) documents. */
#include "cli.h"
#include "util/errors.h"

int exit_code_for(int error)
{
	if (error >= 0)
		return EXIT_CODE_OK;
	switch (gp_error_exit(error)) {
	case GP_EXIT_USAGE:
		return EXIT_CODE_USAGE;
	case GP_EXIT_REFUSED:
		return EXIT_CODE_REFUSED;
	case GP_EXIT_LIBRARY:
		return EXIT_CODE_LIBRARY;
	case GP_EXIT_FAILURE:
		break;
	}
	return EXIT_CODE_FAILURE;
}
