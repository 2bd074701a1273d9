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

/*
 * Y19 and --require-auth: a host an enforce policy leaves out is not
 * tried, nor, with --require-auth, one that can reach no verified level
 * (DANE after a signed MX, or an enforce policy).
 */
static int
host_allowed(struct delivery *d, const struct host *h)
{
	const char *why = NULL;

	if (h->sts == STS_HOST_SKIP)
		why = "is not an MX host of the MTA-STS policy (TLS-RPT: "
		      "validation-failure)";
	else if ((d->job.j.flags & JOB_REQUIRE_AUTH) &&
	    h->sts != STS_HOST_ENFORCE &&
	    !(h->pol.policy == POLICY_DANE && (d->mxinfo.flags & MXI_SECURE)))
		why = "--require-auth, and neither DANE after a signed MX nor "
		      "an MTA-STS policy authenticates it";
	if (why == NULL)
		return 1;
	d->transient = 1;
	set_result(d->res, OUT_TEMPFAIL, "%s %s", h->mx->name, why);
	log_info("%s", d->res->text);
	return 0;
}

/* The TLSA records of a DANE host, in full, for TLS-RPT's policy-string. */
static void
tlsa_strings(const struct host *h, struct report_attempt *a)
{
	size_t i, k, n = 0;

	for (i = 0; i < h->ntlsa; i++) {
		const struct tlsa *t = &h->tlsa[i];

		if (n + 16 + 2 * t->len >= sizeof(a->tlsa)) {
			a->tlsa_cut =
			    1; /* the report says so; nothing decides on it */
			break;
		}
		n += snprintf(a->tlsa + n, sizeof(a->tlsa) - n, "%s%u %u %u ",
		    n ? "\n" : "", t->usage, t->selector, t->mtype);
		for (k = 0; k < t->len; k++)
			n += snprintf(a->tlsa + n, sizeof(a->tlsa) - n, "%02X",
			    t->data[k]);
	}
}

/* One attempt for the report, with what TLS-RPT needs to know of it. */
static void
note_attempt(struct delivery *d, const struct host *h, const char *addr,
    const char *security, const char *result)
{
	struct report_attempt *a = report_attempt(
	    &d->rep, h->mx->name, addr, policy_name(h->pol.policy), result);

	snprintf(a->security, sizeof(a->security), "%s", security);
	tlsrpt_type(result, a->rpt_result, sizeof(a->rpt_result));
	if (d->lfamily == 4 || d->lfamily == 6)
		(void)inet_ntop(d->lfamily == 4 ? AF_INET : AF_INET6, d->laddr,
		    a->sending, sizeof(a->sending));
	if (h->pol.policy == POLICY_DANE) {
		a->rpt_policy = RPT_TLSA;
		snprintf(
		    a->rpt_domain, sizeof(a->rpt_domain), "%s", h->pol.base);
		tlsa_strings(h, a);
	} else if (h->sts != STS_HOST_NONE) {
		a->rpt_policy = RPT_STS;
		snprintf(a->rpt_domain, sizeof(a->rpt_domain), "%s", d->domain);
	} else
		a->rpt_policy = RPT_NONE;
	tlsrpt_send(d, a);
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
	if ((fd = ask_connect(
	         d, &h->addr[i], PORT_SMTP, why, sizeof(why), &cflags)) == -1) {
		d->transient = 1;
		set_result(d->res, OUT_TEMPFAIL, "%s [%s]: %s", h->mx->name,
		    text, why);
		log_info("%s", d->res->text);
		note_attempt(d, h, text, "", d->res->text);
		/* the proxy itself failed: no address will do better */
		return (cflags & CONN_PROXY_DOWN) ? STEP_FINAL : STEP_NEXT;
	}
	v = session(d, h, text, fd);
	note_attempt(d, h, text, d->rep.security,
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
	h.sts = sts_for_host(d, &h);
	d->probe_hosts++;
	d->probe_done = 0;
	if (!host_usable(d, &h) || !host_allowed(d, &h)) {
		note_attempt(d, &h, NULL, "", d->res->text);
		h.naddr = 0;
	}
	/* --probe: one address that answers is enough for a host */
	for (i = 0; i < h.naddr && v != STEP_FINAL && !d->probe_done; i++)
		v = deadline_passed(d) ? STEP_FINAL : try_address(d, &h, i);
	host_free(&h);
	return v;
}

/*
 * --probe: 0 when every MX host reached a verified level (DANE after a
 * signed MX, or MTA-STS), else the last failure (75 for most).
 */
static void
probe_outcome(struct delivery *d)
{
	if (d->probe_hosts > 0 && d->probe_verified == d->probe_hosts) {
		set_result(d->res, OUT_DELIVERED,
		    "probe: every MX host of %s (%zu) is verified", d->domain,
		    d->probe_hosts);
		return;
	}
	if (d->res->outcome == OUT_DELIVERED || d->res->outcome == OUT_TEMPFAIL)
		set_result(d->res, OUT_TEMPFAIL,
		    "probe: %zu of %zu MX hosts of %s verified",
		    d->probe_verified, d->probe_hosts, d->domain);
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
	sts_choose(d);
	if (d->job.j.flags & JOB_STS_REFRESH) {
		sts_refreshed(d);
		return;
	}
	if (mx_usable(d, st) == -1)
		return;
	for (i = 0; i < n; i++)
		log_info("MX %u %s%s (%s MX)", hosts[i].pref, hosts[i].name,
		    hosts[i].flags & MX_IMPLICIT ? " (implicit)" : "",
		    hosts[i].flags & MX_SECURE ? "secure" : "insecure");
	sts_recheck(d, hosts, n);
	sts_report(d);
	log_info("MTA-STS: %s", d->sts.why);
	for (i = 0; i < n; i++)
		if (try_host(d, &hosts[i]) == STEP_FINAL)
			return;
	if (d->job.j.flags & JOB_PROBE)
		probe_outcome(d);
	else
		all_failed(d);
}
