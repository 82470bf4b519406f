/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libwirecap-pcap: a preloadable libpcap front. Devices named "wirecap:IF"
 * are served by a wirecap engine through the public libwirecap-xdp API;
 * every other call goes to the real libpcap (dlsym(RTLD_NEXT)).
 *
 * A "wirecap:" handle is a genuine libpcap pcap_t (a "dead" handle of
 * DLT_EN10MB), so everything libpcap does with a handle by itself (dumpers,
 * pcap_datalink, pcap_geterr, pcap_compile) works on it untouched; the
 * live-capture calls on it are served here. This header is the shared
 * state of the front's files; nothing in it is exported.
 */
#ifndef WIRECAP_PCAP_WCPCAP_H
#define WIRECAP_PCAP_WCPCAP_H

#include <net/if.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "wirecap/wirecap.h"
#include "engine_table.h"

#define WCP_PREFIX "wirecap:"
#define WCP_PREFIX_LEN 8
/* the environment variable with the engine options (see opts.c) */
#define WCP_OPTS_ENV "WIRECAP_PCAP_OPTS"
#define WCP_MAX_HANDLES 64
#define WCP_DEFAULT_SNAPLEN 262144

#define WCP_EXPORT __attribute__((visibility("default")))

/* ---- the real libpcap (real.c) ----------------------------------------- */

/* The next definition of a libpcap function after this library's one.
 * Declares a static pointer per call site; resolved once. */
void *wcp_real(const char *name);
#define REAL(fn)                                                    \
	({                                                          \
		static __typeof__(&fn) real_##fn;                   \
		if (!real_##fn)                                     \
			real_##fn = (__typeof__(&fn))wcp_real(#fn); \
		real_##fn;                                          \
	})

/* ---- engine options (opts.c) --------------------------------------------- */

struct wcp_opts {
	/* the engine options, as `wirecap capture` takes them (one list:
	 * util/engine_table.h); --pool-chunks (ea.eo.chunks) makes
	 * pcap_set_buffer_size ignored */
	struct engine_args ea;
	int reorder_ms; /* time-order window across queues; 0: none */
};

/* Parse WIRECAP_PCAP_OPTS (the engine options of `wirecap capture`,
 * e.g. "--workers 2 --pool-chunks 1024"). 0, or -EINVAL with a one-line
 * message in @err. */
int wcp_opts_parse(const char *s, struct wcp_opts *o, char *err, size_t len);
/* the offload tunables of @o on the attachment */
int wcp_opts_apply(const struct wcp_opts *o, struct wc_iface *ifc);

/* ---- a handle ------------------------------------------------------------- */

/* The workers' hand-off: chunks in the order the workers captured them
 * (one lock per chunk), until the application's thread takes them. */
struct wcp_fifo {
	pthread_mutex_t lock;
	struct wc_chunk **ring;
	unsigned cap, head, len;
};

/* A chunk the application's thread took: its packets are handed out in
 * place; it goes back to its pool when the last one was consumed. */
struct wcp_ent {
	struct wc_chunk *c;
	struct wc_pkt *pkts;
	unsigned n, left, worker;
};

/* A source of time-ordered packets: one rx queue of one worker. */
struct wcp_src {
	uint64_t seq; /* entry to look in next */
	unsigned idx; /* packet of that entry */
	uint64_t last_ts; /* of its last packet handed out; 0: none yet */
};

struct wcp {
	pcap_t *p; /* the genuine (dead) libpcap handle */
	char ifname[IF_NAMESIZE];

	/* settings (pcap_set_*), applied by pcap_activate */
	int snaplen;
	int promisc;
	int timeout_ms;
	int buffer_size;
	int immediate;
	int precision; /* PCAP_TSTAMP_PRECISION_* */
	bool activated;
	bool nonblock;

	struct wcp_opts opts;
	struct wc_engine *e;
	unsigned nw;
	pthread_t runner;
	bool running;
	int run_err;
	int efd; /* eventfd: readable while packets wait (selectable fd) */
	atomic_bool brk; /* pcap_breakloop */
	atomic_bool waiting; /* the application's thread sleeps on efd */
	unsigned nq;
	struct wcp_fifo fifo;
	atomic_bool ended; /* the workers stopped: all they had is in fifo */
	atomic_bool blocked; /* the merge waits for a watermark: wake it */
	/* per worker: CLOCK_REALTIME ns up to which it handed over all it
	 * received (its rings were found empty then, minus a margin) */
	_Atomic uint64_t *empty_ns;

	/* the application's thread: entries taken from fifo, by seq */
	struct wcp_ent *ents;
	unsigned ents_cap, ents_off, ents_len;
	uint64_t base_seq;
	uint64_t held_pkts; /* in ents, not handed out yet */
	struct wcp_src *src; /* [nsrc]: nw x nq, or 1 without the merge */
	unsigned nsrc;
	uint64_t *wm; /* [nw] watermarks seen at the last pull */
	uint64_t *wlast; /* [nw] time stamp of its last packet handed out */
	uint64_t reorder_ns; /* 0: hand-over order */
	uint64_t late; /* released after a newer packet (window passed) */
	uint64_t last_ts;
	uint64_t pending_seq; /* pcap_next_ex: entry of the packet it gave */
	bool pending;
	unsigned chunk_size;

	/* pcap_setfilter: in the XDP program when it can run there and the
	 * attachment had no filter of its own (xdp_filter: cleared at close);
	 * else in user space, run by read.c for each packet (have_filter) */
	struct bpf_program prog;
	bool have_filter;
	bool xdp_filter;

	/* the application's thread only */
	uint64_t accepted; /* passed the filter: given to the callback */
	uint64_t filtered; /* rejected by the filter */
	struct pcap_pkthdr hdr; /* pcap_next / pcap_next_ex */

	/* pcap_inject: opened on first use */
	struct wc_port *port;
	pthread_mutex_t port_lock;

	/* NIC drops at activation (ps_ifdrop is the difference) */
	uint64_t nic_drop0;
};

#include "log.h"

/* side table (table.c): lock-free lookup, async-signal-safe */
struct wcp *wcp_find(pcap_t *p);
int wcp_add(struct wcp *h);
void wcp_del(struct wcp *h);

/* handle life (handle.c) */
bool wcp_is_name(const char *dev);
struct wcp *wcp_create(const char *dev, char *errbuf);
int wcp_activate(struct wcp *h);
void wcp_close(struct wcp *h);
/* "wirecap: ..." in the handle's libpcap error buffer (pcap_geterr) */
void wcp_err(struct wcp *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* reading (read.c) */
int wcp_read_init(struct wcp *h);
void wcp_read_free(struct wcp *h);
/* run by the engine's threads: hand a chunk over (NULL: idle) */
void wcp_handover(struct wcp *h, struct wc_worker *w, struct wc_chunk *c);
void wcp_handover_end(struct wcp *h);
int wcp_dispatch(struct wcp *h, int cnt, pcap_handler cb, u_char *user,
		 bool loop);
int wcp_next_ex(struct wcp *h, struct pcap_pkthdr **hdr, const u_char **data);
void wcp_breakloop(struct wcp *h);

/* statistics (stats.c) */
int wcp_stats(struct wcp *h, struct pcap_stat *ps);
uint64_t wcp_nic_drops(const char *ifname);

/* transmit (inject.c) */
int wcp_inject(struct wcp *h, const void *buf, size_t len);
void wcp_inject_close(struct wcp *h);

/* devices (devs.c) */
int wcp_add_devs(pcap_if_t **alldevs, char *errbuf);

#endif
