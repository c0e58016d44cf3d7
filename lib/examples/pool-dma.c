// SPDX-License-Identifier: MIT
/*
 * pool-dma: a registered buffer pool and a device doing DMA through it.
 *
 *	pool-dma BDF
 *
 * Creates a pool of 2 KiB buffers on QEMU's edu device: the memory is
 * reserved (hugetlbfs if there are free 2 MiB pages, else THP, else 4 KiB
 * pages) and registered with the kernel once.  Buffers are then taken and
 * given back with no system call, and their IOVA is one add away.  The
 * device copies a packet from one buffer into another, the destination
 * IOVA coming from the translation map this time, which works for any
 * registered memory at 2 MiB granularity.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommureg.h"
#include "../../tools/include/clock.h"
#include "../../tools/include/edu_lib.h"

int main(int argc, char **argv)
{
	struct ireg_pool_params params = {
		.size = sizeof(params),
		.buf_size = 2048,
		.nr_bufs = 4096,	/* 8 MiB */
	};
	struct edu_dev edu;
	struct ireg_pool_info info = { .size = sizeof(info) };
	struct ireg_pool *pool;
	struct ireg_map *map;
	struct ireg_ctx *ctx;
	char *rx, *tx, *b;
	uint64_t tx_iova, rx_iova;
	const uint32_t len = 1500;
	double t0, t1;
	int ret, i;

	if (argc != 2) {
		fprintf(stderr, "usage: %s BDF\n", argv[0]);
		return 2;
	}
	/* A context with the device in it, BAR0 mapped. */
	if (edu_lib_open("pool-dma", argv[1], &ctx, &edu) < 0)
		return 1;

	ret = ireg_map_create(&map);
	if (ret) {
		fprintf(stderr, "pool-dma: map: %s\n", strerror(-ret));
		return 1;
	}
	params.map = map;	/* the pool enters its 2 MiB chunks */
	ret = ireg_pool_create(ctx, &params, &pool);
	if (ret) {
		fprintf(stderr, "pool-dma: %s\n", ireg_ctx_errmsg(ctx));
		return 1;
	}
	ireg_pool_info(pool, &info);
	printf("pool: %u buffers of %zu bytes, %zu MiB in %zu KiB pages at %p, IOVA 0x%" PRIx64 "\n",
	       info.nr_bufs, info.buf_stride, info.mem_size >> 20,
	       info.page_size >> 10, info.base, info.iova);

	/* The hot path: no system call, no lock. */
	t0 = clock_now_ns();
	for (i = 0; i < 1000000; i++) {
		b = ireg_pool_buf_alloc(pool);
		ireg_pool_buf_free(pool, b);
	}
	t1 = clock_now_ns();
	printf("buffer alloc + free: %.1f ns a pair\n", (t1 - t0) / 1e6);

	tx = ireg_pool_buf_alloc(pool);
	rx = ireg_pool_buf_alloc(pool);
	for (i = 0; i < (int)len; i++)
		tx[i] = (char)(i * 7 + 3);
	memset(rx, 0, len);

	tx_iova = ireg_pool_iova(pool, tx);		/* one add */
	rx_iova = ireg_map_translate_len(map, rx, len);	/* two loads */
	if (rx_iova == IREG_IOVA_INVALID)	/* 4 KiB pages: no chunk */
		rx_iova = ireg_pool_iova(pool, rx);
	if (edu_dma_copy(&edu, tx_iova, rx_iova, len)) {
		perror("pool-dma: DMA");
		return 1;
	}
	if (memcmp(tx, rx, len)) {
		fprintf(stderr, "pool-dma: data differs after the device's copy\n");
		return 1;
	}
	printf("device DMA: %u bytes from buffer at offset %" PRIu64 " (IOVA 0x%" PRIx64 ") to offset %" PRIu64 " (IOVA 0x%" PRIx64 "): data intact\n",
	       len, ireg_pool_offset(pool, tx), tx_iova,
	       ireg_pool_offset(pool, rx), rx_iova);

	ireg_pool_buf_free(pool, rx);
	ireg_pool_buf_free(pool, tx);
	if (ireg_pool_free(pool, tx) != -EALREADY) {
		fprintf(stderr, "pool-dma: double free not detected\n");
		return 1;
	}
	ireg_pool_destroy(pool);	/* unregisters, leaves the map */
	ireg_map_destroy(map);
	edu_lib_close(ctx, &edu);
	return 0;
}
