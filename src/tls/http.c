/*
 * One HTTP/1.1 response (RFC 9112), read as it arrives by a client that
 * wants exactly one thing: an MTA-STS policy, 200 OK, text/plain, whole
 * (RFC 8461 §3.2, §3.3).  Everything else is an error with plain words
 * in why, and the parser stops there; it never guesses at framing, and
 * never hands out part of a body.  Lines end in CRLF only (RFC 9112
 * §2.2 allows a bare LF to be accepted: this client does not, a policy
 * host that sends one is broken) (Y12).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

#define CHUNK_LINE_MAX 1024 /* chunk-size and its extensions [project] */

enum {
	ST_STATUS,     /* the status line */
	ST_FIELDS,     /* header lines */
	ST_BODY,       /* Content-Length octets */
	ST_TO_EOF,     /* octets until the peer closes */
	ST_CHUNK_SIZE, /* a chunk-size line */
	ST_CHUNK_DATA, /* chunk data */
	ST_CHUNK_END,  /* the CRLF after chunk data */
	ST_TRAILER,    /* trailer lines, skipped */
	ST_DONE,
	ST_ERROR
};

size_t
http_request(char *out, size_t outlen, const char *host, const char *path)
{
	int n;

	n = snprintf(out, outlen,
	    "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: mxclient\r\n"
	    "Accept: text/plain\r\nConnection: close\r\n\r\n",
	    path, host);
	if (n < 0 || (size_t)n >= outlen)
		return 0;
	return n;
}

void
http_init(struct http_resp *r, size_t bodymax)
{
	memset(r, 0, sizeof(*r));
	r->st = ST_STATUS;
	/* so that bodymax + 1 (the NUL) never wraps */
	r->bodymax = bodymax < SIZE_MAX / 2 ? bodymax : SIZE_MAX / 2;
}

void
http_free(struct http_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->bodylen = r->bodycap = 0;
}

/* Stop with why; the body so far is dropped, never half-used. */
static int
fail(struct http_resp *r, const char *why)
{
	r->st = ST_ERROR;
	r->why = why;
	http_free(r);
	return -1;
}

static int __attribute__((format(printf, 2, 3)))
failf(struct http_resp *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->whybuf, sizeof(r->whybuf), fmt, ap);
	va_end(ap);
	return fail(r, r->whybuf);
}

/* Never truncated: a cut policy could still parse (Y15). */
static int
too_large(struct http_resp *r)
{
	return failf(r, "body larger than %zu octets", r->bodymax);
}

/* --- the body -------------------------------------------------------- */

/*
 * Room for need octets and a NUL: the whole Content-Length at once, or
 * twice as much as before, never more than bodymax allows.
 */
static int
reserve(struct http_resp *r, size_t need)
{
	size_t   cap;
	uint8_t *p;

	if (need < r->bodycap)
		return 0;
	if (r->has_len)
		cap = r->bodylen + r->left + 1;
	else
		cap = r->bodycap * 2 + 1024;
	if (cap > r->bodymax + 1)
		cap = r->bodymax + 1;
	if (cap <= need)
		cap = need + 1;
	if ((p = realloc(r->body, cap)) == NULL)
		return fail(r, "out of memory for the body");
	r->body = p;
	r->bodycap = cap;
	return 0;
}

static int
body_add(struct http_resp *r, const uint8_t *p, size_t n)
{
	if (n > r->bodymax - r->bodylen)
		return too_large(r);
	if (reserve(r, r->bodylen + n) == -1)
		return -1;
	memcpy(r->body + r->bodylen, p, n);
	r->bodylen += n;
	r->body[r->bodylen] = '\0';
	return 0;
}

/* Body octets at p: how many were taken. */
static size_t
body_octets(struct http_resp *r, const uint8_t *p, size_t n)
{
	if (r->st != ST_TO_EOF && n > r->left)
		n = r->left;
	if (body_add(r, p, n) == -1)
		return n;
	if (r->st == ST_TO_EOF || (r->left -= n) > 0)
		return n;
	r->st = r->st == ST_BODY ? ST_DONE : ST_CHUNK_END;
	return n;
}

/* --- lines ----------------------------------------------------------- */

/* VCHAR, obs-text, SP and HTAB: what a field value or reason may hold. */
static int
text_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/*
 * "HTTP/1.0" or "HTTP/1.1", SP, three digits, then SP and a reason
 * phrase (or, as some servers send, nothing).  Only 200 goes on: RFC
 * 8461 §3.3 counts no other code, and its 3xx "MUST NOT be followed"
 * (Y11).  Interim 1xx responses are not expected after a plain GET.
 */
static int
status_line(struct http_resp *r)
{
	const char *l = r->line;
	size_t      n = r->linelen;
	int         code;

	if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 ||
	    (l[7] != '0' && l[7] != '1') || l[8] != ' ' || l[9] == '0' ||
	    !is_digit(l[9]) || !is_digit(l[10]) || !is_digit(l[11]) ||
	    (n > 12 && l[12] != ' ') || !text_ok(l, n))
		return fail(r, "not an HTTP/1.0 or HTTP/1.1 status line");
	code = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	r->status = code;
	r->minor = l[7] - '0';
	if (code == 200) {
		r->st = ST_FIELDS;
		return 0;
	}
	if (code < 200)
		return failf(r, "interim response (%d) not expected", code);
	if (code < 400 && code >= 300)
		return failf(r, "redirect (%d) not followed", code);
	return failf(r, "HTTP status %d, not 200", code);
}

static int
is_tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/*
 * field-name ":" OWS field-value OWS (RFC 9112 §5).  A line starting
 * with SP or HTAB is obs-fold, and no whitespace may come before the
 * colon (§5.1, §5.2): both refused (Y12).
 */
static int
split_field(struct http_resp *r, const char **val, size_t *vlen)
{
	const char *l = r->line;
	size_t      i = 0, n = r->linelen;

	if (l[0] == ' ' || l[0] == '\t')
		return fail(r, "folded header line (obs-fold) refused");
	while (i < n && is_tchar((unsigned char)l[i]))
		i++;
	if (i == 0 || i == n || l[i] != ':' || !text_ok(l, n))
		return fail(r, "malformed header line");
	for (i++; i < n && (l[i] == ' ' || l[i] == '\t'); i++)
		;
	while (n > i && (l[n - 1] == ' ' || l[n - 1] == '\t'))
		n--;
	*val = l + i;
	*vlen = n - i;
	return 0;
}

/* The field's name is name (any case). */
static int
named(const struct http_resp *r, const char *name)
{
	size_t n = strlen(name);

	return r->linelen > n && r->line[n] == ':' &&
	    strncasecmp(r->line, name, n) == 0;
}

/* 1*DIGIT only, saturating; two different values are an error (Y14). */
static int
content_length(struct http_resp *r, const char *v, size_t n)
{
	uint64_t len = 0;
	size_t   i;

	if (n == 0)
		return fail(r, "malformed Content-Length");
	for (i = 0; i < n; i++) {
		if (!is_digit(v[i]))
			return fail(r, "malformed Content-Length");
		len = len > (UINT64_MAX - 9) / 10 ? UINT64_MAX
		                                  : len * 10 + (v[i] - '0');
	}
	if (r->chunked)
		return fail(r, "both Content-Length and Transfer-Encoding");
	if (r->has_len && r->left != len)
		return fail(r, "two different Content-Length values");
	r->has_len = 1;
	r->left = len;
	return 0;
}

/*
 * Only "chunked", once, and only from an HTTP/1.1 server (RFC 9112
 * §6.1: a 1.0 message with Transfer-Encoding has faulty framing) (Y14).
 */
static int
transfer_encoding(struct http_resp *r, const char *v, size_t n)
{
	if (n != 7 || strncasecmp(v, "chunked", 7) != 0)
		return fail(r, "transfer coding other than chunked");
	if (r->chunked)
		return fail(r, "Transfer-Encoding repeated");
	if (r->minor == 0)
		return fail(r, "Transfer-Encoding in an HTTP/1.0 response");
	if (r->has_len)
		return fail(r, "both Content-Length and Transfer-Encoding");
	r->chunked = 1;
	return 0;
}

/* text/plain, any case, then nothing or parameters (RFC 8461 §3.2). */
static void
content_type(struct http_resp *r, const char *v, size_t n)
{
	size_t i = 10;

	r->ct_seen = 1;
	if (n < 10 || strncasecmp(v, "text/plain", 10) != 0) {
		r->ct_bad = 1;
		return;
	}
	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	if (i < n && v[i] != ';')
		r->ct_bad = 1;
}

/*
 * The head is over: the content must be text/plain (Y13), and the body
 * is chunked, Content-Length octets, or everything until the peer
 * closes (RFC 9112 §6.3) (Y14).
 */
static int
end_of_head(struct http_resp *r)
{
	if (!r->ct_seen)
		return fail(r, "no Content-Type (not text/plain)");
	if (r->ct_bad)
		return fail(r, "not text/plain");
	r->text_plain = 1;
	if (r->chunked) {
		r->st = ST_CHUNK_SIZE;
		return 0;
	}
	if (!r->has_len) {
		r->st = ST_TO_EOF;
		return 0;
	}
	if (r->left > r->bodymax)
		return too_large(r);
	r->st = r->left == 0 ? ST_DONE : ST_BODY;
	return 0;
}

static int
field_line(struct http_resp *r)
{
	const char *v;
	size_t      n;

	if (r->linelen == 0)
		return end_of_head(r);
	if (split_field(r, &v, &n) == -1)
		return -1;
	if (named(r, "Content-Length"))
		return content_length(r, v, n);
	if (named(r, "Transfer-Encoding"))
		return transfer_encoding(r, v, n);
	if (named(r, "Content-Type"))
		content_type(r, v, n);
	return 0;
}

static int
hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * chunk-size [chunk-ext] (RFC 9112 §7.1): extensions are ignored, but
 * must start with ";" after optional blanks; size 0 is the last chunk,
 * then trailers, which are read and skipped (Y14).
 */
static int
chunk_size_line(struct http_resp *r)
{
	const char *l = r->line;
	uint64_t    size = 0;
	size_t      i, n = r->linelen;

	for (i = 0; i < n && hex((unsigned char)l[i]) >= 0; i++)
		size = size > UINT64_MAX >> 4
		    ? UINT64_MAX
		    : size << 4 | hex((unsigned char)l[i]);
	if (i == 0 || !text_ok(l, n))
		return fail(r, "malformed chunk size line");
	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i++;
	if (i < n && l[i] != ';')
		return fail(r, "malformed chunk size line");
	if (size > r->bodymax - r->bodylen)
		return too_large(r);
	r->left = size;
	r->st = size == 0 ? ST_TRAILER : ST_CHUNK_DATA;
	if (size == 0)
		r->headlen = 0; /* the trailers' own budget */
	return 0;
}

static int
trailer_line(struct http_resp *r)
{
	const char *v;
	size_t      n;

	if (r->linelen == 0) {
		r->st = ST_DONE;
		return 0;
	}
	return split_field(r, &v, &n);
}

/* A line is complete: what it means depends on where the parser is. */
static int
line_done(struct http_resp *r)
{
	switch (r->st) {
	case ST_STATUS:
		return status_line(r);
	case ST_FIELDS:
		return field_line(r);
	case ST_CHUNK_SIZE:
		return chunk_size_line(r);
	case ST_CHUNK_END:
		if (r->linelen != 0)
			return fail(r, "chunk data not followed by CRLF");
		r->st = ST_CHUNK_SIZE;
		return 0;
	default:
		return trailer_line(r);
	}
}

/*
 * One octet of a line.  The head and the trailers each count against
 * HTTP_HEAD_MAX, CRLFs included; a chunk-size line against
 * CHUNK_LINE_MAX (Y12).
 */
static int
line_octet(struct http_resp *r, uint8_t c)
{
	int head =
	    r->st == ST_STATUS || r->st == ST_FIELDS || r->st == ST_TRAILER;
	size_t max = head ? HTTP_HEAD_MAX : CHUNK_LINE_MAX;

	if (head && ++r->headlen > HTTP_HEAD_MAX)
		return failf(
		    r, "response head larger than %d octets", HTTP_HEAD_MAX);
	if (r->cr) {
		r->cr = 0;
		if (c != '\n')
			return fail(r, "bare CR in the response");
		if (line_done(r) == -1)
			return -1;
		r->linelen = 0;
		return 0;
	}
	if (c == '\r') {
		r->cr = 1;
		return 0;
	}
	if (c == '\n')
		return fail(r, "bare LF (not CRLF) in the response");
	if (r->linelen >= max)
		return fail(r, "line too long in the response");
	r->line[r->linelen++] = c;
	return 0;
}

enum http_state
http_feed(struct http_resp *r, const uint8_t *p, size_t n)
{
	size_t used;

	while (n > 0 && r->st != ST_DONE && r->st != ST_ERROR) {
		if (r->st == ST_BODY || r->st == ST_TO_EOF ||
		    r->st == ST_CHUNK_DATA)
			used = body_octets(r, p, n);
		else {
			line_octet(r, *p);
			used = 1;
		}
		p += used;
		n -= used;
	}
	/* octets after a complete response are ignored */
	if (r->st == ST_DONE)
		return HTTP_DONE;
	return r->st == ST_ERROR ? HTTP_ERROR : HTTP_MORE;
}

/* Only a body without framing may end with the connection (Y14). */
enum http_state
http_eof(struct http_resp *r)
{
	switch (r->st) {
	case ST_DONE:
		return HTTP_DONE;
	case ST_ERROR:
		return HTTP_ERROR;
	case ST_TO_EOF:
		r->st = ST_DONE;
		return HTTP_DONE;
	case ST_STATUS:
		fail(r,
		    r->headlen == 0 ? "connection closed before any response"
		                    : "connection closed in the response head");
		break;
	case ST_FIELDS:
		fail(r, "connection closed in the response head");
		break;
	case ST_BODY:
		failf(r, "connection closed after %zu of %llu body octets",
		    r->bodylen, (unsigned long long)(r->bodylen + r->left));
		break;
	default:
		fail(r, "connection closed inside the chunked body");
	}
	return HTTP_ERROR;
}
