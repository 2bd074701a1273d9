/* The pieces of the tls process: reply parsing and the SMTP session. */
#ifndef MXC_SMTP_H
#define MXC_SMTP_H

#include <stddef.h>
#include <stdint.h>

#define REPLY_LINE_MAX  2048 /* octets before CRLF (Postfix's limit) */
#define REPLY_LINES_MAX 100  /* lines in one multi-line reply */
#define REPLY_TEXT_MAX  8192 /* text kept for printing and EHLO */

/* EHLO keywords (RFC 5321 §4.1.1.1) that mxclient acts on. */
#define EXT_STARTTLS   0x01
#define EXT_PIPELINING 0x02
#define EXT_8BITMIME   0x04
#define EXT_SIZE       0x08
#define EXT_ENHANCED   0x10
#define EXT_SMTPUTF8   0x20

struct ehlo {
	unsigned flags; /* EXT_* */
	uint64_t size;  /* SIZE limit, 0 = none given */
};

/* One server reply (RFC 5321 §4.2), built line by line. */
struct reply {
	int         code; /* 200..599 */
	int         nlines;
	int         done;      /* last line seen */
	int         truncated; /* some lines not kept in text */
	struct ehlo ext;       /* keywords of every line after the first */
	size_t      textlen;
	char        text[REPLY_TEXT_MAX]; /* lines, '\n'-separated, printable */
};

void        reply_init(struct reply *);
int         reply_line(struct reply *, const char *, size_t, const char **);
void        ehlo_parse(const struct reply *, struct ehlo *);
const char *reply_enhanced(const struct reply *, char *, size_t);
void        printable(char *, const char *, size_t, size_t);

#endif
