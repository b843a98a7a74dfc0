/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A stand-in for DCGM's library, built as tests/helpers/dcgm/libdcgm.so.4: verify only
 * dlopen's libdcgm to learn that DCGM is installed (and looks for dcgmInit in it); the
 * diagnostic runs through dcgmi (tests/helpers/dcgmi). Returns DCGM_ST_OK (0), the
 * success of dcgmReturn_t in dcgm_structs.h.
 */
int dcgmInit(void);

int dcgmInit(void)
{
	return 0;
}
