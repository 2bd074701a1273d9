/* The message in SMTP DATA form (norm.c), for mxclient and mxqueue. */
#ifndef MXC_NORM_H
#define MXC_NORM_H

#include <stddef.h>
#include <stdint.h>

/* norm.c: LF or CRLF input to CRLF, dot-stuffed SMTP DATA form. */
enum norm_err {
	NORM_OK = 0,
	NORM_NUL,
	NORM_BARE_CR,
	NORM_LONG_LINE,
	NORM_EMPTY
};

#define NORM_LINE_MAX 998 /* octets before CRLF, RFC 5321 §4.5.3.1.6 */

struct norm {
	uint64_t      line; /* current line, from 1 */
	uint64_t      size; /* CRLF form, not stuffed (SIZE=) */
	uint64_t      wire; /* octets produced */
	size_t        linelen;
	int           cr; /* a CR waits for its LF */
	int           has8bit;
	enum norm_err err;
};

void        norm_init(struct norm *);
size_t      norm_feed(struct norm *, const uint8_t *, size_t, uint8_t *);
size_t      norm_feed_octets(struct norm *, const uint8_t *, size_t, uint8_t *);
size_t      norm_finish(struct norm *, uint8_t *);
const char *norm_strerror(enum norm_err);

#endif
