/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Part of the NVML stand-in (nvml-stub.c, which includes this file): the getters and setters of the GPUs' declared state (the "gpu" section). */
