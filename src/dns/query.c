/*
 * Queries of the dns process (D3, D5): each with RD, AD and DO set and
 * CD clear, sent over a UDP socket of its own connected to
 * a resolver (a fresh id and socket per try), asked again over TCP when
 * the answer is truncated, and answered only by a reply whose id, QR bit
 * and question match.  run_wave() sends a set of independent queries at
 * once and waits for them together: one resolver round trip.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ldns/ldns.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns.h"
#include "log.h"

static void
query_fail(struct query *q, const char *why)
{
	if (q->fd != -1)
		close(q->fd);
	q->fd = -1;
	q->done = 1;
	q->ans.status = DNS_TEMPFAIL;
	q->ans.why = why;
}

static uint8_t *
put16(uint8_t *p, unsigned v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
	return p + 2;
}

/*
 * Build the query (D3): a fresh id, RD and AD set, CD clear, one
 * question, an OPT record with DO and our buffer size (RFC 6891 §6.1).
 * Written here rather than by ldns_pkt_query_new(), which draws an id
 * from RAND_bytes() only for us to replace it, and so costs dns
 * OpenSSL's random generator (a fifth of a delivery's instructions).
 */
static int
query_wire(struct query *q)
{
	static const uint8_t opt[11] = { 0, 0, 41, EDNS_BUFSIZE >> 8,
		EDNS_BUFSIZE & 0xff, 0, 0, 0x80, 0, 0, 0 };
	ldns_rdf            *dname;
	uint8_t             *p;

	free(q->wire);
	q->wire = NULL;
	if ((dname = ldns_dname_new_frm_str(q->name)) == NULL)
		return -1;
	q->wirelen = 12 + ldns_rdf_size(dname) + 4 + sizeof(opt);
	if ((q->wire = p = malloc(q->wirelen)) == NULL) {
		ldns_rdf_deep_free(dname);
		return -1;
	}
	q->id = arc4random() & 0xffff;
	p = put16(p, q->id);
	p = put16(p, 0x0100 | 0x0020); /* RD, AD */
	p = put16(p, 1);               /* QDCOUNT */
	p = put16(p, 0);               /* ANCOUNT */
	p = put16(p, 0);               /* NSCOUNT */
	p = put16(p, 1);               /* ARCOUNT: the OPT record */
	memcpy(p, ldns_rdf_data(dname), ldns_rdf_size(dname));
	p += ldns_rdf_size(dname);
	p = put16(p, q->type);
	p = put16(p, LDNS_RR_CLASS_IN);
	memcpy(p, opt, sizeof(opt));
	ldns_rdf_deep_free(dname);
	return 0;
}

static int
query_socket(struct dns *d, struct query *q, int type)
{
	int i = q->tries % d->res.n, s;

	s = socket(
	    d->res.addr[i].ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s == -1)
		return -1;
	if (connect(s, (struct sockaddr *)&d->res.addr[i], d->res.len[i]) ==
	        -1 &&
	    errno != EINPROGRESS) {
		close(s);
		return -1;
	}
	return s;
}

/* (Re)send over UDP to the next resolver, with a fresh id. */
static void
query_send(struct dns *d, struct query *q)
{
	if (q->fd != -1)
		close(q->fd);
	q->fd = -1;
	if (q->tries++ == QUERY_TRIES * d->res.n) {
		query_fail(q, "timeout");
		return;
	}
	q->deadline = mono_ms() + d->res.timeout * 1000LL;
	if (query_wire(q) == -1) {
		query_fail(q, "cannot build the query");
		return;
	}
	if ((q->fd = query_socket(d, q, SOCK_DGRAM)) == -1 ||
	    send(q->fd, q->wire, q->wirelen, 0) == -1)
		query_fail(q, "cannot send the query");
}

void
query_start(struct dns *d, struct query *q, const char *name, ldns_rr_type type)
{
	memset(q, 0, sizeof(*q));
	q->fd = -1;
	q->type = type;
	/* absolute: the root stays ".", other names get their final dot */
	if (snprintf(q->name, sizeof(q->name), "%s%s", name,
	        name[0] != '\0' && name[strlen(name) - 1] == '.' ? "" : ".") >=
	    (int)sizeof(q->name)) {
		query_fail(q, "name too long");
		q->ans.status = DNS_BADANSWER;
		return;
	}
	query_send(d, q);
}

void
query_free(struct query *q)
{
	if (q->fd != -1)
		close(q->fd);
	free(q->wire);
	free(q->tcpbuf);
	ldns_pkt_free(q->ans.pkt);
	memset(q, 0, sizeof(*q));
	q->fd = -1;
}

/* The reply answers our question: id, QR, one matching question (D5). */
int
reply_matches(const struct query *q, const ldns_pkt *p)
{
	ldns_rr_list *qs = ldns_pkt_question(p);
	ldns_rdf     *want;
	ldns_rr      *rr;
	int           ok;

	if (ldns_pkt_id(p) != q->id || !ldns_pkt_qr(p) ||
	    ldns_rr_list_rr_count(qs) != 1)
		return 0;
	rr = ldns_rr_list_rr(qs, 0);
	if ((want = ldns_dname_new_frm_str(q->name)) == NULL)
		return 0;
	ok = ldns_rr_get_type(rr) == q->type &&
	    ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
	    ldns_dname_compare(ldns_rr_owner(rr), want) == 0;
	ldns_rdf_deep_free(want);
	return ok;
}

/* p: the parsed reply (taken), NULL if it was not DNS */
static void
query_answer(struct query *q, ldns_pkt *p)
{
	if (p == NULL)
		return; /* not DNS: keep waiting for the real answer */
	if (!reply_matches(q, p)) {
		ldns_pkt_free(p);
		return; /* late or spoofed: ignore it */
	}
	close(q->fd);
	q->fd = -1;
	q->done = 1;
	classify(q, p);
}

static void
tcp_start(struct dns *d, struct query *q)
{
	close(q->fd);
	q->tries--; /* the same try, over TCP */
	if ((q->fd = query_socket(d, q, SOCK_STREAM)) == -1) {
		query_fail(q, "cannot connect over TCP");
		return;
	}
	q->tcp = 1;
	q->deadline = mono_ms() + d->res.timeout * 1000LL;
}

static void
udp_read(struct dns *d, struct query *q)
{
	uint8_t   buf[65536];
	ldns_pkt *p;
	ssize_t   n;

	if ((n = recv(q->fd, buf, sizeof(buf), 0)) <= 0) {
		if (n == -1 && errno == EAGAIN)
			return;
		/* ICMP error (nothing listens there): next try, next resolver */
		query_send(d, q);
		if (q->done)
			q->ans.why = "no answer (ICMP unreachable)";
		return;
	}
	/* truncated: ask again over TCP; RFC 7671 §10.1.1 */
	if ((p = wire_parse(buf, n)) != NULL && reply_matches(q, p) &&
	    ldns_pkt_tc(p)) {
		ldns_pkt_free(p);
		tcp_start(d, q);
		return;
	}
	query_answer(q, p);
}

/* TCP: connect, send length and query, read length and answer. */
static void
tcp_io(struct query *q)
{
	uint8_t msg[2 + 1024]; /* a query: one name, one OPT record */
	ssize_t n;

	if (q->tcp == 1) {
		if (q->wirelen > sizeof(msg) - 2) {
			query_fail(q, "query too large");
			return;
		}
		/* length and query in one segment (RFC 7766 §8) */
		msg[0] = q->wirelen >> 8;
		msg[1] = q->wirelen & 0xff;
		memcpy(msg + 2, q->wire, q->wirelen);
		if (send(q->fd, msg, 2 + q->wirelen, 0) !=
		    (ssize_t)(2 + q->wirelen)) {
			query_fail(q, "TCP send failed");
			return;
		}
		q->tcp = 2;
		return;
	}
	if (q->tcpbuf == NULL) {
		n = recv(q->fd, q->lenbuf + q->tcpgot, 2 - q->tcpgot, 0);
		if (n <= 0)
			goto closed;
		if ((q->tcpgot += n) < 2)
			return;
		q->tcpneed = (q->lenbuf[0] << 8) | q->lenbuf[1];
		q->tcpgot = 0;
		if (q->tcpneed == 0 || (q->tcpbuf = malloc(q->tcpneed)) == NULL)
			goto closed;
	}
	n = recv(q->fd, q->tcpbuf + q->tcpgot, q->tcpneed - q->tcpgot, 0);
	if (n <= 0)
		goto closed;
	if ((q->tcpgot += n) == q->tcpneed) {
		query_answer(q, wire_parse(q->tcpbuf, q->tcpneed));
		if (!q->done)
			query_fail(q, "TCP answer does not match the query");
	}
	return;
closed:
	if (n == -1 && errno == EAGAIN)
		return;
	query_fail(q, "TCP connection closed");
}

/*
 * Run queries until all are answered or `enough' says the rest no longer
 * matter (their answers would be ignored: B1, T1).  One wave: one
 * resolver round trip.
 */
void
run_wave(struct dns *d, struct query *q, size_t n, wave_enough enough)
{
	struct pollfd pfd[WAVE_MAX];
	size_t        i, k, map[WAVE_MAX];
	long long     now, wait;

	d->waves++;
	for (;;) {
		if (enough != NULL && enough(q, n))
			break;
		now = mono_ms();
		wait = 60000;
		for (i = k = 0; i < n; i++) {
			if (q[i].done)
				continue;
			if (q[i].deadline <= now) {
				if (q[i].tcp)
					query_fail(&q[i], "timeout over TCP");
				else
					query_send(d, &q[i]);
				if (q[i].done)
					continue;
			}
			if (q[i].deadline - now < wait)
				wait = q[i].deadline - now;
			pfd[k].fd = q[i].fd;
			pfd[k].events = q[i].tcp == 1 ? POLLOUT : POLLIN;
			pfd[k].revents = 0;
			map[k++] = i;
		}
		if (k == 0)
			break;
		chan_flush_lazy(); /* the log lines before the wait */
		if (poll(pfd, k, wait < 0 ? 0 : wait) == -1 && errno != EINTR)
			fatal("poll");
		for (i = 0; i < k; i++) {
			struct query *qq = &q[map[i]];

			if (pfd[i].revents == 0)
				continue;
			if (qq->tcp)
				tcp_io(qq);
			else
				udp_read(d, qq);
		}
	}
	for (i = 0; i < n; i++) {
		if (q[i].done)
			continue;
		query_fail(&q[i], "abandoned: not needed");
		q[i].abandoned = 1;
	}
}
