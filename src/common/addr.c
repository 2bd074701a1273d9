/*
 * Envelope address checks, done before anything else so that a bad
 * address never reaches a server: RFC 5321 §4.1.2 syntax (Dot-string or
 * Quoted-string local part, LDH domain), §4.5.3.1 lengths, ASCII only
 * (no SMTPUTF8 in this version).  Address literals are refused, since
 * DANE cannot apply to them (RFC 7672 §2.2).
 */
#include <string.h>

#include "parent.h"

#define LOCAL_MAX    64
#define DOMAIN_MAX   255
#define PATH_MAX_LEN 256 /* including the angle brackets */
#define LABEL_MAX    63

static int
is_atext(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int
is_ldh(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/* Length of a valid Dot-string at s, or 0. */
static size_t
dot_string(const char *s)
{
	size_t i = 0;

	for (;;) {
		size_t start = i;

		while (is_atext((unsigned char)s[i]))
			i++;
		if (i == start)
			return 0; /* empty atom: "..", leading or final dot */
		if (s[i] != '.')
			return i;
		i++;
	}
}

/* Length of a valid Quoted-string at s, or 0. */
static size_t
quoted_string(const char *s)
{
	size_t i = 1;

	if (s[0] != '"')
		return 0;
	for (;;) {
		unsigned char c = s[i];

		if (c == '"')
			return i + 1;
		if (c == '\\') {
			c = s[i + 1];
			if (c < 32 || c > 126)
				return 0;
			i += 2;
			continue;
		}
		if (c < 32 || c > 126)
			return 0; /* end of string, control or 8-bit */
		i++;
	}
}

static const char *
domain_check(const char *d)
{
	size_t label = 0, i;

	if (*d == '[')
		return "address literals are not supported (DANE cannot apply)";
	if (*d == '\0')
		return "empty domain";
	if (strlen(d) > DOMAIN_MAX)
		return "domain longer than 255 octets";
	for (i = 0; d[i] != '\0'; i++) {
		if (d[i] == '.') {
			if (label == 0 || d[i - 1] == '-')
				return "empty label or label ending in '-'";
			label = 0;
			continue;
		}
		if (!is_ldh((unsigned char)d[i]))
			return "domain may hold only letters, digits, '-' and '.'";
		if (label == 0 && d[i] == '-')
			return "label starting with '-'";
		if (++label > LABEL_MAX)
			return "domain label longer than 63 octets";
	}
	if (label == 0 || d[i - 1] == '-')
		return "empty final label or label ending in '-'";
	return NULL;
}

static int
has_bad_octet(const char *a)
{
	for (; *a != '\0'; a++) {
		unsigned char c = *a;

		if (c < 32 || c >= 127)
			return 1;
	}
	return 0;
}

/*
 * NULL if `a' is a valid mailbox; else why not.  The null sender "" is
 * valid only when `nullok' is set.
 */
const char *
addr_check(const char *a, int nullok)
{
	size_t local;

	if (*a == '\0')
		return nullok ? NULL : "empty address";
	if (has_bad_octet(a))
		return "control character or non-ASCII octet (SMTPUTF8 is not supported)";
	if (strlen(a) + 2 > PATH_MAX_LEN)
		return "address longer than 254 octets";
	local = a[0] == '"' ? quoted_string(a) : dot_string(a);
	if (local == 0)
		return "bad local part (spaces, '<', '>' and the like need quoting)";
	if (local > LOCAL_MAX)
		return "local part longer than 64 octets";
	if (a[local] != '@')
		return "missing '@domain' or junk after the local part";
	return domain_check(a + local + 1);
}

/* The domain of an address that passed addr_check(). */
const char *
addr_domain(const char *a)
{
	return strrchr(a, '@') + 1;
}
