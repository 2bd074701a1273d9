/*
 * libFuzzer twin of the SMTP reply reader (src/tls/reply.c): the input
 * is a server's byte stream, split into lines on CRLF (first byte even)
 * or on bare LF (odd), fed to reply_line() one reply after another.
 * Invariants: the kept text is NUL-terminated, printable and inside its
 * buffer; a complete reply has a code in 200..599; the EHLO and enhanced
 * status parsers only ever read that text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_text(const struct reply *r)
{
	size_t i;

	if (r->textlen >= sizeof(r->text) || r->text[r->textlen] != '\0')
		abort();
	for (i = 0; i < r->textlen; i++) {
		unsigned char c = r->text[i];

		if (c != '\n' && (c < 0x20 || c >= 0x7f))
			abort();
	}
}

static void
check_done(const struct reply *r)
{
	struct ehlo e;
	char        buf[16], small[4];
	const char *es;

	if (!r->done || r->code < 200 || r->code > 599 || r->nlines < 1 ||
	    r->nlines > REPLY_LINES_MAX)
		abort();
	ehlo_parse(r, &e);
	if (!(e.flags & EXT_SIZE) && e.size != 0)
		abort();
	if ((es = reply_enhanced(r, buf, sizeof(buf))) != NULL) {
		size_t n = strnlen(es, sizeof(buf));

		if (es != buf || n == sizeof(buf) || n < 5 ||
		    es[0] != '0' + r->code / 100 || es[1] != '.')
			abort();
	}
	/* a buffer too small for any code must never be written past */
	(void)reply_enhanced(r, small, sizeof(small));
}

/* Next line of [p, end): its length, *next past its terminator. */
static size_t
next_line(const char *p, const char *end, int crlf, const char **next)
{
	const char *q;

	for (q = p; q < end; q++) {
		if (crlf && q + 1 < end && q[0] == '\r' && q[1] == '\n') {
			*next = q + 2;
			return q - p;
		}
		if (!crlf && *q == '\n') {
			*next = q + 1;
			return q - p;
		}
	}
	*next = NULL; /* no terminator: a line still arriving */
	return end - p;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reply *r;
	const char   *p, *end, *next, *why;
	char         *line;
	size_t        len;
	int           crlf, rv = 0;

	if (size < 1)
		return 0;
	crlf = !(data[0] & 1);
	if ((r = malloc(sizeof(*r))) == NULL)
		abort();
	reply_init(r);
	p = (const char *)data + 1;
	end = (const char *)data + size;
	while (p < end) {
		len = next_line(p, end, crlf, &next);
		if (next == NULL)
			break;
		/* an exact-size copy: ASan sees any read past the line */
		if ((line = malloc(len ? len : 1)) == NULL)
			abort();
		memcpy(line, p, len);
		why = NULL;
		rv = reply_line(r, line, len, &why);
		free(line);
		check_text(r);
		if (rv == -1) {
			if (why == NULL)
				abort();
			break;
		}
		if (rv == 1) {
			check_done(r);
			reply_init(r); /* the next reply of the stream */
		} else if (r->done)
			abort();
		p = next;
	}
	free(r);
	return 0;
}
