/*
 * What the submitter adds to a message (Q3, Q4): Date and Message-ID
 * when missing (RFC 5322 §3.6: every message should have them, and
 * large receivers penalise mail without), From from the envelope sender
 * and -F, and for a body with lines over 998 octets under long-lines =
 * qp its re-encoding as quoted-printable with the MIME fields that say
 * so.  A multipart or already encoded body cannot be re-encoded: it is
 * refused like any other long line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spool.h"
#include "submit.h"

static void
add(struct sub *s, const char *fmt, const char *a, const char *b)
{
	size_t o = strlen(s->added);

	snprintf(s->added + o, sizeof(s->added) - o, fmt, a, b);
}

/* -F's name as a quoted-string: '"' and '\' escaped, controls dropped. */
static void
quoted_name(char *out, size_t size, const char *name)
{
	size_t o = 0;

	out[o++] = '"';
	for (; *name != '\0' && o + 3 < size; name++) {
		if ((unsigned char)*name < ' ' || *name == 127)
			continue;
		if (*name == '"' || *name == '\\')
			out[o++] = '\\';
		out[o++] = *name;
	}
	out[o++] = '"';
	out[o] = '\0';
}

static void
add_from(struct sub *s)
{
	char name[256], addr[ADDR_MAX + 32];

	if (s->sender[0] != '\0')
		snprintf(addr, sizeof(addr), "%s", s->sender);
	else
		snprintf(addr, sizeof(addr), "MAILER-DAEMON%s%s",
		    s->domain[0] ? "@" : "", s->domain);
	if (s->o->fullname != NULL && s->o->fullname[0] != '\0') {
		quoted_name(name, sizeof(name), s->o->fullname);
		add(s, "From: %s <%s>\n", name, addr);
	} else
		add(s, "From: %s%s\n", addr, "");
}

static void
add_date_id(struct sub *s, struct message *m)
{
	char       date[64], id[QID_LEN + 1];
	struct tm *tm;

	if (hdr_find(m, "Date", 0) == NULL &&
	    (tm = localtime(&s->now)) != NULL &&
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", tm) > 0)
		add(s, "Date: %s\n%s", date, "");
	if (hdr_find(m, "Message-ID", 0) == NULL) {
		qspool_newid(id, s->now);
		add(s, "Message-ID: <%s@%s>\n", id,
		    s->domain[0] ? s->domain : "localhost");
	}
}

/* Content-Type says multipart or message, or a CTE other than 7/8bit. */
static int
cannot_reencode(struct message *m)
{
	struct field *f;
	const char   *v;
	size_t        len;

	if ((f = hdr_find(m, "Content-Type", 0)) != NULL) {
		hdr_value(m, f, &v, &len);
		while (len > 0 && (*v == ' ' || *v == '\t'))
			v++, len--;
		if (strncasecmp(v, "multipart/", 10) == 0 ||
		    strncasecmp(v, "message/", 8) == 0)
			return 1;
	}
	if ((f = hdr_find(m, "Content-Transfer-Encoding", 0)) != NULL) {
		hdr_value(m, f, &v, &len);
		while (len > 0 && (*v == ' ' || *v == '\t'))
			v++, len--;
		if (strncasecmp(v, "7bit", 4) != 0 &&
		    strncasecmp(v, "8bit", 4) != 0)
			return 1;
	}
	return 0;
}

static void
plan_qp(struct sub *s, struct message *m)
{
	size_t i;

	if (s->conf->long_lines != CONF_LONG_QP ||
	    !body_has_long_line(m->buf + m->body, m->len - m->body) ||
	    cannot_reencode(m))
		return; /* the check after assembly refuses long lines */
	for (i = 0; i < m->nf; i++)
		if (hdr_is(m, &m->f[i], "Content-Transfer-Encoding"))
			m->f[i].gone = 1;
	if (hdr_find(m, "MIME-Version", 0) == NULL)
		add(s, "MIME-Version: 1.0\n%s%s", "", "");
	add(s, "Content-Transfer-Encoding: quoted-printable\n%s%s", "", "");
	s->qp = 1;
}

enum qerr
sub_add_fields(struct sub *s, struct message *m)
{
	s->added[0] = '\0';
	if (hdr_find(m, "From", 0) == NULL)
		add_from(s);
	add_date_id(s, m);
	plan_qp(s, m);
	return Q_OK;
}

/* The fields that stay, the added ones, the empty line, the body. */
enum qerr
sub_assemble(struct sub *s, struct message *m, char **out, size_t *olen)
{
	const char *body = m->buf + m->body;
	size_t      blen = m->len - m->body, i, o = 0, alen = strlen(s->added);
	char       *qp = NULL, *b;

	if (s->qp && (qp = qp_encode(body, blen, &blen)) == NULL)
		return Q_OSERR;
	if ((b = malloc(m->body + alen + 1 + blen + 1)) == NULL) {
		free(qp);
		return Q_OSERR;
	}
	for (i = 0; i < m->nf; i++)
		if (!m->f[i].gone) {
			memcpy(b + o, m->buf + m->f[i].off, m->f[i].len);
			o += m->f[i].len;
		}
	memcpy(b + o, s->added, alen);
	o += alen;
	b[o++] = '\n';
	memcpy(b + o, qp ? qp : body, blen);
	*olen = o + blen;
	*out = b;
	free(qp);
	return Q_OK;
}
