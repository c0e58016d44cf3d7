// SPDX-License-Identifier: GPL-2.0-only
/*
 * Netlink: the generic netlink family "iommu_reg", the admin view.
 *
 * Stats (do), containers and regions (dumps, resumable across messages
 * by container id, region handle and, inside a region's list of mappings,
 * mapping sequence number), and an "events" multicast group fed by region
 * creation, destruction and invalidation.
 *
 * Every request is validated strictly against its policy, so unknown or
 * output-only attributes in a request are refused with an extended ack.
 * Without CAP_SYS_ADMIN a dump shows only objects of processes with the
 * caller's effective uid.
 *
 * Locking: a dump takes the registry lock only to find the next container
 * and a reference to it, then that container's lock alone, so a busy
 * container delays only the dumps that show it, never the registry.  Who
 * may see what is decided by the credentials of whoever started the dump,
 * captured by its start callback: a continuation
 * read by another task shows no more than its start would.  Events may be
 * sent from the MMU notifier, which must not sleep: they are allocated
 * with GFP_ATOMIC there, and only when someone listens.
 */
#include <linux/cred.h>
#include <linux/iommu.h>
#include <linux/sched.h>
#include <net/genetlink.h>
#include <uapi/linux/iommu_reg_netlink.h>

#include "iommu_reg_compat.h"
#include "iommu_reg.h"

static const struct nla_policy iommu_reg_nl_dump_policy[IOMMU_REG_A_MAX + 1] = {
	[IOMMU_REG_A_CONTAINER_ID] = { .type = NLA_U32 },
	[IOMMU_REG_A_PID] = { .type = NLA_U32 },
};

static struct genl_family iommu_reg_nl_family;

enum {
	IOMMU_REG_NL_MCGRP_EVENTS,
};

static const struct genl_multicast_group iommu_reg_nl_mcgrps[] = {
	[IOMMU_REG_NL_MCGRP_EVENTS] = {
		.name = IOMMU_REG_GENL_MCGRP_EVENTS,
		/* Events show every process's addresses. */
		.flags = GENL_MCAST_CAP_SYS_ADMIN,
	},
};

/* What a dump keeps in cb->args between its calls. */
enum {
	/* The lowest container id not finished. */
	IOMMU_REG_NL_ARG_ID,
	/* The next region handle to send in that container. */
	IOMMU_REG_NL_ARG_HANDLE,
	/* The starter's credentials: IOMMU_REG_NL_CRED_*, and its euid. */
	IOMMU_REG_NL_ARG_CRED,
	IOMMU_REG_NL_ARG_EUID,
	/* The seq of the last mapping sent of that region; 0: none yet. */
	IOMMU_REG_NL_ARG_SEQ,
};

/* IOMMU_REG_NL_ARG_CRED: set once the starter's credentials are known. */
#define IOMMU_REG_NL_CRED_SET	1UL
#define IOMMU_REG_NL_CRED_ADMIN	2UL

/*
 * A dump's start callback runs in the sendmsg() of the task that asked
 * for it; its dumpit calls may run in anyone's recvmsg(), even the first
 * (the kernel defers a dump whose socket's receive queue is full).
 */
static int iommu_reg_nl_dump_start(struct netlink_callback *cb)
{
	unsigned long cred = IOMMU_REG_NL_CRED_SET;

	if (netlink_capable(cb->skb, CAP_SYS_ADMIN))
		cred |= IOMMU_REG_NL_CRED_ADMIN;
	cb->args[IOMMU_REG_NL_ARG_CRED] = cred;
	cb->args[IOMMU_REG_NL_ARG_EUID] = from_kuid(&init_user_ns,
						    current_euid());
	return 0;
}

static bool iommu_reg_nl_visible(struct netlink_callback *cb,
				 const struct iommu_reg_container *c)
{
	unsigned long cred = cb->args[IOMMU_REG_NL_ARG_CRED];
	kuid_t euid = make_kuid(&init_user_ns,
				cb->args[IOMMU_REG_NL_ARG_EUID]);

	if (WARN_ON_ONCE(!(cred & IOMMU_REG_NL_CRED_SET)))
		return false;
	return (cred & IOMMU_REG_NL_CRED_ADMIN) || uid_eq(c->uid, euid);
}

static int iommu_reg_nl_stats_get(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *nest;
	struct sk_buff *msg;
	void *hdr;
	int i;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &iommu_reg_nl_family, 0,
				IOMMU_REG_CMD_STATS_GET);
	if (!hdr)
		goto err_free;
	nest = nla_nest_start(msg, IOMMU_REG_A_STATS);
	if (!nest)
		goto err_free;
	for (i = IOMMU_REG_STAT_CONTAINERS; i <= IOMMU_REG_STAT_MAX; i++)
		if (nla_put_u64_64bit(msg, i, iommu_reg_stat_read(i),
				      IOMMU_REG_STAT_PAD))
			goto err_free;
	nla_nest_end(msg, nest);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int iommu_reg_nl_put_owner(struct sk_buff *msg,
				  const struct iommu_reg_container *c)
{
	if (nla_put_u32(msg, IOMMU_REG_A_CONTAINER_ID, c->id) ||
	    nla_put_u32(msg, IOMMU_REG_A_PID, c->pid) ||
	    nla_put_string(msg, IOMMU_REG_A_COMM, c->comm) ||
	    nla_put_u32(msg, IOMMU_REG_A_UID,
			from_kuid_munged(&init_user_ns, c->uid)))
		return -EMSGSIZE;
	return 0;
}

/*
 * Start a message of a dump about @c: the header, then the container's
 * owner.  Return: the header, or NULL when the message is full.
 */
static void *iommu_reg_nl_dump_put(struct sk_buff *msg,
				   struct netlink_callback *cb, u8 cmd,
				   const struct iommu_reg_container *c)
{
	void *hdr;

	hdr = genlmsg_put(msg, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &iommu_reg_nl_family, NLM_F_MULTI, cmd);
	if (hdr && iommu_reg_nl_put_owner(msg, c)) {
		genlmsg_cancel(msg, hdr);
		return NULL;
	}
	return hdr;
}

static int iommu_reg_nl_put_device(struct device *dev, void *data)
{
	return nla_put_string(data, IOMMU_REG_A_DEVICE, dev_name(dev));
}

static int iommu_reg_nl_fill_container(struct sk_buff *msg,
				       struct netlink_callback *cb,
				       struct iommu_reg_container *c)
{
	struct nlattr *groups, *devices;
	struct iommu_reg_group *g;
	void *hdr;

	lockdep_assert_held(&c->lock);

	hdr = iommu_reg_nl_dump_put(msg, cb, IOMMU_REG_CMD_CONTAINER_GET, c);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(msg, IOMMU_REG_A_IOMMU_TYPE, c->vfio_type) ||
	    nla_put_u32(msg, IOMMU_REG_A_NR_REGIONS, c->nr_regions) ||
	    nla_put_u64_64bit(msg, IOMMU_REG_A_NR_MAPPINGS, c->nr_mappings,
			      IOMMU_REG_A_PAD) ||
	    nla_put_u64_64bit(msg, IOMMU_REG_A_PINNED_PAGES, c->pinned_pages,
			      IOMMU_REG_A_PAD))
		goto err_cancel;

	groups = nla_nest_start(msg, IOMMU_REG_A_GROUPS);
	if (!groups)
		goto err_cancel;
	list_for_each_entry(g, &c->groups, node)
		if (nla_put_u32(msg, IOMMU_REG_A_GROUP,
				iommu_group_id(g->iommu_group)))
			goto err_cancel;
	nla_nest_end(msg, groups);

	devices = nla_nest_start(msg, IOMMU_REG_A_DEVICES);
	if (!devices)
		goto err_cancel;
	list_for_each_entry(g, &c->groups, node)
		if (iommu_group_for_each_dev(g->iommu_group, msg,
					     iommu_reg_nl_put_device))
			goto err_cancel;
	nla_nest_end(msg, devices);

	genlmsg_end(msg, hdr);
	return 0;

err_cancel:
	genlmsg_cancel(msg, hdr);
	return -EMSGSIZE;
}

/* The request's filters, validated by the policy. */
static void iommu_reg_nl_filters(struct netlink_callback *cb, u32 *id, u32 *pid)
{
	struct nlattr **attrs = iommu_reg_genl_dump_attrs(cb);

	*id = 0;
	*pid = 0;
	if (attrs[IOMMU_REG_A_CONTAINER_ID])
		*id = nla_get_u32(attrs[IOMMU_REG_A_CONTAINER_ID]);
	if (attrs[IOMMU_REG_A_PID])
		*pid = nla_get_u32(attrs[IOMMU_REG_A_PID]);
}

static bool iommu_reg_nl_match(struct netlink_callback *cb,
			       const struct iommu_reg_container *c, u32 id,
			       u32 pid)
{
	return iommu_reg_nl_visible(cb, c) && (!id || c->id == id) &&
	       (!pid || c->pid == pid);
}

/*
 * The next container to show at or after @min_id, with a reference, or
 * NULL.  Takes and drops the registry lock.
 */
static struct iommu_reg_container *
iommu_reg_nl_next(struct netlink_callback *cb, u64 min_id, u32 id, u32 pid)
{
	struct iommu_reg_container *c;

	if (min_id > U32_MAX)
		return NULL;
	iommu_reg_registry_lock();
	while ((c = iommu_reg_registry_first(min_id))) {
		if (iommu_reg_nl_match(cb, c, id, pid) &&
		    iommu_reg_container_tryget(c))
			break;
		/* The last id there can be: nothing after it. */
		if (c->id == U32_MAX) {
			c = NULL;
			break;
		}
		min_id = c->id + 1;
	}
	iommu_reg_registry_unlock();
	return c;
}

static int iommu_reg_nl_put_region(struct sk_buff *msg,
				   const struct iommu_reg_region *r)
{
	if (nla_put_u32(msg, IOMMU_REG_A_HANDLE, r->handle) ||
	    nla_put_u64_64bit(msg, IOMMU_REG_A_VADDR, r->node.start,
			      IOMMU_REG_A_PAD) ||
	    nla_put_u64_64bit(msg, IOMMU_REG_A_SIZE,
			      r->node.last - r->node.start + 1,
			      IOMMU_REG_A_PAD))
		return -EMSGSIZE;
	return 0;
}

static int iommu_reg_nl_put_mapping(struct sk_buff *msg,
				    const struct iommu_reg_mapping *m)
{
	struct nlattr *one = nla_nest_start(msg, IOMMU_REG_A_MAPPING);

	if (!one)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(msg, IOMMU_REG_A_IOVA, m->node.start,
			      IOMMU_REG_A_PAD) ||
	    nla_put_u64_64bit(msg, IOMMU_REG_A_LENGTH,
			      m->node.last - m->node.start + 1,
			      IOMMU_REG_A_PAD) ||
	    nla_put_u32(msg, IOMMU_REG_A_PROT, m->prot)) {
		nla_nest_cancel(msg, one);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, one);
	return 0;
}

/*
 * A message of region @r with the mappings after the one whose seq is
 * cb->args[IOMMU_REG_NL_ARG_SEQ].  When the rest does not fit, the message
 * ends with the mappings that do and the next one goes on from there:
 * each message names the region, with IOMMU_REG_A_NR_MAPPINGS giving the
 * total, and lists each mapping once.  Return: 0 with the region done,
 * -EMSGSIZE when it goes on in the next message.
 */
static int iommu_reg_nl_fill_region(struct sk_buff *msg,
				    struct netlink_callback *cb,
				    struct iommu_reg_container *c,
				    struct iommu_reg_region *r)
{
	u64 after = cb->args[IOMMU_REG_NL_ARG_SEQ];
	struct nlattr *mappings;
	struct iommu_reg_mapping *m;
	bool some = false;
	void *hdr;

	lockdep_assert_held(&c->lock);

	hdr = iommu_reg_nl_dump_put(msg, cb, IOMMU_REG_CMD_REGION_GET, c);
	if (!hdr)
		return -EMSGSIZE;
	if (iommu_reg_nl_put_region(msg, r) ||
	    nla_put_u32(msg, IOMMU_REG_A_FLAGS, r->flags) ||
	    nla_put_u32(msg, IOMMU_REG_A_REFS, r->refs) ||
	    nla_put_u8(msg, IOMMU_REG_A_STALE, READ_ONCE(r->stale)) ||
	    nla_put_u64_64bit(msg, IOMMU_REG_A_PINNED_PAGES, r->npages,
			      IOMMU_REG_A_PAD) ||
	    nla_put_u64_64bit(msg, IOMMU_REG_A_NR_MAPPINGS, r->nr_mappings,
			      IOMMU_REG_A_PAD))
		goto err_cancel;

	mappings = nla_nest_start(msg, IOMMU_REG_A_MAPPINGS);
	if (!mappings)
		goto err_cancel;
	/* In seq order: those sent before are skipped, whatever changed. */
	list_for_each_entry(m, &r->mappings, region_node) {
		cond_resched();
		if (m->seq <= after)
			continue;
		if (iommu_reg_nl_put_mapping(msg, m)) {
			/* Not one fits: the region waits for the next. */
			if (!some)
				goto err_cancel;
			nla_nest_end(msg, mappings);
			genlmsg_end(msg, hdr);
			cb->args[IOMMU_REG_NL_ARG_SEQ] = after;
			return -EMSGSIZE;
		}
		after = m->seq;
		some = true;
	}
	nla_nest_end(msg, mappings);
	genlmsg_end(msg, hdr);
	return 0;

err_cancel:
	genlmsg_cancel(msg, hdr);
	return -EMSGSIZE;
}

/*
 * The regions of @c from the handle cb->args[IOMMU_REG_NL_ARG_HANDLE] on,
 * that one from the mapping after cb->args[IOMMU_REG_NL_ARG_SEQ].
 */
static int iommu_reg_nl_fill_regions(struct sk_buff *msg,
				     struct netlink_callback *cb,
				     struct iommu_reg_container *c)
{
	unsigned long handle = cb->args[IOMMU_REG_NL_ARG_HANDLE];
	struct iommu_reg_region *r;
	int ret;

	xa_for_each_start(&c->regions, handle, r, handle) {
		if (handle != cb->args[IOMMU_REG_NL_ARG_HANDLE]) {
			cb->args[IOMMU_REG_NL_ARG_HANDLE] = handle;
			cb->args[IOMMU_REG_NL_ARG_SEQ] = 0;
		}
		ret = iommu_reg_nl_fill_region(msg, cb, c, r);
		if (ret)
			return ret;
		cond_resched();
	}
	return 0;
}

typedef int (*iommu_reg_nl_fill_t)(struct sk_buff *msg,
				   struct netlink_callback *cb,
				   struct iommu_reg_container *c);

/*
 * A round of a dump: @fill puts each container's part under its lock,
 * from where the previous round stopped (cb->args), returning 0 once the
 * container is done and -EMSGSIZE when the message is full.  A full
 * message asks for another round; end of data returns 0.  A part that
 * does not fit even an empty message is an error, never a silent end of
 * the dump.
 */
static int iommu_reg_nl_dump(struct sk_buff *msg, struct netlink_callback *cb,
			     iommu_reg_nl_fill_t fill)
{
	struct iommu_reg_container *c;
	u32 id, pid;
	int ret = 0;

	iommu_reg_nl_filters(cb, &id, &pid);
	while ((c = iommu_reg_nl_next(cb, cb->args[IOMMU_REG_NL_ARG_ID], id,
				      pid))) {
		/* A reader can always give up on a busy container. */
		ret = mutex_lock_killable(&c->lock);
		if (ret) {
			iommu_reg_container_put_async(c);
			return ret;
		}
		/* Not the one the last round stopped in: from its start. */
		if (c->id != cb->args[IOMMU_REG_NL_ARG_ID]) {
			cb->args[IOMMU_REG_NL_ARG_ID] = c->id;
			cb->args[IOMMU_REG_NL_ARG_HANDLE] = 0;
			cb->args[IOMMU_REG_NL_ARG_SEQ] = 0;
		}
		ret = fill(msg, cb, c);
		mutex_unlock(&c->lock);
		if (!ret) {
			cb->args[IOMMU_REG_NL_ARG_ID] = (u64)c->id + 1;
			cb->args[IOMMU_REG_NL_ARG_HANDLE] = 0;
			cb->args[IOMMU_REG_NL_ARG_SEQ] = 0;
		}
		iommu_reg_container_put_async(c);
		if (ret)
			break;
	}
	if (ret && !msg->len)
		return ret;
	return ret ? msg->len : 0;
}

static int iommu_reg_nl_container_dump(struct sk_buff *msg,
				       struct netlink_callback *cb)
{
	return iommu_reg_nl_dump(msg, cb, iommu_reg_nl_fill_container);
}

static int iommu_reg_nl_region_dump(struct sk_buff *msg,
				    struct netlink_callback *cb)
{
	return iommu_reg_nl_dump(msg, cb, iommu_reg_nl_fill_regions);
}

static const struct genl_small_ops iommu_reg_nl_small_ops[] = {
	{
		.cmd = IOMMU_REG_CMD_STATS_GET,
		.doit = iommu_reg_nl_stats_get,
	},
};

/* Dumps need a start callback: the credentials are taken there. */
static const struct genl_ops iommu_reg_nl_ops[] = {
	{
		.cmd = IOMMU_REG_CMD_CONTAINER_GET,
		.start = iommu_reg_nl_dump_start,
		.dumpit = iommu_reg_nl_container_dump,
	},
	{
		.cmd = IOMMU_REG_CMD_REGION_GET,
		.start = iommu_reg_nl_dump_start,
		.dumpit = iommu_reg_nl_region_dump,
	},
};

static struct genl_family iommu_reg_nl_family __ro_after_init = {
	.name = IOMMU_REG_GENL_NAME,
	.version = IOMMU_REG_GENL_VERSION,
	.maxattr = IOMMU_REG_A_MAX,
	.policy = iommu_reg_nl_dump_policy,
	.module = THIS_MODULE,
	/* Our handlers lock what they need; none needs genl_mutex. */
	.parallel_ops = true,
	.small_ops = iommu_reg_nl_small_ops,
	.n_small_ops = ARRAY_SIZE(iommu_reg_nl_small_ops),
	.ops = iommu_reg_nl_ops,
	.n_ops = ARRAY_SIZE(iommu_reg_nl_ops),
	.resv_start_op = IOMMU_REG_CMD_STATS_GET,
	.mcgrps = iommu_reg_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(iommu_reg_nl_mcgrps),
};

/**
 * iommu_reg_nl_event - tell the events group about a region
 * @cmd: IOMMU_REG_CMD_EVENT_*
 * @r: the region, with its container
 * @reason: IOMMU_REG_REASON_* for an invalidation, else 0
 * @generation: the slot's generation after an invalidation, else 0
 * @gfp: GFP_ATOMIC from the MMU notifier
 */
void iommu_reg_nl_event(u8 cmd, const struct iommu_reg_region *r, u32 reason,
			u32 generation, gfp_t gfp)
{
	const struct iommu_reg_container *c = r->container;
	struct sk_buff *msg;
	void *hdr;

	if (!genl_has_listeners(&iommu_reg_nl_family, &init_net,
				IOMMU_REG_NL_MCGRP_EVENTS))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, gfp);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &iommu_reg_nl_family, 0, cmd);
	if (!hdr)
		goto err_free;
	if (iommu_reg_nl_put_owner(msg, c) || iommu_reg_nl_put_region(msg, r) ||
	    (cmd == IOMMU_REG_CMD_EVENT_INVALIDATE &&
	     (nla_put_u32(msg, IOMMU_REG_A_REASON, reason) ||
	      nla_put_u32(msg, IOMMU_REG_A_GENERATION, generation))))
		goto err_free;
	genlmsg_end(msg, hdr);
	genlmsg_multicast(&iommu_reg_nl_family, msg, 0,
			  IOMMU_REG_NL_MCGRP_EVENTS, gfp);
	return;

err_free:
	nlmsg_free(msg);
}

int __init iommu_reg_nl_init(void)
{
	return genl_register_family(&iommu_reg_nl_family);
}

void iommu_reg_nl_exit(void)
{
	genl_unregister_family(&iommu_reg_nl_family);
}
