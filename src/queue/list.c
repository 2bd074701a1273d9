/*
 * mailq / mxqueue -bp (Q19): one line per job (queue id and job, size,
 * age, attempts, next attempt, sender and recipient) and the last
 * result under it; submissions not imported yet are listed as such.
 * --delete, --hold and --release ID act on every job of a message;
 * a job being delivered right now (locked) is left alone and said so.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "run.h"

static int
open_spool(const struct opts *o, const struct conf *c, const char *sub)
{
	char path[CONF_PATH_MAX + 16];
	int  fd;

	snprintf(
	    path, sizeof(path), "%s/%s", o->spool ? o->spool : c->spool, sub);
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		qwarn("%s: %s", path, strerror(errno));
	return fd;
}

static void
age(char *out, size_t size, int64_t secs)
{
	if (secs < 0)
		snprintf(out, size, "now");
	else if (secs < 3600)
		snprintf(out, size, "%lldm", (long long)(secs / 60));
	else if (secs < 86400)
		snprintf(out, size, "%lldh", (long long)(secs / 3600));
	else
		snprintf(out, size, "%lldd", (long long)(secs / 86400));
}

static void
print_job(
    int dfd, const char *id, const char *name, const struct job *j, time_t now)
{
	struct stat st;
	char        a[24], n[24];

	if (fstatat(dfd, j->body, &st, 0) == -1)
		st.st_size = 0;
	age(a, sizeof(a), now - j->created);
	age(n, sizeof(n), j->next - now);
	printf("%s/%-3s %8lld %4s  attempts %u  next %s%s  <%s> -> <%s>\n", id,
	    name, (long long)st.st_size, a, j->attempts, j->held ? "held" : n,
	    j->kind == JOB_NORMAL ? "" : " (DSN)", j->sender, j->rcpt);
	if (j->attempts > 0)
		printf("        last: exit %d %s%s%s%s%s\n", j->last_exit,
		    j->last[AT_OUTCOME], j->last[AT_MX][0] ? " via " : "",
		    j->last[AT_MX], j->last[AT_REPLY][0] ? ": " : "",
		    j->last[AT_REPLY][0] ? j->last[AT_REPLY]
		                         : j->last[AT_REASON]);
}

static int
list_message(int qfd, const char *id, time_t now)
{
	DIR           *d;
	struct dirent *e;
	struct job     j;
	char          *buf;
	size_t         len;
	int            n = 0;

	if ((d = qspool_opendir(qfd, id)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (!is_job_name(e->d_name))
			continue;
		if (qspool_read(dirfd(d), e->d_name, &buf, &len, 16384) == 0 &&
		    job_parse(buf, len, &j) == 0) {
			print_job(dirfd(d), id, e->d_name, &j, now);
			n++;
		}
		free(buf);
	}
	closedir(d);
	return n;
}

static int
list_dir(int fd, int queued, time_t now)
{
	DIR           *d;
	struct dirent *e;
	int            n = 0;

	if ((d = qspool_opendir(fd, ".")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (!qspool_valid_id(e->d_name))
			continue;
		if (queued)
			n += list_message(fd, e->d_name, now);
		else {
			printf("%s     (submitted, not yet taken into the "
			       "queue)\n",
			    e->d_name);
			n++;
		}
	}
	closedir(d);
	return n;
}

enum qerr
list_main(const struct opts *o, const struct conf *c)
{
	int qfd, nfd, n;

	if ((qfd = open_spool(o, c, "queue")) == -1 ||
	    (nfd = open_spool(o, c, "new")) == -1)
		return Q_CONFIG;
	n = list_dir(nfd, 0, q_now(o)) + list_dir(qfd, 1, q_now(o));
	if (n == 0)
		printf("Mail queue is empty\n");
	else
		printf("-- %d job%s\n", n, n == 1 ? "" : "s");
	return Q_OK;
}

/* One job of the message: removed, held or released under its lock. */
static int
control_job(const struct opts *o, int dfd, const char *name)
{
	struct job j;
	char       buf[8192];
	ssize_t    n;
	size_t     len;
	int        fd;

	if ((fd = openat(dfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		qwarn("%s: being delivered now; try again", name);
		close(fd);
		return -1;
	}
	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0 ||
	    job_parse(buf, (size_t)n, &j) == -1) {
		close(fd);
		return -1;
	}
	if (o->mode == M_DELETE)
		unlinkat(dfd, name, 0);
	else {
		j.held = o->mode == M_HOLD;
		if (o->mode == M_RELEASE)
			j.next = q_now(o);
		if ((len = job_format(&j, buf, sizeof(buf))) == 0 ||
		    qspool_write(dfd, name, buf, len, 0640) == -1) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	return fsync(dfd);
}

static const char *const verbs[] = {
	[M_DELETE] = "deleted", [M_HOLD] = "held", [M_RELEASE] = "released"
};

enum qerr
control_main(const struct opts *o, const struct conf *c)
{
	DIR           *d;
	struct dirent *e;
	struct stat    st;
	int            qfd, bad = 0, n = 0;

	if (!qspool_valid_id(o->target)) {
		qwarn("%s: not a queue id (mailq lists them)", o->target);
		return Q_USAGE;
	}
	if ((qfd = open_spool(o, c, "queue")) == -1)
		return Q_CONFIG;
	if (fstat(qfd, &st) == 0 && geteuid() != 0 && geteuid() != st.st_uid) {
		qwarn("only root or the queue's owner may change the queue");
		return Q_NOPERM;
	}
	if ((d = qspool_opendir(qfd, o->target)) == NULL) {
		qwarn("%s: no such message in the queue", o->target);
		return Q_USAGE;
	}
	while ((e = readdir(d)) != NULL)
		if (is_job_name(e->d_name)) {
			bad |= control_job(o, dirfd(d), e->d_name) == -1;
			n++;
		}
	closedir(d);
	qlog(LOG_INFO, "%s: %s (%d job%s)", o->target, verbs[o->mode], n,
	    n == 1 ? "" : "s");
	printf("%s: %s\n", o->target, verbs[o->mode]);
	return bad ? Q_TEMPFAIL : Q_OK;
}
