// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Rings, the slow parts: the area's layout, init, attach (which trusts
 * nothing in the area it did not check), the memfd helpers, and sleeping
 * and waking through an eventfd.  Enqueue and dequeue, the memory-ordering
 * rules and the argument that no wakeup is lost are in
 * include/iommureg/ring.h.
 *
 * Layout of an area for capacity cap, offsets in bytes; S is the slots of
 * one ring, cap * 16 rounded up to IREG_RING_SPACING:
 *
 *	0		struct ireg_ring_area		(128)
 *	128		active ring: struct ireg_ring_ctrl	(384)
 *	512		active ring: slots		(S)
 *	512 + S		free ring: struct ireg_ring_ctrl
 *	896 + S		free ring: slots
 *	896 + 2S	end: ireg_ring_area_size(cap)
 *
 * Every offset is a multiple of IREG_RING_SPACING, so the area keeps
 * fields written by different sides apart when it starts on a 128-byte
 * boundary (mmap() gives a page).  attach only needs IREG_RING_LINE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "iommureg/ring.h"
#include "internal.h"

_Static_assert(sizeof(struct ireg_ring_desc) == 16, "descriptor is 16 bytes");
_Static_assert(sizeof(struct ireg_ring_area) == IREG_RING_SPACING,
	       "header is one spacing");
_Static_assert(offsetof(struct ireg_ring_ctrl, cons) == IREG_RING_SPACING &&
	       offsetof(struct ireg_ring_ctrl, cons_wants_signal) ==
	       2 * IREG_RING_SPACING &&
	       sizeof(struct ireg_ring_ctrl) == 3 * IREG_RING_SPACING,
	       "prod, cons and the signal flags each have their own lines");

static bool capacity_valid(uint32_t capacity)
{
	return capacity && capacity <= IREG_RING_MAX_CAPACITY &&
	       !(capacity & (capacity - 1));
}

/* One ring: control block and slots. */
static uint64_t ring_bytes(uint32_t capacity)
{
	uint64_t slots = (uint64_t)capacity * sizeof(struct ireg_ring_desc);

	slots = (slots + IREG_RING_SPACING - 1) &
		~(uint64_t)(IREG_RING_SPACING - 1);
	return sizeof(struct ireg_ring_ctrl) + slots;
}

static uint64_t ring_offset(uint32_t capacity, enum ireg_ring_id id)
{
	return sizeof(struct ireg_ring_area) + id * ring_bytes(capacity);
}

size_t ireg_ring_area_size(uint32_t capacity)
{
	uint64_t size;

	if (!capacity_valid(capacity))
		return 0;
	size = ring_offset(capacity, IREG_RING_NR);
	/* 32-bit: a large capacity does not fit the address space. */
	if (size > SIZE_MAX)
		return 0;
	return size;
}

/*
 * The caller's params, any size of struct (internal.h's size rule), into
 * @out; NULL is the defaults.  0 or -errno.
 */
static int params_get(struct ireg_ring_params *out,
		      const struct ireg_ring_params *params)
{
	int ret = __ireg_opts_in(out, sizeof(*out), params, "ring params");

	if (ret)
		return ret;
	/* Ours now: passed on (memfd_create to init) as our own size. */
	out->size = sizeof(*out);
	if (!params)
		out->capacity = IREG_RING_DEFAULT_CAPACITY;
	if (out->flags)
		return __ireg_failf(EINVAL, "ring: unknown flags %#x", out->flags);
	if (!capacity_valid(out->capacity))
		return __ireg_failf(EINVAL, "ring: capacity %u invalid",
				    out->capacity);
	return 0;
}

int ireg_ring_init(void *mem, size_t size,
		   const struct ireg_ring_params *user)
{
	struct ireg_ring_area *area = mem;
	struct ireg_ring_params p, *params = &p;
	unsigned int id;
	size_t need;
	int ret;

	if (!mem || ((uintptr_t)mem & (IREG_RING_LINE - 1)))
		return __ireg_failf(EINVAL, "ring: area %p not %d-byte aligned",
				    mem, IREG_RING_LINE);
	ret = params_get(&p, user);
	if (ret)
		return ret;
	need = ireg_ring_area_size(params->capacity);
	if (!need)
		return __ireg_failf(EINVAL, "ring: capacity %u invalid",
				    params->capacity);
	if (size < need)
		return __ireg_failf(ENOSPC, "ring: area of %zu bytes, needs %zu",
				    size, need);

	/* Clears an old magic first: nobody attaches a half-built area. */
	memset(mem, 0, need);
	area->version = IREG_RING_VERSION;
	area->hdr_size = sizeof(*area);
	area->desc_size = sizeof(struct ireg_ring_desc);
	area->capacity = params->capacity;
	area->area_size = need;
	for (id = 0; id < IREG_RING_NR; id++) {
		struct ireg_ring_ctrl *ctrl;

		area->ring_offset[id] = ring_offset(params->capacity, id);
		ctrl = (struct ireg_ring_ctrl *)((char *)mem +
						 area->ring_offset[id]);
		ctrl->prod = params->initial_index;
		ctrl->cons = params->initial_index;
	}
	/*
	 * Release: an attach in this process that reads the magic with
	 * acquire sees everything above.  Another process gets the area
	 * through fork() or a unix socket, which order it anyway.
	 */
	__atomic_store_n(&area->magic, IREG_RING_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Checks a snapshot of the header, so that a peer changing it meanwhile
 * cannot make us validate one value and use another.
 */
static int area_check(const struct ireg_ring_area *hdr)
{
	unsigned int i;

	if (hdr->magic != IREG_RING_MAGIC)
		return -EBADMSG;
	if (hdr->version != IREG_RING_VERSION)
		return -EPROTO;
	if (hdr->hdr_size != sizeof(*hdr) ||
	    hdr->desc_size != sizeof(struct ireg_ring_desc) || hdr->flags ||
	    !capacity_valid(hdr->capacity) ||
	    hdr->area_size != ireg_ring_area_size(hdr->capacity))
		return -EUCLEAN;
	for (i = 0; i < IREG_RING_NR; i++)
		if (hdr->ring_offset[i] != ring_offset(hdr->capacity, i))
			return -EUCLEAN;
	for (i = 0; i < sizeof(hdr->reserved); i++)
		if (hdr->reserved[i])
			return -EUCLEAN;
	return 0;
}

static struct ireg_ring_ctrl *area_ring(void *mem,
					const struct ireg_ring_area *hdr,
					enum ireg_ring_id id)
{
	return (struct ireg_ring_ctrl *)((char *)mem + hdr->ring_offset[id]);
}

/*
 * Own index [own]: relaxed, nobody else writes it.  Peer's index
 * [observe]: acquire.  The peer moves only its own index and never past
 * ours, so prod - cons stays within capacity however the two loads
 * interleave with it; anything else is a corrupt area.
 */
static int attach_prod(struct ireg_ring_prod *p, struct ireg_ring_ctrl *ctrl,
		       uint32_t capacity)
{
	p->ctrl = ctrl;
	p->slots = (struct ireg_ring_desc *)(ctrl + 1);
	p->mask = capacity - 1;
	p->prod = __atomic_load_n(&ctrl->prod, __ATOMIC_RELAXED);
	p->cons_cache = __atomic_load_n(&ctrl->cons, __ATOMIC_ACQUIRE);
	return p->prod - p->cons_cache > capacity ? -EUCLEAN : 0;
}

static int attach_cons(struct ireg_ring_cons *c, struct ireg_ring_ctrl *ctrl,
		       uint32_t capacity)
{
	c->ctrl = ctrl;
	c->slots = (struct ireg_ring_desc *)(ctrl + 1);
	c->mask = capacity - 1;
	c->cons = __atomic_load_n(&ctrl->cons, __ATOMIC_RELAXED);
	c->prod_cache = __atomic_load_n(&ctrl->prod, __ATOMIC_ACQUIRE);
	return c->prod_cache - c->cons > capacity ? -EUCLEAN : 0;
}

int ireg_ring_attach(struct ireg_ring_chan *chan, void *mem, size_t size,
		     unsigned int role)
{
	struct ireg_ring_area hdr;
	enum ireg_ring_id out, in;
	int ret;

	if (!chan || !mem || ((uintptr_t)mem & (IREG_RING_LINE - 1)) ||
	    (role != IREG_RING_PRODUCER && role != IREG_RING_CONSUMER))
		return __ireg_failf(EINVAL,
				    "ring attach: no channel, area %p not aligned, or role %u",
				    mem, role);
	if (size < sizeof(hdr))
		return __ireg_failf(ENOSPC, "ring attach: %zu bytes: no ring area",
				    size);
	/* Pairs with the release in ireg_ring_init(). */
	hdr.magic = __atomic_load_n(&((struct ireg_ring_area *)mem)->magic,
				    __ATOMIC_ACQUIRE);
	memcpy((char *)&hdr + sizeof(hdr.magic),
	       (char *)mem + sizeof(hdr.magic), sizeof(hdr) - sizeof(hdr.magic));
	ret = area_check(&hdr);
	if (ret)
		return __ireg_failf(-ret, "ring attach: %s",
				    ret == -EBADMSG ? "no ring magic" :
				    ret == -EPROTO ? "another ring version" :
				    "corrupt ring header");
	if (size < hdr.area_size)
		return __ireg_failf(ENOSPC,
				    "ring attach: %zu bytes, the ring needs %llu",
				    size, (unsigned long long)hdr.area_size);

	out = role == IREG_RING_PRODUCER ? IREG_RING_ACTIVE : IREG_RING_FREE;
	in = role == IREG_RING_PRODUCER ? IREG_RING_FREE : IREG_RING_ACTIVE;
	memset(chan, 0, sizeof(*chan));
	ret = attach_prod(&chan->prod, area_ring(mem, &hdr, out), hdr.capacity);
	if (!ret)
		ret = attach_cons(&chan->cons, area_ring(mem, &hdr, in),
				  hdr.capacity);
	if (ret) {
		memset(chan, 0, sizeof(*chan));
		return __ireg_failf(-ret, "ring attach: corrupt ring indexes");
	}
	chan->role = role;
	return 0;
}

void ireg_ring_detach(struct ireg_ring_chan *chan)
{
	if (!chan)
		return;
	if (chan->map)
		munmap(chan->map, chan->map_size);
	memset(chan, 0, sizeof(*chan));
}

int ireg_ring_memfd_create(const char *name,
			   const struct ireg_ring_params *user)
{
	struct ireg_ring_params params;
	size_t size;
	void *mem;
	int fd, ret;

	ret = params_get(&params, user);
	if (ret)
		return ret;
	size = ireg_ring_area_size(params.capacity);
	if (!size || (uint64_t)size > (uint64_t)INT64_MAX)
		return __ireg_failf(EINVAL, "ring memfd: capacity %u invalid",
				    params.capacity);
	fd = memfd_create(name ? name : "iommureg-ring",
			  MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return __ireg_failf(errno, "ring memfd: memfd_create: %s",
				    strerror(errno));
	if (ftruncate(fd, (off_t)size)) {
		ret = __ireg_failf(errno, "ring memfd: ftruncate: %s",
				   strerror(errno));
		goto err_close;
	}
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		ret = __ireg_failf(errno, "ring memfd: mmap: %s",
				   strerror(errno));
		goto err_close;
	}
	ret = ireg_ring_init(mem, size, &params);
	munmap(mem, size);
	if (ret)
		goto err_close;
	/*
	 * A peer that shrank the file would make our next access to the
	 * area a SIGBUS; growing it is harmless but pointless.  Sealed for
	 * good: nobody can lift the seals.
	 */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) {
		ret = __ireg_failf(errno, "ring memfd: sealing: %s",
				   strerror(errno));
		goto err_close;
	}
	return fd;

err_close:
	close(fd);
	return ret;
}

int ireg_ring_memfd_attach(struct ireg_ring_chan *chan, int fd,
			   unsigned int role)
{
	struct stat st;
	size_t size;
	void *mem;
	int seals, ret;

	if (!chan || (role != IREG_RING_PRODUCER && role != IREG_RING_CONSUMER))
		return __ireg_failf(EINVAL,
				    "ring memfd attach: no channel or role %u",
				    role);
	if (fstat(fd, &st))
		return __ireg_failf(errno, "ring memfd attach: fd %d: %s", fd,
				    strerror(errno));
	/* Refuse an area the sender could still truncate under us. */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 && errno != EINVAL)
		return __ireg_failf(errno, "ring memfd attach: seals: %s",
				    strerror(errno));
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return __ireg_failf(EPERM,
				    "ring memfd attach: fd %d not sealed against shrinking",
				    fd);
	if (st.st_size < (off_t)sizeof(struct ireg_ring_area))
		return __ireg_failf(ENOSPC,
				    "ring memfd attach: %lld bytes: no ring area",
				    (long long)st.st_size);
	if ((uint64_t)st.st_size > SIZE_MAX)
		return __ireg_failf(EFBIG, "ring memfd attach: too large");
	size = st.st_size;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		return __ireg_failf(errno, "ring memfd attach: mmap: %s",
				    strerror(errno));
	ret = ireg_ring_attach(chan, mem, size, role);
	if (ret) {
		munmap(mem, size);
		return ret;
	}
	chan->map = mem;
	chan->map_size = size;
	return 0;
}

int ireg_ring_wait(int efd)
{
	uint64_t count;
	ssize_t n;

	n = read(efd, &count, sizeof(count));
	if (n == sizeof(count))
		return 0;
	return __ireg_failf(n < 0 ? errno : EIO, "ring wait: eventfd %d: %s",
			    efd, n < 0 ? strerror(errno) : "short read");
}

int ireg_ring_notify(int efd)
{
	uint64_t one = 1;
	ssize_t n;

	n = write(efd, &one, sizeof(one));
	if (n == sizeof(one))
		return 0;
	/*
	 * EAGAIN: a non-blocking eventfd whose counter is saturated.  The
	 * counter is not zero, so the sleeper wakes anyway.
	 */
	if (n < 0 && errno == EAGAIN)
		return 0;
	return __ireg_failf(n < 0 ? errno : EIO, "ring notify: eventfd %d: %s",
			    efd, n < 0 ? strerror(errno) : "short write");
}

/*
 * Sleep on @efd until the consumer @c has descriptors (@p NULL) or the
 * producer @p has space (@c NULL): C1-C4 of the wakeup protocol in
 * <iommureg/ring.h>, for either end.  A spurious wakeup, or a failed
 * wait, may leave our request standing: withdraw it before returning.
 */
static int wait_ready(struct ireg_ring_cons *c, struct ireg_ring_prod *p,
		      int efd)
{
	bool slept = false;
	int ret;

	for (;;) {
		ret = c ? ireg_ring_avail(c) : ireg_ring_space(p);
		if (ret)
			break;
		if (!(c ? ireg_ring_cons_prepare_wait(c) :
			  ireg_ring_prod_prepare_wait(p)))
			continue;
		slept = true;
		ret = ireg_ring_wait(efd);
		if (ret)
			break;
	}
	if (slept && c)
		ireg_ring_cons_cancel_wait(c);
	else if (slept)
		ireg_ring_prod_cancel_wait(p);
	return ret;
}

int ireg_ring_wait_avail(struct ireg_ring_cons *c, int efd)
{
	return wait_ready(c, NULL, efd);
}

int ireg_ring_wait_space(struct ireg_ring_prod *p, int efd)
{
	return wait_ready(NULL, p, efd);
}
