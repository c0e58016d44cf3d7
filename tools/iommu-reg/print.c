// SPDX-License-Identifier: GPL-2.0-only
/*
 * Text and JSON output for iommu-reg; see print.h for the model.
 *
 * JSON is written as it is produced, with a small stack of open
 * containers to place commas and indentation.  Strings are escaped per
 * RFC 8259; bytes that are not valid UTF-8 (sysfs names are arbitrary
 * bytes) become U+FFFD so the document always parses.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "print.h"

#define JSON_MAX_DEPTH	16
#define JSON_INDENT	"    "

static struct {
	bool json;
	bool pretty;
	int depth;
	struct {
		char close;		/* '}' or ']' */
		unsigned int count;	/* members emitted so far */
	} stack[JSON_MAX_DEPTH];
} pr;

/* The text line being built; see print_nl(). */
static struct {
	char *buf;
	size_t len;
	size_t cap;
} line;

void print_init(bool json, bool pretty)
{
	pr.json = json;
	pr.pretty = pretty;
	pr.depth = 0;
}

int print_finish(void)
{
	assert(pr.depth == 0);
	if (line.len)
		print_nl();
	free(line.buf);
	line.buf = NULL;
	line.len = 0;
	line.cap = 0;
	if (fflush(stdout) == EOF || ferror(stdout))
		return errno ? -errno : -EIO;
	return 0;
}

/* ---- text ---- */

/* Length of the valid UTF-8 sequence at @s, or 0 if it is not valid. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	/* No overlong forms, no surrogates, nothing above U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * Names from sysfs are arbitrary bytes: keep control characters and
 * invalid UTF-8 off the terminal, as ls(1) does.
 */
static void text_sanitize(char *str, size_t len)
{
	unsigned char *s = (unsigned char *)str, *end = s + len;

	while (s < end) {
		size_t n = utf8_len(s);

		if (*s < 0x20 || *s == 0x7f || !n || n > (size_t)(end - s)) {
			*s++ = '?';
			continue;
		}
		s += n;
	}
}

static void line_reserve(size_t more)
{
	size_t cap = line.cap ? line.cap : 256;

	while (cap < line.len + more + 1)
		cap *= 2;
	if (cap == line.cap)
		return;
	line.buf = realloc(line.buf, cap);
	if (!line.buf) {
		print_err(ENOMEM, "output line");
		exit(EXIT_ERROR);
	}
	line.cap = cap;
}

static void line_trim(void)
{
	while (line.len && line.buf[line.len - 1] == ' ')
		line.len--;
}

static void line_add(const char *s)
{
	size_t n = strlen(s);

	line_reserve(n);
	memcpy(line.buf + line.len, s, n + 1);
	line.len += n;
}

static __printf(1, 0) void text_field(const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	if (!fmt)	/* JSON-only value; wanted() filters these already */
		return;
	if (line.len && line.buf[line.len - 1] != '\t')
		line_add(" ");
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n <= 0)
		return;
	line_reserve(n);
	vsnprintf(line.buf + line.len, n + 1, fmt, ap);
	text_sanitize(line.buf + line.len, n);
	line.len += n;
}

/*
 * Not marked printf-like: the formats are the callers' of print_*(), one
 * conversion each, as print.h documents.
 */
static void text(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	text_field(fmt, ap);
	va_end(ap);
}

void print_br(void)
{
	if (pr.json || !pr.pretty)
		return;
	line_trim();
	line_add("\n\t");
}

void print_nl(void)
{
	if (pr.json)
		return;
	line_trim();
	line_add("\n");
	fwrite(line.buf, 1, line.len, stdout);
	line.len = 0;
}

/* ---- JSON ---- */

static void json_newline(int depth)
{
	if (!pr.pretty)
		return;
	putchar('\n');
	while (depth-- > 0)
		fputs(JSON_INDENT, stdout);
}

static void json_string(const char *str)
{
	/* The short escapes of RFC 8259; other controls are \u00XX. */
	static const char plain[] = "\"\\\b\f\n\r\t";
	static const char escaped[] = "\"\\bfnrt";
	const unsigned char *s = (const unsigned char *)str;

	putchar('"');
	while (*s) {
		const char *e = strchr(plain, *s);
		size_t n = 1;

		if (e) {
			putchar('\\');
			putchar(escaped[e - plain]);
		} else if (*s < 0x20) {
			printf("\\u%04x", *s);
		} else {
			n = utf8_len(s);
			if (n) {
				fwrite(s, 1, n, stdout);
			} else {	/* not UTF-8: the byte is U+FFFD */
				fputs("\\ufffd", stdout);
				n = 1;
			}
		}
		s += n;
	}
	putchar('"');
}

/* Separator, indentation and key before a value. */
static void json_member(const char *key)
{
	if (pr.depth > 0) {
		if (pr.stack[pr.depth - 1].count++)
			putchar(',');
		json_newline(pr.depth);
		if (pr.stack[pr.depth - 1].close == '}') {
			assert(key);
			json_string(key);
			fputs(pr.pretty ? ": " : ":", stdout);
		}
	}
}

static void json_open(const char *key, char open, char close)
{
	assert(pr.depth < JSON_MAX_DEPTH);
	json_member(key);
	putchar(open);
	pr.stack[pr.depth].close = close;
	pr.stack[pr.depth].count = 0;
	pr.depth++;
}

void print_open_obj(const char *key)
{
	if (pr.json)
		json_open(key, '{', '}');
}

void print_open_array(const char *key)
{
	if (pr.json)
		json_open(key, '[', ']');
}

void print_close(void)
{
	if (!pr.json)
		return;
	assert(pr.depth > 0);
	pr.depth--;
	if (pr.stack[pr.depth].count)
		json_newline(pr.depth);
	putchar(pr.stack[pr.depth].close);
	if (!pr.depth)
		putchar('\n');
}

/* ---- values ---- */

/* Whether a value goes to the current mode at all. */
static bool wanted(const char *key, const char *fmt)
{
	return pr.json ? !!key : !!fmt;
}

void print_str(const char *key, const char *fmt, const char *val)
{
	if (!val) {
		print_null(key, fmt, "none");
		return;
	}
	if (!wanted(key, fmt))
		return;
	if (pr.json) {
		json_member(key);
		json_string(val);
	} else {
		text(fmt, val);
	}
}

/*
 * A value that is @json as it stands in JSON; in text, @fmt's one
 * conversion takes the argument after @json.
 */
static void value(const char *key, const char *fmt, const char *json, ...)
{
	va_list ap;

	if (!wanted(key, fmt))
		return;
	if (pr.json) {
		json_member(key);
		fputs(json, stdout);
		return;
	}
	va_start(ap, json);
	text_field(fmt, ap);
	va_end(ap);
}

void print_uint(const char *key, const char *fmt, unsigned long long val)
{
	char json[24];

	snprintf(json, sizeof(json), "%llu", val);
	value(key, fmt, json, val);
}

void print_bool(const char *key, const char *fmt, bool val)
{
	value(key, fmt, val ? "true" : "false", val ? "yes" : "no");
}

void print_null(const char *key, const char *fmt, const char *txt)
{
	value(key, fmt, "null", txt);
}

void print_hex(const char *key, const char *fmt, uint64_t val)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, val);
	print_str(key, fmt, buf);
}

/* ---- errors ---- */

void print_verr(const char *prefix, int errnum, const char *fmt, va_list ap)
{
	fprintf(stderr, "iommu-reg: %s", prefix);
	vfprintf(stderr, fmt, ap);
	if (errnum)
		fprintf(stderr, ": %s", strerror(errnum));
	fputc('\n', stderr);
}

void print_err(int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_verr("", errnum, fmt, ap);
	va_end(ap);
}

void print_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_verr("warning: ", 0, fmt, ap);
	va_end(ap);
}
