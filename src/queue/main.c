/*
 * mxqueue: the sendmail-compatible queue in front of mxclient (see
 * mxqueue(8) and doc/mxqueue.md).  main() reads the command line (the
 * sendmail options that callers pass, Q1) and the configuration, picks
 * the role and turns its result into an exit status in one place,
 * qerr_exit().
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "slog.h"
#include <unistd.h>

#include "queue.h"

#ifndef MXCLIENT_VERSION
#define MXCLIENT_VERSION "0.1"
#endif

static int verbose;

int
qerr_exit(enum qerr e)
{
	static const int codes[] = {
		[Q_OK] = 0,
		[Q_USAGE] = EX_USAGE,
		[Q_DATA] = EX_DATAERR,
		[Q_NOUSER] = EX_NOUSER,
		[Q_SOFTWARE] = EX_SOFTWARE,
		[Q_OSERR] = EX_OSERR,
		[Q_CANTCREAT] = EX_CANTCREAT,
		[Q_IOERR] = EX_IOERR,
		[Q_TEMPFAIL] = EX_TEMPFAIL,
		[Q_NOPERM] = EX_NOPERM,
		[Q_CONFIG] = EX_CONFIG,
	};

	return (size_t)e < sizeof(codes) / sizeof(codes[0]) ? codes[e]
	                                                    : EX_SOFTWARE;
}

static void
vlog(int prio, int to_stderr, const char *fmt, va_list ap)
{
	char buf[2048];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	slog(prio, "%s", buf);
	if (to_stderr)
		fprintf(stderr, "mxqueue: %s\n", buf);
}

/* Warnings always reach stderr (-q never hides them) and syslog. */
void
qwarn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, 1, fmt, ap);
	va_end(ap);
}

/* One syslog line per event (Q10); -v copies it to stderr. */
void
qlog(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(prio, verbose, fmt, ap);
	va_end(ap);
}

time_t
q_now(const struct opts *o)
{
	return o->now != 0 ? o->now : time(NULL);
}

static void __attribute__((noreturn)) usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: mxqueue [-itv] [-f sender] [-F name] [sendmail flags] "
	    "[rcpt ...] < msg\n"
	    "       mxqueue -q | -qR domain | -qI id     run the queue\n"
	    "       mxqueue -bp (mailq)                  list the queue\n"
	    "       mxqueue --delete|--hold|--release id\n"
	    "  --config FILE  another mxclient.conf (MXCLIENT_CONF)\n"
	    "  --spool DIR    another spool\n"
	    "  --now EPOCH    the clock, for tests\n");
	exit(code);
}

static void
mode(struct opts *o, enum qmode m, const char *target)
{
	o->mode = m;
	o->target = target;
}

/* -q, -qR domain, -qI id, -q30m (one run: there is no daemon mode). */
static void
opt_q(struct opts *o, const char *arg, int argc, char **argv)
{
	mode(o, M_RUN, NULL);
	if (arg == NULL || (arg[0] != 'R' && arg[0] != 'I'))
		return;
	o->qr = arg[0] == 'R';
	if (arg[1] != '\0')
		o->target = arg + 1;
	else if (optind < argc)
		o->target = argv[optind++];
	else
		usage(EX_USAGE);
}

/* -bp lists, -bm (the default) submits; the rest are not done here. */
static void
opt_b(struct opts *o, const char *arg)
{
	if (strcmp(arg, "p") == 0)
		mode(o, M_LIST, NULL);
	else if (strcmp(arg, "m") != 0) {
		fprintf(stderr,
		    "mxqueue: -b%s is not supported (%s): submit with "
		    "'mxqueue rcpt < msg' or -t\n",
		    arg,
		    strcmp(arg, "s") == 0 ? "no SMTP on standard input"
		                          : "no daemon, no alias database");
		exit(EX_USAGE);
	}
}

static time_t
opt_now(const char *arg)
{
	char     *end;
	long long t = strtoll(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || t <= 0) {
		fprintf(stderr, "mxqueue: --now: want seconds since 1970\n");
		exit(EX_USAGE);
	}
	return (time_t)t;
}

enum { O_CONFIG = 256, O_SPOOL, O_NOW, O_DELETE, O_HOLD, O_RELEASE };

#define ARG(name, val) \
	{ \
		name, required_argument, NULL, val \
	}
#define FLAG(name, val) \
	{ \
		name, no_argument, NULL, val \
	}
static const struct option longopts[] = { ARG("config", O_CONFIG),
	ARG("spool", O_SPOOL), ARG("now", O_NOW), ARG("delete", O_DELETE),
	ARG("hold", O_HOLD), ARG("release", O_RELEASE), FLAG("help", 'h'),
	FLAG("version", 'W'), { NULL, 0, NULL, 0 } };

static void
opt_long(struct opts *o, int c, const char *arg)
{
	if (c == O_CONFIG || c == O_SPOOL)
		*(c == O_CONFIG ? &o->config : &o->spool) = arg;
	else if (c == O_NOW)
		o->now = opt_now(arg);
	else if (c >= O_DELETE) /* the ignored sendmail flags are below */
		mode(o,
		    c == O_DELETE     ? M_DELETE
		        : c == O_HOLD ? M_HOLD
		                      : M_RELEASE,
		    arg);
}

/*
 * The sendmail flags callers pass (Q1): -B, -N, -R, -V, -L, -O, -C,
 * -X, -m, -n, -U, -G and -o options other than -oi change nothing for
 * this queue and are accepted and ignored.
 */
static void
parse_args(struct opts *o, int argc, char **argv)
{
	int c;

	while ((c = getopt_long(argc, argv,
	            "+B:b:C:F:f:GhIiL:mN:nO:o:q::R:r:tUV:vX:", longopts,
	            NULL)) != -1) {
		switch (c) {
		case 'b':
			opt_b(o, optarg);
			break;
		case 'F':
			o->fullname = optarg;
			break;
		case 'f':
		case 'r':
			o->sender = optarg;
			break;
		case 'i':
			o->iflag = 1;
			break;
		case 'o':
			o->iflag |= strcmp(optarg, "i") == 0;
			break;
		case 'q':
			opt_q(o, optarg, argc, argv);
			break;
		case 't':
			o->tflag = 1;
			break;
		case 'v':
			o->verbose = verbose = 1;
			break;
		case 'h':
			usage(0);
		case 'W':
			printf("mxqueue %s\n", MXCLIENT_VERSION);
			exit(0);
		case '?':
			usage(EX_USAGE);
		default:
			opt_long(o, c, optarg);
		}
	}
	o->rcpts = argv + optind;
	o->nrcpts = argc - optind;
}

/*
 * Installed setgid for submission, the program keeps its group only for
 * the default configuration and spool: --config, --spool, --now and
 * MXCLIENT_CONF are for private instances and tests, run with the
 * caller's own rights (as sendmail -C does).
 */
static void
maybe_drop_group(const struct opts *o)
{
	gid_t g = getgid();

	if (getegid() == g)
		return;
	if (o->config == NULL && o->spool == NULL && o->now == 0 &&
	    getenv(CONF_ENV) == NULL)
		return;
	if (setresgid(g, g, g) == -1) {
		fprintf(stderr, "mxqueue: setresgid: %s\n", strerror(errno));
		exit(EX_OSERR);
	}
}

static enum qerr
dispatch(struct opts *o, const struct conf *c)
{
	if (o->mode == M_SUBMIT)
		return submit_main(o, c);
	if (o->nrcpts > 0) {
		qwarn("no recipients with -q, -bp or the control options");
		return Q_USAGE;
	}
	if (o->mode == M_RUN)
		return run_main(o, c);
	if (o->mode == M_LIST)
		return list_main(o, c);
	return control_main(o, c);
}

int
main(int argc, char **argv)
{
	static char        self[PATH_MAX];
	static struct conf c;
	struct opts        o;
	char               err[CONF_PATH_MAX + 128];
	ssize_t            n;
	enum conf_err      ce;

	memset(&o, 0, sizeof(o));
	if (strcmp(basename(argv[0]), "mailq") == 0)
		o.mode = M_LIST;
	parse_args(&o, argc, argv);
	maybe_drop_group(&o);
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0)
		self[n] = '\0';
	o.self = self;
	conf_init(&c);
	if ((ce = conf_load(o.config, &c, err, sizeof(err))) != CONF_OK) {
		qwarn("%s", err);
		return qerr_exit(Q_CONFIG);
	}
	/* before any lock-down: the sandboxes open no socket later */
	(void)slog_open(
	    c.syslog_socket[0] ? c.syslog_socket : SLOG_PATH, "mxqueue");
	return qerr_exit(dispatch(&o, &c));
}
