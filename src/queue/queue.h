/*
 * mxqueue: the queuing sendmail front end of mxclient (doc/mxqueue.md).
 * One entry point per role, called by main.c once the command line and
 * the configuration are read: submit_main(), run_main(), list_main(),
 * control_main().  Errors travel as enum qerr and become exit codes in
 * one place, qerr_exit() in main.c.
 */
#ifndef MXQ_QUEUE_H
#define MXQ_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"

enum qerr {
	Q_OK = 0,
	Q_USAGE,    /* bad command line: 64 */
	Q_DATA,     /* the message cannot be sent: 65 */
	Q_NOUSER,   /* a local name without alias: 67 */
	Q_SOFTWARE, /* internal fault: 70 */
	Q_OSERR,    /* fork and the like: 71 */
	Q_CANTCREAT,
	Q_IOERR,    /* reading the message or writing the spool: 74 */
	Q_TEMPFAIL, /* try again: 75 */
	Q_NOPERM,   /* not the queue's owner: 77 */
	Q_CONFIG    /* configuration error: 78, never 75 */
};

enum qmode {
	M_SUBMIT = 0,
	M_RUN,    /* -q, -qR, -qI */
	M_LIST,   /* -bp, mailq */
	M_DELETE, /* --delete id */
	M_HOLD,   /* --hold id */
	M_RELEASE /* --release id */
};

/* What a job keeps of its last attempt, and the report carries. */
enum attempt_text {
	AT_OUTCOME = 0,
	AT_MX,
	AT_ADDRESS,
	AT_SECURITY,
	AT_REPLY,
	AT_STATUS,
	AT_REASON,
	AT_COUNT
};

#define ADDR_MAX 256
#define QID_LEN  24 /* hex digits */
#define RCPT_MAX 1000

struct opts {
	enum qmode  mode;
	const char *sender;   /* -f, -r; NULL: the login name */
	const char *fullname; /* -F */
	int         tflag;    /* -t */
	int         iflag;    /* -i, -oi: a lone "." is not the end */
	int         verbose;
	const char *config; /* --config */
	const char *spool;  /* --spool */
	const char *target; /* -qR domain, -qI id, --delete etc. */
	int         qr;     /* target is a domain (-qR) */
	time_t      now;    /* --now (tests), else 0 */
	char      **rcpts;  /* command-line recipients */
	int         nrcpts;
	const char *self; /* /proc/self/exe, for mxclient beside it */
};

/* main.c */
int    qerr_exit(enum qerr);
time_t q_now(const struct opts *);
void   qwarn(const char *, ...) __attribute__((format(printf, 1, 2)));
void   qlog(int, const char *, ...) __attribute__((format(printf, 2, 3)));

/* The roles. */
enum qerr submit_main(const struct opts *, const struct conf *);
enum qerr run_main(const struct opts *, const struct conf *);
enum qerr list_main(const struct opts *, const struct conf *);
enum qerr control_main(const struct opts *, const struct conf *);

/* qsandbox.c: Landlock and a seccomp deny-list for the two roles. */
enum qrole { QR_SUBMIT, QR_RUN };
struct qsandbox {
	int         spoolfd; /* run: the whole spool */
	int         tmpfd;   /* submit: tmp/ and new/ */
	int         newfd;
	const char *exec; /* run: the one program it may start */
};
void qsandbox_lock(enum qrole, const struct qsandbox *);

#endif
