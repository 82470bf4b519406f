#!/usr/bin/env python3
"""Turn the raw results of tests/bench/run.sh into docs/benchmarks.md and
docs/bench/*.png (gnuplot).

    tests/bench/report.py [--raw docs/bench/raw] [--out docs]

Every point is the median of the runs of one (experiment, x, consumer), its
error bar the min-max of those runs. Every sentence with a number in the
report is computed here from the raw results: nothing is typed by hand, so
re-running the generator on the same raw files gives the same report.
Standard library only; gnuplot (Debian: gnuplot-nox) draws the figures.
"""
import argparse
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

NAMES = {
    "xdpdrop": "XDP_DROP (ceiling)",
    "afxdp": "AF_XDP loop, 2048 rings",
    "afxdp-big": "AF_XDP loop, pool-sized rings",
    "pcap": "libpcap, 2 MiB buffer",
    "pcap-big": "libpcap, pool-sized buffer",
    "wc": "wirecap",
    "wc-capture": "wirecap capture to pcapng",
    "wc-p64": "wirecap, pool 4 Ki frames/queue",
    "wc-p256": "wirecap, pool 16 Ki frames/queue",
    "wc-p1024": "wirecap, pool 64 Ki frames/queue",
    "wc-b": "wirecap, offloading off (WireCAP-B)",
    "wc-a": "wirecap, offloading on (WireCAP-A)",
    "fanout-hash": "AF_PACKET fanout hash",
    "fanout-roll": "AF_PACKET fanout hash+rollover",
    "wirecap": "wirecap forward",
    "xdp": "in-kernel XDP_REDIRECT",
    "bridge": "Linux bridge",
}
BASELINES = ["afxdp", "afxdp-big", "pcap", "pcap-big"]
# the same colour for a consumer in every figure; wirecap in reds, drawn thicker
COLORS = {
    "xdpdrop": "#000000", "afxdp": "#1f77b4", "afxdp-big": "#17becf", "pcap": "#2ca02c",
    "pcap-big": "#8c564b", "wc": "#d62728", "wc-capture": "#ff7f0e", "wc-p64": "#f4a582",
    "wc-p256": "#e7298a", "wc-p1024": "#d62728", "wc-b": "#9467bd", "wc-a": "#d62728",
    "fanout-hash": "#2ca02c", "fanout-roll": "#bcbd22", "wirecap": "#d62728", "xdp": "#1f77b4",
    "bridge": "#2ca02c",
}


def xsk_modes(paths):
    """How the AF_XDP consumers were bound, as the runs recorded it:
    "copy", "zero-copy", "copy and zero-copy" or "unknown"."""
    m = sorted(set(re.findall(r"AF_XDP ([\w-]+) mode", " ".join(paths.values()))))
    return " and ".join(m) if m else "unknown"


def machine_line(meta, xsk="copy"):
    """The machine and the run, for the figures' titles."""
    return "%d CPUs, Linux %s, veth (XDP native, AF_XDP %s), load %s to %s%s" % (
        meta["ncpu"], meta["kernel"].split("-")[0], xsk,
        meta["load_start"].split()[0], meta["load_end"].split()[0],
        (", QUICK, " if meta.get("quick") == 1 else ", ") +
        ("1 run" if meta["repeat"] == 1 else "median of %d runs, min-max bars" % meta["repeat"]))


def name(c):
    return NAMES.get(c, c)


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


class Point:
    """The runs of one (x, consumer): captured fractions and loss causes."""

    def __init__(self, rows):
        self.rows = rows
        self.n = len(rows)
        self.cap = [100.0 * int(r["got"]) / int(r["sent"]) for r in rows if int(r["sent"])]
        self.pre = [100.0 * int(r["pre_xdp"]) / int(r["sent"]) for r in rows if int(r["sent"])]
        self.drop = [100.0 * int(r["dropped"]) / int(r["sent"]) for r in rows if int(r["sent"])]
        self.gen = [float(r["gen_kpps"]) for r in rows]

    def med(self, what="cap"):
        v = getattr(self, what)
        return statistics.median(v) if v else float("nan")

    def lo(self, what="cap"):
        return min(getattr(self, what))

    def hi(self, what="cap"):
        return max(getattr(self, what))

    def field(self, key, conv=float):
        v = [conv(r[key]) for r in self.rows if r.get(key) not in (None, "", "-")]
        return statistics.median(v) if v else float("nan")

    def fmt(self):
        if self.n > 1:
            return "%.1f%% [%.1f-%.1f]" % (self.med(), self.lo(), self.hi())
        return "%.1f%%" % self.med()


def group(rows):
    """{x: {consumer: Point}} in the order the x values first appear"""
    out = {}
    tmp = {}
    for r in rows:
        tmp.setdefault(r["x"], {}).setdefault(r["consumer"], []).append(r)
    for x, d in tmp.items():
        out[x] = {c: Point(v) for c, v in d.items()}
    return out


def overlap(a, b):
    return a.n > 1 and b.n > 1 and not (a.lo() > b.hi() or b.lo() > a.hi())


def limit(p, target_kpps=None):
    """What limited a consumer's capture, from where its packets were lost."""
    lost = 100.0 - p.med()
    parts = []
    if target_kpps and p.med("gen") < 0.95 * target_kpps:
        parts.append("the generator reached only %.0f of %.0f kpps" % (p.med("gen"), target_kpps))
    if lost < 0.5:
        return "; ".join(parts) or "nothing (captured everything)"
    pre, drop = p.med("pre"), p.med("drop")
    other = max(0.0, lost - pre - drop)
    causes = [
        (pre, "%.1f%% lost before XDP/the socket (veth ring full: the kernel's receive path on the capture CPU)" % pre),
        (drop, "%.1f%% dropped by the consumer's own rings/pool/buffer (the consumer's CPU did not keep up)" % drop),
        (other, "%.1f%% not counted by the kernel (in flight or lost at shutdown)" % other),
    ]
    causes.sort(key=lambda c: -c[0])
    parts += [c[1] for c in causes if c[0] >= 0.5]
    return "; ".join(parts)


def compare(pts, me, others):
    """Sentences: me against each of others at one x."""
    if me not in pts:
        return []
    m = pts[me]
    out = []
    for o in others:
        if o not in pts:
            continue
        b = pts[o]
        d = m.med() - b.med()
        if overlap(m, b):
            rel = "within the run-to-run spread of"
        elif abs(d) < 0.5:
            rel = "equal to"
        elif d > 0:
            rel = "%.1f points ahead of" % d
        else:
            rel = "%.1f points behind" % -d
        ratio = " (%.2fx)" % (m.med() / b.med()) if b.med() > 0 and abs(d) >= 0.5 else ""
        out.append("%s %s%s (%.1f%%)" % (rel, name(o), ratio, b.med()))
    return out


# ---- gnuplot -----------------------------------------------------------------------


class Plot:
    def __init__(self, tmp, out, machine):
        self.tmp, self.out, self.machine = tmp, out, machine
        self.made = []

    def run(self, fname, script):
        path = os.path.join(self.out, fname)
        head = (
            'set terminal pngcairo size 1000,680 font "DejaVu Sans,11" noenhanced\n'
            'set output "%s"\nset grid\nset key below center horizontal maxcols 2 reverse Left samplen 2 spacing 1.1\n'
            'set bmargin 8\n' % path
        )
        sp = os.path.join(self.tmp, fname + ".gp")
        with open(sp, "w") as f:
            f.write(head + script)
        r = subprocess.run(["gnuplot", sp], capture_output=True, text=True)
        if r.returncode:
            print("report: gnuplot failed on %s: %s" % (fname, r.stderr.strip()), file=sys.stderr)
            return False
        self.made.append(fname)
        return True

    def data(self, fname, lines):
        p = os.path.join(self.tmp, fname)
        with open(p, "w") as f:
            f.write("\n".join(lines) + "\n")
        return p

    def title(self, what, one_run=False):
        m = self.machine
        if one_run:
            m = m.split(", QUICK")[0].split(", median of")[0] + ", one run"
        return "%s\\n%s" % (what, m)


def lines_plot(plot, fname, title, xlabel, ylabel, series, logx=False, extra="", yrange="[0:105]"):
    """series: [(consumer, label, [(x, med, lo, hi)])]"""
    parts = []
    for i, (cons, label, pts) in enumerate(series):
        if not pts:
            continue
        d = plot.data("%s.%d.dat" % (fname, i), ["%g %g %g %g" % p for p in sorted(pts)])
        wc = cons.startswith("wc") or cons == "wirecap"
        parts.append('"%s" using 1:2:3:4 with yerrorlines lw %d lc rgb "%s" pt %d ps %s title "%s"' % (
            d, 3 if wc else 2, COLORS.get(cons, "#7f7f7f"), 5 + i, "1.4" if wc else "1", label))
    if not parts:
        return False
    s = 'set title "%s"\nset xlabel "%s"\nset ylabel "%s"\nset yrange %s\n%s%s\nplot %s\n' % (
        plot.title(title), xlabel, ylabel, yrange, "set logscale x\n" if logx else "", extra, ", \\\n  ".join(parts))
    return plot.run(fname, s)


def bars_plot(plot, fname, title, ylabel, cats, series, yrange="[0:*]", extra="", xlabel=""):
    """cats: category labels; series: [(label, [(med, lo, hi)] per cat)]"""
    rows = []
    for i, c in enumerate(cats):
        row = ['"%s"' % c]
        for _, v in series:
            row += ["%g %g %g" % v[i]]
        rows.append(" ".join(row))
    d = plot.data(fname + ".dat", rows)
    parts = []
    for j, (label, _) in enumerate(series):
        col = 2 + 3 * j
        parts.append('"%s" using %d:%d:%d title "%s"' % (d, col, col + 1, col + 2, label))
    # labels in the script (not the data) so that "\n" breaks them
    xt = ", ".join('"%s" %d' % (c.replace(", ", "\\n"), i) for i, c in enumerate(cats))
    # the axis label below the tic labels' last line
    down = max(c.count(", ") for c in cats) if cats else 0
    s = (
        'set title "%s"\nset xlabel "%s" offset 0,-%d\nset ylabel "%s"\nset yrange %s\nset style data histogram\n'
        "set style histogram errorbars gap 2 lw 1.5\nset style fill solid 0.7 border -1\n"
        "set boxwidth 0.9\nset xtics (%s) scale 0\n%s\nplot %s\n"
        % (plot.title(title), xlabel, down, ylabel, yrange, xt, extra, ", \\\n  ".join(parts))
    )
    return plot.run(fname, s)


# ---- the report ------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.abspath(os.path.join(here, "..", ".."))
    ap.add_argument("--raw", default=os.path.join(root, "docs", "bench", "raw"))
    ap.add_argument("--out", default=os.path.join(root, "docs"))
    a = ap.parse_args()
    if not shutil.which("gnuplot"):
        sys.exit("report: gnuplot is not installed (make deps: gnuplot-nox)")
    with open(os.path.join(a.raw, "meta.json")) as f:
        meta = json.load(f)
    # a later partial run (BENCH_ONLY) that replaced some experiments' rows
    meta_only = None
    if os.path.exists(os.path.join(a.raw, "meta.only.json")):
        with open(os.path.join(a.raw, "meta.only.json")) as f:
            meta_only = json.load(f)
    paths = {r[0]: r[1] for r in (l.rstrip("\n").split("\t") for l in open(os.path.join(a.raw, "paths.tsv"))) if len(r) == 2} \
        if os.path.exists(os.path.join(a.raw, "paths.tsv")) else {}
    loads = [l.rstrip("\n").split("\t") for l in open(os.path.join(a.raw, "load.tsv"))] \
        if os.path.exists(os.path.join(a.raw, "load.tsv")) else []
    # seconds per experiment (runs since it was recorded): name, s, load1 at start, at end
    times = [l.rstrip("\n").split("\t") for l in open(os.path.join(a.raw, "times.tsv"))] \
        if os.path.exists(os.path.join(a.raw, "times.tsv")) else []
    xsk = xsk_modes(paths)
    figdir = os.path.join(a.out, "bench")
    os.makedirs(figdir, exist_ok=True)
    quick = meta.get("quick") == 1
    nrun = "%d run%s per point" % (meta["repeat"], "" if meta["repeat"] == 1 else "s")
    if quick:
        runs = ("**QUICK: %s** (%s), a smoke subset: one or two points per figure, fewer consumers, fewer "
                "packets; indicative only, not the full run's numbers" % (
                    nrun, "no spread" if meta["repeat"] == 1 else "median, error bars min-max"))
    else:
        runs = ("1 run per point (indicative only, no spread)" if meta["repeat"] == 1 else
                "median of %d runs per point, error bars min-max" % meta["repeat"])
    machine = machine_line(meta, xsk)
    tmp = tempfile.mkdtemp(prefix="wc-report-")
    plot = Plot(tmp, figdir, machine)
    # the figures of experiments from a later partial run name its load
    plot.machine_only = machine_line(meta_only, xsk) if meta_only else machine
    md = []
    glance = []
    w = md.append

    dur = meta["t_end"] - meta["t_start"]
    w("# Benchmarks")
    w("")
    w("<!-- Generated by tests/bench/report.py from %s (make bench%s). Do not edit: every" % (
        os.path.relpath(os.path.abspath(a.raw), root), " QUICK=1" if quick else ""))
    w("     figure and every number below comes from the raw results of one run%s. -->" % (
        " and of the partial run its sections name" if meta_only else ""))
    w("")
    w("`make bench%s` on %s UTC, %d min %d s, %s. Commit %s." % (
        " QUICK=1" if quick else "", time.strftime("%Y-%m-%d %H:%M", time.gmtime(meta["t_start"])),
        dur // 60, dur % 60, runs, meta["commit"]))
    w("")
    w("**Conditions.** %d CPUs (%s), %s RAM, Linux %s. Load average (1, 5, 15 min) %s at the start and %s at the end "
      "(%s processes): %s" % (
          meta["ncpu"], meta["cpu_model"], meta["memory"], meta["kernel"], meta["load_start"], meta["load_end"],
          meta["processes"],
          "the machine was shared with other jobs, so the consumers that depend on getting the CPU in time vary "
          "between runs; read single figures with the spread in mind." if float(meta["load_start"].split()[0]) > 1.5
          or float(meta["load_end"].split()[0]) > 1.5 else "a quiet machine."))
    if loads:
        last = {}
        for l in loads:  # a later partial run's line replaces the first
            if len(l) >= 3:
                last.pop(l[0], None)
                last[l[0]] = l[2]
        w("Load average (1 min) at the start of each experiment: %s." % ", ".join("%s %s" % kv for kv in last.items()))
    if times:
        last = {}
        for l in times:  # a later partial run's line replaces the first
            if len(l) >= 2:
                last.pop(l[0], None)
                last[l[0]] = int(l[1])
        w("Time per experiment (set-up, runs and drain; the report not included): %s; %d s in all." % (
            ", ".join("%s %d s" % kv for kv in last.items()), sum(last.values())))
    w("Link: a veth pair with 4 queues between two namespaces; NAPI %s with GRO on the receiving end, its kthreads "
      "pinned to CPU %d at SCHED_FIFO 50 (a NIC's softirq preempting the analyzer); the generator (`wirecap gen`, "
      "AF_XDP copy mode, 64-byte UDP frames) on CPU %d. XDP in native (driver) mode on veth; AF_XDP in **%s mode** "
      "(as the consumers reported their sockets' binding; veth has no zero-copy AF_XDP; XDP on veth also copies "
      "each frame once more): real NICs with zero-copy AF_XDP pay less per packet than every AF_XDP consumer "
      "here." % (meta["napi"], meta["cpu_cap"], meta["cpu_gen"], xsk))
    w("")
    if meta.get("notes"):
        w("Notes from the run: " + "; ".join(meta["notes"]) + ".")
        w("")
    w("GLANCE")
    w("")
    w("## The consumers")
    w("")
    w("| experiment | label | what ran (as the run recorded it) |")
    w("| --- | --- | --- |")
    for c, p in paths.items():
        exp, _, cons = c.rpartition(":")
        w("| %s | %s | %s |" % (exp, name(cons), p.replace("(libpcap libpcap version", "(libpcap")))
    w("")
    w("Captured % = packets the consumer counted itself / packets the generator sent (its TX completions). "
      "A packet not captured was lost *before XDP/the socket* (the veth ring of the receiving queue was full: the "
      "NAPI thread on the capture CPU could not keep up, a NIC's rx_missed), *dropped* by the consumer's own "
      "kernel objects (AF_XDP fill/RX ring, wirecap's pool, AF_PACKET's ring: the consumer did not keep up), or "
      "neither (not counted). The text under each figure names the largest of these for each consumer.")
    w("")

    # ---- 1. rate
    rate = group(read_tsv(os.path.join(a.raw, "rate.tsv")))
    if rate:
        series = {}
        # x: the target rates as categories, the unpaced runs last (the rate
        # the generator reached is in the table: receivers slow it down)
        xs = list(rate)
        for i, (x, pts) in enumerate(rate.items()):
            for c, p in pts.items():
                series.setdefault(c, []).append((i, p.med(), p.lo(), p.hi()))
        xt = ", ".join('"%s" %d' % ("unpaced (max)" if x == "max" else x, i) for i, x in enumerate(xs))
        order = ["xdpdrop", "afxdp-big", "afxdp", "pcap", "pcap-big", "wc", "wc-capture"]
        lines_plot(plot, "rate.png", "Captured % vs offered rate, no work per packet, 1 consumer thread",
                   "target offered rate (kpps)", "captured (% of sent)",
                   [(c, name(c) + (" = delivery ceiling" if c == "afxdp-big" else ""), series[c]) for c in order if c in series],
                   extra="set xtics (%s)\nset xrange [-0.3:%g]\n" % (xt, len(xs) - 0.7))
        w("## 1. Captured % against the offered rate")
        w("")
        w("![captured vs offered rate](bench/rate.png)")
        w("")
        w("Packets per run: %s; no work per packet, "
          "one consumer thread on the capture CPU. The AF_XDP loop with pool-sized rings and no work is the "
          "kernel's delivery ceiling into AF_XDP; XDP_DROP is the machine's ceiling." % ", ".join(
              "{:,.0f} at {}".format(statistics.median(int(r["sent"]) for p in pts.values() for r in p.rows),
                                     "the generator's maximum (unpaced)" if x == "max" else x + " kpps")
              for x, pts in rate.items()))
        w("")
        table(w, rate, order, xlabel="offered")
        veth_note(w, rate)
        for x, pts in rate.items():
            tgt = None if x == "max" else float(x)
            if x == "max":
                lbl = "unpaced (the generator reached %s)" % ", ".join(
                    "%.0f kpps against %s" % (pts[c].med("gen"), name(c)) for c in ("xdpdrop", "wc") if c in pts)
            else:
                lbl = "at %s kpps" % x
            if "wc" in pts:
                s = compare(pts, "wc", ["afxdp", "afxdp-big", "pcap", "pcap-big"])
                w("- %s: wirecap captured %s, %s. Limit for wirecap: %s." % (lbl, pts["wc"].fmt(), "; ".join(s),
                                                                               limit(pts["wc"], tgt)))
            for c in ("xdpdrop", "afxdp-big"):
                if c in pts:
                    w("  %s: %s (limit: %s)." % (name(c), pts[c].fmt(), limit(pts[c], tgt)))
            if "wc-capture" in pts and "wc" in pts:
                d = pts["wc-capture"].med() - pts["wc"].med()
                w("  Capture to pcapng on tmpfs against no-op capture: %s vs %s (%+.1f points; limit for capture: %s)."
                  % (pts["wc-capture"].fmt(), pts["wc"].fmt(), d, limit(pts["wc-capture"], tgt)))
        w("")
        best_gap(glance, rate, "rate", "the offered rates")
        if "max" in rate and "wc" in rate["max"]:
            top = rate["max"]
            glance.append("Unpaced (the generator's maximum): wirecap %.1f%%; %s; ceilings: %s." % (
                top["wc"].med(), ", ".join("%s %.1f%%" % (name(c), top[c].med()) for c in BASELINES if c in top),
                ", ".join("%s %.1f%%" % (name(c), top[c].med()) for c in ("xdpdrop",) if c in top) or "-"))

    # ---- 2. cost
    cost = group(read_tsv(os.path.join(a.raw, "cost.tsv")))
    if cost:
        order = ["afxdp", "afxdp-big", "pcap", "pcap-big", "wc"]
        series = {}
        for x, pts in cost.items():
            for c, p in pts.items():
                series.setdefault(c, []).append((float(x), p.med(), p.lo(), p.hi()))
        gk = statistics.median([p.med("gen") for pts in cost.values() for p in pts.values()])
        lines_plot(plot, "cost.png", "Captured % vs per-packet cost x at 250 kpps, 1 consumer thread",
                   "per-packet cost x (ns of CPU spin per packet)", "captured (% of sent)",
                   [(c, name(c), series[c]) for c in order if c in series])
        w("## 2. Captured % against the per-packet cost x")
        w("")
        w("![captured vs per-packet cost](bench/cost.png)")
        w("")
        w("%s packets at 250 kpps (the generator reached %.0f kpps, median); every consumer spins x ns per packet "
          "(calibrated the same way), one thread on the capture CPU, which it shares with the NAPI thread." % (
              "{:,.0f}".format(statistics.median(int(r["sent"]) for pts in cost.values() for p in pts.values() for r in p.rows)), gk))
        w("")
        table(w, cost, order, xlabel="x (ns)")
        veth_note(w, cost)
        for x, pts in cost.items():
            if "wc" in pts:
                w("- x = %s ns: wirecap %s, %s. Limit for wirecap: %s." % (
                    x, pts["wc"].fmt(), "; ".join(compare(pts, "wc", BASELINES)), limit(pts["wc"], 250)))
        if "0" in cost and "afxdp-big" in cost["0"]:
            p0 = cost["0"]["afxdp-big"]
            w("- The kernel's delivery ceiling at this rate (the AF_XDP loop with pool-sized rings and x = 0): %s "
              "(limit: %s). No AF_XDP consumer can capture more than this on this path." % (p0.fmt(), limit(p0, 250)))
        w("")
        best_gap(glance, cost, "cost", "per-packet cost")
        xs = list(cost)
        top = cost[xs[-1]]
        if "wc" in top:
            glance.append("At the highest cost (x = %s ns, 250 kpps): wirecap %.1f%%; %s." % (
                xs[-1], top["wc"].med(), ", ".join("%s %.1f%%" % (name(c), top[c].med()) for c in BASELINES if c in top)))

    # ---- 3. burst
    burst = group(read_tsv(os.path.join(a.raw, "burst.tsv")))
    if burst:
        order = ["wc-p64", "wc-p256", "wc-p1024", "afxdp", "afxdp-big"]
        # the pools this run measured (QUICK: fewer), smallest first
        pools = sorted({c for pts in burst.values() for c in pts if c.startswith("wc-p")}, key=lambda c: int(c[4:]))
        order = pools + [c for c in order if not c.startswith("wc-p")]
        top = pools[-1] if pools else "wc-p1024"
        series = {}
        for x, pts in burst.items():
            for c, p in pts.items():
                series.setdefault(c, []).append((float(x), p.med(), p.lo(), p.hi()))
        lines_plot(plot, "burst.png", "Captured % vs burst length, bursts at 300 kpps, 3 us of work per packet",
                   "burst length (packets, over 4 queues)", "captured (% of sent)",
                   [(c, name(c), series[c]) for c in order if c in series], logx=True,
                   extra='set format x "%.0s%c"\nset offsets graph 0.05, graph 0.05, 0, 0\n')
        w("## 3. Captured %% against the burst length, %s pool size%s" % (
            {1: "one", 2: "two", 3: "three"}.get(len(pools), str(len(pools))), "" if len(pools) == 1 else "s"))
        w("")
        w("![captured vs burst length](bench/burst.png)")
        w("")
        big_rings = [p.field("pool_frames") for pts in burst.values() for c, p in pts.items() if c == "afxdp-big"]
        w("One burst of L packets at 300 kpps into one consumer thread spending 3 us per packet: it falls behind "
          "from the first packet, and what it cannot process at once must wait in its buffer. wirecap with pools "
          "of %s chunks of 64 frames per queue; the plain AF_XDP loop with 2048-entry rings%s." % (
              " and ".join(filter(None, [", ".join(c[4:] for c in pools[:-1]), pools[-1][4:] if pools else ""])),
              " and with rings of {:,.0f} entries (as large as the largest pool)".format(big_rings[0]) if big_rings else ""))
        w("")
        table(w, burst, order, xlabel="L (packets)")
        for x, pts in burst.items():
            s = []
            for c in order:
                if c in pts:
                    p = pts[c]
                    hwm = p.field("hwm")
                    s.append("%s %s%s" % (name(c), p.fmt(), (" (pool high-water %d frames/queue)" % hwm) if hwm == hwm and hwm > 0 else ""))
            big = [c for c in ("wc-p64", "wc-p256", "wc-p1024") if c in pts and pts[c].med("drop") < 0.1]
            w("- L = %s: %s. Pools that held the whole burst (no engine drop): %s." % (
                x, "; ".join(s), ", ".join(name(c) for c in big) or "none"))
            for c in (top, "afxdp"):
                if c in pts:
                    w("  Limit for %s: %s." % (name(c), limit(pts[c], 300)))
        w("")
        if burst:
            lastx = list(burst)[-1]
            pts = burst[lastx]
            if top in pts and "afxdp" in pts:
                glance.append("**Bursts**: a burst of %s packets at 300 kpps with 3 us of work per packet: wirecap with "
                              "%s captured %.1f%%, the plain AF_XDP loop %.1f%% with 2048 rings%s." % (
                                  lastx, name(top).split("pool ")[-1], pts[top].med(), pts["afxdp"].med(),
                                  (" and %.1f%% with rings as large as the pool" % pts["afxdp-big"].med()) if "afxdp-big" in pts else ""))

    # ---- 4. imbalance
    imb = group(read_tsv(os.path.join(a.raw, "imbalance.tsv")))
    if imb:
        cats = list(imb)
        keys = [(x, c) for x in cats for c in ("wc-b", "wc-a") if c in imb[x]]
        series = [(lbl, [(imb[x][c].med(w_), imb[x][c].lo(w_), imb[x][c].hi(w_)) for x, c in keys])
                  for lbl, w_ in (("captured", "cap"), ("dropped in the engine (pool exhausted)", "drop"),
                                  ("lost before XDP (kernel receive path)", "pre"))]
        bars_plot(plot, "imbalance.png", "Long-term imbalance over 4 queues: 100 kpps, 4 workers of 40 kpps each",
                  "% of sent", ["%s, offloading %s" % (x, "on" if c == "wc-a" else "off") for x, c in keys], series,
                  yrange="[0:110]", xlabel="share of the traffic per queue (RSS imbalance), offloading off / on")
        w("## 4. Long-term imbalance: offloading off and on")
        w("")
        w("![imbalance](bench/imbalance.png)")
        w("")
        w("100 kpps over 4 queues in the proportions shown (RSS gone wrong), 4 workers, each spending 25 us per packet "
          "(a sleep per chunk, so four workers fit on two CPUs): one worker sustains 40 kpps, the four together 160 "
          "kpps. Pool of %s frames per queue. Without offloading the home worker of the heavy queue falls behind for "
          "good and its backlog outgrows the pool; with it, the monitor moves flow buckets to idle workers." %
          "{:,.0f}".format(next(iter(next(iter(imb.values())).values())).field("pool_frames")))
        w("")
        w("| queues | consumer | captured | bucket moves | converged (s after the first packet) | packets out of order per flow |")
        w("| --- | --- | --- | --- | --- | --- |")
        for x in cats:
            for c in ("wc-b", "wc-a"):
                if c in imb[x]:
                    p = imb[x][c]
                    conv = p.field("converged_s")
                    w("| %s | %s | %s | %.0f | %s | %.0f |" % (x, name(c), p.fmt(), p.field("moves"),
                                                             "%.2f" % conv if conv == conv and conv >= 0 else "-",
                                                             p.field("reordered")))
        w("")
        for x in cats:
            pts = imb[x]
            if "wc-a" in pts and "wc-b" in pts:
                A, B = pts["wc-a"], pts["wc-b"]
                conv = A.field("converged_s")
                w("- %s: offloading on captured %s against %s off (%s); %d bucket moves, the last %s after the first "
                  "packet. Limit with offloading off: %s; on: %s." % (
                      x, A.fmt(), B.fmt(),
                      "within the spread" if overlap(A, B) else "%+.1f points, %.2fx" % (A.med() - B.med(), A.med() / B.med() if B.med() else float("inf")),
                      A.field("moves"), ("%.2f s" % conv) if conv == conv and conv >= 0 else "never (no move)",
                      limit(B), limit(A)))
                w("  Dropped in the engine (pool exhausted: the overloaded worker's backlog outgrew the pool): "
                  "%.1f%% of sent with offloading off, %.1f%% on; lost before XDP (the kernel's receive path): "
                  "%.1f%% off, %.1f%% on." % (B.med("drop"), A.med("drop"), B.med("pre"), A.med("pre")))
                glance.append("**Imbalance %s**: offloading on captured %.1f%%, off %.1f%% (x%.2f); dropped in the "
                              "engine %.1f%% on against %.1f%% off, lost before XDP %.1f%% on against %.1f%% off." % (
                                  x, A.med(), B.med(), A.med() / B.med() if B.med() else float("inf"),
                                  A.med("drop"), B.med("drop"), A.med("pre"), B.med("pre")))
        w("")
        # the monitor at work
        ts = None
        for f in ("timeseries.100-0-0-0.tsv", "timeseries.70-10-10-10.tsv"):
            if os.path.exists(os.path.join(a.raw, f)) and os.path.getsize(os.path.join(a.raw, f)):
                ts = f
                break
        if ts:
            rows = [list(map(float, l.split("\t"))) for l in open(os.path.join(a.raw, ts)) if l.strip()]
            t0 = rows[0][0]
            nw = (len(rows[0]) - 1) // 2
            # a sample taken after the engine stopped has its counters reset
            # (moves back to 0): the series ends before it
            for i in range(1, len(rows)):
                if sum(rows[i][2 + 2 * k] for k in range(nw)) < sum(rows[i - 1][2 + 2 * k] for k in range(nw)):
                    rows = rows[:i]
                    break
            m0 = sum(rows[0][2 + 2 * i] for i in range(nw))
            data = ["%g %s %g" % ((r[0] - t0) / 1e9, " ".join("%g" % r[1 + 2 * i] for i in range(nw)),
                                  sum(r[2 + 2 * i] for i in range(nw)) - m0) for r in rows]
            d = plot.data("timeline.dat", data)
            parts = ['"%s" using 1:%d with lines lw 2 title "worker %d backlog"' % (d, 2 + i, i) for i in range(nw)]
            parts.append('"%s" using 1:%d axes x1y2 with steps lw 2 dt 2 lc rgb "black" title "bucket moves (cumulative)"' % (d, 2 + nw))
            plot.run("offload-timeline.png",
                     'set title "%s"\nset xlabel "time since the monitor was first sampled (s)"\n'
                     'set ylabel "backlog (frames: RX ring + held chunks)"\nset y2label "bucket moves"\n'
                     "set ytics nomirror\nset y2tics\nset yrange [0:*]\nset y2range [0:*]\nplot %s\n" % (
                         plot.title("Offloading at work: queues %s, 4 workers, offloading on (wirecap stats every 100 ms)"
                                    % ts[len("timeseries."):-4].replace("-", "/"), one_run=True), ", \\\n  ".join(parts)))
            peak = [max(r[1 + 2 * i] for r in rows) for i in range(nw)]
            moves = rows[-1][1:]
            w("![offloading over time](bench/offload-timeline.png)")
            w("")
            w("The monitor at work (queues %s, the first run with offloading; `wirecap stats --json --watch 0.1`): "
              "peak backlog per worker %s frames; %d bucket moves in all over %.1f s." % (
                  ts[len("timeseries."):-4].replace("-", "/"), ", ".join("%d" % p for p in peak),
                  sum(moves[1 + 2 * i] for i in range(nw)) - m0, (rows[-1][0] - t0) / 1e9))
            w("")

    # ---- 5. zipf
    zr = read_tsv(os.path.join(a.raw, "zipf.tsv"))
    zipf = group(zr)
    if zipf:
        x = next(iter(zipf))
        pts = zipf[x]
        order = [c for c in ("wc-b", "wc-a", "fanout-hash", "fanout-roll") if c in pts]

        def reo(p):
            v = [100.0 * int(r["reordered"]) / max(1, int(r["got"])) for r in p.rows]
            return (statistics.median(v), min(v), max(v))

        short = {"wc-b": "wirecap, offload off", "wc-a": "wirecap, offload on", "fanout-hash": "fanout hash",
                 "fanout-roll": "fanout rollover"}
        bars_plot(plot, "zipf.png", "Skewed flow sizes (Zipf %s, 1024 flows) over 4 workers of 40 kpps, 110 kpps offered" % x,
                  "% of sent (out of order: % of captured)", [short[c] for c in order],
                  [("captured", [(pts[c].med(), pts[c].lo(), pts[c].hi()) for c in order]),
                   ("dropped by the consumer (pool / ring full)", [(pts[c].med("drop"), pts[c].lo("drop"), pts[c].hi("drop")) for c in order]),
                   ("lost before XDP / the socket", [(pts[c].med("pre"), pts[c].lo("pre"), pts[c].hi("pre")) for c in order]),
                   ("out of order within its flow", [reo(pts[c]) for c in order])], yrange="[0:110]",
                  xlabel="consumer (4 worker threads each, same buffer size in packets)")
        # the buffers as the run sized them (pool frames per queue, the same for every consumer)
        pf = next(iter(pts.values())).field("pool_frames")
        w("## 5. Skewed flow sizes over 4 workers: wirecap against AF_PACKET fanout")
        w("")
        w("![zipf](bench/zipf.png)")
        w("")
        w("1024 flows whose sizes follow a Zipf distribution with exponent %s (`wirecap gen --zipf %s`: a few heavy "
          "hitters among many small flows), 110 kpps; 4 workers/threads of 25 us per packet (a sleep per chunk or "
          "block: 40 kpps each, 160 kpps together). wirecap spreads flows with `--steer flow` (a static flow hash, as "
          "fanout hash does), with and without offloading. Buffers hold the same number of packets for all: "
          "wirecap's pool {pf:,.0f} frames per queue ({tot:,.0f}), the fanout rings 160 bytes x {tot:,.0f} (a 64-byte "
          "frame takes 160 bytes of a TPACKET_V3 block), so that an overloaded worker shows as loss within the run "
          "rather than only as delay.".format(pf=pf, tot=4 * pf) % (x, x))
        w("")
        w("| consumer | captured | per-worker packets (median run) | out of order within its flow | flow switches between workers |")
        w("| --- | --- | --- | --- | --- |")
        for c in order:
            p = pts[c]
            mid = sorted(p.rows, key=lambda r: int(r["got"]))[len(p.rows) // 2]
            r = reo(p)
            w("| %s | %s | %s | %.2f%% (%s packets) | %.0f |" % (name(c), p.fmt(), mid["per_worker"].replace(",", " / "),
                                                             r[0], mid["reordered"], p.field("flow_switches")))
        w("")
        if "wc-a" in pts:
            s = compare(pts, "wc-a", ["wc-b", "fanout-hash", "fanout-roll"])
            w("- wirecap with offloading captured %s: %s." % (pts["wc-a"].fmt(), "; ".join(s)))
            glance.append("**Skewed flows (Zipf %s)**: wirecap with offloading %.1f%%, without %.1f%%, fanout hash %.1f%%, "
                          "fanout rollover %.1f%% with %.2f%% of its packets out of order within their flow." % (
                              x, pts["wc-a"].med(), pts["wc-b"].med() if "wc-b" in pts else float("nan"),
                              pts["fanout-hash"].med() if "fanout-hash" in pts else float("nan"),
                              pts["fanout-roll"].med() if "fanout-roll" in pts else float("nan"),
                              reo(pts["fanout-roll"])[0] if "fanout-roll" in pts else float("nan")))
        for c in order:
            w("- %s: limit: %s." % (name(c), limit(pts[c])))
        if "fanout-roll" in pts:
            r = reo(pts["fanout-roll"])
            w("- Rollover reorders: %.2f%% of the packets it captured arrived after a later packet of their flow had "
              "been processed by another thread (%.2f-%.2f%% over the runs); fanout hash %.2f%%, wirecap %.2f%% "
              "(offloading moves a bucket only after its worker has drained it)." % (
                  r[0], r[1], r[2], reo(pts["fanout-hash"])[0] if "fanout-hash" in pts else float("nan"),
                  reo(pts["wc-a"])[0] if "wc-a" in pts else float("nan")))
        w("")

    # ---- 6. forward (tests/bench/forward.sh)
    fw = read_tsv(os.path.join(a.raw, "forward.tsv"))
    lat = read_tsv(os.path.join(a.raw, "forward_latency.tsv"))
    if fw:
        with_machine(plot, meta_only, "forward", forward_section, w, glance, plot, fw, lat, separate(meta_only, "forward"))

    # ---- 7. start-up (tests/bench/startup.sh)
    st = read_tsv(os.path.join(a.raw, "startup.tsv"))
    if st:
        startup_section(w, glance, st, separate(meta_only, "startup"))

    # ---- 8. tcpdump (tests/bench/tcpdump.sh)
    td = read_tsv(os.path.join(a.raw, "tcpdump.tsv"))
    if td:
        with_machine(plot, meta_only, "tcpdump", tcpdump_section, w, glance, plot, td, separate(meta_only, "tcpdump"))

    # ---- 9. filters (tests/bench/filter.sh)
    fs = read_tsv(os.path.join(a.raw, "filter.share.tsv"))
    fc = read_tsv(os.path.join(a.raw, "filter.cost.tsv"))
    if fs or fc:
        with_machine(plot, meta_only, "filter", filter_section, w, glance, plot, fs, fc, separate(meta_only, "filter"))

    missing = [n for n, f in (("forwarding", "forward.tsv"), ("forwarding latency", "forward_latency.tsv"),
                              ("start-up", "startup.tsv"), ("tcpdump", "tcpdump.tsv"),
                              ("filters", "filter.share.tsv"))
               if not os.path.exists(os.path.join(a.raw, f))]
    if missing:
        w("Not measured in this run (no raw results): %s." % ", ".join(missing))
        w("")

    # ---- reproduce, method
    w("## Method and reproduction")
    w("")
    w("```")
    w("make bench            # full: every experiment, %s" % ("3 runs per point" if quick else "%d runs per point" % meta["repeat"]))
    w("make bench QUICK=1    # a smoke subset (1 run per point, fewer points), the same report, in build/bench-quick/")
    w("tests/bench/report.py # the report again from docs/bench/raw")
    w("```")
    w("")
    w("tests/bench/run.sh runs the consumers one after the other on the same veth pair and the same `wirecap gen` "
      "command line, the order rotated between rounds; every run is one line of docs/bench/raw/<experiment>.tsv "
      "(sent, generator rate, captured, lost before XDP, dropped by the consumer, reordering, bucket moves, time "
      "to converge, pool high-water, per-worker packets), meta.json has the machine and the load. "
      "tests/bench/report.py computes everything above from those files. Earlier hand-written results are in "
      "[bench/history.md](bench/history.md).")
    w("")

    text = "\n".join(md) + "\n"
    if glance:
        gl = "## At a glance\n\n" + "\n".join("- " + g for g in glance) + "\n"
    else:
        gl = ""
    text = text.replace("GLANCE\n", gl)
    with open(os.path.join(a.out, "benchmarks.md"), "w") as f:
        f.write(text)
    shutil.rmtree(tmp, ignore_errors=True)
    print("report: wrote %s and %s" % (os.path.join(a.out, "benchmarks.md"),
                                       ", ".join(os.path.join(figdir, p) for p in plot.made)))


def table(w, grp, order, xlabel):
    cons = [c for c in order if any(c in pts for pts in grp.values())]
    w("| %s | generator kpps | %s |" % (xlabel, " | ".join(name(c) for c in cons)))
    w("| --- | --- |%s" % (" --- |" * len(cons)))
    for x, pts in grp.items():
        gens = [p.med("gen") for p in pts.values()]
        w("| %s | %.0f-%.0f | %s |" % (x, min(gens), max(gens), " | ".join(pts[c].fmt() if c in pts else "-" for c in cons)))
    w("")


def veth_note(w, grp):
    """Why the AF_XDP consumers lose before XDP where libpcap does not, when
    the numbers show it."""
    af, pc = [], []
    for pts in grp.values():
        for c in ("wc", "afxdp-big"):
            if c in pts:
                af.append(pts[c].med("pre"))
        for c in ("pcap", "pcap-big"):
            if c in pts:
                pc.append(pts[c].med("pre"))
    if af and pc and statistics.median(af) > 2 and statistics.median(af) > 3 * statistics.median(pc):
        w("The AF_XDP consumers with large rings lost a median %.1f%% of the packets before XDP, libpcap %.1f%%: on "
          "veth, XDP copies every frame into a page before AF_XDP (copy mode) copies it again into the UMEM, and the "
          "sender's AF_XDP TX completion runs on the receiving CPU too, so each packet delivered into AF_XDP costs "
          "the capture CPU more kernel time than AF_PACKET's path (which also slows the generator). A NIC with "
          "native XDP and zero-copy AF_XDP does not pay these copies; this figure compares the engines on the veth "
          "path only." % (statistics.median(af), statistics.median(pc)))
        w("")


def best_gap(glance, grp, exp, what):
    """One line: where wirecap is furthest ahead of the best baseline, and
    where it is behind or equal."""
    ahead, behind = None, []
    for x, pts in grp.items():
        if "wc" not in pts:
            continue
        bl = [c for c in BASELINES if c in pts]
        if not bl:
            continue
        best = max(bl, key=lambda c: pts[c].med())
        d = pts["wc"].med() - pts[best].med()
        if ahead is None or d > ahead[0]:
            ahead = (d, x, best, pts["wc"].med(), pts[best].med())
        if d < 0.5:
            behind.append("%s %s: %.1f%% vs %s %.1f%%" % (exp, x, pts["wc"].med(), name(best), pts[best].med()))
    if ahead:
        unit = {"rate": " kpps", "cost": " ns"}.get(exp, "") if ahead[1] != "max" else ""
        glance.append("**%s**: %s at %s%s: wirecap %.1f%%, the best baseline there %.1f%% (%s, %+.1f points)." % (
            what[0].upper() + what[1:],
            "wirecap's largest lead over the best baseline" if ahead[0] >= 0.5 else "wirecap is ahead of the best baseline nowhere; its best point",
            ahead[1], unit, ahead[3], ahead[4], name(ahead[2]), ahead[0]))
    if behind:
        glance.append("Behind or equal to the best baseline (%s): %s." % (what, "; ".join(behind)))


# ---- the scripts with their own set-up ----------------------------------------------


def separate(meta_only, exp):
    """A sentence when EXP's rows come from a later partial run (BENCH_ONLY)."""
    if not meta_only or exp not in meta_only.get("only", "").split():
        return ""
    return ("Measured in a separate partial run (`BENCH_ONLY=\"%s\"`) on %s UTC, load average %s at its start and %s "
            "at its end, commit %s. " % (
                meta_only["only"], time.strftime("%Y-%m-%d %H:%M", time.gmtime(meta_only["t_start"])),
                meta_only["load_start"].split()[0], meta_only["load_end"].split()[0], meta_only["commit"]))


def with_machine(plot, meta_only, exp, fn, *args):
    """fn(*args) with the partial run's machine line in the figures' titles
    when EXP's rows come from it"""
    keep = plot.machine
    if meta_only and exp in meta_only.get("only", "").split():
        plot.machine = plot.machine_only
    try:
        fn(*args)
    finally:
        plot.machine = keep


def mmm(v):
    """(median, min, max) of a non-empty list"""
    return (statistics.median(v), min(v), max(v))


def fmt_mmm(v, f="%.0f", unit=""):
    if not v:
        return "-"
    m, lo, hi = mmm(v)
    if len(v) > 1:
        return (f + "%s [" + f + "-" + f + "]") % (m, unit, lo, hi)
    return (f + "%s") % (m, unit)


def num(r, k):
    try:
        return float(r[k])
    except (KeyError, TypeError, ValueError):
        return None


FWD = ("wirecap", "xdp", "bridge")


def paired_ratios(at_max, paced):
    """Run i's rate at the maximum over run i's paced rate, when forward.sh
    ran every rate within each run (the raw file says so: runs_outer)."""
    p = {r["run"]: float(r["fwd_kpps"]) for r in paced}
    return [float(r["fwd_kpps"]) / p[r["run"]] for r in at_max
            if r.get("order") == "runs_outer" and p.get(r["run"])]


def forward_section(w, glance, plot, fw, lat, sep):
    g = {}
    for r in fw:
        g.setdefault(r["x"], {}).setdefault(r["forwarder"], []).append(r)
    # x: the rates asked of the generator as categories, unpaced last (on
    # a loaded machine it reaches less than asked: the table has its rates)
    series = {}
    xs = list(g)
    for i, (x, d) in enumerate(g.items()):
        for m, rows in d.items():
            series.setdefault(m, []).append((i, ) + mmm([float(r["fwd_kpps"]) for r in rows]))
    xt = ", ".join('"%s" %d' % ("unpaced (max)" if x == "max" else x, i) for i, x in enumerate(xs))
    lines_plot(plot, "forward.png", "Forwarding: packets/s out of a one-CPU middlebox vs offered (64 B frames, veth)",
               "offered rate asked of the generator (kpps; the rate it reached is in the table)",
               "forwarded (kpps, counted at the receiver)",
               [(m, name(m), series[m]) for m in FWD if m in series],
               yrange="[0:*]", extra="set xtics (%s)\nset xrange [-0.3:%g]\n" % (xt, len(xs) - 0.7))
    w("## 6. Forwarding")
    w("")
    w("![forwarding](bench/forward.png)")
    w("")
    w("%stests/bench/forward.sh: client -> veth -> middlebox (one CPU) -> veth -> server (XDP_DROP for the "
      "generator's UDP, counting); forwarded pps measured at the server in the steady part of each run; `wirecap "
      "forward` with its defaults (a backlog bounded by a latency budget, overload shed in XDP). The table gives "
      "what was forwarded of what the generator reached (median kpps, min-max of the runs)." % sep)
    w("")
    acct = any(r.get("received") not in (None, "", "-") for r in fw)
    w("| offered | " + " | ".join(name(m) for m in FWD) + (" | wirecap: received / forwarded / shed / dropped (median run) |" if acct else " |"))
    w("| --- | --- | --- | --- |" + (" --- |" if acct else ""))
    med = {}
    for x, d in g.items():
        cells = []
        for m in FWD:
            rows = d.get(m, [])
            if rows:
                v = [float(r["fwd_kpps"]) for r in rows]
                med[x, m] = statistics.median(v)
                off = statistics.median(float(r["offered_kpps"]) for r in rows)
                cells.append("%.0f of %.0f kpps%s" % (med[x, m], off, " [%.0f-%.0f]" % (min(v), max(v)) if len(v) > 1 else ""))
            else:
                cells.append("-")
        if acct:
            rows = [r for r in d.get("wirecap", []) if num(r, "received") is not None]
            if rows:
                mid = sorted(rows, key=lambda r: float(r["fwd_kpps"]))[len(rows) // 2]
                cells.append(" / ".join("{:,.0f}".format(num(mid, k)) for k in ("received", "forwarded", "shed", "dropped")))
            else:
                cells.append("-")
        w("| %s | %s |" % ("unpaced (max)" if x == "max" else x + " kpps", " | ".join(cells)))
    w("")
    for x, d in g.items():
        if all(m in d for m in FWD):
            off = statistics.median(float(r["offered_kpps"]) for r in d["wirecap"])
            w("- %s: wirecap forwarded %.0f kpps (%.0f%% of the %.0f offered), %.2fx XDP_REDIRECT (%.0f kpps) and "
              "%.2fx the bridge (%.0f kpps)." % (
                  "unpaced" if x == "max" else "at %s kpps" % x, med[x, "wirecap"],
                  100 * med[x, "wirecap"] / off if off else 0, off,
                  med[x, "wirecap"] / med[x, "xdp"] if med[x, "xdp"] else 0, med[x, "xdp"],
                  med[x, "wirecap"] / med[x, "bridge"] if med[x, "bridge"] else 0, med[x, "bridge"]))
            if x != "max" and off < 0.9 * float(x):
                w("  The generator reached only %.0f of the %s kpps asked: at this rate the sender's CPU, not the "
                  "middlebox, set the offered load." % (off, x))
            if x == "max":
                low = [m for m in d if statistics.median(float(r["offered_kpps"]) for r in d[m]) <
                       0.5 * max(statistics.median(float(r["offered_kpps"]) for r in d[n]) for n in d)]
                if low:
                    w("  Unpaced, the generator reached less than half its best rate against %s: on veth the "
                      "receiving side's work slows the sender (its TX completion and the veth ring), so these "
                      "forwarders did not see the same offered load." % ", ".join(name(m) for m in low))
    paced = [x for x in g if x != "max" and (x, "wirecap") in med]
    if ("max", "wirecap") in med and paced:
        best = max(paced, key=lambda x: med[x, "wirecap"])
        r1 = med["max", "wirecap"] / med[best, "wirecap"] if med[best, "wirecap"] else 0
        r2 = med["max", "wirecap"] / med["max", "bridge"] if med.get(("max", "bridge")) else 0
        pr = paired_ratios(g["max"]["wirecap"], g[best]["wirecap"])
        if pr:
            # the headline: each run's maximum against the same run's best
            # paced point, minutes apart at most (forward.sh's run order)
            rp = statistics.median(pr)
            vs_paced = ("**%.2fx** its rate at the best paced point (%s kpps offered; the median over %d runs of "
                        "each run's unpaced rate over its own rate there, which ranged %.2f-%.2f: %s), %.2fx as a "
                        "ratio of the medians (%.0f kpps paced)," % (
                            rp, best, len(pr), min(pr), max(pr), "met" if rp >= 0.9 else "not met", r1,
                            med[best, "wirecap"]))
            r1 = rp
        else:
            vs_paced = "**%.2fx** its best paced median (%.0f kpps at %s kpps offered: %s)" % (
                r1, med[best, "wirecap"], best, "met" if r1 >= 0.9 else "not met")
        w("- Under overload (issue 15's targets: >= 0.9x its own best paced rate, >= 0.5x the bridge): at the "
          "generator's maximum wirecap forward moved %.0f kpps, %s and **%.2fx** the bridge at the maximum (%s)." % (
              med["max", "wirecap"], vs_paced, r2, "met" if r2 >= 0.5 else "not met"))
        glance.append("**Forwarding**: at the generator's maximum wirecap forward moved %.0f kpps, %.2fx its best "
                      "paced rate and %.2fx a Linux bridge (%.0f kpps); in-kernel XDP_REDIRECT %.0f kpps." % (
                          med["max", "wirecap"], r1, r2, med.get(("max", "bridge"), 0), med.get(("max", "xdp"), 0)))
    rows = [r for r in fw if r["forwarder"] == "wirecap" and num(r, "received")]
    if rows:
        exact = [r for r in rows if num(r, "forwarded") + num(r, "shed") + num(r, "dropped") + (num(r, "dropped_by_rule") or 0)
                 + (num(r, "passed") or 0) == num(r, "received")]
        shed = [100 * num(r, "shed") / num(r, "received") for r in rows if r["x"] == "max"]
        w("- Accounting (forward's own counters, direction client -> server): forwarded + dropped by rule + dropped + "
          "shed + passed == received "
          "in %d of %d runs%s." % (len(exact), len(rows),
                                         "; unpaced, %s of what arrived was shed in XDP (median, min-max)" % fmt_mmm(shed, "%.1f", "%") if shed else ""))
    w("")
    if lat:
        lg = {}
        for r in lat:
            lg.setdefault(r["forwarder"], []).append(r)
        cats = [m for m in ("wirecap", "bridge") if m in lg]

        def vals(m, k):
            return [float(r[k]) for r in lg[m] if r[k] not in ("-", "")]
        ok = [m for m in cats if vals(m, "p50_ms")]
        if ok:
            bars_plot(plot, "forward-latency.png",
                      "Latency through the middlebox: ping RTT while %s pps of 64 B frames pass" % lg[ok[0]][0]["gen_pps"],
                      "round-trip time (ms, log scale)", [name(m) + (" --bidir" if m == "wirecap" else "") for m in ok],
                      [("p50", [mmm(vals(m, "p50_ms")) for m in ok]), ("p99", [mmm(vals(m, "p99_ms")) for m in ok])],
                      yrange="[0.01:*]", extra="set logscale y", xlabel="forwarder")
            w("![forwarding latency](bench/forward-latency.png)")
            w("")
        w("Latency: ping RTT client -> server -> client through the middlebox both ways (`wirecap forward --bidir`, "
          "the bridge), one ping every 2 ms while the generator offers %s pps; p50 and p99 of each run, the "
          "median of the runs with min-max." % lg[cats[0]][0]["gen_pps"])
        w("")
        w("| forwarder | p50 (ms) | p99 (ms) | pings lost |")
        w("| --- | --- | --- | --- |")
        for m in cats:
            w("| %s | %s | %s | %s of %s per run |" % (name(m), fmt_mmm(vals(m, "p50_ms"), "%.3f"),
                                                     fmt_mmm(vals(m, "p99_ms"), "%.3f"),
                                                     fmt_mmm([float(r["lost"]) for r in lg[m]]), lg[m][0]["pings"]))
        w("")
        if "wirecap" in ok and "bridge" in ok:
            pw, pb = statistics.median(vals("wirecap", "p99_ms")), statistics.median(vals("bridge", "p99_ms"))
            p5w, p5b = statistics.median(vals("wirecap", "p50_ms")), statistics.median(vals("bridge", "p50_ms"))
            w("- wirecap forward's p50 is %.2fx the bridge's (%.3f against %.3f ms), its p99 %.2fx (%.3f against "
              "%.3f ms)." % (p5w / p5b if p5b else 0, p5w, p5b, pw / pb if pb else 0, pw, pb))
            w("")
            glance.append("Latency through the middlebox (ping RTT at %s pps): wirecap forward p50 %.3f ms / p99 %.3f "
                          "ms, the bridge %.3f / %.3f ms." % (lg["wirecap"][0]["gen_pps"], p5w, pw, p5b, pb))


def startup_section(w, glance, st, sep):
    wall = [float(r["wall_ms"]) for r in st if r["wall_ms"] not in ("-", "")]
    cpu = [float(r["cpu_ms"]) for r in st if r["cpu_ms"] not in ("-", "")]
    w("## 7. Start-up time of the default capture engine")
    w("")
    w("%stests/bench/startup.sh: `wirecap capture -i IF -w /dev/null` with the default pool (4 queues x 200,000 "
      "frames, 1.5 GiB) on a 4-queue veth not attached before (the XDP program is loaded too), from launch to its "
      "`--ready-file`; the CPU time is the engine's user + system time until then (less sensitive to a loaded "
      "machine than the wall time). Each start begins once the last one's pinned pages are released (the kernel frees "
      "an AF_XDP UMEM in deferred work after its process exits). docs/pool.md says where the time goes." % sep)
    w("")
    w("| runs | wall time to ready (ms) | CPU time to ready (ms) | load average at each run |")
    w("| --- | --- | --- | --- |")
    w("| %d | %s | %s | %s |" % (len(st), fmt_mmm(wall), fmt_mmm(cpu), ", ".join(r.get("load1", "-") for r in st)))
    w("")
    if wall:
        m = statistics.median(wall)
        w("- Median %.0f ms from launch to ready: %s issue 15's target of 1 s on this machine%s." % (
            m, "within" if m <= 1000 else "above",
            "" if m <= 1000 or not cpu or statistics.median(cpu) > 1000 else
            " (its own CPU time, %.0f ms, is within it: the rest is waiting for a CPU on the loaded machine)" % statistics.median(cpu)))
        w("")
        glance.append("**Start-up**: the default engine (1.5 GiB pool) is ready %.0f ms after launch (median; %s ms "
                      "of CPU)." % (m, "%.0f" % statistics.median(cpu) if cpu else "-"))


TD_NAMES = {"wirecap": "tcpdump through wirecap", "pcap-B": "tcpdump -B (pool-sized)", "pcap": "tcpdump (default buffer)"}
TD_COLORS = {"wirecap": "#d62728", "pcap-B": "#8c564b", "pcap": "#2ca02c"}


def tcpdump_section(w, glance, plot, td, sep):
    g = {}
    for r in td:
        g.setdefault(r["scenario"], {}).setdefault(r["consumer"], []).append(r)

    def cap(rows):
        return [100.0 * float(r["captured"]) / float(r["sent"]) for r in rows if float(r["sent"])]
    r0 = td[0]
    scen_label = {
        "burst": "burst of %s at max, -w tmpfs" % "{:,}".format(int(r0["burst"])),
        "cost": "%s pps, -nn -v decode+print" % "{:,}".format(int(r0["rate_pps"])),
    }
    scens = [s for s in ("burst", "cost") if s in g]
    cons = [c for c in ("wirecap", "pcap-B", "pcap") if any(c in g[s] for s in scens)]
    bars_plot(plot, "tcpdump.png", "Unmodified tcpdump: through wirecap vs on AF_PACKET",
              "captured (% of sent)", [scen_label[s] for s in scens],
              [(TD_NAMES[c], [mmm(cap(g[s][c])) if c in g[s] else (0, 0, 0) for s in scens]) for c in cons],
              yrange="[0:110]", xlabel="scenario (traffic into tcpdump)")
    kib = next((r["buffer_kib"] for r in td if r["consumer"] == "pcap-B"), "-")
    w("## 8. tcpdump through wirecap against tcpdump on AF_PACKET")
    w("")
    w("![tcpdump](bench/tcpdump.png)")
    w("")
    w(
      "%stests/bench/tcpdump.sh: the same unmodified tcpdump, `wirecap exec -- tcpdump -i wirecap:IF` (pool of "
      "%s frames per queue) against `tcpdump -i IF -B %s` (a buffer of as many bytes as that pool) and with "
      "libpcap's default 2 MiB buffer. Burst: the generator's maximum into `-w` on tmpfs; cost: a paced second "
      "into `-nn -v` (decoding and printing each packet is tcpdump's own per-packet cost). Captured = tcpdump's "
      "\"packets captured\" / packets sent, after tcpdump has handled what its buffer held. Equal bytes are not "
      "equal packets: TPACKET_V3 packs a 64-byte frame in about 100 bytes of a block, wirecap's UMEM takes a "
      "2 KiB frame per packet, so `-B` holds about 16x more of these packets." % (
          sep, "{:,}".format(int(r0["pool_frames"])), kib))
    w("")
    w("| scenario | " + " | ".join(TD_NAMES[c] for c in cons) + " |")
    w("| --- |" + " --- |" * len(cons))
    for s in scens:
        w("| %s | %s |" % (scen_label[s], " | ".join(fmt_mmm(cap(g[s][c]), "%.1f", "%") if c in g[s] else "-" for c in cons)))
    w("")
    for s in scens:
        if "wirecap" not in g[s]:
            continue
        me = statistics.median(cap(g[s]["wirecap"]))
        parts = []
        for c in ("pcap-B", "pcap"):
            if c in g[s] and cap(g[s][c]):
                o = statistics.median(cap(g[s][c]))
                d = me - o
                parts.append("%s %s (%.1f%%%s)" % (
                    "equal to" if abs(d) < 0.5 else ("%.1f points ahead of" % d if d > 0 else "%.1f points behind" % -d),
                    TD_NAMES[c], o, ", %.2fx" % (me / o) if o > 0 and abs(d) >= 0.5 else ""))
        w("- %s: tcpdump through wirecap captured %.1f%%: %s." % (scen_label[s], me, "; ".join(parts)))
        sent = statistics.median(float(r["sent"]) for r in g[s]["wirecap"])
        pool = 4 * float(r0["pool_frames"])
        if me < 99 and sent > pool:
            w("  Limit: tcpdump handled fewer packets per second than arrived, so what it could not handle at once "
              "had to wait in the buffer: %s packets were sent, wirecap's pool holds %s (4 queues), the `-B` buffer "
              "about 16x more packets of this size." % ("{:,.0f}".format(sent), "{:,.0f}".format(pool)))
        glance.append("**tcpdump** (%s): through wirecap %.1f%%, %s." % (
            scen_label[s], me, ", ".join("%s %.1f%%" % (TD_NAMES[c], statistics.median(cap(g[s][c])))
                                         for c in ("pcap-B", "pcap") if c in g[s] and cap(g[s][c]))))
    w("")


FILTER_NAMES = {"xdp": "wirecap, filter in XDP", "user": "wirecap, filter in user space",
                "tcpdump": "tcpdump on AF_PACKET (filter in the kernel)"}


def filter_section(w, glance, plot, fs, fc, sep):
    w("## 9. Filters in XDP")
    w("")
    g = {}
    for r in fs:
        g.setdefault(r["consumer"], []).append(r)

    def share(rows):
        return [100.0 * float(r["captured"]) / float(r["matching"]) for r in rows if float(r["matching"])]
    cons = [c for c in ("xdp", "user", "tcpdump") if c in g]
    if cons:
        expr = fs[0]["expr"]
        bars_plot(plot, "filter.png", "Filter '%s' (1 flow of 64) on a burst at the generator's maximum" % expr,
                  "matching packets captured (%)", [FILTER_NAMES[c] for c in cons],
                  [("captured", [mmm(share(g[c])) for c in cons])], yrange="[0:110]", xlabel="consumer")
        w("![filters](bench/filter.png)")
        w("")
        w("%stests/bench/filter.sh: a burst of %s packets of 64 flows at the generator's maximum; the filter '%s' "
          "matches one flow (%s packets). Captured = packets in the file / matching packets sent; the sending "
          "veth's drops (before any consumer, all flows) and the consumer's own drops are medians per run." % (
              sep, "{:,}".format(int(fs[0]["sent"])), expr, "{:,}".format(int(fs[0]["matching"]))))
        w("")
        w("| consumer | matching captured | dropped by the sending veth (all flows) | dropped by the consumer |")
        w("| --- | --- | --- | --- |")
        for c in cons:
            w("| %s | %s | %s | %s |" % (FILTER_NAMES[c], fmt_mmm(share(g[c]), "%.1f", "%"),
                                         fmt_mmm([float(r["veth_drop"]) for r in g[c]]),
                                         fmt_mmm([float(r["cons_drop"]) for r in g[c]])))
        w("")
        if "xdp" in g:
            me = statistics.median(share(g["xdp"]))
            parts = []
            for c in ("user", "tcpdump"):
                if c in g:
                    o = statistics.median(share(g[c]))
                    parts.append("%s %.1f%%%s" % (FILTER_NAMES[c], o, " (%.2fx)" % (me / o) if o > 0 else ""))
            w("- With the filter in XDP wirecap captured %.1f%% of the matching packets; %s." % (me, "; ".join(parts)))
            glance.append("**Filters**: '%s' in XDP captured %.1f%% of the matching packets of a burst; %s." % (
                expr, me, "; ".join(parts)))
    if fc:
        w("")
        w("The XDP program's cost per packet (kernel.bpf_stats_enabled: run_time_ns / run_cnt of the attached "
          "program, filter tail calls included) at %s pps with no consumer:" % fc[0]["rate_pps"])
        w("")
        w("| filter | cBPF instructions | ns per packet | packets counted |")
        w("| --- | --- | --- | --- |")
        base = next((float(r["ns_per_packet"]) for r in fc if r["filter"] == "none"), 0)
        for r in fc:
            w("| %s | %s | %.1f%s | %s |" % (r["expr"] if r["expr"] != "-" else "none", r["insns"],
                                            float(r["ns_per_packet"]),
                                            " (%.2fx)" % (float(r["ns_per_packet"]) / base) if base and r["filter"] != "none" else "",
                                            r["steer_cnt"]))
    w("")


if __name__ == "__main__":
    main()
