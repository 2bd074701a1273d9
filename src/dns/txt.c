/*
 * The two TXT lookups that ride in the MX wave: _mta-sts.<domain>
 * (RFC 8461 §3.1: is there a policy, and which id) and _smtp._tls.<domain>
 * (RFC 8460 §3: where TLS reports go).  A record counts only if it
 * starts with its version tag; more than one, or a malformed one, counts
 * as none (Y16).  The answers need not be DNSSEC-signed: MTA-STS trusts
 * the HTTPS fetch, not the DNS (RFC 8461 §10.1).
 */
#include <ldns/ldns.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "sts.h"

#define RPT_TAG "v=TLSRPTv1"

/* One TXT record's character-strings, concatenated; its length or -1. */
static long
txt_text(const ldns_rr *rr, uint8_t *buf, size_t len)
{
	size_t i, n = 0, k;

	for (i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *s = ldns_rr_rdf(rr, i);
		const uint8_t  *p = ldns_rdf_data(s);

		/* LDNS_RDF_TYPE_STR: a length octet, then the string */
		if (ldns_rdf_size(s) < 1 || (k = p[0]) + 1 > ldns_rdf_size(s) ||
		    n + k >= len)
			return -1;
		memcpy(buf + n, p + 1, k);
		n += k;
	}
	buf[n] = '\0';
	return (long)n;
}

/*
 * Calls fn for every TXT record owned by the end of the answer's CNAME
 * chain; a record too long for buf is passed as NULL (it is one
 * record, and not one of ours).
 */
static void
each_txt(const struct answer *a, void (*fn)(void *, const uint8_t *, long),
    void                     *arg)
{
	static uint8_t buf[65536];
	ldns_rr_list  *an = ldns_pkt_answer(a->pkt);
	ldns_rdf      *final = ldns_dname_new_frm_str(a->final);
	size_t         i;

	for (i = 0; final != NULL && i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_TXT &&
		    ldns_dname_compare(ldns_rr_owner(rr), final) == 0)
			fn(arg, buf, txt_text(rr, buf, sizeof(buf)));
	}
	ldns_rdf_deep_free(final);
}

struct count {
	int  found; /* records with the version tag */
	int  bad;   /* of those, malformed */
	char id[STS_ID_LEN + 1];
	char text[RPT_TXT_MAX];
};

static void
count_sts(void *arg, const uint8_t *t, long n)
{
	struct count *c = arg;
	char          id[STS_ID_MAX + 1];

	switch (n < 0 ? STS_TXT_NOT_STS : sts_txt_parse(t, (size_t)n, id)) {
	case STS_TXT_OK:
		c->found++;
		snprintf(c->id, sizeof(c->id), "%s", id);
		break;
	case STS_TXT_BAD:
		c->found++;
		c->bad++;
		break;
	case STS_TXT_NOT_STS:
		break;
	}
}

static void
count_rpt(void *arg, const uint8_t *t, long n)
{
	struct count *c = arg;
	size_t        tag = strlen(RPT_TAG);

	/* RFC 8460 §3: "v=TLSRPTv1" then ";" (or the end, with spaces) */
	if (n < (long)tag || memcmp(t, RPT_TAG, tag) != 0 ||
	    (t[tag] != ';' && t[tag] != ' ' && t[tag] != '\0'))
		return;
	c->found++;
	if ((size_t)n >= sizeof(c->text))
		c->bad++; /* longer than the report takes: as if malformed */
	else
		memcpy(c->text, t, (size_t)n + 1);
}

/* What one lookup found, as msg_mx_sts says it. */
static enum txt_found
found(const struct answer *a, struct count *c,
    void (*fn)(void *, const uint8_t *, long))
{
	memset(c, 0, sizeof(*c));
	if (a->status == DNS_NXDOMAIN || a->status == DNS_NODATA)
		return TXT_NONE;
	if (a->status != DNS_OK)
		return TXT_ERROR;
	each_txt(a, fn, c);
	if (c->found == 0)
		return TXT_NONE;
	return c->found == 1 && c->bad == 0 ? TXT_FOUND : TXT_INVALID;
}

/* The two queries, into q[0] and q[1] of the MX wave. */
void
txt_start(struct dns *d, struct query *q, const char *domain)
{
	char name[NAME_MAX_LEN + 2];

	snprintf(name, sizeof(name), "_mta-sts.%s", domain);
	query_start(d, &q[0], name, LDNS_RR_TYPE_TXT);
	snprintf(name, sizeof(name), "_smtp._tls.%s", domain);
	query_start(d, &q[1], name, LDNS_RR_TYPE_TXT);
}

/* Their answers, to tls: MSG_MX_STS (before MSG_MX_END). */
void
txt_tell(struct dns *d, uint32_t id, const struct query *q)
{
	struct msg_mx_sts m;
	struct count      c;

	memset(&m, 0, sizeof(m));
	m.sts = found(&q[0].ans, &c, count_sts);
	if (m.sts == TXT_FOUND)
		memcpy(m.id, c.id, sizeof(m.id));
	else if (m.sts == TXT_ERROR)
		snprintf(m.why, sizeof(m.why), "%s",
		    q[0].ans.why ? q[0].ans.why : "lookup failed");
	m.rpt = found(&q[1].ans, &c, count_rpt);
	if (m.rpt == TXT_FOUND)
		memcpy(m.rpt_txt, c.text, sizeof(m.rpt_txt));
	send_frame(d, MSG_MX_STS, id, &m, sizeof(m));
}
