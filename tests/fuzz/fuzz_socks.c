/*
 * libFuzzer: what a hostile SOCKS5 proxy can send (src/net/socks.c) and
 * what a --proxy URL can hold (src/parent/proxy.c).  The reply length
 * derived from the first five octets must stay within 8..SOCKS_REPLY_MAX,
 * a refusal must be the REP octet of a version 5 reply, a reply is only
 * accepted at exactly its length and gives an IPv4 or IPv6 BND.ADDR or
 * none; a parsed URL must give a printable description, a port and no
 * option-like host (that the description leaves the password out is
 * test_proxy's job).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parent.h"
#include "proc.h"
#include "socks.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_reply(const uint8_t *d, size_t n)
{
	const char *why;
	size_t      len = 0;
	uint8_t     fam, addr[16];
	int         rep;

	if (n >= 2) {
		(void)socks_method(d, d[0] & 1, &why);
		(void)socks_auth_status(d, &why);
	}
	if (n < 5)
		return;
	rep = socks_reply_head(d, &len, &why);
	if (rep == 0 && (len < 8 || len > SOCKS_REPLY_MAX))
		abort();
	if (rep > 0 &&
	    (d[0] != 5 || d[1] != rep || socks_rep_name(rep) == NULL))
		abort();
	if (socks_reply(d, n, &why) == 0) {
		if (rep != 0 || len != n)
			abort();
		if (socks_bound(d, &fam, addr) == 0 && fam != 4 && fam != 6)
			abort();
	}
}

static void
fuzz_url(const uint8_t *d, size_t n)
{
	struct proxy_cfg pc;
	char            *url = malloc(n + 1);
	size_t           i;

	if (url == NULL)
		return;
	memcpy(url, d, n);
	url[n] = '\0';
	if (proxy_parse(url, &pc) == NULL && pc.kind != PROXY_NONE) {
		for (i = 0; pc.text[i] != '\0'; i++)
			if (!isprint((unsigned char)pc.text[i]))
				abort();
		if (pc.host[0] == '-' || pc.port == 0)
			abort();
	}
	proxy_scrub(url);
	free(url);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n == 0)
		return 0;
	if (d[0] & 0x80)
		fuzz_url(d + 1, n - 1);
	else
		fuzz_reply(d + 1, n - 1);
	return 0;
}
