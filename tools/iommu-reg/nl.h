/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The tool's side of the iommu_reg generic netlink family (libnl-genl-3).
 */
#ifndef NL_H
#define NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netlink/attr.h>
#include <linux/iommu_reg_netlink.h>

struct tool;
struct nl_sock;

struct nl_conn {
	struct nl_sock *sock;
	int family;
	int err;			/* errno of the last failure */
	char errmsg[256];		/* the kernel's extended ack, if any */
};

/* Open and resolve the family; an exit code (the message printed). */
int nl_conn_open(struct nl_conn *nl);
void nl_conn_close(struct nl_conn *nl);

/*
 * Called for every reply or event with its parsed attributes: 0 to go on,
 * > 0 to stop (success), < 0 to stop with exit code -ret.
 */
typedef int (*nl_conn_cb)(struct nlattr **tb, uint8_t cmd, void *arg);

/*
 * Send @cmd (a dump when @dump) with optional u32 filters (0: absent) and
 * call @cb for every reply with its parsed attributes.  An exit code; the
 * failure is printed.
 */
int nl_conn_request(struct nl_conn *nl, uint8_t cmd, bool dump,
		    uint32_t container, uint32_t pid, nl_conn_cb cb, void *arg);

/* Join the events group and call @cb for each event until it returns
 * non-zero; an exit code. */
int nl_conn_listen(struct nl_conn *nl, nl_conn_cb cb, void *arg);

/*
 * A show verb: parse the filters "pid PID" and (@by_container) "container
 * ID", dump @cmd with them and call @cb(..., @arg) for each message, then
 * @end(@arg) when not NULL (an object that spans messages closes there),
 * inside one JSON array; an exit code.
 */
int nl_show(struct tool *t, uint8_t cmd, nl_conn_cb cb, void *arg,
	    void (*end)(void *arg), bool by_container);

/*
 * An attribute as a value of the output: @key in JSON, @label (or @key)
 * and the value in text; how to read it is nl.c's policy for @attr.
 */
struct nl_field {
	int attr;
	const char *key;
	unsigned int flags;
	const char *label;
};

#define NL_FIELD(a, k, f)	{ .attr = (a), .key = (k), .flags = (f) }
#define NL_FIELD_ZERO	(1U << 0)	/* absent: print 0, not nothing */
#define NL_FIELD_HEX	(1U << 1)	/* print as 0x... */

void print_field(struct nlattr **tb, const struct nl_field *f);
void print_fields(struct nlattr **tb, const struct nl_field *f, size_t n);
/* print_field() of NL_FIELD(@attr, @key, @flags). */
void print_attr(struct nlattr **tb, int attr, const char *key,
		unsigned int flags);
/* The container, pid and comm an object belongs to; the region's handle,
 * vaddr and size when @region. */
void print_owner(struct nlattr **tb, bool region);

#endif /* NL_H */
