/*
 * libFuzzer twin of the dns process's answer handling (src/dns/answer.c,
 * tell.c, query.c's reply_matches()), linked without dns_main().
 *
 * Input: octet 0 picks the question (low 3 bits: MX, A, AAAA, TLSA,
 * CNAME) and how it is matched (bit 3: take the query id from the
 * packet, as a real reply to our query would carry; else a fixed id),
 * the rest is the resolver's reply in wire form.  As query_answer()
 * does: wire_parse(), reply_matches(), classify(); then what the
 * handlers take from an answer: collect_mx() for MX, send_addrs() for
 * A/AAAA, send_tlsa() for TLSA.  Every frame dns would send to tls must
 * pass msg_check() on the tls side, and a null MX (a permanent failure)
 * must really be an MX record whose exchange is "." (RFC 7505).
 */
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct {
	ldns_rr_type type;
	const char  *name;
} questions[] = {
	{ LDNS_RR_TYPE_MX, "example.com." },
	{ LDNS_RR_TYPE_A, "mx.example.com." },
	{ LDNS_RR_TYPE_AAAA, "mx.example.com." },
	{ LDNS_RR_TYPE_TLSA, "_25._tcp.mx.example.com." },
	{ LDNS_RR_TYPE_CNAME, "mx.example.com." },
};

#define NQUESTIONS (sizeof(questions) / sizeof(questions[0]))

/* Host answers come after the MX answer on tls's channel. */
#define AFTER_MX (MSG_BIT(MSG_MX_INFO) | MSG_BIT(MSG_MX_END))

static void
need(int ok)
{
	if (!ok)
		abort();
}

/* What dns queued for tls must be what tls accepts. */
static size_t
check_sent(struct chan *c, uint64_t seen)
{
	struct wbuf *w;
	struct frame f;
	const char  *why;
	uint32_t     type, len;
	size_t       n = 0;

	for (w = c->wq; w != NULL; w = w->next, n++) {
		memcpy(&type, w->data, 4);
		memcpy(&len, w->data + 4, 4);
		need(len == w->len);
		memset(&f, 0, sizeof(f));
		f.type = type;
		f.sender = PROC_DNS;
		f.fd = -1;
		f.len = len - FRAME_HDR_SIZE;
		f.data = w->data + FRAME_HDR_SIZE;
		need(msg_check(&f, PROC_DNS, PROC_TLS, seen, &why) == 0);
		seen = msg_seen(seen, type);
	}
	return n;
}

/* RFC 7505: a null MX is an MX record whose exchange is the root. */
static int
has_null_mx(const struct answer *a)
{
	ldns_rr_list *an = ldns_pkt_answer(a->pkt);
	ldns_rdf     *final = ldns_dname_new_frm_str(a->final);
	size_t        i;
	int           found = 0;

	for (i = 0; final != NULL && i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_MX &&
		    ldns_dname_compare(ldns_rr_owner(rr), final) == 0 &&
		    ldns_rr_rd_count(rr) == 2 &&
		    ldns_rdf_get_type(ldns_rr_rdf(rr, 1)) ==
		        LDNS_RDF_TYPE_DNAME &&
		    ldns_rdf_size(ldns_rr_rdf(rr, 1)) == 1)
			found = 1;
	}
	ldns_rdf_deep_free(final);
	return found;
}

static void
check_mx(struct dns *d, const struct answer *a)
{
	struct msg_mx_host *hosts = NULL;
	struct msg_mx_info  info;
	enum dns_status     st;
	size_t              i, n = 0;

	st = collect_mx(a, &hosts, &n);
	need(st < DNS_STATUS_COUNT);
	need(st != DNS_OK || n > 0);
	/* a malformed record must never read as "accepts no mail" */
	need(st != DNS_NULLMX || has_null_mx(a));
	for (i = 0; st == DNS_OK && i < n; i++) {
		need(
		    memchr(hosts[i].name, '\0', sizeof(hosts[i].name)) != NULL);
		need(valid_target(hosts[i].name));
		send_frame(d, MSG_MX_HOST, 1, &hosts[i], sizeof(hosts[i]));
	}
	/* what handle_mx() reports about the chain */
	memset(&info, 0, sizeof(info));
	if (a->cname)
		copy_name(info.expanded, sizeof(info.expanded), a->final);
	send_frame(d, MSG_MX_INFO, 1, &info, sizeof(info));
	need(check_sent(&d->tls, 0) == (st == DNS_OK ? n : 0) + 1);
	free(hosts);
}

static void
check_tlsa(struct dns *d, const struct answer *a)
{
	struct msg_host_policy pol;
	size_t                 dropped;

	memset(&pol, 0, sizeof(pol));
	dropped = send_tlsa(d, 1, a, &pol);
	/* every record is carried: the policy never rests on a subset */
	need(dropped == 0 && pol.nusable <= pol.ntlsa);
	need(check_sent(&d->tls, AFTER_MX) == pol.ntlsa);
}

static void
check_answer(struct dns *d, struct query *q)
{
	const struct answer *a = &q->ans;
	size_t               n;

	need(a->status < DNS_STATUS_COUNT);
	need(memchr(a->final, '\0', sizeof(a->final)) != NULL);
	need(a->secure == 0 || a->secure == 1);
	if (a->status == DNS_TEMPFAIL || a->status == DNS_BADANSWER) {
		need(a->why != NULL);
		return;
	}
	if (a->status != DNS_OK)
		return;
	switch (q->type) {
	case LDNS_RR_TYPE_MX:
		check_mx(d, a);
		break;
	case LDNS_RR_TYPE_A:
	case LDNS_RR_TYPE_AAAA:
		n = send_addrs(d, 1, a, q->type);
		need(check_sent(&d->tls, AFTER_MX) == n);
		break;
	case LDNS_RR_TYPE_TLSA:
		check_tlsa(d, a);
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int   init;
	struct dns   d;
	struct query q;
	ldns_pkt    *p = NULL;

	if (!init) {
		/* log_info() as the parent with -q: no output, no channel */
		log_init(PROC_PARENT, NULL, JOB_QUIET);
		init = 1;
	}
	if (size < 1)
		return 0;
	memset(&d, 0, sizeof(d));
	chan_init(&d.tls, -1, PROC_DNS, PROC_TLS, "dns->tls");
	memset(&q, 0, sizeof(q));
	q.fd = -1;
	q.type = questions[(data[0] & 7) % NQUESTIONS].type;
	snprintf(q.name, sizeof(q.name), "%s",
	    questions[(data[0] & 7) % NQUESTIONS].name);
	q.id = 0x2a2a;
	if ((p = wire_parse(data + 1, size - 1)) == NULL)
		return 0;
	if (data[0] & 8)
		q.id = ldns_pkt_id(p);
	if (!reply_matches(&q, p)) {
		ldns_pkt_free(p); /* late or spoofed: ignored */
		return 0;
	}
	classify(&q, p); /* q owns p now */
	check_answer(&d, &q);
	chan_close(&d.tls);
	query_free(&q);
	return 0;
}
