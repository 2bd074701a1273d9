/* One SMTP connection, plain or TLS, with per-call timeouts. */
#ifndef MXC_CONN_H
#define MXC_CONN_H

#include <stddef.h>
#include <stdint.h>

struct tls;
struct tls_config;

struct conn {
	int         fd;
	struct tls *tls; /* NULL before STARTTLS */
	uint8_t     rbuf[4096];
	size_t      rlen, roff;
	size_t      wrote; /* octets of the last conn_write() handed over */
	const char *err;   /* why the last call failed */
	int         proto; /* ... and it was the server breaking the protocol */
};

void   conn_init(struct conn *, int);
void   conn_close(struct conn *);
int    conn_getline(struct conn *, const char **, size_t *, int);
int    conn_write(struct conn *, const void *, size_t, int);
long   conn_read(struct conn *, void *, size_t, long long);
size_t conn_pending(const struct conn *);
int    conn_starttls(struct conn *, struct tls_config *, const char *, int);

#endif
