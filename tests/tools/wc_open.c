// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * wc_open: open a capture engine with the geometry options of struct
 * wc_engine_opts (queues, workers, buckets) and close it again, on the
 * public API only. The library's warnings go to stderr as it prints them;
 * the tool prints nothing itself and exits 0, or with the errno of the
 * failed open (tests/integ/test_attach.sh: an engine whose geometry
 * differs from the attachment's is refused with EEXIST in one line).
 * --port OUT also opens an egress port on OUT (wc_port__open) and closes
 * it; --umem one|queue chooses the engine's UMEM layout (auto otherwise):
 * a port needs one UMEM for the engine's queues. --repeat N opens and
 * closes it N times in a row, each open right after the last close (the
 * kernel frees a closed engine's sockets later), up to the first failure.
 *
 *   wc_open -i IFACE [--queues N] [--workers N] [--buckets N]
 *           [--pool-chunks R] [--umem one|queue] [--port OUT] [--repeat N]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wirecap/wirecap.h>

int main(int argc, char **argv)
{
	enum { O_Q = 256, O_W, O_B, O_PC, O_UMEM, O_PORT, O_REPEAT };
	static const struct option lo[] = {
		{ "interface", required_argument, 0, 'i' },
		{ "queues", required_argument, 0, O_Q },
		{ "workers", required_argument, 0, O_W },
		{ "buckets", required_argument, 0, O_B },
		{ "pool-chunks", required_argument, 0, O_PC },
		{ "umem", required_argument, 0, O_UMEM },
		{ "port", required_argument, 0, O_PORT },
		{ "repeat", required_argument, 0, O_REPEAT },
		{ 0 }
	};
	/* a small pool: the open that succeeds needs little memory */
	WC_OPTS(wc_engine_opts, eo, .chunks = 64);
	const char *ifname = NULL, *out = NULL;
	struct wc_engine *e;
	struct wc_port *p;
	unsigned long repeat = 1;
	int c, err = 0;

	while ((c = getopt_long(argc, argv, "i:", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case O_Q:
			eo.queues = strtoul(optarg, NULL, 0);
			break;
		case O_W:
			eo.workers = strtoul(optarg, NULL, 0);
			break;
		case O_B:
			eo.buckets = strtoul(optarg, NULL, 0);
			break;
		case O_PC:
			eo.chunks = strtoul(optarg, NULL, 0);
			break;
		case O_UMEM:
			eo.umem = !strcmp(optarg, "one")   ? WC_UMEM_ONE :
				  !strcmp(optarg, "queue") ? WC_UMEM_PER_QUEUE :
							     WC_UMEM_AUTO;
			break;
		case O_PORT:
			out = optarg;
			break;
		case O_REPEAT:
			repeat = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr,
				"usage: wc_open -i IFACE [--queues N] [--workers N] [--buckets N] [--pool-chunks R] [--umem one|queue] [--port OUT] [--repeat N]\n");
			return 2;
		}
	}
	if (!ifname)
		return 2;
	for (unsigned long i = 0; i < repeat && !err; i++) {
		e = wc_engine__open(ifname, &eo);
		if (!e)
			return errno ? errno : 1;
		if (out) {
			p = wc_port__open(e, out, NULL);
			if (p)
				wc_port__close(p);
			else
				err = errno ? errno : 1;
		}
		wc_engine__close(e);
	}
	return err;
}
