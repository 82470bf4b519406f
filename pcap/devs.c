// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* pcap_findalldevs: libpcap's list, then a "wirecap:IF" entry for every
 * Ethernet interface in it (what XDP and AF_XDP can serve), so that
 * `tcpdump -D` and `tshark -D` show them. The entries are malloc'ed as
 * libpcap's own are: pcap_freealldevs frees them. */
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wcpcap.h"

static bool is_ethernet(int fd, const char *name)
{
	struct ifreq ifr = { 0 };

	if (strlen(name) >= sizeof(ifr.ifr_name))
		return false;
	strcpy(ifr.ifr_name, name);
	return !ioctl(fd, SIOCGIFHWADDR, &ifr) &&
	       ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER;
}

int wcp_add_devs(pcap_if_t **alldevs, char *errbuf)
{
	pcap_if_t **tail = alldevs, *d, *added = NULL, **atail = &added;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0; /* nothing to add: libpcap's list stands */
	for (d = *alldevs; d; d = d->next) {
		pcap_if_t *n;

		tail = &d->next;
		if (wcp_is_name(d->name) || (d->flags & PCAP_IF_LOOPBACK) ||
		    !is_ethernet(fd, d->name))
			continue;
		n = calloc(1, sizeof(*n));
		if (!n || asprintf(&n->name, "%s%s", WCP_PREFIX, d->name) < 0 ||
		    asprintf(&n->description,
			     "wirecap: lossless XDP/AF_XDP capture on %s",
			     d->name) < 0) {
			free(n);
			snprintf(errbuf, PCAP_ERRBUF_SIZE,
				 "wirecap: out of memory");
			break;
		}
		n->flags = d->flags & (PCAP_IF_UP | PCAP_IF_RUNNING |
				       PCAP_IF_CONNECTION_STATUS);
		*atail = n;
		atail = &n->next;
	}
	close(fd);
	/* after libpcap's own: a program's default device does not change */
	*tail = added;
	return 0;
}
