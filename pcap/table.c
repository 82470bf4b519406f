// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The side table: which pcap_t handles are wirecap's. Lookups are
 * lock-free (every pcap call on every handle asks, pcap_breakloop from a
 * signal handler too); adding and removing take a lock. */
#include <errno.h>

#include "wcpcap.h"

static struct {
	pcap_t *_Atomic key;
	struct wcp *_Atomic h;
} slots[WCP_MAX_HANDLES];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

struct wcp *wcp_find(pcap_t *p)
{
	if (!p)
		return NULL;
	for (unsigned i = 0; i < WCP_MAX_HANDLES; i++)
		if (atomic_load_explicit(&slots[i].key, memory_order_acquire) ==
		    p)
			return atomic_load_explicit(&slots[i].h,
						    memory_order_acquire);
	return NULL;
}

int wcp_add(struct wcp *h)
{
	int err = -EMFILE;

	pthread_mutex_lock(&table_lock);
	for (unsigned i = 0; i < WCP_MAX_HANDLES; i++) {
		if (atomic_load(&slots[i].key))
			continue;
		atomic_store(&slots[i].h, h);
		atomic_store_explicit(&slots[i].key, h->p,
				      memory_order_release);
		err = 0;
		break;
	}
	pthread_mutex_unlock(&table_lock);
	return err;
}

void wcp_del(struct wcp *h)
{
	pthread_mutex_lock(&table_lock);
	for (unsigned i = 0; i < WCP_MAX_HANDLES; i++) {
		if (atomic_load(&slots[i].key) != h->p)
			continue;
		atomic_store(&slots[i].key, NULL);
		atomic_store(&slots[i].h, NULL);
	}
	pthread_mutex_unlock(&table_lock);
}
