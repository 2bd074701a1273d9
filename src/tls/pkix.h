/*
 * WebPKI authentication (pkix.c): the MTA-STS check of an MX host's
 * certificate (RFC 8461 §4.2, Y18) against a CA store read before the
 * lock-down.
 */
#ifndef MXC_PKIX_H
#define MXC_PKIX_H

#include <stddef.h>
#include <stdint.h>

/* How a check ended; each maps to one TLS-RPT result type. */
enum pkix_result {
	PKIX_OK,
	PKIX_NAME,      /* certificate-host-mismatch */
	PKIX_EXPIRED,   /* certificate-expired (or not yet valid) */
	PKIX_UNTRUSTED, /* certificate-not-trusted */
	PKIX_MALFORMED  /* validation-failure: no usable chain */
};

struct x509_store_st;

struct x509_store_st *pkix_store(const uint8_t *, size_t);
enum pkix_result      pkix_verify(
         struct x509_store_st *, const char *, size_t, const char *, const char **);
const char *pkix_rpt_type(enum pkix_result);

#endif
