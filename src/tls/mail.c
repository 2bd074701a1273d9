/*
 * The transaction: MAIL, RCPT and DATA (pipelined when offered, every
 * reply still read in order), the message streamed from the parent with
 * QUIT behind the final ".", and what the replies make of the outcome
 * (P8-P16, P20, README "Exit status").
 */
#include <stdio.h>
#include <string.h>

#include <tls.h>

#include "log.h"
#include "session.h"

/* How MAIL, RCPT and DATA went. */
struct envelope {
	enum rd      rd;      /* RD_OK, or how the connection broke */
	const char  *why;     /* ... and why */
	int          refused; /* the first step refused (0..2), or -1 */
	int          code354; /* DATA got its 354 (even after a refusal) */
	struct reply reply;   /* the reply of the refused step */
};

static const char *const steps[3] = { "MAIL FROM", "RCPT TO", "DATA" };

/* Checks that need the server's extensions, before MAIL FROM. */
static int
message_fits(struct session *s)
{
	const struct msg_body *j = &s->d->job.body;

	if ((j->flags & JOB_8BIT) && !(s->ehlo.flags & EXT_8BITMIME)) {
		set_result(s->d->res, OUT_DATAERR,
		    "%s: message has 8-bit data and the server does not offer 8BITMIME (RFC 6152)",
		    s->where);
		return 0;
	}
	if ((s->ehlo.flags & EXT_SIZE) && s->ehlo.size > 0 &&
	    j->size > s->ehlo.size) {
		set_result(s->d->res, OUT_DATAERR,
		    "%s: message of %llu octets exceeds the server's SIZE %llu",
		    s->where, (unsigned long long)j->size,
		    (unsigned long long)s->ehlo.size);
		return 0;
	}
	return 1;
}

static void
envelope_lines(
    struct session *s, char *mail, size_t mlen, char *rcpt, size_t rlen)
{
	const struct job *job = &s->d->job;
	char              params[80] = "";

	if (s->ehlo.flags & EXT_SIZE)
		snprintf(params, sizeof(params), " SIZE=%llu",
		    (unsigned long long)job->body.size);
	snprintf(mail, mlen, "MAIL FROM:<%s>%s%s", job->sender, params,
	    (job->body.flags & JOB_8BIT) ? " BODY=8BITMIME" : "");
	snprintf(rcpt, rlen, "RCPT TO:<%s>", job->rcpt);
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
static enum step
transaction_failed(struct session *s, int step, const char *what)
{
	enum outcome o =
	    s->reply.code < 500 ? OUT_TEMPFAIL : permanent_outcome(s, step);

	keep_decisive(s);
	set_result(s->d->res, o, "%s: %s: %s", s->where, what, reply_first(s));
	quit(s);
	return STEP_FINAL;
}

/*
 * Stream the message from the spool, a block at a time: four full TLS
 * records (16 KiB each, RFC 8446 §5.1) per write.  On a failure,
 * s->dot_maybe says whether an octet of the final ".\r\n" may have
 * been handed to the kernel (TLS: once a record holding one was begun,
 * since libtls may have written part of it).
 */
#define BODY_BLOCK (4 * 16384)

static int
send_body(struct session *s)
{
	static const char quit_line[] = "QUIT\r\n";
	static uint8_t    buf[BODY_BLOCK + sizeof(quit_line)];
	struct delivery  *d = s->d;
	uint64_t          wire = d->job.body.wire_size, off = 0, dot = wire - 3;
	size_t            len;
	int               rv = 0;

	while (rv == 0 && off < wire) {
		len = body_read(d, off, buf, BODY_BLOCK);
		if (off + len > dot && !s->dot_announced) {
			announce_dot(d);
			s->dot_announced = 1;
		}
		/*
		 * RFC 2920 §3.1: message content may open a group, so QUIT
		 * rides behind the final "." in the same segment and costs
		 * no round trip of its own.
		 */
		if (off + len == wire && (s->ehlo.flags & EXT_PIPELINING)) {
			memcpy(buf + len, quit_line, sizeof(quit_line) - 1);
			s->quit_sent = 1;
		}
		rv = conn_write(&s->conn, buf,
		    len + (s->quit_sent ? sizeof(quit_line) - 1 : 0),
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

/*
 * MAIL, RCPT and DATA: in one write with PIPELINING (RFC 2920), where
 * every reply is still read and checked in order; else one by one.
 */
static void
envelope_dialogue(struct session *s, struct envelope *e)
{
	static const enum timeout_stage stage[3] = { TO_MAIL, TO_RCPT,
		TO_DATA_INIT };
	char                            mail[400], rcpt[300], group[720];
	const char                     *cmds[3] = { mail, rcpt, "DATA" };
	int pipe = (s->ehlo.flags & EXT_PIPELINING) != 0, i, code;

	memset(e, 0, sizeof(*e));
	e->refused = -1;
	envelope_lines(s, mail, sizeof(mail), rcpt, sizeof(rcpt));
	if (pipe) {
		/* one write: separate ones would wait on Nagle's algorithm */
		for (i = 0; i < 3; i++)
			log_info(">>> %s", cmds[i]);
		snprintf(
		    group, sizeof(group), "%s\r\n%s\r\nDATA\r\n", mail, rcpt);
		if (conn_write(&s->conn, group, strlen(group),
		        tmo(s->d, TO_MAIL)) == -1) {
			e->rd = RD_LOST, e->why = s->conn.err;
			return;
		}
	}
	for (i = 0; i < 3 && (pipe || e->refused == -1); i++) {
		if (!pipe && send_line(s, cmds[i], stage[i]) == -1) {
			e->rd = RD_LOST, e->why = s->conn.err;
			return;
		}
		if ((e->rd = read_reply(s, tmo(s->d, stage[i]), &e->why)) !=
		    RD_OK)
			return;
		code = s->reply.code;
		e->code354 = i == 2 && code == 354;
		if (e->refused == -1 &&
		    (i == 2 ? code != 354 : code / 100 != 2)) {
			e->refused = i;
			e->reply = s->reply; /* later replies overwrite it */
		}
	}
}

/* A13: what protected the delivery, in words: "verified by TLSA ...". */
static const char *
protection(const struct session *s, char *buf, size_t len)
{
	if (s->authenticated)
		snprintf(buf, len, "%s by TLSA %s",
		    (s->d->mxinfo.flags & MXI_SECURE) ? "verified"
		                                      : "trusted (insecure MX)",
		    s->match);
	else if (s->sts_verified)
		snprintf(buf, len, "verified by the MTA-STS policy of %s",
		    s->d->domain);
	else
		snprintf(buf, len, "%s", security_level(s));
	return buf;
}

/* The message and the reply to its final ".": status known or not. */
static enum step
data(struct session *s)
{
	struct delivery *d = s->d;
	const char      *why;
	char             how[300];

	log_info(
	    "(message: %llu octets)", (unsigned long long)d->job.body.size);
	if (send_body(s) == -1) {
		d->transient = 1;
		/* without an octet of the final "." it cannot have been taken */
		if (!s->dot_maybe)
			set_result(d->res, OUT_TEMPFAIL,
			    "%s: connection failed while sending the message: %s",
			    s->where, s->conn.err);
		else
			set_result(d->res, OUT_UNKNOWN,
			    "%s: delivery status unknown: %s while the end of the message was being sent",
			    s->where, s->conn.err);
		return STEP_FINAL;
	}
	if (read_reply(s, tmo(d, TO_DATA_DONE), &why) != RD_OK) {
		/* RFC 5321 §4.5.3.2.6: it may have arrived; do not resend now */
		set_result(d->res, OUT_UNKNOWN,
		    "%s: delivery status unknown: %s after the message was sent",
		    s->where, s->conn.err ? s->conn.err : why);
		return STEP_FINAL;
	}
	if (s->reply.code / 100 != 2)
		return transaction_failed(s, 2, "end of data");
	keep_decisive(s);
	set_result(d->res, OUT_DELIVERED,
	    "delivered: %s via %s, %s%s%s, %s: %s", d->job.rcpt, s->where,
	    s->tls ? tls_conn_version(s->conn.tls) : "no TLS",
	    s->tls ? " " : "", s->tls ? tls_conn_cipher(s->conn.tls) : "",
	    protection(s, how, sizeof(how)), reply_first(s));
	quit(s); /* RFC 5321 §4.1.1.10; its failure changes nothing */
	return STEP_FINAL;
}

enum step
transaction(struct session *s)
{
	struct envelope e;
	const char     *why;

	if (!message_fits(s)) {
		quit(s);
		return STEP_FINAL;
	}
	envelope_dialogue(s, &e);
	if (e.rd != RD_OK)
		return io_failure(s, e.rd, "MAIL/RCPT/DATA", e.why);
	if (e.refused == -1)
		return data(s);
	if (e.code354) {
		/* RFC 2920 §3.1: DATA was accepted alone; end it */
		if (send_line(s, ".", TO_DATA_DONE) == 0)
			(void)read_reply(s, tmo(s->d, TO_DATA_DONE), &why);
	}
	s->reply = e.reply;
	return transaction_failed(s, e.refused, steps[e.refused]);
}
