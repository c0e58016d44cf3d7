/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A seccomp filter over a list of system calls, for the tests and
 * examples that prove a path makes no system call, or none of a kind.
 */
#ifndef TOOLS_SECCOMP_UTIL_H
#define TOOLS_SECCOMP_UTIL_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#if defined(__x86_64__)
#define SECCOMP_UTIL_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_UTIL_ARCH	AUDIT_ARCH_AARCH64
#endif

#define SECCOMP_UTIL_MAX	16

/*
 * Filter this process for good (no_new_privs first): with @allow, the
 * @n system calls of @nrs are allowed and any other kills the process;
 * without, those kill it and the others are allowed.  A system call of
 * another architecture kills it either way.  0, or -1 with errno.
 */
static inline int seccomp_install(const int *nrs, unsigned int n, bool allow)
{
	struct sock_filter f[SECCOMP_UTIL_MAX + 6];
	struct sock_fprog prog = { .filter = f };
	unsigned int i, k = 0;

	if (n > SECCOMP_UTIL_MAX) {
		errno = E2BIG;
		return -1;
	}
#ifdef SECCOMP_UTIL_ARCH
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			offsetof(struct seccomp_data, arch));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			SECCOMP_UTIL_ARCH, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
			SECCOMP_RET_KILL_PROCESS);
#endif
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			offsetof(struct seccomp_data, nr));
	/* A listed call jumps over the rest to the last statement. */
	for (i = 0; i < n; i++)
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
				nrs[i], n - i, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
			allow ? SECCOMP_RET_KILL_PROCESS : SECCOMP_RET_ALLOW);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
			allow ? SECCOMP_RET_ALLOW : SECCOMP_RET_KILL_PROCESS);
	prog.len = k;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

struct seccomp_thread {
	int (*fn)(void *arg);
	void *arg;
	int ret;
};

static inline void *seccomp_thread_main(void *p)
{
	struct seccomp_thread *t = p;

	t->ret = t->fn(t->arg);
	/* Not glibc's thread exit, which makes system calls of its own. */
	syscall(__NR_exit, 0);
	return NULL;
}

/*
 * Run @fn(@arg) in a thread of its own and return what it returns: for
 * a no-system-call check on objects of this process (a forked child's
 * copies of the library's objects refuse to work).  @fn installs the
 * filter (seccomp_install() filters the calling thread); it must allow
 * __NR_exit, which ends the thread.  A filtered call kills the process.
 * -1 with errno if the thread cannot be made.
 */
static inline int seccomp_thread_run(int (*fn)(void *), void *arg)
{
	struct seccomp_thread t = { .fn = fn, .arg = arg, .ret = -1 };
	pthread_t th;
	int err;

	err = pthread_create(&th, NULL, seccomp_thread_main, &t);
	if (err) {
		errno = err;
		return -1;
	}
	pthread_join(th, NULL);
	return t.ret;
}

#endif /* TOOLS_SECCOMP_UTIL_H */
