/*
 * The message in SMTP DATA form (RFC 5321 §2.3.8, §4.5.2): every line
 * ends in CRLF whether the input used LF or CRLF, every line starting
 * with '.' gets one more, a final line without a newline gets CRLF, and
 * ".\r\n" ends the data.  Input that cannot be sent faithfully stops the
 * run before any connection: NUL, a bare CR (never guessed at), or a
 * line longer than 998 octets.  One pass, any chunking of the input.
 */
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

/*
 * Convert len octets of input; out must hold 2 * len octets.  Returns the
 * octets written; on an error n->err is set and n->line names the line.
 */
size_t
norm_feed(struct norm *n, const uint8_t *in, size_t len, uint8_t *out)
{
	size_t i, o = 0;

	for (i = 0; i < len && n->err == NORM_OK; i++)
		o += feed_one(n, in[i], out + o);
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
