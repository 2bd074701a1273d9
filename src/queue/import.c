/*
 * new/ID → queue/ID/ (Q6).  A submission is turned into a message
 * directory built under a hidden name (body and one job file per
 * recipient, each fsync()ed, then the directory), renamed into place in
 * one step and queue/ fsync()ed; only then is new/ID removed.  After a
 * crash, new/ID with no queue/ID is imported again (nothing was sent:
 * jobs of a message whose new/ID still exists are never claimed), and
 * new/ID with a queue/ID is only removed.  The importer holds a flock
 * on new/ID, so two runners never import one submission twice.
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

#define SUBMISSION_MAX (64u * 1024 * 1024 + 512 * 1024)

/* "1".."1000" (a recipient's job) or "w1".. (a delay warning). */
int
is_job_name(const char *n)
{
	size_t i = n[0] == 'w' ? 1 : 0, start = i;

	while (n[i] >= '0' && n[i] <= '9')
		i++;
	return n[i] == '\0' && i > start && i - start <= 4 && n[start] != '0';
}

/* Empty a hidden directory left by a crash, then remove it. */
static void
remove_dir(int parent, const char *name)
{
	DIR           *d;
	struct dirent *e;

	if ((d = qspool_opendir(parent, name)) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	unlinkat(parent, name, AT_REMOVEDIR);
}

/* Once no job file is left, the message directory goes (Q7). */
void
remove_if_done(struct runner *r, int dirfd, const char *id)
{
	DIR           *d;
	struct dirent *e;
	int            jobs = 0;

	if ((d = qspool_opendir(dirfd, ".")) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		jobs += is_job_name(e->d_name);
	closedir(d);
	if (jobs > 0)
		return;
	remove_dir(r->queuefd, id);
	fsync(r->queuefd);
	qlog(LOG_INFO, "%s: removed", id);
}

static int
write_jobs(struct runner *r, int dfd, const struct envelope *e)
{
	char       name[NAME_LEN], buf[4096];
	struct job j;
	size_t     n;
	int        i;

	for (i = 0; i < e->nrcpts; i++) {
		job_init(&j);
		snprintf(j.sender, sizeof(j.sender), "%s", e->sender);
		snprintf(j.rcpt, sizeof(j.rcpt), "%s", e->rcpts[i]);
		j.created = e->created;
		j.next = e->created < r->now ? e->created : r->now;
		snprintf(name, sizeof(name), "%d", i + 1);
		if ((n = job_format(&j, buf, sizeof(buf))) == 0 ||
		    qspool_write(dfd, name, buf, n, 0640) == -1)
			return -1;
	}
	return 0;
}

/* The message directory under ".ID.tmp", then renamed to ID. */
static int
build(struct runner *r, const char *id, const char *buf, size_t len,
    const struct envelope *e)
{
	char tmp[QID_LEN + 8];
	int  dfd, rc = -1;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", id);
	remove_dir(r->queuefd, tmp);
	if (mkdirat(r->queuefd, tmp, 0750) == -1 ||
	    (dfd = openat(
	         r->queuefd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if (qspool_write(dfd, BODY_NAME, buf + e->body_off, len - e->body_off,
	        0600) == 0 &&
	    write_jobs(r, dfd, e) == 0 && fsync(dfd) == 0 &&
	    renameat(r->queuefd, tmp, r->queuefd, id) == 0 &&
	    fsync(r->queuefd) == 0)
		rc = 0;
	close(dfd);
	return rc;
}

/* A file in new/ that is not a submission: kept aside, never lost. */
static void
set_aside(struct runner *r, const char *name)
{
	char bad[QID_LEN + 16];

	snprintf(bad, sizeof(bad), ".bad.%s", name);
	if (renameat(r->newfd, name, r->newfd, bad) == 0)
		fsync(r->newfd);
	qwarn("new/%s is not a valid submission: kept as new/%s", name, bad);
}

static void
import_one(struct runner *r, const char *id)
{
	struct envelope e;
	struct stat     st;
	char           *buf;
	size_t          len;
	int             fd;

	if ((fd = openat(r->newfd, id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	        -1 ||
	    flock(fd, LOCK_EX | LOCK_NB) == -1)
		goto out;
	if (fstatat(r->queuefd, id, &st, AT_SYMLINK_NOFOLLOW) == 0)
		goto done; /* imported before a crash */
	if (qspool_read(r->newfd, id, &buf, &len, SUBMISSION_MAX) == -1 ||
	    env_parse(buf, len, &e) == -1) {
		free(buf);
		set_aside(r, id);
		goto out;
	}
	if (build(r, id, buf, len, &e) == -1)
		qwarn("%s: cannot import: %s", id, strerror(errno));
	env_free(&e);
	free(buf);
	if (fstatat(r->queuefd, id, &st, AT_SYMLINK_NOFOLLOW) == -1)
		goto out;
done:
	if (unlinkat(r->newfd, id, 0) == 0)
		fsync(r->newfd);
out:
	if (fd != -1)
		close(fd);
}

void
import_new(struct runner *r)
{
	DIR           *d;
	struct dirent *e;

	if ((d = qspool_opendir(r->newfd, ".")) == NULL) {
		qwarn("new/: %s", strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (!qspool_valid_id(e->d_name)) {
			set_aside(r, e->d_name);
			continue;
		}
		import_one(r, e->d_name);
	}
	closedir(d);
}
