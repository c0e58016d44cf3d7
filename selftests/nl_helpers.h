/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The iommu_reg generic netlink family spoken raw, for the selftests:
 * resolve the family, send hand-built requests, collect replies and the
 * extended ack.  Shared by netlink_test and fail_nth_test.
 */
#ifndef NL_HELPERS_H
#define NL_HELPERS_H

#include <linux/genetlink.h>
#include <linux/iommu_reg_netlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include "reg_helpers.h"

#define BUFSZ	65536

struct nl {
	int fd;
	uint16_t family;
	uint32_t events_group;
	uint32_t seq;
	char buf[BUFSZ];
	int err;		/* errno of the last NLMSG_ERROR */
	char msg[256];		/* its extended ack, if any */
};

static inline struct nlattr *nla_put(struct nlmsghdr *nlh, uint16_t type,
				     const void *data, uint16_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)nlh +
					     NLMSG_ALIGN(nlh->nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(a->nla_len);
	return a;
}

static inline struct nlmsghdr *msg_start(struct nl *nl, char *buf,
					 uint16_t type,
					  uint16_t flags, uint8_t cmd)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct genlmsghdr *g = NLMSG_DATA(nlh);

	memset(buf, 0, 256);
	nlh->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	g->cmd = cmd;
	g->version = 1;
	return nlh;
}

static inline int nl_send(struct nl *nl, struct nlmsghdr *nlh)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	return sendto(nl->fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&sa,
		      sizeof(sa)) == (ssize_t)nlh->nlmsg_len ? 0 : -1;
}

/* Parse an NLMSG_ERROR into nl->err and nl->msg. */
static inline void nl_error(struct nl *nl, struct nlmsghdr *nlh)
{
	struct nlmsgerr *e = NLMSG_DATA(nlh);
	size_t off = sizeof(*e);
	struct nlattr *a;

	nl->err = -e->error;
	nl->msg[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	for (a = (struct nlattr *)((char *)e + off);
	     (char *)a + NLA_HDRLEN <= (char *)nlh + nlh->nlmsg_len &&
	     a->nla_len >= NLA_HDRLEN;
	     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len)))
		if (a->nla_type == NLMSGERR_ATTR_MSG)
			snprintf(nl->msg, sizeof(nl->msg), "%s",
				 (char *)a + NLA_HDRLEN);
}

typedef void (*nl_cb)(struct nlmsghdr *nlh, void *arg);

/*
 * Receive until the request is done (its ACK, or NLMSG_DONE for a dump):
 * 0 with every reply passed to @cb, or -1 with nl->err set from the
 * kernel's NLMSG_ERROR.  Requests ask for an ACK, so none is left queued
 * to be mistaken for the next request's answer.
 */
static inline int nl_recv(struct nl *nl, nl_cb cb, void *arg)
{
	nl->err = 0;
	for (;;) {
		ssize_t n = recv(nl->fd, nl->buf, BUFSZ, 0);
		struct nlmsghdr *nlh;

		if (n < 0)
			return -1;
		for (nlh = (struct nlmsghdr *)nl->buf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				nl_error(nl, nlh);
				return nl->err ? -1 : 0;
			}
			if (cb)
				cb(nlh, arg);
		}
	}
}

#define NLA_FOR_EACH(a, start, len)					\
	for (a = (start); (len) >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN; \
	     (len) -= NLA_ALIGN(a->nla_len),				\
	     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len)))
#define NLA_DATA(a)	((void *)((char *)(a) + NLA_HDRLEN))

/* The family id and the id of its "events" multicast group. */
static inline void family_cb(struct nlmsghdr *nlh, void *arg)
{
	struct genlmsghdr *g = NLMSG_DATA(nlh);
	int len = nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	struct nl *nl = arg;
	struct nlattr *a, *grp, *f;

	NLA_FOR_EACH(a, (struct nlattr *)((char *)g + GENL_HDRLEN), len) {
		int glen = a->nla_len - NLA_HDRLEN;

		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			nl->family = *(uint16_t *)NLA_DATA(a);
		if ((a->nla_type & NLA_TYPE_MASK) != CTRL_ATTR_MCAST_GROUPS)
			continue;
		NLA_FOR_EACH(grp, (struct nlattr *)NLA_DATA(a), glen) {
			int flen = grp->nla_len - NLA_HDRLEN;
			uint32_t id = 0;
			bool events = false;

			NLA_FOR_EACH(f, (struct nlattr *)NLA_DATA(grp), flen) {
				if (f->nla_type == CTRL_ATTR_MCAST_GRP_ID)
					id = *(uint32_t *)NLA_DATA(f);
				if (f->nla_type == CTRL_ATTR_MCAST_GRP_NAME)
					events = !strcmp(NLA_DATA(f),
							 IOMMU_REG_GENL_MCGRP_EVENTS);
			}
			if (events)
				nl->events_group = id;
		}
	}
}

/*
 * A generic netlink socket with extended acks, and the request for the
 * family's number sent on it: the start of nl_open(), whose callers
 * read the answer with family_cb() and check it with nl_family_found().
 */
static inline int nl_open_request(struct nl *nl)
{
	char buf[256];
	struct nlmsghdr *nlh;
	int one = 1;

	memset(nl, 0, sizeof(*nl));
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (nl->fd < 0)
		return -1;
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	nlh = msg_start(nl, buf, GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY);
	nla_put(nlh, CTRL_ATTR_FAMILY_NAME, IOMMU_REG_GENL_NAME,
		sizeof(IOMMU_REG_GENL_NAME));
	return nl_send(nl, nlh);
}

static inline int nl_family_found(struct nl *nl)
{
	return nl->family && nl->events_group ? 0 : -1;
}

static inline int nl_open(struct nl *nl)
{
	if (nl_open_request(nl) || nl_recv(nl, family_cb, nl))
		return -1;
	return nl_family_found(nl);
}

/* Send a hand-built request, collect replies; 0 or -1 with nl->err. */
static inline int nl_request(struct nl *nl, struct nlmsghdr *nlh, nl_cb cb,
			     void *arg)
{
	if (nl_send(nl, nlh))
		return -1;
	return nl_recv(nl, cb, arg);
}

/* An attribute of a reply, by type (top level). */
static inline struct nlattr *attr(struct nlmsghdr *nlh, uint16_t type)
{
	struct genlmsghdr *g = NLMSG_DATA(nlh);
	struct nlattr *a = (struct nlattr *)((char *)g + GENL_HDRLEN);
	int len = nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);

	for (; len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN;
	     len -= NLA_ALIGN(a->nla_len),
	     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len)))
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
	return NULL;
}

#define ATTR_U32(nlh, t)	(*(uint32_t *)((char *)attr(nlh, t) + NLA_HDRLEN))
#define ATTR_U64(nlh, t)	(*(uint64_t *)((char *)attr(nlh, t) + NLA_HDRLEN))

/* The containers of one process in the admin view, as a dump shows them. */
struct nl_containers {
	int nr;
	uint32_t id[8];
	uint32_t iommu_type[8];	/* 0: the attribute was missing */
};

static inline void nl_containers_cb(struct nlmsghdr *nlh, void *arg)
{
	struct nl_containers *cs = arg;

	if (!attr(nlh, IOMMU_REG_A_CONTAINER_ID))
		return;
	if (cs->nr < 8) {
		cs->id[cs->nr] = ATTR_U32(nlh, IOMMU_REG_A_CONTAINER_ID);
		cs->iommu_type[cs->nr] = attr(nlh, IOMMU_REG_A_IOMMU_TYPE) ?
			ATTR_U32(nlh, IOMMU_REG_A_IOMMU_TYPE) : 0;
	}
	cs->nr++;
}

/* Dump the containers of @pid; 0 or -1 with nl->err. */
static inline int nl_dump_containers(struct nl *nl, uint32_t pid,
				     struct nl_containers *cs)
{
	char buf[256];
	struct nlmsghdr *nlh = msg_start(nl, buf, nl->family, NLM_F_DUMP,
					 IOMMU_REG_CMD_CONTAINER_GET);

	memset(cs, 0, sizeof(*cs));
	nla_put(nlh, IOMMU_REG_A_PID, &pid, sizeof(pid));
	return nl_request(nl, nlh, nl_containers_cb, cs);
}

/* How many of @cs were opened with @iommu_type. */
static inline int nl_containers_of_type(const struct nl_containers *cs,
					uint32_t iommu_type)
{
	int i, n = 0;

	for (i = 0; i < cs->nr && i < 8; i++)
		n += cs->iommu_type[i] == iommu_type;
	return n;
}

#endif /* NL_HELPERS_H */
