/* Pieces of the parent process: argument checks and the spool. */
#ifndef MXC_PARENT_H
#define MXC_PARENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* addr.c: RFC 5321 §4.1.2 mailbox syntax and §4.5.3.1 limits. */
const char *addr_check(const char *, int);
const char *addr_domain(const char *);

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
size_t      norm_finish(struct norm *, uint8_t *);
const char *norm_strerror(enum norm_err);

/* spool.c: stdin into an unlinked temporary file. */
struct spool {
	int         fd;
	struct norm n;
};

int spool_read(int, struct spool *, const char **);

/* proxy.c: --proxy URLs (proc.h has struct proxy_cfg). */
struct proxy_cfg;
const char *proxy_parse(const char *, struct proxy_cfg *);
const char *proxy_resolve(struct proxy_cfg *);
void        proxy_scrub(char *);
int         proxy_numeric(const struct proxy_cfg *);

/* resolver.c: --resolver or resolv.conf (proc.h has the struct). */
struct resolver_cfg;
const char *resolver_setup(const char *, const char *, struct resolver_cfg *);
const char *resolver_remote(const struct resolver_cfg *, char *, size_t);

#endif
