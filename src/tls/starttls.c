/*
 * STARTTLS and DANE: the handshake on the same connection, and, where
 * secure TLSA records apply, the server's chain authenticated against
 * them before any post-TLS octet (A4-A12, S1-S6).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tls.h>

#include "log.h"
#include "pkix.h"
#include "session.h"

/*
 * A6: the names a DANE-TA certificate may carry.  The TLSA base domain
 * always; after a secure MX lookup also the recipient domain and its
 * CNAME expansion; without MX records also the original domain.
 */
static size_t
reference_names(const struct session *s, const char **names)
{
	const struct delivery *d = s->d;
	size_t                 n = 0;

	names[n++] = s->h->pol.base;
	if (d->mxinfo.flags & MXI_SECURE || s->h->mx->flags & MX_IMPLICIT) {
		names[n++] = d->domain;
		if (d->mxinfo.expanded[0] != '\0')
			names[n++] = d->mxinfo.expanded;
	} else if (strcmp(s->h->mx->name, s->h->pol.base) != 0)
		names[n++] = s->h->mx->name;
	return n;
}

/*
 * DANE (A4-A7, A12): authenticate the server's chain against the TLSA
 * records right after the handshake, before any other octet is sent.
 */
static enum step
authenticate(struct session *s)
{
	const char    *names[NAMES_MAX], *why = "no usable TLSA record";
	struct tlsa   *recs;
	const uint8_t *pem;
	size_t         len, n;
	int            match = -1, depth = 0, r = 0;

	/* tlsa_select() reorders: a copy keeps the host's list as it came */
	if ((recs = calloc(s->h->ntlsa + 1, sizeof(*recs))) == NULL)
		fatal("calloc");
	memcpy(recs, s->h->tlsa, s->h->ntlsa * sizeof(recs[0]));
	n = tlsa_select(recs, s->h->ntlsa);
	pem = tls_peer_cert_chain_pem(s->conn.tls, &len);
	if (pem != NULL && n > 0)
		r = dane_verify((const char *)pem, len, recs, n, names,
		    reference_names(s, names), &match, &depth, &why);
	if (r != 1) {
		free(recs);
		log_info("DANE: server not authenticated: %s", why);
		return failed(s,
		    "DANE authentication failed: %s (TLS-RPT: validation-failure)",
		    why);
	}
	tlsa_format(&recs[match], s->match, sizeof(s->match));
	free(recs);
	s->authenticated = 1;
	log_info(
	    "DANE: server authenticated by TLSA %s at depth %d, base domain %s",
	    s->match, depth, s->h->pol.base);
	return STEP_OK;
}

/*
 * MTA-STS (Y18): the chain must be WebPKI-valid for the MX host name,
 * checked right after the handshake like DANE.  In testing mode a
 * failure is reported and the delivery goes on (RFC 8461 §5).
 */
static enum step
webpki(struct session *s)
{
	struct delivery *d = s->d;
	const uint8_t   *pem;
	const char      *why;
	enum pkix_result r;
	size_t           len;

	if (d->ca_store == NULL)
		d->ca_store = pkix_store(d->ca_pem, d->ca_len);
	pem = tls_peer_cert_chain_pem(s->conn.tls, &len);
	r = pkix_verify(d->ca_store, (const char *)pem, pem ? len : 0,
	    s->h->mx->name, &why);
	if (r == PKIX_OK) {
		s->sts_verified = s->h->sts == STS_HOST_ENFORCE;
		log_info(
		    "MTA-STS: the certificate is valid for %s", s->h->mx->name);
		return STEP_OK;
	}
	snprintf(s->rpt_type, sizeof(s->rpt_type), "%s", pkix_rpt_type(r));
	if (s->h->sts == STS_HOST_TESTING) {
		log_info(
		    "MTA-STS (testing): not valid for %s: %s (TLS-RPT: %s); "
		    "delivering anyway",
		    s->h->mx->name, why, s->rpt_type);
		return STEP_OK;
	}
	return failed(s,
	    "MTA-STS: the certificate is not valid for %s: %s (TLS-RPT: %s)",
	    s->h->mx->name, why, s->rpt_type);
}

/* The handshake, DANE where it applies, and EHLO again inside TLS. */
static enum step
start_tls(struct session *s)
{
	/* A8: SNI is the TLSA base domain where there is one */
	const char *sni = s->h->pol.base[0] != '\0' ? s->h->pol.base : s->host;

	if (conn_starttls(
	        &s->conn, s->d->tlscfg, sni, tmo(s->d, TO_STARTTLS)) == -1)
		return failed(s, "TLS handshake failed: %s", s->conn.err);
	s->tls = 1;
	log_info("TLS started: %s %s", tls_conn_version(s->conn.tls),
	    tls_conn_cipher(s->conn.tls));
	if ((s->h->pol.policy == POLICY_DANE && authenticate(s) != STEP_OK) ||
	    ((s->h->sts == STS_HOST_ENFORCE || s->h->sts == STS_HOST_TESTING) &&
	        webpki(s) != STEP_OK)) {
		quit(s); /* RFC 3207 §4.1, inside TLS */
		return STEP_NEXT;
	}
	if (s->h->pol.policy != POLICY_DANE && s->h->sts == STS_HOST_NONE)
		log_info("server certificate not checked (%s)",
		    policy_name(s->h->pol.policy));
	/* RFC 3207 §4.2: forget everything learned before TLS */
	memset(&s->ehlo, 0, sizeof(s->ehlo));
	return ehlo(s);
}

/*
 * STARTTLS.  Where TLS is required (secure TLSA records) a missing or
 * refused STARTTLS, a failed handshake or a failed authentication fail
 * this host (S2, S3, A10); elsewhere only a refusal continues in
 * cleartext (S3: never after 354, 221 or 421).
 */
enum step
starttls(struct session *s)
{
	enum reply_class rc;
	enum step        v;

	if ((v = command(s, "STARTTLS", TO_STARTTLS, "STARTTLS")) != STEP_OK)
		return v;
	if ((rc = reply_class(s->reply.code, 220)) != RC_OK &&
	    tls_required(s)) {
		v = failed(s,
		    "TLS is required (%s) but STARTTLS was refused: %s (TLS-RPT: starttls-not-supported)",
		    tls_required_by(s), reply_first(s));
		if (rc != RC_CLOSING)
			quit(s);
		return v;
	}
	if (rc == RC_REFUSED) {
		log_info(
		    "STARTTLS refused; continuing without TLS (no TLSA records for this host)");
		return STEP_OK;
	}
	if (rc != RC_OK)
		return unexpected(s, "STARTTLS", rc);
	return start_tls(s);
}
