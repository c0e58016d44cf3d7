// SPDX-License-Identifier: GPL-2.0-only
/*
 * The iommu_reg generic netlink family, spoken raw: malformed requests are
 * refused with an errno and an extended-ack message (and nothing crashes),
 * dumps agree with what a process registered, and an unprivileged caller
 * sees only its own uid's objects and cannot join the events group.
 * A dump shows what its starter may see, whoever reads it on, and waits
 * for no container but those it shows.
 */
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "nl_helpers.h"
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
	const char *bdf = st_edu_bdf(0);

	self->container = -1;
	self->group = -1;
	ASSERT_EQ(0, nl_open(&self->nl));
	if (!bdf)
		return;
	self->container = st_container_open(bdf, &self->group);
	ASSERT_LE(0, self->container);
}

FIXTURE_TEARDOWN(netlink)
{
	close(self->nl.fd);
	st_close(&self->group);
	st_close(&self->container);
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


/*
 * Dumps read by another task than the one that started them.
 *
 * A dump's first call runs in the sendmsg() of its starter, every later
 * one in the recvmsg() of whoever reads the socket.  What the dump shows
 * must be decided by its starter alone: an unprivileged process (uid
 * 65534, "U") that hands its socket to root mid-dump must not get root's
 * regions, and root's dump read on by U still shows everything.
 *
 * U owns a container on the second edu device with ST_NL_U_REGIONS
 * regions; root owns one on the first, created after U's so that it comes
 * later in the dump (dumps go in container id order).  Sockets are read
 * with 4 KiB buffers, so a dump of U's regions spans a dozen messages.
 */
#define ST_NL_NOBODY		65534
#define ST_NL_U_REGIONS	300
#define ST_NL_ROOT_REGIONS	4
#define ST_NL_SMALL		4096

struct tally {
	int u;		/* regions (or containers) of uid 65534 */
	int root;	/* ... of uid 0 */
	int other;	/* messages of the dump without a known uid */
	uint32_t other_uid;
};

static void tally_cb(struct nlmsghdr *nlh, void *arg)
{
	struct tally *t = arg;
	uint32_t uid;

	if (!attr(nlh, IOMMU_REG_A_UID)) {
		t->other++;
		return;
	}
	uid = ATTR_U32(nlh, IOMMU_REG_A_UID);
	if (uid == ST_NL_NOBODY) {
		t->u++;
	} else if (uid == 0) {
		t->root++;
	} else {
		t->other++;
		t->other_uid = uid;
	}
}

/*
 * One recv() of at most @len bytes, its messages of sequence @seq passed
 * to @cb (others, as a queued STATS reply or ACK, are skipped): 1 at the
 * end of the dump, 0 when more is to come, -1 with nl->err (an
 * NLMSG_ERROR) or errno.
 */
static int nl_recv_batch(struct nl *nl, size_t len, uint32_t seq, int flags,
			 nl_cb cb, void *arg)
{
	ssize_t n = recv(nl->fd, nl->buf, len, flags);
	struct nlmsghdr *nlh;

	nl->err = 0;
	if (n < 0)
		return -1;
	for (nlh = (struct nlmsghdr *)nl->buf; NLMSG_OK(nlh, n);
	     nlh = NLMSG_NEXT(nlh, n)) {
		if (seq && nlh->nlmsg_seq != seq)
			continue;
		if (nlh->nlmsg_type == NLMSG_DONE)
			return 1;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			nl_error(nl, nlh);
			if (!nl->err)
				return 1;
			errno = nl->err;
			return -1;
		}
		if (cb)
			cb(nlh, arg);
	}
	return 0;
}

/* Read a dump to its end: 0, or -1 with errno. */
static int nl_recv_rest(struct nl *nl, size_t len, uint32_t seq, nl_cb cb,
			void *arg)
{
	int ret;

	while (!(ret = nl_recv_batch(nl, len, seq, 0, cb, arg)))
		;
	return ret < 0 ? -1 : 0;
}

/*
 * nl_open() reading with 4 KiB buffers only: the kernel sizes a dump's
 * messages by the largest buffer the socket was read with.
 */
static int nl_open_small(struct nl *nl)
{
	if (nl_open_request(nl) ||
	    nl_recv_rest(nl, ST_NL_SMALL, 0, family_cb, nl))
		return -1;
	return nl_family_found(nl);
}

/* Send a dump request of @cmd (optionally filtered); its sequence or 0. */
static uint32_t send_dump(struct nl *nl, uint8_t cmd, uint16_t filter,
			  uint32_t value)
{
	char buf[256];
	struct nlmsghdr *nlh = msg_start(nl, buf, nl->family, NLM_F_DUMP, cmd);

	if (filter)
		nla_put(nlh, filter, &value, sizeof(value));
	return nl_send(nl, nlh) ? 0 : nlh->nlmsg_seq;
}

/* A whole dump of @cmd on @nl into @t: 0 or -1. */
static int dump_tally(struct nl *nl, uint8_t cmd, uint16_t filter,
		      uint32_t value, struct tally *t)
{
	uint32_t seq = send_dump(nl, cmd, filter, value);

	memset(t, 0, sizeof(*t));
	if (!seq)
		return -1;
	return nl_recv_rest(nl, BUFSZ, seq, tally_cb, t);
}

static int send_fd(int sock, int fd)
{
	char c = 'F', cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&m);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static int xwrite(int fd, const void *p, size_t len)
{
	return write(fd, p, len) == (ssize_t)len ? 0 : -1;
}

static int xread(int fd, void *p, size_t len)
{
	return read(fd, p, len) == (ssize_t)len ? 0 : -1;
}

/*
 * What U does once its container holds its regions; @sock talks to root.
 * The return value is U's exit status: 0 or the number of the step that
 * failed.
 */
typedef int (*u_action)(int sock);

struct two_owners {
	pid_t u_pid;
	int sock;		/* to U */
	int container;		/* root's, on the first edu device */
	int group;
	int u_group_nr;		/* the chowned /dev/vfio/<n> */
	void *root_buf;
	uint32_t root_id;	/* root's container id */
};

static int prereg_pages(int container, char *p, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (_test_prereg(container, p + i * 4096, 4096, 0, NULL, NULL))
			return -1;
	return 0;
}

/* U's side of two_owners_start(): never returns. */
static void u_main(const char *bdf, int sock, u_action act)
{
	struct rlimit rl = { 64 << 20, 64 << 20 };
	int container, group, ret;
	char *p;
	char c;

	if (setrlimit(RLIMIT_MEMLOCK, &rl) ||
	    setresgid(ST_NL_NOBODY, ST_NL_NOBODY, ST_NL_NOBODY) ||
	    setresuid(ST_NL_NOBODY, ST_NL_NOBODY, ST_NL_NOBODY))
		_exit(100);
	container = st_container_open(bdf, &group);
	if (container < 0) {
		fprintf(stderr, "U: container on %s: %s\n", bdf, strerror(errno));
		_exit(101);
	}
	p = mmap(NULL, ST_NL_U_REGIONS * 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED || prereg_pages(container, p, ST_NL_U_REGIONS)) {
		fprintf(stderr, "U: PREREG: %s\n", strerror(errno));
		_exit(102);
	}
	/* Ready; root creates its container, then says go. */
	if (xwrite(sock, "R", 1) || xread(sock, &c, 1))
		_exit(103);
	ret = act(sock);
	/* Keep the container until root is done with its checks. */
	if (xread(sock, &c, 1))
		ret = ret ?: 104;
	_exit(ret);
}

/*
 * U's container, then root's: 0 or -1 (with the reason logged).  Closes
 * the fixture's container, whose group root's new container takes over.
 */
static int two_owners_start(struct __test_metadata *_metadata,
			    FIXTURE_DATA(netlink) *self,
			    struct two_owners *o, u_action act)
{
	const char *bdf0 = st_edu_bdf(0), *bdf1 = st_edu_bdf(1);
	char path[64], c;
	int sv[2];

	memset(o, 0, sizeof(*o));
	o->container = o->group = o->sock = -1;
	o->u_pid = -1;
	st_close(&self->group);
	st_close(&self->container);

	o->u_group_nr = vfio_group_of(bdf1);
	snprintf(path, sizeof(path), "/dev/vfio/%d", o->u_group_nr);
	if (o->u_group_nr < 0 || chown(path, ST_NL_NOBODY, ST_NL_NOBODY)) {
		TH_LOG("chown %s: %s", path, strerror(errno));
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	o->u_pid = fork();
	if (o->u_pid < 0)
		return -1;
	if (!o->u_pid) {
		close(sv[0]);
		u_main(bdf1, sv[1], act);
	}
	close(sv[1]);
	o->sock = sv[0];
	if (xread(o->sock, &c, 1)) {
		TH_LOG("U did not get ready");
		return -1;
	}

	o->container = st_container_open(bdf0, &o->group);
	if (o->container < 0) {
		TH_LOG("root's container: %s", strerror(errno));
		return -1;
	}
	o->root_buf = mmap(NULL, ST_NL_ROOT_REGIONS * 4096,
			   PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (o->root_buf == MAP_FAILED ||
	    prereg_pages(o->container, o->root_buf, ST_NL_ROOT_REGIONS)) {
		TH_LOG("root's PREREG: %s", strerror(errno));
		return -1;
	}
	return xwrite(o->sock, "G", 1);
}

/* Let U go, reap it, undo the chown: U's exit status, or -1. */
static int two_owners_end(struct two_owners *o)
{
	char path[64];
	int status = -1;

	if (o->sock >= 0) {
		if (xwrite(o->sock, "Q", 1)) {
			/* U is gone already: waitpid() says why. */
		}
		close(o->sock);
	}
	if (o->u_pid > 0 && waitpid(o->u_pid, &status, 0) == o->u_pid)
		status = WIFEXITED(status) ? WEXITSTATUS(status) : 200;
	if (o->group >= 0)
		close(o->group);
	if (o->container >= 0)
		close(o->container);
	if (o->u_group_nr >= 0) {
		snprintf(path, sizeof(path), "/dev/vfio/%d", o->u_group_nr);
		if (chown(path, 0, 0)) {
			/* The node is gone with the device: nothing to undo. */
		}
	}
	return status;
}

#define SKIP_WITHOUT_TWO_EDU()						\
	do {								\
		if (self->container < 0 || !st_edu_bdf(1))		\
			SKIP(return, "needs two edu devices");		\
	} while (0)

/*
 * The start of a case with two owners: skipped without two edu devices,
 * else @nl allocated for root's side and U's process doing @act.
 */
#define two_owners_begin(o, nl, act)					\
	do {								\
		SKIP_WITHOUT_TWO_EDU();					\
		nl = calloc(1, sizeof(*nl));				\
		ASSERT_NE(NULL, nl);					\
		ASSERT_EQ(0, two_owners_start(_metadata, self, o, act)); \
	} while (0)

/* U starts a region dump, reads one message, and hands the socket over. */
static int u_start_then_hand_over(int sock)
{
	struct tally t = { 0 };
	struct nl *nl = calloc(1, sizeof(*nl));
	uint32_t seq;

	if (!nl || nl_open_small(nl))
		return 1;
	seq = send_dump(nl, IOMMU_REG_CMD_REGION_GET, 0, 0);
	if (!seq)
		return 2;
	/* One recvmsg(): the first message (its reading makes the next). */
	if (nl_recv_batch(nl, ST_NL_SMALL, seq, 0, tally_cb, &t))
		return 3;
	if (xwrite(sock, &seq, sizeof(seq)) || xwrite(sock, &t, sizeof(t)) ||
	    send_fd(sock, nl->fd))
		return 4;
	return 0;
}

/*
 * The regression test of dump credentials: root reads the rest of a dump
 * U started, and it shows U's view, never root's regions.
 */
TEST_F(netlink, dump_started_unprivileged_read_by_root)
{
	struct tally first, rest = { 0 };
	struct two_owners o;
	struct nl *nl;
	uint32_t seq;

	two_owners_begin(&o, nl, u_start_then_hand_over);
	ASSERT_EQ(0, xread(o.sock, &seq, sizeof(seq)));
	ASSERT_EQ(0, xread(o.sock, &first, sizeof(first)));
	nl->fd = recv_fd(o.sock);
	ASSERT_LE(0, nl->fd);
	/* The dump must span messages, or no continuation is tested. */
	ASSERT_LT(0, first.u);
	ASSERT_GT(ST_NL_U_REGIONS, first.u);
	EXPECT_EQ(0, first.root);

	/* Root reads the rest, as a daemon handed the socket would. */
	EXPECT_EQ(0, nl_recv_rest(nl, BUFSZ, seq, tally_cb, &rest))
		TH_LOG("reading the rest: %s", strerror(errno));
	TH_LOG("first message: %d of U's regions, %d of root's; "
	       "the rest, read by root: %d of U's, %d of root's",
	       first.u, first.root, rest.u, rest.root);
	EXPECT_EQ(0, rest.root)
		TH_LOG("root's regions in a dump started by uid %d",
		       ST_NL_NOBODY);
	EXPECT_EQ(0, rest.other);
	EXPECT_EQ(ST_NL_U_REGIONS, first.u + rest.u)
		TH_LOG("U's own regions lost from its dump");
	close(nl->fd);
	free(nl);
	EXPECT_EQ(0, two_owners_end(&o));
}

/* U reads the rest of a dump root started and handed over. */
static int u_read_rest(int sock)
{
	struct tally t = { 0 };
	struct nl *nl = calloc(1, sizeof(*nl));
	uint32_t seq;

	if (!nl || xread(sock, &seq, sizeof(seq)))
		return 1;
	nl->fd = recv_fd(sock);
	if (nl->fd < 0)
		return 2;
	if (nl_recv_rest(nl, BUFSZ, seq, tally_cb, &t)) {
		fprintf(stderr, "U: reading the rest: %s\n", strerror(errno));
		return 3;
	}
	return xwrite(sock, &t, sizeof(t)) ? 4 : 0;
}

/*
 * The other way round: a dump root started shows what root may see to
 * its end, whoever reads it on.
 */
TEST_F(netlink, dump_started_by_root_read_unprivileged)
{
	struct tally first = { 0 }, rest, full;
	struct two_owners o;
	struct nl *nl;
	uint32_t seq;

	two_owners_begin(&o, nl, u_read_rest);

	/* What root sees in a dump of its own. */
	ASSERT_EQ(0, nl_open(nl));
	ASSERT_EQ(0, dump_tally(nl, IOMMU_REG_CMD_REGION_GET, 0, 0, &full));
	close(nl->fd);
	ASSERT_EQ(ST_NL_U_REGIONS, full.u);
	ASSERT_LE(ST_NL_ROOT_REGIONS, full.root);

	ASSERT_EQ(0, nl_open_small(nl));
	seq = send_dump(nl, IOMMU_REG_CMD_REGION_GET, 0, 0);
	ASSERT_NE(0, seq);
	ASSERT_EQ(0, nl_recv_batch(nl, ST_NL_SMALL, seq, 0, tally_cb,
				   &first));
	ASSERT_EQ(0, xwrite(o.sock, &seq, sizeof(seq)));
	ASSERT_EQ(0, send_fd(o.sock, nl->fd));
	ASSERT_EQ(0, xread(o.sock, &rest, sizeof(rest)));
	TH_LOG("first message, read by root: %d of U's regions, %d of root's; "
	       "the rest, read by U: %d of U's, %d of root's",
	       first.u, first.root, rest.u, rest.root);
	EXPECT_EQ(full.u, first.u + rest.u);
	EXPECT_EQ(full.root, first.root + rest.root)
		TH_LOG("root's dump lost root's regions when U read it on");
	close(nl->fd);
	free(nl);
	EXPECT_EQ(0, two_owners_end(&o));
}

/*
 * A dump whose first call could not run in its starter's sendmsg(): the
 * socket's receive queue was full, so the kernel left the whole dump to
 * the next reader's recvmsg().  U fills its queue (a minimal SO_RCVBUF
 * and a few unread STATS replies), starts a region dump and hands the
 * socket to root, which reads once; U reads the rest itself.  Still only
 * U's regions may appear.
 *
 * (netlink_dump() skips the dump callback while the queue is over
 * SO_RCVBUF and netlink_recvmsg() runs it later, so credentials taken on
 * the first dumpit call are the reader's.  netlink_capable() of a request
 * sent with an address checks only the current task, so they are even
 * root's CAP_SYS_ADMIN.  A genl .start callback runs in the requester's
 * sendmsg() always.)
 */
static int u_full_queue_then_hand_over(int sock)
{
	struct nl *nl = calloc(1, sizeof(*nl));
	struct tally t = { 0 };
	int zero = 0, i, ret;
	uint32_t seq;
	char buf[256];
	char c;

	if (!nl || nl_open_small(nl))
		return 1;
	if (setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUF, &zero, sizeof(zero)))
		return 2;
	for (i = 0; i < 8; i++)
		if (nl_send(nl, msg_start(nl, buf, nl->family, NLM_F_ACK,
					  IOMMU_REG_CMD_STATS_GET)))
			return 3;
	seq = send_dump(nl, IOMMU_REG_CMD_REGION_GET, 0, 0);
	if (!seq)
		return 4;
	if (xwrite(sock, &seq, sizeof(seq)) || send_fd(sock, nl->fd))
		return 5;
	/* Root has read; U reads the rest of its dump itself. */
	if (xread(sock, &c, 1))
		return 6;
	while (!(ret = nl_recv_batch(nl, BUFSZ, seq, 0, tally_cb, &t)) ||
	       (ret < 0 && errno == ENOBUFS))
		;
	if (ret < 0) {
		fprintf(stderr, "U: reading the dump: %s\n", strerror(errno));
		return 7;
	}
	return xwrite(sock, &t, sizeof(t)) ? 8 : 0;
}

TEST_F(netlink, dump_deferred_to_first_reader)
{
	struct tally by_root = { 0 }, by_u;
	struct two_owners o;
	struct nl *nl;
	uint32_t seq;
	int i, ret;

	two_owners_begin(&o, nl, u_full_queue_then_hand_over);
	ASSERT_EQ(0, xread(o.sock, &seq, sizeof(seq)));
	nl->fd = recv_fd(o.sock);
	ASSERT_LE(0, nl->fd);
	/*
	 * Root drains what was queued (the overrun's ENOBUFS, the STATS
	 * replies) and stops at the dump's first message, if it reads one.
	 */
	for (i = 0; i < 64; i++) {
		ret = nl_recv_batch(nl, BUFSZ, seq, MSG_DONTWAIT, tally_cb,
				    &by_root);
		if (ret < 0 && errno == ENOBUFS)
			continue;
		if (ret || by_root.u + by_root.root + by_root.other)
			break;
	}
	close(nl->fd);
	ASSERT_EQ(0, xwrite(o.sock, "D", 1));
	ASSERT_EQ(0, xread(o.sock, &by_u, sizeof(by_u)));
	TH_LOG("read by root: %d of U's regions, %d of root's; "
	       "by U: %d of U's, %d of root's",
	       by_root.u, by_root.root, by_u.u, by_u.root);
	EXPECT_EQ(0, by_root.root + by_u.root)
		TH_LOG("root's regions in a dump started by uid %d",
		       ST_NL_NOBODY);
	EXPECT_EQ(ST_NL_U_REGIONS, by_root.u + by_u.u);
	free(nl);
	EXPECT_EQ(0, two_owners_end(&o));
}

/* The id of the container of process @pid, from a root dump, or 0. */
static void container_id_cb(struct nlmsghdr *nlh, void *arg)
{
	if (attr(nlh, IOMMU_REG_A_CONTAINER_ID))
		*(uint32_t *)arg = ATTR_U32(nlh, IOMMU_REG_A_CONTAINER_ID);
}

/* ids[0]: how many; ids[1], ids[2]: the first two containers' ids. */
static void container_ids_cb(struct nlmsghdr *nlh, void *arg)
{
	uint32_t *ids = arg;

	if (!attr(nlh, IOMMU_REG_A_CONTAINER_ID))
		return;
	if (ids[0] < 2)
		ids[1 + ids[0]] = ATTR_U32(nlh, IOMMU_REG_A_CONTAINER_ID);
	ids[0]++;
}

static void stats_cb(struct nlmsghdr *nlh, void *arg)
{
	if (attr(nlh, IOMMU_REG_A_STATS))
		(*(int *)arg)++;
}

/*
 * Every command as U: the stats are global counters and open to all;
 * dumps show U's own container and regions only, whatever the filter;
 * the events group is refused with EPERM, by setsockopt() and by bind().
 */
static int u_every_command(int sock)
{
	struct nl *nl = calloc(1, sizeof(*nl));
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	uint32_t root_id, root_pid;
	struct nlmsghdr *nlh;
	int ret = 0, stats = 0, fd;
	struct tally t;
	char buf[256];

	if (!nl || xread(sock, &root_id, sizeof(root_id)) ||
	    xread(sock, &root_pid, sizeof(root_pid)) || nl_open(nl))
		return 99;

	nlh = msg_start(nl, buf, nl->family, NLM_F_ACK,
			IOMMU_REG_CMD_STATS_GET);
	if (nl_request(nl, nlh, stats_cb, &stats) || stats != 1) {
		fprintf(stderr, "U: STATS_GET: err %d, %d replies\n",
			nl->err, stats);
		ret |= 1;
	}
	if (dump_tally(nl, IOMMU_REG_CMD_CONTAINER_GET, 0, 0, &t) ||
	    t.u != 1 || t.root || t.other) {
		fprintf(stderr, "U: CONTAINER_GET: err %d, %d/%d/%d\n",
			nl->err, t.u, t.root, t.other);
		ret |= 2;
	}
	if (dump_tally(nl, IOMMU_REG_CMD_CONTAINER_GET,
		       IOMMU_REG_A_CONTAINER_ID, root_id, &t) ||
	    t.u || t.root || t.other) {
		fprintf(stderr, "U: CONTAINER_GET of root's: %d/%d/%d\n",
			t.u, t.root, t.other);
		ret |= 4;
	}
	if (dump_tally(nl, IOMMU_REG_CMD_REGION_GET, 0, 0, &t) ||
	    t.u != ST_NL_U_REGIONS || t.root || t.other) {
		fprintf(stderr, "U: REGION_GET: err %d, %d/%d/%d\n",
			nl->err, t.u, t.root, t.other);
		ret |= 8;
	}
	if (dump_tally(nl, IOMMU_REG_CMD_REGION_GET, IOMMU_REG_A_PID,
		       root_pid, &t) || t.u || t.root || t.other) {
		fprintf(stderr, "U: REGION_GET by root's pid: %d/%d/%d\n",
			t.u, t.root, t.other);
		ret |= 16;
	}
	if (dump_tally(nl, IOMMU_REG_CMD_REGION_GET, IOMMU_REG_A_CONTAINER_ID,
		       root_id, &t) || t.u || t.root || t.other) {
		fprintf(stderr, "U: REGION_GET of root's container: %d/%d/%d\n",
			t.u, t.root, t.other);
		ret |= 32;
	}
	errno = 0;
	if (!setsockopt(nl->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
			&nl->events_group, sizeof(nl->events_group)) ||
	    errno != EPERM) {
		fprintf(stderr, "U: NETLINK_ADD_MEMBERSHIP: %s\n",
			strerror(errno));
		ret |= 64;
	}
	/*
	 * bind() takes a mask of the first 32 groups only, on a socket not
	 * bound yet (nl's is, by its first send: a new portid is EINVAL).
	 */
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd >= 0 && nl->events_group <= 32) {
		sa.nl_groups = 1U << (nl->events_group - 1);
		errno = 0;
		if (!bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    errno != EPERM) {
			fprintf(stderr, "U: bind to group %u: %s\n",
				nl->events_group, strerror(errno));
			ret |= 128;
		}
	}
	if (fd >= 0)
		close(fd);
	close(nl->fd);
	return ret;
}

TEST_F(netlink, unprivileged_every_command)
{
	struct two_owners o;
	uint32_t root_id = 0, pid = getpid();
	struct tally t;
	struct nl *nl;

	two_owners_begin(&o, nl, u_every_command);
	ASSERT_EQ(0, nl_open(nl));
	ASSERT_NE(0, send_dump(nl, IOMMU_REG_CMD_CONTAINER_GET,
			       IOMMU_REG_A_PID, pid));
	ASSERT_EQ(0, nl_recv(nl, container_id_cb, &root_id));
	ASSERT_NE(0, root_id);
	ASSERT_EQ(0, xwrite(o.sock, &root_id, sizeof(root_id)));
	ASSERT_EQ(0, xwrite(o.sock, &pid, sizeof(pid)));

	/* Root sees both containers and all regions. */
	ASSERT_EQ(0, dump_tally(nl, IOMMU_REG_CMD_CONTAINER_GET, 0, 0, &t));
	EXPECT_EQ(1, t.u);
	EXPECT_LE(1, t.root);
	ASSERT_EQ(0, dump_tally(nl, IOMMU_REG_CMD_REGION_GET, 0, 0, &t));
	EXPECT_EQ(ST_NL_U_REGIONS, t.u);
	EXPECT_LE(ST_NL_ROOT_REGIONS, t.root);
	close(nl->fd);
	free(nl);
	EXPECT_EQ(0, two_owners_end(&o))
		TH_LOG("U's exit status: a mask of the failed checks");
}

/*
 * A dump waiting for a busy container's lock holds nothing else: another
 * dump goes on meanwhile.  The lock is held by a large IOMMU_REG_REGISTER
 * mapping ST_NL_BUSY_SIZE of scattered 4 KiB pages (one iommu_map() and
 * IOTLB flush each); a thread loops on dumps of that container until one
 * is seen asleep in the dump (on the container's lock); then a dump of another
 * container must come back before the REGISTER does.  It would block until
 * then if the first dump held the registry lock while it waited.
 */
#define ST_NL_BUSY_SIZE	(512UL << 20)

struct busy {
	int container;
	uint8_t *buf;
	uint32_t x_id;
	pid_t x_tid;
	volatile int reg_done;
	volatile int x_started;
	int reg_ret, reg_errno;
	uint64_t reg_start_us, reg_end_us;
};

static void *busy_register(void *arg)
{
	struct busy *b = arg;

	b->reg_start_us = clock_now_us();
	b->reg_ret = _test_register(b->container, b->buf, ST_NL_BUSY_SIZE,
				    0, ST_PROT_RW, NULL, NULL);
	b->reg_errno = errno;
	b->reg_end_us = clock_now_us();
	__atomic_store_n(&b->reg_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *busy_x_dumps(void *arg)
{
	struct busy *b = arg;
	struct nl *nl = calloc(1, sizeof(*nl));
	struct tally t;

	b->x_tid = gettid();
	if (!nl || nl_open(nl))
		return NULL;
	__atomic_store_n(&b->x_started, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&b->reg_done, __ATOMIC_SEQ_CST))
		if (dump_tally(nl, IOMMU_REG_CMD_CONTAINER_GET,
			       IOMMU_REG_A_CONTAINER_ID, b->x_id, &t))
			break;
	close(nl->fd);
	free(nl);
	return NULL;
}

/*
 * True when thread @tid sleeps in a netlink dump of ours: on a container's
 * lock (mutex_lock() is a scheduler function, so wchan names its caller).
 */
static bool asleep_in_dump(pid_t tid)
{
	char path[64], wchan[128] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/wchan", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, wchan, sizeof(wchan) - 1);
	close(fd);
	if (n > 0)
		wchan[n] = '\0';
	return !strncmp(wchan, "iommu_reg_nl_", 13);
}

enum busy_probe {
	PROBE_NEW_CONTAINER,	/* VFIO_SET_IOMMU: the registry lock */
	PROBE_DUMP_OTHER,	/* a dump of another container */
};

/* Hold X's lock with a REGISTER, a dump asleep on it, then @probe. */
static void busy_container(struct __test_metadata *_metadata,
			   FIXTURE_DATA(netlink) *self, enum busy_probe probe)
{
	struct busy b = { .container = self->container };
	uint32_t y_id = 0, ids[3] = { 0 };
	int y_group = -1, y = -1, done_before, done_after;
	long i, npages = ST_NL_BUSY_SIZE / 4096;
	uint64_t t0, probe_us, seen_us = 0;
	pthread_t reg, xd;
	uint8_t *spacer;
	struct tally t;
	struct nl *nl;

	nl = calloc(1, sizeof(*nl));
	ASSERT_NE(NULL, nl);
	ASSERT_EQ(0, nl_open(nl));
	if (probe == PROBE_DUMP_OTHER) {
		y = st_container_open(st_edu_bdf(1), &y_group);
		ASSERT_LE(0, y);
	}
	/* In id order: the fixture's container X, then Y if opened. */
	ASSERT_NE(0, send_dump(nl, IOMMU_REG_CMD_CONTAINER_GET,
			       IOMMU_REG_A_PID, getpid()));
	ASSERT_EQ(0, nl_recv(nl, container_ids_cb, ids));
	ASSERT_EQ(y >= 0 ? 2 : 1, ids[0]);
	b.x_id = ids[1];
	y_id = ids[2];

	/*
	 * 4 KiB pages, faulted in turn with those of a spacer buffer, so
	 * that no two of the buffer's are physically contiguous.
	 */
	b.buf = mmap(NULL, ST_NL_BUSY_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	spacer = mmap(NULL, ST_NL_BUSY_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, b.buf);
	ASSERT_NE(MAP_FAILED, spacer);
	ASSERT_EQ(0, madvise(b.buf, ST_NL_BUSY_SIZE, MADV_NOHUGEPAGE));
	ASSERT_EQ(0, madvise(spacer, ST_NL_BUSY_SIZE, MADV_NOHUGEPAGE));
	for (i = 0; i < npages; i++) {
		b.buf[i * 4096] = 1;
		spacer[i * 4096] = 1;
	}
	munmap(spacer, ST_NL_BUSY_SIZE);

	ASSERT_EQ(0, pthread_create(&xd, NULL, busy_x_dumps, &b));
	while (!__atomic_load_n(&b.x_started, __ATOMIC_SEQ_CST))
		usleep(1000);
	ASSERT_EQ(0, pthread_create(&reg, NULL, busy_register, &b));
	t0 = clock_now_us();
	while (!__atomic_load_n(&b.reg_done, __ATOMIC_SEQ_CST) &&
	       clock_now_us() - t0 < 60000000) {
		if (asleep_in_dump(b.x_tid)) {
			seen_us = clock_now_us();
			break;
		}
		usleep(200);
	}
	done_before = __atomic_load_n(&b.reg_done, __ATOMIC_SEQ_CST);
	probe_us = clock_now_us();
	if (probe == PROBE_DUMP_OTHER) {
		EXPECT_EQ(0, dump_tally(nl, IOMMU_REG_CMD_CONTAINER_GET,
					IOMMU_REG_A_CONTAINER_ID, y_id, &t));
		EXPECT_EQ(1, t.root);
	} else {
		y = st_container_open(st_edu_bdf(1), &y_group);
		EXPECT_LE(0, y) TH_LOG("a new container: %s", strerror(errno));
	}
	probe_us = clock_now_us() - probe_us;
	done_after = __atomic_load_n(&b.reg_done, __ATOMIC_SEQ_CST);

	pthread_join(reg, NULL);
	pthread_join(xd, NULL);
	ASSERT_EQ(0, b.reg_ret) TH_LOG("REGISTER: %s", strerror(b.reg_errno));
	TH_LOG("REGISTER of %lu MiB took %.3f s; the dump of X asleep "
	       "%.3f s in; the %s took %.3f s",
	       ST_NL_BUSY_SIZE >> 20,
	       (b.reg_end_us - b.reg_start_us) / 1e6,
	       seen_us ? (seen_us - b.reg_start_us) / 1e6 : -1.0,
	       probe == PROBE_DUMP_OTHER ? "dump of Y" : "new container",
	       probe_us / 1e6);
	if (!seen_us || done_before)
		SKIP(goto out, "the REGISTER was over before a dump waited "
			       "for it: nothing was tested");
	EXPECT_EQ(0, done_after)
		TH_LOG("the %s waited for the REGISTER on X",
		       probe == PROBE_DUMP_OTHER ? "dump of Y" :
		       "new container");
out:
	munmap(b.buf, ST_NL_BUSY_SIZE);
	if (y_group >= 0)
		close(y_group);
	if (y >= 0)
		close(y);
	close(nl->fd);
	free(nl);
}

/*
 * The locking fix: a dump asleep on a busy container's lock holds no
 * registry lock, so a new container (VFIO_SET_IOMMU registers it) is not
 * held up by it.
 */
TEST_F(netlink, dump_waiting_on_container_holds_no_registry_lock)
{
	SKIP_WITHOUT_TWO_EDU();
	busy_container(_metadata, self, PROBE_NEW_CONTAINER);
}

/*
 * Nor is a dump of another container.  Beyond the registry lock this
 * needs the family's dumps not to run under the global genl_mutex, as
 * they do unless the family sets parallel_ops: a dumpit asleep on a
 * container's lock then holds up every request of every generic netlink
 * family without parallel_ops.
 */
TEST_F(netlink, dump_waiting_on_container_holds_up_no_other_dump)
{
	SKIP_WITHOUT_TWO_EDU();
	busy_container(_metadata, self, PROBE_DUMP_OTHER);
}

/*
 * A region whose message outgrows any dump message (each mapping is some
 * 44 bytes; a dump message is at most 32 KiB): the dump must not end as if
 * the region did not exist.  It goes on in further messages, each naming
 * the region with IOMMU_REG_A_NR_MAPPINGS giving the total.
 */
#define ST_NL_MANY_MAPPINGS	1024

struct one_region {
	int regions;
	uint32_t handle;
	int mappings;
	uint64_t nr_mappings;
};

static void one_region_cb(struct nlmsghdr *nlh, void *arg)
{
	struct one_region *o = arg;
	struct nlattr *m = attr(nlh, IOMMU_REG_A_MAPPINGS), *a;
	int len;

	if (!attr(nlh, IOMMU_REG_A_HANDLE))
		return;
	/* A region's further messages name it again. */
	if (!o->regions || ATTR_U32(nlh, IOMMU_REG_A_HANDLE) != o->handle)
		o->regions++;
	o->handle = ATTR_U32(nlh, IOMMU_REG_A_HANDLE);
	a = attr(nlh, IOMMU_REG_A_NR_MAPPINGS);
	if (a)
		memcpy(&o->nr_mappings, NLA_DATA(a), sizeof(o->nr_mappings));
	if (!m)
		return;
	len = m->nla_len - NLA_HDRLEN;
	NLA_FOR_EACH(a, (struct nlattr *)NLA_DATA(m), len)
		o->mappings++;
}

TEST_F(netlink, region_with_many_mappings)
{
	size_t size = ST_NL_MANY_MAPPINGS * 4096UL;
	struct one_region o = { 0 };
	uint32_t handle, pid = getpid();
	struct nl *nl = &self->nl;
	char *p;
	int i, ret;

	if (self->container < 0)
		SKIP(return, "no edu device");
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, _test_prereg(self->container, p, size, 0, &handle,
				  NULL));
	for (i = 0; i < ST_NL_MANY_MAPPINGS; i++)
		ASSERT_EQ(0, _test_map(self->container, handle, i * 4096UL,
				       4096, ST_PROT_RW, 0, NULL))
			TH_LOG("MAP %d: %s", i, strerror(errno));

	ASSERT_NE(0, send_dump(nl, IOMMU_REG_CMD_REGION_GET, IOMMU_REG_A_PID,
			       pid));
	ret = nl_recv(nl, one_region_cb, &o);
	TH_LOG("dump: %d (%s), %d region(s), %d mapping(s) listed of %llu",
	       ret, ret ? strerror(nl->err) : "done", o.regions, o.mappings,
	       (unsigned long long)o.nr_mappings);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(1, o.regions)
		TH_LOG("the dump ended before the region that did not fit a "
		       "message");
	EXPECT_EQ(ST_NL_MANY_MAPPINGS, o.nr_mappings);
	EXPECT_LT(0, o.mappings);
	EXPECT_GE(ST_NL_MANY_MAPPINGS, o.mappings);
	munmap(p, size);
}

/*
 * A region whose mappings fill several dump messages: the dump goes on
 * inside the region's mapping list, each message naming the region again,
 * so that every mapping is listed exactly once, none cut off.
 */
#define NL_SPLIT_MAPPINGS	2048

struct split_region {
	uint32_t handle;
	int msgs, other, unknown;
	uint64_t iova[NL_SPLIT_MAPPINGS];
	int seen[NL_SPLIT_MAPPINGS];
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void split_region_cb(struct nlmsghdr *nlh, void *arg)
{
	struct split_region *s = arg;
	struct nlattr *m = attr(nlh, IOMMU_REG_A_MAPPINGS), *one, *a;
	uint64_t iova, *hit;
	int len, olen;

	if (!attr(nlh, IOMMU_REG_A_HANDLE))
		return;
	if (ATTR_U32(nlh, IOMMU_REG_A_HANDLE) != s->handle) {
		s->other++;
		return;
	}
	s->msgs++;
	if (!m)
		return;
	len = m->nla_len - NLA_HDRLEN;
	NLA_FOR_EACH(one, (struct nlattr *)NLA_DATA(m), len) {
		olen = one->nla_len - NLA_HDRLEN;
		iova = UINT64_MAX;
		NLA_FOR_EACH(a, (struct nlattr *)NLA_DATA(one), olen)
			if (a->nla_type == IOMMU_REG_A_IOVA)
				memcpy(&iova, NLA_DATA(a), sizeof(iova));
		hit = bsearch(&iova, s->iova, NL_SPLIT_MAPPINGS,
			      sizeof(iova), cmp_u64);
		if (hit)
			s->seen[hit - s->iova]++;
		else
			s->unknown++;
	}
}

/*
 * One region of NL_SPLIT_MAPPINGS 4 KiB mappings: more than one netlink
 * message holds.  Returns its buffer; s->iova is sorted.
 */
static char *split_region_make(struct __test_metadata *_metadata,
			       FIXTURE_DATA(netlink) *self,
			       struct split_region *s)
{
	size_t size = NL_SPLIT_MAPPINGS * 4096UL;
	char *p;
	int i;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (_test_prereg(self->container, p, size, 0, &s->handle, NULL)) {
		TH_LOG("PREREG: %s", strerror(errno));
		return NULL;
	}
	for (i = 0; i < NL_SPLIT_MAPPINGS; i++) {
		if (_test_map(self->container, s->handle, i * 4096UL, 4096,
			      ST_PROT_RW, 0, &s->iova[i])) {
			TH_LOG("MAP %d: %s", i, strerror(errno));
			return NULL;
		}
	}
	qsort(s->iova, NL_SPLIT_MAPPINGS, sizeof(s->iova[0]), cmp_u64);
	return p;
}

TEST_F(netlink, region_dump_lists_every_mapping_once)
{
	struct split_region *s;
	int i, once = 0, ret;
	char *p;

	if (self->container < 0)
		SKIP(return, "no edu device");
	s = calloc(1, sizeof(*s));
	ASSERT_NE(NULL, s);
	p = split_region_make(_metadata, self, s);
	ASSERT_NE(NULL, p);

	ASSERT_NE(0, send_dump(&self->nl, IOMMU_REG_CMD_REGION_GET,
			       IOMMU_REG_A_PID, getpid()));
	ret = nl_recv(&self->nl, split_region_cb, s);
	for (i = 0; i < NL_SPLIT_MAPPINGS; i++)
		once += s->seen[i] == 1;
	TH_LOG("dump: %d (%s), %d message(s), %d of %d mappings listed once, %d unknown",
	       ret, ret ? strerror(self->nl.err) : "done", s->msgs, once,
	       NL_SPLIT_MAPPINGS, s->unknown);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, s->other);
	EXPECT_LT(1, s->msgs);
	EXPECT_EQ(0, s->unknown);
	EXPECT_EQ(NL_SPLIT_MAPPINGS, once);
	munmap(p, NL_SPLIT_MAPPINGS * 4096UL);
	free(s);
}

/* Occurrences of @needle in @hay. */
static int count_str(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/*
 * The admin tool prints that region as one object with every mapping,
 * although it comes in several messages (iommu-reg -j region show).
 */
TEST_F(netlink, tool_shows_split_region_as_one)
{
	static const char tool[] = "/usr/bin/iommu-reg";
	char cmd[128], *out;
	struct split_region *s;
	size_t len = 0, cap = 1 << 20;
	FILE *f;
	char *p;

	if (self->container < 0)
		SKIP(return, "no edu device");
	if (access(tool, X_OK))
		SKIP(return, "no %s in this VM run", tool);
	s = calloc(1, sizeof(*s));
	out = malloc(cap);
	ASSERT_NE(NULL, s);
	ASSERT_NE(NULL, out);
	p = split_region_make(_metadata, self, s);
	ASSERT_NE(NULL, p);

	snprintf(cmd, sizeof(cmd), "%s -j region show pid %d", tool, getpid());
	f = popen(cmd, "r");
	ASSERT_NE(NULL, f);
	while (len < cap - 1 && !feof(f))
		len += fread(out + len, 1, cap - 1 - len, f);
	out[len] = '\0';
	EXPECT_EQ(0, pclose(f));
	/* One region object, holding every mapping once. */
	EXPECT_EQ(1, count_str(out, "\"handle\""));
	EXPECT_EQ(NL_SPLIT_MAPPINGS, count_str(out, "\"iova\""));
	munmap(p, NL_SPLIT_MAPPINGS * 4096UL);
	free(out);
	free(s);
}

TEST_HARNESS_MAIN
