/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The tool's side of the iommu_reg generic netlink family (libnl-genl-3).
 */
#ifndef IREG_NL_H
#define IREG_NL_H

#include <stdbool.h>
#include <stdint.h>
#include <netlink/attr.h>
#include <linux/iommu_reg_netlink.h>

struct ireg;
struct nl_sock;

struct ireg_nl {
	struct nl_sock *sock;
	int family;
	int err;			/* errno of the last failure */
	char errmsg[256];		/* the kernel's extended ack, if any */
};

/* Open and resolve the family; an exit code (the message printed). */
int ireg_nl_open(struct ireg_nl *nl);
void ireg_nl_close(struct ireg_nl *nl);

/*
 * Called for every reply or event with its parsed attributes: 0 to go on,
 * > 0 to stop (success), < 0 to stop with exit code -ret.
 */
typedef int (*ireg_nl_cb)(struct nlattr **tb, uint8_t cmd, void *arg);

/*
 * Send @cmd (a dump when @dump) with optional u32 filters (0: absent) and
 * call @cb for every reply with its parsed attributes.  An exit code; the
 * failure is printed.
 */
int ireg_nl_request(struct ireg_nl *nl, uint8_t cmd, bool dump,
		    uint32_t container, uint32_t pid, ireg_nl_cb cb, void *arg);

/* Join the events group and call @cb for each event until it returns
 * non-zero; an exit code. */
int ireg_nl_listen(struct ireg_nl *nl, ireg_nl_cb cb, void *arg);

#endif /* IREG_NL_H */
