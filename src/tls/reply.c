/*
 * Server replies are hostile input.  A reply line is `code SP text' or,
 * on all lines but the last, `code "-" text' (RFC 5321 §4.2).  Anything
 * else is a protocol error of that server: a code outside 200..599, a
 * code that changes inside a multi-line reply, control octets, a line
 * too long or too many lines.  Long lines are refused, never split.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"

void
reply_init(struct reply *r)
{
	memset(r, 0, sizeof(*r));
}

/* Copy text, replacing what a terminal would interpret with '?'. */
void
printable(char *dst, const char *src, size_t len, size_t dstlen)
{
	size_t i;

	if (dstlen == 0)
		return;
	for (i = 0; i < len && i + 1 < dstlen; i++) {
		unsigned char c = src[i];

		dst[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	dst[i] = '\0';
}

static void ehlo_keyword(struct ehlo *, const char *, size_t);

static int
parse_code(const char *line)
{
	if (!isdigit((unsigned char)line[0]) ||
	    !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]))
		return -1;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/*
 * Keep whole lines only: a line cut short could read as another EHLO
 * keyword or a smaller SIZE.  Lines past the limit are still validated.
 */
static void
keep_text(struct reply *r, const char *text, size_t len)
{
	size_t need = len + (r->textlen > 0);

	if (r->textlen + need + 1 > sizeof(r->text)) {
		r->truncated = 1;
		return;
	}
	if (r->textlen > 0)
		r->text[r->textlen++] = '\n';
	printable(r->text + r->textlen, text, len, len + 1);
	r->textlen += len;
}

/*
 * Add one line (without its CRLF).  1: the reply is complete, 0: more
 * lines follow, -1: protocol error with *why set.
 */
int
reply_line(struct reply *r, const char *line, size_t len, const char **why)
{
	size_t i;
	int    code;

	if (len > REPLY_LINE_MAX)
		return *why = "reply line too long", -1;
	if (++r->nlines > REPLY_LINES_MAX)
		return *why = "too many reply lines", -1;
	for (i = 0; i < len; i++) {
		unsigned char c = line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return *why = "control octet in reply", -1;
	}
	if (len < 3 || (code = parse_code(line)) == -1)
		return *why = "reply without a 3-digit code", -1;
	if (code < 200 || code > 599)
		return *why = "reply code outside 2xx-5xx", -1;
	if (r->nlines > 1 && code != r->code)
		return *why = "reply code changes inside a multi-line reply",
		       -1;
	r->code = code;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return *why = "junk after the reply code", -1;
	keep_text(r, line, len);
	/*
	 * EHLO keywords come from every line, kept in text or not: a long
	 * reply must not hide STARTTLS and turn TLS into cleartext.
	 */
	if (r->nlines > 1 && len > 4) {
		char kw[REPLY_LINE_MAX + 1];

		memcpy(kw, line + 4, len - 4);
		kw[len - 4] = '\0';
		ehlo_keyword(&r->ext, kw, len - 4);
	}
	if (len > 3 && line[3] == '-')
		return 0;
	r->done = 1;
	return 1;
}

/* Match one EHLO line's keyword, case-insensitively. */
static int
keyword(const char *line, size_t len, const char *kw, const char **arg)
{
	size_t n = strlen(kw);

	if (len < n || strncasecmp(line, kw, n) != 0)
		return 0;
	if (len > n && line[n] != ' ')
		return 0;
	*arg = len > n ? line + n + 1 : line + len;
	return 1;
}

static void
ehlo_keyword(struct ehlo *e, const char *kw, size_t len)
{
	const char        *arg;
	char              *end;
	unsigned long long v;

	if (keyword(kw, len, "STARTTLS", &arg))
		e->flags |= EXT_STARTTLS;
	else if (keyword(kw, len, "PIPELINING", &arg))
		e->flags |= EXT_PIPELINING;
	else if (keyword(kw, len, "8BITMIME", &arg))
		e->flags |= EXT_8BITMIME;
	else if (keyword(kw, len, "ENHANCEDSTATUSCODES", &arg))
		e->flags |= EXT_ENHANCED;
	else if (keyword(kw, len, "SMTPUTF8", &arg))
		e->flags |= EXT_SMTPUTF8;
	else if (keyword(kw, len, "SIZE", &arg)) {
		e->flags |= EXT_SIZE;
		if (isdigit((unsigned char)*arg)) {
			v = strtoull(arg, &end, 10);
			if (end <= kw + len &&
			    (*end == '\0' || *end == '\n' || *end == ' '))
				e->size = v;
		}
	}
}

/* The extensions of an EHLO reply; its first line is the greeting. */
void
ehlo_parse(const struct reply *r, struct ehlo *e)
{
	*e = r->ext;
}

/* 1 to 3 digits at p: their count, or 0. */
static size_t
digits(const char *p)
{
	size_t n = 0;

	while (n < 4 && isdigit((unsigned char)p[n]))
		n++;
	return n >= 1 && n <= 3 ? n : 0;
}

/*
 * The enhanced status code (RFC 3463 §2: class "." subject "." detail,
 * class 2, 4 or 5 and equal to the reply's first digit, subject and
 * detail 1-3 digits) that starts the reply's text; else NULL.
 */
const char *
reply_enhanced(const struct reply *r, char *buf, size_t len)
{
	const char *p = r->text + 4;
	size_t      n, s, d;

	if (r->textlen < 9 || r->code / 100 == 3 ||
	    p[0] != '0' + r->code / 100 || p[1] != '.')
		return NULL;
	if ((s = digits(p + 2)) == 0 || p[2 + s] != '.' ||
	    (d = digits(p + 3 + s)) == 0)
		return NULL;
	n = 3 + s + d;
	if ((p[n] != ' ' && p[n] != '\0' && p[n] != '\n') || n >= len)
		return NULL;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}
