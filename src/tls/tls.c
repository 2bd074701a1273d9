/*
 * The tls process drives the delivery.  It takes the job from the
 * parent, asks dns for the MX hosts and their addresses, asks net for a
 * connection to one address after another, and runs the SMTP dialogue
 * (STARTTLS with libtls) on each socket it receives.  It never creates
 * a socket, never opens a file and never resolves a name.  The job comes
 * first, so that the DNS lookups run while the parent still reads the
 * message; the message comes later as a read-only descriptor of the
 * parent's spool, and no connection is asked for before it is there.
 *
 * This file: the entry point, the job, the calls to dns, net and the
 * parent, and the report; deliver.c and smtp.c do the delivery.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <tls.h>

#include "addr.h"
#include "hooks.h"
#include "log.h"
#include "proc.h"
#include "delivery.h"

/* Wait for the answer to request `id' on a helper channel. */
void
wait_frame(struct chan *c, struct frame *f, uint32_t id, int timeout)
{
	int r;

	if ((r = chan_wait(c, f, timeout * 1000)) == 1 && f->id == id)
		return;
	if (r == 0)
		fatalx("%s: no answer in %d seconds", c->name, timeout);
	if (r == 1)
		fatalx("%s: answer to the wrong request", c->name);
	fatalx("%s: %s", c->name, c->err ? c->err : "channel failed");
}

/* The job, one frame per part; msg.c's table keeps them in order. */
static void
on_part(void *ctx, const struct frame *f)
{
	struct job *j = &((struct delivery *)ctx)->job;

	/* the table bounds each string by the field it goes to */
	if (f->type == MSG_JOB_SENDER)
		snprintf(j->sender, sizeof(j->sender), "%s", frame_str(f, 0));
	else if (f->type == MSG_JOB_RCPT)
		snprintf(j->rcpt, sizeof(j->rcpt), "%s", frame_str(f, 0));
	else
		snprintf(j->helo, sizeof(j->helo), "%s", frame_str(f, 0));
}

static void
on_start(void *ctx, const struct frame *f)
{
	struct delivery *d = ctx;

	memcpy(&d->job.j, f->data, sizeof(d->job.j));
}

/* The message is read and checked; --deadline counts from here. */
static void
on_body(void *ctx, const struct frame *f)
{
	struct delivery *d = ctx;

	memcpy(&d->job.body, f->data, sizeof(d->job.body));
	d->job.body_fd = f->fd;
	if (d->job.j.deadline)
		d->deadline = mono_ms() + d->job.j.deadline * 1000LL;
}

static const struct msg_handler body_handlers[] = {
	{ MSG_BODY, on_body },
};

/* Serve the parent's frames with handlers h until one of type `last'. */
static void
parent_until(struct delivery *d, const struct msg_handler *h, size_t n,
    enum msg_type last)
{
	struct frame f;

	while (!(d->parent.seen & MSG_BIT(last))) {
		if (chan_wait(&d->parent, &f, -1) != 1)
			fatalx("parent: %s", d->parent.err);
		if (msg_dispatch(h, n, d, &f) == -1)
			fatalx(
			    "parent: no handler for %s", msg_type_name(f.type));
	}
}

/*
 * Nothing is connected, and no result is reported, before the parent
 * has the whole message and found it fit to send (it stops this
 * process otherwise).
 */
void
await_body(struct delivery *d)
{
	if (d->job.j.flags & (JOB_PROBE | JOB_STS_REFRESH))
		return; /* there is no message */
	parent_until(d, body_handlers,
	    sizeof(body_handlers) / sizeof(body_handlers[0]), MSG_BODY);
}

/* Up to len octets of the message at wire offset off (at least one). */
size_t
body_read(struct delivery *d, uint64_t off, uint8_t *buf, size_t len)
{
	uint64_t left = d->job.body.wire_size - off;
	ssize_t  n;

	if (len > left)
		len = left;
	while (
	    (n = pread(d->job.body_fd, buf, len, off)) == -1 && errno == EINTR)
		;
	if (n <= 0)
		fatalx("cannot read the spooled message: %s",
		    n == 0 ? "shorter than announced" : strerror(errno));
	return n;
}

static void
on_cached(void *ctx, const struct frame *f)
{
	sts_cached(ctx, f);
}

static const struct msg_handler job_handlers[] = {
	{ MSG_STS_CACHED, on_cached },
	{ MSG_JOB_SENDER, on_part },
	{ MSG_JOB_RCPT, on_part },
	{ MSG_JOB_HELO, on_part },
	{ MSG_JOB_START, on_start },
};

/* The table lets JOB_START come only after the other parts. */
static void
read_job(struct delivery *d)
{
	parent_until(d, job_handlers,
	    sizeof(job_handlers) / sizeof(job_handlers[0]), MSG_JOB_START);
}

/*
 * Seconds to wait at one stage: its own timeout (P11), never past the
 * overall --deadline.  0 once the deadline has passed.
 */
int
tmo(const struct delivery *d, enum timeout_stage st)
{
	long long left;

	if (d->deadline == 0)
		return d->job.j.timeout[st];
	left = (d->deadline - mono_ms() + 999) / 1000;
	if (left <= 0)
		return 0;
	return left < d->job.j.timeout[st] ? left : d->job.j.timeout[st];
}

size_t
ask_mx(struct delivery *d, const char *domain, struct msg_mx_host *hosts,
    enum dns_status *st)
{
	struct msg_dns_end end;
	uint32_t           id = ++d->nextid;
	struct frame       f;
	size_t             n = 0;

	if (chan_compose(
	        &d->dns, MSG_MX_REQ, id, -1, domain, strlen(domain) + 1) == -1)
		fatalx("dns: %s", d->dns.err);
	for (;;) {
		wait_frame(&d->dns, &f, id, DNS_WAIT);
		if (f.type == MSG_MX_END)
			break;
		if (f.type == MSG_MX_INFO) {
			memcpy(&d->mxinfo, f.data, sizeof(d->mxinfo));
			continue;
		}
		if (f.type == MSG_MX_STS) {
			memcpy(&d->sts.txt, f.data, sizeof(d->sts.txt));
			continue;
		}
		if (f.type != MSG_MX_HOST || n == MX_MAX)
			fatalx("dns: unexpected %s", msg_type_name(f.type));
		memcpy(&hosts[n++], f.data, sizeof(hosts[0]));
	}
	memcpy(&end, f.data, sizeof(end));
	if (end.count != n)
		fatalx("dns: MX count mismatch");
	*st = end.status;
	return n;
}

static void
keep_tlsa(struct host *h, const struct frame *f)
{
	struct msg_tlsa t;
	struct tlsa    *r;
	uint8_t        *data;
	size_t          len = f->len - sizeof(t);

	if (h->ntlsa == TLSA_RECORDS_MAX)
		fatalx("dns: more TLSA records than a DNS message holds");
	if (h->ntlsa == h->tlsa_cap) {
		h->tlsa_cap = h->tlsa_cap ? 2 * h->tlsa_cap : 8;
		h->tlsa = reallocarray(h->tlsa, h->tlsa_cap, sizeof(*h->tlsa));
		if (h->tlsa == NULL)
			fatal("reallocarray");
	}
	memcpy(&t, f->data, sizeof(t));
	if ((data = malloc(len ? len : 1)) == NULL)
		fatal("malloc");
	memcpy(data, f->data + sizeof(t), len);
	r = &h->tlsa[h->ntlsa++];
	r->usage = t.usage;
	r->selector = t.selector;
	r->mtype = t.mtype;
	r->len = len;
	r->data = data;
}

void
host_free(struct host *h)
{
	size_t i;

	for (i = 0; i < h->ntlsa; i++)
		free((void *)h->tlsa[i].data);
	free(h->tlsa);
	h->tlsa = NULL;
	h->ntlsa = h->tlsa_cap = 0;
}

/* Addresses, TLSA records and policy of one MX host, from dns. */
void
ask_host(struct delivery *d, struct host *h)
{
	struct msg_dns_end end;
	uint32_t           id = ++d->nextid;
	struct frame       f;
	size_t             seen = 0;
	int                havepol = 0;

	if (chan_compose(&d->dns, MSG_HOST_REQ, id, -1, h->mx->name,
	        strlen(h->mx->name) + 1) == -1)
		fatalx("dns: %s", d->dns.err);
	for (;;) {
		wait_frame(&d->dns, &f, id, DNS_WAIT);
		if (f.type == MSG_HOST_END)
			break;
		if (f.type == MSG_HOST_TLSA)
			keep_tlsa(h, &f);
		else if (f.type == MSG_HOST_POLICY) {
			memcpy(&h->pol, f.data, sizeof(h->pol));
			havepol = 1;
		} else if (f.type == MSG_HOST_ADDR) {
			seen++;
			if (h->naddr < ADDRS_MAX) /* RFC 5321 §5.1: a few */
				memcpy(&h->addr[h->naddr++], f.data,
				    sizeof(h->addr[0]));
		} else
			fatalx("dns: unexpected %s", msg_type_name(f.type));
	}
	memcpy(&end, f.data, sizeof(end));
	if (end.count != seen || !havepol || h->pol.ntlsa != h->ntlsa)
		fatalx("dns: host answer does not add up");
	h->status = end.status;
}

/*
 * A connected stream from net (directly or through the proxy), or -1
 * with the reason in *why and CONN_* flags in *flags.
 */
int
ask_connect(struct delivery *d, const struct msg_host_addr *a, uint16_t port,
    char *why, size_t whylen, uint32_t *flags)
{
	struct msg_connect_req req;
	struct msg_connect_res res;
	uint32_t               id = ++d->nextid;
	struct frame           f;

	memset(&req, 0, sizeof(req));
	req.family = a->family;
	req.port = port;
	memcpy(req.addr, a->addr, sizeof(req.addr));
	if ((req.timeout = tmo(d, TO_CONNECT)) == 0)
		req.timeout = 1;
	/* through ssh, "connected" is known from the greeting's first octet */
	if ((req.greeting = tmo(d, TO_GREETING)) == 0 || port != PORT_SMTP)
		req.greeting = 1;
	if (chan_compose(&d->net, MSG_CONNECT_REQ, id, -1, &req, sizeof(req)) ==
	    -1)
		fatalx("net: %s", d->net.err);
	wait_frame(&d->net, &f, id, req.timeout + req.greeting + 20);
	if (f.type != MSG_CONNECT_OK && f.type != MSG_CONNECT_FAIL)
		fatalx("net: unexpected %s", msg_type_name(f.type));
	memcpy(&res, f.data, sizeof(res));
	if (f.type == MSG_CONNECT_OK) {
		d->lfamily = res.family;
		memcpy(d->laddr, res.addr, sizeof(d->laddr));
		return f.fd;
	}
	*flags = res.flags;
	if (*frame_str(&f, sizeof(res)) != '\0')
		snprintf(why, whylen, "%s", frame_str(&f, sizeof(res)));
	else
		snprintf(why, whylen, "connect: %s", strerror(res.error));
	return -1;
}

/*
 * The parent learns that the final "." may reach the server before any
 * octet of it is written: if this process dies or the run is cut short
 * from then on, the server may have the message and a retry may deliver
 * it twice ("delivery status unknown", RFC 5321 §6.1).
 */
void
announce_dot(struct delivery *d)
{
	if (chan_compose(&d->parent, MSG_DOT_SENT, 0, -1, NULL, 0) == -1 ||
	    chan_drain(&d->parent, DNS_WAIT * 1000) == -1)
		fatalx("parent: %s", d->parent.err);
}

static int
send_report(struct delivery *d, const struct result *res)
{
	static char json[PAYLOAD_MAX];

	report_json(&d->rep, d->job.rcpt,
	    res->outcome == OUT_DELIVERED ? "" : res->text, json, sizeof(json));
	return chan_compose(
	    &d->parent, MSG_REPORT, 0, -1, json, strlen(json) + 1);
}

static void
report(struct delivery *d, const struct result *res)
{
	struct msg_result r;
	char              text[sizeof(res->text) + ADDRSZ + 32];

	r.outcome = res->outcome;
	if (res->outcome == OUT_DELIVERED)
		snprintf(text, sizeof(text), "%s", res->text);
	else
		snprintf(text, sizeof(text), "not delivered to %s (%s): %s",
		    d->job.rcpt, outcome_name(res->outcome), res->text);
	if ((d->job.j.flags & JOB_JSON) && send_report(d, res) == -1)
		fatalx("parent: %s", d->parent.err);
	/* the result and every log line before it must reach the parent */
	if (chan_compose2(&d->parent, MSG_RESULT, 0, &r, sizeof(r), text) ==
	        -1 ||
	    chan_drain(&d->parent, DNS_WAIT * 1000) == -1)
		fatalx("parent: %s", d->parent.err);
}

/*
 * libtls and OpenSSL read their configuration here, before the
 * sandbox.  libtls checks no certificate: where DANE applies, tls
 * authenticates the chain itself (dane_verify()); no WebPKI store is
 * ever loaded.
 */
static struct tls_config *
tls_setup(void)
{
	struct tls_config *cfg;
	struct tls        *probe;

	/* libtls converts certificate times: read /etc/localtime now */
	tzset();
	/*
	 * No OPENSSL_cleanup() at exit: it only frees what exit frees
	 * anyway, and was a twentieth of this process's instructions.
	 */
	OPENSSL_init_crypto(
	    OPENSSL_INIT_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT, NULL);
	if (tls_init() == -1 || (cfg = tls_config_new()) == NULL)
		fatalx("cannot initialise libtls");
	if (tls_config_set_protocols(
	        cfg, TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3) == -1)
		fatalx("tls_config_set_protocols: %s", tls_config_error(cfg));
	tls_config_insecure_noverifycert(cfg);
	tls_config_insecure_noverifyname(cfg);
	tls_config_insecure_noverifytime(cfg);
	/* a first context loads whatever OpenSSL loads lazily */
	if ((probe = tls_client()) == NULL || tls_configure(probe, cfg) == -1)
		fatalx("tls_configure failed");
	tls_free(probe);
	return cfg;
}

void
tls_main(const struct child_fds *fds, const struct child_cfg *cfg)
{
	static struct delivery d;
	static struct result   res;

	chan_init(&d.parent, fds->parent, PROC_TLS, PROC_PARENT, "parent");
	chan_init(&d.dns, fds->dns, PROC_TLS, PROC_DNS, "dns");
	chan_init(&d.net, fds->net, PROC_TLS, PROC_NET, "net");
	log_init(PROC_TLS, &d.parent, cfg->log_flags);
	d.tlscfg = tls_setup();
	sts_setup(&d, cfg->ca_file);

	sandbox_lock(PROC_TLS, &cfg->sb);
	hook_tls_locked(fds->parent);

	read_job(&d);
	if (cfg->proxy.kind != PROXY_NONE)
		snprintf(
		    d.rep.proxy, sizeof(d.rep.proxy), "%s", cfg->proxy.text);
	d.job.body_fd = -1;
	d.domain = addr_domain(d.job.rcpt);
	d.res = &res;
	set_result(&res, OUT_TEMPFAIL, "no MX host could be tried");
	deliver(&d);
	/* dns and net are done: let them go while the result goes out */
	chan_close(&d.dns);
	chan_close(&d.net);
	await_body(&d);
	report(&d, &res);
	exit(0);
}
