/*
 * The spool (doc/mxqueue.md, "Spool layout"):
 *
 *	tmp/         submissions being written (the submitter's)
 *	new/ID       complete submissions: envelope + message, one file
 *	queue/ID/    one message: "body", job files "1".."N" (one per
 *	             recipient), a job's result file "N.rK" while attempt K
 *	             runs, "bounce.N" bodies of bounces
 *	run/         mxclient's TMPDIR
 *
 * Every file is written under a temporary name, fsync()ed, renamed into
 * place and its directory fsync()ed, so a name always means complete
 * contents.  Envelope and job files are "key value" lines (kv_next()),
 * parsed as untrusted input (tests/fuzz/fuzz_spool.c).
 */
#ifndef MXQ_SPOOL_H
#define MXQ_SPOOL_H

#include <sys/types.h>

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>

#include "queue.h"

#define ENV_MAGIC  "mxqueue-envelope 1"
#define JOB_MAGIC  "mxqueue-job 1"
#define BODY_NAME  "body"
#define KV_KEY_MAX 32
#define KV_VAL_MAX 1024
#define TEXT_MAX   512 /* one line of a server reply, sanitised */

enum job_kind {
	JOB_NORMAL = 0,
	JOB_BOUNCE, /* a DSN to the sender: null sender */
	JOB_DOUBLE, /* a DSN about a failed bounce, to the admin */
	JOB_WARNING /* a delay warning to the sender */
};

struct job {
	enum job_kind kind;
	char          sender[ADDR_MAX]; /* "" = null sender */
	char          rcpt[ADDR_MAX];
	char          orig[ADDR_MAX]; /* DSNs: the recipient that failed */
	char          body[32];       /* file in the message directory */
	int64_t       created;
	int64_t       next;
	uint32_t      attempts;
	int           held;
	int           warned;
	int           last_exit;                /* -1: never tried */
	char          last[AT_COUNT][TEXT_MAX]; /* enum attempt_text */
};

struct envelope {
	char sender[ADDR_MAX];
	char (*rcpts)[ADDR_MAX];
	int     nrcpts;
	int64_t created;
	size_t  body_off; /* the message starts here */
};

int    kv_next(const char *, size_t, size_t *, char *, char *);
int    env_parse(const char *, size_t, struct envelope *);
void   env_free(struct envelope *);
int    job_parse(const char *, size_t, struct job *);
size_t job_format(const struct job *, char *, size_t);
void   job_init(struct job *);
void   sanitize(char *, size_t, const char *);

int  qspool_fsync_dir(int);
DIR *qspool_opendir(int, const char *);
int  qspool_write(int, const char *, const void *, size_t, mode_t);
int  qspool_read(int, const char *, char **, size_t *, size_t);
void qspool_newid(char *, int64_t);
int  qspool_valid_id(const char *);
int  write_all(int, const void *, size_t);

#endif
