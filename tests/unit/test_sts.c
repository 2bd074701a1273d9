/*
 * MTA-STS parsing (sts.c): the TXT record (Y1, Y2), the policy (Y3-Y6)
 * and MX matching (Y7).  The cache record, file names and the property
 * test are in test_sts_cache.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_PROG "test_sts"
#include "check.h"
#include "sts.h"

#define ID32 "abcdefghijklmnopqrstuvwxyz012345"
#define N32  "abcdefghijklmnopqrstuvwxyz.-_345"
/* A literal that holds a NUL, and its length. */
#define NUL_IN(s) s, sizeof(s) - 1

struct tcase {
	const char  *name;
	const char  *txt;
	size_t       len; /* 0: strlen(txt) */
	enum sts_txt want;
	const char  *id;
};

static const struct tcase tcases[] = {
	{ "Y2 the RFC's example record", "v=STSv1; id=20160831085700Z;", 0,
	    STS_TXT_OK, "20160831085700Z" },
	{ "Y2 no blanks, no final ;", "v=STSv1;id=abc", 0, STS_TXT_OK, "abc" },
	{ "Y2 blanks before ; (the ABNF's *WSP)", "v=STSv1 ;\tid=abc", 0,
	    STS_TXT_OK, "abc" },
	{ "Y2 final ; and blanks", "v=STSv1; id=abc; \t", 0, STS_TXT_OK,
	    "abc" },
	{ "Y2 blanks at the very end", "v=STSv1; id=abc  ", 0, STS_TXT_OK,
	    "abc" },
	{ "Y2 an extension is ignored", "v=STSv1; id=abc; foo=bar", 0,
	    STS_TXT_OK, "abc" },
	{ "Y2 extension before the id, every value octet allowed",
	    "v=STSv1; x.y_z-1=!\"#$%&'()*+,-./:<>?@[\\]^_`{|}~; id=1", 0,
	    STS_TXT_OK, "1" },
	{ "Y2 id of 32 octets", "v=STSv1; id=" ID32, 0, STS_TXT_OK, ID32 },
	{ "Y2 extension name of 32 octets", "v=STSv1; id=1; " N32 "=x", 0,
	    STS_TXT_OK, "1" },
	{ "Y2 a later v= is only an extension", "v=STSv1; id=1; v=STSv2", 0,
	    STS_TXT_OK, "1" },
	{ "Y1 empty record is not STS", "", 0, STS_TXT_NOT_STS, "" },
	{ "Y1 v=STSv2 is not STS", "v=STSv2; id=1", 0, STS_TXT_NOT_STS, "" },
	{ "Y1 v=stsv1 (case) is not STS", "v=stsv1; id=1", 0, STS_TXT_NOT_STS,
	    "" },
	{ "Y1 V=STSv1 (case) is not STS", "V=STSv1; id=1", 0, STS_TXT_NOT_STS,
	    "" },
	{ "Y1 a leading blank is not STS", " v=STSv1; id=1", 0, STS_TXT_NOT_STS,
	    "" },
	{ "Y1 v=STSv10 is not STS", "v=STSv10; id=1", 0, STS_TXT_NOT_STS, "" },
	{ "Y1 v= not first is not STS", "id=1; v=STSv1", 0, STS_TXT_NOT_STS,
	    "" },
	{ "Y1 a prefix of v=STSv1 is not STS", "v=STSv", 0, STS_TXT_NOT_STS,
	    "" },
	{ "Y1 an SPF record is not STS", "v=spf1 -all", 0, STS_TXT_NOT_STS,
	    "" },
	{ "Y2 v=STSv1 alone is bad (no id)", "v=STSv1", 0, STS_TXT_BAD, "" },
	{ "Y2 v=STSv1; alone is bad", "v=STSv1;", 0, STS_TXT_BAD, "" },
	{ "Y2 only an extension is bad", "v=STSv1; a=b", 0, STS_TXT_BAD, "" },
	{ "Y2 empty id is bad", "v=STSv1; id=", 0, STS_TXT_BAD, "" },
	{ "Y2 id with '-' is bad", "v=STSv1; id=abc-def", 0, STS_TXT_BAD, "" },
	{ "Y2 id with '_' is bad", "v=STSv1; id=abc_def", 0, STS_TXT_BAD, "" },
	{ "Y2 id of 33 octets is bad", "v=STSv1; id=" ID32 "6", 0, STS_TXT_BAD,
	    "" },
	{ "Y2 two ids are bad", "v=STSv1; id=1; id=2", 0, STS_TXT_BAD, "" },
	{ "Y2 two equal ids are bad", "v=STSv1; id=1; id=1", 0, STS_TXT_BAD,
	    "" },
	{ "Y2 ID= is an extension: no id, bad", "v=STSv1; ID=1", 0, STS_TXT_BAD,
	    "" },
	{ "Y2 no ; after v=STSv1 is bad", "v=STSv1 id=1", 0, STS_TXT_BAD, "" },
	{ "Y2 an empty field (;;) is bad", "v=STSv1;; id=1", 0, STS_TXT_BAD,
	    "" },
	{ "Y2 two final ; are bad", "v=STSv1; id=1;;", 0, STS_TXT_BAD, "" },
	{ "Y2 a field without = is bad", "v=STSv1; id=1; foo", 0, STS_TXT_BAD,
	    "" },
	{ "Y2 an empty extension value is bad", "v=STSv1; id=1; foo=", 0,
	    STS_TXT_BAD, "" },
	{ "Y2 = in an extension value is bad", "v=STSv1; id=1; foo=a=b", 0,
	    STS_TXT_BAD, "" },
	{ "Y2 SP in an extension value is bad", "v=STSv1; id=1; foo=a b", 0,
	    STS_TXT_BAD, "" },
	{ "Y2 extension name starting with _ is bad", "v=STSv1; id=1; _f=a", 0,
	    STS_TXT_BAD, "" },
	{ "Y2 extension name of 33 octets is bad", "v=STSv1; id=1; " N32 "6=x",
	    0, STS_TXT_BAD, "" },
	{ "Y2 8-bit octets are bad", "v=STSv1; id=1; foo=caf\xc3\xa9", 0,
	    STS_TXT_BAD, "" },
	{ "Y2 a NUL is bad", NUL_IN("v=STSv1; id=1\0"), STS_TXT_BAD, "" },
	{ "Y2 a NUL inside the id is bad",
	    NUL_IN("v=STSv1; id=1\0"
	           "2"),
	    STS_TXT_BAD, "" },
	{ "Y2 CRLF at the end is bad", "v=STSv1; id=1\r\n", 0, STS_TXT_BAD,
	    "" },
	{ "Y2 DEL is bad", "v=STSv1; id=1;\x7f", 0, STS_TXT_BAD, "" },
};

static void
check_txt(void)
{
	const struct tcase *c;
	char                id[STS_ID_MAX + 1];
	enum sts_txt        got;
	size_t              i, len;

	for (i = 0; i < sizeof(tcases) / sizeof(tcases[0]); i++) {
		c = &tcases[i];
		len = c->len ? c->len : strlen(c->txt);
		memset(id, 'Z', sizeof(id));
		got = sts_txt_parse((const uint8_t *)c->txt, len, id);
		CHECK(got == c->want && memchr(id, '\0', sizeof(id)) &&
		        strcmp(id, c->id) == 0,
		    c->name, "got %d id \"%.33s\", want %d id \"%s\"", got,
		    memchr(id, '\0', sizeof(id)) ? id : "(unterminated)",
		    c->want, c->id);
	}
}

#define GOOD "version: STSv1\nmode: enforce\nmax_age: 604800\n"
#define L63  "abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789abc"

struct pcase {
	const char   *name;
	const char   *text;
	size_t        len;
	enum sts_perr want;
	enum sts_mode mode;
	uint32_t      max_age;
	const char   *mx; /* the patterns, space-separated */
};

static const struct pcase pcases[] = {
	{ "Y3 the RFC's example policy",
	    "version: STSv1\nmode: enforce\nmx: mail.example.com\n"
	    "mx: *.example.net\nmx: backupmx.example.com\nmax_age: 604800\n",
	    0, STS_P_OK, STS_MODE_ENFORCE, 604800,
	    "mail.example.com *.example.net backupmx.example.com" },
	{ "Y3 CRLF line ends",
	    "version: STSv1\r\nmode: testing\r\nmx: a.example\r\n"
	    "max_age: 86400\r\n",
	    0, STS_P_OK, STS_MODE_TESTING, 86400, "a.example" },
	{ "Y3 LF and CRLF mixed, no line end at the end",
	    "version: STSv1\r\nmode: testing\nmx: a.example\r\nmax_age: 1", 0,
	    STS_P_OK, STS_MODE_TESTING, 1, "a.example" },
	{ "Y3 blank lines at the end are accepted",
	    GOOD "mx: a.example\n\n\r\n \t\n\n", 0, STS_P_OK, STS_MODE_ENFORCE,
	    604800, "a.example" },
	{ "Y3 no blank after the colon, blanks at the ends of values",
	    "version:STSv1\t\nmode:\t enforce \nmax_age:604800 \nmx:a.example",
	    0, STS_P_OK, STS_MODE_ENFORCE, 604800, "a.example" },
	{ "Y3 any order of fields",
	    "mx: a.example\nmax_age: 5\nmode: enforce\nversion: STSv1\n", 0,
	    STS_P_OK, STS_MODE_ENFORCE, 5, "a.example" },
	{ "Y3 unknown fields are ignored",
	    GOOD
	    "mx: a.example\nfoo: bar\nx.y_z-9: caf\xc3\xa9 \xf0\x9f\x98\x80"
	    " a=b; c\n",
	    0, STS_P_OK, STS_MODE_ENFORCE, 604800, "a.example" },
	{ "Y3 field names are case-sensitive: Mode: is an extension",
	    "Mode: none\n" GOOD "mx: a.example\n", 0, STS_P_OK,
	    STS_MODE_ENFORCE, 604800, "a.example" },
	{ "Y3 extension name of 32 octets", GOOD "mx: a.example\n" N32 ": x\n",
	    0, STS_P_OK, STS_MODE_ENFORCE, 604800, "a.example" },
	{ "Y5 mode none needs no mx",
	    "version: STSv1\nmode: none\nmax_age: 86400\n", 0, STS_P_OK,
	    STS_MODE_NONE, 86400, "" },
	{ "Y5 mode none keeps its mx lines",
	    "version: STSv1\nmode: none\nmax_age: 86400\nmx: a.example\n", 0,
	    STS_P_OK, STS_MODE_NONE, 86400, "a.example" },
	{ "Y4 max_age 0 is accepted",
	    "version: STSv1\nmode: none\nmax_age: 0\n", 0, STS_P_OK,
	    STS_MODE_NONE, 0, "" },
	{ "Y4 max_age 31557600 is accepted",
	    "version: STSv1\nmode: none\nmax_age: 31557600\n", 0, STS_P_OK,
	    STS_MODE_NONE, 31557600, "" },
	{ "Y4 max_age of ten digits with leading zeros",
	    "version: STSv1\nmode: none\nmax_age: 0000086400\n", 0, STS_P_OK,
	    STS_MODE_NONE, 86400, "" },
	{ "Y5 mx lower-cased, digits and inner hyphens",
	    GOOD "mx: MX-1.Ex4mple.COM\nmx: *.Example.NET\nmx: localhost\n", 0,
	    STS_P_OK, STS_MODE_ENFORCE, 604800,
	    "mx-1.ex4mple.com *.example.net localhost" },
	{ "Y5 duplicate mx lines are kept",
	    GOOD "mx: a.example\nmx: a.example\n", 0, STS_P_OK,
	    STS_MODE_ENFORCE, 604800, "a.example a.example" },
	{ "Y5 an mx of 255 octets (four labels of 63) is refused",
	    GOOD "mx: " L63 "." L63 "." L63 "." L63 "\n", 0, STS_P_MX,
	    STS_MODE_NONE, 0, "" },
	{ "Y5 a label of 64 octets is refused", GOOD "mx: " L63 "x.example\n",
	    0, STS_P_MX, STS_MODE_NONE, 0, "" },
	{ "Y4 empty text: no version", "", 0, STS_P_VERSION, STS_MODE_NONE, 0,
	    "" },
	{ "Y4 only blank lines: no version", "\n\r\n  \n", 0, STS_P_VERSION,
	    STS_MODE_NONE, 0, "" },
	{ "Y4 version missing", "mode: none\nmax_age: 1\n", 0, STS_P_VERSION,
	    STS_MODE_NONE, 0, "" },
	{ "Y4 version STSv2", "version: STSv2\nmode: none\nmax_age: 1\n", 0,
	    STS_P_VERSION, STS_MODE_NONE, 0, "" },
	{ "Y4 version stsv1 (case)", "version: stsv1\nmode: none\nmax_age: 1\n",
	    0, STS_P_VERSION, STS_MODE_NONE, 0, "" },
	{ "Y4 Version: (case) is no version line",
	    "Version: STSv1\nmode: none\nmax_age: 1\n", 0, STS_P_VERSION,
	    STS_MODE_NONE, 0, "" },
	{ "Y4 version with more after it",
	    "version: STSv1 x\nmode: none\nmax_age: 1\n", 0, STS_P_VERSION,
	    STS_MODE_NONE, 0, "" },
	{ "Y4 mode missing", "version: STSv1\nmax_age: 1\n", 0, STS_P_MODE,
	    STS_MODE_NONE, 0, "" },
	{ "Y4 mode Enforce (case)", "version: STSv1\nmode: Enforce\n", 0,
	    STS_P_MODE, STS_MODE_NONE, 0, "" },
	{ "Y4 mode report (a draft's)", "version: STSv1\nmode: report\n", 0,
	    STS_P_MODE, STS_MODE_NONE, 0, "" },
	{ "Y4 mode empty", "version: STSv1\nmode:\n", 0, STS_P_MODE,
	    STS_MODE_NONE, 0, "" },
	{ "Y4 max_age missing", "version: STSv1\nmode: none\n", 0,
	    STS_P_MAX_AGE, STS_MODE_NONE, 0, "" },
	{ "Y4 max_age 31557601",
	    "version: STSv1\nmode: none\nmax_age: 31557601", 0, STS_P_MAX_AGE,
	    STS_MODE_NONE, 0, "" },
	{ "Y4 max_age of eleven digits",
	    "version: STSv1\nmode: none\nmax_age: 00000086400", 0,
	    STS_P_MAX_AGE, STS_MODE_NONE, 0, "" },
	{ "Y4 max_age -1", "version: STSv1\nmode: none\nmax_age: -1", 0,
	    STS_P_MAX_AGE, STS_MODE_NONE, 0, "" },
	{ "Y4 max_age +1", "version: STSv1\nmode: none\nmax_age: +1", 0,
	    STS_P_MAX_AGE, STS_MODE_NONE, 0, "" },
	{ "Y4 max_age 86400s", "version: STSv1\nmode: none\nmax_age: 86400s", 0,
	    STS_P_MAX_AGE, STS_MODE_NONE, 0, "" },
	{ "Y4 max_age 86 400", "version: STSv1\nmode: none\nmax_age: 86 400", 0,
	    STS_P_MAX_AGE, STS_MODE_NONE, 0, "" },
	{ "Y4 max_age empty", "version: STSv1\nmode: none\nmax_age:", 0,
	    STS_P_MAX_AGE, STS_MODE_NONE, 0, "" },
	{ "Y4 a second version line", GOOD "version: STSv1\nmx: a.example\n", 0,
	    STS_P_DUPLICATE, STS_MODE_NONE, 0, "" },
	{ "Y4 a second mode line, same value", GOOD "mode: enforce\n", 0,
	    STS_P_DUPLICATE, STS_MODE_NONE, 0, "" },
	{ "Y4 a second max_age line", "max_age: 1\n" GOOD, 0, STS_P_DUPLICATE,
	    STS_MODE_NONE, 0, "" },
	{ "Y4 the first bad line decides", "mode: bad\nversion: STSv2\n", 0,
	    STS_P_MODE, STS_MODE_NONE, 0, "" },
	{ "Y5 enforce without mx", GOOD, 0, STS_P_NO_MX, STS_MODE_NONE, 0, "" },
	{ "Y5 testing without mx",
	    "version: STSv1\nmode: testing\nmax_age: 1\n", 0, STS_P_NO_MX,
	    STS_MODE_NONE, 0, "" },
	{ "Y5 mx empty", GOOD "mx:\n", 0, STS_P_MX, STS_MODE_NONE, 0, "" },
	{ "Y5 mx *", GOOD "mx: *\n", 0, STS_P_MX, STS_MODE_NONE, 0, "" },
	{ "Y5 mx *.", GOOD "mx: *.\n", 0, STS_P_MX, STS_MODE_NONE, 0, "" },
	{ "Y5 mx **.example", GOOD "mx: **.example\n", 0, STS_P_MX,
	    STS_MODE_NONE, 0, "" },
	{ "Y5 mx *example", GOOD "mx: *example\n", 0, STS_P_MX, STS_MODE_NONE,
	    0, "" },
	{ "Y5 mx a.*.example", GOOD "mx: a.*.example\n", 0, STS_P_MX,
	    STS_MODE_NONE, 0, "" },
	{ "Y5 mx with a trailing dot", GOOD "mx: a.example.\n", 0, STS_P_MX,
	    STS_MODE_NONE, 0, "" },
	{ "Y5 mx with a leading dot", GOOD "mx: .example\n", 0, STS_P_MX,
	    STS_MODE_NONE, 0, "" },
	{ "Y5 mx with an empty label", GOOD "mx: a..example\n", 0, STS_P_MX,
	    STS_MODE_NONE, 0, "" },
	{ "Y5 mx label starting with -", GOOD "mx: -a.example\n", 0, STS_P_MX,
	    STS_MODE_NONE, 0, "" },
	{ "Y5 mx label ending with -", GOOD "mx: a-.example\n", 0, STS_P_MX,
	    STS_MODE_NONE, 0, "" },
	{ "Y5 mx with _", GOOD "mx: a_b.example\n", 0, STS_P_MX, STS_MODE_NONE,
	    0, "" },
	{ "Y5 mx U-label", GOOD "mx: caf\xc3\xa9.example\n", 0, STS_P_MX,
	    STS_MODE_NONE, 0, "" },
	{ "Y5 mx with a blank inside", GOOD "mx: a b.example\n", 0, STS_P_MX,
	    STS_MODE_NONE, 0, "" },
	{ "Y3 leading blank", " mode: enforce\n", 0, STS_P_SYNTAX,
	    STS_MODE_NONE, 0, "" },
	{ "Y3 blank before the colon", "mode : enforce\n", 0, STS_P_SYNTAX,
	    STS_MODE_NONE, 0, "" },
	{ "Y3 no colon", "mode enforce\n", 0, STS_P_SYNTAX, STS_MODE_NONE, 0,
	    "" },
	{ "Y3 a blank line between fields", "version: STSv1\n\nmode: none\n", 0,
	    STS_P_SYNTAX, STS_MODE_NONE, 0, "" },
	{ "Y3 a NUL in a line", NUL_IN(GOOD "mx: a.example\nx: a\0b\n"),
	    STS_P_SYNTAX, STS_MODE_NONE, 0, "" },
	{ "Y3 a NUL in the blank lines at the end",
	    NUL_IN(GOOD "mx: a.example\n\n\0\n"), STS_P_SYNTAX, STS_MODE_NONE,
	    0, "" },
	{ "Y3 a bare CR inside a line", GOOD "mx: a.example\nx: a\rb\n", 0,
	    STS_P_SYNTAX, STS_MODE_NONE, 0, "" },
	{ "Y3 CR CR LF", GOOD "mx: a.example\r\r\n", 0, STS_P_SYNTAX,
	    STS_MODE_NONE, 0, "" },
	{ "Y3 a bare CR ending the text", GOOD "mx: a.example\r", 0,
	    STS_P_SYNTAX, STS_MODE_NONE, 0, "" },
	{ "Y3 control octet in an extension", GOOD "mx: a.example\nx: \001\n",
	    0, STS_P_SYNTAX, STS_MODE_NONE, 0, "" },
	{ "Y3 HTAB inside an extension value", GOOD "mx: a.example\nx: a\tb\n",
	    0, STS_P_SYNTAX, STS_MODE_NONE, 0, "" },
	{ "Y3 DEL in an extension", GOOD "mx: a.example\nx: a\177\n", 0,
	    STS_P_SYNTAX, STS_MODE_NONE, 0, "" },
	{ "Y3 empty extension value", GOOD "mx: a.example\nx:  \n", 0,
	    STS_P_SYNTAX, STS_MODE_NONE, 0, "" },
	{ "Y3 extension name of 33 octets", GOOD "mx: a.example\n" N32 "6: x\n",
	    0, STS_P_SYNTAX, STS_MODE_NONE, 0, "" },
	{ "Y3 extension name starting with _", GOOD "mx: a.example\n_x: y\n", 0,
	    STS_P_SYNTAX, STS_MODE_NONE, 0, "" },
	{ "Y3 lone continuation octet in UTF-8",
	    GOOD "mx: a.example\nx: \x80\n", 0, STS_P_SYNTAX, STS_MODE_NONE, 0,
	    "" },
	{ "Y3 overlong UTF-8", GOOD "mx: a.example\nx: \xc0\xaf\n", 0,
	    STS_P_SYNTAX, STS_MODE_NONE, 0, "" },
	{ "Y3 overlong three-octet UTF-8",
	    GOOD "mx: a.example\nx: \xe0\x80\xaf", 0, STS_P_SYNTAX,
	    STS_MODE_NONE, 0, "" },
	{ "Y3 UTF-8 surrogate", GOOD "mx: a.example\nx: \xed\xa0\x80\n", 0,
	    STS_P_SYNTAX, STS_MODE_NONE, 0, "" },
	{ "Y3 UTF-8 above U+10FFFF", GOOD "mx: a.example\nx: \xf4\x90\x80\x80",
	    0, STS_P_SYNTAX, STS_MODE_NONE, 0, "" },
	{ "Y3 UTF-8 cut short", GOOD "mx: a.example\nx: \xe2\x82", 0,
	    STS_P_SYNTAX, STS_MODE_NONE, 0, "" },
};

/* The patterns of p, space-separated. */
static void
join_mx(const struct sts_policy *p, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < p->nmx && n < len; i++)
		n += snprintf(
		    buf + n, len - n, "%s%s", i ? " " : "", sts_mx(p, i));
}

static int
all_zero(const void *p, size_t len)
{
	const unsigned char *c = p;
	size_t               i;

	for (i = 0; i < len; i++)
		if (c[i] != 0)
			return 0;
	return 1;
}

static void
check_policy(void)
{
	static struct sts_policy pol;
	const struct pcase      *c;
	char                     mx[2048];
	enum sts_perr            e;
	size_t                   i;
	int                      ok;

	for (i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
		c = &pcases[i];
		memset(&pol, 0xa5, sizeof(pol));
		e = sts_policy_parse(
		    c->text, c->len ? c->len : strlen(c->text), &pol);
		join_mx(&pol, mx, sizeof(mx));
		if (e == STS_P_OK)
			ok = pol.mode == c->mode && pol.max_age == c->max_age &&
			    strcmp(mx, c->mx) == 0;
		else
			ok = all_zero(&pol, sizeof(pol));
		CHECK(e == c->want && ok, c->name,
		    "got %d (%s) mode %d max_age %u mx \"%.200s\"; want %d", e,
		    sts_perr_text(e), pol.mode, pol.max_age, mx, c->want);
	}
}

/* GOOD, then n lines "mx: h<i>.example". */
static size_t
many_mx(char *buf, size_t len, int n)
{
	size_t off = snprintf(buf, len, GOOD);
	int    i;

	for (i = 0; i < n; i++)
		off += snprintf(buf + off, len - off, "mx: h%d.example\n", i);
	return off;
}

/* GOOD and an mx line, then "x: yyy" lines to exactly len octets. */
static void
padded(char *buf, size_t len)
{
	size_t off = snprintf(buf, len, GOOD "mx: a.example\n"), n, r;

	for (; off < len; off += n) {
		r = len - off;
		n = r <= 1000 ? r : r - 1000 < 5 ? r - 5 : 1000;
		memcpy(buf + off, "x: ", 3);
		memset(buf + off + 3, 'y', n - 4);
		buf[off + n - 1] = '\n';
	}
}

static void
check_limits(void)
{
	static struct sts_policy pol;
	static char              buf[STS_BODY_MAX + 2];
	enum sts_perr            e;
	size_t                   n, lines;

	/* as many mx lines as 64 KiB hold: all kept, the last one matches */
	n = many_mx(buf, sizeof(buf), 3500);
	e = sts_policy_parse(buf, n, &pol);
	CHECK(e == STS_P_OK && n <= STS_BODY_MAX && pol.nmx == 3500 &&
	        strcmp(sts_mx(&pol, 3499), "h3499.example") == 0 &&
	        sts_mx_match(&pol, "h3499.example"),
	    "Y5 3500 mx lines (62 KiB) are all kept, none cut off",
	    "got %d nmx %zu", e, pol.nmx);
	n = snprintf(
	    buf, sizeof(buf), "version:STSv1\nmode:enforce\nmax_age:1\n");
	for (lines = 0; n + 7 <= STS_BODY_MAX; lines++)
		n += snprintf(buf + n, sizeof(buf) - n, "mx:a.b\n");
	e = sts_policy_parse(buf, n, &pol);
	CHECK(e == STS_P_OK && pol.nmx == lines && pol.nmx <= STS_MX_MAX,
	    "Y5 64 KiB of the shortest mx lines fit", "got %d nmx %zu", e,
	    pol.nmx);
	n = snprintf(buf, sizeof(buf), GOOD "mx: %.63s.%.63s.%.63s.%.61s\n",
	    L63, L63, L63, L63);
	e = sts_policy_parse(buf, n, &pol);
	CHECK(e == STS_P_OK && strlen(sts_mx(&pol, 0)) == 253,
	    "Y5 an mx of 253 octets is accepted", "got %d", e);
	n = snprintf(buf, sizeof(buf), GOOD "mx: *.%.63s.%.63s.%.63s.%.61s\n",
	    L63, L63, L63, L63);
	e = sts_policy_parse(buf, n, &pol);
	CHECK(e == STS_P_OK && strlen(sts_mx(&pol, 0)) == 255,
	    "Y5 *. and 253 octets (255) is accepted", "got %d", e);
	n = snprintf(buf, sizeof(buf), GOOD "mx: %.63s.%.63s.%.63s.%.62s\n",
	    L63, L63, L63, L63);
	e = sts_policy_parse(buf, n, &pol);
	CHECK(e == STS_P_MX, "Y5 an mx of 254 octets is refused", "got %d", e);

	n = snprintf(buf, sizeof(buf), GOOD "mx: a.example\nx: %0997d\n", 0);
	e = sts_policy_parse(buf, n, &pol);
	CHECK(
	    e == STS_P_OK, "Y3 a line of 1000 octets is accepted", "got %d", e);
	n = snprintf(buf, sizeof(buf), GOOD "mx: a.example\nx: %0998d\r\n", 0);
	e = sts_policy_parse(buf, n, &pol);
	CHECK(e == STS_P_SYNTAX, "Y3 a line of 1001 octets is refused",
	    "got %d", e);

	padded(buf, STS_BODY_MAX);
	e = sts_policy_parse(buf, STS_BODY_MAX, &pol);
	CHECK(e == STS_P_OK, "Y6 a policy of exactly 65536 octets is read",
	    "got %d", e);
	padded(buf, STS_BODY_MAX + 1);
	e = sts_policy_parse(buf, STS_BODY_MAX + 1, &pol);
	CHECK(e == STS_P_TOO_LARGE && all_zero(&pol, sizeof(pol)),
	    "Y6 a policy of 65537 octets is too large", "got %d", e);
}

static void
check_texts(void)
{
	const char *seen[STS_P_DUPLICATE + 1];
	int         e, j, ok = 1;

	for (e = STS_P_OK; e <= STS_P_DUPLICATE; e++) {
		seen[e] = sts_perr_text(e);
		for (j = 0; j < e; j++)
			if (strcmp(seen[j], seen[e]) == 0)
				ok = 0;
		if (seen[e] == NULL || strlen(seen[e]) < 10 ||
		    strstr(seen[e], "unknown") != NULL)
			ok = 0;
	}
	CHECK(ok, "Y3 every policy error has its own words",
	    "a text is "
	    "missing or shared");
	CHECK(strcmp(sts_perr_text(STS_P_NO_MX), "policy has no mx line") == 0,
	    "Y5 STS_P_NO_MX says \"policy has no mx line\"", "got \"%s\"",
	    sts_perr_text(STS_P_NO_MX));
	CHECK(strstr(sts_perr_text((enum sts_perr)99), "unknown") != NULL,
	    "Y3 an unknown error value still has words", "got \"%s\"",
	    sts_perr_text((enum sts_perr)99));
}

struct mcase {
	const char *mx;
	int         want;
};

static const struct mcase mcases[] = {
	{ "mail.example.com", 1 },
	{ "MAIL.Example.COM", 1 },
	{ "mail.example.com.", 1 },
	{ "a.example.net", 1 },
	{ "A-1.EXAMPLE.NET.", 1 },
	{ "mail.example.com..", 0 },
	{ "example.net", 0 },
	{ "a.b.example.net", 0 },
	{ ".example.net", 0 },
	{ "*.example.net", 0 },
	{ "mail.example.co", 0 },
	{ "xmail.example.com", 0 },
	{ "ail.example.com", 0 },
	{ "mail.example.comm", 0 },
	{ "mail.example.com.evil", 0 },
	{ "", 0 },
	{ ".", 0 },
	{ "a.example.net ", 0 },
	{ "a_b.example.net", 0 },
	{ "-a.example.net", 0 },
	{ "a.example.net\n", 0 },
};

/* s with control octets written as \xNN, for a check's name. */
static void
shown(const char *s, char *out, size_t len)
{
	size_t n = 0;

	for (out[0] = '\0'; *s != '\0' && n + 5 < len; s++)
		n += snprintf(out + n, len - n,
		    (unsigned char)*s < 0x20 ? "\\x%02x" : "%c",
		    (unsigned char)*s);
}

static void
check_match(void)
{
	static struct sts_policy pol;
	const char              *text = GOOD "mx: mail.example.com\n"
	                                     "mx: *.example.net\n";
	char                     name[100], mx[60];
	size_t                   i;
	int                      got;

	sts_policy_parse(text, strlen(text), &pol);
	for (i = 0; i < sizeof(mcases) / sizeof(mcases[0]); i++) {
		got = sts_mx_match(&pol, mcases[i].mx);
		shown(mcases[i].mx, mx, sizeof(mx));
		snprintf(name, sizeof(name), "Y7 \"%s\" %s", mx,
		    mcases[i].want ? "matches" : "matches nothing");
		CHECK(got == mcases[i].want, name, "got %d", got);
	}
	pol.nmx = 0;
	CHECK(sts_mx_match(&pol, "mail.example.com") == 0,
	    "Y7 a policy without patterns matches nothing", "it matched");
}

int
main(void)
{
	check_txt();
	check_policy();
	check_limits();
	check_texts();
	check_match();
	return check_exit();
}
