/*
 * mxclient: send one message directly to the recipient domain's MX.
 *
 * The parent checks the command line, spools the message, starts the
 * dns, net and tls children (and ssh for an ssh:// proxy), locks itself
 * down and then only serves the message to tls, prints what the children
 * report and turns the outcome into an exit status (exit_status(): the
 * one place for that).
 */
#include <sys/types.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "fds.h"
#include "frame.h"
#include "log.h"
#include "parent.h"
#include "proc.h"

#ifndef MXCLIENT_VERSION
#define MXCLIENT_VERSION "0.1"
#endif

#define DNS_TIMEOUT    5
#define CHILD_START_MS 60000 /* initialising and locking down */

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

struct options {
	const char *sender;
	const char *rcpt;
	const char *helo;
	const char *user;
	const char *chroot_dir;
	const char *resolver;
	const char *probe;             /* --dnssec-probe */
	char       *proxy;             /* --proxy URL, blanked after parsing */
	int         dns_timeout;       /* --dns-timeout, 0 = default */
	uint32_t    timeout[TO_COUNT]; /* --timeout, 0 = default */
	uint32_t    deadline;          /* --deadline, 0 = none */
	int         status_fd;         /* JSON report goes here, or -1 */
	int         trust_remote;      /* --trust-remote-resolver */
	int         flags;             /* JOB_VERBOSE, JOB_QUIET */
};

struct child {
	enum proc_id proc;
	pid_t        pid;
	struct chan  chan;   /* frames from the child */
	struct chan  death;  /* its SIGSYS handler's report */
	int          status; /* from waitpid, once reaped */
	int          reaped;
	int32_t      sysnr;  /* syscall that killed it, or -1 */
	long         maxrss; /* peak resident set, kB */
};

struct parent {
	struct child child[PROC_COUNT]; /* [PROC_PARENT] unused */
	struct spool spool;
	int          have_result;
	int          dot_sent; /* tls announced the final "." */
	int          ready_fd; /* EOF once every child has locked down */
	int          stopping; /* children are being stopped */
	char        *json;     /* MSG_REPORT from tls */
	enum outcome outcome;
	const char  *fault; /* why the delivery broke inside */
	enum proc_id fault_proc;
};

static volatile sig_atomic_t got_signal;

static void usage(int) __attribute__((noreturn));
static void set_fault(struct parent *, enum proc_id, const char *);
static void stop_children(struct parent *);

/* clang-format off */
#define USAGE_LINE \
	"usage: mxclient [-iqv] [-f sender] [-F name] [-o opt] [--option ...] " \
	"rcpt < msg\n"

/* clang-format on */

/* --help: every option on one screen.  A usage error: the line alone. */
static void
usage(int status)
{
	if (status != 0) {
		fprintf(stderr, USAGE_LINE "try 'mxclient --help'\n");
		exit(status);
	}
	printf(USAGE_LINE
	    "  -f sender             envelope sender (\"\" or \"<>\": the null sender)\n"
	    "  -F name, -i, -o opt   sendmail compatibility, ignored\n"
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
	    "  --user NAME           children's user when run as root (nobody)\n"
	    "  --chroot DIR          children's root (a fresh empty directory)\n"
	    "  --help, --version\n"
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

/* --status-fd N: an open descriptor for the JSON report. */
static int
status_fd(const char *arg)
{
	char *end;
	long  fd = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || fd < 1 || fd > 1023 ||
	    fcntl(fd, F_GETFD) == -1) {
		fprintf(stderr,
		    "mxclient: --status-fd %s: not an open descriptor\n", arg);
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

static void
parse_args(int argc, char **argv, struct options *o)
{
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
		OPT_TRUST_REMOTE
	};
	static const struct option longopts[] = {
		{ "resolver", required_argument, NULL, OPT_RESOLVER },
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
		{ "trust-remote-resolver", no_argument, NULL,
		    OPT_TRUST_REMOTE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "f:F:hio:qv", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'f':
			o->sender = optarg;
			break;
		case 'F':
		case 'i':
		case 'o':
			break; /* sendmail compatibility; see mxclient(1) */
		case 'q':
			o->flags = (o->flags & ~JOB_VERBOSE) | JOB_QUIET;
			break;
		case 'v':
			o->flags = (o->flags & ~JOB_QUIET) | JOB_VERBOSE;
			break;
		case 'h':
			usage(0);
		case OPT_RESOLVER:
			o->resolver = optarg;
			break;
		case OPT_HELO:
			o->helo = optarg;
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_CHROOT:
			o->chroot_dir = optarg;
			break;
		case OPT_PROBE:
			o->probe = optarg;
			break;
		case OPT_TIMEOUT:
			set_timeout(o, optarg);
			break;
		case OPT_JSON:
			o->flags |= JOB_JSON;
			if (o->status_fd == -1)
				o->status_fd = STDOUT_FILENO;
			break;
		case OPT_STATUS_FD:
			o->flags |= JOB_JSON;
			o->status_fd = status_fd(optarg);
			break;
		case OPT_DEADLINE:
			o->deadline = seconds("--deadline", optarg);
			break;
		case OPT_DANE_ONLY:
			o->flags |= JOB_DANE_ONLY;
			break;
		case OPT_PROXY:
			o->proxy = optarg;
			break;
		case OPT_TRUST_REMOTE:
			o->trust_remote = 1;
			break;
		case OPT_DNS_TIMEOUT:
			o->dns_timeout = seconds("--dns-timeout", optarg);
			break;
		case OPT_VERSION:
			printf("mxclient %s\n", MXCLIENT_VERSION);
			exit(0);
		default:
			usage(EX_USAGE);
		}
	}
	/* the JSON report alone on stdout, unless it has a descriptor */
	if (o->status_fd == STDOUT_FILENO)
		o->flags = (o->flags & ~JOB_VERBOSE) | JOB_QUIET;
	argc -= optind;
	argv += optind;
	if (argc != 1) {
		fprintf(stderr, "mxclient: %s\n",
		    argc == 0 ? "no recipient given"
		              : "exactly one recipient per run");
		usage(EX_USAGE);
	}
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
	const char *url = o->proxy, *why;
	int         bad = EX_USAGE;

	if (url == NULL) {
		url = getenv("MXCLIENT_PROXY");
		bad = EX_CONFIG;
	}
	if (url == NULL)
		return;
	if ((why = proxy_parse(url, &cfg->proxy)) != NULL) {
		if (o->proxy != NULL)
			proxy_scrub(o->proxy);
		fprintf(stderr, "mxclient: bad %s: %s\n",
		    o->proxy ? "--proxy" : "MXCLIENT_PROXY", why);
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

static void
make_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	        sv) == -1)
		fatal("socketpair");
}

/*
 * Keep only `keep' (and stderr), however high the others are numbered;
 * stdin and stdout become /dev/null.
 */
static int
open_null(void)
{
	static int nul = -1;

	if (nul == -1 && (nul = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		fatal("/dev/null");
	return nul;
}

static void
close_others(const int *keep, int nkeep)
{
	int nul = open_null();

	if (dup2(nul, 0) == -1 || dup2(nul, 1) == -1)
		fatal("dup2");
	if (fds_close_except(keep, nkeep) == -1)
		fatal("closing inherited descriptors");
}

/* "mxclient-tls" in ps(1) and /proc/PID/comm: which child is which. */
static void
name_process(enum proc_id proc)
{
#ifdef __linux__
	char name[16];

	snprintf(name, sizeof(name), "mxclient-%s", proc_name(proc));
	prctl(PR_SET_NAME, name);
#else
	setproctitle("%s", proc_name(proc));
#endif
}

#ifdef SANDBOX_TEST
/*
 * Test builds only: MXCLIENT_SANDBOX_TEST=proc:syscall makes that child
 * try the syscall right after locking down, to prove the sandbox kills.
 */
static void
sandbox_test_hook(enum proc_id proc, struct sandbox_cfg *sb)
{
	const char *spec = getenv("MXCLIENT_SANDBOX_TEST"), *colon;
	size_t      n = strlen(proc_name(proc));

	if (spec == NULL || (colon = strchr(spec, ':')) == NULL)
		return;
	/* "all:off": every process without Landlock and seccomp (valgrind) */
	if (strcmp(spec, "all:off") == 0 ||
	    ((size_t)(colon - spec) == n &&
	        strncmp(spec, proc_name(proc), n) == 0))
		sb->test_syscall = colon + 1;
}
#else
static void
sandbox_test_hook(enum proc_id proc, struct sandbox_cfg *sb)
{
	(void)proc;
	(void)sb;
}
#endif

/*
 * The channels: every child has one to the parent and one for its
 * sandbox death report; tls has one to dns and one to net, and net one
 * to ssh (used only when there is an ssh process).
 */
enum {
	PAIR_DNS,
	PAIR_NET,
	PAIR_TLS,
	PAIR_SSH,
	DEATH_DNS,
	DEATH_NET,
	DEATH_TLS,
	DEATH_SSH,
	TLS_DNS,
	TLS_NET,
	NET_SSH,
	NPAIRS
};

/*
 * Where each child may connect (Landlock): net to port 25, or to the
 * SOCKS5 proxy's port only, or nowhere when ssh carries the stream; the
 * ssh process to the ssh server's port; dns is set up by the caller.
 */
static void
child_sandbox(enum proc_id proc, struct child_cfg *cfg)
{
	struct proxy_cfg *pc = &cfg->proxy;

	if (proc == PROC_NET) {
		cfg->sb.nports = pc->kind == PROXY_SSH ? 0 : 1;
		cfg->sb.ports[0] = pc->kind == PROXY_SOCKS5 ? pc->port : 25;
	}
	if (proc == PROC_SSH) {
		cfg->sb.nports = 1;
		cfg->sb.ports[0] = pc->port;
		cfg->sb.exec_path = SSH_PATH;
	}
	/* only net (SOCKS5) needs the password, only net and ssh the user */
	if (proc != PROC_NET)
		explicit_bzero(pc->pass, sizeof(pc->pass));
	if (proc != PROC_NET && proc != PROC_SSH)
		explicit_bzero(cfg->proxy.user, sizeof(cfg->proxy.user));
}

static pid_t
start_child(enum proc_id proc, int pairs[NPAIRS][2], struct child_cfg *cfg)
{
	int   me = proc - PROC_DNS, keep[6], nkeep = 0;
	pid_t pid;

	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid != 0)
		return pid;
	keep[nkeep++] = pairs[PAIR_DNS + me][1];
	keep[nkeep++] = pairs[DEATH_DNS + me][1];
	if (proc == PROC_TLS) {
		keep[nkeep++] = pairs[TLS_DNS][0];
		keep[nkeep++] = pairs[TLS_NET][0];
	} else if (proc == PROC_SSH)
		keep[nkeep++] = pairs[NET_SSH][1];
	else
		keep[nkeep++] = pairs[proc == PROC_DNS ? TLS_DNS : TLS_NET][1];
	if (proc == PROC_NET && cfg->proxy.kind == PROXY_SSH)
		keep[nkeep++] = pairs[NET_SSH][0];
	keep[nkeep++] = cfg->sb.ready_fd; /* sandbox_lock() closes it */
	close_others(keep, nkeep);
	child_sandbox(proc, cfg);
	name_process(proc);
	cfg->sb.death_fd = pairs[DEATH_DNS + me][1];
	sandbox_test_hook(proc, &cfg->sb);
	/* the parent decides when we end; it stops us with SIGKILL */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	sigprocmask(SIG_SETMASK, &cfg->sigmask, NULL);
	if (proc == PROC_DNS)
		dns_main(keep[0], keep[2], cfg);
	if (proc == PROC_NET)
		net_main(keep[0], keep[2], nkeep > 3 ? keep[3] : -1, cfg);
	if (proc == PROC_SSH)
		ssh_main(keep[0], keep[2], cfg);
	tls_main(keep[0], keep[2], keep[3], cfg);
}

static void
start_children(struct parent *p, struct child_cfg *cfg)
{
	int          pairs[NPAIRS][2], ready[2], i;
	enum proc_id proc;

	for (i = 0; i < NPAIRS; i++)
		make_pair(pairs[i]);
	if (pipe2(ready, O_CLOEXEC) == -1)
		fatal("pipe2");
	cfg->sb.ready_fd = ready[1];
	for (proc = PROC_DNS; proc < PROC_COUNT; proc++) {
		struct child *c = &p->child[proc];
		int           me = proc - PROC_DNS;

		c->proc = proc;
		c->sysnr = -1;
		if (proc == PROC_SSH && cfg->proxy.kind != PROXY_SSH) {
			c->reaped = 1; /* never started */
			continue;
		}
		c->pid = start_child(proc, pairs, cfg);
		chan_init(&c->chan, pairs[PAIR_DNS + me][0], PROC_PARENT, proc,
		    proc_name(proc));
		chan_init(&c->death, pairs[DEATH_DNS + me][0], PROC_PARENT,
		    proc, proc_name(proc));
	}
	for (i = 0; i < NPAIRS; i++) {
		int no_ssh = p->child[PROC_SSH].pid == 0 &&
		    (i == PAIR_SSH || i == DEATH_SSH);

		close(pairs[i][1]);
		if (i >= TLS_DNS || no_ssh)
			close(pairs[i][0]);
	}
	close(ready[1]);
	p->ready_fd = ready[0];
	/* the parent needs no credentials once net has them */
	explicit_bzero(cfg->proxy.pass, sizeof(cfg->proxy.pass));
}

/*
 * Every child has locked down (and dropped root) once the ready pipe
 * reads end of file: each one closes its end at the end of sandbox_lock(),
 * or dies.  Only then may the parent drop root, or it could not kill a
 * child that still runs as root.
 */
static void
wait_locked_down(struct parent *p)
{
	struct pollfd pfd = { p->ready_fd, POLLIN, 0 };
	char          c;
	int           r;

	while ((r = poll(&pfd, 1, CHILD_START_MS)) == -1 && errno == EINTR)
		;
	if (r == 1 && read(p->ready_fd, &c, 1) == 0) {
		close(p->ready_fd);
		return;
	}
	stop_children(p);
	fatalx("a child did not lock itself down within %d s",
	    CHILD_START_MS / 1000);
}

/*
 * Once the children run, the parent needs no privilege: started as root
 * it drops to the children's user in an empty root, like them (it can
 * still wait for them and kill them: same user).  Its filter lets kill()
 * reach its own children only, with SIGKILL only.
 */
static void
lock_parent(struct parent *p, const struct child_cfg *cfg)
{
	struct sandbox_cfg pcfg;
	enum proc_id       i;

	wait_locked_down(p);
	memset(&pcfg, 0, sizeof(pcfg));
	pcfg.drop = cfg->sb.drop;
	pcfg.uid = cfg->sb.uid;
	pcfg.gid = cfg->sb.gid;
	pcfg.chroot_dir = cfg->sb.chroot_dir;
	pcfg.death_fd = -1;
	for (i = PROC_DNS; i < PROC_COUNT; i++)
		if (p->child[i].pid > 0)
			pcfg.peers[pcfg.npeers++] = p->child[i].pid;
	sandbox_test_hook(PROC_PARENT, &pcfg);
	sandbox_lock(PROC_PARENT, &pcfg);
}

static void
send_job(struct parent *p, const struct options *o, const char *helo)
{
	struct chan   *c = &p->child[PROC_TLS].chan;
	struct msg_job job;
	size_t         i;

	memset(&job, 0, sizeof(job));
	job.size = p->spool.n.size;
	job.wire_size = p->spool.n.wire;
	job.flags = o->flags | (p->spool.n.has8bit ? JOB_8BIT : 0);
	for (i = 0; i < TO_COUNT; i++)
		job.timeout[i] =
		    o->timeout[i] ? o->timeout[i] : stages[i].seconds;
	job.deadline = o->deadline;
	if (chan_compose(c, MSG_JOB_SENDER, 0, -1, o->sender,
	        strlen(o->sender) + 1) == -1 ||
	    chan_compose(
	        c, MSG_JOB_RCPT, 0, -1, o->rcpt, strlen(o->rcpt) + 1) == -1 ||
	    chan_compose(c, MSG_JOB_HELO, 0, -1, helo, strlen(helo) + 1) ==
	        -1 ||
	    chan_compose(c, MSG_JOB_START, 0, -1, &job, sizeof(job)) == -1)
		fatalx("cannot queue the job: %s", c->err);
}

/* tls reads the message in chunks, from any offset (one per MX try). */
static void
serve_body(struct parent *p, const struct frame *f)
{
	struct chan        *c = &p->child[PROC_TLS].chan;
	uint8_t             buf[BODY_CHUNK];
	struct msg_body_req req;
	uint64_t            left;
	ssize_t             n;

	memcpy(&req, f->data, sizeof(req));
	if (req.offset > p->spool.n.wire) {
		set_fault(p, PROC_TLS, "asked for data beyond the message");
		return;
	}
	left = p->spool.n.wire - req.offset;
	n = pread(p->spool.fd, buf, left < sizeof(buf) ? left : sizeof(buf),
	    req.offset);
	if (n == -1)
		fatal("read the spool");
	if (chan_compose(c, MSG_BODY_DATA, f->id, -1, buf, n) == -1)
		set_fault(p, PROC_TLS, c->err);
	explicit_bzero(buf, sizeof(buf));
}

static void
record_result(struct parent *p, const struct frame *f)
{
	struct msg_result r;

	if (p->have_result) {
		set_fault(p, PROC_TLS, "sent a second result");
		return;
	}
	memcpy(&r, f->data, sizeof(r));
	p->have_result = 1;
	p->outcome = r.outcome;
	log_print(r.outcome == OUT_DELIVERED ? LOGL_INFO : LOGL_ERROR,
	    frame_str(f, sizeof(r)));
}

static void
handle_frame(struct parent *p, struct child *c, const struct frame *f)
{
	struct msg_log l;

	switch (f->type) {
	case MSG_LOG:
		memcpy(&l, f->data, sizeof(l));
		log_print(l.level, frame_str(f, sizeof(l)));
		break;
	case MSG_BODY_REQ:
		serve_body(p, f);
		break;
	case MSG_DOT_SENT:
		p->dot_sent = 1;
		break;
	case MSG_RESULT:
		record_result(p, f);
		break;
	case MSG_REPORT:
		free(p->json);
		if ((p->json = strdup(frame_str(f, 0))) == NULL)
			set_fault(p, c->proc, "out of memory");
		break;
	default:
		set_fault(p, c->proc, "sent a message the parent never takes");
		break;
	}
}

/* Stop every child still running; deaths after this are expected. */
static void
stop_children(struct parent *p)
{
	enum proc_id i;

	p->stopping = 1;
	for (i = PROC_DNS; i < PROC_COUNT; i++)
		if (!p->child[i].reaped)
			kill(p->child[i].pid, SIGKILL);
}

/* The first fault wins; every child is stopped at once. */
static void
set_fault(struct parent *p, enum proc_id proc, const char *why)
{
	if (p->fault == NULL) {
		p->fault = why;
		p->fault_proc = proc;
	}
	stop_children(p);
}

/* Learn which syscall a SIGSYS death was about, if the child said. */
static void
read_death_report(struct child *c)
{
	struct msg_sandbox_death d;
	struct frame             f;

	if (chan_read(&c->death) == -1 || chan_get(&c->death, &f) != 1 ||
	    f.type != MSG_SANDBOX_DEATH)
		return;
	memcpy(&d, f.data, sizeof(d));
	c->sysnr = d.syscall_nr;
}

static const char *
describe_exit(struct child *c)
{
	static char buf[160];
	const char *name;

	if (WIFSIGNALED(c->status) && WTERMSIG(c->status) == SIGSYS) {
		read_death_report(c);
		name = c->sysnr >= 0 ? sandbox_syscall_name(c->sysnr) : NULL;
		if (c->sysnr < 0)
			return "killed by its sandbox (SIGSYS)";
		snprintf(buf, sizeof(buf),
		    "killed by its sandbox: system call %d (%s)", c->sysnr,
		    name ? name : "unknown");
	} else if (WIFSIGNALED(c->status))
		snprintf(buf, sizeof(buf), "killed by signal %d (%s)",
		    WTERMSIG(c->status), strsignal(WTERMSIG(c->status)));
	else
		snprintf(buf, sizeof(buf), "exited with status %d",
		    WEXITSTATUS(c->status));
	return buf;
}

static void
reap(struct parent *p, struct child *c)
{
	struct rusage ru;

	while (wait4(c->pid, &c->status, 0, &ru) == -1)
		if (errno != EINTR)
			fatal("wait4");
	c->reaped = 1;
	c->maxrss = ru.ru_maxrss;
	if (WIFSIGNALED(c->status) && WTERMSIG(c->status) == SIGSYS) {
		/* the root cause, even if a sibling noticed it first */
		p->fault = NULL;
		set_fault(p, c->proc, describe_exit(c));
		return;
	}
	if (p->stopping)
		return;
	/*
	 * dns and net exit 0 only when tls has closed their channel: tls's
	 * own end, reaped next, tells whether that was a fault.
	 */
	if (c->proc != PROC_TLS && WIFEXITED(c->status) &&
	    WEXITSTATUS(c->status) == 0)
		return;
	if (c->proc == PROC_TLS && p->have_result && WIFEXITED(c->status) &&
	    WEXITSTATUS(c->status) == 0) {
		stop_children(p); /* the delivery is over */
		return;
	}
	set_fault(p, c->proc, describe_exit(c));
}

static int
live_children(const struct parent *p)
{
	enum proc_id i;
	int          n = 0;

	for (i = PROC_DNS; i < PROC_COUNT; i++)
		n += !p->child[i].reaped;
	return n;
}

static void
service_child(struct parent *p, struct child *c, short revents)
{
	struct frame f;
	int          r;

	if (revents & POLLOUT && chan_flush(&c->chan) == -1)
		set_fault(p, c->proc, c->chan.err);
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	if ((r = chan_read(&c->chan)) == -1)
		set_fault(p, c->proc, c->chan.err);
	while ((r = chan_get(&c->chan, &f)) == 1)
		handle_frame(p, c, &f);
	if (r == -1) {
		set_fault(p, c->proc, c->chan.err);
		reap(p, c);
	} else if (c->chan.eof)
		reap(p, c);
}

static void
parent_loop(struct parent *p)
{
	struct pollfd pfd[PROC_COUNT];
	struct child *map[PROC_COUNT];
	sigset_t      none;
	enum proc_id  i;
	int           n;

	sigemptyset(&none);
	while (live_children(p) > 0) {
		for (n = 0, i = PROC_DNS; i < PROC_COUNT; i++) {
			if (p->child[i].reaped)
				continue;
			map[n] = &p->child[i];
			pfd[n].fd = p->child[i].chan.fd;
			pfd[n].events = chan_events(&p->child[i].chan);
			pfd[n++].revents = 0;
		}
		/* signals are blocked except while waiting here */
		if (ppoll(pfd, n, NULL, &none) == -1) {
			if (errno != EINTR)
				fatal("ppoll");
			if (got_signal)
				set_fault(p, PROC_PARENT,
				    got_signal == SIGINT
				        ? "interrupted"
				        : "terminated by a signal");
			continue;
		}
		for (i = 0; i < (enum proc_id)n; i++)
			service_child(p, map[i], pfd[i].revents);
	}
}

/*
 * What became of the message.  A fault (a child that died or broke the
 * rules, a signal) leaves it undelivered, unless tls had announced the
 * final "." by then: the server may have it (RFC 5321 §6.1).
 */
static enum outcome
final_outcome(const struct parent *p)
{
	if (p->have_result && p->outcome == OUT_DELIVERED)
		return OUT_DELIVERED; /* delivered is delivered, whatever followed */
	if (p->fault != NULL || !p->have_result)
		return p->dot_sent ? OUT_UNKNOWN : OUT_INTERNAL;
	return p->outcome;
}

/* The one place where outcomes become sysexits codes (README table). */
static int
exit_status(const struct parent *p)
{
	static const int codes[OUT_COUNT] = {
		[OUT_DELIVERED] = EX_OK,
		[OUT_TEMPFAIL] = EX_TEMPFAIL,
		[OUT_NOHOST] = EX_NOHOST,
		[OUT_NOUSER] = EX_NOUSER,
		[OUT_UNAVAILABLE] = EX_UNAVAILABLE,
		[OUT_PROTOCOL] = EX_PROTOCOL,
		[OUT_DATAERR] = EX_DATAERR,
		[OUT_CONFIG] = EX_CONFIG,
		/* Postfix pipe(8) bounces on 70: an internal fault retries */
		[OUT_INTERNAL] = EX_TEMPFAIL,
		[OUT_UNKNOWN] = EX_TEMPFAIL,
	};
	enum outcome o = final_outcome(p);
	const char  *who =
            p->fault_proc == PROC_PARENT ? "" : proc_name(p->fault_proc);

	if (o == OUT_DELIVERED || (p->fault == NULL && p->have_result))
		return codes[o];
	if (p->fault == NULL)
		fprintf(stderr, "mxclient: tls ended without a result; ");
	else
		fprintf(stderr, "mxclient: %s%s%s; ", who, *who ? ": " : "",
		    p->fault);
	if (o == OUT_UNKNOWN)
		fprintf(stderr,
		    "delivery status unknown: the message was sent and the server may have taken it (a retry may deliver it twice)\n");
	else
		fprintf(stderr, "message not delivered, will need a retry\n");
	return codes[o];
}

/* -v: the peak memory of every process, for the resource tests. */
static void
print_peak_rss(const struct parent *p)
{
	struct rusage ru;
	char          line[160];

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		ru.ru_maxrss = -1;
	snprintf(line, sizeof(line),
	    "peak RSS: parent %ld kB, dns %ld kB, net %ld kB, tls %ld kB",
	    ru.ru_maxrss, p->child[PROC_DNS].maxrss, p->child[PROC_NET].maxrss,
	    p->child[PROC_TLS].maxrss);
	if (p->child[PROC_SSH].pid != 0)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
		    ", ssh %ld kB", p->child[PROC_SSH].maxrss);
	log_print(LOGL_INFO, line);
}

/* --json, --status-fd: one JSON object, with the exit status first. */
static void
write_report(int fd, const struct parent *p, int code)
{
	char        head[80];
	ssize_t     n;
	size_t      i;
	const char *part[3];

	snprintf(head, sizeof(head), "{\"exit\":%d,\"outcome\":\"%s\"%s", code,
	    outcome_name(final_outcome(p)), p->json ? "," : "");
	part[0] = head;
	part[1] = p->json ? p->json : "";
	part[2] = "}\n";
	fflush(stdout);
	/* plain write(): stdio would lseek(), which the sandbox forbids */
	for (i = 0; i < 3; i++) {
		const char *q = part[i];
		size_t      left = strlen(q);

		while (left > 0 && (n = write(fd, q, left)) > 0) {
			q += n;
			left -= n;
		}
	}
}

static void
on_signal(int sig)
{
	got_signal = sig;
}

static void
block_signals(sigset_t *old)
{
	struct sigaction sa;
	sigset_t         set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1 ||
	    sigprocmask(SIG_BLOCK, &set, old) == -1)
		fatal("signals");
}

int
main(int argc, char **argv)
{
	static struct parent p;
	struct options       o;
	struct child_cfg     cfg;
	char                 helo[NAME_MAX_LEN + 1];
	const char          *why;
	int                  code;

	memset(&o, 0, sizeof(o));
	o.status_fd = -1;
	memset(&cfg, 0, sizeof(cfg));
	signal(SIGPIPE, SIG_IGN);
	parse_args(argc, argv, &o);
	/* what the caller left open (but --status-fd) is no business of ours */
	if (fds_close_except(&o.status_fd, o.status_fd > 2) == -1) {
		fprintf(stderr,
		    "mxclient: cannot close inherited descriptors: %s\n",
		    strerror(errno));
		exit(EX_OSERR);
	}
	check_address("recipient", o.rcpt, 0);
	if (o.helo != NULL && (why = helo_check(o.helo)) != NULL) {
		fprintf(stderr, "mxclient: bad --helo name: %s\n", why);
		exit(EX_USAGE);
	}
	default_helo(helo, sizeof(helo));
	default_sender(&o, o.helo ? o.helo : helo);
	check_address("sender", o.sender, 1);
	cfg.dns_timeout = o.dns_timeout ? o.dns_timeout : DNS_TIMEOUT;
	snprintf(cfg.dnssec_probe, sizeof(cfg.dnssec_probe), "%s",
	    o.probe ? o.probe : ".");
	if (strcmp(cfg.dnssec_probe, "none") == 0)
		cfg.dnssec_probe[0] = '\0';
	cfg.verbose = (o.flags & JOB_VERBOSE) != 0;
	cfg.sb.death_fd = -1;
	setup_resolvers(&o, &cfg);
	setup_proxy(&o, &cfg);
	if (cfg.proxy.kind == PROXY_SSH && geteuid() == 0 && o.user == NULL) {
		fprintf(stderr,
		    "mxclient: as root, --proxy ssh:// needs --user NAME: the account whose ~/.ssh has the key (ssh never runs as root)\n");
		exit(EX_CONFIG);
	}
	if (cfg.proxy.kind == PROXY_SSH && o.helo == NULL && helo[0] == '\0' &&
	    !proxy_numeric(&cfg.proxy)) {
		fprintf(stderr,
		    "mxclient: through ssh://%s the MX's view of our address is unknown and this host has no FQDN: give --helo NAME\n",
		    cfg.proxy.host);
		exit(EX_CONFIG);
	}
	setup_privdrop(&o, &cfg);
	log_init(PROC_PARENT, NULL, o.flags);

	if (spool_read(STDIN_FILENO, &p.spool, &why) == -1) {
		if (p.spool.n.err == NORM_OK) {
			fprintf(
			    stderr, "mxclient: %s: %s\n", why, strerror(errno));
			exit(EX_IOERR);
		}
		fprintf(stderr, "mxclient: message not sent: line %llu: %s\n",
		    (unsigned long long)p.spool.n.line, why);
		exit(EX_DATAERR);
	}
	/* the message lives in the spool now: no process keeps the input */
	if (dup2(open_null(), STDIN_FILENO) == -1)
		fatal("dup2");

	if (o.flags & JOB_VERBOSE)
		log_print(LOGL_INFO, sandbox_describe());
	block_signals(&cfg.sigmask);
	start_children(&p, &cfg);
	lock_parent(&p, &cfg);
	send_job(&p, &o, o.helo ? o.helo : helo);
	parent_loop(&p);
	code = exit_status(&p);
	if (o.flags & JOB_VERBOSE)
		print_peak_rss(&p);
	if (o.status_fd != -1)
		write_report(o.status_fd, &p, code);
	return code;
}
