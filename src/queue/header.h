/*
 * The message as the submitter sees it: LF-terminated lines in memory,
 * split into header fields and body (RFC 5322 §2.2, §3.6), address
 * lists of To/Cc/Bcc (§3.4), and the quoted-printable re-encoding of a
 * body with long lines (RFC 2045 §6.7).
 */
#ifndef MXQ_HEADER_H
#define MXQ_HEADER_H

#include <stddef.h>

#define HDR_FIELDS_MAX 1000

struct field {
	size_t off;  /* first octet of the name */
	size_t len;  /* through the LF of its last continuation line */
	size_t nlen; /* length of the name */
	int    gone; /* removed (Bcc) */
};

struct message {
	char        *buf; /* LF line ends, ends with LF */
	size_t       len;
	struct field f[HDR_FIELDS_MAX];
	size_t       nf;
	size_t       body; /* offset of the body (after the empty line) */
};

enum hdr_err {
	HDR_OK = 0,
	HDR_TOO_MANY, /* more than HDR_FIELDS_MAX fields */
	HDR_BAD_ADDR, /* an address list that does not parse */
	HDR_NOMEM
};

enum hdr_err  hdr_split(struct message *);
struct field *hdr_find(struct message *, const char *, size_t);
int  hdr_is(const struct message *, const struct field *, const char *);
void hdr_value(
    const struct message *, const struct field *, const char **, size_t *);

/* addrlist.c: each addr-spec of an address list, in order. */
typedef int (*addr_cb)(void *, const char *);
int addrlist_parse(const char *, size_t, addr_cb, void *);

/* qp.c: the body as quoted-printable; NULL when out of memory. */
char *qp_encode(const char *, size_t, size_t *);
int   body_has_long_line(const char *, size_t);

#endif
