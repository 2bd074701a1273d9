/*
 * The ssh process, started only for --proxy ssh://.  It is the one
 * process of mxclient that may execute a program, and the only program
 * it can execute is ssh(1): Landlock grants execute on that one path
 * (unveil(2) on OpenBSD).  net, which talks to the network, never gains
 * exec rights; this process never sees the message, DNS or TLS.
 *
 * For each MX address net asks for, it runs
 *
 *	ssh -o BatchMode=yes ... -W [address]:25 -- host
 *
 * with one end of a socketpair as ssh's stdin and stdout and a pipe as
 * its stderr.  The stream counts as connected once the first octet of
 * the SMTP greeting has come through the tunnel (ssh says nothing on
 * success, and an SMTP server speaks first); it is only peeked at, so
 * tls reads the whole greeting.  If ssh exits instead, its stderr is
 * the reason.  The socket goes to net, which hands it to tls.
 *
 * It keeps the identity it was started with, because ssh needs that
 * user's keys, agent and known_hosts (doc/proxies.md).
 */
#include <sys/types.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fds.h"
#include "frame.h"
#include "log.h"
#include "proc.h"

#define TUNNELS_MAX 16   /* ssh processes alive at once */
#define ERRTEXT_MAX 1024 /* what we keep of one ssh's stderr */
#define ARGV_MAX    40
#define ENVP_MAX    12

struct tunnel {
	pid_t  pid;  /* 0: slot free */
	int    sock; /* our end, until it goes to net */
	int    err;  /* ssh's stderr, -1 once at EOF */
	size_t len;
	char   text[ERRTEXT_MAX];
};

struct sshp {
	struct chan             parent, net;
	const struct proxy_cfg *pc;
	struct tunnel           t[TUNNELS_MAX];
	char                   *envp[ENVP_MAX + 1];
};

extern char **environ;

/*
 * The environment ssh gets: enough to find the user's files and agent,
 * nothing that could change what it runs (no LD_*, no SSH_ASKPASS).
 */
static void
make_env(struct sshp *p)
{
	static const char *const keep[] = { "HOME", "USER", "LOGNAME", "PATH",
		"SSH_AUTH_SOCK", "LANG", "LC_ALL", "LC_CTYPE" };
	size_t                   i, k, n = 0, len;

	for (i = 0; environ[i] != NULL && n < ENVP_MAX; i++)
		for (k = 0; k < sizeof(keep) / sizeof(keep[0]); k++) {
			len = strlen(keep[k]);
			if (strncmp(environ[i], keep[k], len) == 0 &&
			    environ[i][len] == '=')
				p->envp[n++] = environ[i];
		}
	p->envp[n] = NULL;
}

/*
 * Fixed options first, so that neither the user's ssh_config nor a
 * host name can turn the tunnel into something else: no prompts, no
 * forwarding of agent or X11, no tty, no local commands, no sharing
 * of connections (that would need a socket file).
 */
static void
make_argv(const struct proxy_cfg *pc, const struct msg_connect_req *r,
    char *dest, size_t dlen, char *port, char *tmo, const char **argv)
{
	char   addr[INET6_ADDRSTRLEN];
	size_t n = 0;

	inet_ntop(
	    r->family == 4 ? AF_INET : AF_INET6, r->addr, addr, sizeof(addr));
	snprintf(dest, dlen, r->family == 4 ? "%s:%u" : "[%s]:%u", addr,
	    (unsigned int)r->port);
	snprintf(port, 8, "%u", (unsigned int)pc->port);
	snprintf(tmo, 32, "ConnectTimeout=%u", (unsigned int)r->timeout);
	argv[n++] = "ssh";
	argv[n++] = "-T";
	argv[n++] = "-a";
	argv[n++] = "-x";
	argv[n++] = "-o";
	argv[n++] = "BatchMode=yes";
	argv[n++] = "-o";
	argv[n++] = "ClearAllForwardings=yes";
	argv[n++] = "-o";
	argv[n++] = "ControlMaster=no";
	argv[n++] = "-o";
	argv[n++] = "ControlPath=none";
	argv[n++] = "-o";
	argv[n++] = "PermitLocalCommand=no";
	/* errors, whatever ssh_config says: failure_scope() reads them */
	argv[n++] = "-o";
	argv[n++] = "LogLevel=ERROR";
	argv[n++] = "-o";
	argv[n++] = tmo;
	argv[n++] = "-p";
	argv[n++] = port;
	if (pc->user[0] != '\0') {
		argv[n++] = "-l";
		argv[n++] = pc->user;
	}
	argv[n++] = "-W";
	argv[n++] = dest;
	argv[n++] = "--";
	argv[n++] = pc->host;
	argv[n] = NULL;
}

/* In the forked child: become ssh, with the stream as stdin and stdout. */
static void
exec_ssh(int sock, int err, const char **argv, char **envp, pid_t launcher)
{
	sigset_t none;
	int      sig;

	/* SIGTERM first: the parent ignores it, and it is the death signal */
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
#ifdef __linux__
	/* if we are killed, our tunnels end with us */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != launcher)
		_exit(127);
#else
	(void)launcher;
#endif
	if (dup2(sock, 0) == -1 || dup2(sock, 1) == -1 || dup2(err, 2) == -1)
		_exit(127);
	/* ssh(1) gets the stream and stderr, nothing else of ours */
	if (fds_close_except(NULL, 0) == -1)
		_exit(127);
	execve(SSH_PATH, (char *const *)argv, envp);
	dprintf(2, "cannot execute %s: %s\n", SSH_PATH, strerror(errno));
	_exit(127);
}

static struct tunnel *
free_slot(struct sshp *p)
{
	size_t i;

	for (i = 0; i < TUNNELS_MAX; i++)
		if (p->t[i].pid == 0)
			return &p->t[i];
	return NULL;
}

/* Fork ssh for one destination; 0, or an errno value. */
static int
launch(struct sshp *p, const struct msg_connect_req *r, struct tunnel *t)
{
	const char *argv[ARGV_MAX];
	char        dest[INET6_ADDRSTRLEN + 16], port[8], tmo[32];
	int         sv[2], ep[2], e;
	pid_t       me = getpid();

	make_argv(p->pc, r, dest, sizeof(dest), port, tmo, argv);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return errno;
	if (pipe2(ep, O_CLOEXEC) == -1) {
		e = errno;
		close(sv[0]);
		close(sv[1]);
		return e;
	}
	if ((t->pid = fork()) == 0)
		exec_ssh(sv[1], ep[1], argv, p->envp, me);
	e = errno;
	close(sv[1]);
	close(ep[1]);
	if (t->pid == -1) {
		t->pid = 0;
		close(sv[0]);
		close(ep[0]);
		return e;
	}
	t->sock = sv[0];
	t->err = ep[0];
	t->len = 0;
	(void)fcntl(t->sock, F_SETFL, O_NONBLOCK);
	(void)fcntl(t->err, F_SETFL, O_NONBLOCK);
	return 0;
}

/*
 * Keep the end of what ssh wrote, made printable: control characters
 * become '?', line ends "; ".  0 once ssh closed its stderr.
 */
static int
read_stderr(struct tunnel *t)
{
	char    buf[512];
	ssize_t n, i;

	if ((n = read(t->err, buf, sizeof(buf))) == -1)
		return errno == EAGAIN || errno == EINTR ? 1 : 0;
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		const char *add = NULL;
		char        one[2] = { buf[i], '\0' };

		if (buf[i] == '\r')
			continue;
		if (buf[i] == '\n')
			add = t->len > 0 ? "; " : "";
		else if ((unsigned char)buf[i] < 0x20 ||
		    (unsigned char)buf[i] >= 0x7f)
			one[0] = '?';
		if (add == NULL)
			add = one;
		if (t->len + strlen(add) >= sizeof(t->text)) {
			/* keep the last half: ssh's reason comes last */
			memmove(t->text, t->text + sizeof(t->text) / 2,
			    t->len - sizeof(t->text) / 2);
			t->len -= sizeof(t->text) / 2;
		}
		memcpy(t->text + t->len, add, strlen(add));
		t->len += strlen(add);
	}
	t->text[t->len] = '\0';
	return 1;
}

/* Without the "; " that ssh's last newline left. */
static void
trim(struct tunnel *t)
{
	while (t->len > 0 &&
	    (t->text[t->len - 1] == ' ' || t->text[t->len - 1] == ';'))
		t->len--;
	t->text[t->len] = '\0';
}

static void
close_err(struct tunnel *t)
{
	if (t->err != -1)
		close(t->err);
	t->err = -1;
}

/* Stop ssh and collect what it said and how it ended. */
static int
finish(struct tunnel *t, int kill_it)
{
	struct pollfd pfd;
	long long     until = mono_ms() + 2000;
	int           status = 0;

	if (kill_it)
		kill(t->pid, SIGTERM);
	while (t->err != -1 && mono_ms() < until) {
		pfd.fd = t->err;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 200) > 0 && read_stderr(t) == 0)
			close_err(t);
	}
	close_err(t);
	/* ssh closes stderr a moment before it exits: give it that moment */
	while (waitpid(t->pid, &status, WNOHANG) == 0) {
		if (mono_ms() >= until) {
			kill(t->pid, SIGKILL);
			waitpid(t->pid, &status, 0);
			break;
		}
		(void)poll(NULL, 0, 10);
	}
	t->pid = 0;
	if (t->sock != -1)
		close(t->sock);
	t->sock = -1;
	return status;
}

/* 1: the first octet came through; 0: ssh failed; -1: timed out. */
static int
await_first_octet(struct tunnel *t, long long deadline)
{
	struct pollfd pfd[2];
	long long     left;
	char          c;
	ssize_t       n;

	for (;;) {
		if ((left = deadline - mono_ms()) <= 0)
			return -1;
		pfd[0].fd = t->sock;
		pfd[0].events = POLLIN;
		pfd[1].fd = t->err;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		chan_flush_lazy(); /* the log lines before the wait */
		if (poll(pfd, t->err != -1 ? 2 : 1, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		if (pfd[1].revents && read_stderr(t) == 0)
			close_err(t);
		if (pfd[0].revents == 0)
			continue;
		n = recv(t->sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 1)
			return 1;
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			return 0;
	}
}

/*
 * ssh exits with 255 for its own errors.  A refused destination is one
 * of them, but it says "open failed" and "stdio forwarding failed": that
 * is about this address, the next one may work.  Any other 255 (no
 * route to the ssh server, authentication, host key) would fail for
 * every address alike.  Another status (the MX closed the tunnel before
 * its greeting) is about this address too.
 */
static uint32_t
failure_scope(const struct tunnel *t, int status)
{
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 255)
		return 0;
	if (strstr(t->text, "stdio forwarding failed") != NULL ||
	    strstr(t->text, "open failed") != NULL)
		return 0;
	return CONN_PROXY_DOWN;
}

static void
reply_fail(
    struct sshp *p, uint32_t id, int error, uint32_t flags, const char *why)
{
	struct msg_connect_res res;

	memset(&res, 0, sizeof(res));
	res.error = error ? error : EPROTO;
	res.flags = flags;
	if (chan_compose2(&p->net, MSG_SSH_FAIL, id, &res, sizeof(res), why) ==
	    -1)
		fatalx("net channel: %s", p->net.err);
}

static void
handle_request(void *ctx, const struct frame *f)
{
	struct sshp           *p = ctx;
	struct msg_connect_req r;
	struct msg_connect_res res;
	struct tunnel         *t;
	char                   why[ERRTEXT_MAX + 200];
	long long              deadline;
	int                    r1, status, err;

	memcpy(&r, f->data, sizeof(r));
	if ((t = free_slot(p)) == NULL) {
		reply_fail(p, f->id, EAGAIN, 0, "too many ssh tunnels");
		return;
	}
	if ((err = launch(p, &r, t)) != 0) {
		snprintf(why, sizeof(why), "ssh proxy %s: cannot start ssh: %s",
		    p->pc->text, strerror(err));
		reply_fail(p, f->id, err, CONN_PROXY_DOWN, why);
		return;
	}
	deadline = mono_ms() + ((long long)r.timeout + r.greeting) * 1000;
	/*
	 * An HTTPS server (an MTA-STS policy, Y17) says nothing first: the
	 * stream is handed over at once, and a tunnel that fails shows as a
	 * failed TLS handshake.
	 */
	if (r.port != PORT_SMTP || (r1 = await_first_octet(t, deadline)) == 1) {
		memset(&res, 0, sizeof(res));
		if (chan_compose(&p->net, MSG_SSH_OK, f->id, t->sock, &res,
		        sizeof(res)) == -1)
			fatalx("net channel: %s", p->net.err);
		t->sock = -1; /* the channel closes it once sent */
		return;
	}
	status = finish(t, r1 == -1);
	trim(t);
	if (r1 == -1)
		snprintf(why, sizeof(why),
		    "ssh proxy %s: nothing came through the tunnel in %u seconds%s%s",
		    p->pc->text, (unsigned int)(r.timeout + r.greeting),
		    t->len ? ": " : "", t->text);
	else
		snprintf(why, sizeof(why),
		    "ssh proxy %s: ssh exited with status %d: %s", p->pc->text,
		    WIFEXITED(status) ? WEXITSTATUS(status)
		                      : 128 + WTERMSIG(status),
		    t->len ? t->text : "(it said nothing)");
	/* a timeout: ssh's own ConnectTimeout did not fire, the far end is slow */
	reply_fail(p, f->id, r1 == -1 ? ETIMEDOUT : ECONNREFUSED,
	    r1 == -1 ? 0 : failure_scope(t, status), why);
}

/*
 * A tunnel whose stderr is closed already (an ssh that closed it early)
 * is reaped when it exits: 1 while such tunnels are left.
 */
static int
sweep(struct sshp *p)
{
	size_t i;
	int    left = 0, status;

	for (i = 0; i < TUNNELS_MAX; i++) {
		if (p->t[i].pid == 0 || p->t[i].err != -1)
			continue;
		if (waitpid(p->t[i].pid, &status, WNOHANG) == p->t[i].pid)
			p->t[i].pid = 0;
		else
			left = 1;
	}
	return left;
}

/* Tunnels in use: drain their stderr (shown with -v), reap them. */
static int
poll_set(struct sshp *p, struct pollfd *pfd, struct tunnel **map)
{
	size_t i;
	int    n = 1;

	pfd[0].fd = p->net.fd;
	pfd[0].events = chan_events(&p->net);
	for (i = 0; i < TUNNELS_MAX; i++)
		if (p->t[i].pid != 0 && p->t[i].err != -1) {
			map[n] = &p->t[i];
			pfd[n].fd = p->t[i].err;
			pfd[n++].events = POLLIN;
		}
	return n;
}

static void
service_tunnel(struct tunnel *t)
{
	if (read_stderr(t) == 1)
		return;
	trim(t);
	if (t->len > 0)
		log_debug("ssh: %s", t->text);
	finish(t, 0);
}

static void __attribute__((noreturn)) shut_down(struct sshp *p)
{
	size_t i;

	for (i = 0; i < TUNNELS_MAX; i++)
		if (p->t[i].pid != 0)
			finish(&p->t[i], 1);
	exit(0);
}

/* What the ssh process serves; msg.c's table says net alone may ask. */
static const struct msg_handler handlers[] = {
	{ MSG_SSH_REQ, handle_request },
};

void
ssh_main(const struct child_fds *fds, const struct child_cfg *cfg)
{
	static struct sshp p;
	struct pollfd      pfd[TUNNELS_MAX + 1];
	struct tunnel     *map[TUNNELS_MAX + 1];
	struct frame       f;
	int                i, n, r;

	chan_init(&p.parent, fds->parent, PROC_SSH, PROC_PARENT, "ssh->parent");
	chan_init(&p.net, fds->peer, PROC_SSH, PROC_NET, "ssh<->net");
	log_init(PROC_SSH, &p.parent, cfg->log_flags);
	p.pc = &cfg->proxy;
	make_env(&p);

	sandbox_lock(PROC_SSH, &cfg->sb);

	for (;;) {
		n = poll_set(&p, pfd, map);
		chan_flush_lazy(); /* the log lines before the wait */
		if (poll(pfd, n, sweep(&p) ? 1000 : -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		for (i = 1; i < n; i++)
			if (pfd[i].revents)
				service_tunnel(map[i]);
		if (pfd[0].revents & POLLOUT && chan_flush(&p.net) == -1)
			fatalx("net channel: %s", p.net.err);
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if ((r = chan_read(&p.net)) == -1)
			fatalx("net channel: %s", p.net.err);
		while ((r = chan_get(&p.net, &f)) == 1)
			if (msg_dispatch(handlers,
			        sizeof(handlers) / sizeof(handlers[0]), &p,
			        &f) == -1)
				fatalx("net channel: no handler for %s",
				    msg_type_name(f.type));
		if (r == -1)
			fatalx("net channel: %s", p.net.err);
		if (p.net.eof)
			shut_down(&p);
	}
}
