// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The UMEM: its geometry (pools per queue, guest pools, TX area), the
 * memory checks before pinning it (RLIMIT_MEMLOCK, what the machine must
 * keep free), its allocation (huge pages, transparent huge pages) and its
 * population. See docs/pool.md.
 */
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>

#include "engine.h"
#include "umem.h"

#define DEFAULT_CHUNK_SIZE 64
#define DEFAULT_BURST_FRAMES 200000 /* 200 ms at 1 Mpps */
#define MAX_CHUNK_SIZE 4096
#define MAX_RING 4194304u

__u32 wc_pow2_at_least(__u64 v)
{
	__u32 p = 1;

	while (p < v && p < MAX_RING)
		p <<= 1;
	return p;
}

static int has_cap_ipc_lock(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3
	};
	struct __user_cap_data_struct d[2] = {};

	if (syscall(SYS_capget, &h, d))
		return 0;
	return !!(d[CAP_IPC_LOCK / 32].effective & (1u << (CAP_IPC_LOCK % 32)));
}

/* /proc/meminfo field @key ("MemAvailable"), in bytes; 0 if unknown */
static __u64 meminfo(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	size_t klen = strlen(key);
	char line[256];
	unsigned long long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':' &&
		    sscanf(line + klen + 1, "%llu", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/* "64 KiB", "12 MiB": a limit below 1 MiB is not "0 MiB" */
static const char *size_str(__u64 bytes, char *buf, size_t len)
{
	if (bytes < (1u << 20))
		snprintf(buf, len, "%llu KiB", (unsigned long long)bytes >> 10);
	else
		snprintf(buf, len, "%llu MiB", (unsigned long long)bytes >> 20);
	return buf;
}

/*
 * The memory a pool must leave the machine. Pinned pages cannot be
 * reclaimed: a pool that takes nearly all of MemAvailable makes the kernel
 * reclaim everything else and then the OOM killer end a process (wirecap,
 * after 40 s of pinning, with its XDP program left attached; or another
 * one). What must stay free: the kernel's receive path (skbs and the
 * copies of copy mode), the page cache the capture file is written
 * through, and the other processes' growth: 5% of the RAM, at least
 * 256 MiB. The pools may take MemAvailable less that.
 */
#define MEM_RESERVE_MIN (256ull << 20)
#define MEM_RESERVE_DIV 20

static __u64 mem_reserve(void)
{
	__u64 r = meminfo("MemTotal") / MEM_RESERVE_DIV;

	return r > MEM_RESERVE_MIN ? r : MEM_RESERVE_MIN;
}

/*
 * Fault the UMEM in, a slice at a time, checking @cancel between slices:
 * the registration (XDP_UMEM_REG) would otherwise fault in and zero every
 * page inside one system call that only a fatal signal interrupts (3.5 s
 * for 2 GiB here, 40 s for 23 GiB). It then only pins present pages.
 * Zeroing is most of the start's CPU time: the slices are taken in order
 * by helper threads (one per online CPU but one, at most
 * POPULATE_THREADS) and by the caller while it waits for a prefix, so
 * that an engine with a UMEM per queue registers and binds queue q while
 * the helpers fault in queue q + 1 (docs/pool.md, "Start-up time").
 */
#define POPULATE_SLICE (32ul << 20)
#define POPULATE_THREADS 8
#define POPULATE_WAIT_NS 20000000 /* the waiter's cancel check */

struct wc_populate {
	char *p;
	size_t len;
	const volatile int *cancel;
	_Atomic size_t next; /* offset of the next slice to take */
	_Atomic int err; /* -ENOMEM, -EINTR; or -ECANCELED: abandoned */
	pthread_mutex_t lock; /* done and its condition */
	pthread_cond_t cond;
	size_t nslices;
	bool *done; /* per slice */
	int nthreads;
	pthread_t th[POPULATE_THREADS];
	bool reported; /* the out-of-memory line */
};

/* fault in the slice at @off: 0, or -ENOMEM */
static int populate_slice(struct wc_populate *pp, size_t off)
{
	size_t n =
		pp->len - off < POPULATE_SLICE ? pp->len - off : POPULATE_SLICE;

	if (madvise(pp->p + off, n, MADV_POPULATE_WRITE)) {
		if (errno == ENOMEM || errno == EFAULT)
			return -ENOMEM;
		/* before 5.14 (EINVAL): touch a byte of every page */
		for (size_t i = 0; i < n; i += 4096)
			pp->p[off + i] = 0;
	}
	pthread_mutex_lock(&pp->lock);
	pp->done[off / POPULATE_SLICE] = true;
	pthread_cond_broadcast(&pp->cond);
	pthread_mutex_unlock(&pp->lock);
	return 0;
}

static void populate_fail(struct wc_populate *pp, int err)
{
	int none = 0;

	atomic_compare_exchange_strong(&pp->err, &none, err);
	pthread_mutex_lock(&pp->lock);
	pthread_cond_broadcast(&pp->cond);
	pthread_mutex_unlock(&pp->lock);
}

/* take the next slice below @limit: its offset, or (size_t)-1 */
static size_t populate_take(struct wc_populate *pp, size_t limit)
{
	size_t off = atomic_load(&pp->next);

	do {
		if (off >= limit || off >= pp->len)
			return (size_t)-1;
	} while (!atomic_compare_exchange_weak(&pp->next, &off,
					       off + POPULATE_SLICE));
	return off;
}

/* one step of the work: 1 a slice done, 0 none left below @limit, or an
 * error (set for everyone) */
static int populate_step(struct wc_populate *pp, size_t limit)
{
	size_t off;
	int err = atomic_load(&pp->err);

	if (err)
		return err;
	if (wc_cancelled(pp->cancel)) {
		populate_fail(pp, -EINTR);
		return -EINTR;
	}
	off = populate_take(pp, limit);
	if (off == (size_t)-1)
		return 0;
	err = populate_slice(pp, off);
	if (err) {
		populate_fail(pp, err);
		return err;
	}
	return 1;
}

static void *populate_thread(void *arg)
{
	struct wc_populate *pp = arg;

	while (populate_step(pp, SIZE_MAX) > 0)
		;
	return NULL;
}

int wc_populate_start(struct wc_populate **out, void *area, size_t len,
		      const volatile int *cancel)
{
	struct wc_populate *pp = calloc(1, sizeof(*pp));
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	*out = NULL;
	if (!pp)
		return -ENOMEM;
	pp->p = area;
	pp->len = len;
	pp->cancel = cancel;
	pp->nslices = (len + POPULATE_SLICE - 1) / POPULATE_SLICE;
	pp->done = calloc(pp->nslices ? pp->nslices : 1, sizeof(*pp->done));
	if (!pp->done) {
		free(pp);
		return -ENOMEM;
	}
	pthread_mutex_init(&pp->lock, NULL);
	pthread_cond_init(&pp->cond, NULL);
	/* the caller is the last thread (it helps while it waits) */
	if (ncpu > POPULATE_THREADS)
		ncpu = POPULATE_THREADS;
	for (long i = 1; i < ncpu && len > POPULATE_SLICE * i; i++)
		if (!pthread_create(&pp->th[pp->nthreads], NULL,
				    populate_thread, pp))
			pp->nthreads++;
	*out = pp;
	return 0;
}

static bool populate_done_below(struct wc_populate *pp, size_t upto)
{
	size_t n = (upto + POPULATE_SLICE - 1) / POPULATE_SLICE;

	for (size_t i = 0; i < n && i < pp->nslices; i++)
		if (!pp->done[i])
			return false;
	return true;
}

int wc_populate_wait(struct wc_populate *pp, size_t upto)
{
	/* slices are taken whole: help with those that hold [0, upto) */
	size_t limit = upto > pp->len ? pp->len : upto;
	int err;

	for (;;) {
		struct timespec ts;
		bool done;

		err = populate_step(pp, limit);
		if (err > 0)
			continue;
		if (err)
			break;
		/* the rest of the prefix is on other threads */
		pthread_mutex_lock(&pp->lock);
		done = populate_done_below(pp, limit);
		err = atomic_load(&pp->err);
		if (!done && !err) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += POPULATE_WAIT_NS;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&pp->cond, &pp->lock, &ts);
		}
		pthread_mutex_unlock(&pp->lock);
		if (done)
			return 0;
		if (err)
			break;
	}
	if (err == -ENOMEM && !pp->reported) {
		pp->reported = true;
		pr_warn("cannot fault in the pools' %zu MiB: out of memory: use smaller pools (fewer chunks, or a smaller chunk_size)\n",
			pp->len >> 20);
	}
	return err;
}

void wc_populate_cancel(struct wc_populate *pp)
{
	if (pp)
		populate_fail(pp, -ECANCELED);
}

int wc_populate_end(struct wc_populate *pp, bool abandon)
{
	int err;

	if (!pp)
		return 0;
	if (abandon)
		populate_fail(pp, -ECANCELED);
	for (int i = 0; i < pp->nthreads; i++)
		pthread_join(pp->th[i], NULL);
	err = atomic_load(&pp->err);
	pthread_cond_destroy(&pp->cond);
	pthread_mutex_destroy(&pp->lock);
	free(pp->done);
	free(pp);
	return err == -ECANCELED ? 0 : err;
}

int wc_umem_map(void **area, size_t *alen, __u32 *kind, enum wc_huge_mode huge,
		int zc_capable, bool reserve)
{
	size_t len = *alen,
	       hlen = (len + (2u << 20) - 1) & ~((size_t)(2u << 20) - 1);
	struct rlimit rl;
	__u64 avail, keep;
	char b1[32];

	if (!has_cap_ipc_lock() && !getrlimit(RLIMIT_MEMLOCK, &rl) &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < len) {
		pr_warn("the pools need %zu MiB of locked memory but RLIMIT_MEMLOCK is %s: raise it (ulimit -l) or use smaller pools\n",
			len >> 20, size_str(rl.rlim_cur, b1, sizeof(b1)));
		return -ENOMEM;
	}
	avail = reserve ? meminfo("MemAvailable") : 0;
	keep = mem_reserve();
	if (avail && len + keep > avail) {
		pr_warn("the pools need %zu MiB but at most %llu MiB may be pinned (%llu MiB available, %llu MiB kept free: 5%% of the RAM, at least 256 MiB): use smaller pools (fewer chunks, or a smaller chunk_size)\n",
			len >> 20,
			(unsigned long long)(avail > keep ? avail - keep : 0) >>
				20,
			(unsigned long long)avail >> 20,
			(unsigned long long)keep >> 20);
		return -ENOMEM;
	}
	if (huge != WC_HUGE_OFF) {
		*area = mmap(NULL, hlen, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (*area != MAP_FAILED) {
			*alen = hlen;
			*kind = WC_PAGES_HUGETLB;
			return 0;
		}
		if (huge == WC_HUGE_REQUIRE) {
			pr_warn("no huge pages for %zu MiB (reserve them: sysctl vm.nr_hugepages=%zu)\n",
				hlen >> 20, hlen >> 21);
			*area = NULL;
			return -ENOMEM;
		}
		pr_info("huge pages not reserved: using normal pages with transparent huge pages\n");
	}
	*area = mmap(NULL, len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*area == MAP_FAILED) {
		*area = NULL;
		return -ENOMEM;
	}
	*kind = WC_PAGES_NORMAL;
	/* Transparent huge pages only where they pay: zero-copy drivers map
	 * the UMEM for DMA page by page, and fewer pages map faster. In copy
	 * mode the kernel copies through its own mapping, and faulting in
	 * 2 MiB pages costs compaction when memory is fragmented: 1.5 GiB
	 * took 35 s under memory pressure here (4 KiB pages: see
	 * docs/pool.md). */
	if (huge != WC_HUGE_OFF && zc_capable &&
	    !madvise(*area, len, MADV_HUGEPAGE))
		*kind = WC_PAGES_THP;
	return 0;
}

int wc_umem_alloc(void **area, size_t *alen, __u32 *kind,
		  enum wc_huge_mode huge, int zc_capable, bool reserve,
		  const volatile int *cancel)
{
	struct wc_populate *pp;
	int err = wc_umem_map(area, alen, kind, huge, zc_capable, reserve);

	if (!err)
		err = wc_populate_start(&pp, *area, *alen, cancel);
	if (!err) {
		err = wc_populate_wait(pp, *alen);
		wc_populate_end(pp, err != 0);
	}
	return err;
}

int wc_umem_size(struct wc_engine *e, const struct wc_engine_opts *o)
{
	__u32 cs = WC_OPTS_GET(o, chunk_size, 0),
	      chunks = WC_OPTS_GET(o, chunks, 0);
	__u32 fs = WC_OPTS_GET(o, frame_size, 0),
	      rx = WC_OPTS_GET(o, rx_ring_size, 0);
	enum wc_umem_mode mode = WC_OPTS_GET(o, umem, WC_UMEM_AUTO);
	struct sysinfo si;
	__u64 cap, per_queue;

	fs = fs ? fs : 2048;
	if (fs != 2048 && fs != 4096) {
		pr_warn("frame size must be 2048 or 4096, not %u\n", fs);
		return -EINVAL;
	}
	cs = cs ? cs : DEFAULT_CHUNK_SIZE;
	if (cs > MAX_CHUNK_SIZE) {
		pr_warn("chunk size must be 1..%d, not %u\n", MAX_CHUNK_SIZE,
			cs);
		return -EINVAL;
	}
	if (o && WC_OPTS_GET(o, umem_of, NULL)) {
		/* a guest takes the owner's geometry */
		struct wc_engine *own = WC_OPTS_GET(o, umem_of, NULL);

		if (mode == WC_UMEM_PER_QUEUE) {
			pr_warn("%s: umem_of lives in another engine's UMEM: umem must be WC_UMEM_ONE or WC_UMEM_AUTO, not WC_UMEM_PER_QUEUE\n",
				e->ifname);
			return -EINVAL;
		}

		if (own->umem_owner || own->umem_guest ||
		    e->nq > own->guest_queues) {
			pr_warn("%s: cannot live in the UMEM of %s: %s\n",
				e->ifname, own->ifname,
				own->umem_owner || own->umem_guest ?
					"it already shares its UMEM" :
					"it reserved no room for that many queues (guest_queues)");
			return -EINVAL;
		}
		e->umem_owner = own;
		e->frame_size = own->frame_size;
		e->chunk_size = own->chunk_size;
		e->chunks = own->chunks;
		e->fq_size = own->fq_size;
		e->cq_size = own->cq_size;
		e->rx_size = rx && !(rx & (rx - 1)) ? rx : own->rx_size;
		e->tx_frames = own->tx_frames;
		e->tx_base =
			own->tx_base + (__u64)own->tx_frames * own->frame_size;
		e->pool_stride = own->pool_stride;
		return 0;
	}
	e->tx_frames = WC_OPTS_GET(o, tx_frames, 0);
	e->guest_queues = WC_OPTS_GET(o, guest_queues, 0);
	if (e->guest_queues > WC_MAX_QUEUES) {
		pr_warn("guest_queues must be at most %d\n", WC_MAX_QUEUES);
		return -EINVAL;
	}
	if (mode > WC_UMEM_ONE) {
		pr_warn("umem must be WC_UMEM_AUTO, WC_UMEM_PER_QUEUE or WC_UMEM_ONE, not %d\n",
			(int)mode);
		return -EINVAL;
	}
	if (mode == WC_UMEM_PER_QUEUE && (e->tx_frames || e->guest_queues)) {
		pr_warn("%s: tx_frames and guest_queues need one UMEM for the engine: umem must be WC_UMEM_ONE or WC_UMEM_AUTO, not WC_UMEM_PER_QUEUE\n",
			e->ifname);
		return -EINVAL;
	}
	/* forwarding needs one UMEM; a capture engine starts faster with
	 * one per queue (a single queue: the same thing) */
	e->umem_per_queue = mode == WC_UMEM_PER_QUEUE ||
			    (mode == WC_UMEM_AUTO && !e->tx_frames &&
			     !e->guest_queues && e->nq > 1);
	if (!chunks) {
		chunks = (DEFAULT_BURST_FRAMES + cs - 1) / cs;
		/* a modest share of the machine: at most 1/8 of its memory */
		if (!sysinfo(&si)) {
			cap = (__u64)si.totalram * si.mem_unit / 8;
			per_queue = cap / (e->nq + e->guest_queues) / fs;
			if ((__u64)chunks * cs > per_queue)
				chunks = per_queue / cs;
		}
		if (chunks < 2)
			chunks = 2;
		pr_info("pool: %u chunks x %u frames x %u B per queue (%llu MiB for %u queues)\n",
			chunks, cs, fs,
			(unsigned long long)((__u64)chunks * cs * fs * e->nq) >>
				20,
			e->nq);
	}
	if ((__u64)chunks * cs > MAX_RING) {
		pr_warn("a pool holds at most %u frames (chunks x chunk size)\n",
			MAX_RING);
		return -EINVAL;
	}
	if ((__u64)chunks * cs < cs * 2) {
		pr_warn("a pool needs at least two chunks\n");
		return -EINVAL;
	}
	e->frame_size = fs;
	e->chunk_size = cs;
	e->chunks = chunks;
	e->fq_size = wc_pow2_at_least((__u64)chunks * cs);
	e->cq_size = 2048;
	if (rx && (rx & (rx - 1))) {
		pr_warn("rx ring size must be a power of two, not %u\n", rx);
		return -EINVAL;
	}
	/* the pool, not a ring, is what runs out */
	e->rx_size = rx ? rx : e->fq_size;
	/* [pools][guest pools][tx area][guest tx area]; a UMEM per queue
	 * starts on a page */
	e->pool_stride = (__u64)chunks * cs * fs;
	if (e->umem_per_queue)
		e->pool_stride = (e->pool_stride + 4095) & ~4095ull;
	e->umem_len = (size_t)e->nq * e->pool_stride;
	e->guest_base = e->umem_len;
	e->umem_len += (size_t)e->guest_queues * e->pool_stride;
	e->tx_base = e->umem_len;
	e->umem_len += (size_t)e->tx_frames * fs * (e->guest_queues ? 2 : 1);
	return 0;
}
