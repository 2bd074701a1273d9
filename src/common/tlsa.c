/*
 * The one test of whether a TLSA record is usable, shared by dns (which
 * decides between "DANE required" and "TLS required" from it) and tls
 * (which authenticates with the usable ones).  A record that one of them
 * called usable and the other not would either send mail to any
 * certificate or hold it back for ever.
 */
#include <limits.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tlsa.h"

/*
 * Full(0) data is a DER certificate (selector 0) or SubjectPublicKeyInfo
 * (selector 1) that libcrypto parses, with no octet left over: trailing
 * octets make it malformed (RFC 6698 §2.1.4, A1).
 */
static int
full_data_parses(uint8_t selector, const uint8_t *data, size_t len)
{
	const unsigned char *p = data;
	X509                *x;
	EVP_PKEY            *k;
	int                  ok;

	if (data == NULL || len == 0 || len > LONG_MAX)
		return 0;
	if (selector == TLSA_SEL_CERT) {
		x = d2i_X509(NULL, &p, (long)len);
		ok = x != NULL;
		X509_free(x);
	} else {
		k = d2i_PUBKEY(NULL, &p, (long)len);
		ok = k != NULL;
		EVP_PKEY_free(k);
	}
	ERR_clear_error();
	return ok && p == data + len;
}

/*
 * RFC 7672 §3.1.3: PKIX-TA(0) and PKIX-EE(1) are unusable for SMTP (as in
 * Postfix).  RFC 6698 §4.1 / RFC 7671 §9 (A1): unknown selectors and
 * matching types, private-use values (255), digests of the wrong length
 * and Full(0) data that does not parse are unusable too.
 */
int
tlsa_usable(uint8_t usage, uint8_t selector, uint8_t mtype, const uint8_t *data,
    size_t len)
{
	if (data == NULL)
		return 0; /* nothing to match */
	if (usage != TLSA_USAGE_DANE_TA && usage != TLSA_USAGE_DANE_EE)
		return 0;
	if (selector != TLSA_SEL_CERT && selector != TLSA_SEL_SPKI)
		return 0;
	switch (mtype) {
	case TLSA_MTYPE_FULL:
		return full_data_parses(selector, data, len);
	case TLSA_MTYPE_SHA256:
		return len == 32;
	case TLSA_MTYPE_SHA512:
		return len == 64;
	default:
		return 0;
	}
}

/*
 * An Ed25519 SubjectPublicKeyInfo (RFC 8410 §4; the key octets are
 * arbitrary): parsing it runs libcrypto's whole decoder set-up once.
 */
static const uint8_t warmup_spki[] = { 0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b,
	0x65, 0x70, 0x03, 0x21, 0x00, 0x19, 0xbf, 0x44, 0x09, 0x69, 0x84, 0xcd,
	0xfe, 0x85, 0x41, 0xba, 0xc1, 0x67, 0xdc, 0x3b, 0x96, 0xc8, 0x50, 0x86,
	0xaa, 0x30, 0xb6, 0xb6, 0xcb, 0x0c, 0x5c, 0x38, 0xad, 0x70, 0x31, 0x66,
	0xe1 };

void
tlsa_init(void)
{
	(void)full_data_parses(TLSA_SEL_SPKI, warmup_spki, sizeof(warmup_spki));
	(void)full_data_parses(TLSA_SEL_CERT, warmup_spki, sizeof(warmup_spki));
}
