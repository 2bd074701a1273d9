/*
 * The HTTP response reader of the MTA-STS policy fetch (http.c): the
 * request (Y10), status (Y11), head (Y12), text/plain (Y13), framing
 * (Y14) and the body limit (Y15).  Every response is fed whole, one
 * octet at a time and in every split into two pieces, each piece in a
 * buffer of its exact size; all must end the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_PROG "test_http"
#include "check.h"
#include "http.h"

#define OK_CT  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
#define CHUNK  OK_CT "Transfer-Encoding: chunked\r\n\r\n"
#define BIN(s) s, sizeof(s) - 1 /* a literal that may hold a NUL */
#define MAX    65536

struct hcase {
	const char     *name, *resp;
	size_t          len;
	int             eof; /* the peer closes after the response */
	enum http_state want;
	int             status;
	const char     *body; /* HTTP_DONE: the body; else why contains it */
	size_t          bodylen;
};

#define DONE(name, resp, eof, body) \
	{ \
		name, BIN(resp), eof, HTTP_DONE, 200, body, sizeof(body) - 1 \
	}
#define ERR(name, resp, eof, status, why) \
	{ \
		name, BIN(resp), eof, HTTP_ERROR, status, why, 0 \
	}

static const struct hcase hcases[] = {
	DONE("Y14 a Content-Length body",
	    OK_CT "Content-Length: 5\r\n\r\nhello", 0, "hello"),
	DONE("Y11 an HTTP/1.0 response",
	    "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2"
	    "\r\n\r\nhi",
	    0, "hi"),
	DONE("Y14 a chunked body, extensions ignored",
	    CHUNK "5\r\nhello\r\n6;ext=1\r\n world\r\nA ; a=\"b\"\r\n"
	          "0123456789\r\n0\r\n\r\n",
	    0, "hello world0123456789"),
	DONE("Y14 chunked: hex in any case, Chunked in any case, trailers",
	    OK_CT "Transfer-Encoding: Chunked\r\n\r\n00b\r\nhello world\r\n"
	          "000;x\r\nX-Trailer: a\r\nY: b\r\n\r\n",
	    0, "hello world"),
	DONE("Y14 a body until the peer closes",
	    OK_CT "\r\nversion: STSv1\r\nmode: none\r\n", 1,
	    "version: STSv1\r\nmode: none\r\n"),
	DONE("Y14 an empty body until the peer closes", OK_CT "\r\n", 1, ""),
	DONE("Y14 Content-Length 0", OK_CT "Content-Length: 0\r\n\r\n", 0, ""),
	DONE("Y14 two equal Content-Lengths, leading zeros",
	    OK_CT "Content-Length: 2\r\nContent-Length:  002 \r\n\r\nhi", 0,
	    "hi"),
	DONE("Y14 octets after a complete response are ignored",
	    OK_CT "Content-Length: 5\r\n\r\nhelloHTTP/1.1 404 x\r\n", 1,
	    "hello"),
	DONE("Y14 octets after the last chunk are ignored",
	    CHUNK "1\r\nx\r\n0\r\n\r\ngarbage\n", 1, "x"),
	DONE("Y14 a body with NUL, CR and LF octets",
	    OK_CT "Content-Length: 6\r\n\r\na\0\r\nb\n", 0, "a\0\r\nb\n"),
	DONE("Y13 text/plain with a charset",
	    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 1\r\n\r\nx",
	    0, "x"),
	DONE("Y13 TEXT/PLAIN in any case, blanks before ;",
	    "HTTP/1.1 200 OK\r\ncontent-type:TEXT/Plain \t;charset=us-ascii\r\n"
	    "Content-Length: 1\r\n\r\nx",
	    0, "x"),
	DONE("Y11 an empty reason phrase",
	    "HTTP/1.1 200 \r\nContent-Type: text/plain\r\n\r\nx", 1, "x"),
	DONE("Y11 no reason phrase at all",
	    "HTTP/1.1 200\r\nContent-Type: text/plain\r\n\r\nx", 1, "x"),
	DONE("Y12 obs-text in a reason and a header value",
	    "HTTP/1.1 200 \xc3\x96K\r\nContent-Type: text/plain\r\n"
	    "X-Name: caf\xc3\xa9\r\nServer:\r\n\r\nx",
	    1, "x"),
	ERR("Y11 a 301 is not followed",
	    "HTTP/1.1 301 Moved\r\nLocation: https://evil/\r\n\r\n", 0, 301,
	    "redirect (301) not followed"),
	ERR("Y11 a 302 is not followed", "HTTP/1.1 302 Found\r\n", 0, 302,
	    "redirect (302) not followed"),
	ERR("Y11 a 308 is not followed", "HTTP/1.0 308 x\r\n", 0, 308,
	    "redirect (308) not followed"),
	ERR("Y11 a 404 is named", "HTTP/1.1 404 Not Found\r\n", 0, 404,
	    "HTTP status 404, not 200"),
	ERR("Y11 a 500 is named", "HTTP/1.1 500 x\r\n", 0, 500,
	    "HTTP status 500, not 200"),
	ERR("Y11 a 204 is not 200", "HTTP/1.1 204 No Content\r\n\r\n", 0, 204,
	    "HTTP status 204, not 200"),
	ERR("Y11 a 100 Continue is refused",
	    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", 0, 100,
	    "interim response (100)"),
	ERR("Y11 HTTP/2 is refused", "HTTP/2 200 OK\r\n", 0, 0, "status line"),
	ERR("Y11 HTTP/1.2 is refused", "HTTP/1.2 200 OK\r\n", 0, 0,
	    "status line"),
	ERR("Y11 http/1.1 (case) is refused", "http/1.1 200 OK\r\n", 0, 0,
	    "status line"),
	ERR("Y11 a four-digit code is refused", "HTTP/1.1 2000 OK\r\n", 0, 0,
	    "status line"),
	ERR("Y11 a two-digit code is refused", "HTTP/1.1 20 OK\r\n", 0, 0,
	    "status line"),
	ERR("Y11 two spaces before the code", "HTTP/1.1  200 OK\r\n", 0, 0,
	    "status line"),
	ERR("Y11 code 099 is refused", "HTTP/1.1 099 x\r\n", 0, 0,
	    "status line"),
	ERR("Y11 an empty line before the status line",
	    "\r\nHTTP/1.1 200 OK\r\n", 0, 0, "status line"),
	ERR("Y11 a control octet in the reason", "HTTP/1.1 200 O\001K\r\n", 0,
	    0, "status line"),
	ERR("Y12 a bare LF ends no line",
	    "HTTP/1.1 200 OK\nContent-Type: text/plain\n\n", 0, 0, "bare LF"),
	ERR("Y12 a bare LF in a header", OK_CT "X: a\n", 0, 200, "bare LF"),
	ERR("Y12 a bare CR in a header", OK_CT "X: a\rb\r\n", 0, 200,
	    "bare CR"),
	ERR("Y12 obs-fold is refused", OK_CT "X: a\r\n b\r\n\r\n", 0, 200,
	    "obs-fold"),
	ERR("Y12 obs-fold with HTAB is refused", OK_CT "X: a\r\n\tb\r\n\r\n", 0,
	    200, "obs-fold"),
	ERR("Y12 a blank before the colon",
	    "HTTP/1.1 200 OK\r\nContent-Type : text/plain\r\n\r\n", 0, 200,
	    "malformed header"),
	ERR("Y12 a header line without a colon", OK_CT "Xyz\r\n\r\n", 0, 200,
	    "malformed header"),
	ERR("Y12 a header line with an empty name", OK_CT ": x\r\n\r\n", 0, 200,
	    "malformed header"),
	ERR("Y12 a NUL in a header", OK_CT "X: a\0b\r\n\r\n", 0, 200,
	    "malformed header"),
	ERR("Y13 no Content-Type",
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", 0, 200,
	    "no Content-Type"),
	ERR("Y13 text/html",
	    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n", 0, 200,
	    "not text/plain"),
	ERR("Y13 text/plainx",
	    "HTTP/1.1 200 OK\r\nContent-Type: text/plainx\r\n\r\n", 0, 200,
	    "not text/plain"),
	ERR("Y13 text/plain followed by junk",
	    "HTTP/1.1 200 OK\r\nContent-Type: text/plain x\r\n\r\n", 0, 200,
	    "not text/plain"),
	ERR("Y13 an empty Content-Type",
	    "HTTP/1.1 200 OK\r\nContent-Type:\r\n\r\n", 0, 200,
	    "not text/plain"),
	ERR("Y13 a second Content-Type that is not text/plain",
	    OK_CT "Content-Type: image/png\r\n\r\n", 0, 200, "not text/plain"),
	ERR("Y14 Content-Length and Transfer-Encoding",
	    OK_CT "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 0,
	    200, "both Content-Length and Transfer-Encoding"),
	ERR("Y14 Transfer-Encoding and Content-Length",
	    OK_CT "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 0,
	    200, "both Content-Length and Transfer-Encoding"),
	ERR("Y14 two different Content-Lengths",
	    OK_CT "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 0, 200,
	    "two different Content-Length"),
	ERR("Y14 Content-Length 5, 5", OK_CT "Content-Length: 5, 5\r\n\r\n", 0,
	    200, "malformed Content-Length"),
	ERR("Y14 Content-Length -5", OK_CT "Content-Length: -5\r\n\r\n", 0, 200,
	    "malformed Content-Length"),
	ERR("Y14 Content-Length +5", OK_CT "Content-Length: +5\r\n\r\n", 0, 200,
	    "malformed Content-Length"),
	ERR("Y14 Content-Length 0x5", OK_CT "Content-Length: 0x5\r\n\r\n", 0,
	    200, "malformed Content-Length"),
	ERR("Y14 an empty Content-Length", OK_CT "Content-Length:\r\n\r\n", 0,
	    200, "malformed Content-Length"),
	ERR("Y14 Transfer-Encoding gzip",
	    OK_CT "Transfer-Encoding: gzip\r\n\r\n", 0, 200,
	    "other than chunked"),
	ERR("Y14 Transfer-Encoding gzip, chunked",
	    OK_CT "Transfer-Encoding: gzip, chunked\r\n\r\n", 0, 200,
	    "other than chunked"),
	ERR("Y14 Transfer-Encoding twice",
	    OK_CT
	    "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
	    0, 200, "repeated"),
	ERR("Y14 Transfer-Encoding from an HTTP/1.0 server",
	    "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n", 0, 200,
	    "HTTP/1.0"),
	ERR("Y14 a malformed chunk size", CHUNK "x\r\nhello\r\n0\r\n\r\n", 0,
	    200, "malformed chunk size"),
	ERR("Y14 junk after the chunk size", CHUNK "5x\r\nhello\r\n", 0, 200,
	    "malformed chunk size"),
	ERR("Y14 an empty chunk size line", CHUNK "\r\n", 0, 200,
	    "malformed chunk size"),
	ERR("Y14 a negative chunk size", CHUNK "-5\r\n", 0, 200,
	    "malformed chunk size"),
	ERR("Y14 chunk data not followed by CRLF", CHUNK "5\r\nhelloX\r\n", 0,
	    200, "not followed by CRLF"),
	ERR("Y14 chunk data followed by a bare LF", CHUNK "5\r\nhello\n", 0,
	    200, "bare LF"),
	ERR("Y14 a body shorter than its Content-Length",
	    OK_CT "Content-Length: 5\r\n\r\nhel", 1, 200,
	    "closed after 3 of 5 body octets"),
	ERR("Y14 closed inside a chunk", CHUNK "5\r\nhel", 1, 200,
	    "inside the chunked body"),
	ERR("Y14 closed before the last chunk", CHUNK "5\r\nhello\r\n", 1, 200,
	    "inside the chunked body"),
	ERR("Y14 closed inside the trailers", CHUNK "0\r\nX: y\r\n", 1, 200,
	    "inside the chunked body"),
	ERR("Y14 closed inside the head", OK_CT "Content-Len", 1, 200,
	    "in the response head"),
	ERR("Y14 closed inside the status line", "HTTP/1.1 20", 1, 0,
	    "in the response head"),
	ERR("Y14 closed before any response", "", 1, 0, "before any response"),
	ERR("Y15 a Content-Length over the limit",
	    OK_CT "Content-Length: 65537\r\n\r\n", 0, 200,
	    "body larger than 65536 octets"),
	ERR("Y15 a Content-Length of 30 digits",
	    OK_CT "Content-Length: 999999999999999999999999999999\r\n\r\n", 0,
	    200, "body larger than 65536 octets"),
	ERR("Y15 a chunk size over the limit", CHUNK "10001\r\n", 0, 200,
	    "body larger than 65536 octets"),
	ERR("Y15 a chunk size of 20 hex digits",
	    CHUNK "ffffffffffffffffffff\r\n", 0, 200,
	    "body larger than 65536 octets"),
	ERR("Y12 a malformed trailer line", CHUNK "0\r\n bad\r\n\r\n", 0, 200,
	    "obs-fold"),
};

/* How one feeding ended. */
struct outcome {
	enum http_state st;
	int             status, text_plain, body_ok;
	char            why[HTTP_WHY_MAX + 40];
	uint8_t        *body;
	size_t          bodylen;
};

/* Feed n octets at p in an exact-size copy (ASan sees any overread). */
static enum http_state
feed(struct http_resp *r, const char *p, size_t n)
{
	uint8_t        *copy = malloc(n ? n : 1);
	enum http_state st;

	memcpy(copy, p, n);
	st = http_feed(r, copy, n);
	free(copy);
	return st;
}

/*
 * Feed resp in pieces of step octets (step 0: in two pieces, split at
 * cut), then the close if eof; the outcome into *o.
 */
static void
run(const char *resp, size_t len, size_t bodymax, int eof, size_t step,
    size_t cut, struct outcome *o)
{
	struct http_resp *r = malloc(sizeof(*r));
	size_t            at = 0, n;

	http_init(r, bodymax);
	o->st = HTTP_MORE;
	while (at < len) {
		n = step       ? (len - at < step ? len - at : step)
		    : at < cut ? cut
		               : len - at;
		o->st = feed(r, resp + at, n);
		at += n;
	}
	if (len == 0)
		o->st = http_feed(r, (const uint8_t *)"", 0);
	if (eof && o->st == HTTP_MORE)
		o->st = http_eof(r);
	o->status = r->status;
	o->text_plain = r->text_plain;
	snprintf(o->why, sizeof(o->why), "%s", r->why ? r->why : "(none)");
	o->body_ok =
	    r->body == NULL ? r->bodylen == 0 : r->body[r->bodylen] == '\0';
	o->bodylen = r->bodylen;
	o->body = r->bodylen ? malloc(r->bodylen) : NULL;
	if (o->body)
		memcpy(o->body, r->body, r->bodylen);
	http_free(r);
	free(r);
}

static int
same(const struct outcome *a, const struct outcome *b)
{
	return a->st == b->st && a->status == b->status &&
	    a->text_plain == b->text_plain && strcmp(a->why, b->why) == 0 &&
	    a->bodylen == b->bodylen && a->body_ok == b->body_ok &&
	    (a->bodylen == 0 || memcmp(a->body, b->body, a->bodylen) == 0);
}

/* What case c wants of an outcome. */
static int
wanted(const struct hcase *c, const struct outcome *o)
{
	if (o->st != c->want || o->status != c->status || !o->body_ok)
		return 0;
	if (c->want == HTTP_ERROR)
		return strstr(o->why, c->body) != NULL && o->bodylen == 0;
	return o->text_plain && o->bodylen == c->bodylen &&
	    (c->bodylen == 0 || memcmp(o->body, c->body, c->bodylen) == 0);
}

static void
check_cases(void)
{
	const struct hcase *c;
	struct outcome      whole, part;
	char                name[200];
	size_t              i, cut, badcut;
	int                 badoctets;

	for (i = 0; i < sizeof(hcases) / sizeof(hcases[0]); i++) {
		c = &hcases[i];
		run(c->resp, c->len, MAX, c->eof, 0, c->len, &whole);
		CHECK(wanted(c, &whole), c->name,
		    "state %d status %d text_plain %d why \"%s\" bodylen %zu",
		    whole.st, whole.status, whole.text_plain, whole.why,
		    whole.bodylen);
		run(c->resp, c->len, MAX, c->eof, 1, 0, &part);
		badoctets = !same(&whole, &part);
		free(part.body);
		for (badcut = 0, cut = 1; cut < c->len && !badcut; cut++) {
			run(c->resp, c->len, MAX, c->eof, 0, cut, &part);
			badcut = same(&whole, &part) ? 0 : cut;
			free(part.body);
		}
		snprintf(name, sizeof(name),
		    "%s: the same octet by octet and in every two-piece split",
		    c->name);
		CHECK(!badoctets && !badcut, name,
		    "octet by octet %s; first split that differs: %zu",
		    badoctets ? "differs" : "the same", badcut);
		free(whole.body);
	}
}

static void
check_request(void)
{
	static const char want[] = "GET /.well-known/mta-sts.txt HTTP/1.1\r\n"
	                           "Host: mta-sts.example.com\r\n"
	                           "User-Agent: mxclient\r\n"
	                           "Accept: text/plain\r\n"
	                           "Connection: close\r\n\r\n";
	char              out[sizeof(want) + 8];
	size_t            n, i, bad = 0;

	n = http_request(out, sizeof(out), "mta-sts.example.com",
	    "/.well-known/mta-sts.txt");
	CHECK(n == sizeof(want) - 1 && strcmp(out, want) == 0,
	    "Y10 the request is one GET with Host, User-Agent, Accept and "
	    "Connection: close",
	    "got %zu: %s", n, out);
	for (i = 0; i < sizeof(want); i++)
		if (http_request(out, i, "mta-sts.example.com",
		        "/.well-known/mta-sts.txt") != 0)
			bad++;
	CHECK(bad == 0, "Y10 a request that does not fit (with its NUL) is 0",
	    "%zu short buffers accepted", bad);
}

/* OK_CT and Content-Length 0, padded to a head of exactly len octets. */
static size_t
head_of(char *buf, size_t len)
{
	size_t n = snprintf(buf, len + 1, OK_CT "Content-Length: 0\r\nX: ");

	memset(buf + n, 'x', len - n - 4);
	memcpy(buf + len - 4, "\r\n\r\n", 4);
	return len;
}

/* CHUNK, one chunk "x", then trailers of exactly len octets. */
static size_t
trailers_of(char *buf, size_t len)
{
	size_t n = snprintf(buf, 200, CHUNK "1\r\nx\r\n0\r\nX: "), t = n - 3;

	memset(buf + n, 'x', t + len - n - 4);
	memcpy(buf + t + len - 4, "\r\n\r\n", 4);
	return t + len;
}

static void
check_limits(void)
{
	static char    buf[2 * MAX + 4096];
	struct outcome o, p;
	size_t         n, i;

	n = head_of(buf, HTTP_HEAD_MAX);
	run(buf, n, MAX, 0, 0, n, &o);
	CHECK(o.st == HTTP_DONE, "Y12 a head of exactly 16384 octets is read",
	    "state %d why %s", o.st, o.why);
	n = head_of(buf, HTTP_HEAD_MAX + 1);
	run(buf, n, MAX, 0, 0, n, &o);
	CHECK(o.st == HTTP_ERROR && strstr(o.why, "head larger than 16384"),
	    "Y12 a head of 16385 octets is refused", "state %d why %s", o.st,
	    o.why);
	n = trailers_of(buf, HTTP_HEAD_MAX);
	run(buf, n, MAX, 0, 0, n, &o);
	CHECK(o.st == HTTP_DONE && o.bodylen == 1,
	    "Y12 trailers of exactly 16384 octets are skipped",
	    "state %d why %s", o.st, o.why);
	free(o.body);
	n = trailers_of(buf, HTTP_HEAD_MAX + 1);
	run(buf, n, MAX, 0, 0, n, &o);
	CHECK(o.st == HTTP_ERROR && o.body == NULL,
	    "Y12 trailers of 16385 octets are refused", "state %d why %s", o.st,
	    o.why);

	n = snprintf(buf, sizeof(buf), CHUNK "1;%01022d\r\nx\r\n0\r\n\r\n", 0);
	run(buf, n, MAX, 0, 0, n, &o);
	CHECK(o.st == HTTP_DONE, "Y14 a chunk size line of 1024 octets is read",
	    "state %d why %s", o.st, o.why);
	free(o.body);
	n = snprintf(buf, sizeof(buf), CHUNK "1;%01023d\r\nx\r\n0\r\n\r\n", 0);
	run(buf, n, MAX, 0, 0, n, &o);
	CHECK(o.st == HTTP_ERROR && strstr(o.why, "too long"),
	    "Y14 a chunk size line of 1025 octets is refused",
	    "state %d why %s", o.st, o.why);

	/* MAX octets until EOF, fed whole and octet by octet */
	n = snprintf(buf, sizeof(buf), OK_CT "\r\n");
	for (i = 0; i < MAX; i++)
		buf[n + i] = "version: STSv1\n"[i % 15];
	run(buf, n + MAX, MAX, 1, 0, n + MAX, &o);
	run(buf, n + MAX, MAX, 1, 1, 0, &p);
	CHECK(o.st == HTTP_DONE && o.bodylen == MAX && same(&o, &p) &&
	        memcmp(o.body, buf + n, MAX) == 0,
	    "Y15 a body of exactly the limit is read whole, in any pieces",
	    "state %d bodylen %zu why %s", o.st, o.bodylen, o.why);
	free(o.body);
	free(p.body);
	run(buf, n + MAX + 1, MAX, 1, 0, n + MAX + 1, &o);
	run(buf, n + MAX + 1, MAX, 1, 1, 0, &p);
	CHECK(o.st == HTTP_ERROR && o.body == NULL && same(&o, &p) &&
	        strcmp(o.why, "body larger than 65536 octets") == 0,
	    "Y15 one octet over the limit is an error, the body freed",
	    "state %d bodylen %zu why %s", o.st, o.bodylen, o.why);
}

/* A chunked body of n one-octet chunks. */
static size_t
small_chunks(char *buf, size_t len, size_t n)
{
	size_t off = snprintf(buf, len, CHUNK), i;

	for (i = 0; i < n; i++)
		off += snprintf(
		    buf + off, len - off, "1\r\n%c\r\n", 'a' + (int)(i % 26));
	return off + snprintf(buf + off, len - off, "0\r\n\r\n");
}

static void
check_chunks(void)
{
	static char    buf[8 * 3000 + 200];
	struct outcome o, p;
	size_t         n, i, bad = 0;

	n = small_chunks(buf, sizeof(buf), 3000);
	run(buf, n, 3000, 0, 0, n, &o);
	run(buf, n, 3000, 0, 1, 0, &p);
	for (i = 0; i < o.bodylen; i++)
		if (o.body[i] != 'a' + (int)(i % 26))
			bad++;
	CHECK(
	    o.st == HTTP_DONE && o.bodylen == 3000 && bad == 0 && same(&o, &p),
	    "Y14 3000 chunks of one octet make one body of 3000 octets",
	    "state %d bodylen %zu why %s", o.st, o.bodylen, o.why);
	free(o.body);
	free(p.body);
	run(buf, n, 2999, 0, 0, n, &o);
	CHECK(o.st == HTTP_ERROR && o.body == NULL &&
	        strcmp(o.why, "body larger than 2999 octets") == 0,
	    "Y15 chunks adding up to one octet over the limit are an error",
	    "state %d why %s", o.st, o.why);
	n = snprintf(buf, sizeof(buf), OK_CT "Content-Length: 1\r\n\r\nx");
	run(buf, n, 0, 0, 0, n, &o);
	CHECK(o.st == HTTP_ERROR &&
	        strcmp(o.why, "body larger than 0 octets") == 0,
	    "Y15 a limit of 0 allows no body", "state %d why %s", o.st, o.why);
}

int
main(void)
{
	check_cases();
	check_request();
	check_limits();
	check_chunks();
	return check_exit();
}
