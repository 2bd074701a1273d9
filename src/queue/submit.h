/*
 * The submitter's state, shared by submit.c (reading, recipients,
 * queueing), submit_init.c (set-up, lock-down, the runner kick) and
 * fields.c (the header fields it adds, the long-line fix-up).
 */
#ifndef MXQ_SUBMIT_H
#define MXQ_SUBMIT_H

#include <time.h>

#include "header.h"
#include "queue.h"

struct sub {
	const struct opts *o;
	const struct conf *conf;
	char               spool[CONF_PATH_MAX];
	int                tmpfd, newfd;
	int                kickfd;           /* write end: "queued, run now" */
	char               sender[ADDR_MAX]; /* "" = null sender */
	char               domain[256];      /* for local names, Message-ID */
	char               rcpts[RCPT_MAX][ADDR_MAX];
	int                nrcpts;
	int                from_header; /* recipients come from -t */
	time_t             now;
	char               id[QID_LEN + 1];
	char               added[2048]; /* fields to append */
	int                qp;          /* re-encode the body */
};

enum qerr sub_init(struct sub *, const struct opts *, const struct conf *);
void      sub_lock(struct sub *);
void      sub_done(struct sub *, size_t);
enum qerr sub_recipient(struct sub *, const char *);
enum qerr sub_add_fields(struct sub *, struct message *);
enum qerr sub_assemble(struct sub *, struct message *, char **, size_t *);

#endif
