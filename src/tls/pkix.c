/*
 * MTA-STS authenticates an MX host the WebPKI way (RFC 8461 §4.2, Y18):
 * the chain the server sent leads to a CA of the store (the system's
 * bundle or --ca-file, read into memory before the lock-down), every
 * certificate is valid now and fit for TLS server use, and the leaf
 * names the MX host in a subjectAltName DNS-ID — a wildcard only as the
 * whole left-most label, never the subject CN (RFC 6125 §6.4).  As with
 * DANE, libtls checks nothing itself; this runs right after the
 * handshake, before any post-TLS octet.
 */
#include <limits.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "dane.h"
#include "pkix.h"

/*
 * The CA certificates of a PEM bundle, in a store with nothing else (no
 * default paths: after the lock-down there are no files to read).  NULL
 * if the bundle holds none.
 */
X509_STORE *
pkix_store(const uint8_t *pem, size_t len)
{
	X509_STORE *store;
	BIO        *bio;
	X509       *x;
	int         n = 0;

	if (pem == NULL || len == 0 || len > INT_MAX ||
	    (store = X509_STORE_new()) == NULL)
		return NULL;
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		X509_STORE_free(store);
		return NULL;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		n += X509_STORE_add_cert(store, x) == 1;
		X509_free(x);
	}
	BIO_free(bio);
	ERR_clear_error(); /* the end of the bundle reads as an error */
	if (n == 0) {
		X509_STORE_free(store);
		return NULL;
	}
	return store;
}

static enum pkix_result
result_of(int verr)
{
	switch (verr) {
	case X509_V_OK:
		return PKIX_OK;
	case X509_V_ERR_HOSTNAME_MISMATCH:
		return PKIX_NAME;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return PKIX_EXPIRED;
	default:
		return PKIX_UNTRUSTED;
	}
}

/* The chain, leaf first, against the store, for host; *why: words. */
enum pkix_result
pkix_verify(X509_STORE *store, const char *pem, size_t len, const char *host,
    const char **why)
{
	STACK_OF(X509) *chain = sk_X509_new_null(), *untrusted = NULL;
	X509_STORE_CTX    *ctx = NULL;
	X509_VERIFY_PARAM *param;
	enum pkix_result   r = PKIX_MALFORMED;
	int                verr;

	*why = "out of memory";
	if (chain == NULL || store == NULL) {
		*why = store == NULL ? "no CA certificates to check against"
		                     : *why;
		goto out;
	}
	if (read_chain(pem, len, 0, chain, why) == -1)
		goto out;
	if ((ctx = server_chain_ctx(store, chain, &untrusted)) == NULL)
		goto out;
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_hostflags(param,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
	        X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
	if (!X509_VERIFY_PARAM_set1_host(param, host, 0))
		goto out;
	verr = X509_verify_cert(ctx) == 1 ? X509_V_OK
	                                  : X509_STORE_CTX_get_error(ctx);
	r = result_of(verr);
	*why = r == PKIX_OK ? "certificate valid for the MX name"
	                    : X509_verify_cert_error_string(verr);
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	sk_X509_pop_free(chain, X509_free);
	ERR_clear_error();
	return r;
}

/* RFC 8460 §4.3 result types, for the report. */
const char *
pkix_rpt_type(enum pkix_result r)
{
	switch (r) {
	case PKIX_OK:
		return "";
	case PKIX_NAME:
		return "certificate-host-mismatch";
	case PKIX_EXPIRED:
		return "certificate-expired";
	case PKIX_UNTRUSTED:
		return "certificate-not-trusted";
	case PKIX_MALFORMED:
		break;
	}
	return "validation-failure";
}
