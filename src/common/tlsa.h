/* Which TLSA records an SMTP client can use (RFC 6698, 7671, 7672). */
#ifndef MXC_TLSA_H
#define MXC_TLSA_H

#include <stddef.h>
#include <stdint.h>

#define TLSA_USAGE_DANE_TA 2
#define TLSA_USAGE_DANE_EE 3
#define TLSA_SEL_CERT      0
#define TLSA_SEL_SPKI      1
#define TLSA_MTYPE_FULL    0
#define TLSA_MTYPE_SHA256  1
#define TLSA_MTYPE_SHA512  2

/*
 * The one test of usability (A1, A2), used by dns to choose between "DANE
 * required" and "TLS required" and by tls to pick the records it
 * authenticates with: both must always agree.
 */
int tlsa_usable(uint8_t, uint8_t, uint8_t, const uint8_t *, size_t);

/*
 * Load what libcrypto loads lazily on the first certificate or key it
 * parses (configuration, providers, decoders), before the sandbox: after
 * lock-down it could no longer read those files.
 */
void tlsa_init(void);

#endif
