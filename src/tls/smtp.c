/*
 * One SMTP session on a socket from net: the greeting, EHLO (HELO as a
 * fallback), STARTTLS (starttls.c) and the transaction (mail.c), and
 * QUIT.  Every reply is read whole and decided by its code only; what a
 * failure means for this host, and for the delivery, is set as a step
 * and a result (deliver.c goes on from there).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tls.h>

#include "log.h"
#include "session.h"

int
send_line(struct session *s, const char *line, enum timeout_stage st)
{
	char buf[600];
	int  n;

	log_info(">>> %s", line);
	n = snprintf(buf, sizeof(buf), "%s\r\n", line);
	return conn_write(&s->conn, buf, n, tmo(s->d, st));
}

/* Read one whole reply into s->reply. */
enum rd
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
			return s->conn.proto ? RD_BROKEN : RD_LOST;
		}
		printable(shown, line, len, sizeof(shown));
		log_info("<<< %s", shown);
	} while ((r = reply_line(&s->reply, line, len, why)) == 0);
	return r == 1 ? RD_OK : RD_BROKEN;
}

/* The first line of the last reply, for messages. */
const char *
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
void
keep_decisive(struct session *s)
{
	snprintf(s->decisive, sizeof(s->decisive), "%s", reply_first(s));
	if (reply_enhanced(&s->reply, s->esc, sizeof(s->esc)) == NULL)
		s->esc[0] = '\0';
}

void
quit(struct session *s)
{
	const char *why;

	if (s->quit_sent || send_line(s, "QUIT", TO_QUIT) == 0)
		(void)read_reply(s, tmo(s->d, TO_QUIT), &why);
}

/* T5, T6: secure TLSA records, usable or not, make TLS mandatory. */
int
tls_required(const struct session *s)
{
	return s->h->pol.policy == POLICY_DANE ||
	    s->h->pol.policy == POLICY_TLS || s->h->sts == STS_HOST_ENFORCE;
}

/* What makes TLS mandatory here, for messages. */
const char *
tls_required_by(const struct session *s)
{
	return s->h->pol.policy == POLICY_DANE || s->h->pol.policy == POLICY_TLS
	    ? "TLSA records"
	    : "an MTA-STS policy";
}

/* A reply that did not come: lost connection or broken protocol. */
enum step
io_failure(struct session *s, enum rd rd, const char *step, const char *why)
{
	/*
	 * §8: a protocol error is permanent (76) only from a host without
	 * TLSA records; before TLS anyone on the path could have caused it.
	 */
	int proto = rd == RD_BROKEN && !tls_required(s);

	if (proto)
		s->d->protocol = 1;
	else
		s->d->transient = 1;
	set_result(s->d->res, proto ? OUT_PROTOCOL : OUT_TEMPFAIL, "%s: %s: %s",
	    s->where, step, why);
	if (rd == RD_BROKEN)
		quit(s); /* P7: the connection still works */
	return STEP_NEXT;
}

/* A failure of a host that may work later, with its TLS-RPT type. */
enum step
failed(struct session *s, const char *fmt, ...)
{
	char    why[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	s->d->transient = 1;
	set_result(s->d->res, OUT_TEMPFAIL, "%s: %s", s->where, why);
	return STEP_NEXT;
}

static enum step
refused(struct session *s, const char *step)
{
	/* S10: before TLS a 5xx can be forged; never bounce on it then */
	int transient = s->reply.code < 500 || tls_required(s);

	if (transient)
		s->d->transient = 1;
	keep_decisive(s);
	set_result(s->d->res, transient ? OUT_TEMPFAIL : OUT_UNAVAILABLE,
	    "%s: %s: %s", s->where, step, reply_first(s));
	quit(s);
	return STEP_NEXT;
}

enum reply_class
reply_class(int code, int expected)
{
	if (code == expected)
		return RC_OK;
	if (code == 221 || code == 421)
		return RC_CLOSING;
	return code >= 400 ? RC_REFUSED : RC_BROKEN;
}

/*
 * A reply that is neither the success nor a refusal.  Closing: the
 * server hangs up, so no QUIT (RFC 5321 §3.8); broken: a protocol error,
 * after which the connection may still carry a QUIT (P7).
 */
enum step
unexpected(struct session *s, const char *step, enum reply_class rc)
{
	if (rc == RC_CLOSING) {
		s->d->transient = 1;
		keep_decisive(s);
		set_result(s->d->res, OUT_TEMPFAIL,
		    "%s: %s: the server is closing the connection: %s",
		    s->where, step, reply_first(s));
		return STEP_NEXT;
	}
	return io_failure(s, RD_BROKEN, step, "unexpected reply");
}

/* Send a command and read its whole reply into s->reply. */
enum step
command(struct session *s, const char *line, enum timeout_stage st,
    const char *step)
{
	const char *why;
	enum rd     rd;

	if (send_line(s, line, st) == -1)
		return io_failure(s, RD_LOST, step, s->conn.err);
	if ((rd = read_reply(s, tmo(s->d, st), &why)) != RD_OK)
		return io_failure(s, rd, step, why);
	return STEP_OK;
}

/* The reply to a command that must get `expected' to go on. */
static enum step
expect(struct session *s, const char *line, enum timeout_stage st,
    const char *step, int expected, enum reply_class *rc)
{
	enum step v;

	if ((v = command(s, line, st, step)) != STEP_OK)
		return v;
	if ((*rc = reply_class(s->reply.code, expected)) == RC_OK ||
	    *rc == RC_REFUSED)
		return STEP_OK; /* the caller decides what a refusal means */
	return unexpected(s, step, *rc);
}

/* EHLO or HELO with our name: only 250 goes on (RFC 5321 §4.1.1.1). */
static enum step
greet(struct session *s, const char *verb, enum reply_class *rc)
{
	char line[NAME_MAX_LEN + 80];

	snprintf(line, sizeof(line), "%s %s", verb, s->helo);
	return expect(s, line, TO_EHLO, verb, 250, rc);
}

/* RFC 5321 §3.2: HELO after a refused EHLO; no STARTTLS is possible then. */
static enum step
helo(struct session *s)
{
	enum reply_class rc;
	enum step        v;

	if ((v = greet(s, "HELO", &rc)) != STEP_OK)
		return v;
	if (rc == RC_REFUSED)
		return refused(s, "HELO");
	memset(&s->ehlo, 0, sizeof(s->ehlo));
	return STEP_OK;
}

enum step
ehlo(struct session *s)
{
	enum reply_class rc;
	enum step        v;

	if ((v = greet(s, "EHLO", &rc)) != STEP_OK)
		return v;
	if (rc == RC_OK) {
		ehlo_parse(&s->reply, &s->ehlo);
		return STEP_OK;
	}
	/* HELO cannot lead to STARTTLS: no use where TLS is required (S7) */
	if (s->tls || tls_required(s))
		return refused(s, "EHLO");
	return helo(s);
}

/*
 * A13: what the delivery was protected by.  M6: DANE after an insecure MX
 * lookup is "trusted", never "verified" (the MX list could be forged).
 */
const char *
security_level(const struct session *s)
{
	if (s->authenticated)
		return (s->d->mxinfo.flags & MXI_SECURE)
		    ? "verified (DANE)"
		    : "trusted (insecure MX)";
	if (s->sts_verified)
		return "verified (MTA-STS)";
	if (s->tls)
		return "encrypted (server not authenticated)";
	return "cleartext";
}

/* EHLO name: --helo, else this host's FQDN, else [our address]. */
static void
helo_name(struct session *s)
{
	const struct delivery *d = s->d;
	char                   a[INET6_ADDRSTRLEN];

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
note_session(const struct session *s, const char *addr)
{
	struct report *r = &s->d->rep;

	snprintf(r->mx, sizeof(r->mx), "%s", s->host);
	snprintf(r->address, sizeof(r->address), "%s", addr);
	snprintf(r->tls_version, sizeof(r->tls_version), "%s",
	    s->tls ? tls_conn_version(s->conn.tls) : "");
	snprintf(r->cipher, sizeof(r->cipher), "%s",
	    s->tls ? tls_conn_cipher(s->conn.tls) : "");
	snprintf(r->security, sizeof(r->security), "%s", security_level(s));
	snprintf(r->tlsa, sizeof(r->tlsa), "%s", s->match);
	if (s->decisive[0] != '\0') {
		snprintf(r->reply, sizeof(r->reply), "%s", s->decisive);
		snprintf(r->enhanced, sizeof(r->enhanced), "%s", s->esc);
		return;
	}
	/* no reply decided: the last one may be QUIT's 221, which says
	 * nothing of the message (a DANE failure is not "221 Bye") */
	r->reply[0] = '\0';
	r->enhanced[0] = '\0';
}

/* The greeting, EHLO and STARTTLS (or not): a session to send on. */
static enum step
open_session(struct session *s)
{
	enum reply_class rc;
	const char      *why;
	enum rd          rd;
	enum step        v;

	/* RFC 5321 §4.3.1: wait for the greeting */
	if ((rd = read_reply(s, tmo(s->d, TO_GREETING), &why)) != RD_OK)
		return io_failure(s, rd, "greeting", why);
	if ((rc = reply_class(s->reply.code, 220)) != RC_OK)
		return rc == RC_REFUSED ? refused(s, "greeting")
		                        : unexpected(s, "greeting", rc);
	if ((v = ehlo(s)) != STEP_OK)
		return v;
	if (s->ehlo.flags & EXT_STARTTLS)
		return starttls(s);
	if (!tls_required(s))
		return STEP_OK;
	/* S2: stripped, or a server that breaks its TLSA promise */
	v = failed(s,
	    "TLS is required (TLSA records) but STARTTLS is not offered (TLS-RPT: starttls-not-supported)");
	quit(s);
	return v;
}

/*
 * --probe: the session got as far as a delivery would before MAIL: say
 * what it reached, QUIT, and go on to the next MX host (never a MAIL).
 */
static enum step
probed(struct session *s)
{
	struct delivery *d = s->d;
	int verified = (s->authenticated && (d->mxinfo.flags & MXI_SECURE)) ||
	    s->sts_verified;

	d->probe_done = 1;
	d->probe_verified += verified;
	/* per host: its policy (DNS, MTA-STS), then the level it reached */
	log_info("probe: %s: %s%s: %s%s%s", s->where,
	    policy_name(s->h->pol.policy),
	    s->h->sts == STS_HOST_ENFORCE       ? ", MTA-STS enforce"
	        : s->h->sts == STS_HOST_TESTING ? ", MTA-STS testing"
	                                        : "",
	    security_level(s), s->authenticated ? " by TLSA " : "", s->match);
	quit(s);
	return STEP_NEXT;
}

/* One connection to one address of host h: STEP_NEXT or STEP_FINAL. */
enum step
session(struct delivery *d, const struct host *h, const char *addr, int fd)
{
	struct session s;
	enum step      v;

	memset(&s, 0, sizeof(s));
	s.d = d;
	conn_init(&s.conn, fd);
	s.h = h;
	s.host = h->mx->name;
	snprintf(s.where, sizeof(s.where), "%s [%s]", s.host, addr);
	helo_name(&s);
	if ((v = open_session(&s)) == STEP_OK)
		v = (d->job.j.flags & JOB_PROBE) ? probed(&s) : transaction(&s);
	note_session(&s, addr);
	conn_close(&s.conn);
	return v;
}
