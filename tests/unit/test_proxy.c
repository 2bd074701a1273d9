/*
 * --proxy URLs (src/parent/proxy.c) and the SOCKS5 codec
 * (src/net/socks.c): what is accepted, what is refused and why, and the
 * exact octets of RFC 1928/1929 messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_PROG "test_proxy"
#include "check.h"
#include "parent.h"
#include "proc.h"
#include "socks.h"

struct ucase {
	const char *name;
	const char *url;
	int         kind; /* -1: refused */
	const char *host, *user, *pass;
	unsigned    port;
	const char *text;
};

static const struct ucase ucases[] = {
	{ "X1 none is a direct connection", "none", PROXY_NONE, "", "", "", 0,
	    "" },
	{ "X1 empty is a direct connection", "", PROXY_NONE, "", "", "", 0,
	    "" },
	{ "X1 socks5 with address and port", "socks5://127.0.0.21:1080",
	    PROXY_SOCKS5, "127.0.0.21", "", "", 1080,
	    "socks5://127.0.0.21:1080" },
	{ "X1 socks5 default port 1080", "socks5://proxy.example", PROXY_SOCKS5,
	    "proxy.example", "", "", 1080, "socks5://proxy.example:1080" },
	{ "X1 socks5 trailing slash", "socks5://10.0.0.1:9050/", PROXY_SOCKS5,
	    "10.0.0.1", "", "", 9050, "socks5://10.0.0.1:9050" },
	{ "X1 socks5 IPv6 in brackets", "socks5://[::1]:1080", PROXY_SOCKS5,
	    "::1", "", "", 1080, "socks5://[::1]:1080" },
	{ "X1 RFC 1929 credentials, password not in the text",
	    "socks5://mxuser:secret@127.0.0.22:1080", PROXY_SOCKS5,
	    "127.0.0.22", "mxuser", "secret", 1080,
	    "socks5://mxuser@127.0.0.22:1080" },
	{ "X1 a raw '@' and ':' in the password (the last '@' ends it)",
	    "socks5://mxuser:p@ss:w0rd@127.0.0.22:1080", PROXY_SOCKS5,
	    "127.0.0.22", "mxuser", "p@ss:w0rd", 1080,
	    "socks5://mxuser@127.0.0.22:1080" },
	{ "X1 percent-escapes in the credentials",
	    "socks5://a%3Ab:p%40ss%25@h.example", PROXY_SOCKS5, "h.example",
	    "a:b", "p@ss%", 1080, "socks5://a:b@h.example:1080" },
	{ "X1 ssh with user, default port 22", "ssh://root@127.0.0.23",
	    PROXY_SSH, "127.0.0.23", "root", "", 22,
	    "ssh://root@127.0.0.23:22" },
	{ "X1 ssh without user, with port", "ssh://gw.example:2222", PROXY_SSH,
	    "gw.example", "", "", 2222, "ssh://gw.example:2222" },
	{ "X1 ssh IPv6", "ssh://u@[2001:db8::1]:22", PROXY_SSH, "2001:db8::1",
	    "u", "", 22, "ssh://u@[2001:db8::1]:22" },
	/* refused */
	{ "X2 socks5h refused (the proxy would resolve names)",
	    "socks5h://127.0.0.1:1080", -1, 0, 0, 0, 0, 0 },
	{ "X2 socks4 refused", "socks4://127.0.0.1:1080", -1, 0, 0, 0, 0, 0 },
	{ "X2 http refused", "http://127.0.0.1:3128", -1, 0, 0, 0, 0, 0 },
	{ "X2 no scheme refused", "127.0.0.1:1080", -1, 0, 0, 0, 0, 0 },
	{ "X2 ssh password refused", "ssh://root:pw@host", -1, 0, 0, 0, 0, 0 },
	{ "X2 socks5 user without password refused", "socks5://user@host", -1,
	    0, 0, 0, 0, 0 },
	{ "X2 empty password refused (RFC 1929)", "socks5://user:@host", -1, 0,
	    0, 0, 0, 0 },
	{ "X2 port 0 refused", "socks5://host:0", -1, 0, 0, 0, 0, 0 },
	{ "X2 port 65536 refused", "socks5://host:65536", -1, 0, 0, 0, 0, 0 },
	{ "X2 port with junk refused", "socks5://host:10x", -1, 0, 0, 0, 0, 0 },
	{ "X2 empty port refused", "socks5://host:", -1, 0, 0, 0, 0, 0 },
	{ "X2 path refused", "socks5://host:1080/x", -1, 0, 0, 0, 0, 0 },
	{ "X2 query refused", "ssh://host?x", -1, 0, 0, 0, 0, 0 },
	{ "X2 option-like ssh host refused", "ssh://-oProxyCommand=x", -1, 0, 0,
	    0, 0, 0 },
	{ "X2 option-like ssh user refused", "ssh://-oX@host", -1, 0, 0, 0, 0,
	    0 },
	{ "X2 space in host refused", "ssh://a b", -1, 0, 0, 0, 0, 0 },
	{ "X2 bad IPv6 refused", "socks5://[::g]:1", -1, 0, 0, 0, 0, 0 },
	{ "X2 unterminated [ refused", "socks5://[::1:1080", -1, 0, 0, 0, 0,
	    0 },
	{ "X2 bad %-escape refused", "socks5://u:%zz@h", -1, 0, 0, 0, 0, 0 },
	{ "X2 %00 in credentials refused", "socks5://u:a%00b@h", -1, 0, 0, 0, 0,
	    0 },
	{ "X2 empty host refused", "socks5://:1080", -1, 0, 0, 0, 0, 0 },
};

static void
test_urls(void)
{
	struct proxy_cfg pc;
	size_t           i;

	for (i = 0; i < sizeof(ucases) / sizeof(ucases[0]); i++) {
		const struct ucase *c = &ucases[i];
		const char         *why = proxy_parse(c->url, &pc);

		if (c->kind == -1) {
			check_report(why != NULL && pc.kind == PROXY_NONE &&
			        pc.pass[0] == '\0',
			    c->name, "accepted %s", c->url);
			continue;
		}
		check_report(why == NULL && pc.kind == c->kind &&
		        strcmp(pc.host, c->host) == 0 &&
		        strcmp(pc.user, c->user) == 0 &&
		        strcmp(pc.pass, c->pass) == 0 &&
		        (c->kind == PROXY_NONE || pc.port == c->port) &&
		        strcmp(pc.text, c->text) == 0,
		    c->name, "%s: why=%s host=%s user=%s port=%u text=%s",
		    c->url, why ? why : "-", pc.host, pc.user, pc.port,
		    pc.text);
	}
}

static void
test_long_credentials(void)
{
	char             url[700];
	struct proxy_cfg pc;

	snprintf(url, sizeof(url), "socks5://%0255d:p@h", 0);
	check_report(proxy_parse(url, &pc) == NULL && strlen(pc.user) == 255,
	    "X2 a 255-octet user name is accepted", "%s", url);
	snprintf(url, sizeof(url), "socks5://%0256d:p@h", 0);
	check_report(proxy_parse(url, &pc) != NULL,
	    "X2 a 256-octet user name is refused (RFC 1929)", "accepted");
}

static void
test_scrub(void)
{
	char a[] = "socks5://mxuser:p@ss:w0rd@127.0.0.22:1080";
	char b[] = "ssh://root@h";
	char c[] = "socks5://h:1080";

	proxy_scrub(a);
	proxy_scrub(b);
	proxy_scrub(c);
	check_report(
	    strcmp(a, "socks5://mxuser:*********@127.0.0.22:1080") == 0,
	    "X3 the password is blanked in argv", "%s", a);
	check_report(
	    strcmp(b, "ssh://root@h") == 0 && strcmp(c, "socks5://h:1080") == 0,
	    "X3 URLs without a password stay as they are", "%s %s", b, c);
}

static void
test_numeric(void)
{
	struct proxy_cfg pc;

	proxy_parse("ssh://root@127.0.0.23", &pc);
	check_report(proxy_numeric(&pc), "X1 an IPv4 ssh host is numeric", "%s",
	    pc.host);
	proxy_parse("ssh://gw.example", &pc);
	check_report(!proxy_numeric(&pc), "X1 a named ssh host is not numeric",
	    "%s", pc.host);
}

/* --- the SOCKS5 codec --- */

static void
test_requests(void)
{
	uint8_t       b[SOCKS_REQ_MAX];
	const uint8_t v4[4] = { 127, 0, 0, 10 };
	uint8_t       v6[16] = { 0 };
	size_t        n;

	n = socks_greeting(b, 0);
	check_report(n == 3 && memcmp(b, "\x05\x01\x00", 3) == 0,
	    "S1 greeting offers exactly 'no authentication'", "n=%zu", n);
	n = socks_greeting(b, 1);
	check_report(n == 3 && memcmp(b, "\x05\x01\x02", 3) == 0,
	    "S1 with credentials it offers only username/password", "n=%zu", n);
	n = socks_auth(b, "mxuser", "p@ss");
	check_report(n == 13 && memcmp(b, "\x01\x06mxuser\x04p@ss", 13) == 0,
	    "S2 RFC 1929 request: VER 1, ULEN, UNAME, PLEN, PASSWD", "n=%zu",
	    n);
	n = socks_connect(b, 4, v4, 25);
	check_report(n == 10 &&
	        memcmp(b, "\x05\x01\x00\x01\x7f\x00\x00\x0a\x00\x19", 10) == 0,
	    "S3 CONNECT carries the IPv4 address (ATYP 1), port 25", "n=%zu",
	    n);
	v6[15] = 1;
	n = socks_connect(b, 6, v6, 25);
	check_report(
	    n == 22 && b[3] == 4 && b[19] == 1 && b[20] == 0 && b[21] == 25,
	    "S3 CONNECT carries the IPv6 address (ATYP 4), never a name",
	    "n=%zu atyp=%u", n, b[3]);
}

static void
test_replies(void)
{
	const char *why = "";
	size_t      len = 0;
	uint8_t     ok4[10] = { 5, 0, 0, 1, 127, 0, 0, 21, 0x9c, 0x40 };
	uint8_t     ref[10] = { 5, 5, 0, 1, 0, 0, 0, 0, 0, 0 };
	uint8_t     name[5 + 3 + 2] = { 5, 0, 0, 3, 3, 'a', 'b', 'c', 0, 25 };
	uint8_t     v6[22] = { 5, 0, 0, 4 };
	uint8_t     fam = 0, addr[16];

	check_report(socks_method((const uint8_t *)"\x05\x00", 0, &why) == 0,
	    "S1 method 0 accepted when offered", "%s", why);
	check_report(socks_method((const uint8_t *)"\x05\xff", 0, &why) == -1 &&
	        strstr(why, "requires authentication") != NULL,
	    "S1 0xFF without credentials: 'requires authentication'", "%s",
	    why);
	check_report(socks_method((const uint8_t *)"\x05\x02", 0, &why) == -1,
	    "S1 a method we did not offer is refused", "%s", why);
	check_report(socks_method((const uint8_t *)"\x05\x00", 1, &why) == -1,
	    "S1 'no auth' when we offered only user/pass is refused", "%s",
	    why);
	check_report(socks_method((const uint8_t *)"\x04\x00", 0, &why) == -1 &&
	        strstr(why, "not a SOCKS5") != NULL,
	    "S1 version 4 answer refused", "%s", why);
	check_report(socks_auth_status((const uint8_t *)"\x01\x00", &why) == 0,
	    "S2 status 0 accepted", "%s", why);
	check_report(
	    socks_auth_status((const uint8_t *)"\x01\x01", &why) == -1 &&
	        strstr(why, "refused the user name") != NULL,
	    "S2 status 1: credentials refused", "%s", why);
	check_report(socks_reply_head(ok4, &len, &why) == 0 && len == 10 &&
	        socks_reply(ok4, 10, &why) == 0,
	    "S4 IPv4 reply: 10 octets, succeeded", "len=%zu", len);
	check_report(socks_reply_head(v6, &len, &why) == 0 && len == 22,
	    "S4 IPv6 reply: 22 octets", "len=%zu", len);
	check_report(socks_reply_head(name, &len, &why) == 0 && len == 10 &&
	        socks_reply(name, 10, &why) == 0,
	    "S4 reply with a name: 4+1+3+2 octets", "len=%zu", len);
	check_report(socks_reply_head(ref, &len, &why) == 5 &&
	        strcmp(socks_rep_name(5), "connection refused") == 0,
	    "S5 reply 5 is 'connection refused'", "%s", socks_rep_name(5));
	check_report(strcmp(socks_rep_name(2),
	                 "connection not allowed by ruleset") == 0 &&
	        strcmp(socks_rep_name(8), "address type not supported") == 0 &&
	        strcmp(socks_rep_name(9), "unassigned reply code") == 0,
	    "S5 every RFC 1928 reply code is named", "%s", socks_rep_name(9));
	ok4[2] = 1;
	check_report(socks_reply_head(ok4, &len, &why) == -1,
	    "S4 a reserved octet other than 0 is refused", "accepted");
	ok4[2] = 0;
	ok4[3] = 2;
	check_report(socks_reply_head(ok4, &len, &why) == -1,
	    "S4 an unknown address type is refused", "accepted");
	ok4[3] = 1;
	ok4[0] = 4;
	check_report(socks_reply_head(ok4, &len, &why) == -1,
	    "S4 a version 4 reply is refused", "accepted");
	name[4] = 0;
	check_report(socks_reply_head(name, &len, &why) == -1,
	    "S4 an empty name is refused", "accepted");
	ok4[0] = 5;
	check_report(socks_reply(ok4, 9, &why) == -1,
	    "S4 a reply of the wrong length is refused", "accepted");
	ref[3] = 9;
	check_report(socks_reply_head(ref, &len, &why) == 5,
	    "S5 a refusal counts whatever its address type", "not a refusal");
	check_report(
	    socks_bound(ok4, &fam, addr) == 0 && fam == 4 && addr[3] == 21,
	    "S6 BND.ADDR of an IPv4 reply", "fam %u", fam);
	check_report(socks_bound(ref, &fam, addr) == -1 &&
	        socks_bound(name, &fam, addr) == -1,
	    "S6 no BND.ADDR from 0.0.0.0 or a name", "found one");
}

int
main(void)
{
	test_urls();
	test_long_credentials();
	test_scrub();
	test_numeric();
	test_requests();
	test_replies();
	return check_exit();
}
