/*
 * The tls process drives the delivery.  It takes the job from the
 * parent, asks dns for the MX hosts and their addresses, asks net for a
 * connection to one address after another, and runs the SMTP dialogue
 * (STARTTLS with libtls) on each socket it receives.  It never creates
 * a socket, never opens a file and never resolves a name.  The message
 * reaches it from the parent in chunks, only while DATA is being sent.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tls.h>

#include "conn.h"
#include "dane.h"
#include "frame.h"
#include "log.h"
#include "report.h"
#include "proc.h"
#include "smtp.h"

#define MX_MAX    32
#define ADDRS_MAX 16
#define DNS_WAIT  120 /* seconds for dns to answer one request */
#define ADDRSZ    (256 + 1)
/* A DNS message of 65535 octets holds fewer TLSA records than this. */
#define TLSA_RECORDS_MAX 8192
#define NAMES_MAX        4 /* DANE-TA reference identifiers */

struct job {
	char           sender[ADDRSZ];
	char           rcpt[ADDRSZ];
	char           helo[NAME_MAX_LEN + 1];
	struct msg_job j;
};

/* The verdict of one attempt, and of the whole run. */
enum verdict {
	V_NEXT, /* this host failed: try the next one */
	V_FINAL /* decided: do not try other hosts */
};

struct result {
	enum outcome outcome;
	char         text[1024];
};

struct delivery;

/* One MX host as dns described it. */
struct host {
	const struct msg_mx_host *mx;
	struct msg_host_addr      addr[ADDRS_MAX];
	size_t                    naddr;
	struct tlsa              *tlsa; /* every record of the RRset */
	size_t                    ntlsa, tlsa_cap;
	struct msg_host_policy    pol;
	enum dns_status           status;
};

struct session {
	struct delivery   *d;
	struct conn        conn;
	const char        *host;
	const struct host *h;
	char               where[NAME_MAX_LEN + 64]; /* host [addr] */
	char               helo[NAME_MAX_LEN + 64];
	struct ehlo        ehlo;
	struct reply       reply;
	int                tls;           /* STARTTLS done */
	int                authenticated; /* DANE matched */
	char               match[120];    /* the TLSA record that matched */
	int                data_sent;     /* the final "." went out */
	int                dot_announced; /* the parent knows it may */
	int                dot_maybe;     /* a failed write may have sent it */
	int                quit_sent;     /* QUIT went out behind it */
	char               decisive[512]; /* the reply that decided */
	char               esc[16];       /* its enhanced status code */
};

struct delivery {
	struct chan        parent, dns, net;
	struct job         job;
	struct tls_config *tlscfg;
	uint32_t           nextid;
	int                transient; /* some host failed transiently */
	int                protocol;  /* some host broke the protocol */
	uint8_t            lfamily;   /* our address as the MX sees it */
	uint8_t            laddr[16]; /* (net's MSG_CONNECT_OK) */
	struct result      last;      /* the last host failure */
	struct msg_mx_info mxinfo;    /* security of the MX lookup */
	long long          deadline;  /* mono_ms() when --deadline ends, or 0 */
	struct report      rep;       /* for --json */
	const char        *domain;    /* of the recipient */
};

static void set_result(struct result *, enum outcome, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_result(struct result *r, enum outcome o, const char *fmt, ...)
{
	va_list ap;

	r->outcome = o;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
}

/* Wait for the answer to request `id' on a helper channel. */
static void
wait_frame(struct chan *c, struct frame *f, uint32_t id, int timeout)
{
	int r;

	if ((r = chan_wait(c, f, timeout * 1000)) == 1 && f->id == id)
		return;
	if (r == 0)
		fatalx("%s: no answer in %d seconds", c->name, timeout);
	if (r == 1)
		fatalx("%s: answer to the wrong request", c->name);
	fatalx("%s: %s", c->name, c->err ? c->err : "channel failed");
}

static void
read_job(struct delivery *d)
{
	struct frame f;
	char        *dst;
	size_t       len;

	for (;;) {
		if (chan_wait(&d->parent, &f, -1) != 1)
			fatalx("parent: %s", d->parent.err);
		switch (f.type) {
		case MSG_JOB_SENDER:
			dst = d->job.sender, len = sizeof(d->job.sender);
			break;
		case MSG_JOB_RCPT:
			dst = d->job.rcpt, len = sizeof(d->job.rcpt);
			break;
		case MSG_JOB_HELO:
			dst = d->job.helo, len = sizeof(d->job.helo);
			break;
		case MSG_JOB_START:
			memcpy(&d->job.j, f.data, sizeof(d->job.j));
			return;
		default:
			fatalx("parent: unexpected %s", msg_type_name(f.type));
		}
		snprintf(dst, len, "%s", frame_str(&f, 0));
	}
}

/*
 * Seconds to wait at one stage: its own timeout (P11), never past the
 * overall --deadline.  0 once the deadline has passed.
 */
static int
tmo(const struct delivery *d, enum timeout_stage st)
{
	long long left;

	if (d->deadline == 0)
		return d->job.j.timeout[st];
	left = (d->deadline - mono_ms() + 999) / 1000;
	if (left <= 0)
		return 0;
	return left < d->job.j.timeout[st] ? left : d->job.j.timeout[st];
}

/* --- talking to dns and net --- */

static size_t
ask_mx(struct delivery *d, const char *domain, struct msg_mx_host *hosts,
    enum dns_status *st)
{
	struct msg_dns_end end;
	uint32_t           id = ++d->nextid;
	struct frame       f;
	size_t             n = 0;

	if (chan_compose(
	        &d->dns, MSG_MX_REQ, id, -1, domain, strlen(domain) + 1) == -1)
		fatalx("dns: %s", d->dns.err);
	for (;;) {
		wait_frame(&d->dns, &f, id, DNS_WAIT);
		if (f.type == MSG_MX_END)
			break;
		if (f.type == MSG_MX_INFO) {
			memcpy(&d->mxinfo, f.data, sizeof(d->mxinfo));
			continue;
		}
		if (f.type != MSG_MX_HOST || n == MX_MAX)
			fatalx("dns: unexpected %s", msg_type_name(f.type));
		memcpy(&hosts[n++], f.data, sizeof(hosts[0]));
	}
	memcpy(&end, f.data, sizeof(end));
	if (end.count != n)
		fatalx("dns: MX count mismatch");
	*st = end.status;
	return n;
}

static void
keep_tlsa(struct host *h, const struct frame *f)
{
	struct msg_tlsa t;
	struct tlsa    *r;
	uint8_t        *data;
	size_t          len = f->len - sizeof(t);

	if (h->ntlsa == TLSA_RECORDS_MAX)
		fatalx("dns: more TLSA records than a DNS message holds");
	if (h->ntlsa == h->tlsa_cap) {
		h->tlsa_cap = h->tlsa_cap ? 2 * h->tlsa_cap : 8;
		h->tlsa = reallocarray(h->tlsa, h->tlsa_cap, sizeof(*h->tlsa));
		if (h->tlsa == NULL)
			fatal("reallocarray");
	}
	memcpy(&t, f->data, sizeof(t));
	if ((data = malloc(len ? len : 1)) == NULL)
		fatal("malloc");
	memcpy(data, f->data + sizeof(t), len);
	r = &h->tlsa[h->ntlsa++];
	r->usage = t.usage;
	r->selector = t.selector;
	r->mtype = t.mtype;
	r->len = len;
	r->data = data;
}

static void
host_free(struct host *h)
{
	size_t i;

	for (i = 0; i < h->ntlsa; i++)
		free((void *)h->tlsa[i].data);
	free(h->tlsa);
	h->tlsa = NULL;
	h->ntlsa = h->tlsa_cap = 0;
}

/* Addresses, TLSA records and policy of one MX host, from dns. */
static void
ask_host(struct delivery *d, struct host *h)
{
	struct msg_dns_end end;
	uint32_t           id = ++d->nextid;
	struct frame       f;
	size_t             seen = 0;
	int                havepol = 0;

	if (chan_compose(&d->dns, MSG_HOST_REQ, id, -1, h->mx->name,
	        strlen(h->mx->name) + 1) == -1)
		fatalx("dns: %s", d->dns.err);
	for (;;) {
		wait_frame(&d->dns, &f, id, DNS_WAIT);
		if (f.type == MSG_HOST_END)
			break;
		if (f.type == MSG_HOST_TLSA)
			keep_tlsa(h, &f);
		else if (f.type == MSG_HOST_POLICY) {
			memcpy(&h->pol, f.data, sizeof(h->pol));
			havepol = 1;
		} else if (f.type == MSG_HOST_ADDR) {
			seen++;
			if (h->naddr < ADDRS_MAX) /* RFC 5321 §5.1: a few */
				memcpy(&h->addr[h->naddr++], f.data,
				    sizeof(h->addr[0]));
		} else
			fatalx("dns: unexpected %s", msg_type_name(f.type));
	}
	memcpy(&end, f.data, sizeof(end));
	if (end.count != seen || !havepol || h->pol.ntlsa != h->ntlsa)
		fatalx("dns: host answer does not add up");
	h->status = end.status;
}

/*
 * A connected stream from net (directly or through the proxy), or -1
 * with the reason in *why and CONN_* flags in *flags.
 */
static int
ask_connect(struct delivery *d, const struct msg_host_addr *a, char *why,
    size_t whylen, uint32_t *flags)
{
	struct msg_connect_req req;
	struct msg_connect_res res;
	uint32_t               id = ++d->nextid;
	struct frame           f;

	memset(&req, 0, sizeof(req));
	req.family = a->family;
	req.port = 25;
	memcpy(req.addr, a->addr, sizeof(req.addr));
	if ((req.timeout = tmo(d, TO_CONNECT)) == 0)
		req.timeout = 1;
	/* through ssh, "connected" is known from the greeting's first octet */
	if ((req.greeting = tmo(d, TO_GREETING)) == 0)
		req.greeting = 1;
	if (chan_compose(&d->net, MSG_CONNECT_REQ, id, -1, &req, sizeof(req)) ==
	    -1)
		fatalx("net: %s", d->net.err);
	wait_frame(&d->net, &f, id, req.timeout + req.greeting + 20);
	if (f.type != MSG_CONNECT_OK && f.type != MSG_CONNECT_FAIL)
		fatalx("net: unexpected %s", msg_type_name(f.type));
	memcpy(&res, f.data, sizeof(res));
	if (f.type == MSG_CONNECT_OK) {
		d->lfamily = res.family;
		memcpy(d->laddr, res.addr, sizeof(d->laddr));
		return f.fd;
	}
	*flags = res.flags;
	if (*frame_str(&f, sizeof(res)) != '\0')
		snprintf(why, whylen, "%s", frame_str(&f, sizeof(res)));
	else
		snprintf(why, whylen, "connect: %s", strerror(res.error));
	return -1;
}

/* --- the SMTP dialogue --- */

static int
send_line(struct session *s, const char *line, enum timeout_stage st)
{
	char buf[600];
	int  n;

	log_info(">>> %s", line);
	n = snprintf(buf, sizeof(buf), "%s\r\n", line);
	return conn_write(&s->conn, buf, n, tmo(s->d, st));
}

/* Read one whole reply; -1 on a broken connection or bad reply. */
static int
read_reply(struct session *s, int timeout, const char **why)
{
	const char *line;
	char        shown[REPLY_LINE_MAX + 1];
	size_t      len;
	int         r;

	reply_init(&s->reply);
	do {
		if (conn_getline(&s->conn, &line, &len, timeout) == -1) {
			/* a malformed line is the server's fault, not the path's */
			*why = s->conn.err;
			return s->conn.proto ? -2 : -1;
		}
		printable(shown, line, len, sizeof(shown));
		log_info("<<< %s", shown);
	} while ((r = reply_line(&s->reply, line, len, why)) == 0);
	return r == 1 ? 0 : -2;
}

/* The first line of the last reply, for messages. */
static const char *
reply_first(const struct session *s)
{
	static char buf[512];
	size_t      n = strcspn(s->reply.text, "\n");

	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, s->reply.text, n);
	buf[n] = '\0';
	return buf;
}

/* Remember the reply that decided the transaction: QUIT comes after it. */
static void
keep_decisive(struct session *s)
{
	snprintf(s->decisive, sizeof(s->decisive), "%s", reply_first(s));
	if (reply_enhanced(&s->reply, s->esc, sizeof(s->esc)) == NULL)
		s->esc[0] = '\0';
}

static void
quit(struct session *s)
{
	const char *why;

	if (s->quit_sent || send_line(s, "QUIT", TO_QUIT) == 0)
		(void)read_reply(s, tmo(s->d, TO_QUIT), &why);
}

/* A reply that did not come: lost connection or broken protocol. */
static int tls_required(const struct session *);

static enum verdict
io_failure(struct delivery *d, struct session *s, int r, const char *step,
    const char *why, struct result *res)
{
	/*
	 * §8: a protocol error is permanent (76) only from a host without
	 * TLSA records; before TLS anyone on the path could have caused it.
	 */
	int proto = r == -2 && !tls_required(s);

	if (proto)
		d->protocol = 1;
	else
		d->transient = 1;
	set_result(res, proto ? OUT_PROTOCOL : OUT_TEMPFAIL, "%s: %s: %s",
	    s->where, step, why);
	if (r == -2)
		quit(s); /* P7: the connection still works */
	return V_NEXT;
}

/* T5, T6: secure TLSA records, usable or not, make TLS mandatory. */
static int
tls_required(const struct session *s)
{
	return s->h->pol.policy == POLICY_DANE ||
	    s->h->pol.policy == POLICY_TLS;
}

/* A failure of a host that may work later, with its TLS-RPT type. */
static enum verdict host_failed(struct delivery *d, struct session *s,
    struct result *res, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum verdict
host_failed(struct delivery *d, struct session *s, struct result *res,
    const char *fmt, ...)
{
	char    why[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	d->transient = 1;
	set_result(res, OUT_TEMPFAIL, "%s: %s", s->where, why);
	return V_NEXT;
}

static enum verdict
host_refused(
    struct delivery *d, struct session *s, const char *step, struct result *res)
{
	/* S10: before TLS a 5xx can be forged; never bounce on it then */
	int transient = s->reply.code < 500 || tls_required(s);

	if (transient)
		d->transient = 1;
	set_result(res, transient ? OUT_TEMPFAIL : OUT_UNAVAILABLE,
	    "%s: %s: %s", s->where, step, reply_first(s));
	quit(s);
	return V_NEXT;
}

/*
 * What a reply to EHLO, HELO, STARTTLS or the greeting means: only the
 * one code the command expects lets the session go on (RFC 5321
 * §4.1.1.1 and §4.2.5: 250, not any 2xx; RFC 3207 §4: 220); 221 and 421
 * say the server is closing the channel (§3.8, §4.2.2); another 4xx or
 * 5xx is a refusal; anything else (another 2xx, a 3xx such as 354 to
 * STARTTLS) breaks the protocol (S3, P3).
 */
enum reply_class { RC_OK, RC_REFUSED, RC_CLOSING, RC_BROKEN };

static enum reply_class
reply_class(int code, int expected)
{
	if (code == expected)
		return RC_OK;
	if (code == 221 || code == 421)
		return RC_CLOSING;
	return code >= 400 ? RC_REFUSED : RC_BROKEN;
}

/* Send a command and read its whole reply; -1 with *v when none came. */
static int
command(struct delivery *d, struct session *s, const char *line,
    enum timeout_stage st, const char *step, struct result *res,
    enum verdict *v)
{
	const char *why;
	int         r;

	if (send_line(s, line, st) == -1) {
		*v = io_failure(d, s, -1, step, s->conn.err, res);
		return -1;
	}
	if ((r = read_reply(s, tmo(d, st), &why)) != 0) {
		*v = io_failure(d, s, r, step, why, res);
		return -1;
	}
	return 0;
}

/*
 * A reply that is not the refusal or success it should be.  Closing: the
 * server hangs up, so no QUIT (RFC 5321 §3.8); broken: a protocol error,
 * after which the connection may still carry a QUIT (P7).
 */
static enum verdict
bad_reply(struct delivery *d, struct session *s, const char *step,
    enum reply_class rc, struct result *res)
{
	if (rc == RC_CLOSING) {
		d->transient = 1;
		set_result(res, OUT_TEMPFAIL,
		    "%s: %s: the server is closing the connection: %s",
		    s->where, step, reply_first(s));
		return V_NEXT;
	}
	return io_failure(d, s, -2, step, "unexpected reply", res);
}

/* RFC 5321 §3.2: HELO after a refused EHLO; no STARTTLS is possible then. */
static int
helo(struct delivery *d, struct session *s, struct result *res, enum verdict *v)
{
	char             line[NAME_MAX_LEN + 80];
	enum reply_class rc;

	snprintf(line, sizeof(line), "HELO %s", s->helo);
	if (command(d, s, line, TO_EHLO, "HELO", res, v) == -1)
		return -1;
	if ((rc = reply_class(s->reply.code, 250)) == RC_OK) {
		memset(&s->ehlo, 0, sizeof(s->ehlo));
		return 0;
	}
	*v = rc == RC_REFUSED ? host_refused(d, s, "HELO", res)
	                      : bad_reply(d, s, "HELO", rc, res);
	return -1;
}

static int
ehlo(struct delivery *d, struct session *s, struct result *res, enum verdict *v)
{
	char             line[NAME_MAX_LEN + 80];
	enum reply_class rc;

	snprintf(line, sizeof(line), "EHLO %s", s->helo);
	if (command(d, s, line, TO_EHLO, "EHLO", res, v) == -1)
		return -1;
	if ((rc = reply_class(s->reply.code, 250)) == RC_OK) {
		ehlo_parse(&s->reply, &s->ehlo);
		return 0;
	}
	if (rc != RC_REFUSED) {
		*v = bad_reply(d, s, "EHLO", rc, res);
		return -1;
	}
	/* HELO cannot lead to STARTTLS: no use where TLS is required (S7) */
	if (s->tls || tls_required(s)) {
		*v = host_refused(d, s, "EHLO", res);
		return -1;
	}
	return helo(d, s, res, v);
}

/*
 * A6: the names a DANE-TA certificate may carry.  The TLSA base domain
 * always; after a secure MX lookup also the recipient domain and its
 * CNAME expansion; without MX records also the original domain.
 */
static size_t
reference_names(struct delivery *d, const struct session *s, const char **names)
{
	size_t n = 0;

	names[n++] = s->h->pol.base;
	if (d->mxinfo.flags & MXI_SECURE || s->h->mx->flags & MX_IMPLICIT) {
		names[n++] = d->domain;
		if (d->mxinfo.expanded[0] != '\0')
			names[n++] = d->mxinfo.expanded;
	} else if (strcmp(s->h->mx->name, s->h->pol.base) != 0)
		names[n++] = s->h->mx->name;
	return n;
}

/*
 * DANE (A4-A7, A12): authenticate the server's chain against the TLSA
 * records right after the handshake, before any other byte is sent.
 */
static int
authenticate(
    struct delivery *d, struct session *s, struct result *res, enum verdict *v)
{
	const char    *names[NAMES_MAX], *why = "no usable TLSA record";
	struct tlsa   *recs;
	const uint8_t *pem;
	size_t         len, n;
	int            match = -1, depth = 0, r = 0;

	/* tlsa_select() reorders: a copy keeps the host's list as it came */
	if ((recs = calloc(s->h->ntlsa + 1, sizeof(*recs))) == NULL)
		fatal("calloc");
	memcpy(recs, s->h->tlsa, s->h->ntlsa * sizeof(recs[0]));
	n = tlsa_select(recs, s->h->ntlsa);
	pem = tls_peer_cert_chain_pem(s->conn.tls, &len);
	if (pem != NULL && n > 0)
		r = dane_verify((const char *)pem, len, recs, n, names,
		    reference_names(d, s, names), &match, &depth, &why);
	if (r != 1) {
		free(recs);
		log_info("DANE: server not authenticated: %s", why);
		*v = host_failed(d, s, res,
		    "DANE authentication failed: %s (TLS-RPT: validation-failure)",
		    why);
		return -1;
	}
	tlsa_format(&recs[match], s->match, sizeof(s->match));
	free(recs);
	s->authenticated = 1;
	log_info(
	    "DANE: server authenticated by TLSA %s at depth %d, base domain %s",
	    s->match, depth, s->h->pol.base);
	return 0;
}

/*
 * STARTTLS.  Where TLS is required (secure TLSA records) a missing or
 * refused STARTTLS, a failed handshake or a failed authentication fail
 * this host (S2, S3, A10); elsewhere a refusal continues in cleartext.
 */
static int
starttls(
    struct delivery *d, struct session *s, struct result *res, enum verdict *v)
{
	enum reply_class rc;
	const char      *sni;

	if (command(d, s, "STARTTLS", TO_STARTTLS, "STARTTLS", res, v) == -1)
		return -1;
	if ((rc = reply_class(s->reply.code, 220)) != RC_OK &&
	    tls_required(s)) {
		*v = host_failed(d, s, res,
		    "TLS is required (TLSA records) but STARTTLS was refused: %s (TLS-RPT: starttls-not-supported)",
		    reply_first(s));
		if (rc != RC_CLOSING)
			quit(s);
		return -1;
	}
	/* S3: only a refusal may go on in cleartext, never 354, 221, 421 */
	if (rc != RC_OK && rc != RC_REFUSED) {
		*v = bad_reply(d, s, "STARTTLS", rc, res);
		return -1;
	}
	if (rc == RC_REFUSED) {
		log_info(
		    "STARTTLS refused; continuing without TLS (no TLSA records for this host)");
		return 0;
	}
	/* A8: SNI is the TLSA base domain where there is one */
	sni = s->h->pol.base[0] != '\0' ? s->h->pol.base : s->host;
	if (conn_starttls(&s->conn, d->tlscfg, sni, tmo(d, TO_STARTTLS)) ==
	    -1) {
		*v = host_failed(
		    d, s, res, "TLS handshake failed: %s", s->conn.err);
		return -1;
	}
	s->tls = 1;
	log_info("TLS started: %s %s", tls_conn_version(s->conn.tls),
	    tls_conn_cipher(s->conn.tls));
	if (s->h->pol.policy == POLICY_DANE &&
	    authenticate(d, s, res, v) == -1) {
		quit(s); /* RFC 3207 §4.1, inside TLS */
		return -1;
	}
	if (s->h->pol.policy != POLICY_DANE)
		log_info("server certificate not checked (%s)",
		    policy_name(s->h->pol.policy));
	/* RFC 3207 §4.2: forget everything learned before TLS */
	memset(&s->ehlo, 0, sizeof(s->ehlo));
	return ehlo(d, s, res, v);
}

/* Checks that need the server's extensions, before MAIL FROM. */
static int
message_fits(struct delivery *d, struct session *s, struct result *res)
{
	if ((d->job.j.flags & JOB_8BIT) && !(s->ehlo.flags & EXT_8BITMIME)) {
		set_result(res, OUT_DATAERR,
		    "%s: message has 8-bit data and the server does not offer 8BITMIME (RFC 6152)",
		    s->where);
		return -1;
	}
	if ((s->ehlo.flags & EXT_SIZE) && s->ehlo.size > 0 &&
	    d->job.j.size > s->ehlo.size) {
		set_result(res, OUT_DATAERR,
		    "%s: message of %llu octets exceeds the server's SIZE %llu",
		    s->where, (unsigned long long)d->job.j.size,
		    (unsigned long long)s->ehlo.size);
		return -1;
	}
	return 0;
}

static void
envelope(struct delivery *d, struct session *s, char *mail, size_t mlen,
    char *rcpt, size_t rlen)
{
	char params[80] = "";

	if (s->ehlo.flags & EXT_SIZE)
		snprintf(params, sizeof(params), " SIZE=%llu",
		    (unsigned long long)d->job.j.size);
	snprintf(mail, mlen, "MAIL FROM:<%s>%s%s", d->job.sender, params,
	    (d->job.j.flags & JOB_8BIT) ? " BODY=8BITMIME" : "");
	snprintf(rcpt, rlen, "RCPT TO:<%s>", d->job.rcpt);
}

/* 5xx: whose fault, per the table in README.md. */
static enum outcome
permanent_outcome(const struct session *s, int step)
{
	char        esc[32];
	const char *e = NULL;

	/* P6: enhanced codes mean something only where they are offered */
	if (s->ehlo.flags & EXT_ENHANCED)
		e = reply_enhanced(&s->reply, esc, sizeof(esc));
	if (e != NULL &&
	    (strncmp(e, "5.6.", 4) == 0 || strcmp(e, "5.3.4") == 0))
		return OUT_DATAERR; /* the message itself is refused */
	return step == 1 ? OUT_NOUSER : OUT_UNAVAILABLE;
}

/* A reply to MAIL, RCPT, DATA or "." that is not what we wanted. */
static void
transaction_failed(
    struct session *s, int step, const char *what, struct result *res)
{
	enum outcome o =
	    s->reply.code < 500 ? OUT_TEMPFAIL : permanent_outcome(s, step);

	set_result(res, o, "%s: %s: %s", s->where, what, reply_first(s));
}

/*
 * The parent learns that the final "." may reach the server before any
 * octet of it is written: if this process dies or the run is cut short
 * from then on, the server may have the message and a retry may deliver
 * it twice ("delivery status unknown", RFC 5321 §6.1).
 */
static void
announce_dot(struct delivery *d)
{
	if (chan_compose(&d->parent, MSG_DOT_SENT, 0, -1, NULL, 0) == -1 ||
	    chan_drain(&d->parent, DNS_WAIT * 1000) == -1)
		fatalx("parent: %s", d->parent.err);
}

/* One chunk of the message from the parent, at wire offset off. */
static size_t
body_chunk(struct delivery *d, uint64_t off, uint8_t *buf)
{
	struct msg_body_req req;
	struct frame        f;
	uint32_t            id = ++d->nextid;

	req.offset = off;
	if (chan_compose(&d->parent, MSG_BODY_REQ, id, -1, &req, sizeof(req)) ==
	    -1)
		fatalx("parent: %s", d->parent.err);
	wait_frame(&d->parent, &f, id, DNS_WAIT);
	if (f.type != MSG_BODY_DATA || f.len == 0 ||
	    f.len > d->job.j.wire_size - off || f.len > BODY_CHUNK)
		fatalx("parent: bad message data");
	memcpy(buf, f.data, f.len);
	return f.len;
}

/*
 * Stream the message from the parent, chunk by chunk.  On a failure,
 * s->dot_maybe says whether an octet of the final ".\r\n" may have
 * been handed to the kernel (TLS: once a record holding one was begun,
 * since libtls may have written part of it).
 */
static int
send_body(struct delivery *d, struct session *s)
{
	static const char quit[] = "QUIT\r\n";
	uint8_t           buf[BODY_CHUNK + sizeof(quit)];
	uint64_t          off = 0, dot = d->job.j.wire_size - 3;
	size_t            len;
	int               rv = 0;

	while (rv == 0 && off < d->job.j.wire_size) {
		len = body_chunk(d, off, buf);
		if (off + len > dot && !s->dot_announced) {
			announce_dot(d);
			s->dot_announced = 1;
		}
		/*
		 * RFC 2920 §3.1: message content may open a group, so QUIT
		 * rides behind the final "." in the same segment and costs
		 * no round trip of its own.
		 */
		if (off + len == d->job.j.wire_size &&
		    (s->ehlo.flags & EXT_PIPELINING)) {
			memcpy(buf + len, quit, sizeof(quit) - 1);
			s->quit_sent = 1;
		}
		rv = conn_write(&s->conn, buf,
		    len + (s->quit_sent ? sizeof(quit) - 1 : 0),
		    tmo(d, TO_DATA_XFER));
		if (rv == -1 && off + len > dot)
			s->dot_maybe =
			    s->conn.tls != NULL || off + s->conn.wrote > dot;
		off += len;
	}
	explicit_bzero(buf, sizeof(buf));
	if (rv == -1)
		return -1;
	s->data_sent = 1;
	if (s->quit_sent)
		log_info(">>> QUIT (pipelined behind the final \".\")");
	return 0;
}

static const char *const steps[3] = { "MAIL FROM", "RCPT TO", "DATA" };

/*
 * MAIL, RCPT and DATA: in one write with PIPELINING (RFC 2920), where
 * every reply is still read and checked in order; else one by one.
 * Returns the step that failed (0..2), 3 when DATA got its 354, or -1
 * with the connection broken.
 */
static int
envelope_dialogue(struct delivery *d, struct session *s, int *codes,
    struct reply *failed, const char **why)
{
	static const enum timeout_stage stage[3] = { TO_MAIL, TO_RCPT,
		TO_DATA_INIT };
	char                            mail[400], rcpt[300], group[720];
	const char                     *cmds[3] = { mail, rcpt, "DATA" };
	int pipe = (s->ehlo.flags & EXT_PIPELINING) != 0, i, r, bad = -1;

	envelope(d, s, mail, sizeof(mail), rcpt, sizeof(rcpt));
	if (pipe) {
		/* one write: separate ones would wait on Nagle's algorithm */
		for (i = 0; i < 3; i++)
			log_info(">>> %s", cmds[i]);
		snprintf(
		    group, sizeof(group), "%s\r\n%s\r\nDATA\r\n", mail, rcpt);
		if (conn_write(
		        &s->conn, group, strlen(group), tmo(d, TO_MAIL)) == -1)
			return *why = s->conn.err, -1;
	}
	for (i = 0; i < 3; i++) {
		if (!pipe && send_line(s, cmds[i], stage[i]) == -1)
			return *why = s->conn.err, -1;
		r = read_reply(s, tmo(d, stage[i]), why);
		if (r == -1)
			return *why = s->conn.err, -1;
		if (r == -2)
			return -2;
		codes[i] = s->reply.code;
		if (bad == -1 &&
		    (i == 2 ? codes[i] != 354 : codes[i] / 100 != 2)) {
			bad = i;
			*failed = s->reply; /* later replies overwrite it */
		}
		if (bad != -1 && !pipe)
			return bad;
	}
	return bad == -1 ? 3 : bad;
}

/*
 * A13: what the delivery was protected by.  M6: DANE after an insecure MX
 * lookup is "trusted", never "verified" (the MX list could be forged).
 */
static const char *
security_level(const struct delivery *d, const struct session *s)
{
	if (s->authenticated)
		return (d->mxinfo.flags & MXI_SECURE) ? "verified"
		                                      : "trusted (insecure MX)";
	if (s->tls)
		return "encrypted (server not authenticated)";
	return "cleartext";
}

static enum verdict
transaction(struct delivery *d, struct session *s, struct result *res)
{
	struct reply failed;
	int          codes[3], step;
	const char  *why;

	if (message_fits(d, s, res) == -1) {
		quit(s);
		return V_FINAL;
	}
	codes[2] = 0;
	step = envelope_dialogue(d, s, codes, &failed, &why);
	if (step < 0)
		return io_failure(d, s, step, "MAIL/RCPT/DATA", why, res);
	if (step < 3) {
		if (codes[2] == 354) {
			/* RFC 2920 §3.1: DATA was accepted alone; end it */
			if (send_line(s, ".", TO_DATA_DONE) == 0)
				(void)read_reply(s, tmo(d, TO_DATA_DONE), &why);
		}
		s->reply = failed;
		keep_decisive(s);
		transaction_failed(s, step, steps[step], res);
		quit(s);
		return V_FINAL;
	}
	log_info("(message: %llu octets)", (unsigned long long)d->job.j.size);
	if (send_body(d, s) == -1) {
		d->transient = 1;
		/* without an octet of the final "." it cannot have been taken */
		if (!s->dot_maybe)
			set_result(res, OUT_TEMPFAIL,
			    "%s: connection failed while sending the message: %s",
			    s->where, s->conn.err);
		else
			set_result(res, OUT_UNKNOWN,
			    "%s: delivery status unknown: %s while the end of the message was being sent",
			    s->where, s->conn.err);
		return V_FINAL;
	}
	if (read_reply(s, tmo(d, TO_DATA_DONE), &why) != 0) {
		/* RFC 5321 §4.5.3.2.6: it may have arrived; do not resend now */
		set_result(res, OUT_UNKNOWN,
		    "%s: delivery status unknown: %s after the message was sent",
		    s->where, s->conn.err ? s->conn.err : why);
		return V_FINAL;
	}
	keep_decisive(s);
	if (s->reply.code / 100 != 2) {
		transaction_failed(s, 2, "end of data", res);
		quit(s);
		return V_FINAL;
	}
	set_result(res, OUT_DELIVERED,
	    "delivered: %s via %s, %s%s%s, %s%s%s: %s", d->job.rcpt, s->where,
	    s->tls ? tls_conn_version(s->conn.tls) : "no TLS",
	    s->tls ? " " : "", s->tls ? tls_conn_cipher(s->conn.tls) : "",
	    security_level(d, s), s->authenticated ? " by TLSA " : "", s->match,
	    reply_first(s));
	quit(s); /* RFC 5321 §4.1.1.10; its failure changes nothing */
	return V_FINAL;
}

/* EHLO name: --helo, else this host's FQDN, else [our address]. */
static void
helo_name(struct delivery *d, struct session *s)
{
	char a[INET6_ADDRSTRLEN];

	if (d->job.helo[0] != '\0') {
		snprintf(s->helo, sizeof(s->helo), "%s", d->job.helo);
		return;
	}
	/* net knows it: our socket's, or what the proxy says it uses */
	if (d->lfamily == 6) {
		inet_ntop(AF_INET6, d->laddr, a, sizeof(a));
		snprintf(s->helo, sizeof(s->helo), "[IPv6:%s]", a);
	} else if (d->lfamily == 4) {
		inet_ntop(AF_INET, d->laddr, a, sizeof(a));
		snprintf(s->helo, sizeof(s->helo), "[%s]", a);
	} else /* the parent made sure this cannot happen */
		fatalx("no EHLO name: no FQDN, no --helo, no known address");
}

/* The last session's facts for the report: the delivering one, if any. */
static void
note_session(struct delivery *d, const struct session *s, const char *addr)
{
	struct report *r = &d->rep;

	snprintf(r->mx, sizeof(r->mx), "%s", s->host);
	snprintf(r->address, sizeof(r->address), "%s", addr);
	snprintf(r->tls_version, sizeof(r->tls_version), "%s",
	    s->tls ? tls_conn_version(s->conn.tls) : "");
	snprintf(r->cipher, sizeof(r->cipher), "%s",
	    s->tls ? tls_conn_cipher(s->conn.tls) : "");
	snprintf(r->security, sizeof(r->security), "%s", security_level(d, s));
	snprintf(r->tlsa, sizeof(r->tlsa), "%s", s->match);
	if (s->decisive[0] != '\0') {
		snprintf(r->reply, sizeof(r->reply), "%s", s->decisive);
		snprintf(r->enhanced, sizeof(r->enhanced), "%s", s->esc);
		return;
	}
	snprintf(r->reply, sizeof(r->reply), "%s",
	    s->reply.code ? reply_first(s) : "");
	if (reply_enhanced(&s->reply, r->enhanced, sizeof(r->enhanced)) == NULL)
		r->enhanced[0] = '\0';
}

static enum verdict
session(struct delivery *d, const struct host *h, const char *addr, int fd,
    struct result *res)
{
	struct session   s;
	enum verdict     v = V_NEXT;
	enum reply_class rc;
	const char      *why;
	int              r;

	memset(&s, 0, sizeof(s));
	s.d = d;
	conn_init(&s.conn, fd);
	s.h = h;
	s.host = h->mx->name;
	snprintf(s.where, sizeof(s.where), "%s [%s]", s.host, addr);
	helo_name(d, &s);
	/* RFC 5321 §4.3.1: wait for the greeting */
	if ((r = read_reply(&s, tmo(d, TO_GREETING), &why)) != 0)
		v = io_failure(d, &s, r, "greeting", why, res);
	else if ((rc = reply_class(s.reply.code, 220)) != RC_OK)
		v = rc == RC_REFUSED ? host_refused(d, &s, "greeting", res)
		                     : bad_reply(d, &s, "greeting", rc, res);
	else if (ehlo(d, &s, res, &v) == -1)
		;
	else if (!(s.ehlo.flags & EXT_STARTTLS) && tls_required(&s)) {
		/* S2: stripped, or a server that breaks its TLSA promise */
		v = host_failed(d, &s, res,
		    "TLS is required (TLSA records) but STARTTLS is not offered (TLS-RPT: starttls-not-supported)");
		quit(&s);
	} else if (!(s.ehlo.flags & EXT_STARTTLS) ||
	    starttls(d, &s, res, &v) == 0)
		v = transaction(d, &s, res);
	note_session(d, &s, addr);
	conn_close(&s.conn);
	return v;
}

static const char *
addr_text(const struct msg_host_addr *a, char *buf, size_t len)
{
	inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, buf, len);
	return buf;
}

/* --deadline: no new connection once it has passed. */
static int
deadline_passed(struct delivery *d, struct result *res)
{
	if (d->deadline == 0 || mono_ms() < d->deadline)
		return 0;
	set_result(res, OUT_TEMPFAIL,
	    "--deadline of %u seconds reached (last failure: %s)",
	    d->job.j.deadline, res->text);
	return 1;
}

/* The host's addresses and policy; -1 if it cannot be tried (D7). */
static int
host_usable(struct delivery *d, struct host *h, struct result *res)
{
	log_info("%s: %s: %s%s", h->mx->name, policy_name(h->pol.policy),
	    h->pol.reason, h->pol.flags & HP_CNAME ? " (CNAME)" : "");
	if (d->job.j.flags & JOB_VERBOSE)
		log_info("dns: %u resolver round trips so far", h->pol.waves);
	if (h->status == DNS_OK && h->pol.policy != POLICY_UNREACHABLE &&
	    (h->pol.policy == POLICY_DANE || !(d->job.j.flags & JOB_DANE_ONLY)))
		return 0;
	if (h->status == DNS_OK && h->pol.policy != POLICY_UNREACHABLE) {
		d->transient = 1;
		set_result(res, OUT_TEMPFAIL,
		    "%s: --dane-only and no usable TLSA records (TLS-RPT: dane-required)",
		    h->mx->name);
		log_info("%s", res->text);
		return -1;
	}
	if (h->status == DNS_OK || h->status == DNS_TEMPFAIL ||
	    h->status == DNS_BADANSWER) {
		d->transient = 1;
		set_result(
		    res, OUT_TEMPFAIL, "%s: %s", h->mx->name, h->pol.reason);
	} else
		set_result(
		    res, OUT_NOHOST, "%s: %s", h->mx->name, h->pol.reason);
	return -1;
}

/* Every address of one host, in order.  V_FINAL ends the delivery. */
static enum verdict
try_host(struct delivery *d, const struct msg_mx_host *mx, struct result *res)
{
	static struct host h;
	char               text[INET6_ADDRSTRLEN];
	enum verdict       v = V_NEXT;
	char               why[600];
	uint32_t           cflags = 0;
	size_t             i;
	int                fd;

	memset(&h, 0, sizeof(h));
	h.mx = mx;
	ask_host(d, &h);
	if (host_usable(d, &h, res) == -1) {
		report_attempt(&d->rep, mx->name, NULL,
		    policy_name(h.pol.policy), res->text);
		h.naddr = 0;
	}
	for (i = 0; i < h.naddr; i++) {
		if (deadline_passed(d, res)) {
			v = V_FINAL;
			break;
		}
		addr_text(&h.addr[i], text, sizeof(text));
		log_info("connecting to %s [%s]:25", mx->name, text);
		fd = ask_connect(d, &h.addr[i], why, sizeof(why), &cflags);
		if (fd == -1) {
			d->transient = 1;
			set_result(res, OUT_TEMPFAIL, "%s [%s]: %s", mx->name,
			    text, why);
			log_info("%s", res->text);
			report_attempt(&d->rep, mx->name, text,
			    policy_name(h.pol.policy), res->text);
			/* the proxy itself failed: no address will do better */
			if (cflags & CONN_PROXY_DOWN) {
				v = V_FINAL;
				break;
			}
			continue;
		}
		v = session(d, &h, text, fd, res);
		report_attempt(&d->rep, mx->name, text,
		    policy_name(h.pol.policy),
		    res->outcome == OUT_DELIVERED ? "delivered" : res->text);
		if (v == V_FINAL)
			break;
		log_info("%s", res->text);
	}
	host_free(&h);
	return v;
}

/* The outcome when every host failed (README: exit status table). */
static void
all_failed(struct delivery *d, struct result *res)
{
	if (d->transient)
		res->outcome = OUT_TEMPFAIL;
	else if (d->protocol)
		res->outcome = OUT_PROTOCOL;
}

/*
 * T7, M6, D6: with --dane-only an insecure MX RRset delays delivery, and
 * a resolver that does not validate is a configuration error.
 */
static int
mandatory_dane(struct delivery *d, struct result *res)
{
	if (!(d->job.j.flags & JOB_DANE_ONLY))
		return 0;
	if (!(d->mxinfo.flags & MXI_VALIDATING)) {
		set_result(res, OUT_CONFIG,
		    "--dane-only, but the resolver does not validate DNSSEC");
		return -1;
	}
	if (!(d->mxinfo.flags & MXI_SECURE)) {
		set_result(res, OUT_TEMPFAIL,
		    "--dane-only, but the MX RRset of %s is not DNSSEC-signed (TLS-RPT: dnssec-invalid)",
		    d->domain);
		return -1;
	}
	return 0;
}

static void
deliver(struct delivery *d, struct result *res)
{
	struct msg_mx_host hosts[MX_MAX];
	const char        *domain = strrchr(d->job.rcpt, '@') + 1;
	enum dns_status    st;
	size_t             i, n;

	d->domain = domain;
	n = ask_mx(d, domain, hosts, &st);
	if (d->job.j.flags & JOB_VERBOSE)
		log_info(
		    "dns: %u resolver round trips so far", d->mxinfo.waves);
	switch (st) {
	case DNS_OK:
		break;
	case DNS_NXDOMAIN:
		set_result(res, OUT_NOHOST, "domain %s does not exist", domain);
		return;
	case DNS_NULLMX:
		set_result(res, OUT_NOHOST,
		    "domain %s accepts no mail (null MX, RFC 7505)", domain);
		return;
	case DNS_BADANSWER:
		set_result(res, OUT_UNAVAILABLE, "domain %s: no usable MX host",
		    domain);
		return;
	default:
		set_result(res, OUT_TEMPFAIL, "MX lookup for %s failed: %s",
		    domain, dns_status_name(st));
		return;
	}
	if (mandatory_dane(d, res) == -1)
		return;
	for (i = 0; i < n; i++)
		log_info("MX %u %s%s (%s MX)", hosts[i].pref, hosts[i].name,
		    hosts[i].flags & MX_IMPLICIT ? " (implicit)" : "",
		    hosts[i].flags & MX_SECURE ? "secure" : "insecure");
	for (i = 0; i < n; i++)
		if (try_host(d, &hosts[i], res) == V_FINAL)
			return;
	all_failed(d, res);
}

static int
send_report(struct delivery *d, const struct result *res)
{
	static char json[PAYLOAD_MAX];

	report_json(&d->rep, d->job.rcpt,
	    res->outcome == OUT_DELIVERED ? "" : res->text, json, sizeof(json));
	return chan_compose(
	    &d->parent, MSG_REPORT, 0, -1, json, strlen(json) + 1);
}

static void
report(struct delivery *d, const struct result *res)
{
	struct msg_result r;
	char              text[sizeof(res->text) + ADDRSZ + 32];

	r.outcome = res->outcome;
	if (res->outcome == OUT_DELIVERED)
		snprintf(text, sizeof(text), "%s", res->text);
	else
		snprintf(text, sizeof(text), "not delivered to %s (%s): %s",
		    d->job.rcpt, outcome_name(res->outcome), res->text);
	if ((d->job.j.flags & JOB_JSON) && send_report(d, res) == -1)
		fatalx("parent: %s", d->parent.err);
	/* the result and every log line before it must reach the parent */
	if (chan_compose2(&d->parent, MSG_RESULT, 0, &r, sizeof(r), text) ==
	        -1 ||
	    chan_drain(&d->parent, DNS_WAIT * 1000) == -1)
		fatalx("parent: %s", d->parent.err);
}

/*
 * libtls and OpenSSL read their configuration here, before the
 * sandbox.  libtls checks no certificate: where DANE applies, tls
 * authenticates the chain itself (dane_verify()); no WebPKI store is
 * ever loaded.
 */
static struct tls_config *
tls_setup(void)
{
	struct tls_config *cfg;
	struct tls        *probe;

	/* libtls converts certificate times: read /etc/localtime now */
	tzset();
	if (tls_init() == -1 || (cfg = tls_config_new()) == NULL)
		fatalx("cannot initialise libtls");
	if (tls_config_set_protocols(
	        cfg, TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3) == -1)
		fatalx("tls_config_set_protocols: %s", tls_config_error(cfg));
	tls_config_insecure_noverifycert(cfg);
	tls_config_insecure_noverifyname(cfg);
	tls_config_insecure_noverifytime(cfg);
	/* a first context loads whatever OpenSSL loads lazily */
	if ((probe = tls_client()) == NULL || tls_configure(probe, cfg) == -1)
		fatalx("tls_configure failed");
	tls_free(probe);
	return cfg;
}

#ifdef SANDBOX_TEST
/*
 * Test builds only: MXCLIENT_FAULT_TEST=badframe makes tls send the
 * parent a frame that breaks the rules (a RESULT two octets long), then
 * wait to be stopped: the parent must cut it off and exit 75.
 */
static void
fault_test(int fd)
{
	uint8_t     buf[FRAME_HDR_SIZE + 2] = { 0 };
	uint32_t    word[3] = { MSG_RESULT, sizeof(buf), 0 };
	uint16_t    sender = PROC_TLS;
	const char *t = getenv("MXCLIENT_FAULT_TEST");

	if (t == NULL || strcmp(t, "badframe") != 0)
		return;
	memcpy(buf, word, sizeof(word));
	memcpy(buf + sizeof(word), &sender, sizeof(sender));
	if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		fatal("fault test: write");
	for (;;)
		(void)poll(NULL, 0, -1);
}
#else
static void
fault_test(int fd)
{
	(void)fd;
}
#endif

void
tls_main(int parent_fd, int dns_fd, int net_fd, const struct child_cfg *cfg)
{
	static struct delivery d;
	static struct result   res;

	chan_init(&d.parent, parent_fd, PROC_TLS, PROC_PARENT, "parent");
	chan_init(&d.dns, dns_fd, PROC_TLS, PROC_DNS, "dns");
	chan_init(&d.net, net_fd, PROC_TLS, PROC_NET, "net");
	log_init(PROC_TLS, &d.parent, 0);
	d.tlscfg = tls_setup();

	sandbox_lock(PROC_TLS, &cfg->sb);
	fault_test(parent_fd);

	read_job(&d);
	if (cfg->proxy.kind != PROXY_NONE)
		snprintf(
		    d.rep.proxy, sizeof(d.rep.proxy), "%s", cfg->proxy.text);
	if (d.job.j.deadline)
		d.deadline = mono_ms() + d.job.j.deadline * 1000LL;
	set_result(&res, OUT_TEMPFAIL, "no MX host could be tried");
	deliver(&d, &res);
	report(&d, &res);
	exit(0);
}
