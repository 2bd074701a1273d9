/*
 * libFuzzer twin of the framing decoder (src/common/frame.c, msg.c).
 * Input: octet 0 picks the channel (which process receives from which),
 * octet 1 how many chunk octets follow; each chunk octet sets the size
 * of one write (low 7 bits, 0 = 4096) and whether a descriptor rides
 * with it (high bit).  The rest is the byte stream the peer sends.
 *
 * Every frame chan_get() returns is checked against the protocol as
 * msg.h states it, written out again here: allowed sender and receiver,
 * its place in the channel's stream (once, after, never after), exact size,
 * strings NUL-terminated exactly at their end, enum ranges, descriptor
 * present only where it belongs.  No descriptor may leak.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The receiving side and its one peer, for every channel in msg.h. */
static const struct {
	uint16_t self, peer;
} chans[] = {
	{ PROC_PARENT, PROC_DNS },
	{ PROC_PARENT, PROC_NET },
	{ PROC_PARENT, PROC_TLS },
	{ PROC_TLS, PROC_PARENT },
	{ PROC_TLS, PROC_DNS },
	{ PROC_TLS, PROC_NET },
	{ PROC_DNS, PROC_TLS },
	{ PROC_NET, PROC_TLS },
	{ PROC_PARENT, PROC_SSH },
	{ PROC_NET, PROC_SSH },
	{ PROC_SSH, PROC_NET },
};

enum { T_NONE, T_STR, T_BLOB };

#define S(p)  (1U << (p))
#define CHILD (S(PROC_DNS) | S(PROC_NET) | S(PROC_TLS) | S(PROC_SSH))

/*
 * msg.h read independently of msg.c: senders, receivers, fd, fixed,
 * tail, max, and the order: once only, last, types that must have come
 * before, types that must not have come yet.
 */
#define B(t) ((uint64_t)1 << (t))
#define JOB  (B(MSG_JOB_SENDER) | B(MSG_JOB_RCPT) | B(MSG_JOB_HELO))
static const struct {
	unsigned senders, receivers;
	int      fd;
	size_t   fixed;
	int      tail;
	size_t   tailmax;
	int      once, last;
	uint64_t after, not_after;
} spec[MSG_TYPE_COUNT] = {
	[MSG_JOB_SENDER] = { S(PROC_PARENT), S(PROC_TLS), 0, 0, T_STR, 257, 1,
	    0, 0, B(MSG_JOB_START) },
	[MSG_JOB_RCPT] = { S(PROC_PARENT), S(PROC_TLS), 0, 0, T_STR, 257, 1, 0,
	    0, B(MSG_JOB_START) },
	[MSG_JOB_HELO] = { S(PROC_PARENT), S(PROC_TLS), 0, 0, T_STR,
	    NAME_MAX_LEN + 1, 1, 0, 0, B(MSG_JOB_START) },
	[MSG_JOB_START] = { S(PROC_PARENT), S(PROC_TLS), 0,
	    sizeof(struct msg_job), T_NONE, 0, 1, 0, JOB, 0 },
	[MSG_BODY] = { S(PROC_PARENT), S(PROC_TLS), 1, sizeof(struct msg_body),
	    T_NONE, 0, 1, 0, B(MSG_JOB_START), 0 },
	[MSG_MX_REQ] = { S(PROC_TLS), S(PROC_DNS), 0, 0, T_STR,
	    NAME_MAX_LEN + 1, 1, 0, 0, 0 },
	[MSG_HOST_REQ] = { S(PROC_TLS), S(PROC_DNS), 0, 0, T_STR,
	    NAME_MAX_LEN + 1, 0, 0, B(MSG_MX_REQ), 0 },
	[MSG_MX_HOST] = { S(PROC_DNS), S(PROC_TLS), 0,
	    sizeof(struct msg_mx_host), T_NONE, 0, 0, 0, 0, B(MSG_MX_END) },
	[MSG_MX_END] = { S(PROC_DNS), S(PROC_TLS), 0,
	    sizeof(struct msg_dns_end), T_NONE, 0, 1, 0, B(MSG_MX_INFO), 0 },
	[MSG_HOST_ADDR] = { S(PROC_DNS), S(PROC_TLS), 0,
	    sizeof(struct msg_host_addr), T_NONE, 0, 0, 0, B(MSG_MX_END), 0 },
	[MSG_HOST_END] = { S(PROC_DNS), S(PROC_TLS), 0,
	    sizeof(struct msg_dns_end), T_NONE, 0, 0, 0, B(MSG_MX_END), 0 },
	[MSG_MX_INFO] = { S(PROC_DNS), S(PROC_TLS), 0,
	    sizeof(struct msg_mx_info), T_NONE, 0, 1, 0, 0, B(MSG_MX_END) },
	[MSG_HOST_TLSA] = { S(PROC_DNS), S(PROC_TLS), 0,
	    sizeof(struct msg_tlsa), T_BLOB, TLSA_DATA_MAX, 0, 0, B(MSG_MX_END),
	    0 },
	[MSG_HOST_POLICY] = { S(PROC_DNS), S(PROC_TLS), 0,
	    sizeof(struct msg_host_policy), T_NONE, 0, 0, 0, B(MSG_MX_END), 0 },
	[MSG_CONNECT_REQ] = { S(PROC_TLS), S(PROC_NET), 0,
	    sizeof(struct msg_connect_req), T_NONE, 0, 0, 0, 0, 0 },
	[MSG_CONNECT_OK] = { S(PROC_NET), S(PROC_TLS), 1,
	    sizeof(struct msg_connect_res), T_NONE, 0, 0, 0, 0, 0 },
	[MSG_CONNECT_FAIL] = { S(PROC_NET), S(PROC_TLS), 0,
	    sizeof(struct msg_connect_res), T_STR, 4096, 0, 0, 0, 0 },
	[MSG_SSH_REQ] = { S(PROC_NET), S(PROC_SSH), 0,
	    sizeof(struct msg_connect_req), T_NONE, 0, 0, 0, 0, 0 },
	[MSG_SSH_OK] = { S(PROC_SSH), S(PROC_NET), 1,
	    sizeof(struct msg_connect_res), T_NONE, 0, 0, 0, 0, 0 },
	[MSG_SSH_FAIL] = { S(PROC_SSH), S(PROC_NET), 0,
	    sizeof(struct msg_connect_res), T_STR, 4096, 0, 0, 0, 0 },
	[MSG_LOG] = { CHILD, S(PROC_PARENT), 0, sizeof(struct msg_log), T_STR,
	    4096, 0, 0, 0, 0 },
	[MSG_SANDBOX_DEATH] = { CHILD, S(PROC_PARENT), 0,
	    sizeof(struct msg_sandbox_death), T_NONE, 0, 1, 0, 0, 0 },
	[MSG_DOT_SENT] = { S(PROC_TLS), S(PROC_PARENT), 0, 0, T_NONE, 0, 1, 0,
	    0, B(MSG_RESULT) },
	[MSG_RESULT] = { S(PROC_TLS), S(PROC_PARENT), 0,
	    sizeof(struct msg_result), T_STR, 4096, 1, 1, 0, 0 },
	[MSG_REPORT] = { S(PROC_TLS), S(PROC_PARENT), 0, 0, T_STR, PAYLOAD_MAX,
	    1, 0, 0, B(MSG_RESULT) },
	[MSG_MX_STS] = { S(PROC_DNS), S(PROC_TLS), 0, sizeof(struct msg_mx_sts),
	    T_NONE, 0, 1, 0, 0, B(MSG_MX_END) },
	[MSG_ADDR_REQ] = { S(PROC_TLS), S(PROC_DNS), 0, 0, T_STR,
	    NAME_MAX_LEN + 1, 0, 0, B(MSG_MX_REQ), 0 },
	[MSG_STS_CACHED] = { S(PROC_PARENT), S(PROC_TLS), 0,
	    sizeof(struct msg_sts), T_BLOB, STS_TEXT_MAX, 1, 0, 0,
	    B(MSG_JOB_START) },
	[MSG_STS_STORE] = { S(PROC_TLS), S(PROC_PARENT), 0,
	    sizeof(struct msg_sts), T_BLOB, STS_TEXT_MAX, 0, 0, 0,
	    B(MSG_RESULT) },
	[MSG_TLSRPT] = { S(PROC_TLS), S(PROC_PARENT), 0, 0, T_STR, PAYLOAD_MAX,
	    0, 0, 0, B(MSG_RESULT) },
};

static int devnull = -1;

static void
need(int ok)
{
	if (!ok)
		abort();
}

static void
check_cstr(const char *s, size_t size)
{
	need(memchr(s, '\0', size) != NULL);
}

static void
check_values(const struct frame *f)
{
	union {
		struct msg_job         job;
		struct msg_body        body;
		struct msg_mx_host     mx;
		struct msg_host_addr   addr;
		struct msg_dns_end     end;
		struct msg_mx_info     info;
		struct msg_host_policy pol;
		struct msg_connect_req conn;
		struct msg_connect_res cres;
		struct msg_log         log;
		struct msg_result      res;
		struct msg_mx_sts      sts;
		struct msg_sts         cache;
	} u;
	size_t i;

	memcpy(&u, f->data,
	    spec[f->type].fixed < sizeof(u) ? spec[f->type].fixed : sizeof(u));
	switch (f->type) {
	case MSG_JOB_START:
		for (i = 0; i < TO_COUNT; i++)
			need(u.job.timeout[i] != 0);
		need(u.job.sts_timeout != 0 && u.job.sts_timeout <= 3600);
		need(!(u.job.flags & ~0x1fbU)); /* JOB_8BIT is MSG_BODY's */
		break;
	case MSG_BODY:
		need(u.body.size <= u.body.wire_size && u.body.wire_size >= 3);
		need(!(u.body.flags & ~JOB_8BIT));
		break;
	case MSG_MX_HOST:
		need(u.mx.name[0] != '\0');
		check_cstr(u.mx.name, sizeof(u.mx.name));
		need(!(u.mx.flags & ~(MX_SECURE | MX_IMPLICIT)));
		break;
	case MSG_HOST_ADDR:
		need(u.addr.family == 4 || u.addr.family == 6);
		need(!(u.addr.flags & ~ADDR_SECURE));
		break;
	case MSG_MX_END:
	case MSG_HOST_END:
		need(u.end.status < DNS_STATUS_COUNT);
		break;
	case MSG_MX_INFO:
		check_cstr(u.info.expanded, sizeof(u.info.expanded));
		need(!(u.info.flags & ~(MXI_SECURE | MXI_VALIDATING)));
		break;
	case MSG_HOST_POLICY:
		need(u.pol.policy < POLICY_COUNT);
		need(!(u.pol.flags & ~(HP_ADDR_SECURE | HP_CNAME)));
		check_cstr(u.pol.base, sizeof(u.pol.base));
		check_cstr(u.pol.expanded, sizeof(u.pol.expanded));
		check_cstr(u.pol.reason, sizeof(u.pol.reason));
		/* DANE: some usable record; TLS-only: none; else no records */
		if (u.pol.policy <= POLICY_TLS)
			need(u.pol.base[0] != '\0');
		if (u.pol.policy == POLICY_DANE)
			need(u.pol.nusable > 0);
		else if (u.pol.policy == POLICY_TLS)
			need(u.pol.nusable == 0);
		else
			need(u.pol.ntlsa == 0 && u.pol.nusable == 0);
		break;
	case MSG_CONNECT_REQ:
	case MSG_SSH_REQ:
		need(u.conn.family == 4 || u.conn.family == 6);
		need(u.conn.port == 25 || u.conn.port == 443);
		need(u.conn.timeout != 0);
		need(u.conn.timeout <= 3600 && u.conn.greeting <= 3600);
		break;
	case MSG_CONNECT_OK:
	case MSG_SSH_OK:
		need(u.cres.error == 0 && u.cres.flags == 0);
		need(u.cres.family == 0 || u.cres.family == 4 ||
		    u.cres.family == 6);
		break;
	case MSG_CONNECT_FAIL:
	case MSG_SSH_FAIL:
		need(u.cres.error >= 0 && !(u.cres.flags & ~CONN_PROXY_DOWN));
		need(u.cres.error != 0 || f->len > sizeof(u.cres) + 1);
		break;
	case MSG_LOG:
		need(u.log.level < LOGL_COUNT);
		break;
	case MSG_RESULT:
		need(u.res.outcome < OUT_COUNT);
		break;
	case MSG_MX_STS:
		need(u.sts.sts < TXT_COUNT && u.sts.rpt < TXT_COUNT);
		check_cstr(u.sts.id, sizeof(u.sts.id));
		check_cstr(u.sts.rpt_txt, sizeof(u.sts.rpt_txt));
		check_cstr(u.sts.why, sizeof(u.sts.why));
		need((u.sts.sts == TXT_FOUND) == (u.sts.id[0] != '\0'));
		for (i = 0; u.sts.id[i] != '\0'; i++)
			need(isalnum((unsigned char)u.sts.id[i]));
		break;
	case MSG_STS_CACHED:
	case MSG_STS_STORE:
		check_cstr(u.cache.id, sizeof(u.cache.id));
		check_cstr(u.cache.domain, sizeof(u.cache.domain));
		need(u.cache.domain[0] != '\0');
		need(u.cache.fetched >= 0 && u.cache.failed >= 0);
		need(u.cache.expires >= u.cache.fetched);
		need(u.cache.fetched != 0 || u.cache.failed != 0);
		/* a policy has its text and id; a failure record neither */
		need((f->len > sizeof(u.cache)) == (u.cache.fetched != 0));
		need((u.cache.id[0] != '\0') == (u.cache.fetched != 0));
		break;
	}
}

/* What the oracle saw on this channel so far, for the order rules. */
static uint64_t seen;
static int      ended;

static void
check_order(uint32_t type)
{
	need(!ended);
	need(!spec[type].once || !(seen & B(type)));
	need((seen & spec[type].after) == spec[type].after);
	need(!(seen & spec[type].not_after));
	seen |= B(type);
	ended = spec[type].last;
}

static void
check_frame(struct frame *f, uint16_t self, uint16_t peer)
{
	size_t tail;

	need(f->type > MSG_NONE && f->type < MSG_TYPE_COUNT);
	need(spec[f->type].senders != 0);
	need(f->sender == peer && (spec[f->type].senders & S(peer)));
	need(spec[f->type].receivers & S(self));
	check_order(f->type);
	need(f->len <= PAYLOAD_MAX && f->len >= spec[f->type].fixed);
	need(!(f->flags & ~FRAME_F_FD));
	need(spec[f->type].fd == !!(f->flags & FRAME_F_FD));
	need(spec[f->type].fd == (f->fd != -1));
	if (f->fd != -1) {
		need(fcntl(f->fd, F_GETFD) != -1);
		close(f->fd);
		f->fd = -1;
	}
	tail = f->len - spec[f->type].fixed;
	switch (spec[f->type].tail) {
	case T_NONE:
		need(tail == 0);
		break;
	case T_BLOB:
		need(tail <= spec[f->type].tailmax);
		break;
	case T_STR:
		need(tail >= 1 && tail <= spec[f->type].tailmax);
		need(memchr(f->data + spec[f->type].fixed, '\0', tail) ==
		    f->data + f->len - 1);
		break;
	}
	check_values(f);
}

/* Read all there is; take every complete frame.  -1: channel failed. */
static int
drain(struct chan *c)
{
	struct frame f;
	uint64_t     before;
	int          r, g;

	do {
		before = c->rstart + c->rlen;
		if ((r = chan_read(c)) == -1)
			return -1;
		while ((g = chan_get(c, &f)) == 1)
			check_frame(&f, c->self, c->peer);
		if (g == -1) {
			need(c->err != NULL);
			return -1;
		}
	} while (r == 1 && c->rstart + c->rlen != before);
	return r == 0 ? -1 : 0;
}

/* One write from the peer, with a descriptor when fd is set. */
static void
send_chunk(int s, const uint8_t *p, size_t len, int withfd)
{
	union {
		struct cmsghdr hdr;
		char           buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct msghdr   msg;
	struct iovec    iov;
	struct cmsghdr *cm;
	int             fd = -1;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)p;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (withfd && (fd = dup(devnull)) != -1) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	(void)sendmsg(s, &msg, MSG_NOSIGNAL);
	if (fd != -1)
		close(fd);
}

static int
lowest_free_fd(void)
{
	int fd = dup(devnull);

	need(fd != -1);
	close(fd);
	return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct chan c; /* 32 KiB: not on the stack */
	const uint8_t     *sizes, *p, *end;
	size_t             nsizes, i, len;
	int                sv[2], base, dead = 0;

	if (size < 2)
		return 0;
	if (devnull == -1 && (devnull = open("/dev/null", O_RDWR)) == -1)
		abort();
	base = lowest_free_fd();
	i = data[0] % (sizeof(chans) / sizeof(chans[0]));
	nsizes = data[1] % 8;
	if (size < 2 + nsizes)
		return 0;
	sizes = data + 2;
	p = sizes + nsizes;
	end = data + size;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		abort();
	chan_init(&c, sv[0], chans[i].self, chans[i].peer, "fuzz");
	seen = 0;
	ended = 0;
	for (i = 0; p < end && !dead; i++) {
		uint8_t z = i < nsizes ? sizes[i] : 0;

		len = (z & 0x7f) ? (size_t)(z & 0x7f) : 4096;
		if (len > (size_t)(end - p))
			len = end - p;
		send_chunk(sv[1], p, len, z & 0x80);
		p += len;
		dead = drain(&c) == -1;
	}
	if (!dead) {
		/* the peer hangs up: what is buffered is still taken */
		shutdown(sv[1], SHUT_WR);
		(void)drain(&c);
	}
	chan_close(&c);
	close(sv[1]);
	need(lowest_free_fd() == base); /* no descriptor kept */
	return 0;
}
