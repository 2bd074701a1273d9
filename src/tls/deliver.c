/*
 * The delivery: the MX hosts of the recipient domain in order (M4, M5),
 * the addresses of each (M8), a session per address, and what the
 * failures add up to (README "Exit status"): a host that cannot be tried
 * or fails is left for the next (D7, A10), a final reply ends the run,
 * and 75 wins over a permanent code whenever some failure may pass.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "delivery.h"

static const char *
addr_text(const struct msg_host_addr *a, char *buf, size_t len)
{
	inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, buf, len);
	return buf;
}

/* --deadline: no new connection once it has passed. */
static int
deadline_passed(struct delivery *d)
{
	char last[sizeof(d->res->text)];

	if (d->deadline == 0 || mono_ms() < d->deadline)
		return 0;
	/* a copy: the old text must not be read while it is overwritten */
	memcpy(last, d->res->text, sizeof(last));
	set_result(d->res, OUT_TEMPFAIL,
	    "--deadline of %u seconds reached (last failure: %s)",
	    d->job.j.deadline, last);
	return 1;
}

/* The host's addresses and policy; 0 if it cannot be tried (D7, T7). */
static int
host_usable(struct delivery *d, struct host *h)
{
	log_info("%s: %s: %s%s", h->mx->name, policy_name(h->pol.policy),
	    h->pol.reason, h->pol.flags & HP_CNAME ? " (CNAME)" : "");
	if (d->job.j.flags & JOB_VERBOSE)
		log_info("dns: %u resolver round trips so far", h->pol.waves);
	if (h->status == DNS_OK && h->pol.policy != POLICY_UNREACHABLE &&
	    (h->pol.policy == POLICY_DANE || !(d->job.j.flags & JOB_DANE_ONLY)))
		return 1;
	if (h->status == DNS_OK && h->pol.policy != POLICY_UNREACHABLE) {
		d->transient = 1;
		set_result(d->res, OUT_TEMPFAIL,
		    "%s: --dane-only and no usable TLSA records (TLS-RPT: dane-required)",
		    h->mx->name);
		log_info("%s", d->res->text);
		return 0;
	}
	if (h->status == DNS_OK || h->status == DNS_TEMPFAIL ||
	    h->status == DNS_BADANSWER) {
		d->transient = 1;
		set_result(
		    d->res, OUT_TEMPFAIL, "%s: %s", h->mx->name, h->pol.reason);
	} else
		set_result(
		    d->res, OUT_NOHOST, "%s: %s", h->mx->name, h->pol.reason);
	return 0;
}

/* One address of host h: a connection from net, then a session. */
static enum step
try_address(struct delivery *d, const struct host *h, size_t i)
{
	char      text[INET6_ADDRSTRLEN], why[600];
	uint32_t  cflags = 0;
	enum step v;
	int       fd;

	addr_text(&h->addr[i], text, sizeof(text));
	await_body(d); /* no connection before the message is complete */
	log_info("connecting to %s [%s]:25", h->mx->name, text);
	if ((fd = ask_connect(d, &h->addr[i], why, sizeof(why), &cflags)) ==
	    -1) {
		d->transient = 1;
		set_result(d->res, OUT_TEMPFAIL, "%s [%s]: %s", h->mx->name,
		    text, why);
		log_info("%s", d->res->text);
		report_attempt(&d->rep, h->mx->name, text,
		    policy_name(h->pol.policy), d->res->text);
		/* the proxy itself failed: no address will do better */
		return (cflags & CONN_PROXY_DOWN) ? STEP_FINAL : STEP_NEXT;
	}
	v = session(d, h, text, fd);
	report_attempt(&d->rep, h->mx->name, text, policy_name(h->pol.policy),
	    d->res->outcome == OUT_DELIVERED ? "delivered" : d->res->text);
	if (v != STEP_FINAL)
		log_info("%s", d->res->text);
	return v;
}

/* Every address of one host, in order.  STEP_FINAL ends the delivery. */
static enum step
try_host(struct delivery *d, const struct msg_mx_host *mx)
{
	static struct host h;
	enum step          v = STEP_NEXT;
	size_t             i;

	memset(&h, 0, sizeof(h));
	h.mx = mx;
	ask_host(d, &h);
	if (!host_usable(d, &h)) {
		report_attempt(&d->rep, mx->name, NULL,
		    policy_name(h.pol.policy), d->res->text);
		h.naddr = 0;
	}
	for (i = 0; i < h.naddr && v != STEP_FINAL; i++)
		v = deadline_passed(d) ? STEP_FINAL : try_address(d, &h, i);
	host_free(&h);
	return v;
}

/* The outcome when every host failed (README: exit status table). */
static void
all_failed(struct delivery *d)
{
	if (d->transient)
		d->res->outcome = OUT_TEMPFAIL;
	else if (d->protocol)
		d->res->outcome = OUT_PROTOCOL;
}

/*
 * T7, M6, D6: with --dane-only an insecure MX RRset delays delivery, and
 * a resolver that does not validate is a configuration error.
 */
static int
mandatory_dane(struct delivery *d)
{
	if (!(d->job.j.flags & JOB_DANE_ONLY))
		return 0;
	if (!(d->mxinfo.flags & MXI_VALIDATING)) {
		set_result(d->res, OUT_CONFIG,
		    "--dane-only, but the resolver does not validate DNSSEC");
		return -1;
	}
	if (!(d->mxinfo.flags & MXI_SECURE)) {
		set_result(d->res, OUT_TEMPFAIL,
		    "--dane-only, but the MX RRset of %s is not DNSSEC-signed (TLS-RPT: dnssec-invalid)",
		    d->domain);
		return -1;
	}
	return 0;
}

/* What the MX lookup allows: 0 and the hosts to try, else -1. */
static int
mx_usable(struct delivery *d, enum dns_status st)
{
	const char *domain = d->domain;

	switch (st) {
	case DNS_OK:
		return mandatory_dane(d);
	case DNS_NXDOMAIN:
		set_result(
		    d->res, OUT_NOHOST, "domain %s does not exist", domain);
		break;
	case DNS_NULLMX:
		set_result(d->res, OUT_NOHOST,
		    "domain %s accepts no mail (null MX, RFC 7505)", domain);
		break;
	case DNS_BADANSWER:
		set_result(d->res, OUT_UNAVAILABLE,
		    "domain %s: no usable MX host", domain);
		break;
	default:
		set_result(d->res, OUT_TEMPFAIL, "MX lookup for %s failed: %s",
		    domain, dns_status_name(st));
		break;
	}
	return -1;
}

void
deliver(struct delivery *d)
{
	struct msg_mx_host hosts[MX_MAX];
	enum dns_status    st;
	size_t             i, n;

	n = ask_mx(d, d->domain, hosts, &st);
	if (d->job.j.flags & JOB_VERBOSE)
		log_info(
		    "dns: %u resolver round trips so far", d->mxinfo.waves);
	if (mx_usable(d, st) == -1)
		return;
	for (i = 0; i < n; i++)
		log_info("MX %u %s%s (%s MX)", hosts[i].pref, hosts[i].name,
		    hosts[i].flags & MX_IMPLICIT ? " (implicit)" : "",
		    hosts[i].flags & MX_SECURE ? "secure" : "insecure");
	for (i = 0; i < n; i++)
		if (try_host(d, &hosts[i]) == STEP_FINAL)
			return;
	all_failed(d);
}
