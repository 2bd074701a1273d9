/*
 * The runner, mxqueue -q (Q11): init (spool, the queue owner's
 * identity, mxclient beside this program) → lock down (write only the
 * spool, execute only mxclient) → import new submissions, then run the
 * due jobs, at most `parallelism' at once and `domain-parallelism' per
 * recipient domain, until none is left; it returns once every mxclient
 * it started has finished.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "addr.h"
#include "run.h"

#define PASSES_MAX 4
#define TMP_AGE    86400 /* a submitter's leftover in tmp/ */

struct cand {
	char    id[QID_LEN + 1];
	char    name[NAME_LEN];
	char    domain[ADDR_MAX];
	int64_t next;
	int     done;
};

struct cands {
	struct cand *c;
	size_t       n, cap;
};

static int
open_sub(struct runner *r, const char *sub)
{
	int fd = openat(r->spoolfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1 && errno == ENOENT && mkdirat(r->spoolfd, sub, 0750) == 0)
		fd =
		    openat(r->spoolfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd;
}

/* Started as root, the runner becomes the spool's owner (Q8). */
static enum qerr
become_owner(struct runner *r)
{
	struct stat    st;
	struct passwd *pw;

	if (fstat(r->spoolfd, &st) == -1)
		return Q_CONFIG;
	if (geteuid() != 0)
		return geteuid() == st.st_uid ? Q_OK : Q_NOPERM;
	if (st.st_uid == 0)
		return Q_OK; /* a private spool of root's (tests) */
	if ((pw = getpwuid(st.st_uid)) == NULL) {
		qwarn("spool %s: its owner uid %u has no name", r->spool,
		    (unsigned)st.st_uid);
		return Q_CONFIG;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		qwarn("cannot become %s: %s", pw->pw_name, strerror(errno));
		return Q_OSERR;
	}
	return Q_OK;
}

/*
 * The configured mxclient, else the one beside this program (a build
 * tree), else the one make install put in BINDIR (Q15: mxqueue lives in
 * sbin, mxclient in bin).
 */
static enum qerr
find_mxclient(struct runner *r)
{
	char self[CONF_PATH_MAX];

	if (r->c->mxclient[0] != '\0')
		snprintf(
		    r->mxclient, sizeof(r->mxclient), "%s", r->c->mxclient);
	else {
		snprintf(self, sizeof(self), "%s", r->o->self);
		snprintf(r->mxclient, sizeof(r->mxclient), "%s/mxclient",
		    dirname(self));
		if (access(r->mxclient, X_OK) == -1)
			snprintf(r->mxclient, sizeof(r->mxclient), "%s",
			    MXCLIENT_PATH);
	}
	if (access(r->mxclient, X_OK) == -1) {
		qwarn("mxclient %s: %s (set mxclient in %s)", r->mxclient,
		    strerror(errno), CONF_DEFAULT_PATH);
		return Q_CONFIG;
	}
	return Q_OK;
}

static enum qerr
init(struct runner *r, const struct opts *o, const struct conf *c)
{
	enum qerr e;

	r->o = o;
	r->c = c;
	r->now = q_now(o);
	snprintf(
	    r->spool, sizeof(r->spool), "%s", o->spool ? o->spool : c->spool);
	if ((r->spoolfd = open(r->spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		qwarn("spool %s: %s", r->spool, strerror(errno));
		return Q_CONFIG;
	}
	if ((e = become_owner(r)) != Q_OK || (e = find_mxclient(r)) != Q_OK)
		return e;
	if ((r->tmpfd = open_sub(r, "tmp")) == -1 ||
	    (r->newfd = open_sub(r, "new")) == -1 ||
	    (r->queuefd = open_sub(r, "queue")) == -1 ||
	    close(open_sub(r, "run")) == -1) {
		qwarn("spool %s: %s", r->spool, strerror(errno));
		return Q_CONFIG;
	}
	snprintf(r->tmpdir, sizeof(r->tmpdir), "%s/run", r->spool);
	snprintf(r->host, sizeof(r->host), "%s", c->helo);
	if (r->host[0] == '\0' && gethostname(r->host, sizeof(r->host)) == -1)
		snprintf(r->host, sizeof(r->host), "localhost");
	tzset();
	return Q_OK;
}

/* Submissions a killed submitter left half-written in tmp/. */
static void
clean_tmp(struct runner *r)
{
	DIR           *d;
	struct dirent *e;
	struct stat    st;

	if ((d = qspool_opendir(r->tmpfd, ".")) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' &&
		    fstatat(r->tmpfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		        0 &&
		    S_ISREG(st.st_mode) && st.st_mtime + TMP_AGE < r->now)
			unlinkat(r->tmpfd, e->d_name, 0);
	closedir(d);
}

static void
add_cand(
    struct cands *cs, const char *id, const char *name, const struct job *j)
{
	struct cand *n;

	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? cs->cap * 2 : 256;
		if ((n = realloc(cs->c, cs->cap * sizeof(*n))) == NULL)
			return;
		cs->c = n;
	}
	n = &cs->c[cs->n++];
	snprintf(n->id, sizeof(n->id), "%s", id);
	snprintf(n->name, sizeof(n->name), "%.15s", name);
	snprintf(n->domain, sizeof(n->domain), "%s", addr_domain(j->rcpt));
	n->next = j->next;
	n->done = 0;
}

/* The due jobs of one message directory. */
static void
scan_message(struct runner *r, struct cands *cs, const char *id)
{
	DIR           *d;
	struct dirent *e;
	struct job     j;
	char          *buf;
	size_t         len;
	int            jobs = 0;

	if (faccessat(r->newfd, id, F_OK, 0) == 0)
		return; /* its import is not finished */
	if ((d = qspool_opendir(r->queuefd, id)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (!is_job_name(e->d_name))
			continue;
		jobs++;
		if (qspool_read(dirfd(d), e->d_name, &buf, &len, 16384) == 0 &&
		    job_parse(buf, len, &j) == 0 && job_due(r, id, &j))
			add_cand(cs, id, e->d_name, &j);
		free(buf);
	}
	if (jobs == 0)
		remove_if_done(r, dirfd(d), id);
	closedir(d);
}

static int
by_next(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return (x->next > y->next) - (x->next < y->next);
}

static void
scan(struct runner *r, struct cands *cs)
{
	DIR           *d;
	struct dirent *e;

	cs->n = 0;
	if ((d = qspool_opendir(r->queuefd, ".")) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (qspool_valid_id(e->d_name))
			scan_message(r, cs, e->d_name);
	closedir(d);
	qsort(cs->c, cs->n, sizeof(*cs->c), by_next);
}

static int
domain_running(const struct runner *r, const char *domain)
{
	int i, n = 0;

	for (i = 0; i < SLOTS_MAX; i++)
		n += r->slot[i].pid != 0 &&
		    strcasecmp(r->slot[i].domain, domain) == 0;
	return n;
}

/* Wait for one mxclient and record its result. */
static void
reap(struct runner *r)
{
	pid_t pid;
	int   st, i;

	while ((pid = waitpid(-1, &st, 0)) == -1 && errno == EINTR)
		;
	if (pid == -1) {
		r->running = 0;
		return;
	}
	r->now = q_now(r->o);
	for (i = 0; i < SLOTS_MAX; i++)
		if (r->slot[i].pid == pid)
			job_finish(r, &r->slot[i], st);
}

static int
try_start(struct runner *r, struct cand *c)
{
	enum claim cl;
	int        dfd;

	if ((dfd = openat(r->queuefd, c->id,
	         O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		c->done = 1;
		return 0;
	}
	cl = job_start(r, c->id, c->name, dfd);
	close(dfd);
	c->done = cl != CL_SKIP;
	return cl == CL_STARTED;
}

/* Start what the limits allow; 0 when nothing is left to start. */
static int
start_some(struct runner *r, struct cands *cs)
{
	size_t i, left = 0;

	for (i = 0; i < cs->n; i++) {
		if (cs->c[i].done)
			continue;
		if (r->running >= (int)r->c->parallelism) {
			left++;
			continue;
		}
		if (domain_running(r, cs->c[i].domain) >=
		    (int)r->c->domain_parallelism) {
			left++;
			continue;
		}
		try_start(r, &cs->c[i]);
		left += !cs->c[i].done;
	}
	return left > 0;
}

/* One pass over the queue; the number of jobs it found due. */
static size_t
run_pass(struct runner *r, struct cands *cs)
{
	r->now = q_now(r->o);
	import_new(r);
	scan(r, cs);
	while (start_some(r, cs) || r->running > 0)
		if (r->running > 0)
			reap(r);
	return cs->n;
}

enum qerr
run_main(const struct opts *o, const struct conf *c)
{
	static struct runner r;
	struct qsandbox      sb;
	struct cands         cs = { NULL, 0, 0 };
	enum qerr            e;
	int                  pass;

	if ((e = init(&r, o, c)) != Q_OK)
		return e;
	sb = (struct qsandbox){ r.spoolfd, -1, -1, r.mxclient };
	qsandbox_lock(QR_RUN, &sb);
	clean_tmp(&r);
	for (pass = 0; pass < PASSES_MAX; pass++, r.pass++)
		if (run_pass(&r, &cs) == 0)
			break;
	free(cs.c);
	if (r.delivered + r.deferred + r.bounced > 0)
		qlog(LOG_INFO, "run: %u delivered, %u deferred, %u bounced",
		    r.delivered, r.deferred, r.bounced);
	return Q_OK;
}
