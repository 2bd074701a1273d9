/*
 * The dns process: the only one that talks to the resolver.  It answers
 * tls's questions (the MX hosts of a domain, the addresses of a host)
 * with records and a status, and records for every RRset whether the
 * validating resolver vouched for it (the AD bit, RFC 7672 §2.1.1).
 *
 * Queries ask for DNSSEC (DO and AD set, CD clear, EDNS0 1232), never
 * apply search domains, and fall back to TCP on truncation.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <ldns/ldns.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "log.h"
#include "proc.h"

#define MX_HOSTS_MAX 32   /* more than any real domain publishes */
#define EDNS_BUFSIZE 1232 /* DNS flag day 2020 */

struct answer {
	ldns_pkt       *pkt;
	enum dns_status status;
	int             secure; /* AD was set */
};

static ldns_resolver *resolver;

static ldns_resolver *
resolver_from_spec(const char *addr, uint16_t port)
{
	ldns_resolver *r;
	ldns_rdf      *ns;

	ns = ldns_rdf_new_frm_str(
	    strchr(addr, ':') ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, addr);
	if (ns == NULL)
		fatalx("--resolver %s: not an IP address", addr);
	if ((r = ldns_resolver_new()) == NULL)
		fatalx("ldns_resolver_new failed");
	if (ldns_resolver_push_nameserver(r, ns) != LDNS_STATUS_OK)
		fatalx("cannot use resolver %s", addr);
	ldns_rdf_deep_free(ns);
	ldns_resolver_set_port(r, port);
	return r;
}

/*
 * Everything that needs files happens here, before the sandbox: reading
 * resolv.conf and seeding the random generator for query ids.
 */
static void
dns_init(const struct child_cfg *cfg)
{
	struct timeval tv;

	if (cfg->resolver[0] != '\0')
		resolver =
		    resolver_from_spec(cfg->resolver, cfg->resolver_port);
	else if (ldns_resolver_new_frm_file(&resolver, NULL) != LDNS_STATUS_OK)
		fatalx("cannot read /etc/resolv.conf");
	if (ldns_resolver_nameserver_count(resolver) == 0)
		fatalx("no nameserver configured");
	ldns_resolver_set_recursive(resolver, true);
	ldns_resolver_set_dnssec(resolver, true);
	ldns_resolver_set_dnssec_cd(resolver, false);
	ldns_resolver_set_edns_udp_size(resolver, EDNS_BUFSIZE);
	ldns_resolver_set_defnames(resolver, false);
	ldns_resolver_set_dnsrch(resolver, false);
	ldns_resolver_set_fallback(resolver, true);
	ldns_resolver_set_random(resolver, false);
	ldns_resolver_set_retry(resolver, 2);
	tv.tv_sec = cfg->dns_timeout;
	tv.tv_usec = 0;
	ldns_resolver_set_timeout(resolver, tv);
	(void)ldns_get_random();
}

/* The reply must answer our question: same id, QR set, same question. */
static int
reply_matches(const ldns_pkt *q, const ldns_pkt *a)
{
	ldns_rr_list *qq = ldns_pkt_question(q), *aq = ldns_pkt_question(a);

	if (ldns_pkt_id(q) != ldns_pkt_id(a) || !ldns_pkt_qr(a))
		return 0;
	if (ldns_rr_list_rr_count(aq) != 1)
		return 0;
	return ldns_rr_compare(
	           ldns_rr_list_rr(qq, 0), ldns_rr_list_rr(aq, 0)) == 0;
}

static enum dns_status
classify(const ldns_pkt *p, ldns_rr_type type)
{
	ldns_rr_list *rrs;
	size_t        n;

	switch (ldns_pkt_get_rcode(p)) {
	case LDNS_RCODE_NOERROR:
		break;
	case LDNS_RCODE_NXDOMAIN:
		return DNS_NXDOMAIN;
	default:
		/* SERVFAIL (bogus), REFUSED, NOTIMP, FORMERR: lookup error */
		return DNS_TEMPFAIL;
	}
	rrs = ldns_pkt_rr_list_by_type(p, type, LDNS_SECTION_ANSWER);
	n = rrs ? ldns_rr_list_rr_count(rrs) : 0;
	ldns_rr_list_deep_free(rrs);
	return n > 0 ? DNS_OK : DNS_NODATA;
}

/* One query; a lookup error of any kind is DNS_TEMPFAIL. */
static void
query(const char *name, ldns_rr_type type, struct answer *ans)
{
	ldns_pkt *q = NULL;
	ldns_rdf *dname;
	char      fqdn[NAME_MAX_LEN + 2];

	memset(ans, 0, sizeof(*ans));
	ans->status = DNS_TEMPFAIL;
	/* absolute: search domains never apply (RFC 5321 §2.3.5) */
	snprintf(fqdn, sizeof(fqdn), "%s.", name);
	if ((dname = ldns_dname_new_frm_str(fqdn)) == NULL) {
		ans->status = DNS_BADANSWER;
		return;
	}
	if (ldns_resolver_prepare_query_pkt(&q, resolver, dname, type,
	        LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK)
		goto out;
	ldns_pkt_set_ad(q, true);
	if (ldns_resolver_send_pkt(&ans->pkt, resolver, q) != LDNS_STATUS_OK ||
	    ans->pkt == NULL)
		goto out;
	if (!reply_matches(q, ans->pkt)) {
		ans->status = DNS_BADANSWER;
		goto out;
	}
	ans->status = classify(ans->pkt, type);
	ans->secure = ldns_pkt_ad(ans->pkt);
out:
	ldns_pkt_free(q);
	ldns_rdf_deep_free(dname);
}

static void
answer_free(struct answer *a)
{
	ldns_pkt_free(a->pkt);
	a->pkt = NULL;
}

/* Text of a domain name rdf without the final dot; 0 if unusable. */
static int
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

/*
 * An MX target must be a host name (RFC 7672 §2.2, RFC 5321 §5.1): LDH
 * labels, and not an IP address written as a name.
 */
static int
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

/* Shuffle, then sort stably by preference: equal ones end up random. */
static void
order_mx(struct msg_mx_host *h, size_t n)
{
	struct msg_mx_host t;
	size_t             i, j;

	for (i = n; i > 1; i--) {
		j = arc4random_uniform(i);
		t = h[i - 1];
		h[i - 1] = h[j];
		h[j] = t;
	}
	for (i = 1; i < n; i++) {
		t = h[i];
		for (j = i; j > 0 && h[j - 1].pref > t.pref; j--)
			h[j] = h[j - 1];
		h[j] = t;
	}
}

static void
send_end(struct chan *tls, uint32_t type, uint32_t id, enum dns_status st,
    uint32_t count)
{
	struct msg_dns_end e;

	e.status = st;
	e.count = count;
	if (chan_compose(tls, type, id, -1, &e, sizeof(e)) == -1)
		fatalx("tls channel: %s", tls->err);
}

/* Collect the usable MX records; DNS_NULLMX if any target is ".". */
static enum dns_status
collect_mx(const struct answer *a, struct msg_mx_host *h, size_t *np)
{
	ldns_rr_list *rrs;
	size_t        i, n = 0;

	rrs = ldns_pkt_rr_list_by_type(
	    a->pkt, LDNS_RR_TYPE_MX, LDNS_SECTION_ANSWER);
	for (i = 0; rrs && i < ldns_rr_list_rr_count(rrs); i++) {
		ldns_rr  *rr = ldns_rr_list_rr(rrs, i);
		ldns_rdf *target = ldns_rr_rdf(rr, 1);

		if (ldns_dname_label_count(target) == 0) {
			ldns_rr_list_deep_free(rrs);
			return DNS_NULLMX; /* RFC 7505 */
		}
		if (n == MX_HOSTS_MAX)
			continue;
		memset(&h[n], 0, sizeof(h[n]));
		h[n].pref = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		h[n].flags = a->secure ? MX_SECURE : 0;
		if (!dname_text(target, h[n].name, sizeof(h[n].name)) ||
		    !valid_target(h[n].name)) {
			log_info(
			    "skipping MX %s: not a valid host name", h[n].name);
			continue;
		}
		n++;
	}
	ldns_rr_list_deep_free(rrs);
	*np = n;
	return n > 0 ? DNS_OK : DNS_BADANSWER;
}

static void
handle_mx(struct chan *tls, const struct frame *f)
{
	struct msg_mx_host hosts[MX_HOSTS_MAX];
	const char        *domain = frame_str(f, 0);
	enum dns_status    st;
	struct answer      a;
	size_t             i, n = 0;

	query(domain, LDNS_RR_TYPE_MX, &a);
	st = a.status;
	if (st == DNS_OK)
		st = collect_mx(&a, hosts, &n);
	else if (st == DNS_NODATA) {
		/* RFC 5321 §5.1: the domain itself is the implicit MX */
		memset(&hosts[0], 0, sizeof(hosts[0]));
		hosts[0].flags = MX_IMPLICIT | (a.secure ? MX_SECURE : 0);
		snprintf(hosts[0].name, sizeof(hosts[0].name), "%s", domain);
		n = 1;
		st = DNS_OK;
	}
	log_debug("dns: MX %s: %s, %s", domain, dns_status_name(a.status),
	    a.secure ? "secure" : "insecure");
	answer_free(&a);
	order_mx(hosts, n);
	for (i = 0; st == DNS_OK && i < n; i++)
		if (chan_compose(tls, MSG_MX_HOST, f->id, -1, &hosts[i],
		        sizeof(hosts[i])) == -1)
			fatalx("tls channel: %s", tls->err);
	send_end(tls, MSG_MX_END, f->id, st, st == DNS_OK ? n : 0);
}

static size_t
send_addrs(
    struct chan *tls, uint32_t id, const struct answer *a, ldns_rr_type type)
{
	struct msg_host_addr m;
	ldns_rr_list        *rrs;
	size_t               i, n;

	rrs = ldns_pkt_rr_list_by_type(a->pkt, type, LDNS_SECTION_ANSWER);
	n = rrs ? ldns_rr_list_rr_count(rrs) : 0;
	for (i = 0; i < n; i++) {
		ldns_rdf *rd = ldns_rr_rdf(ldns_rr_list_rr(rrs, i), 0);

		memset(&m, 0, sizeof(m));
		m.family = type == LDNS_RR_TYPE_A ? 4 : 6;
		m.flags = a->secure ? ADDR_SECURE : 0;
		memcpy(m.addr, ldns_rdf_data(rd), m.family == 4 ? 4 : 16);
		if (chan_compose(tls, MSG_HOST_ADDR, id, -1, &m, sizeof(m)) ==
		    -1)
			fatalx("tls channel: %s", tls->err);
	}
	ldns_rr_list_deep_free(rrs);
	return n;
}

/* The worse of two address lookups decides when neither gave records. */
static enum dns_status
combine(enum dns_status a, enum dns_status b)
{
	if (a == DNS_TEMPFAIL || b == DNS_TEMPFAIL)
		return DNS_TEMPFAIL;
	if (a == DNS_BADANSWER || b == DNS_BADANSWER)
		return DNS_BADANSWER;
	if (a == DNS_NXDOMAIN || b == DNS_NXDOMAIN)
		return DNS_NXDOMAIN;
	return DNS_NODATA;
}

static void
handle_host(struct chan *tls, const struct frame *f)
{
	const char   *host = frame_str(f, 0);
	struct answer a6, a4;
	size_t        n = 0;

	query(host, LDNS_RR_TYPE_AAAA, &a6);
	query(host, LDNS_RR_TYPE_A, &a4);
	log_debug("dns: AAAA %s: %s, %s; A: %s, %s", host,
	    dns_status_name(a6.status), a6.secure ? "secure" : "insecure",
	    dns_status_name(a4.status), a4.secure ? "secure" : "insecure");
	if (a6.status == DNS_OK)
		n += send_addrs(tls, f->id, &a6, LDNS_RR_TYPE_AAAA);
	if (a4.status == DNS_OK)
		n += send_addrs(tls, f->id, &a4, LDNS_RR_TYPE_A);
	send_end(tls, MSG_HOST_END, f->id,
	    n > 0 ? DNS_OK : combine(a6.status, a4.status), n);
	answer_free(&a6);
	answer_free(&a4);
}

void
dns_main(int parent_fd, int tls_fd, const struct child_cfg *cfg)
{
	struct chan        parent, tls;
	struct frame       f;
	struct sandbox_cfg sb = cfg->sb;

	chan_init(&parent, parent_fd, PROC_DNS, PROC_PARENT, "dns->parent");
	chan_init(&tls, tls_fd, PROC_DNS, PROC_TLS, "dns<->tls");
	log_init(PROC_DNS, &parent, 0);
	dns_init(cfg);

	/* TCP fallback may connect to the resolver's port, nothing else */
	sb.ports[0] = ldns_resolver_port(resolver);
	sb.nports = 1;
	sandbox_lock(PROC_DNS, &sb);

	for (;;) {
		if (chan_wait(&tls, &f, -1) == -1) {
			if (tls.eof)
				exit(0);
			fatalx("tls channel: %s", tls.err);
		}
		switch (f.type) {
		case MSG_MX_REQ:
			handle_mx(&tls, &f);
			break;
		case MSG_HOST_REQ:
			handle_host(&tls, &f);
			break;
		default:
			fatalx("tls channel: unexpected %s",
			    msg_type_name(f.type));
		}
	}
}
