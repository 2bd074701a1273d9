/*
 * The command line (mxclient --help; mxclient(1)): every option into
 * struct options, a usage error 64; what follows from them is setup.c's.
 */
#include <sys/types.h>

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "parent.h"
#include "proc.h"

#ifndef MXCLIENT_VERSION
#define MXCLIENT_VERSION "0.1"
#endif

/*
 * --timeout NAME=SECONDS: the defaults are RFC 5321 §4.5.3.2's minimums
 * and Postfix's (connect 30 s, as smtp_connect_timeout).
 */
static const struct {
	const char *name;
	uint32_t    seconds;
} stages[TO_COUNT] = {
	[TO_CONNECT] = { "connect", 30 },
	[TO_GREETING] = { "greeting", 300 },
	[TO_EHLO] = { "ehlo", 300 },
	[TO_STARTTLS] = { "starttls", 300 },
	[TO_MAIL] = { "mail", 300 },
	[TO_RCPT] = { "rcpt", 300 },
	[TO_DATA_INIT] = { "data-init", 120 },
	[TO_DATA_XFER] = { "data-xfer", 180 },
	[TO_DATA_DONE] = { "data-done", 600 },
	[TO_QUIT] = { "quit", 300 },
};

/* clang-format off */
#define USAGE_LINE \
	"usage: mxclient [-imqv] [-f|-r sender] [-o opt] [--option ...] rcpt < msg\n"

/* clang-format on */

static void usage(int) __attribute__((noreturn));

/* --help: every option on one screen.  A usage error: the line alone. */
static void
usage(int status)
{
	if (status != 0) {
		fprintf(stderr, USAGE_LINE "try 'mxclient --help'\n");
		report_exit(status);
	}
	printf(USAGE_LINE
	    "  -f, -r sender    envelope sender (\"\" or \"<>\": the null sender)\n"
	    "  -q, --quiet      errors only   -v, --verbose   more detail\n"
	    "  -B -F -i -L -m -N -o -O -R -V  sendmail's options, ignored\n"
	    "  --resolver ADDR[#PORT]  validating resolver (resolv.conf's)\n"
	    "  --trust-remote-resolver  the path to a resolver off this host "
	    "is protected\n"
	    "  --dns-timeout S  per try (5)   --dnssec-probe NAME  must "
	    "validate (\".\")\n"
	    "  --dane-only      mandatory DANE   --require-auth  DANE or "
	    "MTA-STS, or 75\n"
	    "  --probe DOMAIN   check every MX up to authentication, send "
	    "nothing\n"
	    "  --ca-file FILE   WebPKI CAs for MTA-STS (the system's)   "
	    "--sts-timeout S (20)\n"
	    "  --sts-cache DIR|none  MTA-STS policies   --sts-refresh DOMAIN  "
	    "fetch one now\n"
	    "  --tlsrpt-socket PATH  TLS-RPT datagrams to a tlsrpt collector\n"
	    "  --helo NAME      EHLO name (this host's FQDN, else [address])\n"
	    "  --timeout STAGE=S  connect (30), greeting, ehlo, starttls, "
	    "mail, rcpt (300),\n"
	    "                   data-init (120), data-xfer (180), data-done "
	    "(600), quit\n"
	    "  --deadline S     give up after S seconds in all\n"
	    "  --proxy URL      socks5://[user:pass@]host[:port], "
	    "ssh://[user@]host[:port]\n"
	    "  --json           JSON report on stdout   --status-fd N  on "
	    "descriptor N\n"
	    "  --lock-fd N      keep N open (a queue's lock)   --syslog  a "
	    "line to syslog\n"
	    "  --config FILE    settings (MXCLIENT_CONF, /etc/mxclient.conf)\n"
	    "  --user NAME      children's user as root (nobody)   --chroot DIR "
	    " their root\n"
	    "  --help, --version\n"
	    "exit: 0 delivered, 75 try again later, other codes permanent; see "
	    "mxclient(1)\n");
	exit(0);
}

/* A timeout option: 1 to 3600 seconds. */
static int
seconds(const char *opt, const char *arg)
{
	char *end;
	long  v = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || v < 1 || v > 3600) {
		config_exit(EX_USAGE, "%s: want 1 to 3600 seconds", opt);
	}
	return v;
}

/* --status-fd N, --lock-fd N: a descriptor that is open. */
static int
open_fd(const char *opt, const char *arg)
{
	char *end;
	long  fd = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || fd < 1 || fd > INT_MAX ||
	    fcntl(fd, F_GETFD) == -1) {
		config_exit(
		    EX_USAGE, "%s %s: not an open descriptor", opt, arg);
	}
	return fd;
}

/* --timeout NAME=SECONDS, NAME as in stages[]. */
static void
set_timeout(struct options *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t      i;

	for (i = 0; eq != NULL && i < TO_COUNT; i++) {
		if (strlen(stages[i].name) == (size_t)(eq - arg) &&
		    strncmp(arg, stages[i].name, eq - arg) == 0) {
			o->timeout[i] = seconds("--timeout", eq + 1);
			return;
		}
	}
	fprintf(stderr,
	    "mxclient: --timeout %s: want NAME=SECONDS, NAME one of:", arg);
	for (i = 0; i < TO_COUNT; i++)
		fprintf(stderr, " %s", stages[i].name);
	fprintf(stderr, "\n");
	report_exit(EX_USAGE);
}

enum {
	OPT_RESOLVER = 256,
	OPT_HELO,
	OPT_USER,
	OPT_CHROOT,
	OPT_VERSION,
	OPT_PROBE,
	OPT_DNS_TIMEOUT,
	OPT_DANE_ONLY,
	OPT_TIMEOUT,
	OPT_DEADLINE,
	OPT_JSON,
	OPT_STATUS_FD,
	OPT_PROXY,
	OPT_TRUST_REMOTE,
	OPT_LOCK_FD,
	OPT_CONFIG,
	OPT_SYSLOG,
	OPT_PROBE_MX,
	OPT_REQUIRE_AUTH,
	OPT_CA_FILE,
	OPT_STS_CACHE,
	OPT_STS_TIMEOUT,
	OPT_STS_REFRESH,
	OPT_TLSRPT_SOCKET
};

static const struct option longopts[] = { { "resolver", required_argument, NULL,
	                                      OPT_RESOLVER },
	{ "helo", required_argument, NULL, OPT_HELO },
	{ "user", required_argument, NULL, OPT_USER },
	{ "chroot", required_argument, NULL, OPT_CHROOT },
	{ "dnssec-probe", required_argument, NULL, OPT_PROBE },
	{ "dns-timeout", required_argument, NULL, OPT_DNS_TIMEOUT },
	{ "dane-only", no_argument, NULL, OPT_DANE_ONLY },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "deadline", required_argument, NULL, OPT_DEADLINE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "status-fd", required_argument, NULL, OPT_STATUS_FD },
	{ "proxy", required_argument, NULL, OPT_PROXY },
	{ "trust-remote-resolver", no_argument, NULL, OPT_TRUST_REMOTE },
	{ "lock-fd", required_argument, NULL, OPT_LOCK_FD },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "syslog", no_argument, NULL, OPT_SYSLOG },
	{ "probe", no_argument, NULL, OPT_PROBE_MX },
	{ "require-auth", no_argument, NULL, OPT_REQUIRE_AUTH },
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },
	{ "sts-cache", required_argument, NULL, OPT_STS_CACHE },
	{ "sts-timeout", required_argument, NULL, OPT_STS_TIMEOUT },
	{ "sts-refresh", required_argument, NULL, OPT_STS_REFRESH },
	{ "tlsrpt-socket", required_argument, NULL, OPT_TLSRPT_SOCKET },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION }, { NULL, 0, NULL, 0 } };

/* Options that only keep their argument, and where. */
static const struct {
	int    opt;
	size_t field;
} string_opts[] = {
	{ 'f', offsetof(struct options, sender) },
	{ 'r', offsetof(struct options, sender) }, /* sendmail: -r = -f */
	{ OPT_RESOLVER, offsetof(struct options, resolver) },
	{ OPT_HELO, offsetof(struct options, helo) },
	{ OPT_USER, offsetof(struct options, user) },
	{ OPT_CHROOT, offsetof(struct options, chroot_dir) },
	{ OPT_PROBE, offsetof(struct options, probe) },
	{ OPT_PROXY, offsetof(struct options, proxy) },
	{ OPT_CONFIG, offsetof(struct options, config) },
	{ OPT_CA_FILE, offsetof(struct options, ca_file) },
	{ OPT_STS_CACHE, offsetof(struct options, sts_cache) },
	{ OPT_STS_REFRESH, offsetof(struct options, sts_refresh) },
	{ OPT_TLSRPT_SOCKET, offsetof(struct options, tlsrpt_socket) },
};

/* Options that only set a flag of the job. */
static const struct {
	int opt;
	int set, clear;
} flag_opts[] = {
	{ 'q', JOB_QUIET, JOB_VERBOSE },
	{ 'v', JOB_VERBOSE, JOB_QUIET },
	{ OPT_DANE_ONLY, JOB_DANE_ONLY, 0 },
	{ OPT_REQUIRE_AUTH, JOB_REQUIRE_AUTH, 0 },
	{ OPT_PROBE_MX, JOB_PROBE, 0 },
};

/*
 * sendmail(8)'s options that change nothing for one message to one
 * recipient, taken and ignored so that callers of /usr/sbin/sendmail
 * work: -B type, -F name, -i, -L tag, -m, -N dsn, -o opt (-oi, -oem,
 * -odi, -odb, ...), -O opt=val, -R ret, -V envid.
 */
#define SENDMAIL_IGNORED "BFiLmNoORV"

/* What asks for a queue: mxqueue does it (as sendmail when installed). */
static void __attribute__((noreturn)) needs_queue(const char *what)
{
	char        buf[4096];
	const char *q = "mxqueue";
	ssize_t     n;

	n = readlink("/usr/sbin/sendmail", buf, sizeof(buf) - 1);
	if (n > 0 && (buf[n] = '\0', strstr(buf, "mxqueue") != NULL))
		q = "sendmail";
	config_exit(EX_USAGE,
	    "%s: mxclient sends one message to one recipient now; %s queues, takes recipients from the headers and retries",
	    what, q);
}

/* -b mode: -bm is a delivery (ignored); -bs, -bp and the others queue. */
static void
sendmail_mode(const char *arg)
{
	if (strcmp(arg, "m") == 0)
		return;
	needs_queue(strcmp(arg, "p") == 0 ? "-bp (the queue listing)"
	        : strcmp(arg, "s") == 0   ? "-bs (SMTP on standard input)"
	                                  : "this -b mode");
}

static int
string_opt(struct options *o, int ch, char *arg)
{
	size_t i;

	for (i = 0; i < sizeof(string_opts) / sizeof(string_opts[0]); i++)
		if (string_opts[i].opt == ch) {
			*(char **)((char *)o + string_opts[i].field) = arg;
			return 1;
		}
	for (i = 0; i < sizeof(flag_opts) / sizeof(flag_opts[0]); i++)
		if (flag_opts[i].opt == ch) {
			o->flags =
			    (o->flags & ~flag_opts[i].clear) | flag_opts[i].set;
			return 1;
		}
	return 0;
}

/* One option that is neither a string nor a flag. */
static void
other_opt(struct options *o, int ch, const char *arg)
{
	switch (ch) {
	case 'b':
		sendmail_mode(arg);
		break;
	case 'q':
		/* -q alone is --quiet; sendmail's -qTIME, -qR... run a queue */
		needs_queue("-q with an argument (a queue run)");
	case 't':
		needs_queue("-t (recipients from the headers)");
	case 'h':
		usage(0);
	case OPT_TIMEOUT:
		set_timeout(o, arg);
		break;
	case OPT_JSON:
		o->flags |= JOB_JSON;
		if (o->status_fd == -1)
			o->status_fd = STDOUT_FILENO;
		break;
	case OPT_STATUS_FD:
		o->flags |= JOB_JSON;
		o->status_fd = open_fd("--status-fd", arg);
		break;
	case OPT_LOCK_FD:
		o->lock_fd = open_fd("--lock-fd", arg);
		break;
	case OPT_DEADLINE:
		o->deadline = seconds("--deadline", arg);
		break;
	case OPT_TRUST_REMOTE:
		o->trust_remote = 1;
		break;
	case OPT_STS_TIMEOUT:
		o->sts_timeout = seconds("--sts-timeout", arg);
		break;
	case OPT_SYSLOG:
		o->syslog = 1;
		break;
	case OPT_DNS_TIMEOUT:
		o->dns_timeout = seconds("--dns-timeout", arg);
		break;
	case OPT_VERSION:
		printf("mxclient %s\n", MXCLIENT_VERSION);
		exit(0);
	default:
		if (ch == '?' || strchr(SENDMAIL_IGNORED, ch) == NULL)
			usage(EX_USAGE);
	}
}

/*
 * --probe DOMAIN and --sts-refresh DOMAIN name a domain, not a
 * recipient: its postmaster stands for it (RFC 5321 §4.5.1), and there
 * is neither a message nor a sender.
 */
static void
domain_args(struct options *o, int argc, char **argv)
{
	static char rcpt[NAME_MAX_LEN + 16];
	const char *dom = o->sts_refresh;

	if ((o->flags & JOB_PROBE) && o->sts_refresh != NULL) {
		fprintf(stderr,
		    "mxclient: --probe and --sts-refresh do "
		    "different things: one at a time\n");
		usage(EX_USAGE);
	}
	if (dom == NULL && argc == 1)
		dom = argv[0];
	if (dom == NULL || argc > (o->sts_refresh == NULL)) {
		fprintf(stderr,
		    "mxclient: %s takes one domain and nothing "
		    "else\n",
		    o->sts_refresh ? "--sts-refresh" : "--probe");
		usage(EX_USAGE);
	}
	snprintf(rcpt, sizeof(rcpt), "postmaster@%s", dom);
	o->rcpt = rcpt;
	if (o->sts_refresh != NULL)
		o->flags |= JOB_STS_REFRESH;
	if (o->sender == NULL)
		o->sender = "";
}

void
parse_args(int argc, char **argv, struct options *o)
{
	int ch;

	while ((ch = getopt_long(argc, argv,
	            "B:b:f:F:hiL:mN:o:O:q::r:R:tvV:", longopts, NULL)) != -1)
		/* -q alone is a flag; -qTIME and the like are queue runs */
		if ((ch == 'q' && optarg != NULL) || !string_opt(o, ch, optarg))
			other_opt(o, ch, optarg);
	/* the JSON report alone on stdout, unless it has a descriptor */
	if (o->status_fd == STDOUT_FILENO)
		o->flags = (o->flags & ~JOB_VERBOSE) | JOB_QUIET;
	argc -= optind;
	argv += optind;
	if (o->sts_refresh != NULL || (o->flags & JOB_PROBE)) {
		domain_args(o, argc, argv);
		return;
	}
	if (argc == 0) {
		fprintf(stderr, "mxclient: no recipient given\n");
		usage(EX_USAGE);
	}
	if (argc > 1)
		needs_queue("several recipients");
	o->rcpt = argv[0];
	if (o->sender != NULL && strcmp(o->sender, "<>") == 0)
		o->sender = "";
}

/* NULL if `name' is a valid domain for EHLO. */

uint32_t
stage_timeout(const struct options *o, enum timeout_stage st)
{
	return o->timeout[st] ? o->timeout[st] : stages[st].seconds;
}
