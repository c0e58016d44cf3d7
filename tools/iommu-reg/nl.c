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

#include "tool.h"
#include "print.h"
#include "nl.h"

/* Attribute types for nla_parse (lengths are checked by the kernel's
 * policy for requests; replies come from the kernel). */
static struct nla_policy nl_policy[IOMMU_REG_A_MAX + 1] = {
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
	[IOMMU_REG_A_IOVA] = { .type = NLA_U64 },
	[IOMMU_REG_A_LENGTH] = { .type = NLA_U64 },
	[IOMMU_REG_A_PROT] = { .type = NLA_U32 },
	[IOMMU_REG_A_REASON] = { .type = NLA_U32 },
	[IOMMU_REG_A_GENERATION] = { .type = NLA_U32 },
	[IOMMU_REG_A_IOMMU_TYPE] = { .type = NLA_U32 },
};

int nl_conn_open(struct nl_conn *nl)
{
	int err;

	memset(nl, 0, sizeof(*nl));
	nl->sock = nl_socket_alloc();
	if (!nl->sock) {
		print_err(ENOMEM, "netlink");
		return EXIT_ERROR;
	}
	err = genl_connect(nl->sock);
	if (err) {
		print_err(0, "netlink: %s", nl_geterror(err));
		goto err_free;
	}
	/* Ask for the kernel's explanation with every error. */
	setsockopt(nl_socket_get_fd(nl->sock), SOL_NETLINK, NETLINK_EXT_ACK,
		   &(int){ 1 }, sizeof(int));
	nl->family = genl_ctrl_resolve(nl->sock, IOMMU_REG_GENL_NAME);
	if (nl->family < 0) {
		print_err(0, "no netlink family '%s': the iommu_reg module is not loaded (insmod iommu_reg.ko)",
			  IOMMU_REG_GENL_NAME);
		nl_socket_free(nl->sock);
		nl->sock = NULL;
		return EXIT_UNSUPPORTED;
	}
	return EXIT_OK;

err_free:
	nl_socket_free(nl->sock);
	nl->sock = NULL;
	return EXIT_ERROR;
}

void nl_conn_close(struct nl_conn *nl)
{
	if (nl->sock)
		nl_socket_free(nl->sock);
	nl->sock = NULL;
}

struct nl_call {
	struct nl_conn *nl;
	nl_conn_cb cb;
	void *arg;
	int cb_ret;
};

static int nl_valid(struct nl_msg *msg, void *arg)
{
	struct nl_call *call = arg;
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[IOMMU_REG_A_MAX + 1];

	if (nla_parse(tb, IOMMU_REG_A_MAX, genlmsg_attrdata(gh, 0),
		      genlmsg_attrlen(gh, 0), nl_policy))
		return NL_SKIP;
	call->cb_ret = call->cb(tb, gh->cmd, call->arg);
	return call->cb_ret ? NL_STOP : NL_OK;
}

/* The kernel's errno and, when it sent one, its extended-ack message. */
static int nl_error(struct sockaddr_nl *nla __attribute__((unused)),
			 struct nlmsgerr *e,
			 void *arg)
{
	struct nl_conn *nl = arg;
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

static int nl_report(struct nl_conn *nl, const char *what)
{
	print_err(0, "%s: %s%s%s", what, strerror(nl->err),
		  nl->errmsg[0] ? ": " : "", nl->errmsg);
	return EXIT_ERROR;
}

static int nl_no_seq_check(struct nl_msg *msg __attribute__((unused)),
				void *arg __attribute__((unused)))
{
	return NL_OK;
}

static int nl_run(struct nl_conn *nl, struct nl_call *call,
		       const char *what, bool events)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int err;

	if (!cb)
		return EXIT_ERROR;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, nl_valid, call);
	/* Events are not replies: they carry no sequence number of ours. */
	if (events)
		nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM,
			  nl_no_seq_check, NULL);
	nl_cb_err(cb, NL_CB_CUSTOM, nl_error, nl);
	err = nl_recvmsgs(nl->sock, cb);
	nl_cb_put(cb);
	if (nl->err)
		return nl_report(nl, what);
	if (err < 0 && !call->cb_ret) {
		print_err(0, "%s: %s", what, nl_geterror(err));
		return EXIT_ERROR;
	}
	return call->cb_ret > 0 ? EXIT_OK : call->cb_ret < 0 ?
	       -call->cb_ret : EXIT_OK;
}

int nl_conn_request(struct nl_conn *nl, uint8_t cmd, bool dump,
		    uint32_t container, uint32_t pid, nl_conn_cb cb, void *arg)
{
	struct nl_call call = { .nl = nl, .cb = cb, .arg = arg };
	struct nl_msg *msg = nlmsg_alloc();
	int err;

	if (!msg)
		return EXIT_ERROR;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			 dump ? NLM_F_DUMP : NLM_F_ACK, cmd,
			 IOMMU_REG_GENL_VERSION) ||
	    (container && nla_put_u32(msg, IOMMU_REG_A_CONTAINER_ID,
				      container)) ||
	    (pid && nla_put_u32(msg, IOMMU_REG_A_PID, pid))) {
		nlmsg_free(msg);
		return EXIT_ERROR;
	}
	err = nl_send_auto(nl->sock, msg);
	nlmsg_free(msg);
	if (err < 0) {
		print_err(0, "netlink send: %s", nl_geterror(err));
		return EXIT_ERROR;
	}
	return nl_run(nl, &call, "netlink request", false);
}

int nl_conn_listen(struct nl_conn *nl, nl_conn_cb cb, void *arg)
{
	struct nl_call call = { .nl = nl, .cb = cb, .arg = arg };
	int grp, err;

	grp = genl_ctrl_resolve_grp(nl->sock, IOMMU_REG_GENL_NAME,
				    IOMMU_REG_GENL_MCGRP_EVENTS);
	if (grp < 0) {
		print_err(0, "no '%s' group: %s", IOMMU_REG_GENL_MCGRP_EVENTS,
			  nl_geterror(grp));
		return EXIT_UNSUPPORTED;
	}
	err = nl_socket_add_membership(nl->sock, grp);
	if (err) {
		print_err(0, "joining the events group: %s (needs CAP_SYS_ADMIN)",
			  nl_geterror(err));
		return EXIT_ERROR;
	}
	while (!call.cb_ret) {
		int ret = nl_run(nl, &call, "netlink events", true);

		if (ret)
			return ret;
	}
	return call.cb_ret > 0 ? EXIT_OK : -call.cb_ret;
}

/* ---- show verbs ---- */

void print_field(struct nlattr **tb, const struct nl_field *f)
{
	const struct nlattr *a = tb[f->attr];
	int type = nl_policy[f->attr].type;
	bool text = type == NLA_STRING || (f->flags & NL_FIELD_HEX);
	uint64_t val = 0;
	char fmt[48];

	if (!a && !(f->flags & NL_FIELD_ZERO))
		return;
	snprintf(fmt, sizeof(fmt), "%s %s", f->label ? f->label : f->key,
		 text ? "%s" : "%llu");
	if (type == NLA_STRING) {
		print_str(f->key, fmt, nla_get_string((struct nlattr *)a));
		return;
	}
	if (a)
		val = type == NLA_U8 ? nla_get_u8((struct nlattr *)a) :
		      type == NLA_U32 ? nla_get_u32((struct nlattr *)a) :
		      nla_get_u64((struct nlattr *)a);
	if (f->flags & NL_FIELD_HEX)
		print_hex(f->key, fmt, val);
	else
		print_uint(f->key, fmt, val);
}

void print_fields(struct nlattr **tb, const struct nl_field *f, size_t n)
{
	while (n--)
		print_field(tb, f++);
}

void print_attr(struct nlattr **tb, int attr, const char *key,
		unsigned int flags)
{
	const struct nl_field f = NL_FIELD(attr, key, flags);

	print_field(tb, &f);
}

/* As the kernel puts them: a container's owner, then a region. */
static const struct nl_field owner_fields[] = {
	NL_FIELD(IOMMU_REG_A_CONTAINER_ID, "container", 0),
	NL_FIELD(IOMMU_REG_A_PID, "pid", 0),
	NL_FIELD(IOMMU_REG_A_COMM, "comm", 0),
};

static const struct nl_field region_fields[] = {
	NL_FIELD(IOMMU_REG_A_HANDLE, "handle", 0),
	NL_FIELD(IOMMU_REG_A_VADDR, "vaddr", NL_FIELD_HEX),
	NL_FIELD(IOMMU_REG_A_SIZE, "size", 0),
};

void print_owner(struct nlattr **tb, bool region)
{
	print_fields(tb, owner_fields, ARRAY_SIZE(owner_fields));
	if (region)
		print_fields(tb, region_fields, ARRAY_SIZE(region_fields));
}

int nl_show(struct tool *t, uint8_t cmd, nl_conn_cb cb, void *arg,
	    void (*end)(void *arg), bool by_container)
{
	unsigned long long pid = 0, container = 0;
	struct nl_conn nl;
	const char *w;
	int ret;

	while ((w = arg_next(t))) {
		if (!strcmp(w, "pid"))
			ret = arg_number(t, w, 1, UINT32_MAX, &pid);
		else if (by_container && !strcmp(w, "container"))
			ret = arg_number(t, w, 1, UINT32_MAX, &container);
		else
			return cmd_usage_error(t, "unknown argument '%s'", w);
		if (ret)
			return ret;
	}
	ret = nl_conn_open(&nl);
	if (ret)
		return ret;
	print_open_array(NULL);
	ret = nl_conn_request(&nl, cmd, true, container, pid, cb, arg);
	if (end)
		end(arg);
	print_close();
	nl_conn_close(&nl);
	return ret;
}
