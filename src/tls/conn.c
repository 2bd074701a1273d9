/*
 * One SMTP connection: a non-blocking socket, plain or under libtls,
 * with deadlines from the monotonic clock.  Reads go through one buffer
 * so that conn_starttls() can tell whether the server (or someone on the
 * path) sent anything after the 220 to STARTTLS: such bytes must never
 * be read as if they came from inside TLS (RFC 3207 §6, USENIX'21 B_1).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tls.h>

#include "conn.h"
#include "frame.h"
#include "smtp.h"

void
conn_init(struct conn *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
}

void
conn_close(struct conn *c)
{
	if (c->tls != NULL) {
		/* close_notify, best effort and never blocking for long */
		tls_close(c->tls);
		tls_free(c->tls);
		c->tls = NULL;
	}
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}

/* Wait until fd is ready for `events' or the deadline passes. */
static int
conn_poll(struct conn *c, short events, long long deadline)
{
	struct pollfd pfd;
	long long     left;
	int           r;

	for (;;) {
		if ((left = deadline - mono_ms()) <= 0) {
			c->err = "timed out";
			return -1;
		}
		pfd.fd = c->fd;
		pfd.events = events;
		pfd.revents = 0;
		chan_flush_lazy(); /* the log lines before the wait */
		r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (r == -1 && errno != EINTR) {
			c->err = "poll failed";
			return -1;
		}
		if (r > 0)
			return 0;
	}
}

/* Turn a libtls want-read/want-write into a wait; -1 on error. */
static int
tls_wait(struct conn *c, ssize_t r, long long deadline)
{
	if (r == TLS_WANT_POLLIN)
		return conn_poll(c, POLLIN, deadline);
	if (r == TLS_WANT_POLLOUT)
		return conn_poll(c, POLLOUT, deadline);
	c->err = tls_error(c->tls) ? tls_error(c->tls) : "TLS error";
	return -1;
}

/*
 * One read or write of up to len octets, plain or through libtls,
 * waiting as long as the deadline allows: the octets moved (0: the peer
 * closed, for a read), or -1 with c->err set.
 */
static ssize_t
conn_io(struct conn *c, int out, void *buf, size_t len, long long deadline)
{
	ssize_t n;

	for (;;) {
		if (c->tls != NULL) {
			n = out ? tls_write(c->tls, buf, len)
			        : tls_read(c->tls, buf, len);
			if (n >= 0)
				return n;
			if (tls_wait(c, n, deadline) == -1)
				return -1;
			continue;
		}
		/* SIGPIPE is ignored in every mxclient process */
		n = out ? write(c->fd, buf, len) : read(c->fd, buf, len);
		if (n >= 0)
			return n;
		if (errno != EAGAIN && errno != EINTR) {
			c->err = out ? "write error" : "read error";
			return -1;
		}
		if (conn_poll(c, out ? POLLOUT : POLLIN, deadline) == -1)
			return -1;
	}
}

/* Fill the read buffer with at least one more octet. */
static int
conn_fill(struct conn *c, long long deadline)
{
	ssize_t n;

	if (c->roff > 0) {
		memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
		c->rlen -= c->roff;
		c->roff = 0;
	}
	n = conn_io(
	    c, 0, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, deadline);
	if (n == 0)
		c->err = "connection closed by the server";
	if (n <= 0)
		return -1;
	c->rlen += n;
	return 0;
}

/*
 * Next line without its CRLF, at most REPLY_LINE_MAX octets.  A bare LF
 * or NUL is refused: no server sends them and they hint at smuggling.
 */
int
conn_getline(struct conn *c, const char **line, size_t *len, int timeout)
{
	long long      deadline = mono_ms() + (long long)timeout * 1000;
	const uint8_t *p, *lf;
	size_t         avail;

	for (;;) {
		p = c->rbuf + c->roff;
		avail = c->rlen - c->roff;
		if ((lf = memchr(p, '\n', avail)) != NULL) {
			if (lf == p || lf[-1] != '\r') {
				c->err = "bare LF in reply";
				c->proto = 1;
				return -1;
			}
			if (memchr(p, '\0', lf - p) != NULL) {
				c->err = "NUL in reply";
				c->proto = 1;
				return -1;
			}
			*line = (const char *)p;
			*len = lf - p - 1;
			c->roff += lf - p + 1;
			return 0;
		}
		if (avail > REPLY_LINE_MAX + 1) {
			c->err = "reply line too long";
			c->proto = 1;
			return -1;
		}
		if (conn_fill(c, deadline) == -1)
			return -1;
	}
}

int
conn_write(struct conn *c, const void *buf, size_t len, int timeout)
{
	long long      deadline = mono_ms() + (long long)timeout * 1000;
	const uint8_t *p = buf;
	ssize_t        n;

	for (c->wrote = 0; c->wrote < len; c->wrote += n)
		if ((n = conn_io(c, 1, (void *)(p + c->wrote), len - c->wrote,
		         deadline)) <= 0) {
			if (n == 0)
				c->err = "write error";
			return -1;
		}
	return 0;
}

/* Octets as they come, by an absolute mono_ms() deadline (0: closed). */
long
conn_read(struct conn *c, void *buf, size_t len, long long deadline)
{
	return (long)conn_io(c, 0, buf, len, deadline);
}

/* Octets received but not yet consumed. */
size_t
conn_pending(const struct conn *c)
{
	return c->rlen - c->roff;
}

/*
 * Start TLS on the connection.  Called right after the 220 to STARTTLS;
 * anything already buffered is an injection and fails the connection.
 */
int
conn_starttls(
    struct conn *c, struct tls_config *cfg, const char *sni, int timeout)
{
	long long deadline = mono_ms() + (long long)timeout * 1000;
	int       r;

	if (conn_pending(c) != 0) {
		c->err = "data after the 220 to STARTTLS (injection attempt)";
		return -1;
	}
	if ((c->tls = tls_client()) == NULL) {
		c->err = "tls_client failed";
		return -1;
	}
	if (tls_configure(c->tls, cfg) == -1 ||
	    tls_connect_socket(c->tls, c->fd, sni) == -1) {
		c->err = tls_error(c->tls);
		return -1;
	}
	while ((r = tls_handshake(c->tls)) != 0)
		if (tls_wait(c, r, deadline) == -1)
			return -1;
	return 0;
}
