/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libiommureg rings: single-producer/single-consumer queues of buffer
 * descriptors in shared memory, after seL4 sDDF's queues.
 *
 * Vocabulary:
 *
 *  - descriptor: struct ireg_ring_desc, 16 bytes, names a buffer by its
 *    offset and length in a data region both ends agree on.  The ring
 *    moves descriptors, never the data.
 *  - ring: capacity slots (a power of two) and two indices.  prod counts
 *    descriptors ever enqueued, cons descriptors ever dequeued; both are
 *    free-running u32 that wrap at 2^32.  prod - cons (mod 2^32) is the
 *    number of descriptors in the ring, 0 (empty) to capacity (full).
 *    Index i lives in slots[i & (capacity - 1)].
 *  - channel: two rings.  "active" carries filled buffers from the
 *    producer endpoint to the consumer endpoint; "free" gives them back.
 *  - area: one contiguous block of shared memory holding a channel: a
 *    header, then for each ring a control block and its slots.  Plain
 *    memory, a memfd another process maps, or a file: offsets only, no
 *    pointers, so each process may map it at a different address.
 *  - endpoint handle: struct ireg_ring_chan, in the private memory of the
 *    thread that uses it.  It holds pointers into the area, its own index
 *    and a cached copy of the peer's index: nothing in it is shared.
 *
 * One producer and one consumer per ring.  Two threads may share an
 * endpoint handle when one uses only chan->prod and the other only
 * chan->cons.
 *
 * Trust: a peer can write anything into the area.  The ring never reads
 * the header after ireg_ring_attach() and masks every index with the mask
 * it fixed then, so a corrupt peer can make this side see nonsense
 * descriptors but never touch memory outside the area.  A peer index
 * more than capacity away from ours makes the ring look full to a
 * producer and empty to a consumer, whose cached copy never takes it.
 * Check offset and length against the data region before using a
 * descriptor from a peer you do not trust.
 */
#ifndef LIBIOMMUREG_RING_H
#define LIBIOMMUREG_RING_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Memory ordering
 * ===============
 *
 * Every index has exactly one writer.  Each access below is marked with
 * the rule it follows:
 *
 *  [publish]  A side stores its own index with __ATOMIC_RELEASE after it
 *             is done with the slots the new value hands over.  For the
 *             producer, the descriptor stores into the slots cannot be
 *             seen after the index store; for the consumer, its loads
 *             from the slots are complete before the producer can see the
 *             slots as free.
 *  [observe]  A side loads the other side's index with __ATOMIC_ACQUIRE,
 *             pairing with [publish].  The consumer that sees prod == n
 *             sees the descriptors in every slot below n (and, since the
 *             producer wrote the buffers before enqueueing them, the
 *             buffers' contents).  The producer that sees cons == n may
 *             overwrite the slots below n: its stores cannot be satisfied
 *             before the consumer's loads of the old descriptors.
 *  [own]      A side never needs to read its own index from shared
 *             memory: the handle keeps a private copy.  The only load of
 *             it is at attach time, __ATOMIC_RELAXED, since no other
 *             thread writes it.
 *  [cache]    Each handle keeps the peer's index as last observed.  A
 *             stale copy is always safe: the peer's index only grows, so
 *             a stale cons makes the ring look fuller and a stale prod
 *             emptier than it is.  The copy is refreshed ([observe]) only
 *             when it makes the ring look full (producer) or empty
 *             (consumer), or too short for a batch.  While the ring is
 *             neither nearly empty nor nearly full, a side reads the
 *             peer's cache line about once per lap, not once per
 *             descriptor.  The consumer's copy may fall behind its own
 *             index: a single dequeue that observes exactly one
 *             descriptor takes it without storing the copy (one store
 *             less per descriptor while the consumer keeps up), so
 *             prod_cache - cons is then "negative", which every check
 *             reads as empty.
 *
 * Why this is enough.  On x86-64 (TSO) loads are not reordered with
 * other loads, stores not with other stores nor with older loads, so
 * release stores and acquire loads are plain MOVs: what the atomics buy
 * there is that the compiler keeps the order.  On weakly ordered machines
 * (arm64, POWER, RISC-V) they become STLR/LDAR, lwsync, or fences: without
 * them the producer's slot stores could become visible after its index
 * store (the consumer reads a stale descriptor), or the producer could
 * overwrite a slot before the consumer's load of it is satisfied.
 *
 * The one reordering TSO allows, a load passing an older store in the
 * store buffer, does not matter to enqueue and dequeue; it does matter to
 * the wakeup protocol, which needs a store followed by a load of another
 * location to stay in order.  That takes a full barrier
 * (__ATOMIC_SEQ_CST fence: MFENCE or a locked instruction on x86, DMB ISH
 * on arm64, sync on POWER), paid only in *_prepare_wait() and
 * *_must_notify(), never by enqueue or dequeue.
 *
 * Wakeup protocol (sDDF's signal / re-check / cancel)
 * ===================================================
 *
 * A consumer that finds the ring empty and wants to sleep:
 *
 *   C1  store cons_wants_signal = 1           ireg_ring_cons_prepare_wait()
 *   C2  full fence
 *   C3  load prod; not empty: cancel (store 0) and go on consuming
 *   C4  empty: block reading its eventfd      ireg_ring_wait()
 *
 * A producer, after publishing one or more descriptors:
 *
 *   P1  store prod (release)                  ireg_ring_enqueue*()
 *   P2  full fence                            ireg_ring_prod_must_notify()
 *   P3  load cons_wants_signal; if set, exchange it to 0 and, if that
 *       still read 1, write the eventfd       ireg_ring_notify()
 *
 * No wakeup is lost.  This is the store-buffering pattern: with a
 * sequentially consistent fence between each side's store and its load,
 * the fences are totally ordered and whichever comes second sees the
 * other side's store.  If C2 comes first, P3 sees C1's flag (or a later
 * exchange by the producer consumed it, which also ends in a write): the
 * producer writes the eventfd.  If P2 comes first, C3 sees the new prod:
 * the consumer does not sleep.  So a consumer that sleeps at C4 with a
 * descriptor published, not yet seen, always has a write coming.  The
 * eventfd counter keeps a write that lands before the read starts, so the
 * order of C4 and the write does not matter.
 *
 * What can happen is a spurious wakeup: the consumer cancels at C3 while
 * the producer, having read the flag at P3, still writes.  The next wait
 * then returns at once; callers loop and re-check, which is why
 * ireg_ring_wait() returning says nothing about the ring.
 *
 * The producer waiting for space is the mirror image:
 * ireg_ring_prod_prepare_wait() sets prod_wants_signal and re-checks cons,
 * the consumer calls ireg_ring_cons_must_notify() after dequeueing.  In a
 * channel whose producer never holds more buffers than the capacity, the
 * active ring cannot fill, and the producer waits on the free ring as its
 * consumer instead.
 */

/* Area layout: see the struct comments and Documentation/library-rings.rst. */
#define IREG_RING_MAGIC		0x474e5269U	/* "iRNG" in memory, little-endian */
#define IREG_RING_VERSION	1U
#define IREG_RING_MAX_CAPACITY	(1U << 30)
#define IREG_RING_DEFAULT_CAPACITY 256U	/* params NULL */
/*
 * Cache line size the layout is aligned to, and the distance between two
 * fields written by different sides: two lines, because Intel's adjacent
 * line prefetcher pulls lines in 128-byte aligned pairs and would make a
 * neighbour in the same pair bounce anyway.
 */
#define IREG_RING_LINE		64
#define IREG_RING_SPACING	128

enum ireg_ring_id {
	IREG_RING_ACTIVE,	/* producer endpoint -> consumer endpoint */
	IREG_RING_FREE,		/* consumer endpoint -> producer endpoint */
	IREG_RING_NR,
};

/* Which end of the channel an endpoint handle is. */
enum ireg_ring_role {
	IREG_RING_PRODUCER,	/* enqueues on active, dequeues from free */
	IREG_RING_CONSUMER,	/* dequeues from active, enqueues on free */
};

/**
 * struct ireg_ring_desc - a buffer descriptor
 * @offset: first byte of the buffer in the data region both ends share
 *	(or an IOVA: the ring does not interpret it)
 * @len: bytes of the buffer in use (filled on active, capacity on free,
 *	as the endpoints agree)
 * @cookie: opaque to the ring, for the owner of the buffer: an index in
 *	its buffer table, a sequence number
 */
struct ireg_ring_desc {
	uint64_t offset;
	uint32_t len;
	uint32_t cookie;
};

/**
 * struct ireg_ring_area - header of a channel's area, at offset 0
 * @magic: IREG_RING_MAGIC; stored last, with release, by ireg_ring_init()
 * @version: IREG_RING_VERSION of the layout
 * @hdr_size: sizeof(struct ireg_ring_area)
 * @desc_size: sizeof(struct ireg_ring_desc)
 * @capacity: slots per ring, a power of two, 1 to IREG_RING_MAX_CAPACITY
 * @flags: 0
 * @area_size: bytes of the whole area, ireg_ring_area_size(@capacity)
 * @ring_offset: offset of each ring's struct ireg_ring_ctrl from the start
 *	of the area, indexed by enum ireg_ring_id; its slots follow it
 * @reserved: 0
 *
 * Written once by ireg_ring_init(), read once by each ireg_ring_attach().
 */
struct ireg_ring_area {
	uint32_t magic;
	uint32_t version;
	uint32_t hdr_size;
	uint32_t desc_size;
	uint32_t capacity;
	uint32_t flags;
	uint64_t area_size;
	uint64_t ring_offset[IREG_RING_NR];
	uint8_t reserved[IREG_RING_SPACING - 48];
};

/**
 * struct ireg_ring_ctrl - a ring's control block, in the area
 * @prod: next index the producer fills.  Written by the producer only
 *	([publish]); read by the consumer ([observe]).  Alone in its line.
 * @cons: next index the consumer reads.  Written by the consumer only
 *	([publish]); read by the producer ([observe]).  Alone in its line.
 * @cons_wants_signal: 1 when the consumer sleeps, or is about to, until
 *	the producer writes its eventfd.  Set and cancelled by the consumer,
 *	cleared by the producer that signals.
 * @prod_wants_signal: the same for a producer waiting for space; set and
 *	cancelled by the producer, cleared by the consumer that signals.
 * @pad_prod: keeps @cons IREG_RING_SPACING bytes away from @prod
 * @pad_cons: the same for the signal flags
 * @pad_signal: the same for the slots
 *
 * The signal flags have a line of their own: the producer reads
 * cons_wants_signal after every batch, and it must not share the line the
 * consumer writes for every batch.  The flags are written only around a
 * sleep.  The slots, capacity of them, follow the block.
 */
struct ireg_ring_ctrl {
	uint32_t prod;
	uint8_t pad_prod[IREG_RING_SPACING - 4];
	uint32_t cons;
	uint8_t pad_cons[IREG_RING_SPACING - 4];
	uint32_t cons_wants_signal;
	uint32_t prod_wants_signal;
	uint8_t pad_signal[IREG_RING_SPACING - 8];
} __attribute__((aligned(IREG_RING_LINE)));

/**
 * struct ireg_ring_prod - private handle of a ring's producer
 * @ctrl: the ring's control block, in the area
 * @slots: the ring's slots, in the area
 * @mask: capacity - 1, fixed at attach, never re-read from the area
 * @prod: the producer's index; ctrl->prod is the copy published to the
 *	consumer ([own])
 * @cons_cache: ctrl->cons when last observed ([cache])
 */
struct ireg_ring_prod {
	struct ireg_ring_ctrl *ctrl;
	struct ireg_ring_desc *slots;
	uint32_t mask;
	uint32_t prod;
	uint32_t cons_cache;
} __attribute__((aligned(IREG_RING_LINE)));

/**
 * struct ireg_ring_cons - private handle of a ring's consumer
 * @ctrl: the ring's control block, in the area
 * @slots: the ring's slots, in the area
 * @mask: capacity - 1, fixed at attach, never re-read from the area
 * @cons: the consumer's index; ctrl->cons is the published copy ([own])
 * @prod_cache: ctrl->prod when last observed, or older ([cache]): may
 *	be behind @cons
 */
struct ireg_ring_cons {
	struct ireg_ring_ctrl *ctrl;
	struct ireg_ring_desc *slots;
	uint32_t mask;
	uint32_t cons;
	uint32_t prod_cache;
} __attribute__((aligned(IREG_RING_LINE)));

/**
 * struct ireg_ring_chan - one endpoint's handle on a channel
 * @prod: the ring this endpoint enqueues on: active for the producer
 *	endpoint, free for the consumer endpoint
 * @cons: the ring this endpoint dequeues from: free for the producer,
 *	active for the consumer
 * @role: enum ireg_ring_role
 * @map: the mapping ireg_ring_memfd_attach() made, NULL otherwise
 * @map_size: its length
 *
 * Cache-line aligned so that two handles never share a line: declare it
 * (or a struct holding it) as a variable, or allocate it with
 * aligned_alloc(); plain malloc() does not honour the alignment.
 */
struct ireg_ring_chan {
	struct ireg_ring_prod prod;
	struct ireg_ring_cons cons;
	unsigned int role;
	void *map;
	size_t map_size;
} __attribute__((aligned(IREG_RING_LINE)));

/**
 * struct ireg_ring_params - what ireg_ring_init() builds
 * @size: sizeof(struct ireg_ring_params), set by the caller: a library
 *	that knows a longer struct treats what an older caller's lacks as
 *	0; one that knows a shorter struct refuses a longer caller's with
 *	-E2BIG unless the bytes it does not know are 0
 * @capacity: slots per ring, a power of two, 1 to IREG_RING_MAX_CAPACITY
 * @flags: 0
 * @initial_index: the value all four indices start at, so that tests
 *	reach the u32 wraparound without 2^32 operations; 0 otherwise
 *
 * A NULL params is capacity IREG_RING_DEFAULT_CAPACITY, the rest 0.
 */
struct ireg_ring_params {
	size_t size;
	uint32_t capacity;
	uint32_t flags;
	uint32_t initial_index;
};

/* Area: create, attach, detach (src/ring.c). */
size_t ireg_ring_area_size(uint32_t capacity);
int ireg_ring_init(void *mem, size_t size,
		   const struct ireg_ring_params *params);
int ireg_ring_attach(struct ireg_ring_chan *chan, void *mem, size_t size,
		     unsigned int role);
void ireg_ring_detach(struct ireg_ring_chan *chan);
int ireg_ring_memfd_create(const char *name,
			   const struct ireg_ring_params *params);
int ireg_ring_memfd_attach(struct ireg_ring_chan *chan, int fd,
			   unsigned int role);

/* Sleeping and waking through an eventfd (src/ring.c). */
int ireg_ring_wait(int efd);
int ireg_ring_notify(int efd);
int ireg_ring_wait_avail(struct ireg_ring_cons *cons, int efd);
int ireg_ring_wait_space(struct ireg_ring_prod *prod, int efd);

/*
 * One round of a busy-wait loop over a ring (or anything else polled):
 * tell the CPU we are spinning, as DPDK's rte_pause().  x86: PAUSE
 * (saves power, spares the sibling hyperthread and the memory-order
 * machine on loop exit).  arm64: YIELD, as Linux's own cpu_relax(): a
 * hint to an SMT sibling (ISB, which some libraries use for a longer
 * delay, stalls the pipeline and is not a hint).  Any other CPU: a
 * compiler barrier, so that the loop still reloads what it polls.
 */
static inline void ireg_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* Free slots when the producer is at @prod and the consumer at @cons. */
static inline uint32_t __ireg_ring_space(uint32_t mask, uint32_t prod,
					 uint32_t cons)
{
	uint32_t used = prod - cons;

	/* used > capacity only if the peer corrupted its index: "full". */
	return used > mask ? 0 : mask + 1 - used;
}

#if defined(__GNUC__) || defined(__clang__)
#define __ireg_ring_likely(x)	__builtin_expect(!!(x), 1)
#define __ireg_ring_unlikely(x)	__builtin_expect(!!(x), 0)
#else
#define __ireg_ring_likely(x)	(x)
#define __ireg_ring_unlikely(x)	(x)
#endif

/*
 * The fast paths below load every handle field they need into locals
 * first: the release store at the end is a compiler barrier, and a slot
 * store may alias a u32 of the handle as far as the compiler knows, so a
 * field read after either would be read again from memory.  Slots are
 * copied as whole 16-byte descriptors, a batch in at most two runs of
 * consecutive slots (before and after the end of the array) with no mask
 * per descriptor.
 */

/*
 * Copy @n descriptors, four at a time while there are four.  Pointers,
 * not a u32 index: no index to widen and scale per descriptor.
 */
static inline void __ireg_ring_copy(struct ireg_ring_desc *dst,
				    const struct ireg_ring_desc *src,
				    size_t n)
{
	const struct ireg_ring_desc *end = src + n;

	for (; end - src >= 4; src += 4, dst += 4) {
		dst[0] = src[0];
		dst[1] = src[1];
		dst[2] = src[2];
		dst[3] = src[3];
	}
	for (; src < end; src++, dst++)
		*dst = *src;
}

/* A ring's control block: its slots follow it in the area. */
static inline struct ireg_ring_ctrl *
__ireg_ring_ctrl(const struct ireg_ring_desc *slots)
{
	/* Through uintptr_t: const and alignment are the area's, not slots'. */
	return (struct ireg_ring_ctrl *)(uintptr_t)slots - 1;
}

/*
 * Enqueue one descriptor.  0, or -EAGAIN when the ring is full.  No
 * system call, no allocation, no fence on x86.
 */
static inline int ireg_ring_enqueue(struct ireg_ring_prod *p,
				    const struct ireg_ring_desc *desc)
{
	struct ireg_ring_desc *slots = p->slots;
	struct ireg_ring_ctrl *ctrl = __ireg_ring_ctrl(slots);
	uint32_t mask = p->mask, prod = p->prod;

	if (__ireg_ring_unlikely(prod - p->cons_cache > mask)) {
		/* [cache] looks full: [observe] the consumer's index. */
		p->cons_cache = __atomic_load_n(&ctrl->cons, __ATOMIC_ACQUIRE);
		if (prod - p->cons_cache > mask)
			return -EAGAIN;
	}
	slots[prod & mask] = *desc;
	p->prod = prod + 1;
	/* [publish] the slot store above happens before this. */
	__atomic_store_n(&ctrl->prod, prod + 1, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Enqueue up to @n descriptors, as many as there is room for, in order;
 * the index is published once.  Returns how many were enqueued.
 */
static inline unsigned int
ireg_ring_enqueue_batch(struct ireg_ring_prod *p,
			const struct ireg_ring_desc *descs, unsigned int n)
{
	struct ireg_ring_desc *slots = p->slots;
	struct ireg_ring_ctrl *ctrl = __ireg_ring_ctrl(slots);
	uint32_t mask = p->mask, prod = p->prod, idx, first;
	uint32_t space = __ireg_ring_space(mask, prod, p->cons_cache);

	if (__ireg_ring_unlikely(space < n)) {
		/* [cache] too short for the batch: [observe]. */
		p->cons_cache = __atomic_load_n(&ctrl->cons, __ATOMIC_ACQUIRE);
		space = __ireg_ring_space(mask, prod, p->cons_cache);
		if (space < n)
			n = space;
		if (!n)
			return 0;
	}
	idx = prod & mask;
	first = mask + 1 - idx;
	if (__ireg_ring_likely(n <= first)) {
		__ireg_ring_copy(slots + idx, descs, n);
	} else {
		__ireg_ring_copy(slots + idx, descs, first);
		__ireg_ring_copy(slots, descs + first, n - first);
	}
	p->prod = prod + n;
	/* [publish] all n slot stores happen before this. */
	__atomic_store_n(&ctrl->prod, prod + n, __ATOMIC_RELEASE);
	return n;
}

/*
 * Dequeue one descriptor into @desc.  0, or -EAGAIN when the ring is
 * empty.
 */
static inline int ireg_ring_dequeue(struct ireg_ring_cons *c,
				    struct ireg_ring_desc *desc)
{
	const struct ireg_ring_desc *slots = c->slots;
	struct ireg_ring_ctrl *ctrl = __ireg_ring_ctrl(slots);
	uint32_t mask = c->mask, cons = c->cons, prod;

	/* Empty, or behind cons (see [cache]): 0 - 1 and -1 - 1 > mask. */
	if (__ireg_ring_unlikely(c->prod_cache - cons - 1 > mask)) {
		/* [cache] looks empty: [observe] the producer's index. */
		prod = __atomic_load_n(&ctrl->prod, __ATOMIC_ACQUIRE);
		/* Empty, or more than capacity (a corrupt peer): nothing. */
		if (prod - cons - 1 > mask)
			return -EAGAIN;
		/*
		 * Exactly one: the copy would be used up by this dequeue,
		 * so leave it behind rather than store it ([cache]).
		 */
		if (prod - cons != 1)
			c->prod_cache = prod;
	}
	*desc = slots[cons & mask];
	c->cons = cons + 1;
	/* [publish] the slot load above is done before the slot is free. */
	__atomic_store_n(&ctrl->cons, cons + 1, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Dequeue up to @n descriptors into @descs, in order; the index is
 * published once.  Returns how many were dequeued, 0 when empty.
 */
static inline unsigned int
ireg_ring_dequeue_batch(struct ireg_ring_cons *c,
			struct ireg_ring_desc *descs, unsigned int n)
{
	const struct ireg_ring_desc *slots = c->slots;
	struct ireg_ring_ctrl *ctrl = __ireg_ring_ctrl(slots);
	uint32_t mask = c->mask, cons = c->cons, idx, first, prod;
	uint32_t avail = c->prod_cache - cons;

	/* avail > capacity: the copy is behind cons ([cache]). */
	if (__ireg_ring_unlikely(avail < n || avail > mask + 1)) {
		/* [cache] too short for the batch: [observe]. */
		prod = __atomic_load_n(&ctrl->prod, __ATOMIC_ACQUIRE);
		avail = prod - cons;
		/*
		 * More than capacity: a corrupt producer index.  Nothing,
		 * and the cache keeps its last value; a copy below takes
		 * at most prod - cons <= capacity (slow path) or, on the
		 * fast path, n <= prod_cache - cons <= capacity.
		 */
		if (avail > mask + 1)
			return 0;
		c->prod_cache = prod;
		if (avail < n)
			n = avail;
		if (!n)
			return 0;
	}
	idx = cons & mask;
	first = mask + 1 - idx;
	if (__ireg_ring_likely(n <= first)) {
		__ireg_ring_copy(descs, slots + idx, n);
	} else {
		__ireg_ring_copy(descs, slots + idx, first);
		__ireg_ring_copy(descs + first, slots, n - first);
	}
	c->cons = cons + n;
	/* [publish] all n slot loads are done before the slots are free. */
	__atomic_store_n(&ctrl->cons, cons + n, __ATOMIC_RELEASE);
	return n;
}

/*
 * Descriptors ready to dequeue, 0 to capacity; always [observe]s.  0
 * also when the producer's index is more than capacity ahead (corrupt):
 * the dequeues find nothing either.
 */
static inline unsigned int ireg_ring_avail(struct ireg_ring_cons *c)
{
	uint32_t prod = __atomic_load_n(&c->ctrl->prod, __ATOMIC_ACQUIRE);
	uint32_t avail = prod - c->cons;

	if (avail > c->mask + 1)
		return 0;
	c->prod_cache = prod;
	return avail;
}

/* Free slots, 0 to capacity; always [observe]s. */
static inline unsigned int ireg_ring_space(struct ireg_ring_prod *p)
{
	p->cons_cache = __atomic_load_n(&p->ctrl->cons, __ATOMIC_ACQUIRE);
	return __ireg_ring_space(p->mask, p->prod, p->cons_cache);
}

/*
 * The wakeup protocol's three moves on a wants_signal flag, the same for
 * both ends (the steps are those of the consumer; the producer waiting
 * for space is the mirror).  Internal: the ireg_ring_* calls below are
 * the API.
 */

/* C1-C3: ask for a signal, then load the other end's index. */
static inline uint32_t __ireg_ring_ask_signal(uint32_t *flag,
					      const uint32_t *index)
{
	__atomic_store_n(flag, 1, __ATOMIC_RELAXED);
	/*
	 * C2: the flag store must be visible before the index load below
	 * reads.  Store->load order needs a full fence, also on x86.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* C3, [observe]. */
	return __atomic_load_n(index, __ATOMIC_ACQUIRE);
}

/* Withdraw a request made by __ireg_ring_ask_signal(). */
static inline void __ireg_ring_cancel_signal(uint32_t *flag)
{
	/* Relaxed: a late cancel only costs the other end one spare write. */
	if (__atomic_load_n(flag, __ATOMIC_RELAXED))
		__atomic_store_n(flag, 0, __ATOMIC_RELAXED);
}

/* P2-P3, after our index store: was a signal asked for?  Consumes it. */
static inline bool __ireg_ring_take_signal(uint32_t *flag)
{
	/* P2: our index store must be visible before the flag load reads. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* Load first: the common answer, no, leaves the line shared. */
	if (!__atomic_load_n(flag, __ATOMIC_RELAXED))
		return false;
	/* 0 here: the other end cancelled in between, it is awake. */
	return __atomic_exchange_n(flag, 0, __ATOMIC_RELAXED);
}

/* Withdraw a request made by ireg_ring_cons_prepare_wait(). */
static inline void ireg_ring_cons_cancel_wait(struct ireg_ring_cons *c)
{
	__ireg_ring_cancel_signal(&c->ctrl->cons_wants_signal);
}

/*
 * Consumer found the ring empty and wants to sleep (steps C1-C3).  Asks
 * the producer for a signal and looks again.  True: still empty, the
 * request stands, block in ireg_ring_wait().  False: descriptors arrived
 * in the meantime, the request is withdrawn, dequeue them.
 */
static inline bool ireg_ring_cons_prepare_wait(struct ireg_ring_cons *c)
{
	uint32_t prod = __ireg_ring_ask_signal(&c->ctrl->cons_wants_signal,
					       &c->ctrl->prod);

	/* Empty, or corrupt (see ireg_ring_avail()): sleep. */
	if (prod - c->cons - 1 > c->mask)
		return true;
	c->prod_cache = prod;
	ireg_ring_cons_cancel_wait(c);
	return false;
}

/*
 * Producer, after enqueueing (steps P2-P3): true if the consumer asked
 * for a signal; the request is consumed and the caller must now
 * ireg_ring_notify() the consumer's eventfd.  Call it once per batch of
 * enqueues, after the last.
 */
static inline bool ireg_ring_prod_must_notify(struct ireg_ring_prod *p)
{
	return __ireg_ring_take_signal(&p->ctrl->cons_wants_signal);
}

/* Withdraw a request made by ireg_ring_prod_prepare_wait(). */
static inline void ireg_ring_prod_cancel_wait(struct ireg_ring_prod *p)
{
	__ireg_ring_cancel_signal(&p->ctrl->prod_wants_signal);
}

/*
 * Producer found the ring full and wants to sleep: the mirror of
 * ireg_ring_cons_prepare_wait().  True: still full, block.  False: space
 * appeared, the request is withdrawn.
 */
static inline bool ireg_ring_prod_prepare_wait(struct ireg_ring_prod *p)
{
	p->cons_cache = __ireg_ring_ask_signal(&p->ctrl->prod_wants_signal,
					       &p->ctrl->cons);
	if (__ireg_ring_space(p->mask, p->prod, p->cons_cache)) {
		ireg_ring_prod_cancel_wait(p);
		return false;
	}
	return true;
}

/*
 * Consumer, after dequeueing: true if the producer waits for space; the
 * request is consumed and the caller must ireg_ring_notify() the
 * producer's eventfd.  The mirror of ireg_ring_prod_must_notify().
 */
static inline bool ireg_ring_cons_must_notify(struct ireg_ring_cons *c)
{
	return __ireg_ring_take_signal(&c->ctrl->prod_wants_signal);
}

#ifdef __cplusplus
}
#endif

#endif /* LIBIOMMUREG_RING_H */
