/*
 * The pieces of the parent process:
 *
 *   main.c      the entry point: configure, start the children, spool
 *               the message for tls, reap, and the exit status
 *               (exit_status())
 *   options.c   the command line and what follows from it
 *   children.c  starting, locking down, stopping and reaping children
 *   spool.c, norm.c  the message; resolver.c, proxy.c  configuration
 */
#ifndef MXC_PARENT_H
#define MXC_PARENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "frame.h"
#include "msg.h"

#include "norm.h"

/* spool.c: the input into an unlinked temporary file, a read at a time. */
struct spool {
	int         in;   /* the message comes from here (stdin) */
	int         fd;   /* the file, for writing; -1 once complete */
	int         rfd;  /* the same file read-only, for tls */
	int         seal; /* a memfd: seal it once complete */
	struct norm n;
};

enum spool_state {
	SPOOL_MORE,  /* read again */
	SPOOL_DONE,  /* the message is complete and checked */
	SPOOL_FAILED /* see *why */
};

const char      *spool_open(struct spool *, int);
enum spool_state spool_step(struct spool *, const char **);

/* exitreport.c: the JSON report of every exit (doc/json.md). */
struct options;
void exit_report_scan(int, char **);
void exit_report_set(const struct options *);
void exit_report_write(int, const char *, const char *, const char *);
void config_exit(int, const char *, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
void report_exit(int) __attribute__((noreturn));

/* stscache.c: the MTA-STS policy cache (Y20). */
struct stscache {
	int  dirfd;     /* the cache directory, or -1: no cache */
	int  have;      /* an entry for the domain was read */
	char name[256]; /* its file name */
	char domain[NAME_MAX_LEN + 1];
};

struct options;
struct child_cfg;
void stscache_open(
    struct stscache *, const struct options *, const struct child_cfg *);
void stscache_load(struct stscache *, const char *);
void stscache_send(const struct stscache *, struct chan *);
void stscache_store(struct stscache *, const struct frame *);
void stscache_prune(const struct stscache *);

/* proxy.c: --proxy URLs (proc.h has struct proxy_cfg). */
struct proxy_cfg;
const char *proxy_parse(const char *, struct proxy_cfg *);
const char *proxy_resolve(struct proxy_cfg *);
void        proxy_scrub(char *);
int         proxy_numeric(const struct proxy_cfg *);

/* resolver.c: --resolver or resolv.conf (proc.h has the struct). */
struct resolver_cfg;
const char *resolver_setup(const char *, const char *, struct resolver_cfg *);
const char *resolver_remote(const struct resolver_cfg *, char *, size_t);

/* options.c: the command line (--help lists it) */
struct options {
	const char *sender;
	const char *rcpt;
	const char *helo; /* --helo, else this host's FQDN, else "" */
	const char *user;
	const char *chroot_dir;
	const char *resolver;
	const char *probe;             /* --dnssec-probe */
	char       *proxy;             /* --proxy URL, blanked after parsing */
	const char *config;            /* --config FILE, or NULL */
	const char *conf_proxy;        /* the configuration file's proxy */
	int         dns_timeout;       /* --dns-timeout, 0 = default */
	uint32_t    timeout[TO_COUNT]; /* --timeout, 0 = default */
	uint32_t    deadline;          /* --deadline, 0 = none */
	int         status_fd;         /* JSON report goes here, or -1 */
	int         lock_fd;           /* --lock-fd: kept open, or -1 */
	int         trust_remote;      /* --trust-remote-resolver */
	int         syslog;            /* --syslog */
	const char *ca_file;           /* --ca-file: the WebPKI store */
	const char *sts_cache;         /* --sts-cache DIR, "none", NULL */
	const char *sts_refresh;       /* --sts-refresh DOMAIN */
	const char *tlsrpt_socket;     /* --tlsrpt-socket PATH */
	int         sts_timeout;       /* --sts-timeout, 0 = default */
	char        syslog_socket[1024];    /* mxclient.conf, "" = SLOG_PATH */
	int         flags;                  /* JOB_VERBOSE, JOB_QUIET */
	char        fqdn[NAME_MAX_LEN + 1]; /* this host's name, or "" */
};

struct child_cfg;
void     parse_args(int, char **, struct options *); /* options.c */
uint32_t stage_timeout(const struct options *, enum timeout_stage);
void     configure(
        int, char **, struct options *, struct child_cfg *); /* setup.c */

/* children.c */
struct child {
	struct parent *p;
	enum proc_id   proc;
	pid_t          pid;
	struct chan    chan;   /* frames from the child */
	struct chan    death;  /* its SIGSYS handler's report */
	int            status; /* from waitpid, once reaped */
	int            reaped;
	int32_t        sysnr;  /* syscall that killed it, or -1 */
	long           maxrss; /* peak resident set, kB */
};

struct parent {
	struct child    child[PROC_COUNT]; /* [PROC_PARENT] unused */
	struct spool    spool;
	struct stscache sts;
	int             tlsrpt_fd; /* --tlsrpt-socket, connected, or -1 */
	enum input {
		INPUT_READING, /* the message is still coming in */
		INPUT_DONE,    /* read, checked and handed to tls */
		INPUT_BAD,     /* it cannot be sent as it is: spool.n.err */
		INPUT_IOERR    /* reading or spooling it failed */
	} input;
	const char  *input_why; /* INPUT_BAD, INPUT_IOERR */
	int          input_errno;
	int          have_result;
	int          dot_sent;    /* tls announced the final "." */
	int          ready_fd;    /* EOF once every child has locked down */
	int          stopping;    /* children are being stopped */
	char        *json;        /* MSG_REPORT from tls */
	char        *result_text; /* MSG_RESULT's summary, for --syslog */
	enum outcome outcome;
	const char  *fault; /* why the delivery broke inside */
	enum proc_id fault_proc;
};

int  open_null(void);
void start_children(struct parent *, struct child_cfg *);
void lock_parent(struct parent *, const struct child_cfg *);
void stop_children(struct parent *);
void reap(struct parent *, struct child *);
int  live_children(const struct parent *);

/* main.c */
void set_fault(struct parent *, enum proc_id, const char *);

#endif
