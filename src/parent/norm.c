/*
 * The message in SMTP DATA form (RFC 5321 §2.3.8, §4.5.2): every line
 * ends in CRLF whether the input used LF or CRLF, every line starting
 * with '.' gets one more, a final line without a newline gets CRLF, and
 * ".\r\n" ends the data.  Input that cannot be sent faithfully stops the
 * run before any connection: NUL, a bare CR (never guessed at), or a
 * line longer than 998 octets.  Any chunking of the input: a read with
 * no CR and no NUL (LF text) goes a line at a time (memchr, memcpy);
 * otherwise line by line with a check of each, and octet by octet
 * (feed_one(), the reference) only for a line that holds a CR or a NUL,
 * or whose CR LF is split between two reads.
 */
#include <string.h>

#include "parent.h"

void
norm_init(struct norm *n)
{
	n->line = 1;
	n->size = n->wire = 0;
	n->linelen = 0;
	n->cr = 0;
	n->has8bit = 0;
	n->err = NORM_OK;
}

static size_t
end_line(struct norm *n, uint8_t *out)
{
	out[0] = '\r';
	out[1] = '\n';
	n->size += 2;
	n->line++;
	n->linelen = 0;
	return 2;
}

/* One input octet; returns octets written to out (at most 2). */
static size_t
feed_one(struct norm *n, uint8_t c, uint8_t *out)
{
	size_t o = 0;

	if (n->cr) {
		n->cr = 0;
		if (c == '\n')
			return end_line(n, out);
		n->err = NORM_BARE_CR;
		return 0;
	}
	if (c == '\r') {
		n->cr = 1;
		return 0;
	}
	if (c == '\n')
		return end_line(n, out);
	if (c == '\0') {
		n->err = NORM_NUL;
		return 0;
	}
	if (++n->linelen > NORM_LINE_MAX) {
		n->err = NORM_LONG_LINE;
		return 0;
	}
	if (c >= 0x80)
		n->has8bit = 1;
	if (n->linelen == 1 && c == '.')
		out[o++] = '.';
	out[o++] = c;
	n->size++;
	return o;
}

static size_t
feed_octets(struct norm *n, const uint8_t *in, size_t len, uint8_t *out)
{
	size_t i, o = 0;

	for (i = 0; i < len && n->err == NORM_OK; i++)
		o += feed_one(n, in[i], out + o);
	return o;
}

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Non-zero if one of the 8 octets of w is zero (exact, no false hits). */
static uint64_t
has_zero(uint64_t w)
{
	return (w - ONES) & ~w & HIGHS;
}

enum { SCAN_8BIT = 1, SCAN_CR_NUL = 2 };

/* Which of 8-bit octets, CR and NUL occur in p[0..len), 8 at a time. */
static int
scan(const uint8_t *p, size_t len)
{
	uint64_t w, any = 0, stop = 0;
	size_t   i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		any |= w;
		stop |= has_zero(w) | has_zero(w ^ (ONES * '\r'));
	}
	for (; i < len; i++) {
		any |= p[i];
		stop |= p[i] == '\0' || p[i] == '\r';
	}
	return ((any & HIGHS) ? SCAN_8BIT : 0) | (stop ? SCAN_CR_NUL : 0);
}

/* Whether p[0..len) has an octet >= 0x80, 8 at a time. */
static int
has_8bit(const uint8_t *p, size_t len)
{
	uint64_t w, any = 0;
	size_t   i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		any |= w;
	}
	for (; i < len; i++)
		any |= p[i];
	return (any & HIGHS) != 0;
}

/*
 * text octets of one line, known to hold no CR, LF or NUL: checked for
 * length, dot-stuffed at the start of a line, copied.  Returns the
 * octets written (0 with n->err set for a line too long).
 */
static size_t
feed_text(struct norm *n, const uint8_t *in, size_t text, uint8_t *out)
{
	size_t o = 0;

	if (n->linelen + text > NORM_LINE_MAX) {
		n->err = NORM_LONG_LINE;
		return 0;
	}
	if (n->linelen == 0 && text > 0 && in[0] == '.')
		out[o++] = '.';
	memcpy(out + o, in, text);
	n->size += text;
	n->linelen += text;
	return o + text;
}

/*
 * A read with no CR and no NUL in it (the usual LF text): line by line,
 * the counters in locals (updating *n for every line stalled on the
 * store of the one before).
 */
static size_t
feed_plain(struct norm *n, const uint8_t *in, size_t len, uint8_t *out)
{
	const uint8_t *p = in, *end = in + len, *lf;
	uint8_t       *o = out;
	uint64_t       line = n->line, size = n->size;
	size_t         linelen = n->linelen, text;

	if (!n->has8bit && has_8bit(in, len))
		n->has8bit = 1;
	while (p < end) {
		lf = memchr(p, '\n', (size_t)(end - p));
		text = (size_t)((lf != NULL ? lf : end) - p);
		if (linelen + text > NORM_LINE_MAX) {
			n->err = NORM_LONG_LINE;
			break;
		}
		if (linelen == 0 && text > 0 && *p == '.')
			*o++ = '.';
		memcpy(o, p, text);
		o += text;
		p += text;
		size += text;
		linelen += text;
		if (lf == NULL)
			break;
		*o++ = '\r';
		*o++ = '\n';
		size += 2;
		line++;
		linelen = 0;
		p++;
	}
	n->line = line;
	n->size = size;
	n->linelen = linelen;
	return (size_t)(o - out);
}

/*
 * Up to and including the next LF, when the read holds a CR or a NUL
 * somewhere: the octets before the LF (less the CR of a CR LF) copied,
 * dot-stuffed, the LF as CR LF.  Returns the input octets taken (*o:
 * output), 0 if this part needs feed_one().
 */
static size_t
feed_line(
    struct norm *n, const uint8_t *in, size_t len, uint8_t *out, size_t *o)
{
	const uint8_t *lf = memchr(in, '\n', len);
	size_t         text = lf ? (size_t)(lf - in) : len, took;
	int            s;

	*o = 0;
	took = text + (lf != NULL);
	if (lf != NULL && text > 0 && in[text - 1] == '\r')
		text--; /* CR LF: the CR is not text */
	if ((s = scan(in, text)) & SCAN_CR_NUL || n->cr)
		return 0;
	if (s & SCAN_8BIT)
		n->has8bit = 1;
	*o = feed_text(n, in, text, out);
	if (lf != NULL && n->err == NORM_OK)
		*o += end_line(n, out + *o);
	return took;
}

/*
 * Convert len octets of input; out must hold 2 * len octets.  Returns the
 * octets written; on an error n->err is set and n->line names the line.
 */
size_t
norm_feed(struct norm *n, const uint8_t *in, size_t len, uint8_t *out)
{
	const uint8_t *lf;
	size_t         i = 0, o = 0, lo, took;

	if (n->err != NORM_OK)
		return 0; /* the message is refused already */
	if (!n->cr && memchr(in, '\r', len) == NULL &&
	    memchr(in, '\0', len) == NULL) {
		o = feed_plain(n, in, len, out);
		n->wire += o;
		return o;
	}
	while (i < len && n->err == NORM_OK) {
		if ((took = feed_line(n, in + i, len - i, out + o, &lo)) > 0) {
			i += took;
			o += lo;
			continue;
		}
		/* the slow part: the rest of this line, octet by octet */
		lf = memchr(in + i, '\n', len - i);
		took = lf != NULL ? (size_t)(lf - (in + i)) + 1 : len - i;
		o += feed_octets(n, in + i, took, out + o);
		i += took;
	}
	n->wire += o;
	return o;
}

/* The reference: every octet through feed_one() (for the fuzzer). */
size_t
norm_feed_octets(struct norm *n, const uint8_t *in, size_t len, uint8_t *out)
{
	size_t o = feed_octets(n, in, len, out);

	n->wire += o;
	return o;
}

/* End of input: out must hold 5 octets. */
size_t
norm_finish(struct norm *n, uint8_t *out)
{
	size_t o = 0;

	if (n->err != NORM_OK)
		return 0;
	if (n->cr) {
		n->err = NORM_BARE_CR;
		return 0;
	}
	if (n->size == 0 && n->linelen == 0) {
		n->err = NORM_EMPTY;
		return 0;
	}
	if (n->linelen > 0)
		o += end_line(n, out);
	out[o++] = '.';
	out[o++] = '\r';
	out[o++] = '\n';
	n->wire += o;
	return o;
}

const char *
norm_strerror(enum norm_err e)
{
	switch (e) {
	case NORM_OK:
		return "no error";
	case NORM_NUL:
		return "NUL octet";
	case NORM_BARE_CR:
		return "CR not followed by LF";
	case NORM_LONG_LINE:
		return "line longer than 998 octets";
	case NORM_EMPTY:
		return "empty message";
	}
	return "unknown error";
}
