// SPDX-License-Identifier: GPL-2.0-only
/*
 * Racing fuzzer: threads and forked processes sharing one container fd,
 * some creating (PREREG, REGISTER, MAP, MAP_DMA, NOTIFY), others
 * destroying what they can guess exists (UNREG, UNMAP, UNMAP_DMA, and
 * the container's group closed and attached again under everybody).
 *
 * Destroyers never learn a handle from its creator: they predict it.
 * Handles are allocated cyclically from 1, so the next one is the last
 * one any participant saw plus one; destroyers hammer last+1, last+2...
 * and so reach a region in the instant between its publication and the
 * return of the call that created it.
 *
 * Arguments are sometimes placed on a userfaultfd page (the command
 * struct itself, or the output array of IOMMU_REG_INFO, written under
 * the container lock), which a handler thread fills after a delay, so
 * that a command stalls inside the kernel while the others run.
 * Boundary sizes up to 2^64 are mixed in.
 *
 * What must hold, whatever the interleaving:
 *  - PREREG never reports refs 0, and no successful PREREG or REGISTER
 *    returns handle 0;
 *  - a PREREG or REGISTER past the user address space never succeeds;
 *  - the kernel logs no splat during the case (also checked by the VM
 *    runner for the whole run);
 *  - once every participant is gone and the container is closed, the
 *    module's global counters (netlink), the system's FOLL_PIN count and
 *    the test's VmPin are back at their values before the case.
 *
 * Reproducible as far as a race can be: the seed is printed first.
 * Environment (on the VM, pass them with vm-run --append NAME=VALUE: the
 * kernel hands unknown parameters to init's environment):
 *   IREG_RACE_SEED      seed (default: from the clock)
 *   IREG_RACE_SECONDS   racing time per case (default 10)
 *   IREG_RACE_ONLY      run only the case of that name, skip the others
 *
 * An oops in one case leaves the module unusable for the rest of the
 * boot (a lock or an SRCU read section is never released): later cases
 * then fail at once, saying so, rather than hang.
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "reg_helpers.h"
#include "watch_helpers.h"
#include "type1_helpers.h"
#include "kselftest_harness.h"

#define PAGE		ST_PAGE_SIZE
#define AREA_PAGES	256		/* each creator's memory: 1 MiB */
#define UFFD_PAGES	16
#define MAX_WORKERS	16
#define RELEASE_MS	10000
#define DMA_IOVA_BASE	(1ULL << 36)

enum op {
	OP_PREREG, OP_REGISTER, OP_MAP, OP_MAP_DMA, OP_NOTIFY, OP_UNREG_OWN,
	OP_PREREG_HUGE, OP_STALL_ARG, OP_STALL_OUT,
	OP_UNREG_GUESS, OP_UNMAP_ALL, OP_UNMAP_DMA_ALL, OP_UNMAP_DMA,
	OP_INFO, OP_CLOSE, NR_OPS
};

static const char *const op_names[NR_OPS] = {
	"PREREG", "REGISTER", "MAP", "MAP_DMA", "NOTIFY", "UNREG (own)",
	"PREREG (2^40+)", "uffd: arg", "uffd: INFO out",
	"UNREG (guessed)", "UNMAP ALL", "UNMAP_DMA ALL", "UNMAP_DMA",
	"INFO", "close+attach",
};

/* Shared by every participant, threads and processes: MAP_SHARED. */
struct race_shared {
	volatile uint32_t last_handle;	/* the highest handle anyone saw */
	volatile int stop;
	unsigned long ok[NR_OPS], failed[NR_OPS];
	int last_errno[NR_OPS];		/* of the last failure */
	unsigned long refs0;		/* PREREG succeeded with refs 0 */
	unsigned long handle0;		/* a success with handle 0 */
	unsigned long huge_ok;		/* a range past user space accepted */
	char first[256];		/* the first violation, in words */
};

enum role { ROLE_CREATE, ROLE_DESTROY };

struct worker {
	pthread_t thread;
	struct race_shared *sh;
	int container;
	unsigned int id;
	enum role role;
	bool uffd_ok;
	uint64_t rng;
	uint8_t *area;			/* ROLE_CREATE: AREA_PAGES, populated */
	uint32_t own[8];		/* handles it created, to map and drop */
	struct st_uffd uffd;
};

static uint64_t wrnd(struct worker *w)	/* xorshift64* */
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

static void count(struct race_shared *sh, enum op op, int ret)
{
	if (ret)
		sh->last_errno[op] = errno;
	__atomic_fetch_add(ret ? &sh->failed[op] : &sh->ok[op], 1,
			   __ATOMIC_RELAXED);
}

static void violation(struct race_shared *sh, unsigned long *counter,
		      const char *fmt, ...)
{
	va_list ap;

	if (__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED) == 0 &&
	    !sh->first[0]) {
		va_start(ap, fmt);
		vsnprintf(sh->first, sizeof(sh->first), fmt, ap);
		va_end(ap);
	}
}

static void saw_handle(struct race_shared *sh, uint32_t handle)
{
	uint32_t last = sh->last_handle;

	/* Only forwards: a stale creator must not pull the guess back. */
	while (handle > last &&
	       !__atomic_compare_exchange_n(&sh->last_handle, &last, handle,
					    false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
}

/* A fresh range of the creator's memory: 1 to 16 pages. */
static void pick_range(struct worker *w, uint8_t **vaddr, uint64_t *size)
{
	unsigned int pages = 1 + wrnd(w) % 16;
	unsigned int first = wrnd(w) % (AREA_PAGES - pages + 1);

	*vaddr = w->area + first * PAGE;
	*size = pages * PAGE;
}

static void keep_own(struct worker *w, uint32_t handle)
{
	w->own[wrnd(w) % 8] = handle;
}

static void check_prereg(struct worker *w, const struct iommu_reg_prereg *c,
			 const char *how)
{
	if (!c->refs)
		violation(w->sh, &w->sh->refs0,
			  "%s of [%#llx, +%#llx) succeeded with refs 0 (handle %u): the region was freed under it",
			  how, (unsigned long long)c->vaddr,
			  (unsigned long long)c->size, c->handle);
	if (!c->handle)
		violation(w->sh, &w->sh->handle0,
			  "%s of [%#llx, +%#llx) succeeded with handle 0",
			  how, (unsigned long long)c->vaddr,
			  (unsigned long long)c->size);
	saw_handle(w->sh, c->handle);
	keep_own(w, c->handle);
}

static int op_prereg(struct worker *w, uint8_t *vaddr, uint64_t size)
{
	struct iommu_reg_prereg c = {
		.argsz = sizeof(c),
		.vaddr = (uintptr_t)vaddr,
		.size = size,
	};
	int ret = ioctl(w->container, IOMMU_REG_PREREG, &c);

	if (!ret)
		check_prereg(w, &c, "PREREG");
	return ret;
}

static int op_register(struct worker *w, uint8_t *vaddr, uint64_t size)
{
	struct iommu_reg_register c = {
		.argsz = sizeof(c),
		.vaddr = (uintptr_t)vaddr,
		.size = size,
		.prot = ST_PROT_RW,
	};
	int ret = ioctl(w->container, IOMMU_REG_REGISTER, &c);

	if (!ret) {
		if (!c.handle)
			violation(w->sh, &w->sh->handle0,
				  "REGISTER of [%p, +%#llx) succeeded with handle 0",
				  vaddr, (unsigned long long)size);
		saw_handle(w->sh, c.handle);
		keep_own(w, c.handle);
	}
	return ret;
}

/* MAP_DMA at an IOVA of the worker's own window; sometimes unmapped. */
static int op_map_dma(struct worker *w, uint8_t *vaddr, uint64_t size)
{
	uint64_t iova = DMA_IOVA_BASE + ((uint64_t)w->id << 30) +
			(uint64_t)(vaddr - w->area);
	int ret = _test_type1_map(w->container, vaddr, size, iova, ST_T1_RW);

	/* The implicit region took a handle too: the next guess is past it. */
	if (!ret && wrnd(w) % 2)
		_test_type1_unmap(w->container, iova, size, 0, NULL);
	return ret;
}

/*
 * A range past the user address space, or wrapping: it must fail (any
 * errno of the contract), pin nothing and log nothing.
 */
static int op_prereg_huge(struct worker *w)
{
	static const uint64_t sizes[] = {
		1ULL << 40, 1ULL << 47, 1ULL << 63, -PAGE,
	};
	struct iommu_reg_prereg c = {
		.argsz = sizeof(c),
		.size = sizes[wrnd(w) % 4],
	};
	int ret;

	switch (wrnd(w) % 3) {
	case 0:
		c.vaddr = (uintptr_t)w->area;
		break;
	case 1:
		c.vaddr = 0;
		break;
	default:
		c.vaddr = -PAGE * (1 + wrnd(w) % 4);	/* wraps */
		break;
	}
	if (wrnd(w) % 2 == 0) {
		struct iommu_reg_register r = {
			.argsz = sizeof(r),
			.vaddr = c.vaddr,
			.size = c.size,
			.prot = ST_PROT_RW,
		};

		ret = ioctl(w->container, IOMMU_REG_REGISTER, &r);
	} else {
		ret = ioctl(w->container, IOMMU_REG_PREREG, &c);
	}
	if (!ret)
		violation(w->sh, &w->sh->huge_ok,
			  "registering [%#llx, +%#llx) succeeded",
			  (unsigned long long)c.vaddr,
			  (unsigned long long)c.size);
	return ret;
}

/*
 * The command struct on a missing userfaultfd page: the kernel stalls
 * reading it (inside the ioctl) until the handler fills the page.
 */
static int op_stall_arg(struct worker *w)
{
	unsigned int page = wrnd(w) % UFFD_PAGES;
	size_t off = (wrnd(w) % (PAGE / 8 - 8)) * 8;
	struct iommu_reg_prereg *t, *c;
	uint64_t size;
	uint8_t *vaddr;
	int ret;

	pick_range(w, &vaddr, &size);
	st_uffd_rearm(&w->uffd, w->uffd.area + page * PAGE);
	t = (void *)(w->uffd.tmpl + page * PAGE + off);
	c = (void *)(w->uffd.area + page * PAGE + off);
	w->uffd.delay_us = wrnd(w) % 20000;
	if (wrnd(w) % 2) {
		struct iommu_reg_register *rt = (void *)t, *rc = (void *)c;

		memset(rt, 0, sizeof(*rt));
		rt->argsz = sizeof(*rt);
		rt->vaddr = (uintptr_t)vaddr;
		rt->size = size;
		rt->prot = ST_PROT_RW;
		ret = ioctl(w->container, IOMMU_REG_REGISTER, rc);
		if (!ret) {
			if (!rc->handle)
				violation(w->sh, &w->sh->handle0,
					  "REGISTER (struct on a userfaultfd page) succeeded with handle 0");
			saw_handle(w->sh, rc->handle);
			keep_own(w, rc->handle);
		}
		return ret;
	}
	memset(t, 0, sizeof(*t));
	t->argsz = sizeof(*t);
	t->vaddr = (uintptr_t)vaddr;
	t->size = size;
	ret = ioctl(w->container, IOMMU_REG_PREREG, c);
	if (!ret)
		check_prereg(w, c, "PREREG (struct on a userfaultfd page)");
	return ret;
}

/*
 * IOMMU_REG_INFO with its output array on a missing userfaultfd page: the
 * kernel stalls writing it.  (The memory being registered cannot stall
 * this way: Linux 6.1 does not let FOLL_LONGTERM pins wait for a
 * userfaultfd, they fail with EFAULT.)
 */
static int op_stall_out(struct worker *w)
{
	unsigned int page = wrnd(w) % UFFD_PAGES;
	struct iommu_reg_info info = {
		.argsz = sizeof(info),
		.num_iova_ranges = 4,
		.iova_ranges = (uintptr_t)(w->uffd.area + page * PAGE),
	};

	st_uffd_rearm(&w->uffd, w->uffd.area + page * PAGE);
	w->uffd.delay_us = wrnd(w) % 20000;
	return ioctl(w->container, IOMMU_REG_INFO, &info);
}

static int op_notify(struct worker *w)
{
	struct iommu_reg_notify c = { .argsz = sizeof(c) };
	int ret = ioctl(w->container, IOMMU_REG_NOTIFY, &c);

	if (!ret) {
		if (wrnd(w) % 2)
			usleep(wrnd(w) % 2000);
		close(c.fd);
	}
	return ret;
}

static void creator_round(struct worker *w)
{
	uint64_t size, r = wrnd(w) % 100;
	uint8_t *vaddr;
	enum op op;
	int ret;

	pick_range(w, &vaddr, &size);
	if (r < 25) {
		op = OP_PREREG;
		ret = op_prereg(w, vaddr, size);
	} else if (r < 45) {
		op = OP_REGISTER;
		ret = op_register(w, vaddr, size);
	} else if (r < 60) {
		op = OP_MAP_DMA;
		ret = op_map_dma(w, vaddr, size);
	} else if (r < 72) {
		op = OP_MAP;
		ret = _test_map(w->container, w->own[wrnd(w) % 8], 0, PAGE,
				ST_PROT_RW, 0, NULL);
	} else if (r < 84) {
		op = OP_UNREG_OWN;
		ret = _test_unreg(w->container, w->own[wrnd(w) % 8],
				  IOMMU_REG_UNREG_UNMAP);
	} else if (r < 87) {
		op = OP_NOTIFY;
		ret = op_notify(w);
	} else if (r < 89 && w->uffd_ok && !w->sh->huge_ok) {
		op = OP_PREREG_HUGE;
		ret = op_prereg_huge(w);
	} else if (r < 95 && w->uffd_ok) {
		op = OP_STALL_ARG;
		ret = op_stall_arg(w);
	} else if (w->uffd_ok) {
		op = OP_STALL_OUT;
		ret = op_stall_out(w);
	} else {
		op = OP_PREREG;
		ret = op_prereg(w, vaddr, size);
	}
	count(w->sh, op, ret);
}

static void destroyer_round(struct worker *w)
{
	uint32_t last = w->sh->last_handle;
	uint64_t r = wrnd(w) % 100;
	unsigned int i;

	if (r < 85) {
		/* The next handles, many times: the window is short. */
		for (i = 0; i < 16; i++) {
			uint32_t h = last + 1 + (i & 1);

			count(w->sh, OP_UNREG_GUESS,
			      _test_unreg(w->container, h,
					  i & 2 ? IOMMU_REG_UNREG_UNMAP : 0));
		}
	} else if (r < 90) {
		count(w->sh, OP_UNMAP_ALL,
		      _test_unmap(w->container, 0, 0, IOMMU_REG_UNMAP_ALL,
				  NULL));
	} else if (r < 95) {
		struct vfio_iommu_type1_dma_unmap c = {
			.argsz = sizeof(c),
			.flags = VFIO_DMA_UNMAP_FLAG_ALL,
		};

		count(w->sh, OP_UNMAP_DMA_ALL,
		      ioctl(w->container, VFIO_IOMMU_UNMAP_DMA, &c));
	} else if (r < 98) {
		/* Another worker's whole DMA window. */
		struct vfio_iommu_type1_dma_unmap c = {
			.argsz = sizeof(c),
			.iova = DMA_IOVA_BASE +
				((uint64_t)(wrnd(w) % MAX_WORKERS) << 30),
			.size = 1ULL << 30,
		};

		count(w->sh, OP_UNMAP_DMA,
		      ioctl(w->container, VFIO_IOMMU_UNMAP_DMA, &c));
	} else {
		struct iommu_reg_info info;

		count(w->sh, OP_INFO, _test_info(w->container, &info));
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	while (!w->sh->stop) {
		if (w->role == ROLE_CREATE)
			creator_round(w);
		else
			destroyer_round(w);
	}
	return NULL;
}

static int worker_init(struct worker *w, struct race_shared *sh, int fd,
		       unsigned int id, enum role role, uint64_t seed,
		       bool stalls)
{
	memset(w, 0, sizeof(*w));
	w->sh = sh;
	w->container = fd;
	w->id = id;
	w->role = role;
	w->rng = (seed + 1) * 0x9e3779b97f4a7c15ULL ^ (id + 1);
	w->uffd.fd = -1;
	if (role != ROLE_CREATE)
		return 0;
	w->area = mmap(NULL, AREA_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (w->area == MAP_FAILED)
		return -1;
	memset(w->area, id, AREA_PAGES * PAGE);
	w->uffd_ok = stalls && !st_uffd_create(&w->uffd, UFFD_PAGES * PAGE, 0);
	return 0;
}

static void worker_fini(struct worker *w)
{
	if (w->uffd_ok)
		st_uffd_destroy(&w->uffd);
	if (w->area && w->area != MAP_FAILED)
		munmap(w->area, AREA_PAGES * PAGE);
}

/* Start @nr workers, creators first; 0 or -1. */
static int workers_start(struct worker *w, unsigned int nr,
			 unsigned int creators, struct race_shared *sh, int fd,
			 unsigned int id0, uint64_t seed, bool stalls)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		if (worker_init(&w[i], sh, fd, id0 + i,
				i < creators ? ROLE_CREATE : ROLE_DESTROY,
				seed, stalls))
			return -1;
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]))
			return -1;
	}
	return 0;
}

static void workers_join(struct worker *w, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		pthread_join(w[i].thread, NULL);
		worker_fini(&w[i]);
	}
}

/* A forked participant: its own creators and destroyers on the fd. */
static pid_t spawn_process(struct race_shared *sh, int fd, int group,
			   unsigned int id0, uint64_t seed, bool stalls)
{
	struct worker w[2];
	pid_t pid = fork();

	if (pid)
		return pid;
	/* Only the parent's group fd may hold the group in the container. */
	if (group >= 0)
		close(group);
	if (workers_start(w, 2, 1, sh, fd, id0, seed, stalls))
		_exit(3);
	while (!sh->stop)
		usleep(10000);
	workers_join(w, 2);
	_exit(0);
}

static long read_taint(void)
{
	char val[32] = "";
	int fd = open("/proc/sys/kernel/tainted", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, val, sizeof(val) - 1);
	close(fd);
	return n > 0 ? strtol(val, NULL, 10) : 0;
}

FIXTURE(race) {
	const char *bdf;
	struct race_shared *sh;
	uint64_t seed;
	unsigned int seconds;
	int klog;
	long long pins, vmpin;
	struct st_stats stats;
	bool have_stats;
};

FIXTURE_SETUP(race)
{
	char msg[128];

	self->klog = -1;
	self->bdf = st_edu_bdf(0);
	if (!self->bdf)
		SETUP_SKIP("no edu device in IREG_EDU_BDFS");
	if (getenv("IREG_RACE_ONLY") &&
	    strcmp(getenv("IREG_RACE_ONLY"), _metadata->name))
		SETUP_SKIP("IREG_RACE_ONLY=%s", getenv("IREG_RACE_ONLY"));
	/* Taint D: the kernel oopsed earlier in this boot. */
	ASSERT_EQ(0, read_taint() & (1 << 7))
		TH_LOG("the kernel oopsed before this case (taint D): the module is unusable until reboot");
	self->sh = mmap(NULL, sizeof(*self->sh), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->sh);
	self->seed = env_u64("IREG_RACE_SEED", clock_now_us() ^ getpid());
	self->seconds = env_u64("IREG_RACE_SECONDS", 10);
	/* The seed first, so that even a crash tells it. */
	printf("# seed %llu (IREG_RACE_SEED=%llu reproduces), %u s\n",
	       (unsigned long long)self->seed,
	       (unsigned long long)self->seed, self->seconds);
	fflush(stdout);
	snprintf(msg, sizeof(msg), "ireg-test: race seed %llu\n",
		 (unsigned long long)self->seed);
	st_kmsg(msg);

	self->pins = st_foll_pins();
	self->vmpin = st_status_bytes("VmPin");
	self->have_stats = !st_stats_read(&self->stats);
	self->klog = st_klog_open();
}

FIXTURE_TEARDOWN(race)
{
	if (self->klog >= 0)
		close(self->klog);
}

/* Detach the group (the backend is released) and attach it again. */
static int reattach(int container, int *group, const char *bdf)
{
	int i;

	close(*group);
	for (i = 0; i < 1000; i++) {
		*group = vfio_group_open(bdf);
		if (*group >= 0 || errno != EBUSY)
			break;
		usleep(1000);
	}
	if (*group < 0)
		return -1;
	return vfio_container_attach(container, *group, VFIO_IOMMU_REG);
}

struct race_cfg {
	unsigned int threads;	/* in the racer process */
	unsigned int creators;	/* of them */
	unsigned int procs;	/* forked participants, 2 threads each */
	bool stalls;		/* userfaultfd stalls */
	bool closes;		/* detach and reattach the group */
};

/*
 * The racer: a process of its own that owns the container, so that a
 * racer stuck in the kernel (a deadlock, or an oops that left a lock
 * held) cannot keep the case from reporting.  Exit status 0, or 3 when
 * it could not set up.
 */
static void __attribute__((noreturn))
racer(struct race_shared *sh, const char *bdf, const struct race_cfg *cfg,
      uint64_t seed, unsigned int seconds)
{
	uint64_t end = clock_now_us() + seconds * 1000000ULL;
	uint64_t rng = seed | 1;
	struct worker w[MAX_WORKERS];
	pid_t pids[4] = { 0 };
	int container, group, status, rc = 0;
	unsigned int i;

	container = st_container_open(bdf, &group);
	if (container < 0 || cfg->threads > MAX_WORKERS)
		_exit(3);
	/* Processes first: fork() before this process has threads. */
	for (i = 0; i < cfg->procs && i < 4; i++) {
		pids[i] = spawn_process(sh, container, group,
					cfg->threads + 2 * i, seed, cfg->stalls);
		if (pids[i] < 0)
			_exit(3);
	}
	if (workers_start(w, cfg->threads, cfg->creators, sh, container, 0,
			  seed, cfg->stalls))
		_exit(3);
	while (clock_now_us() < end && !sh->stop) {
		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		usleep(cfg->closes ? 100000 + (rng >> 33) % 400000 : 100000);
		if (cfg->closes && clock_now_us() < end && !sh->stop) {
			if (reattach(container, &group, bdf))
				_exit(3);
			count(sh, OP_CLOSE, 0);
			/* A new backend: handles start at 1 again. */
			sh->last_handle = 0;
		}
	}
	sh->stop = 1;
	workers_join(w, cfg->threads);
	for (i = 0; i < cfg->procs && i < 4; i++)
		if (waitpid(pids[i], &status, 0) != pids[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			rc = 4;
	close(group);
	close(container);
	_exit(rc);
}

/*
 * Race for the configured time in a racer process, watching the kernel
 * log; then check the invariants and that everything went back.
 */
static void run_race(struct __test_metadata *_metadata,
		     FIXTURE_DATA(race) *self, const struct race_cfg *cfg)
{
	uint64_t start = clock_now_us();
	uint64_t deadline = start + (self->seconds + 60) * 1000000ULL;
	struct race_shared *sh = self->sh;
	char splat[256] = "";
	struct st_stats now;
	int status = 0, splats = 0;
	unsigned int i;
	pid_t pid, done = 0;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		racer(sh, self->bdf, cfg, self->seed, self->seconds);
	while (!done) {
		usleep(100000);
		done = waitpid(pid, &status, WNOHANG);
		ASSERT_LE(0, done);
		splats += st_klog_poll(self->klog, splat, sizeof(splat));
		if (splats && !sh->stop) {
			/* Stop at once; a racer the oops left stuck is given up. */
			sh->stop = 1;
			deadline = clock_now_us() + 10000000ULL;
		}
		if (!done && clock_now_us() > deadline)
			break;
	}

	for (i = 0; i < NR_OPS; i++)
		if (sh->ok[i] + sh->failed[i])
			printf("# %-16s %8lu ok %8lu failed (last: %s)\n",
			       op_names[i], sh->ok[i], sh->failed[i],
			       sh->failed[i] ? strerror(sh->last_errno[i]) :
			       "-");
	TH_LOG("seed %llu: %u threads, %u processes, %.1f s",
	       (unsigned long long)self->seed, cfg->threads, cfg->procs,
	       (clock_now_us() - start) / 1e6);
	EXPECT_EQ(0, splats) TH_LOG("kernel: %s", splat);
	ASSERT_EQ(pid, done)
		TH_LOG("the racer is stuck in the kernel (deadlock, or an oops left a lock held); given up");
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("racer status %#x", status);

	EXPECT_EQ(0, sh->refs0) TH_LOG("%s", sh->first);
	EXPECT_EQ(0, sh->handle0) TH_LOG("%s", sh->first);
	EXPECT_EQ(0, sh->huge_ok) TH_LOG("%s", sh->first);
	EXPECT_LT(0, sh->ok[OP_PREREG] + sh->ok[OP_REGISTER]);

	/* The container is closed: pins, VmPin, the module's gauges back. */
	deadline = clock_now_us() + RELEASE_MS * 1000ULL;
	while ((st_foll_pins() != self->pins ||
		st_status_bytes("VmPin") != self->vmpin) &&
	       clock_now_us() < deadline)
		usleep(20000);
	EXPECT_EQ(self->pins, st_foll_pins());
	EXPECT_EQ(self->vmpin, st_status_bytes("VmPin"));
	if (self->have_stats && !st_stats_read(&now)) {
		static const int gauges[] = {
			IOMMU_REG_STAT_CONTAINERS, IOMMU_REG_STAT_GROUPS,
			IOMMU_REG_STAT_REGIONS, IOMMU_REG_STAT_MAPPINGS,
			IOMMU_REG_STAT_PINNED_PAGES,
			IOMMU_REG_STAT_MAPPED_BYTES,
		};

		for (i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++)
			EXPECT_EQ(self->stats.v[gauges[i]], now.v[gauges[i]])
				TH_LOG("netlink stat %d not back at baseline",
				       gauges[i]);
	}
	/* The group is free again and a new container starts empty. */
	{
		int group, fd = st_container_open(self->bdf, &group);

		ASSERT_LE(0, fd);
		test_fd_counts(fd, 0, 0, 0);
		close(group);
		close(fd);
	}
	splat[0] = '\0';
	EXPECT_EQ(0, st_klog_poll(self->klog, splat, sizeof(splat)))
		TH_LOG("kernel, after the race: %s", splat);
}

/*
 * The register-once window: PREREG, REGISTER and MAP_DMA each find or
 * create a region, drop the container lock, and take it again to use
 * the region.  Destroyers UNREG the predicted handle in between; the
 * region must survive until the creating call has returned.
 */
TEST_F_TIMEOUT(race, prereg_races_unreg, 600)
{
	const struct race_cfg cfg = { .threads = 4, .creators = 1, .procs = 1 };

	run_race(_metadata, self, &cfg);
}

/* Everything at once in one process, the group detached under it. */
TEST_F_TIMEOUT(race, threads_and_close, 600)
{
	const struct race_cfg cfg = {
		.threads = 6, .creators = 3, .stalls = true, .closes = true,
	};

	run_race(_metadata, self, &cfg);
}

/* Processes sharing the container fd, with stalls and detaches. */
TEST_F_TIMEOUT(race, processes_and_close, 600)
{
	const struct race_cfg cfg = {
		.threads = 3, .creators = 2, .procs = 2, .stalls = true,
		.closes = true,
	};

	run_race(_metadata, self, &cfg);
}

TEST_HARNESS_MAIN
