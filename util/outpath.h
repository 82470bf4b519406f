/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* wirecap: can an output file be written, asked without touching it
 * (util/: the pcapng writer and the CLI's output checks). */
#ifndef WIRECAP_OUTPATH_H
#define WIRECAP_OUTPATH_H

#include <stdbool.h>

/* 0 when @path could be opened for writing now, else a negative errno.
 * Neither creates, truncates nor removes anything at @path: an existing
 * path is opened for writing without O_TRUNC (and closed: its contents and
 * times stay), a missing one is tried as a probe file created and removed
 * at once in its directory. *created (may be NULL) says which: false for an
 * existing path, true for a new one. A FIFO without a reader gives
 * -ENXIO. */
int wc_outpath_check(const char *path, bool *created);

#endif
