/*
 * MTA-STS for one delivery (RFC 8461 §5, Y3, Y19): which policy applies —
 * the cached one the parent sent, or one fetched now because the TXT
 * record names another id or the cached copy expired — and what it means
 * for each MX host.  DANE comes first wherever a host has usable secure
 * TLSA records (RFC 8461 §2); a TLSA lookup failure has already made a
 * host unreachable (never an MTA-STS fallback).  A fetched policy, and a
 * failed fetch, go to the parent, which alone writes the cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "delivery.h"

#define FAILED_HOLD (5 * 60) /* a failed fetch is not retried sooner */
#define STALE_AGE \
	(24 * 60 * 60) /* a policy older than this is refetched
                                      before an MX mismatch is believed */

/* The parent's cached policy (MSG_STS_CACHED, before the job starts). */
void
sts_cached(struct delivery *d, const struct frame *f)
{
	struct sts_state *s = &d->sts;

	memcpy(&s->cache, f->data, sizeof(s->cache));
	s->have_cache = 1;
	s->cache_len = f->len - sizeof(s->cache);
	if ((s->cache_text = malloc(s->cache_len + 1)) == NULL)
		fatal("malloc");
	memcpy(s->cache_text, f->data + sizeof(s->cache), s->cache_len);
	s->cache_text[s->cache_len] = '\0';
}

/* The parent caches a policy, or the failure of a fetch. */
static void
tell_parent(struct delivery *d, const char *text, size_t len, int64_t failed)
{
	struct msg_sts m;
	uint8_t       *buf;

	memset(&m, 0, sizeof(m));
	snprintf(m.domain, sizeof(m.domain), "%s", d->domain);
	m.failed = failed;
	if (text != NULL) {
		m.fetched = d->sts.fetched;
		m.expires = m.fetched + d->sts.pol.max_age;
		snprintf(m.id, sizeof(m.id), "%s", d->sts.txt.id);
	}
	if (text == NULL)
		len = 0;
	if ((buf = malloc(sizeof(m) + len)) == NULL)
		fatal("malloc");
	memcpy(buf, &m, sizeof(m));
	if (len > 0)
		memcpy(buf + sizeof(m), text, len);
	if (chan_compose(
	        &d->parent, MSG_STS_STORE, 0, -1, buf, sizeof(m) + len) == -1)
		fatalx("parent: %s", d->parent.err);
	free(buf);
}

/* Use a policy text: 0 if it parses (Y3), else -1 and why. */
static int
adopt(struct sts_state *s, const char *text, size_t len, const char *from)
{
	enum sts_perr e;

	if ((e = sts_policy_parse(text, len, &s->pol)) != STS_P_OK) {
		snprintf(s->why, sizeof(s->why), "%s policy: %s", from,
		    sts_perr_text(e));
		return -1;
	}
	s->text = text;
	s->textlen = len;
	s->mode = s->pol.mode;
	snprintf(s->why, sizeof(s->why), "%s policy, mode %s", from,
	    s->mode == STS_MODE_ENFORCE       ? "enforce"
	        : s->mode == STS_MODE_TESTING ? "testing"
	                                      : "none");
	return 0;
}

/* Fetch now; on success the new policy applies and goes to the cache. */
static int
fetch(struct delivery *d, int64_t now)
{
	struct sts_state *s = &d->sts;
	char              why[512];
	size_t            len;

	log_info(
	    "MTA-STS: fetching the policy of %s (id %s)", d->domain, s->txt.id);
	if (sts_fetch(d, d->domain, &s->fetched_text, &len, why, sizeof(why),
	        &s->rpt_type) == -1) {
		snprintf(s->fetch_error, sizeof(s->fetch_error), "%s", why);
		log_info("MTA-STS: fetch failed: %s", why);
		tell_parent(d, NULL, 0, now);
		return -1;
	}
	s->fetched = now;
	if (adopt(s, s->fetched_text, len, "fetched") == -1) {
		s->rpt_type = "sts-policy-invalid";
		snprintf(s->fetch_error, sizeof(s->fetch_error), "%s", s->why);
		log_info("MTA-STS: %s", s->why);
		tell_parent(d, NULL, 0, now);
		return -1;
	}
	tell_parent(d, s->fetched_text, len, 0);
	return 0;
}

/* The cached policy, if it has not expired. */
static int
use_cache(struct delivery *d, int64_t now)
{
	struct sts_state *s = &d->sts;

	if (!s->have_cache || s->cache.fetched == 0 || s->cache.expires <= now)
		return -1;
	s->fetched = s->cache.fetched;
	return adopt(s, s->cache_text, s->cache_len, "cached");
}

/*
 * RFC 8461 §5.1: a TXT record whose id differs from the cached policy's
 * (or no unexpired cached policy) means a fetch, unless one failed in
 * the last five minutes; a failed fetch, or no TXT record at all (or a
 * failed TXT lookup), leaves the unexpired cached policy in force.
 */
void
sts_choose(struct delivery *d)
{
	struct sts_state *s = &d->sts;
	int64_t           now = time(NULL);
	int               fresh =
	    s->have_cache && s->cache.fetched != 0 && s->cache.expires > now;

	s->mode = STS_MODE_NONE;
	if (s->txt.sts == TXT_FOUND &&
	    (!fresh || strcmp(s->txt.id, s->cache.id) != 0 ||
	        (d->job.j.flags & JOB_STS_REFRESH))) {
		if (s->have_cache && s->cache.failed != 0 &&
		    now - s->cache.failed < FAILED_HOLD &&
		    !(d->job.j.flags & JOB_STS_REFRESH))
			snprintf(s->fetch_error, sizeof(s->fetch_error),
			    "a fetch failed %lld s ago; not again before %d s",
			    (long long)(now - s->cache.failed), FAILED_HOLD);
		else if (fetch(d, now) == 0)
			return;
	}
	if (use_cache(d, now) == 0)
		return;
	s->mode = STS_MODE_NONE;
	snprintf(s->why, sizeof(s->why), "%s",
	    s->txt.sts == TXT_FOUND         ? "no policy could be fetched"
	        : s->txt.sts == TXT_ERROR   ? "the TXT lookup failed"
	        : s->txt.sts == TXT_INVALID ? "the TXT record is invalid"
	                                    : "no MTA-STS policy");
}

/*
 * Y19, "MX changed but the id did not": when an enforce policy matches
 * none of the MX hosts and came from a cache older than a day, fetch it
 * once more before believing it.
 */
void
sts_recheck(struct delivery *d, const struct msg_mx_host *h, size_t n)
{
	struct sts_state *s = &d->sts;
	int64_t           now = time(NULL);
	size_t            i;

	if (s->mode != STS_MODE_ENFORCE || s->text == s->fetched_text ||
	    now - s->fetched < STALE_AGE || s->txt.sts != TXT_FOUND)
		return;
	for (i = 0; i < n; i++)
		if (sts_mx_match(&s->pol, h[i].name))
			return;
	log_info("MTA-STS: no MX host matches the cached policy (fetched "
	         "%lld s ago): fetching it again",
	    (long long)(now - s->fetched));
	(void)fetch(d, now);
}

/* What the policy in force means for host h (where DANE does not apply). */
enum sts_host
sts_for_host(const struct delivery *d, const struct host *h)
{
	const struct sts_state *s = &d->sts;

	if (s->mode == STS_MODE_NONE || h->pol.policy == POLICY_DANE ||
	    h->pol.policy == POLICY_UNREACHABLE)
		return STS_HOST_NONE;
	if (s->mode == STS_MODE_TESTING)
		return STS_HOST_TESTING;
	return sts_mx_match(&s->pol, h->mx->name) ? STS_HOST_ENFORCE
	                                          : STS_HOST_SKIP;
}

/* --sts-refresh: what became of the policy, as the run's outcome. */
void
sts_refreshed(struct delivery *d)
{
	struct sts_state *s = &d->sts;

	if (s->mode != STS_MODE_NONE && s->text == s->fetched_text)
		set_result(d->res, OUT_DELIVERED,
		    "MTA-STS policy of %s refreshed: %s, max_age %u", d->domain,
		    s->why, s->pol.max_age);
	else if (s->txt.sts == TXT_NONE)
		set_result(d->res, OUT_DELIVERED,
		    "%s publishes no MTA-STS policy", d->domain);
	else
		set_result(d->res, OUT_TEMPFAIL,
		    "MTA-STS policy of %s not refreshed: %s", d->domain,
		    s->fetch_error[0] ? s->fetch_error : s->why);
}

/* What the report (--json, TLS-RPT) says of the domain's policies. */
void
sts_report(struct delivery *d)
{
	struct sts_state *s = &d->sts;
	struct report    *r = &d->rep;

	r->rpt_record = s->txt.rpt == TXT_FOUND ? s->txt.rpt_txt : NULL;
	r->sts_domain = d->domain;
	if (s->mode != STS_MODE_NONE) {
		r->sts_text = s->text;
		r->sts_len = s->textlen;
	}
	if (s->fetch_error[0] != '\0' && s->rpt_type != NULL) {
		snprintf(
		    r->sts_failure, sizeof(r->sts_failure), "%s", s->rpt_type);
		snprintf(
		    r->sts_reason, sizeof(r->sts_reason), "%s", s->fetch_error);
	}
}
