/*
 * What an attempt's result does to its job (Q12-Q14): exit 0 removes
 * it, 75 reschedules it (retry-first, doubling, ±25 % jitter, at most
 * retry-max) until its lifetime is over, anything else, or the end of
 * its lifetime, bounces it.  The job file is replaced in one rename
 * (qspool_write()), and only after that the attempt's report goes, so a
 * crash in between leaves a report that recover() records again only
 * if the job still says the attempt is pending (its count is lower).
 */
#include <sys/random.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "run.h"

/* The job's record of the attempt (sanitised: it is server text). */
static void
record(struct job *j, const struct qreport *q, int code, int have)
{
	int i;

	j->last_exit = code;
	for (i = 0; i < AT_COUNT; i++)
		sanitize(
		    j->last[i], sizeof(j->last[i]), have ? q->text[i] : "");
	if (!have) {
		snprintf(j->last[AT_OUTCOME], TEXT_MAX, "unknown");
		snprintf(j->last[AT_REASON], TEXT_MAX,
		    "no report from mxclient (stopped before it finished)");
	}
}

/* retry-first · 2^(attempts-1), at most retry-max, ±25 %. */
static time_t
backoff(const struct conf *c, uint32_t attempts)
{
	uint64_t d = c->retry_first;
	uint32_t rnd = 0;
	uint32_t i;

	for (i = 1; i < attempts && d < c->retry_max; i++)
		d *= 2;
	if (d > c->retry_max)
		d = c->retry_max;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint32_t)getpid();
	return (time_t)(d * (75 + rnd % 51) / 100);
}

static void
log_attempt(const struct slot *s, const struct job *j)
{
	qlog(j->last_exit == 0 ? LOG_INFO : LOG_NOTICE,
	    "%s: to=<%s>, attempt=%u, mx=%s, address=%s, security=%s, "
	    "exit=%d, outcome=%s, reply=%s%s%s",
	    s->id, j->rcpt, j->attempts,
	    j->last[AT_MX][0] ? j->last[AT_MX] : "none",
	    j->last[AT_ADDRESS][0] ? j->last[AT_ADDRESS] : "none",
	    j->last[AT_SECURITY][0] ? j->last[AT_SECURITY] : "none",
	    j->last_exit, j->last[AT_OUTCOME],
	    j->last[AT_REPLY][0] ? j->last[AT_REPLY] : "none",
	    j->last[AT_REASON][0] ? ", reason=" : "", j->last[AT_REASON]);
}

static int
save(struct slot *s, const struct job *j)
{
	char   buf[8192];
	size_t n = job_format(j, buf, sizeof(buf));

	if (n == 0 || qspool_write(s->dirfd, s->name, buf, n, 0640) == -1) {
		qwarn("%s/%s: cannot update the job", s->id, s->name);
		return -1;
	}
	return 0;
}

static void
reschedule(struct runner *r, struct slot *s, struct job *j)
{
	j->next = r->now + backoff(r->c, j->attempts);
	if (save(s, j) == -1)
		return;
	r->deferred++;
	qlog(LOG_NOTICE, "%s: to=<%s>: rescheduled: next attempt in %lld s",
	    s->id, j->rcpt, (long long)(j->next - r->now));
	if (r->c->delay_warning > 0 && !j->warned &&
	    r->now - j->created >= (time_t)r->c->delay_warning)
		warn_job(r, s->dirfd, s->id, s->name, j);
}

/* A job whose lifetime ended: its last temporary failure, and why. */
static void
expire_reason(struct job *j)
{
	char was[TEXT_MAX];

	memcpy(was, j->last[AT_REASON], sizeof(was));
	snprintf(j->last[AT_REASON], sizeof(j->last[AT_REASON]),
	    "delivery time expired after %u attempts: %.400s", j->attempts,
	    was);
}

static void
apply(struct runner *r, struct slot *s, struct job *j)
{
	int expired = r->now >= j->created + (time_t)r->c->lifetime;

	if (j->last_exit == 0) {
		if (unlinkat(s->dirfd, s->name, 0) == 0)
			fsync(s->dirfd);
		r->delivered++;
		qlog(LOG_INFO, "%s: to=<%s>: delivered", s->id, j->rcpt);
	} else if (j->last_exit == 75 && !expired)
		reschedule(r, s, j);
	else {
		if (j->last_exit == 75)
			expire_reason(j);
		bounce_job(r, s->dirfd, s->id, s->name, j);
		r->bounced++;
	}
}

/* status: waitpid()'s, or -1 when recovering a dead runner's attempt. */
void
job_finish(struct runner *r, struct slot *s, int status)
{
	struct qreport q;
	char          *buf = NULL;
	size_t         len = 0;
	int            have, code;

	memset(&q, 0, sizeof(q));
	have = qspool_read(s->dirfd, s->res, &buf, &len, 65536) == 0 &&
	    report_parse(buf, len, &q) == 0;
	free(buf);
	if (status != -1)
		code = WIFEXITED(status) ? WEXITSTATUS(status) : 75;
	else
		code = have ? q.exit : 75;
	s->job.attempts++;
	record(&s->job, &q, code, have);
	log_attempt(s, &s->job);
	apply(r, s, &s->job);
	if (unlinkat(s->dirfd, s->res, 0) == 0)
		fsync(s->dirfd);
	remove_if_done(r, s->dirfd, s->id);
	close(s->lockfd);
	close(s->dirfd);
	s->lockfd = s->dirfd = -1;
	if (s->pid != 0) {
		s->pid = 0;
		r->running--;
	}
}
