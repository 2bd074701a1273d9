/*
 * The one test of whether a TLSA record is usable, shared by dns (which
 * decides between "DANE required" and "TLS required" from it) and tls
 * (which authenticates with the usable ones).
 */
#include "tlsa.h"

/*
 * RFC 7672 §3.1.3: PKIX-TA(0) and PKIX-EE(1) are unusable for SMTP (as in
 * Postfix).  RFC 6698 §4.1 / RFC 7671 §9 (A1): unknown selectors and
 * matching types, private-use values (255) and digests of the wrong
 * length are unusable too.  Full(0) data is parsed later, in tls.
 */
int
tlsa_usable(uint8_t usage, uint8_t selector, uint8_t mtype, size_t len)
{
	if (usage != TLSA_USAGE_DANE_TA && usage != TLSA_USAGE_DANE_EE)
		return 0;
	if (selector != TLSA_SEL_CERT && selector != TLSA_SEL_SPKI)
		return 0;
	switch (mtype) {
	case TLSA_MTYPE_FULL:
		return len > 0;
	case TLSA_MTYPE_SHA256:
		return len == 32;
	case TLSA_MTYPE_SHA512:
		return len == 64;
	default:
		return 0;
	}
}
