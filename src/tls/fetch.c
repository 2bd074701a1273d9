/*
 * The MTA-STS policy fetch (RFC 8461 §3.3, Y17): GET
 * https://mta-sts.<domain>/.well-known/mta-sts.txt from the policy
 * host's addresses (dns), over a stream from net (port 443, directly or
 * through the proxy), with libtls checking the certificate against the
 * WebPKI store for that name (SNI too), TLS 1.2 or later.  Only a 200
 * with a text/plain body of at most 64 KiB counts; no redirect is
 * followed, nothing is cached by HTTP rules, and the whole fetch has one
 * time limit (--sts-timeout).
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tls.h>

#include "clock.h"
#include "http.h"
#include "delivery.h"

#define POLICY_PATH "/.well-known/mta-sts.txt"
#define CA_FILE_MAX (8 * 1024 * 1024)

/*
 * Before the lock-down: the CA bundle into memory (the WebPKI store for
 * policy hosts and MX certificates, Y18) and an HTTPS configuration that
 * checks certificates and names against it.  Without a bundle there is
 * no MTA-STS: a policy cannot be fetched, nor a certificate checked.
 */
void
sts_setup(struct delivery *d, const char *ca_file)
{
	struct stat st;
	uint8_t    *pem = NULL;
	ssize_t     n = 0;
	int         fd;

	if ((fd = open(ca_file, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1 || st.st_size <= 0 ||
	    st.st_size > CA_FILE_MAX ||
	    (pem = malloc((size_t)st.st_size)) == NULL ||
	    (n = read(fd, pem, (size_t)st.st_size)) != st.st_size) {
		log_info("MTA-STS: no CA certificates in %s: no policy can "
		         "be fetched or checked",
		    ca_file);
		free(pem);
		if (fd != -1)
			close(fd);
		return;
	}
	close(fd);
	d->ca_pem = pem;
	d->ca_len = (size_t)n;
	if ((d->stscfg = tls_config_new()) == NULL ||
	    tls_config_set_protocols(
	        d->stscfg, TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3) == -1 ||
	    tls_config_set_ca_mem(d->stscfg, pem, (size_t)n) == -1)
		fatalx("cannot configure HTTPS for MTA-STS");
}

/* The policy host's addresses, from dns (MSG_ADDR_REQ). */
static size_t
ask_addrs(struct delivery *d, const char *host, struct msg_host_addr *a,
    size_t max, enum dns_status *st)
{
	struct msg_dns_end end;
	uint32_t           id = ++d->nextid;
	struct frame       f;
	size_t             n = 0, seen = 0;

	if (chan_compose(
	        &d->dns, MSG_ADDR_REQ, id, -1, host, strlen(host) + 1) == -1)
		fatalx("dns: %s", d->dns.err);
	for (;;) {
		wait_frame(&d->dns, &f, id, DNS_WAIT);
		if (f.type == MSG_HOST_END)
			break;
		if (f.type != MSG_HOST_ADDR)
			fatalx("dns: unexpected %s", msg_type_name(f.type));
		if (seen++ < max)
			memcpy(&a[n++], f.data, sizeof(a[0]));
	}
	memcpy(&end, f.data, sizeof(end));
	if (end.count != seen)
		fatalx("dns: address answer does not add up");
	*st = end.status;
	return n;
}

/* Seconds left until the fetch's deadline, at least 1. */
static int
left(long long deadline)
{
	long long ms = deadline - mono_ms();

	return ms < 1000 ? 1 : (int)(ms / 1000);
}

/* Request and response on a TLS stream: 0, or -1 with *why. */
static int
exchange(struct conn *c, const char *host, struct http_resp *r,
    long long deadline, const char **why)
{
	char            req[512];
	uint8_t         buf[8192];
	size_t          n = http_request(req, sizeof(req), host, POLICY_PATH);
	long            got;
	enum http_state st = HTTP_MORE;

	if (n == 0 || conn_write(c, req, n, left(deadline)) == -1) {
		*why = n == 0 ? "request too long" : c->err;
		return -1;
	}
	while (st == HTTP_MORE) {
		if ((got = conn_read(c, buf, sizeof(buf), deadline)) == -1) {
			*why = c->err;
			return -1;
		}
		st = got == 0 ? http_eof(r) : http_feed(r, buf, (size_t)got);
	}
	explicit_bzero(buf, sizeof(buf));
	if (st == HTTP_ERROR) {
		*why = r->why;
		return -1;
	}
	return 0;
}

/*
 * One address.  0 and the response in r; -1 with *why, and *webpki set
 * when the certificate was the trouble (sts-webpki-invalid).
 */
static int
fetch_from(struct delivery *d, const struct msg_host_addr *a, const char *host,
    struct http_resp *r, long long deadline, const char **why, int *webpki)
{
	static char why_buf[600];
	struct conn c;
	uint32_t    cflags = 0;
	int         fd, rv = -1;

	if ((fd = ask_connect(
	         d, a, PORT_HTTPS, why_buf, sizeof(why_buf), &cflags)) == -1) {
		*why = why_buf;
		return -1;
	}
	conn_init(&c, fd);
	if (conn_starttls(&c, d->stscfg, host, left(deadline)) == -1) {
		snprintf(why_buf, sizeof(why_buf), "TLS: %s", c.err);
		*why = why_buf;
		*webpki = 1;
	} else
		rv = exchange(&c, host, r, deadline, why);
	conn_close(&c);
	return rv;
}

/*
 * Fetch the policy of domain: 0 and the body (malloc'd, NUL-terminated)
 * in *body, or -1 with the reason in why and the TLS-RPT result type.
 */
int
sts_fetch(struct delivery *d, const char *domain, char **body, size_t *len,
    char *why, size_t whylen, const char **rpt_type)
{
	struct msg_host_addr addrs[ADDRS_MAX];
	char                 host[NAME_MAX_LEN + 1];
	long long        deadline = mono_ms() + d->job.j.sts_timeout * 1000LL;
	struct http_resp r;
	enum dns_status  st;
	const char      *w = "no address";
	size_t           n, i;
	int              webpki = 0, ok = -1;

	*rpt_type = "sts-policy-fetch-error";
	if (d->stscfg == NULL) {
		snprintf(why, whylen, "no CA certificates to check it with");
		return -1;
	}
	snprintf(host, sizeof(host), "mta-sts.%s", domain);
	n = ask_addrs(d, host, addrs, ADDRS_MAX, &st);
	for (i = 0; i < n && ok == -1 && mono_ms() < deadline; i++) {
		http_init(&r, STS_TEXT_MAX);
		if ((ok = fetch_from(
		         d, &addrs[i], host, &r, deadline, &w, &webpki)) == 0) {
			*body = (char *)r.body;
			*len = r.bodylen;
			r.body = NULL; /* ours now */
		} else
			snprintf(why, whylen, "%s: %s", host, w);
		http_free(&r);
	}
	if (n == 0)
		snprintf(why, whylen, "%s: %s", host,
		    st == DNS_OK ? "no address" : dns_status_name(st));
	else if (ok == -1 && i < n)
		snprintf(why, whylen, "%s: no answer within %u seconds", host,
		    d->job.j.sts_timeout);
	if (ok == -1 && webpki)
		*rpt_type = "sts-webpki-invalid";
	return ok;
}
