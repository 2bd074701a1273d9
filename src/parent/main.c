/*
 * mxclient: send one message directly to the recipient domain's MX.
 *
 * The parent checks the command line (options.c), starts the dns, net
 * and tls children (and ssh for an ssh:// proxy; children.c), locks
 * itself down, gives tls the job at once (so that the DNS lookups run
 * while the message is read) and then only reads the message into the
 * spool (spool.c), hands tls the finished spool, prints what the
 * children report and turns the outcome into an exit status
 * (exit_status(): the one place for that).
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
#include "slog.h"

static volatile sig_atomic_t got_signal;

static int
keep_given_fds(const struct options *o)
{
	int keep[2], n = 0;

	if (o->status_fd > 2)
		keep[n++] = o->status_fd;
	if (o->lock_fd > 2)
		keep[n++] = o->lock_fd;
	return fds_close_except(keep, n);
}

static void
send_job(struct parent *p, const struct options *o)
{
	const char    *helo = o->helo;
	struct chan   *c = &p->child[PROC_TLS].chan;
	struct msg_job job;
	size_t         i;

	memset(&job, 0, sizeof(job));
	job.flags = o->flags;
	for (i = 0; i < TO_COUNT; i++)
		job.timeout[i] = stage_timeout(o, i);
	job.deadline = o->deadline;
	job.sts_timeout = o->sts_timeout ? o->sts_timeout : STS_FETCH_TIMEOUT;
	stscache_send(&p->sts, c);
	if (chan_compose(c, MSG_JOB_SENDER, 0, -1, o->sender,
	        strlen(o->sender) + 1) == -1 ||
	    chan_compose(
	        c, MSG_JOB_RCPT, 0, -1, o->rcpt, strlen(o->rcpt) + 1) == -1 ||
	    chan_compose(c, MSG_JOB_HELO, 0, -1, helo, strlen(helo) + 1) ==
	        -1 ||
	    chan_compose(c, MSG_JOB_START, 0, -1, &job, sizeof(job)) == -1)
		fatalx("cannot queue the job: %s", c->err);
}

/* The message is complete and checked: tls may connect now. */
static void
send_body(struct parent *p)
{
	struct chan    *c = &p->child[PROC_TLS].chan;
	struct msg_body b;

	memset(&b, 0, sizeof(b));
	b.size = p->spool.n.size;
	b.wire_size = p->spool.n.wire;
	b.flags = p->spool.n.has8bit ? JOB_8BIT : 0;
	/* the frame takes the descriptor and closes it once sent */
	if (chan_compose(c, MSG_BODY, 0, p->spool.rfd, &b, sizeof(b)) == -1)
		set_fault(p, PROC_TLS, c->err);
	p->spool.rfd = -1;
}

/* One read of the message; at its end, the spool goes to tls. */
static void
read_input(struct parent *p)
{
	const char *why;

	switch (spool_step(&p->spool, &why)) {
	case SPOOL_MORE:
		return;
	case SPOOL_DONE:
		p->input = INPUT_DONE;
		send_body(p);
		break;
	case SPOOL_FAILED:
		p->input = p->spool.n.err != NORM_OK ? INPUT_BAD : INPUT_IOERR;
		p->input_why = why;
		p->input_errno = errno;
		stop_children(p);
		break;
	}
	/* the message lives in the spool now: no process keeps the input */
	if (dup2(open_null(), STDIN_FILENO) == -1)
		fatal("dup2");
}

/*
 * The enhanced status code (RFC 3463) of the reply a summary quotes
 * ("... RCPT: 550 5.1.1 <x>: ..."): the "5.1.1" after the first 5xx.
 */
static int
quoted_esc(const char *t, char *esc, size_t len)
{
	size_t n;

	for (; (t = strchr(t, ' ')) != NULL; t++) {
		if (t[1] != '5' || !isdigit((unsigned char)t[2]) ||
		    !isdigit((unsigned char)t[3]) || t[4] != ' ' ||
		    t[5] != '5' || t[6] != '.')
			continue;
		n = 7 + strspn(t + 7, "0123456789");
		if (n == 7 || t[n] != '.' || n > 10)
			continue;
		n += 1 + strspn(t + n + 1, "0123456789");
		if (n - 5 >= len || !(t[n] == ' ' || t[n] == '\0'))
			continue;
		memcpy(esc, t + 5, n - 5);
		esc[n - 5] = '\0';
		return 1;
	}
	return 0;
}

/*
 * A permanent failure's line on stderr begins with an enhanced status
 * code, the remote's or one for the outcome, because Postfix's pipe(8)
 * and other callers take a leading X.Y.Z as the status of their bounce.
 */
static void
print_failure(uint32_t outcome, const char *text)
{
	static const char *const by_outcome[OUT_COUNT] = {
		[OUT_NOHOST] = "5.1.2",
		[OUT_NOUSER] = "5.1.1",
		[OUT_UNAVAILABLE] = "5.0.0",
		[OUT_PROTOCOL] = "5.5.0",
		[OUT_DATAERR] = "5.6.0",
	};
	char esc[16];

	if (outcome >= OUT_COUNT || by_outcome[outcome] == NULL) {
		log_print(LOGL_ERROR, text);
		return;
	}
	if (!quoted_esc(text, esc, sizeof(esc)))
		snprintf(esc, sizeof(esc), "%s", by_outcome[outcome]);
	fprintf(stderr, "%s mxclient: %s\n", esc, text);
}

static void
record_result(struct parent *p, const struct frame *f)
{
	struct msg_result r;

	memcpy(&r, f->data, sizeof(r));
	p->have_result = 1;
	p->outcome = r.outcome;
	p->result_text = strdup(frame_str(f, sizeof(r)));
	if (r.outcome == OUT_DELIVERED)
		log_print(LOGL_INFO, frame_str(f, sizeof(r)));
	else
		print_failure(r.outcome, frame_str(f, sizeof(r)));
}

static void
on_log(void *ctx, const struct frame *f)
{
	struct msg_log l;

	(void)ctx;
	memcpy(&l, f->data, sizeof(l));
	log_print(l.level, frame_str(f, sizeof(l)));
}

/* From now on a fault leaves the delivery status unknown. */
static void
on_dot_sent(void *ctx, const struct frame *f)
{
	(void)f;
	((struct child *)ctx)->p->dot_sent = 1;
}

static void
on_result(void *ctx, const struct frame *f)
{
	record_result(((struct child *)ctx)->p, f);
}

/* --tlsrpt-socket: tls's datagram on to the collector, as it came. */
static void
on_tlsrpt(void *ctx, const struct frame *f)
{
	struct parent *p = ((struct child *)ctx)->p;

	if (p->tlsrpt_fd != -1)
		(void)send(p->tlsrpt_fd, f->data, f->len - 1,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void
on_sts_store(void *ctx, const struct frame *f)
{
	stscache_store(&((struct child *)ctx)->p->sts, f);
}

static void
on_report(void *ctx, const struct frame *f)
{
	struct child *c = ctx;

	if ((c->p->json = strdup(frame_str(f, 0))) == NULL)
		set_fault(c->p, c->proc, "out of memory");
}

/* What the parent serves; msg.c's table says who may send each. */
static const struct msg_handler handlers[] = {
	{ MSG_LOG, on_log },
	{ MSG_DOT_SENT, on_dot_sent },
	{ MSG_RESULT, on_result },
	{ MSG_REPORT, on_report },
	{ MSG_STS_STORE, on_sts_store },
	{ MSG_TLSRPT, on_tlsrpt },
};

/* The first fault wins; every child is stopped at once. */
void
set_fault(struct parent *p, enum proc_id proc, const char *why)
{
	if (p->fault == NULL) {
		p->fault = why;
		p->fault_proc = proc;
	}
	stop_children(p);
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
		if (msg_dispatch(handlers,
		        sizeof(handlers) / sizeof(handlers[0]), c, &f) == -1)
			set_fault(p, c->proc,
			    "sent a message the parent never takes");
	if (r == -1) {
		set_fault(p, c->proc, c->chan.err);
		reap(p, c);
	} else if (c->chan.eof)
		reap(p, c);
}

/* The input is read until its end unless the run is being stopped. */
static int
input_wanted(const struct parent *p)
{
	return p->input == INPUT_READING && !p->stopping;
}

static void
parent_loop(struct parent *p)
{
	struct pollfd pfd[PROC_COUNT + 1];
	struct child *map[PROC_COUNT];
	sigset_t      none;
	enum proc_id  i;
	int           n, in;

	sigemptyset(&none);
	while (live_children(p) > 0 || input_wanted(p)) {
		for (n = 0, i = PROC_DNS; i < PROC_COUNT; i++) {
			if (p->child[i].reaped)
				continue;
			map[n] = &p->child[i];
			pfd[n].fd = p->child[i].chan.fd;
			pfd[n].events = chan_events(&p->child[i].chan);
			pfd[n++].revents = 0;
		}
		if ((in = input_wanted(p))) {
			pfd[n].fd = p->spool.in;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
		}
		/* signals are blocked except while waiting here */
		if (ppoll(pfd, n + in, NULL, &none) == -1) {
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
		if (in && pfd[n].revents && input_wanted(p))
			read_input(p);
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
	if (p->input == INPUT_BAD)
		return OUT_DATAERR;
	if (p->input == INPUT_IOERR)
		return OUT_INTERNAL;
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

	/* nothing was connected: the message is refused as it stands */
	if (p->input == INPUT_BAD) {
		fprintf(stderr, "mxclient: message not sent: line %llu: %s\n",
		    (unsigned long long)p->spool.n.line, p->input_why);
		return EX_DATAERR;
	}
	if (p->input == INPUT_IOERR) {
		fprintf(stderr, "mxclient: %s: %s\n", p->input_why,
		    strerror(p->input_errno));
		return EX_IOERR;
	}
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

/*
 * --syslog: one line per run, facility mail, in the style of Postfix's
 * delivery lines: who, whom, the exit status, status=sent, deferred,
 * bounced or unknown (the final dot went out, no reply), and why.
 */
static void
log_summary(const struct parent *p, const struct options *o, int code)
{
	const char *what = p->result_text, *status = "bounced";

	if (p->input == INPUT_BAD || p->input == INPUT_IOERR)
		what = p->input_why;
	else if (what == NULL)
		what = p->fault != NULL ? p->fault : "no result";
	if (code == EX_OK)
		status = "sent";
	else if (final_outcome(p) == OUT_UNKNOWN)
		status = "unknown";
	else if (code == EX_TEMPFAIL)
		status = "deferred";
	slog(code == EX_OK            ? LOG_INFO
	        : code == EX_TEMPFAIL ? LOG_WARNING
	                              : LOG_ERR,
	    "from=<%s> to=<%s> exit=%d status=%s: %s", o->sender, o->rcpt, code,
	    status, what);
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
write_report(const struct parent *p, int code)
{
	const char *why = NULL;

	/* tls's members have a "reason" of their own */
	if (p->json != NULL)
		why = NULL;
	else if (p->input == INPUT_BAD || p->input == INPUT_IOERR)
		why = p->input_why;
	else
		why = p->fault != NULL ? p->fault : "no result";
	exit_report_write(code, outcome_name(final_outcome(p)), why, p->json);
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
	const char          *why;
	int                  code;

	sandbox_start();
	signal(SIGPIPE, SIG_IGN);
	configure(argc, argv, &o, &cfg);
	/*
	 * What the caller left open is no business of ours (K1), but for
	 * --status-fd and --lock-fd; the children get neither.
	 */
	if (keep_given_fds(&o) == -1) {
		config_exit(EX_OSERR, "cannot close inherited descriptors: %s",
		    strerror(errno));
	}
	log_init(PROC_PARENT, NULL, o.flags);
	stscache_open(&p.sts, &o, &cfg);
	stscache_load(&p.sts, addr_domain(o.rcpt));
	if (o.flags & JOB_STS_REFRESH)
		stscache_prune(&p.sts);
	if (o.flags & (JOB_PROBE | JOB_STS_REFRESH)) {
		p.input = INPUT_DONE; /* no message: nothing to read */
		if (dup2(open_null(), STDIN_FILENO) == -1)
			fatal("dup2");
	} else if ((why = spool_open(&p.spool, STDIN_FILENO)) != NULL) {
		config_exit(EX_IOERR, "%s: %s", why, strerror(errno));
	}
	open_null(); /* for the end of the input, after lock-down */
	if (o.syslog)
		(void)slog_open(
		    o.syslog_socket[0] ? o.syslog_socket : SLOG_PATH,
		    "mxclient");
	p.tlsrpt_fd = -1;
	if (o.tlsrpt_socket != NULL &&
	    (p.tlsrpt_fd = dgram_connect(o.tlsrpt_socket)) == -1)
		fprintf(stderr,
		    "mxclient: warning: --tlsrpt-socket %s: %s: no TLS report\n",
		    o.tlsrpt_socket, strerror(errno));
	if (p.tlsrpt_fd != -1)
		o.flags |= JOB_TLSRPT;

	if (o.flags & JOB_VERBOSE)
		log_print(LOGL_INFO, sandbox_describe());
	block_signals(&cfg.sigmask);
	start_children(&p, &cfg);
	lock_parent(&p, &cfg);
	send_job(&p, &o);
	parent_loop(&p);
	code = exit_status(&p);
	if (o.syslog)
		log_summary(&p, &o, code);
	if (o.flags & JOB_VERBOSE)
		print_peak_rss(&p);
	write_report(&p, code);
	return code;
}
