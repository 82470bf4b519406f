/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libwirecap-xdp: lossless zero-copy packet capture and forwarding on
 * XDP / AF_XDP. See libwirecap-xdp(3) and docs/ for the model.
 *
 * Conventions (as in libbpf):
 *  - objects are opaque and named wc_<object>; methods are
 *    wc_<object>__<verb>();
 *  - functions returning int return 0 (or a count) on success and a
 *    negative errno on failure; functions returning a pointer return NULL
 *    and set errno;
 *  - options structs start with `size_t sz` (set it with WC_OPTS()) so they
 *    can grow without breaking the ABI; zeroed fields mean "default". A
 *    struct larger than the library's (a program built against a newer
 *    header) is refused with EINVAL when a field the library does not know
 *    is non-zero.
 */
#ifndef WIRECAP_WIRECAP_H
#define WIRECAP_WIRECAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/types.h>

#include "wirecap/wc_layout.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Declare and zero an options struct with its size set:
 *   WC_OPTS(wc_attach_opts, o, .workers = 2); */
#define WC_OPTS(TYPE, NAME, ...)                                         \
	struct TYPE NAME = ({                                            \
		memset(&NAME, 0, sizeof(struct TYPE));                   \
		(struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ }; \
	})

/* ---- logging ---------------------------------------------------------- */

enum wc_print_level {
	WC_WARN,
	WC_INFO,
	WC_DEBUG,
};

typedef int (*wc_print_fn_t)(enum wc_print_level level, const char *fmt,
			     va_list args);

/* Route the library's log lines (each ends with '\n'). NULL silences it.
 * The default prints warnings to stderr. Returns the previous callback. */
wc_print_fn_t wc_set_print(wc_print_fn_t fn);

/* "MAJOR.MINOR.PATCH" of the library */
const char *wc_version(void);

/* ---- attachment: the XDP program and its pinned maps on one interface --- */

/* asked for (wc_attach_opts.mode), and obtained (wc_iface_info.mode,
 * wc_config.attach_mode: native or generic) */
enum wc_xdp_mode {
	WC_XDP_AUTO = 0, /* native, fall back to generic */
	WC_XDP_NATIVE = 1,
	WC_XDP_GENERIC = 2,
};

struct wc_attach_opts {
	size_t sz;
	enum wc_xdp_mode mode;
	__u32 queues; /* 0: every rx queue of the device (max WC_MAX_QUEUES) */
	__u32 workers; /* 0: one per queue, at most the online CPUs; max 64 */
	__u32 buckets; /* 0: WC_DEFAULT_BUCKETS; a power of two */
	int steer_mode; /* WC_STEER_QUEUE (default) or WC_STEER_FLOW */
	int no_socket_action; /* 0 or WC_ACT_PASS (default), WC_ACT_DROP */
	int hash_mode; /* WC_HASH_L4 (default) or WC_HASH_L3 */
	bool force; /* replace an existing attachment */
	bool no_meta; /* do not write struct wc_meta before packets */
	const char *pin_root; /* NULL: $WIRECAP_PIN_ROOT or /sys/fs/bpf/wirecap */
	/* the attachment lives as long as the returned handle: the program
	 * is attached through a BPF link that is not pinned, so the kernel
	 * takes it off the interface when the handle is closed or its process
	 * dies (even killed); the pins it leaves are then stale and the next
	 * open removes them. An engine's own attachment is transient. */
	bool transient;
	size_t : 0;
};

/* An attachment: program + pinned maps of one interface. */
struct wc_iface;

/*
 * Load the XDP program on @ifname, pin it and its maps under
 * <pin_root>/<ifname>/ (mode 0600) and fill the steering map.
 * Fails with EEXIST when wirecap is already attached (unless opts->force),
 * EBUSY when another XDP program is attached, ENODEV for an unknown
 * interface, EPERM without CAP_BPF/CAP_NET_ADMIN, EINVAL for bad options,
 * EOPNOTSUPP when native mode is required and the driver refuses it,
 * EMEDIUMTYPE when the pin root is not on a bpffs.
 * Stale pins (program gone, interface recreated) are removed first.
 */
struct wc_iface *wc_iface__attach(const char *ifname,
				  const struct wc_attach_opts *opts);

/* Open an existing attachment from its pins (ENOENT when not attached;
 * stale pins are reported as ENOENT after being cleaned). */
struct wc_iface *wc_iface__open(const char *ifname, const char *pin_root);

/* Remove the program from the interface and every pin; frees @iface. */
int wc_iface__detach(struct wc_iface *iface);

/* Release the handle; the attachment stays (a transient one goes: it is
 * detached, pins removed). */
void wc_iface__close(struct wc_iface *iface);

/* 1 when the attachment is transient (held by a BPF link of some process,
 * e.g. a capture engine that attached by itself: it goes with that
 * process), 0 when it stays until detached, or -errno. */
int wc_iface__transient(const struct wc_iface *iface);

/* Convenience: open + detach. -ENOENT when not attached. */
int wc_detach(const char *ifname, const char *pin_root);

struct wc_iface_info {
	char ifname[16];
	int ifindex;
	__u32 prog_id; /* attached XDP program id */
	enum wc_xdp_mode mode; /* WC_XDP_NATIVE or WC_XDP_GENERIC */
	__u32 queues; /* served rx queues */
	__u32 dev_queues; /* rx queues of the device */
	__u32 workers;
	__u32 buckets;
	int steer_mode;
	char pin_dir[256];
};

int wc_iface__info(const struct wc_iface *iface, struct wc_iface_info *info);

/* The config entry (see struct wc_config). set_config validates it
 * (-EINVAL and no change when invalid); immutable fields (queues, workers,
 * buckets, identity) must be unchanged (-EPERM otherwise). */
int wc_iface__config(const struct wc_iface *iface, struct wc_config *cfg);
int wc_iface__set_config(struct wc_iface *iface, const struct wc_config *cfg);

/*
 * Output structs of the stats calls start with `size_t sz`: set it to
 * sizeof the struct (as compiled in the caller) before the call. The
 * library fills min(sz, its own size) bytes and zeroes the rest of the
 * caller's sz (nothing beyond it), and keeps sz as the caller set it, so
 * structs can grow: a field the library does not know reads as 0, and an
 * older caller gets the prefix it knows. -EINVAL when sz is smaller than
 * the sz field itself. (The pinned maps hold the layouts of
 * wirecap/wc_layout.h; these calls translate them.)
 */

/* The XDP program's counters of one rx queue, summed over CPUs (see
 * struct wc_queue_stats in wc_layout.h for what each counts): every
 * packet is counted in packets and in exactly one of redirected, passed,
 * dropped, filtered, shed. */
struct wc_iface_queue_stats {
	size_t sz;
	__u64 packets;
	__u64 bytes;
	__u64 redirected; /* handed to an XSK (may still drop there) */
	__u64 passed; /* no socket in the slot, action PASS */
	__u64 dropped; /* no socket in the slot, action DROP */
	__u64 nosock; /* slot empty (passed or dropped) */
	__u64 non_ip; /* parse outcomes (overlap the above) */
	__u64 truncated;
	__u64 fragment;
	__u64 unknown_l4;
	__u64 meta_failed; /* no headroom for the metadata: dropped */
	__u64 bad_queue; /* rx queue not served */
	__u64 filtered; /* not matched by the filter in XDP */
	__u64 shed; /* refused by admission control */
};

/* queue < WC_MAX_QUEUES; totals since attach */
int wc_iface__queue_stats(const struct wc_iface *iface, __u32 queue,
			  struct wc_iface_queue_stats *out);

/* One (queue, bucket) counter, summed over CPUs. */
struct wc_iface_bucket_stats {
	size_t sz;
	__u64 packets;
	__u64 bytes;
};

/* All (queue, bucket) counters: @out has n >= queues * buckets entries,
 * index q * buckets + b. out[0].sz is the size of one entry as the caller
 * compiled it (the array's stride); every entry gets it. Returns the
 * number of entries filled, -ENOSPC when n is too small. */
int wc_iface__bucket_stats(const struct wc_iface *iface,
			   struct wc_iface_bucket_stats *out, size_t n);

int wc_iface__steer_get(const struct wc_iface *iface, __u32 queue, __u32 bucket,
			struct wc_steer *out);
int wc_iface__steer_set(struct wc_iface *iface, __u32 queue, __u32 bucket,
			const struct wc_steer *val);

enum wc_map_id {
	WC_MAP_CONFIG,
	WC_MAP_XSKS,
	WC_MAP_STEER,
	WC_MAP_QUEUE_STATS,
	WC_MAP_BUCKET_STATS,
	WC_MAP_ENGINE,
	WC_MAP_WORKER_STATS,
	WC_MAP_POOL_STATS,
	WC_MAP_ADMIT,
	WC_MAP_FILTER_PROGS, /* program array: filter, steering stage */
	WC_MAP_FILTER_INFO, /* struct wc_filter_info */
	WC_MAP_PORT_STATS, /* struct wc_egress_stats, see wc_iface__port_stats() */
	WC_MAP_COUNT,
};

/* fd of a pinned map, owned by @iface (do not close) or -errno */
int wc_iface__map_fd(const struct wc_iface *iface, enum wc_map_id map);

/* ---- what a capture engine publishes under the pins --------------------- */

/*
 * A capture engine publishes its info and its pools' and workers' counters
 * under its interface's pins about every 100 ms (the monitor's interval)
 * and when it closes, for other processes to read (`wirecap stats`). These
 * read the last publication: all zero before any engine ran; pid 0 after an
 * engine closed (the counters stay as it left them); a pid that is not
 * alive after an engine was killed. Entries past the engine's queues or
 * workers may hold an earlier engine's values: read queue < info.queues,
 * worker < info.workers.
 *
 * Sized output structs (see above). The counters are the engine's own,
 * since it started; the same structs give a running engine's fresh values
 * (wc_engine__info, wc_engine__pool_stats, wc_engine__worker_stats).
 */
struct wc_iface_engine_info {
	size_t sz;
	__u32 pid; /* 0: no engine runs */
	bool alive; /* pid is a live process (kill(pid, 0)) */
	__u32 bind_mode; /* enum wc_bind_mode: WC_BIND_ZEROCOPY or COPY */
	__u32 queues;
	__u32 workers;
	__u32 chunks; /* chunks per queue pool */
	__u32 chunk_size; /* frames per chunk */
	__u32 frame_size;
	__u32 rx_ring_size;
	__u32 fill_ring_size;
	__u32 huge_pages;
	__u32 wait_mode;
	__u32 chunk_timeout_us;
	__u64 umem_bytes;
	__u64 start_ns; /* CLOCK_REALTIME */
	__u64 update_ns; /* CLOCK_REALTIME of the last publication */
};

/* One rx queue's pool. Drops are the kernel's XDP_STATISTICS of the
 * queue's sockets: fill_empty counts packets that found the pool exhausted
 * (copy mode), ring_full packets that found an RX ring full,
 * other_dropped packets dropped for another reason (frame larger than a
 * UMEM frame). */
struct wc_iface_pool_stats {
	size_t sz;
	__u64 frames; /* pool size: chunks * chunk_size */
	__u64 in_use; /* frames not in the fill ring: RX rings, application, TX */
	__u64 hwm; /* high-water mark of in_use */
	__u64 delivered; /* packets of this queue handed to workers */
	__u64 bytes;
	__u64 fill_empty;
	__u64 ring_full;
	__u64 other_dropped;
	__u64 invalid_descs; /* bad addresses on the fill ring (a bug) */
};

struct wc_iface_worker_stats {
	size_t sz;
	__u64 packets;
	__u64 bytes;
	__u64 chunks;
	__u64 held_chunks; /* captured, not yet recycled */
	__u64 held_frames;
	__u64 rx_backlog; /* frames waiting in its RX rings */
	__u64 ring_full; /* its sockets' RX ring full drops */
	__u64 buckets_owned; /* buckets steered to it now */
	__u64 buckets_foreign; /* of those, buckets whose home is another */
	__u64 moves_in;
	__u64 moves_out;
	__u64 stalls; /* times the monitor found it not consuming */
	__u32 cpu; /* (__u32)-1: not pinned */
	__u32 state; /* WC_WORKER_* */
};

/* 0 or -errno (-ENOENT: the map is not pinned) */
int wc_iface__engine_info(const struct wc_iface *iface,
			  struct wc_iface_engine_info *out);
/* queue < WC_MAX_QUEUES, worker < WC_MAX_WORKERS (-EINVAL otherwise) */
int wc_iface__pool_stats(const struct wc_iface *iface, __u32 queue,
			 struct wc_iface_pool_stats *out);
int wc_iface__worker_stats(const struct wc_iface *iface, __u32 worker,
			   struct wc_iface_worker_stats *out);

/* ---- filters in XDP (docs/filter.md) ------------------------------------ */

struct wc_filter_opts {
	size_t sz;
	/* one of: a tcpdump expression (libpcap syntax, Ethernet), or a
	 * classic BPF program as text (what `tcpdump -ddd` or -dd prints) */
	const char *expr;
	const char *classic;
	/* filter out the packets that match (wirecap forward --drop) rather
	 * than those that do not */
	bool drop_matching;
	/* what XDP does with a packet filtered out: 0 = the no-socket
	 * action (config), WC_ACT_PASS (to the stack), WC_ACT_DROP */
	int action;
	/* optional: on failure, one line saying why (libpcap's message,
	 * the construct XDP cannot serve, or the verifier's complaint) */
	char *errbuf;
	size_t errbuf_sz;
	size_t : 0;
};

/*
 * Compile, translate and load a filter, then install it in the attached
 * program (replacing the one installed, atomically: every packet is
 * judged by the old filter or the new one). A packet it does not match
 * takes no socket: it is counted `filtered` on its queue and passed or
 * dropped (opts->action). -EINVAL: libpcap refused the expression;
 * -EOPNOTSUPP: it uses what XDP cannot serve (named in errbuf); other
 * -errno: the kernel refused. Nothing changes on failure.
 */
int wc_iface__set_filter(struct wc_iface *iface,
			 const struct wc_filter_opts *opts);
/* Remove the filter (no-op when none): every packet is steered again. */
int wc_iface__clear_filter(struct wc_iface *iface);
/* What is installed (info->installed == 0: none). */
int wc_iface__filter_info(const struct wc_iface *iface,
			  struct wc_filter_info *info);
/* Compile, translate and load without installing: is this filter one the
 * kernel path can run? 0 or as wc_iface__set_filter. */
int wc_filter_check(const struct wc_filter_opts *opts);

/* ---- capture engine: ring-buffer pools, workers, zero-copy chunks ------- */

enum wc_wait_mode {
	WC_WAIT_CHUNK = 0, /* return when a chunk is full or chunk_timeout
			    * after its first packet: no wake-up per packet */
	WC_WAIT_POLL, /* poll(2): return as soon as packets are there */
	WC_WAIT_BUSY_POLL, /* spin with SO_PREFER_BUSY_POLL; needs a core */
};

/* asked for (wc_engine_opts.bind, wc_port_opts.bind), and obtained
 * (wc_iface_engine_info.bind_mode: zero-copy or copy) */
enum wc_bind_mode {
	WC_BIND_AUTO = 0, /* zero-copy, falling back to copy mode */
	WC_BIND_ZEROCOPY = 1, /* zero-copy or fail */
	WC_BIND_COPY = 2, /* copy mode only */
};

/* asked for (wc_engine_opts.huge_pages); what the UMEM got is reported
 * as WC_PAGES_* (wc_iface_engine_info.huge_pages) */
enum wc_huge_mode {
	WC_HUGE_AUTO = 0, /* MAP_HUGETLB, else transparent huge pages */
	WC_HUGE_OFF,
	WC_HUGE_REQUIRE, /* MAP_HUGETLB or fail */
};

/* how an engine registers its pools with the kernel
 * (wc_engine_opts.umem). A UMEM per queue starts faster: the kernel sets
 * up a descriptor per frame of the UMEM for every queue's pool at bind
 * time, under a lock that serializes the binds (4 x 800,000 for the
 * default pools in one UMEM, 4 x 200,000 with one each). Forwarding needs
 * one UMEM: an egress port transmits a frame of any queue where it lies. */
enum wc_umem_mode {
	WC_UMEM_AUTO = 0, /* one UMEM when tx_frames, guest_queues or umem_of
			   * is set (forwarding), else one per queue */
	WC_UMEM_PER_QUEUE, /* one per queue: no wc_port__open() on the
			    * engine when it has more than one queue */
	WC_UMEM_ONE, /* one for every queue (and the TX area, the guest) */
};

struct wc_engine_opts {
	size_t sz;
	/* pool of each rx queue: chunks x chunk_size frames (the paper's
	 * R x M). 0: defaults absorbing a 200 ms burst at 1 Mpps per queue,
	 * capped to 1/8 of the machine's memory (logged at info level). */
	__u32 chunks;
	__u32 chunk_size; /* 0: 64; also the most packets a capture returns */
	__u32 frame_size; /* 2048 (default) or 4096 */
	__u32 rx_ring_size; /* 0: big enough to hold a whole pool */
	enum wc_bind_mode bind;
	enum wc_huge_mode huge_pages;
	enum wc_wait_mode wait;
	__u32 chunk_timeout_us; /* WC_WAIT_CHUNK: 0 = 1000 us */
	__u32 busy_poll_budget; /* WC_WAIT_BUSY_POLL: 0 = 64 */
	/* used to attach when the interface is not attached yet; the engine
	 * then detaches at close, and the attachment is transient (see
	 * wc_attach_opts.transient): it goes with the engine's process even
	 * when that is killed. NULL: defaults. */
	const struct wc_attach_opts *attach;
	const char *pin_root;
	/* transmit (see wc_port): frames after the pools for wc_port__alloc()
	 * (new packets: replay, generation, replies). 0: none. */
	__u32 tx_frames;
	/* bump in the wire, both directions: reserve room in this engine's
	 * UMEM for a second engine of at most guest_queues queues, opened
	 * with umem_of = this engine (same pool geometry and tx_frames). One
	 * UMEM for both engines lets each forward into the other's interface
	 * without a copy (the kernel allows one buffer pool per device queue,
	 * so two UMEMs could not share the egress queues). */
	__u32 guest_queues;
	/* open inside that engine's UMEM (reserved with guest_queues); close
	 * this engine before that one */
	struct wc_engine *umem_of;
	/* set to non-zero (e.g. by a SIGINT handler) to abandon a
	 * wc_engine__open() under way: it stops within a fraction of a
	 * second (the pool's memory is faulted in slice by slice) and fails
	 * with EINTR, leaving nothing attached, pinned or allocated. NULL:
	 * not cancellable. */
	const volatile int *cancel;
	/* admission control, for a forwarder (off by default: a capture
	 * engine lets its pool absorb bursts). When a queue's pool has
	 * shed_high frames in use (its backlog: RX ring, the application,
	 * TX in flight), the XDP program refuses the queue's packets before
	 * they take a frame (counted as wc_iface_queue_stats.shed) until the pool
	 * is back to shed_low, so the CPU goes to the packets already taken
	 * instead of to copies that would be dropped later (receive
	 * livelock). Size the pool by a latency budget and set shed_high to
	 * the frames the budget allows. 0: half the pool, and half of
	 * shed_high. */
	bool shed;
	__u32 shed_high;
	__u32 shed_low;
	/* a filter installed in XDP at open (replacing the attachment's,
	 * which is put back at close); NULL: the attachment's filter, if
	 * any, is left as it is */
	const struct wc_filter_opts *filter;
	/* the attachment's rx queues, workers and flow buckets (0: those of
	 * attach, else the defaults of wc_attach_opts). They are fixed for
	 * the life of an attachment: when the interface is attached already,
	 * a non-zero value here that differs from the attachment's fails with
	 * EEXIST and a line saying which (detach first, or leave it 0 to take
	 * the attachment's). The attach options, by contrast, apply only when
	 * the engine attaches (a difference is logged at info level). */
	__u32 queues;
	__u32 workers;
	__u32 buckets;
	/* one UMEM per queue or one for all (enum wc_umem_mode) */
	enum wc_umem_mode umem;
	size_t : 0;
};

/* A captured packet, in place in the UMEM: valid until its chunk is
 * recycled. The application may modify the bytes (and len, within the
 * frame: see wc_pkt__room()). */
struct wc_pkt {
	void *data;
	__u32 len;
	__u16 queue; /* rx queue */
	__u16 flags; /* WC_PKT_* parse outcome from XDP, or WC_PKT_NO_META */
	__u64 ts_ns; /* CLOCK_REALTIME ns at XDP entry (see WC_PKT_NO_META) */
	__u32 hash; /* symmetric flow hash */
	__u32 bucket;
	__u32 gen; /* steering generation of the bucket at XDP time */
	__u32 worker; /* worker it was steered to */
	__u64 addr; /* offset of the packet in the engine's memory (for
		     * forwarding) */
};

struct wc_engine;
struct wc_worker;
struct wc_chunk;

/* Open the capture engine on @ifname: UMEM, per-queue pools, one AF_XDP
 * socket per (queue, worker). Attaches first when @ifname is not attached.
 * EBUSY when another engine or AF_XDP socket uses the queues, ENOMEM (with
 * a message naming the limit) when the pool cannot be allocated/locked or
 * would not leave the machine its margin: the pools may take at most
 * MemAvailable less max(5% of MemTotal, 256 MiB). EINTR when opts->cancel
 * was set. */
struct wc_engine *wc_engine__open(const char *ifname,
				  const struct wc_engine_opts *opts);
/* Stop the workers, release every socket and the UMEM, detach when the
 * engine attached. Chunks still held become invalid. */
void wc_engine__close(struct wc_engine *e);

struct wc_iface *wc_engine__iface(struct wc_engine *e);
unsigned wc_engine__queues(const struct wc_engine *e);
unsigned wc_engine__workers(const struct wc_engine *e);
struct wc_worker *wc_engine__worker(struct wc_engine *e, unsigned idx);
/* The engine's description, as it publishes it (alive: true) */
int wc_engine__info(const struct wc_engine *e,
		    struct wc_iface_engine_info *info);

unsigned wc_worker__index(const struct wc_worker *w);

/*
 * Capture the next chunk of up to chunk_size packets of @w (no copy).
 * Returns the number of packets (> 0) with *chunk set, 0 when @timeout_ms
 * passed with nothing (-1: wait until wc_engine__stop()), -EINTR after
 * wc_engine__stop(), -ENETDOWN when the interface vanished (a link that
 * goes down and up is not an error: see wc_engine__link_stats()), -ENOBUFS
 * when no chunk descriptor can be allocated. Only one thread may capture
 * on a given worker at a time.
 */
int wc_worker__capture(struct wc_worker *w, struct wc_chunk **chunk,
		       int timeout_ms);

/*
 * When the worker last found all its RX rings empty: the start (CLOCK_REALTIME
 * ns, the clock of wc_pkt.ts_ns) of its last look that took less than each
 * ring held room for. Every packet XDP stamped before it, less the time a
 * frame takes from XDP to its ring (one NAPI poll), was in a chunk the worker
 * returned by then; a merge by time across workers may release up to it.
 * 0 before the first such look.
 */
__u64 wc_worker__drained_ns(const struct wc_worker *w);

unsigned wc_chunk__count(const struct wc_chunk *c);
struct wc_pkt *wc_chunk__pkts(struct wc_chunk *c);
struct wc_worker *wc_chunk__worker(const struct wc_chunk *c);
/* Give the chunk's frames back to their pools (one lock per queue per
 * chunk). Any thread, any order. */
void wc_chunk__recycle(struct wc_chunk *c);

/* Counters: pools, workers. Fresh values (not the last publication). */
/* The XDP program's counters of rx queue q (< WC_MAX_QUEUES, served or
 * not) since this engine plugged its sockets: the baseline the socket and
 * pool counters share, so that for every queue
 *   packets == redirected + passed + dropped + filtered + shed and, once
 *   the engine stopped,
 *   redirected == delivered + fill_empty + ring_full + other_dropped.
 * (wc_iface__queue_stats() gives the program's totals since attach.) */
int wc_engine__queue_stats(struct wc_engine *e, unsigned queue,
			   struct wc_iface_queue_stats *out);
/* queue < wc_engine__queues(), worker < wc_engine__workers(): the values
 * the engine publishes (wc_iface__pool_stats, wc_iface__worker_stats),
 * fresh */
int wc_engine__pool_stats(struct wc_engine *e, unsigned queue,
			  struct wc_iface_pool_stats *out);
int wc_engine__worker_stats(struct wc_engine *e, unsigned worker,
			    struct wc_iface_worker_stats *out);

/* Where every packet the XDP program saw went, summed over every queue
 * (sized: set sz to sizeof(struct wc_accounting) before the call; the
 * library fills what it knows of the caller's sz and zeroes the rest):
 *   received == delivered + dropped + passed + filtered + shed + unaccounted
 *   dropped == fill_empty + ring_full + other_dropped + nosock_dropped
 * unaccounted is 0 once the engine stopped (wc_engine__run() returned);
 * while it runs it counts the packets on their way to the workers (in the
 * RX rings). */
struct wc_accounting {
	size_t sz;
	__u64 received; /* wc_iface_queue_stats.packets */
	__u64 delivered; /* handed to the application */
	__u64 dropped; /* the four causes below */
	__u64 fill_empty; /* the pool was exhausted */
	__u64 ring_full; /* an RX ring was full */
	__u64 other_dropped; /* dropped by a socket for another reason */
	__u64 nosock_dropped; /* no socket in the slot, action drop (and
			       * no headroom for the metadata) */
	__u64 passed; /* to the stack: no socket in the slot, action pass */
	__u64 filtered; /* filtered out in XDP (passed or dropped) */
	__u64 shed; /* refused by admission control */
	__s64 unaccounted; /* received less the above: 0 once stopped */
	bool stopped; /* wc_engine__stopped() when read */
};

int wc_engine__accounting(struct wc_engine *e, struct wc_accounting *out);

/* Buddy-group offloading so far (see docs/monitor.md). Sized. */
struct wc_offload_stats {
	size_t sz;
	__u64 moves; /* buckets moved off a worker (sheds and returns) */
	__u64 returns; /* of those, moves back to the home worker */
	__u64 first_move_ns; /* CLOCK_MONOTONIC of the first shed; 0: none */
	__u64 last_move_ns; /* of the last shed (returns not counted) */
	__u64 fence_timeouts; /* moves released out of order (stuck worker) */
	__u64 stuck_events; /* workers found not consuming */
	__u64 late; /* old packets that landed after the move's grace period
		     * (their order is not guaranteed; expected 0) */
};

int wc_engine__offload_stats(struct wc_engine *e, struct wc_offload_stats *out);

/* The interface's link while the engine ran. A link that goes down (set
 * down, or without carrier) and comes back is a gap the engine rides out:
 * sockets and pools stay, capture resumes when it is up. Only an interface
 * that vanished ends the capture (-ENETDOWN). Sized. */
struct wc_link_stats {
	size_t sz;
	__u64 down_events; /* times it went down (down at the start counts) */
	__u64 down_ns; /* total time down, the current gap included */
	bool down; /* down now */
	bool gone; /* the interface vanished */
};

int wc_engine__link_stats(struct wc_engine *e, struct wc_link_stats *out);

/* Make every capture return -EINTR and wc_engine__run() return. Async
 * signal safe. */
void wc_engine__stop(struct wc_engine *e);
bool wc_engine__stopped(const struct wc_engine *e);

/* What a run callback returns (anything else stops the run with EINVAL):
 *  WC_RUN_CONTINUE  go on; on_chunk: the library recycles the chunk
 *  WC_CHUNK_KEEP    on_chunk only: go on, the application keeps the chunk
 *                   and recycles (or forwards) it later, from any thread
 *  WC_RUN_STOP      recycle, stop the run: wc_engine__run() returns 0
 *  -errno           recycle, stop the run: wc_engine__run() returns it */
#define WC_RUN_CONTINUE 0
#define WC_CHUNK_KEEP 1
#define WC_RUN_STOP 2

/* on_chunk gets a NULL chunk on an idle tick (wc_run_opts.idle_ms) */
typedef int (*wc_chunk_cb)(struct wc_worker *w, struct wc_chunk *c, void *ctx);
typedef int (*wc_pkt_cb)(struct wc_worker *w, struct wc_pkt *p, void *ctx);

struct wc_run_opts {
	size_t sz;
	wc_chunk_cb on_chunk; /* exactly one of on_chunk, on_packet */
	wc_pkt_cb on_packet;
	void *ctx;
	const unsigned
		*cpus; /* worker w runs on cpus[w % ncpus]; NULL: no pinning */
	unsigned ncpus;
	int idle_ms; /* call on_chunk with a NULL chunk after this idle time
		      * (for time-based work); 0: never */
	size_t : 0;
};

/* Run one thread per worker until wc_engine__stop() or a callback stops it
 * (see WC_RUN_STOP); returns 0, a callback's -errno, -ENETDOWN or -ENOLINK.
 * Blocks. */
int wc_engine__run(struct wc_engine *e, const struct wc_run_opts *opts);

/* ---- transmit: egress ports, forwarding, new packets -------------------- */

/*
 * An egress port: TX AF_XDP sockets ("lanes") on an interface, sharing the
 * UMEM of an engine, so a captured frame is transmitted where it lies (no
 * copy) and goes back to its own pool when the kernel completes it. Worker
 * w uses lane w % lanes. Without an engine (e == NULL) the port has its own
 * small UMEM of tx_frames frames for wc_port__alloc() (replay, generation).
 *
 * Every packet offered is sent or counted as dropped with its cause; in
 * wc_port_stats: offered == sent + dropped + in_flight, and
 * dropped == too_big + link_down + ring_full + bad_desc + driver_dropped +
 * abandoned.
 *
 * Close ports before their engines (a port may read the completion ring of
 * the peer engine's pool in a bump in the wire).
 */
struct wc_port;

enum wc_csum_mode {
	WC_CSUM_COMPLETE = 0,
	WC_CSUM_KEEP,
};

struct wc_port_opts {
	size_t sz;
	/* egress queues, one lane each; NULL: one lane per worker on queue
	 * worker % the device's TX queues (standalone: one lane, queue 0) */
	const unsigned *queues;
	unsigned nqueues;
	__u32 tx_ring_size; /* per lane; 0: 2048 */
	__u32 tx_wait_ms; /* TX ring full: wait this long without progress,
			   * then drop (ring_full); 0: 200 */
	/* standalone port only */
	__u32 tx_frames; /* 0: 4096 */
	__u32 frame_size; /* 0: 2048 */
	enum wc_bind_mode bind;
	/* forwarded TCP/UDP whose checksum a host stack left to hardware
	 * (CHECKSUM_PARTIAL, as veth hands them) are completed before they
	 * leave (WC_CSUM_COMPLETE, the default), or sent as they came */
	enum wc_csum_mode csum;
	size_t : 0;
};

/* Sized (set sz before wc_port__stats() or wc_iface__port_stats()). */
struct wc_port_stats {
	size_t sz;
	char ifname[16]; /* egress interface */
	__u32 lanes;
	__u32 queues;
	__u32 mtu;
	__u32 link_up;
	__u32 pid; /* process of the port (published copy) */
	__u32 zerocopy;
	__u64 offered; /* packets given to forward (verdict forward) or send */
	__u64 not_forwarded; /* verdict drop: returned to the pool */
	__u64 submitted; /* put on a TX ring */
	__u64 completed; /* completions reaped */
	__u64 sent; /* completed - driver_dropped */
	__u64 bytes; /* bytes submitted */
	__u64 in_flight; /* submitted, not completed yet */
	__u64 dropped; /* sum of the causes below */
	__u64 too_big; /* longer than the egress MTU allows */
	__u64 link_down; /* egress down or without carrier */
	__u64 ring_full; /* TX ring stayed full for tx_wait_ms */
	__u64 bad_desc; /* empty, or moved/grown outside its frame */
	__u64 driver_dropped; /* completed but dropped by the driver */
	__u64 abandoned; /* never completed before the port closed */
	__u64 ring_full_waits; /* times a TX ring was found full (retried) */
	__u64 kicks; /* sendto() wake-ups */
	__u64 kick_again; /* sendto() EAGAIN: budget, busy, completion ring */
	__u64 tx_invalid_descs; /* kernel XDP_STATISTICS (should stay 0) */
	__u64 tx_ring_empty_descs;
	__u64 alloc_failed; /* wc_port__alloc() found no free frame */
	__u64 csum_completed; /* forwarded with their checksum completed */
};

/* A frame for a new packet: write up to room bytes at data, set len. */
struct wc_frame {
	void *data;
	__u32 len;
	__u32 room;
	__u64 addr; /* UMEM address (library use) */
};

#define WC_VERDICT_DROP 0
#define WC_VERDICT_FORWARD 1

/* ENODEV unknown interface, ENETDOWN interface down, EBUSY a queue used by
 * another AF_XDP socket with another UMEM (or another port), EINVAL an
 * engine of several queues with a UMEM per queue (open it with
 * umem = WC_UMEM_ONE, see enum wc_umem_mode). */
struct wc_port *wc_port__open(struct wc_engine *e, const char *ifname,
			      const struct wc_port_opts *opts);
/* Flush (up to 1 s), count what never completed as abandoned, close. */
void wc_port__close(struct wc_port *p);

/*
 * Forward a captured chunk and consume it (do not recycle it): packets
 * with verdicts[i] != WC_VERDICT_DROP (NULL: all) go on the TX ring of the
 * worker's lane, from their frame (pkts[i].data / len as the application
 * left them: they may move or change size within the frame); the others
 * go back to their pools. Completions are reaped here too; one kick per
 * chunk when needed. Returns packets queued or -errno (EXDEV: a chunk of
 * an engine of another UMEM, recycled).
 */
int wc_port__forward(struct wc_port *p, struct wc_chunk *c,
		     const __u8 *verdicts);

/* Take up to n free frames of the TX area (the engine's tx_frames, or the
 * standalone port's UMEM); returns how many (0: none free now). */
int wc_port__alloc(struct wc_port *p, struct wc_frame *f, unsigned n);
/* Give back frames that will not be sent. */
void wc_port__free(struct wc_port *p, const struct wc_frame *f, unsigned n);
/* Send n allocated frames on a lane; consumes them all (sent or counted
 * dropped). A lane is used by one thread at a time (locked). */
int wc_port__send(struct wc_port *p, unsigned lane, const struct wc_frame *f,
		  unsigned n);

/* Reap completions and kick lanes with pending frames (call when idle);
 * returns frames completed. */
int wc_port__poll(struct wc_port *p);
/* Until nothing is in flight or timeout_ms; returns frames still in flight. */
int wc_port__flush(struct wc_port *p, int timeout_ms);
int wc_port__stats(const struct wc_port *p, struct wc_port_stats *out);
unsigned wc_port__lanes(const struct wc_port *p);
/* egress queue of a lane, or -EINVAL */
int wc_port__lane_queue(const struct wc_port *p, unsigned lane);

/* The counters a running port publishes under the ingress interface's pins
 * (refreshed every 100 ms); -ENOENT when no port runs. */
int wc_iface__port_stats(const struct wc_iface *ifc, struct wc_port_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* WIRECAP_WIRECAP_H */
