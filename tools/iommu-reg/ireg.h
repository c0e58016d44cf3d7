/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iommu-reg: the tool's shared context, command tables and error helpers.
 *
 * The tool is laid out like iproute2's rdma: main.c parses the global
 * options and dispatches the first word of the command line through a
 * table; every object (devices, and later regions, stats, events) lives
 * in its own file and owns its commands.  All output goes through
 * print.h, so every command supports text and JSON the same way.
 *
 * Handlers return an exit code (enum ireg_exit), never -errno: the code
 * is part of the documented interface, and an errno is reported to the
 * user on stderr at the point where it is known.
 */
#ifndef IREG_H
#define IREG_H

#include <stdbool.h>

#define __printf(a, b)	__attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Documented in iommu-reg(8) and Documentation/tool.rst. */
enum ireg_exit {
	IREG_EXIT_OK		= 0,	/* success */
	IREG_EXIT_ERROR		= 1,	/* runtime failure */
	IREG_EXIT_USAGE		= 2,	/* bad command line */
	IREG_EXIT_UNSUPPORTED	= 3,	/* needed driver/module/feature absent */
};

struct cmd;

struct ireg {
	int argc;			/* words not yet consumed */
	char **argv;
	bool json;			/* -j */
	bool pretty;			/* -p */
	const char *sysfs_root;		/* $IREG_SYSFS_ROOT or "/sys" */
	const char *dev_root;		/* $IREG_DEV_ROOT or "/dev" */
	const char *state_dir;		/* $IREG_STATE_DIR or /run/iommu-reg */
	const struct cmd *cmd;		/* command being run, for its help */
	char cmd_path[64];		/* words matched so far, for messages */
};

/*
 * One entry of a command table.  The first entry of a table is also the
 * command run when no word is left.  "help" is handled by cmd_exec() for
 * every table; a leaf command prints its own usage with cmd_help_leaf().
 */
struct cmd {
	const char *name;
	int (*func)(struct ireg *ir);
	const char *args;		/* synopsis of the arguments, or "" */
	const char *help;		/* one line */
};

int cmd_exec(struct ireg *ir, const struct cmd *cmds, const char *what);
bool cmd_want_help(const struct ireg *ir);
int cmd_help_leaf(const struct ireg *ir);
__printf(2, 3)
int cmd_usage_error(const struct ireg *ir, const char *fmt, ...);

static inline bool arg_none(const struct ireg *ir)
{
	return ir->argc <= 0;
}

static inline const char *arg_peek(const struct ireg *ir)
{
	return ir->argc > 0 ? ir->argv[0] : NULL;
}

static inline const char *arg_next(struct ireg *ir)
{
	if (ir->argc <= 0)
		return NULL;
	ir->argc--;
	return *ir->argv++;
}

/* "iommu-reg: <what>: <strerror(err)>" on stderr. */
void ireg_err(const char *what, int err);
/* "iommu-reg: <message>" on stderr. */
__printf(1, 2) void ireg_errx(const char *fmt, ...);
/* "iommu-reg: warning: <message>" on stderr. */
__printf(1, 2) void ireg_warnx(const char *fmt, ...);

/* Objects (dev.c). */
int cmd_devices(struct ireg *ir);
int cmd_bind(struct ireg *ir);
int cmd_unbind(struct ireg *ir);

/* Commands of the objects, one file each. */
int cmd_register(struct ireg *ir);
int cmd_list(struct ireg *ir);
int cmd_stats(struct ireg *ir);
int cmd_monitor(struct ireg *ir);
int cmd_bench(struct ireg *ir);
int cmd_sva(struct ireg *ir);

#endif /* IREG_H */
