/*
 * The client side of exactly one HTTP/1.1 GET (RFC 9112), for the
 * MTA-STS policy fetch (RFC 8461 §3.3): http.c.  No I/O; the response
 * is fed as it arrives, in pieces of any size.  Rules Y10-Y15.
 */
#ifndef MXC_HTTP_H
#define MXC_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX 16384 /* status line + header lines, CRLFs included */
#define HTTP_WHY_MAX  80

/*
 * The request, into out: GET path HTTP/1.1, Host, User-Agent: mxclient,
 * Accept: text/plain, Connection: close.  Its length (out is also
 * NUL-terminated), or 0 if it does not fit.  host and path are trusted
 * (the caller validated them).
 */
size_t http_request(
    char *out, size_t outlen, const char *host, const char *path);

enum http_state { HTTP_MORE, HTTP_DONE, HTTP_ERROR };

struct http_resp {
	/* parser state: http.c's */
	int      st;      /* where the parser is */
	int      cr;      /* the last octet was a CR */
	int      minor;   /* HTTP/1.minor */
	int      chunked; /* Transfer-Encoding: chunked */
	int      has_len; /* a Content-Length was seen */
	int      ct_seen; /* a Content-Type was seen */
	int      ct_bad;  /* a Content-Type was not text/plain */
	size_t   headlen; /* octets of the head, or of the trailers, so far */
	size_t   linelen;
	uint64_t left;    /* Content-Length, then what is left of it or of a
			     chunk */
	size_t   bodycap; /* octets allocated for body */
	char     line[HTTP_HEAD_MAX];
	char     whybuf[HTTP_WHY_MAX];

	int         status;     /* the status code once read, else 0 */
	int         text_plain; /* Content-Type was text/plain */
	uint8_t    *body;       /* bodylen octets + a NUL; NULL until some
				   body came, and again after an error */
	size_t      bodylen, bodymax;
	const char *why; /* HTTP_ERROR: plain words */
};

void            http_init(struct http_resp *, size_t bodymax);
enum http_state http_feed(struct http_resp *, const uint8_t *, size_t);
/*
 * The peer closed.  A body without Content-Length or chunked framing
 * ends here: call this only after the TLS close_notify, or a truncated
 * policy could pass for a whole one.
 */
enum http_state http_eof(struct http_resp *);
void            http_free(struct http_resp *);

#endif
