/*
 * SOCKS5 messages, built and checked.  We offer exactly one method:
 * username/password when the URL has credentials, "no authentication"
 * otherwise, so that a proxy cannot choose to skip the authentication
 * the user asked for.  The destination is always an address (ATYP 1 or
 * 4), never a name: where the mail goes is decided by our validated DNS,
 * not by the proxy.
 *
 * The reply is read in two steps, because its length depends on its
 * address type and not one octet after it may be consumed: the SMTP
 * greeting follows on the same stream and belongs to tls.
 */
#include <string.h>

#include "socks.h"

#define VER5        0x05
#define M_NONE      0x00
#define M_USERPASS  0x02
#define M_NOMATCH   0xff
#define AUTH_VER    0x01
#define CMD_CONNECT 0x01
#define ATYP_V4     0x01
#define ATYP_NAME   0x03
#define ATYP_V6     0x04

/* RFC 1928 §4: the method-selection message. */
size_t
socks_greeting(uint8_t *b, int userpass)
{
	b[0] = VER5;
	b[1] = 1;
	b[2] = userpass ? M_USERPASS : M_NONE;
	return 3;
}

/* The proxy's choice: 0 if it took the one method we offered. */
int
socks_method(const uint8_t b[2], int userpass, const char **why)
{
	if (b[0] != VER5)
		return *why =
		           "not a SOCKS5 proxy (wrong version in its method selection)",
		       -1;
	if (b[1] == M_NOMATCH)
		return *why = userpass
		           ? "the proxy does not accept username/password authentication"
		           : "the proxy requires authentication (give socks5://user:pass@...)",
		       -1;
	if (b[1] != (userpass ? M_USERPASS : M_NONE))
		return *why = "the proxy chose a method we did not offer", -1;
	return 0;
}

/* RFC 1929 §2; both strings are 1..255 octets (checked by the parser). */
size_t
socks_auth(uint8_t *b, const char *user, const char *pass)
{
	size_t ul = strnlen(user, 255), pl = strnlen(pass, 255);

	b[0] = AUTH_VER;
	b[1] = (uint8_t)ul;
	memcpy(b + 2, user, ul);
	b[2 + ul] = (uint8_t)pl;
	memcpy(b + 3 + ul, pass, pl);
	return 3 + ul + pl;
}

int
socks_auth_status(const uint8_t b[2], const char **why)
{
	if (b[0] != AUTH_VER)
		return *why = "bad username/password reply version", -1;
	if (b[1] != 0)
		return *why = "the proxy refused the user name or password", -1;
	return 0;
}

/* RFC 1928 §4: CONNECT to an IPv4 or IPv6 address. */
size_t
socks_connect(uint8_t *b, int family, const uint8_t *addr, uint16_t port)
{
	size_t alen = family == 4 ? 4 : 16;

	b[0] = VER5;
	b[1] = CMD_CONNECT;
	b[2] = 0;
	b[3] = family == 4 ? ATYP_V4 : ATYP_V6;
	memcpy(b + 4, addr, alen);
	b[4 + alen] = (uint8_t)(port >> 8);
	b[5 + alen] = (uint8_t)(port & 0xff);
	return 6 + alen;
}

/*
 * The first five octets of a reply (VER REP RSV ATYP and one more; the
 * shortest reply has eight).  A refusal (REP > 0) is returned at once,
 * whatever its address fields hold: it is about this destination, and
 * nothing more needs reading.  For a success, 0 and the length of the
 * whole reply; -1 for a malformed one.
 */
int
socks_reply_head(const uint8_t b[5], size_t *len, const char **why)
{
	if (b[0] != VER5)
		return *why = "not a SOCKS5 reply (wrong version)", -1;
	if (b[1] != 0)
		return b[1];
	if (b[2] != 0)
		return *why = "malformed SOCKS5 reply (reserved octet)", -1;
	switch (b[3]) {
	case ATYP_V4:
		*len = 4 + 4 + 2;
		return 0;
	case ATYP_V6:
		*len = 4 + 16 + 2;
		return 0;
	case ATYP_NAME:
		if (b[4] == 0)
			return *why = "malformed SOCKS5 reply (empty name)", -1;
		*len = 4 + 1 + b[4] + 2;
		return 0;
	}
	return *why = "malformed SOCKS5 reply (address type)", -1;
}

/* A whole successful reply: 0 if it is exactly as long as it says. */
int
socks_reply(const uint8_t *b, size_t n, const char **why)
{
	size_t want;

	if (n < 5)
		return *why = "short SOCKS5 reply", -1;
	if (socks_reply_head(b, &want, why) != 0)
		return *why = "not a successful SOCKS5 reply", -1;
	if (n != want)
		return *why = "SOCKS5 reply of the wrong length", -1;
	return 0;
}

/*
 * BND.ADDR of a whole successful reply, where the proxy's connection
 * comes from: 0 and family 4 or 6, or -1 if it is a name or unspecified
 * (microsocks says 0.0.0.0).
 */
int
socks_bound(const uint8_t *b, uint8_t *family, uint8_t addr[16])
{
	static const uint8_t zero[16];
	size_t               n = b[3] == ATYP_V4 ? 4 : 16;

	if ((b[3] != ATYP_V4 && b[3] != ATYP_V6) || memcmp(b + 4, zero, n) == 0)
		return -1;
	*family = n == 4 ? 4 : 6;
	memset(addr, 0, 16);
	memcpy(addr, b + 4, n);
	return 0;
}

/* RFC 1928 §6, the reply codes. */
const char *
socks_rep_name(int rep)
{
	static const char *const names[] = {
		"succeeded",
		"general SOCKS server failure",
		"connection not allowed by ruleset",
		"network unreachable",
		"host unreachable",
		"connection refused",
		"TTL expired",
		"command not supported",
		"address type not supported",
	};

	if (rep >= 0 && (size_t)rep < sizeof(names) / sizeof(names[0]))
		return names[rep];
	return "unassigned reply code";
}
