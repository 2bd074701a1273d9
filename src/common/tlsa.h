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

int tlsa_usable(uint8_t, uint8_t, uint8_t, size_t);

#endif
