/*
 * The one JSON object mxclient writes to --status-fd, read as untrusted
 * text (it carries server replies; tests/fuzz/fuzz_json.c): a strict
 * RFC 8259 reader that keeps the string and number members mxqueue
 * records (exit, outcome, mx, address, security, reply,
 * enhanced_status, reason) and skips every other member, whatever its
 * type, so new members (schema, sender, a timestamp) change nothing.
 * Nesting is bounded; \u escapes outside printable ASCII become '?'.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define DEPTH_MAX 16

struct jp {
	const char *s;
	size_t      len, i;
};

static void
ws(struct jp *p)
{
	while (p->i < p->len && strchr(" \t\r\n", p->s[p->i]) != NULL &&
	    p->s[p->i] != '\0')
		p->i++;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* An escape after '\': one output octet (printable ASCII or '?'). */
static int
escape(struct jp *p, char *c)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/?????";
	const char       *e;
	int               i, v = 0, h;

	if (p->i >= p->len)
		return -1;
	if (p->s[p->i] != 'u') {
		if ((e = strchr(from, p->s[p->i])) == NULL || *e == '\0')
			return -1;
		*c = to[e - from];
		p->i++;
		return 0;
	}
	if (p->i + 5 > p->len)
		return -1;
	for (i = 1; i <= 4; i++) {
		if ((h = hexval(p->s[p->i + i])) < 0)
			return -1;
		v = v * 16 + h;
	}
	p->i += 5;
	*c = (v >= ' ' && v <= '~') ? (char)v : '?';
	return 0;
}

/* A string at p->i (the quote); its text into out (NULL: skip it). */
static int
string(struct jp *p, char *out, size_t size)
{
	size_t o = 0;
	char   c;

	if (p->i >= p->len || p->s[p->i] != '"')
		return -1;
	for (p->i++; p->i < p->len && p->s[p->i] != '"';) {
		c = p->s[p->i++];
		if ((unsigned char)c < ' ')
			return -1;
		if (c == '\\' && escape(p, &c) == -1)
			return -1;
		if ((unsigned char)c > '~')
			c = '?';
		if (out != NULL && o + 1 < size)
			out[o++] = c;
	}
	if (p->i >= p->len)
		return -1;
	p->i++;
	if (out != NULL)
		out[o] = '\0';
	return 0;
}

/* A number per RFC 8259 §6; its integer part into *v if asked. */
static int
number(struct jp *p, long *v)
{
	size_t start = p->i;
	long   n = 0;
	int    neg = 0, digits = 0;

	if (p->i < p->len && p->s[p->i] == '-')
		neg = 1, p->i++;
	for (; p->i < p->len && p->s[p->i] >= '0' && p->s[p->i] <= '9';
	     p->i++, digits++)
		if (n < 100000000)
			n = n * 10 + (p->s[p->i] - '0');
	if (digits == 0 || (digits > 1 && p->s[start + neg] == '0'))
		return -1;
	if (p->i < p->len && p->s[p->i] == '.') {
		for (p->i++, digits = 0;
		     p->i < p->len && p->s[p->i] >= '0' && p->s[p->i] <= '9';
		     p->i++)
			digits++;
		if (digits == 0)
			return -1;
	}
	if (p->i < p->len && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->len && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		for (digits = 0;
		     p->i < p->len && p->s[p->i] >= '0' && p->s[p->i] <= '9';
		     p->i++)
			digits++;
		if (digits == 0)
			return -1;
	}
	if (v != NULL)
		*v = neg ? -n : n;
	return 0;
}

static int value(struct jp *, int);

static int
literal(struct jp *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->i < n || memcmp(p->s + p->i, word, n) != 0)
		return -1;
	p->i += n;
	return 0;
}

/* '[' or '{' at p->i: every element skipped. */
static int
container(struct jp *p, int depth)
{
	char close = p->s[p->i] == '[' ? ']' : '}';

	if (depth >= DEPTH_MAX)
		return -1;
	p->i++;
	ws(p);
	if (p->i < p->len && p->s[p->i] == close) {
		p->i++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			if (string(p, NULL, 0) == -1)
				return -1;
			ws(p);
			if (p->i >= p->len || p->s[p->i++] != ':')
				return -1;
		}
		if (value(p, depth + 1) == -1)
			return -1;
		ws(p);
		if (p->i >= p->len)
			return -1;
		if (p->s[p->i] == close) {
			p->i++;
			return 0;
		}
		if (p->s[p->i++] != ',')
			return -1;
	}
}

/* Any value, skipped. */
static int
value(struct jp *p, int depth)
{
	ws(p);
	if (p->i >= p->len)
		return -1;
	switch (p->s[p->i]) {
	case '"':
		return string(p, NULL, 0);
	case '[':
	case '{':
		return container(p, depth);
	case 't':
		return literal(p, "true");
	case 'f':
		return literal(p, "false");
	case 'n':
		return literal(p, "null");
	default:
		return number(p, NULL);
	}
}

/* The report's names of the members a job keeps (enum attempt_text). */
static const char *const names[AT_COUNT] = { "outcome", "mx", "address",
	"security", "reply", "enhanced_status", "reason" };

/* One member's value: kept if it is a string we record, else skipped. */
static int
member(struct jp *p, const char *key, struct qreport *r)
{
	size_t i;
	long   v;

	ws(p);
	if (strcmp(key, "exit") == 0 && p->i < p->len && p->s[p->i] != '"') {
		if (number(p, &v) == -1 || v < 0 || v > 255)
			return -1;
		r->exit = (int)v;
		r->have_exit = 1;
		return 0;
	}
	for (i = 0; i < AT_COUNT; i++)
		if (strcmp(key, names[i]) == 0 && p->i < p->len &&
		    p->s[p->i] == '"')
			return string(p, r->text[i], sizeof(r->text[i]));
	return value(p, 1);
}

int
report_parse(const char *s, size_t len, struct qreport *r)
{
	struct jp p = { s, len, 0 };
	char      key[64];

	memset(r, 0, sizeof(*r));
	ws(&p);
	if (p.i >= len || s[p.i++] != '{')
		return -1;
	ws(&p);
	if (p.i < len && s[p.i] == '}')
		p.i++;
	else
		for (;;) {
			ws(&p);
			if (string(&p, key, sizeof(key)) == -1)
				return -1;
			ws(&p);
			if (p.i >= len || s[p.i++] != ':' ||
			    member(&p, key, r) == -1)
				return -1;
			ws(&p);
			if (p.i >= len)
				return -1;
			if (s[p.i] == '}') {
				p.i++;
				break;
			}
			if (s[p.i++] != ',')
				return -1;
		}
	ws(&p);
	return p.i == len && r->have_exit ? 0 : -1;
}
