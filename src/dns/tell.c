/*
 * What dns tells tls: the frames that carry addresses, TLSA records and
 * the end of an answer.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ldns/ldns.h>

#include <string.h>

#include "dns.h"
#include "log.h"
#include "tlsa.h"

void
send_frame(struct dns *d, uint32_t type, uint32_t id, const void *p, size_t len)
{
	if (chan_compose(&d->tls, type, id, -1, p, len) == -1)
		fatalx("tls channel: %s", d->tls.err);
}

void
send_end(struct dns *d, uint32_t type, uint32_t id, enum dns_status st,
    uint32_t count)
{
	struct msg_dns_end e;

	e.status = st;
	e.count = count;
	send_frame(d, type, id, &e, sizeof(e));
}

size_t
send_addrs(
    struct dns *d, uint32_t id, const struct answer *a, ldns_rr_type type)
{
	ldns_rr_list        *an = ldns_pkt_answer(a->pkt);
	ldns_rdf            *final = ldns_dname_new_frm_str(a->final);
	struct msg_host_addr m;
	size_t               i, n = 0;

	for (i = 0; final && i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr  *rr = ldns_rr_list_rr(an, i);
		ldns_rdf *rd = ldns_rr_rdf(rr, 0);

		if (ldns_rr_get_type(rr) != type || rd == NULL ||
		    ldns_dname_compare(ldns_rr_owner(rr), final) != 0 ||
		    ldns_rdf_size(rd) != (type == LDNS_RR_TYPE_A ? 4 : 16))
			continue;
		memset(&m, 0, sizeof(m));
		m.family = type == LDNS_RR_TYPE_A ? 4 : 6;
		m.flags = a->secure ? ADDR_SECURE : 0;
		memcpy(m.addr, ldns_rdf_data(rd), ldns_rdf_size(rd));
		send_frame(d, MSG_HOST_ADDR, id, &m, sizeof(m));
		n++;
	}
	ldns_rdf_deep_free(final);
	return n;
}

/*
 * Send every TLSA record of a secure answer and count the usable ones
 * (A1) over the whole RRset: the policy follows from all of its records,
 * never from a subset.  A frame holds any record a DNS message can hold;
 * one that could not be carried anyway still counts, so that a host with
 * a usable record stays "DANE required" and tls fails closed (T5).
 */
size_t
send_tlsa(struct dns *d, uint32_t id, const struct answer *a,
    struct msg_host_policy *pol)
{
	static uint8_t  buf[sizeof(struct msg_tlsa) + TLSA_DATA_MAX];
	ldns_rr_list   *an = ldns_pkt_answer(a->pkt);
	ldns_rdf       *final = ldns_dname_new_frm_str(a->final), *data;
	struct msg_tlsa t;
	size_t          i, len, dropped = 0;

	for (i = 0; final && i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TLSA ||
		    ldns_dname_compare(ldns_rr_owner(rr), final) != 0 ||
		    ldns_rr_rd_count(rr) != 4)
			continue;
		t.usage = ldns_rdf2native_int8(ldns_rr_rdf(rr, 0));
		t.selector = ldns_rdf2native_int8(ldns_rr_rdf(rr, 1));
		t.mtype = ldns_rdf2native_int8(ldns_rr_rdf(rr, 2));
		t.pad = 0;
		data = ldns_rr_rdf(rr, 3);
		len = ldns_rdf_size(data);
		pol->nusable += tlsa_usable(
		    t.usage, t.selector, t.mtype, ldns_rdf_data(data), len);
		if (len > TLSA_DATA_MAX) {
			dropped++;
			continue;
		}
		memcpy(buf, &t, sizeof(t));
		memcpy(buf + sizeof(t), ldns_rdf_data(data), len);
		send_frame(d, MSG_HOST_TLSA, id, buf, sizeof(t) + len);
		pol->ntlsa++;
	}
	ldns_rdf_deep_free(final);
	return dropped;
}
