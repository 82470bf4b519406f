// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A "wirecap:IF" handle from pcap_create to pcap_close.
 *
 * pcap_create makes the genuine libpcap handle (a dead DLT_EN10MB one) and
 * reads the engine options from WIRECAP_PCAP_OPTS; pcap_activate opens a
 * wirecap engine on IF (attaching when IF is not attached yet: the engine
 * then detaches at close, and only then) and starts its workers on a
 * thread of ours. Every worker hands its chunks to the handle (read.c);
 * the application's thread takes the packets from there.
 *
 * pcap_set_buffer_size maps to the pool: the pool is at least that large.
 * The pool of each rx queue is chunks x chunk_size frames of frame_size
 * bytes; when the engine's pool (its default, which absorbs 200 ms at
 * 1 Mpps per queue) is smaller than the buffer size, the engine is opened
 * again with chunks = buffer_size / (queues x chunk_size x frame_size),
 * rounded up. --pool-chunks in WIRECAP_PCAP_OPTS wins over the buffer
 * size (programs such as dumpcap always ask for their 2 MiB default).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "wcpcap.h"

/* a worker with nothing to hand over reports so this often (the merge's
 * watermark moves on) */
#define IDLE_MS 5
/* packets wirecap injects need frames of their own */
#define TX_FRAMES 256

bool wcp_is_name(const char *dev)
{
	return dev && !strncmp(dev, WCP_PREFIX, WCP_PREFIX_LEN);
}

void wcp_err(struct wcp *h, const char *fmt, ...)
{
	char *buf = pcap_geterr(h->p);
	int n = snprintf(buf, PCAP_ERRBUF_SIZE, "wirecap: ");
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + n, PCAP_ERRBUF_SIZE - n, fmt, ap);
	va_end(ap);
}

struct wcp *wcp_create(const char *dev, char *errbuf)
{
	const char *ifname = dev + WCP_PREFIX_LEN;
	char msg[256] = "";
	struct wcp *h;

	if (!*ifname || strlen(ifname) >= IF_NAMESIZE) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE,
			 "wirecap: bad device name '%s' (wirecap:IFACE)", dev);
		return NULL;
	}
	wcp_log_init();
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "wirecap: out of memory");
		return NULL;
	}
	if (wcp_opts_parse(getenv(WCP_OPTS_ENV), &h->opts, msg, sizeof(msg))) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "wirecap: %s", msg);
		free(h);
		return NULL;
	}
	strcpy(h->ifname, ifname);
	h->snaplen = WCP_DEFAULT_SNAPLEN;
	h->precision = PCAP_TSTAMP_PRECISION_MICRO;
	h->efd = -1;
	pthread_mutex_init(&h->port_lock, NULL);
	pthread_mutex_init(&h->fifo.lock, NULL);
	h->p = pcap_open_dead_with_tstamp_precision(
		DLT_EN10MB, WCP_DEFAULT_SNAPLEN, PCAP_TSTAMP_PRECISION_MICRO);
	if (!h->p || wcp_add(h)) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE,
			 "wirecap: cannot create a handle for %s", dev);
		if (h->p)
			REAL(pcap_close)(h->p);
		free(h);
		return NULL;
	}
	return h;
}

/* ---- the workers ------------------------------------------------------------ */

static int on_chunk(struct wc_worker *w, struct wc_chunk *c, void *ctx)
{
	struct wcp *h = ctx;

	wcp_handover(h, w, c);
	return c ? WC_CHUNK_KEEP : 0;
}

static void *runner(void *arg)
{
	struct wcp *h = arg;
	sigset_t all;
	WC_OPTS(wc_run_opts, ro, .on_chunk = on_chunk, .ctx = h,
		.idle_ms = IDLE_MS);

	/* the application's signal handlers run on its own threads */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (h->opts.ea.ncpus) {
		ro.cpus = h->opts.ea.cpus;
		ro.ncpus = (unsigned)h->opts.ea.ncpus;
	}
	h->run_err = wc_engine__run(h->e, &ro);
	wcp_handover_end(h);
	return NULL;
}

/* ---- activation --------------------------------------------------------------- */

static int open_error(struct wcp *h, int err)
{
	const char *w = wcp_last_warning();

	/* the library said why: that is the message */
	if (*w && err != ENODEV) {
		wcp_err(h, "%s: %s", h->ifname, w);
		return err == EPERM || err == EACCES ? PCAP_ERROR_PERM_DENIED :
						       PCAP_ERROR;
	}
	switch (err) {
	case ENODEV:
		wcp_err(h, "%s: no such interface", h->ifname);
		return PCAP_ERROR_NO_SUCH_DEVICE;
	case EPERM:
	case EACCES:
		wcp_err(h,
			"%s: permission denied (needs root, or CAP_BPF, CAP_NET_ADMIN, CAP_NET_RAW, CAP_IPC_LOCK)",
			h->ifname);
		return PCAP_ERROR_PERM_DENIED;
	case EBUSY:
		wcp_err(h,
			"%s: busy: another capture, AF_XDP socket or XDP program uses it",
			h->ifname);
		return PCAP_ERROR;
	case ENOMEM:
		wcp_err(h,
			"%s: cannot allocate the packet pools (smaller --pool-chunks in %s)",
			h->ifname, WCP_OPTS_ENV);
		return PCAP_ERROR;
	default:
		wcp_err(h, "%s: cannot open the capture engine: %s", h->ifname,
			strerror(err));
		return PCAP_ERROR;
	}
}

/* the pool is at least the buffer size (see the top of the file) */
static int open_engine(struct wcp *h, struct wc_engine_opts *eo)
{
	struct wc_iface_engine_info ei = { .sz = sizeof(ei) };
	uint64_t per_chunk, want;

	h->e = wc_engine__open(h->ifname, eo);
	if (!h->e)
		return -errno;
	if (h->opts.ea.eo.chunks || h->buffer_size <= 0 ||
	    wc_engine__info(h->e, &ei))
		return 0;
	if (ei.umem_bytes >= (uint64_t)h->buffer_size)
		return 0;
	per_chunk = (uint64_t)ei.queues * ei.chunk_size * ei.frame_size;
	want = ((uint64_t)h->buffer_size + per_chunk - 1) / per_chunk;
	if (want <= ei.chunks)
		return 0;
	wc_engine__close(h->e);
	eo->chunks = want > (1u << 22) ? 1u << 22 : want;
	h->e = wc_engine__open(h->ifname, eo);
	return h->e ? 0 : -errno;
}

int wcp_activate(struct wcp *h)
{
	struct wc_engine_opts eo = h->opts.ea.eo;
	int err;

	if (h->activated)
		return PCAP_ERROR_ACTIVATED;
	if (h->snaplen <= 0 || h->snaplen > WCP_DEFAULT_SNAPLEN)
		h->snaplen = WCP_DEFAULT_SNAPLEN;
	/* immediate mode: hand over as soon as packets are there */
	if (h->immediate && eo.wait == WC_WAIT_CHUNK)
		eo.wait = WC_WAIT_POLL;
	if (!eo.tx_frames)
		eo.tx_frames = TX_FRAMES;
	wcp_clear_warning();
	err = open_engine(h, &eo);
	if (err)
		return open_error(h, -err);
	err = wcp_opts_apply(&h->opts, wc_engine__iface(h->e));
	if (err) {
		wcp_err(h, "%s: offload settings refused: %s", h->ifname,
			strerror(-err));
		goto fail;
	}
	h->nw = wc_engine__workers(h->e);
	err = wcp_read_init(h);
	if (err) {
		wcp_err(h, "%s: %s", h->ifname, strerror(-err));
		goto fail;
	}
	h->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->efd < 0) {
		wcp_err(h, "eventfd: %s", strerror(errno));
		goto fail;
	}
	h->nic_drop0 = wcp_nic_drops(h->ifname);
	err = pthread_create(&h->runner, NULL, runner, h);
	if (err) {
		wcp_err(h, "cannot start the workers: %s", strerror(err));
		goto fail;
	}
	h->running = true;
	h->activated = true;
	return 0;
fail:
	wc_engine__close(h->e);
	h->e = NULL;
	return PCAP_ERROR;
}

/* ---- close ---------------------------------------------------------------------- */

void wcp_close(struct wcp *h)
{
	wcp_del(h);
	if (h->running) {
		wc_engine__stop(h->e);
		pthread_join(h->runner, NULL);
	}
	if (h->activated)
		wcp_log_note(
			"%s: closed: %llu packets to the callbacks, %llu rejected by the filter, %llu out of time order\n",
			h->ifname, (unsigned long long)h->accepted,
			(unsigned long long)h->filtered,
			(unsigned long long)h->late);
	wcp_read_free(h);
	wcp_inject_close(h);
	/* the filter this handle put in the XDP program goes with it (an
	 * attachment the engine made itself goes anyway) */
	if (h->e && h->xdp_filter)
		wc_iface__clear_filter(wc_engine__iface(h->e));
	if (h->e)
		wc_engine__close(h->e);
	if (h->efd >= 0)
		close(h->efd);
	if (h->have_filter)
		pcap_freecode(&h->prog);
	REAL(pcap_close)(h->p);
	pthread_mutex_destroy(&h->port_lock);
	free(h);
}
