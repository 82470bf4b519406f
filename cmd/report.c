// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "netdev.h"
#include "cmd.h"
#include "report.h"
#include "json.h"
#include "setup.h"

int acct_start(struct acct *a, struct wc_engine *e)
{
	struct wc_iface *ifc = wc_engine__iface(e);
	struct wc_iface_info info;

	memset(a, 0, sizeof(*a));
	a->e = e;
	a->nq = wc_engine__queues(e);
	a->nw = wc_engine__workers(e);
	/* the XDP counters count from the engine's baseline
	 * (wc_engine__queue_stats), the one its sockets and pools share */
	wc_iface__info(ifc, &info);
	a->have_dev = !wc_netdev_stats(info.ifindex, &a->dev0);
	a->t0_ns = wc_clock_mono_ns();
	return 0;
}

int acct_finish(struct acct *a)
{
	struct wc_iface *ifc = wc_engine__iface(a->e);
	struct wc_iface_info info;
	int err;

	a->t1_ns = wc_clock_mono_ns();
	wc_iface__info(ifc, &info);
	a->received = a->delivered = a->passed = a->nosock_dropped = 0;
	a->shed = 0;
	a->filtered = 0;
	a->pool_exhausted = a->ring_full = a->other_dropped = 0;
	a->invalid_descs = a->hwm_max = a->frames = 0;
	a->nq_all = a->nq;
	/* every queue: the XDP program counts a packet on a queue the engine
	 * does not serve there (passed or dropped) */
	for (unsigned q = 0; q < WC_MAX_QUEUES; q++) {
		struct acct_queue *aq = &a->q[q];

		aq->queue = q;
		aq->xdp.sz = sizeof(aq->xdp);
		aq->pool.sz = sizeof(aq->pool);
		err = wc_engine__queue_stats(a->e, q, &aq->xdp);
		if (err)
			return err;
		a->received += aq->xdp.packets;
		a->passed += aq->xdp.passed;
		a->nosock_dropped += aq->xdp.dropped;
		a->shed += aq->xdp.shed;
		a->filtered += aq->xdp.filtered;
		if (q >= a->nq) {
			/* not served: no pool, listed when it saw packets */
			memset(&aq->pool, 0, sizeof(aq->pool));
			aq->pool.sz = sizeof(aq->pool);
			if (aq->xdp.packets)
				a->nq_all = q + 1;
			continue;
		}
		err = wc_engine__pool_stats(a->e, q, &aq->pool);
		if (err)
			return err;
		a->delivered += aq->pool.delivered;
		a->pool_exhausted += aq->pool.fill_empty;
		a->ring_full += aq->pool.ring_full;
		a->other_dropped += aq->pool.other_dropped;
		a->invalid_descs += aq->pool.invalid_descs;
		a->frames += aq->pool.frames;
		if (aq->pool.hwm > a->hwm_max)
			a->hwm_max = aq->pool.hwm;
	}
	for (unsigned w = 0; w < a->nw; w++) {
		a->w[w].sz = sizeof(a->w[w]);
		wc_engine__worker_stats(a->e, w, &a->w[w]);
	}
	a->link.sz = sizeof(a->link);
	wc_engine__link_stats(a->e, &a->link);
	a->unaccounted = (__s64)a->received -
			 (__s64)(a->delivered + a->pool_exhausted +
				 a->ring_full + a->other_dropped + a->passed +
				 a->nosock_dropped + a->filtered + a->shed);
	if (a->have_dev && !wc_netdev_stats(info.ifindex, &a->dev1))
		/* the NIC's own losses; rx_dropped is left out: drivers count
		 * XDP-path drops there too (the pool's, counted above) */
		a->nic_dropped =
			(a->dev1.rx_missed_errors - a->dev0.rx_missed_errors) +
			(a->dev1.rx_fifo_errors - a->dev0.rx_fifo_errors);
	return 0;
}

#define U(x) ((unsigned long long)(x))

void acct_link_note(const struct wc_link_stats *l, char *buf, size_t len)
{
	if (!l->down_events) {
		snprintf(buf, len, "%s", "");
		return;
	}
	snprintf(
		buf, len,
		"link down %llu time%s, %.3f s in all%s (nothing arrives while it is down)",
		U(l->down_events), l->down_events == 1 ? "" : "s",
		l->down_ns / 1e9, l->down ? ", still down at the end" : "");
}

static json_t *queue_json(const struct acct *a, unsigned q)
{
	const struct acct_queue *aq = &a->q[q];
	json_t *o = jobj();

	jset_i64(o, "queue", q);
	jset_bool(o, "served", q < a->nq);
	jset_u64(o, "received", aq->xdp.packets);
	jset_u64(o, "bytes", aq->xdp.bytes);
	jset_u64(o, "delivered", aq->pool.delivered);
	jset_u64(o, "passed", aq->xdp.passed);
	jset_u64(o, "pool_exhausted", aq->pool.fill_empty);
	jset_u64(o, "ring_full", aq->pool.ring_full);
	jset_u64(o, "other_dropped", aq->pool.other_dropped);
	jset_u64(o, "no_socket_dropped", aq->xdp.dropped);
	jset_u64(o, "frames", aq->pool.frames);
	jset_u64(o, "in_use", aq->pool.in_use);
	jset_u64(o, "hwm", aq->pool.hwm);
	jset_u64(o, "non_ip", aq->xdp.non_ip);
	jset_u64(o, "truncated", aq->xdp.truncated);
	jset_u64(o, "fragment", aq->xdp.fragment);
	jset_u64(o, "filtered", aq->xdp.filtered);
	jset_u64(o, "shed", aq->xdp.shed);
	return o;
}

static json_t *worker_json(const struct wc_iface_worker_stats *ws, unsigned w)
{
	json_t *o = jobj();

	jset_i64(o, "worker", w);
	jset_u64(o, "packets", ws->packets);
	jset_u64(o, "bytes", ws->bytes);
	jset_u64(o, "chunks", ws->chunks);
	jset_u64(o, "ring_full", ws->ring_full);
	jset_u64(o, "buckets_owned", ws->buckets_owned);
	jset_u64(o, "buckets_foreign", ws->buckets_foreign);
	jset_u64(o, "moves_in", ws->moves_in);
	jset_u64(o, "moves_out", ws->moves_out);
	jset_i64(o, "cpu", (int)ws->cpu);
	return o;
}

json_t *acct_json(const struct acct *a, acct_extra_fn extra, void *ctx)
{
	double secs = (a->t1_ns - a->t0_ns) / 1e9;
	struct wc_iface_engine_info ei = { .sz = sizeof(ei) };
	json_t *o = jobj(), *d = jobj(), *l = jobj(), *qa = jarr(),
	       *wa = jarr();

	wc_engine__info(a->e, &ei);
	jset_u64(o, "received", a->received);
	jset_u64(o, "delivered", a->delivered);
	jset_u64(o, "passed", a->passed);
	jset_u64(o, "xdp_filtered", a->filtered);
	jset_u64(o, "shed", a->shed);
	jset_u64(d, "pool_exhausted", a->pool_exhausted);
	jset_u64(d, "ring_full", a->ring_full);
	jset_u64(d, "other", a->other_dropped);
	jset_u64(d, "no_socket", a->nosock_dropped);
	jset_u64(d, "total",
		 a->pool_exhausted + a->ring_full + a->other_dropped +
			 a->nosock_dropped);
	jset(o, "dropped", d);
	jset_i64(o, "unaccounted", a->unaccounted);
	jset_u64(o, "nic_dropped", a->nic_dropped);
	jset_u64(o, "invalid_descs", a->invalid_descs);
	jset_fixed(o, "duration_s", secs, 3);
	jset_str(o, "bind",
		 ei.bind_mode == WC_BIND_ZEROCOPY ? "zerocopy" : "copy");
	jset_u64(o, "pool_frames_per_queue", a->nq ? a->frames / a->nq : 0);
	jset_i64(o, "chunk_size", ei.chunk_size);
	jset_u64(o, "hwm", a->hwm_max);
	jset_u64(l, "down_events", a->link.down_events);
	jset_fixed(l, "down_s", a->link.down_ns / 1e9, 3);
	jset_bool(l, "down_at_end", a->link.down);
	jset(o, "link", l);
	for (unsigned q = 0; q < a->nq_all; q++)
		if (q < a->nq || a->q[q].xdp.packets)
			jpush(qa, queue_json(a, q));
	jset(o, "queues", qa);
	for (unsigned w = 0; w < a->nw; w++)
		jpush(wa, worker_json(&a->w[w], w));
	jset(o, "workers", wa);
	if (extra)
		extra(NULL, o, ctx);
	return o;
}

void acct_print_human(const struct acct *a, FILE *f, acct_extra_fn extra,
		      void *ctx)
{
	double secs = (a->t1_ns - a->t0_ns) / 1e9;

	fprintf(f,
		"%llu packets received by XDP in %.2f s: %llu delivered, %llu passed to the stack, %llu dropped, %llu filtered out in XDP\n",
		U(a->received), secs, U(a->delivered), U(a->passed),
		U(a->pool_exhausted + a->ring_full + a->other_dropped +
		  a->nosock_dropped),
		U(a->filtered));
	fprintf(f,
		"  dropped: %llu pool exhausted, %llu rx ring full, %llu other (oversize), %llu no socket; nic dropped %llu\n",
		U(a->pool_exhausted), U(a->ring_full), U(a->other_dropped),
		U(a->nosock_dropped), U(a->nic_dropped));
	if (a->shed)
		fprintf(f, "  shed in XDP (backlog past its budget): %llu\n",
			U(a->shed));
	if (a->unaccounted)
		fprintf(f, "  WARNING: %lld packets unaccounted for\n",
			(long long)a->unaccounted);
	if (a->link.down_events) {
		char note[160];

		acct_link_note(&a->link, note, sizeof(note));
		fprintf(f, "  %s\n", note);
	}
	for (unsigned q = 0; q < a->nq; q++) {
		const struct acct_queue *aq = &a->q[q];

		fprintf(f,
			"  queue %u: received %llu delivered %llu, pool %llu frames, high-water %llu (%.1f%%), drops %llu/%llu/%llu\n",
			q, U(aq->xdp.packets), U(aq->pool.delivered),
			U(aq->pool.frames), U(aq->pool.hwm),
			aq->pool.frames ?
				100.0 * aq->pool.hwm / aq->pool.frames :
				0.0,
			U(aq->pool.fill_empty), U(aq->pool.ring_full),
			U(aq->pool.other_dropped));
	}
	for (unsigned q = a->nq; q < a->nq_all; q++)
		if (a->q[q].xdp.packets)
			fprintf(f,
				"  queue %u (not served): received %llu, passed %llu, dropped %llu\n",
				q, U(a->q[q].xdp.packets),
				U(a->q[q].xdp.passed), U(a->q[q].xdp.dropped));
	for (unsigned w = 0; w < a->nw; w++)
		fprintf(f, "  worker %u: %llu packets, %llu chunks\n", w,
			U(a->w[w].packets), U(a->w[w].chunks));
	if (extra)
		extra(f, NULL, ctx);
}

int acct_report(const struct acct *a, const char *json_path, bool quiet,
		acct_extra_fn extra, void *ctx)
{
	if (!quiet)
		acct_print_human(a, stderr, extra, ctx);
	if (json_path)
		return jwrite(acct_json(a, extra, ctx), json_path);
	return 0;
}

struct wc_engine *engine_open(const char *ifname, struct engine_args *ea)
{
	struct wc_engine *e = wc_engine__open(ifname, &ea->eo);
	int err = errno;

	if (e) {
		if (offload_args_apply(wc_engine__iface(e), &ea->off)) {
			wc_engine__close(e);
			return NULL;
		}
		cmd_setup_done();
		engine_notes(e, ifname, ea);
		return e;
	}
	switch (err) {
	case EINTR:
		/* eo.cancel was set: a signal during set-up */
		cmd_err_only("%s: stopped during set-up: nothing left attached",
			     ifname);
		break;
	case ENODEV:
		cmd_err_only("no such interface: %s", ifname);
		break;
	case EPERM:
	case EACCES:
		cmd_err_only(
			"%s: permission denied (run as root, or with CAP_BPF, CAP_NET_ADMIN, CAP_NET_RAW, CAP_IPC_LOCK)",
			ifname);
		break;
	case EBUSY:
		engine_busy_err(ifname, &ea->eo);
		break;
	case ENOMEM:
		cmd_err_lib(
			"%s: cannot allocate the packet pools (try smaller --pool-chunks)",
			ifname);
		break;
	default:
		cmd_err_lib("%s: cannot open the capture engine: %s", ifname,
			    strerror(err));
	}
	errno = err;
	return NULL;
}
