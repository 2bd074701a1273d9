/*
 * A walk over a DNS message before ldns parses it.  ldns_wire2pkt()
 * keeps only the last TSIG record and the last OPT record's options of
 * a message and leaks the others (found by fuzz_dns): a resolver, or
 * anyone who can answer in its place, could make the dns process grow
 * with every answer.  mxclient never signs a query, so a TSIG record in
 * an answer means nothing; more than one OPT record is malformed
 * (RFC 6891 §6.1.1).  Such a message is treated like one that does not
 * parse (D5).
 */
#include <stddef.h>
#include <stdint.h>

#include "dns.h"

#define DNS_HEADER 12
#define TYPE_OPT   41
#define TYPE_TSIG  250

/* Step over a name: labels, then a zero octet or a compression pointer. */
static int
skip_name(const uint8_t *w, size_t len, size_t *pos)
{
	size_t p = *pos;

	while (p < len) {
		if (w[p] == 0) {
			*pos = p + 1;
			return 1;
		}
		if ((w[p] & 0xc0) == 0xc0) {
			if (p + 2 > len)
				return 0;
			*pos = p + 2;
			return 1;
		}
		if ((w[p] & 0xc0) != 0)
			return 0; /* extended label types: not DNS we read */
		p += 1 + w[p];
	}
	return 0;
}

static unsigned
get16(const uint8_t *w)
{
	return (unsigned)w[0] << 8 | w[1];
}

/* 1 if the counted records are there and none would leak in ldns. */
static int
records_usable(const uint8_t *w, size_t len)
{
	size_t   pos = DNS_HEADER, i, nq, nrr, ar_from, nopt = 0;
	unsigned type;

	nq = get16(w + 4);
	nrr = get16(w + 6) + get16(w + 8) + (size_t)get16(w + 10);
	ar_from = get16(w + 6) + get16(w + 8);
	for (i = 0; i < nq; i++)
		if (!skip_name(w, len, &pos) || (pos += 4) > len)
			return 0;
	for (i = 0; i < nrr; i++) {
		if (!skip_name(w, len, &pos) || pos + 10 > len)
			return 0;
		type = get16(w + pos);
		if (type == TYPE_TSIG)
			return 0;
		if (type == TYPE_OPT && i >= ar_from && ++nopt > 1)
			return 0;
		pos += 10 + get16(w + pos + 8);
		if (pos > len)
			return 0;
	}
	return 1;
}

/* ldns_wire2pkt() for an answer from the network: NULL if unusable. */
ldns_pkt *
wire_parse(const uint8_t *w, size_t len)
{
	ldns_pkt *p = NULL;

	if (len < DNS_HEADER || !records_usable(w, len))
		return NULL;
	if (ldns_wire2pkt(&p, w, len) != LDNS_STATUS_OK) {
		ldns_pkt_free(p);
		return NULL;
	}
	return p;
}
