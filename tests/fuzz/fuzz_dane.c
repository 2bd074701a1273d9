/*
 * libFuzzer twin of DANE authentication (src/tls/dane.c, tlsa.c).
 * Input: octet 0 = mode (low 3 bits: how many TLSA records, bit 3: wrap
 * the chain as DER in a PEM armour so the X.509 parser is reached at
 * once), then per record usage, selector, mtype, length (2 octets, big
 * endian) and its data; the rest is the peer's chain.
 * Checks: tlsa_select() keeps only usable records; dane_verify() returns
 * -1, 0 or 1 with *match and *depth in range and *why set, and leaves
 * OpenSSL's error queue empty (dane.h promises both); no leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "dane.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define RECORDS_MAX 7

static const char *const names[] = { "mx.example.com", "example.com." };

static void
need(int ok)
{
	if (!ok)
		abort();
}

/* DER in a PEM armour; *len its length.  Caller frees. */
static char *
armour(const uint8_t *der, size_t len, size_t *outlen)
{
	static const char head[] = "-----BEGIN CERTIFICATE-----\n";
	static const char tail[] = "-----END CERTIFICATE-----\n";
	size_t            b64 = 4 * ((len + 2) / 3), o, i;
	char             *out;

	o = sizeof(head) - 1 + b64 + b64 / 64 + 2 + sizeof(tail);
	if ((out = malloc(o)) == NULL)
		abort();
	memcpy(out, head, sizeof(head) - 1);
	o = sizeof(head) - 1;
	for (i = 0; i < len; i += 48) {
		size_t n = len - i < 48 ? len - i : 48;

		o += EVP_EncodeBlock((unsigned char *)out + o, der + i, (int)n);
		out[o++] = '\n';
	}
	memcpy(out + o, tail, sizeof(tail) - 1);
	*outlen = o + sizeof(tail) - 1;
	return out;
}

static void
verify(const char *pem, size_t pemlen, const struct tlsa *r, size_t n)
{
	const char *why = NULL;
	int         match = -2, depth = -2, rv;

	rv = dane_verify(pem, pemlen, r, n, names, 2, &match, &depth, &why);
	need(rv >= -1 && rv <= 1 && why != NULL && ERR_peek_error() == 0);
	if (rv == 1)
		need(match >= 0 && (size_t)match < n && depth >= 0 &&
		    depth < DANE_CHAIN_MAX + 1);
	else
		need(match >= -1 && match < (int)n && depth == -1);
	if (rv == 1)
		need(tlsa_usable(r[match].usage, r[match].selector,
		    r[match].mtype, r[match].data, r[match].len));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlsa    r[RECORDS_MAX], sel[RECORDS_MAX];
	uint8_t       *copy[RECORDS_MAX];
	const uint8_t *p = data, *end = data + size;
	size_t         n, i, k, len;
	char          *pem, fmt[TLSA_FMT_MAX];
	int            wrap;

	if (size < 1)
		return 0;
	n = *p % 8;
	wrap = *p++ & 8;
	for (i = 0; i < n; i++) {
		if (end - p < 5)
			break;
		len = (size_t)p[3] << 8 | p[4];
		if (len > (size_t)(end - p - 5))
			len = end - p - 5;
		r[i].usage = p[0];
		r[i].selector = p[1];
		r[i].mtype = p[2];
		r[i].len = len;
		/* its own allocation, so ASan sees a read past the data */
		if ((copy[i] = malloc(len ? len : 1)) == NULL)
			abort();
		memcpy(copy[i], p + 5, len);
		r[i].data = copy[i];
		p += 5 + len;
	}
	n = i;
	for (i = 0; i < n; i++) {
		tlsa_format(&r[i], fmt, sizeof(fmt));
		need(memchr(fmt, '\0', sizeof(fmt)) != NULL);
	}
	memcpy(sel, r, sizeof(r[0]) * n);
	k = tlsa_select(sel, n);
	need(k <= n && ERR_peek_error() == 0);
	for (i = 0; i < k; i++)
		need(tlsa_usable(sel[i].usage, sel[i].selector, sel[i].mtype,
		    sel[i].data, sel[i].len));
	len = end - p;
	if (wrap)
		pem = armour(p, len, &len);
	else if ((pem = malloc(len ? len : 1)) != NULL)
		memcpy(pem, p, len);
	else
		abort();
	verify(pem, len, sel, k);
	verify(pem, len, r, n); /* dane_verify() skips unusable ones itself */
	free(pem);
	for (i = 0; i < n; i++)
		free(copy[i]);
	return 0;
}
