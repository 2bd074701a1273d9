/*
 * The command line (mxclient --help; mxclient(1)) and what follows from
 * it before any child starts: the addresses checked (64), the resolvers
 * and the proxy chosen (a bad choice is 78, a configuration error), the
 * EHLO name and sender, and the user the children run as when started as
 * root.  Nothing here opens a socket.
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

#define DNS_TIMEOUT 5

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
		exit(status);
	}
	printf(USAGE_LINE
	    "  -f, -r sender         envelope sender (\"\" or \"<>\": the null sender)\n"
	    "  -B -F -i -L -m -N -o -O -R -V  sendmail's options, ignored\n"
	    "  -q, --quiet           errors only    -v, --verbose   DNS details too\n"
	    "  --resolver ADDR[#PORT]  validating resolver (default: resolv.conf's)\n"
	    "  --dns-timeout S       per DNS try, 2 tries per resolver (5)\n"
	    "  --dnssec-probe NAME   must validate, else warn (\".\"; \"none\")\n"
	    "  --dane-only           mandatory DANE: signed MX and "
	    "authenticated TLS\n"
	    "  --trust-remote-resolver  the path to a resolver off this host "
	    "is protected\n"
	    "  --helo NAME           EHLO name (this host's FQDN, else "
	    "[address])\n"
	    "  --timeout STAGE=S     connect (30), greeting, ehlo, starttls, "
	    "mail,\n"
	    "                        rcpt (300), data-init (120), data-xfer "
	    "(180),\n"
	    "                        data-done (600), quit (300)\n"
	    "  --deadline S          give up after S seconds in all\n"
	    "  --proxy URL           connect through socks5://[user:pass@]host"
	    "[:port]\n"
	    "                        or ssh://[user@]host[:port]; none "
	    "(MXCLIENT_PROXY)\n"
	    "  --json                JSON report on stdout instead of "
	    "progress\n"
	    "  --status-fd N         JSON report on descriptor N\n"
	    "  --lock-fd N           hold descriptor N open until the end (a queue's lock)\n"

	    "  --config FILE         settings (MXCLIENT_CONF, /etc/mxclient.conf)\n"
	    "  --user NAME           children's user when run as root (nobody)\n"
	    "  --chroot DIR          children's root (a fresh empty directory)\n"
	    "  --syslog              one line per run to syslog    --help, --version\n"
	    "exit: 0 delivered, 75 try again later, other codes permanent; see "
	    "mxclient(1)\n");
	exit(0);
}

static void
check_address(const char *what, const char *a, int nullok)
{
	const char *why;

	if ((why = addr_check(a, nullok)) != NULL) {
		fprintf(stderr, "mxclient: bad %s address: %s\n", what, why);
		exit(EX_USAGE);
	}
}

/* A timeout option: 1 to 3600 seconds. */
static int
seconds(const char *opt, const char *arg)
{
	char *end;
	long  v = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || v < 1 || v > 3600) {
		fprintf(stderr, "mxclient: %s: want 1 to 3600 seconds\n", opt);
		exit(EX_USAGE);
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
		fprintf(stderr, "mxclient: %s %s: not an open descriptor\n",
		    opt, arg);
		exit(EX_USAGE);
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
	exit(EX_USAGE);
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
	OPT_SYSLOG
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
};

/* Options that only set a flag of the job. */
static const struct {
	int opt;
	int set, clear;
} flag_opts[] = {
	{ 'q', JOB_QUIET, JOB_VERBOSE },
	{ 'v', JOB_VERBOSE, JOB_QUIET },
	{ OPT_DANE_ONLY, JOB_DANE_ONLY, 0 },
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
	fprintf(stderr,
	    "mxclient: %s: mxclient sends one message to one recipient now; %s queues, takes recipients from the headers and retries\n",
	    what, q);
	exit(EX_USAGE);
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

static void
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
static const char *
helo_check(const char *name)
{
	char probe[NAME_MAX_LEN + 3];

	if (snprintf(probe, sizeof(probe), "x@%s", name) >= (int)sizeof(probe))
		return "name too long";
	return addr_check(probe, 0);
}

/* This host's name if it is an FQDN; else "" (tls uses [address]). */
static void
default_helo(char *buf, size_t len)
{
	if (gethostname(buf, len) == -1 || strchr(buf, '.') == NULL ||
	    helo_check(buf) != NULL)
		buf[0] = '\0';
}

static void
default_sender(struct options *o, const char *fqdn)
{
	static char    buf[300];
	struct passwd *pw;

	if (o->sender != NULL)
		return;
	if (*fqdn == '\0' || (pw = getpwuid(getuid())) == NULL) {
		fprintf(stderr,
		    "mxclient: no -f sender given and this host has no FQDN to build one\n");
		exit(EX_USAGE);
	}
	snprintf(buf, sizeof(buf), "%s@%s", pw->pw_name, fqdn);
	o->sender = buf;
}

/*
 * The resolvers dns will ask (resolver.c).  AD bits from a resolver off
 * this host cross the network unauthenticated (D1): a warning, and under
 * --dane-only a configuration error, unless --trust-remote-resolver says
 * the path to it is protected (an IPsec or WireGuard tunnel, say).
 */
static void
setup_resolvers(const struct options *o, struct child_cfg *cfg)
{
	char        text[64];
	const char *why, *remote;

	if ((why = resolver_setup(o->resolver, NULL, &cfg->resolvers)) !=
	    NULL) {
		if (o->resolver != NULL)
			fprintf(stderr, "mxclient: bad --resolver %s: %s\n",
			    o->resolver, why);
		else
			fprintf(
			    stderr, "mxclient: %s: no resolver to use\n", why);
		exit(EX_CONFIG);
	}
	if ((remote = resolver_remote(&cfg->resolvers, text, sizeof(text))) ==
	        NULL ||
	    o->trust_remote)
		return;
	if (o->flags & JOB_DANE_ONLY) {
		fprintf(stderr,
		    "mxclient: --dane-only needs a validating resolver on this host, and %s is not: the DNSSEC answers would cross the network unauthenticated (--trust-remote-resolver if the path to it is protected)\n",
		    remote);
		exit(EX_CONFIG);
	}
	fprintf(stderr,
	    "mxclient: warning: resolver %s is not on this host: its DNSSEC answers cross the network unauthenticated\n",
	    remote);
}

/*
 * --proxy, else MXCLIENT_PROXY ("none" or "" for a direct connection).
 * A bad URL is a usage error on the command line, a configuration
 * error in the environment; an unresolvable proxy name may be
 * temporary.  There is never a fallback to a direct connection.
 */
static void
setup_proxy(struct options *o, struct child_cfg *cfg)
{
	const char *url = o->proxy, *why, *from = "--proxy";
	int         bad = EX_USAGE;

	if (url == NULL && (url = getenv("MXCLIENT_PROXY")) != NULL)
		from = "MXCLIENT_PROXY", bad = EX_CONFIG;
	else if (url == NULL && (url = o->conf_proxy) != NULL)
		from = "proxy in the configuration file", bad = EX_CONFIG;
	if (url == NULL)
		return;
	if ((why = proxy_parse(url, &cfg->proxy)) != NULL) {
		if (o->proxy != NULL)
			proxy_scrub(o->proxy);
		fprintf(stderr, "mxclient: bad %s: %s\n", from, why);
		exit(bad);
	}
	/* neither ps(1) nor /proc/PID/environ shows a password now */
	if (o->proxy != NULL)
		proxy_scrub(o->proxy);
	if (getenv("MXCLIENT_PROXY") != NULL)
		proxy_scrub(getenv("MXCLIENT_PROXY"));
	if ((why = proxy_resolve(&cfg->proxy)) != NULL) {
		fprintf(
		    stderr, "mxclient: proxy %s: %s\n", cfg->proxy.text, why);
		exit(EX_TEMPFAIL);
	}
}

static void
setup_privdrop(const struct options *o, struct child_cfg *cfg)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return;
	if ((pw = getpwnam(o->user ? o->user : "nobody")) == NULL) {
		fprintf(stderr, "mxclient: unknown user %s\n",
		    o->user ? o->user : "nobody");
		exit(EX_CONFIG);
	}
	if (pw->pw_uid == 0) {
		fprintf(stderr, "mxclient: --user must not be root\n");
		exit(EX_CONFIG);
	}
	cfg->sb.drop = 1;
	cfg->sb.uid = pw->pw_uid;
	cfg->sb.gid = pw->pw_gid;
	cfg->sb.chroot_dir = o->chroot_dir;
}

/* The timeout of one stage: --timeout, else the default above. */
uint32_t
stage_timeout(const struct options *o, enum timeout_stage st)
{
	return o->timeout[st] ? o->timeout[st] : stages[st].seconds;
}

/* A proxy by ssh needs --user as root, and an EHLO name by address. */
static void
check_ssh_proxy(const struct options *o, const struct child_cfg *cfg)
{
	if (cfg->proxy.kind != PROXY_SSH)
		return;
	if (geteuid() == 0 && o->user == NULL) {
		fprintf(stderr,
		    "mxclient: as root, --proxy ssh:// needs --user NAME: the account whose ~/.ssh has the key (ssh never runs as root)\n");
		exit(EX_CONFIG);
	}
	if (o->helo[0] == '\0' && !proxy_numeric(&cfg->proxy)) {
		fprintf(stderr,
		    "mxclient: through ssh://%s the MX's view of our address is unknown and this host has no FQDN: give --helo NAME\n",
		    cfg->proxy.host);
		exit(EX_CONFIG);
	}
}

/*
 * mxclient.conf(5): what the command line did not set.  A file that is
 * named (--config, MXCLIENT_CONF) must be readable; a bad line is a
 * configuration error with its file and line.
 */
static void
read_config(struct options *o)
{
	static struct conf c;
	char               err[CONF_PATH_MAX + 128];

	conf_init(&c);
	if (conf_load(o->config, &c, err, sizeof(err)) != CONF_OK) {
		fprintf(stderr, "mxclient: %s\n", err);
		exit(EX_CONFIG);
	}
	if (o->resolver == NULL && c.resolver[0] != '\0')
		o->resolver = c.resolver;
	if (o->helo == NULL && c.helo[0] != '\0')
		o->helo = c.helo;
	if (c.proxy[0] != '\0')
		o->conf_proxy = c.proxy; /* after --proxy and MXCLIENT_PROXY */
	if (o->user == NULL && c.user[0] != '\0')
		o->user = c.user;
	if (c.syslog_socket[0] != '\0')
		snprintf(o->syslog_socket, sizeof(o->syslog_socket), "%s",
		    c.syslog_socket);
	if (c.dane_only)
		o->flags |= JOB_DANE_ONLY;
}

/*
 * Everything the command line decides, in *o and *cfg; exits 64 (usage),
 * 78 (configuration) or 75 (a proxy name that does not resolve now).
 */
void
configure(int argc, char **argv, struct options *o, struct child_cfg *cfg)
{
	const char *why;

	memset(o, 0, sizeof(*o));
	o->status_fd = -1;
	o->lock_fd = -1;
	memset(cfg, 0, sizeof(*cfg));
	parse_args(argc, argv, o);
	read_config(o);
	check_address("recipient", o->rcpt, 0);
	if (o->helo != NULL && (why = helo_check(o->helo)) != NULL) {
		fprintf(stderr, "mxclient: bad --helo name: %s\n", why);
		exit(EX_USAGE);
	}
	default_helo(o->fqdn, sizeof(o->fqdn));
	if (o->helo == NULL)
		o->helo = o->fqdn;
	default_sender(o, o->helo);
	check_address("sender", o->sender, 1);
	cfg->dns_timeout = o->dns_timeout ? o->dns_timeout : DNS_TIMEOUT;
	snprintf(cfg->dnssec_probe, sizeof(cfg->dnssec_probe), "%s",
	    o->probe ? o->probe : ".");
	if (strcmp(cfg->dnssec_probe, "none") == 0)
		cfg->dnssec_probe[0] = '\0';
	cfg->log_flags = o->flags & (JOB_VERBOSE | JOB_QUIET);
	cfg->sb.death_fd = -1;
	setup_resolvers(o, cfg);
	setup_proxy(o, cfg);
	check_ssh_proxy(o, cfg);
	setup_privdrop(o, cfg);
}
