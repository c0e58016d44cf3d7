/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* Private state of libiommureg objects. */
#ifndef LIBIOMMUREG_INTERNAL_H
#define LIBIOMMUREG_INTERNAL_H

struct ireg_group {
	int id;
	int fd;
};

struct ireg_device {
	int fd;
	char bdf[32];
};

struct ireg_ctx {
	int container_fd;
	int backend_set;
	struct ireg_group *groups;
	unsigned int nr_groups;
	struct ireg_device *devices;
	unsigned int nr_devices;
	char errmsg[256];
};

#endif /* LIBIOMMUREG_INTERNAL_H */
