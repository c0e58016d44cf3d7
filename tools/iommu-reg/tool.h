/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iommu-reg: the tool's shared context, command tables, argument parsers
 * and error helpers.
 *
 * The tool is laid out like iproute2's rdma: main.c parses the global
 * options and dispatches "OBJECT VERB" through tables; every object (dev,
 * region, container, stats, monitor) lives in its own file and owns its
 * verbs.  All output goes through print.h, so every command supports
 * text and JSON the same way, and every error goes through print_err().
 *
 * Handlers return an exit code (enum tool_exit), never -errno: the code
 * is part of the documented interface, and an errno is reported to the
 * user on stderr at the point where it is known.
 */
#ifndef TOOL_H
#define TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define __printf(a, b)	__attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Documented in iommu-reg(8) and Documentation/tool.rst. */
enum tool_exit {
	EXIT_OK			= 0,	/* success */
	EXIT_ERROR		= 1,	/* runtime failure */
	EXIT_USAGE		= 2,	/* bad command line */
	EXIT_UNSUPPORTED	= 3,	/* needed driver/module/feature absent */
};

struct cmd;

struct tool {
	int argc;			/* words not yet consumed */
	char **argv;
	bool json;			/* -j */
	bool pretty;			/* -p */
	const char *state_dir;		/* $IREG_STATE_DIR or /run/iommu-reg */
	const struct cmd *top;		/* the table of objects */
	const struct cmd *cmd;		/* command being run, for its help */
	char cmd_path[64];		/* words matched so far, for messages */
};

/*
 * One entry of a command table: an object (its table of verbs), a verb
 * (its handler), or an alias.  The first entry of a table is also the
 * command run when no word is left.  A word selects the first entry whose
 * name it begins (as rdma(8) matches: "d" is "dev"); an alias, one of
 * the flat commands of the previous release, only by its whole name.  An
 * alias stands for the words of @alias, put in its place on the command
 * line; one with @verbs of its own (list) first looks the next word up
 * there.  "help" is handled by cmd_exec(), after an object (its table)
 * and after a verb (its synopsis).
 */
struct cmd {
	const char *name;
	int (*func)(struct tool *t);	/* a verb, */
	const struct cmd *verbs;	/* an object's table of verbs, */
	const char *alias;		/* or what a deprecated name stands for */
	const char *args;		/* a verb's synopsis of its arguments */
	const char *help;		/* one line */
};

#define CMD_VERB(n, f, a, h)	{ .name = n, .func = f, .args = a, .help = h }
#define CMD_OBJECT(n, v, h)	{ .name = n, .verbs = v, .help = h }
#define CMD_ALIAS(n, to)	{ .name = n, .alias = to }

int cmd_exec(struct tool *t, const struct cmd *cmds, const char *what);
__printf(2, 3)
int cmd_usage_error(const struct tool *t, const char *fmt, ...);

static inline bool arg_none(const struct tool *t)
{
	return t->argc <= 0;
}

static inline const char *arg_peek(const struct tool *t)
{
	return t->argc > 0 ? t->argv[0] : NULL;
}

static inline const char *arg_next(struct tool *t)
{
	if (t->argc <= 0)
		return NULL;
	t->argc--;
	return *t->argv++;
}

/*
 * The value after @word: a number from @min to @max (decimal, 0x hex or
 * 0 octal), or a size in bytes (K, M, G suffixes; a multiple of 4 KiB).
 * 0, or a usage error printed and its exit code.
 */
int arg_number(struct tool *t, const char *word, unsigned long long min,
	       unsigned long long max, unsigned long long *val);
int arg_size(struct tool *t, const char *word, size_t *size);
/* The next word as a BDF, normalised into @bdf; 0 or a usage error. */
int arg_bdf(struct tool *t, char *bdf);
/* 0 if no word is left, else a usage error. */
int arg_end(const struct tool *t);

struct ireg_ctx;
/*
 * A libiommureg context with the devices @bdfs (@n of them, normalised)
 * opened in it; an exit code, the reason printed.
 */
int ctx_open(struct ireg_ctx **ctxp, char *const *bdfs, int n);

/* The objects' tables of verbs, one file each. */
extern const struct cmd dev_cmds[];		/* dev.c */
int dev_sva(struct tool *t);			/* sva.c, in dev_cmds */
extern const struct cmd region_cmds[];		/* region.c */
extern const struct cmd container_cmds[];	/* container.c */
extern const struct cmd stats_cmds[];		/* stats.c */
int monitor_run(struct tool *t);		/* monitor.c */

#endif /* TOOL_H */
