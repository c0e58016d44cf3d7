// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommu-reg: global options and command dispatch.
 *
 *   iommu-reg [OPTIONS] [COMMAND [ARGS]]
 *
 * Options come before the command, as in ip(8) and rdma(8).  A command
 * table's first entry runs when no word is left, and every table answers
 * "help".  Objects add their commands to top_cmds[]; an object with
 * several commands of its own gives its handler a table of its own and
 * calls cmd_exec() on it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ireg.h"
#include "print.h"

#ifndef IREG_VERSION
#define IREG_VERSION "unknown"
#endif

static const char *const global_options =
	"Options:\n"
	"  -j, --json      JSON output\n"
	"  -p, --pretty    indented JSON; text split over several lines\n"
	"  -V, --version   print the version and exit\n"
	"  -h, --help      print this help and exit\n";

/* ---- diagnostics ---- */

void ireg_err(const char *what, int err)
{
	fprintf(stderr, "iommu-reg: %s: %s\n", what, strerror(err));
}

void ireg_errx(const char *fmt, ...)
{
	va_list ap;

	fputs("iommu-reg: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void ireg_warnx(const char *fmt, ...)
{
	va_list ap;

	fputs("iommu-reg: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- dispatch ---- */

static const char *cmd_prefix(const struct ireg *ir)
{
	return ir->cmd_path[0] ? " " : "";
}

static void cmd_help_table(const struct ireg *ir, const struct cmd *cmds)
{
	const struct cmd *c;

	printf("Usage: iommu-reg [OPTIONS]%s%s COMMAND [ARGS]\n\n",
	       cmd_prefix(ir), ir->cmd_path);
	printf("Commands:\n");
	for (c = cmds; c->name; c++) {
		char synopsis[64];

		snprintf(synopsis, sizeof(synopsis), "%s%s%s", c->name,
			 c->args[0] ? " " : "", c->args);
		printf("  %-18s %s%s\n", synopsis, c->help,
		       c == cmds ? " (default)" : "");
	}
	printf("  %-18s %s\n", "help", "print this help");
	if (!ir->cmd_path[0])
		printf("\n%s", global_options);
}

int cmd_exec(struct ireg *ir, const struct cmd *cmds, const char *what)
{
	const char *word = arg_peek(ir);
	const struct cmd *c = cmds;
	size_t len;

	if (cmd_want_help(ir)) {
		cmd_help_table(ir, cmds);
		return IREG_EXIT_OK;
	}
	if (word) {
		for (c = cmds; c->name; c++)
			if (!strcmp(c->name, word))
				break;
		if (!c->name)
			return cmd_usage_error(ir, "unknown %s '%s'", what,
					       word);
		arg_next(ir);
	}

	len = strlen(ir->cmd_path);
	snprintf(ir->cmd_path + len, sizeof(ir->cmd_path) - len, "%s%s",
		 len ? " " : "", c->name);
	ir->cmd = c;
	return c->func(ir);
}

bool cmd_want_help(const struct ireg *ir)
{
	const char *word = arg_peek(ir);

	return word && !strcmp(word, "help");
}

int cmd_help_leaf(const struct ireg *ir)
{
	const struct cmd *c = ir->cmd;

	printf("Usage: iommu-reg [OPTIONS] %s%s%s\n\n%s\n", ir->cmd_path,
	       c->args[0] ? " " : "", c->args, c->help);
	return IREG_EXIT_OK;
}

int cmd_usage_error(const struct ireg *ir, const char *fmt, ...)
{
	va_list ap;

	fputs("iommu-reg: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'iommu-reg%s%s help'.\n", cmd_prefix(ir),
		ir->cmd_path);
	return IREG_EXIT_USAGE;
}

/* ---- top level ---- */

static int cmd_version(struct ireg *ir)
{
	if (cmd_want_help(ir))
		return cmd_help_leaf(ir);
	if (!arg_none(ir))
		return cmd_usage_error(ir, "unexpected argument '%s'",
				       arg_peek(ir));
	print_open_obj(NULL);
	print_str("version", "iommu-reg %s", IREG_VERSION);
	print_close();
	print_nl();
	return IREG_EXIT_OK;
}

static const struct cmd top_cmds[] = {
	{ "devices", cmd_devices, "[BDF]",
	  "show PCI devices: driver, IOMMU group, PCIe caps" },
	{ "sva", cmd_sva, "BDF [BDF...]",
	  "show the kernel's SVA report of devices (opens them)" },
	{ "bind", cmd_bind, "BDF",
	  "bind a device to vfio-pci, remembering its driver" },
	{ "unbind", cmd_unbind, "BDF",
	  "unbind a device from vfio-pci, restoring its driver" },
	{ "register", cmd_register,
	  "BDF [size S] [mem M] [readonly] [hold] [invalidate-after S]",
	  "register a buffer with a device and check it by DMA" },
	{ "list", cmd_list, "[regions|containers] [pid PID] [container ID]",
	  "show registrations (or containers) from the kernel" },
	{ "stats", cmd_stats, "", "show the module's counters" },
	{ "monitor", cmd_monitor, "[count N]",
	  "print register, unregister and invalidate events as they happen" },
	{ "bench", cmd_bench, "OURS_BDF TYPE1_BDF [size SIZE]...",
	  "per-I/O mapping cost beside VFIO type1's" },
	{ "version", cmd_version, "", "print the version" },
	{ NULL }
};

static const char *env_or(const char *name, const char *dflt)
{
	const char *val = getenv(name);

	return val && val[0] ? val : dflt;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "json",	no_argument,	NULL, 'j' },
		{ "pretty",	no_argument,	NULL, 'p' },
		{ "version",	no_argument,	NULL, 'V' },
		{ "help",	no_argument,	NULL, 'h' },
		{ NULL }
	};
	struct ireg ir = {
		.sysfs_root = env_or("IREG_SYSFS_ROOT", "/sys"),
		.dev_root = env_or("IREG_DEV_ROOT", "/dev"),
		.state_dir = env_or("IREG_STATE_DIR", "/run/iommu-reg"),
	};
	bool help = false, version = false;
	int opt, ret, err;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+jpVh", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			ir.json = true;
			break;
		case 'p':
			ir.pretty = true;
			break;
		case 'V':
			version = true;
			break;
		case 'h':
			help = true;
			break;
		default:
			if (optopt)
				return cmd_usage_error(&ir,
						       "unknown option '-%c'",
						       optopt);
			return cmd_usage_error(&ir, "unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	ir.argc = argc - optind;
	ir.argv = argv + optind;

	print_init(ir.json, ir.pretty);
	if (help) {
		cmd_help_table(&ir, top_cmds);
		ret = IREG_EXIT_OK;
	} else if (version) {
		ir.argc = 0;
		ret = cmd_version(&ir);
	} else {
		ret = cmd_exec(&ir, top_cmds, "command");
	}

	err = print_finish();
	if (err) {
		ireg_err("stdout", -err);
		return IREG_EXIT_ERROR;
	}
	return ret;
}
