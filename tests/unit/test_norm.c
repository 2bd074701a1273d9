/*
 * The message normaliser (norm.c): LF or CRLF to CRLF (P12), dot-stuffing
 * of every line and the final ".\r\n" (P13), the 998-octet line limit
 * (P14), 8-bit detection (P15), the SIZE= count (P16), and refusal of
 * NUL and bare CR.  Every case is fed in every possible chunking when
 * short, else in one chunk, octet by octet, every two-way split and
 * random splits, since norm_feed() promises "any chunking of the input".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_PROG "test_norm"
#include "check.h"
#include "parent.h"

#define ALL_SPLITS_MAX 16 /* inputs this short get all 2^(n-1) splits */
#define RANDOM_SPLITS  64
#define PROP_INPUTS    500

/* A run of the normaliser over one chunking of the input. */
struct run {
	uint8_t    *out;
	size_t      outlen;
	struct norm n;
};

static uint64_t rng_state = 0x6d78636c69656e74ULL; /* fixed seed */

static uint32_t
rng(void)
{
	/* xorshift64*: deterministic, good enough for test data */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

static size_t
rnd(size_t lo, size_t hi)
{
	return lo + rng() % (hi - lo + 1);
}

static void *
xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL) {
		perror("malloc");
		exit(2);
	}
	return p;
}

/*
 * Feed `in' in chunks whose lengths are in cuts[0..ncuts) (the rest in
 * one final chunk), then finish.  Stops feeding once an error is set, as
 * a caller would.
 */
static void
run_chunks(const uint8_t *in, size_t len, const size_t *cuts, size_t ncuts,
    struct run *r)
{
	size_t off = 0, i, c;

	r->out = xmalloc(2 * len + 5);
	r->outlen = 0;
	norm_init(&r->n);
	for (i = 0; off < len && r->n.err == NORM_OK; i++) {
		c = i < ncuts ? cuts[i] : len - off;
		if (c > len - off)
			c = len - off;
		r->outlen += norm_feed(&r->n, in + off, c, r->out + r->outlen);
		off += c;
	}
	r->outlen += norm_finish(&r->n, r->out + r->outlen);
}

struct ncase {
	const char   *name;
	const char   *in;
	size_t        inlen; /* 0: strlen(in) */
	const char   *out;   /* expected output, NULL on error */
	uint64_t      size;  /* expected SIZE= count */
	int           has8bit;
	enum norm_err err;
	uint64_t      line; /* the line an error names */
};

static const struct ncase cases[] = {
	{ "P12 converts LF to CRLF", "hello\nworld\n", 0,
	    "hello\r\nworld\r\n.\r\n", 14, 0, NORM_OK, 0 },
	{ "P12 keeps CRLF as it is", "hello\r\nworld\r\n", 0,
	    "hello\r\nworld\r\n.\r\n", 14, 0, NORM_OK, 0 },
	{ "P12 normalises mixed LF and CRLF", "a\nb\r\nc\n", 0,
	    "a\r\nb\r\nc\r\n.\r\n", 9, 0, NORM_OK, 0 },
	{ "P12 keeps empty lines", "a\n\n\r\nb\n", 0, "a\r\n\r\n\r\nb\r\n.\r\n",
	    10, 0, NORM_OK, 0 },
	{ "P12 a lone newline is a one-line message", "\n", 0, "\r\n.\r\n", 2,
	    0, NORM_OK, 0 },
	{ "P13 final line without newline gets CRLF", "hello", 0,
	    "hello\r\n.\r\n", 7, 0, NORM_OK, 0 },
	{ "P13 appends .CRLF exactly once, no extra CRLF", "hello\n", 0,
	    "hello\r\n.\r\n", 7, 0, NORM_OK, 0 },
	{ "P13 dot-stuffs the first line", ".hidden\nx\n", 0,
	    "..hidden\r\nx\r\n.\r\n", 12, 0, NORM_OK, 0 },
	{ "P13 dot-stuffs a lone dot line", "a\n.\nb\n", 0,
	    "a\r\n..\r\nb\r\n.\r\n", 9, 0, NORM_OK, 0 },
	{ "P13 dot-stuffs a lone dot as the first line", ".\n", 0,
	    "..\r\n.\r\n", 3, 0, NORM_OK, 0 },
	{ "P13 dot-stuffs a '..' line to '...'", "..\n", 0, "...\r\n.\r\n", 4,
	    0, NORM_OK, 0 },
	{ "P13 dot-stuffs a final dot without newline", "a\n.", 0,
	    "a\r\n..\r\n.\r\n", 6, 0, NORM_OK, 0 },
	{ "P13 an input CRLF.CRLF cannot end the data early", "a\r\n.\r\nb\r\n",
	    0, "a\r\n..\r\nb\r\n.\r\n", 9, 0, NORM_OK, 0 },
	{ "P12 an input LF.LF cannot end the data early (smuggling)",
	    "a\n.\nMAIL FROM:<x@y>\n", 0, "a\r\n..\r\nMAIL FROM:<x@y>\r\n.\r\n",
	    23, 0, NORM_OK, 0 },
	{ "P13 does not stuff a dot after the first column", "x.\n .\n", 0,
	    "x.\r\n .\r\n.\r\n", 8, 0, NORM_OK, 0 },
	{ "P15 has8bit set for an octet >= 0x80", "caf\xc3\xa9\n", 0,
	    "caf\xc3\xa9\r\n.\r\n", 7, 1, NORM_OK, 0 },
	{ "P15 has8bit set for octet 0x80 alone", "\x80", 0, "\x80\r\n.\r\n", 3,
	    1, NORM_OK, 0 },
	{ "P15 has8bit clear for 7-bit input with DEL and TAB", "a\tb\x7f\n", 0,
	    "a\tb\x7f\r\n.\r\n", 6, 0, NORM_OK, 0 },
	{ "NUL is refused on line 1", "ab\0c\n", 5, NULL, 0, 0, NORM_NUL, 1 },
	{ "NUL is refused and its line 3 reported", "a\nb\n\0", 5, NULL, 0, 0,
	    NORM_NUL, 3 },
	{ "NUL at the start of a line is refused", "a\r\n\0\n", 5, NULL, 0, 0,
	    NORM_NUL, 2 },
	{ "P12 bare CR mid-line is refused", "a\rb\n", 0, NULL, 0, 0,
	    NORM_BARE_CR, 1 },
	{ "P12 bare CR on line 2 reports line 2", "a\nb\rc\n", 0, NULL, 0, 0,
	    NORM_BARE_CR, 2 },
	{ "P12 CR CR LF is refused", "a\r\r\n", 0, NULL, 0, 0, NORM_BARE_CR,
	    1 },
	{ "P12 LF CR (reversed newline) is refused", "a\n\rb", 0, NULL, 0, 0,
	    NORM_BARE_CR, 2 },
	{ "P12 CR at end of input is refused", "a\nb\r", 0, NULL, 0, 0,
	    NORM_BARE_CR, 2 },
	{ "P12 a lone CR is refused", "\r", 0, NULL, 0, 0, NORM_BARE_CR, 1 },
	{ "empty input is NORM_EMPTY", "", 0, NULL, 0, 0, NORM_EMPTY, 1 },
};

static int
same_result(
    const struct ncase *c, const struct run *r, char *why, size_t whylen)
{
	size_t outlen = c->out ? strlen(c->out) : 0;

	if (r->n.err != c->err) {
		snprintf(why, whylen, "err %d (%s), want %d (%s)", r->n.err,
		    norm_strerror(r->n.err), c->err, norm_strerror(c->err));
		return 0;
	}
	if (c->err != NORM_OK) {
		if (r->n.line != c->line) {
			snprintf(why, whylen, "error on line %llu, want %llu",
			    (unsigned long long)r->n.line,
			    (unsigned long long)c->line);
			return 0;
		}
		return 1;
	}
	if (r->outlen != outlen || memcmp(r->out, c->out, outlen) != 0) {
		snprintf(why, whylen,
		    "output of %zu octets differs from the "
		    "expected %zu",
		    r->outlen, outlen);
		return 0;
	}
	if (r->n.wire != r->outlen) {
		snprintf(why, whylen, "wire %llu, output %zu octets",
		    (unsigned long long)r->n.wire, r->outlen);
		return 0;
	}
	if (r->n.size != c->size) {
		snprintf(why, whylen, "size %llu, want %llu",
		    (unsigned long long)r->n.size, (unsigned long long)c->size);
		return 0;
	}
	if (r->n.has8bit != c->has8bit) {
		snprintf(why, whylen, "has8bit %d, want %d", r->n.has8bit,
		    c->has8bit);
		return 0;
	}
	return 1;
}

/* Run one case in every chunking; one check line for all of them. */
static void
check_case(const struct ncase *c)
{
	const uint8_t *in = (const uint8_t *)c->in;
	size_t         len = c->inlen ? c->inlen : strlen(c->in);
	size_t        *cuts = xmalloc((len + 1) * sizeof(*cuts));
	size_t         i, k, n, runs = 0;
	char           why[200], how[80];
	struct run     r;
	int            ok = 1;

	/* one chunk, then one octet at a time */
	for (k = 0; k < 2 && ok; k++) {
		for (i = 0; i < len; i++)
			cuts[i] = 1;
		run_chunks(in, len, cuts, k == 0 ? 0 : len, &r);
		ok = same_result(c, &r, why, sizeof(why));
		snprintf(
		    how, sizeof(how), k == 0 ? "one chunk" : "octet by octet");
		free(r.out);
		runs++;
	}
	if (len > 1 && len <= ALL_SPLITS_MAX) {
		/* bit i of mask set: cut after octet i */
		unsigned long mask, masks = 1UL << (len - 1);

		for (mask = 0; mask < masks && ok; mask++) {
			size_t last = 0;

			n = 0;
			for (i = 0; i + 1 < len; i++)
				if (mask & (1UL << i)) {
					cuts[n++] = i + 1 - last;
					last = i + 1;
				}
			run_chunks(in, len, cuts, n, &r);
			ok = same_result(c, &r, why, sizeof(why));
			snprintf(how, sizeof(how), "split mask %#lx", mask);
			free(r.out);
			runs++;
		}
	} else if (len > 1) {
		for (i = 1; i < len && ok; i++) {
			cuts[0] = i;
			run_chunks(in, len, cuts, 1, &r);
			ok = same_result(c, &r, why, sizeof(why));
			snprintf(how, sizeof(how), "split at %zu", i);
			free(r.out);
			runs++;
		}
		for (k = 0; k < RANDOM_SPLITS && ok; k++) {
			size_t left = len;

			for (n = 0; left > 0; n++) {
				cuts[n] = rnd(1, left < 40 ? left : 40);
				left -= cuts[n];
			}
			run_chunks(in, len, cuts, n, &r);
			ok = same_result(c, &r, why, sizeof(why));
			snprintf(how, sizeof(how), "random split #%zu", k);
			free(r.out);
			runs++;
		}
	}
	CHECK(ok, c->name, "%s (%s, run %zu)", why, how, runs);
	free(cuts);
}

/* A case built at run time: `prefix' + n * fill + `suffix'. */
static void
check_built(const char *name, const char *prefix, char fill, size_t nfill,
    const char *suffix, const char *outprefix, const char *outsuffix,
    enum norm_err err, uint64_t line)
{
	size_t       plen = strlen(prefix), slen = strlen(suffix);
	size_t       olen = strlen(outprefix) + nfill + strlen(outsuffix);
	char        *in = xmalloc(plen + nfill + slen + 1);
	char        *out = xmalloc(olen + 1);
	struct ncase c;

	memcpy(in, prefix, plen);
	memset(in + plen, fill, nfill);
	memcpy(in + plen + nfill, suffix, slen + 1);
	snprintf(out, olen + 1, "%s%.*s%s", outprefix, (int)nfill, in + plen,
	    outsuffix);
	memset(&c, 0, sizeof(c));
	c.name = name;
	c.in = in;
	c.inlen = plen + nfill + slen;
	c.out = err == NORM_OK ? out : NULL;
	/* every line here is stuffed at most once: count the extra dots */
	c.size = err == NORM_OK ? strlen(out) - 3 : 0;
	if (err == NORM_OK && outprefix[0] == '.' && outprefix[1] == '.')
		c.size--;
	c.err = err;
	c.line = line;
	check_case(&c);
	free(in);
	free(out);
}

static void
check_line_limits(void)
{
	check_built("P14 a 998-octet line with LF is accepted", "", 'x', 998,
	    "\n", "", "\r\n.\r\n", NORM_OK, 0);
	check_built("P14 a 998-octet line with CRLF is accepted", "", 'x', 998,
	    "\r\n", "", "\r\n.\r\n", NORM_OK, 0);
	check_built("P14 a final 998-octet line without newline is accepted",
	    "", 'x', 998, "", "", "\r\n.\r\n", NORM_OK, 0);
	check_built("P14 a 999-octet line with LF is refused", "", 'x', 999,
	    "\n", "", "", NORM_LONG_LINE, 1);
	check_built("P14 a 999-octet line with CRLF is refused", "", 'x', 999,
	    "\r\n", "", "", NORM_LONG_LINE, 1);
	check_built("P14 a final 999-octet line without newline is refused", "",
	    'x', 999, "", "", "", NORM_LONG_LINE, 1);
	check_built("P14 a 999-octet line 2 is refused and line 2 reported",
	    "ok\r\n", 'y', 999, "\r\nmore\r\n", "", "", NORM_LONG_LINE, 2);
	check_built("P14 the stuffed dot does not count: '.' + 997 octets OK",
	    ".", 'z', 997, "\n", "..", "\r\n.\r\n", NORM_OK, 0);
	check_built("P14 '.' + 998 octets (999 before stuffing) is refused",
	    ".", 'z', 998, "\n", "", "", NORM_LONG_LINE, 1);
	check_built("P14 a 1000-octet text line (998 + CRLF) after short lines",
	    "a\nb\n", 'q', 998, "\r\nc\n", "a\r\nb\r\n", "\r\nc\r\n.\r\n",
	    NORM_OK, 0);
}

static void
check_strerror(void)
{
	enum norm_err e, f;
	int           ok = 1;

	for (e = NORM_OK; e <= NORM_EMPTY && ok; e++)
		for (f = NORM_OK; f < e && ok; f++)
			ok = strcmp(norm_strerror(e), norm_strerror(f)) != 0 &&
			    strcmp(norm_strerror(e), "unknown error") != 0;
	CHECK(ok, "norm_strerror gives each error its own message",
	    "duplicate or unknown message");
}

/* Random valid input: its octets and its CRLF-normalised form. */
struct sample {
	uint8_t *in, *crlf;
	size_t   inlen, crlflen;
	int      has8bit;
	int      lastterm; /* the last line had a newline */
};

static void
make_sample(struct sample *s)
{
	static const char pool[] = "..aZ0 \t-:~\x7f\x80\xff";
	size_t            nlines, l, len, i;
	uint8_t           c;

	s->in = xmalloc(20 * 1002);
	s->crlf = xmalloc(20 * 1002);
	do {
		s->inlen = s->crlflen = 0;
		s->has8bit = 0;
		s->lastterm = 1;
		nlines = rnd(1, 20);
		for (l = 0; l < nlines; l++) {
			switch (rnd(0, 9)) {
			case 0:
				len = rnd(990, 998);
				break;
			case 1:
			case 2:
				len = rnd(0, 100);
				break;
			default:
				len = rnd(0, 12);
				break;
			}
			for (i = 0; i < len; i++) {
				c = pool[rnd(0, sizeof(pool) - 2)];
				if (i == 0 && rnd(0, 2) == 0)
					c = '.';
				s->has8bit |= c >= 0x80;
				s->in[s->inlen++] = c;
				s->crlf[s->crlflen++] = c;
			}
			s->lastterm =
			    !(l + 1 == nlines && len > 0 && rnd(0, 3) == 0);
			if (s->lastterm) {
				if (rnd(0, 1))
					s->in[s->inlen++] = '\r';
				s->in[s->inlen++] = '\n';
			}
			s->crlf[s->crlflen++] = '\r';
			s->crlf[s->crlflen++] = '\n';
		}
	} while (s->inlen == 0);
}

/* Undo dot-stuffing; -1 if out is not well-formed SMTP data. */
static int
unstuff(const uint8_t *out, size_t len, uint8_t *plain, size_t *plainlen,
    const char **why)
{
	size_t i = 0, p = 0, eol;

	if (len < 3 || memcmp(out + len - 3, ".\r\n", 3) != 0)
		return *why = "does not end in .CRLF", -1;
	if (len > 3 &&
	    (len < 5 || out[len - 5] != '\r' || out[len - 4] != '\n'))
		return *why = "final . is not on a line of its own", -1;
	len -= 3;
	while (i < len) {
		for (eol = i; eol < len && out[eol] != '\r' && out[eol] != '\n';
		     eol++)
			;
		if (eol + 1 >= len || out[eol] != '\r' || out[eol + 1] != '\n')
			return *why = "bare CR or bare LF", -1;
		if (eol == i + 1 && out[i] == '.')
			return *why = "CRLF.CRLF before the end", -1;
		if (out[i] == '.') {
			if (out[i + 1] != '.')
				return *why = "a line starts with an unstuffed "
				              "dot",
				       -1;
			i++;
		}
		memcpy(plain + p, out + i, eol + 2 - i);
		p += eol + 2 - i;
		i = eol + 2;
	}
	*plainlen = p;
	return 0;
}

static void
check_property(void)
{
	size_t k, i, n, left, *cuts, plainlen;
	int  ok_plain = 1, ok_form = 1, ok_count = 1, ok_8bit = 1, ok_chunk = 1;
	int  ok_nul = 1, ok_cr = 1;
	char d_plain[120] = "", d_form[120] = "", d_count[120] = "";
	char d_8bit[120] = "", d_chunk[120] = "", d_nul[120] = "",
	     d_cr[120] = "";
	const char   *why;
	struct sample s;
	struct run    whole, r;
	uint8_t      *plain, *bad;

	for (k = 0; k < PROP_INPUTS; k++) {
		make_sample(&s);
		cuts = xmalloc((s.inlen + 1) * sizeof(*cuts));
		plain = xmalloc(2 * s.inlen + 8);

		run_chunks(s.in, s.inlen, NULL, 0, &whole);
		if (whole.n.err != NORM_OK) {
			if (ok_form)
				snprintf(d_form, sizeof(d_form),
				    "input #%zu refused: %s", k,
				    norm_strerror(whole.n.err));
			ok_form = 0;
		} else if (unstuff(whole.out, whole.outlen, plain, &plainlen,
		               &why) == -1) {
			if (ok_form)
				snprintf(d_form, sizeof(d_form),
				    "input #%zu: output %s", k, why);
			ok_form = 0;
		} else if (plainlen != s.crlflen ||
		    memcmp(plain, s.crlf, plainlen) != 0) {
			if (ok_plain)
				snprintf(d_plain, sizeof(d_plain),
				    "input #%zu: unstuffed %zu octets, CRLF "
				    "form %zu",
				    k, plainlen, s.crlflen);
			ok_plain = 0;
		}
		if (whole.n.size != s.crlflen || whole.n.wire != whole.outlen) {
			if (ok_count)
				snprintf(d_count, sizeof(d_count),
				    "input #%zu: size %llu want %zu, wire %llu "
				    "want %zu",
				    k, (unsigned long long)whole.n.size,
				    s.crlflen, (unsigned long long)whole.n.wire,
				    whole.outlen);
			ok_count = 0;
		}
		if (whole.n.has8bit != s.has8bit) {
			if (ok_8bit)
				snprintf(d_8bit, sizeof(d_8bit),
				    "input #%zu: has8bit %d want %d", k,
				    whole.n.has8bit, s.has8bit);
			ok_8bit = 0;
		}

		/* the same input in random chunks */
		for (n = 0, left = s.inlen; left > 0; n++) {
			cuts[n] = rnd(0, 3) == 0 ? 1 : rnd(1, left);
			if (cuts[n] > left)
				cuts[n] = left;
			left -= cuts[n];
		}
		run_chunks(s.in, s.inlen, cuts, n, &r);
		if (r.n.err != whole.n.err || r.outlen != whole.outlen ||
		    memcmp(r.out, whole.out, r.outlen) != 0 ||
		    r.n.size != whole.n.size || r.n.wire != whole.n.wire) {
			if (ok_chunk)
				snprintf(d_chunk, sizeof(d_chunk),
				    "input #%zu: %zu chunks differ from one", k,
				    n);
			ok_chunk = 0;
		}
		free(r.out);

		/* one NUL injected (not inside a CRLF): refused, on its line */
		bad = xmalloc(s.inlen + 1);
		do {
			i = rnd(0, s.inlen);
		} while (i > 0 && s.in[i - 1] == '\r');
		memcpy(bad, s.in, i);
		bad[i] = '\0';
		memcpy(bad + i + 1, s.in + i, s.inlen - i);
		run_chunks(bad, s.inlen + 1, NULL, 0, &r);
		{
			uint64_t line = 1;
			size_t   j;

			for (j = 0; j < i; j++)
				line += bad[j] == '\n';
			if (r.n.err != NORM_NUL || r.n.line != line) {
				if (ok_nul)
					snprintf(d_nul, sizeof(d_nul),
					    "input #%zu, NUL at %zu: err %d "
					    "line %llu, want line %llu",
					    k, i, r.n.err,
					    (unsigned long long)r.n.line,
					    (unsigned long long)line);
				ok_nul = 0;
			}
		}
		free(r.out);

		/* one CR injected where no LF follows: refused, on its line */
		do {
			i = rnd(0, s.inlen);
		} while (i < s.inlen && s.in[i] == '\n');
		memcpy(bad, s.in, i);
		bad[i] = '\r';
		memcpy(bad + i + 1, s.in + i, s.inlen - i);
		for (n = 0, left = s.inlen + 1; left > 0; n++) {
			cuts[n] = rnd(1, left);
			left -= cuts[n];
		}
		run_chunks(bad, s.inlen + 1, cuts, n, &r);
		{
			uint64_t line = 1;
			size_t   j;

			for (j = 0; j < i; j++)
				line += bad[j] == '\n';
			if (r.n.err != NORM_BARE_CR || r.n.line != line) {
				if (ok_cr)
					snprintf(d_cr, sizeof(d_cr),
					    "input #%zu, CR at %zu: err %d "
					    "line %llu, want line %llu",
					    k, i, r.n.err,
					    (unsigned long long)r.n.line,
					    (unsigned long long)line);
				ok_cr = 0;
			}
		}
		free(r.out);
		free(bad);

		free(whole.out);
		free(plain);
		free(cuts);
		free(s.in);
		free(s.crlf);
	}
	CHECK(ok_form,
	    "P12/P13 property: output is CRLF lines, stuffed, no "
	    "early CRLF.CRLF, ends in CRLF.CRLF (500 random inputs)",
	    "%s", d_form);
	CHECK(ok_plain,
	    "P13 property: un-stuffing the output gives the "
	    "CRLF-normalised input (500 random inputs)",
	    "%s", d_plain);
	CHECK(ok_count,
	    "P16 property: size is the CRLF-normalised length, "
	    "wire the output length (500 random inputs)",
	    "%s", d_count);
	CHECK(ok_8bit,
	    "P15 property: has8bit iff an input octet is >= 0x80 "
	    "(500 random inputs)",
	    "%s", d_8bit);
	CHECK(ok_chunk,
	    "property: random chunking gives the same result as "
	    "one chunk (500 random inputs)",
	    "%s", d_chunk);
	CHECK(ok_nul,
	    "property: a NUL injected anywhere is refused on its line "
	    "(500 random inputs)",
	    "%s", d_nul);
	CHECK(ok_cr,
	    "P12 property: a bare CR injected anywhere is refused on "
	    "its line (500 random inputs)",
	    "%s", d_cr);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
	check_line_limits();
	check_strerror();
	check_property();
	return check_exit();
}
