// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host unit tests of the register-once cache's logic.
 *
 * The cache registers memory through a backend; here the backend runs in
 * the process: it hands out IOVAs and keeps generation slots the way the
 * kernel's status area does (a slot moves on when its region is created,
 * invalidated or freed).  The kernel itself is tested in the VM
 * (cache_vm_test); this checks the cache's own bookkeeping against a
 * reference model, with random operations, and under threads.
 *
 * Properties checked after every operation:
 *  - a lookup returns a registration containing the range, valid, with a
 *    consistent IOVA;
 *  - it is a hit (no backend call) exactly when a valid registration the
 *    backend holds contains the range: register-once;
 *  - a registration invalidated before the lookup is never returned;
 *  - cached entries stay within the limits unless held by the caller;
 *  - at the end every backend registration has been unregistered.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dlfcn.h>
#include <limits.h>
#include <semaphore.h>
#include <sys/auxv.h>
#include <sys/wait.h>

#include "iommureg.h"
#include "../src/internal.h"
#include "kselftest_harness.h"

#define PAGE		4096UL
#define ARENA_PAGES	64
#define MAX_REGS	4096
#define NR_SLOTS	1024

/* The in-process backend. */
struct fake_reg {
	bool active;
	bool superseded;	/* a later registration overlapped it */
	uintptr_t addr;
	size_t size;
	uint32_t slot;
	uint32_t generation;
	uint64_t iova;
};

struct backend {
	pthread_mutex_t lock;
	struct fake_reg regs[MAX_REGS];
	uint32_t gens[NR_SLOTS];
	uint64_t invalidations;
	uint64_t next_iova;
	unsigned long reg_calls;
	unsigned long unreg_calls;
	unsigned long active;
	size_t bytes;		/* pinned by the active registrations */
	int fail_next;		/* errno for the next reg, 0 for none */
	size_t max_size;	/* -ENOMEM for a larger reg (0: no limit) */
	size_t max_bytes;	/* -ENOMEM past this many pinned (0: none) */
};

static int be_reg(void *priv, void *addr, size_t size, uint32_t prot,
		  struct ireg_region *region)
{
	struct backend *be = priv;
	unsigned int h, i;
	int err;

	pthread_mutex_lock(&be->lock);
	be->reg_calls++;
	err = be->fail_next;
	be->fail_next = 0;
	/* As RLIMIT_MEMLOCK would: per region, or all of them together. */
	if (!err && ((be->max_size && size > be->max_size) ||
		     (be->max_bytes && be->bytes + size > be->max_bytes)))
		err = ENOMEM;
	for (h = 1; !err && h < MAX_REGS && be->regs[h].active; h++)
		;
	if (!err && h == MAX_REGS)
		err = ENOSPC;
	if (err) {
		pthread_mutex_unlock(&be->lock);
		/* As the kernel backend does: a failure leaves the message. */
		return __ireg_failf(err, "fake backend: %p+%zu: %s", addr,
				    size, strerror(err));
	}
	/*
	 * The cache's merge policy: a miss registers the union of the
	 * request and every cached registration it overlaps, which all leave
	 * the cache; none of them serves a lookup again.
	 */
	for (i = 1; i < MAX_REGS; i++)
		if (be->regs[i].active &&
		    be->regs[i].addr < (uintptr_t)addr + size &&
		    (uintptr_t)addr < be->regs[i].addr + be->regs[i].size)
			be->regs[i].superseded = true;
	be->regs[h] = (struct fake_reg){
		.active = true,
		.addr = (uintptr_t)addr,
		.size = size,
		.slot = h % NR_SLOTS,
		.iova = be->next_iova,
	};
	be->next_iova += size + PAGE;
	be->regs[h].generation = __atomic_add_fetch(&be->gens[h % NR_SLOTS], 1,
						    __ATOMIC_RELEASE);
	be->active++;
	be->bytes += size;
	region->addr = (uintptr_t)addr;
	region->size = size;
	region->iova = be->regs[h].iova;
	region->handle = h;
	region->prot = prot;
	region->generation = be->regs[h].generation;
	region->genp = &be->gens[h % NR_SLOTS];
	pthread_mutex_unlock(&be->lock);
	return 0;
}

static int be_unreg(void *priv, const struct ireg_region *region)
{
	struct backend *be = priv;
	struct fake_reg *r = &be->regs[region->handle];
	int ret = 0;

	pthread_mutex_lock(&be->lock);
	be->unreg_calls++;
	if (!r->active || r->addr != region->addr) {
		ret = -ENOENT;
	} else {
		r->active = false;
		__atomic_add_fetch(&be->gens[r->slot], 1, __ATOMIC_RELEASE);
		be->active--;
		be->bytes -= r->size;
	}
	pthread_mutex_unlock(&be->lock);
	return ret;
}

/* What the kernel does on munmap: every region overlapping goes stale. */
static void be_invalidate(struct backend *be, uintptr_t addr, size_t size)
{
	unsigned int h;

	pthread_mutex_lock(&be->lock);
	for (h = 1; h < MAX_REGS; h++) {
		struct fake_reg *r = &be->regs[h];

		if (!r->active || r->addr + r->size <= addr ||
		    addr + size <= r->addr)
			continue;
		if (__atomic_load_n(&be->gens[r->slot], __ATOMIC_RELAXED) !=
		    r->generation)
			continue;	/* already stale */
		__atomic_add_fetch(&be->gens[r->slot], 1, __ATOMIC_RELEASE);
		__atomic_add_fetch(&be->invalidations, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&be->lock);
}

/* A valid backend registration, not merged away, containing [start, end)? */
static bool be_covers(struct backend *be, uintptr_t start, uintptr_t end)
{
	bool found = false;
	unsigned int h;

	pthread_mutex_lock(&be->lock);
	for (h = 1; h < MAX_REGS && !found; h++) {
		struct fake_reg *r = &be->regs[h];

		found = r->active && !r->superseded && r->addr <= start &&
			end <= r->addr + r->size &&
			be->gens[r->slot] == r->generation;
	}
	pthread_mutex_unlock(&be->lock);
	return found;
}

static struct ireg_cache *make_cache(struct backend *be, size_t max_entries)
{
	struct cache_backend ops = {
		.priv = be,
		.reg = be_reg,
		.unreg = be_unreg,
		.invalidations = &be->invalidations,
		.notify_fd = -1,
	};
	struct ireg_cache_attr attr = {
		.size = sizeof(attr), .max_entries = max_entries
	};
	struct ireg_cache *cache;

	pthread_mutex_init(&be->lock, NULL);
	be->next_iova = 1UL << 32;
	if (__ireg_cache_create_backend(&ops, &attr, &cache))
		return NULL;
	return cache;
}

TEST(hit_miss_and_containment)
{
	static char arena[ARENA_PAGES * PAGE] __attribute__((aligned(4096)));
	static struct backend be;
	struct ireg_cache *cache = make_cache(&be, 0);
	struct ireg_mr *a, *b;

	ASSERT_NE(NULL, cache);
	ASSERT_EQ(0, ireg_cache_reg(cache, arena + 10, 2 * PAGE, &a));
	EXPECT_EQ(1, be.reg_calls);
	EXPECT_EQ((uintptr_t)arena, a->region.addr);
	EXPECT_EQ(3 * PAGE, a->region.size);
	ASSERT_EQ(0, ireg_cache_reg(cache, arena + PAGE, PAGE, &b));
	EXPECT_EQ(a, b);
	EXPECT_EQ(1, be.reg_calls);
	EXPECT_EQ(a->region.iova + PAGE, ireg_mr_iova(b, arena + PAGE));
	ireg_cache_unreg(cache, a);
	ireg_cache_unreg(cache, b);
	ireg_cache_destroy(cache);
	EXPECT_EQ(0, be.active);
}

TEST(backend_error_leaves_nothing)
{
	static char arena[4 * PAGE] __attribute__((aligned(4096)));
	static struct backend be;
	struct ireg_cache *cache = make_cache(&be, 0);
	struct ireg_cache_stats st = { .size = sizeof(st) };
	struct ireg_mr *mr;

	ASSERT_NE(NULL, cache);
	be.fail_next = ENOMEM;
	EXPECT_EQ(-ENOMEM, ireg_cache_reg(cache, arena, PAGE, &mr));
	ireg_cache_stats(cache, &st);
	EXPECT_EQ(0, st.entries);
	EXPECT_EQ(0, st.misses);
	/* And the next try registers. */
	ASSERT_EQ(0, ireg_cache_reg(cache, arena, PAGE, &mr));
	ireg_cache_unreg(cache, mr);
	ireg_cache_destroy(cache);
	EXPECT_EQ(0, be.active);
}

/*
 * Overlapping requests share one registration: a miss registers the union
 * of the request and the cached registrations it overlaps, and those leave
 * the cache (unregistered at once when unused, else when given back), so
 * no page stays pinned and charged twice.
 */
TEST(overlapping_registrations_merge)
{
	static char arena[16 * PAGE] __attribute__((aligned(4096)));
	static struct backend be;
	struct ireg_cache *cache = make_cache(&be, 0);
	struct ireg_mr *a, *b, *c, *d;
	unsigned long calls;
	int i;

	ASSERT_NE(NULL, cache);
	/* Pages [0, 2), given back, then [1, 3): one registration, [0, 3). */
	ASSERT_EQ(0, ireg_cache_reg(cache, arena, 2 * PAGE, &a));
	ireg_cache_unreg(cache, a);
	ASSERT_EQ(0, ireg_cache_reg(cache, arena + PAGE, 2 * PAGE, &b));
	EXPECT_EQ(1, be.active);
	EXPECT_EQ(3 * PAGE, be.bytes);
	EXPECT_EQ((uintptr_t)arena, b->region.addr);
	EXPECT_EQ(3 * PAGE, b->region.size);

	/* Every sub-range hits it. */
	calls = be.reg_calls;
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, ireg_cache_reg(cache, arena + i * PAGE, PAGE, &c));
		EXPECT_EQ(b, c);
		ireg_cache_unreg(cache, c);
	}
	ASSERT_EQ(0, ireg_cache_reg(cache, arena, 3 * PAGE, &c));
	EXPECT_EQ(b, c);
	ireg_cache_unreg(cache, c);
	EXPECT_EQ(calls, be.reg_calls);

	/* [2, 5) while [0, 3) is held: the held one stays until given back. */
	ASSERT_EQ(0, ireg_cache_reg(cache, arena + 2 * PAGE, 3 * PAGE, &d));
	EXPECT_EQ((uintptr_t)arena, d->region.addr);
	EXPECT_EQ(5 * PAGE, d->region.size);
	EXPECT_EQ(2, be.active);
	EXPECT_TRUE(ireg_region_valid(&b->region));
	ireg_cache_unreg(cache, b);
	EXPECT_EQ(1, be.active);
	EXPECT_EQ(5 * PAGE, be.bytes);
	ireg_cache_unreg(cache, d);

	/* Adjacent is not overlapping: a registration of its own. */
	ASSERT_EQ(0, ireg_cache_reg(cache, arena + 5 * PAGE, PAGE, &a));
	ireg_cache_unreg(cache, a);
	EXPECT_EQ(2, be.active);
	EXPECT_EQ(6 * PAGE, be.bytes);
	/* One request overlapping both merges all three: [0, 6). */
	ASSERT_EQ(0, ireg_cache_reg(cache, arena + 4 * PAGE + 100, PAGE, &a));
	EXPECT_EQ((uintptr_t)arena, a->region.addr);
	EXPECT_EQ(6 * PAGE, a->region.size);
	EXPECT_EQ(1, be.active);
	EXPECT_EQ(6 * PAGE, be.bytes);
	ireg_cache_unreg(cache, a);
	ireg_cache_destroy(cache);
	EXPECT_EQ(0, be.active);
}

/*
 * A union past max_merge_bytes is not formed: the request is registered
 * alone.  A union the backend refuses falls back to the request alone,
 * the old entry kept.
 */
TEST(merge_bound_and_fallback)
{
	static char arena[8 * PAGE] __attribute__((aligned(4096)));
	static struct backend be;
	struct cache_backend ops = {
		.priv = &be,
		.reg = be_reg,
		.unreg = be_unreg,
		.invalidations = &be.invalidations,
		.notify_fd = -1,
	};
	struct ireg_cache_attr attr = {
		.size = sizeof(attr),
		.max_merge_bytes = 2 * PAGE,
	};
	struct ireg_cache_stats st = { .size = sizeof(st) };
	struct ireg_cache *cache;
	struct ireg_mr *a, *b;

	pthread_mutex_init(&be.lock, NULL);
	ASSERT_EQ(0, __ireg_cache_create_backend(&ops, &attr, &cache));
	ASSERT_EQ(0, ireg_cache_reg(cache, arena, 2 * PAGE, &a));
	ireg_cache_unreg(cache, a);
	ASSERT_EQ(0, ireg_cache_reg(cache, arena + PAGE, 2 * PAGE, &b));
	EXPECT_EQ((uintptr_t)arena + PAGE, b->region.addr);
	EXPECT_EQ(2 * PAGE, b->region.size);
	EXPECT_EQ(2, be.active);
	ireg_cache_unreg(cache, b);
	ASSERT_EQ(0, ireg_cache_stats(cache, &st));
	EXPECT_EQ(0, st.merged);
	EXPECT_EQ(2, st.entries);
	ireg_cache_destroy(cache);

	/* No bound; the union's registration fails once. */
	ASSERT_EQ(0, __ireg_cache_create_backend(&ops, NULL, &cache));
	ASSERT_EQ(0, ireg_cache_reg(cache, arena + 4 * PAGE, 2 * PAGE, &a));
	ireg_cache_unreg(cache, a);
	be.fail_next = EFAULT;
	ASSERT_EQ(0, ireg_cache_reg(cache, arena + 5 * PAGE, 2 * PAGE, &b));
	EXPECT_EQ((uintptr_t)arena + 5 * PAGE, b->region.addr);
	EXPECT_EQ(2 * PAGE, b->region.size);
	EXPECT_EQ(2, be.active);	/* the old one stays */
	ireg_cache_unreg(cache, b);
	ASSERT_EQ(0, ireg_cache_stats(cache, &st));
	EXPECT_EQ(0, st.merged);
	EXPECT_EQ(2, st.entries);
	/* ... and still serves its range. */
	ASSERT_EQ(0, ireg_cache_reg(cache, arena + 4 * PAGE, PAGE, &a));
	EXPECT_EQ((uintptr_t)arena + 4 * PAGE, a->region.addr);
	ireg_cache_unreg(cache, a);
	ASSERT_EQ(0, ireg_cache_stats(cache, &st));
	EXPECT_EQ(1, st.hits);
	ireg_cache_destroy(cache);
	EXPECT_EQ(0, be.active);
}

/* The user area and its callbacks: built once per registration. */
struct user_cb {
	struct backend *be;
	int inits;
	int finis;
	int fail;		/* errno init returns, 0 for success */
	int bad;		/* a callback saw something wrong */
};

struct user_desc {
	uint64_t key;
	unsigned char zero[56];
};

static int user_init(struct ireg_mr *mr, void *arg)
{
	struct user_cb *cb = arg;
	struct user_desc *d = ireg_mr_user(mr);
	unsigned int i;

	cb->inits++;
	if (cb->fail)
		return -cb->fail;
	/* Zeroed, aligned, registered already. */
	for (i = 0; i < sizeof(*d); i++)
		if (((unsigned char *)d)[i])
			cb->bad++;
	if ((uintptr_t)d % 64 || !cb->be->regs[mr->region.handle].active)
		cb->bad++;
	d->key = mr->region.iova ^ 0xabcd;
	return 0;
}

static void user_fini(struct ireg_mr *mr, void *arg)
{
	struct user_cb *cb = arg;
	struct user_desc *d = ireg_mr_user(mr);

	cb->finis++;
	/* Still registered, the descriptor as init left it. */
	if (!cb->be->regs[mr->region.handle].active ||
	    d->key != (mr->region.iova ^ 0xabcd))
		cb->bad++;
}

static struct ireg_cache *make_user_cache(struct backend *be,
					  struct user_cb *cb, size_t user_size)
{
	struct cache_backend ops = {
		.priv = be,
		.reg = be_reg,
		.unreg = be_unreg,
		.invalidations = &be->invalidations,
		.notify_fd = -1,
	};
	struct ireg_cache_attr attr = {
		.size = sizeof(attr),
		.user_size = user_size,
		.init = user_init,
		.fini = user_fini,
		.cb_arg = cb,
	};
	struct ireg_cache *cache;

	pthread_mutex_init(&be->lock, NULL);
	be->next_iova = 1UL << 32;
	cb->be = be;
	if (__ireg_cache_create_backend(&ops, &attr, &cache))
		return NULL;
	return cache;
}

TEST(user_area)
{
	static char arena[8 * PAGE] __attribute__((aligned(4096)));
	static struct backend be;
	struct user_cb cb = {};
	struct ireg_cache *cache = make_user_cache(&be, &cb, 100);
	struct ireg_mr *a, *b, *c;
	struct user_desc *d;

	ASSERT_NE(NULL, cache);
	ASSERT_EQ(0, ireg_cache_reg(cache, arena, PAGE, &a));
	d = ireg_mr_user(a);
	ASSERT_NE(NULL, d);
	EXPECT_EQ(1, cb.inits);
	EXPECT_EQ(a->region.iova ^ 0xabcd, d->key);
	/* The area is 128 bytes (100 rounded up): all of it is ours. */
	memset(d->zero, 0x11, sizeof(d->zero));
	memset((char *)d + 64, 0x22, 64);
	ireg_cache_unreg(cache, a);

	/* A hit: the same area, as left, init not called again. */
	ASSERT_EQ(0, ireg_cache_reg(cache, arena + 100, 10, &b));
	EXPECT_EQ(a, b);
	EXPECT_EQ(d, ireg_mr_user(b));
	EXPECT_EQ(0x11, d->zero[55]);
	EXPECT_EQ(0x22, ((unsigned char *)d)[127]);
	EXPECT_EQ(1, cb.inits);

	/* A merge: a new registration, a new area; the old one's fini. */
	ASSERT_EQ(0, ireg_cache_reg(cache, arena, 2 * PAGE, &c));
	EXPECT_NE(b, c);
	EXPECT_EQ(2, cb.inits);
	EXPECT_EQ(0, cb.finis);		/* b is still held */
	EXPECT_EQ(c->region.iova ^ 0xabcd,
		  ((struct user_desc *)ireg_mr_user(c))->key);
	ireg_cache_unreg(cache, b);
	EXPECT_EQ(1, cb.finis);
	ireg_cache_unreg(cache, c);

	/* An init failure fails the lookup and leaves nothing. */
	cb.fail = EIO;
	EXPECT_EQ(-EIO, ireg_cache_reg(cache, arena + 4 * PAGE, PAGE, &a));
	EXPECT_EQ(1, be.active);
	EXPECT_EQ(3, cb.inits);
	cb.fail = 0;

	ireg_cache_destroy(cache);
	EXPECT_EQ(0, be.active);
	EXPECT_EQ(2, cb.finis);
	EXPECT_EQ(0, cb.bad);
}

/* No user area: NULL.  Larger than IREG_CACHE_USER_MAX: refused. */
TEST(user_area_sizes)
{
	static char arena[PAGE] __attribute__((aligned(4096)));
	static struct backend be;
	struct user_cb cb = {};
	struct ireg_cache *cache = make_cache(&be, 0);
	struct ireg_mr *mr;

	ASSERT_NE(NULL, cache);
	ASSERT_EQ(0, ireg_cache_reg(cache, arena, PAGE, &mr));
	EXPECT_EQ(NULL, ireg_mr_user(mr));
	ireg_cache_unreg(cache, mr);
	ireg_cache_destroy(cache);

	EXPECT_EQ(NULL, make_user_cache(&be, &cb, IREG_CACHE_USER_MAX + 1));
	cache = make_user_cache(&be, &cb, IREG_CACHE_USER_MAX);
	ASSERT_NE(NULL, cache);
	ASSERT_EQ(0, ireg_cache_reg(cache, arena, PAGE, &mr));
	/* All of it ours (the key at its start left for fini). */
	memset((char *)ireg_mr_user(mr) + 8, 0x33, IREG_CACHE_USER_MAX - 8);
	ireg_cache_unreg(cache, mr);
	ireg_cache_destroy(cache);
	EXPECT_EQ(0, cb.bad);
}

/*
 * The size rule of struct ireg_cache_attr and struct ireg_cache_stats:
 * an older caller's shorter struct works, a larger one is fine with a
 * zero tail and -E2BIG with anything else there, a size that cannot hold
 * the size member is -EINVAL.
 */
TEST(attr_and_stats_size)
{
	static struct backend be;
	struct cache_backend ops = {
		.priv = &be,
		.reg = be_reg,
		.unreg = be_unreg,
		.invalidations = &be.invalidations,
		.notify_fd = -1,
	};
	struct {
		struct ireg_cache_attr attr;
		uint64_t tail[4];
	} big = { .attr.size = sizeof(big), .attr.max_entries = 1 };
	struct {
		struct ireg_cache_stats st;
		uint64_t tail[2];
	} bigst;
	struct ireg_cache_attr attr;
	struct ireg_cache_stats st;
	struct ireg_cache *cache;
	struct ireg_mr *mr;
	static char arena[4 * PAGE] __attribute__((aligned(4096)));

	pthread_mutex_init(&be.lock, NULL);
	/* Version 1 of the struct: up to prot; garbage after it unread. */
	memset(&attr, 0xff, sizeof(attr));
	attr.size = offsetof(struct ireg_cache_attr, prot) + sizeof(attr.prot);
	attr.max_entries = 1;
	attr.max_bytes = 0;
	attr.prot = 0;
	ASSERT_EQ(0, __ireg_cache_create_backend(&ops, &attr, &cache));
	ASSERT_EQ(0, ireg_cache_reg(cache, arena, PAGE, &mr));
	EXPECT_EQ(NULL, ireg_mr_user(mr));
	ireg_cache_unreg(cache, mr);
	ASSERT_EQ(0, ireg_cache_reg(cache, arena + 2 * PAGE, PAGE, &mr));
	ireg_cache_unreg(cache, mr);

	/* Stats into an older, shorter struct: nothing written past it. */
	memset(&st, 0xee, sizeof(st));
	st.size = offsetof(struct ireg_cache_stats, merged);
	EXPECT_EQ(0, ireg_cache_stats(cache, &st));
	EXPECT_EQ(2, st.misses);
	EXPECT_EQ(1, st.entries);	/* max_entries 1 was read */
	EXPECT_EQ(0xeeeeeeeeeeeeeeeeULL, st.merged);
	/* A larger one: the tail zeroed. */
	memset(&bigst, 0xee, sizeof(bigst));
	bigst.st.size = sizeof(bigst);
	EXPECT_EQ(0, ireg_cache_stats(cache, &bigst.st));
	EXPECT_EQ(2, bigst.st.misses);
	EXPECT_EQ(0, bigst.tail[0]);
	EXPECT_EQ(0, bigst.tail[1]);
	st.size = 0;
	EXPECT_EQ(-EINVAL, ireg_cache_stats(cache, &st));
	ireg_cache_destroy(cache);

	/* A larger attr: a zero tail is fine, anything else -E2BIG. */
	ASSERT_EQ(0, __ireg_cache_create_backend(&ops, &big.attr, &cache));
	ireg_cache_destroy(cache);
	big.tail[3] = 1;
	EXPECT_EQ(-E2BIG, __ireg_cache_create_backend(&ops, &big.attr,
						      &cache));
	EXPECT_EQ(NULL, cache);
	attr.size = 0;
	EXPECT_EQ(-EINVAL, __ireg_cache_create_backend(&ops, &attr, &cache));
	attr.size = sizeof(size_t) - 1;
	EXPECT_EQ(-EINVAL, __ireg_cache_create_backend(&ops, &attr, &cache));
	/* NULL: every default. */
	ASSERT_EQ(0, __ireg_cache_create_backend(&ops, NULL, &cache));
	ireg_cache_destroy(cache);
	EXPECT_EQ(0, be.active);
}

/* Registrations spanning several 2 MiB chunks are found from any of them. */
TEST(large_registration_spans_chunks)
{
	static struct backend be;
	struct ireg_cache *cache = make_cache(&be, 0);
	const size_t size = 9UL << 20;
	struct ireg_mr *a, *b;
	char *p;

	ASSERT_NE(NULL, cache);
	p = aligned_alloc(PAGE, size);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ireg_cache_reg(cache, p, size, &a));
	ASSERT_EQ(0, ireg_cache_reg(cache, p + size - 100, 50, &b));
	EXPECT_EQ(a, b);
	EXPECT_EQ(1, be.reg_calls);
	ireg_cache_unreg(cache, a);
	ireg_cache_unreg(cache, b);
	ireg_cache_destroy(cache);
	EXPECT_EQ(0, be.active);
	free(p);
}

/* Random operations against the reference model. */
TEST(random_operations_match_model)
{
	static char arena[ARENA_PAGES * PAGE] __attribute__((aligned(4096)));
	static struct backend be;
	const size_t max_entries = 16;
	struct ireg_cache *cache = make_cache(&be, max_entries);
	struct ireg_mr *held[64];
	unsigned int nr_held = 0, seed = 12345, i;
	unsigned long hits = 0, misses = 0;

	ASSERT_NE(NULL, cache);
	TH_LOG("seed %u", seed);
	for (i = 0; i < 200000; i++) {
		unsigned int op = rand_r(&seed) % 100;

		if (op < 60 && nr_held < 64) {
			uintptr_t off = rand_r(&seed) % (ARENA_PAGES * PAGE - 1);
			size_t len = 1 + rand_r(&seed) %
				     (ARENA_PAGES * PAGE - off);
			uintptr_t start = (uintptr_t)arena + off;
			bool covered = be_covers(&be, start, start + len);
			unsigned long calls = be.reg_calls;
			struct ireg_mr *mr;

			ASSERT_EQ(0, ireg_cache_reg(cache, arena + off, len,
						    &mr));
			ASSERT_LE(mr->region.addr, start);
			ASSERT_GE(mr->region.addr + mr->region.size,
				  start + len);
			ASSERT_TRUE(ireg_region_valid(&mr->region));
			ASSERT_EQ(be.regs[mr->region.handle].iova +
				  (start - mr->region.addr),
				  ireg_mr_iova(mr, arena + off));
			/* Register-once: a hit exactly when covered. */
			ASSERT_EQ(covered, be.reg_calls == calls)
				TH_LOG("op %u: covered %d, backend calls %lu -> %lu",
				       i, covered, calls, be.reg_calls);
			covered ? hits++ : misses++;
			held[nr_held++] = mr;
		} else if (op < 90 && nr_held) {
			unsigned int k = rand_r(&seed) % nr_held;

			ireg_cache_unreg(cache, held[k]);
			held[k] = held[--nr_held];
		} else if (op < 99) {
			uintptr_t off = rand_r(&seed) % ARENA_PAGES * PAGE;

			be_invalidate(&be, (uintptr_t)arena + off, PAGE);
		} else {
			ASSERT_EQ(0, ireg_cache_flush(cache));
		}

		/* Limits: only held entries may exceed max_entries. */
		if (!(i % 64)) {
			struct ireg_cache_stats st = { .size = sizeof(st) };

			ireg_cache_stats(cache, &st);
			ASSERT_GE(max_entries + nr_held, st.entries);
			ASSERT_LE(st.entries, be.active);
		}
	}
	TH_LOG("%lu hits, %lu misses, %lu backend registrations active",
	       hits, misses, be.active);
	EXPECT_LT(1000, hits);
	while (nr_held)
		ireg_cache_unreg(cache, held[--nr_held]);
	ireg_cache_destroy(cache);
	EXPECT_EQ(0, be.active);
	EXPECT_EQ(be.reg_calls, be.unreg_calls);
}

/* Threads hitting, giving back, invalidating and flushing at once. */
struct worker {
	struct ireg_cache *cache;
	struct backend *be;
	char *arena;
	unsigned int seed;
	int role;
	volatile bool *stop;
	unsigned long ops;
	int err;
};

static void *work(void *arg)
{
	struct worker *w = arg;

	while (!__atomic_load_n(w->stop, __ATOMIC_RELAXED) && !w->err) {
		uintptr_t off = rand_r(&w->seed) % ARENA_PAGES * PAGE;
		size_t len = 100;
		struct ireg_mr *mr;

		switch (w->role) {
		case 0:		/* hit or miss, check, give back */
			/* About half: up to 3 pages, overlapping, merging. */
			if (w->seed & 1)
				len = 1 + rand_r(&w->seed) % (3 * PAGE);
			if (off + len > ARENA_PAGES * PAGE)
				len = ARENA_PAGES * PAGE - off;
			w->err = ireg_cache_reg(w->cache, w->arena + off, len,
						&mr);
			if (w->err)
				break;
			if (mr->region.addr > (uintptr_t)w->arena + off ||
			    mr->region.addr + mr->region.size <
			    (uintptr_t)w->arena + off + len)
				w->err = -EPROTO;
			ireg_cache_unreg(w->cache, mr);
			break;
		case 1:		/* the kernel invalidating */
			be_invalidate(w->be, (uintptr_t)w->arena + off, PAGE);
			break;
		default:
			ireg_cache_flush(w->cache);
			break;
		}
		w->ops++;
	}
	return NULL;
}

TEST(threads)
{
	static char arena[ARENA_PAGES * PAGE] __attribute__((aligned(4096)));
	static struct backend be;
	struct ireg_cache *cache = make_cache(&be, 8);
	volatile bool stop = false;
	struct worker w[6];
	pthread_t t[6];
	int i;

	ASSERT_NE(NULL, cache);
	for (i = 0; i < 6; i++) {
		w[i] = (struct worker){ .cache = cache, .be = &be,
					.arena = arena, .seed = i + 1,
					.role = i < 4 ? 0 : i - 3,
					.stop = &stop };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, work, &w[i]));
	}
	usleep(1000000);
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, w[i].err);
	}
	TH_LOG("%lu lookups in 1 s by 4 threads", w[0].ops + w[1].ops +
	       w[2].ops + w[3].ops);
	ireg_cache_destroy(cache);
	EXPECT_EQ(0, be.active);
}

/*
 * fork(): the child's copy of a cache hands out nothing (a hit would be
 * the parent's IOVA, which reaches the parent's pages) and its destroy
 * unregisters nothing (the registrations are the parent's).  The parent
 * is unaffected.
 */
TEST(fork_child_refuses)
{
	static char arena[4 * PAGE] __attribute__((aligned(4096)));
	static struct backend be;
	struct ireg_cache *cache = make_cache(&be, 0);
	struct ireg_mr *a, *b;
	int status;
	pid_t pid;

	ASSERT_NE(NULL, cache);
	ASSERT_EQ(0, ireg_cache_reg(cache, arena, PAGE, &a));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* The hit the parent would get: refused. */
		if (ireg_cache_reg(cache, arena, PAGE, &b) != -ECHILD)
			_exit(10);
		if (ireg_cache_reg(cache, arena + PAGE, PAGE, &b) != -ECHILD)
			_exit(11);
		if (ireg_cache_flush(cache) != -ECHILD ||
		    ireg_cache_process_events(cache) != -ECHILD)
			_exit(12);
		ireg_cache_unreg(cache, a);
		ireg_cache_destroy(cache);
		_exit(be.unreg_calls || be.reg_calls != 1 ? 13 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, ireg_cache_reg(cache, arena, PAGE, &b));
	EXPECT_EQ(a, b);
	ireg_cache_unreg(cache, a);
	ireg_cache_unreg(cache, b);
	ireg_cache_destroy(cache);
	EXPECT_EQ(1, be.unreg_calls);
	EXPECT_EQ(0, be.active);
}

/* Counts fini calls; cb_arg of fini_cache(). */
static void count_fini(struct ireg_mr *mr, void *arg)
{
	(*(int *)arg)++;
}

static struct ireg_cache *fini_cache(struct backend *be, int *finis)
{
	struct cache_backend ops = {
		.priv = be,
		.reg = be_reg,
		.unreg = be_unreg,
		.invalidations = &be->invalidations,
		.notify_fd = -1,
	};
	struct ireg_cache_attr attr = {
		.size = sizeof(attr), .fini = count_fini, .cb_arg = finis,
	};
	struct ireg_cache *cache;

	pthread_mutex_init(&be->lock, NULL);
	be->next_iova = 1UL << 32;
	if (__ireg_cache_create_backend(&ops, &attr, &cache))
		return NULL;
	return cache;
}

/*
 * ireg_cache_destroy() unregisters everything, also the registrations
 * the caller still holds that a merge or the stale sweep had unlinked.
 * (On e5770f0: 2 left registered, fini called once of 3.)
 */
TEST(destroy_reaches_held_unlinked)
{
	static char arena[32 * PAGE] __attribute__((aligned(4096)));
	static struct backend be;
	struct ireg_mr *a, *b, *s;
	int finis = 0;
	struct ireg_cache *cache = fini_cache(&be, &finis);

	ASSERT_NE(NULL, cache);
	/* A held, then B overlapping: A merged away, still registered. */
	ASSERT_EQ(0, ireg_cache_reg(cache, arena, 2 * PAGE, &a));
	ASSERT_EQ(0, ireg_cache_reg(cache, arena + PAGE, 2 * PAGE, &b));
	/* S held, then invalidated and swept. */
	ASSERT_EQ(0, ireg_cache_reg(cache, arena + 16 * PAGE, PAGE, &s));
	be_invalidate(&be, (uintptr_t)arena + 16 * PAGE, PAGE);
	ASSERT_EQ(0, ireg_cache_flush(cache));
	EXPECT_EQ(3, be.active);
	ireg_cache_destroy(cache);
	EXPECT_EQ(0, be.active);
	EXPECT_EQ(3, finis);
}

/*
 * An invalidated registration stays registered while in use and after,
 * as ireg_cache_reg(3) says, until a sweep (the next miss here): it is
 * never returned again.
 */
TEST(invalidated_unregistered_by_next_sweep)
{
	static char arena[4 * PAGE] __attribute__((aligned(4096)));
	static struct backend be;
	struct ireg_cache *cache = make_cache(&be, 0);
	struct ireg_cache_stats st = { .size = sizeof(st) };
	struct ireg_mr *a, *b;
	uint64_t old_iova;

	ASSERT_NE(NULL, cache);
	ASSERT_EQ(0, ireg_cache_reg(cache, arena, PAGE, &a));
	ASSERT_EQ(0, ireg_cache_reg(cache, arena, PAGE, &b));
	old_iova = a->region.iova;
	be_invalidate(&be, (uintptr_t)arena, PAGE);
	ireg_cache_unreg(cache, a);
	ireg_cache_unreg(cache, b);
	EXPECT_EQ(1, be.active);	/* until the next sweep */
	ASSERT_EQ(0, ireg_cache_reg(cache, arena, PAGE, &a));
	EXPECT_NE(old_iova, a->region.iova);
	EXPECT_EQ(1, be.active);	/* the miss swept the stale one */
	ireg_cache_unreg(cache, a);
	ASSERT_EQ(0, ireg_cache_stats(cache, &st));
	EXPECT_EQ(1, st.entries);
	EXPECT_EQ(1, st.stale);
	ireg_cache_destroy(cache);
	EXPECT_EQ(0, be.active);
}

/*
 * Two overlapping buffers whose union never fits (a per-region limit):
 * each stays cached and hits.  (On e5770f0: hits 0, misses 1000, merged
 * 999.)
 */
TEST(union_that_never_fits_keeps_hitting)
{
	static char arena[4 * PAGE] __attribute__((aligned(4096)));
	static struct backend be;
	struct ireg_cache *cache = make_cache(&be, 0);
	struct ireg_cache_stats st = { .size = sizeof(st) };
	struct ireg_mr *mr;
	int i;

	ASSERT_NE(NULL, cache);
	be.max_size = 2 * PAGE;
	for (i = 0; i < 1000; i++) {
		ASSERT_EQ(0, ireg_cache_reg(cache, arena + (i & 1) * PAGE,
					    2 * PAGE, &mr));
		EXPECT_EQ((uintptr_t)arena + (i & 1) * PAGE, mr->region.addr);
		ireg_cache_unreg(cache, mr);
	}
	ASSERT_EQ(0, ireg_cache_stats(cache, &st));
	TH_LOG("hits %lu misses %lu merged %lu", (unsigned long)st.hits,
	       (unsigned long)st.misses, (unsigned long)st.merged);
	EXPECT_EQ(998, st.hits);
	EXPECT_EQ(2, st.misses);
	EXPECT_EQ(0, st.merged);
	EXPECT_EQ(2, be.active);
	ireg_cache_destroy(cache);
	EXPECT_EQ(0, be.active);
}

/*
 * A union that fits under a total limit only once its unused parts are
 * unregistered is formed (cache_vm_test.overlap_fits_memlock_limit on
 * the host); one that does not fit even then leaves the parts cached.
 */
TEST(union_under_total_limit)
{
	static char arena[8 * PAGE] __attribute__((aligned(4096)));
	static struct backend be;
	struct ireg_cache *cache = make_cache(&be, 0);
	struct ireg_cache_stats st = { .size = sizeof(st) };
	struct ireg_mr *a, *b;

	ASSERT_NE(NULL, cache);
	be.max_bytes = 3 * PAGE;
	ASSERT_EQ(0, ireg_cache_reg(cache, arena, 2 * PAGE, &a));
	ireg_cache_unreg(cache, a);
	ASSERT_EQ(0, ireg_cache_reg(cache, arena + PAGE, 2 * PAGE, &b));
	EXPECT_EQ((uintptr_t)arena, b->region.addr);
	EXPECT_EQ(3 * PAGE, b->region.size);
	EXPECT_EQ(1, be.active);
	ASSERT_EQ(0, ireg_cache_stats(cache, &st));
	EXPECT_EQ(1, st.merged);
	ireg_cache_unreg(cache, b);
	ireg_cache_destroy(cache);
	EXPECT_EQ(0, be.active);

	/* Held parts stay registered: no room for the union, none for both. */
	cache = make_cache(&be, 0);
	ASSERT_NE(NULL, cache);
	ASSERT_EQ(0, ireg_cache_reg(cache, arena, 2 * PAGE, &a));
	EXPECT_EQ(-ENOMEM, ireg_cache_reg(cache, arena + PAGE, 2 * PAGE, &b));
	/* Nothing lost: the held one still hits. */
	ASSERT_EQ(0, ireg_cache_reg(cache, arena, PAGE, &b));
	EXPECT_EQ(a, b);
	ireg_cache_unreg(cache, b);
	ireg_cache_unreg(cache, a);
	ASSERT_EQ(0, ireg_cache_stats(cache, &st));
	EXPECT_EQ(1, st.entries);
	EXPECT_EQ(0, st.merged);
	ireg_cache_destroy(cache);
	EXPECT_EQ(0, be.active);
}

/*
 * Bad input changes nothing: an absurd length, or a request the backend
 * refuses, fails and the overlapping cached entry still hits.  A range
 * ending at 2^64 is not a wrap, and an entry on the top page hits.
 * (On e5770f0: the absurd length dropped the entry, -ENOMEM; the top
 * page -EOVERFLOW; the top page minus a byte registered but never hit.)
 */
TEST(bad_input_changes_nothing)
{
	static char arena[4 * PAGE] __attribute__((aligned(4096)));
	static struct backend be;
	struct ireg_cache *cache = make_cache(&be, 0);
	struct ireg_cache_stats st = { .size = sizeof(st) };
	uintptr_t top = UINTPTR_MAX - (PAGE - 1);
	struct ireg_mr *a, *b;
	unsigned long calls;

	ASSERT_NE(NULL, cache);
	ASSERT_EQ(0, ireg_cache_reg(cache, arena, PAGE, &a));
	ireg_cache_unreg(cache, a);
	EXPECT_EQ(-EOVERFLOW, ireg_cache_reg(cache, (void *)1, SIZE_MAX, &b));
	EXPECT_EQ(-EOVERFLOW, ireg_cache_reg(cache, NULL, SIZE_MAX, &b));
	EXPECT_EQ(-ENOMEM, ireg_cache_reg(cache, (void *)PAGE,
					  SIZE_MAX - 2 * PAGE, &b));
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "more than the machine has"));
	/* The backend refuses the union, then the request alone. */
	be.max_size = PAGE;
	EXPECT_EQ(-ENOMEM, ireg_cache_reg(cache, arena, 2 * PAGE, &b));
	be.max_size = 0;
	EXPECT_EQ(1, be.active);
	calls = be.reg_calls;
	ASSERT_EQ(0, ireg_cache_reg(cache, arena + 100, 100, &b));
	EXPECT_EQ(calls, be.reg_calls);
	ireg_cache_unreg(cache, b);
	ASSERT_EQ(0, ireg_cache_stats(cache, &st));
	EXPECT_EQ(1, st.entries);
	EXPECT_EQ(0, st.merged);

	/* The top page: [top, 2^64) is a range, and it is cached. */
	ASSERT_EQ(0, ireg_cache_reg(cache, (void *)top, PAGE, &a));
	calls = be.reg_calls;
	ASSERT_EQ(0, ireg_cache_reg(cache, (void *)(top + 16), 16, &b));
	EXPECT_EQ(a, b);
	ireg_cache_unreg(cache, b);
	ASSERT_EQ(0, ireg_cache_reg(cache, (void *)top, PAGE - 1, &b));
	EXPECT_EQ(a, b);
	ireg_cache_unreg(cache, b);
	EXPECT_EQ(calls, be.reg_calls);
	EXPECT_EQ(-EOVERFLOW, ireg_cache_reg(cache, (void *)top, PAGE + 1,
					     &b));
	ireg_cache_unreg(cache, a);
	ireg_cache_destroy(cache);
	EXPECT_EQ(0, be.active);
}

/*
 * A success leaves the thread's message alone, also when a union failed
 * on the way.  (On e5770f0: the backend's words for the union.)
 */
TEST(success_after_failed_union_keeps_message)
{
	static char arena[4 * PAGE] __attribute__((aligned(4096)));
	static struct backend be;
	struct ireg_cache *cache = make_cache(&be, 0);
	struct ireg_mr *a, *b;

	ASSERT_NE(NULL, cache);
	ASSERT_EQ(0, ireg_cache_reg(cache, arena, 2 * PAGE, &a));
	ireg_cache_unreg(cache, a);
	ASSERT_EQ(-EINVAL, ireg_cache_reg(cache, arena, 0, &b));
	ASSERT_EQ(NULL, strstr(ireg_errmsg(), "fake backend"));
	be.max_size = 2 * PAGE;
	ASSERT_EQ(0, ireg_cache_reg(cache, arena + PAGE, 2 * PAGE, &b));
	EXPECT_EQ((uintptr_t)arena + PAGE, b->region.addr);
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "length 0"));
	TH_LOG("message: %s", ireg_errmsg());
	ireg_cache_unreg(cache, b);
	ireg_cache_destroy(cache);
}

static int init_int_min(struct ireg_mr *mr, void *arg)
{
	return INT_MIN;
}

/* An init callback's INT_MIN is not negated (UB): -EIO, nothing left. */
TEST(init_callback_int_min)
{
	static char arena[PAGE] __attribute__((aligned(4096)));
	static struct backend be;
	struct cache_backend ops = {
		.priv = &be,
		.reg = be_reg,
		.unreg = be_unreg,
		.invalidations = &be.invalidations,
		.notify_fd = -1,
	};
	struct ireg_cache_attr attr = {
		.size = sizeof(attr), .init = init_int_min,
	};
	struct ireg_cache *cache;
	struct ireg_mr *mr;

	pthread_mutex_init(&be.lock, NULL);
	ASSERT_EQ(0, __ireg_cache_create_backend(&ops, &attr, &cache));
	EXPECT_EQ(-EIO, ireg_cache_reg(cache, arena, PAGE, &mr));
	EXPECT_EQ(0, be.active);
	ireg_cache_destroy(cache);
}

/*
 * A thread whose destructor of a later pthread key still uses a cache
 * after the cache's own key gave its reader back must not share the
 * reader with a new thread that took it.  (On e5770f0: both reader 0.)
 */
static struct {
	struct ireg_cache *cache;
	pthread_key_t key;
	sem_t a_in_dtor, b_done;
	int a_reader, b_reader;
} tsd;

static void tsd_use(void)
{
	static char buf[PAGE] __attribute__((aligned(4096)));
	struct ireg_mr *mr;

	if (!ireg_cache_reg(tsd.cache, buf, 8, &mr))
		ireg_cache_unreg(tsd.cache, mr);
}

static void tsd_dtor(void *arg)
{
	sem_post(&tsd.a_in_dtor);
	sem_wait(&tsd.b_done);
	tsd_use();
	tsd.a_reader = __ireg_cache_my_reader();
}

static void *tsd_thread_a(void *arg)
{
	tsd_use();			/* takes a reader, and its key */
	pthread_key_create(&tsd.key, tsd_dtor);
	pthread_setspecific(tsd.key, (void *)1);
	return NULL;
}

static void *tsd_thread_b(void *arg)
{
	tsd_use();
	tsd.b_reader = __ireg_cache_my_reader();
	sem_post(&tsd.b_done);
	return NULL;
}

TEST(reader_not_shared_after_release)
{
	static struct backend be;
	pthread_t a, b;

	tsd.cache = make_cache(&be, 0);
	ASSERT_NE(NULL, tsd.cache);
	sem_init(&tsd.a_in_dtor, 0, 0);
	sem_init(&tsd.b_done, 0, 0);
	ASSERT_EQ(0, pthread_create(&a, NULL, tsd_thread_a, NULL));
	sem_wait(&tsd.a_in_dtor);	/* A's reader went back */
	ASSERT_EQ(0, pthread_create(&b, NULL, tsd_thread_b, NULL));
	pthread_join(b, NULL);
	pthread_join(a, NULL);
	TH_LOG("thread A after release: reader %d, thread B: reader %d",
	       tsd.a_reader, tsd.b_reader);
	EXPECT_NE(tsd.a_reader, tsd.b_reader);
	ireg_cache_destroy(tsd.cache);
}

/*
 * The library's .so next to this test (lib/libiommureg.so.2), or NULL.
 */
static void *dlopen_lib(void)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	char *slash;

	if (n <= 0)
		return NULL;
	path[n] = 0;
	slash = strrchr(path, '/');
	if (!slash)
		return NULL;
	strcpy(slash, "/../libiommureg.so.2");
	return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

static struct {
	void *lib;
	pthread_barrier_t used, closed;
	int ret[3];
} dl;

/* Uses a cache and a pool's per-thread cache of the dlopened library. */
static void *dl_thread(void *arg)
{
	/* The .so's functions, typed as the header declares them. */
	__typeof__(ireg_cache_create) *cache_create =
		dlsym(dl.lib, "ireg_cache_create");
	__typeof__(ireg_cache_reg) *cache_reg = dlsym(dl.lib, "ireg_cache_reg");
	__typeof__(ireg_cache_destroy) *cache_destroy =
		dlsym(dl.lib, "ireg_cache_destroy");
	__typeof__(ireg_pool_create_mem) *pool_create_mem =
		dlsym(dl.lib, "ireg_pool_create_mem");
	__typeof__(ireg_pool_alloc_bulk_slow) *alloc_bulk =
		dlsym(dl.lib, "ireg_pool_alloc_bulk_slow");
	__typeof__(ireg_pool_free_bulk_slow) *free_bulk =
		dlsym(dl.lib, "ireg_pool_free_bulk_slow");
	__typeof__(ireg_pool_destroy) *pool_destroy =
		dlsym(dl.lib, "ireg_pool_destroy");
	static uint32_t gens[16];
	static struct iommu_reg_status status;
	static char buf[PAGE] __attribute__((aligned(4096)));
	static char mem[64 * 256] __attribute__((aligned(4096)));
	struct ireg_ctx ctx = {
		.container_fd = -1, .notify_fd = -1,
		.status = &status, .gens = gens,
	};
	struct ireg_pool_params p = {
		.size = sizeof(p), .buf_size = 256, .nr_bufs = 64,
		.flags = IREG_POOL_MT, .cache_size = 8,
	};
	struct ireg_cache *cache;
	struct ireg_pool *pool;
	struct ireg_mr *mr;
	void *bufs[4];

	if (!cache_create || !cache_reg || !cache_destroy ||
	    !pool_create_mem || !alloc_bulk || !free_bulk || !pool_destroy) {
		dl.ret[0] = -ENOENT;
		goto out;
	}
	/* A lookup takes a reader (the miss fails: no container). */
	dl.ret[0] = cache_create(&ctx, NULL, &cache);
	if (!dl.ret[0]) {
		dl.ret[1] = cache_reg(cache, buf, 8, &mr);
		cache_destroy(cache);
	}
	/* The pool's per-thread cache, its key set. */
	dl.ret[2] = pool_create_mem(mem, sizeof(mem), 1UL << 32, &p, &pool);
	if (!dl.ret[2]) {
		dl.ret[2] = alloc_bulk(pool, bufs, 4);
		if (!dl.ret[2])
			free_bulk(pool, bufs, 4);
		pool_destroy(pool);
	}
out:
	pthread_barrier_wait(&dl.used);
	pthread_barrier_wait(&dl.closed);
	return NULL;		/* the keys' destructors would run here */
}

/*
 * A thread that used the library exits after dlclose() unloaded it: no
 * destructor of the library's may run.  (On e5770f0: SIGSEGV.)
 */
TEST(thread_exit_after_dlclose)
{
	pthread_t t;

	/* A static program (the arm64 cross build's) has no TLS to spare. */
	if (!getauxval(AT_BASE))
		SKIP(return, "a statically linked test: dlopen() of a library with TLS is not for it");
	dl.lib = dlopen_lib();
	ASSERT_NE(NULL, dl.lib) TH_LOG("dlopen: %s", dlerror());
	pthread_barrier_init(&dl.used, NULL, 2);
	pthread_barrier_init(&dl.closed, NULL, 2);
	ASSERT_EQ(0, pthread_create(&t, NULL, dl_thread, NULL));
	pthread_barrier_wait(&dl.used);
	EXPECT_EQ(0, dl.ret[0]);
	EXPECT_NE(0, dl.ret[1]);
	EXPECT_EQ(0, dl.ret[2]);
	ASSERT_EQ(0, dlclose(dl.lib));
	pthread_barrier_wait(&dl.closed);
	pthread_join(t, NULL);
}

TEST_HARNESS_MAIN
