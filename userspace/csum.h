/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Completing the TCP/UDP checksums a host stack left to "hardware". */
#ifndef WIRECAP_CSUM_H
#define WIRECAP_CSUM_H

#include <stdbool.h>
#include <linux/types.h>

/*
 * A host stack behind a veth (containers, VMs) hands TCP and UDP with
 * CHECKSUM_PARTIAL: the checksum field holds only the folded sum of the
 * pseudo-header, and the NIC is meant to finish it. AF_XDP sees those bytes
 * as they are; forwarded unchanged, the far end drops them.
 *
 * If the field of an Ethernet frame's TCP or UDP header (IPv4, or IPv6
 * with hop-by-hop, routing and destination-options headers; up to two VLAN
 * tags) holds exactly that pseudo-header sum, write the full checksum, as
 * the NIC would have. Completing never changes a packet whose checksum is
 * already right: for such a packet the completed value equals the field
 * (see csum.c). Returns true when the frame was changed.
 */
bool wc_csum_complete(void *frame, __u32 len);

#endif
