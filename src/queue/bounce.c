/*
 * Delivery status notifications (Q16-Q18): an RFC 3464 multipart/report
 * with a human-readable part, the message/delivery-status fields
 * (Reporting-MTA, Final-Recipient, Action, Status, Remote-MTA,
 * Diagnostic-Code, the security level mxclient reported) and the
 * original's header as text/rfc822-headers (RFC 6522).
 *
 * A failed job becomes its bounce in place: the DSN body is written
 * first (a fixed name, so doing it again after a crash rewrites the
 * same file), then the job file is replaced by a job that sends that
 * body with the null sender to the original sender.  One rename, so a
 * failure bounces exactly once.  A message with the null sender never
 * bounces (bounce storms); it, or a bounce that fails, goes to `admin'
 * when one is configured, else it is dropped with a log line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "run.h"

#define HEADERS_MAX (64 * 1024)

struct dsn {
	char  *buf;
	size_t len, cap;
};

static void put(struct dsn *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
put(struct dsn *d, const char *fmt, ...)
{
	va_list ap;
	int     n;
	char   *nb;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(d->buf + d->len, d->cap - d->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < d->cap - d->len) {
			d->len += (size_t)n;
			return;
		}
		if ((nb = realloc(d->buf, d->cap * 2 + (size_t)n)) == NULL)
			return;
		d->buf = nb;
		d->cap = d->cap * 2 + (size_t)n;
	}
}

static void
rfc5322_date(time_t t, char *out, size_t size)
{
	struct tm *tm = localtime(&t);

	if (tm == NULL ||
	    strftime(out, size, "%a, %d %b %Y %H:%M:%S %z", tm) == 0)
		snprintf(out, size, "Thu, 01 Jan 1970 00:00:00 +0000");
}

/* The original's header section, at most HEADERS_MAX octets. */
static void
put_headers(struct dsn *d, int dirfd, const char *body)
{
	char  *buf, *end;
	size_t len;

	if (qspool_read(dirfd, body, &buf, &len, 64u * 1024 * 1024) == -1) {
		put(d, "(the message could not be read)\n");
		return;
	}
	end = strstr(buf, "\n\n");
	len = end ? (size_t)(end - buf) + 1 : len;
	if (len > HEADERS_MAX)
		len = HEADERS_MAX;
	put(d, "%.*s", (int)len, buf);
	free(buf);
}

static const char *
status_of(const struct job *j, int delayed)
{
	if (j->last[AT_STATUS][0] != '\0')
		return j->last[AT_STATUS];
	if (delayed)
		return "4.0.0";
	return j->last_exit == 75 ? "4.4.7" : "5.0.0";
}

static void
put_human(
    struct dsn *d, const struct runner *r, const struct job *j, int delayed)
{
	put(d, "This is the mail system at %s (mxqueue).\n\n", r->host);
	if (delayed)
		put(d,
		    "Your message to <%s> could not be delivered yet.\n"
		    "It will be retried until %u days after it was sent; "
		    "you need not send it again.\n\n",
		    j->rcpt, r->c->lifetime / 86400);
	else
		put(d, "Your message to <%s> could not be delivered.\n\n",
		    j->rcpt);
	put(d,
	    "Attempts: %u\nMX: %s [%s]\nSecurity: %s\nReply: %s\n"
	    "Reason: %s\n",
	    j->attempts, j->last[AT_MX][0] ? j->last[AT_MX] : "none",
	    j->last[AT_ADDRESS][0] ? j->last[AT_ADDRESS] : "none",
	    j->last[AT_SECURITY][0] ? j->last[AT_SECURITY] : "none",
	    j->last[AT_REPLY][0] ? j->last[AT_REPLY] : "none",
	    j->last[AT_REASON][0] ? j->last[AT_REASON] : "none");
}

static void
put_status(struct dsn *d, const struct runner *r, const struct job *j,
    const char *id, int delayed)
{
	char date[64];

	rfc5322_date((time_t)j->created, date, sizeof(date));
	put(d,
	    "Reporting-MTA: dns; %s\nX-Mxqueue-Queue-ID: %s\n"
	    "Arrival-Date: %s\n\n",
	    r->host, id, date);
	rfc5322_date(r->now, date, sizeof(date));
	put(d, "Final-Recipient: rfc822; %s\nAction: %s\nStatus: %s\n", j->rcpt,
	    delayed ? "delayed" : "failed", status_of(j, delayed));
	if (j->last[AT_MX][0] != '\0')
		put(d, "Remote-MTA: dns; %s\n", j->last[AT_MX]);
	if (j->last[AT_REPLY][0] != '\0')
		put(d, "Diagnostic-Code: smtp; %s\n", j->last[AT_REPLY]);
	else
		put(d, "Diagnostic-Code: X-mxqueue; %s\n",
		    j->last[AT_REASON][0] ? j->last[AT_REASON] : "failed");
	put(d, "Last-Attempt-Date: %s\nX-Mxqueue-Security: %s\n", date,
	    j->last[AT_SECURITY][0] ? j->last[AT_SECURITY] : "none");
}

/* The whole DSN about job j (named `name' of message `id'), to `to'. */
static struct dsn
make_dsn(const struct runner *r, int dirfd, const char *id, const char *name,
    const struct job *j, const char *to, int delayed)
{
	struct dsn d = { malloc(8192), 0, 8192 };
	char       date[64];

	if (d.buf == NULL)
		return d;
	rfc5322_date(r->now, date, sizeof(date));
	put(&d,
	    "From: Mail Delivery System <MAILER-DAEMON@%s>\nTo: <%s>\n"
	    "Subject: %s\nDate: %s\nMessage-ID: <%s.%s.%s@%s>\n"
	    "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status;"
	    "\n boundary=\"%s/%s\"\n\n"
	    "This is a MIME-encapsulated message.\n\n--%s/%s\n"
	    "Content-Type: text/plain; charset=us-ascii\n"
	    "Content-Description: Notification\n\n",
	    r->host, to,
	    delayed ? "Delayed Mail (still being retried)"
	            : "Undelivered Mail Returned to Sender",
	    date, id, name, delayed ? "delay" : "dsn", r->host, id, name, id,
	    name);
	put_human(&d, r, j, delayed);
	put(&d, "\n--%s/%s\nContent-Type: message/delivery-status\n\n", id,
	    name);
	put_status(&d, r, j, id, delayed);
	put(&d,
	    "\n--%s/%s\nContent-Type: text/rfc822-headers\n"
	    "Content-Description: Undelivered Message Headers\n\n",
	    id, name);
	put_headers(&d, dirfd, j->body);
	put(&d, "\n--%s/%s--\n", id, name);
	return d;
}

/* A new job that sends `body' with the null sender to `to'. */
static void
dsn_job(struct runner *r, const struct job *j, enum job_kind kind,
    const char *to, const char *body, struct job *n)
{
	job_init(n);
	n->kind = kind;
	snprintf(n->rcpt, sizeof(n->rcpt), "%s", to);
	snprintf(n->orig, sizeof(n->orig), "%s", j->rcpt);
	snprintf(n->body, sizeof(n->body), "%s", body);
	n->created = n->next = r->now;
}

static int
write_dsn(struct runner *r, int dirfd, const char *id, const char *name,
    struct job *j, enum job_kind kind, const char *to, int delayed, char *body,
    size_t bsz)
{
	char       buf[8192];
	struct dsn d;
	struct job n;
	size_t     len;
	int        rc;

	snprintf(body, bsz, "%s.%s", delayed ? "delay" : "dsn", name);
	d = make_dsn(r, dirfd, id, name, j, to, delayed);
	rc = d.buf == NULL ? -1 : qspool_write(dirfd, body, d.buf, d.len, 0600);
	free(d.buf);
	if (rc == -1 || delayed)
		return rc;
	dsn_job(r, j, kind, to, body, &n);
	if ((len = job_format(&n, buf, sizeof(buf))) == 0)
		return -1;
	return qspool_write(dirfd, name, buf, len, 0640);
}

void
bounce_job(struct runner *r, int dirfd, const char *id, const char *name,
    struct job *j)
{
	const char   *to = NULL;
	enum job_kind kind = JOB_BOUNCE;
	char          body[NAME_LEN + 8];

	if (j->kind == JOB_NORMAL && j->sender[0] != '\0')
		to = j->sender;
	else if (j->kind != JOB_DOUBLE && j->kind != JOB_WARNING &&
	    r->c->admin[0] != '\0') {
		to = r->c->admin;
		kind = JOB_DOUBLE;
	}
	if (to == NULL) {
		if (unlinkat(dirfd, name, 0) == 0)
			fsync(dirfd);
		qlog(LOG_WARNING,
		    "%s: to=<%s>: failed, no bounce (null sender%s)", id,
		    j->rcpt, j->kind == JOB_NORMAL ? "" : ", a DSN");
		return;
	}
	if (write_dsn(r, dirfd, id, name, j, kind, to, 0, body, sizeof(body)) ==
	    -1)
		qwarn("%s: to=<%s>: cannot write the bounce", id, j->rcpt);
	else
		qlog(LOG_NOTICE, "%s: to=<%s>: bounced: %s to <%s>", id,
		    j->rcpt, kind == JOB_BOUNCE ? "DSN" : "double bounce", to);
}

/*
 * Delay warning (delay-warning > 0): a DSN with Action: delayed as a
 * job "wN" of its own, then the job marked as warned.
 */
void
warn_job(struct runner *r, int dirfd, const char *id, const char *name,
    struct job *j)
{
	char       body[NAME_LEN + 8], wname[NAME_LEN + 2], buf[8192];
	struct job n;
	size_t     len;

	if (j->kind != JOB_NORMAL || j->sender[0] == '\0' || name[0] == 'w')
		return;
	if (write_dsn(r, dirfd, id, name, j, JOB_WARNING, j->sender, 1, body,
	        sizeof(body)) == -1)
		return;
	dsn_job(r, j, JOB_WARNING, j->sender, body, &n);
	snprintf(wname, sizeof(wname), "w%s", name);
	if ((len = job_format(&n, buf, sizeof(buf))) == 0 ||
	    qspool_write(dirfd, wname, buf, len, 0640) == -1)
		return;
	j->warned = 1;
	if ((len = job_format(j, buf, sizeof(buf))) > 0 &&
	    qspool_write(dirfd, name, buf, len, 0640) == 0)
		qlog(LOG_NOTICE, "%s: to=<%s>: delay warning to <%s>", id,
		    j->rcpt, j->sender);
}
