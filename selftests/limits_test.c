// SPDX-License-Identifier: GPL-2.0-only
/*
 * Limits and lifetime: RLIMIT_MEMLOCK for an unprivileged process and its
 * CAP_IPC_LOCK bypass, nothing left pinned after a process is killed with
 * registrations in place, registrations across fork(), the region limit
 * (max_regions) and a container with 100,000 regions.
 *
 * Pins are counted system wide: nr_foll_pin_acquired minus
 * nr_foll_pin_released in /proc/vmstat.  Nothing else in the test VM
 * holds FOLL_PIN pins, so the count is the backend's.  Releases that run
 * after a process's exit are waited for, briefly.
 */
#include <grp.h>
#include "reg_helpers.h"
#include "kselftest_harness.h"
#include "harness_compat.h"

#define PAGE_SIZE	ST_PAGE_SIZE
#define RELEASE_MS	5000

/* The pin count once it has stopped moving (a release may be running). */
static long long settled_pins(void)
{
	long long prev = st_foll_pins(), now = prev;
	int i;

	for (i = 0; i < 40; i++) {
		usleep(50000);
		now = st_foll_pins();
		if (now == prev)
			break;
		prev = now;
	}
	return now;
}

/* Poll until the pin count is @want; the last count seen. */
static long long wait_pins(long long want, int timeout_ms)
{
	uint64_t end = clock_now_us() + timeout_ms * 1000ULL;
	long long now;

	while ((now = st_foll_pins()) != want && clock_now_us() < end)
		usleep(20000);
	return now;
}

static long long wait_vmpin(long long want, int timeout_ms)
{
	uint64_t end = clock_now_us() + timeout_ms * 1000ULL;
	long long now;

	while ((now = st_status_bytes("VmPin")) != want &&
	       clock_now_us() < end)
		usleep(20000);
	return now;
}

/* Become nobody: every capability, CAP_IPC_LOCK included, goes. */
static int drop_privileges(void)
{
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return -1;
	return st_cap_effective() ? -1 : 0;
}

static int set_memlock(rlim_t bytes)
{
	struct rlimit rl = { .rlim_cur = bytes, .rlim_max = bytes };

	return setrlimit(RLIMIT_MEMLOCK, &rl);
}

FIXTURE(limits) {
	const char *bdf;
	int container;
	int group;
	long long pins;		/* before the test */
	long long max_regions_saved;
};

FIXTURE_SETUP(limits)
{
	self->container = -1;
	self->group = -1;
	self->max_regions_saved = -1;
	self->bdf = st_edu_bdf(0);
	if (!self->bdf)
		SETUP_SKIP("no edu device in IREG_EDU_BDFS");
	self->pins = settled_pins();
	ASSERT_LE(0, self->pins);
}

FIXTURE_TEARDOWN(limits)
{
	if (self->max_regions_saved >= 0)
		st_param_set("max_regions", self->max_regions_saved);
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
}

/*
 * Without CAP_IPC_LOCK, pinned memory is charged against RLIMIT_MEMLOCK:
 * past it PREREG and REGISTER fail with ENOMEM and leave nothing pinned;
 * a second reference to a region costs nothing.
 */
TEST_F(limits, rlimit_unprivileged)
{
	struct st_stages stages;
	int status;
	struct st_buf buf;
	uint32_t h1, h2, refs;
	long long base;
	pid_t pid;

	ASSERT_EQ(0, st_stages_open(&stages));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		st_stages_child(&stages);
		/* Opened as root: the device nodes are root's. */
		self->container = st_container_open(self->bdf, &self->group);
		ASSERT_LE(0, self->container);
		ASSERT_EQ(0, st_buf_alloc(&buf, ST_MEM_ANON_4K,
					  256 * 1024));
		ASSERT_EQ(0, set_memlock(64 * 1024));
		ASSERT_EQ(0, drop_privileges());
		base = st_status_bytes("VmPin");
		ASSERT_LE(0, base);

		test_prereg(buf.addr, 16 * 1024, 0, &h1, &refs);
		EXPECT_EQ(1, refs);
		EXPECT_EQ(base + 16 * 1024, st_status_bytes("VmPin"));

		/* 16 + 64 KiB > 64 KiB. */
		test_err_prereg(ENOMEM, buf.addr + 64 * 1024, 64 * 1024, 0);
		test_err_register(ENOMEM, buf.addr + 64 * 1024, 64 * 1024, 0,
				  ST_PROT_RW, 0);
		test_counts(1, 0, 4);
		EXPECT_EQ(base + 16 * 1024, st_status_bytes("VmPin"));

		/* Up to the limit exactly, then not one page more. */
		test_prereg(buf.addr + 16 * 1024, 48 * 1024, 0, &h2, NULL);
		EXPECT_EQ(base + 64 * 1024, st_status_bytes("VmPin"));
		test_err_prereg(ENOMEM, buf.addr + 128 * 1024, PAGE_SIZE, 0);
		test_err_prereg(ENOMEM, buf.addr, 16 * 1024,
				IOMMU_REG_REGION_READONLY);

		/* The same region again: a reference, no new charge. */
		test_prereg(buf.addr, 16 * 1024, 0, &h1, &refs);
		EXPECT_EQ(2, refs);
		test_map(h1, 0, 16 * 1024, ST_PROT_RW, 0, NULL);
		test_counts(2, 1, 16);
		EXPECT_EQ(base + 64 * 1024, st_status_bytes("VmPin"));

		/* The parent counts the pins while they are held. */
		ASSERT_TRUE(st_child_stage(&stages));

		test_unreg(h1, 0);
		test_unreg(h1, IOMMU_REG_UNREG_UNMAP);
		test_unreg(h2, 0);
		test_counts(0, 0, 0);
		EXPECT_EQ(base, st_status_bytes("VmPin"));
		/* The charge is back: the limit is free again. */
		test_prereg(buf.addr + 64 * 1024, 64 * 1024, 0, NULL, NULL);
		_exit(st_test_passed(_metadata) ? 0 : 1);
	}
	st_stages_parent(&stages);
	if (st_parent_wait(&stages))
		EXPECT_EQ(self->pins + 16, st_foll_pins());
	st_parent_go(&stages);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status 0x%x", status);
	EXPECT_EQ(self->pins, wait_pins(self->pins, RELEASE_MS));
	st_stages_close(&stages);
}

/*
 * CAP_IPC_LOCK bypasses the limit, not the charge: root registers past
 * RLIMIT_MEMLOCK and VmPin still grows.
 */
TEST_F(limits, rlimit_cap_ipc_lock)
{
	struct st_buf buf;
	uint32_t handle;
	long long base;

	self->container = st_container_open(self->bdf, &self->group);
	ASSERT_LE(0, self->container);
	ASSERT_EQ(0, st_buf_alloc(&buf, ST_MEM_ANON_4K, 256 * 1024));
	ASSERT_EQ(0, set_memlock(16 * 1024));
	base = st_status_bytes("VmPin");

	test_prereg(buf.addr, 256 * 1024, 0, &handle, NULL);
	EXPECT_EQ(base + 256 * 1024, st_status_bytes("VmPin"));
	test_register(buf.addr, 64 * 1024, 0, ST_PROT_RW, NULL, NULL);
	EXPECT_EQ(base + 320 * 1024, st_status_bytes("VmPin"));
	test_counts(2, 1, 80);
	test_unreg(handle, 0);
	EXPECT_EQ(base + 64 * 1024, st_status_bytes("VmPin"));
	st_buf_free(&buf);
}

/*
 * A process killed with thousands of registrations (pinned only, and
 * pinned and mapped) leaves nothing pinned once it is gone.
 */
TEST_F(limits, kill9_releases)
{
	const unsigned int nr = 5000;
	int up[2], status, group, container;
	struct iommu_reg_info info;
	pid_t pid;

	ASSERT_EQ(0, pipe(up));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		uint8_t *mem;
		unsigned int i;

		close(up[0]);
		self->container = st_container_open(self->bdf, &self->group);
		ASSERT_LE(0, self->container);
		mem = mmap(NULL, nr * PAGE_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		ASSERT_NE(MAP_FAILED, mem);
		for (i = 0; i < nr; i += 2) {
			test_prereg(mem + i * PAGE_SIZE, PAGE_SIZE, 0, NULL,
				    NULL);
			test_register(mem + (i + 1) * PAGE_SIZE, PAGE_SIZE, 0,
				      ST_PROT_RW, NULL, NULL);
		}
		test_counts(nr, nr / 2, nr);
		st_signal_fd(up[1]);
		for (;;)
			pause();
	}
	close(up[1]);
	if (st_wait_fd(up[0]))
		EXPECT_EQ(self->pins + nr, st_foll_pins());
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	EXPECT_EQ(self->pins, wait_pins(self->pins, RELEASE_MS));
	close(up[0]);

	/* The group is free again and a new container starts empty. */
	container = st_container_open(self->bdf, &group);
	ASSERT_LE(0, container);
	ASSERT_EQ(0, _test_info(container, &info));
	EXPECT_EQ(0, info.num_regions);
	EXPECT_EQ(0, info.pinned_pages);
	close(group);
	close(container);
}

/* Closing the container unmaps, unpins and unaccounts everything. */
TEST_F(limits, close_releases)
{
	struct st_buf buf;
	long long vmpin;
	uint32_t handle;

	self->container = st_container_open(self->bdf, &self->group);
	ASSERT_LE(0, self->container);
	ASSERT_EQ(0, st_buf_alloc(&buf, ST_MEM_ANON_4K, ST_SZ_2M));
	vmpin = st_status_bytes("VmPin");
	test_prereg(buf.addr, ST_SZ_2M, 0, &handle, NULL);
	test_prereg(buf.addr, ST_SZ_2M, 0, NULL, NULL);
	test_map(handle, 0, ST_SZ_2M, ST_PROT_RW, 0, NULL);
	test_register(buf.addr, 64 * 1024, IOMMU_REG_MAP_IOVA_IDENTITY,
		      ST_PROT_RW, NULL, NULL);
	EXPECT_EQ(self->pins + 512 + 16, st_foll_pins());
	EXPECT_EQ(vmpin + ST_SZ_2M + 64 * 1024, st_status_bytes("VmPin"));

	close(self->group);
	close(self->container);
	self->group = -1;
	self->container = -1;
	EXPECT_EQ(self->pins, wait_pins(self->pins, RELEASE_MS));
	EXPECT_EQ(vmpin, wait_vmpin(vmpin, RELEASE_MS));
	st_buf_free(&buf);
}

/* A child's exit, with its copies of the fds, takes nothing away. */
TEST_F(limits, fork_child_exits)
{
	struct st_buf buf;
	long long vmpin;
	uint32_t handle;
	int status;
	pid_t pid;

	self->container = st_container_open(self->bdf, &self->group);
	ASSERT_LE(0, self->container);
	ASSERT_EQ(0, st_buf_alloc(&buf, ST_MEM_ANON_4K, 64 * 1024));
	test_register(buf.addr, 64 * 1024, 0, ST_PROT_RW, &handle, NULL);
	vmpin = st_status_bytes("VmPin");

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	usleep(100000);
	test_counts(1, 1, 16);
	EXPECT_EQ(self->pins + 16, st_foll_pins());
	EXPECT_EQ(vmpin, st_status_bytes("VmPin"));

	test_unreg(handle, 0);
	EXPECT_EQ(self->pins, st_foll_pins());
	EXPECT_EQ(vmpin - 64 * 1024, st_status_bytes("VmPin"));
	st_buf_free(&buf);
}

/*
 * The registering process closes everything while a child still holds
 * the container: the registration stays, still charged to the parent;
 * the child's exit (the last close) unpins it and gives the charge back
 * to the parent's mm, not to the child's.
 */
TEST_F(limits, fork_parent_closes)
{
	int down[2], status;
	struct st_buf buf;
	long long vmpin;
	pid_t pid;

	self->container = st_container_open(self->bdf, &self->group);
	ASSERT_LE(0, self->container);
	ASSERT_EQ(0, st_buf_alloc(&buf, ST_MEM_ANON_4K, 64 * 1024));
	vmpin = st_status_bytes("VmPin");
	test_register(buf.addr, 64 * 1024, 0, ST_PROT_RW, NULL, NULL);
	EXPECT_EQ(vmpin + 64 * 1024, st_status_bytes("VmPin"));

	ASSERT_EQ(0, pipe(down));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(down[1]);
		st_wait_fd(down[0]);
		_exit(0);
	}
	close(down[0]);
	close(self->group);
	close(self->container);
	self->group = -1;
	self->container = -1;
	usleep(100000);
	EXPECT_EQ(self->pins + 16, st_foll_pins());
	EXPECT_EQ(vmpin + 64 * 1024, st_status_bytes("VmPin"));

	st_signal_fd(down[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(self->pins, wait_pins(self->pins, RELEASE_MS));
	EXPECT_EQ(vmpin, wait_vmpin(vmpin, RELEASE_MS));
	close(down[1]);
	st_buf_free(&buf);
}

/* max_regions bounds each container; references to a region are free. */
TEST_F(limits, max_regions)
{
	const unsigned int limit = 100;
	const char *bdf1 = st_edu_bdf(1);
	struct iommu_reg_info info;
	uint32_t handles[100], refs;
	int other = -1, group1 = -1;
	unsigned int i;
	uint8_t *mem;

	self->max_regions_saved = st_param_get("max_regions");
	ASSERT_LT(0, self->max_regions_saved)
		TH_LOG("no max_regions parameter");
	ASSERT_EQ(0, st_param_set("max_regions", limit));

	self->container = st_container_open(self->bdf, &self->group);
	ASSERT_LE(0, self->container);
	test_info(&info);
	EXPECT_EQ(limit, info.max_regions);

	mem = mmap(NULL, (limit + 2) * PAGE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	for (i = 0; i < limit; i++)
		test_prereg(mem + i * PAGE_SIZE, PAGE_SIZE, 0, &handles[i],
			    NULL);
	test_err_prereg(ENOSPC, mem + limit * PAGE_SIZE, PAGE_SIZE, 0);
	test_err_prereg(ENOSPC, mem, PAGE_SIZE, IOMMU_REG_REGION_READONLY);
	test_err_register(ENOSPC, mem + limit * PAGE_SIZE, PAGE_SIZE, 0,
			  ST_PROT_RW, 0);
	test_counts(limit, 0, limit);
	EXPECT_EQ(self->pins + limit, st_foll_pins());

	/* Not a new region: a reference. */
	test_prereg(mem, PAGE_SIZE, 0, NULL, &refs);
	EXPECT_EQ(2, refs);
	test_unreg(handles[0], 0);
	test_err_prereg(ENOSPC, mem + limit * PAGE_SIZE, PAGE_SIZE, 0);

	/* The limit is per container. */
	if (bdf1) {
		other = st_container_open(bdf1, &group1);
		ASSERT_LE(0, other);
		EXPECT_EQ(0, _test_prereg(other, mem + limit * PAGE_SIZE,
					  PAGE_SIZE, 0, NULL, NULL));
		close(group1);
		close(other);
	}

	/* One region gone: one more fits, and no more. */
	test_unreg(handles[1], 0);
	test_prereg(mem + limit * PAGE_SIZE, PAGE_SIZE, 0, NULL, NULL);
	test_err_prereg(ENOSPC, mem + (limit + 1) * PAGE_SIZE, PAGE_SIZE, 0);
	test_counts(limit, 0, limit);
	munmap(mem, (limit + 2) * PAGE_SIZE);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * 2^20 regions in one container, the default max_regions: every (start
 * page, length of 1 or 2 pages, read-only or not) over 2^18 + 1 pages,
 * so each is a distinct region (type1 stops at 65,535 mappings).  Times
 * are for the reader, not assertions.
 */
TEST_F_TIMEOUT(limits, scale, 600)
{
	/*
	 * A debug kernel (kmemleak tracks every object, KASAN quarantines
	 * freed ones) runs out of the guest's 4 GiB long before 2^20
	 * regions: 2^16 there, still above type1's limit.
	 */
	const bool debug = !access("/sys/kernel/debug/kmemleak", F_OK);
	const unsigned int span = debug ? 1U << 14 : 1U << 18, nr = 4 * span;
	uint64_t t0, t_prereg, t_close;
	uint32_t *handles, refs = 0;
	unsigned int i, dups = 0, not_new = 0;
	long long pages = 0;
	uint8_t *mem;

	if (st_param_get("max_regions") < nr)
		SKIP(return, "max_regions below %u", nr);
	handles = calloc(nr, sizeof(*handles));
	ASSERT_NE(NULL, handles);
	self->container = st_container_open(self->bdf, &self->group);
	ASSERT_LE(0, self->container);
	mem = mmap(NULL, (size_t)(span + 1) * PAGE_SIZE,
		   PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	madvise(mem, (size_t)(span + 1) * PAGE_SIZE, MADV_NOHUGEPAGE);

	t0 = clock_now_us();
	for (i = 0; i < nr; i++) {
		unsigned int len = 1 + (i / span) % 2;
		uint32_t flags = i / (2 * span) ? IOMMU_REG_REGION_READONLY : 0;

		ASSERT_EQ(0, _test_prereg(self->container,
					  mem + (size_t)(i % span) * PAGE_SIZE,
					  len * PAGE_SIZE, flags, &handles[i],
					  &refs))
			TH_LOG("region %u: %s", i, strerror(errno));
		not_new += refs != 1;
		pages += len;
	}
	t_prereg = clock_now_us() - t0;
	EXPECT_EQ(0, not_new);
	test_counts(nr, 0, pages);
	EXPECT_EQ(self->pins + pages, st_foll_pins());

	/* Past the limit (reached only with the full 2^20). */
	if (nr == st_param_get("max_regions"))
		test_err_prereg(ENOSPC, mem, 3 * PAGE_SIZE, 0);

	qsort(handles, nr, sizeof(*handles), cmp_u32);
	for (i = 1; i < nr; i++)
		dups += handles[i] == handles[i - 1];
	EXPECT_EQ(0, dups);

	t0 = clock_now_us();
	close(self->group);
	close(self->container);
	self->group = -1;
	self->container = -1;
	EXPECT_EQ(self->pins, wait_pins(self->pins, RELEASE_MS));
	t_close = clock_now_us() - t0;
	ksft_print_msg("scale: %u PREREG in %.2f s (%.1f us each), "
		       "close and release in %.2f s\n", nr, t_prereg / 1e6,
		       (double)t_prereg / nr, t_close / 1e6);
	munmap(mem, (size_t)(span + 1) * PAGE_SIZE);
	free(handles);
}

TEST_HARNESS_MAIN
