/*
 * Quoted-printable (RFC 2045 §6.7) for a body with lines over 998
 * octets, the one fix-up mxqueue offers (long-lines = qp): every line
 * break of the input stays a hard line break, "=", control and 8-bit
 * octets become =XX, a space or tab before a line break is encoded, and
 * soft breaks ("=" LF) keep every output line within 76 octets.  A line
 * starting with "." or "From " is left alone: mxclient dot-stuffs, and
 * no mbox is on the way.
 */
#include <stdlib.h>
#include <string.h>

#include "header.h"

#define QP_LINE         76
#define LINE_MAX_OCTETS 998

int
body_has_long_line(const char *b, size_t len)
{
	size_t i, run = 0;

	for (i = 0; i < len; i++) {
		if (b[i] == '\n')
			run = 0;
		else if (++run > LINE_MAX_OCTETS)
			return 1;
	}
	return 0;
}

static int
must_encode(const char *b, size_t len, size_t i)
{
	unsigned char c = (unsigned char)b[i];

	if (c == ' ' || c == '\t')
		return i + 1 == len || b[i + 1] == '\n';
	return c == '=' || c < ' ' || c > '~';
}

char *
qp_encode(const char *b, size_t len, size_t *outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	/* worst case: 3 octets per input octet, plus a soft break per 25 */
	char  *out = malloc(len * 4 + 2);
	size_t i, o = 0, col = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		int enc = b[i] != '\n' && must_encode(b, len, i);

		if (b[i] == '\n') {
			out[o++] = '\n';
			col = 0;
			continue;
		}
		if (col + (enc ? 3 : 1) > QP_LINE - 1) {
			out[o++] = '=';
			out[o++] = '\n';
			col = 0;
		}
		if (enc) {
			out[o++] = '=';
			out[o++] = hex[(unsigned char)b[i] >> 4];
			out[o++] = hex[(unsigned char)b[i] & 15];
			col += 3;
		} else {
			out[o++] = b[i];
			col++;
		}
	}
	*outlen = o;
	return out;
}
