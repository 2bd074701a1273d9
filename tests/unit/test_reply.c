/*
 * SMTP reply parsing (reply.c): the grammar of RFC 5321 §4.2 (P3), the
 * line and line-count caps (P4), EHLO keywords, enhanced status codes
 * (P6, RFC 3463) and printable().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_PROG "test_reply"
#include "check.h"
#include "smtp.h"

#define END NULL

/* Add one line to r; the result is checked through r's final state. */
static int
add(struct reply *r, const char *line)
{
	const char *why;

	return reply_line(r, line, strlen(line), &why);
}

/*
 * Feed NULL-terminated lines to a fresh reply.  Returns the result of
 * the last line fed; *at is the index of the line that gave -1 or 1.
 */
static int
feed(struct reply *r, const char *const *lines, int *at, const char **why)
{
	int i, rv = 0;

	reply_init(r);
	*why = NULL;
	for (i = 0; lines[i] != NULL; i++) {
		rv = reply_line(r, lines[i], strlen(lines[i]), why);
		if (rv != 0)
			break;
	}
	*at = i;
	return rv;
}

struct rcase {
	const char *name;
	const char *lines[6];
	int         want; /* 1 complete, 0 more, -1 error */
	int         at;   /* index of the deciding line */
	int         code; /* when want != -1 */
};

static const struct rcase cases[] = {
	{ "P3 single-line reply", { "250 OK", END }, 1, 0, 250 },
	{ "P3 multi-line reply with the same code",
	    { "250-first", "250-second", "250 last", END }, 1, 2, 250 },
	{ "P3 continuation lines alone leave the reply open",
	    { "250-first", "250-second", END }, 0, 2, 250 },
	{ "P3 code changing inside a multi-line reply is refused",
	    { "250-first", "251 last", END }, -1, 1, 0 },
	{ "P3 class changing inside a multi-line reply is refused",
	    { "250-first", "550 last", END }, -1, 1, 0 },
	{ "P3 bare code without SP and text is accepted", { "250", END }, 1, 0,
	    250 },
	{ "P3 code with SP and empty text is accepted", { "354 ", END }, 1, 0,
	    354 },
	{ "P3 bare code ends a multi-line reply", { "250-first", "250", END },
	    1, 1, 250 },
	{ "P3 lowest code 200 accepted", { "200 ok", END }, 1, 0, 200 },
	{ "P3 highest code 599 accepted", { "599 no", END }, 1, 0, 599 },
	{ "P3 code 100 (first digit 1) refused", { "100 x", END }, -1, 0, 0 },
	{ "P3 code 199 refused", { "199 x", END }, -1, 0, 0 },
	{ "P3 code 600 refused", { "600 x", END }, -1, 0, 0 },
	{ "P3 code 099 refused", { "099 x", END }, -1, 0, 0 },
	{ "P3 code 999 refused", { "999 x", END }, -1, 0, 0 },
	{ "P3 non-digit in the code refused", { "2a0 x", END }, -1, 0, 0 },
	{ "P3 letters instead of a code refused", { "abc def", END }, -1, 0,
	    0 },
	{ "P3 two-digit code refused", { "25 x", END }, -1, 0, 0 },
	{ "P3 bare two-digit code refused", { "25", END }, -1, 0, 0 },
	{ "P3 empty line refused", { "", END }, -1, 0, 0 },
	{ "P3 sign before the code refused", { "+250 x", END }, -1, 0, 0 },
	{ "P3 leading space refused", { " 250 x", END }, -1, 0, 0 },
	{ "P3 junk after the code (250x) refused", { "250x", END }, -1, 0, 0 },
	{ "P3 four-digit code refused", { "2500 x", END }, -1, 0, 0 },
	{ "P3 TAB instead of SP after the code refused", { "250\tx", END }, -1,
	    0, 0 },
	{ "P3 a bad continuation line fails the reply",
	    { "250-first", "250_x", END }, -1, 1, 0 },
	{ "P4 TAB in the text allowed", { "250 a\tb", END }, 1, 0, 250 },
	{ "P4 control octet 0x01 refused", { "250 a\001b", END }, -1, 0, 0 },
	{ "P4 ESC refused", { "250 a\033[2Jb", END }, -1, 0, 0 },
	{ "P4 bare CR inside a line refused", { "250 a\rb", END }, -1, 0, 0 },
	{ "P4 bare LF inside a line refused", { "250 a\nb", END }, -1, 0, 0 },
	{ "P4 DEL refused", { "250 a\177b", END }, -1, 0, 0 },
	{ "P4 control octet in a continuation line refused",
	    { "250-ok", "250 a\001", END }, -1, 1, 0 },
};

static void
check_cases(void)
{
	const struct rcase *c;
	const char         *why;
	struct reply       *r = malloc(sizeof(*r));
	size_t              i;
	int                 rv, at, ok;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = &cases[i];
		rv = feed(r, c->lines, &at, &why);
		ok = rv == c->want && at == c->at;
		if (ok && rv == -1)
			ok = why != NULL;
		if (ok && rv != -1)
			ok = r->code == c->code && r->done == (rv == 1);
		CHECK(ok, c->name,
		    "returned %d at line %d (why: %s), code %d, "
		    "done %d; want %d at line %d, code %d",
		    rv, at, why ? why : "-", r->code, r->done, c->want, c->at,
		    c->code);
	}
	free(r);
}

static void
check_text(void)
{
	static const char *const multi[] = { "250-first", "250-second",
		"250 last", END };
	const char              *why;
	struct reply            *r = malloc(sizeof(*r));
	int                      at, rv;

	rv = feed(r, multi, &at, &why);
	CHECK(rv == 1 && r->nlines == 3 &&
	        strcmp(r->text, "250-first\n250-second\n250 last") == 0 &&
	        r->textlen == strlen(r->text),
	    "multi-line reply text is kept, lines separated by LF",
	    "rv %d nlines %d text \"%s\" textlen %zu", rv, r->nlines, r->text,
	    r->textlen);

	/* 8-bit octets pass the parser but are stored as '?' */
	reply_init(r);
	rv = add(r, "550 caf\xc3\xa9");
	CHECK(rv == 1 && strcmp(r->text, "550 caf??") == 0,
	    "8-bit octets in the text are stored as '?'", "rv %d text \"%s\"",
	    rv, r->text);
	free(r);
}

static void
check_limits(void)
{
	struct reply *r = malloc(sizeof(*r));
	char         *line = malloc(REPLY_LINE_MAX + 2);
	const char   *why;
	int           i, rv = 0;
	size_t        len;

	memset(line, 'x', REPLY_LINE_MAX + 1);
	memcpy(line, "250 ", 4);
	reply_init(r);
	rv = reply_line(r, line, REPLY_LINE_MAX, &why);
	CHECK(rv == 1, "P4 a line of exactly REPLY_LINE_MAX octets is accepted",
	    "returned %d (%s)", rv, rv == -1 ? why : "-");
	reply_init(r);
	rv = reply_line(r, line, REPLY_LINE_MAX + 1, &why);
	CHECK(rv == -1,
	    "P4 a line of REPLY_LINE_MAX + 1 octets is refused, "
	    "not split",
	    "returned %d", rv);

	/* REPLY_LINES_MAX lines: REPLY_LINES_MAX - 1 continuations + last */
	reply_init(r);
	for (i = 1; i < REPLY_LINES_MAX; i++)
		if ((rv = reply_line(r, "250-more", 8, &why)) != 0)
			break;
	if (rv == 0)
		rv = reply_line(r, "250 end", 7, &why);
	CHECK(rv == 1 && r->nlines == REPLY_LINES_MAX,
	    "P4 a reply of exactly REPLY_LINES_MAX lines is accepted",
	    "returned %d after %d lines", rv, r->nlines);
	reply_init(r);
	for (i = 1; i <= REPLY_LINES_MAX; i++)
		if ((rv = reply_line(r, "250-more", 8, &why)) != 0)
			break;
	if (rv == 0)
		rv = reply_line(r, "250 end", 7, &why);
	CHECK(rv == -1, "P4 a reply of REPLY_LINES_MAX + 1 lines is refused",
	    "returned %d after %d lines", rv, r->nlines);

	/* the kept text is capped, NUL-terminated and consistent */
	reply_init(r);
	memcpy(line, "250-", 4);
	for (i = 1; i < REPLY_LINES_MAX; i++)
		if ((rv = reply_line(r, line, REPLY_LINE_MAX, &why)) != 0)
			break;
	line[3] = ' ';
	if (rv == 0)
		rv = reply_line(r, line, REPLY_LINE_MAX, &why);
	len = strnlen(r->text, sizeof(r->text));
	CHECK(rv == 1 && len < sizeof(r->text) && len == r->textlen &&
	        r->textlen > REPLY_TEXT_MAX / 2,
	    "P4 a 200 KB reply is accepted and its kept text capped safely",
	    "rv %d strnlen %zu textlen %zu", rv, len, r->textlen);
	free(line);
	free(r);
}

/* EHLO reply: greeting line, then `kw', then "250 HELP". */
static void
ehlo_of(const char *kw, struct ehlo *e)
{
	struct reply r;
	char         l2[200];

	reply_init(&r);
	add(&r, "250-mx.example.com Hello");
	snprintf(l2, sizeof(l2), "250-%s", kw);
	add(&r, l2);
	add(&r, "250 HELP");
	ehlo_parse(&r, e);
}

struct kcase {
	const char        *name;
	const char        *kw;
	unsigned           flags;
	unsigned long long size;
};

static const struct kcase kcases[] = {
	{ "EHLO STARTTLS recognised", "STARTTLS", EXT_STARTTLS, 0 },
	{ "EHLO starttls recognised in lower case", "starttls", EXT_STARTTLS,
	    0 },
	{ "EHLO PIPELINING recognised", "PIPELINING", EXT_PIPELINING, 0 },
	{ "EHLO Pipelining recognised in mixed case", "Pipelining",
	    EXT_PIPELINING, 0 },
	{ "EHLO 8BITMIME recognised", "8BITMIME", EXT_8BITMIME, 0 },
	{ "EHLO 8bitmime recognised in lower case", "8bitmime", EXT_8BITMIME,
	    0 },
	{ "EHLO SIZE 1000 recognised with its limit", "SIZE 1000", EXT_SIZE,
	    1000 },
	{ "EHLO size 52428800 recognised in lower case", "size 52428800",
	    EXT_SIZE, 52428800 },
	{ "EHLO SIZE without argument: flag set, no limit", "SIZE", EXT_SIZE,
	    0 },
	{ "EHLO SIZE with a non-numeric argument: flag set, no limit",
	    "SIZE abc", EXT_SIZE, 0 },
	{ "EHLO ENHANCEDSTATUSCODES recognised", "ENHANCEDSTATUSCODES",
	    EXT_ENHANCED, 0 },
	{ "EHLO EnhancedStatusCodes recognised in mixed case",
	    "EnhancedStatusCodes", EXT_ENHANCED, 0 },
	{ "EHLO SMTPUTF8 recognised", "SMTPUTF8", EXT_SMTPUTF8, 0 },
	{ "EHLO smtputf8 recognised in lower case", "smtputf8", EXT_SMTPUTF8,
	    0 },
	{ "EHLO STARTTLSX is not STARTTLS", "STARTTLSX", 0, 0 },
	{ "EHLO XSTARTTLS is not STARTTLS", "XSTARTTLS", 0, 0 },
	{ "EHLO STARTTL (prefix) is not STARTTLS", "STARTTL", 0, 0 },
	{ "EHLO SIZEX is not SIZE", "SIZEX 1000", 0, 0 },
	{ "EHLO 8BITMIMEX is not 8BITMIME", "8BITMIMEX", 0, 0 },
	{ "EHLO unknown keyword sets nothing", "CHUNKING", 0, 0 },
};

static void
check_ehlo(void)
{
	const struct kcase *k;
	struct ehlo         e;
	struct reply        r;
	size_t              i;

	for (i = 0; i < sizeof(kcases) / sizeof(kcases[0]); i++) {
		k = &kcases[i];
		ehlo_of(k->kw, &e);
		CHECK(e.flags == k->flags && e.size == k->size, k->name,
		    "flags %#x size %llu, want flags %#x size %llu", e.flags,
		    (unsigned long long)e.size, k->flags, k->size);
	}

	/* every keyword at once, the last on the final line */
	reply_init(&r);
	add(&r, "250-mx.example.com");
	add(&r, "250-PIPELINING");
	add(&r, "250-SIZE 35882577");
	add(&r, "250-8BITMIME");
	add(&r, "250-ENHANCEDSTATUSCODES");
	add(&r, "250-SMTPUTF8");
	add(&r, "250 STARTTLS");
	ehlo_parse(&r, &e);
	CHECK(e.flags ==
	            (EXT_STARTTLS | EXT_PIPELINING | EXT_8BITMIME | EXT_SIZE |
	                EXT_ENHANCED | EXT_SMTPUTF8) &&
	        e.size == 35882577,
	    "EHLO all keywords recognised, STARTTLS on the last line",
	    "flags %#x size %llu", e.flags, (unsigned long long)e.size);

	/* the first line is the greeting, whatever it says */
	reply_init(&r);
	add(&r, "250-STARTTLS");
	add(&r, "250 HELP");
	ehlo_parse(&r, &e);
	CHECK(e.flags == 0, "EHLO keyword on the greeting line is ignored",
	    "flags %#x", e.flags);
	reply_init(&r);
	add(&r, "250 STARTTLS");
	ehlo_parse(&r, &e);
	CHECK(e.flags == 0,
	    "EHLO single-line reply: its keyword-like greeting is ignored",
	    "flags %#x", e.flags);
	reply_init(&r);
	add(&r, "250-mx.example.com STARTTLS SIZE 10");
	add(&r, "250 HELP");
	ehlo_parse(&r, &e);
	CHECK(e.flags == 0 && e.size == 0,
	    "EHLO keywords inside the greeting text are ignored",
	    "flags %#x size %llu", e.flags, (unsigned long long)e.size);
}

/*
 * An EHLO reply longer than REPLY_TEXT_MAX: filler lines bring the kept
 * text to where only the first `keep' octets of `line' still fit.
 */
static void
ehlo_cut(
    const char *line, size_t keep, struct ehlo *e, char *last, size_t lastlen)
{
	struct reply *r = malloc(sizeof(*r));
	char          fill[REPLY_LINE_MAX + 1];
	size_t        want, n;
	const char   *why;
	int           tries;

	reply_init(r);
	add(r, "250-mx");
	/* the cut line gets '\n' + keep octets + NUL: text ends at keep */
	want = REPLY_TEXT_MAX - 2 - keep;
	for (tries = 0; r->textlen < want && tries < 20; tries++) {
		n = want - r->textlen - 1; /* '\n' + n octets */
		if (n > REPLY_LINE_MAX)
			n = REPLY_LINE_MAX / 2;
		if (n < 4)
			n = 4;
		memset(fill, 'X', n);
		memcpy(fill, "250-", 4);
		reply_line(r, fill, n, &why);
	}
	add(r, line);
	add(r, "250 HELP");
	ehlo_parse(r, e);
	n = strlen(r->text);
	snprintf(last, lastlen, "%s", r->text + (n > 20 ? n - 20 : 0));
	free(r);
}

static void
check_ehlo_cut(void)
{
	struct ehlo e;
	char        last[32];

	ehlo_cut("250-SIZE 52428800", 12, &e, last, sizeof(last));
	CHECK(strstr(last, "SIZE 524") == NULL && e.size != 524,
	    "EHLO SIZE 52428800 cut by the text cap is not taken as SIZE 524",
	    "text ends \"%s\", size %llu", last, (unsigned long long)e.size);
	ehlo_cut("250-STARTTLSX", 12, &e, last, sizeof(last));
	CHECK(strstr(last, "STARTTLS") == NULL && !(e.flags & EXT_STARTTLS),
	    "EHLO STARTTLSX cut by the text cap is not taken as STARTTLS",
	    "text ends \"%s\", flags %#x", last, e.flags);
	/* a reply longer than the text kept must not hide STARTTLS */
	ehlo_cut("250-STARTTLS", 0, &e, last, sizeof(last));
	CHECK(strstr(last, "STARTTLS") == NULL && (e.flags & EXT_STARTTLS),
	    "S2 EHLO STARTTLS past the text cap is still seen",
	    "text ends \"%s\", flags %#x", last, e.flags);
	ehlo_cut("250-SIZE 52428800", 0, &e, last, sizeof(last));
	CHECK(e.size == 52428800,
	    "P16 EHLO SIZE past the text cap is still read whole", "size %llu",
	    (unsigned long long)e.size);
}

struct ecase {
	const char *name;
	const char *line;
	const char *want; /* NULL: no enhanced code */
};

static const struct ecase ecases[] = {
	{ "P6 enhanced code 5.1.1 of a 550", "550 5.1.1 user unknown",
	    "5.1.1" },
	{ "P6 enhanced code 2.0.0 of a 250 without more text", "250 2.0.0",
	    "2.0.0" },
	{ "P6 enhanced code 4.7.0 of a 451", "451 4.7.0 try later", "4.7.0" },
	{ "P6 multi-digit subject and detail 5.7.26", "550 5.7.26 DMARC",
	    "5.7.26" },
	{ "P6 class mismatch 550 4.1.1 gives none", "550 4.1.1 user unknown",
	    NULL },
	{ "P6 class mismatch 250 5.0.0 gives none", "250 5.0.0 ok", NULL },
	{ "P6 malformed 550 5.1 gives none", "550 5.1", NULL },
	{ "P6 malformed 550 5.1 with text gives none", "550 5.1 no", NULL },
	{ "P6 malformed trailing dot 550 5.1. gives none", "550 5.1. no",
	    NULL },
	{ "P6 four parts 550 5.1.1.1 give none", "550 5.1.1.1 no", NULL },
	{ "P6 code glued to text 550 5.1.1x gives none", "550 5.1.1x no",
	    NULL },
	{ "P6 no enhanced code in plain text gives none", "550 user unknown",
	    NULL },
	{ "P6 bare reply code gives none", "550", NULL },
	{ "P6 empty subject 550 5..1 gives none", "550 5..1 no", NULL },
	{ "P6 detail of four digits 5.1.1000 gives none (RFC 3463 1*3digit)",
	    "550 5.1.1000 no", NULL },
	{ "P6 class 3 is not an RFC 3463 class: 354 3.0.0 gives none",
	    "354 3.0.0 go ahead", NULL },
};

static void
check_enhanced(void)
{
	const struct ecase *c;
	struct reply        r;
	const char         *why, *got;
	char                buf[32];
	size_t              i;
	int                 rv;

	for (i = 0; i < sizeof(ecases) / sizeof(ecases[0]); i++) {
		c = &ecases[i];
		reply_init(&r);
		rv = reply_line(&r, c->line, strlen(c->line), &why);
		memset(buf, 'Z', sizeof(buf));
		got =
		    rv == 1 ? reply_enhanced(&r, buf, sizeof(buf)) : "(parse)";
		if (c->want)
			CHECK(got != NULL && strcmp(got, c->want) == 0, c->name,
			    "got %s", got ? got : "NULL");
		else
			CHECK(got == NULL, c->name, "got \"%s\"", got);
	}

	reply_init(&r);
	add(&r, "550-5.1.1 first line");
	add(&r, "550 5.2.2 second line");
	got = reply_enhanced(&r, buf, sizeof(buf));
	CHECK(got != NULL && strcmp(got, "5.1.1") == 0,
	    "P6 enhanced code is taken from the first line of a multi-line "
	    "reply",
	    "got %s", got ? got : "NULL");

	reply_init(&r);
	add(&r, "550 5.1.1 x");
	memset(buf, 'Z', sizeof(buf));
	got = reply_enhanced(&r, buf, 5);
	CHECK(got == NULL && buf[5] == 'Z',
	    "P6 reply_enhanced refuses a buffer too small for code and NUL",
	    "got %s", got ? got : "NULL");
	got = reply_enhanced(&r, buf, 6);
	CHECK(got != NULL && strcmp(got, "5.1.1") == 0 && buf[6] == 'Z',
	    "P6 reply_enhanced fills an exact-size buffer and no more",
	    "got %s", got ? got : "NULL");
}

static void
check_printable(void)
{
	char buf[16];

	memset(buf, 'Z', sizeof(buf));
	printable(buf, "a\001b\177c\xff\t\r\n~ ", 11, sizeof(buf));
	CHECK(strcmp(buf, "a?b?c????~ ") == 0,
	    "printable replaces control, DEL and 8-bit octets with '?'",
	    "got \"%s\"", buf);

	memset(buf, 'Z', sizeof(buf));
	printable(buf, "abcdef", 6, 4);
	CHECK(strcmp(buf, "abc") == 0 && buf[4] == 'Z',
	    "printable truncates to dstlen - 1 and terminates", "got \"%.16s\"",
	    buf);

	memset(buf, 'Z', sizeof(buf));
	printable(buf, "abc", 3, 1);
	CHECK(buf[0] == '\0' && buf[1] == 'Z',
	    "printable with dstlen 1 writes only the NUL", "got \"%.16s\"",
	    buf);

	memset(buf, 'Z', sizeof(buf));
	printable(buf, "abc", 3, 0);
	CHECK(buf[0] == 'Z', "printable with dstlen 0 writes nothing",
	    "wrote %#x", (unsigned char)buf[0]);

	memset(buf, 'Z', sizeof(buf));
	printable(buf, "ab\0cd", 5, sizeof(buf));
	CHECK(memcmp(buf, "ab?cd", 6) == 0,
	    "printable copies len octets, a NUL included as '?'",
	    "got \"%.16s\"", buf);
}

int
main(void)
{
	check_cases();
	check_text();
	check_limits();
	check_ehlo();
	check_ehlo_cut();
	check_enhanced();
	check_printable();
	return check_exit();
}
