// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommu-reg: global options, command dispatch and argument parsing.
 *
 *   iommu-reg [OPTIONS] [OBJECT [VERB [ARGS]]]
 *
 * Options come before the object, as in ip(8) and rdma(8).  A command
 * table's first entry runs when no word is left, every table and every
 * verb answers "help", and a word may be shortened to any beginning of a
 * name (the first match in table order wins, as rdma's matches()).  An
 * object's entry points at the table of its verbs.
 * The flat commands of the previous release stay, for one release, as
 * deprecated aliases of the object verbs; they must be spelt in full.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommureg.h"
#include "tool.h"
#include "print.h"

#ifndef IREG_VERSION
#define IREG_VERSION "unknown"
#endif

#define SZ_4K	4096ULL

static const char *const global_options =
	"Options:\n"
	"  -j, --json      JSON output\n"
	"  -p, --pretty    indented JSON; text split over several lines\n"
	"  -V, --version   print the version and exit\n"
	"  -h, --help      print this help and exit\n";

/* ---- dispatch ---- */

static const char *cmd_prefix(const struct tool *t)
{
	return t->cmd_path[0] ? " " : "";
}

/* " (show, bind, ...)": an object's verbs, from its table. */
static void cmd_verbs_list(const struct cmd *verbs, char *buf, size_t size)
{
	const struct cmd *v;
	size_t len = 0;

	for (v = verbs; v->name && len < size; v++)
		len += snprintf(buf + len, size - len, "%s%s",
				v == verbs ? " (" : ", ", v->name);
	if (len < size)
		snprintf(buf + len, size - len, ")");
}

static void cmd_help_table(const struct tool *t, const struct cmd *cmds)
{
	const struct cmd *c, *v;
	bool aliases = false;

	printf("Usage: iommu-reg [OPTIONS]%s%s %s [ARGS]\n\n",
	       cmd_prefix(t), t->cmd_path,
	       t->cmd_path[0] ? "VERB" : "OBJECT [VERB]");
	printf("%s:\n", t->cmd_path[0] ? "Verbs" : "Objects");
	for (c = cmds; c->name; c++) {
		char synopsis[64], verbs[64] = "";

		if (c->alias) {
			aliases = true;
			continue;
		}
		if (c->verbs)
			cmd_verbs_list(c->verbs, verbs, sizeof(verbs));
		snprintf(synopsis, sizeof(synopsis), "%s%s%s", c->name,
			 c->args && c->args[0] ? " " : "",
			 c->args ? c->args : "");
		printf("  %-18s %s%s%s\n", synopsis, c->help, verbs,
		       c == cmds ? " (default)" : "");
	}
	printf("  %-18s %s\n", "help", "print this help");
	if (aliases) {
		printf("\nDeprecated aliases (to be removed in the next release):\n");
		for (c = cmds; c->name; c++) {
			if (!c->alias)
				continue;
			printf("  %-18s %s", c->name, c->alias);
			for (v = c->verbs; v && v->name; v++)
				printf("; %s %s: %s", c->name, v->name,
				       v->alias);
			printf("\n");
		}
	}
	if (!t->cmd_path[0])
		printf("\n%s", global_options);
}

/* rdma's matches(): @word is @c's name or, but for an alias, its start. */
static bool cmd_matches(const struct cmd *c, const char *word)
{
	size_t len = strlen(word);

	if (c->alias)
		return !strcmp(c->name, word);
	return len && !strncmp(c->name, word, len);
}

static const struct cmd *cmd_find(const struct cmd *cmds, const char *word)
{
	const struct cmd *c;

	for (c = cmds; word && c->name; c++)
		if (cmd_matches(c, word))
			return c;
	return NULL;
}

/*
 * Run the deprecated alias @c, its word taken: put the words it stands
 * for in its place and start again from the objects.
 */
static int cmd_alias(struct tool *t, const struct cmd *c)
{
	const struct cmd *sub = c->verbs ? cmd_find(c->verbs, arg_peek(t)) :
				NULL;
	static char words[64];	/* the new words point into it */
	char *w, *save, **argv;
	int n = 0;

	if (sub) {
		arg_next(t);
		c = sub;
	}
	argv = calloc(t->argc + ARRAY_SIZE(words) / 2 + 1, sizeof(*argv));
	if (!argv) {
		print_err(ENOMEM, "%s", c->name);
		return EXIT_ERROR;
	}
	snprintf(words, sizeof(words), "%s", c->alias);
	for (w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	memcpy(argv + n, t->argv, t->argc * sizeof(*argv));
	t->argv = argv;
	t->argc += n;
	t->cmd_path[0] = '\0';
	return cmd_exec(t, t->top, "command");
}

static bool cmd_want_help(const struct tool *t)
{
	const char *word = arg_peek(t);

	return word && !strcmp(word, "help");
}

static int cmd_help_leaf(const struct tool *t)
{
	const struct cmd *c = t->cmd;

	printf("Usage: iommu-reg [OPTIONS] %s%s%s\n\n%s\n", t->cmd_path,
	       c->args[0] ? " " : "", c->args, c->help);
	return EXIT_OK;
}

int cmd_exec(struct tool *t, const struct cmd *cmds, const char *what)
{
	const char *word = arg_peek(t);
	const struct cmd *c = cmds;
	size_t len;

	if (cmd_want_help(t)) {
		cmd_help_table(t, cmds);
		return EXIT_OK;
	}
	if (word) {
		c = cmd_find(cmds, word);
		if (!c)
			return cmd_usage_error(t, "unknown %s '%s'", what,
					       word);
		arg_next(t);
		if (c->alias)
			return cmd_alias(t, c);
	}

	len = strlen(t->cmd_path);
	snprintf(t->cmd_path + len, sizeof(t->cmd_path) - len, "%s%s",
		 len ? " " : "", c->name);
	t->cmd = c;
	if (c->verbs)
		return cmd_exec(t, c->verbs, "verb");
	if (cmd_want_help(t))
		return cmd_help_leaf(t);
	return c->func(t);
}

int cmd_usage_error(const struct tool *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_verr("", 0, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'iommu-reg%s%s help'.\n", cmd_prefix(t),
		t->cmd_path);
	return EXIT_USAGE;
}

/* ---- arguments ---- */

/* A number, with a K, M or G suffix when @suffix; 0 or -EINVAL. */
static int parse_number(const char *s, bool suffix, unsigned long long *val)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || s[strspn(s, " \t")] == '-')
		return -EINVAL;
	if (suffix && *end) {
		const char *units = strchr("kmg", end[0] | 0x20);

		if (!units)
			return -EINVAL;
		shift = 10 * (units - "kmg" + 1);
		end++;
	}
	if (*end || (shift && v > ~0ULL >> shift))
		return -EINVAL;
	*val = v << shift;
	return 0;
}

/* The word after @word, or NULL with a usage error. */
static const char *arg_value(struct tool *t, const char *word,
			     const char *what)
{
	const char *s = arg_next(t);

	if (!s)
		cmd_usage_error(t, "'%s' needs %s", word, what);
	return s;
}

int arg_number(struct tool *t, const char *word, unsigned long long min,
	       unsigned long long max, unsigned long long *val)
{
	const char *s = arg_value(t, word, "a number");

	if (!s)
		return EXIT_USAGE;
	if (parse_number(s, false, val) || *val < min || *val > max)
		return cmd_usage_error(t, "bad %s '%s'", word, s);
	return EXIT_OK;
}

int arg_size(struct tool *t, const char *word, size_t *size)
{
	const char *s = arg_value(t, word, "a size");
	unsigned long long v;

	if (!s)
		return EXIT_USAGE;
	if (parse_number(s, true, &v) || !v || v & (SZ_4K - 1) ||
	    v > SIZE_MAX)
		return cmd_usage_error(t,
				       "bad %s '%s' (a multiple of 4K, e.g. 64K, 2M)",
				       word, s);
	*size = v;
	return EXIT_OK;
}

int arg_bdf(struct tool *t, char *bdf)
{
	const char *s = arg_next(t);

	if (!s)
		return cmd_usage_error(t, "missing BDF");
	if (ireg_pci_bdf_parse(s, bdf, IREG_PCI_BDF_SIZE))
		return cmd_usage_error(t,
				       "invalid BDF '%s' (want dddd:bb:dd.f)",
				       s);
	return EXIT_OK;
}

int arg_end(const struct tool *t)
{
	if (arg_none(t))
		return EXIT_OK;
	return cmd_usage_error(t, "unexpected argument '%s'", arg_peek(t));
}

/* ---- libiommureg ---- */

int ctx_open(struct ireg_ctx **ctxp, char *const *bdfs, int n)
{
	int i, ret;

	ret = ireg_ctx_open(ctxp, 0);
	if (ret == -ENOENT || ret == -ENODEV) {
		print_err(0, "%s", ret == -ENOENT ?
			  "/dev/vfio/vfio missing: load vfio (modprobe vfio-pci)" :
			  "the iommu_reg module is not loaded");
		return EXIT_UNSUPPORTED;
	}
	if (ret) {
		print_err(-ret, "opening the VFIO container");
		return EXIT_ERROR;
	}
	for (i = 0; i < n; i++) {
		ret = ireg_device_open(*ctxp, bdfs[i]);
		if (ret < 0) {
			print_err(0, "%s", ireg_ctx_errmsg(*ctxp));
			ireg_ctx_close(*ctxp);
			*ctxp = NULL;
			return ret == -ENODEV ? EXIT_UNSUPPORTED : EXIT_ERROR;
		}
	}
	return EXIT_OK;
}

/* ---- top level ---- */

static int version_show(struct tool *t)
{
	if (arg_end(t))
		return EXIT_USAGE;
	print_open_obj(NULL);
	print_str("version", "iommu-reg %s", IREG_VERSION);
	print_close();
	print_nl();
	return EXIT_OK;
}

/* The alias list: "list [regions|containers] [FILTERS]". */
static const struct cmd list_aliases[] = {
	CMD_ALIAS("regions", "region show"),
	CMD_ALIAS("containers", "container show"),
	{ NULL }
};

static const struct cmd top_cmds[] = {
	CMD_OBJECT("dev", dev_cmds, "PCI devices"),
	CMD_OBJECT("region", region_cmds, "registered buffers"),
	CMD_OBJECT("container", container_cmds, "VFIO containers"),
	CMD_OBJECT("stats", stats_cmds, "the module's counters"),
	CMD_VERB("monitor", monitor_run, "[count N]",
		 "print register, unregister and invalidate events"),
	CMD_VERB("version", version_show, "", "print the version"),
	CMD_ALIAS("devices", "dev show"),
	CMD_ALIAS("sva", "dev sva"),
	CMD_ALIAS("bind", "dev bind"),
	CMD_ALIAS("unbind", "dev unbind"),
	CMD_ALIAS("register", "region add"),
	{ .name = "list", .alias = "region show", .verbs = list_aliases },
	{ NULL }
};

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "json",	no_argument,	NULL, 'j' },
		{ "pretty",	no_argument,	NULL, 'p' },
		{ "version",	no_argument,	NULL, 'V' },
		{ "help",	no_argument,	NULL, 'h' },
		{ NULL }
	};
	const char *state_dir = getenv("IREG_STATE_DIR");
	struct tool t = {
		.top = top_cmds,
		.state_dir = state_dir && state_dir[0] ? state_dir :
			     "/run/iommu-reg",
	};
	bool help = false, version = false;
	int opt, ret, err;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+jpVh", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			t.json = true;
			break;
		case 'p':
			t.pretty = true;
			break;
		case 'V':
			version = true;
			break;
		case 'h':
			help = true;
			break;
		default:
			if (optopt)
				return cmd_usage_error(&t,
						       "unknown option '-%c'",
						       optopt);
			return cmd_usage_error(&t, "unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	t.argc = argc - optind;
	t.argv = argv + optind;

	print_init(t.json, t.pretty);
	if (help) {
		cmd_help_table(&t, top_cmds);
		ret = EXIT_OK;
	} else if (version) {
		t.argc = 0;
		ret = version_show(&t);
	} else {
		ret = cmd_exec(&t, top_cmds, "command");
	}

	err = print_finish();
	if (err) {
		print_err(-err, "stdout");
		return EXIT_ERROR;
	}
	return ret;
}
