// SPDX-License-Identifier: GPL-2.0-only
/*
 * The iommu_reg generic netlink family, spoken raw: malformed requests are
 * refused with an errno and an extended-ack message (and nothing crashes),
 * dumps agree with what a process registered, and an unprivileged caller
 * sees only its own uid's objects and cannot join the events group.
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include "ireg_nl.h"
#include "kselftest_harness.h"

struct seen {
	int nr;
	uint32_t handles[16];
	uint64_t vaddr[16], size[16];
	uint32_t pid[16];
};

static void region_cb(struct nlmsghdr *nlh, void *arg)
{
	struct seen *s = arg;

	if (s->nr == 16 || !attr(nlh, IOMMU_REG_A_HANDLE))
		return;
	s->handles[s->nr] = ATTR_U32(nlh, IOMMU_REG_A_HANDLE);
	s->vaddr[s->nr] = ATTR_U64(nlh, IOMMU_REG_A_VADDR);
	s->size[s->nr] = ATTR_U64(nlh, IOMMU_REG_A_SIZE);
	s->pid[s->nr] = ATTR_U32(nlh, IOMMU_REG_A_PID);
	s->nr++;
}

/* A dump of regions, filtered by pid. */
static int dump_regions(struct nl *nl, uint32_t pid, struct seen *s)
{
	char buf[256];
	struct nlmsghdr *nlh = msg_start(nl, buf, nl->family, NLM_F_DUMP,
					 IOMMU_REG_CMD_REGION_GET);

	memset(s, 0, sizeof(*s));
	if (pid)
		nla_put(nlh, IOMMU_REG_A_PID, &pid, sizeof(pid));
	return nl_request(nl, nlh, region_cb, s);
}

FIXTURE(netlink) {
	struct nl nl;
	int container;
	int group;
};

FIXTURE_SETUP(netlink)
{
	const char *bdf = ireg_edu_bdf(0);

	self->container = -1;
	self->group = -1;
	ASSERT_EQ(0, nl_open(&self->nl));
	if (!bdf)
		return;
	self->container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, self->container);
	self->group = ireg_open_group(bdf);
	ASSERT_LE(0, self->group);
	ASSERT_EQ(0, ireg_container_setup(self->container, self->group,
					  VFIO_IOMMU_REG));
}

FIXTURE_TEARDOWN(netlink)
{
	close(self->nl.fd);
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
}

TEST_F(netlink, stats)
{
	char buf[256];
	struct nlmsghdr *nlh = msg_start(&self->nl, buf, self->nl.family,
					 NLM_F_ACK, IOMMU_REG_CMD_STATS_GET);
	struct seen s = { 0 };

	ASSERT_EQ(0, nl_request(&self->nl, nlh, NULL, &s));
}

/* Malformed requests: an errno and the kernel's words, never a crash. */
TEST_F(netlink, malformed_requests)
{
	struct nl *nl = &self->nl;
	struct nlmsghdr *nlh;
	char buf[256];
	uint16_t small = 1;
	uint32_t val = 1;
	struct seen s;

	/* An attribute the family does not know. */
	nlh = msg_start(nl, buf, nl->family, NLM_F_ACK,
			IOMMU_REG_CMD_STATS_GET);
	nla_put(nlh, IOMMU_REG_A_MAX + 5, &val, sizeof(val));
	EXPECT_EQ(-1, nl_request(nl, nlh, NULL, &s));
	EXPECT_EQ(EINVAL, nl->err);
	EXPECT_NE(0, nl->msg[0]) TH_LOG("no extended ack");

	/* An output-only attribute in a request. */
	nlh = msg_start(nl, buf, nl->family, NLM_F_DUMP,
			IOMMU_REG_CMD_REGION_GET);
	nla_put(nlh, IOMMU_REG_A_HANDLE, &val, sizeof(val));
	EXPECT_EQ(-1, nl_request(nl, nlh, NULL, &s));
	EXPECT_EQ(EINVAL, nl->err);
	EXPECT_NE(0, nl->msg[0]);

	/* A filter of the wrong size. */
	nlh = msg_start(nl, buf, nl->family, NLM_F_DUMP,
			IOMMU_REG_CMD_REGION_GET);
	nla_put(nlh, IOMMU_REG_A_PID, &small, sizeof(small));
	EXPECT_EQ(-1, nl_request(nl, nlh, NULL, &s));
	EXPECT_EQ(EINVAL, nl->err);
	TH_LOG("kernel says: %s", nl->msg);

	/* An attribute claiming more than the message holds. */
	nlh = msg_start(nl, buf, nl->family, NLM_F_ACK,
			IOMMU_REG_CMD_STATS_GET);
	nla_put(nlh, IOMMU_REG_A_PID, &val, sizeof(val))->nla_len = 200;
	EXPECT_EQ(-1, nl_request(nl, nlh, NULL, &s));
	EXPECT_EQ(EINVAL, nl->err);

	/* A command the family does not have, and a dump of a do-only one. */
	nlh = msg_start(nl, buf, nl->family, NLM_F_ACK, 99);
	EXPECT_EQ(-1, nl_request(nl, nlh, NULL, &s));
	EXPECT_EQ(EOPNOTSUPP, nl->err);
	nlh = msg_start(nl, buf, nl->family, NLM_F_DUMP,
			IOMMU_REG_CMD_STATS_GET);
	EXPECT_EQ(-1, nl_request(nl, nlh, NULL, &s));
	EXPECT_EQ(EOPNOTSUPP, nl->err);

	/* Events are not requests. */
	nlh = msg_start(nl, buf, nl->family, NLM_F_ACK,
			IOMMU_REG_CMD_EVENT_INVALIDATE);
	EXPECT_EQ(-1, nl_request(nl, nlh, NULL, &s));
	EXPECT_EQ(EOPNOTSUPP, nl->err);

	/* A message cut inside the generic netlink header. */
	nlh = msg_start(nl, buf, nl->family, NLM_F_ACK,
			IOMMU_REG_CMD_STATS_GET);
	nlh->nlmsg_len = NLMSG_LENGTH(1);
	EXPECT_EQ(-1, nl_request(nl, nlh, NULL, &s));
	EXPECT_EQ(EINVAL, nl->err);

	/* And the family still answers. */
	nlh = msg_start(nl, buf, nl->family, NLM_F_ACK,
			IOMMU_REG_CMD_STATS_GET);
	EXPECT_EQ(0, nl_request(nl, nlh, NULL, &s));
}

/* A dump agrees with what this process registered. */
TEST_F(netlink, dump_matches_registrations)
{
	struct iommu_reg_prereg pre = { .argsz = sizeof(pre) };
	char *p = mmap(NULL, 3 * 8192, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	uint32_t handles[3];
	struct seen s;
	int i, j;

	if (self->container < 0)
		SKIP(return, "no edu device");
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < 3; i++) {
		pre.vaddr = (uintptr_t)p + i * 8192;
		pre.size = 4096 * (i + 1) - (i == 2 ? 4096 : 0);
		ASSERT_EQ(0, ioctl(self->container, IOMMU_REG_PREREG, &pre));
		handles[i] = pre.handle;
	}
	ASSERT_EQ(0, dump_regions(&self->nl, getpid(), &s));
	ASSERT_EQ(3, s.nr);
	for (i = 0; i < 3; i++) {
		for (j = 0; j < 3 && s.handles[j] != handles[i]; j++)
			;
		ASSERT_GT(3, j);
		EXPECT_EQ((uintptr_t)p + i * 8192, s.vaddr[j]);
		EXPECT_EQ(4096 * (i + 1) - (i == 2 ? 4096 : 0), s.size[j]);
		EXPECT_EQ(getpid(), s.pid[j]);
	}
	munmap(p, 3 * 8192);
}

/*
 * Without CAP_SYS_ADMIN, another uid's regions are invisible and the
 * events group cannot be joined; with it, they are visible.
 */
TEST_F(netlink, unprivileged_sees_only_its_own)
{
	struct iommu_reg_prereg pre = { .argsz = sizeof(pre) };
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	struct seen s;
	int status;
	pid_t pid;

	if (self->container < 0)
		SKIP(return, "no edu device");
	ASSERT_NE(MAP_FAILED, p);
	pre.vaddr = (uintptr_t)p;
	pre.size = 4096;
	ASSERT_EQ(0, ioctl(self->container, IOMMU_REG_PREREG, &pre));
	ASSERT_EQ(0, dump_regions(&self->nl, getpid(), &s));
	ASSERT_EQ(1, s.nr);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct nl nl;
		int ret = 0;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		if (nl_open(&nl))
			_exit(11);
		/* The parent's region, by pid and in a full dump: nothing. */
		if (dump_regions(&nl, getppid(), &s) || s.nr)
			ret |= 1;
		if (dump_regions(&nl, 0, &s) || s.nr)
			ret |= 2;
		/* The events group is for CAP_SYS_ADMIN. */
		if (!setsockopt(nl.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
				&nl.events_group, sizeof(nl.events_group)) ||
		    errno != EPERM)
			ret |= 4;
		_exit(ret);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* Root joins the group. */
	EXPECT_EQ(0, setsockopt(self->nl.fd, SOL_NETLINK,
				NETLINK_ADD_MEMBERSHIP,
				&self->nl.events_group,
				sizeof(self->nl.events_group)));
	munmap(p, 4096);
}

TEST_HARNESS_MAIN
