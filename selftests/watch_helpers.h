/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What race_test and unpriv_test watch besides errnos: the kernel log
 * (so that a splat fails the case that caused it, not only the VM run),
 * the module's global counters over netlink, and a userfaultfd that
 * stalls a user page until a handler thread fills it.
 *
 * The kernel-log watch does not excuse anything: the VM runner still
 * scans the whole log and fails the run on any splat.
 */
#ifndef WATCH_HELPERS_H
#define WATCH_HELPERS_H

#include <poll.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <linux/userfaultfd.h>
#include "nl_helpers.h"

/* --- Kernel log ---------------------------------------------------------- */

/* Lines of the kernel log that mean the kernel went wrong (scan-klog's). */
static const char *const st_splat_words[] = {
	"WARNING:", "BUG:", "Oops", "general protection fault", "KASAN",
	"UBSAN", "refcount_t:", "list_add corruption", "list_del corruption",
	"Call Trace:", "Kernel panic", "possible circular locking",
	"inconsistent lock state", "blocked for more than",
};

/* A /dev/kmsg reader positioned at the end of the log, or -1 (not root). */
static inline int st_klog_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Read what the kernel logged since the last call (or st_klog_open())
 * and return the number of splat lines in it; the first one is copied to
 * @first unless @first already holds one.  The reader stays open.
 */
static inline int st_klog_poll(int fd, char *first, size_t len)
{
	char rec[2048];
	int splats = 0;
	unsigned int i;
	ssize_t n;

	if (fd < 0)
		return 0;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)	/* overwritten: go on */
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		for (i = 0; i < sizeof(st_splat_words) / sizeof(char *); i++) {
			if (!strstr(rec, st_splat_words[i]))
				continue;
			splats++;
			if (first && len && !first[0]) {
				snprintf(first, len, "%.*s", (int)len - 1,
					 strchr(rec, ';') ?
					 strchr(rec, ';') + 1 : rec);
				if (strchr(first, '\n'))
					*strchr(first, '\n') = '\0';
			}
			break;
		}
	}
	return splats;
}

/* st_klog_poll() once more, then close the reader. */
static inline int st_klog_splats(int fd, char *first, size_t len)
{
	int splats;

	if (first && len)
		first[0] = '\0';
	splats = st_klog_poll(fd, first, len);
	if (fd >= 0)
		close(fd);
	return splats;
}

/* --- Global counters (netlink IOMMU_REG_CMD_STATS_GET) -------------------- */

struct st_stats {
	uint64_t v[IOMMU_REG_STAT_MAX + 1];
};

static inline void st_stats_cb(struct nlmsghdr *nlh, void *arg)
{
	struct st_stats *s = arg;
	struct nlattr *nest = attr(nlh, IOMMU_REG_A_STATS), *a;
	int len;

	if (!nest)
		return;
	len = nest->nla_len - NLA_HDRLEN;
	NLA_FOR_EACH(a, (struct nlattr *)NLA_DATA(nest), len) {
		uint16_t type = a->nla_type & NLA_TYPE_MASK;

		if (type <= IOMMU_REG_STAT_MAX &&
		    a->nla_len >= NLA_HDRLEN + sizeof(uint64_t))
			memcpy(&s->v[type], NLA_DATA(a), sizeof(uint64_t));
	}
}

/* The module's counters now; 0 or -1 (no netlink family). */
static inline int st_stats_read(struct st_stats *s)
{
	static struct nl nl;	/* 64 KiB of buffer: not on the stack */
	struct nlmsghdr *nlh;
	char buf[256];
	int ret;

	memset(s, 0, sizeof(*s));
	if (nl_open(&nl))
		return -1;
	nlh = msg_start(&nl, buf, nl.family, NLM_F_ACK,
			IOMMU_REG_CMD_STATS_GET);
	ret = nl_request(&nl, nlh, st_stats_cb, s);
	close(nl.fd);
	return ret;
}

/* --- userfaultfd ---------------------------------------------------------- */

/*
 * An anonymous area registered with userfaultfd (missing pages).  A
 * handler thread resolves each fault after @delay_us with the contents
 * of the matching page of @tmpl (UFFDIO_COPY).  st_uffd_rearm() makes a
 * page missing again.  With @hold set the handler leaves faults pending
 * until it is cleared (or the uffd is closed).
 */
struct st_uffd {
	int fd;
	uint8_t *area;		/* registered */
	uint8_t *tmpl;		/* what each page gets when it is filled */
	size_t size;
	volatile unsigned int delay_us;
	volatile bool hold;
	volatile bool stop;
	volatile unsigned long faults;
	pthread_t thread;
	bool running;
};

static inline void *st_uffd_handler(void *arg)
{
	struct st_uffd *u = arg;
	struct uffd_msg msg;
	struct pollfd pfd = { .fd = u->fd, .events = POLLIN };

	while (!u->stop) {
		struct uffdio_copy copy;
		uint64_t page;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if (read(u->fd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		u->faults++;
		while (u->hold && !u->stop)
			usleep(1000);
		if (u->delay_us)
			usleep(u->delay_us);
		page = msg.arg.pagefault.address & ~(ST_PAGE_SIZE - 1);
		copy.dst = page;
		copy.src = (uintptr_t)u->tmpl + (page - (uintptr_t)u->area);
		copy.len = ST_PAGE_SIZE;
		copy.mode = 0;
		copy.copy = 0;
		/* EEXIST: another fault filled it first. */
		ioctl(u->fd, UFFDIO_COPY, &copy);
	}
	return NULL;
}

/* 0, or -1 with errno (no userfaultfd in this kernel, or not allowed). */
static inline int st_uffd_create(struct st_uffd *u, size_t size,
				 int flags)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;

	memset(u, 0, sizeof(*u));
	u->fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | flags);
	if (u->fd < 0)
		return -1;
	if (ioctl(u->fd, UFFDIO_API, &api))
		goto err_close;
	u->size = size;
	u->area = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	u->tmpl = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->area == MAP_FAILED || u->tmpl == MAP_FAILED)
		goto err_close;
	madvise(u->area, size, MADV_NOHUGEPAGE);
	reg.range.start = (uintptr_t)u->area;
	reg.range.len = size;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(u->fd, UFFDIO_REGISTER, &reg))
		goto err_close;
	if (pthread_create(&u->thread, NULL, st_uffd_handler, u))
		goto err_close;
	u->running = true;
	return 0;

err_close:
	close(u->fd);
	u->fd = -1;
	return -1;
}

/* Make the page at @p missing again: its next access faults. */
static inline void st_uffd_rearm(struct st_uffd *u, void *p)
{
	madvise((void *)((uintptr_t)p & ~(ST_PAGE_SIZE - 1)), ST_PAGE_SIZE,
		MADV_DONTNEED);
}

static inline void st_uffd_destroy(struct st_uffd *u)
{
	if (u->running) {
		u->hold = false;
		u->stop = true;
		pthread_join(u->thread, NULL);
		u->running = false;
	}
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
}

#endif /* WATCH_HELPERS_H */
