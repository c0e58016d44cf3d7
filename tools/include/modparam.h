/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Numbers in small sysfs files, and kernel module parameters among them,
 * for the selftests, the library's tests and the benchmarks: one copy.
 *
 *	/sys/module/<module>/parameters/<name>
 *
 * A boolean reads as 1 (Y) or 0 (N), a number as itself.
 */
#ifndef TOOLS_MODPARAM_H
#define TOOLS_MODPARAM_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The number in a sysfs file, or -1 (with errno) if it cannot be read. */
static inline long long sysfs_read_num(const char *path)
{
	char val[32] = "";
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, val, sizeof(val) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	if (val[0] == 'Y')
		return 1;
	if (val[0] == 'N')
		return 0;
	return strtoll(val, NULL, 10);
}

/* Write a number into a sysfs file: 0, or -1 with errno. */
static inline int sysfs_write_num(const char *path, long long value)
{
	char val[32];
	int fd, len;
	ssize_t n;

	len = snprintf(val, sizeof(val), "%lld", value);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, val, len);
	close(fd);
	return n == len ? 0 : -1;
}

static inline void modparam_path(char *path, size_t len, const char *module,
				 const char *name)
{
	snprintf(path, len, "/sys/module/%s/parameters/%s", module, name);
}

/* A module parameter's value, or -1 (with errno). */
static inline long long modparam_get(const char *module, const char *name)
{
	char path[256];

	modparam_path(path, sizeof(path), module, name);
	return sysfs_read_num(path);
}

/* Set a module parameter (root, mode 0644): 0, or -1 with errno. */
static inline int modparam_set(const char *module, const char *name,
			       long long value)
{
	char path[256];

	modparam_path(path, sizeof(path), module, name);
	return sysfs_write_num(path, value);
}

#endif /* TOOLS_MODPARAM_H */
