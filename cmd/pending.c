// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Sub-commands still being written: weak fallbacks, replaced by the real
 * (strong) definitions in their own files as they land. */
#include "cmd.h"

#define PENDING(name)                                                          \
	__attribute__((weak)) int cmd_##name(int argc, char **argv)           \
	{                                                                      \
		(void)argc;                                                    \
		(void)argv;                                                    \
		return cmd_err(#name ": not available in this build");         \
	}

PENDING(capture)
PENDING(stats)
PENDING(bench)
PENDING(gen)
PENDING(verify)
PENDING(forward)
PENDING(replay)
