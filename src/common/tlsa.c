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
 * Before the sandbox: libcrypto's start-up without its configuration
 * file (the parse needs nothing from openssl.cnf, and once locked down
 * dns could not open it) and without an exit handler (OPENSSL_cleanup()
 * would only free memory the exit frees anyway).  The decoders that a
 * Full(0) record needs are set up the first time one comes, which most
 * deliveries never see.
 */
void
tlsa_init(void)
{
	OPENSSL_init_crypto(
	    OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT, NULL);
}
