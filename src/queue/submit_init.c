/*
 * The submitter's set-up, done before it locks down: the envelope
 * sender and the domain for local names, the spool's tmp/ and new/
 * (opened now; after lock-down no path can be opened), syslog, and with
 * run-on-submit a helper forked now that starts "mxqueue -q" once the
 * message is queued, so that the locked-down submitter never needs
 * exec (Q8).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "addr.h"
#include "submit.h"

static void
find_domain(struct sub *s)
{
	char host[256];

	if (s->conf->domain[0] != '\0') {
		snprintf(s->domain, sizeof(s->domain), "%s", s->conf->domain);
		return;
	}
	if (gethostname(host, sizeof(host)) == 0 && strchr(host, '.') != NULL)
		snprintf(s->domain, sizeof(s->domain), "%s", host);
}

/* -f/-r, else the login name; local names get the domain. */
static enum qerr
find_sender(struct sub *s)
{
	const char    *f = s->o->sender, *why;
	struct passwd *pw;

	if (f != NULL &&
	    (strcmp(f, "") == 0 || strcmp(f, "<>") == 0 ||
	        strcasecmp(f, "MAILER-DAEMON") == 0))
		return Q_OK; /* the null sender */
	if (f == NULL) {
		if ((pw = getpwuid(getuid())) == NULL) {
			qwarn("no -f and no name for uid %u", getuid());
			return Q_USAGE;
		}
		f = pw->pw_name;
	}
	if (strchr(f, '@') == NULL && s->domain[0] == '\0') {
		qwarn("sender %s: give -f user@domain, or set domain in %s", f,
		    CONF_DEFAULT_PATH);
		return Q_USAGE;
	}
	snprintf(s->sender, sizeof(s->sender), strchr(f, '@') ? "%s" : "%s@%s",
	    f, s->domain);
	if ((why = addr_check(s->sender, 0)) != NULL) {
		qwarn("bad sender address %s: %s", s->sender, why);
		return Q_USAGE;
	}
	return Q_OK;
}

static int
open_dir(const char *spool, const char *sub)
{
	char path[CONF_PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/%s", spool, sub);
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* The kick helper: waits for one octet, then starts a detached runner. */
static void
kicker(struct sub *s, int rd)
{
	char        c, *argv[8];
	int         n = 0, fd;
	const char *cfg = s->o->config;

	if (read(rd, &c, 1) != 1)
		_exit(0);
	if (fork() != 0)
		_exit(0);
	setsid();
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	}
	argv[n++] = "mxqueue";
	argv[n++] = "-q";
	if (cfg != NULL) {
		argv[n++] = "--config";
		argv[n++] = (char *)cfg;
	}
	argv[n++] = "--spool";
	argv[n++] = s->spool;
	argv[n] = NULL;
	execv(s->o->self, argv);
	_exit(71);
}

static enum qerr
start_kicker(struct sub *s)
{
	int   p[2];
	pid_t pid;

	s->kickfd = -1;
	if (!s->conf->run_on_submit)
		return Q_OK;
	if (pipe2(p, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		qwarn("run-on-submit: %s", strerror(errno));
		return Q_OSERR;
	}
	if (pid == 0) {
		close(p[1]);
		kicker(s, p[0]);
	}
	close(p[0]);
	s->kickfd = p[1];
	return Q_OK;
}

enum qerr
sub_init(struct sub *s, const struct opts *o, const struct conf *c)
{
	enum qerr e;

	memset(s, 0, sizeof(*s));
	s->o = o;
	s->conf = c;
	s->now = q_now(o);
	snprintf(
	    s->spool, sizeof(s->spool), "%s", o->spool ? o->spool : c->spool);
	find_domain(s);
	if ((e = find_sender(s)) != Q_OK)
		return e;
	if ((s->tmpfd = open_dir(s->spool, "tmp")) == -1 ||
	    (s->newfd = open_dir(s->spool, "new")) == -1) {
		qwarn("spool %s: %s (see make install-queue)", s->spool,
		    strerror(errno));
		return Q_CONFIG;
	}
	tzset(); /* /etc/localtime, for Date: */
	return start_kicker(s);
}

void
sub_lock(struct sub *s)
{
	struct qsandbox sb = { -1, s->tmpfd, s->newfd, NULL };

	qsandbox_lock(QR_SUBMIT, &sb);
}

/* Q10: one line per submission; then the kick, if any. */
void
sub_done(struct sub *s, size_t size)
{
	char   list[1024];
	int    i;
	size_t o = 0;

	list[0] = '\0';
	for (i = 0; i < s->nrcpts && o < sizeof(list) - 1; i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s<%s>",
		    i ? "," : "", s->rcpts[i]);
	qlog(LOG_INFO, "%s: submitted: from=<%s>, to=%s, size=%zu, nrcpt=%d",
	    s->id, s->sender, list, size, s->nrcpts);
	if (s->kickfd != -1 && write(s->kickfd, "1", 1) != 1)
		qwarn("run-on-submit: %s", strerror(errno));
}
