/*
 * libFuzzer: the HTTP response reader of the MTA-STS fetch
 * (src/tls/http.c), fed what a hostile policy host can send.  Octet 0:
 * bit 0 picks the body limit (16 octets or 64 KiB), the rest the size of
 * the pieces the response arrives in (1-128 octets).  The rest is the
 * response, fed once whole and once in pieces: both must end the same
 * way (Y10-Y15: a reader that depends on how TCP cut the stream is
 * wrong), and a response taken is a 200, text/plain, within the limit,
 * its body NUL-terminated; after an error no body is kept.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "sts.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct http_resp whole, cut;

static void
need(int ok)
{
	if (!ok)
		abort();
}

static enum http_state
feed(struct http_resp *r, const uint8_t *d, size_t n, size_t piece)
{
	enum http_state st = HTTP_MORE;
	size_t          off = 0, k;

	while (st == HTTP_MORE && off < n) {
		k = n - off < piece ? n - off : piece;
		st = http_feed(r, d + off, k);
		off += k;
	}
	return st == HTTP_MORE ? http_eof(r) : st;
}

static void
check_taken(const struct http_resp *r, size_t bodymax)
{
	need(r->status == 200 && r->text_plain);
	need(r->bodylen <= bodymax);
	need(r->body == NULL ? r->bodylen == 0 : r->body[r->bodylen] == '\0');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum http_state a, b;
	size_t          bodymax, piece;

	if (size == 0)
		return 0;
	bodymax = (data[0] & 1) ? 16 : STS_BODY_MAX;
	piece = 1 + (data[0] >> 1);
	http_init(&whole, bodymax);
	http_init(&cut, bodymax);
	a = feed(&whole, data + 1, size - 1, size);
	b = feed(&cut, data + 1, size - 1, piece);
	need(a == b && a != HTTP_MORE);
	if (a == HTTP_DONE) {
		check_taken(&whole, bodymax);
		check_taken(&cut, bodymax);
		need(whole.bodylen == cut.bodylen);
		need(whole.bodylen == 0 ||
		    memcmp(whole.body, cut.body, whole.bodylen) == 0);
	} else {
		need(whole.body == NULL && cut.body == NULL);
		need(whole.why != NULL && cut.why != NULL);
	}
	http_free(&whole);
	http_free(&cut);
	return 0;
}
