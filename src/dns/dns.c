/*
 * The dns process: the only one that talks to the resolver.  It decides
 * where mail may go and which security applies (RFC 7672 §2):
 *
 *   MX_REQ    the MX hosts of the recipient domain, in the order to try,
 *             and whether the MX RRset validated (M1-M10);
 *   HOST_REQ  the addresses of one host, its TLSA records and the policy
 *             that follows from them: DANE required, TLS required,
 *             opportunistic or unreachable (T1-T7, B1-B3).
 *
 * Queries leave in waves (all that do not depend on each other at once)
 * over its own sockets; ldns builds and parses the packets.  Each answer
 * is secure (AD), insecure, a definite non-existence, or a lookup error
 * (D2); a lookup error is never read as "no records".
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ldns/ldns.h>

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "log.h"
#include "proc.h"
#include "tlsa.h"

#define MX_HOSTS_MAX 32   /* more than any real domain publishes */
#define EDNS_BUFSIZE 1232 /* DNS flag day 2020 */
#define QUERY_TRIES  2    /* per query, over the resolvers in turn */
#define NS_MAX       RESOLVERS_MAX
#define CNAME_MAX    8 /* links followed in one answer */
#define WAVE_MAX     4 /* queries in one wave */

struct answer {
	enum dns_status status; /* OK, NODATA, NXDOMAIN or a lookup error */
	int             secure; /* AD: the whole answer validated */
	int             cname;  /* the name is a CNAME (chain followed) */
	char            final[NAME_MAX_LEN + 2]; /* end of the chain */
	const char     *why;                     /* for lookup errors */
	ldns_pkt       *pkt;
};

struct query {
	char name[NAME_MAX_LEN + 2]; /* absolute: search lists never apply */
	ldns_rr_type  type;
	int           fd;
	int           tcp; /* 0 UDP, 1 connecting, 2 reading */
	uint16_t      id;
	int           tries;
	long long     deadline;
	uint8_t      *wire;
	size_t        wirelen;
	uint8_t       lenbuf[2];
	uint8_t      *tcpbuf;
	size_t        tcpneed, tcpgot;
	int           done;
	int           abandoned; /* given up by run_wave(): no answer */
	struct answer ans;
};

struct resolver {
	struct sockaddr_storage addr[NS_MAX];
	socklen_t               len[NS_MAX];
	int                     n;
	int                     timeout; /* seconds per try */
};

struct dns {
	struct chan     parent, tls;
	struct resolver res;
	const char     *probe;  /* DNSSEC probe name (D6), NULL: none */
	int             probed; /* the probe has run */
	int             validating;
	int             mx_secure; /* of the last MX answer (M6, T1) */
	int             waves;     /* resolver round trips so far */
};

typedef int (*wave_enough)(struct query *, size_t);

/* --- the resolvers (chosen by the parent) --- */

/*
 * Before the sandbox: the resolvers come from the parent (which read
 * resolv.conf and warned about any off this host); libcrypto loads what
 * parsing Full(0) TLSA data needs.
 */
static void
dns_init(struct dns *d, const struct child_cfg *cfg)
{
	memcpy(d->res.addr, cfg->resolvers.addr, sizeof(d->res.addr));
	memcpy(d->res.len, cfg->resolvers.len, sizeof(d->res.len));
	d->res.n = cfg->resolvers.n;
	if (d->res.n < 1 || d->res.n > NS_MAX)
		fatalx("no resolver to ask");
	d->res.timeout = cfg->dns_timeout;
	d->probe = cfg->dnssec_probe[0] != '\0' ? cfg->dnssec_probe : NULL;
	d->validating = d->probe == NULL; /* no probe: as the user says */
	/* ldns takes a query id from RAND_bytes() in ldns_pkt_query_new() */
	(void)ldns_get_random();
	tlsa_init();
}

/* --- one query over UDP, then TCP when truncated (D5) --- */

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

/* Build the query: RD, AD and DO set, CD clear, EDNS0 (D3). */
static int
query_wire(struct query *q)
{
	ldns_pkt *p;
	ldns_rdf *dname;
	int       rv = -1;

	free(q->wire);
	q->wire = NULL;
	if ((dname = ldns_dname_new_frm_str(q->name)) == NULL)
		return -1;
	p = ldns_pkt_query_new(dname, q->type, LDNS_RR_CLASS_IN, LDNS_RD);
	if (p == NULL)
		return -1;
	q->id = arc4random() & 0xffff;
	ldns_pkt_set_id(p, q->id);
	ldns_pkt_set_ad(p, true);
	ldns_pkt_set_cd(p, false);
	ldns_pkt_set_edns_udp_size(p, EDNS_BUFSIZE);
	ldns_pkt_set_edns_do(p, true);
	if (ldns_pkt2wire(&q->wire, p, &q->wirelen) == LDNS_STATUS_OK)
		rv = 0;
	ldns_pkt_free(p);
	return rv;
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

static void
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

static void
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
static int
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

/* Follow the CNAME chain that starts at the question name (D4). */
static ldns_rdf *
chain_end(const ldns_pkt *p, ldns_rdf *name, int *cname)
{
	ldns_rr_list *an = ldns_pkt_answer(p);
	size_t        i, hops;

	*cname = 0;
	for (hops = 0; hops < CNAME_MAX; hops++) {
		for (i = 0; i < ldns_rr_list_rr_count(an); i++) {
			ldns_rr *rr = ldns_rr_list_rr(an, i);

			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
			    ldns_rr_rd_count(rr) == 1 &&
			    ldns_dname_compare(ldns_rr_owner(rr), name) == 0)
				break;
		}
		if (i == ldns_rr_list_rr_count(an))
			return name;
		name = ldns_rr_rdf(ldns_rr_list_rr(an, i), 0);
		*cname = 1;
	}
	return NULL; /* a loop, or longer than any sane chain */
}

/* Records of the query's type owned by the end of the chain. */
static size_t
count_final(const ldns_pkt *p, const ldns_rdf *final, ldns_rr_type type)
{
	ldns_rr_list *an = ldns_pkt_answer(p);
	size_t        i, n = 0;

	for (i = 0; i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);

		n += ldns_rr_get_type(rr) == type &&
		    ldns_dname_compare(ldns_rr_owner(rr), final) == 0;
	}
	return n;
}

static void
set_final(struct answer *a, const ldns_rdf *final)
{
	char *s = ldns_rdf2str(final);

	snprintf(a->final, sizeof(a->final), "%s", s ? s : "");
	free(s);
}

/* The four outcomes of RFC 7672 §2.1.1 (D2). */
static void
classify(struct query *q, ldns_pkt *p)
{
	struct answer *a = &q->ans;
	ldns_rdf      *qname, *final;

	a->pkt = p;
	a->secure = ldns_pkt_ad(p);
	switch (ldns_pkt_get_rcode(p)) {
	case LDNS_RCODE_NOERROR:
	case LDNS_RCODE_NXDOMAIN:
		break;
	case LDNS_RCODE_SERVFAIL:
		a->status = DNS_TEMPFAIL;
		a->why = "SERVFAIL (bogus or unreachable zone)";
		return;
	default:
		a->status = DNS_TEMPFAIL;
		a->why = "the resolver refused or failed the query";
		return;
	}
	qname = ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(p), 0));
	/* a CNAME query asks for the first link itself: no chain to follow */
	if (q->type == LDNS_RR_TYPE_CNAME)
		final = qname;
	else if ((final = chain_end(p, qname, &a->cname)) == NULL) {
		a->status = DNS_BADANSWER;
		a->why = "CNAME loop or chain too long";
		return;
	}
	set_final(a, final);
	if (ldns_pkt_get_rcode(p) == LDNS_RCODE_NXDOMAIN)
		a->status = DNS_NXDOMAIN;
	else
		a->status =
		    count_final(p, final, q->type) > 0 ? DNS_OK : DNS_NODATA;
}

static void
query_answer(struct query *q, const uint8_t *buf, size_t len)
{
	ldns_pkt *p = NULL;

	if (ldns_wire2pkt(&p, buf, len) != LDNS_STATUS_OK)
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
	ldns_pkt *p = NULL;
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
	if (ldns_wire2pkt(&p, buf, n) == LDNS_STATUS_OK &&
	    reply_matches(q, p) && ldns_pkt_tc(p)) {
		ldns_pkt_free(p);
		tcp_start(d, q);
		return;
	}
	ldns_pkt_free(p);
	query_answer(q, buf, n);
}

/* TCP: connect, send length and query, read length and answer. */
static void
tcp_io(struct query *q)
{
	uint8_t pfx[2] = { q->wirelen >> 8, q->wirelen & 0xff };
	ssize_t n;

	if (q->tcp == 1) {
		if (send(q->fd, pfx, 2, MSG_MORE) != 2 ||
		    send(q->fd, q->wire, q->wirelen, 0) !=
		        (ssize_t)q->wirelen) {
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
		query_answer(q, q->tcpbuf, q->tcpneed);
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
static void
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

/* --- answers to tls --- */

static void
send_frame(struct dns *d, uint32_t type, uint32_t id, const void *p, size_t len)
{
	if (chan_compose(&d->tls, type, id, -1, p, len) == -1)
		fatalx("tls channel: %s", d->tls.err);
}

static void
send_end(struct dns *d, uint32_t type, uint32_t id, enum dns_status st,
    uint32_t count)
{
	struct msg_dns_end e;

	e.status = st;
	e.count = count;
	send_frame(d, type, id, &e, sizeof(e));
}

/* Text of a domain name without the final dot; 0 if unusable. */
static int
dname_text(const ldns_rdf *rdf, char *buf, size_t len)
{
	char  *s = ldns_rdf2str(rdf);
	size_t n;

	if (s == NULL)
		return 0;
	n = strlen(s);
	if (n > 1 && s[n - 1] == '.')
		s[--n] = '\0';
	if (n == 0 || n >= len) {
		free(s);
		return 0;
	}
	memcpy(buf, s, n + 1);
	free(s);
	return 1;
}

/* A name from an answer without its final dot, into a message field. */
static void
copy_name(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n > 1 && src[n - 1] == '.')
		n--;
	if (n >= size)
		n = 0; /* cannot happen for names ldns parsed */
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * An MX target must be a host name (RFC 7672 §2.2, RFC 5321 §5.1, M7):
 * LDH labels, and not an IP address written as a name.
 */
static int
valid_target(const char *name)
{
	struct in6_addr a6;
	struct in_addr  a4;
	const char     *p;

	if (inet_pton(AF_INET, name, &a4) == 1 ||
	    inet_pton(AF_INET6, name, &a6) == 1)
		return 0;
	for (p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			return 0;
	return 1;
}

/*
 * Shuffle, then keep the MX_HOSTS_MAX best by preference, sorted: hosts
 * of equal preference stay in their random order (M4).  No qsort():
 * glibc's asks sysinfo() for the memory size, which dns may not call.
 * Returns how many are kept at the front of h.
 */
static size_t
order_mx(struct msg_mx_host *h, size_t n)
{
	struct msg_mx_host t;
	size_t             i, j, kept = 0;

	for (i = n; i > 1; i--) {
		j = arc4random_uniform(i);
		t = h[i - 1];
		h[i - 1] = h[j];
		h[j] = t;
	}
	for (i = 0; i < n; i++) {
		if (kept == MX_HOSTS_MAX && h[i].pref >= h[kept - 1].pref)
			continue;
		t = h[i];
		j = kept < MX_HOSTS_MAX ? kept++ : kept - 1;
		for (; j > 0 && h[j - 1].pref > t.pref; j--)
			h[j] = h[j - 1];
		h[j] = t;
	}
	return kept;
}

/* Room for one more host in a list that grows as needed. */
static struct msg_mx_host *
mx_slot(struct msg_mx_host **h, size_t n)
{
	struct msg_mx_host *t;

	if ((n & (n - 1)) == 0) { /* 0, 1, 2, 4, ...: double */
		if ((t = reallocarray(*h, n ? 2 * n : 1, sizeof(*t))) == NULL)
			fatal("reallocarray");
		*h = t;
	}
	memset(&(*h)[n], 0, sizeof((*h)[n]));
	return &(*h)[n];
}

/*
 * The MX records at the end of the chain (all of them: which ones are
 * tried is decided after ordering by preference, M4); DNS_NULLMX for
 * "." (M3).  *hp is malloc'd.
 */
static enum dns_status
collect_mx(const struct answer *a, struct msg_mx_host **hp, size_t *np)
{
	ldns_rr_list       *an = ldns_pkt_answer(a->pkt);
	ldns_rdf           *final = ldns_dname_new_frm_str(a->final);
	struct msg_mx_host *h;
	size_t              i, n = 0, seen = 0;
	char                name[NAME_MAX_LEN + 1];

	for (i = 0; final && i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr  *rr = ldns_rr_list_rr(an, i);
		ldns_rdf *target = ldns_rr_rdf(rr, 1);

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_MX ||
		    ldns_dname_compare(ldns_rr_owner(rr), final) != 0)
			continue;
		seen++;
		/* hostile input: an MX without its two fields is unusable */
		if (ldns_rr_rd_count(rr) != 2 || target == NULL)
			continue;
		if (ldns_dname_label_count(target) == 0) {
			ldns_rdf_deep_free(final);
			return DNS_NULLMX; /* RFC 7505, as Postfix: any "." */
		}
		if (!dname_text(target, name, sizeof(name)) ||
		    !valid_target(name)) {
			log_info("skipping MX %s: not a host name",
			    dname_text(target, name, sizeof(name)) ? name
			                                           : "?");
			continue;
		}
		h = mx_slot(hp, n++);
		h->pref = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		h->flags = a->secure ? MX_SECURE : 0;
		/* the name only: no stack bytes beyond its NUL cross the channel */
		memcpy(h->name, name, strlen(name) + 1);
	}
	ldns_rdf_deep_free(final);
	*np = n;
	if (seen == 0)
		return DNS_NODATA;
	return n > 0 ? DNS_OK : DNS_BADANSWER; /* M9: none usable */
}

static int
probe_validated(const struct query *q)
{
	return q->ans.status == DNS_OK && q->ans.secure;
}

/*
 * D6: warn when the resolver seems not to validate.  The probe only
 * warns: the AD bits alone decide (a resolver that does not validate
 * never sets them), so a blocked probe cannot lower any security.
 */
static void
note_probe(struct dns *d, const struct query *q)
{
	d->probed = 1;
	d->validating = probe_validated(q);
	if (!d->validating)
		log_info(
		    "warning: DNSSEC validation may be unavailable: the probe for %s NS did not validate (%s); DANE cannot apply",
		    d->probe,
		    q->ans.status == DNS_OK ? "no AD bit"
		        : q->ans.why        ? q->ans.why
		                            : "no answer");
}

static void
handle_mx(struct dns *d, const struct frame *f)
{
	struct msg_mx_host *hosts = NULL;
	const char         *domain = frame_str(f, 0);
	struct query        q[2];
	struct msg_mx_info  info;
	enum dns_status     st;
	size_t              i, n = 0, nq = 1;

	/* the probe rides with the MX query: no extra round trip */
	query_start(d, &q[0], domain, LDNS_RR_TYPE_MX);
	if (d->probe != NULL && !d->probed) {
		query_start(d, &q[1], d->probe, LDNS_RR_TYPE_NS);
		nq = 2;
	}
	run_wave(d, q, nq, NULL);
	if (nq == 2)
		note_probe(d, &q[1]);
	st = q[0].ans.status;
	if (st == DNS_OK)
		st = collect_mx(&q[0].ans, &hosts, &n);
	d->mx_secure = q[0].ans.secure;
	if (st == DNS_NODATA) {
		/* RFC 5321 §5.1: the domain itself is the implicit MX (M2) */
		n = 0;
		(void)mx_slot(&hosts, n);
		hosts[0].flags = MX_IMPLICIT | (d->mx_secure ? MX_SECURE : 0);
		copy_name(hosts[0].name, sizeof(hosts[0].name),
		    q[0].ans.cname ? q[0].ans.final : domain);
		n = 1;
		st = DNS_OK;
	}
	if (st == DNS_TEMPFAIL)
		log_info("MX lookup for %s failed: %s", domain, q[0].ans.why);
	n = order_mx(hosts, n);
	for (i = 0; st == DNS_OK && i < n; i++)
		send_frame(d, MSG_MX_HOST, f->id, &hosts[i], sizeof(hosts[i]));
	memset(&info, 0, sizeof(info));
	info.flags = (d->mx_secure ? MXI_SECURE : 0) |
	    (d->validating ? MXI_VALIDATING : 0);
	info.waves = d->waves;
	if (q[0].ans.cname && st == DNS_OK) {
		copy_name(info.expanded, sizeof(info.expanded), q[0].ans.final);
	}
	send_frame(d, MSG_MX_INFO, f->id, &info, sizeof(info));
	send_end(d, MSG_MX_END, f->id, st, st == DNS_OK ? n : 0);
	for (i = 0; i < nq; i++)
		query_free(&q[i]);
	free(hosts);
}

/* --- one MX host: addresses, TLSA records, policy --- */

enum { Q_AAAA, Q_A, Q_TLSA };

static int
lookup_error(const struct answer *a)
{
	return a->status == DNS_TEMPFAIL || a->status == DNS_BADANSWER;
}

/* T1: does the address answer allow a TLSA lookup? */
static int
addrs_secure(const struct query *q)
{
	return !lookup_error(&q[Q_AAAA].ans) && !lookup_error(&q[Q_A].ans) &&
	    q[Q_AAAA].ans.secure && q[Q_A].ans.secure &&
	    (q[Q_AAAA].ans.status == DNS_OK || q[Q_A].ans.status == DNS_OK);
}

/*
 * Stop waiting once the addresses are in and the speculative TLSA answer
 * could no longer count: a broken nameserver of an unsigned zone that
 * never answers TLSA queries then costs nothing (B1, B2).
 */
static int
enough_host(struct query *q, size_t n)
{
	if (!q[Q_AAAA].done || !q[Q_A].done)
		return 0;
	return n <= Q_TLSA || q[Q_TLSA].done || !addrs_secure(q);
}

static void set_reason(struct msg_host_policy *pol, enum tls_policy p,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
set_reason(struct msg_host_policy *pol, enum tls_policy p, const char *fmt, ...)
{
	va_list ap;

	pol->policy = p;
	va_start(ap, fmt);
	vsnprintf(pol->reason, sizeof(pol->reason), fmt, ap);
	va_end(ap);
}

/* D7: an address lookup error makes the host unusable, never "none". */
static enum dns_status
addr_status(
    const char *host, const struct query *q, struct msg_host_policy *pol)
{
	int i;

	for (i = Q_AAAA; i <= Q_A; i++) {
		if (!lookup_error(&q[i].ans))
			continue;
		set_reason(pol, POLICY_UNREACHABLE,
		    "%s lookup for %s failed: %s", i == Q_A ? "A" : "AAAA",
		    host, q[i].ans.why);
		return DNS_TEMPFAIL;
	}
	for (i = Q_AAAA; i <= Q_A; i++) {
		if (q[i].ans.cname) {
			pol->flags |= HP_CNAME;
			copy_name(pol->expanded, sizeof(pol->expanded),
			    q[i].ans.final);
		}
	}
	if (addrs_secure(q))
		pol->flags |= HP_ADDR_SECURE;
	if (q[Q_AAAA].ans.status == DNS_OK || q[Q_A].ans.status == DNS_OK)
		return DNS_OK;
	set_reason(pol, POLICY_UNREACHABLE, "%s has no address", host);
	if (q[Q_AAAA].ans.status == DNS_NXDOMAIN &&
	    q[Q_A].ans.status == DNS_NXDOMAIN)
		return DNS_NXDOMAIN;
	return DNS_NODATA;
}

static size_t
send_addrs(
    struct dns *d, uint32_t id, const struct answer *a, ldns_rr_type type)
{
	ldns_rr_list        *an = ldns_pkt_answer(a->pkt);
	ldns_rdf            *final = ldns_dname_new_frm_str(a->final);
	struct msg_host_addr m;
	size_t               i, n = 0;

	for (i = 0; final && i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr  *rr = ldns_rr_list_rr(an, i);
		ldns_rdf *rd = ldns_rr_rdf(rr, 0);

		if (ldns_rr_get_type(rr) != type || rd == NULL ||
		    ldns_dname_compare(ldns_rr_owner(rr), final) != 0 ||
		    ldns_rdf_size(rd) != (type == LDNS_RR_TYPE_A ? 4 : 16))
			continue;
		memset(&m, 0, sizeof(m));
		m.family = type == LDNS_RR_TYPE_A ? 4 : 6;
		m.flags = a->secure ? ADDR_SECURE : 0;
		memcpy(m.addr, ldns_rdf_data(rd), ldns_rdf_size(rd));
		send_frame(d, MSG_HOST_ADDR, id, &m, sizeof(m));
		n++;
	}
	ldns_rdf_deep_free(final);
	return n;
}

/*
 * Send every TLSA record of a secure answer and count the usable ones
 * (A1) over the whole RRset: the policy follows from all of its records,
 * never from a subset.  A frame holds any record a DNS message can hold;
 * one that could not be carried anyway still counts, so that a host with
 * a usable record stays "DANE required" and tls fails closed (T5).
 */
static size_t
send_tlsa(struct dns *d, uint32_t id, const struct answer *a,
    struct msg_host_policy *pol)
{
	static uint8_t  buf[sizeof(struct msg_tlsa) + TLSA_DATA_MAX];
	ldns_rr_list   *an = ldns_pkt_answer(a->pkt);
	ldns_rdf       *final = ldns_dname_new_frm_str(a->final), *data;
	struct msg_tlsa t;
	size_t          i, len, dropped = 0;

	for (i = 0; final && i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TLSA ||
		    ldns_dname_compare(ldns_rr_owner(rr), final) != 0 ||
		    ldns_rr_rd_count(rr) != 4)
			continue;
		t.usage = ldns_rdf2native_int8(ldns_rr_rdf(rr, 0));
		t.selector = ldns_rdf2native_int8(ldns_rr_rdf(rr, 1));
		t.mtype = ldns_rdf2native_int8(ldns_rr_rdf(rr, 2));
		t.pad = 0;
		data = ldns_rr_rdf(rr, 3);
		len = ldns_rdf_size(data);
		pol->nusable += tlsa_usable(
		    t.usage, t.selector, t.mtype, ldns_rdf_data(data), len);
		if (len > TLSA_DATA_MAX) {
			dropped++;
			continue;
		}
		memcpy(buf, &t, sizeof(t));
		memcpy(buf + sizeof(t), ldns_rdf_data(data), len);
		send_frame(d, MSG_HOST_TLSA, id, buf, sizeof(t) + len);
		pol->ntlsa++;
	}
	ldns_rdf_deep_free(final);
	return dropped;
}

/* D4: is the first link of the host's CNAME chain secure? */
static int
first_cname_secure(struct dns *d, const char *host, struct msg_host_policy *pol)
{
	struct query q;
	int          secure;

	query_start(d, &q, host, LDNS_RR_TYPE_CNAME);
	run_wave(d, &q, 1, NULL);
	if (lookup_error(&q.ans)) {
		set_reason(pol, POLICY_UNREACHABLE,
		    "CNAME lookup for %s failed: %s", host, q.ans.why);
		secure = -1;
	} else
		secure = q.ans.status == DNS_OK && q.ans.secure;
	query_free(&q);
	return secure;
}

/*
 * T3: the first candidate with a secure TLSA RRset becomes the base
 * domain.  1: decided (DANE, TLS or unreachable), 0: try the next.
 */
static int
try_candidate(struct dns *d, uint32_t id, const char *cand, struct query *spec,
    struct msg_host_policy *pol)
{
	struct query own, *q = spec;
	char         name[NAME_MAX_LEN + 2];
	size_t       dropped;
	int          decided = 1;

	if (snprintf(name, sizeof(name), "_25._tcp.%s", cand) >=
	    (int)sizeof(name) - 1)
		return 0; /* no TLSA can exist at such a name */
	if (q == NULL) {
		q = &own;
		query_start(d, q, name, LDNS_RR_TYPE_TLSA);
		run_wave(d, q, 1, NULL);
	}
	if (lookup_error(&q->ans))
		set_reason(pol, POLICY_UNREACHABLE,
		    "TLSA lookup for %s failed: %s", name, q->ans.why);
	else if (q->ans.status == DNS_OK && q->ans.secure) {
		snprintf(pol->base, sizeof(pol->base), "%s", cand);
		dropped = send_tlsa(d, id, &q->ans, pol);
		if (pol->nusable > 0)
			set_reason(pol, POLICY_DANE,
			    "%u usable TLSA record(s) of %zu at %s%s",
			    pol->nusable, pol->ntlsa + dropped, name,
			    dropped ? ", some too large to check" : "");
		else
			set_reason(pol, POLICY_TLS,
			    "all %zu TLSA records at %s are unusable",
			    pol->ntlsa + dropped, name);
	} else {
		set_reason(pol, POLICY_OPPORTUNISTIC,
		    "no secure TLSA records at %s (%s)", name,
		    q->ans.status == DNS_OK ? "insecure"
		                            : dns_status_name(q->ans.status));
		decided = 0;
	}
	if (q == &own)
		query_free(q);
	return decided;
}

/* T2: the candidate base domains, then T3 over them in order. */
static void
decide_tls(struct dns *d, uint32_t id, const char *host, struct query *q,
    size_t nq, struct msg_host_policy *pol)
{
	/* the speculative answer, unless the wave stopped waiting for it */
	struct query *spec =
	    nq > Q_TLSA && !q[Q_TLSA].abandoned ? &q[Q_TLSA] : NULL;
	int first;

	if (!(pol->flags & HP_ADDR_SECURE)) {
		if (!(pol->flags & HP_CNAME)) {
			set_reason(pol, POLICY_OPPORTUNISTIC,
			    "address RRset of %s is insecure: no TLSA lookup",
			    host);
			return;
		}
		if ((first = first_cname_secure(d, host, pol)) != 1) {
			if (first == 0)
				set_reason(pol, POLICY_OPPORTUNISTIC,
				    "CNAME %s is insecure: no TLSA lookup",
				    host);
			return;
		}
		try_candidate(d, id, host, spec, pol);
		return;
	}
	if ((pol->flags & HP_CNAME) &&
	    try_candidate(d, id, pol->expanded, NULL, pol))
		return;
	try_candidate(d, id, host, spec, pol);
}

static void
handle_host(struct dns *d, const struct frame *f)
{
	const char            *host = frame_str(f, 0);
	struct msg_host_policy pol;
	struct query           q[3];
	enum dns_status        st;
	char                   tlsa[NAME_MAX_LEN + 2];
	size_t                 nq = 2, n = 0, i;

	memset(&pol, 0, sizeof(pol));
	query_start(d, &q[Q_AAAA], host, LDNS_RR_TYPE_AAAA);
	query_start(d, &q[Q_A], host, LDNS_RR_TYPE_A);
	/* after a secure MX, the TLSA query rides along (T1 [rec]) */
	if (d->mx_secure &&
	    snprintf(tlsa, sizeof(tlsa), "_25._tcp.%s", host) <
	        (int)sizeof(tlsa) - 1) {
		query_start(d, &q[Q_TLSA], tlsa, LDNS_RR_TYPE_TLSA);
		nq = 3;
	}
	run_wave(d, q, nq, enough_host);
	if ((st = addr_status(host, q, &pol)) == DNS_OK) {
		n += send_addrs(d, f->id, &q[Q_AAAA].ans, LDNS_RR_TYPE_AAAA);
		n += send_addrs(d, f->id, &q[Q_A].ans, LDNS_RR_TYPE_A);
		decide_tls(d, f->id, host, q, nq, &pol);
	}
	pol.waves = d->waves;
	send_frame(d, MSG_HOST_POLICY, f->id, &pol, sizeof(pol));
	send_end(d, MSG_HOST_END, f->id, st, n);
	for (i = 0; i < nq; i++)
		query_free(&q[i]);
}

void
dns_main(int parent_fd, int tls_fd, const struct child_cfg *cfg)
{
	static struct dns  d;
	struct sandbox_cfg sb = cfg->sb;
	struct frame       f;
	int                i;

	chan_init(&d.parent, parent_fd, PROC_DNS, PROC_PARENT, "dns->parent");
	chan_init(&d.tls, tls_fd, PROC_DNS, PROC_TLS, "dns<->tls");
	log_init(PROC_DNS, &d.parent, 0);
	dns_init(&d, cfg);

	/* TCP may connect to the resolvers' ports, nothing else */
	for (i = 0; i < d.res.n && i < SANDBOX_MAX_PORTS; i++)
		sb.ports[sb.nports++] =
		    ntohs(((struct sockaddr_in *)&d.res.addr[i])->sin_port);
	sandbox_lock(PROC_DNS, &sb);

	for (;;) {
		if (chan_wait(&d.tls, &f, -1) == -1) {
			if (d.tls.eof)
				exit(0);
			fatalx("tls channel: %s", d.tls.err);
		}
		switch (f.type) {
		case MSG_MX_REQ:
			handle_mx(&d, &f);
			break;
		case MSG_HOST_REQ:
			handle_host(&d, &f);
			break;
		default:
			fatalx("tls channel: unexpected %s",
			    msg_type_name(f.type));
		}
	}
}
