/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One capability, looked at or lost for good, without libcap: for the
 * tests that check what a caller without it is refused.
 */
#ifndef TOOLS_CAPS_H
#define TOOLS_CAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>

static inline int caps_get(struct __user_cap_data_struct *data)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return syscall(SYS_capget, &hdr, data);
}

/* Whether @cap is in the effective set. */
static inline bool caps_effective(int cap)
{
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	return !caps_get(data) &&
	       (data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap));
}

/*
 * Lose @cap for good: the bounding set, then the effective, permitted and
 * inheritable sets.  0, or -1 with errno.
 */
static inline int caps_drop(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	unsigned int i = CAP_TO_INDEX(cap);
	uint32_t mask = CAP_TO_MASK(cap);

	if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) || caps_get(data))
		return -1;
	data[i].effective &= ~mask;
	data[i].permitted &= ~mask;
	data[i].inheritable &= ~mask;
	return syscall(SYS_capset, &hdr, data);
}

#endif /* TOOLS_CAPS_H */
