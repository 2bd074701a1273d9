/*
 * Framed messages over a non-blocking stream socket.  A frame is read
 * only once it is complete; its header is checked (size bounds, sender,
 * descriptor flag) and its payload against the type's rules in msg.c
 * before the caller sees it.  Anything else is a fatal protocol error of
 * the channel: chan_get() returns -1 and sets chan->err.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"

_Static_assert(sizeof(struct frame_hdr) == FRAME_HDR_SIZE, "header size");

static int  chan_fail(struct chan *, const char *);
static void chan_take_fds(struct chan *, struct msghdr *, uint64_t, uint64_t);
static int  chan_claim_fd(struct chan *, uint64_t, uint64_t, int, int *);
static int  chan_write_one(struct chan *, struct wbuf *);

void
chan_init(
    struct chan *c, int fd, uint16_t self, uint16_t peer, const char *name)
{
	/*
	 * Every field but the read buffer, of which only rbuf[0..rlen) is
	 * ever read: zeroing its 128 KiB would fault in 32 pages per
	 * channel, most of the page faults of a delivery.
	 */
	memset(c, 0, offsetof(struct chan, rbuf));
	memset(&c->rlen, 0, sizeof(*c) - offsetof(struct chan, rlen));
	c->fd = fd;
	c->self = self;
	c->peer = peer;
	c->name = name;
	c->wtail = &c->wq;
}

/*
 * The channel whose frames may wait until this process waits: a child's
 * log lines go out together, one sendmsg() for all that came since the
 * last wait rather than one each (and the parent wakes once).  Every
 * wait of the process flushes it first (chan_flush_lazy()).
 */
static struct chan *lazy;

void
chan_set_lazy(struct chan *c)
{
	lazy = c;
}

void
chan_flush_lazy(void)
{
	if (lazy != NULL && lazy->wq != NULL && lazy->err == NULL)
		(void)chan_flush(lazy);
}

void
chan_close(struct chan *c)
{
	struct wbuf *w;

	while ((w = c->wq) != NULL) {
		c->wq = w->next;
		if (w->fd != -1)
			close(w->fd);
		free(w);
	}
	c->wtail = &c->wq;
	c->wqlen = 0;
	while (c->nfdq > 0)
		close(c->fdq[--c->nfdq].fd);
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}

static int
chan_fail(struct chan *c, const char *why)
{
	if (c->err == NULL)
		c->err = why;
	return -1;
}

/* Queue one frame; fd (or -1) is sent with it and closed once sent. */
int
chan_compose(struct chan *c, uint32_t type, uint32_t id, int fd,
    const void *data, size_t len)
{
	struct frame_hdr hdr;
	struct wbuf     *w;

	if (len > PAYLOAD_MAX)
		return chan_fail(c, "frame to send is too large");
	if ((w = malloc(sizeof(*w) + FRAME_HDR_SIZE + len)) == NULL)
		return chan_fail(c, "out of memory");
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.len = FRAME_HDR_SIZE + len;
	hdr.id = id;
	hdr.sender = c->self;
	hdr.flags = fd == -1 ? 0 : FRAME_F_FD;
	memcpy(w->data, &hdr, sizeof(hdr));
	if (len > 0)
		memcpy(w->data + FRAME_HDR_SIZE, data, len);
	w->len = FRAME_HDR_SIZE + len;
	w->off = 0;
	w->fd = fd;
	w->next = NULL;
	*c->wtail = w;
	c->wtail = &w->next;
	c->wqlen += w->len;
	return 0;
}

/* Queue a fixed structure followed by a NUL-terminated string. */
int
chan_compose2(struct chan *c, uint32_t type, uint32_t id, const void *fixed,
    size_t flen, const char *str)
{
	uint8_t buf[PAYLOAD_MAX];
	size_t  slen = strlen(str) + 1;

	if (flen >= sizeof(buf))
		return chan_fail(c, "frame to send is too large");
	if (flen + slen > sizeof(buf))
		slen = sizeof(buf) - flen; /* truncate long text */
	memcpy(buf, fixed, flen);
	memcpy(buf + flen, str, slen);
	buf[flen + slen - 1] = '\0';
	return chan_compose(c, type, id, -1, buf, flen + slen);
}

static int
chan_write_one(struct chan *c, struct wbuf *w)
{
	union {
		struct cmsghdr hdr;
		char           buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct msghdr msg;
	struct iovec  iov;
	ssize_t       n;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = w->data + w->off;
	iov.iov_len = w->len - w->off;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (w->fd != -1 && w->off == 0) {
		struct cmsghdr *cm;

		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cm), &w->fd, sizeof(int));
	}
	n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (w->fd != -1) {
		/* the peer holds its own copy now */
		close(w->fd);
		w->fd = -1;
	}
	w->off += n;
	c->wqlen -= n;
	return 1;
}

/* Write what the socket takes now.  0: done or later, -1: peer gone. */
int
chan_flush(struct chan *c)
{
	struct wbuf *w;
	int          r;

	while ((w = c->wq) != NULL) {
		if ((r = chan_write_one(c, w)) == -1)
			return chan_fail(c, "write failed: peer gone");
		if (r == 0)
			return 0;
		if (w->off < w->len)
			continue;
		c->wq = w->next;
		if (c->wq == NULL)
			c->wtail = &c->wq;
		free(w);
	}
	return 0;
}

/*
 * Write everything queued, waiting for the peer to read it: for a
 * process about to exit, whose last frames must not be lost.
 */
int
chan_drain(struct chan *c, int timeout_ms)
{
	long long     deadline = mono_ms() + timeout_ms;
	struct pollfd pfd;
	long long     left;

	chan_flush_lazy();
	while (chan_flush(c) == 0 && chan_pending(c)) {
		if ((left = deadline - mono_ms()) <= 0)
			return chan_fail(c, "peer does not read");
		pfd.fd = c->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, left) == -1 && errno != EINTR)
			return chan_fail(c, "poll failed");
	}
	return c->err != NULL ? -1 : 0;
}

int
chan_pending(const struct chan *c)
{
	return c->wq != NULL;
}

int
chan_events(const struct chan *c)
{
	return POLLIN | (chan_pending(c) ? POLLOUT : 0);
}

/*
 * Keep passed descriptors in arrival order with the stream range of the
 * bytes they came with: a descriptor belongs to the frame that starts in
 * that range (the sender attaches it to a frame's first byte).  Any
 * beyond the queue are closed.
 */
static void
chan_take_fds(struct chan *c, struct msghdr *msg, uint64_t start, uint64_t end)
{
	struct cmsghdr *cm;
	size_t          i, n;
	int             fd;

	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(
			    &fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (c->nfdq < CHAN_FDQ) {
				c->fdq[c->nfdq].fd = fd;
				c->fdq[c->nfdq].start = start;
				c->fdq[c->nfdq++].end = end;
			} else {
				close(fd);
				c->fdlost = 1;
			}
		}
	}
}

/* One recvmsg.  1: bytes or nothing yet, 0: end of file, -1: error. */
int
chan_read(struct chan *c)
{
	union {
		struct cmsghdr hdr;
		char           buf[CMSG_SPACE(CHAN_FDQ * sizeof(int))];
	} cmsgbuf;
	struct msghdr msg;
	struct iovec  iov;
	ssize_t       n;

	if (c->roff > 0) {
		memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
		c->rlen -= c->roff;
		c->rstart += c->roff;
		c->roff = 0;
	}
	if (c->rlen == sizeof(c->rbuf))
		return 1;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = c->rbuf + c->rlen;
	iov.iov_len = sizeof(c->rbuf) - c->rlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return 1;
		return chan_fail(c, "read failed");
	}
	chan_take_fds(c, &msg, c->rstart + c->rlen,
	    c->rstart + c->rlen + (n > 0 ? n : 0));
	if ((msg.msg_flags & MSG_CTRUNC) || c->fdlost)
		return chan_fail(c, "too many descriptors passed");
	if (n == 0) {
		/* frames already buffered stay readable */
		c->eof = 1;
		return 0;
	}
	c->rlen += n;
	return 1;
}

/*
 * The descriptor of the frame at stream positions [pos, end), if it
 * announces one: the first one queued, which must have come with the
 * bytes where the frame starts.  A descriptor whose bytes have all been
 * consumed without a frame claiming it is an error too.
 */
static int
chan_claim_fd(
    struct chan *c, uint64_t pos, uint64_t end, int announced, int *fdp)
{
	*fdp = -1;
	if (announced) {
		if (c->nfdq == 0 || c->fdq[0].start > pos ||
		    c->fdq[0].end <= pos)
			return chan_fail(
			    c, "frame announces a missing descriptor");
		*fdp = c->fdq[0].fd;
		memmove(c->fdq, c->fdq + 1, --c->nfdq * sizeof(c->fdq[0]));
	}
	if (c->nfdq > 0 && c->fdq[0].end <= end) {
		if (*fdp != -1)
			close(*fdp);
		*fdp = -1;
		while (c->nfdq > 0) /* the channel is dead: keep none */
			close(c->fdq[--c->nfdq].fd);
		return chan_fail(
		    c, "descriptor passed without a frame announcing it");
	}
	return 0;
}

/*
 * Take the next complete frame from the read buffer.
 * 1: *f is a valid frame, 0: need more bytes, -1: protocol error.
 */
int
chan_get(struct chan *c, struct frame *f)
{
	struct frame_hdr hdr;
	const char      *why;
	size_t           avail = c->rlen - c->roff;

	if (c->err != NULL)
		return -1;
	if (avail < FRAME_HDR_SIZE)
		return 0;
	memcpy(&hdr, c->rbuf + c->roff, sizeof(hdr));
	if (hdr.len < FRAME_HDR_SIZE || hdr.len > FRAME_MAX)
		return chan_fail(c, "frame length out of bounds");
	if (hdr.sender != c->peer)
		return chan_fail(c, "frame from an unexpected sender");
	if (hdr.flags & ~FRAME_F_FD)
		return chan_fail(c, "unknown frame flags");
	if (avail < hdr.len)
		return 0;
	memset(f, 0, sizeof(*f));
	f->type = hdr.type;
	f->id = hdr.id;
	f->sender = hdr.sender;
	f->flags = hdr.flags;
	f->len = hdr.len - FRAME_HDR_SIZE;
	f->data = c->rbuf + c->roff + FRAME_HDR_SIZE;
	if (chan_claim_fd(c, c->rstart + c->roff, c->rstart + c->roff + hdr.len,
	        hdr.flags & FRAME_F_FD, &f->fd) == -1)
		return -1;
	c->roff += hdr.len;
	if (msg_check(f, c->peer, c->self, c->seen, &why) == -1) {
		if (f->fd != -1)
			close(f->fd);
		f->fd = -1;
		return chan_fail(c, why);
	}
	c->seen = msg_seen(c->seen, f->type);
	return 1;
}

/*
 * For processes that wait on one peer at a time: flush, then poll until
 * a frame arrives.  1: frame, 0: timeout, -1: error or peer gone.
 * timeout_ms < 0 waits forever.
 */
int
chan_wait(struct chan *c, struct frame *f, int timeout_ms)
{
	long long     deadline = mono_ms() + timeout_ms;
	struct pollfd pfd;
	int           r, wait;

	for (;;) {
		if ((r = chan_get(c, f)) != 0)
			return r;
		if (chan_flush(c) == -1)
			return -1;
		chan_flush_lazy();
		wait = -1;
		if (timeout_ms >= 0) {
			if ((wait = deadline - mono_ms()) <= 0)
				return 0;
		}
		pfd.fd = c->fd;
		pfd.events = chan_events(c);
		pfd.revents = 0;
		if (poll(&pfd, 1, wait) == -1) {
			if (errno == EINTR)
				continue;
			return chan_fail(c, "poll failed");
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			if ((r = chan_read(c)) == -1)
				return -1;
			if (r == 0)
				return chan_get(c, f) == 1
				    ? 1
				    : chan_fail(c, "peer closed the channel");
		}
	}
}

/* The string tail of a payload that starts with `fixed' bytes. */
const char *
frame_str(const struct frame *f, size_t fixed)
{
	return (const char *)f->data + fixed;
}
