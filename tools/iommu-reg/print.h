/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one output path of iommu-reg: every command prints through these
 * helpers, which write either text or JSON to stdout.
 *
 * Each value is given a JSON key and a text format:
 *
 *   print_str("driver", "driver %-10s", name);
 *
 * In JSON mode the format is ignored; in text mode the key is.  A NULL
 * key prints in text mode only, a NULL format in JSON mode only.  Inside
 * a JSON array the key of a value is not emitted.  Format conversions:
 * print_str and print_null take one %s, print_uint one %llu (any flags or
 * width), print_bool one %s ("yes" or "no").
 *
 * Text output is built one line at a time: fields are separated by one
 * space, print_br() separates groups of fields (a space, or a new indented
 * line with -p), print_nl() ends the line.  Trailing blanks from padded
 * formats are trimmed.  JSON output is compact, or indented with -p.
 */
#ifndef PRINT_H
#define PRINT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "tool.h"

void print_init(bool json, bool pretty);
/* Flush stdout; 0, or -errno if writing it failed. */
int print_finish(void);

void print_open_obj(const char *key);
void print_open_array(const char *key);
/* Close the innermost open object or array. */
void print_close(void);

void print_str(const char *key, const char *fmt, const char *val);
void print_uint(const char *key, const char *fmt, unsigned long long val);
void print_bool(const char *key, const char *fmt, bool val);
/* JSON null; text prints @text through @fmt ("none", "unknown"). */
void print_null(const char *key, const char *fmt, const char *text);

/* A 64-bit value as "0x..." (addresses, IOVAs). */
void print_hex(const char *key, const char *fmt, uint64_t val);

void print_br(void);
void print_nl(void);

/*
 * The one error path: "iommu-reg: <@prefix><message>[: <strerror(@errnum)>]"
 * on stderr; no strerror() when @errnum is 0.
 */
__printf(3, 0)
void print_verr(const char *prefix, int errnum, const char *fmt, va_list ap);
/* print_verr() without a prefix. */
__printf(2, 3) void print_err(int errnum, const char *fmt, ...);
/* print_verr() with the prefix "warning: ". */
__printf(1, 2) void print_warn(const char *fmt, ...);

#endif /* PRINT_H */
