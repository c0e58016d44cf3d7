// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU_REG_PREREG, _MAP, _UNMAP, _UNREG and _REGISTER as the uapi header
 * documents them: the length contract of every IOMMU_REG_* ioctl (one
 * table), every bad input of each ioctl, then the semantics
 * (register-once, references, busy regions, counters, locked-memory
 * accounting, memory types, huge IOMMU pages).  The type1 ABI of the
 * container is type1_compat_test's.
 *
 * Every failing call is followed by a look at the container's counters:
 * the errno contract says a failing ioctl changes nothing.
 */
#include "edu.h"
#include "kselftest_harness.h"

#define PAGE_SIZE	ST_PAGE_SIZE
#define FIXED_IOVA	0x40000000ULL	/* 1 GiB: usable, 1 GiB aligned */
#define BUF_SIZE	ST_SZ_2M

EDU_BUF_FIXTURE(reg, BUF_SIZE)

/* --- The length contract, every IOMMU_REG_* ioctl ------------------------ */

/*
 * Every command's argument starts with argsz, the length the caller
 * passes; the kernel reads it with copy_struct_from_user(), as iommufd
 * does.  Below the first published struct (up to its last field then):
 * EINVAL.  Above a page, or longer than this module's struct with a
 * non-zero byte in the tail: E2BIG.  Longer with a zero tail, exactly
 * this module's struct, or exactly the first published one: the call as
 * usual, and no byte past argsz written.  A failing call changes nothing.
 *
 * One case per command: a variant knows the command's sizes, how to make
 * a well-formed call of it, and what that call answers in the VM.
 */
FIXTURE(cmd_length) {
	int container;
	struct edu_dev edu;
	struct st_buf buf;
	uint32_t domain, rid;	/* the edu device's PCI address */
	unsigned int nth;	/* well-formed calls made so far */
	bool region;		/* the region of unreg's call is there */
	bool mapped;		/* the mapping of unmap's call is there */
	uint32_t handle;	/* of prereg's and register's first call */
	uint64_t iova;		/* of register's first call */
	struct iommu_reg_sva_device rec;
};

#define CMD_LENGTH_DATA	FIXTURE_DATA(cmd_length)

FIXTURE_VARIANT(cmd_length) {
	unsigned long cmd;
	uint32_t min_size;	/* the first published struct */
	uint32_t size;		/* this module's struct */
	/*
	 * Make a well-formed call at @cmd (zeroes but argsz are one for
	 * some commands: NULL), and what it needs to succeed.
	 */
	void (*prepare)(struct __test_metadata *_metadata,
			CMD_LENGTH_DATA *self, void *cmd);
	/* What the call answers: 0, or the errno the VM's hardware gets. */
	int answer;
	/* The command writes its struct back (all but unreg, sva_unbind). */
	bool output;
	/* The output of a call that succeeded; undo what must be undone. */
	void (*check)(struct __test_metadata *_metadata,
		      CMD_LENGTH_DATA *self, void *cmd);
};

static void info_check(struct __test_metadata *_metadata,
		       CMD_LENGTH_DATA *self, void *cmd)
{
	struct iommu_reg_info *info = cmd;

	EXPECT_EQ(1, info->num_groups);
	EXPECT_TRUE(info->pgsize_bitmap & PAGE_SIZE);
}

static void prereg_prepare(struct __test_metadata *_metadata,
			   CMD_LENGTH_DATA *self, void *cmd)
{
	struct iommu_reg_prereg *p = cmd;

	p->vaddr = (uintptr_t)self->buf.addr;
	p->size = PAGE_SIZE;
}

/* Registered once; every call takes a reference. */
static void prereg_check(struct __test_metadata *_metadata,
			 CMD_LENGTH_DATA *self, void *cmd)
{
	struct iommu_reg_prereg *p = cmd;

	if (!self->nth)
		self->handle = p->handle;
	EXPECT_EQ(self->handle, p->handle);
	EXPECT_EQ(self->nth + 1, p->refs);
	test_counts(1, 0, 1);
}

/* The region all map calls map from, made by the first prepare. */
static void map_region(struct __test_metadata *_metadata,
		       CMD_LENGTH_DATA *self)
{
	if (!self->region)
		test_prereg(self->buf.addr, 4 * PAGE_SIZE, 0, &self->handle,
			    NULL);
	self->region = true;
}

static void map_prepare(struct __test_metadata *_metadata,
			CMD_LENGTH_DATA *self, void *cmd)
{
	struct iommu_reg_map *m = cmd;

	map_region(_metadata, self);
	m->handle = self->handle;
	m->prot = ST_PROT_RW;
	m->offset = self->nth * PAGE_SIZE;
	m->length = PAGE_SIZE;
}

static void map_check(struct __test_metadata *_metadata,
		      CMD_LENGTH_DATA *self, void *cmd)
{
	struct iommu_reg_map *m = cmd;

	EXPECT_EQ(0, m->iova % PAGE_SIZE);
	test_counts(1, self->nth + 1, 4);
}

static void unmap_prepare(struct __test_metadata *_metadata,
			  CMD_LENGTH_DATA *self, void *cmd)
{
	struct iommu_reg_unmap *u = cmd;
	uint64_t iova = FIXED_IOVA;

	map_region(_metadata, self);
	if (!self->mapped)
		test_map(self->handle, 0, 2 * PAGE_SIZE, ST_PROT_RW,
			 IOMMU_REG_MAP_IOVA_FIXED, &iova);
	self->mapped = true;
	u->iova = FIXED_IOVA;
	u->length = 2 * PAGE_SIZE;
}

static void unmap_check(struct __test_metadata *_metadata,
			CMD_LENGTH_DATA *self, void *cmd)
{
	struct iommu_reg_unmap *u = cmd;

	EXPECT_EQ(2 * PAGE_SIZE, u->length);
	test_counts(1, 0, 4);
	self->mapped = false;
}

static void unreg_prepare(struct __test_metadata *_metadata,
			  CMD_LENGTH_DATA *self, void *cmd)
{
	struct iommu_reg_unreg *u = cmd;

	if (!self->region)
		test_prereg(self->buf.addr, PAGE_SIZE, 0, &self->handle, NULL);
	self->region = true;
	u->handle = self->handle;
}

/* The one reference the call had: the region is gone. */
static void unreg_check(struct __test_metadata *_metadata,
			CMD_LENGTH_DATA *self, void *cmd)
{
	test_counts(0, 0, 0);
	self->region = false;
}

static void register_prepare(struct __test_metadata *_metadata,
			     CMD_LENGTH_DATA *self, void *cmd)
{
	struct iommu_reg_register *r = cmd;

	r->vaddr = (uintptr_t)self->buf.addr;
	r->size = 2 * PAGE_SIZE;
	r->prot = ST_PROT_RW;
}

/* Registered and mapped once: every call answers the same. */
static void register_check(struct __test_metadata *_metadata,
			   CMD_LENGTH_DATA *self, void *cmd)
{
	struct iommu_reg_register *r = cmd;

	if (!self->nth) {
		self->handle = r->handle;
		self->iova = r->iova;
	}
	EXPECT_EQ(self->handle, r->handle);
	EXPECT_EQ(self->iova, r->iova);
	test_counts(1, 1, 2);
}

/* The container's one event fd: closed, the next call may have it. */
static void notify_check(struct __test_metadata *_metadata,
			 CMD_LENGTH_DATA *self, void *cmd)
{
	struct iommu_reg_notify *n = cmd;

	ASSERT_LE(0, n->fd);
	EXPECT_LT(0, n->status_size);
	EXPECT_EQ(0, close(n->fd));
}

static void sva_info_prepare(struct __test_metadata *_metadata,
			     CMD_LENGTH_DATA *self, void *cmd)
{
	struct iommu_reg_sva_info *s = cmd;

	s->num_devices = 1;
	s->entry_size = sizeof(self->rec);
	s->devices = (uintptr_t)&self->rec;
}

static void sva_info_check(struct __test_metadata *_metadata,
			   CMD_LENGTH_DATA *self, void *cmd)
{
	struct iommu_reg_sva_info *s = cmd;

	EXPECT_EQ(1, s->num_devices);
}

static void sva_bind_prepare(struct __test_metadata *_metadata,
			     CMD_LENGTH_DATA *self, void *cmd)
{
	struct iommu_reg_sva_bind *b = cmd;

	b->pci_domain = self->domain;
	b->pci_rid = self->rid;
}

static void sva_unbind_prepare(struct __test_metadata *_metadata,
			       CMD_LENGTH_DATA *self, void *cmd)
{
	struct iommu_reg_sva_unbind *u = cmd;

	u->pci_domain = self->domain;
	u->pci_rid = self->rid;
}

static void wc_bar_prepare(struct __test_metadata *_metadata,
			   CMD_LENGTH_DATA *self, void *cmd)
{
	struct iommu_reg_wc_bar *w = cmd;

	w->pci_domain = self->domain;
	w->pci_rid = self->rid;
	w->length = PAGE_SIZE;
}

static void wc_bar_check(struct __test_metadata *_metadata,
			 CMD_LENGTH_DATA *self, void *cmd)
{
	struct iommu_reg_wc_bar *w = cmd;

	ASSERT_LE(0, w->fd);
	EXPECT_EQ(EDU_BAR0_SIZE, w->bar_size);
	EXPECT_EQ(0, close(w->fd));
}

#define CMD_LENGTH(name, _cmd, type, last, _prepare, _answer, _check)	\
	FIXTURE_VARIANT_ADD(cmd_length, name) {				\
		.cmd = _cmd,						\
		.min_size = offsetofend(struct type, last),		\
		.size = sizeof(struct type),				\
		.prepare = _prepare,					\
		.answer = _answer,					\
		.check = _check,					\
		.output = _cmd != IOMMU_REG_UNREG &&			\
			  _cmd != IOMMU_REG_SVA_UNBIND,			\
	}

CMD_LENGTH(info, IOMMU_REG_INFO, iommu_reg_info, iova_ranges, NULL, 0,
	   info_check);
CMD_LENGTH(prereg, IOMMU_REG_PREREG, iommu_reg_prereg, refs,
	   prereg_prepare, 0, prereg_check);
CMD_LENGTH(map, IOMMU_REG_MAP, iommu_reg_map, iova, map_prepare, 0,
	   map_check);
CMD_LENGTH(unmap, IOMMU_REG_UNMAP, iommu_reg_unmap, length, unmap_prepare,
	   0, unmap_check);
CMD_LENGTH(unreg, IOMMU_REG_UNREG, iommu_reg_unreg, __reserved,
	   unreg_prepare, 0, unreg_check);
CMD_LENGTH(register, IOMMU_REG_REGISTER, iommu_reg_register, iova,
	   register_prepare, 0, register_check);
CMD_LENGTH(notify, IOMMU_REG_NOTIFY, iommu_reg_notify, status_size, NULL,
	   0, notify_check);
CMD_LENGTH(sva_info, IOMMU_REG_SVA_INFO, iommu_reg_sva_info, devices,
	   sva_info_prepare, 0, sva_info_check);
/* No PASID hardware in the VM: refused, after the length is accepted. */
CMD_LENGTH(sva_bind, IOMMU_REG_SVA_BIND, iommu_reg_sva_bind, __reserved,
	   sva_bind_prepare, EOPNOTSUPP, NULL);
/* Well formed, but the device is not bound. */
CMD_LENGTH(sva_unbind, IOMMU_REG_SVA_UNBIND, iommu_reg_sva_unbind, pci_rid,
	   sva_unbind_prepare, ENOENT, NULL);
CMD_LENGTH(wc_bar, IOMMU_REG_WC_BAR, iommu_reg_wc_bar, bar_size,
	   wc_bar_prepare, 0, wc_bar_check);

FIXTURE_SETUP(cmd_length)
{
	edu_fixture_setup(ST_MEM_ANON_4K, BUF_SIZE);
	ASSERT_EQ(0, st_pci_addr(self->edu.bdf, &self->domain, &self->rid));
}

FIXTURE_TEARDOWN(cmd_length)
{
	edu_fixture_teardown(&self->container, &self->edu, &self->buf);
}

#define CMD_LENGTH_CANARY	0xa5

/* The counters as @before had them: the failed call changed nothing. */
#define test_counts_unchanged(before)					\
	test_counts((before)->num_regions, (before)->num_mappings,	\
		    (before)->pinned_pages)

/*
 * A well-formed call with argsz @len, past which the buffer holds a
 * canary (zeroes up to @len when that is past this module's struct):
 * the variant's answer, no byte past argsz written, and the variant's
 * check of the output.
 */
static void cmd_length_call(struct __test_metadata *_metadata,
			    CMD_LENGTH_DATA *self,
			    const FIXTURE_VARIANT(cmd_length) *variant,
			    uint32_t len)
{
	uint64_t buf[64];
	uint8_t *bytes = (uint8_t *)buf;
	unsigned int j;
	int ret, err;

	memset(buf, 0, sizeof(buf));
	if (variant->prepare)
		variant->prepare(_metadata, self, buf);
	memcpy(buf, &len, sizeof(len));	/* argsz */
	memset(bytes + len, CMD_LENGTH_CANARY, sizeof(buf) - len);
	ret = ioctl(self->container, variant->cmd, buf);
	err = ret ? errno : 0;
	ASSERT_EQ(variant->answer ? -1 : 0, ret)
		TH_LOG("argsz %u: %s", len, strerror(err));
	EXPECT_EQ(variant->answer, err)
		TH_LOG("argsz %u: %s", len, strerror(err));
	for (j = variant->size; j < len; j++)
		EXPECT_EQ(0, bytes[j]);
	for (j = len; j < sizeof(buf); j++)
		if (bytes[j] != CMD_LENGTH_CANARY)
			break;
	EXPECT_EQ(sizeof(buf), j)
		TH_LOG("argsz %u: byte %u written", len, j);
	if (!ret && variant->check)
		variant->check(_metadata, self, buf);
	self->nth++;
}

TEST_F(cmd_length, contract)
{
	/* The refused lengths; @tail: where a non-zero byte goes, or 0. */
	const struct {
		uint32_t argsz;
		uint32_t tail;
		int err;
	} bad[] = {
		{ 0, 0, EINVAL },
		{ variant->min_size - 1, 0, EINVAL },
		{ PAGE_SIZE + 1, 0, E2BIG },
		{ variant->size + 8, variant->size, E2BIG },
		{ variant->size + 8, variant->size + 7, E2BIG },
	};
	/* The accepted ones: longer with a zero tail, ours, the first. */
	const uint32_t good[] = {
		variant->size + 8, variant->size, variant->min_size,
	};
	uint64_t buf[64];
	uint8_t *bytes = (uint8_t *)buf;
	struct iommu_reg_info before;
	unsigned int i;
	int ret, err;

	ASSERT_LE(variant->min_size, variant->size);
	ASSERT_LE(variant->size + 8, sizeof(buf));

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(buf, 0, sizeof(buf));
		if (variant->prepare)
			variant->prepare(_metadata, self, buf);
		memcpy(buf, &bad[i].argsz, sizeof(uint32_t));
		if (bad[i].tail)
			bytes[bad[i].tail] = 1;
		test_info(&before);
		ret = ioctl(self->container, variant->cmd, buf);
		err = ret ? errno : 0;
		EXPECT_EQ(-1, ret);
		EXPECT_EQ(bad[i].err, err)
			TH_LOG("argsz %u, tail byte %u: %s", bad[i].argsz,
			       bad[i].tail, strerror(err));
		test_counts_unchanged(&before);
	}
	/* The argument itself unreadable. */
	EXPECT_ERRNO(EFAULT, ioctl(self->container, variant->cmd, (void *)16));

	for (i = 0; i < ARRAY_SIZE(good); i++)
		cmd_length_call(_metadata, self, variant, good[i]);
}

/*
 * The command in memory the kernel can read but not write back to,
 * before and after a call that worked: one with output fails with EFAULT
 * and, as any failing ioctl, changes nothing (no pin, no reference, no
 * fd: the next call works as usual); one without output works.
 */
TEST_F(cmd_length, readonly_arg)
{
	uint8_t *page = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct iommu_reg_info before;
	long long pins;
	unsigned int i;
	int ret, err;

	ASSERT_NE(MAP_FAILED, page);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, mprotect(page, PAGE_SIZE, PROT_READ | PROT_WRITE));
		memset(page, 0, PAGE_SIZE);
		if (variant->prepare)
			variant->prepare(_metadata, self, page);
		memcpy(page, &variant->size, sizeof(uint32_t));
		ASSERT_EQ(0, mprotect(page, PAGE_SIZE, PROT_READ));
		test_info(&before);
		pins = st_foll_pins();
		ret = ioctl(self->container, variant->cmd, page);
		err = ret ? errno : 0;
		if (variant->output) {
			EXPECT_EQ(-1, ret);
			EXPECT_EQ(EFAULT, err) TH_LOG("%s", strerror(err));
			test_counts_unchanged(&before);
			EXPECT_EQ(pins, st_foll_pins());
		} else {
			EXPECT_EQ(variant->answer, err)
				TH_LOG("%s", strerror(err));
			if (!ret && variant->check)
				variant->check(_metadata, self, page);
			self->nth++;
		}
		cmd_length_call(_metadata, self, variant, variant->size);
	}
	munmap(page, PAGE_SIZE);
}

/* --- IOMMU_REG_PREREG --------------------------------------------------- */

TEST_F(reg, prereg_bad_flags)
{
	test_err_prereg(EINVAL, self->mem, PAGE_SIZE, 1U << 1);
	test_err_prereg(EINVAL, self->mem, PAGE_SIZE, 1U << 31);
	/* IOVA placement belongs to MAP and REGISTER, not to a region. */
	test_err_prereg(EINVAL, self->mem, PAGE_SIZE,
			IOMMU_REG_MAP_IOVA_FIXED);
	test_err_prereg(EINVAL, self->mem, PAGE_SIZE,
			IOMMU_REG_MAP_IOVA_IDENTITY);
	test_counts(0, 0, 0);
}

TEST_F(reg, prereg_bad_range)
{
	test_err_prereg(EINVAL, self->mem, 0, 0);
	test_err_prereg(EINVAL, self->mem + 1, PAGE_SIZE, 0);
	test_err_prereg(EINVAL, self->mem + PAGE_SIZE / 2, PAGE_SIZE, 0);
	test_err_prereg(EINVAL, self->mem, PAGE_SIZE + 1, 0);
	test_err_prereg(EINVAL, self->mem, PAGE_SIZE / 2, 0);
	test_err_prereg(EOVERFLOW, (void *)(uintptr_t)-PAGE_SIZE,
			2 * PAGE_SIZE, 0);
	test_err_prereg(EOVERFLOW, self->mem, (uint64_t)-PAGE_SIZE, 0);
	test_counts(0, 0, 0);
}

TEST_F(reg, prereg_unmapped)
{
	long long pins = st_foll_pins();
	uint8_t *p;

	p = mmap(NULL, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p + 2 * PAGE_SIZE, 2 * PAGE_SIZE));

	/* Wholly unmapped, then a hole after two good pages. */
	test_err_prereg(EFAULT, p + 2 * PAGE_SIZE, 2 * PAGE_SIZE, 0);
	test_err_prereg(EFAULT, p, 4 * PAGE_SIZE, 0);
	test_err_prereg(EFAULT, p, 4 * PAGE_SIZE, IOMMU_REG_REGION_READONLY);
	/* Kernel addresses are not user memory. */
	test_err_prereg(EFAULT, (void *)0xffff888000000000ULL, PAGE_SIZE, 0);
	test_err_prereg(EFAULT, NULL, PAGE_SIZE, 0);
	test_counts(0, 0, 0);
	/* The two good pages were not left pinned by the failures. */
	EXPECT_EQ(pins, st_foll_pins());
	munmap(p, 2 * PAGE_SIZE);
}

TEST_F(reg, prereg_prot_none)
{
	long long pins = st_foll_pins();
	uint8_t *p;

	p = mmap(NULL, 2 * PAGE_SIZE, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	test_err_prereg(EFAULT, p, 2 * PAGE_SIZE, 0);
	test_err_prereg(EFAULT, p, 2 * PAGE_SIZE, IOMMU_REG_REGION_READONLY);
	munmap(p, 2 * PAGE_SIZE);

	/* Populated, then made inaccessible. */
	ASSERT_EQ(0, mprotect(self->mem + PAGE_SIZE, PAGE_SIZE, PROT_NONE));
	test_err_prereg(EFAULT, self->mem, 2 * PAGE_SIZE, 0);
	test_err_prereg(EFAULT, self->mem, 2 * PAGE_SIZE,
			IOMMU_REG_REGION_READONLY);
	test_counts(0, 0, 0);
	EXPECT_EQ(pins, st_foll_pins());
}

TEST_F(reg, prereg_readonly_memory)
{
	uint32_t handle, refs;
	uint8_t *p;

	p = mmap(NULL, 2 * PAGE_SIZE, PROT_READ,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, p);

	/* Read-only memory may not back a device-writable region. */
	test_err_prereg(EFAULT, p, 2 * PAGE_SIZE, 0);
	test_counts(0, 0, 0);

	test_prereg(p, 2 * PAGE_SIZE, IOMMU_REG_REGION_READONLY, &handle,
		    &refs);
	EXPECT_EQ(1, refs);
	test_counts(1, 0, 2);

	/* Writable memory made read-only after population, likewise. */
	ASSERT_EQ(0, mprotect(self->mem, PAGE_SIZE, PROT_READ));
	test_err_prereg(EFAULT, self->mem, PAGE_SIZE, 0);
	test_prereg(self->mem, PAGE_SIZE, IOMMU_REG_REGION_READONLY, NULL,
		    NULL);
	test_counts(2, 0, 3);
	munmap(p, 2 * PAGE_SIZE);
}

/* A BAR mapping is VM_IO | VM_PFNMAP: no struct pages to pin. */
TEST_F(reg, prereg_pfnmap)
{
	test_err_prereg(EFAULT, (void *)self->edu.bar, PAGE_SIZE, 0);
	test_err_prereg(EFAULT, (void *)self->edu.bar, PAGE_SIZE,
			IOMMU_REG_REGION_READONLY);
	test_counts(0, 0, 0);
}

/* Same range and flags: same region, one more reference, no new pin. */
TEST_F(reg, prereg_once)
{
	long long pins = st_foll_pins();
	uint32_t h1, h2, h3, h4, refs;
	long long vmpin;

	test_prereg(self->mem, 4 * PAGE_SIZE, 0, &h1, &refs);
	EXPECT_EQ(1, refs);
	vmpin = st_status_bytes("VmPin");
	EXPECT_EQ(pins + 4, st_foll_pins());

	test_prereg(self->mem, 4 * PAGE_SIZE, 0, &h2, &refs);
	EXPECT_EQ(h1, h2);
	EXPECT_EQ(2, refs);
	test_counts(1, 0, 4);
	EXPECT_EQ(vmpin, st_status_bytes("VmPin"));
	EXPECT_EQ(pins + 4, st_foll_pins());

	/* Other flags, or another range: another region. */
	test_prereg(self->mem, 4 * PAGE_SIZE, IOMMU_REG_REGION_READONLY,
		    &h3, &refs);
	EXPECT_NE(h1, h3);
	EXPECT_EQ(1, refs);
	test_prereg(self->mem, 2 * PAGE_SIZE, 0, &h4, &refs);
	EXPECT_NE(h1, h4);
	EXPECT_NE(h3, h4);
	EXPECT_EQ(1, refs);
	test_counts(3, 0, 10);

	test_prereg(self->mem, 4 * PAGE_SIZE, 0, &h2, &refs);
	EXPECT_EQ(h1, h2);
	EXPECT_EQ(3, refs);
}

/* References count down; the region lives until the last one. */
TEST_F(reg, prereg_refs)
{
	uint32_t handle, refs, i;
	uint64_t iova;

	for (i = 1; i <= 3; i++) {
		test_prereg(self->mem, 2 * PAGE_SIZE, 0, &handle, &refs);
		EXPECT_EQ(i, refs);
	}
	for (i = 0; i < 2; i++) {
		test_unreg(handle, 0);
		test_counts(1, 0, 2);
		test_map(handle, 0, PAGE_SIZE, ST_PROT_RW, 0, &iova);
		test_unmap(iova, PAGE_SIZE, 0, NULL);
	}
	test_unreg(handle, 0);
	test_counts(0, 0, 0);
	test_err_map(ENOENT, handle, 0, PAGE_SIZE, ST_PROT_RW, 0, 0);
	test_err_unreg(ENOENT, handle, 0);

	/* A new registration of the range starts from one again. */
	test_prereg(self->mem, 2 * PAGE_SIZE, 0, &handle, &refs);
	EXPECT_EQ(1, refs);
}

/* --- IOMMU_REG_MAP ------------------------------------------------------ */

TEST_F(reg, map_bad_flags)
{
	uint32_t handle;

	test_prereg(self->mem, 4 * PAGE_SIZE, 0, &handle, NULL);
	test_err_map(EINVAL, handle, 0, PAGE_SIZE, ST_PROT_RW, 1U << 31, 0);
	test_err_map(EINVAL, handle, 0, PAGE_SIZE, ST_PROT_RW, 1U << 10, 0);
	test_err_map(EINVAL, handle, 0, PAGE_SIZE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_FIXED | IOMMU_REG_MAP_IOVA_IDENTITY,
		     FIXED_IOVA);
	test_counts(1, 0, 4);
}

TEST_F(reg, map_bad_prot)
{
	uint32_t handle;

	test_prereg(self->mem, 4 * PAGE_SIZE, 0, &handle, NULL);
	test_err_map(EINVAL, handle, 0, PAGE_SIZE, 0, 0, 0);
	test_err_map(EINVAL, handle, 0, PAGE_SIZE, 1U << 2, 0, 0);
	test_err_map(EINVAL, handle, 0, PAGE_SIZE,
		     ST_PROT_RW | (1U << 31), 0, 0);
	test_counts(1, 0, 4);
}

TEST_F(reg, map_bad_range)
{
	uint32_t handle;

	test_prereg(self->mem, 4 * PAGE_SIZE, 0, &handle, NULL);
	test_err_map(EINVAL, handle, 0, 0, ST_PROT_RW, 0, 0);
	test_err_map(EINVAL, handle, 1, PAGE_SIZE, ST_PROT_RW, 0, 0);
	test_err_map(EINVAL, handle, PAGE_SIZE / 2, PAGE_SIZE, ST_PROT_RW,
		     0, 0);
	test_err_map(EINVAL, handle, 0, PAGE_SIZE + 1, ST_PROT_RW, 0, 0);
	test_err_map(EINVAL, handle, 0, PAGE_SIZE / 2, ST_PROT_RW, 0, 0);
	/* Beyond the region. */
	test_err_map(EINVAL, handle, 0, 5 * PAGE_SIZE, ST_PROT_RW, 0, 0);
	test_err_map(EINVAL, handle, 3 * PAGE_SIZE, 2 * PAGE_SIZE,
		     ST_PROT_RW, 0, 0);
	test_err_map(EINVAL, handle, 4 * PAGE_SIZE, PAGE_SIZE, ST_PROT_RW,
		     0, 0);
	/* offset + length wraps. */
	test_err_map(EOVERFLOW, handle, -PAGE_SIZE, 2 * PAGE_SIZE,
		     ST_PROT_RW, 0, 0);
	/* A fixed IOVA that is not page aligned. */
	test_err_map(EINVAL, handle, 0, PAGE_SIZE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_FIXED, FIXED_IOVA + 1);
	test_err_map(EINVAL, handle, 0, PAGE_SIZE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_FIXED, FIXED_IOVA + PAGE_SIZE / 2);
	/* A fixed IOVA + length that wraps. */
	test_err_map(EOVERFLOW, handle, 0, 2 * PAGE_SIZE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_FIXED, -PAGE_SIZE);
	test_counts(1, 0, 4);
}

TEST_F(reg, map_bad_handle)
{
	uint32_t handle, stale;

	test_prereg(self->mem + PAGE_SIZE, PAGE_SIZE, 0, &stale, NULL);
	test_unreg(stale, 0);
	test_prereg(self->mem, 4 * PAGE_SIZE, 0, &handle, NULL);
	if (stale != handle)
		test_err_map(ENOENT, stale, 0, PAGE_SIZE, ST_PROT_RW, 0, 0);
	test_err_map(ENOENT, handle + 1, 0, PAGE_SIZE, ST_PROT_RW, 0, 0);
	test_err_map(ENOENT, handle ^ 0x80000000U, 0, PAGE_SIZE,
		     ST_PROT_RW, 0, 0);
	test_err_map(ENOENT, ~0U, 0, PAGE_SIZE, ST_PROT_RW, 0, 0);
	test_counts(1, 0, 4);

	/* A stale handle while no other region could have taken it. */
	test_unreg(handle, 0);
	test_err_map(ENOENT, handle, 0, PAGE_SIZE, ST_PROT_RW, 0, 0);
	test_counts(0, 0, 0);
}

/* A handle names a region of its own container only. */
TEST_F(reg, foreign_handle)
{
	const char *bdf1 = st_edu_bdf(1);
	uint32_t mine, theirs[2], foreign;
	int other, group;

	if (!bdf1)
		SKIP(return, "needs a second edu device for a second container");
	other = st_container_open(bdf1, &group);
	ASSERT_LE(0, other);

	test_prereg(self->mem, PAGE_SIZE, 0, &mine, NULL);
	ASSERT_EQ(0, _test_prereg(other, self->mem + PAGE_SIZE, PAGE_SIZE, 0,
				  &theirs[0], NULL));
	ASSERT_EQ(0, _test_prereg(other, self->mem + 2 * PAGE_SIZE,
				  PAGE_SIZE, 0, &theirs[1], NULL));
	ASSERT_NE(theirs[0], theirs[1]);
	foreign = theirs[0] != mine ? theirs[0] : theirs[1];

	test_err_map(ENOENT, foreign, 0, PAGE_SIZE, ST_PROT_RW, 0, 0);
	test_err_unreg(ENOENT, foreign, 0);
	test_counts(1, 0, 1);
	if (mine != theirs[0] && mine != theirs[1])
		EXPECT_ERRNO(ENOENT, _test_unreg(other, mine, 0));

	/* The other container's regions are intact. */
	EXPECT_EQ(0, _test_unreg(other, theirs[0], 0));
	EXPECT_EQ(0, _test_unreg(other, theirs[1], 0));
	close(group);
	close(other);
}

/*
 * A child after fork() holds the container fd too, but the parent's
 * regions map the parent's pages: the child may neither unregister them
 * nor map or unmap them (EPERM, nothing changes), while it may register
 * and unregister its own memory.  The parent's region survives and the
 * device still reaches the parent's page.  A region whose process has
 * exited is anyone's to unregister.
 */
TEST_F(reg, fork_child_cannot_touch_parent_regions)
{
	uint64_t iova, map_iova, fixed = FIXED_IOVA;
	uint32_t handle, child_handle;
	int pfd[2], status, i;
	pid_t pid;

	test_register(self->mem, 4 * PAGE_SIZE, 0, ST_PROT_RW, &handle, &iova);
	test_map(handle, 0, PAGE_SIZE, ST_PROT_RW, 0, &map_iova);
	test_counts(1, 2, 4);
	ASSERT_EQ(0, pipe(pfd));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		uint32_t own;
		int c = self->container;

		close(pfd[0]);
		if (!_test_unreg(c, handle, 0) || errno != EPERM)
			_exit(10);
		if (!_test_unreg(c, handle, IOMMU_REG_UNREG_UNMAP) ||
		    errno != EPERM)
			_exit(11);
		if (!_test_map(c, handle, 0, PAGE_SIZE, ST_PROT_RW,
			       IOMMU_REG_MAP_IOVA_FIXED, &fixed) ||
		    errno != EPERM)
			_exit(12);
		if (!_test_unmap(c, iova, 4 * PAGE_SIZE, 0, NULL) ||
		    errno != EPERM)
			_exit(13);
		if (!_test_unmap(c, map_iova, PAGE_SIZE, 0, NULL) ||
		    errno != EPERM)
			_exit(14);
		if (!_test_unmap(c, 0, 0, IOMMU_REG_UNMAP_ALL, NULL) ||
		    errno != EPERM)
			_exit(15);
		/* Its own copy of the memory: a region of its own. */
		if (_test_prereg(c, self->mem, PAGE_SIZE, 0, &own, NULL))
			_exit(16);
		if (own == handle || _test_unreg(c, own, 0))
			_exit(17);
		/* Left registered for the parent to clean up. */
		if (_test_prereg(c, self->mem + 8 * PAGE_SIZE, PAGE_SIZE, 0,
				 &own, NULL))
			_exit(18);
		if (write(pfd[1], &own, sizeof(own)) != sizeof(own))
			_exit(19);
		_exit(0);
	}
	close(pfd[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child step %d failed", WEXITSTATUS(status));
	ASSERT_EQ(sizeof(child_handle),
		  read(pfd[0], &child_handle, sizeof(child_handle)));
	close(pfd[0]);

	/* Everything of the parent's is still there, and reaches its pages. */
	test_counts(2, 2, 5);
	for (i = 0; i < (int)PAGE_SIZE; i++)
		self->mem[i] = (uint8_t)(i * 7);
	ASSERT_EQ(0, edu_dma(&self->edu, iova, PAGE_SIZE / 2,
			     EDU_RAM_TO_DEV, EDU_DMA_TIMEOUT_MS));
	ASSERT_EQ(0, edu_dma(&self->edu, iova + PAGE_SIZE, PAGE_SIZE / 2,
			     EDU_DEV_TO_RAM, EDU_DMA_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp(self->mem, self->mem + PAGE_SIZE, PAGE_SIZE / 2));

	/* The child has exited: its region is anyone's to drop. */
	test_unreg(child_handle, 0);
	test_unmap(map_iova, PAGE_SIZE, 0, NULL);
	test_unreg(handle, 0);
	test_counts(0, 0, 0);
}

TEST_F(reg, map_fixed)
{
	uint64_t iova = FIXED_IOVA;
	uint32_t handle;

	test_prereg(self->mem, 16 * PAGE_SIZE, 0, &handle, NULL);
	test_map(handle, 0, 4 * PAGE_SIZE, ST_PROT_RW,
		 IOMMU_REG_MAP_IOVA_FIXED, &iova);
	EXPECT_EQ(FIXED_IOVA, iova);

	/* The same IOVA, overlapping either end, or enclosing it. */
	test_err_map(EEXIST, handle, 4 * PAGE_SIZE, 4 * PAGE_SIZE,
		     ST_PROT_RW, IOMMU_REG_MAP_IOVA_FIXED, FIXED_IOVA);
	test_err_map(EEXIST, handle, 0, 2 * PAGE_SIZE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_FIXED, FIXED_IOVA - PAGE_SIZE);
	test_err_map(EEXIST, handle, 0, 2 * PAGE_SIZE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_FIXED, FIXED_IOVA + 3 * PAGE_SIZE);
	test_err_map(EEXIST, handle, 0, PAGE_SIZE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_FIXED, FIXED_IOVA + PAGE_SIZE);
	test_err_map(EEXIST, handle, 0, 8 * PAGE_SIZE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_FIXED, FIXED_IOVA - 2 * PAGE_SIZE);
	test_counts(1, 1, 16);

	/* Right next to it on both sides is free. */
	iova = FIXED_IOVA + 4 * PAGE_SIZE;
	test_map(handle, 4 * PAGE_SIZE, 4 * PAGE_SIZE, IOMMU_REG_PROT_READ,
		 IOMMU_REG_MAP_IOVA_FIXED, &iova);
	EXPECT_EQ(FIXED_IOVA + 4 * PAGE_SIZE, iova);
	iova = FIXED_IOVA - PAGE_SIZE;
	test_map(handle, 15 * PAGE_SIZE, PAGE_SIZE, IOMMU_REG_PROT_WRITE,
		 IOMMU_REG_MAP_IOVA_FIXED, &iova);
	EXPECT_EQ(FIXED_IOVA - PAGE_SIZE, iova);
	test_counts(1, 3, 16);
}

/* Fixed IOVAs must lie in the usable ranges: aperture minus MSI window. */
TEST_F(reg, map_fixed_range)
{
	struct iommu_reg_info info;
	uint64_t iova;
	uint32_t handle;

	test_info(&info);
	ASSERT_EQ((1ULL << 48) - 1, info.aperture_last);
	/* The test's idea of the MSI window matches the kernel's. */
	ASSERT_TRUE(st_iova_usable(self->container, ST_MSI_START -
				     PAGE_SIZE, PAGE_SIZE));
	ASSERT_FALSE(st_iova_usable(self->container, ST_MSI_START,
				    PAGE_SIZE));
	ASSERT_FALSE(st_iova_usable(self->container, ST_MSI_LAST + 1 -
				      PAGE_SIZE, PAGE_SIZE));
	ASSERT_TRUE(st_iova_usable(self->container, ST_MSI_LAST + 1,
				   PAGE_SIZE));

	test_prereg(self->mem, 4 * PAGE_SIZE, 0, &handle, NULL);
	test_err_map(ERANGE, handle, 0, PAGE_SIZE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_FIXED, 1ULL << 48);
	test_err_map(ERANGE, handle, 0, 2 * PAGE_SIZE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_FIXED, (1ULL << 48) - PAGE_SIZE);
	test_err_map(ERANGE, handle, 0, PAGE_SIZE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_FIXED, 1ULL << 63);
	test_err_map(ERANGE, handle, 0, PAGE_SIZE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_FIXED, ST_MSI_START);
	test_err_map(ERANGE, handle, 0, PAGE_SIZE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_FIXED, ST_MSI_START + 0x80000);
	test_err_map(ERANGE, handle, 0, 2 * PAGE_SIZE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_FIXED, ST_MSI_START - PAGE_SIZE);
	test_err_map(ERANGE, handle, 0, 2 * PAGE_SIZE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_FIXED, ST_MSI_LAST + 1 - PAGE_SIZE);
	test_counts(1, 0, 4);

	/* Either side of the window, and the top of the aperture, work. */
	iova = ST_MSI_START - PAGE_SIZE;
	test_map(handle, 0, PAGE_SIZE, ST_PROT_RW,
		 IOMMU_REG_MAP_IOVA_FIXED, &iova);
	iova = ST_MSI_LAST + 1;
	test_map(handle, 0, PAGE_SIZE, ST_PROT_RW,
		 IOMMU_REG_MAP_IOVA_FIXED, &iova);
	iova = (1ULL << 48) - PAGE_SIZE;
	test_map(handle, 0, PAGE_SIZE, ST_PROT_RW,
		 IOMMU_REG_MAP_IOVA_FIXED, &iova);
	EXPECT_EQ((1ULL << 48) - PAGE_SIZE, iova);
	test_counts(1, 3, 4);
}

/* The VM's aperture is 48 bits, so user addresses are usable IOVAs. */
TEST_F(reg, map_identity)
{
	uint64_t vaddr = (uintptr_t)self->mem, iova;
	uint32_t handle;

	test_prereg(self->mem, 16 * PAGE_SIZE, 0, &handle, NULL);
	test_map(handle, 0, 4 * PAGE_SIZE, ST_PROT_RW,
		 IOMMU_REG_MAP_IOVA_IDENTITY, &iova);
	EXPECT_EQ(vaddr, iova);
	test_map(handle, 8 * PAGE_SIZE, 4 * PAGE_SIZE, ST_PROT_RW,
		 IOMMU_REG_MAP_IOVA_IDENTITY, &iova);
	EXPECT_EQ(vaddr + 8 * PAGE_SIZE, iova);
	test_counts(1, 2, 16);

	/* Identity again, or fixed at the same address: taken. */
	test_err_map(EEXIST, handle, 0, 4 * PAGE_SIZE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_IDENTITY, 0);
	test_err_map(EEXIST, handle, 2 * PAGE_SIZE, 8 * PAGE_SIZE,
		     ST_PROT_RW, IOMMU_REG_MAP_IOVA_IDENTITY, 0);
	test_err_map(EEXIST, handle, 0, PAGE_SIZE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_FIXED, vaddr + 3 * PAGE_SIZE);
	test_err_register(EEXIST, self->mem, 2 * PAGE_SIZE,
			  IOMMU_REG_MAP_IOVA_IDENTITY, ST_PROT_RW, 0);
	test_counts(1, 2, 16);

	/* The hole between them is free. */
	test_map(handle, 4 * PAGE_SIZE, 4 * PAGE_SIZE, ST_PROT_RW,
		 IOMMU_REG_MAP_IOVA_IDENTITY, &iova);
	EXPECT_EQ(vaddr + 4 * PAGE_SIZE, iova);
	test_counts(1, 3, 16);
}

TEST_F(reg, map_readonly_region)
{
	uint32_t handle;
	uint64_t iova;

	test_prereg(self->mem, 4 * PAGE_SIZE, IOMMU_REG_REGION_READONLY,
		    &handle, NULL);
	test_err_map(EPERM, handle, 0, PAGE_SIZE, IOMMU_REG_PROT_WRITE, 0, 0);
	test_err_map(EPERM, handle, 0, PAGE_SIZE, ST_PROT_RW, 0, 0);
	test_err_map(EPERM, handle, 0, PAGE_SIZE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_FIXED, FIXED_IOVA);
	test_counts(1, 0, 4);
	test_map(handle, 0, PAGE_SIZE, IOMMU_REG_PROT_READ, 0, &iova);
	test_counts(1, 1, 4);
}

/* Kernel-chosen IOVAs: usable, disjoint, congruent to the address. */
TEST_F(reg, map_kernel_iova)
{
	static const uint64_t offsets[] = { 0, PAGE_SIZE, 0, PAGE_SIZE };
	static const uint64_t lengths[] = {
		PAGE_SIZE, 2 * PAGE_SIZE, ST_SZ_2M, ST_SZ_2M + PAGE_SIZE,
	};
	uint64_t iova[2 * ARRAY_SIZE(lengths)], align;
	uint64_t len[2 * ARRAY_SIZE(lengths)], vaddr;
	struct iommu_reg_info info;
	struct st_buf big;
	uint32_t handle;
	unsigned int i, j, n = 0;

	ASSERT_EQ(0, st_buf_alloc(&big, ST_MEM_ANON_4K, 2 * ST_SZ_2M));
	test_prereg(big.addr, 2 * ST_SZ_2M, 0, &handle, NULL);
	test_info(&info);
	for (i = 0; i < ARRAY_SIZE(lengths); i++) {
		for (j = 0; j < 2; j++, n++) {
			/* The second time one page further: 4 KiB off 2 MiB. */
			uint64_t off = offsets[i] + j * PAGE_SIZE;

			len[n] = lengths[i];
			test_map(handle, off, len[n], ST_PROT_RW, 0, &iova[n]);
			vaddr = (uintptr_t)big.addr + off;
			align = st_pgsize_for(info.pgsize_bitmap, len[n]);
			EXPECT_EQ(vaddr % align, iova[n] % align);
			EXPECT_TRUE(st_iova_usable(self->container, iova[n],
						   len[n]));
		}
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			EXPECT_TRUE(iova[i] + len[i] <= iova[j] ||
				    iova[j] + len[j] <= iova[i]);
	test_counts(1, n, 2 * ST_SZ_2M / PAGE_SIZE);
	st_buf_free(&big);
}

/* --- IOMMU_REG_UNMAP ---------------------------------------------------- */

TEST_F(reg, unmap_bad_input)
{
	uint64_t iova = FIXED_IOVA;
	uint32_t handle;

	test_prereg(self->mem, 4 * PAGE_SIZE, 0, &handle, NULL);
	test_map(handle, 0, 4 * PAGE_SIZE, ST_PROT_RW,
		 IOMMU_REG_MAP_IOVA_FIXED, &iova);

	test_err_unmap(EINVAL, FIXED_IOVA, 4 * PAGE_SIZE, 1U << 1);
	test_err_unmap(EINVAL, FIXED_IOVA, 4 * PAGE_SIZE, 1U << 31);
	test_err_unmap(EINVAL, FIXED_IOVA, 0, 0);
	test_err_unmap(EINVAL, FIXED_IOVA + 1, 4 * PAGE_SIZE, 0);
	test_err_unmap(EINVAL, FIXED_IOVA, 4 * PAGE_SIZE + 1, 0);
	test_err_unmap(EINVAL, FIXED_IOVA, PAGE_SIZE / 2, 0);
	test_err_unmap(EOVERFLOW, -PAGE_SIZE, 2 * PAGE_SIZE, 0);
	test_err_unmap(EOVERFLOW, FIXED_IOVA, -PAGE_SIZE, 0);
	/* UNMAP_ALL takes no range. */
	test_err_unmap(EINVAL, FIXED_IOVA, 0, IOMMU_REG_UNMAP_ALL);
	test_err_unmap(EINVAL, 0, 4 * PAGE_SIZE, IOMMU_REG_UNMAP_ALL);
	test_err_unmap(EINVAL, FIXED_IOVA, 4 * PAGE_SIZE, IOMMU_REG_UNMAP_ALL);
	test_counts(1, 1, 4);
}

TEST_F(reg, unmap_empty)
{
	uint64_t iova = FIXED_IOVA, unmapped;
	uint32_t handle;

	test_err_unmap(ENOENT, FIXED_IOVA, 4 * PAGE_SIZE, 0);
	test_prereg(self->mem, 4 * PAGE_SIZE, 0, &handle, NULL);
	test_map(handle, 0, 4 * PAGE_SIZE, ST_PROT_RW,
		 IOMMU_REG_MAP_IOVA_FIXED, &iova);
	/* Just before and just after the mapping. */
	test_err_unmap(ENOENT, FIXED_IOVA - 4 * PAGE_SIZE, 4 * PAGE_SIZE, 0);
	test_err_unmap(ENOENT, FIXED_IOVA + 4 * PAGE_SIZE, 4 * PAGE_SIZE, 0);
	test_counts(1, 1, 4);

	test_unmap(FIXED_IOVA, 4 * PAGE_SIZE, 0, &unmapped);
	EXPECT_EQ(4 * PAGE_SIZE, unmapped);
	test_err_unmap(ENOENT, FIXED_IOVA, 4 * PAGE_SIZE, 0);
	test_counts(1, 0, 4);
}

/* There is no partial unmap: a range cutting a mapping changes nothing. */
TEST_F(reg, unmap_bisect)
{
	uint64_t a = FIXED_IOVA, b = FIXED_IOVA + 4 * PAGE_SIZE, unmapped;
	uint32_t handle;

	test_prereg(self->mem, 8 * PAGE_SIZE, 0, &handle, NULL);
	test_map(handle, 0, 4 * PAGE_SIZE, ST_PROT_RW,
		 IOMMU_REG_MAP_IOVA_FIXED, &a);
	test_map(handle, 4 * PAGE_SIZE, 4 * PAGE_SIZE, ST_PROT_RW,
		 IOMMU_REG_MAP_IOVA_FIXED, &b);

	test_err_unmap(EINVAL, a, 2 * PAGE_SIZE, 0);
	test_err_unmap(EINVAL, a + PAGE_SIZE, PAGE_SIZE, 0);
	test_err_unmap(EINVAL, a + 2 * PAGE_SIZE, 2 * PAGE_SIZE, 0);
	/* b whole but a cut: b must survive too. */
	test_err_unmap(EINVAL, a + 2 * PAGE_SIZE, 6 * PAGE_SIZE, 0);
	test_err_unmap(EINVAL, a, 6 * PAGE_SIZE, 0);
	test_err_unmap(EINVAL, a - PAGE_SIZE, 7 * PAGE_SIZE, 0);
	test_counts(1, 2, 8);

	test_unmap(a, 4 * PAGE_SIZE, 0, &unmapped);
	EXPECT_EQ(4 * PAGE_SIZE, unmapped);
	test_counts(1, 1, 8);
	/* A range with slack on both sides takes b whole. */
	test_unmap(b - 16 * PAGE_SIZE, 32 * PAGE_SIZE, 0, &unmapped);
	EXPECT_EQ(4 * PAGE_SIZE, unmapped);
	test_counts(1, 0, 8);
}

TEST_F(reg, unmap_several)
{
	uint64_t iova, unmapped, total = 0;
	uint32_t handle;
	int i;

	test_prereg(self->mem, 16 * PAGE_SIZE, 0, &handle, NULL);
	/* Three mappings with gaps between them, one range over all. */
	for (i = 0; i < 3; i++) {
		iova = FIXED_IOVA + i * 8 * PAGE_SIZE;
		test_map(handle, i * PAGE_SIZE, (i + 1) * PAGE_SIZE,
			 ST_PROT_RW, IOMMU_REG_MAP_IOVA_FIXED, &iova);
		total += (i + 1) * PAGE_SIZE;
	}
	test_counts(1, 3, 16);
	test_unmap(FIXED_IOVA, 24 * PAGE_SIZE, 0, &unmapped);
	EXPECT_EQ(total, unmapped);
	test_counts(1, 0, 16);
}

TEST_F(reg, unmap_all)
{
	uint64_t iova, unmapped, total = 0;
	uint32_t handle, handle2;
	int i;

	test_prereg(self->mem, 16 * PAGE_SIZE, 0, &handle, NULL);
	test_prereg(self->mem + 16 * PAGE_SIZE, 4 * PAGE_SIZE, 0, &handle2,
		    NULL);
	for (i = 0; i < 3; i++) {
		test_map(handle, 0, (i + 1) * PAGE_SIZE, ST_PROT_RW, 0,
			 &iova);
		total += (i + 1) * PAGE_SIZE;
	}
	iova = FIXED_IOVA;
	test_map(handle2, 0, 4 * PAGE_SIZE, ST_PROT_RW,
		 IOMMU_REG_MAP_IOVA_FIXED, &iova);
	total += 4 * PAGE_SIZE;
	test_map(handle2, 0, 4 * PAGE_SIZE, ST_PROT_RW,
		 IOMMU_REG_MAP_IOVA_IDENTITY, &iova);
	total += 4 * PAGE_SIZE;
	test_counts(2, 5, 20);

	test_unmap(0, 0, IOMMU_REG_UNMAP_ALL, &unmapped);
	EXPECT_EQ(total, unmapped);
	/* Regions stay; only mappings go. */
	test_counts(2, 0, 20);
	test_unreg(handle, 0);
	test_unreg(handle2, 0);
	test_counts(0, 0, 0);
}

/* --- IOMMU_REG_UNREG ---------------------------------------------------- */

TEST_F(reg, unreg_bad_input)
{
	struct iommu_reg_unreg cmd = { .argsz = sizeof(cmd) };
	uint32_t handle;

	test_prereg(self->mem, PAGE_SIZE, 0, &handle, NULL);
	test_err_unreg(EINVAL, handle, 1U << 1);
	test_err_unreg(EINVAL, handle, 1U << 31);
	cmd.handle = handle;
	cmd.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->container, IOMMU_REG_UNREG, &cmd));
	cmd.__reserved = 1U << 31;
	EXPECT_ERRNO(EINVAL, ioctl(self->container, IOMMU_REG_UNREG, &cmd));
	test_counts(1, 0, 1);
	test_err_unreg(ENOENT, handle + 1, 0);
	test_err_unreg(ENOENT, ~0U, 0);
	test_counts(1, 0, 1);
}

TEST_F(reg, unreg_twice)
{
	long long vmpin = st_status_bytes("VmPin");
	uint32_t handle;

	test_prereg(self->mem, 4 * PAGE_SIZE, 0, &handle, NULL);
	test_unreg(handle, 0);
	test_err_unreg(ENOENT, handle, 0);
	test_err_unreg(ENOENT, handle, IOMMU_REG_UNREG_UNMAP);
	test_counts(0, 0, 0);
	EXPECT_EQ(vmpin, st_status_bytes("VmPin"));
}

/* The last reference cannot go while MAP's mappings remain. */
TEST_F(reg, unreg_busy)
{
	long long pins, vmpin;
	uint64_t iova[2], unmapped;
	uint32_t handle;

	test_prereg(self->mem, 4 * PAGE_SIZE, 0, &handle, NULL);
	test_map(handle, 0, 4 * PAGE_SIZE, ST_PROT_RW, 0, &iova[0]);
	test_map(handle, PAGE_SIZE, PAGE_SIZE, IOMMU_REG_PROT_READ, 0,
		 &iova[1]);
	pins = st_foll_pins();
	vmpin = st_status_bytes("VmPin");

	test_err_unreg(EBUSY, handle, 0);
	test_counts(1, 2, 4);
	EXPECT_EQ(pins, st_foll_pins());
	EXPECT_EQ(vmpin, st_status_bytes("VmPin"));
	/* Still registered: another reference can be taken and dropped. */
	test_prereg(self->mem, 4 * PAGE_SIZE, 0, NULL, NULL);
	test_unreg(handle, 0);
	test_err_unreg(EBUSY, handle, 0);
	test_counts(1, 2, 4);

	/* One mapping gone, the other still holds it. */
	test_unmap(iova[1], PAGE_SIZE, 0, &unmapped);
	EXPECT_EQ(PAGE_SIZE, unmapped);
	test_err_unreg(EBUSY, handle, 0);

	test_unreg(handle, IOMMU_REG_UNREG_UNMAP);
	test_counts(0, 0, 0);
	EXPECT_EQ(pins - 4, st_foll_pins());
	EXPECT_EQ(vmpin - 4 * (long long)PAGE_SIZE,
		  st_status_bytes("VmPin"));
	test_err_unmap(ENOENT, iova[0], 4 * PAGE_SIZE, 0);
}

/* UNREG_UNMAP only matters for the last reference. */
TEST_F(reg, unreg_unmap_not_last)
{
	uint32_t handle;
	uint64_t iova;

	test_prereg(self->mem, 4 * PAGE_SIZE, 0, &handle, NULL);
	test_prereg(self->mem, 4 * PAGE_SIZE, 0, NULL, NULL);
	test_map(handle, 0, 4 * PAGE_SIZE, ST_PROT_RW, 0, &iova);
	test_unreg(handle, IOMMU_REG_UNREG_UNMAP);
	test_counts(1, 1, 4);
	test_unreg(handle, IOMMU_REG_UNREG_UNMAP);
	test_counts(0, 0, 0);
}

/* --- IOMMU_REG_REGISTER ------------------------------------------------- */

TEST_F(reg, register_bad_input)
{
	long long pins = st_foll_pins();
	uint8_t *ro;

	test_err_register(EINVAL, self->mem, PAGE_SIZE, 1U << 1,
			  ST_PROT_RW, 0);
	test_err_register(EINVAL, self->mem, PAGE_SIZE, 1U << 31,
			  ST_PROT_RW, 0);
	test_err_register(EINVAL, self->mem, PAGE_SIZE,
			  IOMMU_REG_MAP_IOVA_FIXED |
			  IOMMU_REG_MAP_IOVA_IDENTITY, ST_PROT_RW,
			  FIXED_IOVA);
	test_err_register(EINVAL, self->mem, PAGE_SIZE, 0, 0, 0);
	test_err_register(EINVAL, self->mem, PAGE_SIZE, 0, 1U << 2, 0);
	test_err_register(EINVAL, self->mem, 0, 0, ST_PROT_RW, 0);
	test_err_register(EINVAL, self->mem + 1, PAGE_SIZE, 0, ST_PROT_RW,
			  0);
	test_err_register(EINVAL, self->mem, PAGE_SIZE - 1, 0, ST_PROT_RW,
			  0);
	test_err_register(EINVAL, self->mem, PAGE_SIZE, IOMMU_REG_MAP_IOVA_FIXED,
			  ST_PROT_RW, FIXED_IOVA + 1);
	test_err_register(EOVERFLOW, (void *)(uintptr_t)-PAGE_SIZE,
			  2 * PAGE_SIZE, 0, ST_PROT_RW, 0);
	test_err_register(EFAULT, NULL, PAGE_SIZE, 0, ST_PROT_RW, 0);
	test_err_register(EFAULT, (void *)self->edu.bar, PAGE_SIZE, 0,
			  ST_PROT_RW, 0);

	/* Read-only region or memory against a device-writable mapping. */
	test_err_register(EPERM, self->mem, PAGE_SIZE,
			  IOMMU_REG_REGION_READONLY, ST_PROT_RW, 0);
	ro = mmap(NULL, PAGE_SIZE, PROT_READ,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	test_err_register(EFAULT, ro, PAGE_SIZE, 0, IOMMU_REG_PROT_READ, 0);

	test_counts(0, 0, 0);
	EXPECT_EQ(pins, st_foll_pins());
	munmap(ro, PAGE_SIZE);
}

/* A REGISTER that cannot map leaves nothing pinned. */
TEST_F(reg, register_iova_conflict)
{
	uint64_t iova = FIXED_IOVA;
	long long pins, vmpin;
	uint32_t handle;

	test_register(self->mem, 4 * PAGE_SIZE, IOMMU_REG_MAP_IOVA_FIXED,
		      ST_PROT_RW, &handle, &iova);
	EXPECT_EQ(FIXED_IOVA, iova);
	pins = st_foll_pins();
	vmpin = st_status_bytes("VmPin");

	test_err_register(EEXIST, self->mem + 8 * PAGE_SIZE, 4 * PAGE_SIZE,
			  IOMMU_REG_MAP_IOVA_FIXED, ST_PROT_RW,
			  FIXED_IOVA + 2 * PAGE_SIZE);
	test_err_register(ERANGE, self->mem + 8 * PAGE_SIZE, 4 * PAGE_SIZE,
			  IOMMU_REG_MAP_IOVA_FIXED, ST_PROT_RW,
			  ST_MSI_START);
	test_err_register(ERANGE, self->mem + 8 * PAGE_SIZE, 4 * PAGE_SIZE,
			  IOMMU_REG_MAP_IOVA_FIXED, ST_PROT_RW, 1ULL << 48);
	test_counts(1, 1, 4);
	EXPECT_EQ(pins, st_foll_pins());
	EXPECT_EQ(vmpin, st_status_bytes("VmPin"));

	test_unreg(handle, 0);
	test_counts(0, 0, 0);
	test_err_unreg(ENOENT, handle, 0);
}

TEST_F(reg, register_twice)
{
	static const uint32_t placements[] = {
		0, IOMMU_REG_MAP_IOVA_FIXED, IOMMU_REG_MAP_IOVA_IDENTITY,
	};
	long long pins = st_foll_pins();
	unsigned int i;
	uint32_t h1, h2;
	uint64_t i1, i2;

	for (i = 0; i < ARRAY_SIZE(placements); i++) {
		i1 = FIXED_IOVA;
		test_register(self->mem, 8 * PAGE_SIZE, placements[i],
			      ST_PROT_RW, &h1, &i1);
		EXPECT_TRUE(st_iova_usable(self->container, i1,
					   8 * PAGE_SIZE));
		i2 = FIXED_IOVA;
		test_register(self->mem, 8 * PAGE_SIZE, placements[i],
			      ST_PROT_RW, &h2, &i2);
		EXPECT_EQ(h1, h2);
		EXPECT_EQ(i1, i2);
		test_counts(1, 1, 8);
		EXPECT_EQ(pins + 8, st_foll_pins());

		/* The mapping goes with the last reference, without EBUSY. */
		test_unreg(h1, 0);
		test_counts(1, 1, 8);
		test_unreg(h1, 0);
		test_counts(0, 0, 0);
		test_err_unreg(ENOENT, h1, 0);
		test_err_unmap(ENOENT, i1, 8 * PAGE_SIZE, 0);
		EXPECT_EQ(pins, st_foll_pins());
	}
}

TEST_F(reg, register_placement)
{
	uint64_t vaddr = (uintptr_t)self->mem, iova = FIXED_IOVA;
	struct iommu_reg_info info;
	uint32_t handle;

	test_register(self->mem, 4 * PAGE_SIZE, IOMMU_REG_MAP_IOVA_FIXED,
		      ST_PROT_RW, &handle, &iova);
	EXPECT_EQ(FIXED_IOVA, iova);
	test_register(self->mem + 4 * PAGE_SIZE, 4 * PAGE_SIZE,
		      IOMMU_REG_MAP_IOVA_IDENTITY, ST_PROT_RW, &handle,
		      &iova);
	EXPECT_EQ(vaddr + 4 * PAGE_SIZE, iova);
	/* Kernel-chosen for 2 MiB at a 2 MiB aligned address: aligned. */
	test_register(self->mem, BUF_SIZE, 0, ST_PROT_RW, &handle, &iova);
	test_info(&info);
	EXPECT_EQ(0, iova % st_pgsize_for(info.pgsize_bitmap, BUF_SIZE));
	EXPECT_TRUE(st_iova_usable(self->container, iova, BUF_SIZE));
	test_counts(3, 3, 4 + 4 + BUF_SIZE / PAGE_SIZE);
}

/* REGISTER's region also takes MAP mappings; those make it busy. */
TEST_F(reg, register_then_map)
{
	uint64_t iova, iova2;
	uint32_t handle;

	test_register(self->mem, 4 * PAGE_SIZE, 0, ST_PROT_RW, &handle,
		      &iova);
	test_map(handle, 0, 2 * PAGE_SIZE, IOMMU_REG_PROT_READ, 0, &iova2);
	EXPECT_NE(iova, iova2);
	test_counts(1, 2, 4);
	test_err_unreg(EBUSY, handle, 0);
	test_counts(1, 2, 4);
	test_unreg(handle, IOMMU_REG_UNREG_UNMAP);
	test_counts(0, 0, 0);
}

/* --- Counters and accounting -------------------------------------------- */

TEST_F(reg, info_counts)
{
	struct iommu_reg_info info;
	uint32_t h1, h2, h3;
	uint64_t iova;

	test_counts(0, 0, 0);
	test_info(&info);
	EXPECT_EQ(st_param_get("max_regions"), info.max_regions);
	test_prereg(self->mem, 8 * PAGE_SIZE, 0, &h1, NULL);
	test_counts(1, 0, 8);
	test_prereg(self->mem + 8 * PAGE_SIZE, 2 * PAGE_SIZE, 0, &h2, NULL);
	test_counts(2, 0, 10);
	test_map(h1, 0, 8 * PAGE_SIZE, ST_PROT_RW, 0, &iova);
	test_map(h1, 0, PAGE_SIZE, ST_PROT_RW, 0, NULL);
	test_counts(2, 2, 10);
	test_register(self->mem + 16 * PAGE_SIZE, 4 * PAGE_SIZE, 0,
		      ST_PROT_RW, &h3, NULL);
	test_counts(3, 3, 14);
	test_unmap(iova, 8 * PAGE_SIZE, 0, NULL);
	test_counts(3, 2, 14);
	test_unreg(h2, 0);
	test_counts(2, 2, 12);
	test_unreg(h3, 0);
	test_counts(1, 1, 8);
	test_unreg(h1, IOMMU_REG_UNREG_UNMAP);
	test_counts(0, 0, 0);
}

/*
 * Locked memory is charged to mm->locked_vm (VmPin) for root too:
 * account_locked_vm() skips only the RLIMIT_MEMLOCK check for
 * CAP_IPC_LOCK, never the charge, as type1 does.  Mapping charges
 * nothing more; the region's last reference gives it back.
 */
TEST_F(reg, vmpin)
{
	long long base = st_status_bytes("VmPin");
	uint32_t h1, h2;

	ASSERT_LE(0, base);
	test_prereg(self->mem, 16 * PAGE_SIZE, 0, &h1, NULL);
	EXPECT_EQ(base + 16 * (long long)PAGE_SIZE,
		  st_status_bytes("VmPin"));
	test_prereg(self->mem, 16 * PAGE_SIZE, 0, &h1, NULL);
	test_map(h1, 0, 16 * PAGE_SIZE, ST_PROT_RW, 0, NULL);
	EXPECT_EQ(base + 16 * (long long)PAGE_SIZE,
		  st_status_bytes("VmPin"));
	test_register(self->mem + 16 * PAGE_SIZE, 4 * PAGE_SIZE, 0,
		      ST_PROT_RW, &h2, NULL);
	EXPECT_EQ(base + 20 * (long long)PAGE_SIZE,
		  st_status_bytes("VmPin"));

	test_unreg(h2, 0);
	EXPECT_EQ(base + 16 * (long long)PAGE_SIZE,
		  st_status_bytes("VmPin"));
	test_unreg(h1, 0);
	EXPECT_EQ(base + 16 * (long long)PAGE_SIZE,
		  st_status_bytes("VmPin"));
	test_unreg(h1, IOMMU_REG_UNREG_UNMAP);
	EXPECT_EQ(base, st_status_bytes("VmPin"));
}

/* Pre-registration pins; mapping and unmapping never touch the pins. */
TEST_F(reg, pins_once)
{
	long long base = st_foll_pins();
	uint64_t iova;
	uint32_t handle;

	test_prereg(self->mem, 32 * PAGE_SIZE, 0, &handle, NULL);
	EXPECT_EQ(base + 32, st_foll_pins());
	test_map(handle, 0, 32 * PAGE_SIZE, ST_PROT_RW, 0, &iova);
	test_map(handle, 0, 16 * PAGE_SIZE, ST_PROT_RW, 0, NULL);
	EXPECT_EQ(base + 32, st_foll_pins());
	test_unmap(iova, 32 * PAGE_SIZE, 0, NULL);
	EXPECT_EQ(base + 32, st_foll_pins());
	test_unreg(handle, IOMMU_REG_UNREG_UNMAP);
	EXPECT_EQ(base, st_foll_pins());
}

/* --- Memory types and huge IOMMU pages ---------------------------------- */

FIXTURE(mem) {
	int container;
	struct edu_dev edu;
	struct st_buf buf;
	long long audit_saved;
};

FIXTURE_VARIANT(mem) {
	enum st_mem type;
	size_t size;
};

#define MEM_VARIANT(name, _type, _size)				\
	FIXTURE_VARIANT_ADD(mem, name) {				\
		.type = _type,						\
		.size = _size,						\
	}

MEM_VARIANT(anon_4k, ST_MEM_ANON_4K, ST_SZ_2M);
MEM_VARIANT(thp, ST_MEM_THP, ST_SZ_2M);
MEM_VARIANT(hugetlb_2m, ST_MEM_HUGETLB_2M, 2 * ST_SZ_2M);
MEM_VARIANT(hugetlb_1g, ST_MEM_HUGETLB_1G, ST_SZ_1G);
MEM_VARIANT(memfd, ST_MEM_MEMFD, ST_SZ_2M);
MEM_VARIANT(hugetlbfs, ST_MEM_HUGETLBFS, ST_SZ_2M);

FIXTURE_SETUP(mem)
{
	self->audit_saved = -1;
	edu_fixture_setup(variant->type, variant->size);
}

FIXTURE_TEARDOWN(mem)
{
	if (self->audit_saved >= 0)
		st_param_set("audit_unmap", self->audit_saved);
	edu_fixture_teardown(&self->container, &self->edu, &self->buf);
}

/*
 * Every memory type registers, maps and unmaps; accounting follows it.
 * (1 GiB pages take minutes on the debug kernel: KASAN under TCG.)
 */
TEST_F_TIMEOUT(mem, register, 600)
{
	uint64_t npages = variant->size / PAGE_SIZE, iova, unmapped, align;
	long long vmpin = st_status_bytes("VmPin");
	long long pins = st_foll_pins();
	struct iommu_reg_info info;
	uint32_t handle, refs;

	test_prereg(self->buf.addr, variant->size, 0, &handle, &refs);
	EXPECT_EQ(1, refs);
	test_counts(1, 0, npages);
	EXPECT_EQ(vmpin + (long long)variant->size,
		  st_status_bytes("VmPin"));
	EXPECT_EQ(pins + (long long)npages, st_foll_pins());

	test_map(handle, 0, variant->size, ST_PROT_RW, 0, &iova);
	test_info(&info);
	align = st_pgsize_for(info.pgsize_bitmap, variant->size);
	EXPECT_EQ((uintptr_t)self->buf.addr % align, iova % align);
	test_unmap(iova, variant->size, 0, &unmapped);
	EXPECT_EQ(variant->size, unmapped);

	test_unreg(handle, 0);
	test_counts(0, 0, 0);
	EXPECT_EQ(vmpin, st_status_bytes("VmPin"));
	EXPECT_EQ(pins, st_foll_pins());
}

/*
 * Physically contiguous runs are mapped with the largest IOMMU pages:
 * with audit_unmap=1 the module counts the leaf IOMMU pages it removes.
 * What the buffer really is comes from /proc/self/pagemap: a 2 MiB (1 GiB)
 * block that is one aligned physical run must go as one 2M (1G) page,
 * anything else as 4K pages.  THP and hugetlb blocks are always such runs;
 * 4 KiB pages are almost never (the test then says so and still checks).
 */
TEST_F_TIMEOUT(mem, audit_unmap, 600)
{
	uint64_t size = variant->size, iova, unmapped, off;
	struct audit before, after;
	uint64_t want_4k = 0, want_2m = 0, want_1g = 0, pfn;
	uint32_t handle;

	self->audit_saved = st_param_get("audit_unmap");
	if (self->audit_saved < 0 || access(AUDIT_PATH, R_OK))
		SKIP(return, "no audit_unmap parameter or " AUDIT_PATH);
	ASSERT_EQ(0, st_param_set("audit_unmap", 1));

	if (size >= ST_SZ_1G && st_phys_contiguous(self->buf.addr, size) &&
	    st_pfn(self->buf.addr) % (ST_SZ_1G / PAGE_SIZE) == 0) {
		want_1g = size / ST_SZ_1G;
	} else {
		for (off = 0; off < size; off += ST_SZ_2M) {
			pfn = st_pfn(self->buf.addr + off);
			if (pfn && pfn % (ST_SZ_2M / PAGE_SIZE) == 0 &&
			    st_phys_contiguous(self->buf.addr + off,
					       ST_SZ_2M))
				want_2m++;
			else
				want_4k += ST_SZ_2M / PAGE_SIZE;
		}
	}
	switch (variant->type) {
	case ST_MEM_THP:
	case ST_MEM_HUGETLB_2M:
	case ST_MEM_HUGETLBFS:
		ASSERT_EQ(size / ST_SZ_2M, want_2m);
		break;
	case ST_MEM_HUGETLB_1G:
		ASSERT_EQ(1, want_1g);
		break;
	default:
		if (want_2m)
			TH_LOG("4 KiB pages that happen to be contiguous");
	}

	test_prereg(self->buf.addr, size, 0, &handle, NULL);
	test_map(handle, 0, size, ST_PROT_RW, 0, &iova);
	ASSERT_EQ(0, audit_read(&before));
	test_unmap(iova, size, 0, &unmapped);
	ASSERT_EQ(0, audit_read(&after));
	EXPECT_EQ(size, unmapped);
	EXPECT_EQ(want_4k, after.pages_4k - before.pages_4k);
	EXPECT_EQ(want_2m, after.pages_2m - before.pages_2m);
	EXPECT_EQ(want_1g, after.pages_1g - before.pages_1g);

	/* A mapping at a 4 KiB offset from its congruence cannot use them. */
	if (size == ST_SZ_2M) {
		test_map(handle, PAGE_SIZE, size - PAGE_SIZE, ST_PROT_RW, 0,
			 &iova);
		ASSERT_EQ(0, audit_read(&before));
		test_unmap(iova, size - PAGE_SIZE, 0, NULL);
		ASSERT_EQ(0, audit_read(&after));
		EXPECT_EQ(size / PAGE_SIZE - 1,
			  after.pages_4k - before.pages_4k);
		EXPECT_EQ(0, after.pages_2m - before.pages_2m);
	}
	test_unreg(handle, 0);
}

TEST_HARNESS_MAIN
