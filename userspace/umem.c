// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The UMEM: its geometry (pools per queue, guest pools, TX area), the
 * memory checks before pinning it (RLIMIT_MEMLOCK, what the machine must
 * keep free), its allocation (huge pages, transparent huge pages) and its
 * population. See docs/pool.md.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
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
 * Zeroing is most of the start's CPU time: the slices are shared by one
 * thread per online CPU (at most POPULATE_THREADS).
 */
#define POPULATE_SLICE (32ul << 20)
#define POPULATE_THREADS 8

struct populate {
	char *p;
	size_t len;
	const volatile int *cancel;
	_Atomic size_t next; /* offset of the next slice to take */
	_Atomic int err;
};

static void *populate_slices(void *arg)
{
	struct populate *pp = arg;

	while (!atomic_load(&pp->err)) {
		size_t off = atomic_fetch_add(&pp->next, POPULATE_SLICE), n;

		if (off >= pp->len)
			break;
		if (wc_cancelled(pp->cancel)) {
			atomic_store(&pp->err, -EINTR);
			break;
		}
		n = pp->len - off < POPULATE_SLICE ? pp->len - off :
						     POPULATE_SLICE;
		if (!madvise(pp->p + off, n, MADV_POPULATE_WRITE))
			continue;
		if (errno == ENOMEM || errno == EFAULT) {
			atomic_store(&pp->err, -ENOMEM);
			break;
		}
		/* before 5.14 (EINVAL): touch a byte of every page */
		for (size_t i = 0; i < n; i += 4096)
			pp->p[off + i] = 0;
	}
	return NULL;
}

static int fault_in(void *area, size_t len, const volatile int *cancel)
{
	struct populate pp = { .p = area, .len = len, .cancel = cancel };
	pthread_t th[POPULATE_THREADS];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int n = 0;

	if (ncpu > POPULATE_THREADS)
		ncpu = POPULATE_THREADS;
	for (long i = 1; i < ncpu && len > POPULATE_SLICE * i; i++)
		if (!pthread_create(&th[n], NULL, populate_slices, &pp))
			n++;
	populate_slices(&pp);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	if (atomic_load(&pp.err))
		return atomic_load(&pp.err);
	return wc_cancelled(cancel) ? -EINTR : 0;
}

int wc_umem_alloc(void **area, size_t *alen, __u32 *kind,
		  enum wc_huge_mode huge, int zc_capable, bool reserve,
		  const volatile int *cancel)
{
	size_t len = *alen,
	       hlen = (len + (2u << 20) - 1) & ~((size_t)(2u << 20) - 1);
	struct rlimit rl;
	__u64 avail, keep;
	char b1[32];
	int err;

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
			goto populate;
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
populate:
	err = fault_in(*area, *alen, cancel);
	if (err == -ENOMEM)
		pr_warn("cannot fault in the pools' %zu MiB: out of memory: use smaller pools (fewer chunks, or a smaller chunk_size)\n",
			*alen >> 20);
	return err;
}

int wc_umem_size(struct wc_engine *e, const struct wc_engine_opts *o)
{
	__u32 cs = WC_OPTS_GET(o, chunk_size, 0),
	      chunks = WC_OPTS_GET(o, chunks, 0);
	__u32 fs = WC_OPTS_GET(o, frame_size, 0),
	      rx = WC_OPTS_GET(o, rx_ring_size, 0);
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
		return 0;
	}
	e->tx_frames = WC_OPTS_GET(o, tx_frames, 0);
	e->guest_queues = WC_OPTS_GET(o, guest_queues, 0);
	if (e->guest_queues > WC_MAX_QUEUES) {
		pr_warn("guest_queues must be at most %d\n", WC_MAX_QUEUES);
		return -EINVAL;
	}
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
	e->umem_len = (size_t)e->nq * chunks * cs * fs;
	/* [pools][guest pools][tx area][guest tx area] */
	e->guest_base = e->umem_len;
	e->umem_len += (size_t)e->guest_queues * chunks * cs * fs;
	e->tx_base = e->umem_len;
	e->umem_len += (size_t)e->tx_frames * fs * (e->guest_queues ? 2 : 1);
	return 0;
}
