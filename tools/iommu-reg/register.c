// SPDX-License-Identifier: GPL-2.0-only
/*
 * register: register a buffer in a container with a device, check that
 * the device really reaches it, and optionally hold it.
 *
 *	iommu-reg register BDF [size SIZE] [mem 4k|thp|hugetlb] [readonly]
 *			       [hold] [invalidate-after SECONDS]
 *
 * The buffer is anonymous memory of the chosen backing.  For a device the
 * tool knows (QEMU's edu), the registration is proved with DMA: the device
 * copies a pattern from the buffer into itself and back into another part
 * of the buffer.  hold keeps the registration until SIGINT or SIGTERM, so
 * that "iommu-reg list" elsewhere shows it; invalidate-after unmaps the
 * buffer after a while, to show the kernel invalidating the registration.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "iommureg.h"
#include "../include/edu.h"
#include "ireg.h"
#include "print.h"

#define SZ_4K	4096UL
#define SZ_2M	(2UL << 20)

enum reg_mem { MEM_4K, MEM_THP, MEM_HUGETLB };

static const char *const mem_names[] = {
	[MEM_4K] = "4k", [MEM_THP] = "thp", [MEM_HUGETLB] = "hugetlb",
};

struct reg_opts {
	char bdf[IREG_PCI_BDF_SIZE];
	size_t size;
	enum reg_mem mem;
	bool readonly;
	bool hold;
	long invalidate_after;	/* seconds, -1: never */
};

static int parse_size(const char *s, size_t *size)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'G': case 'g':
		v <<= 10;
		/* fall through */
	case 'M': case 'm':
		v <<= 10;
		/* fall through */
	case 'K': case 'k':
		v <<= 10;
		end++;
		break;
	}
	if (*end || !v || v & (SZ_4K - 1))
		return -EINVAL;
	*size = v;
	return 0;
}

static int parse_opts(struct ireg *ir, struct reg_opts *o)
{
	const char *w, *v;
	unsigned int i;

	memset(o, 0, sizeof(*o));
	o->size = SZ_2M;
	o->mem = MEM_THP;
	o->invalidate_after = -1;
	w = arg_next(ir);
	if (!w)
		return cmd_usage_error(ir, "which device? (a PCI address)");
	if (ireg_pci_bdf_parse(w, o->bdf, sizeof(o->bdf)))
		return cmd_usage_error(ir, "invalid BDF '%s'", w);

	while ((w = arg_next(ir))) {
		if (!strcmp(w, "hold")) {
			o->hold = true;
			continue;
		}
		if (!strcmp(w, "readonly")) {
			o->readonly = true;
			continue;
		}
		v = arg_next(ir);
		if (!v)
			return cmd_usage_error(ir, "'%s' needs a value", w);
		if (!strcmp(w, "size")) {
			if (parse_size(v, &o->size))
				return cmd_usage_error(ir,
					"bad size '%s' (a multiple of 4K, e.g. 64K, 2M)", v);
		} else if (!strcmp(w, "mem")) {
			for (i = 0; i < ARRAY_SIZE(mem_names); i++)
				if (!strcmp(v, mem_names[i]))
					break;
			if (i == ARRAY_SIZE(mem_names))
				return cmd_usage_error(ir,
					"bad mem '%s' (4k, thp or hugetlb)", v);
			o->mem = i;
		} else if (!strcmp(w, "invalidate-after")) {
			char *end;

			o->invalidate_after = strtol(v, &end, 10);
			if (*end || o->invalidate_after < 0)
				return cmd_usage_error(ir, "bad seconds '%s'",
						       v);
		} else {
			return cmd_usage_error(ir, "unknown argument '%s'", w);
		}
	}
	if ((o->mem != MEM_4K) && (o->size & (SZ_2M - 1)))
		return cmd_usage_error(ir, "%s needs a multiple of 2M",
				       mem_names[o->mem]);
	return IREG_EXIT_OK;
}

/* Anonymous memory of the asked backing, touched; NULL with errno. */
static void *buf_alloc(const struct reg_opts *o)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	char *p, *aligned;
	size_t extra = 0;

	if (o->mem == MEM_HUGETLB)
		flags |= MAP_HUGETLB;
	if (o->mem == MEM_THP)
		extra = SZ_2M;	/* room to align to a huge page */
	p = mmap(NULL, o->size + extra, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	aligned = p;
	if (extra) {
		aligned = (char *)(((uintptr_t)p + SZ_2M - 1) & ~(SZ_2M - 1));
		if (aligned > p)
			munmap(p, aligned - p);
		if (aligned + o->size < p + o->size + extra)
			munmap(aligned + o->size,
			       p + o->size + extra - (aligned + o->size));
		madvise(aligned, o->size, MADV_HUGEPAGE);
	} else if (o->mem == MEM_4K) {
		madvise(aligned, o->size, MADV_NOHUGEPAGE);
	}
	memset(aligned, 0, o->size);
	return aligned;
}

static bool is_edu(const char *bdf)
{
	char path[128], buf[16];
	FILE *f;
	bool edu = false;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", bdf);
	f = fopen(path, "r");
	if (f && fgets(buf, sizeof(buf), f))
		edu = !strncmp(buf, "0x11e8", 6);
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", bdf);
	f = fopen(path, "r");
	if (f && fgets(buf, sizeof(buf), f))
		edu = edu && !strncmp(buf, "0x1234", 6);
	else
		edu = false;
	if (f)
		fclose(f);
	return edu;
}

/*
 * The device copies a pattern from the start of the buffer into itself
 * and back at another offset; the bytes must match.  "ok", "failed" or a
 * reason it was not done.
 */
static const char *dma_check(int device_fd, const struct ireg_region *r,
			     char *buf, bool readonly)
{
	struct edu_dev edu = { .group = -1 };
	uint32_t len = r->size >= 2 * EDU_DMA_MAX ? EDU_DMA_MAX :
		       (uint32_t)(r->size / 2);
	const char *result = "ok";
	uint32_t i;

	if (readonly)
		return "skipped (read-only: the device cannot write back)";
	if (edu_init(&edu, device_fd))
		return "skipped (not an edu device)";
	for (i = 0; i < len; i++)
		buf[i] = (char)(i * 31 + 7);
	memset(buf + r->size - len, 0, len);
	if (edu_dma(&edu, ireg_region_iova(r, buf), len, EDU_RAM_TO_DEV,
		    EDU_DMA_TIMEOUT_MS) ||
	    edu_dma(&edu, ireg_region_iova(r, buf + r->size - len), len,
		    EDU_DEV_TO_RAM, EDU_DMA_TIMEOUT_MS))
		result = "failed (DMA timed out)";
	else if (memcmp(buf, buf + r->size - len, len))
		result = "failed (data differs)";
	munmap((void *)edu.bar, EDU_BAR0_SIZE);
	return result;
}

/* Wait for SIGINT/SIGTERM, at most @seconds (-1: forever); the signal. */
static int wait_signal(long seconds)
{
	struct timespec ts = { .tv_sec = seconds };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (seconds < 0)
		return sigwaitinfo(&set, NULL);
	return sigtimedwait(&set, NULL, &ts);
}

int cmd_register(struct ireg *ir)
{
	struct ireg_region region;
	struct reg_opts o;
	struct ireg_ctx *ctx;
	char addr[24], iova[24];
	const char *check;
	sigset_t set;
	int fd, ret;
	char *buf;

	if (cmd_want_help(ir))
		return cmd_help_leaf(ir);
	ret = parse_opts(ir, &o);
	if (ret)
		return ret;

	/* Signals are taken with sigwait, never delivered. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);

	ret = ireg_ctx_open(&ctx, 0);
	if (ret) {
		fprintf(stderr, "iommu-reg: %s\n",
			ret == -ENOENT ? "/dev/vfio/vfio missing: load vfio (modprobe vfio-pci)" :
			ret == -ENODEV ? "the iommu_reg module is not loaded" :
			strerror(-ret));
		return ret == -ENOENT || ret == -ENODEV ?
		       IREG_EXIT_UNSUPPORTED : IREG_EXIT_ERROR;
	}
	fd = ireg_device_open(ctx, o.bdf);
	if (fd < 0) {
		fprintf(stderr, "iommu-reg: %s\n", ireg_ctx_errmsg(ctx));
		ret = fd == -ENODEV ? IREG_EXIT_UNSUPPORTED : IREG_EXIT_ERROR;
		goto out_close;
	}
	buf = buf_alloc(&o);
	if (!buf) {
		fprintf(stderr, "iommu-reg: allocating %zu bytes of %s memory: %s%s\n",
			o.size, mem_names[o.mem], strerror(errno),
			o.mem == MEM_HUGETLB ? " (are hugepages reserved?)" : "");
		ret = o.mem == MEM_HUGETLB ? IREG_EXIT_UNSUPPORTED :
		      IREG_EXIT_ERROR;
		goto out_close;
	}
	ret = ireg_region_register(ctx, buf, o.size,
				   o.readonly ? IOMMU_REG_PROT_READ :
				   IOMMU_REG_PROT_READ | IOMMU_REG_PROT_WRITE,
				   o.readonly ? IOMMU_REG_REGION_READONLY : 0,
				   &region);
	if (ret) {
		fprintf(stderr, "iommu-reg: %s\n", ireg_ctx_errmsg(ctx));
		ret = IREG_EXIT_ERROR;
		goto out_unmap;
	}
	check = is_edu(o.bdf) ? dma_check(fd, &region, buf, o.readonly) :
		"skipped (no self-check for this device)";

	snprintf(addr, sizeof(addr), "%p", (void *)buf);
	snprintf(iova, sizeof(iova), "0x%" PRIx64, region.iova);
	print_open_obj(NULL);
	print_str("device", "device %s", o.bdf);
	print_str("mem", "mem %s", mem_names[o.mem]);
	print_uint("size", "size %llu", o.size);
	print_str("vaddr", "vaddr %s", addr);
	print_str("iova", "iova %s", iova);
	print_uint("handle", "handle %llu", region.handle);
	print_str("dma_check", "dma_check %s", check);
	print_nl();
	ret = strncmp(check, "failed", 6) ? IREG_EXIT_OK : IREG_EXIT_ERROR;

	if (!ret && o.invalidate_after >= 0) {
		if (wait_signal(o.invalidate_after) < 0) {
			munmap(buf, o.size);
			buf = NULL;
		}
		print_bool("invalidated", "invalidated %s",
			   !ireg_region_valid(&region));
		print_nl();
	}
	print_close();
	fflush(stdout);
	if (!ret && o.hold) {
		fprintf(stderr, "iommu-reg: holding the registration; SIGINT or SIGTERM releases it\n");
		wait_signal(-1);
	}

	ireg_region_unregister(ctx, &region);
out_unmap:
	if (buf)
		munmap(buf, o.size);
out_close:
	ireg_ctx_close(ctx);
	return ret;
}
