/*
 * The dns process: the only one that talks to the resolver.  It decides
 * where mail may go and which security applies (RFC 7672 §2):
 *
 *   MX_REQ    the MX hosts of the recipient domain, in the order to try,
 *             and whether the MX RRset validated (M1-M10);
 *   HOST_REQ  the addresses of one host, its TLSA records and the policy
 *             that follows from them: DANE required, TLS required,
 *             opportunistic or unreachable (T1-T7, B1-B3).
 *
 * Queries leave in waves (all that do not depend on each other at once)
 * over its own sockets; ldns builds and parses the packets.  Each answer
 * is secure (AD), insecure, a definite non-existence, or a lookup error
 * (D2); a lookup error is never read as "no records".
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ldns/ldns.h>

#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "log.h"
#include "tlsa.h"

/*
 * Before the sandbox: the resolvers come from the parent (which read
 * resolv.conf and warned about any off this host); libcrypto starts
 * without a configuration file, for the rare Full(0) TLSA record.
 */
static void
dns_init(struct dns *d, const struct child_cfg *cfg)
{
	memcpy(d->res.addr, cfg->resolvers.addr, sizeof(d->res.addr));
	memcpy(d->res.len, cfg->resolvers.len, sizeof(d->res.len));
	d->res.n = cfg->resolvers.n;
	if (d->res.n < 1 || d->res.n > NS_MAX)
		fatalx("no resolver to ask");
	d->res.timeout = cfg->dns_timeout;
	d->probe = cfg->dnssec_probe[0] != '\0' ? cfg->dnssec_probe : NULL;
	d->validating = d->probe == NULL; /* no probe: as the user says */
	tlsa_init();
}

static void
handle_mx(void *ctx, const struct frame *f)
{
	struct dns         *d = ctx;
	struct msg_mx_host *hosts = NULL;
	const char         *domain = frame_str(f, 0);
	struct query        q[4];
	struct msg_mx_info  info;
	enum dns_status     st;
	size_t              i, n = 0, nq = 3;

	/* the TXT lookups and the probe ride with the MX query (Y16, D6) */
	query_start(d, &q[0], domain, LDNS_RR_TYPE_MX);
	txt_start(d, &q[1], domain);
	if (d->probe != NULL && !d->probed) {
		query_start(d, &q[3], d->probe, LDNS_RR_TYPE_NS);
		nq = 4;
	}
	run_wave(d, q, nq, NULL);
	if (nq == 4)
		note_probe(d, &q[3]);
	st = q[0].ans.status;
	if (st == DNS_OK)
		st = collect_mx(&q[0].ans, &hosts, &n);
	d->mx_secure = q[0].ans.secure;
	if (st == DNS_NODATA) {
		/* RFC 5321 §5.1: the domain itself is the implicit MX (M2) */
		n = 0;
		(void)mx_slot(&hosts, n);
		hosts[0].flags = MX_IMPLICIT | (d->mx_secure ? MX_SECURE : 0);
		copy_name(hosts[0].name, sizeof(hosts[0].name),
		    q[0].ans.cname ? q[0].ans.final : domain);
		n = 1;
		st = DNS_OK;
	}
	if (st == DNS_TEMPFAIL)
		log_info("MX lookup for %s failed: %s", domain, q[0].ans.why);
	n = order_mx(hosts, n);
	for (i = 0; st == DNS_OK && i < n; i++)
		send_frame(d, MSG_MX_HOST, f->id, &hosts[i], sizeof(hosts[i]));
	memset(&info, 0, sizeof(info));
	info.flags = (d->mx_secure ? MXI_SECURE : 0) |
	    (d->validating ? MXI_VALIDATING : 0);
	info.waves = d->waves;
	if (q[0].ans.cname && st == DNS_OK) {
		copy_name(info.expanded, sizeof(info.expanded), q[0].ans.final);
	}
	send_frame(d, MSG_MX_INFO, f->id, &info, sizeof(info));
	txt_tell(d, f->id, &q[1]);
	send_end(d, MSG_MX_END, f->id, st, st == DNS_OK ? n : 0);
	for (i = 0; i < nq; i++)
		query_free(&q[i]);
	free(hosts);
}

static void
handle_host(void *ctx, const struct frame *f)
{
	struct dns            *d = ctx;
	const char            *host = frame_str(f, 0);
	struct msg_host_policy pol;
	struct query           q[3];
	enum dns_status        st;
	char                   tlsa[NAME_MAX_LEN + 2];
	size_t                 nq = 2, n = 0, i;

	memset(&pol, 0, sizeof(pol));
	query_start(d, &q[Q_AAAA], host, LDNS_RR_TYPE_AAAA);
	query_start(d, &q[Q_A], host, LDNS_RR_TYPE_A);
	/* after a secure MX, the TLSA query rides along (T1 [rec]) */
	if (d->mx_secure &&
	    snprintf(tlsa, sizeof(tlsa), "_25._tcp.%s", host) <
	        (int)sizeof(tlsa) - 1) {
		query_start(d, &q[Q_TLSA], tlsa, LDNS_RR_TYPE_TLSA);
		nq = 3;
	}
	run_wave(d, q, nq, enough_host);
	if ((st = addr_status(host, q, &pol)) == DNS_OK) {
		n += send_addrs(d, f->id, &q[Q_AAAA].ans, LDNS_RR_TYPE_AAAA);
		n += send_addrs(d, f->id, &q[Q_A].ans, LDNS_RR_TYPE_A);
		decide_tls(d, f->id, host, q, nq, &pol);
	}
	pol.waves = d->waves;
	send_frame(d, MSG_HOST_POLICY, f->id, &pol, sizeof(pol));
	send_end(d, MSG_HOST_END, f->id, st, n);
	for (i = 0; i < nq; i++)
		query_free(&q[i]);
}

/* A host's addresses alone: the MTA-STS policy host (Y17). */
static void
handle_addr(void *ctx, const struct frame *f)
{
	struct dns            *d = ctx;
	const char            *host = frame_str(f, 0);
	struct msg_host_policy pol;
	struct query           q[2];
	enum dns_status        st;
	size_t                 n = 0;

	memset(&pol, 0, sizeof(pol));
	query_start(d, &q[Q_AAAA], host, LDNS_RR_TYPE_AAAA);
	query_start(d, &q[Q_A], host, LDNS_RR_TYPE_A);
	run_wave(d, q, 2, NULL);
	if ((st = addr_status(host, q, &pol)) == DNS_OK) {
		n += send_addrs(d, f->id, &q[Q_AAAA].ans, LDNS_RR_TYPE_AAAA);
		n += send_addrs(d, f->id, &q[Q_A].ans, LDNS_RR_TYPE_A);
	}
	send_end(d, MSG_HOST_END, f->id, st, n);
	query_free(&q[0]);
	query_free(&q[1]);
}

/* What dns serves; msg.c's table says tls alone may ask. */
static const struct msg_handler handlers[] = {
	{ MSG_MX_REQ, handle_mx },
	{ MSG_HOST_REQ, handle_host },
	{ MSG_ADDR_REQ, handle_addr },
};

/* TCP may connect to the resolvers' ports, nothing else (Landlock). */
static void
resolver_ports(const struct dns *d, struct sandbox_cfg *sb)
{
	uint16_t port;
	int      i, k;

	for (i = 0; i < d->res.n; i++) {
		port = ntohs(
		    ((const struct sockaddr_in *)&d->res.addr[i])->sin_port);
		for (k = 0; k < sb->nports && sb->ports[k] != port; k++)
			;
		if (k == sb->nports && sb->nports < SANDBOX_MAX_PORTS)
			sb->ports[sb->nports++] = port;
	}
}

void
dns_main(const struct child_fds *fds, const struct child_cfg *cfg)
{
	static struct dns  d;
	struct sandbox_cfg sb = cfg->sb;

	chan_init(&d.parent, fds->parent, PROC_DNS, PROC_PARENT, "dns->parent");
	chan_init(&d.tls, fds->tls, PROC_DNS, PROC_TLS, "dns<->tls");
	log_init(PROC_DNS, &d.parent, cfg->log_flags);
	dns_init(&d, cfg);

	resolver_ports(&d, &sb);
	sandbox_lock(PROC_DNS, &sb);

	msg_serve(&d.tls, handlers, sizeof(handlers) / sizeof(handlers[0]), &d);
}
