/*
 * The runner (mxqueue -q): import.c moves new/ submissions into
 * queue/, run.c finds due jobs and keeps at most `parallelism' mxclient
 * runs going (at most `domain-parallelism' per recipient domain),
 * job.c claims a job, starts mxclient on it and records the result,
 * bounce.c writes delivery status notifications.
 */
#ifndef MXQ_RUN_H
#define MXQ_RUN_H

#include <sys/types.h>

#include "json.h"
#include "queue.h"
#include "spool.h"

#define SLOTS_MAX 64
#define NAME_LEN  16

struct slot {
	pid_t      pid; /* 0: free */
	char       id[QID_LEN + 1];
	char       name[NAME_LEN];
	char       res[NAME_LEN + 16]; /* result file of this attempt */
	char       domain[ADDR_MAX];
	int        dirfd;
	int        lockfd; /* the job file, flock()ed */
	struct job job;
};

struct runner {
	const struct opts *o;
	const struct conf *c;
	char               spool[CONF_PATH_MAX];
	char               mxclient[CONF_PATH_MAX];
	char               tmpdir[CONF_PATH_MAX + 8];
	char               host[256]; /* Reporting-MTA */
	int                spoolfd, tmpfd, newfd, queuefd;
	time_t             now;
	struct slot        slot[SLOTS_MAX];
	int                running;
	int                pass; /* 0: the first pass over the queue */
	unsigned           delivered, deferred, bounced;
};

/* import.c */
void import_new(struct runner *);
int  is_job_name(const char *);
void remove_if_done(struct runner *, int, const char *);

/* job.c */
enum claim { CL_STARTED, CL_SKIP, CL_DONE };
enum claim job_start(struct runner *, const char *, const char *, int);
void       job_finish(struct runner *, struct slot *, int);
int        job_due(const struct runner *, const char *, const struct job *);

/* bounce.c */
void bounce_job(struct runner *, int, const char *, const char *, struct job *);
void warn_job(struct runner *, int, const char *, const char *, struct job *);

#endif
