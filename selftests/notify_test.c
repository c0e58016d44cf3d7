// SPDX-License-Identifier: GPL-2.0-only
/*
 * Invalidation: the status area, the notify fd and what makes a region
 * stale.
 */
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/falloc.h>
#include "reg_helpers.h"
#include "edu.h"
#include "kselftest_harness.h"

#define PAGE	4096UL
#define HPAGE	(2UL << 20)

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif
#ifndef MPOL_MF_MOVE
#define MPOL_MF_MOVE	(1 << 1)
#endif

FIXTURE(notify) {
	int container;
	int group;
	int fd;
	const struct iommu_reg_status *status;
	size_t status_size;
	const uint32_t *gens;
};

static int notify_open(int container, uint32_t queue_len, int *fd,
		       size_t *status_size)
{
	struct iommu_reg_notify cmd = {
		.argsz = sizeof(cmd),
		.queue_len = queue_len,
	};

	if (ioctl(container, IOMMU_REG_NOTIFY, &cmd))
		return -errno;
	*fd = cmd.fd;
	*status_size = cmd.status_size;
	return 0;
}

FIXTURE_SETUP(notify)
{
	const char *bdf = st_edu_bdf(0);
	void *p;

	self->fd = -1;
	if (!bdf)
		SKIP(return, "no edu device in IREG_EDU_BDFS");
	self->container = st_container_open(bdf, &self->group);
	ASSERT_LE(0, self->container);
	ASSERT_EQ(0, notify_open(self->container, 0, &self->fd,
				 &self->status_size));
	p = mmap(NULL, self->status_size, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	self->status = p;
	ASSERT_EQ(IOMMU_REG_STATUS_MAGIC, self->status->magic);
	ASSERT_EQ(1, self->status->version);
	self->gens = (const uint32_t *)((const char *)p +
					self->status->slot_offset);
}

FIXTURE_TEARDOWN(notify)
{
	if (self->status)
		munmap((void *)self->status, self->status_size);
	if (self->fd >= 0)
		close(self->fd);
	close(self->group);
	close(self->container);
}

static int prereg(int container, void *p, size_t size, uint32_t flags,
		  struct iommu_reg_prereg *out)
{
	struct iommu_reg_prereg cmd = {
		.argsz = sizeof(cmd),
		.flags = flags,
		.vaddr = (uintptr_t)p,
		.size = size,
	};

	if (ioctl(container, IOMMU_REG_PREREG, &cmd))
		return -errno;
	if (out)
		*out = cmd;
	return 0;
}

static int unreg(int container, uint32_t handle, uint32_t flags)
{
	struct iommu_reg_unreg cmd = {
		.argsz = sizeof(cmd),
		.flags = flags,
		.handle = handle,
	};

	return ioctl(container, IOMMU_REG_UNREG, &cmd) ? -errno : 0;
}

static void *anon(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0x11, size);
	return p;
}

/* An address that is not mapped, hidden from the compiler's checks. */
static void *bad_pointer(uintptr_t addr)
{
	volatile uintptr_t a = addr;

	return (void *)a;
}

/* Events waiting now, without blocking; -1 on error. */
static int read_events(int fd, struct iommu_reg_event *ev, int max)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, 0) < 0)
		return -1;
	if (!(pfd.revents & POLLIN))
		return 0;
	n = read(fd, ev, max * sizeof(*ev));
	if (n < 0 || n % sizeof(*ev))
		return -1;
	return n / sizeof(*ev);
}

static bool valid(FIXTURE_DATA(notify) *self,
		  const struct iommu_reg_prereg *reg)
{
	return __atomic_load_n(&self->gens[reg->slot], __ATOMIC_ACQUIRE) ==
	       reg->generation;
}

static void expect_one_event(struct __test_metadata *_metadata, int fd,
			     uint32_t handle, uint32_t reason)
{
	struct iommu_reg_event ev[4];

	ASSERT_EQ(1, read_events(fd, ev, 4));
	EXPECT_EQ(IOMMU_REG_EVENT_INVALIDATE, ev[0].type);
	EXPECT_EQ(handle, ev[0].handle);
	EXPECT_EQ(reason, ev[0].reason);
}

/* @size bytes of fresh anonymous memory at *p, pre-registered as *reg. */
static void anon_region(struct __test_metadata *_metadata,
			FIXTURE_DATA(notify) *self, size_t size, char **p,
			struct iommu_reg_prereg *reg)
{
	*p = anon(size);
	ASSERT_NE(NULL, *p);
	ASSERT_EQ(0, prereg(self->container, *p, size, 0, reg));
}

/* @reg went stale, with one event of @reason; then let it go. */
static void expect_stale(struct __test_metadata *_metadata,
			 FIXTURE_DATA(notify) *self,
			 const struct iommu_reg_prereg *reg, uint32_t reason)
{
	EXPECT_FALSE(valid(self, reg));
	expect_one_event(_metadata, self->fd, reg->handle, reason);
	EXPECT_EQ(0, unreg(self->container, reg->handle, 0));
}

/* @reg is still valid and no event came; then let it go. */
static void expect_still_valid(struct __test_metadata *_metadata,
			       FIXTURE_DATA(notify) *self,
			       const struct iommu_reg_prereg *reg)
{
	struct iommu_reg_event ev[4];

	EXPECT_TRUE(valid(self, reg));
	EXPECT_EQ(0, read_events(self->fd, ev, 4));
	EXPECT_EQ(0, unreg(self->container, reg->handle, 0));
}

TEST_F(notify, munmap_invalidates)
{
	struct iommu_reg_event ev[4];
	struct iommu_reg_prereg reg;
	uint64_t inval = self->status->invalidations;
	char *p;

	anon_region(_metadata, self, 4 * PAGE, &p, &reg);
	ASSERT_LT(reg.slot, self->status->nr_slots);
	EXPECT_TRUE(valid(self, &reg));
	EXPECT_EQ(0, read_events(self->fd, ev, 4));

	/* Part of the range is enough. */
	ASSERT_EQ(0, munmap(p + PAGE, PAGE));
	EXPECT_FALSE(valid(self, &reg));
	EXPECT_EQ(inval + 1, self->status->invalidations);

	ASSERT_EQ(1, read_events(self->fd, ev, 4));
	EXPECT_EQ(IOMMU_REG_EVENT_INVALIDATE, ev[0].type);
	EXPECT_EQ(IOMMU_REG_REASON_UNMAP, ev[0].reason);
	EXPECT_EQ(reg.handle, ev[0].handle);
	EXPECT_EQ((uintptr_t)p, ev[0].vaddr);
	EXPECT_EQ(4 * PAGE, ev[0].length);
	EXPECT_EQ(self->gens[reg.slot], ev[0].generation);
	EXPECT_NE(reg.generation, ev[0].generation);

	/* A stale region keeps its handle until its owner lets it go. */
	EXPECT_EQ(0, unreg(self->container, reg.handle, 0));
	EXPECT_EQ(-ENOENT, unreg(self->container, reg.handle, 0));
	munmap(p, 4 * PAGE);
}

TEST_F(notify, munmap_unrelated_is_silent)
{
	struct iommu_reg_prereg reg;
	char *p = anon(4 * PAGE);
	char *q = anon(4 * PAGE);

	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, q);
	ASSERT_EQ(0, prereg(self->container, p + PAGE, 2 * PAGE, 0, &reg));
	/* Neighbours of the range, and another mapping entirely. */
	ASSERT_EQ(0, munmap(p, PAGE));
	ASSERT_EQ(0, munmap(p + 3 * PAGE, PAGE));
	ASSERT_EQ(0, munmap(q, 4 * PAGE));
	expect_still_valid(_metadata, self, &reg);
	munmap(p + PAGE, 2 * PAGE);
}

TEST_F(notify, mremap_invalidates)
{
	struct iommu_reg_prereg reg;
	char *p, *q;

	anon_region(_metadata, self, 2 * PAGE, &p, &reg);
	q = mremap(p, 2 * PAGE, 8 * PAGE, MREMAP_MAYMOVE);
	ASSERT_NE(MAP_FAILED, q);
	if (q == p)
		SKIP(munmap(q, 8 * PAGE); return, "mremap grew in place");
	expect_stale(_metadata, self, &reg, IOMMU_REG_REASON_UNMAP);
	munmap(q, 8 * PAGE);
}

TEST_F(notify, map_fixed_invalidates)
{
	struct iommu_reg_prereg reg;
	char *p;

	anon_region(_metadata, self, 2 * PAGE, &p, &reg);
	ASSERT_EQ(p, mmap(p, PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	expect_stale(_metadata, self, &reg, IOMMU_REG_REASON_UNMAP);
	munmap(p, 2 * PAGE);
}

TEST_F(notify, madv_dontneed_invalidates)
{
	struct iommu_reg_prereg reg;
	char *p;

	anon_region(_metadata, self, 2 * PAGE, &p, &reg);
	ASSERT_EQ(0, madvise(p, PAGE, MADV_DONTNEED));
	expect_stale(_metadata, self, &reg, IOMMU_REG_REASON_CLEAR);
	munmap(p, 2 * PAGE);
}

/* Same pages, other protection: still valid. */
TEST_F(notify, mprotect_keeps_valid)
{
	struct iommu_reg_prereg reg;
	char *p;

	anon_region(_metadata, self, 2 * PAGE, &p, &reg);
	ASSERT_EQ(0, mprotect(p, 2 * PAGE, PROT_READ));
	ASSERT_EQ(0, mprotect(p, 2 * PAGE, PROT_READ | PROT_WRITE));
	expect_still_valid(_metadata, self, &reg);
	munmap(p, 2 * PAGE);
}

/* fork() write-protects the parent for copy-on-write: not a change. */
TEST_F(notify, fork_keeps_parent_valid)
{
	struct iommu_reg_prereg reg;
	char *p;
	int status;
	pid_t pid;

	anon_region(_metadata, self, 4 * PAGE, &p, &reg);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		memset(p, 0x22, 4 * PAGE);	/* the child's copy */
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0x11, p[0]);
	p[PAGE] = 0x33;				/* the parent writes too */
	expect_still_valid(_metadata, self, &reg);
	munmap(p, 4 * PAGE);
}

/* Registering a stale range again pins the new pages under a new handle. */
TEST_F(notify, reregister_after_remap)
{
	struct iommu_reg_prereg old, new, again;
	struct iommu_reg_event ev[4];
	char *p = anon(2 * PAGE);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, prereg(self->container, p, 2 * PAGE, 0, &old));
	ASSERT_EQ(p, mmap(p, 2 * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	memset(p, 0x44, 2 * PAGE);
	ASSERT_EQ(1, read_events(self->fd, ev, 4));

	ASSERT_EQ(0, prereg(self->container, p, 2 * PAGE, 0, &new));
	EXPECT_NE(old.handle, new.handle);
	EXPECT_EQ(1, new.refs);
	EXPECT_TRUE(valid(self, &new));
	EXPECT_FALSE(valid(self, &old));

	/* The new region is the one register-once finds now. */
	ASSERT_EQ(0, prereg(self->container, p, 2 * PAGE, 0, &again));
	EXPECT_EQ(new.handle, again.handle);
	EXPECT_EQ(2, again.refs);

	EXPECT_EQ(0, unreg(self->container, new.handle, 0));
	EXPECT_EQ(0, unreg(self->container, new.handle, 0));
	EXPECT_EQ(0, unreg(self->container, old.handle, 0));
	/* A freed region's slot moved on: a stale cache entry cannot match. */
	EXPECT_FALSE(valid(self, &new));
	munmap(p, 2 * PAGE);
}

TEST_F(notify, ten_thousand_in_one_munmap)
{
	const int nr = 10000;
	struct iommu_reg_event *ev;
	struct iommu_reg_prereg *regs;
	char *p = anon(nr * PAGE);
	uint8_t *seen;
	int i, got = 0, n;

	ASSERT_NE(NULL, p);
	regs = calloc(nr, sizeof(*regs));
	ev = calloc(256, sizeof(*ev));
	ASSERT_NE(NULL, regs);
	ASSERT_NE(NULL, ev);
	for (i = 0; i < nr; i++)
		ASSERT_EQ(0, prereg(self->container, p + i * PAGE, PAGE, 0,
				    &regs[i]));

	ASSERT_EQ(0, munmap(p, nr * PAGE));

	seen = calloc(nr + 1, 1);
	ASSERT_NE(NULL, seen);
	while ((n = read_events(self->fd, ev, 256)) > 0) {
		for (i = 0; i < n; i++) {
			int idx = (ev[i].vaddr - (uintptr_t)p) / PAGE;

			ASSERT_EQ(IOMMU_REG_EVENT_INVALIDATE, ev[i].type);
			ASSERT_LE(0, idx);
			ASSERT_GT(nr, idx);
			ASSERT_EQ(regs[idx].handle, ev[i].handle);
			ASSERT_EQ(0, seen[idx]);
			seen[idx] = 1;
			got++;
		}
	}
	EXPECT_EQ(0, n);
	EXPECT_EQ(nr, got);
	for (i = 0; i < nr; i++)
		ASSERT_FALSE(valid(self, &regs[i]));
	for (i = 0; i < nr; i++)
		ASSERT_EQ(0, unreg(self->container, regs[i].handle, 0));
	free(seen);
	free(ev);
	free(regs);
}

/* A full queue drops events, counts them and owes a RESYNC record. */
TEST_F(notify, overflow_resyncs)
{
	const int nr = 20, qlen = 8;
	struct iommu_reg_event ev[32];
	struct iommu_reg_prereg reg;
	size_t size = 0;
	char *p;
	int fd = -1, n, i;

	/* A second fd needs the first closed; reopen with a small queue. */
	munmap((void *)self->status, self->status_size);
	self->status = NULL;
	close(self->fd);
	ASSERT_EQ(0, notify_open(self->container, qlen, &fd, &size));
	self->fd = fd;

	p = anon(nr * PAGE);
	ASSERT_NE(NULL, p);
	for (i = 0; i < nr; i++)
		ASSERT_EQ(0, prereg(self->container, p + i * PAGE, PAGE, 0,
				    &reg));
	ASSERT_EQ(0, munmap(p, nr * PAGE));

	n = read_events(fd, ev, 32);
	ASSERT_EQ(qlen + 1, n);
	EXPECT_EQ(IOMMU_REG_EVENT_RESYNC, ev[0].type);
	EXPECT_EQ(nr - qlen, ev[0].length);	/* events lost */
	for (i = 1; i < n; i++)
		EXPECT_EQ(IOMMU_REG_EVENT_INVALIDATE, ev[i].type);
	EXPECT_EQ(0, read_events(fd, ev, 32));
	EXPECT_EQ(nr - qlen, (int)((const struct iommu_reg_status *)
				  mmap(NULL, size, PROT_READ, MAP_SHARED, fd,
				       0))->events_lost);
}

TEST_F(notify, status_is_read_only)
{
	void *p;

	p = mmap(NULL, self->status_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
	p = mmap(NULL, self->status_size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		 self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mprotect((void *)self->status, PAGE,
			       PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	/* Beyond the area. */
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->fd,
		 self->status_size);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(notify, notify_bad_input)
{
	struct {
		struct iommu_reg_notify cmd;
		uint64_t tail;
	} big = {};
	struct iommu_reg_event ev;
	int fd;

	/* One fd per container. */
	big.cmd.argsz = sizeof(big.cmd);
	EXPECT_EQ(-1, ioctl(self->container, IOMMU_REG_NOTIFY, &big));
	EXPECT_EQ(EBUSY, errno);

	/* The length contract is reg_test's cmd_length.notify. */
	big.cmd.argsz = sizeof(big);
	big.cmd.flags = 1;
	EXPECT_EQ(-1, ioctl(self->container, IOMMU_REG_NOTIFY, &big));
	EXPECT_EQ(EINVAL, errno);
	big.cmd.flags = 0;
	big.cmd.queue_len = (1U << 20) + 1;
	EXPECT_EQ(-1, ioctl(self->container, IOMMU_REG_NOTIFY, &big));
	EXPECT_EQ(EINVAL, errno);

	/* Reads smaller than a record; non-blocking reads of nothing. */
	EXPECT_EQ(-1, read(self->fd, &ev, sizeof(ev) - 1));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-1, read(self->fd, &ev, sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, read(self->fd, bad_pointer(0), sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, write(self->fd, &ev, sizeof(ev)));

	/* Closed, a new fd (larger struct, zero tail) can be opened. */
	munmap((void *)self->status, self->status_size);
	self->status = NULL;
	close(self->fd);
	self->fd = -1;
	big.cmd.queue_len = 4;
	ASSERT_EQ(0, ioctl(self->container, IOMMU_REG_NOTIFY, &big));
	EXPECT_EQ(4, big.cmd.queue_len);
	EXPECT_EQ(0, big.tail);
	fd = big.cmd.fd;
	EXPECT_LE(0, fd);
	EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	self->fd = fd;
}

/* A failed copy to user space consumes nothing. */
TEST_F(notify, read_fault_loses_nothing)
{
	struct iommu_reg_prereg reg;
	struct iommu_reg_event ev[2];
	char *p = anon(PAGE);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, prereg(self->container, p, PAGE, 0, &reg));
	ASSERT_EQ(0, munmap(p, PAGE));
	EXPECT_EQ(-1, read(self->fd, bad_pointer(8), sizeof(ev[0])));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(1, read_events(self->fd, ev, 2));
	EXPECT_EQ(reg.handle, ev[0].handle);
}

/* The backend goes away: readers see POLLHUP and end-of-file. */
TEST_F(notify, hangup_on_release)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	struct iommu_reg_event ev;

	ASSERT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_UNSET_CONTAINER));
	ASSERT_EQ(1, poll(&pfd, 1, 1000));
	EXPECT_TRUE(pfd.revents & POLLHUP);
	EXPECT_EQ(0, read(self->fd, &ev, sizeof(ev)));
	/* The status area stays readable. */
	EXPECT_EQ(IOMMU_REG_STATUS_MAGIC, self->status->magic);
}

/* A blocked reader wakes for an event from another thread's munmap. */
struct unmapper {
	void *p;
	size_t size;
};

static void *unmap_later(void *arg)
{
	struct unmapper *u = arg;

	usleep(100000);
	munmap(u->p, u->size);
	return NULL;
}

TEST_F(notify, blocking_read_wakes)
{
	struct iommu_reg_prereg reg;
	struct iommu_reg_event ev;
	struct unmapper u = { .size = PAGE };
	pthread_t t;

	u.p = anon(PAGE);
	ASSERT_NE(NULL, u.p);
	ASSERT_EQ(0, prereg(self->container, u.p, PAGE, 0, &reg));
	ASSERT_EQ(0, pthread_create(&t, NULL, unmap_later, &u));
	ASSERT_EQ(sizeof(ev), read(self->fd, &ev, sizeof(ev)));
	EXPECT_EQ(reg.handle, ev.handle);
	pthread_join(t, NULL);
}

/*
 * The notifier must not deadlock against the ioctl paths: threads
 * register and unregister overlapping ranges while others munmap and
 * mmap them again, for a bounded time.
 */
struct churn {
	int container;
	char *base;
	size_t pages;
	volatile bool stop;
	unsigned long ops;
};

static void *churn_register(void *arg)
{
	struct churn *c = arg;
	unsigned int seed = (uintptr_t)&seed;

	while (!c->stop) {
		size_t i = rand_r(&seed) % c->pages;
		struct iommu_reg_prereg reg;

		if (!prereg(c->container, c->base + i * PAGE, PAGE, 0, &reg))
			unreg(c->container, reg.handle, IOMMU_REG_UNREG_UNMAP);
		__atomic_add_fetch(&c->ops, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *churn_remap(void *arg)
{
	struct churn *c = arg;
	unsigned int seed = (uintptr_t)&seed;

	while (!c->stop) {
		char *p = c->base + (rand_r(&seed) % c->pages) * PAGE;

		mmap(p, PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		p[0] = 1;
		__atomic_add_fetch(&c->ops, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * Four threads, one running each of @fn, churn for 2 s while the events
 * are read; more than 100 operations must get through.
 */
static void churn_run(struct __test_metadata *_metadata,
		      FIXTURE_DATA(notify) *self, void *(*const fn[4])(void *))
{
	struct churn c = { .container = self->container, .pages = 64 };
	struct iommu_reg_event ev[64];
	pthread_t t[4];
	int i;

	c.base = anon(c.pages * PAGE);
	ASSERT_NE(NULL, c.base);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, fn[i], &c));
	for (i = 0; i < 20; i++) {
		usleep(100000);
		while (read_events(self->fd, ev, 64) > 0)
			;
	}
	c.stop = true;
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	TH_LOG("%lu operations in 2 s", c.ops);
	EXPECT_LT(100, c.ops);
}

TEST_F(notify, churn_no_deadlock)
{
	void *(*const fn[4])(void *) = {
		churn_register, churn_register, churn_remap, churn_remap,
	};

	churn_run(_metadata, self, fn);
}

/*
 * munmap, mmap new memory at the same address, register again: a new
 * handle and new pages.  The device writes through the new IOVA land in
 * the new memory; writes through the old, stale IOVA reach the old pages
 * and never the new memory.
 */
TEST_F(notify, dma_lands_in_new_memory)
{
	struct iommu_reg_register old = { .argsz = sizeof(old) };
	struct iommu_reg_register new = { .argsz = sizeof(new) };
	struct edu_dev edu = { .group = -1 };
	const uint32_t len = 2048;
	uint8_t *p, pattern[2048];
	int dev;

	dev = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, st_edu_bdf(0));
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, edu_init(&edu, dev));

	p = anon(2 * PAGE);
	ASSERT_NE(NULL, p);
	old.vaddr = new.vaddr = (uintptr_t)p;
	old.size = new.size = 2 * PAGE;
	old.prot = new.prot = IOMMU_REG_PROT_READ | IOMMU_REG_PROT_WRITE;
	ASSERT_EQ(0, ioctl(self->container, IOMMU_REG_REGISTER, &old));

	ASSERT_EQ(0, munmap(p, 2 * PAGE));
	ASSERT_EQ(p, mmap(p, 2 * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	memset(p, 0x55, 2 * PAGE);
	ASSERT_EQ(0, ioctl(self->container, IOMMU_REG_REGISTER, &new));
	EXPECT_NE(old.handle, new.handle);
	EXPECT_NE(old.iova, new.iova);

	/* Load the device with a pattern from the new memory... */
	memset(pattern, 0xa7, len);
	memcpy(p, pattern, len);
	ASSERT_EQ(0, edu_dma(&edu, new.iova, len, EDU_RAM_TO_DEV,
			     EDU_DMA_TIMEOUT_MS));
	memset(p, 0x55, len);

	/* ...write it through the old IOVA: the new memory does not see it. */
	ASSERT_EQ(0, edu_dma(&edu, old.iova + PAGE, len, EDU_DEV_TO_RAM,
			     EDU_DMA_TIMEOUT_MS));
	EXPECT_EQ(0x55, p[PAGE]);
	EXPECT_EQ(0x55, p[PAGE + len - 1]);

	/* Through the new IOVA it lands. */
	ASSERT_EQ(0, edu_dma(&edu, new.iova + PAGE, len, EDU_DEV_TO_RAM,
			     EDU_DMA_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp(p + PAGE, pattern, len));

	EXPECT_EQ(0, unreg(self->container, old.handle, 0));
	EXPECT_EQ(0, unreg(self->container, new.handle, 0));
	munmap((void *)edu.bar, EDU_BAR0_SIZE);
	close(dev);
	munmap(p, 2 * PAGE);
}

/*
 * Programs built before slot and generation existed pass the shorter
 * structs: they work, and nothing is written past their argsz.
 */
TEST_F(notify, older_structs_still_work)
{
	struct iommu_reg_prereg pre = {
		.argsz = offsetof(struct iommu_reg_prereg, slot),
		.size = 2 * PAGE,
		.slot = 0xdeadbeef,
		.generation = 0xdeadbeef,
	};
	struct iommu_reg_register reg = {
		.argsz = offsetof(struct iommu_reg_register, slot),
		.size = 2 * PAGE,
		.prot = IOMMU_REG_PROT_READ,
		.slot = 0xdeadbeef,
		.generation = 0xdeadbeef,
	};
	char *p = anon(4 * PAGE);

	ASSERT_NE(NULL, p);
	pre.vaddr = (uintptr_t)p;
	reg.vaddr = (uintptr_t)p + 2 * PAGE;
	ASSERT_EQ(0, ioctl(self->container, IOMMU_REG_PREREG, &pre));
	EXPECT_NE(0, pre.handle);
	EXPECT_EQ(0xdeadbeef, pre.slot);
	EXPECT_EQ(0xdeadbeef, pre.generation);
	ASSERT_EQ(0, ioctl(self->container, IOMMU_REG_REGISTER, &reg));
	EXPECT_NE(0, reg.handle);
	EXPECT_NE(0, reg.iova);
	EXPECT_EQ(0xdeadbeef, reg.slot);
	EXPECT_EQ(0xdeadbeef, reg.generation);
	EXPECT_EQ(0, unreg(self->container, pre.handle, 0));
	EXPECT_EQ(0, unreg(self->container, reg.handle, 0));
	munmap(p, 4 * PAGE);
}

/*
 * Spurious invalidations: the MM touches the page tables of a pinned
 * range without changing the pages it maps.  The region stays valid.
 */

/*
 * A touched, 2 MiB-aligned anonymous THP inside a 4 MiB mapping (*@raw,
 * for munmap); NULL with @why set when the kernel gives none.
 */
static char *thp_alloc(void **raw, const char **why)
{
	char buf[64] = "";
	char *m, *p;
	FILE *f;

	f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (!f) {
		*why = "no THP support in the kernel";
		return NULL;
	}
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	if (strstr(buf, "[never]")) {
		*why = "THP disabled (transparent_hugepage/enabled: never)";
		return NULL;
	}
	m = mmap(NULL, 2 * HPAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		*why = "mmap failed";
		return NULL;
	}
	p = (char *)(((uintptr_t)m + HPAGE - 1) & ~(HPAGE - 1));
	madvise(p, HPAGE, MADV_HUGEPAGE);
	memset(p, 0x11, HPAGE);
	if (st_smaps_kb(p, "AnonHugePages:") < (long)(HPAGE >> 10)) {
		munmap(m, 2 * HPAGE);
		*why = "the kernel gave no THP (AnonHugePages is 0)";
		return NULL;
	}
	*raw = m;
	return p;
}

/* Milliseconds of clock_now_ns(), fractional. */
#define now_ms()	(clock_now_ns() / 1e6)

/*
 * Re-validation of events raised by kernel threads is asynchronous: wait
 * up to @ms for the region to go stale.  Return: the wait in ms, or -1
 * if it stayed valid.
 */
static double wait_stale(FIXTURE_DATA(notify) *self,
			 const struct iommu_reg_prereg *reg, int ms)
{
	double t0 = now_ms();

	while (valid(self, reg)) {
		if (now_ms() - t0 > ms)
			return -1;
		usleep(100);
	}
	return now_ms() - t0;
}

/* mprotect() of one page splits the PMD: same pages, still valid. */
TEST_F(notify, thp_split_keeps_valid)
{
	struct iommu_reg_event ev[4];
	struct iommu_reg_prereg reg;
	const char *why = NULL;
	void *raw = NULL;
	char *p;

	p = thp_alloc(&raw, &why);
	if (!p)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, prereg(self->container, p, HPAGE, 0, &reg));
	ASSERT_EQ(0, mprotect(p + 5 * PAGE, PAGE, PROT_READ));
	TH_LOG("AnonHugePages after the split: %ld kB",
	       st_smaps_kb(p, "AnonHugePages:"));
	EXPECT_TRUE(valid(self, &reg));
	EXPECT_EQ(0, read_events(self->fd, ev, 4));
	p[0] = 0x22;
	EXPECT_EQ(0x11, p[5 * PAGE]);
	EXPECT_TRUE(valid(self, &reg));
	EXPECT_EQ(0, unreg(self->container, reg.handle, 0));
	munmap(raw, 2 * HPAGE);
}

/* fork() cannot share a pinned THP: it splits the parent's PMD. */
TEST_F(notify, thp_fork_keeps_valid)
{
	struct iommu_reg_event ev[4];
	struct iommu_reg_prereg reg;
	const char *why = NULL;
	void *raw = NULL;
	int status;
	pid_t pid;
	char *p;

	p = thp_alloc(&raw, &why);
	if (!p)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, prereg(self->container, p, HPAGE, 0, &reg));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_TRUE(valid(self, &reg));
	EXPECT_EQ(0, read_events(self->fd, ev, 4));
	p[HPAGE - 1] = 0x33;
	EXPECT_TRUE(valid(self, &reg));
	EXPECT_EQ(0, unreg(self->container, reg.handle, 0));
	munmap(raw, 2 * HPAGE);
}

/* Dropping one page of a THP is a real change, split or not. */
TEST_F(notify, thp_dontneed_invalidates)
{
	struct iommu_reg_prereg reg;
	const char *why = NULL;
	void *raw = NULL;
	char *p;

	p = thp_alloc(&raw, &why);
	if (!p)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, prereg(self->container, p, HPAGE, 0, &reg));
	ASSERT_EQ(0, madvise(p + 7 * PAGE, PAGE, MADV_DONTNEED));
	expect_stale(_metadata, self, &reg, IOMMU_REG_REASON_CLEAR);
	munmap(raw, 2 * HPAGE);
}

/* Reclaim cannot take pinned pages. */
TEST_F(notify, pageout_keeps_valid)
{
	struct iommu_reg_event ev[4];
	struct iommu_reg_prereg reg, thp;
	const char *why = NULL;
	void *raw = NULL;
	char *p = anon(4 * PAGE), *h;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, prereg(self->container, p, 4 * PAGE, 0, &reg));
	if (madvise(p, 4 * PAGE, MADV_PAGEOUT))
		SKIP(return, "MADV_PAGEOUT: %s", strerror(errno));
	EXPECT_TRUE(valid(self, &reg));
	h = thp_alloc(&raw, &why);
	if (h) {
		ASSERT_EQ(0, prereg(self->container, h, HPAGE, 0, &thp));
		ASSERT_EQ(0, madvise(h, HPAGE, MADV_PAGEOUT));
		ASSERT_EQ(0, madvise(h + PAGE, PAGE, MADV_PAGEOUT));
		EXPECT_TRUE(valid(self, &thp));
	} else {
		TH_LOG("THP part skipped: %s", why);
	}
	usleep(100000);
	EXPECT_TRUE(valid(self, &reg));
	EXPECT_EQ(0, read_events(self->fd, ev, 4));
	EXPECT_EQ(0x11, p[3 * PAGE]);
	EXPECT_EQ(0, unreg(self->container, reg.handle, 0));
	if (h) {
		EXPECT_TRUE(valid(self, &thp));
		EXPECT_EQ(0, unreg(self->container, thp.handle, 0));
		munmap(raw, 2 * HPAGE);
	}
	munmap(p, 4 * PAGE);
}

static int nr_nodes(void)
{
	DIR *d = opendir("/sys/devices/system/node");
	struct dirent *e;
	int n = 0, id;

	if (!d)
		return 1;
	while ((e = readdir(d)))
		if (sscanf(e->d_name, "node%d", &id) == 1)
			n++;
	closedir(d);
	return n ?: 1;
}

/* Migration of pinned pages fails and leaves them where they were. */
TEST_F(notify, failed_migration_keeps_valid)
{
	struct iommu_reg_event ev[4];
	struct iommu_reg_prereg reg;
	void *pages[4];
	int nodes[4], status[4], i;
	char *p;
	long ret;

	if (nr_nodes() < 2)
		SKIP(return,
		     "one NUMA node: pinned pages can only fail to move to another node (boot with numa=fake=2)");
	p = anon(4 * PAGE);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, prereg(self->container, p, 4 * PAGE, 0, &reg));
	for (i = 0; i < 4; i++)
		pages[i] = p + i * PAGE;
	ASSERT_EQ(0, syscall(SYS_move_pages, 0, 4, pages, NULL, status, 0));
	for (i = 0; i < 4; i++)
		nodes[i] = !status[i];
	ret = syscall(SYS_move_pages, 0, 4, pages, nodes, status,
		      MPOL_MF_MOVE);
	TH_LOG("move_pages: %ld, page 0 from node %d: status %d", ret,
	       !nodes[0], status[0]);
	EXPECT_TRUE(valid(self, &reg));
	EXPECT_EQ(0, read_events(self->fd, ev, 4));
	EXPECT_EQ(0x11, p[0]);
	EXPECT_EQ(0, unreg(self->container, reg.handle, 0));
	munmap(p, 4 * PAGE);
}

static long ksm_read(const char *name)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/mm/ksm/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int ksm_write(const char *name, long v)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/kernel/mm/ksm/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ret = fprintf(f, "%ld", v) < 0;
	ret |= fclose(f);
	return ret ? -1 : 0;
}

/* KSM write-protects a page to merge it, sees the pin and gives up. */
TEST_F(notify, ksm_keeps_valid)
{
	long run = ksm_read("run"), scan = ksm_read("pages_to_scan");
	long sleep_ms = ksm_read("sleep_millisecs"), full;
	struct iommu_reg_event ev[4];
	struct iommu_reg_prereg reg;
	double t0;
	char *p;

	if (run < 0)
		SKIP(return, "no KSM in this kernel (/sys/kernel/mm/ksm)");
	p = anon(4 * PAGE);
	ASSERT_NE(NULL, p);
	memset(p, 0x5a, 4 * PAGE);
	ASSERT_EQ(0, prereg(self->container, p, 4 * PAGE, 0, &reg));
	if (madvise(p, 4 * PAGE, MADV_MERGEABLE))
		SKIP(return, "MADV_MERGEABLE: %s", strerror(errno));
	ASSERT_EQ(0, ksm_write("pages_to_scan", 1000));
	ASSERT_EQ(0, ksm_write("sleep_millisecs", 1));
	ASSERT_EQ(0, ksm_write("run", 1));
	full = ksm_read("full_scans");
	t0 = now_ms();
	while (ksm_read("full_scans") < full + 4 && now_ms() - t0 < 30000)
		usleep(10000);
	TH_LOG("%ld full KSM scans in %.0f ms, pages_shared %ld",
	       ksm_read("full_scans") - full, now_ms() - t0,
	       ksm_read("pages_shared"));
	EXPECT_LE(full + 4, ksm_read("full_scans"));
	/* ksmd is a kernel thread: its re-validation is asynchronous. */
	EXPECT_EQ(-1, wait_stale(self, &reg, 200));
	EXPECT_EQ(0, read_events(self->fd, ev, 4));
	madvise(p, 4 * PAGE, MADV_UNMERGEABLE);
	ksm_write("run", run);
	ksm_write("pages_to_scan", scan);
	ksm_write("sleep_millisecs", sleep_ms);
	EXPECT_EQ(0, unreg(self->container, reg.handle, 0));
	munmap(p, 4 * PAGE);
}

/*
 * Punching a hole in a shared file from another process: the event
 * comes from a task that does not use the region's mm, so it is checked
 * asynchronously, within a bounded delay.  The same change made by the
 * region's own process is visible when its system call returns.
 */
TEST_F(notify, punch_hole_invalidates)
{
	struct iommu_reg_prereg other, own;
	volatile double *done;
	double stale, ms;
	int fd, status;
	pid_t pid;
	char *p;

	fd = memfd_create("ireg-notify", 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 4 * PAGE));
	p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	done = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, done);
	*done = 0;
	memset(p, 0x11, 4 * PAGE);
	ASSERT_EQ(0, prereg(self->container, p, PAGE, 0, &other));
	ASSERT_EQ(0, prereg(self->container, p + 2 * PAGE, PAGE, 0, &own));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		status = fallocate(fd, FALLOC_FL_PUNCH_HOLE |
				   FALLOC_FL_KEEP_SIZE, 0, PAGE);
		*done = now_ms();
		_exit(status ? 1 : 0);
	}
	/* From the child's fallocate() returning to the region going stale. */
	ms = wait_stale(self, &other, 1000);
	stale = now_ms();
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_LE(0, ms);
	TH_LOG("stale %.3f ms after the other process's fallocate() returned",
	       stale - *done);
	expect_one_event(_metadata, self->fd, other.handle,
			 IOMMU_REG_REASON_CLEAR);

	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       2 * PAGE, PAGE));
	EXPECT_FALSE(valid(self, &own));
	expect_one_event(_metadata, self->fd, own.handle,
			 IOMMU_REG_REASON_CLEAR);

	EXPECT_EQ(0, unreg(self->container, other.handle, 0));
	EXPECT_EQ(0, unreg(self->container, own.handle, 0));
	munmap((void *)done, PAGE);
	munmap(p, 4 * PAGE);
	close(fd);
}

/*
 * The same against clears, which are re-validated by a work item that
 * region destruction must cancel: threads register and unregister while
 * others drop pages with MADV_DONTNEED and fork (the child exits at
 * once), for a bounded time.
 */
static void *churn_dontneed(void *arg)
{
	struct churn *c = arg;
	unsigned int seed = (uintptr_t)&seed;

	while (!c->stop) {
		char *p = c->base + (rand_r(&seed) % c->pages) * PAGE;

		madvise(p, PAGE, MADV_DONTNEED);
		p[0] = 1;
		__atomic_add_fetch(&c->ops, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *churn_fork(void *arg)
{
	struct churn *c = arg;

	while (!c->stop) {
		pid_t pid = fork();

		if (!pid)
			_exit(0);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		__atomic_add_fetch(&c->ops, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

TEST_F(notify, churn_clear_no_deadlock)
{
	void *(*const fn[4])(void *) = {
		churn_register, churn_register, churn_dontneed, churn_fork,
	};

	churn_run(_metadata, self, fn);
}

/* A clear over many regions: all stale when madvise() returns. */
TEST_F(notify, ten_thousand_in_one_dontneed)
{
	const int nr = 10000;
	struct iommu_reg_prereg *regs;
	struct iommu_reg_event *ev;
	char *p = anon(nr * PAGE);
	int i, got = 0, n;
	double t0;

	ASSERT_NE(NULL, p);
	regs = calloc(nr, sizeof(*regs));
	ev = calloc(256, sizeof(*ev));
	ASSERT_NE(NULL, regs);
	ASSERT_NE(NULL, ev);
	for (i = 0; i < nr; i++)
		ASSERT_EQ(0, prereg(self->container, p + i * PAGE, PAGE, 0,
				    &regs[i]));
	t0 = now_ms();
	ASSERT_EQ(0, madvise(p, nr * PAGE, MADV_DONTNEED));
	TH_LOG("madvise(MADV_DONTNEED) of %d regions: %.1f ms", nr,
	       now_ms() - t0);
	for (i = 0; i < nr; i++)
		ASSERT_FALSE(valid(self, &regs[i]));
	while ((n = read_events(self->fd, ev, 256)) > 0) {
		for (i = 0; i < n; i++)
			ASSERT_EQ(IOMMU_REG_REASON_CLEAR, ev[i].reason);
		got += n;
	}
	EXPECT_EQ(nr, got);
	for (i = 0; i < nr; i++)
		ASSERT_EQ(0, unreg(self->container, regs[i].handle, 0));
	free(ev);
	free(regs);
	munmap(p, nr * PAGE);
}

TEST_HARNESS_MAIN
