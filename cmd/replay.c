// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * wirecap replay: send the packets of a pcap / pcapng file over AF_XDP (a
 * standalone egress port: its own small UMEM, TX only), at the recorded
 * pace (--speed to scale it), at a fixed rate (--pps) or as fast as
 * possible (--topspeed). The schedule is absolute (packet i is due at
 * start + offset_i), so the average rate is exact even when a sleep
 * oversleeps: late packets leave in one batch.
 *
 * A packet counts as sent when its TX completion returns; everything read
 * is sent or counted as dropped with its cause. A truncated file is
 * replayed up to its last complete packet, then reported (exit 1).
 */
#include <errno.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wirecap/wirecap.h"
#include "clock.h"
#include "cmd.h"
#include "json.h"
#include "netdev.h"
#include "params.h"

#define BATCH 64
#define SLEEP_MIN_NS 20000ull

enum pace { PACE_RECORDED, PACE_PPS, PACE_TOP };

struct replay {
	const char *file, *ifname, *json;
	enum pace pace;
	double speed;
	uint64_t pps;
	uint64_t loops;
	unsigned queue;
	bool quiet;
	struct wc_port *port;
	/* progress */
	__u64 read, snapped, oversize, loops_done;
	__u64 t_first, t_last;
	bool truncated, aborted;
	char err[PCAP_ERRBUF_SIZE + 64];
	struct wc_frame batch[BATCH];
	unsigned nb;
	unsigned npace; /* --pps, --speed, --topspeed given */
};

static volatile sig_atomic_t stop_req;

static void on_signal(int sig)
{
	(void)sig;
	stop_req = 1;
}

static void sleep_until(__u64 t)
{
	struct timespec ts = { .tv_sec = t / 1000000000ull,
			       .tv_nsec = t % 1000000000ull };

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static int flush_batch(struct replay *r)
{
	int err;

	if (!r->nb)
		return 0;
	err = wc_port__send(r->port, 0, r->batch, r->nb);
	r->nb = 0;
	if (!r->t_first)
		r->t_first = wc_clock_mono_ns();
	return err;
}

/* a frame for the next packet: batch full or no frame free -> send and
 * wait for completions (bounded) */
static int get_frame(struct replay *r, struct wc_frame *f)
{
	__u64 deadline = 0;

	for (;;) {
		int n = wc_port__alloc(r->port, f, 1);

		if (n == 1)
			return 0;
		if (n < 0)
			return n;
		if (flush_batch(r))
			return -EIO;
		wc_port__poll(r->port);
		if (!deadline)
			deadline = wc_clock_mono_ns() + 2000000000ull;
		else if (wc_clock_mono_ns() > deadline)
			return -ETIMEDOUT;
		if (stop_req)
			return -EINTR;
	}
}

static const char *dlt_desc(int dlt)
{
	const char *n = pcap_datalink_val_to_name(dlt);

	return n ? n : "unknown";
}

/* one pass over the file; returns 0, or -1 after an error (message in r->err) */
static int replay_file(struct replay *r, __u64 *t0, __u64 *base_off)
{
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *pc;
	struct pcap_pkthdr *h;
	const u_char *data;
	__u64 first_ts = 0, last_off = 0;
	bool have_first = false;
	int rc = 0, res;

	pc = pcap_open_offline_with_tstamp_precision(
		r->file, PCAP_TSTAMP_PRECISION_NANO, eb);
	if (!pc) {
		snprintf(r->err, sizeof(r->err), "cannot read %s: %s", r->file,
			 eb);
		return -1;
	}
	if (pcap_datalink(pc) != DLT_EN10MB) {
		snprintf(r->err, sizeof(r->err),
			 "%s: link type %s (%d) cannot be replayed on Ethernet",
			 r->file, dlt_desc(pcap_datalink(pc)),
			 pcap_datalink(pc));
		pcap_close(pc);
		return -1;
	}
	while (!stop_req && (res = pcap_next_ex(pc, &h, &data)) == 1) {
		__u64 ts = (__u64)h->ts.tv_sec * 1000000000ull +
			   (__u64)h->ts.tv_usec;
		__u64 due = 0, now;
		struct wc_frame fr;

		r->read++;
		if (!have_first) {
			first_ts = ts;
			have_first = true;
		}
		switch (r->pace) {
		case PACE_RECORDED:
			/* out-of-order timestamps: no waiting back in time */
			last_off = ts > first_ts ?
					   (__u64)((ts - first_ts) / r->speed) :
					   0;
			due = *t0 + *base_off + last_off;
			break;
		case PACE_PPS:
			due = *t0 +
			      (__u64)((double)(r->read - 1) * 1e9 / r->pps);
			break;
		case PACE_TOP:
			break;
		}
		now = wc_clock_mono_ns();
		if (due > now) {
			if (flush_batch(r)) {
				rc = -1;
				break;
			}
			if (due - now >= SLEEP_MIN_NS)
				sleep_until(due);
			else
				while (wc_clock_mono_ns() < due)
					;
		}
		if (h->caplen < h->len)
			r->snapped++; /* sent as captured */
		/* (may send the batch first) */
		if (get_frame(r, &fr)) {
			snprintf(
				r->err, sizeof(r->err),
				"%s: no TX frame came back (the device does not transmit)",
				r->ifname);
			rc = -1;
			break;
		}
		if (h->caplen > fr.room) {
			r->oversize++;
			wc_port__free(r->port, &fr, 1);
			continue;
		}
		memcpy(fr.data, data, h->caplen);
		fr.len = h->caplen;
		r->batch[r->nb] = fr;
		if (++r->nb == BATCH && flush_batch(r)) {
			rc = -1;
			break;
		}
	}
	if (!rc && !stop_req && res == PCAP_ERROR) {
		/* libpcap says why: truncated file, bad record */
		snprintf(r->err, sizeof(r->err), "%s: %s (after %llu packets)",
			 r->file, pcap_geterr(pc), (unsigned long long)r->read);
		r->truncated = true;
		rc = -1;
	}
	if (r->pace == PACE_RECORDED)
		*base_off += last_off;
	pcap_close(pc);
	return rc;
}

static json_t *replay_json(const struct replay *r,
			   const struct wc_port_stats *st, double dur,
			   double rate)
{
	json_t *o = jobj(), *d = jobj();

	jset_str(o, "file", r->file);
	jset_str(o, "interface", r->ifname);
	jset_i64(o, "queue", r->queue);
	jset_u64(o, "read", r->read);
	jset_u64(o, "sent", st->sent);
	jset_u64(o, "loops", r->loops_done);
	jset_fixed(o, "duration_s", dur, 6);
	jset_fixed(o, "pps", rate, 1);
	jset_u64(o, "snapped", r->snapped);
	jset_u64(d, "oversize", r->oversize);
	jset_u64(d, "too_big", st->too_big);
	jset_u64(d, "link_down", st->link_down);
	jset_u64(d, "ring_full", st->ring_full);
	jset_u64(d, "driver", st->driver_dropped);
	jset_u64(d, "not_completed", st->in_flight);
	jset(o, "dropped", d);
	jset_bool(o, "truncated", r->truncated);
	jset_bool(o, "interrupted", r->aborted);
	return o;
}

static int set_pps(void *cfg, const struct param *p, const char *v)
{
	struct replay *r = cfg;

	if (param_set_u64(cfg, p, v))
		return -1;
	r->pace = PACE_PPS;
	r->npace++;
	return 0;
}

static int set_speed(void *cfg, const struct param *p, const char *v)
{
	struct replay *r = cfg;
	char *end;

	(void)p;
	r->speed = strtod(v, &end);
	if (*end || !(r->speed > 0) || r->speed > 1e6)
		return cmd_err("invalid --speed: '%s' (a factor > 0)", v), -1;
	r->pace = PACE_RECORDED;
	r->npace++;
	return 0;
}

static int set_topspeed(void *cfg, const struct param *p, const char *v)
{
	struct replay *r = cfg;

	(void)p;
	(void)v;
	r->pace = PACE_TOP;
	r->npace++;
	return 0;
}

#define R struct replay

static const struct param replay_params[] = {
	PARAM_STR('i', "interface", "IFACE", "device to send on", R, ifname),
	{ .name = "pps",
	  .arg = "N",
	  .help = "fixed rate of N packets per second",
	  .set = set_pps,
	  .off = offsetof(R, pps),
	  .min = 1,
	  .max = 100000000,
	  .what = "--pps" },
	PARAM_FN(0, "speed", "X", "recorded pace times X (default 1)",
		 set_speed),
	PARAM_FN(0, "topspeed", NULL, "as fast as possible", set_topspeed),
	PARAM_U64(0, "loop", "N", "replay the file N times (default 1)", R,
		  loops, 1, 1000000000, "--loop"),
	PARAM_U32(0, "queue", "Q",
		  "TX queue (default 0; on veth, the peer's RX queue)", R,
		  queue, 0, 4095, "--queue"),
	PARAM_STR(0, "json", "FILE|-", "summary as JSON ('-': stdout)", R,
		  json),
	PARAM_FLAG('q', "quiet", "no human summary", R, quiet),
	PARAM_HELP,
	PARAM_END,
};

static const struct params_cmd replay_cmd = {
	.name = "replay",
	.head = "Usage: wirecap replay FILE -i IFACE [options]\n"
		"Send the packets of a pcap or pcapng file (Ethernet) over AF_XDP.\n",
	.tail = "Exit status 1 when a packet was not sent, or the file is truncated or\n"
		"unreadable (what is complete is sent first).\n",
	.params = replay_params,
};

/* the options, FILE, the device and its queue. 0, or 1 when the command
 * ends now with *rc. */
static int replay_parse(struct replay *r, int argc, char **argv, int *rc)
{
	struct wc_netdev_info di;
	unsigned rxq, txq;
	int err;

	*rc = 1;
	if (params_parse(&replay_cmd, r, argc, argv, rc))
		return 1;
	if (optind < argc)
		r->file = argv[optind++];
	if (optind < argc)
		return cmd_err("replay: unexpected argument '%s'",
			       argv[optind]);
	if (!r->file || !r->ifname)
		return cmd_err("replay: FILE and -i IFACE are required");
	if (r->npace > 1)
		return cmd_err(
			"replay: --pps, --speed and --topspeed exclude each other");
	if (cmd_check_ifname(r->ifname))
		return 1;
	err = wc_netdev_get_info(r->ifname, &di);
	if (err == -ENODEV)
		return cmd_err("no such interface: %s", r->ifname);
	if (err)
		return cmd_err("cannot query interface %s: %s", r->ifname,
			       strerror(-err));
	if (!(di.flags & IFF_UP))
		return cmd_err("interface %s is down", r->ifname);
	if (wc_netdev_queues(r->ifname, &rxq, &txq))
		rxq = txq = 1;
	if (r->queue >= (rxq > txq ? rxq : txq))
		return cmd_err("queue %u out of range: %s has %u TX queue%s",
			       r->queue, r->ifname, txq, txq == 1 ? "" : "s");
	return 0;
}

/* The file first (a bad file is reported before any socket), then the
 * TX socket. 0, or 1. */
static int replay_open(struct replay *r)
{
	WC_OPTS(wc_port_opts, po, .queues = &r->queue, .nqueues = 1,
		.tx_frames = 4096);
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline_with_tstamp_precision(
		r->file, PCAP_TSTAMP_PRECISION_NANO, eb);
	int dlt;

	if (!pc)
		return cmd_err("cannot read %s: %s", r->file, eb);
	dlt = pcap_datalink(pc);
	pcap_close(pc);
	if (dlt != DLT_EN10MB)
		return cmd_err(
			"%s: link type %s (%d) cannot be replayed on Ethernet",
			r->file, dlt_desc(dlt), dlt);
	r->port = wc_port__open(NULL, r->ifname, &po);
	if (!r->port)
		return cmd_err(
			"%s: cannot open an AF_XDP TX socket on queue %u: %s",
			r->ifname, r->queue, strerror(errno));
	return 0;
}

/* The summary: 0, or 1 when a packet was not sent (or not written) */
static int replay_report(struct replay *r)
{
	struct wc_port_stats st = { .sz = sizeof(st) };
	double dur, rate;
	int rc = 0;

	wc_port__flush(r->port, 2000);
	r->t_last = wc_clock_mono_ns();
	wc_port__stats(r->port, &st);
	dur = r->t_first && r->t_last > r->t_first ?
		      (r->t_last - r->t_first) / 1e9 :
		      0;
	rate = dur > 0 ? st.sent / dur : 0;
	if (st.sent != r->read - r->oversize ||
	    st.dropped + st.in_flight + r->oversize)
		rc = 1;
	if (r->json && jwrite(replay_json(r, &st, dur, rate), r->json))
		rc = 1;
	if (!r->quiet)
		fprintf(stderr,
			"wirecap replay: %s: %llu of %llu packets sent in %.3f s (%.0f pps)%s; dropped: %llu larger than a frame, %llu above the MTU, %llu link down, %llu tx ring full, %llu by the driver, %llu not completed%s\n",
			r->ifname, (unsigned long long)st.sent,
			(unsigned long long)r->read, dur, rate,
			r->snapped ?
				" (some cut by the capture's snap length)" :
				"",
			(unsigned long long)r->oversize,
			(unsigned long long)st.too_big,
			(unsigned long long)st.link_down,
			(unsigned long long)st.ring_full,
			(unsigned long long)st.driver_dropped,
			(unsigned long long)st.in_flight,
			r->aborted ? " (interrupted)" : "");
	return rc;
}

int cmd_replay(int argc, char **argv)
{
	struct replay r = { .speed = 1.0, .loops = 1 };
	__u64 t0, base_off = 0;
	int rc;

	if (replay_parse(&r, argc, argv, &rc))
		return rc;
	if (replay_open(&r))
		return 1;
	rc = 0;
	cmd_stop_signals(on_signal, true);
	t0 = wc_clock_mono_ns();
	for (r.loops_done = 0; r.loops_done < r.loops && !stop_req;
	     r.loops_done++) {
		if (replay_file(&r, &t0, &base_off)) {
			rc = 1;
			break;
		}
	}
	if (flush_batch(&r))
		rc = 1;
	if (stop_req)
		r.aborted = true;
	if (replay_report(&r))
		rc = 1;
	if (r.err[0])
		cmd_err("%s", r.err);
	cmd_stop_signals(NULL, true);
	wc_port__close(r.port);
	return rc;
}
