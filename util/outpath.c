// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outpath.h"

int wc_outpath_check(const char *path, bool *created)
{
	char *dup, *probe;
	int fd, err = 0;

	if (created)
		*created = false;
	/* O_NONBLOCK: a FIFO without a reader fails (ENXIO) instead of
	 * waiting; no O_TRUNC, no O_CREAT: the file stays as it is */
	fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno != ENOENT)
		return -errno;
	/* a new file: the path itself appears only when it is written (a
	 * script may wait for it), so try a probe next to it */
	if (created)
		*created = true;
	dup = strdup(path);
	if (!dup)
		return -ENOMEM;
	if (asprintf(&probe, "%s/.wirecap-probe-XXXXXX", dirname(dup)) < 0) {
		free(dup);
		return -ENOMEM;
	}
	fd = mkstemp(probe);
	if (fd < 0) {
		err = -errno;
	} else {
		close(fd);
		unlink(probe);
	}
	free(probe);
	free(dup);
	return err;
}
