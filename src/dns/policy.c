/*
 * RFC 7672 §2.2 for one MX host (T1-T7, B1-B3): whether its address
 * answers allow a TLSA lookup, which names are candidate TLSA base
 * domains, and the policy that the first secure TLSA RRset, an insecure
 * or absent one, or a lookup error makes of it.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ldns/ldns.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "log.h"
#include "tlsa.h"

static int
probe_validated(const struct query *q)
{
	return q->ans.status == DNS_OK && q->ans.secure;
}

/*
 * D6: warn when the resolver seems not to validate.  The probe only
 * warns: the AD bits alone decide (a resolver that does not validate
 * never sets them), so a blocked probe cannot lower any security.
 */
void
note_probe(struct dns *d, const struct query *q)
{
	d->probed = 1;
	d->validating = probe_validated(q);
	if (!d->validating)
		log_warn(
		    "DNSSEC validation may be unavailable: the probe for %s NS did not validate (%s); DANE cannot apply",
		    d->probe,
		    q->ans.status == DNS_OK ? "no AD bit"
		        : q->ans.why        ? q->ans.why
		                            : "no answer");
}

/* T1: does the address answer allow a TLSA lookup? */
static int
addrs_secure(const struct query *q)
{
	return !lookup_error(&q[Q_AAAA].ans) && !lookup_error(&q[Q_A].ans) &&
	    q[Q_AAAA].ans.secure && q[Q_A].ans.secure &&
	    (q[Q_AAAA].ans.status == DNS_OK || q[Q_A].ans.status == DNS_OK);
}

/*
 * Stop waiting once the addresses are in and the speculative TLSA answer
 * could no longer count: a broken nameserver of an unsigned zone that
 * never answers TLSA queries then costs nothing (B1, B2).
 */
int
enough_host(struct query *q, size_t n)
{
	if (!q[Q_AAAA].done || !q[Q_A].done)
		return 0;
	return n <= Q_TLSA || q[Q_TLSA].done || !addrs_secure(q);
}

/* The host's policy and why (textf() checks the format). */
#define set_reason(pol, p, ...) \
	((pol)->policy = (p), \
	    textf((pol)->reason, sizeof((pol)->reason), __VA_ARGS__))

/* D7: an address lookup error makes the host unusable, never "none". */
enum dns_status
addr_status(
    const char *host, const struct query *q, struct msg_host_policy *pol)
{
	int i;

	for (i = Q_AAAA; i <= Q_A; i++) {
		if (!lookup_error(&q[i].ans))
			continue;
		set_reason(pol, POLICY_UNREACHABLE,
		    "%s lookup for %s failed: %s", i == Q_A ? "A" : "AAAA",
		    host, q[i].ans.why);
		return DNS_TEMPFAIL;
	}
	for (i = Q_AAAA; i <= Q_A; i++) {
		if (q[i].ans.cname) {
			pol->flags |= HP_CNAME;
			copy_name(pol->expanded, sizeof(pol->expanded),
			    q[i].ans.final);
		}
	}
	if (addrs_secure(q))
		pol->flags |= HP_ADDR_SECURE;
	if (q[Q_AAAA].ans.status == DNS_OK || q[Q_A].ans.status == DNS_OK)
		return DNS_OK;
	set_reason(pol, POLICY_UNREACHABLE, "%s has no address", host);
	if (q[Q_AAAA].ans.status == DNS_NXDOMAIN &&
	    q[Q_A].ans.status == DNS_NXDOMAIN)
		return DNS_NXDOMAIN;
	return DNS_NODATA;
}

/* D4: is the first link of the host's CNAME chain secure? */
static int
first_cname_secure(struct dns *d, const char *host, struct msg_host_policy *pol)
{
	struct query q;
	int          secure;

	query_start(d, &q, host, LDNS_RR_TYPE_CNAME);
	run_wave(d, &q, 1, NULL);
	if (lookup_error(&q.ans)) {
		set_reason(pol, POLICY_UNREACHABLE,
		    "CNAME lookup for %s failed: %s", host, q.ans.why);
		secure = -1;
	} else
		secure = q.ans.status == DNS_OK && q.ans.secure;
	query_free(&q);
	return secure;
}

/*
 * T3: the first candidate with a secure TLSA RRset becomes the base
 * domain.  1: decided (DANE, TLS or unreachable), 0: try the next.
 */
static int
try_candidate(struct dns *d, uint32_t id, const char *cand, struct query *spec,
    struct msg_host_policy *pol)
{
	struct query own, *q = spec;
	char         name[NAME_MAX_LEN + 2];
	size_t       dropped;
	int          decided = 1;

	if (snprintf(name, sizeof(name), "_25._tcp.%s", cand) >=
	    (int)sizeof(name) - 1)
		return 0; /* no TLSA can exist at such a name */
	if (q == NULL) {
		q = &own;
		query_start(d, q, name, LDNS_RR_TYPE_TLSA);
		run_wave(d, q, 1, NULL);
	}
	if (lookup_error(&q->ans))
		set_reason(pol, POLICY_UNREACHABLE,
		    "TLSA lookup for %s failed: %s", name, q->ans.why);
	else if (q->ans.status == DNS_OK && q->ans.secure) {
		snprintf(pol->base, sizeof(pol->base), "%s", cand);
		dropped = send_tlsa(d, id, &q->ans, pol);
		if (pol->nusable > 0)
			set_reason(pol, POLICY_DANE,
			    "%u usable TLSA record(s) of %zu at %s%s",
			    pol->nusable, pol->ntlsa + dropped, name,
			    dropped ? ", some too large to check" : "");
		else
			set_reason(pol, POLICY_TLS,
			    "all %zu TLSA records at %s are unusable",
			    pol->ntlsa + dropped, name);
	} else {
		set_reason(pol, POLICY_OPPORTUNISTIC,
		    "no secure TLSA records at %s (%s)", name,
		    q->ans.status == DNS_OK ? "insecure"
		                            : dns_status_name(q->ans.status));
		decided = 0;
	}
	if (q == &own)
		query_free(q);
	return decided;
}

/* T2: the candidate base domains, then T3 over them in order. */
void
decide_tls(struct dns *d, uint32_t id, const char *host, struct query *q,
    size_t nq, struct msg_host_policy *pol)
{
	/* the speculative answer, unless the wave stopped waiting for it */
	struct query *spec =
	    nq > Q_TLSA && !q[Q_TLSA].abandoned ? &q[Q_TLSA] : NULL;
	int first;

	if (!(pol->flags & HP_ADDR_SECURE)) {
		if (!(pol->flags & HP_CNAME)) {
			set_reason(pol, POLICY_OPPORTUNISTIC,
			    "address RRset of %s is insecure: no TLSA lookup",
			    host);
			return;
		}
		if ((first = first_cname_secure(d, host, pol)) != 1) {
			if (first == 0)
				set_reason(pol, POLICY_OPPORTUNISTIC,
				    "CNAME %s is insecure: no TLSA lookup",
				    host);
			return;
		}
		try_candidate(d, id, host, spec, pol);
		return;
	}
	if ((pol->flags & HP_CNAME) &&
	    try_candidate(d, id, pol->expanded, NULL, pol))
		return;
	try_candidate(d, id, host, spec, pol);
}
