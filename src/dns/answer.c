/*
 * What one answer says (D2): secure (AD), insecure, a definite
 * non-existence, or a lookup error, never read as "no records"; the end
 * of its CNAME chain (D4); and for MX answers the host names to try, in
 * the order to try them (M2-M9).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ldns/ldns.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "log.h"

/* Follow the CNAME chain that starts at the question name (D4). */
static ldns_rdf *
chain_end(const ldns_pkt *p, ldns_rdf *name, int *cname)
{
	ldns_rr_list *an = ldns_pkt_answer(p);
	size_t        i, hops;

	*cname = 0;
	for (hops = 0; hops < CNAME_MAX; hops++) {
		for (i = 0; i < ldns_rr_list_rr_count(an); i++) {
			ldns_rr *rr = ldns_rr_list_rr(an, i);

			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
			    ldns_rr_rd_count(rr) == 1 &&
			    ldns_dname_compare(ldns_rr_owner(rr), name) == 0)
				break;
		}
		if (i == ldns_rr_list_rr_count(an))
			return name;
		name = ldns_rr_rdf(ldns_rr_list_rr(an, i), 0);
		*cname = 1;
	}
	return NULL; /* a loop, or longer than any sane chain */
}

/* Records of the query's type owned by the end of the chain. */
static size_t
count_final(const ldns_pkt *p, const ldns_rdf *final, ldns_rr_type type)
{
	ldns_rr_list *an = ldns_pkt_answer(p);
	size_t        i, n = 0;

	for (i = 0; i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);

		n += ldns_rr_get_type(rr) == type &&
		    ldns_dname_compare(ldns_rr_owner(rr), final) == 0;
	}
	return n;
}

static void
set_final(struct answer *a, const ldns_rdf *final)
{
	char *s = ldns_rdf2str(final);

	snprintf(a->final, sizeof(a->final), "%s", s ? s : "");
	free(s);
}

/* The four outcomes of RFC 7672 §2.1.1 (D2). */
void
classify(struct query *q, ldns_pkt *p)
{
	struct answer *a = &q->ans;
	ldns_rdf      *qname, *final;

	a->pkt = p;
	a->secure = ldns_pkt_ad(p);
	switch (ldns_pkt_get_rcode(p)) {
	case LDNS_RCODE_NOERROR:
	case LDNS_RCODE_NXDOMAIN:
		break;
	case LDNS_RCODE_SERVFAIL:
		a->status = DNS_TEMPFAIL;
		a->why = "SERVFAIL (bogus or unreachable zone)";
		return;
	default:
		a->status = DNS_TEMPFAIL;
		a->why = "the resolver refused or failed the query";
		return;
	}
	qname = ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(p), 0));
	/* a CNAME query asks for the first link itself: no chain to follow */
	if (q->type == LDNS_RR_TYPE_CNAME)
		final = qname;
	else if ((final = chain_end(p, qname, &a->cname)) == NULL) {
		a->status = DNS_BADANSWER;
		a->why = "CNAME loop or chain too long";
		return;
	}
	set_final(a, final);
	if (ldns_pkt_get_rcode(p) == LDNS_RCODE_NXDOMAIN)
		a->status = DNS_NXDOMAIN;
	else
		a->status =
		    count_final(p, final, q->type) > 0 ? DNS_OK : DNS_NODATA;
}

/* Text of a domain name without the final dot; 0 if unusable. */
int
dname_text(const ldns_rdf *rdf, char *buf, size_t len)
{
	char  *s = ldns_rdf2str(rdf);
	size_t n;

	if (s == NULL)
		return 0;
	n = strlen(s);
	if (n > 1 && s[n - 1] == '.')
		s[--n] = '\0';
	if (n == 0 || n >= len) {
		free(s);
		return 0;
	}
	memcpy(buf, s, n + 1);
	free(s);
	return 1;
}

/* A name from an answer without its final dot, into a message field. */
void
copy_name(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n > 1 && src[n - 1] == '.')
		n--;
	if (n >= size)
		n = 0; /* cannot happen for names ldns parsed */
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * An MX target must be a host name (RFC 7672 §2.2, RFC 5321 §5.1, M7):
 * LDH labels, and not an IP address written as a name.
 */
int
valid_target(const char *name)
{
	struct in6_addr a6;
	struct in_addr  a4;
	const char     *p;

	if (inet_pton(AF_INET, name, &a4) == 1 ||
	    inet_pton(AF_INET6, name, &a6) == 1)
		return 0;
	for (p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			return 0;
	return 1;
}

/*
 * Shuffle, then keep the MX_HOSTS_MAX best by preference, sorted: hosts
 * of equal preference stay in their random order (M4).  No qsort():
 * glibc's asks sysinfo() for the memory size, which dns may not call.
 * Returns how many are kept at the front of h.
 */
size_t
order_mx(struct msg_mx_host *h, size_t n)
{
	struct msg_mx_host t;
	size_t             i, j, kept = 0;

	for (i = n; i > 1; i--) {
		j = arc4random_uniform(i);
		t = h[i - 1];
		h[i - 1] = h[j];
		h[j] = t;
	}
	for (i = 0; i < n; i++) {
		if (kept == MX_HOSTS_MAX && h[i].pref >= h[kept - 1].pref)
			continue;
		t = h[i];
		j = kept < MX_HOSTS_MAX ? kept++ : kept - 1;
		for (; j > 0 && h[j - 1].pref > t.pref; j--)
			h[j] = h[j - 1];
		h[j] = t;
	}
	return kept;
}

/* Room for one more host in a list that grows as needed. */
struct msg_mx_host *
mx_slot(struct msg_mx_host **h, size_t n)
{
	struct msg_mx_host *t;

	if ((n & (n - 1)) == 0) { /* 0, 1, 2, 4, ...: double */
		if ((t = reallocarray(*h, n ? 2 * n : 1, sizeof(*t))) == NULL)
			fatal("reallocarray");
		*h = t;
	}
	memset(&(*h)[n], 0, sizeof((*h)[n]));
	return &(*h)[n];
}

/*
 * The MX records at the end of the chain (all of them: which ones are
 * tried is decided after ordering by preference, M4); DNS_NULLMX for
 * "." (M3).  *hp is malloc'd.
 */
enum dns_status
collect_mx(const struct answer *a, struct msg_mx_host **hp, size_t *np)
{
	ldns_rr_list       *an = ldns_pkt_answer(a->pkt);
	ldns_rdf           *final = ldns_dname_new_frm_str(a->final);
	struct msg_mx_host *h;
	size_t              i, n = 0, seen = 0;
	char                name[NAME_MAX_LEN + 1];

	for (i = 0; final && i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr  *rr = ldns_rr_list_rr(an, i);
		ldns_rdf *target = ldns_rr_rdf(rr, 1);

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_MX ||
		    ldns_dname_compare(ldns_rr_owner(rr), final) != 0)
			continue;
		seen++;
		/* hostile input: an MX without its two fields is unusable */
		if (ldns_rr_rd_count(rr) != 2 || target == NULL)
			continue;
		if (ldns_dname_label_count(target) == 0) {
			ldns_rdf_deep_free(final);
			return DNS_NULLMX; /* RFC 7505, as Postfix: any "." */
		}
		if (!dname_text(target, name, sizeof(name)) ||
		    !valid_target(name)) {
			log_info("skipping MX %s: not a host name",
			    dname_text(target, name, sizeof(name)) ? name
			                                           : "?");
			continue;
		}
		h = mx_slot(hp, n++);
		h->pref = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		h->flags = a->secure ? MX_SECURE : 0;
		/* the name only: no stack bytes beyond its NUL cross the channel */
		memcpy(h->name, name, strlen(name) + 1);
	}
	ldns_rdf_deep_free(final);
	*np = n;
	if (seen == 0)
		return DNS_NODATA;
	return n > 0 ? DNS_OK : DNS_BADANSWER; /* M9: none usable */
}

int
lookup_error(const struct answer *a)
{
	return a->status == DNS_TEMPFAIL || a->status == DNS_BADANSWER;
}
