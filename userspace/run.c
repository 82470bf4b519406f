// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* wc_engine__run(): one thread per worker, pinned, calling the
 * application's per-chunk or per-packet callback. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct run_thread {
	struct wc_engine *e;
	struct wc_worker *w;
	const struct wc_run_opts *o;
	int cpu;
	int ret;
	pthread_t tid;
};

/* A callback's return, as the header names them; anything else is
 * refused: it stops the run with EINVAL, so that a typo is not a silent
 * keep or stop. Returns 0 to go on, 1 to stop, -errno to fail. */
static int cb_ret(struct run_thread *t, int r, bool chunk)
{
	if (r == WC_RUN_CONTINUE)
		return 0;
	if (r == WC_RUN_STOP)
		return 1;
	if (r < 0)
		return r;
	pr_warn("worker %u: %s returned %d: not WC_RUN_CONTINUE, %sWC_RUN_STOP or a negative errno: stopping\n",
		t->w->idx, chunk ? "on_chunk" : "on_packet", r,
		chunk ? "WC_CHUNK_KEEP, " : "");
	return -EINVAL;
}

/* after on_chunk: the library recycles the chunk unless the application
 * kept it (an idle call has none) */
static int chunk_done(struct run_thread *t, struct wc_chunk *c, int r)
{
	if (r == WC_CHUNK_KEEP)
		return 0;
	wc_chunk__recycle(c);
	return cb_ret(t, r, true);
}

static int pkt_done(struct run_thread *t, int r)
{
	return cb_ret(t, r, false);
}

static void *worker_main(void *arg)
{
	struct run_thread *t = arg;
	const struct wc_run_opts *o = t->o;
	wc_chunk_cb on_chunk = WC_OPTS_GET(o, on_chunk, NULL);
	wc_pkt_cb on_packet = WC_OPTS_GET(o, on_packet, NULL);
	int idle_ms = WC_OPTS_GET(o, idle_ms, 0);
	void *ctx = WC_OPTS_GET(o, ctx, NULL);

	if (t->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(t->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
			pr_warn("worker %u: cannot pin to CPU %d\n", t->w->idx,
				t->cpu);
		else
			atomic_store(&t->w->cpu, t->cpu);
	}
	atomic_store(&t->w->in_capture, 1);
	/* Loops until capture says -EINTR: after a stop it still returns what
	 * the rings hold (the drain), and callbacks still see those packets. */
	for (;;) {
		struct wc_chunk *c;
		int n = wc_worker__capture(t->w, &c, idle_ms ? idle_ms : 100);
		int r = 0;

		if (n == -EINTR)
			break;
		if (n < 0) {
			/* the device is there but our XDP program is not */
			if (n == -ENETDOWN && atomic_load(&t->e->xdp_gone))
				n = -ENOLINK;
			if (!t->ret)
				t->ret = n;
			wc_engine__stop(t->e);
			if (n != -ENETDOWN && n != -ENOLINK)
				break;
			continue; /* device gone: drain what is queued */
		}
		if (n == 0) {
			if (idle_ms && on_chunk)
				r = chunk_done(t, NULL,
					       on_chunk(t->w, NULL, ctx));
		} else if (on_chunk) {
			r = chunk_done(t, c, on_chunk(t->w, c, ctx));
		} else {
			struct wc_pkt *p = wc_chunk__pkts(c);

			for (int i = 0; i < n && !r; i++)
				r = pkt_done(t, on_packet(t->w, &p[i], ctx));
			wc_chunk__recycle(c);
		}
		if (r) {
			/* < 0: error; > 0: the application is done */
			if (r < 0 && !t->ret)
				t->ret = r;
			wc_engine__stop(t->e);
		}
	}
	atomic_store(&t->w->in_capture, 0);
	return NULL;
}

WC_API int wc_engine__run(struct wc_engine *e, const struct wc_run_opts *o)
{
	const unsigned *cpus = WC_OPTS_GET(o, cpus, NULL);
	unsigned ncpus = WC_OPTS_GET(o, ncpus, 0);
	struct run_thread *t;
	int err = 0;
	unsigned started = 0;

	if (!e || !o || !WC_OPTS_VALID(o, wc_run_opts))
		return -EINVAL;
	if (!WC_OPTS_GET(o, on_chunk, NULL) ==
	    !WC_OPTS_GET(o, on_packet, NULL)) {
		pr_warn("wc_engine__run: set one of on_chunk and on_packet\n");
		return -EINVAL;
	}
	t = calloc(e->nw, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (unsigned w = 0; w < e->nw; w++) {
		t[w].e = e;
		t[w].w = &e->workers[w];
		t[w].o = o;
		t[w].cpu = cpus && ncpus ? (int)cpus[w % ncpus] : -1;
		err = -pthread_create(&t[w].tid, NULL, worker_main, &t[w]);
		if (err) {
			wc_engine__stop(e);
			break;
		}
		started++;
	}
	for (unsigned w = 0; w < started; w++) {
		pthread_join(t[w].tid, NULL);
		if (!err && t[w].ret)
			err = t[w].ret;
	}
	free(t);
	return err;
}
