// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The version of the library that is running, as opposed to the one a
 * program was compiled against (<iommureg/version.h>).
 */
#include "iommureg/version.h"

#define STR_(x)	#x
#define STR(x)	STR_(x)

int ireg_version_major(void)
{
	return IREG_VERSION_MAJOR;
}

int ireg_version_minor(void)
{
	return IREG_VERSION_MINOR;
}

int ireg_version_patch(void)
{
	return IREG_VERSION_PATCH;
}

/* "MAJOR.MINOR.PATCH", static storage. */
const char *ireg_version(void)
{
	return STR(IREG_VERSION_MAJOR) "." STR(IREG_VERSION_MINOR) "."
	       STR(IREG_VERSION_PATCH);
}

/* 1 when the running library is @major.@minor or newer, else 0. */
int ireg_version_check(int major, int minor)
{
	return IREG_VERSION_MAJOR > major ||
	       (IREG_VERSION_MAJOR == major && IREG_VERSION_MINOR >= minor);
}
