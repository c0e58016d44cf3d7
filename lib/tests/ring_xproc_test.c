// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rings across processes: the area in a memfd (ireg_ring_memfd_create()),
 * each process with its own mapping (ireg_ring_memfd_attach()), buffers
 * in a second memfd, eventfds for sleeping.
 *
 *  - memfd_create, memfd_attach: the seals, and what attach refuses.
 *  - fork_1m: a forked child maps the area itself and consumes a million
 *    descriptors, checking each buffer's payload through its own mapping
 *    of the data memfd, and gives the buffers back on the free ring.
 *  - fork_eventfd: both processes sleep on eventfds inherited over fork,
 *    with few buffers in flight: a lost wakeup deadlocks, and the
 *    harness's timeout fails the case.
 *  - scm_rights: the child gets the memfds and eventfds only through a
 *    unix socket (they are made after the fork), as an unrelated process
 *    would.
 *
 * kselftest_harness, TAP on stdout; exit 0 when every case passed, 1
 * otherwise.  IREG_RING_SEED sets the random seed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "iommureg/ring.h"
#include "../../tools/include/clock.h"
#include "../../tools/include/spin.h"
#include "../../tools/include/xorshift.h"
#include "kselftest_harness.h"
#include "harness.h"

static uint64_t seed;

/* Buffers: a memfd of NR_BUFS slots of BUF_SIZE bytes. */
#define NR_BUFS		64
#define BUF_SIZE	256
#define PAYLOAD_WORDS	8

static void payload_fill(uint64_t *buf, uint64_t s)
{
	unsigned int w;

	for (w = 0; w < PAYLOAD_WORDS; w++)
		buf[w] = s * PAYLOAD_WORDS + w;
}

static bool payload_ok(const uint64_t *buf, uint64_t s)
{
	unsigned int w;

	for (w = 0; w < PAYLOAD_WORDS; w++)
		if (buf[w] != s * PAYLOAD_WORDS + w)
			return false;
	return true;
}

static int data_memfd(void)
{
	int fd = memfd_create("ring-xproc-data", MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, NR_BUFS * BUF_SIZE)) {
		close(fd);
		return -1;
	}
	return fd;
}

static char *data_map(int fd)
{
	void *p = mmap(NULL, NR_BUFS * BUF_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * Run @child_fn(arg) in a child and wait for it; the child's exit status
 * is its verdict.  The child dies with the parent.
 */
static pid_t spawn(int (*child_fn)(void *), void *arg)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		exit(child_fn(arg));
	}
	return pid;
}

static int reap(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	printf("# child killed by signal %d\n", WTERMSIG(status));
	return -1;
}

/*
 * Cases: each in a child of its own (kselftest_harness), whose process
 * group the harness kills when it runs out of time: a lost wakeup, or a
 * side stuck, takes the consumer down with it.
 */
FIXTURE(ring_xproc) {
};

FIXTURE_SETUP(ring_xproc)
{
}

FIXTURE_TEARDOWN(ring_xproc)
{
}

TEST_F(ring_xproc, memfd_create)
{
	struct ireg_ring_params params = {
		.size = sizeof(params),
		.capacity = 64,
	};
	struct stat st;
	int fd, seals;

	params.capacity = 63;
	EXPECT_EQ(-EINVAL, ireg_ring_memfd_create("x", &params));
	params.capacity = 64;
	params.flags = 1;
	EXPECT_EQ(-EINVAL, ireg_ring_memfd_create("x", &params));
	params.flags = 0;
	/* NULL: the default capacity (ring_test's params_size). */
	fd = ireg_ring_memfd_create("x", NULL);
	ASSERT_TRUE(fd >= 0);
	EXPECT_TRUE(fstat(fd, &st) == 0);
	EXPECT_EQ(ireg_ring_area_size(IREG_RING_DEFAULT_CAPACITY), st.st_size);
	close(fd);
	fd = ireg_ring_memfd_create(NULL, &params);
	ASSERT_TRUE(fd >= 0);
	EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_TRUE(fstat(fd, &st) == 0);
	EXPECT_EQ(ireg_ring_area_size(64), st.st_size);
	seals = fcntl(fd, F_GET_SEALS);
	EXPECT_TRUE(seals >= 0);
	EXPECT_EQ(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL,
		  seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL));
	/* Nobody, creator included, can shrink it under a mapping. */
	EXPECT_TRUE(ftruncate(fd, 4096) == -1 && errno == EPERM);
	EXPECT_TRUE(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == -1 && errno == EPERM);
	close(fd);
}

TEST_F(ring_xproc, memfd_attach)
{
	struct ireg_ring_params params = {
		.size = sizeof(params),
		.capacity = 16,
	};
	size_t size = ireg_ring_area_size(16);
	struct ireg_ring_chan chan;
	int fd, plain, zeros, tiny, efd;
	void *mem;

	fd = ireg_ring_memfd_create("ring", &params);
	ASSERT_TRUE(fd >= 0);
	EXPECT_EQ(0, ireg_ring_memfd_attach(&chan, fd, IREG_RING_CONSUMER));
	EXPECT_TRUE(chan.map != NULL);
	EXPECT_EQ(size, chan.map_size);
	EXPECT_EQ(IREG_RING_CONSUMER, chan.role);
	ireg_ring_detach(&chan);
	EXPECT_TRUE(chan.map == NULL);
	EXPECT_EQ(-EINVAL, ireg_ring_memfd_attach(&chan, fd, 7));
	EXPECT_EQ(-EINVAL,
		  ireg_ring_memfd_attach(NULL, fd, IREG_RING_PRODUCER));
	EXPECT_EQ(-EBADF,
		  ireg_ring_memfd_attach(&chan, -1, IREG_RING_PRODUCER));

	/* A well-formed area its sender could still truncate: refused. */
	plain = memfd_create("plain", MFD_CLOEXEC);
	ASSERT_TRUE(plain >= 0);
	ASSERT_TRUE(ftruncate(plain, size) == 0);
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, plain, 0);
	ASSERT_TRUE(mem != MAP_FAILED);
	EXPECT_EQ(0, ireg_ring_init(mem, size, &params));
	munmap(mem, size);
	EXPECT_EQ(-EPERM,
		  ireg_ring_memfd_attach(&chan, plain, IREG_RING_PRODUCER));

	/* Sealed, but not a ring. */
	zeros = memfd_create("zeros", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ASSERT_TRUE(zeros >= 0);
	ASSERT_TRUE(ftruncate(zeros, size) == 0);
	ASSERT_TRUE(fcntl(zeros, F_ADD_SEALS, F_SEAL_SHRINK) == 0);
	EXPECT_EQ(-EBADMSG,
		  ireg_ring_memfd_attach(&chan, zeros, IREG_RING_PRODUCER));

	/* Sealed, smaller than a header; and empty. */
	tiny = memfd_create("tiny", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ASSERT_TRUE(tiny >= 0);
	ASSERT_TRUE(fcntl(tiny, F_ADD_SEALS, F_SEAL_SHRINK) == 0);
	EXPECT_EQ(-ENOSPC,
		  ireg_ring_memfd_attach(&chan, tiny, IREG_RING_PRODUCER));
	ASSERT_TRUE(ftruncate(tiny, 64) == 0);
	EXPECT_EQ(-ENOSPC,
		  ireg_ring_memfd_attach(&chan, tiny, IREG_RING_PRODUCER));

	/* Not memory at all. */
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_TRUE(efd >= 0);
	EXPECT_EQ(-EPERM,
		  ireg_ring_memfd_attach(&chan, efd, IREG_RING_PRODUCER));
	close(efd);
	close(tiny);
	close(zeros);
	close(plain);
	close(fd);
}

/*
 * The two processes of a run.  The producer owns the buffers: it takes a
 * free one, writes its payload, sends it on active; the consumer checks
 * the payload and sends the buffer back on free.  With sleep set, both
 * block on their eventfds when there is nothing to do.
 */
struct xproc {
	int ring_fd, data_fd;
	int efd_prod, efd_cons;		/* each side sleeps on its own */
	uint64_t items;
	unsigned int max_in_flight;	/* buffers the producer may have out */
	bool sleep;
};

/* Next descriptor from @cons: spin, or sleep with the protocol. */
static int get(struct ireg_ring_cons *cons, int efd, bool sleep,
	       struct ireg_ring_desc *d, uint64_t *state, uint64_t *sleeps)
{
	unsigned int spins = 0, polls;
	int ret;

	if (!sleep) {
		while (ireg_ring_dequeue(cons, d))
			spin_backoff(&spins);
		return 0;
	}
	/* Poll a random while, often not at all, then sleep. */
	polls = xorshift64s(state) % 4 ? xorshift64s(state) % 64 : 0;
	for (;;) {
		if (!ireg_ring_dequeue(cons, d))
			return 0;
		if (polls) {
			polls--;
			cpu_relax();
			continue;
		}
		ret = ireg_ring_wait_avail(cons, efd);
		if (ret < 0)
			return ret;
		(*sleeps)++;
	}
}

static int put(struct ireg_ring_prod *prod, int efd,
	       const struct ireg_ring_desc *d)
{
	/* Never full: fewer buffers than slots. */
	if (ireg_ring_enqueue(prod, d))
		return -ENOBUFS;
	if (ireg_ring_prod_must_notify(prod))
		return ireg_ring_notify(efd);
	return 0;
}

static int xproc_consumer(void *arg)
{
	struct xproc *x = arg;
	uint64_t state = seed * 3 + 1, sleeps = 0, s;
	struct ireg_ring_chan chan;
	struct ireg_ring_desc d;
	uint64_t t0 = clock_now_ns();
	char *data;
	int ret;

	ret = ireg_ring_memfd_attach(&chan, x->ring_fd, IREG_RING_CONSUMER);
	data = data_map(x->data_fd);
	if (ret || !data) {
		printf("# child: attach %d, data %p\n", ret, (void *)data);
		return 1;
	}
	for (s = 0; s < x->items; s++) {
		ret = get(&chan.cons, x->efd_cons, x->sleep, &d, &state, &sleeps);
		if (ret) {
			printf("# child: wait: %s\n", strerror(-ret));
			return 1;
		}
		if (d.cookie != (uint32_t)s || d.len != PAYLOAD_WORDS * 8 ||
		    d.offset >= NR_BUFS * BUF_SIZE || d.offset % BUF_SIZE ||
		    !payload_ok((uint64_t *)(data + d.offset), s)) {
			printf("# child: descriptor %" PRIu64 " wrong: offset %" PRIu64 " len %u cookie %u\n",
			       s, d.offset, d.len, d.cookie);
			return 1;
		}
		d.len = 0;
		ret = put(&chan.prod, x->efd_prod, &d);
		if (ret) {
			printf("# child: give back: %s\n", strerror(-ret));
			return 1;
		}
	}
	printf("# child: %" PRIu64 " descriptors in %.2f s, slept %" PRIu64 " times\n",
	       s, (clock_now_ns() - t0) / 1e9, sleeps);
	ireg_ring_detach(&chan);
	fflush(stdout);
	return 0;
}

static void xproc_producer(struct __test_metadata *_metadata,
			   struct xproc *x, pid_t child)
{
	uint64_t state = seed * 5 + 1, sleeps = 0, s, t0 = clock_now_ns();
	unsigned int home, i;
	struct ireg_ring_chan chan;
	struct ireg_ring_desc d;
	char *data;
	int ret;

	ASSERT_TRUE(ireg_ring_memfd_attach(&chan, x->ring_fd, IREG_RING_PRODUCER) == 0);
	data = data_map(x->data_fd);
	ASSERT_TRUE(data);
	/* The buffers start home: the producer's, none on a ring. */
	home = x->max_in_flight;
	for (s = 0; s < x->items; s++) {
		while (!ireg_ring_dequeue(&chan.cons, &d))
			home++;
		if (!home) {
			ret = get(&chan.cons, x->efd_prod, x->sleep, &d,
				  &state, &sleeps);
			EXPECT_EQ(0, ret) TH_LOG("wait: %s", strerror(-ret));
			if (ret)
				break;
			home++;
		}
		/* Buffer number: any free one will do; the sequence picks. */
		i = s % NR_BUFS;
		payload_fill((uint64_t *)(data + i * BUF_SIZE), s);
		d = (struct ireg_ring_desc){
			.offset = i * BUF_SIZE,
			.len = PAYLOAD_WORDS * 8,
			.cookie = (uint32_t)s,
		};
		home--;
		ret = put(&chan.prod, x->efd_cons, &d);
		EXPECT_EQ(0, ret);
		if (ret)
			break;
	}
	EXPECT_EQ(0, reap(child));
	printf("# parent: %" PRIu64 " descriptors in %.2f s, slept %" PRIu64 " times\n",
	       s, (clock_now_ns() - t0) / 1e9, sleeps);
	if (x->sleep)
		EXPECT_TRUE(sleeps > 0);
	ireg_ring_detach(&chan);
	munmap(data, NR_BUFS * BUF_SIZE);
}

/*
 * Buffer i of sequence s is i = s % NR_BUFS: with at most NR_BUFS in
 * flight and the ring FIFO, buffer i is home again before it is reused.
 */
static int xproc_setup(struct xproc *x, uint32_t capacity)
{
	struct ireg_ring_params params = {
		.size = sizeof(params),
		.capacity = capacity,
	};

	x->ring_fd = ireg_ring_memfd_create("ring-xproc", &params);
	x->data_fd = data_memfd();
	x->efd_prod = eventfd(0, EFD_CLOEXEC);
	x->efd_cons = eventfd(0, EFD_CLOEXEC);
	return x->ring_fd >= 0 && x->data_fd >= 0 && x->efd_prod >= 0 &&
	       x->efd_cons >= 0 ? 0 : -1;
}

static void xproc_teardown(struct xproc *x)
{
	close(x->ring_fd);
	close(x->data_fd);
	close(x->efd_prod);
	close(x->efd_cons);
}

TEST_F_TIMEOUT(ring_xproc, fork_1m, 60)
{
	struct xproc x = {
		.items = 1000000,
		.max_in_flight = NR_BUFS,
	};
	pid_t child;

	ASSERT_TRUE(xproc_setup(&x, 2 * NR_BUFS) == 0);
	child = spawn(xproc_consumer, &x);
	ASSERT_TRUE(child > 0);
	xproc_producer(_metadata, &x, child);
	xproc_teardown(&x);
}

TEST_F_TIMEOUT(ring_xproc, fork_eventfd, 60)
{
	static const unsigned int in_flight[] = { 1, 2, 4 };
	unsigned int i;
	pid_t child;

	for (i = 0; i < sizeof(in_flight) / sizeof(in_flight[0]); i++) {
		/* ~30-60 us a sleeping round trip in a VM: keep it short. */
		struct xproc x = {
			.items = 20000,
			.max_in_flight = in_flight[i],
			.sleep = true,
		};

		printf("# %u buffer(s) in flight\n", in_flight[i]);
		ASSERT_TRUE(xproc_setup(&x, 2 * NR_BUFS) == 0);
		child = spawn(xproc_consumer, &x);
		ASSERT_TRUE(child > 0);
		xproc_producer(_metadata, &x, child);
		xproc_teardown(&x);
		if (!test_passed(_metadata))
			return;
	}
}

/* File descriptors over a unix socket. */
static int send_fds(int sock, const int *fds, unsigned int n)
{
	char byte = 0, cbuf[CMSG_SPACE(4 * sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = CMSG_SPACE(n * sizeof(int)),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(cmsg), fds, n * sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fds(int sock, int *fds, unsigned int n)
{
	char byte, cbuf[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS ||
	    cmsg->cmsg_len != CMSG_LEN(n * sizeof(int)))
		return -1;
	memcpy(fds, CMSG_DATA(cmsg), n * sizeof(int));
	return 0;
}

struct scm_child {
	int sock;
	struct xproc x;
};

static int scm_consumer(void *arg)
{
	struct scm_child *sc = arg;
	int fds[4];

	if (recv_fds(sc->sock, fds, 4)) {
		printf("# child: no descriptors on the socket\n");
		return 1;
	}
	sc->x.ring_fd = fds[0];
	sc->x.data_fd = fds[1];
	sc->x.efd_prod = fds[2];
	sc->x.efd_cons = fds[3];
	return xproc_consumer(&sc->x);
}

TEST_F_TIMEOUT(ring_xproc, scm_rights, 60)
{
	struct scm_child sc = {
		.x = {
			.items = 30000,
			.max_in_flight = 2,
			.sleep = true,
		},
	};
	int sv[2], fds[4];
	pid_t child;

	ASSERT_TRUE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
	sc.sock = sv[1];
	child = spawn(scm_consumer, &sc);
	ASSERT_TRUE(child > 0);
	close(sv[1]);
	/* Made after the fork: the child can only have them from the socket. */
	ASSERT_TRUE(xproc_setup(&sc.x, 16) == 0);
	fds[0] = sc.x.ring_fd;
	fds[1] = sc.x.data_fd;
	fds[2] = sc.x.efd_prod;
	fds[3] = sc.x.efd_cons;
	ASSERT_TRUE(send_fds(sv[0], fds, 4) == 0);
	xproc_producer(_metadata, &sc.x, child);
	xproc_teardown(&sc.x);
	close(sv[0]);
}

int main(int argc, char **argv)
{
	const char *s = getenv("IREG_RING_SEED");

	setvbuf(stdout, NULL, _IOLBF, 0);
	seed = s && *s ? strtoull(s, NULL, 0) : clock_now_ns();
	printf("# seed %" PRIu64 " (IREG_RING_SEED)\n", seed);
	return test_harness_run(argc, argv);
}
