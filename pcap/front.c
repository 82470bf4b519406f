// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The interposed libpcap API: each function serves "wirecap:" devices and
 * handles, and passes everything else to the real libpcap unchanged.
 * Functions not defined here (pcap_datalink, pcap_compile, pcap_geterr,
 * pcap_dump, pcap_freecode...) are libpcap's own, on the genuine handle.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wcpcap.h"

/* ---- opening ------------------------------------------------------------------ */

WCP_EXPORT pcap_t *pcap_create(const char *dev, char *errbuf)
{
	struct wcp *h;

	if (!wcp_is_name(dev))
		return REAL(pcap_create)(dev, errbuf);
	h = wcp_create(dev, errbuf);
	return h ? h->p : NULL;
}

WCP_EXPORT int pcap_activate(pcap_t *p)
{
	struct wcp *h = wcp_find(p);

	return h ? wcp_activate(h) : REAL(pcap_activate)(p);
}

WCP_EXPORT pcap_t *pcap_open_live(const char *dev, int snaplen, int promisc,
				  int to_ms, char *errbuf)
{
	struct wcp *h;

	if (!wcp_is_name(dev))
		return REAL(pcap_open_live)(dev, snaplen, promisc, to_ms,
					    errbuf);
	h = wcp_create(dev, errbuf);
	if (!h)
		return NULL;
	h->snaplen = snaplen;
	h->promisc = promisc;
	h->timeout_ms = to_ms;
	if (wcp_activate(h) < 0) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s", pcap_geterr(h->p));
		wcp_close(h);
		return NULL;
	}
	return h->p;
}

WCP_EXPORT int pcap_lookupnet(const char *dev, bpf_u_int32 *net,
			      bpf_u_int32 *mask, char *errbuf)
{
	/* the addresses are the interface's */
	if (wcp_is_name(dev))
		dev += WCP_PREFIX_LEN;
	return REAL(pcap_lookupnet)(dev, net, mask, errbuf);
}

WCP_EXPORT int pcap_findalldevs(pcap_if_t **alldevs, char *errbuf)
{
	int r = REAL(pcap_findalldevs)(alldevs, errbuf);

	return r ? r : wcp_add_devs(alldevs, errbuf);
}

WCP_EXPORT void pcap_close(pcap_t *p)
{
	struct wcp *h = wcp_find(p);

	if (h)
		wcp_close(h);
	else
		REAL(pcap_close)(p);
}

/* ---- settings before activation -------------------------------------------------- */

/* A setting on a "wirecap:" handle: refused once activated, as libpcap
 * does; otherwise the real call. */
#define SETTING(fn, field, type)                     \
	WCP_EXPORT int fn(pcap_t *p, type v)         \
	{                                            \
		struct wcp *h = wcp_find(p);         \
		if (!h)                              \
			return REAL(fn)(p, v);       \
		if (h->activated)                    \
			return PCAP_ERROR_ACTIVATED; \
		h->field = v;                        \
		return 0;                            \
	}

SETTING(pcap_set_snaplen, snaplen, int)
SETTING(pcap_set_promisc, promisc, int)
SETTING(pcap_set_timeout, timeout_ms, int)
SETTING(pcap_set_buffer_size, buffer_size, int)
SETTING(pcap_set_immediate_mode, immediate, int)

WCP_EXPORT int pcap_set_tstamp_precision(pcap_t *p, int precision)
{
	struct wcp *h = wcp_find(p);

	if (!h)
		return REAL(pcap_set_tstamp_precision)(p, precision);
	if (h->activated)
		return PCAP_ERROR_ACTIVATED;
	if (precision != PCAP_TSTAMP_PRECISION_MICRO &&
	    precision != PCAP_TSTAMP_PRECISION_NANO)
		return PCAP_ERROR_TSTAMP_PRECISION_NOTSUP;
	h->precision = precision;
	return 0;
}

WCP_EXPORT int pcap_get_tstamp_precision(pcap_t *p)
{
	struct wcp *h = wcp_find(p);

	return h ? h->precision : REAL(pcap_get_tstamp_precision)(p);
}

WCP_EXPORT int pcap_set_tstamp_type(pcap_t *p, int type)
{
	struct wcp *h = wcp_find(p);

	if (!h)
		return REAL(pcap_set_tstamp_type)(p, type);
	if (h->activated)
		return PCAP_ERROR_ACTIVATED;
	/* XDP stamps with the host's clock */
	return type == PCAP_TSTAMP_HOST ? 0 : PCAP_WARNING_TSTAMP_TYPE_NOTSUP;
}

WCP_EXPORT int pcap_set_rfmon(pcap_t *p, int rfmon)
{
	struct wcp *h = wcp_find(p);

	if (!h)
		return REAL(pcap_set_rfmon)(p, rfmon);
	if (h->activated)
		return PCAP_ERROR_ACTIVATED;
	return rfmon ? PCAP_ERROR_RFMON_NOTSUP : 0;
}

WCP_EXPORT int pcap_can_set_rfmon(pcap_t *p)
{
	struct wcp *h = wcp_find(p);

	return h ? 0 : REAL(pcap_can_set_rfmon)(p);
}

WCP_EXPORT int pcap_set_protocol_linux(pcap_t *p, int protocol)
{
	struct wcp *h = wcp_find(p);

	if (!h)
		return REAL(pcap_set_protocol_linux)(p, protocol);
	return h->activated ? PCAP_ERROR_ACTIVATED : 0;
}

WCP_EXPORT int pcap_snapshot(pcap_t *p)
{
	struct wcp *h = wcp_find(p);

	if (!h)
		return REAL(pcap_snapshot)(p);
	return h->activated ? h->snaplen : PCAP_ERROR_NOT_ACTIVATED;
}

/* ---- reading ------------------------------------------------------------------------ */

WCP_EXPORT int pcap_loop(pcap_t *p, int cnt, pcap_handler cb, u_char *user)
{
	struct wcp *h = wcp_find(p);

	return h ? wcp_dispatch(h, cnt, cb, user, true) :
		   REAL(pcap_loop)(p, cnt, cb, user);
}

WCP_EXPORT int pcap_dispatch(pcap_t *p, int cnt, pcap_handler cb, u_char *user)
{
	struct wcp *h = wcp_find(p);

	return h ? wcp_dispatch(h, cnt, cb, user, false) :
		   REAL(pcap_dispatch)(p, cnt, cb, user);
}

WCP_EXPORT int pcap_next_ex(pcap_t *p, struct pcap_pkthdr **hdr,
			    const u_char **data)
{
	struct wcp *h = wcp_find(p);

	return h ? wcp_next_ex(h, hdr, data) : REAL(pcap_next_ex)(p, hdr, data);
}

WCP_EXPORT const u_char *pcap_next(pcap_t *p, struct pcap_pkthdr *hdr)
{
	struct wcp *h = wcp_find(p);
	struct pcap_pkthdr *ph;
	const u_char *data;

	if (!h)
		return REAL(pcap_next)(p, hdr);
	if (wcp_next_ex(h, &ph, &data) != 1)
		return NULL;
	*hdr = *ph;
	return data;
}

WCP_EXPORT void pcap_breakloop(pcap_t *p)
{
	struct wcp *h = wcp_find(p);

	if (h)
		wcp_breakloop(h);
	else
		REAL(pcap_breakloop)(p);
}

WCP_EXPORT int pcap_setnonblock(pcap_t *p, int nonblock, char *errbuf)
{
	struct wcp *h = wcp_find(p);

	if (!h)
		return REAL(pcap_setnonblock)(p, nonblock, errbuf);
	h->nonblock = nonblock != 0;
	return 0;
}

WCP_EXPORT int pcap_getnonblock(pcap_t *p, char *errbuf)
{
	struct wcp *h = wcp_find(p);

	return h ? h->nonblock : REAL(pcap_getnonblock)(p, errbuf);
}

WCP_EXPORT int pcap_get_selectable_fd(pcap_t *p)
{
	struct wcp *h = wcp_find(p);

	return h ? h->efd : REAL(pcap_get_selectable_fd)(p);
}

WCP_EXPORT const struct timeval *pcap_get_required_select_timeout(pcap_t *p)
{
	struct wcp *h = wcp_find(p);

	/* the eventfd is reliable: no timeout needed */
	return h ? NULL : REAL(pcap_get_required_select_timeout)(p);
}

WCP_EXPORT int pcap_fileno(pcap_t *p)
{
	struct wcp *h = wcp_find(p);

	return h ? h->efd : REAL(pcap_fileno)(p);
}

/* ---- filter, direction ----------------------------------------------------------------- */

/* Install @fp in the attachment's XDP program (0), or say why not (< 0:
 * the handle is not active yet, the attachment has a filter of its own,
 * or the program is one XDP cannot run): the user-space filter then. */
static int wcp_xdp_filter(struct wcp *h, const struct bpf_program *fp)
{
	struct wc_filter_info fi;
	struct wc_iface *ifc;
	char eb[256] = "", *text;
	size_t len = 24 + (size_t)fp->bf_len * 48, off;
	int err;

	if (!h->e || !fp->bf_len)
		return -EINVAL;
	ifc = wc_engine__iface(h->e);
	if (!h->xdp_filter && (wc_iface__filter_info(ifc, &fi) || fi.installed))
		return -EEXIST;
	text = malloc(len);
	if (!text)
		return -ENOMEM;
	/* the classic program as `tcpdump -ddd` prints it */
	off = (size_t)snprintf(text, len, "%u\n", fp->bf_len);
	for (unsigned i = 0; i < fp->bf_len; i++)
		off += (size_t)snprintf(text + off, len - off, "%u %u %u %u\n",
					fp->bf_insns[i].code,
					fp->bf_insns[i].jt, fp->bf_insns[i].jf,
					fp->bf_insns[i].k);
	{
		WC_OPTS(wc_filter_opts, fo, .classic = text, .errbuf = eb,
			.errbuf_sz = sizeof(eb));

		err = wc_iface__set_filter(ifc, &fo);
	}
	free(text);
	if (err) {
		wcp_log_note("%s: filter kept in user space: %s\n", h->ifname,
			     eb[0] ? eb : strerror(-err));
		return err;
	}
	h->xdp_filter = true;
	wcp_log_note("%s: filter installed in the XDP program\n", h->ifname);
	return 0;
}

WCP_EXPORT int pcap_setfilter(pcap_t *p, struct bpf_program *fp)
{
	struct wcp *h = wcp_find(p);
	struct bpf_insn *copy;

	if (!h)
		return REAL(pcap_setfilter)(p, fp);
	if (!fp || (fp->bf_len && !fp->bf_insns)) {
		wcp_err(h, "no filter program");
		return PCAP_ERROR;
	}
	/* in the XDP program: a packet nobody asked for never takes a frame
	 * (and goes where the no-socket action says, the stack by default) */
	if (!wcp_xdp_filter(h, fp)) {
		if (h->have_filter)
			pcap_freecode(&h->prog);
		h->have_filter = false;
		return 0;
	}
	copy = malloc(fp->bf_len * sizeof(*copy) + 1);
	if (!copy) {
		wcp_err(h, "out of memory");
		return PCAP_ERROR;
	}
	memcpy(copy, fp->bf_insns, fp->bf_len * sizeof(*copy));
	if (h->have_filter)
		pcap_freecode(&h->prog);
	h->prog.bf_len = fp->bf_len;
	h->prog.bf_insns = copy;
	h->have_filter = true;
	return 0;
}

WCP_EXPORT int pcap_setdirection(pcap_t *p, pcap_direction_t d)
{
	struct wcp *h = wcp_find(p);

	if (!h)
		return REAL(pcap_setdirection)(p, d);
	if (d == PCAP_D_OUT) {
		wcp_err(h, "%s: XDP sees received packets only", h->ifname);
		return PCAP_ERROR;
	}
	return 0;
}

/* ---- statistics, transmit -------------------------------------------------------------- */

WCP_EXPORT int pcap_stats(pcap_t *p, struct pcap_stat *ps)
{
	struct wcp *h = wcp_find(p);

	return h ? wcp_stats(h, ps) : REAL(pcap_stats)(p, ps);
}

WCP_EXPORT int pcap_inject(pcap_t *p, const void *buf, size_t len)
{
	struct wcp *h = wcp_find(p);

	return h ? wcp_inject(h, buf, len) : REAL(pcap_inject)(p, buf, len);
}

WCP_EXPORT int pcap_sendpacket(pcap_t *p, const u_char *buf, int len)
{
	struct wcp *h = wcp_find(p);

	if (!h)
		return REAL(pcap_sendpacket)(p, buf, len);
	if (len < 0)
		return PCAP_ERROR;
	return wcp_inject(h, buf, len) == len ? 0 : PCAP_ERROR;
}

/* ---- dumpers ---------------------------------------------------------------------------- */

/*
 * The genuine handle was made before the snap length and the time stamp
 * precision were set (pcap_create), and libpcap's handle is opaque: a
 * dumper of a "wirecap:" handle is opened on a handle of the settings
 * that were activated (the file header takes them from there), which is
 * then closed: a dumper is only the FILE it writes.
 */
static pcap_t *dump_twin(struct wcp *h)
{
	pcap_t *t = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, h->snaplen,
							 h->precision);

	if (!t)
		wcp_err(h, "out of memory");
	return t;
}

static pcap_dumper_t *dump_done(struct wcp *h, pcap_t *t, pcap_dumper_t *d)
{
	if (!d)
		snprintf(pcap_geterr(h->p), PCAP_ERRBUF_SIZE, "%s",
			 pcap_geterr(t));
	REAL(pcap_close)(t);
	return d;
}

WCP_EXPORT pcap_dumper_t *pcap_dump_open(pcap_t *p, const char *fname)
{
	struct wcp *h = wcp_find(p);
	pcap_t *t;

	if (!h)
		return REAL(pcap_dump_open)(p, fname);
	t = dump_twin(h);
	return t ? dump_done(h, t, REAL(pcap_dump_open)(t, fname)) : NULL;
}

WCP_EXPORT pcap_dumper_t *pcap_dump_fopen(pcap_t *p, FILE *f)
{
	struct wcp *h = wcp_find(p);
	pcap_t *t;

	if (!h)
		return REAL(pcap_dump_fopen)(p, f);
	t = dump_twin(h);
	return t ? dump_done(h, t, REAL(pcap_dump_fopen)(t, f)) : NULL;
}

WCP_EXPORT pcap_dumper_t *pcap_dump_open_append(pcap_t *p, const char *fname)
{
	struct wcp *h = wcp_find(p);
	pcap_t *t;

	if (!h)
		return REAL(pcap_dump_open_append)(p, fname);
	t = dump_twin(h);
	return t ? dump_done(h, t, REAL(pcap_dump_open_append)(t, fname)) :
		   NULL;
}
