// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stress: threads registering, mapping, unmapping, unregistering and
 * munmapping their memory in one container at once; then processes whose
 * threads keep issuing commands while their container and group are
 * closed under them, killed with SIGKILL in the middle.  Bounded in time
 * (IREG_STRESS_SECONDS, default 20, split between the two).
 *
 * Errors from the races (ENOENT, EBUSY, EBADF, ...) are expected and
 * counted; what must not happen is a splat (the VM runner scans the log,
 * with lockdep and KASAN on the debug kernel) or a leak: once every
 * process is gone, no page stays pinned and VmPin is back at baseline.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "reg_helpers.h"
#include "kselftest_harness.h"

#define PAGE		ST_PAGE_SIZE
#define NR_THREADS	4
#define RELEASE_MS	10000

static volatile int stop;
static volatile int shared_container = -1;

struct worker {
	pthread_t thread;
	unsigned int id;
	uint64_t rng;
	unsigned long ops, fails;
};

static uint64_t wrnd(struct worker *w)
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 0x2545f4914f6cdd1dULL;
}

static void count(struct worker *w, int ret)
{
	w->ops++;
	if (ret)
		w->fails++;
}

/* One round of a worker's life on @fd: register, map, unmap, free. */
static void worker_round(struct worker *w, int fd)
{
	size_t pages = 1 + wrnd(w) % 64, size = pages * PAGE;
	uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint32_t handle = 0, h2 = 0;
	uint64_t iova = 0;
	struct vfio_iommu_type1_dma_map dma = {
		.argsz = sizeof(dma),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.iova = (1ULL << 36) + ((uint64_t)w->id << 32) +
			(wrnd(w) % 1024) * 64 * PAGE,
		.size = size,
	};
	struct vfio_iommu_type1_dma_unmap undma = {
		.argsz = sizeof(undma),
		.iova = dma.iova,
		.size = size,
	};

	if (p == MAP_FAILED)
		return;
	memset(p, w->id, size);
	switch (wrnd(w) % 5) {
	case 0:	/* register, unregister */
		count(w, _test_register(fd, p, size, 0, ST_PROT_RW, &handle,
					NULL));
		if (wrnd(w) % 4 == 0) {
			munmap(p, size);	/* invalidated first */
			p = NULL;
		}
		count(w, _test_unreg(fd, handle, 0));
		break;
	case 1:	/* prereg, map twice, unmap, unreg */
		count(w, _test_prereg(fd, p, size, 0, &handle, NULL));
		count(w, _test_map(fd, handle, 0, size, ST_PROT_RW, 0, &iova));
		count(w, _test_map(fd, handle, 0, PAGE, IOMMU_REG_PROT_READ, 0,
				   NULL));
		count(w, _test_unmap(fd, iova, size, 0, NULL));
		if (wrnd(w) % 3 == 0) {
			munmap(p, size);
			p = NULL;
		}
		count(w, _test_unreg(fd, handle, IOMMU_REG_UNREG_UNMAP));
		break;
	case 2:	/* the same range twice: one region, two references */
		count(w, _test_prereg(fd, p, size, 0, &handle, NULL));
		count(w, _test_prereg(fd, p, size, 0, &h2, NULL));
		count(w, _test_unreg(fd, h2, 0));
		count(w, _test_unreg(fd, handle, 0));
		break;
	case 3:	/* type1 */
		dma.vaddr = (uintptr_t)p;
		count(w, ioctl(fd, VFIO_IOMMU_MAP_DMA, &dma));
		if (wrnd(w) % 3 == 0)
			madvise(p, size, MADV_DONTNEED);
		count(w, ioctl(fd, VFIO_IOMMU_UNMAP_DMA, &undma));
		break;
	case 4:	/* left registered: the container's release cleans up */
		count(w, _test_register(fd, p, size, 0, ST_PROT_RW, NULL,
					NULL));
		break;
	}
	/*
	 * Never twice: another thread may have been given the range since,
	 * and a second munmap() would take its memory away.
	 */
	if (p)
		munmap(p, size);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct iommu_reg_info info;

	while (!stop) {
		int fd = shared_container;

		worker_round(w, fd);
		if (wrnd(w) % 16 == 0)
			count(w, _test_info(fd, &info));
	}
	return NULL;
}

static int open_container(const char *bdf, int *group)
{
	int i, fd;

	/* A group has one opener at a time: the other process may hold it. */
	for (i = 0; i < 2000; i++) {
		fd = st_container_open(bdf, group);
		if (fd >= 0 || errno != EBUSY)
			return fd;
		usleep(1000);
	}
	return -1;
}

static long long wait_pins(long long pins, long long vmpin)
{
	uint64_t end = clock_now_us() + RELEASE_MS * 1000ULL;
	long long now;

	while (((now = st_foll_pins()) != pins ||
		st_status_bytes("VmPin") != vmpin) && clock_now_us() < end)
		usleep(20000);
	return now;
}

static unsigned int stress_seconds(void)
{
	const char *v = getenv("IREG_STRESS_SECONDS");

	return v && atoi(v) > 0 ? atoi(v) : 20;
}

FIXTURE(stress) {
	int unused;
};

FIXTURE_SETUP(stress)
{
}

FIXTURE_TEARDOWN(stress)
{
}

/* Threads on one container, for half the time. */
TEST_F_TIMEOUT(stress, threads, 600)
{
	const char *bdf = st_edu_bdf(0);
	long long pins = st_foll_pins(), vmpin = st_status_bytes("VmPin");
	struct worker w[NR_THREADS];
	unsigned long ops = 0, fails = 0;
	int i, group, fd;

	if (!bdf)
		SKIP(return, "no edu device in IREG_EDU_BDFS");
	fd = st_container_open(bdf, &group);
	ASSERT_LE(0, fd);
	shared_container = fd;
	stop = 0;
	for (i = 0; i < NR_THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = i;
		w[i].rng = 0x9e3779b97f4a7c15ULL * (i + 1) ^ getpid();
		ASSERT_EQ(0, pthread_create(&w[i].thread, NULL, worker_main,
					    &w[i]));
	}
	sleep(stress_seconds() / 2);
	stop = 1;
	for (i = 0; i < NR_THREADS; i++) {
		pthread_join(w[i].thread, NULL);
		ops += w[i].ops;
		fails += w[i].fails;
	}
	close(group);
	close(fd);
	TH_LOG("%d threads: %lu commands, %lu failed (races)", NR_THREADS,
	       ops, fails);
	EXPECT_LT(0, ops);
	EXPECT_EQ(pins, wait_pins(pins, vmpin));
	EXPECT_EQ(vmpin, st_status_bytes("VmPin"));
}

/*
 * A child: threads on its container while the main thread closes the
 * container and its group under them and opens them again, until it is
 * killed.
 */
static void __attribute__((noreturn)) closer_child(const char *bdf,
						   unsigned int seed)
{
	struct worker w[NR_THREADS];
	int i, group, fd;

	fd = open_container(bdf, &group);
	if (fd < 0)
		_exit(3);
	shared_container = fd;
	for (i = 0; i < NR_THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = i;
		w[i].rng = 0x9e3779b97f4a7c15ULL * (i + 1) ^ seed;
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]))
			_exit(3);
	}
	for (;;) {
		usleep(1000 * (seed % 50));
		seed = seed * 1103515245 + 12345;
		/* Close under the threads: ioctls in flight keep the file. */
		close(group);
		close(fd);
		fd = open_container(bdf, &group);
		if (fd < 0)
			_exit(3);
		shared_container = fd;
	}
}

/* Racing closes in child processes, killed with SIGKILL at random. */
TEST_F_TIMEOUT(stress, close_and_kill, 600)
{
	const char *bdf[2] = { st_edu_bdf(0), st_edu_bdf(1) };
	long long pins = st_foll_pins(), vmpin = st_status_bytes("VmPin");
	uint64_t end = clock_now_us() + stress_seconds() / 2 * 1000000ULL;
	unsigned int seed = getpid(), kills = 0, i;
	pid_t child[2] = { 0, 0 };
	int status;

	if (!bdf[0])
		SKIP(return, "no edu device in IREG_EDU_BDFS");
	if (!bdf[1])
		bdf[1] = bdf[0];
	while (clock_now_us() < end) {
		for (i = 0; i < 2; i++) {
			if (child[i])
				continue;
			seed = seed * 1103515245 + 12345;
			child[i] = fork();
			ASSERT_LE(0, child[i]);
			if (!child[i])
				closer_child(bdf[i], seed);
		}
		usleep(50000 + (seed >> 8) % 400000);
		i = (seed >> 4) % 2;
		kill(child[i], SIGKILL);
		ASSERT_EQ(child[i], waitpid(child[i], &status, 0));
		/* Killed, or gave up on a group the other child held. */
		EXPECT_TRUE(WIFSIGNALED(status) ||
			    (WIFEXITED(status) && WEXITSTATUS(status) == 3));
		child[i] = 0;
		kills++;
	}
	for (i = 0; i < 2; i++)
		if (child[i]) {
			kill(child[i], SIGKILL);
			waitpid(child[i], &status, 0);
			kills++;
		}
	TH_LOG("%u processes killed with SIGKILL mid-flight", kills);
	EXPECT_EQ(pins, wait_pins(pins, vmpin));
	EXPECT_EQ(vmpin, st_status_bytes("VmPin"));
}

TEST_HARNESS_MAIN
