/*
 * The framing layer (frame.c) and the message rules (msg.c), driven over
 * real non-blocking AF_UNIX socketpairs.  Hostile frames are written by
 * hand through the raw end of a pair: the 16-octet header below mirrors
 * frame.c's struct frame_hdr (host byte order).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHECK_PROG "test_frame"
#include "check.h"
#include "frame.h"
#include "msg.h"

#define FD_SCAN  1024 /* descriptors looked at for leaks */
#define BLOB_LEN 8192 /* a blob frame in the round-trip tests */
#define QUEUE_FRAMES \
	200 /* BLOB_LEN frames: far over a socket buffer;
				   the check names say 200 */

_Static_assert(sizeof(struct frame_hdr) == FRAME_HDR_SIZE, "header size");

/* A frame to write by hand; len 0 means header + payload. */
struct raw {
	uint32_t    type;
	uint32_t    len;
	uint32_t    id;
	uint16_t    sender;
	uint16_t    flags;
	const void *payload;
	size_t      plen;
};

static void __attribute__((noreturn)) die(const char *what)
{
	perror(what);
	exit(2);
}

static void *
xmalloc(size_t n)
{
	void *p;

	if ((p = calloc(1, n == 0 ? 1 : n)) == NULL)
		die("calloc");
	return p;
}

static void
xpipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1)
		die("pipe2");
}

/* Serialise r into buf (large enough); returns its length. */
static size_t
raw_build(uint8_t *buf, const struct raw *r)
{
	struct frame_hdr h;

	memset(&h, 0, sizeof(h));
	h.type = r->type;
	h.len = r->len ? r->len : (uint32_t)(FRAME_HDR_SIZE + r->plen);
	h.id = r->id;
	h.sender = r->sender;
	h.flags = r->flags;
	memcpy(buf, &h, sizeof(h));
	if (r->plen > 0)
		memcpy(buf + FRAME_HDR_SIZE, r->payload, r->plen);
	return FRAME_HDR_SIZE + r->plen;
}

/* One sendmsg of buf with nfds descriptors attached. */
static void
raw_sendfds(int sock, const void *buf, size_t len, const int *fds, int nfds)
{
	union {
		struct cmsghdr hdr;
		char           buf[CMSG_SPACE(8 * sizeof(int))];
	} cm;
	struct msghdr   msg;
	struct iovec    iov;
	struct cmsghdr *c;

	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) != (ssize_t)len)
		die("sendmsg");
}

static void
raw_send(int sock, const struct raw *r, int fd)
{
	uint8_t *buf = xmalloc(FRAME_HDR_SIZE + r->plen);
	size_t   n = raw_build(buf, r);

	raw_sendfds(sock, buf, n, &fd, fd == -1 ? 0 : 1);
	free(buf);
}

/* A channel on one end of a fresh pair; *raw is the other end. */
static struct chan *
chan_open(int *raw, uint16_t self, uint16_t peer)
{
	struct chan *c = xmalloc(sizeof(*c));
	int          sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	        sv) == -1)
		die("socketpair");
	chan_init(c, sv[1], self, peer, "test");
	*raw = sv[0];
	return c;
}

/* Channels on both ends: a (self a_self) talks to b (self b_self). */
static void
chan_open2(struct chan **a, uint16_t a_self, struct chan **b, uint16_t b_self)
{
	int raw;

	*b = chan_open(&raw, b_self, a_self);
	*a = xmalloc(sizeof(**a));
	chan_init(*a, raw, a_self, b_self, "test-peer");
}

static void
chan_free(struct chan *c)
{
	chan_close(c);
	free(c);
}

/* Read all that is there now; the last chan_read() result. */
static int
pump(struct chan *c)
{
	size_t before;
	int    r;

	do {
		before = c->rlen - c->roff;
		r = chan_read(c);
	} while (r == 1 && c->rlen - c->roff != before);
	return r;
}

/*
 * The types that must have come before t on a channel (msg.c's order
 * rules, restated): these tests look at framing, so each frame finds its
 * channel where its type may come.  check_order() tests the rules.
 */
static uint64_t
prereq(uint32_t t)
{
	switch (t) {
	case MSG_JOB_START:
		return MSG_BIT(MSG_JOB_SENDER) | MSG_BIT(MSG_JOB_RCPT) |
		    MSG_BIT(MSG_JOB_HELO);
	case MSG_BODY:
		return MSG_BIT(MSG_JOB_START);
	case MSG_HOST_REQ:
		return MSG_BIT(MSG_MX_REQ);
	case MSG_MX_END:
		return MSG_BIT(MSG_MX_INFO);
	case MSG_HOST_ADDR:
	case MSG_HOST_TLSA:
	case MSG_HOST_POLICY:
	case MSG_HOST_END:
		return MSG_BIT(MSG_MX_END);
	default:
		return 0;
	}
}

/* get() with the channel made ready for the next frame's type. */
static int
get(struct chan *c, struct frame *f)
{
	struct frame_hdr h;

	if (c->rlen - c->roff >= sizeof(h)) {
		memcpy(&h, c->rbuf + c->roff, sizeof(h));
		c->seen = prereq(h.type);
	}
	return chan_get(c, f);
}

/* Send one hand-made frame and return what get() makes of it. */
static int
raw_get(uint16_t self, uint16_t peer, const struct raw *r, int fd,
    struct frame *f, const char **err)
{
	struct chan *c;
	int          sock, rv;

	c = chan_open(&sock, self, peer);
	raw_send(sock, r, fd);
	pump(c);
	rv = get(c, f);
	*err = c->err;
	chan_free(c);
	close(sock);
	return rv;
}

/* Expect get() to refuse a hand-made frame with c->err set. */
static void
check_refused(
    const char *name, uint16_t self, uint16_t peer, const struct raw *r)
{
	struct frame f;
	const char  *err;
	int          rv;

	rv = raw_get(self, peer, r, -1, &f, &err);
	CHECK(rv == -1 && err != NULL, name, "chan_get %d, err %s", rv,
	    err ? err : "NULL");
}

static void
check_accepted(
    const char *name, uint16_t self, uint16_t peer, const struct raw *r)
{
	struct frame f;
	const char  *err;
	int          rv;

	rv = raw_get(self, peer, r, -1, &f, &err);
	CHECK(rv == 1 && err == NULL, name, "chan_get %d, err %s", rv,
	    err ? err : "NULL");
}

/* Which descriptors are open, for leak checks. */
static void
fd_snapshot(unsigned char open[FD_SCAN])
{
	int i;

	for (i = 0; i < FD_SCAN; i++)
		open[i] = fcntl(i, F_GETFD) != -1;
}

/* -1 if the same, else the first descriptor that differs. */
static int
fd_diff(const unsigned char a[FD_SCAN], const unsigned char b[FD_SCAN])
{
	int i;

	for (i = 0; i < FD_SCAN; i++)
		if (a[i] != b[i])
			return i;
	return -1;
}

/* 1 when no write end of the pipe remains open anywhere in this process. */
static int
pipe_writers_gone(int rd)
{
	char c;

	return read(rd, &c, 1) == 0;
}

static int
same_file(int a, int b)
{
	struct stat sa, sb;

	if (fstat(a, &sa) == -1 || fstat(b, &sb) == -1)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static struct msg_job
valid_job(void)
{
	struct msg_job j;

	memset(&j, 0, sizeof(j));
	j.flags = JOB_VERBOSE;
	for (size_t i = 0; i < TO_COUNT; i++)
		j.timeout[i] = 300;
	j.sts_timeout = STS_FETCH_TIMEOUT;
	return j;
}

static struct msg_body
valid_body(void)
{
	struct msg_body b;

	memset(&b, 0, sizeof(b));
	b.size = 100;
	b.wire_size = 105;
	b.flags = JOB_8BIT;
	return b;
}

static struct msg_mx_host
valid_mx(const char *name)
{
	struct msg_mx_host h;

	memset(&h, 0, sizeof(h));
	h.pref = 10;
	h.flags = MX_SECURE;
	snprintf(h.name, sizeof(h.name), "%s", name);
	return h;
}

/* Round trips through chan_compose/chan_flush/chan_read/chan_get. */
static void
check_roundtrip(void)
{
	struct chan   *s, *r;
	struct frame   f;
	struct msg_job j = valid_job(), jr;
	struct msg_log l;
	uint8_t       *blob;
	size_t         i;
	int            rv;

	chan_open2(&s, PROC_PARENT, &r, PROC_TLS);
	rv = chan_compose(s, MSG_JOB_START, 42, -1, &j, sizeof(j));
	chan_flush(s);
	pump(r);
	if (rv == 0 && (rv = get(r, &f)) == 1)
		memcpy(&jr, f.data, sizeof(jr));
	CHECK(rv == 1 && f.type == MSG_JOB_START && f.id == 42 &&
	        f.sender == PROC_PARENT && f.len == sizeof(j) && f.fd == -1 &&
	        memcmp(&jr, &j, sizeof(j)) == 0,
	    "round trip of a fixed struct (MSG_JOB_START) keeps type, id, "
	    "sender and payload",
	    "rv %d type %u id %u len %zu err %s", rv, f.type, f.id, f.len,
	    r->err ? r->err : "-");

	rv = chan_compose(s, MSG_JOB_RCPT, 7, -1, "user@example.com", 17);
	chan_flush(s);
	pump(r);
	if (rv == 0)
		rv = get(r, &f);
	CHECK(rv == 1 && f.type == MSG_JOB_RCPT && f.id == 7 && f.len == 17 &&
	        strcmp(frame_str(&f, 0), "user@example.com") == 0,
	    "round trip of a string (MSG_JOB_RCPT) keeps it and its NUL",
	    "rv %d len %zu err %s", rv, f.len, r->err ? r->err : "-");

	rv = chan_compose(s, MSG_JOB_SENDER, 8, -1, "", 1);
	chan_flush(s);
	pump(r);
	if (rv == 0)
		rv = get(r, &f);
	CHECK(rv == 1 && f.len == 1 && frame_str(&f, 0)[0] == '\0',
	    "round trip of an empty string (MSG_JOB_SENDER null sender)",
	    "rv %d len %zu err %s", rv, f.len, r->err ? r->err : "-");

	CHECK(get(r, &f) == 0 && !chan_pending(s) && s->wqlen == 0,
	    "after the round trips nothing is left queued or buffered",
	    "pending %d wqlen %zu", chan_pending(s), s->wqlen);
	chan_free(s);
	chan_free(r);

	/* the blob type: a TLSA record, fixed part + data */
	chan_open2(&s, PROC_DNS, &r, PROC_TLS);
	blob = xmalloc(BLOB_LEN);
	for (i = 0; i < BLOB_LEN; i++)
		blob[i] = (uint8_t)(i * 7 + 3);
	rv = chan_compose(s, MSG_HOST_TLSA, 9, -1, blob, BLOB_LEN);
	chan_flush(s);
	pump(r);
	if (rv == 0)
		rv = get(r, &f);
	CHECK(rv == 1 && f.type == MSG_HOST_TLSA && f.len == BLOB_LEN &&
	        memcmp(f.data, blob, BLOB_LEN) == 0,
	    "round trip of a blob (MSG_HOST_TLSA, BLOB_LEN octets)",
	    "rv %d len %zu err %s", rv, f.len, r->err ? r->err : "-");
	free(blob);

	rv = chan_compose(s, MSG_HOST_TLSA, 10, -1, "\3\1\1", 4);
	chan_flush(s);
	pump(r);
	if (rv == 0)
		rv = get(r, &f);
	CHECK(rv == 1 && f.type == MSG_HOST_TLSA && f.len == 4 && f.id == 10,
	    "round trip of an empty blob (a TLSA record without data)",
	    "rv %d len %zu err %s", rv, f.len, r->err ? r->err : "-");
	CHECK(get(r, &f) == 0 && !chan_pending(s) && s->wqlen == 0,
	    "after the blob round trips nothing is left queued or buffered",
	    "pending %d wqlen %zu", chan_pending(s), s->wqlen);
	chan_free(s);
	chan_free(r);

	chan_open2(&s, PROC_DNS, &r, PROC_PARENT);
	l.level = LOGL_ERROR;
	rv = chan_compose2(s, MSG_LOG, 0, &l, sizeof(l), "hello, parent");
	chan_flush(s);
	pump(r);
	if (rv == 0 && (rv = get(r, &f)) == 1)
		memcpy(&l, f.data, sizeof(l));
	CHECK(rv == 1 && f.type == MSG_LOG && f.sender == PROC_DNS &&
	        f.len == sizeof(l) + 14 && l.level == LOGL_ERROR &&
	        strcmp(frame_str(&f, sizeof(l)), "hello, parent") == 0,
	    "round trip of fixed + string via chan_compose2 (MSG_LOG)",
	    "rv %d len %zu err %s", rv, f.len, r->err ? r->err : "-");
	chan_free(s);
	chan_free(r);
}

static void
check_compose_limits(void)
{
	struct chan   *c;
	char          *big;
	struct msg_log l = { LOGL_INFO };
	int            sock, rv;

	c = chan_open(&sock, PROC_PARENT, PROC_TLS);
	big = xmalloc(PAYLOAD_MAX + 2);
	rv = chan_compose(c, MSG_HOST_TLSA, 1, -1, big, PAYLOAD_MAX + 1);
	CHECK(rv == -1 && c->err != NULL && !chan_pending(c),
	    "chan_compose of PAYLOAD_MAX + 1 octets fails and queues nothing",
	    "rv %d err %s pending %d", rv, c->err ? c->err : "NULL",
	    chan_pending(c));
	chan_free(c);
	close(sock);

	c = chan_open(&sock, PROC_PARENT, PROC_TLS);
	rv = chan_compose(c, MSG_HOST_TLSA, 1, -1, big, PAYLOAD_MAX);
	CHECK(rv == 0 && c->wqlen == FRAME_MAX,
	    "chan_compose of exactly PAYLOAD_MAX octets queues FRAME_MAX",
	    "rv %d wqlen %zu", rv, c->wqlen);
	chan_free(c);
	close(sock);

	/* a string too long for one frame is cut and stays terminated */
	c = chan_open(&sock, PROC_DNS, PROC_PARENT);
	memset(big, 'a', PAYLOAD_MAX + 1);
	big[PAYLOAD_MAX + 1] = '\0';
	rv = chan_compose2(c, MSG_LOG, 1, &l, sizeof(l), big);
	CHECK(rv == 0 && c->wq != NULL && c->wq->len == FRAME_MAX &&
	        c->wq->data[FRAME_MAX - 1] == '\0' &&
	        c->wq->data[FRAME_MAX - 2] == 'a',
	    "chan_compose2 cuts a long string at PAYLOAD_MAX, NUL-terminated",
	    "rv %d len %zu", rv, c->wq ? c->wq->len : 0);
	chan_free(c);
	close(sock);
	free(big);
}

static void
check_split_and_coalesced(void)
{
	struct msg_mx_host h1 = valid_mx("mx1.example.com");
	struct msg_mx_host h2 = valid_mx("mx2.example.com");
	struct msg_dns_end e = { DNS_OK, 2 };
	struct raw   r1 = { MSG_MX_HOST, 0, 1, PROC_DNS, 0, &h1, sizeof(h1) };
	struct raw   r2 = { MSG_MX_HOST, 0, 2, PROC_DNS, 0, &h2, sizeof(h2) };
	struct raw   r3 = { MSG_MX_END, 0, 3, PROC_DNS, 0, &e, sizeof(e) };
	uint8_t      buf[3 * (FRAME_HDR_SIZE + sizeof(h1))];
	size_t       n = 0, n1, i, early = 0, done_at = 0;
	struct chan *c;
	struct frame f;
	int          sock, rv, ids[4], got = 0;
	struct msg_mx_host hr;

	n1 = raw_build(buf, &r1);
	n = n1 + raw_build(buf + n1, &r2);

	/* one octet at a time: nothing until a frame is complete */
	c = chan_open(&sock, PROC_TLS, PROC_DNS);
	for (i = 0; i < n; i++) {
		if (write(sock, buf + i, 1) != 1)
			die("write");
		pump(c);
		rv = get(c, &f);
		/* a frame exactly when its last octet arrived, else 0 */
		if (rv != (i + 1 == n1 || i + 1 == n ? 1 : 0))
			early++;
		if (rv == 1 && got < 2) {
			ids[got++] = f.id;
			if (got == 1)
				done_at = i + 1;
			memcpy(&hr, f.data, sizeof(hr));
		}
	}
	CHECK(early == 0 && got == 2 && done_at == n1 && ids[0] == 1 &&
	        ids[1] == 2 && strcmp(hr.name, "mx2.example.com") == 0,
	    "split read: frames written one octet at a time come out only "
	    "when complete",
	    "%zu octets with a wrong result, %d frames, "
	    "first complete at %zu of %zu",
	    early, got, done_at, n1);
	chan_free(c);
	close(sock);

	/* three frames in one write */
	n += raw_build(buf + n, &r3);
	c = chan_open(&sock, PROC_TLS, PROC_DNS);
	if (write(sock, buf, n) != (ssize_t)n)
		die("write");
	pump(c);
	for (got = 0; got < 4 && (rv = get(c, &f)) == 1; got++)
		ids[got] = f.id;
	CHECK(got == 3 && rv == 0 && ids[0] == 1 && ids[1] == 2 && ids[2] == 3,
	    "coalesced read: three frames in one write come out in order",
	    "got %d frames, last chan_get %d", got, rv);
	chan_free(c);
	close(sock);

	/* one write ending in the middle of the second frame */
	c = chan_open(&sock, PROC_TLS, PROC_DNS);
	if (write(sock, buf, n1 + 5) != (ssize_t)(n1 + 5))
		die("write");
	pump(c);
	rv = get(c, &f);
	got = rv == 1 && f.id == 1;
	rv = get(c, &f);
	got += rv == 0;
	if (write(sock, buf + n1 + 5, n - n1 - 5) != (ssize_t)(n - n1 - 5))
		die("write");
	pump(c);
	got += get(c, &f) == 1 && f.id == 2;
	got += get(c, &f) == 1 && f.id == 3;
	got += get(c, &f) == 0;
	CHECK(got == 5, "a write ending mid-frame: the rest completes it",
	    "%d of 5 steps as expected", got);
	chan_free(c);
	close(sock);
}

static void
check_header(void)
{
	struct msg_dns_end e = { DNS_OK, 0 };
	struct raw         r = { MSG_MX_END, 0, 1, PROC_DNS, 0, &e, sizeof(e) };
	struct frame       f;
	struct chan       *c;
	const char        *err;
	int                sock, rv;

	/* only the header: a bad length must be refused without the rest */
	r.plen = 0;
	r.len = FRAME_MAX + 1;
	check_refused("header len FRAME_MAX + 1 refused before the payload "
	              "arrives",
	    PROC_TLS, PROC_DNS, &r);
	r.len = 0xffffffffU;
	check_refused("header len 0xffffffff refused", PROC_TLS, PROC_DNS, &r);
	r.len = FRAME_HDR_SIZE - 1;
	check_refused(
	    "header len 15 (< header size) refused", PROC_TLS, PROC_DNS, &r);
	r.len = 0;
	r.plen = 0;
	{
		/* len 0 must be written explicitly: raw_build's 0 is "auto" */
		struct frame_hdr h = { MSG_MX_END, 0, 1, PROC_DNS, 0 };

		c = chan_open(&sock, PROC_TLS, PROC_DNS);
		raw_sendfds(sock, &h, sizeof(h), NULL, 0);
		pump(c);
		rv = get(c, &f);
		CHECK(rv == -1 && c->err != NULL, "header len 0 refused",
		    "chan_get %d", rv);
		chan_free(c);
		close(sock);
	}

	/* FRAME_MAX itself is in bounds: wait for the payload */
	r.type = MSG_HOST_TLSA;
	r.sender = PROC_DNS;
	r.len = FRAME_MAX;
	rv = raw_get(PROC_TLS, PROC_DNS, &r, -1, &f, &err);
	CHECK(rv == 0 && err == NULL,
	    "header len FRAME_MAX with its payload still to come waits",
	    "chan_get %d err %s", rv, err ? err : "NULL");

	r.type = MSG_MX_END;
	r.sender = PROC_DNS;
	r.len = 0;
	r.plen = sizeof(e);
	r.flags = 0x8000;
	check_refused(
	    "unknown header flag 0x8000 refused", PROC_TLS, PROC_DNS, &r);
	r.flags = 0x0002;
	check_refused(
	    "unknown header flag 0x0002 refused", PROC_TLS, PROC_DNS, &r);
	r.flags = 0;
	check_accepted("the same MX_END frame without bad flags is accepted",
	    PROC_TLS, PROC_DNS, &r);
}

static void
check_eof(void)
{
	struct msg_dns_end e = { DNS_OK, 0 };
	struct raw         r = { MSG_MX_END, 0, 1, PROC_DNS, 0, &e, sizeof(e) };
	uint8_t            buf[64];
	struct frame       f;
	struct chan       *c;
	size_t             n;
	int                sock, rv, rr;

	n = raw_build(buf, &r);
	c = chan_open(&sock, PROC_TLS, PROC_DNS);
	if (write(sock, buf, n - 3) != (ssize_t)(n - 3))
		die("write");
	close(sock);
	rr = pump(c);
	if (rr == 1)
		rr = pump(c);
	rv = get(c, &f);
	CHECK(rr == 0 && c->eof == 1 && rv == 0,
	    "truncated frame then EOF: no frame, eof set",
	    "chan_read %d eof %d chan_get %d", rr, c->eof, rv);
	rv = chan_wait(c, &f, 1000);
	CHECK(rv == -1 && c->err != NULL,
	    "chan_wait after EOF with a truncated frame fails",
	    "chan_wait %d err %s", rv, c->err ? c->err : "NULL");
	chan_free(c);

	c = chan_open(&sock, PROC_TLS, PROC_DNS);
	if (write(sock, buf, n) != (ssize_t)n)
		die("write");
	close(sock);
	rr = pump(c);
	if (rr == 1)
		rr = pump(c);
	rv = get(c, &f);
	CHECK(rr == 0 && c->eof == 1 && rv == 1 && f.type == MSG_MX_END,
	    "a complete frame before EOF stays readable",
	    "chan_read %d eof %d chan_get %d", rr, c->eof, rv);
	chan_free(c);
}

static void
check_payload_sizes(void)
{
	struct msg_dns_end     e[2];
	struct msg_job         j[2];
	struct msg_connect_res cr = { 0 };
	struct raw             r;
	char                   name[NAME_MAX_LEN + 2];
	uint8_t               *blob;

	memset(e, 0, sizeof(e));
	memset(j, 0, sizeof(j));
	j[0] = valid_job();
	r = (struct raw){ MSG_MX_END, 0, 1, PROC_DNS, 0, e, sizeof(e[0]) + 1 };
	check_refused("fixed type MX_END with one octet too many refused",
	    PROC_TLS, PROC_DNS, &r);
	r.plen = sizeof(e[0]) - 1;
	check_refused("fixed type MX_END with one octet too few refused",
	    PROC_TLS, PROC_DNS, &r);
	r.plen = 0;
	check_refused("fixed type MX_END with no payload refused", PROC_TLS,
	    PROC_DNS, &r);
	r = (struct raw){ MSG_JOB_START, 0, 1, PROC_PARENT, 0, j, 0 };
	check_refused("fixed type JOB_START with no payload refused", PROC_TLS,
	    PROC_PARENT, &r);
	r.plen = sizeof(j[0]) + 8;
	check_refused("fixed type JOB_START with 8 extra octets refused",
	    PROC_TLS, PROC_PARENT, &r);
	r.plen = sizeof(j[0]);
	check_accepted("JOB_START of exactly its size accepted", PROC_TLS,
	    PROC_PARENT, &r);
	r = (struct raw){ MSG_CONNECT_FAIL, 0, 1, PROC_NET, 0, &cr,
		sizeof(cr) - 1 };
	check_refused("fixed type CONNECT_FAIL short by one octet refused",
	    PROC_TLS, PROC_NET, &r);

	/* strings: MX_REQ from tls to dns */
	r = (struct raw){ MSG_MX_REQ, 0, 1, PROC_TLS, 0, "example.com", 11 };
	check_refused("string without its NUL refused", PROC_DNS, PROC_TLS, &r);
	r.payload = "exa\0mple.com";
	r.plen = 13;
	check_refused(
	    "string with an embedded NUL refused", PROC_DNS, PROC_TLS, &r);
	r.payload = "example.com\0\0";
	r.plen = 13;
	check_refused(
	    "string with two NULs at its end refused", PROC_DNS, PROC_TLS, &r);
	r.plen = 0;
	check_refused("string type with an empty payload refused", PROC_DNS,
	    PROC_TLS, &r);
	memset(name, 'n', sizeof(name));
	name[NAME_MAX_LEN] = '\0';
	r.payload = name;
	r.plen = NAME_MAX_LEN + 1;
	check_accepted("string of NAME_MAX_LEN octets + NUL accepted", PROC_DNS,
	    PROC_TLS, &r);
	name[NAME_MAX_LEN] = 'n';
	name[NAME_MAX_LEN + 1] = '\0';
	r.plen = NAME_MAX_LEN + 2;
	check_refused("string of NAME_MAX_LEN + 1 octets + NUL refused",
	    PROC_DNS, PROC_TLS, &r);

	/* fixed + string: MSG_LOG from dns to the parent */
	{
		uint8_t        lb[sizeof(struct msg_log) + 8];
		struct msg_log l = { LOGL_INFO };

		memcpy(lb, &l, sizeof(l));
		memcpy(lb + sizeof(l), "hello\0", 6);
		r = (struct raw){ MSG_LOG, 0, 1, PROC_DNS, 0, lb,
			sizeof(l) + 6 };
		check_accepted(
		    "MSG_LOG with level and terminated text accepted",
		    PROC_PARENT, PROC_DNS, &r);
		r.plen = sizeof(l) + 5;
		check_refused("MSG_LOG text without NUL refused", PROC_PARENT,
		    PROC_DNS, &r);
		r.plen = sizeof(l);
		check_refused("MSG_LOG without any text refused", PROC_PARENT,
		    PROC_DNS, &r);
		r.plen = sizeof(l) - 1;
		check_refused("MSG_LOG shorter than its fixed part refused",
		    PROC_PARENT, PROC_DNS, &r);
	}

	/* blobs */
	blob = xmalloc(sizeof(struct msg_tlsa) + TLSA_DATA_MAX + 1);
	memset(blob, 0, sizeof(struct msg_tlsa) + TLSA_DATA_MAX + 1);
	r = (struct raw){ MSG_HOST_TLSA, 0, 1, PROC_DNS, 0, blob,
		sizeof(struct msg_tlsa) + TLSA_DATA_MAX };
	check_accepted("TLSA record of TLSA_DATA_MAX octets accepted", PROC_TLS,
	    PROC_DNS, &r);
	r.plen++;
	check_refused("TLSA record of TLSA_DATA_MAX + 1 octets refused",
	    PROC_TLS, PROC_DNS, &r);
	free(blob);
}

static void
check_senders_and_types(void)
{
	struct msg_result  res = { OUT_DELIVERED };
	struct msg_job     j = valid_job();
	struct msg_dns_end e = { DNS_OK, 0 };
	uint8_t            rb[sizeof(res) + 3];
	struct raw         r;

	memcpy(rb, &res, sizeof(res));
	memcpy(rb + sizeof(res), "ok", 3);
	r = (struct raw){ MSG_RESULT, 0, 1, PROC_DNS, 0, rb, sizeof(rb) };
	check_refused("MSG_RESULT from PROC_DNS refused (tls only)",
	    PROC_PARENT, PROC_DNS, &r);
	r.sender = PROC_TLS;
	check_accepted("the same MSG_RESULT from PROC_TLS accepted",
	    PROC_PARENT, PROC_TLS, &r);
	r = (struct raw){ MSG_JOB_START, 0, 1, PROC_TLS, 0, &j, sizeof(j) };
	check_refused("MSG_JOB_START from PROC_TLS refused (parent only)",
	    PROC_PARENT, PROC_TLS, &r);
	r = (struct raw){ MSG_MX_REQ, 0, 1, PROC_PARENT, 0, "a.example", 10 };
	check_refused("MSG_MX_REQ from the parent refused (tls only)", PROC_DNS,
	    PROC_PARENT, &r);

	r = (struct raw){ MSG_MX_END, 0, 1, PROC_NET, 0, &e, sizeof(e) };
	check_refused("header sender PROC_NET on a channel from PROC_DNS "
	              "refused",
	    PROC_TLS, PROC_DNS, &r);
	r.sender = PROC_PARENT;
	check_refused("header sender PROC_PARENT on a channel from PROC_DNS "
	              "refused",
	    PROC_TLS, PROC_DNS, &r);
	r.sender = 99;
	check_refused("header sender 99 refused", PROC_TLS, PROC_DNS, &r);

	r = (struct raw){ MSG_NONE, 0, 1, PROC_DNS, 0, &e, sizeof(e) };
	check_refused("MSG_NONE refused", PROC_TLS, PROC_DNS, &r);
	r.plen = 0;
	check_refused(
	    "MSG_NONE with no payload refused", PROC_TLS, PROC_DNS, &r);
	r.plen = sizeof(e);
	r.type = MSG_TYPE_COUNT;
	check_refused("type MSG_TYPE_COUNT refused", PROC_TLS, PROC_DNS, &r);
	r.type = 1000;
	check_refused("unknown type 1000 refused", PROC_TLS, PROC_DNS, &r);
	r.type = 0xffffffffU;
	check_refused(
	    "unknown type 0xffffffff refused", PROC_TLS, PROC_DNS, &r);
	CHECK(strcmp(msg_type_name(MSG_LOG), "LOG") == 0 &&
	        strcmp(msg_type_name(MSG_TYPE_COUNT), "unknown") == 0 &&
	        strcmp(msg_type_name(MSG_NONE), "unknown") == 0,
	    "msg_type_name names known types and calls others unknown",
	    "LOG -> %s", msg_type_name(MSG_LOG));
}

/* Y16 Y20: the MTA-STS frames carry only what their checks allow. */
static void
check_sts_values(void)
{
	struct msg_mx_sts m;
	struct msg_sts    c;
	uint8_t           buf[sizeof(c) + 8];
	struct raw        r;

	memset(&m, 0, sizeof(m));
	m.sts = TXT_FOUND;
	snprintf(m.id, sizeof(m.id), "lab1");
	r = (struct raw){ MSG_MX_STS, 0, 1, PROC_DNS, 0, &m, sizeof(m) };
	check_accepted(
	    "Y16 MSG_MX_STS with a found id accepted", PROC_TLS, PROC_DNS, &r);
	m.id[1] = '-';
	check_refused("Y16 MSG_MX_STS with a non-alphanumeric id refused",
	    PROC_TLS, PROC_DNS, &r);
	m.sts = TXT_NONE;
	snprintf(m.id, sizeof(m.id), "lab1");
	check_refused("Y16 MSG_MX_STS with an id but no record refused",
	    PROC_TLS, PROC_DNS, &r);
	m.sts = TXT_COUNT;
	m.id[0] = '\0';
	check_refused("Y16 MSG_MX_STS with an unknown state refused", PROC_TLS,
	    PROC_DNS, &r);

	memset(&c, 0, sizeof(c));
	c.failed = 1796000000;
	snprintf(c.domain, sizeof(c.domain), "example.com");
	r = (struct raw){ MSG_STS_STORE, 0, 1, PROC_TLS, 0, &c, sizeof(c) };
	check_accepted("Y20 MSG_STS_STORE of a failed fetch accepted",
	    PROC_PARENT, PROC_TLS, &r);
	memcpy(buf, &c, sizeof(c));
	memcpy(buf + sizeof(c), "mode: x", 8);
	r = (struct raw){ MSG_STS_STORE, 0, 1, PROC_TLS, 0, buf, sizeof(buf) };
	check_refused("Y20 MSG_STS_STORE of a failure with a text refused",
	    PROC_PARENT, PROC_TLS, &r);
	c.fetched = 1796000000;
	c.expires = c.fetched - 1;
	snprintf(c.id, sizeof(c.id), "lab1");
	memcpy(buf, &c, sizeof(c));
	check_refused("Y20 MSG_STS_STORE that expires before it was fetched "
	              "refused",
	    PROC_PARENT, PROC_TLS, &r);
	c.domain[0] = '\0';
	c.expires = c.fetched;
	memcpy(buf, &c, sizeof(c));
	check_refused("Y20 MSG_STS_STORE without a domain refused", PROC_PARENT,
	    PROC_TLS, &r);
}

static void
check_values(void)
{
	struct msg_log         l;
	struct msg_dns_end     e;
	struct msg_result      res;
	struct msg_host_addr   a;
	struct msg_mx_host     h;
	struct msg_connect_req cq;
	struct msg_job         j;
	uint8_t                lb[sizeof(l) + 2], rb[sizeof(res) + 2];
	struct raw             r;

	l.level = 99;
	memcpy(lb, &l, sizeof(l));
	memcpy(lb + sizeof(l), "x", 2);
	r = (struct raw){ MSG_LOG, 0, 1, PROC_TLS, 0, lb, sizeof(lb) };
	check_refused("MSG_LOG level 99 refused", PROC_PARENT, PROC_TLS, &r);
	l.level = LOGL_COUNT;
	memcpy(lb, &l, sizeof(l));
	check_refused(
	    "MSG_LOG level LOGL_COUNT refused", PROC_PARENT, PROC_TLS, &r);
	l.level = LOGL_COUNT - 1;
	memcpy(lb, &l, sizeof(l));
	check_accepted(
	    "MSG_LOG level LOGL_COUNT - 1 accepted", PROC_PARENT, PROC_TLS, &r);

	e.status = 99;
	e.count = 0;
	r = (struct raw){ MSG_MX_END, 0, 1, PROC_DNS, 0, &e, sizeof(e) };
	check_refused("MSG_MX_END status 99 refused", PROC_TLS, PROC_DNS, &r);
	e.status = DNS_STATUS_COUNT;
	r.type = MSG_HOST_END;
	check_refused("MSG_HOST_END status DNS_STATUS_COUNT refused", PROC_TLS,
	    PROC_DNS, &r);
	e.status = DNS_STATUS_COUNT - 1;
	check_accepted("MSG_HOST_END status DNS_STATUS_COUNT - 1 accepted",
	    PROC_TLS, PROC_DNS, &r);

	res.outcome = 99;
	memcpy(rb, &res, sizeof(res));
	memcpy(rb + sizeof(res), "x", 2);
	r = (struct raw){ MSG_RESULT, 0, 1, PROC_TLS, 0, rb, sizeof(rb) };
	check_refused(
	    "MSG_RESULT outcome 99 refused", PROC_PARENT, PROC_TLS, &r);

	memset(&a, 0, sizeof(a));
	a.family = 5;
	r = (struct raw){ MSG_HOST_ADDR, 0, 1, PROC_DNS, 0, &a, sizeof(a) };
	check_refused("MSG_HOST_ADDR family 5 refused", PROC_TLS, PROC_DNS, &r);
	a.family = 6;
	a.flags = 0x80;
	check_refused(
	    "MSG_HOST_ADDR unknown flag refused", PROC_TLS, PROC_DNS, &r);
	a.flags = ADDR_SECURE;
	check_accepted(
	    "MSG_HOST_ADDR family 6, secure, accepted", PROC_TLS, PROC_DNS, &r);

	h = valid_mx("mx.example.com");
	memset(h.name, 'm', sizeof(h.name));
	r = (struct raw){ MSG_MX_HOST, 0, 1, PROC_DNS, 0, &h, sizeof(h) };
	check_refused("MSG_MX_HOST with an unterminated name refused", PROC_TLS,
	    PROC_DNS, &r);
	h.name[0] = '\0';
	check_refused(
	    "MSG_MX_HOST with an empty name refused", PROC_TLS, PROC_DNS, &r);
	h = valid_mx("mx.example.com");
	h.flags = 0x40;
	check_refused(
	    "MSG_MX_HOST with an unknown flag refused", PROC_TLS, PROC_DNS, &r);

	memset(&cq, 0, sizeof(cq));
	cq.family = 4;
	cq.port = 25;
	cq.timeout = 30;
	r = (struct raw){ MSG_CONNECT_REQ, 0, 1, PROC_TLS, 0, &cq, sizeof(cq) };
	check_accepted(
	    "MSG_CONNECT_REQ to port 25 accepted", PROC_NET, PROC_TLS, &r);
	cq.port = 0;
	check_refused(
	    "MSG_CONNECT_REQ to port 0 refused", PROC_NET, PROC_TLS, &r);
	cq.port = 80;
	check_refused("MSG_CONNECT_REQ to a port other than 25 refused",
	    PROC_NET, PROC_TLS, &r);
	cq.port = 25;
	cq.timeout = 0;
	check_refused(
	    "MSG_CONNECT_REQ with timeout 0 refused", PROC_NET, PROC_TLS, &r);

	j = valid_job();
	r = (struct raw){ MSG_JOB_START, 0, 1, PROC_PARENT, 0, &j, sizeof(j) };
	check_accepted("MSG_JOB_START accepted", PROC_TLS, PROC_PARENT, &r);
	j.flags = JOB_8BIT;
	check_refused("MSG_JOB_START with JOB_8BIT refused (MSG_BODY says it)",
	    PROC_TLS, PROC_PARENT, &r);
	j = valid_job();
	j.timeout[TO_DATA_DONE] = 0;
	check_refused("MSG_JOB_START with data timeout 0 refused", PROC_TLS,
	    PROC_PARENT, &r);
	j = valid_job();
	j.flags = 0x200;
	check_refused("MSG_JOB_START with an unknown flag refused", PROC_TLS,
	    PROC_PARENT, &r);
	j = valid_job();
	j.sts_timeout = 0;
	check_refused("MSG_JOB_START with an MTA-STS timeout of 0 refused",
	    PROC_TLS, PROC_PARENT, &r);
	check_sts_values();
}

static void
check_sticky(void)
{
	struct msg_dns_end e = { 99, 0 }, ok = { DNS_OK, 0 };
	struct raw   r1 = { MSG_MX_END, 0, 1, PROC_DNS, 0, &e, sizeof(e) };
	struct raw   r2 = { MSG_MX_END, 0, 2, PROC_DNS, 0, &ok, sizeof(ok) };
	struct frame f;
	struct chan *c;
	int          sock, rv1, rv2;

	c = chan_open(&sock, PROC_TLS, PROC_DNS);
	raw_send(sock, &r1, -1);
	raw_send(sock, &r2, -1);
	pump(c);
	rv1 = get(c, &f);
	rv2 = get(c, &f);
	CHECK(rv1 == -1 && rv2 == -1,
	    "after a protocol error chan_get keeps failing, even for a valid "
	    "frame",
	    "first %d, then %d", rv1, rv2);
	chan_free(c);
	close(sock);
}

/* fd passing: the one legitimate case. */
static void
check_fd_pass(void)
{
	struct msg_connect_res res = { 0 };
	struct chan           *s, *r;
	struct frame           f;
	char                   buf[8];
	int                    p[2], rv, gone, flags;

	xpipe(p);
	chan_open2(&s, PROC_NET, &r, PROC_TLS);
	rv = chan_compose(s, MSG_CONNECT_OK, 5, p[1], &res, sizeof(res));
	chan_flush(s);
	/* before the receiver installs its copy, which may reuse the number */
	gone = fcntl(p[1], F_GETFD) == -1 && errno == EBADF;
	CHECK(rv == 0 && gone && !chan_pending(s),
	    "the sender's descriptor is closed once sent",
	    "compose %d, still open %d", rv, !gone);
	pump(r);
	rv = get(r, &f);
	CHECK(rv == 1 && f.type == MSG_CONNECT_OK && f.fd >= 0 &&
	        (f.flags & FRAME_F_FD),
	    "MSG_CONNECT_OK from PROC_NET arrives with a descriptor",
	    "chan_get %d fd %d err %s", rv, rv == 1 ? f.fd : -1,
	    r->err ? r->err : "-");
	if (rv == 1 && f.fd >= 0) {
		flags = fcntl(f.fd, F_GETFD);
		CHECK(flags != -1 && (flags & FD_CLOEXEC),
		    "a received descriptor is close-on-exec", "flags %d",
		    flags);
		CHECK(write(f.fd, "hi", 2) == 2 && read(p[0], buf, 8) == 2 &&
		        memcmp(buf, "hi", 2) == 0,
		    "the received descriptor is the pipe: a write through it "
		    "arrives",
		    "pipe read failed");
		close(f.fd);
		CHECK(pipe_writers_gone(p[0]),
		    "after closing the received descriptor no copy of the pipe "
		    "remains",
		    "a write end is still open");
	} else {
		CHECK(0, "a received descriptor is close-on-exec", "no fd");
		CHECK(0,
		    "the received descriptor is the pipe: a write through "
		    "it arrives",
		    "no fd");
		CHECK(0,
		    "after closing the received descriptor no copy of the "
		    "pipe remains",
		    "no fd");
	}
	chan_free(s);
	chan_free(r);
	close(p[0]);
}

/* Two descriptors in flight: each frame gets its own, in order. */
static void
check_fd_order(void)
{
	struct msg_connect_res res = { 0 };
	struct chan           *s, *r;
	struct frame           f1, f2;
	int                    a[2], b[2], a0 = -1, b0 = -1, rv1, rv2 = 0, ok;

	xpipe(a);
	xpipe(b);
	/* keep other copies to compare with */
	if ((a0 = dup(a[1])) == -1 || (b0 = dup(b[1])) == -1)
		die("dup");
	chan_open2(&s, PROC_NET, &r, PROC_TLS);
	chan_compose(s, MSG_CONNECT_OK, 1, a[1], &res, sizeof(res));
	chan_compose(s, MSG_CONNECT_OK, 2, b[1], &res, sizeof(res));
	chan_flush(s);
	pump(r);
	rv1 = get(r, &f1);
	if (rv1 == 1)
		rv2 = get(r, &f2);
	ok = rv1 == 1 && rv2 == 1 && same_file(f1.fd, a0) &&
	    same_file(f2.fd, b0);
	CHECK(ok,
	    "two MSG_CONNECT_OK frames get their own descriptors in "
	    "order",
	    "chan_get %d/%d", rv1, rv2);
	if (rv1 == 1)
		close(f1.fd);
	if (rv2 == 1)
		close(f2.fd);
	chan_free(s);
	chan_free(r);
	close(a0);
	close(b0);
	close(a[0]);
	close(b[0]);
}

/*
 * A descriptor sent with a frame that may not carry one: the frame is
 * refused and the receiver keeps no copy.
 */
static void
check_fd_refused(
    const char *name, uint16_t self, uint16_t peer, const struct raw *r)
{
	unsigned char before[FD_SCAN], after[FD_SCAN];
	struct chan  *c;
	struct frame  f;
	int           p[2], sock, rv, diff, gone;
	char          detail[100];

	xpipe(p);
	c = chan_open(&sock, self, peer);
	fd_snapshot(before);
	raw_send(sock, r, p[1]);
	pump(c);
	rv = get(c, &f);
	fd_snapshot(after);
	diff = fd_diff(before, after);
	close(p[1]);
	gone = pipe_writers_gone(p[0]);
	snprintf(detail, sizeof(detail), "%s: frame refused", name);
	CHECK(rv == -1 && c->err != NULL, detail, "chan_get %d, err %s", rv,
	    c->err ? c->err : "NULL");
	snprintf(
	    detail, sizeof(detail), "%s: no stray descriptor left open", name);
	CHECK(diff == -1 && gone, detail,
	    "descriptor %d differs, pipe "
	    "writers gone %d",
	    diff, gone);
	if (rv == 1 && f.fd >= 0)
		close(f.fd);
	chan_free(c);
	close(sock);
	close(p[0]);
}

static void
check_fd_hostile(void)
{
	struct msg_connect_res res = { 0 };
	struct msg_dns_end     e = { DNS_OK, 0 };
	struct raw             r;
	struct frame           f;
	const char            *err;
	int                    rv;

	r = (struct raw){ MSG_CONNECT_OK, 0, 1, PROC_NET, FRAME_F_FD, &res,
		sizeof(res) };
	rv = raw_get(PROC_TLS, PROC_NET, &r, -1, &f, &err);
	CHECK(rv == -1 && err != NULL,
	    "FRAME_F_FD set but no descriptor passed: refused", "chan_get %d",
	    rv);
	r.flags = 0;
	rv = raw_get(PROC_TLS, PROC_NET, &r, -1, &f, &err);
	CHECK(rv == -1 && err != NULL,
	    "MSG_CONNECT_OK without its descriptor refused", "chan_get %d", rv);

	r = (struct raw){ MSG_CONNECT_FAIL, 0, 1, PROC_NET, FRAME_F_FD, &res,
		sizeof(res) };
	check_fd_refused(
	    "descriptor announced on MSG_CONNECT_FAIL", PROC_TLS, PROC_NET, &r);
	r = (struct raw){ MSG_MX_END, 0, 1, PROC_DNS, FRAME_F_FD, &e,
		sizeof(e) };
	check_fd_refused("descriptor announced on MSG_MX_END from dns",
	    PROC_TLS, PROC_DNS, &r);
	r = (struct raw){ MSG_CONNECT_OK, 0, 1, PROC_DNS, FRAME_F_FD, &res,
		sizeof(res) };
	check_fd_refused("MSG_CONNECT_OK with descriptor from PROC_DNS",
	    PROC_TLS, PROC_DNS, &r);
	r = (struct raw){ MSG_CONNECT_FAIL, 0, 1, PROC_NET, 0, &res,
		sizeof(res) };
	check_fd_refused("descriptor passed unannounced (no FRAME_F_FD) with "
	                 "MSG_CONNECT_FAIL",
	    PROC_TLS, PROC_NET, &r);
}

/*
 * An unannounced descriptor must never be handed out with a later frame
 * that announces one: that would give tls a socket it did not ask for.
 */
static void
check_fd_misattributed(void)
{
	struct msg_connect_res res = { 0 };
	struct raw   fail = { MSG_CONNECT_FAIL, 0, 1, PROC_NET, 0, &res,
		  sizeof(res) };
	struct raw   ok = { MSG_CONNECT_OK, 0, 2, PROC_NET, FRAME_F_FD, &res,
		  sizeof(res) };
	struct chan *c;
	struct frame f;
	int          a[2], b[2], sock, rv1, rv2 = -1, wrong = 0;

	xpipe(a);
	xpipe(b);
	c = chan_open(&sock, PROC_TLS, PROC_NET);
	raw_send(sock, &fail, a[1]);
	raw_send(sock, &ok, b[1]);
	pump(c);
	rv1 = get(c, &f);
	if (rv1 == 1) {
		rv2 = get(c, &f);
		if (rv2 == 1) {
			wrong = !same_file(f.fd, b[1]);
			close(f.fd);
		}
	}
	CHECK(!wrong,
	    "a later MSG_CONNECT_OK never gets an earlier "
	    "unannounced descriptor",
	    "CONNECT_FAIL accepted (%d), then "
	    "CONNECT_OK (%d) got the CONNECT_FAIL's descriptor",
	    rv1, rv2);
	chan_free(c);
	close(sock);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

/* More descriptors in one message than the channel queues. */
static void
check_fd_flood(void)
{
	unsigned char          before[FD_SCAN], after[FD_SCAN];
	struct msg_connect_res res = { 0 };
	struct raw   r = { MSG_CONNECT_OK, 0, 1, PROC_NET, FRAME_F_FD, &res,
		  sizeof(res) };
	uint8_t      buf[64];
	struct chan *c;
	int          p[2], fds[CHAN_FDQ + 2], i, sock, rv, diff, cfd;
	size_t       n;

	xpipe(p);
	for (i = 0; i < CHAN_FDQ + 2; i++)
		fds[i] = p[1];
	c = chan_open(&sock, PROC_TLS, PROC_NET);
	cfd = c->fd;
	fd_snapshot(before);
	n = raw_build(buf, &r);
	raw_sendfds(sock, buf, n, fds, CHAN_FDQ + 2);
	rv = pump(c);
	CHECK(rv == -1 && c->err != NULL,
	    "more than CHAN_FDQ descriptors in one message: chan_read fails",
	    "chan_read %d", rv);
	chan_close(c);
	fd_snapshot(after);
	before[cfd] = 0; /* chan_close closed the channel's socket */
	diff = fd_diff(before, after);
	close(sock);
	close(p[1]);
	CHECK(diff == -1 && pipe_writers_gone(p[0]),
	    "after a descriptor flood chan_close leaves no stray descriptor",
	    "descriptor %d differs", diff);
	free(c);
	close(p[0]);
}

static void
check_fd_close_unsent(void)
{
	struct msg_connect_res res = { 0 };
	struct chan           *c;
	int                    p[2], sock, gone;

	xpipe(p);
	c = chan_open(&sock, PROC_NET, PROC_TLS);
	chan_compose(c, MSG_CONNECT_OK, 1, p[1], &res, sizeof(res));
	chan_close(c);
	gone = fcntl(p[1], F_GETFD) == -1 && errno == EBADF;
	CHECK(gone && pipe_writers_gone(p[0]),
	    "chan_close closes a descriptor queued but never sent",
	    "the descriptor is still open");
	free(c);
	close(sock);
	close(p[0]);
}

/* Many frames queued at once, flushed as the socket allows. */
static void
check_queue(void)
{
	struct chan *s, *r;
	struct frame f;
	uint8_t     *chunk;
	size_t       i, k, got = 0, bad = 0;
	int          partial, rounds, rv;

	chan_open2(&s, PROC_DNS, &r, PROC_TLS);
	chunk = xmalloc(BLOB_LEN);
	for (i = 0; i < QUEUE_FRAMES; i++) {
		memset(chunk, (int)(i & 0xff), BLOB_LEN);
		memcpy(chunk, &i, sizeof(i));
		if (chan_compose(s, MSG_HOST_TLSA, (uint32_t)i, -1, chunk,
		        BLOB_LEN) == -1)
			break;
	}
	CHECK(i == QUEUE_FRAMES &&
	        s->wqlen == QUEUE_FRAMES * (FRAME_HDR_SIZE + BLOB_LEN),
	    "200 frames of BLOB_LEN octets queue without any reader",
	    "queued %zu, wqlen %zu", i, s->wqlen);
	rv = chan_flush(s);
	partial = rv == 0 && chan_pending(s) && s->wqlen > 0 &&
	    s->wqlen < QUEUE_FRAMES * (FRAME_HDR_SIZE + BLOB_LEN);
	CHECK(partial,
	    "a flush into a full socket returns 0 with the rest "
	    "still queued",
	    "flush %d pending %d wqlen %zu", rv, chan_pending(s), s->wqlen);
	for (rounds = 0; got < QUEUE_FRAMES && rounds < 100000; rounds++) {
		if (chan_flush(s) == -1)
			break;
		if (pump(r) == -1)
			break;
		while ((rv = get(r, &f)) == 1) {
			memcpy(&k, f.data, sizeof(k));
			if (f.id != got || k != got || f.len != BLOB_LEN ||
			    f.data[BLOB_LEN - 1] != (uint8_t)(got & 0xff))
				bad++;
			got++;
		}
		if (rv == -1)
			break;
	}
	CHECK(got == QUEUE_FRAMES && bad == 0 && !chan_pending(s) &&
	        s->wqlen == 0,
	    "a large write queue drains completely and in order",
	    "received %zu of %d, %zu out of order or damaged, wqlen %zu", got,
	    QUEUE_FRAMES, bad, s->wqlen);
	free(chunk);
	chan_free(s);
	chan_free(r);
}

/* A stream of frames on one fresh channel; the last get()'s result. */
static int
stream(uint16_t self, uint16_t peer, const struct raw *r, size_t n,
    const char **err)
{
	struct chan *c;
	struct frame f;
	size_t       i;
	int          sock, rv = 0;

	c = chan_open(&sock, self, peer);
	for (i = 0; i < n; i++)
		raw_send(sock, &r[i], -1);
	pump(c);
	for (i = 0; i < n && (rv = chan_get(c, &f)) == 1; i++)
		;
	*err = c->err;
	chan_free(c);
	close(sock);
	return rv;
}

/* msg.c's table: who receives a type, once only, after, never after. */
static void
check_order(void)
{
	struct msg_job     j = valid_job();
	struct msg_dns_end e = { DNS_OK, 0 };
	struct msg_mx_info info;
	struct msg_mx_host mx = valid_mx("mx.example.org");
	struct msg_result  res = { OUT_DELIVERED };
	struct msg_log     l = { LOGL_INFO };
	uint8_t            rbuf[sizeof(res) + 3], lbuf[sizeof(l) + 3];
	const char        *err;
	int                rv;
	struct raw         job[] = {
		        { MSG_JOB_SENDER, 0, 0, PROC_PARENT, 0, "", 1 },
		        { MSG_JOB_RCPT, 0, 0, PROC_PARENT, 0, "a@b.example", 12 },
		        { MSG_JOB_HELO, 0, 0, PROC_PARENT, 0, "", 1 },
		        { MSG_JOB_START, 0, 0, PROC_PARENT, 0, &j, sizeof(j) },
		        { MSG_JOB_SENDER, 0, 0, PROC_PARENT, 0, "", 1 },
	};
	struct raw mxs[] = {
		{ MSG_MX_HOST, 0, 1, PROC_DNS, 0, &mx, sizeof(mx) },
		{ MSG_MX_INFO, 0, 1, PROC_DNS, 0, &info, sizeof(info) },
		{ MSG_MX_END, 0, 1, PROC_DNS, 0, &e, sizeof(e) },
		{ MSG_MX_HOST, 0, 1, PROC_DNS, 0, &mx, sizeof(mx) },
	};
	struct raw end[] = {
		{ MSG_REPORT, 0, 1, PROC_TLS, 0, "{}", 3 },
		{ MSG_DOT_SENT, 0, 0, PROC_TLS, 0, NULL, 0 },
		{ MSG_RESULT, 0, 0, PROC_TLS, 0, rbuf, sizeof(rbuf) },
		{ MSG_LOG, 0, 0, PROC_TLS, 0, lbuf, sizeof(lbuf) },
	};

	memset(&info, 0, sizeof(info));
	memcpy(rbuf, &res, sizeof(res));
	memcpy(rbuf + sizeof(res), "ok", 3);
	memcpy(lbuf, &l, sizeof(l));
	memcpy(lbuf + sizeof(l), "hi", 3);
	rv = stream(PROC_TLS, PROC_PARENT, job, 4, &err);
	CHECK(rv == 1, "the job in its order is accepted", "rv %d, err %s", rv,
	    err ? err : "NULL");
	rv = stream(PROC_TLS, PROC_PARENT, job, 5, &err);
	CHECK(rv == -1 && err && strstr(err, "twice"),
	    "a second JOB_SENDER is refused", "rv %d, err %s", rv,
	    err ? err : "NULL");
	rv = stream(PROC_TLS, PROC_PARENT, job + 3, 1, &err);
	CHECK(rv == -1 && err && strstr(err, "out of order"),
	    "JOB_START before the sender, recipient and EHLO name is refused",
	    "rv %d, err %s", rv, err ? err : "NULL");
	rv = stream(PROC_DNS, PROC_PARENT, job, 1, &err);
	CHECK(rv == -1 && err && strstr(err, "never receives"),
	    "a JOB_ frame that reaches dns is refused by the table",
	    "rv %d, err %s", rv, err ? err : "NULL");
	rv = stream(PROC_TLS, PROC_DNS, mxs, 3, &err);
	CHECK(rv == 1, "MX_HOST, MX_INFO, MX_END in order are accepted",
	    "rv %d, err %s", rv, err ? err : "NULL");
	rv = stream(PROC_TLS, PROC_DNS, mxs, 4, &err);
	CHECK(rv == -1 && err && strstr(err, "out of order"),
	    "an MX_HOST after MX_END is refused", "rv %d, err %s", rv,
	    err ? err : "NULL");
	rv = stream(PROC_TLS, PROC_DNS, mxs + 2, 1, &err);
	CHECK(rv == -1 && err && strstr(err, "out of order"),
	    "MX_END without MX_INFO before it is refused", "rv %d, err %s", rv,
	    err ? err : "NULL");
	rv = stream(PROC_PARENT, PROC_TLS, end, 3, &err);
	CHECK(rv == 1, "REPORT, DOT_SENT, RESULT are accepted", "rv %d, err %s",
	    rv, err ? err : "NULL");
	rv = stream(PROC_PARENT, PROC_TLS, end, 4, &err);
	CHECK(rv == -1 && err && strstr(err, "after the last"),
	    "nothing may follow RESULT", "rv %d, err %s", rv,
	    err ? err : "NULL");
}

/* MSG_BODY: the spool's descriptor, once, and only after the job. */
static void
check_body(void)
{
	struct msg_job  j = valid_job();
	struct msg_body b = valid_body();
	struct raw      job[] = {
		     { MSG_JOB_SENDER, 0, 0, PROC_PARENT, 0, "", 1 },
		     { MSG_JOB_RCPT, 0, 0, PROC_PARENT, 0, "a@b.example", 12 },
		     { MSG_JOB_HELO, 0, 0, PROC_PARENT, 0, "", 1 },
		     { MSG_JOB_START, 0, 0, PROC_PARENT, 0, &j, sizeof(j) },
	};
	struct raw   body = { MSG_BODY, 0, 0, PROC_PARENT, FRAME_F_FD, &b,
		  sizeof(b) };
	struct chan *c;
	struct frame f;
	size_t       i;
	int          p[2], sock, rv = 1;

	xpipe(p);
	c = chan_open(&sock, PROC_TLS, PROC_PARENT);
	for (i = 0; i < 4; i++)
		raw_send(sock, &job[i], -1);
	raw_send(sock, &body, p[0]);
	raw_send(sock, &body, p[1]);
	pump(c);
	for (i = 0; i < 4 && rv == 1; i++)
		rv = chan_get(c, &f);
	rv = rv == 1 ? chan_get(c, &f) : rv;
	CHECK(rv == 1 && f.type == MSG_BODY && f.fd >= 0,
	    "MSG_BODY after the job arrives with its descriptor",
	    "rv %d err %s", rv, c->err ? c->err : "NULL");
	if (rv == 1)
		close(f.fd);
	rv = chan_get(c, &f);
	CHECK(rv == -1 && c->err && strstr(c->err, "twice"),
	    "a second MSG_BODY is refused", "rv %d err %s", rv,
	    c->err ? c->err : "NULL");
	chan_free(c);
	close(sock);

	c = chan_open(&sock, PROC_TLS, PROC_PARENT);
	raw_send(sock, &body, p[0]);
	pump(c);
	rv = chan_get(c, &f);
	CHECK(rv == -1 && c->err && strstr(c->err, "out of order"),
	    "MSG_BODY before JOB_START is refused: no message without a job",
	    "rv %d err %s", rv, c->err ? c->err : "NULL");
	chan_free(c);
	close(sock);
	close(p[0]);
	close(p[1]);

	body.flags = 0;
	check_refused("MSG_BODY without its descriptor refused", PROC_TLS,
	    PROC_PARENT, &body);
	body.flags = FRAME_F_FD;
	b.size = b.wire_size + 1;
	check_fd_refused(
	    "MSG_BODY with size > wire_size", PROC_TLS, PROC_PARENT, &body);
	b = valid_body();
	b.wire_size = 2;
	b.size = 0;
	check_fd_refused("MSG_BODY shorter than the final dot", PROC_TLS,
	    PROC_PARENT, &body);
	b = valid_body();
	b.flags = JOB_VERBOSE;
	check_fd_refused("MSG_BODY with a flag other than JOB_8BIT", PROC_TLS,
	    PROC_PARENT, &body);
	b = valid_body();
	body.sender = PROC_DNS;
	check_fd_refused("MSG_BODY from dns", PROC_TLS, PROC_DNS, &body);
}

static void
check_wait(void)
{
	struct msg_dns_end e = { DNS_OK, 0 };
	struct raw   r = { MSG_MX_END, 0, 77, PROC_DNS, 0, &e, sizeof(e) };
	uint8_t      buf[64];
	struct chan *c;
	struct frame f;
	long long    t0, dt;
	ssize_t      n;
	int          sock, rv;

	c = chan_open(&sock, PROC_TLS, PROC_DNS);
	c->seen = prereq(MSG_MX_END);
	raw_send(sock, &r, -1);
	rv = chan_wait(c, &f, 1000);
	CHECK(rv == 1 && f.id == 77, "chan_wait returns a frame that is there",
	    "chan_wait %d", rv);

	t0 = mono_ms();
	rv = chan_wait(c, &f, 100);
	dt = mono_ms() - t0;
	CHECK(rv == 0 && dt >= 90 && dt < 5000,
	    "chan_wait with nothing to read times out with 0",
	    "chan_wait %d after %lld ms", rv, dt);

	chan_compose(c, MSG_MX_REQ, 3, -1, "example.org", 12);
	chan_wait(c, &f, 50);
	n = read(sock, buf, sizeof(buf));
	CHECK(n == FRAME_HDR_SIZE + 12 &&
	        memcmp(buf + FRAME_HDR_SIZE, "example.org", 12) == 0 &&
	        !chan_pending(c),
	    "chan_wait flushes queued frames while it waits", "read %zd", n);

	close(sock);
	rv = chan_wait(c, &f, 1000);
	CHECK(rv == -1 && c->err != NULL,
	    "chan_wait fails when the peer closes the channel", "chan_wait %d",
	    rv);
	chan_free(c);
}

int
main(void)
{
	check_roundtrip();
	check_order();
	check_body();
	check_compose_limits();
	check_split_and_coalesced();
	check_header();
	check_eof();
	check_payload_sizes();
	check_senders_and_types();
	check_values();
	check_sticky();
	check_fd_pass();
	check_fd_order();
	check_fd_hostile();
	check_fd_misattributed();
	check_fd_flood();
	check_fd_close_unsent();
	check_queue();
	check_wait();
	return check_exit();
}
