/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The attachment's internals, shared by its files (not part of the ABI):
 *   xdp.c          the XDP hook of an interface (query, attach, detach)
 *   pins.c         pin root, pin names, creating/opening/removing pins
 *   iface.c        the handle: open, close, detach
 *   attach.c       loading and attaching the program (wc_iface__attach)
 *   iface_config.c config and steering entries
 *   iface_stats.c  info and counters: the program's, the engine's published
 * Calls go one way only: attach -> iface -> pins -> xdp, config;
 * iface_stats -> xdp.
 */
#ifndef WIRECAP_IFACE_H
#define WIRECAP_IFACE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "internal.h"

struct wirecap_bpf;

/* xdp.c */
__u32 wc_prog_id_of_fd(int fd);
/* XDP program attached to ifindex (any mode) and the mode it is in */
__u32 wc_xdp_attached(int ifindex, enum wc_xdp_mode *mode);
/* the BPF link holding program prog_id, as an fd, or -ENOENT */
int wc_xdp_link_of(__u32 prog_id);
int wc_xdp_detach(int ifindex, __u32 flags, int prog_fd, __u32 prog_id);
/* in mode (auto: native, else generic); *got says which; link_fd != NULL:
 * through a BPF link held in *link_fd (transient) */
int wc_xdp_attach(int ifindex, int prog_fd, enum wc_xdp_mode mode,
		  __u32 replace_id, enum wc_xdp_mode *got, int *link_fd);

/* pins.c */
int wc_mkdir_p(const char *path, mode_t mode);
/* pin the skeleton's maps and program under dir (mode 0600) */
int wc_pins_create(struct wirecap_bpf *skel, const char *dir);
/* open ifc->pin_dir's pins: 0 live here, -ENOENT none, -ESTALE stale,
 * -EADDRINUSE a live interface of the same name in another netns */
int wc_pins_open(struct wc_iface *ifc);
void wc_pins_remove(const char *dir);
void wc_pins_say_stale(const struct wc_iface *ifc);
bool wc_pins_hold(const char *dir, __u32 prog_id);
/* serialize attach/detach of one pin root across processes: fd or -errno */
int wc_root_lock(const char *root);
void wc_root_unlock(int fd);

/* iface.c */
struct wc_iface *wc_iface_new(const char *ifname, const char *root);
void wc_iface_free(struct wc_iface *ifc);
void wc_iface_reset_fds(struct wc_iface *ifc);
int wc_check_caps(void);
int wc_check_ifname(const char *ifname);

/* iface_config.c */
int wc_config_read(int fd, struct wc_config *cfg);

#endif
