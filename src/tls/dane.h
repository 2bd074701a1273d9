/*
 * DANE authentication of an SMTP server's certificate chain
 * (RFC 7672 §3, RFC 7671, RFC 6698): PROTOCOL.md §5, rules A1-A7.
 * libtls has no DANE API; the tls process hands the chain from
 * tls_peer_cert_chain_pem() to dane_verify() before any post-TLS byte.
 */
#ifndef MXC_DANE_H
#define MXC_DANE_H

#include <stddef.h>
#include <stdint.h>

#include "tlsa.h" /* record field values, tlsa_usable() */

#define DANE_CHAIN_MAX 16 /* certificates accepted from the peer */
#define TLSA_FMT_MAX   40 /* buffer for tlsa_format() */

/* One TLSA record as it came from DNS (RFC 6698 §2.1). */
struct tlsa {
	uint8_t        usage, selector, mtype;
	size_t         len;
	const uint8_t *data;
};

/*
 * A1-A3: keep the usable records (usage 2/3, selector 0/1, matching
 * type 0/1/2 with a digest of the right length or Full(0) data that
 * parses), then per (usage, selector) keep Full(0) and the strongest
 * digest present.  Reorders in place, kept records first and in their
 * original order; returns how many are kept.
 */
size_t tlsa_select(struct tlsa *, size_t);

/*
 * Authenticate a peer chain (PEM text, leaf first) against the records
 * tlsa_select() kept.  names are the reference identifiers for DANE-TA
 * name checks (A6), the TLSA base domain first.  Returns 1 when some
 * record matched (*match its index, *depth 0 for DANE-EE or the depth of
 * the trust anchor), 0 when none did (*match the record behind *why, or
 * -1), -1 for a malformed or oversized chain.  *why is always set; it
 * may point to static storage that the next call overwrites.
 */
int dane_verify(const char *, size_t, const struct tlsa *, size_t,
    const char *const *, size_t, int *, int *, const char **);

/*
 * The peer's chain from PEM text into chain (leaf first): 0, or -1 with
 * *why.  want: how many certificates are needed, 0 for all (at most
 * DANE_CHAIN_MAX).  For pkix.c too.
 */
struct stack_st_X509;
int read_chain(
    const char *, size_t, size_t, struct stack_st_X509 *, const char **);

/*
 * A libcrypto verification context for a server's chain (leaf first) in
 * store; *untrusted is freed by the caller after the context.  For
 * DANE-TA and pkix.c.
 */
struct x509_store_st;
struct x509_store_ctx_st;
struct x509_store_ctx_st *server_chain_ctx(
    struct x509_store_st *, struct stack_st_X509 *, struct stack_st_X509 **);

/* "3 1 1 0123456789abcdef..." (the first 8 octets) for progress output. */
void tlsa_format(const struct tlsa *, char *, size_t);

#endif
