// SPDX-License-Identifier: GPL-2.0-only
/*
 * ioctl fuzzer: random sequences of the backend's commands (INFO, PREREG,
 * MAP, UNMAP, UNREG, REGISTER, NOTIFY) and of type1's (GET_INFO, MAP_DMA,
 * UNMAP_DMA) with random argsz, flags, handles, offsets, lengths and
 * IOVAs, biased towards values that are almost right (a known handle, a
 * known IOVA, a size one page too long, an address that wraps, memory
 * that was just unmapped), with munmap, mmap, madvise and mremap of the
 * memory between them, and now and then the container closed with
 * everything in place and opened again.
 *
 * Any errno is acceptable; the kernel must not splat (the VM runner scans
 * the log), and once everything is closed no page may stay pinned and
 * VmPin must be back at its baseline.
 *
 * Reproducible: the seed is printed first.  Environment:
 *   IREG_FUZZ_SEED      seed (default: from the clock)
 *   IREG_FUZZ_OPS       operations (default 20000)
 *   IREG_FUZZ_SECONDS   time bound (default 30)
 */
#include <sys/mman.h>
#include "reg_helpers.h"
#include "kselftest_harness.h"

#define PAGE		ST_PAGE_SIZE
#define NR_AREAS	8
#define AREA_MAX	(1024 * PAGE)	/* 4 MiB: room for a THP */
#define NR_KNOWN	64
#define RELEASE_MS	5000

#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))

static uint64_t rng_state;

static uint64_t rnd(void)	/* xorshift64* */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned int percent)
{
	return below(100) < percent;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

/* Memory areas the fuzzer registers; each is mapped or not. */
struct area {
	uint8_t *addr;
	size_t size;
};

struct fuzz {
	int container, group, notify_fd;
	void *status;		/* a mapping of the status area, or NULL */
	size_t status_len;	/* its length */
	size_t status_size;	/* the status area's size */
	const char *bdf;
	struct area areas[NR_AREAS];
	uint32_t handles[NR_KNOWN];
	uint64_t sizes[NR_KNOWN];	/* of handles[] */
	uint64_t iovas[NR_KNOWN], lengths[NR_KNOWN];
	/* A command buffer ending at a PROT_NONE guard page. */
	uint8_t *cmdbuf;
	size_t cmdbuf_size;
	/* Results: [op][0] successes, [op][1] failures */
	unsigned long results[16][2];
};

enum op {
	OP_INFO, OP_PREREG, OP_MAP, OP_UNMAP, OP_UNREG, OP_REGISTER,
	OP_NOTIFY, OP_T1_INFO, OP_T1_MAP, OP_T1_UNMAP, OP_MEM, OP_NOTIFY_IO,
	OP_REOPEN, NR_OPS
};

static const char *const op_names[NR_OPS] = {
	"INFO", "PREREG", "MAP", "UNMAP", "UNREG", "REGISTER", "NOTIFY",
	"T1_GET_INFO", "T1_MAP_DMA", "T1_UNMAP_DMA", "mm", "notify io",
	"reopen",
};

static void remember_handle(struct fuzz *f, uint32_t handle, uint64_t size)
{
	unsigned int i = below(NR_KNOWN);

	f->handles[i] = handle;
	f->sizes[i] = size;
}

static void remember_iova(struct fuzz *f, uint64_t iova, uint64_t length)
{
	unsigned int i = below(NR_KNOWN);

	f->iovas[i] = iova;
	f->lengths[i] = length;
}

static uint32_t pick_handle(struct fuzz *f)
{
	switch (below(8)) {
	case 0:
		return rnd();
	case 1:
		return below(4);
	default:
		return f->handles[below(NR_KNOWN)] + (chance(5) ? 1 : 0);
	}
}

/* A length: page multiples mostly, sometimes odd, zero or enormous. */
static uint64_t pick_length(uint64_t max)
{
	switch (below(10)) {
	case 0:
		return 0;
	case 1:
		return rnd();
	case 2:
		return 1 + below(2 * PAGE);
	case 3:
		return -PAGE;
	default:
		return (1 + below(max / PAGE ? max / PAGE : 1)) * PAGE;
	}
}

/* A user address: inside an area (mapped or not), or anywhere. */
static uint64_t pick_vaddr(struct fuzz *f, uint64_t *size)
{
	struct area *a = &f->areas[below(NR_AREAS)];
	uint64_t off;

	switch (below(12)) {
	case 0:
		*size = pick_length(AREA_MAX);
		return rnd();
	case 1:
		*size = pick_length(AREA_MAX);
		return -PAGE * (1 + below(4));	/* wraps */
	case 2:
		*size = pick_length(AREA_MAX);
		return below(1 << 20) * PAGE;	/* low memory, unmapped */
	default:
		off = below(a->size / PAGE) * PAGE;
		*size = chance(80) ? (1 + below((a->size - off) / PAGE)) * PAGE :
				     pick_length(a->size);
		if (chance(3))
			off += 1 + below(PAGE - 1);
		return (uintptr_t)a->addr + off;
	}
}

static uint64_t pick_iova(struct fuzz *f)
{
	unsigned int i = below(NR_KNOWN);

	switch (below(8)) {
	case 0:
		return rnd() & ~(PAGE - 1);
	case 1:
		return ST_MSI_START + below(256) * PAGE;
	case 2:
		return (1ULL << 48) - PAGE * below(4);
	case 3:
		return rnd();
	default:
		return f->iovas[i] + (chance(20) ? below(16) * PAGE : 0);
	}
}

static uint32_t pick_flags(uint32_t valid)
{
	switch (below(6)) {
	case 0:
		return rnd();
	case 1:
		return 1U << below(32);
	default:
		return valid & rnd();
	}
}

/*
 * Place a command of @size bytes (@minsz its first published size) in
 * the command buffer with a random argsz: exact, one short, the first
 * published size, longer with a zero tail, longer with garbage, huge, or
 * with the struct's end against the guard page.
 */
static void *place(struct fuzz *f, const void *cmd, size_t size, size_t minsz)
{
	uint8_t *p = f->cmdbuf;
	uint32_t argsz = size;
	size_t room = f->cmdbuf_size;

	memset(p, 0, room);
	switch (below(12)) {
	case 0:
		argsz = minsz - 1 - below(minsz);
		break;
	case 1:
		argsz = minsz;
		break;
	case 2:
		argsz = size + 8 * (1 + below(8));
		break;
	case 3:
		argsz = size + 8 * (1 + below(8));
		p[size + below(argsz - size)] = 1 + below(255);
		break;
	case 4:
		argsz = chance(50) ? rnd() : room + PAGE;
		break;
	case 5:
		/* flush against the guard page: a longer argsz faults */
		p += room - size;
		if (chance(50))
			argsz = size + 8;
		break;
	default:
		break;
	}
	memcpy(p, cmd, size);
	memcpy(p, &argsz, sizeof(argsz));
	return p;
}

static int do_ioctl(struct fuzz *f, unsigned long req, const void *cmd,
		    size_t size, size_t minsz, void *out)
{
	void *p = place(f, cmd, size, minsz);
	int ret = ioctl(f->container, req, p);

	if (!ret && out)
		memcpy(out, p, size);
	return ret;
}

static void mm_op(struct fuzz *f)
{
	struct area *a = &f->areas[below(NR_AREAS)];
	size_t off = below(a->size / PAGE) * PAGE;
	size_t len = (1 + below((a->size - off) / PAGE)) * PAGE;
	void *p;

	switch (below(6)) {
	case 0:		/* munmap part of it */
		munmap(a->addr + off, len);
		/*
		 * Plug the hole at once: the status area mapped there later
		 * would be taken away by the next mm op on this area.
		 */
		mmap(a->addr + off, len, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		break;
	case 1:		/* map it again, fresh pages */
	case 2:
		p = mmap(a->addr, a->size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (p != MAP_FAILED) {
			if (chance(30))
				madvise(p, a->size, MADV_HUGEPAGE);
			memset(p, 0x5a, a->size);
		}
		break;
	case 3:
		madvise(a->addr + off, len, MADV_DONTNEED);
		break;
	case 4:
		mprotect(a->addr + off, len, chance(50) ? PROT_READ : PROT_NONE);
		break;
	case 5:		/* move a page within the area */
		if (a->size >= 2 * PAGE)
			mremap(a->addr, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
			       a->addr + a->size - PAGE);
		break;
	}
}

static int container_open(struct fuzz *f)
{
	f->container = st_container_open(f->bdf, &f->group);
	return f->container < 0 ? -1 : 0;
}

static void container_close(struct fuzz *f)
{
	if (f->status)
		munmap(f->status, f->status_len);
	f->status = NULL;
	if (f->notify_fd >= 0)
		close(f->notify_fd);
	f->notify_fd = -1;
	if (f->group >= 0)
		close(f->group);
	if (f->container >= 0)
		close(f->container);
	f->group = f->container = -1;
}

static int fuzz_one(struct fuzz *f, enum op op)
{
	struct iommu_reg_iova_range ranges[4];
	uint64_t size, v;
	int ret = 0;

	switch (op) {
	case OP_INFO: {
		struct iommu_reg_info c = {
			.flags = pick_flags(0),
			.num_iova_ranges = below(6),
			.iova_ranges = chance(70) ? (uintptr_t)ranges :
				       chance(50) ? 0 : rnd(),
		};
		if (c.num_iova_ranges > 4 && c.iova_ranges == (uintptr_t)ranges)
			c.num_iova_ranges = 4;
		ret = do_ioctl(f, IOMMU_REG_INFO, &c, sizeof(c),
			       offsetofend(struct iommu_reg_info, iova_ranges),
			       NULL);
		break;
	}
	case OP_PREREG: {
		struct iommu_reg_prereg c = {
			.flags = pick_flags(IOMMU_REG_REGION_READONLY),
		};

		c.vaddr = pick_vaddr(f, &size);
		c.size = size;
		ret = do_ioctl(f, IOMMU_REG_PREREG, &c, sizeof(c),
			       offsetofend(struct iommu_reg_prereg, refs), &c);
		if (!ret)
			remember_handle(f, c.handle, c.size);
		break;
	}
	case OP_MAP: {
		unsigned int k = below(NR_KNOWN);
		struct iommu_reg_map c = {
			.flags = pick_flags(IOMMU_REG_MAP_IOVA_FIXED |
					    IOMMU_REG_MAP_IOVA_IDENTITY),
			.handle = pick_handle(f),
			.prot = chance(80) ? ST_PROT_RW : below(8),
			.offset = chance(60) ? 0 : pick_length(AREA_MAX),
			.length = pick_length(AREA_MAX / 4),
			.iova = pick_iova(f),
		};

		/* Mostly a known region, whole or a page-aligned part of it. */
		if (chance(60) && f->sizes[k] >= PAGE) {
			c.handle = f->handles[k];
			c.offset = chance(50) ? 0 :
				   below(f->sizes[k] / PAGE) * PAGE;
			c.length = chance(50) ? f->sizes[k] - c.offset :
				   (1 + below((f->sizes[k] - c.offset) / PAGE)) * PAGE;
			if (chance(70))
				c.flags = 0;
		}
		ret = do_ioctl(f, IOMMU_REG_MAP, &c, sizeof(c),
			       sizeof(c), &c);
		if (!ret)
			remember_iova(f, c.iova, c.length);
		break;
	}
	case OP_UNMAP: {
		unsigned int i = below(NR_KNOWN);
		struct iommu_reg_unmap c = {
			.flags = chance(5) ? IOMMU_REG_UNMAP_ALL : pick_flags(0),
			.iova = chance(70) ? f->iovas[i] : pick_iova(f),
			.length = chance(70) ? f->lengths[i] : pick_length(AREA_MAX),
		};
		if (c.flags == IOMMU_REG_UNMAP_ALL && chance(80))
			c.iova = c.length = 0;
		ret = do_ioctl(f, IOMMU_REG_UNMAP, &c, sizeof(c), sizeof(c),
			       NULL);
		break;
	}
	case OP_UNREG: {
		struct iommu_reg_unreg c = {
			.flags = pick_flags(IOMMU_REG_UNREG_UNMAP),
			.handle = pick_handle(f),
			.__reserved = chance(5) ? rnd() : 0,
		};
		ret = do_ioctl(f, IOMMU_REG_UNREG, &c, sizeof(c), sizeof(c),
			       NULL);
		break;
	}
	case OP_REGISTER: {
		struct iommu_reg_register c = {
			.flags = pick_flags(IOMMU_REG_REGION_READONLY |
					    IOMMU_REG_MAP_IOVA_FIXED |
					    IOMMU_REG_MAP_IOVA_IDENTITY),
			.prot = chance(80) ? ST_PROT_RW : below(8),
			.iova = pick_iova(f),
		};

		c.vaddr = pick_vaddr(f, &size);
		c.size = size;
		ret = do_ioctl(f, IOMMU_REG_REGISTER, &c, sizeof(c),
			       offsetofend(struct iommu_reg_register, iova), &c);
		if (!ret) {
			remember_handle(f, c.handle, c.size);
			remember_iova(f, c.iova, c.size);
		}
		break;
	}
	case OP_NOTIFY: {
		struct iommu_reg_notify c = {
			.flags = pick_flags(0),
			.queue_len = chance(50) ? below(64) : rnd(),
		};
		ret = do_ioctl(f, IOMMU_REG_NOTIFY, &c, sizeof(c),
			       offsetofend(struct iommu_reg_notify, status_size),
			       &c);
		if (!ret) {
			if (f->notify_fd >= 0) {
				if (f->status)
					munmap(f->status, f->status_len);
				f->status = NULL;
				close(f->notify_fd);
			}
			f->notify_fd = c.fd;
			f->status_size = c.status_size;
			/* read() must not wait for an event that never comes */
			fcntl(c.fd, F_SETFL, O_NONBLOCK);
		}
		break;
	}
	case OP_NOTIFY_IO: {
		struct iommu_reg_event ev[8];
		size_t len;
		void *p;

		if (f->notify_fd < 0)
			return 0;
		switch (below(4)) {
		case 0:
			ret = read(f->notify_fd, ev, 1 + below(sizeof(ev))) < 0 ?
			      -1 : 0;
			break;
		case 1:
			if (f->status)
				break;
			len = chance(80) ? f->status_size : rnd() % (1 << 24);
			p = mmap(NULL, len,
				 chance(90) ? PROT_READ : PROT_READ | PROT_WRITE,
				 MAP_SHARED, f->notify_fd,
				 chance(90) ? 0 : below(4) * PAGE);
			if (p == MAP_FAILED) {
				ret = -1;
			} else if (chance(50)) {
				munmap(p, len);
			} else {
				f->status = p;
				f->status_len = len;
			}
			break;
		case 2:
			close(f->notify_fd);
			f->notify_fd = -1;
			/* the mapping of the status area outlives the fd */
			break;
		case 3:
			if (f->status) {
				v = *(volatile uint32_t *)f->status;
				(void)v;
			}
			break;
		}
		break;
	}
	case OP_T1_INFO: {
		uint8_t buf[256];
		struct vfio_iommu_type1_info *c = (void *)buf;

		memset(buf, 0, sizeof(buf));
		c->argsz = chance(50) ? sizeof(*c) : below(sizeof(buf));
		c->flags = pick_flags(0);
		ret = ioctl(f->container, VFIO_IOMMU_GET_INFO, chance(95) ? (void *)c :
			    (void *)(uintptr_t)rnd());
		break;
	}
	case OP_T1_MAP: {
		struct vfio_iommu_type1_dma_map c = {
			.flags = chance(80) ? VFIO_DMA_MAP_FLAG_READ |
					      VFIO_DMA_MAP_FLAG_WRITE :
					      pick_flags(7),
			.iova = pick_iova(f),
		};

		c.vaddr = pick_vaddr(f, &size);
		c.size = size;
		ret = do_ioctl(f, VFIO_IOMMU_MAP_DMA, &c, sizeof(c), sizeof(c),
			       NULL);
		if (!ret)
			remember_iova(f, c.iova, c.size);
		break;
	}
	case OP_T1_UNMAP: {
		unsigned int i = below(NR_KNOWN);
		struct vfio_iommu_type1_dma_unmap c = {
			.flags = chance(5) ? VFIO_DMA_UNMAP_FLAG_ALL :
				 chance(10) ? pick_flags(3) : 0,
			.iova = chance(70) ? f->iovas[i] : pick_iova(f),
			.size = chance(70) ? f->lengths[i] : pick_length(AREA_MAX),
		};
		ret = do_ioctl(f, VFIO_IOMMU_UNMAP_DMA, &c, sizeof(c),
			       sizeof(c), NULL);
		break;
	}
	case OP_MEM:
		mm_op(f);
		break;
	case OP_REOPEN:
		container_close(f);
		ret = container_open(f);
		break;
	case NR_OPS:
		break;
	}
	return ret;
}

static enum op pick_op(void)
{
	/* weights: the memory ops and the core commands most */
	static const uint8_t weight[NR_OPS] = {
		[OP_INFO] = 4, [OP_PREREG] = 14, [OP_MAP] = 14,
		[OP_UNMAP] = 10, [OP_UNREG] = 10, [OP_REGISTER] = 14,
		[OP_NOTIFY] = 3, [OP_T1_INFO] = 2, [OP_T1_MAP] = 6,
		[OP_T1_UNMAP] = 5, [OP_MEM] = 12, [OP_NOTIFY_IO] = 5,
		[OP_REOPEN] = 1,
	};
	unsigned int total = 0, i, r;

	for (i = 0; i < NR_OPS; i++)
		total += weight[i];
	r = below(total);
	for (i = 0; i < NR_OPS; i++) {
		if (r < weight[i])
			return i;
		r -= weight[i];
	}
	return OP_INFO;
}

FIXTURE(fuzz) {
	struct fuzz f;
};

FIXTURE_SETUP(fuzz)
{
	struct fuzz *f = &self->f;
	int i;

	memset(f, 0, sizeof(*f));
	f->container = f->group = f->notify_fd = -1;
	f->bdf = st_edu_bdf(0);
	if (!f->bdf)
		SETUP_SKIP("no edu device in IREG_EDU_BDFS");
	f->cmdbuf_size = 2 * PAGE;
	f->cmdbuf = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, f->cmdbuf);
	ASSERT_EQ(0, mprotect(f->cmdbuf + 2 * PAGE, PAGE, PROT_NONE));
	for (i = 0; i < NR_AREAS; i++) {
		/* 2 MiB aligned, inside a reservation that is never reused */
		uint8_t *r = mmap(NULL, AREA_MAX + ST_SZ_2M, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		ASSERT_NE(MAP_FAILED, r);
		f->areas[i].addr = (uint8_t *)(((uintptr_t)r + ST_SZ_2M - 1) &
					       ~(ST_SZ_2M - 1));
		f->areas[i].size = (i < 2 ? AREA_MAX : (1 + i) * 16 * PAGE);
		memset(f->areas[i].addr, i, f->areas[i].size);
	}
	ASSERT_EQ(0, container_open(f));
}

FIXTURE_TEARDOWN(fuzz)
{
	container_close(&self->f);
}

TEST_F_TIMEOUT(fuzz, random_ops, 600)
{
	struct fuzz *f = &self->f;
	uint64_t seed = env_u64("IREG_FUZZ_SEED", clock_now_us() ^ getpid());
	uint64_t ops = env_u64("IREG_FUZZ_OPS", 20000);
	uint64_t secs = env_u64("IREG_FUZZ_SECONDS", 30);
	long long pins = st_foll_pins(), vmpin = st_status_bytes("VmPin");
	uint64_t t0 = clock_now_us(), n;
	unsigned int i;
	char msg[128];

	/* The seed first, on stdout, so that a crash still tells it. */
	printf("# fuzz seed %llu (IREG_FUZZ_SEED=%llu reproduces), %llu ops, %llu s\n",
	       (unsigned long long)seed, (unsigned long long)seed,
	       (unsigned long long)ops, (unsigned long long)secs);
	fflush(stdout);
	snprintf(msg, sizeof(msg), "ireg-test: fuzz seed %llu\n",
		 (unsigned long long)seed);
	st_kmsg(msg);
	rng_state = seed ? seed : 1;

	for (n = 0; n < ops; n++) {
		enum op op = pick_op();

		if (!(n & 255) && clock_now_us() - t0 > secs * 1000000ULL)
			break;
		if (f->container < 0 && op != OP_MEM) {
			ASSERT_EQ(0, container_open(f));
		}
		f->results[op][fuzz_one(f, op) ? 1 : 0]++;
	}
	for (i = 0; i < NR_OPS; i++)
		printf("# %-13s %7lu ok %7lu failed\n", op_names[i],
		       f->results[i][0], f->results[i][1]);
	TH_LOG("seed %llu: %llu ops in %.1f s",
	       (unsigned long long)seed, (unsigned long long)n,
	       (clock_now_us() - t0) / 1e6);

	container_close(f);
	{
		uint64_t end = clock_now_us() + RELEASE_MS * 1000ULL;

		while ((st_foll_pins() != pins ||
			st_status_bytes("VmPin") != vmpin) &&
		       clock_now_us() < end)
			usleep(20000);
	}
	EXPECT_EQ(pins, st_foll_pins());
	EXPECT_EQ(vmpin, st_status_bytes("VmPin"));
}

TEST_HARNESS_MAIN
