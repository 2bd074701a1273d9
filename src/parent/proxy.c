/*
 * --proxy and MXCLIENT_PROXY: "socks5://[user:pass@]host[:port]" or
 * "ssh://[user@]host[:port]".  Parsing is kept apart from resolving, so
 * that the parser can be tested (and fuzzed) without a network.
 *
 * Only the proxy's own name may go through the system resolver: the
 * destinations are the addresses that dns validated, and the proxy is
 * always asked for an address, never a name (so socks5h:// is refused).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parent.h"
#include "proc.h"

#define SSH_USER_MAX 64

static const char *parse_authority(const char *, struct proxy_cfg *, int);
static const char *parse_hostport(const char *, size_t, struct proxy_cfg *);

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* RFC 3986 percent-decoding of one userinfo part; NULL or why not. */
static const char *
decode(const char *s, size_t n, char *out, size_t outsz)
{
	size_t i, o = 0;
	int    hi, lo;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 2 >= n)
				return "bad %-escape in the credentials";
			if ((hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0)
				return "bad %-escape in the credentials";
			c = hi << 4 | lo;
			i += 2;
		}
		if (c == '\0')
			return "NUL in the credentials";
		if (o + 1 >= outsz)
			return "credentials longer than 255 octets";
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return NULL;
}

/* A host name as ssh or getaddrinfo takes it; no option-like "-x". */
static int
valid_name(const char *h)
{
	size_t i, n = strlen(h);

	if (n == 0 || n > 253 || h[0] == '-' || h[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '-' && h[i] != '.')
			return 0;
	return 1;
}

static int
valid_ssh_user(const char *u)
{
	size_t i, n = strlen(u);

	if (n == 0 || n > SSH_USER_MAX || u[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)u[i]) && u[i] != '-' &&
		    u[i] != '.' && u[i] != '_')
			return 0;
	return 1;
}

/* host, [v6] or host:port, [v6]:port; the default port is set. */
static const char *
parse_hostport(const char *s, size_t n, struct proxy_cfg *pc)
{
	const char *hend = s + n, *colon = NULL;
	uint8_t     tmp[16];
	char       *end;
	long        port;

	if (n > 0 && s[0] == '[') {
		const char *rb = memchr(s, ']', n);

		if (rb == NULL)
			return "missing ] after an IPv6 address";
		if ((size_t)(rb - s - 1) >= sizeof(pc->host))
			return "host too long";
		memcpy(pc->host, s + 1, rb - s - 1);
		pc->host[rb - s - 1] = '\0';
		if (inet_pton(AF_INET6, pc->host, tmp) != 1)
			return "bad IPv6 address in []";
		if (rb + 1 < hend && rb[1] != ':')
			return "junk after ]";
		colon = rb + 1 < hend ? rb + 1 : NULL;
	} else {
		colon = memchr(s, ':', n);
		hend = colon ? colon : s + n;
		if ((size_t)(hend - s) >= sizeof(pc->host))
			return "host too long";
		memcpy(pc->host, s, hend - s);
		pc->host[hend - s] = '\0';
		if (!valid_name(pc->host))
			return "bad host name";
	}
	if (colon == NULL)
		return NULL;
	if ((size_t)(colon + 1 - s) >= n || !isdigit((unsigned char)colon[1]))
		return "bad port";
	port = strtol(colon + 1, &end, 10);
	if (end != s + n || port < 1 || port > 65535)
		return "bad port";
	pc->port = (uint16_t)port;
	return NULL;
}

/* [userinfo@]host[:port] up to the end of s (a "/" may end it). */
static const char *
parse_authority(const char *s, struct proxy_cfg *pc, int socks)
{
	size_t      n = strlen(s);
	const char *at, *why, *colon;

	if (n > 0 && s[n - 1] == '/')
		n--;
	if (memchr(s, '/', n) != NULL || memchr(s, '?', n) != NULL ||
	    memchr(s, '#', n) != NULL)
		return "a proxy URL has no path, query or fragment";
	/* the last '@': a password may hold a raw '@' */
	for (at = NULL, colon = s; colon < s + n; colon++)
		if (*colon == '@')
			at = colon;
	if (at != NULL) {
		colon = memchr(s, ':', at - s);
		if (!socks && colon != NULL)
			return "ssh:// takes no password (use keys or ssh-agent)";
		if (socks && colon == NULL)
			return "socks5:// credentials are user:password";
		if ((why = decode(s, (colon ? colon : at) - s, pc->user,
		         sizeof(pc->user))) != NULL)
			return why;
		if (socks &&
		    (why = decode(colon + 1, at - colon - 1, pc->pass,
		         sizeof(pc->pass))) != NULL)
			return why;
		if (pc->user[0] == '\0' || (socks && pc->pass[0] == '\0'))
			return "empty user name or password (RFC 1929: 1 to 255 octets each)";
		if (!socks && !valid_ssh_user(pc->user))
			return "bad ssh user name";
		n -= at + 1 - s;
		s = at + 1;
	}
	return parse_hostport(s, n, pc);
}

/* The URL for messages: no password, the user name made printable. */
static void
describe(struct proxy_cfg *pc)
{
	char   user[sizeof(pc->user)];
	size_t i;
	int    v6 = strchr(pc->host, ':') != NULL;

	for (i = 0; pc->user[i] != '\0'; i++)
		user[i] =
		    isprint((unsigned char)pc->user[i]) ? pc->user[i] : '?';
	user[i] = '\0';
	snprintf(pc->text, sizeof(pc->text), "%s://%s%s%s%s%s:%u",
	    pc->kind == PROXY_SSH ? "ssh" : "socks5", user,
	    pc->user[0] ? "@" : "", v6 ? "[" : "", pc->host, v6 ? "]" : "",
	    (unsigned int)pc->port);
}

/* Fill *pc from a URL; NULL, or why it is not one mxclient takes. */
const char *
proxy_parse(const char *url, struct proxy_cfg *pc)
{
	const char *why;
	int         socks;

	memset(pc, 0, sizeof(*pc));
	if (url[0] == '\0' || strcmp(url, "none") == 0)
		return NULL;
	if (strncmp(url, "socks5h://", 10) == 0)
		return "socks5h:// lets the proxy resolve names; mxclient resolves them itself with DNSSEC: use socks5://";
	if (strncmp(url, "socks5://", 9) == 0)
		socks = 1;
	else if (strncmp(url, "ssh://", 6) == 0)
		socks = 0;
	else
		return "not socks5://... or ssh://...";
	pc->kind = socks ? PROXY_SOCKS5 : PROXY_SSH;
	pc->port = socks ? 1080 : 22;
	if ((why = parse_authority(url + (socks ? 9 : 6), pc, socks)) != NULL) {
		explicit_bzero(pc, sizeof(*pc));
		return why;
	}
	describe(pc);
	return NULL;
}

/*
 * The SOCKS5 proxy's address.  A literal needs no lookup; a name goes
 * through the system resolver once, before the children start.  The
 * proxy sees only what it would see on the path anyway, so its address
 * needs no DNSSEC: TLS and DANE stay end to end.
 */
const char *
proxy_resolve(struct proxy_cfg *pc)
{
	struct addrinfo hints, *res;

	if (pc->kind != PROXY_SOCKS5)
		return NULL;
	if (inet_pton(AF_INET, pc->host, pc->addr) == 1) {
		pc->family = 4;
		return NULL;
	}
	if (inet_pton(AF_INET6, pc->host, pc->addr) == 1) {
		pc->family = 6;
		return NULL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(pc->host, NULL, &hints, &res) != 0 || res == NULL)
		return "cannot resolve the proxy's host name";
	if (res->ai_family == AF_INET) {
		pc->family = 4;
		memcpy(pc->addr,
		    &((struct sockaddr_in *)res->ai_addr)->sin_addr, 4);
	} else {
		pc->family = 6;
		memcpy(pc->addr,
		    &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, 16);
	}
	freeaddrinfo(res);
	return NULL;
}

/*
 * Blank the password of a URL in place, so that ps(1) no longer shows
 * it once the arguments are parsed (MXCLIENT_PROXY avoids the window).
 */
void
proxy_scrub(char *url)
{
	char *auth = strstr(url, "://"), *at, *colon, *p;

	if (auth == NULL)
		return;
	auth += 3;
	for (at = NULL, p = auth; *p != '\0'; p++)
		if (*p == '@')
			at = p;
	if (at == NULL || (colon = memchr(auth, ':', at - auth)) == NULL)
		return;
	for (p = colon + 1; p < at; p++)
		*p = '*';
}

/* Whether the proxy's host is an IP address literal. */
int
proxy_numeric(const struct proxy_cfg *pc)
{
	uint8_t a[16];

	return inet_pton(AF_INET, pc->host, a) == 1 ||
	    inet_pton(AF_INET6, pc->host, a) == 1;
}
