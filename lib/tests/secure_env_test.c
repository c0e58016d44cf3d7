// SPDX-License-Identifier: GPL-2.0-only
/*
 * $IREG_SYSFS_ROOT redirects the PCI functions to a fake tree, except in
 * a privileged program (AT_SECURE: set-user-ID, file capabilities): there
 * the environment is its unprivileged caller's and must not choose which
 * tree a bind writes to.
 *
 * As root: a copy of this program in a temporary directory, once plain
 * and once set-user-ID root, runs as nobody ("--probe") with
 * $IREG_SYSFS_ROOT pointing at a fake tree whose device has driver
 * "ireg-fake-drv", and reports what ireg_pci_driver() saw.  The plain
 * copy must see the fake driver, the set-user-ID one must not.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "iommureg.h"
#include "kselftest_harness.h"

#define NOBODY		65534
#define FAKE_BDF	"0000:ab:00.0"
#define FAKE_DRV	"ireg-fake-drv"

/* In the copy: one line, "secure=<AT_SECURE> ret=<ret> driver=<name>". */
static int probe(void)
{
	char drv[IREG_PCI_DRIVER_SIZE] = "";
	int ret = ireg_pci_driver(FAKE_BDF, drv, sizeof(drv));

	printf("secure=%lu ret=%d driver=%s\n", getauxval(AT_SECURE), ret,
	       drv);
	return 0;
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in, out, ret = 0;
	ssize_t n;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			ret = -1;
	if (n < 0 || fchown(out, 0, 0) || fchmod(out, mode))
		ret = -1;
	close(in);
	if (close(out))
		ret = -1;
	return ret;
}

/* Run @prog --probe as nobody with @root as $IREG_SYSFS_ROOT. */
static int run_probe(const char *prog, const char *root, char *out,
		     size_t size)
{
	int pipefd[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		setenv("IREG_SYSFS_ROOT", root, 1);
		if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
			_exit(125);
		execl(prog, prog, "--probe", (char *)NULL);
		_exit(126);
	}
	close(pipefd[1]);
	while (got + 1 < (ssize_t)size &&
	       (n = read(pipefd[0], out + got, size - 1 - got)) > 0)
		got += n;
	out[got] = '\0';
	close(pipefd[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

FIXTURE(env) {
	char dir[64];
	char root[128];
	char plain[128];
	char setuid[128];
};

FIXTURE_SETUP(env)
{
	char path[256], self_exe[256], cmd[768];
	ssize_t n;

	if (geteuid())
		SKIP(return, "needs root (set-user-ID copy, running as nobody)");
	snprintf(self->dir, sizeof(self->dir), "/tmp/ireg-secure-env.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	ASSERT_EQ(0, chmod(self->dir, 0755));
	snprintf(self->root, sizeof(self->root), "%s/sys", self->dir);
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/" FAKE_BDF,
		 self->dir);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p '%s' && ln -s ../../drivers/" FAKE_DRV
		 " '%s/driver' && chmod -R a+rX '%s'", path, path, self->dir);
	ASSERT_EQ(0, system(cmd));
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	ASSERT_LT(0, n);
	self_exe[n] = '\0';
	snprintf(self->plain, sizeof(self->plain), "%s/probe", self->dir);
	snprintf(self->setuid, sizeof(self->setuid), "%s/probe-suid",
		 self->dir);
	ASSERT_EQ(0, copy_file(self_exe, self->plain, 0755));
	ASSERT_EQ(0, copy_file(self_exe, self->setuid, 04755));
}

FIXTURE_TEARDOWN(env)
{
	char cmd[256];

	if (!self->dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->dir);
	if (system(cmd))
		TH_LOG("could not remove %s", self->dir);
}

/* The environment still redirects an unprivileged program... */
TEST_F(env, honoured_without_at_secure)
{
	char out[256];
	int ret;

	ret = run_probe(self->plain, self->root, out, sizeof(out));
	if (ret == 126)
		SKIP(return, "cannot exec a copy of this program (an emulator: qemu-user without binfmt)");
	ASSERT_EQ(0, ret) TH_LOG("%s", out);
	EXPECT_STREQ("secure=0 ret=0 driver=" FAKE_DRV "\n", out);
}

/* ...but not a set-user-ID one. */
TEST_F(env, ignored_with_at_secure)
{
	char out[256];
	int ret;

	ret = run_probe(self->setuid, self->root, out, sizeof(out));
	if (ret == 126)
		SKIP(return, "cannot exec a copy of this program (an emulator: qemu-user without binfmt)");
	ASSERT_EQ(0, ret) TH_LOG("%s", out);
	if (!strncmp(out, "secure=0", 8))
		SKIP(return, "no AT_SECURE for a set-user-ID copy in /tmp (nosuid?)");
	EXPECT_EQ(0, strncmp(out, "secure=1 ", 9)) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, FAKE_DRV))
		TH_LOG("the fake tree was used: %s", out);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--probe"))
		return probe();
	return test_harness_run(argc, argv);
}
