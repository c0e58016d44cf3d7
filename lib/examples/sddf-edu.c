// SPDX-License-Identifier: MIT
/*
 * sddf-edu: two processes in the sDDF manner, sharing a registered pool.
 *
 *	sddf-edu BDF [requests]
 *
 * The driver process owns the device: it opens the edu device through
 * libiommureg, creates a registered, shared pool of buffers and a channel
 * of two SPSC rings in shared memory, and forks the client.
 *
 * The client never talks to the kernel module, nor opens anything: it
 * gets the pool and the channel as memfds and two eventfds, and a seccomp
 * filter kills it if it ever calls ioctl() or open().  It takes a free
 * buffer (an offset) from the free ring, writes a request into the first
 * half of it, and passes the descriptor on the active ring.
 *
 * The driver takes the descriptor, turns the offset into an IOVA with one
 * add, and has the device DMA the first half into itself and back into
 * the second half: zero copies by the CPU.  It returns the buffer on the
 * free ring; the client checks that the second half holds its request.
 *
 * Either side sleeps on its eventfd when its ring is empty, with the
 * rings' signal/re-check protocol, so no wakeup is lost.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iommureg.h"
#include "../../tools/include/edu_lib.h"
#include "../../tools/include/seccomp_util.h"

#define NR_BUFS		16
#define BUF_SIZE	4096
#define REQ_LEN		1500	/* each half; edu moves < 4096 bytes */

/* The client may not call ioctl() or open anything: no kernel module. */
static int client_sandbox(void)
{
	/* arm64 has no open(2), only openat(2). */
	static const int denied[] = { __NR_ioctl, __NR_openat,
#ifdef __NR_open
				      __NR_open,
#endif
	};

	return seccomp_install(denied, sizeof(denied) / sizeof(denied[0]),
			       false) ? -errno : 0;
}

static void fill_request(uint8_t *p, uint32_t seq)
{
	uint32_t i;

	for (i = 0; i < REQ_LEN; i++)
		p[i] = (uint8_t)(seq * 7 + i * 13);
}

/* Client: fill free buffers with requests, check what comes back. */
static int client(int pool_fd, int chan_fd, int to_driver, int to_client,
		  unsigned int requests)
{
	struct ireg_ring_chan chan __attribute__((aligned(64)));
	unsigned int sent = 0, done = 0, bad = 0;
	struct ireg_pool *pool;
	int ret;

	/* Map what the driver shared, then give up the kernel for good. */
	ret = ireg_pool_attach(NULL, pool_fd, NULL, 0, &pool);
	if (!ret)
		ret = ireg_ring_memfd_attach(&chan, chan_fd, IREG_RING_PRODUCER);
	if (!ret)
		ret = client_sandbox();
	if (ret) {
		fprintf(stderr, "client: setup: %s\n", strerror(-ret));
		return 1;
	}

	while (done < requests) {
		struct ireg_ring_desc d;

		/* A buffer back from the driver: check it, maybe reuse it. */
		if (ireg_ring_dequeue(&chan.cons, &d)) {
			if (ireg_ring_wait_avail(&chan.cons, to_client) < 0)
				return 1;
			continue;
		}
		if (d.cookie) {
			uint8_t *buf = ireg_pool_ptr(pool, d.offset);

			if (memcmp(buf, buf + BUF_SIZE / 2, REQ_LEN))
				bad++;
			done++;
		}
		if (sent < requests) {
			uint8_t *buf = ireg_pool_ptr(pool, d.offset);

			memset(buf + BUF_SIZE / 2, 0, REQ_LEN);
			fill_request(buf, ++sent);
			d.len = REQ_LEN;
			d.cookie = sent;
			if (ireg_ring_enqueue(&chan.prod, &d))
				return 1;	/* cannot happen: one per buffer */
			if (ireg_ring_prod_must_notify(&chan.prod))
				ireg_ring_notify(to_driver);
		}
	}
	printf("client: %u requests, %u answered by the device intact, %u corrupt; no system call to the module\n",
	       requests, done - bad, bad);
	return bad ? 1 : 0;
}

/* Driver: hand out the buffers, then serve requests with the device. */
static int driver(struct ireg_pool *pool, struct ireg_ring_chan *chan,
		  struct edu_dev *edu, int to_driver, int to_client,
		  unsigned int requests)
{
	unsigned int served = 0, i;

	for (i = 0; i < NR_BUFS; i++) {
		struct ireg_ring_desc d = {
			.offset = (uint64_t)i * pool->buf_stride,
			.len = BUF_SIZE,
			.cookie = 0,	/* empty: not an answer */
		};

		if (ireg_ring_enqueue(&chan->prod, &d))
			return 1;
	}
	ireg_ring_notify(to_client);

	while (served < requests) {
		struct ireg_ring_desc d;
		uint64_t iova;

		if (ireg_ring_dequeue(&chan->cons, &d)) {
			if (ireg_ring_wait_avail(&chan->cons, to_driver) < 0)
				return 1;
			continue;
		}
		/* Offset to IOVA: one add.  The device copies, the CPU not. */
		iova = ireg_pool_offset_iova(pool, d.offset);
		if (edu_dma(edu, iova, d.len, EDU_RAM_TO_DEV,
			    EDU_DMA_TIMEOUT_MS) ||
		    edu_dma(edu, iova + BUF_SIZE / 2, d.len, EDU_DEV_TO_RAM,
			    EDU_DMA_TIMEOUT_MS)) {
			perror("driver: DMA");
			return 1;
		}
		served++;
		if (ireg_ring_enqueue(&chan->prod, &d))
			return 1;
		if (ireg_ring_prod_must_notify(&chan->prod))
			ireg_ring_notify(to_client);
	}
	printf("driver: %u requests served by DMA through the pool's IOVAs\n",
	       served);
	return 0;
}

int main(int argc, char **argv)
{
	struct ireg_pool_params params = {
		.size = sizeof(params),
		.buf_size = BUF_SIZE,
		.nr_bufs = NR_BUFS,
		.flags = IREG_POOL_SHARED,
	};
	struct ireg_ring_params rp = {
		.size = sizeof(rp),
		.capacity = NR_BUFS,
	};
	struct ireg_ring_chan chan __attribute__((aligned(64)));
	struct edu_dev edu;
	unsigned int requests = argc > 2 ? atoi(argv[2]) : 64;
	int to_driver, to_client, chan_fd, ret, status;
	struct ireg_pool_info info = { .size = sizeof(info) };
	struct ireg_pool *pool;
	struct ireg_ctx *ctx;
	pid_t pid;

	if (argc < 2 || !requests) {
		fprintf(stderr, "usage: %s BDF [requests]\n", argv[0]);
		return 2;
	}
	/* A context with the device in it, BAR0 mapped. */
	if (edu_lib_open("driver", argv[1], &ctx, &edu) < 0)
		return 1;
	ret = ireg_pool_create(ctx, &params, &pool);
	if (ret) {
		fprintf(stderr, "driver: pool: %s\n", ireg_ctx_errmsg(ctx));
		return 1;
	}
	ireg_pool_info(pool, &info);
	chan_fd = ireg_ring_memfd_create("sddf-edu", &rp);
	to_driver = eventfd(0, EFD_CLOEXEC);
	to_client = eventfd(0, EFD_CLOEXEC);
	if (chan_fd < 0 || to_driver < 0 || to_client < 0 ||
	    ireg_ring_memfd_attach(&chan, chan_fd, IREG_RING_CONSUMER)) {
		perror("driver: channel");
		return 1;
	}
	printf("driver: pool of %u x %u B registered at IOVA 0x%" PRIx64
	       " (%s pages), shared as a memfd\n", NR_BUFS, BUF_SIZE,
	       (uint64_t)info.iova, info.page_size >= (2U << 20) ? "huge" :
	       "4 KiB");

	pid = fork();
	if (pid < 0)
		return 1;
	if (!pid)
		_exit(client(info.fd, chan_fd, to_driver, to_client,
			     requests));

	ret = driver(pool, &chan, &edu, to_driver, to_client, requests);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "driver: the client failed (status 0x%x)\n",
			status);
		ret = 1;
	}
	ireg_ring_detach(&chan);
	ireg_pool_destroy(pool);
	edu_lib_close(ctx, &edu);
	if (!ret)
		printf("sddf-edu: ok\n");
	return ret;
}
