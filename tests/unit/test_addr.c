/*
 * addr_check() and addr_domain(): RFC 5321 §4.1.2 mailbox syntax (P17),
 * §4.5.3.1 limits (P18), ASCII only (P19), no address literals (M10).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_PROG "test_addr"
#include "check.h"
#include "parent.h"

struct acase {
	const char *name;
	const char *addr;
	int         nullok;
	int         valid;
};

static const struct acase cases[] = {
	/* valid */
	{ "P17 accepts a simple address", "user@example.com", 0, 1 },
	{ "P17 accepts a dotted local part", "first.last@example.com", 0, 1 },
	{ "P17 accepts a '+' tag", "user+tag@example.com", 0, 1 },
	{ "P17 accepts every atext special", "!#$%&'*+-/=?^_`{|}~@example.com",
	    0, 1 },
	{ "P17 accepts a quoted local part with spaces",
	    "\"john doe\"@example.com", 0, 1 },
	{ "P17 accepts '@' inside a quoted local part", "\"a@b\"@example.com",
	    0, 1 },
	{ "P17 accepts '<', '>' and '..' inside quotes",
	    "\"<a..b>\"@example.com", 0, 1 },
	{ "P17 accepts a quoted-pair escaping a quote",
	    "\"a\\\"b\"@example.com", 0, 1 },
	{ "P17 accepts a quoted-pair escaping a backslash",
	    "\"a\\\\b\"@example.com", 0, 1 },
	{ "P17 preserves case: upper-case address accepted", "USER@EXAMPLE.COM",
	    0, 1 },
	{ "P17 accepts digits and inner hyphens in labels",
	    "u@mx-1.a-b.example9.com", 0, 1 },
	{ "P17 accepts a one-letter local part and labels", "a@b.c", 0, 1 },
	{ "P10 null sender accepted with nullok", "", 1, 1 },
	/* invalid */
	{ "P10 null sender refused without nullok", "", 0, 0 },
	{ "P17 refuses CR", "us\rer@example.com", 0, 0 },
	{ "P17 refuses LF", "user@example.com\n", 0, 0 },
	{ "P17 refuses CRLF smuggled into a RCPT", "user@example.com>\r\nDATA",
	    0, 0 },
	{ "P17 refuses TAB", "us\ter@example.com", 0, 0 },
	{ "P17 refuses TAB even inside quotes", "\"us\ter\"@example.com", 0,
	    0 },
	{ "P17 refuses DEL",
	    "us\x7f"
	    "er@example.com",
	    0, 0 },
	{ "P17 refuses DEL inside quotes",
	    "\"us\x7f"
	    "er\"@example.com",
	    0, 0 },
	{ "P17 refuses a leading '<'", "<user@example.com", 0, 0 },
	{ "P17 refuses '<' inside an unquoted local part", "us<er@example.com",
	    0, 0 },
	{ "P17 refuses '>' inside an unquoted local part", "us>er@example.com",
	    0, 0 },
	{ "P17 refuses '>' after the domain", "user@example.com>", 0, 0 },
	{ "P17 refuses an address in angle brackets", "<user@example.com>", 0,
	    0 },
	{ "P17 refuses the literal string <> as null sender", "<>", 1, 0 },
	{ "P17 refuses an unquoted space in the local part",
	    "john doe@example.com", 0, 0 },
	{ "P17 refuses a space before '@'", "user @example.com", 0, 0 },
	{ "P17 refuses a space in the domain", "user@exa mple.com", 0, 0 },
	{ "P17 refuses two '@'", "user@@example.com", 0, 0 },
	{ "P17 refuses '@' in the domain", "us@er@example.com", 0, 0 },
	{ "P17 refuses an address without '@'", "user.example.com", 0, 0 },
	{ "P17 refuses an empty local part", "@example.com", 0, 0 },
	{ "P17 refuses an empty domain", "user@", 0, 0 },
	{ "P17 refuses a leading dot in the local part", ".user@example.com", 0,
	    0 },
	{ "P17 refuses a trailing dot in the local part", "user.@example.com",
	    0, 0 },
	{ "P17 refuses a double dot in the local part", "us..er@example.com", 0,
	    0 },
	{ "P17 refuses an unterminated quoted local part", "\"user@example.com",
	    0, 0 },
	{ "P17 refuses a quoted local part followed by junk",
	    "\"user\"x@example.com", 0, 0 },
	{ "P17 refuses a backslash escape at the end of the input", "\"user\\",
	    0, 0 },
	{ "P17 refuses a label starting with '-'", "user@-example.com", 0, 0 },
	{ "P17 refuses a label ending with '-'", "user@example-.com", 0, 0 },
	{ "P17 refuses a final label ending with '-'", "user@example.com-", 0,
	    0 },
	{ "P17 refuses an underscore in the domain", "user@exa_mple.com", 0,
	    0 },
	{ "P17 refuses an empty label (leading dot)", "user@.example.com", 0,
	    0 },
	{ "P17 refuses an empty label (double dot)", "user@example..com", 0,
	    0 },
	{ "P17 refuses a trailing dot in the domain", "user@example.com.", 0,
	    0 },
	{ "P17 refuses a domain that is only a dot", "user@.", 0, 0 },
	{ "M10 refuses an IPv4 address literal", "user@[192.0.2.1]", 0, 0 },
	{ "M10 refuses an IPv6 address literal", "user@[IPv6:2001:db8::1]", 0,
	    0 },
	{ "P19 refuses an 8-bit octet in the local part",
	    "us\xc3\xa9r@example.com", 0, 0 },
	{ "P19 refuses an 8-bit octet in the domain",
	    "user@b\xc3\xbc"
	    "cher.de",
	    0, 0 },
	{ "P19 refuses an 8-bit octet inside quotes",
	    "\"us\xc3\xa9r\"@example.com", 0, 0 },
};

static char *
repeat(char c, size_t n)
{
	char *s;

	if ((s = malloc(n + 1)) == NULL) {
		perror("malloc");
		exit(2);
	}
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* local "@" domain, where domain is labels of 62 or 63 'd's. */
static char *
make_addr(size_t locallen, size_t domainlen)
{
	char  *a, *p;
	size_t i, label = 0;

	if ((a = malloc(locallen + 1 + domainlen + 1)) == NULL) {
		perror("malloc");
		exit(2);
	}
	memset(a, 'l', locallen);
	p = a + locallen;
	*p++ = '@';
	for (i = 0; i < domainlen; i++) {
		/* a dot after each 62-octet label, never first or last */
		if (label == 62 && i + 1 < domainlen) {
			*p++ = '.';
			label = 0;
		} else {
			*p++ = 'd';
			label++;
		}
	}
	*p = '\0';
	return a;
}

static void
check_case(const char *name, const char *addr, int nullok, int valid)
{
	const char *why = addr_check(addr, nullok);

	if (valid)
		CHECK(why == NULL, name, "refused: %s", why);
	else
		CHECK(why != NULL, name, "accepted");
}

static void
check_limits(void)
{
	char *s, *a;

	s = repeat('a', 64);
	a = malloc(64 + 20);
	snprintf(a, 64 + 20, "%s@example.com", s);
	check_case("P18 accepts a 64-octet local part", a, 0, 1);
	snprintf(a, 64 + 20, "a%s@example.com", s);
	check_case("P18 refuses a 65-octet local part", a, 0, 0);
	snprintf(a, 64 + 20, "\"%s\"@example.com", s + 2);
	check_case(
	    "P18 accepts a 64-octet quoted local part (quotes count)", a, 0, 1);
	snprintf(a, 64 + 20, "\"%s\"@example.com", s + 1);
	check_case(
	    "P18 refuses a 65-octet quoted local part (quotes count)", a, 0, 0);
	free(a);
	free(s);

	s = repeat('d', 63);
	a = malloc(63 + 20);
	snprintf(a, 63 + 20, "user@%s.com", s);
	check_case("P17 accepts a 63-octet label", a, 0, 1);
	snprintf(a, 63 + 20, "user@x%s.com", s);
	check_case("P17 refuses a 64-octet label", a, 0, 0);
	snprintf(a, 63 + 20, "user@example.x%s", s);
	check_case("P17 refuses a 64-octet final label", a, 0, 0);
	free(a);
	free(s);

	/* Path <addr> at most 256 octets: the address at most 254. */
	a = make_addr(1, 252);
	CHECK(strlen(a) == 254, "helper builds a 254-octet address",
	    "length %zu", strlen(a));
	check_case(
	    "P18 accepts a 254-octet address (path of 256 with <>)", a, 0, 1);
	free(a);
	a = make_addr(64, 189);
	check_case("P18 accepts a 254-octet address with a 64-octet local part",
	    a, 0, 1);
	free(a);
	a = make_addr(1, 253);
	CHECK(strlen(a) == 255, "helper builds a 255-octet address",
	    "length %zu", strlen(a));
	check_case(
	    "P18 refuses a 255-octet address (path of 257 with <>)", a, 0, 0);
	free(a);
	a = make_addr(1, 255);
	check_case("P18 refuses a 255-octet domain: the path limit is tighter",
	    a, 0, 0);
	free(a);
	a = make_addr(1, 256);
	check_case("P18 refuses a 256-octet domain", a, 0, 0);
	free(a);
	a = make_addr(2000, 2000);
	check_case("P18 refuses a 4001-octet address", a, 0, 0);
	free(a);
}

static void
check_domain(void)
{
	const char *d;

	d = addr_domain("user@example.com");
	CHECK(strcmp(d, "example.com") == 0,
	    "addr_domain returns the part after '@'", "got \"%s\"", d);
	d = addr_domain("\"a@b\"@example.org");
	CHECK(strcmp(d, "example.org") == 0,
	    "addr_domain skips an '@' inside a quoted local part", "got \"%s\"",
	    d);
}

static void
check_reasons(void)
{
	const char *why;

	why = addr_check("user@[192.0.2.1]", 0);
	CHECK(why != NULL && strstr(why, "literal") != NULL,
	    "M10 the refusal of an address literal says so", "reason: %s",
	    why ? why : "(accepted)");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(cases[i].name, cases[i].addr, cases[i].nullok,
		    cases[i].valid);
	check_limits();
	check_domain();
	check_reasons();
	return check_exit();
}
