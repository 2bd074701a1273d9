/*
 * One job: claim it, run mxclient on it, record what happened (Q11-Q15).
 *
 * Claim: the job file is opened and flock()ed (LOCK_NB: a job another
 * runner holds is skipped), then checked to be still the file of that
 * name (a job rewritten or removed meanwhile is skipped) and due.
 * mxclient inherits the locked descriptor, so the job stays claimed for
 * as long as mxclient runs, even if this runner dies.
 *
 * Attempt K writes mxclient's JSON report straight into "N.rK" in the
 * message directory (--status-fd), so the outcome survives a runner
 * killed between mxclient's exit and the job update: the next runner
 * finds the report and records it instead of sending again.  Only a
 * report saying "unknown" (or none at all: mxclient itself killed)
 * leads to a second send.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "addr.h"
#include "fds.h"
#include "run.h"

#define JOB_FILE_MAX 16384
#define REPORT_MAX   65536

/* Due now, or forced by -qI id / -qR domain; never when held. */
int
job_due(const struct runner *r, const char *id, const struct job *j)
{
	const char *d = addr_domain(j->rcpt);
	size_t      dl = strlen(d), tl;

	if (j->held)
		return 0;
	if (r->pass > 0) /* later passes: the DSNs and imports of this run */
		return j->attempts == 0 && j->next <= r->now;
	if (r->o->target == NULL)
		return j->next <= r->now;
	if (!r->o->qr)
		return strcmp(r->o->target, id) == 0;
	tl = strlen(r->o->target);
	return strcasecmp(d, r->o->target) == 0 ||
	    (dl > tl && d[dl - tl - 1] == '.' &&
	        strcasecmp(d + dl - tl, r->o->target) == 0);
}

/* The job from its locked descriptor; -1 if gone or renamed over. */
static int
reread(int dirfd, const char *name, int fd, struct job *j)
{
	struct stat a, b;
	char        buf[JOB_FILE_MAX];
	ssize_t     n;

	if (fstat(fd, &a) == -1 || a.st_nlink == 0 ||
	    fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == -1 ||
	    a.st_ino != b.st_ino || a.st_dev != b.st_dev)
		return -1;
	if ((n = pread(fd, buf, sizeof(buf), 0)) <= 0 ||
	    (size_t)n == sizeof(buf))
		return -1;
	return job_parse(buf, (size_t)n, j);
}

static void
add_arg(char **argv, int *n, const char *a, const char *b)
{
	argv[(*n)++] = (char *)a;
	if (b != NULL)
		argv[(*n)++] = (char *)b;
}

/* mxclient's command line: the configuration's settings, then the job. */
static void
exec_mxclient(struct runner *r, struct slot *s)
{
	const struct conf *c = r->c;
	char              *argv[24];
	int                n = 0;

	/*
	 * No -q: stdout is /dev/null anyway, and issue 14 turns mxclient's
	 * sendmail-style -q into an error that names mxqueue.
	 */
	add_arg(argv, &n, "mxclient", NULL);
	add_arg(argv, &n, "-f", s->job.sender);
	if (c->user[0] != '\0')
		add_arg(argv, &n, "--user", c->user);
	if (c->resolver[0] != '\0')
		add_arg(argv, &n, "--resolver", c->resolver);
	if (c->helo[0] != '\0')
		add_arg(argv, &n, "--helo", c->helo);
	if (c->dane_only)
		add_arg(argv, &n, "--dane-only", NULL);
	if (c->proxy[0] != '\0')
		add_arg(argv, &n, "--proxy", c->proxy);
	add_arg(argv, &n, "--status-fd", "3");
	/* mxclient holds the job's lock until it exits, even without us */
	add_arg(argv, &n, "--lock-fd", "4");
	add_arg(argv, &n, "--", s->job.rcpt);
	argv[n] = NULL;
	execv(r->mxclient, argv);
	_exit(75);
}

/* Out of the way of 0-4: a source must not be overwritten by an earlier dup2. */
static int
high(int fd)
{
	return fd == -1 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

/* In the child: stdin the body, 3 the report, 4 the lock, then exec. */
static void
child(struct runner *r, struct slot *s, int body, int res)
{
	int nul = high(open("/dev/null", O_RDWR | O_CLOEXEC)),
	    keep[] = { 3, 4 };
	int lock = high(s->lockfd);

	body = high(body);
	res = high(res);
	if (nul == -1 || body == -1 || res == -1 || lock == -1 ||
	    dup2(body, 0) == -1 || dup2(nul, 1) == -1 ||
	    (!r->o->verbose && dup2(nul, 2) == -1) || dup2(res, 3) == -1 ||
	    dup2(lock, 4) == -1)
		_exit(75);
	/* the report and the lock, nothing else of ours, however high (K1) */
	if (fds_close_except(keep, 2) == -1)
		_exit(75);
	setenv("TMPDIR", r->tmpdir, 1);
	signal(SIGPIPE, SIG_DFL);
	exec_mxclient(r, s);
}

/* "N.rK": the report of attempt K of job N. */
static void
res_name(struct slot *s)
{
	char buf[sizeof(s->res)];

	snprintf(buf, sizeof(buf), "%.*s.r%u", NAME_LEN - 1, s->name,
	    s->job.attempts + 1);
	memcpy(s->res, buf, sizeof(buf));
}

static int
launch(struct runner *r, struct slot *s)
{
	int   body, res;
	pid_t pid;

	res_name(s);
	body = openat(s->dirfd, s->job.body, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	res = openat(s->dirfd, s->res,
	    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (body == -1 || res == -1 || (pid = fork()) == -1) {
		qwarn("%s/%s: cannot start mxclient: %s", s->id, s->name,
		    strerror(errno));
		if (body != -1)
			close(body);
		if (res != -1)
			close(res);
		return -1;
	}
	if (pid == 0)
		child(r, s, body, res);
	close(body);
	close(res);
	s->pid = pid;
	r->running++;
	return 0;
}

static struct slot *
free_slot(struct runner *r)
{
	struct slot *s = r->slot, *end = r->slot + SLOTS_MAX;

	while (s < end && s->pid != 0)
		s++;
	return s < end ? s : NULL;
}

/*
 * A report left by a runner that died (attempt attempts+1): record it
 * now.  Returns 1 if there was one.
 */
static int
recover(struct runner *r, struct slot *s)
{
	struct stat st;

	res_name(s);
	if (fstatat(s->dirfd, s->res, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	qlog(LOG_NOTICE,
	    "%s: to=<%s>: the result of attempt %u was not "
	    "recorded (runner stopped): recording it now",
	    s->id, s->job.rcpt, s->job.attempts + 1);
	job_finish(r, s, -1);
	return 1;
}

enum claim
job_start(struct runner *r, const char *id, const char *name, int dirfd)
{
	struct slot *s = free_slot(r);

	if (s == NULL)
		return CL_SKIP;
	memset(s, 0, sizeof(*s));
	s->lockfd = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (s->lockfd == -1)
		return CL_DONE;
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) == -1 ||
	    reread(dirfd, name, s->lockfd, &s->job) == -1 ||
	    !job_due(r, id, &s->job)) {
		close(s->lockfd);
		return CL_DONE;
	}
	snprintf(s->id, sizeof(s->id), "%s", id);
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->domain, sizeof(s->domain), "%s", addr_domain(s->job.rcpt));
	s->dirfd = dup(dirfd);
	if (s->dirfd != -1 && recover(r, s))
		return CL_DONE; /* job_finish() closed both */
	if (s->dirfd != -1 && launch(r, s) == 0)
		return CL_STARTED;
	if (s->dirfd != -1)
		close(s->dirfd);
	close(s->lockfd);
	return CL_DONE;
}
