/*
 * Submission (mxqueue [flags] [rcpt ...], sendmail, Q1-Q9): read the
 * message, take recipients from the command line and, with -t, from
 * To/Cc/Bcc (or Resent-*), map local names through the aliases, drop
 * Bcc, add Date, Message-ID and From when missing, check the result as
 * mxclient will (long lines re-encoded or refused), and queue it as one
 * file: written in tmp/, fsync()ed, renamed into new/ without replacing
 * anything, new/ fsync()ed.  Exit 0 only after that (Q5).
 *
 * Init (configuration, spool directories, user, host name) → lock down
 * (write tmp/ and new/ only) → read, check, write.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "header.h"
#include "addr.h"
#include "norm.h"
#include "spool.h"
#include "submit.h"

#define MSG_MAX (64u * 1024 * 1024)

static enum qerr read_message(int, int, struct message *);
static enum qerr fix_headers(struct sub *, struct message *);

/* Where the message goes: the envelope being built. */
static enum qerr
add_rcpt(struct sub *s, const char *a)
{
	int i;

	for (i = 0; i < s->nrcpts; i++)
		if (strcasecmp(s->rcpts[i], a) == 0)
			return Q_OK; /* once per recipient */
	if (s->nrcpts == RCPT_MAX) {
		qwarn("more than %d recipients", RCPT_MAX);
		return Q_USAGE;
	}
	snprintf(s->rcpts[s->nrcpts++], ADDR_MAX, "%s", a);
	return Q_OK;
}

/*
 * A recipient as given: an address, or a local name that the aliases
 * (then "default") map, or that the configured domain qualifies.
 */
enum qerr
sub_recipient(struct sub *s, const char *a)
{
	const struct conf_alias *al;
	char                     q[ADDR_MAX + 8];
	const char              *why;
	enum qerr                e = Q_OK;
	size_t                   i;

	if (strchr(a, '@') == NULL && (al = conf_alias(s->conf, a)) != NULL) {
		for (i = 0; i < al->ntargets && e == Q_OK; i++)
			e = add_rcpt(s, al->targets[i]);
		return e;
	}
	if (strchr(a, '@') == NULL && s->domain[0] != '\0') {
		snprintf(q, sizeof(q), "%s@%s", a, s->domain);
		a = q;
	}
	if (strchr(a, '@') == NULL) {
		qwarn("%s: a local name, and no alias nor domain in %s", a,
		    s->conf->path[0] ? s->conf->path : CONF_DEFAULT_PATH);
		return Q_NOUSER;
	}
	if ((why = addr_check(a, 0)) != NULL) {
		qwarn("bad recipient address %s: %s", a, why);
		return s->from_header ? Q_DATA : Q_USAGE;
	}
	return add_rcpt(s, a);
}

static int
header_rcpt(void *arg, const char *a)
{
	return sub_recipient(arg, a) == Q_OK ? 0 : -1;
}

/* -t: To, Cc and Bcc, or the Resent- ones when there are any. */
static enum qerr
rcpts_from_headers(struct sub *s, struct message *m)
{
	static const char *plain[] = { "To", "Cc", "Bcc" };
	static const char *resent[] = { "Resent-To", "Resent-Cc",
		"Resent-Bcc" };
	const char       **names = plain, *v;
	size_t             i, j, len;
	int                before = s->nrcpts;

	for (i = 0; i < 3; i++)
		if (hdr_find(m, resent[i], 0) != NULL)
			names = resent;
	s->from_header = 1;
	for (i = 0; i < 3; i++)
		for (j = 0; j < m->nf; j++) {
			if (!hdr_is(m, &m->f[j], names[i]))
				continue;
			hdr_value(m, &m->f[j], &v, &len);
			if (addrlist_parse(v, len, header_rcpt, s) == -1) {
				qwarn(
				    "-t: cannot read the %s: field", names[i]);
				return Q_DATA;
			}
		}
	s->from_header = 0;
	(void)before;
	return Q_OK;
}

/* The envelope + the message, as new/ID holds it. */
static enum qerr
spool_image(
    struct sub *s, const char *msg, size_t mlen, char **img, size_t *ilen)
{
	size_t cap = 256 + (size_t)s->nrcpts * (ADDR_MAX + 16) + mlen, o;
	int    i, n;

	if ((*img = malloc(cap)) == NULL)
		return Q_OSERR;
	n = snprintf(*img, cap, ENV_MAGIC "\nsender %s\ncreated %lld\n",
	    s->sender, (long long)s->now);
	o = (size_t)n;
	for (i = 0; i < s->nrcpts; i++)
		o += (size_t)snprintf(
		    *img + o, cap - o, "recipient %s\n", s->rcpts[i]);
	(*img)[o++] = '\n';
	memcpy(*img + o, msg, mlen);
	*ilen = o + mlen;
	return Q_OK;
}

/* tmp/ID → new/ID: fsync, rename that never replaces, fsync new/. */
static enum qerr
spool_commit(struct sub *s, const char *img, size_t len)
{
	int fd, tries;

	for (tries = 0; tries < 10; tries++) {
		qspool_newid(s->id, s->now);
		fd = openat(s->tmpfd, s->id,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (fd == -1 && errno == EEXIST)
			continue;
		if (fd == -1 || write_all(fd, img, len) == -1 ||
		    fsync(fd) == -1 || close(fd) == -1)
			break;
		if (renameat2(s->tmpfd, s->id, s->newfd, s->id,
		        RENAME_NOREPLACE) == 0)
			return fsync(s->newfd) == -1 ? Q_IOERR : Q_OK;
		if (errno != EEXIST)
			break;
		unlinkat(s->tmpfd, s->id, 0);
	}
	qwarn("cannot queue the message in %s: %s", s->spool, strerror(errno));
	unlinkat(s->tmpfd, s->id, 0);
	return errno == ENOSPC || errno == EDQUOT ? Q_TEMPFAIL : Q_CANTCREAT;
}

/* The message as mxclient will check it (NUL, bare CR, 998 octets). */
static enum qerr
check_like_mxclient(const char *msg, size_t len)
{
	static uint8_t out[2 * 4096 + 8];
	struct norm    n;
	size_t         i;

	norm_init(&n);
	for (i = 0; i < len && n.err == NORM_OK; i += 4096)
		norm_feed(&n, (const uint8_t *)msg + i,
		    len - i < 4096 ? len - i : 4096, out);
	if (n.err == NORM_OK)
		norm_finish(&n, out);
	if (n.err == NORM_OK)
		return Q_OK;
	qwarn("message not queued: line %llu: %s", (unsigned long long)n.line,
	    norm_strerror(n.err));
	return Q_DATA;
}

/* Lock down, read, check, queue. */
enum qerr
submit_main(const struct opts *o, const struct conf *c)
{
	static struct sub s;
	struct message    m;
	char             *msg = NULL, *img = NULL;
	size_t            mlen = 0, ilen;
	enum qerr         e;
	int               i;

	if ((e = sub_init(&s, o, c)) != Q_OK)
		return e;
	sub_lock(&s);
	memset(&m, 0, sizeof(m));
	if ((e = read_message(STDIN_FILENO, o->iflag, &m)) != Q_OK)
		return e;
	for (i = 0; i < o->nrcpts && e == Q_OK; i++)
		e = sub_recipient(&s, o->rcpts[i]);
	if (e == Q_OK && o->tflag)
		e = rcpts_from_headers(&s, &m);
	if (e == Q_OK && s.nrcpts == 0) {
		qwarn("no recipients (give some, or -t with To/Cc/Bcc)");
		e = Q_USAGE;
	}
	if (e == Q_OK)
		e = fix_headers(&s, &m);
	if (e == Q_OK && !s.qp) /* line numbers of the input, as given */
		e = check_like_mxclient(m.buf, m.len);
	if (e == Q_OK)
		e = sub_assemble(&s, &m, &msg, &mlen);
	if (e == Q_OK)
		e = check_like_mxclient(msg, mlen);
	if (e == Q_OK)
		e = spool_image(&s, msg, mlen, &img, &ilen);
	if (e == Q_OK)
		e = spool_commit(&s, img, ilen);
	if (e == Q_OK)
		sub_done(&s, mlen);
	free(msg);
	free(img);
	free(m.buf);
	return e;
}

/* Grow buf by one read; 0 at the end of input. */
static ssize_t
read_more(int fd, char **buf, size_t *cap, size_t len)
{
	ssize_t n;
	char   *nb;

	if (len + 65536 > *cap) {
		*cap = (*cap + 65536) * 2;
		if ((nb = realloc(*buf, *cap)) == NULL)
			return -1;
		*buf = nb;
	}
	do
		n = read(fd, *buf + len, *cap - len - 1);
	while (n == -1 && errno == EINTR);
	return n;
}

/*
 * The whole message, CRLF turned into LF, ending in LF.  Without -i a
 * line holding only "." ends it (sendmail's rule); a leading mbox
 * "From " line is dropped.
 */
static enum qerr
read_message(int fd, int iflag, struct message *m)
{
	size_t  cap = 0, len = 0, i, o = 0, line = 0;
	ssize_t n;
	char   *b = NULL;

	while ((n = read_more(fd, &b, &cap, len)) > 0)
		if ((len += (size_t)n) > MSG_MAX) {
			qwarn("message larger than %u octets", MSG_MAX);
			free(b);
			return Q_DATA;
		}
	if (n == -1) {
		qwarn("reading the message: %s", strerror(errno));
		free(b);
		return Q_IOERR;
	}
	if (b == NULL && (b = malloc(2)) == NULL)
		return Q_OSERR;
	for (i = 0; i < len; i++) {
		if (b[i] == '\r' && i + 1 < len && b[i + 1] == '\n')
			continue;
		b[o++] = b[i];
		if (b[i] != '\n')
			continue;
		if (!iflag && o - line == 2 && b[line] == '.') {
			o = line;
			break;
		}
		line = o;
	}
	if (o > 0 && b[o - 1] != '\n')
		b[o++] = '\n';
	if (o >= 5 && strncmp(b, "From ", 5) == 0) {
		line = (size_t)((char *)memchr(b, '\n', o) - b) + 1;
		memmove(b, b + line, o - line);
		o -= line;
	}
	m->buf = b;
	m->len = o;
	return hdr_split(m) == HDR_OK
	    ? Q_OK
	    : (qwarn("too many header fields"), Q_DATA);
}

/* Bcc and Resent-Bcc never reach the stored message (Q2). */
static enum qerr
fix_headers(struct sub *s, struct message *m)
{
	size_t i;

	for (i = 0; i < m->nf; i++)
		if (hdr_is(m, &m->f[i], "Bcc") ||
		    hdr_is(m, &m->f[i], "Resent-Bcc"))
			m->f[i].gone = 1;
	return sub_add_fields(s, m);
}
