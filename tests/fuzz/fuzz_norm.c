/*
 * libFuzzer twin of the message normaliser (src/parent/norm.c).  Input:
 * two control octets that cut the message into 1-3 chunks, then the
 * message.  When norm accepts it, the output must be the SMTP DATA form:
 * CRLF only, ending in exactly one "\r\n.\r\n", every line that starts
 * with '.' stuffed, and un-stuffing it must give the input back with LF
 * or CRLF ends as CRLF and a final CRLF added; n.size and n.wire must
 * count it.  When norm refuses it, the reason must really be there.
 * norm_feed()'s line-at-a-time path must agree with the octet-at-a-time
 * reference (norm_feed_octets()) on everything: output, error, line,
 * sizes and the 8-bit flag.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parent.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What norm must say about in: an independent reading. */
static enum norm_err
expected_err(const uint8_t *in, size_t len)
{
	size_t i, linelen = 0;

	if (len == 0)
		return NORM_EMPTY;
	for (i = 0; i < len; i++) {
		if (in[i] == '\r') {
			if (i + 1 == len || in[i + 1] != '\n')
				return NORM_BARE_CR;
			i++;
			linelen = 0;
		} else if (in[i] == '\n')
			linelen = 0;
		else if (in[i] == '\0')
			return NORM_NUL;
		else if (++linelen > NORM_LINE_MAX)
			return NORM_LONG_LINE;
	}
	return NORM_OK;
}

/* The input with every line ending in CRLF; *olen its length. */
static uint8_t *
crlf_form(const uint8_t *in, size_t len, size_t *olen)
{
	uint8_t *out = malloc(2 * len + 2);
	size_t   i, o = 0;

	if (out == NULL)
		abort();
	for (i = 0; i < len; i++) {
		if (in[i] == '\r')
			continue; /* only CRLF gets here */
		if (in[i] == '\n')
			out[o++] = '\r';
		out[o++] = in[i];
	}
	if (o == 0 || out[o - 1] != '\n') {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	*olen = o;
	return out;
}

/* Check the DATA form and undo the stuffing into un; its length. */
static size_t
unstuff(const uint8_t *w, size_t wlen, uint8_t *un)
{
	size_t i, u = 0, body;

	if (wlen < 5 || memcmp(w + wlen - 5, "\r\n.\r\n", 5) != 0)
		abort();
	body = wlen - 3;
	for (i = 0; i < body;) {
		const uint8_t *nl = memchr(w + i, '\n', body - i);
		size_t         ll;

		if (nl == NULL || nl == w + i || nl[-1] != '\r')
			abort(); /* bare LF or unterminated line */
		ll = nl - (w + i) + 1;
		if (memchr(w + i, '\r', ll - 2) != NULL)
			abort(); /* bare CR */
		if (w[i] == '.') {
			if (ll < 4 || w[i + 1] != '.')
				abort(); /* unstuffed dot line: ends the data */
			memcpy(un + u, w + i + 1, ll - 1);
			u += ll - 1;
		} else {
			memcpy(un + u, w + i, ll);
			u += ll;
		}
		i += ll;
	}
	return u;
}

static void
check_ok(const struct norm *n, const uint8_t *in, size_t len, const uint8_t *w,
    size_t wlen)
{
	uint8_t *want, *un;
	size_t   wantlen, ulen, i;
	int      high = 0;

	if (n->wire != wlen)
		abort();
	want = crlf_form(in, len, &wantlen);
	if ((un = malloc(wlen)) == NULL)
		abort();
	ulen = unstuff(w, wlen, un);
	if (ulen != wantlen || memcmp(un, want, ulen) != 0 || n->size != ulen)
		abort();
	for (i = 0; i < len; i++)
		high |= in[i] >= 0x80;
	if (n->has8bit != high)
		abort();
	free(un);
	free(want);
}

/* The same chunks through the reference; abort on any difference. */
static void
check_reference(const struct norm *n, const uint8_t *in, const size_t *cut,
    int nchunks, const uint8_t *out, size_t o)
{
	struct norm r;
	uint8_t    *ref;
	size_t      ro = 0;
	int         i;

	if ((ref = malloc(2 * cut[nchunks] + 5)) == NULL)
		abort();
	norm_init(&r);
	for (i = 0; i < nchunks; i++)
		ro += norm_feed_octets(
		    &r, in + cut[i], cut[i + 1] - cut[i], ref + ro);
	ro += norm_finish(&r, ref + ro);
	if (r.err != n->err || r.line != n->line)
		abort();
	if (r.err == NORM_OK &&
	    (ro != o || memcmp(ref, out, o) != 0 || r.size != n->size ||
	        r.wire != n->wire || r.has8bit != n->has8bit))
		abort();
	free(ref);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct norm    n;
	const uint8_t *in;
	uint8_t       *out;
	size_t         len, cut[4], i, o = 0;
	int            nchunks;

	if (size < 2)
		return 0;
	in = data + 2;
	len = size - 2;
	nchunks = data[0] % 3 + 1;
	cut[0] = 0;
	cut[1] = len ? data[1] % (len + 1) : 0;
	cut[2] = len ? (cut[1] + data[0] / 3 % (len + 1)) % (len + 1) : 0;
	if (cut[2] < cut[1])
		cut[2] = cut[1];
	cut[nchunks] = len;
	if ((out = malloc(2 * len + 5)) == NULL)
		abort();
	norm_init(&n);
	for (i = 0; i < (size_t)nchunks; i++) {
		o += norm_feed(&n, in + cut[i], cut[i + 1] - cut[i], out + o);
		if (o > 2 * cut[i + 1])
			abort();
	}
	o += norm_finish(&n, out + o);
	if (n.err != expected_err(in, len))
		abort();
	check_reference(&n, in, cut, nchunks, out, o);
	if (n.err == NORM_OK)
		check_ok(&n, in, len, out, o);
	else if (n.line < 1)
		abort();
	if (norm_strerror(n.err) == NULL)
		abort();
	free(out);
	return 0;
}
