/*
 * The net process: the only one that opens TCP connections.  tls asks
 * for one address at a time; net hands back a connected stream (the
 * only kind of descriptor tls ever receives) or says why there is none.
 *
 * How it connects depends on --proxy, and tls cannot tell the
 * difference: the stream it gets always leads to the MX, and TLS and
 * DANE run inside tls whatever carries the bytes.
 *
 *	direct	connect to the address, port 25 (Landlock: only 25)
 *	SOCKS5	connect to the proxy (Landlock: only its port), then RFC
 *		1928/1929 with the address that dns validated
 *	ssh	ask the ssh process for a stream through `ssh -W'; net
 *		itself may connect nowhere
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "log.h"
#include "proc.h"
#include "socks.h"

#define NET_EOF (-1) /* read_exact(): the peer closed the stream */

struct net {
	struct chan             parent, tls, ssh;
	const struct proxy_cfg *proxy;
	int smtp_begun; /* an SMTP connection was asked for: no HTTPS now */
};

/* What became of one request. */
struct attempt {
	int      sock;    /* connected, or -1 */
	uint8_t  lfamily; /* our address as the MX sees it, 0: unknown */
	uint8_t  laddr[16];
	int      error; /* errno value, 0 if none applies */
	uint32_t flags; /* CONN_* */
	char     why[512];
};

static void handle_connect(void *, const struct frame *);

static socklen_t
fill_sockaddr(
    int family, const uint8_t *addr, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, addr, 4);
		return sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, addr, 16);
		return sizeof(*sin6);
	}
}

/* Wait for `events' on s until the deadline; 0 or an errno value. */
static int
io_wait(int s, short events, long long deadline)
{
	struct pollfd pfd;
	long long     left;
	int           r;

	for (;;) {
		if ((left = deadline - mono_ms()) <= 0)
			return ETIMEDOUT;
		pfd.fd = s;
		pfd.events = events;
		chan_flush_lazy(); /* the log lines before the wait */
		if ((r = poll(&pfd, 1, (int)left)) > 0)
			return 0;
		if (r == -1 && errno != EINTR)
			return errno;
	}
}

/* 0 and a connected socket in *sp, or an errno value. */
static int
tcp_connect(
    int family, const uint8_t *addr, uint16_t port, long long deadline, int *sp)
{
	struct sockaddr_storage ss;
	socklen_t               len = fill_sockaddr(family, addr, port, &ss);
	socklen_t               elen = sizeof(int);
	int                     s, err = 0, on = 1;

	s = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s == -1)
		return errno;
	/*
	 * Every write of tls and of the SOCKS5 handshake is a whole
	 * command, group or block: Nagle would only hold the last short one
	 * back until the server's delayed ACK (40 ms on Linux).
	 */
	if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == -1) {
		err = errno;
		close(s);
		return err;
	}
	if (connect(s, (struct sockaddr *)&ss, len) == -1) {
		if (errno != EINPROGRESS)
			err = errno;
		else if ((err = io_wait(s, POLLOUT, deadline)) == 0 &&
		    getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
			err = errno;
	}
	if (err != 0) {
		close(s);
		return err;
	}
	*sp = s;
	return 0;
}

/*
 * All n octets written, or exactly n read and never more: what follows
 * the proxy's last reply is the SMTP greeting, and it must stay in the
 * socket for tls.  0, NET_EOF (the peer closed) or an errno value.
 */
static int
io_full(int s, int out, uint8_t *b, size_t n, long long deadline)
{
	ssize_t r;
	int     err;

	while (n > 0) {
		if ((r = out ? write(s, b, n) : read(s, b, n)) > 0) {
			b += r;
			n -= r;
			continue;
		}
		if (r == 0)
			return out ? EIO : NET_EOF;
		if (errno != EAGAIN && errno != EINTR)
			return errno;
		if ((err = io_wait(s, out ? POLLOUT : POLLIN, deadline)) != 0)
			return err;
	}
	return 0;
}

static int
write_all(int s, const uint8_t *b, size_t n, long long deadline)
{
	return io_full(s, 1, (uint8_t *)b, n, deadline);
}

static int
read_exact(int s, uint8_t *b, size_t n, long long deadline)
{
	return io_full(s, 0, b, n, deadline);
}

static const char *
io_error(int err)
{
	return err == NET_EOF ? "the proxy closed the connection"
	                      : strerror(err);
}

static void fail(struct attempt *a, uint32_t flags, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct attempt *a, uint32_t flags, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
	a->flags = flags;
	if (a->error == 0)
		a->error = EPROTO;
}

/* --- direct --- */

static void
connect_direct(const struct msg_connect_req *r, struct attempt *a)
{
	long long deadline = mono_ms() + (long long)r->timeout * 1000;
	struct sockaddr_storage ss;
	socklen_t               len = sizeof(ss);

	a->error = tcp_connect(r->family, r->addr, r->port, deadline, &a->sock);
	if (a->error != 0 ||
	    getsockname(a->sock, (struct sockaddr *)&ss, &len) == -1)
		return;
	if (ss.ss_family == AF_INET) {
		a->lfamily = 4;
		memcpy(a->laddr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	} else if (ss.ss_family == AF_INET6) {
		a->lfamily = 6;
		memcpy(a->laddr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	}
}

/* --- SOCKS5 --- */

/*
 * Up to the request, a failure is the proxy's (unreachable, a protocol
 * it does not speak, our credentials refused): no other address can do
 * better, so tls stops.  From the request on it is about this address.
 */
static int
socks_handshake(
    const struct proxy_cfg *pc, int s, long long deadline, struct attempt *a)
{
	uint8_t     buf[SOCKS_REQ_MAX];
	const char *why;
	size_t      n;
	int         err, auth = pc->user[0] != '\0';

	n = socks_greeting(buf, auth);
	if ((err = write_all(s, buf, n, deadline)) != 0 ||
	    (err = read_exact(s, buf, 2, deadline)) != 0) {
		fail(a, CONN_PROXY_DOWN, "SOCKS5 proxy %s: greeting: %s",
		    pc->text, io_error(err));
		return -1;
	}
	if (socks_method(buf, auth, &why) == -1) {
		fail(a, CONN_PROXY_DOWN, "SOCKS5 proxy %s: %s", pc->text, why);
		return -1;
	}
	if (!auth)
		return 0;
	n = socks_auth(buf, pc->user, pc->pass);
	err = write_all(s, buf, n, deadline);
	explicit_bzero(buf, sizeof(buf));
	if (err != 0 || (err = read_exact(s, buf, 2, deadline)) != 0) {
		fail(a, CONN_PROXY_DOWN, "SOCKS5 proxy %s: authentication: %s",
		    pc->text, io_error(err));
		return -1;
	}
	if (socks_auth_status(buf, &why) == -1) {
		fail(a, CONN_PROXY_DOWN, "SOCKS5 proxy %s: %s", pc->text, why);
		return -1;
	}
	return 0;
}

static int
socks_request(const struct proxy_cfg *pc, int s,
    const struct msg_connect_req *r, long long deadline, struct attempt *a)
{
	uint8_t     buf[SOCKS_REPLY_MAX];
	const char *why;
	size_t      n;
	int         err, rep;

	n = socks_connect(buf, r->family, r->addr, r->port);
	if ((err = write_all(s, buf, n, deadline)) != 0 ||
	    (err = read_exact(s, buf, 5, deadline)) != 0) {
		fail(a, 0, "SOCKS5 proxy %s: no reply to CONNECT: %s", pc->text,
		    io_error(err));
		return -1;
	}
	if ((rep = socks_reply_head(buf, &n, &why)) != 0) {
		/* a refusal is about this address; a broken reply, the proxy */
		if (rep > 0)
			fail(a, 0,
			    "SOCKS5 proxy %s refused the destination: %s (reply %d)",
			    pc->text, socks_rep_name(rep), rep);
		else
			fail(a, CONN_PROXY_DOWN, "SOCKS5 proxy %s: %s",
			    pc->text, why);
		return -1;
	}
	if ((err = read_exact(s, buf + 5, n - 5, deadline)) != 0) {
		fail(a, 0, "SOCKS5 proxy %s: reply to CONNECT: %s", pc->text,
		    io_error(err));
		return -1;
	}
	if (socks_reply(buf, n, &why) == -1) {
		fail(a, CONN_PROXY_DOWN, "SOCKS5 proxy %s: %s", pc->text, why);
		return -1;
	}
	/*
	 * Where the MX sees us come from, for an EHLO address literal: the
	 * proxy's BND.ADDR, else its own address (right for a proxy with
	 * one address).
	 */
	if (socks_bound(buf, &a->lfamily, a->laddr) == -1) {
		a->lfamily = pc->family;
		memcpy(a->laddr, pc->addr, sizeof(a->laddr));
	}
	return 0;
}

static void
connect_socks(const struct proxy_cfg *pc, const struct msg_connect_req *r,
    struct attempt *a)
{
	long long deadline = mono_ms() + (long long)r->timeout * 1000;
	int       s, err;

	if ((err = tcp_connect(pc->family, pc->addr, pc->port, deadline, &s)) !=
	    0) {
		a->error = err;
		fail(a, CONN_PROXY_DOWN, "SOCKS5 proxy %s: connect: %s",
		    pc->text, strerror(err));
		return;
	}
	if (socks_handshake(pc, s, deadline, a) == -1 ||
	    socks_request(pc, s, r, deadline, a) == -1) {
		close(s);
		return;
	}
	a->sock = s;
}

/* --- ssh --- */

/* The ssh process starts `ssh -W' and hands the stream over. */
static void
connect_ssh(struct net *n, const struct frame *req, struct attempt *a)
{
	struct msg_connect_req r;
	struct msg_connect_res res;
	struct frame           f;
	int                    wait;

	memcpy(&r, req->data, sizeof(r));
	wait = (int)(r.timeout + r.greeting + 10);
	if (chan_compose(&n->ssh, MSG_SSH_REQ, req->id, -1, &r, sizeof(r)) ==
	        -1 ||
	    chan_wait(&n->ssh, &f, wait * 1000) != 1)
		fatalx("ssh channel: %s", n->ssh.err ? n->ssh.err : "timeout");
	if (f.id != req->id)
		fatalx("ssh channel: answer to the wrong request");
	if (f.type != MSG_SSH_OK && f.type != MSG_SSH_FAIL)
		fatalx("ssh channel: unexpected %s", msg_type_name(f.type));
	memcpy(&res, f.data, sizeof(res));
	if (f.type == MSG_SSH_OK) {
		a->sock = f.fd;
		/* a single-homed ssh server connects from its own address */
		if (inet_pton(AF_INET, n->proxy->host, a->laddr) == 1)
			a->lfamily = 4;
		else if (inet_pton(AF_INET6, n->proxy->host, a->laddr) == 1)
			a->lfamily = 6;
		return;
	}
	a->error = res.error;
	fail(a, res.flags, "%s", frame_str(&f, sizeof(res)));
}

/*
 * Port 443 is for MTA-STS policy fetches, which all come before the
 * first SMTP connection (Y17): from that one on, HTTPS is refused here
 * and, directly connected on Landlock ABI 4+, by the kernel too.
 */
static int
https_allowed(struct net *n, const struct msg_connect_req *r, struct attempt *a)
{
	if (r->port == PORT_HTTPS && n->smtp_begun) {
		a->error = EACCES;
		fail(a, 0, "no HTTPS once an SMTP connection was made");
		return 0;
	}
	if (r->port == PORT_SMTP && !n->smtp_begun) {
		n->smtp_begun = 1;
		if (n->proxy->kind == PROXY_NONE)
			sandbox_narrow_port(PROC_NET, PORT_SMTP);
	}
	return 1;
}

static void
handle_connect(void *ctx, const struct frame *f)
{
	struct net            *n = ctx;
	struct msg_connect_req req;
	struct msg_connect_res res;
	struct attempt         a;
	char                   text[INET6_ADDRSTRLEN];
	long long              start;

	memcpy(&req, f->data, sizeof(req));
	memset(&a, 0, sizeof(a));
	a.sock = -1;
	start = mono_ms();
	if (!https_allowed(n, &req, &a))
		goto reply;
	switch (n->proxy->kind) {
	case PROXY_SOCKS5:
		connect_socks(n->proxy, &req, &a);
		break;
	case PROXY_SSH:
		connect_ssh(n, f, &a);
		break;
	default:
		connect_direct(&req, &a);
		break;
	}
	if (a.sock != -1 && n->proxy->kind != PROXY_NONE) {
		inet_ntop(req.family == 4 ? AF_INET : AF_INET6, req.addr, text,
		    sizeof(text));
		/* the time tells the proxy's round trips (proxy-rtt.sh) */
		log_info("net: [%s]:%u reached through %s in %lld ms", text,
		    (unsigned int)req.port, n->proxy->text, mono_ms() - start);
	}
reply:
	memset(&res, 0, sizeof(res));
	res.error = a.sock != -1 ? 0 : a.error;
	res.flags = a.sock != -1 ? 0 : a.flags;
	if (a.sock != -1) {
		res.family = a.lfamily;
		memcpy(res.addr, a.laddr, sizeof(res.addr));
	}
	if (a.sock != -1 &&
	    chan_compose(&n->tls, MSG_CONNECT_OK, f->id, a.sock, &res,
	        sizeof(res)) == -1)
		fatalx("tls channel: %s", n->tls.err);
	if (a.sock == -1 &&
	    chan_compose2(&n->tls, MSG_CONNECT_FAIL, f->id, &res, sizeof(res),
	        a.why) == -1)
		fatalx("tls channel: %s", n->tls.err);
}

/* What net serves; msg.c's table says tls alone may ask. */
static const struct msg_handler handlers[] = {
	{ MSG_CONNECT_REQ, handle_connect },
};

void
net_main(const struct child_fds *fds, const struct child_cfg *cfg)
{
	static struct net n;

	chan_init(&n.parent, fds->parent, PROC_NET, PROC_PARENT, "net->parent");
	chan_init(&n.tls, fds->tls, PROC_NET, PROC_TLS, "net<->tls");
	if (fds->ssh != -1)
		chan_init(&n.ssh, fds->ssh, PROC_NET, PROC_SSH, "net<->ssh");
	n.proxy = &cfg->proxy;
	log_init(PROC_NET, &n.parent, cfg->log_flags);

	/* Nothing to initialise: sockets need no files. */
	sandbox_lock(PROC_NET, &cfg->sb);

	msg_serve(&n.tls, handlers, sizeof(handlers) / sizeof(handlers[0]), &n);
}
