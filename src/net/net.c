/*
 * The net process: the only one that may open a TCP connection.  tls
 * asks for one address at a time; net connects with a timeout and hands
 * the connected socket over (the only descriptor that ever crosses a
 * channel), or says why it failed.  Its sandbox lets it connect to port
 * 25 only.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "log.h"
#include "proc.h"

static int  net_connect(const struct msg_connect_req *, int *);
static int  wait_connected(int, uint32_t);
static void handle_connect(struct chan *, const struct frame *);

static socklen_t
fill_sockaddr(const struct msg_connect_req *r, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (r->family == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(r->port);
		memcpy(&sin->sin_addr, r->addr, 4);
		return sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(r->port);
		memcpy(&sin6->sin6_addr, r->addr, 16);
		return sizeof(*sin6);
	}
}

/* Wait for a non-blocking connect; 0 or an errno value. */
static int
wait_connected(int s, uint32_t timeout)
{
	struct pollfd pfd;
	socklen_t     len = sizeof(int);
	int           err = 0, r;

	pfd.fd = s;
	pfd.events = POLLOUT;
	while ((r = poll(&pfd, 1, timeout * 1000)) == -1 && errno == EINTR)
		;
	if (r == -1)
		return errno;
	if (r == 0)
		return ETIMEDOUT;
	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		return errno;
	return err;
}

/* 0 and a connected socket in *sp, or an errno value. */
static int
net_connect(const struct msg_connect_req *r, int *sp)
{
	struct sockaddr_storage ss;
	socklen_t               len = fill_sockaddr(r, &ss);
	int                     s, err = 0;

	s = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s == -1)
		return errno;
	if (connect(s, (struct sockaddr *)&ss, len) == -1) {
		if (errno == EINPROGRESS)
			err = wait_connected(s, r->timeout);
		else
			err = errno;
	}
	if (err != 0) {
		close(s);
		return err;
	}
	*sp = s;
	return 0;
}

static void
handle_connect(struct chan *tls, const struct frame *f)
{
	struct msg_connect_req req;
	struct msg_connect_res res;
	int                    s = -1;

	memcpy(&req, f->data, sizeof(req));
	res.error = net_connect(&req, &s);
	if (chan_compose(tls, res.error ? MSG_CONNECT_FAIL : MSG_CONNECT_OK,
	        f->id, s, &res, sizeof(res)) == -1)
		fatalx("tls channel: %s", tls->err);
}

void
net_main(int parent_fd, int tls_fd, const struct child_cfg *cfg)
{
	struct chan  parent, tls;
	struct frame f;
	int          r;

	chan_init(&parent, parent_fd, PROC_NET, PROC_PARENT, "net->parent");
	chan_init(&tls, tls_fd, PROC_NET, PROC_TLS, "net<->tls");
	log_init(PROC_NET, &parent, 0);

	/* Nothing to initialise: sockets need no files. */
	sandbox_lock(PROC_NET, &cfg->sb);

	for (;;) {
		if ((r = chan_wait(&tls, &f, -1)) == -1) {
			if (tls.eof)
				exit(0); /* tls is done */
			fatalx("tls channel: %s", tls.err);
		}
		if (f.type != MSG_CONNECT_REQ)
			fatalx("tls channel: unexpected %s",
			    msg_type_name(f.type));
		handle_connect(&tls, &f);
	}
}
