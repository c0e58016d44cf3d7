/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * QEMU's edu device opened through libiommureg, for the library's examples
 * and VM tests: a context, the device in it, BAR0 mapped.  One copy.
 */
#ifndef TOOLS_EDU_LIB_H
#define TOOLS_EDU_LIB_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "iommureg.h"
#include "edu.h"

/*
 * Open a new context, put the device @bdf in it and, unless @edu is NULL,
 * make it ready for DMA (edu_init()).  Returns the device fd; on failure
 * a negative errno, after saying on stderr, after @who, what went wrong
 * (*ctx is then NULL if no context could be opened, else the caller
 * closes it).
 */
static inline int edu_lib_open(const char *who, const char *bdf,
			       struct ireg_ctx **ctx, struct edu_dev *edu)
{
	const char *why;
	int fd, ret;

	if (edu) {
		edu->group = -1;
		edu->bar = NULL;
	}
	ret = ireg_ctx_open(ctx, 0);
	if (ret) {
		*ctx = NULL;
		why = strerror(-ret);
		goto err;
	}
	ret = fd = ireg_device_open(*ctx, bdf);
	if (fd < 0) {
		why = ireg_ctx_errmsg(*ctx);
		goto err;
	}
	if (edu && edu_init(edu, fd)) {
		ret = -errno;
		why = "not an edu device, or BAR0 cannot be mapped";
		goto err;
	}
	return fd;

err:
	fprintf(stderr, "%s: %s: %s\n", who, bdf, why);
	return ret;
}

/* Undo edu_lib_open(): unmap BAR0, close the context. */
static inline void edu_lib_close(struct ireg_ctx *ctx, struct edu_dev *edu)
{
	if (edu && edu->bar)
		munmap((void *)edu->bar, EDU_BAR0_SIZE);
	ireg_ctx_close(ctx);
}

#endif /* TOOLS_EDU_LIB_H */
