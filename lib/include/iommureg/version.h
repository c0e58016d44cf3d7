/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The version of libiommureg this header belongs to.  The one place the
 * version is written: lib/Makefile reads it from here (VERSION, SONAME
 * libiommureg.so.<MAJOR>, the pkg-config file), and tests/version_test
 * checks that the built library and its SONAME agree.
 *
 * The major version is the SONAME's: it moves when the ABI breaks.  The
 * minor version moves when functions or struct members are added.
 */
#ifndef LIBIOMMUREG_VERSION_H
#define LIBIOMMUREG_VERSION_H

#define IREG_VERSION_MAJOR	2
#define IREG_VERSION_MINOR	0
#define IREG_VERSION_PATCH	0

/*
 * True when this header is version @major.@minor or newer, for
 * compile-time checks ("#if IREG_VERSION_CHECK(2, 1)").  Note the sense:
 * liburing's IO_URING_CHECK_VERSION() is true when the version is OLDER;
 * this one, as GLIB_CHECK_VERSION(), is true when it is at least that.
 */
#define IREG_VERSION_CHECK(major, minor)				\
	(IREG_VERSION_MAJOR > (major) ||				\
	 (IREG_VERSION_MAJOR == (major) && IREG_VERSION_MINOR >= (minor)))

#ifdef __cplusplus
extern "C" {
#endif

/* The library actually loaded, at run time (the header may be older). */
int ireg_version_major(void);
int ireg_version_minor(void);
int ireg_version_patch(void);
const char *ireg_version(void);
int ireg_version_check(int major, int minor);

#ifdef __cplusplus
}
#endif

#endif /* LIBIOMMUREG_VERSION_H */
