// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host unit tests of the SPSC descriptor rings (include/iommureg/ring.h).
 *
 * In order: the area's validation (init and attach refuse what they
 * must, with the documented errno), ring boundaries (empty, full,
 * capacity 1, the u32 wraparound of the indices, reached through
 * ireg_ring_params.initial_index), batches, a random sequence of
 * operations against a reference model, the signal flags, then threads:
 * 10 million descriptors single and batched with every field checked,
 * buffers whose payload crosses with the descriptor, the wakeup
 * protocol's store/fence/load raced directly (a lost wakeup shows as an
 * outcome, without sleeping), and two lost-wakeup stresses in which both
 * sides sleep on eventfds and a single lost wakeup deadlocks the test,
 * which the watchdog (alarm()) fails.
 *
 *	ring_test [CASE...]
 *
 * kselftest_harness: each case in a child of its own, TAP on stdout;
 * exit 0 when every case passed, 1 otherwise.  With CASE names, only
 * those run.
 *
 * Environment: IREG_RING_ITEMS (descriptors per stress, default 10^7),
 * IREG_RING_WAKEUP_SECONDS (per timed case, default 2; signal_race may
 * take up to four times that to see the two sides overlap),
 * IREG_RING_SEED (random seed, printed: it fixes the random choices,
 * not the interleaving of the threads).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "iommureg/ring.h"
#include "../../tools/include/clock.h"
#include "../../tools/include/spin.h"
#include "../../tools/include/xorshift.h"
#include "kselftest_harness.h"
#include "harness.h"

static void (*watchdog_dump)(void);
static uint64_t wakeup_seconds;

static void put_str(const char *s)
{
	ssize_t ret = write(STDOUT_FILENO, s, strlen(s));

	(void)ret;
}

static void put_u64(uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	*--p = '\0';
	do {
		*--p = '0' + v % 10;
		v /= 10;
	} while (v);
	put_str(p);
}

/*
 * A timed case that outlives its time lost a wakeup or is stuck: say
 * where it got to and fail it.  Only async-signal-safe calls here.
 */
static void watchdog_fire(int sig)
{
	(void)sig;
	put_str("# watchdog: no completion in time, a wakeup was lost or a side is stuck\n");
	if (watchdog_dump)
		watchdog_dump();
	_exit(1);
}

/* Arm it for @periods times IREG_RING_WAKEUP_SECONDS, plus 5 s. */
static void watchdog_arm(unsigned int periods, void (*dump)(void))
{
	watchdog_dump = dump;
	signal(SIGALRM, watchdog_fire);
	alarm(periods * wakeup_seconds + 5);
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

static uint64_t seed;

static void spin(unsigned int n)
{
	while (n--)
		cpu_relax();
}

/*
 * The descriptor for sequence number s: every field depends on s, so a
 * lost, duplicated, reordered or torn descriptor shows.
 */
static struct ireg_ring_desc seq_desc(uint64_t s)
{
	return (struct ireg_ring_desc){
		.offset = s * 0x9e3779b97f4a7c15ULL,
		.len = (uint32_t)(s >> 3) ^ 0xa5a5a5a5U,
		.cookie = (uint32_t)s,
	};
}

static bool desc_eq(const struct ireg_ring_desc *a,
		    const struct ireg_ring_desc *b)
{
	return a->offset == b->offset && a->len == b->len &&
	       a->cookie == b->cookie;
}

static bool is_seq(const struct ireg_ring_desc *d, uint64_t s)
{
	struct ireg_ring_desc expect = seq_desc(s);

	return desc_eq(d, &expect);
}

/*
 * Every case: a child of its own (kselftest_harness); the timed ones arm
 * the watchdog for their IREG_RING_WAKEUP_SECONDS and are given up by
 * the harness only after WATCHDOG_MAX.
 */
#define WATCHDOG_MAX	3600

FIXTURE(ring) {
};

FIXTURE_SETUP(ring)
{
}

FIXTURE_TEARDOWN(ring)
{
}

/* An area in page-aligned memory, as mmap() would give. */
struct area {
	void *mem;
	size_t size;
};

static void area_free(struct area *a)
{
	free(a->mem);
	a->mem = NULL;
}

static int area_new(struct area *a, uint32_t capacity, uint32_t initial)
{
	struct ireg_ring_params params = {
		.size = sizeof(params),
		.capacity = capacity,
		.initial_index = initial,
	};
	int ret;

	a->size = ireg_ring_area_size(capacity);
	a->mem = aligned_alloc(4096, (a->size + 4095) & ~4095UL);
	if (!a->size || !a->mem)
		return -ENOMEM;
	memset(a->mem, 0xcc, a->size);
	ret = ireg_ring_init(a->mem, a->size, &params);
	if (ret)
		area_free(a);
	return ret;
}

/* Both endpoints of a fresh channel. */
struct pair {
	struct area area;
	struct ireg_ring_chan prod_end;	/* IREG_RING_PRODUCER */
	struct ireg_ring_chan cons_end;	/* IREG_RING_CONSUMER */
};

static int pair_new(struct pair *p, uint32_t capacity, uint32_t initial)
{
	int ret = area_new(&p->area, capacity, initial);

	if (!ret)
		ret = ireg_ring_attach(&p->prod_end, p->area.mem, p->area.size,
				       IREG_RING_PRODUCER);
	if (!ret)
		ret = ireg_ring_attach(&p->cons_end, p->area.mem, p->area.size,
				       IREG_RING_CONSUMER);
	return ret;
}

static void pair_free(struct pair *p)
{
	ireg_ring_detach(&p->prod_end);
	ireg_ring_detach(&p->cons_end);
	area_free(&p->area);
}

/* Cases */

TEST_F(ring, area_size)
{
	static const uint32_t bad[] = {
		0, 3, 6, 12, 1000, IREG_RING_MAX_CAPACITY + 1,
		IREG_RING_MAX_CAPACITY * 2U, UINT32_MAX,
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_EQ(0, ireg_ring_area_size(bad[i]));
	/* Header 128, two rings of 384 + slots rounded up to 128. */
	EXPECT_EQ(128 + 2 * (384 + 128), ireg_ring_area_size(1));
	EXPECT_EQ(128 + 2 * (384 + 128), ireg_ring_area_size(8));
	EXPECT_EQ(128 + 2 * (384 + 256), ireg_ring_area_size(16));
	EXPECT_EQ(128 + 2 * (384 + 16384), ireg_ring_area_size(1024));
	if (sizeof(size_t) == 8)
		EXPECT_EQ(128 + 2 * (384 + 16ULL * IREG_RING_MAX_CAPACITY),
			  ireg_ring_area_size(IREG_RING_MAX_CAPACITY));
}

TEST_F(ring, init_errors)
{
	struct ireg_ring_params params = {
		.size = sizeof(params),
		.capacity = 8,
	};
	size_t need = ireg_ring_area_size(8);
	char *mem = aligned_alloc(4096, 8192);
	struct ireg_ring_chan chan;

	ASSERT_TRUE(mem);
	EXPECT_EQ(-EINVAL, ireg_ring_init(NULL, need, &params));
	/* NULL params: the default capacity, which 8192 bytes cannot hold. */
	EXPECT_EQ(-ENOSPC, ireg_ring_init(mem, need, NULL));
	EXPECT_EQ(-EINVAL, ireg_ring_init(mem + 8, need, &params));
	EXPECT_EQ(-EINVAL, ireg_ring_init(mem + 32, need, &params));
	params.capacity = 0;
	EXPECT_EQ(-EINVAL, ireg_ring_init(mem, 8192, &params));
	params.capacity = 3;
	EXPECT_EQ(-EINVAL, ireg_ring_init(mem, 8192, &params));
	params.capacity = 24;
	EXPECT_EQ(-EINVAL, ireg_ring_init(mem, 8192, &params));
	params.capacity = IREG_RING_MAX_CAPACITY * 2U;
	EXPECT_EQ(-EINVAL, ireg_ring_init(mem, 8192, &params));
	params.capacity = 8;
	params.flags = 1;
	EXPECT_EQ(-EINVAL, ireg_ring_init(mem, 8192, &params));
	params.flags = 0;
	EXPECT_EQ(-ENOSPC, ireg_ring_init(mem, 0, &params));
	EXPECT_EQ(-ENOSPC, ireg_ring_init(mem, need - 1, &params));
	/* A larger capacity needs more than the memory has. */
	params.capacity = 1024;
	EXPECT_EQ(-ENOSPC, ireg_ring_init(mem, 8192, &params));
	params.capacity = 8;
	EXPECT_EQ(0, ireg_ring_init(mem, need, &params));
	EXPECT_EQ(0, ireg_ring_attach(&chan, mem, need, IREG_RING_PRODUCER));
	/* 64-byte alignment is enough. */
	EXPECT_EQ(0, ireg_ring_init(mem + 64, 8192 - 64, &params));
	EXPECT_EQ(0,
		  ireg_ring_attach(&chan, mem + 64, need, IREG_RING_CONSUMER));
	free(mem);
}

/*
 * struct ireg_ring_params grows by its size member (internal.h's rule):
 * an older caller's shorter struct is the rest 0, a newer caller's longer
 * one is refused with -E2BIG unless the bytes this library does not know
 * are 0, a size that cannot hold the size member is -EINVAL, NULL is the
 * default capacity.  Both entry points that take params follow it.
 */
TEST_F(ring, params_size)
{
	size_t big = ireg_ring_area_size(IREG_RING_DEFAULT_CAPACITY);
	struct {
		struct ireg_ring_params p;
		uint64_t tail[2];
	} longer = {
		.p = {
			.size = sizeof(longer),
			.capacity = 8,
			.initial_index = 5,
		},
	};
	struct ireg_ring_params shorter = {
		/* An older caller's struct: size and capacity only. */
		.size = offsetof(struct ireg_ring_params, flags),
		.capacity = 16,
		.initial_index = 7,	/* beyond its size: not read */
	};
	struct ireg_ring_chan chan;
	struct ireg_ring_area *area;
	char *mem = aligned_alloc(4096, (big + 4095) & ~4095UL);
	int fd;

	ASSERT_TRUE(mem);
	area = (struct ireg_ring_area *)mem;

	EXPECT_EQ(0, ireg_ring_init(mem, big, &shorter));
	EXPECT_EQ(16U, area->capacity);
	ASSERT_EQ(0, ireg_ring_attach(&chan, mem, big, IREG_RING_PRODUCER));
	EXPECT_EQ(0U, chan.prod.prod);	/* initial_index not taken */
	EXPECT_EQ(16U, ireg_ring_space(&chan.prod));

	/* Longer, its tail 0: fine, and what this library knows is read. */
	EXPECT_EQ(0, ireg_ring_init(mem, big, &longer.p));
	EXPECT_EQ(8U, area->capacity);
	ASSERT_EQ(0, ireg_ring_attach(&chan, mem, big, IREG_RING_PRODUCER));
	EXPECT_EQ(5U, chan.prod.prod);

	/* Longer, a byte of its tail set: -E2BIG, the area untouched. */
	longer.tail[1] = 1ULL << 56;
	memset(mem, 0xa5, big);
	EXPECT_EQ(-E2BIG, ireg_ring_init(mem, big, &longer.p));
	EXPECT_EQ(0xa5, (unsigned char)mem[0]);
	fd = ireg_ring_memfd_create("params", &longer.p);
	EXPECT_EQ(-E2BIG, fd);
	if (fd >= 0)
		close(fd);
	longer.tail[1] = 0;

	/* Too short to hold the size member: -EINVAL. */
	shorter.size = 0;
	EXPECT_EQ(-EINVAL, ireg_ring_init(mem, big, &shorter));
	shorter.size = sizeof(size_t) - 1;
	EXPECT_EQ(-EINVAL, ireg_ring_init(mem, big, &shorter));
	fd = ireg_ring_memfd_create("params", &shorter);
	EXPECT_EQ(-EINVAL, fd);
	if (fd >= 0)
		close(fd);

	/* NULL: IREG_RING_DEFAULT_CAPACITY. */
	EXPECT_EQ(0, ireg_ring_init(mem, big, NULL));
	EXPECT_EQ(IREG_RING_DEFAULT_CAPACITY, area->capacity);
	fd = ireg_ring_memfd_create("params", NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ireg_ring_memfd_attach(&chan, fd, IREG_RING_CONSUMER));
	EXPECT_EQ(IREG_RING_DEFAULT_CAPACITY, ireg_ring_space(&chan.prod));
	ireg_ring_detach(&chan);
	close(fd);

	/* A longer struct with a zero tail through memfd_create too. */
	fd = ireg_ring_memfd_create("params", &longer.p);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ireg_ring_memfd_attach(&chan, fd, IREG_RING_PRODUCER));
	EXPECT_EQ(8U, ireg_ring_space(&chan.prod));
	ireg_ring_detach(&chan);
	close(fd);
	free(mem);
}

/* Mutate a healthy area, expect attach to refuse it with @err. */
static struct ireg_ring_ctrl *ctrl_of(struct ireg_ring_area *h,
				      enum ireg_ring_id id)
{
	return (struct ireg_ring_ctrl *)((char *)h + h->ring_offset[id]);
}

/* The ways a peer's area can be wrong, each with what attach says. */
enum corruption {
	C_ZERO,
	C_MAGIC,
	C_ENDIAN,
	C_VERSION,
	C_HDR_SIZE,
	C_DESC_SIZE,
	C_CAP_NPOT,
	C_CAP_ZERO,
	C_CAP_LARGER,
	C_FLAGS,
	C_AREA_SIZE,
	C_OFFSET,
	C_OFFSET_WILD,
	C_RESERVED,
	C_INDEX_ACTIVE,
	C_INDEX_FREE,
	C_SHORT,
	C_TINY,
};

static void corrupt(struct ireg_ring_area *h, size_t *s, enum corruption c)
{
	switch (c) {
	case C_ZERO:
		memset(h, 0, *s);
		break;
	case C_MAGIC:
		h->magic ^= 1;
		break;
	case C_ENDIAN:
		h->magic = __builtin_bswap32(h->magic);
		break;
	case C_VERSION:
		h->version = IREG_RING_VERSION + 1;
		break;
	case C_HDR_SIZE:
		h->hdr_size = 64;
		break;
	case C_DESC_SIZE:
		h->desc_size = 32;
		break;
	case C_CAP_NPOT:
		h->capacity = 12;
		break;
	case C_CAP_ZERO:
		h->capacity = 0;
		break;
	/* Claims a larger capacity than was laid out: slots past the end. */
	case C_CAP_LARGER:
		h->capacity *= 2;
		break;
	case C_FLAGS:
		h->flags = 1;
		break;
	case C_AREA_SIZE:
		h->area_size += 128;
		break;
	case C_OFFSET:
		h->ring_offset[IREG_RING_FREE] += 128;
		break;
	case C_OFFSET_WILD:
		h->ring_offset[IREG_RING_ACTIVE] = 1ULL << 40;
		break;
	case C_RESERVED:
		h->reserved[sizeof(h->reserved) - 1] = 1;
		break;
	/* The peer's index claims more descriptors than the ring can hold. */
	case C_INDEX_ACTIVE:
		ctrl_of(h, IREG_RING_ACTIVE)->prod += h->capacity + 1;
		break;
	case C_INDEX_FREE:
		ctrl_of(h, IREG_RING_FREE)->cons += 1;
		break;
	case C_SHORT:
		*s = h->area_size - 1;
		break;
	case C_TINY:
		*s = sizeof(*h) - 1;
		break;
	}
}

static const struct {
	const char *what;
	enum corruption c;
	int err;
} corruptions[] = {
	{ "zeroed memory", C_ZERO, -EBADMSG },
	{ "bad magic", C_MAGIC, -EBADMSG },
	{ "other endianness", C_ENDIAN, -EBADMSG },
	{ "unknown version", C_VERSION, -EPROTO },
	{ "hdr_size", C_HDR_SIZE, -EUCLEAN },
	{ "desc_size", C_DESC_SIZE, -EUCLEAN },
	{ "capacity not a power of two", C_CAP_NPOT, -EUCLEAN },
	{ "capacity 0", C_CAP_ZERO, -EUCLEAN },
	{ "capacity larger than laid out", C_CAP_LARGER, -EUCLEAN },
	{ "flags", C_FLAGS, -EUCLEAN },
	{ "area_size", C_AREA_SIZE, -EUCLEAN },
	{ "ring_offset", C_OFFSET, -EUCLEAN },
	{ "ring_offset out of the area", C_OFFSET_WILD, -EUCLEAN },
	{ "reserved", C_RESERVED, -EUCLEAN },
	{ "active prod beyond capacity", C_INDEX_ACTIVE, -EUCLEAN },
	{ "free cons beyond prod", C_INDEX_FREE, -EUCLEAN },
	{ "memory shorter than area_size", C_SHORT, -ENOSPC },
	{ "memory shorter than the header", C_TINY, -ENOSPC },
};

TEST_F(ring, attach_errors)
{
	struct ireg_ring_chan chan;
	struct area a;
	unsigned int i, role;
	size_t size;

	ASSERT_TRUE(area_new(&a, 8, 0) == 0);
	EXPECT_EQ(0,
		  ireg_ring_attach(&chan, a.mem, a.size, IREG_RING_PRODUCER));
	EXPECT_EQ(IREG_RING_PRODUCER, chan.role);
	EXPECT_EQ(0,
		  ireg_ring_attach(&chan, a.mem, a.size, IREG_RING_CONSUMER));
	EXPECT_EQ(0,
		  ireg_ring_attach(&chan, a.mem, a.size + 4096, IREG_RING_CONSUMER));
	EXPECT_EQ(-EINVAL, ireg_ring_attach(&chan, a.mem, a.size, 2));
	EXPECT_EQ(-EINVAL, ireg_ring_attach(&chan, a.mem, a.size, -1U));
	EXPECT_EQ(-EINVAL,
		  ireg_ring_attach(NULL, a.mem, a.size, IREG_RING_PRODUCER));
	EXPECT_EQ(-EINVAL,
		  ireg_ring_attach(&chan, NULL, a.size, IREG_RING_PRODUCER));
	EXPECT_EQ(-EINVAL,
		  ireg_ring_attach(&chan, (char *)a.mem + 8, a.size, IREG_RING_PRODUCER));
	for (i = 0; i < sizeof(corruptions) / sizeof(corruptions[0]); i++) {
		for (role = IREG_RING_PRODUCER; role <= IREG_RING_CONSUMER; role++) {
			struct ireg_ring_params params = {
				.size = sizeof(params),
				.capacity = 8,
			};
			int ret;

			size = a.size;
			ASSERT_TRUE(ireg_ring_init(a.mem, a.size, &params) == 0);
			corrupt(a.mem, &size, corruptions[i].c);
			memset(&chan, 0x5a, sizeof(chan));
			ret = ireg_ring_attach(&chan, a.mem, size, role);
			EXPECT_EQ(corruptions[i].err, ret)
				TH_LOG("%s, role %u: attach returned %d (%s)",
				       corruptions[i].what, role, ret,
				       strerror(-ret));
			/* A refused attach leaves no half-made handle. */
			EXPECT_TRUE(chan.prod.ctrl == NULL || chan.prod.ctrl ==
				    (void *)0x5a5a5a5a5a5a5a5aULL);
			EXPECT_TRUE(chan.cons.ctrl == NULL || chan.cons.ctrl ==
				    (void *)0x5a5a5a5a5a5a5a5aULL);
		}
	}
	area_free(&a);
}

TEST_F(ring, empty_full)
{
	struct ireg_ring_desc d, got[16];
	struct pair p;
	uint64_t s;

	ASSERT_TRUE(pair_new(&p, 8, 0) == 0);
	EXPECT_EQ(-EAGAIN, ireg_ring_dequeue(&p.cons_end.cons, &d));
	EXPECT_EQ(0, ireg_ring_dequeue_batch(&p.cons_end.cons, got, 16));
	EXPECT_EQ(0, ireg_ring_avail(&p.cons_end.cons));
	EXPECT_EQ(8, ireg_ring_space(&p.prod_end.prod));
	for (s = 0; s < 8; s++) {
		d = seq_desc(s);
		EXPECT_EQ(0, ireg_ring_enqueue(&p.prod_end.prod, &d));
		EXPECT_EQ(7 - s, ireg_ring_space(&p.prod_end.prod));
		EXPECT_EQ(s + 1, ireg_ring_avail(&p.cons_end.cons));
	}
	d = seq_desc(8);
	EXPECT_EQ(-EAGAIN, ireg_ring_enqueue(&p.prod_end.prod, &d));
	EXPECT_EQ(0, ireg_ring_enqueue_batch(&p.prod_end.prod, &d, 1));
	/* A full ring does not spill into the other ring of the channel. */
	EXPECT_EQ(-EAGAIN, ireg_ring_dequeue(&p.prod_end.cons, &d));
	EXPECT_EQ(8, ireg_ring_space(&p.cons_end.prod));
	/* One out, one in. */
	EXPECT_EQ(0, ireg_ring_dequeue(&p.cons_end.cons, &d));
	EXPECT_TRUE(is_seq(&d, 0));
	d = seq_desc(8);
	EXPECT_EQ(0, ireg_ring_enqueue(&p.prod_end.prod, &d));
	EXPECT_EQ(-EAGAIN, ireg_ring_enqueue(&p.prod_end.prod, &d));
	for (s = 1; s <= 8; s++) {
		EXPECT_EQ(0, ireg_ring_dequeue(&p.cons_end.cons, &d));
		EXPECT_TRUE(is_seq(&d, s));
	}
	EXPECT_EQ(-EAGAIN, ireg_ring_dequeue(&p.cons_end.cons, &d));
	EXPECT_EQ(0, ireg_ring_avail(&p.cons_end.cons));
	EXPECT_EQ(8, ireg_ring_space(&p.prod_end.prod));
	pair_free(&p);
}

TEST_F(ring, capacity_one)
{
	struct ireg_ring_desc d;
	struct pair p;
	uint64_t s;

	ASSERT_TRUE(pair_new(&p, 1, UINT32_MAX - 50) == 0);
	for (s = 0; s < 100; s++) {
		d = seq_desc(s);
		EXPECT_EQ(0, ireg_ring_enqueue(&p.prod_end.prod, &d));
		EXPECT_EQ(-EAGAIN, ireg_ring_enqueue(&p.prod_end.prod, &d));
		EXPECT_EQ(0, ireg_ring_space(&p.prod_end.prod));
		EXPECT_EQ(1, ireg_ring_avail(&p.cons_end.cons));
		EXPECT_EQ(0, ireg_ring_dequeue(&p.cons_end.cons, &d));
		EXPECT_TRUE(is_seq(&d, s));
		EXPECT_EQ(-EAGAIN, ireg_ring_dequeue(&p.cons_end.cons, &d));
		if (!test_passed(_metadata))
			break;
	}
	pair_free(&p);
}

/*
 * The indices start just below 2^32 (and just below 2^31, where a signed
 * comparison would break): full and empty must be told apart while prod
 * has wrapped and cons has not.
 */
TEST_F(ring, wraparound)
{
	static const uint32_t starts[] = {
		UINT32_MAX - 2, UINT32_MAX, INT32_MAX - 2, UINT32_MAX - 7,
	};
	struct ireg_ring_desc d, batch[6];
	unsigned int i, k;
	uint64_t in, out;
	struct pair p;

	for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		ASSERT_TRUE(pair_new(&p, 4, starts[i]) == 0);
		in = out = 0;
		/* Fill across the wrap: prod wraps, cons has not. */
		for (k = 0; k < 4; k++) {
			d = seq_desc(in);
			EXPECT_EQ(0, ireg_ring_enqueue(&p.prod_end.prod, &d));
			in++;
		}
		EXPECT_EQ(-EAGAIN, ireg_ring_enqueue(&p.prod_end.prod, &d));
		EXPECT_EQ(0, ireg_ring_space(&p.prod_end.prod));
		EXPECT_EQ(4, ireg_ring_avail(&p.cons_end.cons));
		EXPECT_EQ((uint32_t)(starts[i] + 4),
			  p.prod_end.prod.ctrl->prod);
		/* Batches crossing both the slot wrap and the u32 wrap. */
		for (k = 0; k < 200; k++) {
			unsigned int n = 1 + k % 4, got, j;

			got = ireg_ring_dequeue_batch(&p.cons_end.cons, batch, n);
			EXPECT_EQ(n, got);
			for (j = 0; j < got; j++, out++)
				EXPECT_TRUE(is_seq(&batch[j], out));
			for (j = 0; j < 6; j++)
				batch[j] = seq_desc(in + j);
			got = ireg_ring_enqueue_batch(&p.prod_end.prod, batch, 6);
			EXPECT_EQ(n, got);
			in += got;
			EXPECT_EQ(4, ireg_ring_avail(&p.cons_end.cons));
			if (!test_passed(_metadata))
				break;
		}
		while (ireg_ring_dequeue(&p.cons_end.cons, &d) == 0) {
			EXPECT_TRUE(is_seq(&d, out));
			out++;
		}
		EXPECT_EQ(in, out);
		EXPECT_EQ(0, ireg_ring_avail(&p.cons_end.cons));
		EXPECT_EQ(4, ireg_ring_space(&p.prod_end.prod));
		EXPECT_EQ((uint32_t)(starts[i] + in),
			  p.cons_end.cons.ctrl->cons);
		pair_free(&p);
		if (!test_passed(_metadata)) {
			printf("# initial index %" PRIu32 "\n", starts[i]);
			return;
		}
	}
}

TEST_F(ring, batch_partial)
{
	struct ireg_ring_desc d, in[16], out[32];
	struct pair p;
	unsigned int i;
	uint64_t next = 0, expect = 0;

	ASSERT_TRUE(pair_new(&p, 8, 0) == 0);
	for (i = 0; i < 16; i++)
		in[i] = seq_desc(i);
	EXPECT_EQ(0, ireg_ring_enqueue_batch(&p.prod_end.prod, in, 0));
	EXPECT_EQ(0, p.prod_end.prod.ctrl->prod);
	for (i = 0; i < 5; i++) {
		d = seq_desc(next++);
		EXPECT_EQ(0, ireg_ring_enqueue(&p.prod_end.prod, &d));
	}
	/* 10 asked, 3 fit: the first 3, in order. */
	EXPECT_EQ(3, ireg_ring_enqueue_batch(&p.prod_end.prod, &in[5], 10));
	next += 3;
	EXPECT_EQ(0, ireg_ring_enqueue_batch(&p.prod_end.prod, &in[8], 8));
	EXPECT_EQ(0, ireg_ring_dequeue_batch(&p.cons_end.cons, out, 0));
	EXPECT_EQ(2, ireg_ring_dequeue_batch(&p.cons_end.cons, out, 2));
	EXPECT_TRUE(is_seq(&out[0], expect++));
	EXPECT_TRUE(is_seq(&out[1], expect++));
	EXPECT_EQ(2, ireg_ring_enqueue_batch(&p.prod_end.prod, &in[8], 8));
	next += 2;
	/* 32 asked, 8 there. */
	EXPECT_EQ(8, ireg_ring_dequeue_batch(&p.cons_end.cons, out, 32));
	for (i = 0; i < 8; i++)
		EXPECT_TRUE(is_seq(&out[i], expect++));
	EXPECT_EQ(next, expect);
	EXPECT_EQ(0, ireg_ring_dequeue_batch(&p.cons_end.cons, out, 32));
	EXPECT_EQ(-EAGAIN, ireg_ring_dequeue(&p.cons_end.cons, &d));
	pair_free(&p);
}

/*
 * Random operations against a model (a sequence counter on each side):
 * FIFO order, exact full and empty, counts, for capacities from 1 to 64
 * and initial indices on both sides of the wraps.
 */
TEST_F(ring, fifo_model)
{
	static const uint32_t caps[] = { 1, 2, 4, 8, 64 };
	static const uint32_t starts[] = {
		0, UINT32_MAX - 100, INT32_MAX - 100, 12345,
	};
	struct ireg_ring_desc buf[80];
	uint64_t state = seed | 1;
	unsigned int ci, si, op;

	for (ci = 0; ci < sizeof(caps) / sizeof(caps[0]); ci++) {
		for (si = 0; si < sizeof(starts) / sizeof(starts[0]); si++) {
			uint32_t cap = caps[ci];
			uint64_t in = 0, out = 0;
			struct pair p;

			ASSERT_TRUE(pair_new(&p, cap, starts[si]) == 0);
			for (op = 0; op < 20000 && test_passed(_metadata); op++) {
				uint64_t r = xorshift64s(&state);
				unsigned int n = 1 + (r >> 8) % (cap + 8), got, j;
				uint64_t used = in - out;

				switch (r % 6) {
				case 0:
					buf[0] = seq_desc(in);
					EXPECT_EQ(used < cap ? 0 : -EAGAIN,
						  ireg_ring_enqueue(&p.prod_end.prod, buf));
					if (used < cap)
						in++;
					break;
				case 1:
					EXPECT_EQ(used ? 0 : -EAGAIN,
						  ireg_ring_dequeue(&p.cons_end.cons, buf));
					if (used) {
						EXPECT_TRUE(is_seq(buf, out));
						out++;
					}
					break;
				case 2:
					for (j = 0; j < n; j++)
						buf[j] = seq_desc(in + j);
					got = ireg_ring_enqueue_batch(&p.prod_end.prod, buf, n);
					EXPECT_EQ(n < cap - used ? n : cap - used,
						  got);
					in += got;
					break;
				case 3:
					got = ireg_ring_dequeue_batch(&p.cons_end.cons, buf, n);
					EXPECT_EQ(n < used ? n : used, got);
					for (j = 0; j < got; j++, out++)
						EXPECT_TRUE(is_seq(&buf[j], out));
					break;
				case 4:
					EXPECT_EQ(used,
						  ireg_ring_avail(&p.cons_end.cons));
					break;
				case 5:
					EXPECT_EQ(cap - used,
						  ireg_ring_space(&p.prod_end.prod));
					break;
				}
			}
			if (!test_passed(_metadata))
				printf("# capacity %u, initial index %u, op %u\n",
				       cap, starts[si], op);
			pair_free(&p);
			if (!test_passed(_metadata))
				return;
		}
	}
}

/* Active and free are distinct rings going opposite ways. */
TEST_F(ring, channel_roles)
{
	struct ireg_ring_desc d;
	struct pair p;

	ASSERT_TRUE(pair_new(&p, 4, 0) == 0);
	EXPECT_EQ(IREG_RING_PRODUCER, p.prod_end.role);
	EXPECT_EQ(IREG_RING_CONSUMER, p.cons_end.role);
	EXPECT_TRUE(p.prod_end.prod.ctrl == p.cons_end.cons.ctrl);
	EXPECT_TRUE(p.prod_end.cons.ctrl == p.cons_end.prod.ctrl);
	EXPECT_TRUE(p.prod_end.prod.ctrl != p.prod_end.cons.ctrl);
	EXPECT_TRUE(p.prod_end.prod.ctrl == ctrl_of(p.area.mem, IREG_RING_ACTIVE));
	d = seq_desc(1);
	EXPECT_EQ(0, ireg_ring_enqueue(&p.prod_end.prod, &d));
	EXPECT_EQ(-EAGAIN, ireg_ring_dequeue(&p.prod_end.cons, &d));
	EXPECT_EQ(0, ireg_ring_dequeue(&p.cons_end.cons, &d));
	EXPECT_TRUE(is_seq(&d, 1));
	d = seq_desc(2);
	EXPECT_EQ(0, ireg_ring_enqueue(&p.cons_end.prod, &d));
	EXPECT_EQ(-EAGAIN, ireg_ring_dequeue(&p.cons_end.cons, &d));
	EXPECT_EQ(0, ireg_ring_dequeue(&p.prod_end.cons, &d));
	EXPECT_TRUE(is_seq(&d, 2));
	/* A re-attach picks up the indices where they are. */
	d = seq_desc(3);
	EXPECT_EQ(0, ireg_ring_enqueue(&p.prod_end.prod, &d));
	EXPECT_EQ(0,
		  ireg_ring_attach(&p.cons_end, p.area.mem, p.area.size, IREG_RING_CONSUMER));
	EXPECT_EQ(0, ireg_ring_dequeue(&p.cons_end.cons, &d));
	EXPECT_TRUE(is_seq(&d, 3));
	EXPECT_EQ(0,
		  ireg_ring_attach(&p.prod_end, p.area.mem, p.area.size, IREG_RING_PRODUCER));
	EXPECT_EQ(4, ireg_ring_space(&p.prod_end.prod));
	ireg_ring_detach(&p.prod_end);
	EXPECT_TRUE(p.prod_end.prod.ctrl == NULL && p.prod_end.map == NULL);
	pair_free(&p);
}

/*
 * The cached copy of the peer's index is refreshed only when the ring
 * looks full (producer) or empty (consumer): that is what keeps the
 * peer's cache line from bouncing.
 */
TEST_F(ring, cached_index)
{
	struct ireg_ring_desc d = seq_desc(0), b[8];
	struct ireg_ring_prod *prod;
	struct ireg_ring_cons *cons;
	struct pair p;
	unsigned int i;

	ASSERT_TRUE(pair_new(&p, 8, 0) == 0);
	prod = &p.prod_end.prod;
	cons = &p.cons_end.cons;
	EXPECT_EQ(0, ireg_ring_enqueue(prod, &d));
	EXPECT_EQ(0, ireg_ring_enqueue(prod, &d));
	/* Looks empty on the first try: prod is loaded, 2. */
	EXPECT_EQ(0, ireg_ring_dequeue(cons, &d));
	EXPECT_EQ(2, cons->prod_cache);
	EXPECT_EQ(0, ireg_ring_dequeue(cons, &d));
	/* The producer goes on with its stale cons == 0 until 8 look used. */
	for (i = 2; i < 8; i++)
		EXPECT_EQ(0, ireg_ring_enqueue(prod, &d));
	EXPECT_EQ(0, prod->cons_cache);
	EXPECT_EQ(0, ireg_ring_enqueue(prod, &d));
	EXPECT_EQ(2, prod->cons_cache);
	/* The consumer's prod == 2 looks empty at cons == 2: reload, 9. */
	EXPECT_EQ(0, ireg_ring_dequeue(cons, &d));
	EXPECT_EQ(9, cons->prod_cache);
	EXPECT_EQ(0, ireg_ring_enqueue(prod, &d));
	for (i = 3; i < 9; i++)
		EXPECT_EQ(0, ireg_ring_dequeue(cons, &d));
	EXPECT_EQ(9, cons->prod_cache);
	/* Exactly one there (10): taken, the copy left behind at 9. */
	EXPECT_EQ(0, ireg_ring_dequeue(cons, &d));
	EXPECT_EQ(9, cons->prod_cache);
	/* Batches reload when the cache cannot cover them. */
	EXPECT_EQ(4, ireg_ring_enqueue_batch(prod, b, 4));
	EXPECT_EQ(10, prod->cons_cache);
	EXPECT_EQ(2, ireg_ring_dequeue_batch(cons, b, 2));
	EXPECT_EQ(14, cons->prod_cache);
	EXPECT_EQ(2, ireg_ring_enqueue_batch(prod, b, 2));
	EXPECT_EQ(2, ireg_ring_dequeue_batch(cons, b, 2));
	EXPECT_EQ(14, cons->prod_cache);
	EXPECT_EQ(2, ireg_ring_dequeue_batch(cons, b, 3));
	EXPECT_EQ(16, cons->prod_cache);
	/* Producer at 16, sure of 10: room for 2 known, 3 asked: reload. */
	EXPECT_EQ(2, ireg_ring_enqueue_batch(prod, b, 2));
	EXPECT_EQ(10, prod->cons_cache);
	EXPECT_EQ(3, ireg_ring_enqueue_batch(prod, b, 3));
	EXPECT_EQ(16, prod->cons_cache);
	pair_free(&p);
}

/*
 * A single dequeue that observes exactly one descriptor leaves the
 * consumer's copy of prod behind its own index (one store less).  Every
 * call must read that as "look again", never as prod_cache - cons
 * (mod 2^32) descriptors: a batch that trusted it would hand out slots
 * never filled.  Across the u32 wrap, mixed with batches.
 */
TEST_F(ring, lagging_cache)
{
	struct ireg_ring_desc d, b[8];
	struct ireg_ring_prod *prod;
	struct ireg_ring_cons *cons;
	uint64_t in = 0, out = 0;
	unsigned int i, n;
	struct pair p;

	ASSERT_TRUE(pair_new(&p, 4, 0xfffffffdU) == 0);
	prod = &p.prod_end.prod;
	cons = &p.cons_end.cons;
	for (i = 0; i < 8; i++) {
		d = seq_desc(in++);
		ASSERT_EQ(0, ireg_ring_enqueue(prod, &d));
		ASSERT_EQ(0, ireg_ring_dequeue(cons, &d));
		EXPECT_TRUE(is_seq(&d, out++));
		/* Behind cons: the one store skipped. */
		EXPECT_EQ(cons->cons - 1, cons->prod_cache);
		/* Empty, whatever the copy says. */
		EXPECT_EQ(-EAGAIN, ireg_ring_dequeue(cons, &d));
		EXPECT_EQ(0U, ireg_ring_dequeue_batch(cons, b, 8));
		EXPECT_EQ(0U, ireg_ring_dequeue_batch(cons, b, 1));
		/* The previous two observed prod: back in step. */
		EXPECT_EQ(cons->cons, cons->prod_cache);
		/* Lag again, then a batch must observe, not trust it. */
		d = seq_desc(in++);
		ASSERT_EQ(0, ireg_ring_enqueue(prod, &d));
		ASSERT_EQ(0, ireg_ring_dequeue(cons, &d));
		EXPECT_TRUE(is_seq(&d, out++));
		EXPECT_EQ(cons->cons - 1, cons->prod_cache);
		b[0] = seq_desc(in++);
		b[1] = seq_desc(in++);
		ASSERT_EQ(2U, ireg_ring_enqueue_batch(prod, b, 2));
		memset(b, 0, sizeof(b));
		n = ireg_ring_dequeue_batch(cons, b, 8);
		EXPECT_EQ(2U, n);
		EXPECT_TRUE(is_seq(&b[0], out++));
		EXPECT_TRUE(is_seq(&b[1], out++));
		/* Lagging, then the waiting calls. */
		d = seq_desc(in++);
		ASSERT_EQ(0, ireg_ring_enqueue(prod, &d));
		ASSERT_EQ(0, ireg_ring_dequeue(cons, &d));
		EXPECT_TRUE(is_seq(&d, out++));
		EXPECT_EQ(0U, ireg_ring_avail(cons));
		EXPECT_TRUE(ireg_ring_cons_prepare_wait(cons));
		ireg_ring_cons_cancel_wait(cons);
		/* Two there: the copy is stored, the second needs no load. */
		b[0] = seq_desc(in++);
		b[1] = seq_desc(in++);
		ASSERT_EQ(2U, ireg_ring_enqueue_batch(prod, b, 2));
		ASSERT_EQ(0, ireg_ring_dequeue(cons, &d));
		EXPECT_TRUE(is_seq(&d, out++));
		EXPECT_EQ(cons->cons + 1, cons->prod_cache);
		ASSERT_EQ(0, ireg_ring_dequeue(cons, &d));
		EXPECT_TRUE(is_seq(&d, out++));
		EXPECT_EQ(4U, ireg_ring_space(prod));
	}
	EXPECT_EQ(in, out);
	pair_free(&p);
}

/*
 * A producer index more than capacity ahead of the consumer's (a corrupt
 * or hostile peer) is "nothing to dequeue": no call hands out more than
 * the capacity, nor anything, until the index is sane again, and the
 * cached copy never takes the bad value (a batch dequeue copies up to
 * prod_cache - cons descriptors).  Then the ring goes on where it was.
 */
TEST_F(ring, corrupt_prod)
{
	struct ireg_ring_desc d, b[64], in[2] = { seq_desc(1), seq_desc(2) };
	struct ireg_ring_cons *cons;
	struct ireg_ring_ctrl *ctrl;
	struct pair p;
	uint32_t good;

	ASSERT_TRUE(pair_new(&p, 8, 0xfffffffcU) == 0);
	cons = &p.cons_end.cons;
	ctrl = p.prod_end.prod.ctrl;
	ASSERT_EQ(2, ireg_ring_enqueue_batch(&p.prod_end.prod, in, 2));
	good = ctrl->prod;
	ctrl->prod = good + 1000;
	EXPECT_EQ(0, ireg_ring_dequeue_batch(cons, b, 64));
	EXPECT_EQ(-EAGAIN, ireg_ring_dequeue(cons, &d));
	EXPECT_EQ(0, ireg_ring_avail(cons));
	EXPECT_TRUE(ireg_ring_cons_prepare_wait(cons));
	ireg_ring_cons_cancel_wait(cons);
	EXPECT_EQ(0xfffffffcU, cons->prod_cache);
	/* Just past the capacity: still nothing. */
	ctrl->prod = cons->cons + 9;
	EXPECT_EQ(0, ireg_ring_dequeue_batch(cons, b, 64));
	EXPECT_EQ(-EAGAIN, ireg_ring_dequeue(cons, &d));
	/* Sane again: the two descriptors, in order, across the wrap. */
	ctrl->prod = good;
	EXPECT_EQ(2, ireg_ring_avail(cons));
	EXPECT_EQ(0, ireg_ring_dequeue(cons, &d));
	EXPECT_EQ(in[0].offset, d.offset);
	EXPECT_EQ(1, ireg_ring_dequeue_batch(cons, b, 64));
	EXPECT_EQ(in[1].offset, b[0].offset);
	EXPECT_EQ(-EAGAIN, ireg_ring_dequeue(cons, &d));
	pair_free(&p);
}

/* The flags of the wakeup protocol, one thread playing both sides. */
TEST_F(ring, signal_flags)
{
	struct ireg_ring_desc d = seq_desc(0);
	struct ireg_ring_ctrl *active;
	struct ireg_ring_prod *prod;
	struct ireg_ring_cons *cons;
	struct pair p;

	ASSERT_TRUE(pair_new(&p, 2, 0) == 0);
	prod = &p.prod_end.prod;
	cons = &p.cons_end.cons;
	active = prod->ctrl;
	EXPECT_TRUE(!ireg_ring_prod_must_notify(prod));
	/* Empty: the request stands. */
	EXPECT_TRUE(ireg_ring_cons_prepare_wait(cons));
	EXPECT_EQ(1, active->cons_wants_signal);
	EXPECT_EQ(0, ireg_ring_enqueue(prod, &d));
	EXPECT_TRUE(ireg_ring_prod_must_notify(prod));
	EXPECT_EQ(0, active->cons_wants_signal);
	/* Answered once only. */
	EXPECT_TRUE(!ireg_ring_prod_must_notify(prod));
	/* Not empty: withdrawn at once. */
	EXPECT_TRUE(!ireg_ring_cons_prepare_wait(cons));
	EXPECT_EQ(0, active->cons_wants_signal);
	EXPECT_EQ(0, ireg_ring_dequeue(cons, &d));
	EXPECT_TRUE(ireg_ring_cons_prepare_wait(cons));
	ireg_ring_cons_cancel_wait(cons);
	EXPECT_EQ(0, active->cons_wants_signal);
	EXPECT_TRUE(!ireg_ring_prod_must_notify(prod));

	/* The producer's side: full, wait for space. */
	EXPECT_TRUE(!ireg_ring_prod_prepare_wait(prod));
	EXPECT_EQ(0, active->prod_wants_signal);
	EXPECT_EQ(0, ireg_ring_enqueue(prod, &d));
	EXPECT_EQ(0, ireg_ring_enqueue(prod, &d));
	EXPECT_TRUE(!ireg_ring_cons_must_notify(cons));
	EXPECT_TRUE(ireg_ring_prod_prepare_wait(prod));
	EXPECT_EQ(1, active->prod_wants_signal);
	EXPECT_EQ(0, ireg_ring_dequeue(cons, &d));
	EXPECT_TRUE(ireg_ring_cons_must_notify(cons));
	EXPECT_EQ(0, active->prod_wants_signal);
	EXPECT_TRUE(!ireg_ring_cons_must_notify(cons));
	EXPECT_TRUE(ireg_ring_space(prod) == 1);
	EXPECT_TRUE(!ireg_ring_prod_prepare_wait(prod));
	/* The free ring's flags are its own. */
	EXPECT_EQ(0, p.cons_end.prod.ctrl->cons_wants_signal);
	EXPECT_EQ(0, p.cons_end.prod.ctrl->prod_wants_signal);
	pair_free(&p);
}

TEST_F(ring, eventfd)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct ireg_ring_desc d = seq_desc(0);
	struct pair p;

	ASSERT_TRUE(efd >= 0);
	EXPECT_EQ(-EAGAIN, ireg_ring_wait(efd));
	EXPECT_EQ(0, ireg_ring_notify(efd));
	EXPECT_EQ(0, ireg_ring_notify(efd));
	/* Two writes, one wakeup: the counter collapses them. */
	EXPECT_EQ(0, ireg_ring_wait(efd));
	EXPECT_EQ(-EAGAIN, ireg_ring_wait(efd));
	EXPECT_EQ(-EBADF, ireg_ring_wait(-1));
	EXPECT_EQ(-EBADF, ireg_ring_notify(-1));

	/* The blocking helpers return at once when there is no need to wait. */
	ASSERT_TRUE(pair_new(&p, 2, 0) == 0);
	EXPECT_EQ(2, ireg_ring_wait_space(&p.prod_end.prod, efd));
	EXPECT_EQ(0, ireg_ring_enqueue(&p.prod_end.prod, &d));
	EXPECT_EQ(1, ireg_ring_wait_avail(&p.cons_end.cons, efd));
	/* Would sleep on a non-blocking eventfd: the error, request withdrawn. */
	EXPECT_EQ(0, ireg_ring_dequeue(&p.cons_end.cons, &d));
	EXPECT_EQ(-EAGAIN, ireg_ring_wait_avail(&p.cons_end.cons, efd));
	EXPECT_EQ(0, p.cons_end.cons.ctrl->cons_wants_signal);
	EXPECT_EQ(0, ireg_ring_enqueue(&p.prod_end.prod, &d));
	EXPECT_EQ(0, ireg_ring_enqueue(&p.prod_end.prod, &d));
	EXPECT_EQ(-EAGAIN, ireg_ring_wait_space(&p.prod_end.prod, efd));
	EXPECT_EQ(0, p.prod_end.prod.ctrl->prod_wants_signal);
	pair_free(&p);
	close(efd);
}

/* Two threads */

struct stress {
	struct ireg_ring_prod *prod;
	struct ireg_ring_cons *cons;
	uint64_t items;
	unsigned int max_batch;		/* 0: one descriptor at a time */
	uint64_t seed;
	/* Consumer's verdict. */
	uint64_t received;
	uint64_t bad_seq;		/* first descriptor that was wrong */
	bool bad;
};

static void *stress_producer(void *arg)
{
	struct stress *st = arg;
	struct ireg_ring_desc batch[256];
	uint64_t state = st->seed, s = 0;
	unsigned int spins = 0, n, i, got;

	while (s < st->items) {
		if (!st->max_batch) {
			batch[0] = seq_desc(s);
			got = ireg_ring_enqueue(st->prod, batch) == 0;
		} else {
			n = 1 + xorshift64s(&state) % st->max_batch;
			if (n > st->items - s)
				n = st->items - s;
			for (i = 0; i < n; i++)
				batch[i] = seq_desc(s + i);
			got = ireg_ring_enqueue_batch(st->prod, batch, n);
		}
		s += got;
		if (!got)
			spin_backoff(&spins);
	}
	return NULL;
}

static void *stress_consumer(void *arg)
{
	struct stress *st = arg;
	struct ireg_ring_desc batch[256], expect;
	uint64_t state = st->seed * 3, s = 0;
	unsigned int spins = 0, got, i;

	while (s < st->items) {
		if (!st->max_batch) {
			got = ireg_ring_dequeue(st->cons, batch) == 0;
		} else {
			unsigned int n = 1 + xorshift64s(&state) % st->max_batch;

			got = ireg_ring_dequeue_batch(st->cons, batch, n);
		}
		if (!got) {
			spin_backoff(&spins);
			continue;
		}
		for (i = 0; i < got; i++, s++) {
			expect = seq_desc(s);
			if (!desc_eq(&batch[i], &expect) && !st->bad) {
				st->bad = true;
				st->bad_seq = s;
			}
		}
	}
	st->received = s;
	return NULL;
}

static void stress_run(struct __test_metadata *_metadata, uint64_t items,
		       uint32_t capacity, uint32_t initial,
		       unsigned int max_batch)
{
	struct stress st = {
		.items = items,
		.max_batch = max_batch,
		.seed = seed | 1,
	};
	pthread_t tp, tc;
	uint64_t t0, dt;
	struct pair p;

	ASSERT_TRUE(pair_new(&p, capacity, initial) == 0);
	st.prod = &p.prod_end.prod;
	st.cons = &p.cons_end.cons;
	t0 = clock_now_ns();
	ASSERT_TRUE(pthread_create(&tc, NULL, stress_consumer, &st) == 0);
	ASSERT_TRUE(pthread_create(&tp, NULL, stress_producer, &st) == 0);
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	dt = clock_now_ns() - t0;
	printf("# %" PRIu64 " descriptors, capacity %u, batch %s%u, from index %u: %.2f s, %.1f ns each\n",
	       items, capacity, max_batch ? "1.." : "", max_batch ? max_batch : 1,
	       initial, dt / 1e9, (double)dt / items);
	EXPECT_EQ(items, st.received);
	if (st.bad)
		printf("# first wrong descriptor: sequence %" PRIu64 "\n",
		       st.bad_seq);
	EXPECT_TRUE(!st.bad);
	/* Both indices where they must be, and nothing left. */
	EXPECT_EQ((uint32_t)(initial + items), p.prod_end.prod.ctrl->prod);
	EXPECT_EQ((uint32_t)(initial + items), p.prod_end.prod.ctrl->cons);
	EXPECT_EQ(0, ireg_ring_avail(&p.cons_end.cons));
	pair_free(&p);
}

static uint64_t stress_items;

/* Starts below 2^31: crosses the sign boundary of the indices. */
TEST_F_TIMEOUT(ring, stress_single, 120)
{
	stress_run(_metadata, stress_items, 256, INT32_MAX - stress_items / 2,
		   0);
}

/* Starts below 2^32: the indices wrap to 0 half way. */
TEST_F_TIMEOUT(ring, stress_batch, 120)
{
	stress_run(_metadata, stress_items, 256,
		   UINT32_MAX - stress_items / 2, 64);
}

/*
 * Buffers circulate through the channel: the producer takes a free
 * buffer, writes its payload, sends it on active; the consumer checks the
 * payload and gives the buffer back on free.  The payload is plain
 * memory: only the ring's release/acquire orders it with the descriptor.
 */
#define PAYLOAD_WORDS	8
#define PAYLOAD_BUFS	64

struct payload_stress {
	struct ireg_ring_chan *prod_end, *cons_end;
	uint64_t (*bufs)[PAYLOAD_WORDS];
	uint64_t items;
	uint64_t bad_seq;
	bool bad;
};

/* The next descriptor on @cons, polling politely until there is one. */
static void dequeue_spin(struct ireg_ring_cons *cons, struct ireg_ring_desc *d,
			 unsigned int *spins)
{
	while (ireg_ring_dequeue(cons, d))
		spin_backoff(spins);
}

static void *payload_producer(void *arg)
{
	struct payload_stress *ps = arg;
	struct ireg_ring_desc d;
	unsigned int spins = 0, w;
	uint64_t s = 0;

	while (s < ps->items) {
		dequeue_spin(&ps->prod_end->cons, &d, &spins);
		uint64_t *buf = ps->bufs[d.offset / sizeof(ps->bufs[0])];

		for (w = 0; w < PAYLOAD_WORDS; w++)
			buf[w] = s * PAYLOAD_WORDS + w;
		d.len = PAYLOAD_WORDS * 8;
		d.cookie = (uint32_t)s;
		/* Never full: at most PAYLOAD_BUFS in flight, capacity more. */
		if (ireg_ring_enqueue(&ps->prod_end->prod, &d))
			ps->bad = true;
		s++;
	}
	return NULL;
}

static void *payload_consumer(void *arg)
{
	struct payload_stress *ps = arg;
	struct ireg_ring_desc d;
	unsigned int spins = 0, w;
	uint64_t s = 0;

	while (s < ps->items) {
		dequeue_spin(&ps->cons_end->cons, &d, &spins);
		const uint64_t *buf = ps->bufs[d.offset / sizeof(ps->bufs[0])];
		bool ok = d.cookie == (uint32_t)s && d.len == PAYLOAD_WORDS * 8;

		for (w = 0; w < PAYLOAD_WORDS; w++)
			ok &= buf[w] == s * PAYLOAD_WORDS + w;
		if (!ok && !ps->bad) {
			ps->bad = true;
			ps->bad_seq = s;
		}
		d.len = 0;
		if (ireg_ring_enqueue(&ps->cons_end->prod, &d))
			ps->bad = true;
		s++;
	}
	return NULL;
}

TEST_F_TIMEOUT(ring, stress_payload, 120)
{
	static uint64_t bufs[PAYLOAD_BUFS][PAYLOAD_WORDS]
		__attribute__((aligned(64)));
	struct payload_stress ps = {
		.bufs = bufs,
		.items = stress_items / 4,
	};
	struct ireg_ring_desc d;
	pthread_t tp, tc;
	struct pair p;
	unsigned int i;
	uint64_t t0;

	ASSERT_TRUE(pair_new(&p, 2 * PAYLOAD_BUFS, 0) == 0);
	ps.prod_end = &p.prod_end;
	ps.cons_end = &p.cons_end;
	/* The consumer owns the buffers at first and offers them all. */
	for (i = 0; i < PAYLOAD_BUFS; i++) {
		d = (struct ireg_ring_desc){ .offset = i * sizeof(bufs[0]) };
		ASSERT_TRUE(ireg_ring_enqueue(&p.cons_end.prod, &d) == 0);
	}
	t0 = clock_now_ns();
	ASSERT_TRUE(pthread_create(&tc, NULL, payload_consumer, &ps) == 0);
	ASSERT_TRUE(pthread_create(&tp, NULL, payload_producer, &ps) == 0);
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	printf("# %" PRIu64 " buffers through the channel: %.2f s\n", ps.items,
	       (clock_now_ns() - t0) / 1e9);
	if (ps.bad)
		printf("# first wrong buffer: sequence %" PRIu64 "\n", ps.bad_seq);
	EXPECT_TRUE(!ps.bad);
	/* Every buffer back home. */
	EXPECT_EQ(PAYLOAD_BUFS, ireg_ring_avail(&p.prod_end.cons));
	EXPECT_EQ(0, ireg_ring_avail(&p.cons_end.cons));
	pair_free(&p);
}

/*
 * The wakeup protocol's core, raced directly: one side publishes and
 * checks for a request while the other asks for a signal and re-checks
 * the ring, both at once, a million times a second, with the start of one
 * side moved by a few cycles to where the two tie.  The outcome that loses
 * a wakeup, "the sleeper saw no work and the waker saw no request", must
 * never occur; nobody needs to sleep to see it.
 *
 * kind 0: the consumer prepares to wait on an empty ring while the
 * producer enqueues and checks.  kind 1, the mirror: the producer
 * prepares to wait on a full ring while the consumer dequeues and checks.
 * The producer's thread leads: it plans each round and scores it.
 *
 * The race needs the two threads running at the same time on two CPUs:
 * they are pinned to two, and the case goes on past its time (up to four
 * times) until the sides have overlapped often enough.  If they never
 * overlapped (no second CPU free), the case proved nothing and says so.
 */
#define RACE_MIN_OVERLAPS	1000

struct race_line {
	uint32_t v;
} __attribute__((aligned(IREG_RING_SPACING)));

struct race_plan {
	unsigned int kind;
	unsigned int delay[2];	/* producer's, consumer's */
	bool stop;
} __attribute__((aligned(IREG_RING_SPACING)));

struct race {
	struct race_line arrive[2];	/* barrier generations */
	struct race_line verdict[2];	/* what each side's call returned */
	struct race_plan plan;
	struct ireg_ring_prod *prod;
	struct ireg_ring_cons *cons;
	uint64_t deadline, hard_deadline;
	int cpu[2];			/* -1: not pinned */
	/* Scores per kind. */
	uint64_t rounds[2], sleeper_first[2], waker_first[2], both[2], lost[2];
	bool broken;
};

static void race_barrier(struct race *r, unsigned int me, uint32_t *gen)
{
	unsigned int spins = 0;

	++*gen;
	__atomic_store_n(&r->arrive[me].v, *gen, __ATOMIC_RELEASE);
	/* The other side may already be at the next barrier. */
	while ((int32_t)(__atomic_load_n(&r->arrive[!me].v, __ATOMIC_ACQUIRE) -
			 *gen) < 0)
		spin_backoff(&spins);
}

static void race_delay(unsigned int n)
{
	while (n--)
		__asm__ __volatile__("" ::: "memory");
}

static void pin_to(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *race_producer(void *arg)
{
	struct race *r = arg;
	struct ireg_ring_desc d = seq_desc(0);
	uint64_t state = seed * 13 + 1;
	int skew[2] = { 0, 0 };
	unsigned int kind, jitter[2];
	bool mine, theirs, sleeps, notifies;
	uint32_t gen = 0;

	pin_to(r->cpu[0]);
	for (;;) {
		kind = xorshift64s(&state) % 2;
		jitter[0] = xorshift64s(&state) % 64;
		jitter[1] = xorshift64s(&state) % 64;
		/*
		 * The sleeper is side !kind (kind 0: the consumer, side 1).
		 * skew > 0 holds the sleeper back, < 0 the waker.
		 */
		r->plan.kind = kind;
		r->plan.delay[!kind] = jitter[0] +
				       (skew[kind] > 0 ? skew[kind] : 0);
		r->plan.delay[kind] = jitter[1] +
				      (skew[kind] < 0 ? -skew[kind] : 0);
		if (clock_now_ns() > r->deadline)
			r->plan.stop = clock_now_ns() > r->hard_deadline ||
				       (r->both[0] >= RACE_MIN_OVERLAPS &&
					r->both[1] >= RACE_MIN_OVERLAPS);
		/* kind 1 starts full (capacity 1), kind 0 empty. */
		if (kind == 1 && ireg_ring_enqueue(r->prod, &d))
			r->broken = true;
		race_barrier(r, 0, &gen);
		if (r->plan.stop)
			return NULL;
		race_delay(r->plan.delay[0]);
		if (kind == 0) {
			if (ireg_ring_enqueue(r->prod, &d))
				r->broken = true;
			mine = ireg_ring_prod_must_notify(r->prod);
		} else {
			mine = ireg_ring_prod_prepare_wait(r->prod);
		}
		__atomic_store_n(&r->verdict[0].v, mine, __ATOMIC_RELAXED);
		race_barrier(r, 0, &gen);
		theirs = __atomic_load_n(&r->verdict[1].v, __ATOMIC_RELAXED);
		sleeps = kind == 0 ? theirs : mine;
		notifies = kind == 0 ? mine : theirs;
		r->rounds[kind]++;
		if (sleeps && !notifies) {
			r->lost[kind]++;
		} else if (sleeps) {
			r->sleeper_first[kind]++;
			skew[kind] += skew[kind] < 2048 ? 4 : 0;
		} else if (!notifies) {
			r->waker_first[kind]++;
			skew[kind] -= skew[kind] > -2048 ? 4 : 0;
		} else {
			r->both[kind]++;
		}
		if (kind == 1)
			ireg_ring_prod_cancel_wait(r->prod);
		race_barrier(r, 0, &gen);
	}
}

static void *race_consumer(void *arg)
{
	struct race *r = arg;
	struct ireg_ring_desc d;
	uint32_t gen = 0;
	unsigned int kind;
	bool mine;

	pin_to(r->cpu[1]);
	for (;;) {
		race_barrier(r, 1, &gen);
		if (r->plan.stop)
			return NULL;
		kind = r->plan.kind;
		race_delay(r->plan.delay[1]);
		if (kind == 0) {
			mine = ireg_ring_cons_prepare_wait(r->cons);
		} else {
			if (ireg_ring_dequeue(r->cons, &d))
				r->broken = true;
			mine = ireg_ring_cons_must_notify(r->cons);
		}
		__atomic_store_n(&r->verdict[1].v, mine, __ATOMIC_RELAXED);
		race_barrier(r, 1, &gen);
		if (kind == 0) {
			if (ireg_ring_dequeue(r->cons, &d))
				r->broken = true;
			ireg_ring_cons_cancel_wait(r->cons);
		}
		race_barrier(r, 1, &gen);
	}
}

TEST_F_TIMEOUT(ring, signal_race, WATCHDOG_MAX)
{
	static struct race r;
	static const char *const what[] = {
		"consumer waits for work", "producer waits for space",
	};
	pthread_t tp, tc;
	unsigned int k, n = 0;
	const char *skip = NULL;
	cpu_set_t allowed;
	struct pair p;
	int cpu;

	watchdog_arm(4, NULL);
	ASSERT_TRUE(pair_new(&p, 1, 0) == 0);
	memset(&r, 0, sizeof(r));
	r.prod = &p.prod_end.prod;
	r.cons = &p.cons_end.cons;
	r.cpu[0] = r.cpu[1] = -1;
	if (!sched_getaffinity(0, sizeof(allowed), &allowed))
		for (cpu = 0; cpu < CPU_SETSIZE && n < 2; cpu++)
			if (CPU_ISSET(cpu, &allowed))
				r.cpu[n++] = cpu;
	if (n < 2)
		r.cpu[0] = -1;
	r.deadline = clock_now_ns() + wakeup_seconds * 1000000000;
	r.hard_deadline = r.deadline + 3 * wakeup_seconds * 1000000000;
	ASSERT_TRUE(pthread_create(&tc, NULL, race_consumer, &r) == 0);
	ASSERT_TRUE(pthread_create(&tp, NULL, race_producer, &r) == 0);
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	for (k = 0; k < 2; k++) {
		printf("# %s: %" PRIu64 " rounds: sleeper first %" PRIu64 ", waker first %" PRIu64 ", both saw the other %" PRIu64 ", LOST %" PRIu64 "\n",
		       what[k], r.rounds[k], r.sleeper_first[k],
		       r.waker_first[k], r.both[k], r.lost[k]);
		EXPECT_EQ(0, r.lost[k]);
		if (!r.both[k])
			skip = "the two sides never overlapped: no second CPU free?";
	}
	EXPECT_TRUE(!r.broken);
	pair_free(&p);
	if (skip && test_passed(_metadata))
		SKIP(return, "%s", skip);
}

/*
 * Lost wakeups
 * ============
 *
 * Both sides sleep on an eventfd whenever they find nothing to do, after
 * polling for a random while (as adaptive drivers do: it is what puts one
 * side's going to sleep right against the other's publishing).  Work is
 * scarce on purpose, so that every wakeup matters: if one is lost, the
 * sleeper holds what the other side waits for, both sleep, nothing moves,
 * and the watchdog fails the case.  Run for a fixed time; at the end
 * every descriptor must have arrived in order.
 */
struct wakeup {
	struct ireg_ring_chan *prod_end, *cons_end;
	int efd_prod, efd_cons;		/* the producer's, the consumer's */
	uint64_t deadline;
	uint64_t seed;
	/* Progress, for the watchdog's report. */
	uint64_t sent, received, prod_sleeps, cons_sleeps;
	uint64_t bad_seq;
	bool bad;
};

static struct wakeup *wakeup_running;

static void put_ring(const char *name, const struct ireg_ring_ctrl *ctrl)
{
	put_str("# ");
	put_str(name);
	put_str(": prod ");
	put_u64(ctrl->prod);
	put_str(", cons ");
	put_u64(ctrl->cons);
	put_str(", cons_wants_signal ");
	put_u64(ctrl->cons_wants_signal);
	put_str(", prod_wants_signal ");
	put_u64(ctrl->prod_wants_signal);
	put_str("\n");
}

static void wakeup_dump(void)
{
	struct wakeup *w = wakeup_running;

	if (!w)
		return;
	put_str("# sent ");
	put_u64(__atomic_load_n(&w->sent, __ATOMIC_RELAXED));
	put_str(", received ");
	put_u64(__atomic_load_n(&w->received, __ATOMIC_RELAXED));
	put_str("\n");
	put_ring("active", w->prod_end->prod.ctrl);
	put_ring("free", w->prod_end->cons.ctrl);
}

/* A random pause, mostly none, sometimes long enough to fall asleep. */
static void random_gap(uint64_t *state)
{
	uint64_t r = xorshift64s(state);

	switch (r % 16) {
	case 0 ... 7:
		break;
	case 8 ... 12:
		spin((r >> 8) % 256);
		break;
	case 13 ... 14:
		spin((r >> 8) % 8192);
		break;
	default:
		usleep((r >> 8) % 50);
		break;
	}
}

/*
 * How long to poll before going to sleep: often not at all, so that the
 * sleeper's prepare_wait lands right against the other side's publish.
 */
static unsigned int random_polls(uint64_t *state)
{
	uint64_t r = xorshift64s(state);

	switch (r % 4) {
	case 0:
		return 0;
	case 1 ... 2:
		return (r >> 8) % 16;
	default:
		return (r >> 8) % 512;
	}
}

/* Poll @cons for a random while; then sleep on @efd with the protocol. */
static int wait_dequeue(struct ireg_ring_cons *cons, int efd,
			struct ireg_ring_desc *d, uint64_t *state,
			uint64_t *sleeps)
{
	unsigned int polls = random_polls(state), i;

	for (;;) {
		for (i = 0; i <= polls; i++) {
			if (!ireg_ring_dequeue(cons, d))
				return 0;
			cpu_relax();
		}
		if (ireg_ring_cons_prepare_wait(cons)) {
			int ret = ireg_ring_wait(efd);

			if (ret)
				return ret;
			(*sleeps)++;
		}
		polls = 0;
	}
}

#define WAKEUP_BUFS	8
#define WAKEUP_END	UINT32_MAX	/* cookie of the last descriptor */

/*
 * The producer owns WAKEUP_BUFS buffers and sends at most "limit" of them
 * before it must wait for one to come back on the free ring; limit is
 * often 1, a strict ping-pong in which every wakeup in either direction
 * is the only one there will be.
 */
static void *wakeup_producer(void *arg)
{
	struct wakeup *w = arg;
	struct ireg_ring_chan *ch = w->prod_end;
	unsigned int home = WAKEUP_BUFS, limit = 1, burst, i;
	uint64_t state = w->seed, s = 0;
	struct ireg_ring_desc d;
	bool end = false;

	while (!end) {
		if (!(xorshift64s(&state) % 32))
			limit = xorshift64s(&state) % 4 ? 1 :
				1 + xorshift64s(&state) % WAKEUP_BUFS;
		burst = 1 + xorshift64s(&state) % limit;
		for (i = 0; i < burst && !end; i++) {
			while (!ireg_ring_dequeue(&ch->cons, &d))
				home++;
			while (WAKEUP_BUFS - home >= limit) {
				if (wait_dequeue(&ch->cons, w->efd_prod, &d,
						 &state, &w->prod_sleeps))
					goto fail;
				home++;
			}
			end = clock_now_ns() > w->deadline;
			d = (struct ireg_ring_desc){
				.offset = s,
				.cookie = end ? WAKEUP_END : 0,
			};
			if (ireg_ring_enqueue(&ch->prod, &d))
				goto fail;
			home--;
			s++;
			__atomic_store_n(&w->sent, s, __ATOMIC_RELAXED);
			/* Mostly notify per burst, sometimes per descriptor. */
			if (!(xorshift64s(&state) % 4) &&
			    ireg_ring_prod_must_notify(&ch->prod) &&
			    ireg_ring_notify(w->efd_cons))
				goto fail;
		}
		if (ireg_ring_prod_must_notify(&ch->prod) &&
		    ireg_ring_notify(w->efd_cons))
			goto fail;
		random_gap(&state);
	}
	/* Every buffer home again: the last returns need wakeups too. */
	while (home < WAKEUP_BUFS) {
		if (wait_dequeue(&ch->cons, w->efd_prod, &d, &state,
				 &w->prod_sleeps))
			goto fail;
		home++;
	}
	return NULL;
fail:
	w->bad = true;
	return NULL;
}

static void *wakeup_consumer(void *arg)
{
	struct wakeup *w = arg;
	struct ireg_ring_chan *ch = w->cons_end;
	uint64_t state = w->seed * 7, s = 0;
	struct ireg_ring_desc d;

	for (;;) {
		if (wait_dequeue(&ch->cons, w->efd_cons, &d, &state,
				 &w->cons_sleeps))
			break;
		if (d.offset != s && !w->bad) {
			w->bad = true;
			w->bad_seq = s;
		}
		s++;
		__atomic_store_n(&w->received, s, __ATOMIC_RELAXED);
		random_gap(&state);
		/* Give it back; the free ring has room for every buffer. */
		if (ireg_ring_enqueue(&ch->prod, &d))
			break;
		if (ireg_ring_prod_must_notify(&ch->prod) &&
		    ireg_ring_notify(w->efd_prod))
			break;
		if (d.cookie == WAKEUP_END)
			return NULL;
	}
	w->bad = true;
	return NULL;
}

/*
 * Run a producer and a consumer that sleep on eventfds over a channel of
 * @capacity from index @initial for IREG_RING_WAKEUP_SECONDS; @slept says
 * what their sleeps wait for.
 */
static void wakeup_run(struct __test_metadata *_metadata, uint64_t seed_,
		       uint32_t capacity, uint32_t initial,
		       void *(*producer)(void *), void *(*consumer)(void *),
		       const char *slept)
{
	struct wakeup w = { .seed = seed_ };
	pthread_t tp, tc;
	struct pair p;

	ASSERT_TRUE(pair_new(&p, capacity, initial) == 0);
	w.prod_end = &p.prod_end;
	w.cons_end = &p.cons_end;
	w.efd_prod = eventfd(0, EFD_CLOEXEC);
	w.efd_cons = eventfd(0, EFD_CLOEXEC);
	ASSERT_TRUE(w.efd_prod >= 0 && w.efd_cons >= 0);
	wakeup_running = &w;
	watchdog_arm(1, wakeup_dump);
	w.deadline = clock_now_ns() + wakeup_seconds * 1000000000;
	ASSERT_TRUE(pthread_create(&tc, NULL, consumer, &w) == 0);
	ASSERT_TRUE(pthread_create(&tp, NULL, producer, &w) == 0);
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	watchdog_dump = NULL;
	printf("# %" PRIu64 " sent, %" PRIu64 " received; %s: the producer %" PRIu64 " times, the consumer %" PRIu64 "\n",
	       w.sent, w.received, slept, w.prod_sleeps, w.cons_sleeps);
	if (w.bad_seq)
		printf("# first wrong descriptor: %" PRIu64 "\n", w.bad_seq);
	EXPECT_TRUE(!w.bad);
	EXPECT_EQ(w.sent, w.received);
	/* Sleeping happened, or the case proved nothing. */
	EXPECT_TRUE(w.prod_sleeps > 100 && w.cons_sleeps > 100);
	close(w.efd_prod);
	close(w.efd_cons);
	pair_free(&p);
}

TEST_F_TIMEOUT(ring, lost_wakeup_channel, WATCHDOG_MAX)
{
	wakeup_run(_metadata, seed | 1, 2 * WAKEUP_BUFS, 0, wakeup_producer,
		   wakeup_consumer, "slept");
}

/*
 * One ring of capacity 4 and plenty of descriptors: the producer sleeps
 * on full (prod_wants_signal), the consumer on empty (cons_wants_signal),
 * through the out-of-line ireg_ring_wait_space()/ireg_ring_wait_avail().
 */
static void *fe_producer(void *arg)
{
	struct wakeup *w = arg;
	uint64_t state = w->seed, s = 0;
	struct ireg_ring_desc batch[8];
	unsigned int n, i, got;
	int ret;

	for (;;) {
		bool end = clock_now_ns() > w->deadline;

		n = end ? 1 : 1 + xorshift64s(&state) % 8;
		for (i = 0; i < n; i++)
			batch[i] = (struct ireg_ring_desc){
				.offset = s + i,
				.cookie = end ? WAKEUP_END : 0,
			};
		for (i = 0; i < n; i += got) {
			got = ireg_ring_enqueue_batch(&w->prod_end->prod,
						      batch + i, n - i);
			if (got) {
				if (ireg_ring_prod_must_notify(&w->prod_end->prod) &&
				    ireg_ring_notify(w->efd_cons))
					goto fail;
				continue;
			}
			spin(random_polls(&state));
			ret = ireg_ring_wait_space(&w->prod_end->prod, w->efd_prod);
			if (ret < 0)
				goto fail;
			w->prod_sleeps++;
		}
		s += n;
		__atomic_store_n(&w->sent, s, __ATOMIC_RELAXED);
		if (end)
			return NULL;
		random_gap(&state);
	}
fail:
	w->bad = true;
	return NULL;
}

static void *fe_consumer(void *arg)
{
	struct wakeup *w = arg;
	uint64_t state = w->seed * 5, s = 0;
	struct ireg_ring_desc batch[8];
	unsigned int got, i;
	int ret;

	for (;;) {
		got = ireg_ring_dequeue_batch(&w->cons_end->cons, batch,
					      1 + xorshift64s(&state) % 8);
		if (!got) {
			spin(random_polls(&state));
			ret = ireg_ring_wait_avail(&w->cons_end->cons, w->efd_cons);
			if (ret < 0)
				break;
			w->cons_sleeps++;
			continue;
		}
		if (ireg_ring_cons_must_notify(&w->cons_end->cons) &&
		    ireg_ring_notify(w->efd_prod))
			break;
		for (i = 0; i < got; i++, s++) {
			if (batch[i].offset != s && !w->bad) {
				w->bad = true;
				w->bad_seq = s;
			}
			if (batch[i].cookie == WAKEUP_END) {
				__atomic_store_n(&w->received, s + 1,
						 __ATOMIC_RELAXED);
				return NULL;
			}
		}
		__atomic_store_n(&w->received, s, __ATOMIC_RELAXED);
		random_gap(&state);
	}
	w->bad = true;
	return NULL;
}

TEST_F_TIMEOUT(ring, lost_wakeup_full_empty, WATCHDOG_MAX)
{
	wakeup_run(_metadata, (seed | 1) * 11, 4, UINT32_MAX - 1000,
		   fe_producer, fe_consumer,
		   "waited (for space, for work)");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	seed = env_u64("IREG_RING_SEED", clock_now_ns());
	stress_items = env_u64("IREG_RING_ITEMS", 10000000);
	wakeup_seconds = env_u64("IREG_RING_WAKEUP_SECONDS", 2);
	printf("# seed %" PRIu64 " (IREG_RING_SEED)\n", seed);
	if (argc > 1)
		test_select(&_ring_fixture_object, (const char *const *)argv + 1,
			    argc - 1);
	return test_harness_run(1, argv);
}
