// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Capture privileges of programs that drop the others.
 *
 * dumpcap (Wireshark 4.0), started as root, keeps only CAP_NET_RAW and
 * CAP_NET_ADMIN with libcap's cap_set_proc before it opens a device. A
 * wirecap engine needs more to capture: CAP_BPF (the pinned maps),
 * CAP_PERFMON (loading the XDP program when it attaches) and CAP_IPC_LOCK
 * (the UMEM is locked memory). When a program keeps CAP_NET_RAW (its
 * capture privilege) and was started to capture on a "wirecap:" device
 * (its command line names one), this keeps those three as well, in the
 * same sets and only if the process has them: nothing is ever added that
 * the program did not hold. Every other cap_set_proc is libcap's.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wcpcap.h"

/* libcap's ABI (libcap.so.2; its header is not needed to build) */
typedef void *wcp_cap_t;
enum { CAPF_EFFECTIVE, CAPF_PERMITTED, CAPF_INHERITABLE };
enum { CAPV_CLEAR, CAPV_SET };
typedef int (*cap_get_flag_fn)(wcp_cap_t, int, int, int *);
typedef int (*cap_set_flag_fn)(wcp_cap_t, int, int, const int *, int);

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool have_cap(int cap)
{
	struct __user_cap_header_struct hd = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &hd, d))
		return false;
	return d[cap / 32].permitted & (1u << (cap % 32));
}

/* does the command line name a wirecap: device? */
static bool wirecap_program(void)
{
	char buf[8192];
	ssize_t n;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	for (ssize_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	buf[n] = '\0';
	return strstr(buf, WCP_PREFIX) != NULL;
}

static void keep_capture_caps(wcp_cap_t caps)
{
	static const int extra[] = { CAP_BPF, CAP_PERFMON, CAP_IPC_LOCK };
	cap_get_flag_fn get =
		(cap_get_flag_fn)dlsym(RTLD_DEFAULT, "cap_get_flag");
	cap_set_flag_fn set =
		(cap_set_flag_fn)dlsym(RTLD_DEFAULT, "cap_set_flag");
	int v;

	if (!get || !set || get(caps, CAP_NET_RAW, CAPF_PERMITTED, &v) ||
	    v != CAPV_SET || !wirecap_program())
		return;
	for (int f = CAPF_EFFECTIVE; f <= CAPF_INHERITABLE; f++) {
		if (get(caps, CAP_NET_RAW, f, &v) || v != CAPV_SET)
			continue;
		for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
			if (have_cap(extra[i]))
				set(caps, f, 1, &extra[i], CAPV_SET);
	}
}

WCP_EXPORT int cap_set_proc(wcp_cap_t caps)
{
	static int (*real)(wcp_cap_t);

	if (!real)
		real = (int (*)(wcp_cap_t))wcp_real("cap_set_proc");
	if (caps)
		keep_capture_caps(caps);
	return real(caps);
}
