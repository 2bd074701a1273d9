/*
 * The children: one helper makes every channel, forks each child with
 * the descriptors it needs by name (struct child_fds) and nothing else,
 * waits until all have locked down, and stops and reaps them.  A child
 * that dies, is killed by its sandbox or breaks the protocol is a fault
 * of the run (main.c's set_fault()); its death is described here.
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
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fds.h"
#include "hooks.h"
#include "log.h"
#include "parent.h"
#include "proc.h"

#define CHILD_START_MS 60000 /* initialising and locking down */

/* One socket pair: end a stays with the first named side. */
struct pair {
	int a, b;
};

/*
 * Every channel of the run.  parent[] and death[]: a is the parent's,
 * b the child's; tls_dns, tls_net: a is tls's; net_ssh: a is net's (only
 * used with an ssh process).  ready: the lock-down barrier.
 */
struct wiring {
	struct pair parent[PROC_COUNT], death[PROC_COUNT];
	struct pair tls_dns, tls_net, net_ssh;
	int         ready[2];
};

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
int
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

/*
 * Where each child may connect (Landlock): net to port 25 (and 443 for
 * MTA-STS policies until its first SMTP connection), or to the SOCKS5
 * proxy's port only, or nowhere when ssh carries the stream; the
 * ssh process to the ssh server's port; dns is set up by the caller.
 */
static void
child_sandbox(enum proc_id proc, struct child_cfg *cfg)
{
	struct proxy_cfg *pc = &cfg->proxy;

	if (proc == PROC_NET) {
		cfg->sb.nports = pc->kind == PROXY_SSH ? 0 : 1;
		cfg->sb.ports[0] =
		    pc->kind == PROXY_SOCKS5 ? pc->port : PORT_SMTP;
		/* MTA-STS fetches, until the first SMTP connection (Y17) */
		if (pc->kind == PROXY_NONE)
			cfg->sb.ports[cfg->sb.nports++] = PORT_HTTPS;
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
void
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
	/* the MTA-STS cache: new files in its directory, nothing else */
	pcfg.write_dir = p->sts.dirfd != -1;
	pcfg.write_dirfd = p->sts.dirfd;
	hook_sandbox_cfg(PROC_PARENT, &pcfg);
	sandbox_lock(PROC_PARENT, &pcfg);
}

/* Stop every child still running; deaths after this are expected. */
void
stop_children(struct parent *p)
{
	enum proc_id i;

	p->stopping = 1;
	for (i = PROC_DNS; i < PROC_COUNT; i++)
		if (!p->child[i].reaped)
			kill(p->child[i].pid, SIGKILL);
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
judge_exit(struct parent *p, struct child *c)
{
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

/* Wait for a child that is gone or going, judge its end, close its channels. */
void
reap(struct parent *p, struct child *c)
{
	struct rusage ru;

	while (wait4(c->pid, &c->status, 0, &ru) == -1)
		if (errno != EINTR)
			fatal("wait4");
	c->reaped = 1;
	c->maxrss = ru.ru_maxrss;
	judge_exit(p, c);
	chan_close(&c->chan);
	chan_close(&c->death);
}

int
live_children(const struct parent *p)
{
	enum proc_id i;
	int          n = 0;

	for (i = PROC_DNS; i < PROC_COUNT; i++)
		n += !p->child[i].reaped;
	return n;
}

static void
make_wiring(struct wiring *w)
{
	int          sv[2];
	enum proc_id i;

	for (i = PROC_DNS; i < PROC_COUNT; i++) {
		make_pair(sv), w->parent[i] = (struct pair){ sv[0], sv[1] };
		make_pair(sv), w->death[i] = (struct pair){ sv[0], sv[1] };
	}
	make_pair(sv), w->tls_dns = (struct pair){ sv[0], sv[1] };
	make_pair(sv), w->tls_net = (struct pair){ sv[0], sv[1] };
	make_pair(sv), w->net_ssh = (struct pair){ sv[0], sv[1] };
	if (pipe2(w->ready, O_CLOEXEC) == -1)
		fatal("pipe2");
}

/* The descriptors of one child, by name (proc.h). */
static struct child_fds
fds_of(enum proc_id proc, const struct wiring *w, const struct child_cfg *cfg)
{
	struct child_fds f = { w->parent[proc].b, -1, -1, -1, -1, -1 };

	switch (proc) {
	case PROC_DNS:
		f.tls = w->tls_dns.b;
		break;
	case PROC_NET:
		f.tls = w->tls_net.b;
		if (cfg->proxy.kind == PROXY_SSH)
			f.ssh = w->net_ssh.a;
		break;
	case PROC_SSH:
		f.peer = w->net_ssh.b;
		break;
	default:
		f.dns = w->tls_dns.a;
		f.net = w->tls_net.a;
		break;
	}
	return f;
}

/* In the child: keep its own descriptors, close every other one. */
static void
keep_own(const struct child_fds *f, int death, int ready)
{
	int keep[8], n = 0;

	keep[n++] = f->parent;
	keep[n++] = death;
	keep[n++] = ready; /* sandbox_lock() closes it */
	if (f->dns != -1)
		keep[n++] = f->dns;
	if (f->net != -1)
		keep[n++] = f->net;
	if (f->tls != -1)
		keep[n++] = f->tls;
	if (f->ssh != -1)
		keep[n++] = f->ssh;
	if (f->peer != -1)
		keep[n++] = f->peer;
	close_others(keep, n);
}

static void __attribute__((noreturn))
run_child(enum proc_id proc, const struct wiring *w, struct child_cfg *cfg)
{
	struct child_fds f = fds_of(proc, w, cfg);

	keep_own(&f, w->death[proc].b, w->ready[1]);
	child_sandbox(proc, cfg);
	name_process(proc);
	cfg->sb.death_fd = w->death[proc].b;
	cfg->sb.ready_fd = w->ready[1];
	hook_sandbox_cfg(proc, &cfg->sb);
	/* the parent decides when we end; it stops us with SIGKILL */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	sigprocmask(SIG_SETMASK, &cfg->sigmask, NULL);
	if (proc == PROC_DNS)
		dns_main(&f, cfg);
	if (proc == PROC_NET)
		net_main(&f, cfg);
	if (proc == PROC_SSH)
		ssh_main(&f, cfg);
	tls_main(&f, cfg);
}

/* In the parent: its ends of the channels, none of the children's. */
static void
close_child_ends(struct parent *p, struct wiring *w)
{
	enum proc_id i;

	for (i = PROC_DNS; i < PROC_COUNT; i++) {
		close(w->parent[i].b);
		close(w->death[i].b);
		if (p->child[i].pid == 0) {
			close(w->parent[i].a);
			close(w->death[i].a);
		}
	}
	close(w->tls_dns.a), close(w->tls_dns.b);
	close(w->tls_net.a), close(w->tls_net.b);
	close(w->net_ssh.a), close(w->net_ssh.b);
	close(w->ready[1]);
	p->ready_fd = w->ready[0];
}

void
start_children(struct parent *p, struct child_cfg *cfg)
{
	struct sandbox_cfg shared = cfg->sb;
	struct wiring      w;
	enum proc_id       proc;
	struct child      *c;

	hook_sandbox_cfg(PROC_PARENT, &shared);
	sandbox_prepare(&shared);
	make_wiring(&w);
	for (proc = PROC_DNS; proc < PROC_COUNT; proc++) {
		c = &p->child[proc];
		c->p = p;
		c->proc = proc;
		c->sysnr = -1;
		if (proc == PROC_SSH && cfg->proxy.kind != PROXY_SSH) {
			c->reaped = 1; /* never started */
			continue;
		}
		if ((c->pid = fork()) == -1)
			fatal("fork");
		if (c->pid == 0)
			run_child(proc, &w, cfg);
		chan_init(&c->chan, w.parent[proc].a, PROC_PARENT, proc,
		    proc_name(proc));
		chan_init(&c->death, w.death[proc].a, PROC_PARENT, proc,
		    proc_name(proc));
	}
	close_child_ends(p, &w);
	/* the parent needs no credentials once net has them */
	explicit_bzero(cfg->proxy.pass, sizeof(cfg->proxy.pass));
}
