// SPDX-License-Identifier: GPL-2.0-only
/*
 * Netlink: requests, dumps and the event stream of the iommu_reg family,
 * with libnl-genl-3.  Errors the kernel explains with an extended ack are
 * reported in its words.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "ireg.h"
#include "nl.h"

/* Attribute types for nla_parse (lengths are checked by the kernel's
 * policy for requests; replies come from the kernel). */
static struct nla_policy ireg_nl_policy[IOMMU_REG_A_MAX + 1] = {
	[IOMMU_REG_A_STATS] = { .type = NLA_NESTED },
	[IOMMU_REG_A_CONTAINER_ID] = { .type = NLA_U32 },
	[IOMMU_REG_A_PID] = { .type = NLA_U32 },
	[IOMMU_REG_A_COMM] = { .type = NLA_STRING },
	[IOMMU_REG_A_UID] = { .type = NLA_U32 },
	[IOMMU_REG_A_GROUPS] = { .type = NLA_NESTED },
	[IOMMU_REG_A_DEVICES] = { .type = NLA_NESTED },
	[IOMMU_REG_A_NR_REGIONS] = { .type = NLA_U32 },
	[IOMMU_REG_A_NR_MAPPINGS] = { .type = NLA_U64 },
	[IOMMU_REG_A_HANDLE] = { .type = NLA_U32 },
	[IOMMU_REG_A_VADDR] = { .type = NLA_U64 },
	[IOMMU_REG_A_SIZE] = { .type = NLA_U64 },
	[IOMMU_REG_A_FLAGS] = { .type = NLA_U32 },
	[IOMMU_REG_A_REFS] = { .type = NLA_U32 },
	[IOMMU_REG_A_STALE] = { .type = NLA_U8 },
	[IOMMU_REG_A_PINNED_PAGES] = { .type = NLA_U64 },
	[IOMMU_REG_A_MAPPINGS] = { .type = NLA_NESTED },
	[IOMMU_REG_A_REASON] = { .type = NLA_U32 },
	[IOMMU_REG_A_GENERATION] = { .type = NLA_U32 },
	[IOMMU_REG_A_IOMMU_TYPE] = { .type = NLA_U32 },
};

int ireg_nl_open(struct ireg_nl *nl)
{
	int err;

	memset(nl, 0, sizeof(*nl));
	nl->sock = nl_socket_alloc();
	if (!nl->sock) {
		fprintf(stderr, "iommu-reg: netlink: out of memory\n");
		return IREG_EXIT_ERROR;
	}
	err = genl_connect(nl->sock);
	if (err) {
		fprintf(stderr, "iommu-reg: netlink: %s\n", nl_geterror(err));
		goto err_free;
	}
	/* Ask for the kernel's explanation with every error. */
	setsockopt(nl_socket_get_fd(nl->sock), SOL_NETLINK, NETLINK_EXT_ACK,
		   &(int){ 1 }, sizeof(int));
	nl->family = genl_ctrl_resolve(nl->sock, IOMMU_REG_GENL_NAME);
	if (nl->family < 0) {
		fprintf(stderr,
			"iommu-reg: no netlink family '%s': the iommu_reg module is not loaded (insmod iommu_reg.ko)\n",
			IOMMU_REG_GENL_NAME);
		nl_socket_free(nl->sock);
		nl->sock = NULL;
		return IREG_EXIT_UNSUPPORTED;
	}
	return IREG_EXIT_OK;

err_free:
	nl_socket_free(nl->sock);
	nl->sock = NULL;
	return IREG_EXIT_ERROR;
}

void ireg_nl_close(struct ireg_nl *nl)
{
	if (nl->sock)
		nl_socket_free(nl->sock);
	nl->sock = NULL;
}

struct ireg_nl_call {
	struct ireg_nl *nl;
	ireg_nl_cb cb;
	void *arg;
	int cb_ret;
};

static int ireg_nl_valid(struct nl_msg *msg, void *arg)
{
	struct ireg_nl_call *call = arg;
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[IOMMU_REG_A_MAX + 1];

	if (nla_parse(tb, IOMMU_REG_A_MAX, genlmsg_attrdata(gh, 0),
		      genlmsg_attrlen(gh, 0), ireg_nl_policy))
		return NL_SKIP;
	call->cb_ret = call->cb(tb, gh->cmd, call->arg);
	return call->cb_ret ? NL_STOP : NL_OK;
}

/* The kernel's errno and, when it sent one, its extended-ack message. */
static int ireg_nl_error(struct sockaddr_nl *nla __attribute__((unused)),
			 struct nlmsgerr *e,
			 void *arg)
{
	struct ireg_nl *nl = arg;
	struct nlmsghdr *nlh = (struct nlmsghdr *)e - 1;
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = {};
	size_t skip = sizeof(*e);

	nl->err = -e->error;
	nl->errmsg[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		skip += e->msg.nlmsg_len - sizeof(e->msg);
	if (nlh->nlmsg_len > NLMSG_HDRLEN + skip &&
	    !nla_parse(tb, NLMSGERR_ATTR_MAX,
		       (struct nlattr *)((char *)e + skip),
		       nlh->nlmsg_len - NLMSG_HDRLEN - skip, NULL) &&
	    tb[NLMSGERR_ATTR_MSG])
		snprintf(nl->errmsg, sizeof(nl->errmsg), "%s",
			 nla_get_string(tb[NLMSGERR_ATTR_MSG]));
	return NL_STOP;
}

static int ireg_nl_report(struct ireg_nl *nl, const char *what)
{
	fprintf(stderr, "iommu-reg: %s: %s%s%s\n", what, strerror(nl->err),
		nl->errmsg[0] ? ": " : "", nl->errmsg);
	return IREG_EXIT_ERROR;
}

static int ireg_nl_no_seq_check(struct nl_msg *msg __attribute__((unused)),
				void *arg __attribute__((unused)))
{
	return NL_OK;
}

static int ireg_nl_run(struct ireg_nl *nl, struct ireg_nl_call *call,
		       const char *what, bool events)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int err;

	if (!cb)
		return IREG_EXIT_ERROR;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, ireg_nl_valid, call);
	/* Events are not replies: they carry no sequence number of ours. */
	if (events)
		nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM,
			  ireg_nl_no_seq_check, NULL);
	nl_cb_err(cb, NL_CB_CUSTOM, ireg_nl_error, nl);
	err = nl_recvmsgs(nl->sock, cb);
	nl_cb_put(cb);
	if (nl->err)
		return ireg_nl_report(nl, what);
	if (err < 0 && !call->cb_ret) {
		fprintf(stderr, "iommu-reg: %s: %s\n", what, nl_geterror(err));
		return IREG_EXIT_ERROR;
	}
	return call->cb_ret > 0 ? IREG_EXIT_OK : call->cb_ret < 0 ?
	       -call->cb_ret : IREG_EXIT_OK;
}

int ireg_nl_request(struct ireg_nl *nl, uint8_t cmd, bool dump,
		    uint32_t container, uint32_t pid, ireg_nl_cb cb, void *arg)
{
	struct ireg_nl_call call = { .nl = nl, .cb = cb, .arg = arg };
	struct nl_msg *msg = nlmsg_alloc();
	int err;

	if (!msg)
		return IREG_EXIT_ERROR;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			 dump ? NLM_F_DUMP : NLM_F_ACK, cmd,
			 IOMMU_REG_GENL_VERSION) ||
	    (container && nla_put_u32(msg, IOMMU_REG_A_CONTAINER_ID,
				      container)) ||
	    (pid && nla_put_u32(msg, IOMMU_REG_A_PID, pid))) {
		nlmsg_free(msg);
		return IREG_EXIT_ERROR;
	}
	err = nl_send_auto(nl->sock, msg);
	nlmsg_free(msg);
	if (err < 0) {
		fprintf(stderr, "iommu-reg: netlink send: %s\n",
			nl_geterror(err));
		return IREG_EXIT_ERROR;
	}
	return ireg_nl_run(nl, &call, "netlink request", false);
}

int ireg_nl_listen(struct ireg_nl *nl, ireg_nl_cb cb, void *arg)
{
	struct ireg_nl_call call = { .nl = nl, .cb = cb, .arg = arg };
	int grp, err;

	grp = genl_ctrl_resolve_grp(nl->sock, IOMMU_REG_GENL_NAME,
				    IOMMU_REG_GENL_MCGRP_EVENTS);
	if (grp < 0) {
		fprintf(stderr, "iommu-reg: no '%s' group: %s\n",
			IOMMU_REG_GENL_MCGRP_EVENTS, nl_geterror(grp));
		return IREG_EXIT_UNSUPPORTED;
	}
	err = nl_socket_add_membership(nl->sock, grp);
	if (err) {
		fprintf(stderr,
			"iommu-reg: joining the events group: %s (needs CAP_SYS_ADMIN)\n",
			nl_geterror(err));
		return IREG_EXIT_ERROR;
	}
	while (!call.cb_ret) {
		int ret = ireg_nl_run(nl, &call, "netlink events", true);

		if (ret)
			return ret;
	}
	return call.cb_ret > 0 ? IREG_EXIT_OK : -call.cb_ret;
}
