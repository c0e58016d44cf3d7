// SPDX-License-Identifier: GPL-2.0-only
/*
 * region: the registered buffers the kernel knows of, and registering
 * one from the command line.
 *
 *	iommu-reg region show [pid PID] [container ID]
 *	iommu-reg region add BDF [size SIZE] [mem 4k|thp|hugetlb] [readonly]
 *			     [hold] [invalidate-after SECONDS]
 *	iommu-reg region del { container ID handle H | pid PID [...] }
 *
 * show dumps the netlink family's regions; without CAP_SYS_ADMIN the
 * kernel shows only the caller's own processes' regions.
 *
 * add registers a buffer of anonymous memory of the chosen backing in a
 * container with the device.  hold keeps the registration until SIGINT
 * or SIGTERM, so that "iommu-reg region show" elsewhere shows it;
 * invalidate-after unmaps the buffer after a while, to show the kernel
 * invalidating the registration.  Whether the device really reaches the
 * buffer is the edu self-check's to prove (tools/testing/edu-check).
 *
 * del is the counterpart of add ... hold, nothing more.  A registration
 * belongs to the process that made it and the kernel has no command to
 * unregister someone else's; so del finds the region(s) in the dump,
 * checks that their owner is a holder of this tool (the same executable,
 * by device and inode of /proc/PID/exe, started with the word hold,
 * which only region add takes), asks it to let go with SIGTERM and waits
 * until the dump no longer has them.  A region of any other program is
 * refused.  The pids are the initial pid namespace's, as the dump's.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "iommureg.h"
#include "tool.h"
#include "nl.h"
#include "print.h"

#define SZ_2M	(2UL << 20)

/* ---- show ---- */

static const struct nl_field mapping_fields[] = {
	NL_FIELD(IOMMU_REG_A_IOVA, "iova", NL_FIELD_HEX),
	NL_FIELD(IOMMU_REG_A_LENGTH, "length", 0),
};

/*
 * A region with more mappings than one netlink message holds comes in
 * several messages, each naming it again (container id and handle): they
 * print as one object, whose mapping list stays open until another region
 * or the end of the dump.
 */
struct region_show_state {
	bool open;
	uint32_t container;
	uint32_t handle;
};

static void region_print_end(void *arg)
{
	struct region_show_state *st = arg;

	if (!st->open)
		return;
	print_close();
	print_nl();
	print_close();
	st->open = false;
}

static void region_print_mappings(struct nlattr *mappings)
{
	struct nlattr *m, *mt[IOMMU_REG_A_MAX + 1];
	int rem;

	nla_for_each_nested(m, mappings, rem) {
		if (nla_parse_nested(mt, IOMMU_REG_A_MAX, m, NULL) ||
		    !mt[IOMMU_REG_A_IOVA] || !mt[IOMMU_REG_A_LENGTH])
			continue;
		print_br();
		print_open_obj(NULL);
		print_fields(mt, mapping_fields, ARRAY_SIZE(mapping_fields));
		print_str("prot", "prot %s",
			  !mt[IOMMU_REG_A_PROT] ? "?" :
			  nla_get_u32(mt[IOMMU_REG_A_PROT]) ==
			  (IOMMU_REG_PROT_READ | IOMMU_REG_PROT_WRITE) ?
			  "rw" : nla_get_u32(mt[IOMMU_REG_A_PROT]) ==
			  IOMMU_REG_PROT_READ ? "r" : "w");
		print_close();
	}
}

static int region_print(struct nlattr **tb,
			uint8_t cmd __attribute__((unused)), void *arg)
{
	struct region_show_state *st = arg;
	uint32_t flags, container, handle;

	if (!tb[IOMMU_REG_A_CONTAINER_ID] || !tb[IOMMU_REG_A_HANDLE] ||
	    !tb[IOMMU_REG_A_VADDR] || !tb[IOMMU_REG_A_SIZE])
		return 0;
	container = nla_get_u32(tb[IOMMU_REG_A_CONTAINER_ID]);
	handle = nla_get_u32(tb[IOMMU_REG_A_HANDLE]);
	if (st->open && st->container == container && st->handle == handle) {
		/* The same region, continued: only more mappings. */
		if (tb[IOMMU_REG_A_MAPPINGS])
			region_print_mappings(tb[IOMMU_REG_A_MAPPINGS]);
		return 0;
	}
	region_print_end(st);
	flags = tb[IOMMU_REG_A_FLAGS] ? nla_get_u32(tb[IOMMU_REG_A_FLAGS]) : 0;
	print_open_obj(NULL);
	print_owner(tb, true);
	print_bool("readonly", "readonly %s",
		   flags & IOMMU_REG_REGION_READONLY);
	print_attr(tb, IOMMU_REG_A_REFS, "refs", NL_FIELD_ZERO);
	print_bool("stale", "stale %s",
		   tb[IOMMU_REG_A_STALE] && nla_get_u8(tb[IOMMU_REG_A_STALE]));
	print_field(tb, &(struct nl_field){ .attr = IOMMU_REG_A_PINNED_PAGES,
					    .key = "pinned_pages",
					    .flags = NL_FIELD_ZERO,
					    .label = "pinned" });
	print_open_array("mappings");
	if (tb[IOMMU_REG_A_MAPPINGS])
		region_print_mappings(tb[IOMMU_REG_A_MAPPINGS]);
	*st = (struct region_show_state){ .open = true,
					  .container = container,
					  .handle = handle };
	return 0;
}

/* ---- add ---- */

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
	long long invalidate_after;	/* seconds, -1: never */
};

static int parse_opts(struct tool *t, struct reg_opts *o)
{
	unsigned long long secs;
	const char *w, *v;
	unsigned int i;
	int ret = 0;

	memset(o, 0, sizeof(*o));
	o->size = SZ_2M;
	o->mem = MEM_THP;
	o->invalidate_after = -1;
	ret = arg_bdf(t, o->bdf);
	if (ret)
		return ret;

	while (!ret && (w = arg_next(t))) {
		if (!strcmp(w, "hold")) {
			o->hold = true;
		} else if (!strcmp(w, "readonly")) {
			o->readonly = true;
		} else if (!strcmp(w, "size")) {
			ret = arg_size(t, w, &o->size);
		} else if (!strcmp(w, "invalidate-after")) {
			ret = arg_number(t, w, 0, LONG_MAX, &secs);
			o->invalidate_after = secs;
		} else if (!strcmp(w, "mem")) {
			v = arg_next(t);
			for (i = 0; v && i < ARRAY_SIZE(mem_names); i++)
				if (!strcmp(v, mem_names[i]))
					break;
			if (!v || i == ARRAY_SIZE(mem_names))
				return cmd_usage_error(t,
					"bad mem '%s' (4k, thp or hugetlb)",
					v ? v : "");
			o->mem = i;
		} else {
			return cmd_usage_error(t, "unknown argument '%s'", w);
		}
	}
	if (ret)
		return ret;
	if (o->mem != MEM_4K && (o->size & (SZ_2M - 1)))
		return cmd_usage_error(t, "%s needs a multiple of 2M",
				       mem_names[o->mem]);
	return EXIT_OK;
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

static int region_add(struct tool *t)
{
	struct ireg_region region;
	struct reg_opts o;
	struct ireg_ctx *ctx;
	char addr[24];
	sigset_t set;
	int ret;
	char *buf;

	ret = parse_opts(t, &o);
	if (ret)
		return ret;

	/* Signals are taken with sigwait, never delivered. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);

	ret = ctx_open(&ctx, (char *const[]){ o.bdf }, 1);
	if (ret)
		return ret;
	buf = buf_alloc(&o);
	if (!buf) {
		print_err(errno, "allocating %zu bytes of %s memory%s", o.size,
			  mem_names[o.mem], o.mem == MEM_HUGETLB ?
			  " (are hugepages reserved?)" : "");
		ret = o.mem == MEM_HUGETLB ? EXIT_UNSUPPORTED : EXIT_ERROR;
		goto out_close;
	}
	ret = ireg_region_register(ctx, buf, o.size,
				   o.readonly ? IOMMU_REG_PROT_READ :
				   IOMMU_REG_PROT_READ | IOMMU_REG_PROT_WRITE,
				   o.readonly ? IOMMU_REG_REGION_READONLY : 0,
				   &region);
	if (ret) {
		print_err(0, "%s", ireg_ctx_errmsg(ctx));
		ret = EXIT_ERROR;
		goto out_unmap;
	}

	snprintf(addr, sizeof(addr), "%p", (void *)buf);
	print_open_obj(NULL);
	print_str("device", "device %s", o.bdf);
	print_str("mem", "mem %s", mem_names[o.mem]);
	print_uint("size", "size %llu", o.size);
	print_str("vaddr", "vaddr %s", addr);
	print_hex("iova", "iova %s", region.iova);
	print_uint("handle", "handle %llu", region.handle);
	print_nl();

	if (o.invalidate_after >= 0) {
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
	if (o.hold) {
		print_err(0, "holding the registration; SIGINT or SIGTERM releases it");
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

static int region_show(struct tool *t)
{
	struct region_show_state st = { 0 };

	return nl_show(t, IOMMU_REG_CMD_REGION_GET, region_print, &st,
		       region_print_end, true);
}

/* ---- del ---- */

#define DEL_MAX		64	/* regions one del handles */
#define DEL_WAIT_MS	5000	/* for the holder to let go */
#define DEL_POLL_MS	100

struct del_region {
	uint32_t container, pid, handle;
	char comm[16];
	int pidfd;		/* the holder checked, -1: it has exited */
};

struct del_req {
	unsigned long long container, pid, handle;	/* 0: any */
	struct del_region r[DEL_MAX];
	unsigned int n;		/* matched, possibly more than DEL_MAX */
};

static int del_collect(struct nlattr **tb,
		       uint8_t cmd __attribute__((unused)), void *arg)
{
	struct del_req *req = arg;
	struct del_region *r;

	if (!tb[IOMMU_REG_A_CONTAINER_ID] || !tb[IOMMU_REG_A_PID] ||
	    !tb[IOMMU_REG_A_HANDLE])
		return 0;
	if (req->handle && nla_get_u32(tb[IOMMU_REG_A_HANDLE]) != req->handle)
		return 0;
	if (req->n++ >= DEL_MAX)
		return 0;
	r = &req->r[req->n - 1];
	r->container = nla_get_u32(tb[IOMMU_REG_A_CONTAINER_ID]);
	r->pid = nla_get_u32(tb[IOMMU_REG_A_PID]);
	r->handle = nla_get_u32(tb[IOMMU_REG_A_HANDLE]);
	r->pidfd = -1;
	snprintf(r->comm, sizeof(r->comm), "%s", tb[IOMMU_REG_A_COMM] ?
		 nla_get_string(tb[IOMMU_REG_A_COMM]) : "?");
	return 0;
}

/* The regions the request names, in @req; an exit code. */
static int del_dump(struct nl_conn *nl, struct del_req *req)
{
	req->n = 0;
	return nl_conn_request(nl, IOMMU_REG_CMD_REGION_GET, true,
			       req->container, req->pid, del_collect, req);
}

/* Whether /proc/PID/cmdline has the word @word after the program's. */
static int cmdline_has(uint32_t pid, const char *word)
{
	char path[32], buf[4096], *p;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len < 0)
		return -errno;
	buf[len] = '\0';
	for (p = buf + strlen(buf) + 1; p < buf + len; p += strlen(p) + 1)
		if (!strcmp(p, word))
			return 1;
	return 0;
}

/*
 * Whether @pid is a holder of this tool: 1, 0, or -errno when /proc
 * does not tell (EACCES: another user's process).
 */
static int holder_check(uint32_t pid)
{
	struct stat self, st;
	char path[32];

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	if (stat("/proc/self/exe", &self) || stat(path, &st))
		return -errno;
	if (self.st_dev != st.st_dev || self.st_ino != st.st_ino)
		return 0;
	return cmdline_has(pid, "hold");
}

static int del_parse(struct tool *t, struct del_req *req)
{
	const char *w;
	int ret;

	memset(req, 0, sizeof(*req));
	while ((w = arg_next(t))) {
		if (!strcmp(w, "pid"))
			ret = arg_number(t, w, 1, UINT32_MAX, &req->pid);
		else if (!strcmp(w, "container"))
			ret = arg_number(t, w, 1, UINT32_MAX, &req->container);
		else if (!strcmp(w, "handle"))
			ret = arg_number(t, w, 1, UINT32_MAX, &req->handle);
		else
			return cmd_usage_error(t, "unknown argument '%s'", w);
		if (ret)
			return ret;
	}
	if (!req->pid && !(req->container && req->handle))
		return cmd_usage_error(t,
			"which region? 'container ID handle H' or 'pid PID'");
	return EXIT_OK;
}

/* "pid 3 container 1 handle 2": what was asked, for messages. */
static void del_what(const struct del_req *req, char *buf, size_t size)
{
	const char *const names[] = { "pid", "container", "handle" };
	const unsigned long long vals[] = {
		req->pid, req->container, req->handle
	};
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(vals) && len < size; i++)
		if (vals[i])
			len += snprintf(buf + len, size - len, "%s%s %llu",
					len ? " " : "", names[i], vals[i]);
}

static int pidfd_open_pid(uint32_t pid)
{
	return syscall(SYS_pidfd_open, (pid_t)pid, 0);
}

static int pidfd_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/*
 * The dump's pids are the initial pid namespace's (uapi); in another one
 * /proc would name other processes.  True when this is the initial one
 * (/proc/self/status has a single NSpid).
 */
static bool pidns_initial(void)
{
	char line[256];
	bool initial = true;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "NSpid:", 6)) {
			initial = !strchr(line + 6 + strspn(line + 6, " \t"),
					  '\t');
			break;
		}
	}
	fclose(f);
	return initial;
}

/*
 * Every region of @req has an owner that is one of our holders.  Each
 * holder is pinned with a pidfd before /proc is read and found still
 * alive after, so the signal goes to the process that was checked even
 * if its pid is reused meanwhile.
 */
static int del_check(struct del_req *req)
{
	struct del_region *r;
	int ret;

	for (r = req->r; r < req->r + req->n; r++) {
		r->pidfd = pidfd_open_pid(r->pid);
		if (r->pidfd < 0 && errno == ESRCH)
			continue;	/* exited: the region goes with it */
		if (r->pidfd < 0) {
			print_err(errno, "pid %u", r->pid);
			return EXIT_ERROR;
		}
		ret = holder_check(r->pid);
		if (pidfd_signal(r->pidfd, 0) && errno == ESRCH) {
			/* Exited; /proc may have shown a successor. */
			close(r->pidfd);
			r->pidfd = -1;
			continue;
		}
		if (ret == -EACCES || ret == -EPERM) {
			print_err(EPERM, "region %u of container %u: cannot inspect its owner pid %u (%s)",
				  r->handle, r->container, r->pid, r->comm);
			return EXIT_ERROR;
		}
		if (ret < 0) {
			print_err(-ret, "pid %u", r->pid);
			return EXIT_ERROR;
		}
		if (!ret) {
			print_err(0, "region %u of container %u is owned by pid %u (%s): only its owner can unregister it; the kernel has no forced unregistration",
				  r->handle, r->container, r->pid, r->comm);
			return EXIT_ERROR;
		}
	}
	return EXIT_OK;
}

static void del_close(struct del_req *req)
{
	unsigned int i;

	for (i = 0; i < req->n && i < DEL_MAX; i++) {
		if (req->r[i].pidfd >= 0)
			close(req->r[i].pidfd);
		req->r[i].pidfd = -1;
	}
}

/* Whether the dump @now still has a region of @req. */
static bool del_left(const struct del_req *req, const struct del_req *now)
{
	unsigned int i, j;

	for (i = 0; i < now->n && i < DEL_MAX; i++)
		for (j = 0; j < req->n; j++)
			if (now->r[i].container == req->r[j].container &&
			    now->r[i].handle == req->r[j].handle &&
			    now->r[i].pid == req->r[j].pid)
				return true;
	return now->n > DEL_MAX;
}

static int region_del(struct tool *t)
{
	struct del_req req, now;
	const struct del_region *r;
	struct nl_conn nl;
	struct timespec poll = { .tv_nsec = DEL_POLL_MS * 1000000L };
	char what[80];
	int ret, waited;

	ret = del_parse(t, &req);
	if (ret)
		return ret;
	del_what(&req, what, sizeof(what));
	if (!pidns_initial()) {
		print_err(EOPNOTSUPP, "region del runs in the initial pid namespace only: the kernel reports owners by their pids there");
		return EXIT_ERROR;
	}
	ret = nl_conn_open(&nl);
	if (ret)
		return ret;
	ret = del_dump(&nl, &req);
	if (ret)
		goto out;
	ret = EXIT_ERROR;
	if (!req.n) {
		print_err(ENOENT, "no such region (%s)", what);
		goto out;
	}
	if (req.n > DEL_MAX) {
		print_err(E2BIG, "%u regions (%s), more than %d at once",
			  req.n, what, DEL_MAX);
		goto out;
	}
	ret = del_check(&req);
	if (ret)
		goto out;

	/* A holder holds one region; asking one twice does no harm. */
	for (r = req.r; r < req.r + req.n; r++) {
		if (r->pidfd >= 0 && pidfd_signal(r->pidfd, SIGTERM) &&
		    errno != ESRCH) {
			print_err(errno, "asking holder pid %u to release region %u",
				  r->pid, r->handle);
			goto out;
		}
	}

	now = req;
	for (waited = 0; ; waited += DEL_POLL_MS) {
		ret = del_dump(&nl, &now);
		if (ret)
			goto out;
		if (!del_left(&req, &now))
			break;
		if (waited >= DEL_WAIT_MS) {
			print_err(ETIMEDOUT, "the holder did not release the region (%s) within %d s",
				  what, DEL_WAIT_MS / 1000);
			ret = EXIT_ERROR;
			goto out;
		}
		nanosleep(&poll, NULL);
	}

	print_open_array(NULL);
	for (r = req.r; r < req.r + req.n; r++) {
		print_open_obj(NULL);
		print_uint("container", "container %llu", r->container);
		print_uint("pid", "pid %llu", r->pid);
		print_str("comm", "comm %s", r->comm);
		print_uint("handle", "handle %llu", r->handle);
		print_bool("deleted", "deleted %s", true);
		print_close();
		print_nl();
	}
	print_close();
	ret = EXIT_OK;
out:
	del_close(&req);
	nl_conn_close(&nl);
	return ret;
}

const struct cmd region_cmds[] = {
	CMD_VERB("show", region_show, "[pid PID] [container ID]",
		 "regions with their mappings"),
	CMD_VERB("add", region_add,
		 "BDF [size S] [mem M] [readonly] [hold] [invalidate-after S]",
		 "register a buffer with a device (held until a signal with hold)"),
	CMD_VERB("del", region_del, "container ID handle H | pid PID",
		 "ask a holder of region add ... hold to release its region"),
	{ NULL }
};
