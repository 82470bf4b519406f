/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* libwirecap-xdp internals: not part of the ABI. */
#ifndef WIRECAP_INTERNAL_H
#define WIRECAP_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wirecap/wirecap.h"

#define WC_API __attribute__((visibility("default")))

#define WC_DEFAULT_PIN_ROOT "/sys/fs/bpf/wirecap"

void wc_pr(enum wc_print_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define pr_warn(fmt, ...) wc_pr(WC_WARN, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) wc_pr(WC_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) wc_pr(WC_DEBUG, fmt, ##__VA_ARGS__)

/* options struct access, as libbpf's OPTS_GET: a field beyond the caller's
 * sz reads as zero, so old binaries keep working with a newer library */
#define WC_OPTS_HAS(opts, field)                                    \
	((opts) && (opts)->sz >= offsetof(typeof(*(opts)), field) + \
					 sizeof((opts)->field))
#define WC_OPTS_GET(opts, field, def) \
	(WC_OPTS_HAS(opts, field) ? (opts)->field : (def))
/* Options structs from callers built against another version of the
 * header, as libbpf's OPTS_VALID: a struct smaller than the library's
 * reads its missing fields as zero (WC_OPTS_GET); a larger one is accepted
 * only when the fields the library does not know are all zero, since a
 * non-zero one asks for something this version cannot do. Each public
 * function taking options checks them first and fails with EINVAL. */
/* not inlined: the caller's struct may be larger than the compiler sees */
static __attribute__((unused, noinline)) bool
wc_opts_valid(const void *opts, size_t known_sz, const char *type)
{
	const size_t user_sz = *(const size_t *)opts;
	const char *p = opts;

	if (user_sz < sizeof(size_t)) {
		pr_warn("struct %s: sz %zu is too small (declare it with WC_OPTS())\n",
			type, user_sz);
		return false;
	}
	for (size_t i = known_sz; i < user_sz; i++) {
		if (p[i]) {
			pr_warn("struct %s: a field this library does not know (offset %zu, beyond its %zu bytes) is set: library too old\n",
				type, i, known_sz);
			return false;
		}
	}
	return true;
}

#define WC_OPTS_VALID(opts, type) \
	(!(opts) || wc_opts_valid((opts), sizeof(struct type), #type))

/* Sized output structs (wirecap.h): the caller's struct holds at least
 * its sz */
#define WC_OUT_VALID(out) ((out) && (out)->sz >= sizeof((out)->sz))
/* Fill the caller's sized struct @out (WC_OUT_VALID) from @body, the
 * library's fields that follow sz (body_sz bytes): at most what the
 * caller's sz holds, the rest of its sz zeroed, its sz kept. Not inlined:
 * the caller's struct may be larger than the compiler sees. */
static __attribute__((unused, noinline)) void
wc_out_put(void *out, const void *body, size_t body_sz)
{
	const size_t room = *(const size_t *)out - sizeof(size_t);
	char *dst = (char *)out + sizeof(size_t);

	memcpy(dst, body, room < body_sz ? room : body_sz);
	if (room > body_sz)
		memset(dst + body_sz, 0, room - body_sz);
}
/* the same from a filled struct of the caller's type (its sz ignored) */
#define WC_OUT_PUT(out, ours)                                    \
	wc_out_put((out), (const char *)(ours) + sizeof(size_t), \
		   sizeof(*(ours)) - sizeof(size_t))

/* the attachment internals shared with the engine */
struct wc_iface {
	char ifname[16];
	int ifindex;
	char pin_root[200];
	char pin_dir[256];
	int prog_fd;
	int link_fd; /* transient attachment: the BPF link holding it, or -1 */
	int map_fd[WC_MAP_COUNT];
	struct wc_config cfg; /* as read at open/attach */
	int ncpus;
};

const char *wc_pin_root(const char *pin_root);
int wc_ensure_bpffs(const char *root);
uint64_t wc_netns_ino(void);
/* pin directory name of an interface and back ('.' -> %2e, '%' -> %25) */
int wc_pin_name_encode(char *buf, size_t len, const char *ifname);
int wc_pin_name_decode(char *buf, size_t len, const char *name);
/* the program this handle uses, and the one attached to its interface in
 * the same mode now (0: none) */
__u32 wc_iface_prog_id(const struct wc_iface *ifc);
__u32 wc_iface_attached_id(const struct wc_iface *ifc);
int wc_config_validate(const struct wc_config *cur, const struct wc_config *n);
/* the XDP program's counters in their map layouts, summed over CPUs (what
 * wc_iface__queue_stats / bucket_stats translate) */
int wc_iface_queue_sums(const struct wc_iface *ifc, __u32 queue,
			struct wc_queue_stats *out);
int wc_iface_bucket_sums(const struct wc_iface *ifc,
			 struct wc_bucket_stats *out, size_t n);
/* the published engine info to the caller's sized struct */
void wc_engine_info_put(struct wc_iface_engine_info *out,
			const struct wc_engine_info *ei, bool alive);

static inline int wc_is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

#endif
