// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Classic BPF -> eBPF for XDP, as raw instructions (no compiler at run
 * time). The classic machine maps onto eBPF like this:
 *   A -> r4, X -> r5 (32-bit values: every ALU op is a 32-bit one, which
 *   zero-extends), M[0..15] -> 16 words at fp-64, ctx -> r6,
 *   data -> r7, data_end -> r8; r2/r3 are scratch.
 * Every packet load is checked against data_end first: out of bounds
 * rejects the packet, as classic BPF does; values are read big-endian
 * (network order), as classic BPF does. Division or modulo by zero
 * rejects the packet (libpcap's interpreter returns 0). Shifts by 32 or
 * more give 0 (eBPF would mask the count).
 *
 * What XDP cannot serve is refused by name: ancillary loads (SKF_AD_*:
 * they read skb fields an XDP frame does not have) and the negative
 * SKF_NET_OFF / SKF_LL_OFF offsets; backward jumps (libpcap emits them
 * for `ip6 protochain`), which the verifier would have to unroll.
 */
#include <errno.h>
#include <stdarg.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <bpf/bpf.h>

#include "filter.h"
#include "wirecap/wc_layout.h"

#define R0 BPF_REG_0
#define R1 BPF_REG_1
#define R2 BPF_REG_2
#define R3 BPF_REG_3
#define RA BPF_REG_4 /* classic A */
#define RX BPF_REG_5 /* classic X */
#define RCTX BPF_REG_6
#define RDATA BPF_REG_7
#define REND BPF_REG_8
#define RFP BPF_REG_10

#define MEM_OFF(i) (-64 + 4 * (int)(i)) /* M[i] on the stack */
#define KEY0_OFF (-68)
#define KEY1_OFF (-72)
#define MAX_PKT_OFF 0xffff /* an XDP frame's data is shorter */

enum label { L_NONE, L_PC, L_ACCEPT, L_REJECT };

struct fixup {
	size_t at; /* eBPF instruction whose off is patched */
	enum label to;
	size_t pc; /* L_PC: classic instruction */
};

struct tr {
	struct bpf_insn *insn;
	size_t n, cap;
	struct fixup *fix;
	size_t nfix, capfix;
	int nomem;
	char *err;
	size_t errlen;
};

static struct bpf_insn ins(__u8 code, __u8 dst, __u8 src, __s16 off, __s32 imm)
{
	struct bpf_insn i = {
		.code = code,
		.dst_reg = dst,
		.src_reg = src,
		.off = off,
		.imm = imm,
	};

	return i;
}

static size_t emit(struct tr *t, struct bpf_insn i)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct bpf_insn *p = realloc(t->insn, cap * sizeof(*p));

		if (!p) {
			t->nomem = 1;
			return t->n;
		}
		t->insn = p;
		t->cap = cap;
	}
	t->insn[t->n] = i;
	return t->n++;
}

/* a jump whose offset is patched once its target is known */
static void emit_jump(struct tr *t, struct bpf_insn i, enum label to, size_t pc)
{
	size_t at = emit(t, i);

	if (t->nfix == t->capfix) {
		size_t cap = t->capfix ? t->capfix * 2 : 256;
		struct fixup *p = realloc(t->fix, cap * sizeof(*p));

		if (!p) {
			t->nomem = 1;
			return;
		}
		t->fix = p;
		t->capfix = cap;
	}
	t->fix[t->nfix++] = (struct fixup){ .at = at, .to = to, .pc = pc };
}

#define MOV64_REG(d, s) ins(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV32_IMM(d, k) ins(BPF_ALU | BPF_MOV | BPF_K, d, 0, 0, k)
#define MOV32_REG(d, s) ins(BPF_ALU | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV64_IMM(d, k) ins(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, k)
#define ADD64_IMM(d, k) ins(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, k)
#define ADD64_REG(d, s) ins(BPF_ALU64 | BPF_ADD | BPF_X, d, s, 0, 0)
#define LDX(sz, d, s, off) ins(BPF_LDX | BPF_MEM | (sz), d, s, off, 0)
#define STX(sz, d, s, off) ins(BPF_STX | BPF_MEM | (sz), d, s, off, 0)
#define ST(sz, d, off, k) ins(BPF_ST | BPF_MEM | (sz), d, 0, off, k)
#define JA(off) ins(BPF_JMP | BPF_JA, 0, 0, off, 0)
#define JMP_IMM(op, d, k, off) ins(BPF_JMP | (op) | BPF_K, d, 0, off, k)
#define JMP32_IMM(op, d, k, off) ins(BPF_JMP32 | (op) | BPF_K, d, 0, off, k)
#define JMP32_REG(op, d, s, off) ins(BPF_JMP32 | (op) | BPF_X, d, s, off, 0)
#define JMP_REG(op, d, s, off) ins(BPF_JMP | (op) | BPF_X, d, s, off, 0)
#define CALL(fn) ins(BPF_JMP | BPF_CALL, 0, 0, 0, fn)
#define EXIT() ins(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static void emit_ld_map(struct tr *t, int reg, int fd)
{
	emit(t, ins(BPF_LD | BPF_DW | BPF_IMM, reg, BPF_PSEUDO_MAP_FD, 0, fd));
	emit(t, ins(0, 0, 0, 0, 0));
}

static int fail(struct tr *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct tr *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, t->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *skf_ad_name(__u32 off)
{
	static const char *const names[] = {
		[SKF_AD_PROTOCOL / 4] = "SKF_AD_PROTOCOL",
		[SKF_AD_PKTTYPE / 4] = "SKF_AD_PKTTYPE",
		[SKF_AD_IFINDEX / 4] = "SKF_AD_IFINDEX",
		[SKF_AD_NLATTR / 4] = "SKF_AD_NLATTR",
		[SKF_AD_NLATTR_NEST / 4] = "SKF_AD_NLATTR_NEST",
		[SKF_AD_MARK / 4] = "SKF_AD_MARK",
		[SKF_AD_QUEUE / 4] = "SKF_AD_QUEUE",
		[SKF_AD_HATYPE / 4] = "SKF_AD_HATYPE",
		[SKF_AD_RXHASH / 4] = "SKF_AD_RXHASH",
		[SKF_AD_CPU / 4] = "SKF_AD_CPU",
		[SKF_AD_ALU_XOR_X / 4] = "SKF_AD_ALU_XOR_X",
		[SKF_AD_VLAN_TAG / 4] = "SKF_AD_VLAN_TAG",
		[SKF_AD_VLAN_TAG_PRESENT / 4] = "SKF_AD_VLAN_TAG_PRESENT",
		[SKF_AD_PAY_OFFSET / 4] = "SKF_AD_PAY_OFFSET",
		[SKF_AD_RANDOM / 4] = "SKF_AD_RANDOM",
		[SKF_AD_VLAN_TPID / 4] = "SKF_AD_VLAN_TPID",
	};

	if (off % 4 == 0 && off / 4 < sizeof(names) / sizeof(names[0]) &&
	    names[off / 4])
		return names[off / 4];
	return "SKF_AD_(unknown)";
}

/* Negative classic offsets address what only a socket filter has. */
static int refuse_special(struct tr *t, size_t pc, __u32 k)
{
	if (k >= (__u32)SKF_AD_OFF)
		return fail(
			t,
			"instruction %zu: ancillary load %s (k=%#x) reads socket-buffer metadata that XDP does not have",
			pc, skf_ad_name(k - (__u32)SKF_AD_OFF), k);
	if (k >= (__u32)SKF_LL_OFF && k < (__u32)SKF_NET_OFF)
		return fail(
			t,
			"instruction %zu: SKF_LL_OFF-relative load (k=%#x) is not supported in XDP",
			pc, k);
	if (k >= (__u32)SKF_NET_OFF)
		return fail(
			t,
			"instruction %zu: SKF_NET_OFF-relative load (k=%#x) is not supported in XDP",
			pc, k);
	return 0;
}

static int size_bytes(__u16 code)
{
	switch (BPF_SIZE(code)) {
	case BPF_W:
		return 4;
	case BPF_H:
		return 2;
	case BPF_B:
		return 1;
	}
	return 0;
}

static __u8 ebpf_size(int bytes)
{
	return bytes == 4 ? BPF_W : bytes == 2 ? BPF_H : BPF_B;
}

/* dst = packet[X (ind) + k] of sz bytes, big-endian; out of bounds:
 * reject. */
static void emit_pkt_load(struct tr *t, int dst, bool ind, __u32 k, int sz)
{
	if (k > MAX_PKT_OFF - (__u32)sz) {
		/* X >= 0: past any frame XDP can see */
		emit_jump(t, JA(0), L_REJECT, 0);
		return;
	}
	emit(t, MOV64_REG(R2, RDATA));
	if (ind) {
		/* r3 = X + k, bounded before it touches the pointer, so the
		 * verifier can range-check the access */
		emit(t, MOV32_REG(R3, RX));
		emit(t, ADD64_IMM(R3, (__s32)k));
		emit_jump(t, JMP_IMM(BPF_JGT, R3, MAX_PKT_OFF - sz, 0),
			  L_REJECT, 0);
		emit(t, ADD64_REG(R2, R3));
	} else if (k) {
		emit(t, ADD64_IMM(R2, (__s32)k));
	}
	emit(t, MOV64_REG(R3, R2));
	emit(t, ADD64_IMM(R3, sz));
	emit_jump(t, JMP_REG(BPF_JGT, R3, REND, 0), L_REJECT, 0);
	emit(t, LDX(ebpf_size(sz), dst, R2, 0));
	if (sz > 1)
		emit(t, ins(BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, sz * 8));
}

static int tr_alu(struct tr *t, size_t pc, const struct wc_cbpf *c)
{
	__u8 op = BPF_OP(c->code);
	bool x = BPF_SRC(c->code) == BPF_X;

	switch (op) {
	case BPF_ADD:
	case BPF_SUB:
	case BPF_MUL:
	case BPF_AND:
	case BPF_OR:
	case BPF_XOR:
		if (x)
			emit(t, ins(BPF_ALU | op | BPF_X, RA, RX, 0, 0));
		else
			emit(t,
			     ins(BPF_ALU | op | BPF_K, RA, 0, 0, (__s32)c->k));
		return 0;
	case BPF_DIV:
	case BPF_MOD:
		if (x) {
			emit_jump(t, JMP32_IMM(BPF_JEQ, RX, 0, 0), L_REJECT, 0);
			emit(t, ins(BPF_ALU | op | BPF_X, RA, RX, 0, 0));
		} else if (c->k == 0) {
			emit_jump(t, JA(0), L_REJECT, 0);
		} else {
			emit(t,
			     ins(BPF_ALU | op | BPF_K, RA, 0, 0, (__s32)c->k));
		}
		return 0;
	case BPF_LSH:
	case BPF_RSH:
		if (x) {
			/* count >= 32: 0 (eBPF would mask the count) */
			emit(t, JMP32_IMM(BPF_JGT, RX, 31, 2));
			emit(t, ins(BPF_ALU | op | BPF_X, RA, RX, 0, 0));
			emit(t, JA(1));
			emit(t, MOV32_IMM(RA, 0));
		} else if (c->k >= 32) {
			/* libpcap's validator refuses it; interpreters
			 * disagree on what it gives */
			return fail(
				t,
				"instruction %zu: shift by constant %u (32 or more) is undefined in classic BPF",
				pc, c->k);
		} else {
			emit(t,
			     ins(BPF_ALU | op | BPF_K, RA, 0, 0, (__s32)c->k));
		}
		return 0;
	case BPF_NEG:
		emit(t, ins(BPF_ALU | BPF_NEG, RA, 0, 0, 0));
		return 0;
	}
	return fail(t, "instruction %zu: unsupported ALU operation (code %#x)",
		    pc, c->code);
}

static int tr_jmp(struct tr *t, size_t pc, size_t n, const struct wc_cbpf *c)
{
	__u8 op = BPF_OP(c->code);
	size_t jt = pc + 1 + c->jt, jf = pc + 1 + c->jf;

	if (op == BPF_JA) {
		if ((__s32)c->k < 0)
			return fail(
				t,
				"instruction %zu: backward jump (libpcap emits them for 'protochain'); XDP programs cannot loop here",
				pc);
		if (pc + 1 + (size_t)c->k >= n)
			return fail(
				t,
				"instruction %zu: jump past the end of the program",
				pc);
		emit_jump(t, JA(0), L_PC, pc + 1 + c->k);
		return 0;
	}
	if (op != BPF_JEQ && op != BPF_JGT && op != BPF_JGE && op != BPF_JSET)
		return fail(t, "instruction %zu: unsupported jump (code %#x)",
			    pc, c->code);
	if (jt >= n || jf >= n)
		return fail(t,
			    "instruction %zu: jump past the end of the program",
			    pc);
	if (jt == jf) {
		emit_jump(t, JA(0), L_PC, jt);
		return 0;
	}
	if (BPF_SRC(c->code) == BPF_X)
		emit_jump(t, JMP32_REG(op, RA, RX, 0), L_PC, jt);
	else
		emit_jump(t, JMP32_IMM(op, RA, (__s32)c->k, 0), L_PC, jt);
	if (jf != pc + 1)
		emit_jump(t, JA(0), L_PC, jf);
	return 0;
}

static int tr_one(struct tr *t, size_t pc, size_t n, const struct wc_cbpf *c)
{
	__u16 code = c->code;
	int sz = size_bytes(code);

	switch (BPF_CLASS(code)) {
	case BPF_LD:
		switch (BPF_MODE(code)) {
		case BPF_ABS:
		case BPF_IND:
			if (!sz)
				break;
			if (BPF_MODE(code) == BPF_ABS &&
			    refuse_special(t, pc, c->k))
				return -EINVAL;
			emit_pkt_load(t, RA, BPF_MODE(code) == BPF_IND, c->k,
				      sz);
			return 0;
		case BPF_IMM:
			emit(t, MOV32_IMM(RA, (__s32)c->k));
			return 0;
		case BPF_LEN:
			/* data_end - data: a scalar (privileged programs) */
			emit(t, MOV64_REG(RA, REND));
			emit(t,
			     ins(BPF_ALU64 | BPF_SUB | BPF_X, RA, RDATA, 0, 0));
			emit(t, MOV32_REG(RA, RA));
			return 0;
		case BPF_MEM:
			if (c->k >= 16)
				break;
			emit(t, LDX(BPF_W, RA, RFP, MEM_OFF(c->k)));
			return 0;
		}
		break;
	case BPF_LDX:
		switch (BPF_MODE(code)) {
		case BPF_IMM:
			emit(t, MOV32_IMM(RX, (__s32)c->k));
			return 0;
		case BPF_LEN:
			emit(t, MOV64_REG(RX, REND));
			emit(t,
			     ins(BPF_ALU64 | BPF_SUB | BPF_X, RX, RDATA, 0, 0));
			emit(t, MOV32_REG(RX, RX));
			return 0;
		case BPF_MEM:
			if (c->k >= 16)
				break;
			emit(t, LDX(BPF_W, RX, RFP, MEM_OFF(c->k)));
			return 0;
		case BPF_MSH:
			if (BPF_SIZE(code) != BPF_B)
				break;
			if (refuse_special(t, pc, c->k))
				return -EINVAL;
			emit_pkt_load(t, RX, false, c->k, 1);
			emit(t, ins(BPF_ALU | BPF_AND | BPF_K, RX, 0, 0, 0xf));
			emit(t, ins(BPF_ALU | BPF_LSH | BPF_K, RX, 0, 0, 2));
			return 0;
		}
		break;
	case BPF_ST:
	case BPF_STX:
		if (c->k >= 16)
			break;
		emit(t, STX(BPF_W, RFP, BPF_CLASS(code) == BPF_ST ? RA : RX,
			    MEM_OFF(c->k)));
		return 0;
	case BPF_ALU:
		return tr_alu(t, pc, c);
	case BPF_JMP:
		return tr_jmp(t, pc, n, c);
	case BPF_RET:
		if (BPF_RVAL(code) == BPF_K) {
			emit_jump(t, JA(0), c->k ? L_ACCEPT : L_REJECT, 0);
			return 0;
		}
		if (BPF_RVAL(code) == BPF_A) {
			emit_jump(t, JMP32_IMM(BPF_JEQ, RA, 0, 0), L_REJECT, 0);
			emit_jump(t, JA(0), L_ACCEPT, 0);
			return 0;
		}
		break;
	case BPF_MISC:
		if (BPF_MISCOP(code) == BPF_TAX) {
			emit(t, MOV32_REG(RX, RA));
			return 0;
		}
		if (BPF_MISCOP(code) == BPF_TXA) {
			emit(t, MOV32_REG(RA, RX));
			return 0;
		}
		break;
	}
	return fail(t,
		    "instruction %zu: unsupported classic BPF (code %#x k %#x)",
		    pc, code, c->k);
}

/* M[i] slots read anywhere get a zero first (the verifier refuses reads
 * of uninitialized stack; libpcap's interpreter zeroes its memory). */
static void emit_prologue(struct tr *t, const struct wc_cbpf *c, size_t n)
{
	bool read[16] = { false };

	emit(t, MOV64_REG(RCTX, R1));
	emit(t, LDX(BPF_W, RDATA, R1, offsetof(struct xdp_md, data)));
	emit(t, LDX(BPF_W, REND, R1, offsetof(struct xdp_md, data_end)));
	emit(t, MOV32_IMM(RA, 0));
	emit(t, MOV32_IMM(RX, 0));
	for (size_t i = 0; i < n; i++)
		if ((c[i].code == (BPF_LD | BPF_MEM) ||
		     c[i].code == (BPF_LDX | BPF_MEM)) &&
		    c[i].k < 16)
			read[c[i].k] = true;
	for (int i = 0; i < 16; i++)
		if (read[i])
			emit(t, ST(BPF_W, RFP, MEM_OFF(i), 0));
}

/* The test target: a verdict only. */
static void emit_verdicts(struct tr *t, const struct wc_filter_target *tg,
			  size_t *acc, size_t *rej)
{
	bool inv = tg && tg->invert;

	*acc = emit(t, MOV64_IMM(R0, inv ? XDP_DROP : XDP_PASS));
	emit(t, EXIT());
	*rej = emit(t, MOV64_IMM(R0, inv ? XDP_PASS : XDP_DROP));
	emit(t, EXIT());
}

/* The data path: a match goes on to the steering stage (tail call); a
 * packet filtered out is counted on its queue and gets the filter action
 * (config.filter_action, else the no-socket action). */
static void emit_steer_tail(struct tr *t, const struct wc_filter_target *tg,
			    size_t *acc, size_t *rej)
{
	size_t match, filtered, j_nocfg, j_have, j_nostats, j_pick, j_act;

	match = t->n;
	emit(t, MOV64_REG(R1, RCTX));
	emit_ld_map(t, R2, tg->progs_fd);
	emit(t, MOV32_IMM(R3, WC_FILTER_SLOT_STEER));
	emit(t, CALL(BPF_FUNC_tail_call));
	/* the steering stage is installed for as long as the program is
	 * attached: falling through here means it is not, so the packet
	 * cannot be delivered; it is counted as filtered below */

	filtered = t->n;
	emit(t, ST(BPF_W, RFP, KEY0_OFF, 0));
	emit_ld_map(t, R1, tg->config_fd);
	emit(t, MOV64_REG(R2, RFP));
	emit(t, ADD64_IMM(R2, KEY0_OFF));
	emit(t, CALL(BPF_FUNC_map_lookup_elem));
	emit(t, MOV64_IMM(RDATA, XDP_PASS));
	j_nocfg = emit(t, JMP_IMM(BPF_JEQ, R0, 0, 0));
	emit(t, LDX(BPF_W, R2, R0, offsetof(struct wc_config, filter_action)));
	j_pick = emit(t, JMP_IMM(BPF_JNE, R2, 0, 0));
	emit(t,
	     LDX(BPF_W, R2, R0, offsetof(struct wc_config, no_socket_action)));
	t->insn[j_pick].off = t->n - j_pick - 1;
	j_act = emit(t, JMP_IMM(BPF_JNE, R2, WC_ACT_DROP, 0));
	emit(t, MOV64_IMM(RDATA, XDP_DROP));
	j_have = t->n;
	t->insn[j_nocfg].off = j_have - j_nocfg - 1;
	t->insn[j_act].off = j_have - j_act - 1;
	/* queues from WC_MAX_QUEUES up share the last entry, as in the
	 * steering program */
	emit(t, LDX(BPF_W, R2, RCTX, offsetof(struct xdp_md, rx_queue_index)));
	emit(t, JMP_IMM(BPF_JLT, R2, WC_MAX_QUEUES, 1));
	emit(t, MOV64_IMM(R2, WC_MAX_QUEUES - 1));
	emit(t, STX(BPF_W, RFP, R2, KEY1_OFF));
	emit_ld_map(t, R1, tg->queue_stats_fd);
	emit(t, MOV64_REG(R2, RFP));
	emit(t, ADD64_IMM(R2, KEY1_OFF));
	emit(t, CALL(BPF_FUNC_map_lookup_elem));
	j_nostats = emit(t, JMP_IMM(BPF_JEQ, R0, 0, 0));
	emit(t, LDX(BPF_DW, R1, R0, offsetof(struct wc_queue_stats, filtered)));
	emit(t, ADD64_IMM(R1, 1));
	emit(t, STX(BPF_DW, R0, R1, offsetof(struct wc_queue_stats, filtered)));
	t->insn[j_nostats].off = t->n - j_nostats - 1;
	emit(t, MOV64_REG(R0, RDATA));
	emit(t, EXIT());

	*acc = tg->invert ? filtered : match;
	*rej = tg->invert ? match : filtered;
}

static int patch(struct tr *t, const size_t *start, size_t acc, size_t rej)
{
	for (size_t i = 0; i < t->nfix; i++) {
		const struct fixup *f = &t->fix[i];
		size_t to = f->to == L_PC     ? start[f->pc] :
			    f->to == L_ACCEPT ? acc :
						rej;
		long off = (long)to - (long)f->at - 1;

		if (off < -32768 || off > 32767)
			return fail(
				t,
				"program too long: a jump spans %ld eBPF instructions",
				off);
		t->insn[f->at].off = off;
	}
	return 0;
}

static bool is_jump(const struct bpf_insn *i)
{
	__u8 cls = BPF_CLASS(i->code), op = BPF_OP(i->code);

	return (cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL &&
	       op != BPF_EXIT;
}

/* The verifier refuses unreachable instructions: a classic instruction
 * no path reaches, a verdict never given, the end of a program that
 * always returns. Drop them and re-aim the jumps. */
static int compact(struct tr *t)
{
	size_t *newidx = calloc(t->n + 1, sizeof(*newidx));
	bool *reach = calloc(t->n, sizeof(*reach));
	size_t *stack = calloc(t->n, sizeof(*stack)), sp = 0, m = 0;

	if (!newidx || !reach || !stack) {
		free(newidx);
		free(reach);
		free(stack);
		return -ENOMEM;
	}
	stack[sp++] = 0;
	reach[0] = true;
	while (sp) {
		size_t i = stack[--sp], next[2];
		const struct bpf_insn *in = &t->insn[i];
		int nn = 0;

		if (in->code == (BPF_LD | BPF_DW | BPF_IMM)) {
			reach[i + 1] = true;
			next[nn++] = i + 2;
		} else if (is_jump(in)) {
			next[nn++] = i + 1 + in->off;
			if (BPF_OP(in->code) != BPF_JA)
				next[nn++] = i + 1;
		} else if (in->code != (BPF_JMP | BPF_EXIT)) {
			next[nn++] = i + 1;
		}
		for (int k = 0; k < nn; k++)
			if (next[k] < t->n && !reach[next[k]]) {
				reach[next[k]] = true;
				stack[sp++] = next[k];
			}
	}
	for (size_t i = 0; i < t->n; i++) {
		newidx[i] = m;
		m += reach[i];
	}
	newidx[t->n] = m;
	m = 0;
	for (size_t i = 0; i < t->n; i++) {
		struct bpf_insn in = t->insn[i];

		if (!reach[i])
			continue;
		if (is_jump(&in))
			in.off =
				(__s16)(newidx[i + 1 + in.off] - newidx[i] - 1);
		t->insn[m++] = in;
	}
	t->n = m;
	free(newidx);
	free(reach);
	free(stack);
	return 0;
}

int wc_filter_translate(const struct wc_cbpf *c, size_t n,
			const struct wc_filter_target *tg, void **insns,
			size_t *ninsns, char *err, size_t errlen)
{
	struct tr t = { .err = err, .errlen = errlen };
	size_t *start = NULL, acc, rej;
	int ret = 0;

	if (!c || !n)
		return fail(&t, "empty classic program");
	if (n > BPF_MAXINSNS)
		return fail(&t,
			    "classic program of %zu instructions (at most %d)",
			    n, BPF_MAXINSNS);
	start = calloc(n, sizeof(*start));
	if (!start)
		return -ENOMEM;
	emit_prologue(&t, c, n);
	for (size_t pc = 0; pc < n && !ret; pc++) {
		start[pc] = t.n;
		ret = tr_one(&t, pc, n, &c[pc]);
	}
	if (ret)
		goto out;
	/* falling off the end rejects, as in libpcap's interpreter */
	emit_jump(&t, JA(0), L_REJECT, 0);
	if (tg && tg->progs_fd >= 0)
		emit_steer_tail(&t, tg, &acc, &rej);
	else
		emit_verdicts(&t, tg, &acc, &rej);
	ret = t.nomem ? -ENOMEM : patch(&t, start, acc, rej);
	if (!ret)
		ret = compact(&t);
out:
	free(start);
	free(t.fix);
	if (ret) {
		free(t.insn);
		return ret;
	}
	*insns = t.insn;
	*ninsns = t.n;
	return 0;
}

/* the verifier's last line that is not its statistics */
static const char *last_line(char *log)
{
	char *end = log + strlen(log), *line;

	for (;;) {
		while (end > log && (end[-1] == '\n' || end[-1] == ' '))
			*--end = 0;
		line = strrchr(log, '\n');
		line = line ? line + 1 : log;
		if (line == log || (strncmp(line, "processed ", 10) &&
				    strncmp(line, "verification time", 17)))
			return line;
		end = line;
	}
}

int wc_filter_load(const void *insns, size_t ninsns, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_XDP);
	size_t loglen = 1 << 20;
	char *log;
	int fd, again;

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "wc_filter", "Dual BSD/GPL",
			   insns, ninsns, &o);
	if (fd >= 0)
		return fd;
	fd = -errno;
	/* again with the log: only a refused program pays for it */
	log = calloc(1, loglen);
	if (!log) {
		snprintf(err, errlen, "the kernel refused the filter: %s",
			 strerror(-fd));
		return fd;
	}
	o.log_buf = log;
	o.log_size = loglen;
	o.log_level = 1;
	again = bpf_prog_load(BPF_PROG_TYPE_XDP, "wc_filter", "Dual BSD/GPL",
			      insns, ninsns, &o);
	if (again >= 0)
		close(again);
	snprintf(err, errlen, "the kernel refused the filter: %s (%s)",
		 last_line(log), strerror(-fd));
	free(log);
	return fd;
}

int wc_filter_test_run(int prog_fd, const void *frame, size_t len,
		       __u32 *verdict)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .repeat = 1);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -errno;
	*verdict = o.retval;
	return 0;
}
