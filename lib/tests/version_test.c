// SPDX-License-Identifier: GPL-2.0-only
/*
 * The version is written once (<iommureg/version.h>); this checks that
 * everything else agrees with it: the run-time ireg_version*() of the
 * library, the IREG_VERSION_CHECK() macro, and the shared library's
 * SONAME and symbol version node, read from its ELF dynamic section (the
 * test runs in lib/, where libiommureg.so.<MAJOR> is built).
 */
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iommureg.h"
#include "kselftest_harness.h"

TEST(header_and_library_agree)
{
	char want[32];

	snprintf(want, sizeof(want), "%d.%d.%d", IREG_VERSION_MAJOR,
		 IREG_VERSION_MINOR, IREG_VERSION_PATCH);
	EXPECT_STREQ(want, ireg_version());
	EXPECT_EQ(IREG_VERSION_MAJOR, ireg_version_major());
	EXPECT_EQ(IREG_VERSION_MINOR, ireg_version_minor());
	EXPECT_EQ(IREG_VERSION_PATCH, ireg_version_patch());
	/* This struct size fields changed the ABI: 2.0. */
	EXPECT_EQ(2, IREG_VERSION_MAJOR);
}

TEST(check_macro_and_function)
{
	EXPECT_TRUE(IREG_VERSION_CHECK(IREG_VERSION_MAJOR, IREG_VERSION_MINOR));
	EXPECT_TRUE(IREG_VERSION_CHECK(IREG_VERSION_MAJOR, 0));
	EXPECT_TRUE(IREG_VERSION_CHECK(IREG_VERSION_MAJOR - 1, 99));
	EXPECT_FALSE(IREG_VERSION_CHECK(IREG_VERSION_MAJOR,
					IREG_VERSION_MINOR + 1));
	EXPECT_FALSE(IREG_VERSION_CHECK(IREG_VERSION_MAJOR + 1, 0));
	EXPECT_EQ(1, ireg_version_check(IREG_VERSION_MAJOR, IREG_VERSION_MINOR));
	EXPECT_EQ(1, ireg_version_check(1, 0));
	EXPECT_EQ(0, ireg_version_check(IREG_VERSION_MAJOR,
					IREG_VERSION_MINOR + 1));
	EXPECT_EQ(0, ireg_version_check(IREG_VERSION_MAJOR + 1, 0));
}

/* The DT_SONAME string of the 64-bit ELF shared object at @img. */
static const char *elf_soname(const unsigned char *img, size_t len,
			      const char **strtab, size_t *strsz)
{
	const Elf64_Ehdr *eh = (const void *)img;
	const Elf64_Shdr *sh;
	const Elf64_Dyn *dyn;
	unsigned int i, n;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64)
		return NULL;
	sh = (const void *)(img + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_DYNAMIC)
			continue;
		*strtab = (const char *)img + sh[sh[i].sh_link].sh_offset;
		*strsz = sh[sh[i].sh_link].sh_size;
		dyn = (const void *)(img + sh[i].sh_offset);
		n = sh[i].sh_size / sizeof(*dyn);
		for (; n && dyn->d_tag != DT_NULL; n--, dyn++)
			if (dyn->d_tag == DT_SONAME)
				return *strtab + dyn->d_un.d_val;
	}
	return NULL;
}

static bool in_strtab(const char *tab, size_t sz, const char *s)
{
	size_t i;

	for (i = 0; i < sz; i += strlen(tab + i) + 1)
		if (!strcmp(tab + i, s))
			return true;
	return false;
}

TEST(soname_and_symbol_version)
{
	const char *soname, *strtab = NULL;
	char path[PATH_MAX], name[64], node[32];
	ssize_t n;
	char *dir;
	size_t strsz = 0;
	struct stat st;
	void *img;
	int fd;

	/* The library beside tests/, wherever the test runs from. */
	snprintf(name, sizeof(name), "libiommureg.so.%d", IREG_VERSION_MAJOR);
	n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	ASSERT_LT(0, n);
	path[n] = 0;
	*strrchr(path, '/') = 0;			/* .../lib/tests */
	dir = strrchr(path, '/');			/* .../lib */
	ASSERT_NE(NULL, dir);
	snprintf(dir + 1, sizeof(path) - (dir + 1 - path), "%s", name);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("%s: not built with the header's major version?", path);
	ASSERT_EQ(0, fstat(fd, &st));
	img = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, img);
	soname = elf_soname(img, st.st_size, &strtab, &strsz);
	ASSERT_NE(NULL, soname);
	EXPECT_STREQ(name, soname);
	snprintf(node, sizeof(node), "LIBIOMMUREG_%d.0", IREG_VERSION_MAJOR);
	EXPECT_TRUE(in_strtab(strtab, strsz, node)) TH_LOG("no version node %s", node);
	EXPECT_TRUE(in_strtab(strtab, strsz, "ireg_version"));
	EXPECT_TRUE(in_strtab(strtab, strsz, "ireg_version_check"));
	munmap(img, st.st_size);
	close(fd);
}

TEST_HARNESS_MAIN
