/*
 * The MTA-STS cache record (sts_cache.c, Y8) and cache file names (Y9),
 * and a property test: random policies built from parts parse to what
 * was built (Y3-Y5) and round-trip through the cache record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_PROG "test_sts_cache"
#include "check.h"
#include "sts.h"

#define POLICY \
	"version: STSv1\r\nmode: enforce\r\nmx: *.example.net\r\n" \
	"max_age: 86400\r\n"
#define RECORD \
	"mxclient-sts-cache 1\nfetched 1700000000\n" \
	"expires 1700086400\nfailed 0\nused 1700000100\n" \
	"id 20240101T000000\ntext 66\n" POLICY "\nend\n"
#define BUFLEN (STS_BODY_MAX + 1024)

static struct sts_cache c, d;
static char             buf[BUFLEN], buf2[BUFLEN];

static void
sample(struct sts_cache *s)
{
	memset(s, 0, sizeof(*s));
	s->fetched = 1700000000;
	s->expires = 1700086400;
	s->used = 1700000100;
	strcpy(s->id, "20240101T000000");
	strcpy(s->text, POLICY);
	s->textlen = strlen(POLICY);
}

static int
all_zero(const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t               i;

	for (i = 0; i < len; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static int
parse(const char *s, size_t len)
{
	memset(&d, 0x5a, sizeof(d));
	return sts_cache_parse((const uint8_t *)s, len, &d);
}

static void
check_format(void)
{
	size_t n, i, bad = 0;

	sample(&c);
	n = sts_cache_format(&c, buf, sizeof(buf));
	CHECK(n == strlen(RECORD) && memcmp(buf, RECORD, n) == 0,
	    "Y8 the record is written in its one spelling", "got %zu: %.300s",
	    n, buf);
	CHECK(parse(buf, n) == 0 && d.fetched == c.fetched &&
	        d.expires == c.expires && d.failed == 0 && d.used == c.used &&
	        strcmp(d.id, c.id) == 0 && d.textlen == c.textlen &&
	        strcmp(d.text, POLICY) == 0 && d.pol.mode == STS_MODE_ENFORCE &&
	        d.pol.max_age == 86400 && d.pol.nmx == 1 &&
	        strcmp(sts_mx(&d.pol, 0), "*.example.net") == 0,
	    "Y8 the record reads back, CRLFs and parsed policy included",
	    "fetched %lld textlen %zu", (long long)d.fetched, d.textlen);
	for (i = 0; i <= n; i++)
		if (sts_cache_format(&c, buf2, i) != 0)
			bad++;
	CHECK(bad == 0 && sts_cache_format(&c, buf2, n + 1) == n &&
	        buf2[n] == '\0',
	    "Y8 format returns 0 unless the record and a NUL fit",
	    "%zu short buffers accepted", bad);

	memset(&c, 0, sizeof(c));
	c.failed = 1700000300;
	n = sts_cache_format(&c, buf, sizeof(buf));
	CHECK(n > 0 && parse(buf, n) == 0 && d.failed == 1700000300 &&
	        d.fetched == 0 && d.textlen == 0 && d.id[0] == '\0' &&
	        all_zero(&d.pol, sizeof(d.pol)),
	    "Y8 a record without a policy (a failure remembered) reads back",
	    "n %zu: %.200s", n, buf);

	sample(&c);
	strcpy(c.id, "abc-def");
	CHECK(sts_cache_format(&c, buf, sizeof(buf)) == 0,
	    "Y8 format refuses an id that could not be read back", "it wrote");
	sample(&c);
	memset(c.id, 'a', sizeof(c.id));
	CHECK(sts_cache_format(&c, buf, sizeof(buf)) == 0,
	    "Y8 format refuses an unterminated id", "it wrote");
	sample(&c);
	c.used = -1;
	CHECK(sts_cache_format(&c, buf, sizeof(buf)) == 0,
	    "Y8 format refuses a negative time", "it wrote");
	sample(&c);
	c.textlen = STS_BODY_MAX + 1;
	CHECK(sts_cache_format(&c, buf, sizeof(buf)) == 0,
	    "Y8 format refuses textlen over STS_BODY_MAX", "it wrote");
}

struct tamper {
	const char *name, *from, *to; /* the first `from' becomes `to' */
};

static const struct tamper tampers[] = {
	{ "Y8 another version line", "cache 1\n", "cache 2\n" },
	{ "Y8 a junk version line", "cache 1\n", "cache 1 x\n" },
	{ "Y8 a missing line", "failed 0\n", "" },
	{ "Y8 lines out of order", "failed 0\nused 1700000100\n",
	    "used 1700000100\nfailed 0\n" },
	{ "Y8 a line twice", "failed 0\n", "failed 0\nfailed 0\n" },
	{ "Y8 an unknown line", "failed 0\n", "failed 0\nnew 1\n" },
	{ "Y8 expires not fetched + max_age", "expires 1700086400",
	    "expires 1700086401" },
	{ "Y8 a leading zero", "failed 0", "failed 00" },
	{ "Y8 a sign", "failed 0", "failed +0" },
	{ "Y8 a negative time", "failed 0", "failed -1" },
	{ "Y8 19 digits", "failed 0", "failed 1000000000000000000" },
	{ "Y8 two spaces", "failed 0", "failed  0" },
	{ "Y8 a key without a value", "failed 0", "failed" },
	{ "Y8 a key with an empty value", "failed 0", "failed " },
	{ "Y8 a tab for the space", "failed 0", "failed\t0" },
	{ "Y8 CRLF line ends", "failed 0\n", "failed 0\r\n" },
	{ "Y8 a bad id", "id 20240101T000000", "id 2024-01-01" },
	{ "Y8 an id of 33 octets", "id 20240101T000000",
	    "id 123456789012345678901234567890123" },
	{ "Y8 a policy without an id", "id 20240101T000000", "id" },
	{ "Y8 an empty id with a space", "id 20240101T000000", "id " },
	{ "Y8 text longer than what follows", "text 66", "text 99" },
	{ "Y8 text shorter than it is", "text 66", "text 65" },
	{ "Y8 text length over 65536", "text 66", "text 65537" },
	{ "Y8 text without its LF", "\r\n\nend", "\r\nXend" },
	{ "Y8 text that does not parse", "mode: enforce", "mode: enforcd" },
	{ "Y8 end missing", "\nend\n", "\n" },
	{ "Y8 end without its LF", "\nend\n", "\nend" },
	{ "Y8 octets after end", "\nend\n", "\nend\n\n" },
	{ "Y8 junk after end", "\nend\n", "\nend\nx" },
	{ "Y8 no policy but text", "fetched 1700000000\nexpires 1700086400",
	    "fetched 0\nexpires 0" },
	{ "Y8 no policy but expires",
	    "fetched 1700000000\nexpires 1700086400\n"
	    "failed 0\nused 1700000100\nid 20240101T000000\ntext 66\n" POLICY,
	    "fetched 0\nexpires 5\nfailed 0\nused 0\nid\ntext 0\n" },
	/* found by fuzz_sts: the parent would send tls what tls refuses */
	{ "Y8 Y20 no policy but an id",
	    "fetched 1700000000\nexpires 1700086400\n"
	    "failed 0\nused 1700000100\nid 20240101T000000\ntext 66\n" POLICY,
	    "fetched 0\nexpires 0\nfailed 1700000300\nused 0\nid 1\ntext 0\n" },
	{ "Y8 Y20 no policy and no failure",
	    "fetched 1700000000\nexpires 1700086400\n"
	    "failed 0\nused 1700000100\nid 20240101T000000\ntext 66\n" POLICY,
	    "fetched 0\nexpires 0\nfailed 0\nused 0\nid\ntext 0\n" },
};

static void
check_tamper(void)
{
	const struct tamper *t;
	size_t               i, n, at, bad = 0;
	char                *p;

	for (i = 0; i < sizeof(tampers) / sizeof(tampers[0]); i++) {
		t = &tampers[i];
		p = strstr(RECORD, t->from);
		at = p - RECORD;
		n = snprintf(buf, sizeof(buf), "%.*s%s%s", (int)at, RECORD,
		    t->to, p + strlen(t->from));
		CHECK(
		    p != NULL && parse(buf, n) == -1 && all_zero(&d, sizeof(d)),
		    t->name, "read as valid: %.300s", buf);
	}
	for (n = 0; n < strlen(RECORD); n++)
		if (parse(RECORD, n) != -1 || !all_zero(&d, sizeof(d)))
			bad++;
	CHECK(bad == 0, "Y8 every truncation of a record is refused",
	    "%zu prefixes read as valid", bad);
	CHECK(parse(RECORD, strlen(RECORD)) == 0,
	    "Y8 the untampered record reads", "it did not");
}

struct ncase {
	const char *domain, *want; /* want NULL: refused */
};

static const struct ncase ncases[] = {
	{ "example.com", "example.com" },
	{ "EXAMPLE.Com", "example.com" },
	{ "xn--bcher-kva.example", "xn--bcher-kva.example" },
	{ "a-b.c-d.e1", "a-b.c-d.e1" },
	{ "com", NULL },
	{ "", NULL },
	{ ".example.com", NULL },
	{ "example.com.", NULL },
	{ "a..b", NULL },
	{ "-a.com", NULL },
	{ "a-.com", NULL },
	{ "a_b.com", NULL },
	{ "../etc", NULL },
	{ "a/b.com", NULL },
	{ "..", NULL },
	{ "caf\xc3\xa9.example", NULL },
	{ "a b.com", NULL },
	{ "a.com\n", NULL },
};

static void
check_names(void)
{
	char   out[300], name[120], label[70], big[300];
	size_t i;
	int    rv;

	for (i = 0; i < sizeof(ncases) / sizeof(ncases[0]); i++) {
		memset(out, 'Z', sizeof(out));
		rv = sts_cache_name(ncases[i].domain, out, sizeof(out));
		snprintf(name, sizeof(name), "Y9 cache name of \"%s\": %s",
		    ncases[i].want || strchr(ncases[i].domain, '\n') == NULL
		        ? ncases[i].domain
		        : "a.com + LF",
		    ncases[i].want ? ncases[i].want : "refused");
		if (ncases[i].want)
			CHECK(rv == 0 && strcmp(out, ncases[i].want) == 0, name,
			    "rv %d out \"%.80s\"", rv, out);
		else
			CHECK(rv == -1, name, "rv %d", rv);
	}
	memset(label, 'a', 63);
	label[63] = '\0';
	snprintf(big, sizeof(big), "%s.com", label);
	CHECK(sts_cache_name(big, out, sizeof(out)) == 0,
	    "Y9 a label of 63 octets is accepted", "refused");
	snprintf(big, sizeof(big), "%sa.com", label);
	CHECK(sts_cache_name(big, out, sizeof(out)) == -1,
	    "Y9 a label of 64 octets is refused", "accepted");
	snprintf(
	    big, sizeof(big), "%s.%s.%s.%.61s", label, label, label, label);
	CHECK(strlen(big) == 253 && sts_cache_name(big, out, sizeof(out)) == 0,
	    "Y9 a name of 253 octets is accepted", "refused");
	snprintf(
	    big, sizeof(big), "%s.%s.%s.%.62s", label, label, label, label);
	CHECK(sts_cache_name(big, out, sizeof(out)) == -1,
	    "Y9 a name of 254 octets is refused", "accepted");
	CHECK(sts_cache_name("example.com", out, 12) == 0 &&
	        sts_cache_name("example.com", out, 11) == -1,
	    "Y9 out must hold the name and its NUL", "wrong answer");
}

/* --- the property test -------------------------------------------------- */

static uint64_t seed = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(uint32_t n)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (uint32_t)(seed >> 32) % n;
}

/* One label: letters (any case), digits, inner hyphens. */
static size_t
label(char *p)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
	                          "QRSTUVWXYZ0123456789";
	size_t            n = 1 + rnd(12), i;

	for (i = 0; i < n; i++)
		p[i] = i > 0 && i + 1 < n && rnd(6) == 0
		    ? '-'
		    : set[rnd(sizeof(set) - 1)];
	return n;
}

/* A random pattern; *want gets its lower-case form. */
static void
pattern(char *p, char *want)
{
	size_t n = 0, labels = 1 + rnd(4), i;

	if (rnd(3) == 0) {
		memcpy(p, "*.", 2);
		n = 2;
	}
	for (i = 0; i < labels; i++) {
		if (i > 0)
			p[n++] = '.';
		n += label(p + n);
	}
	p[n] = '\0';
	for (i = 0; i <= n; i++)
		want[i] = p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i];
}

static const char *const blanks[] = { "", " ", "\t", "  ", " \t" };
static const char *const ends[] = { "\n", "\r\n" };
static const char *const modes[] = { "none", "testing", "enforce" };

/* One "name:" WSP value WSP line end, appended at *off. */
static void
add_line(char *text, size_t *off, const char *name, const char *val)
{
	*off += snprintf(text + *off, sizeof(c.text) - *off, "%s:%s%s%s%s",
	    name, blanks[rnd(5)], val, blanks[rnd(5)], ends[rnd(2)]);
}

/* A random policy into text; *want is what it must parse to. */
static size_t
build(char *text, struct sts_policy *want)
{
	char   lines[80][320], val[300], tmp[320], low[300];
	size_t nlines = 0, off = 0, i, j, nmx;

	memset(want, 0, sizeof(*want));
	want->mode = rnd(3);
	want->max_age = rnd(STS_MAX_AGE_MAX + 1);
	nmx = want->mode == STS_MODE_NONE ? rnd(4) : 1 + rnd(64);
	snprintf(lines[nlines++], sizeof(lines[0]), "version\001STSv1");
	snprintf(
	    lines[nlines++], sizeof(lines[0]), "mode\001%s", modes[want->mode]);
	snprintf(lines[nlines++], sizeof(lines[0]), "max_age\001%0*u",
	    1 + (int)rnd(10), want->max_age);
	for (i = 0; i < nmx; i++) {
		pattern(val, low);
		(void)sts_mx_add(want, low, strlen(low));
		snprintf(lines[nlines++], sizeof(lines[0]), "mx\001%s", val);
	}
	for (i = rnd(4); i > 0; i--)
		snprintf(lines[nlines++], sizeof(lines[0]), "x-%u\001v%u=;%u",
		    rnd(99), rnd(99), rnd(99));
	/* shuffle all but the mx order, which the policy keeps */
	for (i = 0; i < nlines; i++) {
		j = rnd(nlines);
		if (strncmp(lines[i], "mx\001", 3) == 0 ||
		    strncmp(lines[j], "mx\001", 3) == 0)
			continue;
		memcpy(tmp, lines[i], sizeof(tmp));
		memcpy(lines[i], lines[j], sizeof(tmp));
		memcpy(lines[j], tmp, sizeof(tmp));
	}
	for (i = 0; i < nlines; i++) {
		char *sep = strchr(lines[i], '\001');

		*sep = '\0';
		add_line(text, &off, lines[i], sep + 1);
	}
	for (i = rnd(3); i > 0; i--)
		off += snprintf(
		    text + off, sizeof(c.text) - off, "%s", ends[rnd(2)]);
	return off;
}

static void
check_property(void)
{
	static struct sts_policy pol, want;
	int                      i, bad_parse = 0, bad_trip = 0, first = -1;
	size_t                   n, m;

	for (i = 0; i < 3000; i++) {
		memset(&c, 0, sizeof(c));
		c.textlen = build(c.text, &want);
		if (sts_policy_parse(c.text, c.textlen, &pol) != STS_P_OK ||
		    memcmp(&pol, &want, sizeof(pol)) != 0) {
			bad_parse++;
			first = first < 0 ? i : first;
			continue;
		}
		c.fetched = 1 + rnd(2000000000);
		c.expires = c.fetched + want.max_age;
		c.failed = rnd(2) ? 0 : rnd(2000000000);
		c.used = rnd(2000000000);
		snprintf(c.id, sizeof(c.id), "%x%0*u", rnd(1000), (int)rnd(20),
		    rnd(1000000));
		n = sts_cache_format(&c, buf, sizeof(buf));
		m = n && parse(buf, n) == 0
		    ? sts_cache_format(&d, buf2, sizeof(buf2))
		    : 0;
		if (m != n || memcmp(buf, buf2, n) != 0 ||
		    memcmp(&d.pol, &want, sizeof(want)) != 0 ||
		    d.textlen != c.textlen ||
		    memcmp(d.text, c.text, c.textlen + 1) != 0 ||
		    d.fetched != c.fetched || d.failed != c.failed ||
		    d.used != c.used || strcmp(d.id, c.id) != 0)
			bad_trip++;
	}
	CHECK(bad_parse == 0,
	    "Y3 Y4 Y5 3000 random policies built from parts parse to what "
	    "was built",
	    "%d failed, the first at %d", bad_parse, first);
	CHECK(bad_trip == 0,
	    "Y8 3000 random policies round-trip through the cache record",
	    "%d failed", bad_trip);
}

int
main(void)
{
	check_format();
	check_tamper();
	check_names();
	check_property();
	return check_exit();
}
