/*
 * MTA-STS TXT records, policies and MX matching (RFC 8461 §3.1, §3.2,
 * §4.1).  Both formats come from the network and are hostile input; the
 * policy is read strictly by its ABNF (RFC 7405: %s"..." is case-
 * sensitive), and each place where mxclient chose is marked [project].
 */
#include <string.h>

#include "sts.h"

#define STS_V        "v=STSv1"
#define STS_V_LEN    7
#define EXT_NAME_MAX 32  /* sts-ext-name: 1 + *31 (§3.1, §3.2) */
#define LABEL_MAX    63  /* RFC 1035 §2.3.4 */
#define DOMAIN_MAX   253 /* RFC 1035 §2.3.4, without the root's dot */

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_alnum(int c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* sts-ext-name and sts-policy-ext-name: its length at s, or 0. */
static size_t
ext_name(const uint8_t *s, size_t len)
{
	size_t i;

	if (len == 0 || !is_alnum(s[0]))
		return 0;
	for (i = 1; i < len && i < EXT_NAME_MAX + 1; i++)
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '-' &&
		    s[i] != '.')
			break;
	return i > EXT_NAME_MAX ? 0 : i;
}

int
sts_id_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > STS_ID_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!is_alnum((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * A Domain of RFC 5321 §4.1.2 (LDH labels starting and ending with a
 * letter or digit), labels of at most 63 octets, 253 in all, and at
 * least minlabels labels.  Letters in any case.
 */
static int
ldh_domain(const char *s, size_t len, int minlabels)
{
	size_t i, label = 0;
	int    nlabels = 1;

	if (len == 0 || len > DOMAIN_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			nlabels++;
			continue;
		}
		if (!is_alnum(c) && !(c == '-' && label > 0))
			return 0;
		if (++label > LABEL_MAX)
			return 0;
	}
	return label > 0 && s[len - 1] != '-' && nlabels >= minlabels;
}

/* --- the TXT record (§3.1) ------------------------------------------- */

/* The index past the WSP at s[i]. */
static size_t
skip_wsp(const uint8_t *s, size_t len, size_t i)
{
	while (i < len && is_wsp(s[i]))
		i++;
	return i;
}

/*
 * One sts-field at txt[i]: the index past it, or 0 if it is malformed.
 * A field named "id" is the sts-id, never an extension, so it must be
 * 1*32(ALPHA / DIGIT), and a second one makes the record malformed
 * [project: §3.2's last paragraph would keep the first] (Y2).
 */
static size_t
txt_field(const uint8_t *txt, size_t len, size_t i, char *id, int *nid)
{
	size_t n, v;

	if ((n = ext_name(txt + i, len - i)) == 0 || i + n >= len ||
	    txt[i + n] != '=')
		return 0;
	/* sts-ext-value: %x21-3A / %x3C / %x3E-7E, one or more */
	for (v = i + n + 1; v < len; v++)
		if (txt[v] < 0x21 || txt[v] > 0x7e || txt[v] == ';' ||
		    txt[v] == '=')
			break;
	if (v == i + n + 1)
		return 0;
	if (n == 2 && memcmp(txt + i, "id", 2) == 0) {
		if (++*nid > 1 ||
		    !sts_id_valid((const char *)txt + i + 3, v - i - 3))
			return 0;
		memcpy(id, txt + i + 3, v - i - 3);
		id[v - i - 3] = '\0';
	}
	return v;
}

/*
 * A record is an STS record when "v=STSv1" is followed by the end, WSP
 * or ";": "v=STSv10" is some other version, to be ignored (Y1).  Then
 * sts-version 1*(sts-field-delim sts-field) [sts-field-delim], where
 * sts-field-delim = *WSP ";" *WSP; the ABNF allows WSP before the ";"
 * though §3.1's prose says "v=STSv1;" (erratum 6285): the ABNF wins.
 * WSP at the very end is accepted too [project: it harms nothing] (Y2).
 */
enum sts_txt
sts_txt_parse(const uint8_t *txt, size_t len, char id[STS_ID_MAX + 1])
{
	size_t i = STS_V_LEN;
	int    nid = 0;

	id[0] = '\0';
	if (len < STS_V_LEN || memcmp(txt, STS_V, STS_V_LEN) != 0)
		return STS_TXT_NOT_STS;
	if (i < len && !is_wsp(txt[i]) && txt[i] != ';')
		return STS_TXT_NOT_STS;
	for (;;) {
		if ((i = skip_wsp(txt, len, i)) == len)
			break;
		if (txt[i] != ';')
			goto bad;
		if ((i = skip_wsp(txt, len, i + 1)) == len)
			break; /* the one optional final delimiter */
		if ((i = txt_field(txt, len, i, id, &nid)) == 0)
			goto bad;
	}
	if (nid == 1)
		return STS_TXT_OK;
bad:
	id[0] = '\0';
	return STS_TXT_BAD;
}

/* --- the policy (§3.2) ----------------------------------------------- */

enum { SEEN_VERSION = 1, SEEN_MODE = 2, SEEN_MAX_AGE = 4 };

/* One policy line being read. */
struct pline {
	const uint8_t *name, *val;
	size_t         namelen, vallen;
};

/* The length of the UTF-8 sequence at p (RFC 3629 §4), or 0. */
static size_t
utf8_len(const uint8_t *p, size_t len)
{
	uint8_t lo = 0x80, hi = 0xbf;
	size_t  n, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (p[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (p[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (p[0] == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (len < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/*
 * sts-policy-ext-value: VCHAR, SP and UTF-8 [RFC 3629], no control
 * octets; the field's *WSP already took leading and trailing blanks.
 */
static int
ext_value(const uint8_t *v, size_t len)
{
	size_t i = 0, n;

	if (len == 0)
		return 0;
	while (i < len) {
		if (v[i] >= 0x20 && v[i] <= 0x7e) {
			i++;
			continue;
		}
		if ((n = utf8_len(v + i, len - i)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

/*
 * sts-policy-field *WSP: name ":" *WSP value *WSP.  Field names are
 * case-sensitive (%s"version" and so on) and start the line: "Mode:"
 * is an extension and " mode:" is malformed (Y3).
 */
static int
split_line(const uint8_t *l, size_t len, struct pline *f)
{
	size_t i;

	if ((f->namelen = ext_name(l, len)) == 0 || f->namelen == len ||
	    l[f->namelen] != ':')
		return -1;
	f->name = l;
	i = skip_wsp(l, len, f->namelen + 1);
	while (len > i && is_wsp(l[len - 1]))
		len--;
	f->val = l + i;
	f->vallen = len - i;
	return 0;
}

static int
field_is(const struct pline *f, const char *name)
{
	return f->namelen == strlen(name) &&
	    memcmp(f->name, name, f->namelen) == 0;
}

static int
value_is(const struct pline *f, const char *v)
{
	return f->vallen == strlen(v) && memcmp(f->val, v, f->vallen) == 0;
}

/* max_age: 1*10DIGIT, at most 31557600 (Y4). */
static enum sts_perr
max_age(const struct pline *f, struct sts_policy *pol)
{
	uint64_t v = 0;
	size_t   i;

	if (f->vallen == 0 || f->vallen > 10)
		return STS_P_MAX_AGE;
	for (i = 0; i < f->vallen; i++) {
		if (f->val[i] < '0' || f->val[i] > '9')
			return STS_P_MAX_AGE;
		v = v * 10 + (f->val[i] - '0');
	}
	if (v > STS_MAX_AGE_MAX)
		return STS_P_MAX_AGE;
	pol->max_age = (uint32_t)v;
	return STS_P_OK;
}

static enum sts_perr
version(const struct pline *f, struct sts_policy *pol)
{
	(void)pol;
	return value_is(f, "STSv1") ? STS_P_OK : STS_P_VERSION;
}

static enum sts_perr
mode(const struct pline *f, struct sts_policy *pol)
{
	if (value_is(f, "enforce"))
		pol->mode = STS_MODE_ENFORCE;
	else if (value_is(f, "testing"))
		pol->mode = STS_MODE_TESTING;
	else if (value_is(f, "none"))
		pol->mode = STS_MODE_NONE;
	else
		return STS_P_MODE;
	return STS_P_OK;
}

const char *
sts_mx(const struct sts_policy *pol, size_t i)
{
	return pol->mxtext + pol->mxoff[i];
}

int
sts_mx_add(struct sts_policy *pol, const char *p, size_t len)
{
	size_t i;

	if (pol->nmx == STS_MX_MAX ||
	    len + 1 > sizeof(pol->mxtext) - pol->mxlen)
		return -1;
	pol->mxoff[pol->nmx++] = (uint32_t)pol->mxlen;
	for (i = 0; i < len; i++)
		pol->mxtext[pol->mxlen++] = lower((unsigned char)p[i]);
	pol->mxtext[pol->mxlen++] = '\0';
	return 0;
}

/*
 * mx: ["*."] Domain, kept lower-case.  Duplicates are kept: they match
 * nothing more.  Every pattern of a policy within STS_BODY_MAX fits;
 * one that did not would make the policy invalid, never cut it short,
 * since a pattern dropped could be the MX in use (Y5).
 */
static enum sts_perr
mx(const struct pline *f, struct sts_policy *pol)
{
	size_t skip = 0;

	if (f->vallen >= 2 && f->val[0] == '*' && f->val[1] == '.')
		skip = 2;
	if (!ldh_domain((const char *)f->val + skip, f->vallen - skip, 1))
		return STS_P_MX;
	if (sts_mx_add(pol, (const char *)f->val, f->vallen) == -1)
		return STS_P_TOO_MANY;
	return STS_P_OK;
}

/*
 * The known fields.  version, mode and max_age come once: a second one
 * is an error [project: §3.2's last paragraph keeps the first and
 * ignores the rest; mxclient refuses a policy that says two things]
 * (Y4).  Its bit in *seen; mx has none.
 */
static const struct field {
	const char *name;
	unsigned    bit;
	enum sts_perr (*parse)(const struct pline *, struct sts_policy *);
} fields[] = {
	{ "version", SEEN_VERSION, version },
	{ "mode", SEEN_MODE, mode },
	{ "max_age", SEEN_MAX_AGE, max_age },
	{ "mx", 0, mx },
};

/* One non-blank line. Unknown fields are ignored once well-formed (Y3). */
static enum sts_perr
policy_line(
    const uint8_t *l, size_t len, struct sts_policy *pol, unsigned *seen)
{
	const struct field *k;
	struct pline        f;

	if (split_line(l, len, &f) == -1)
		return STS_P_SYNTAX;
	for (k = fields; k < fields + sizeof(fields) / sizeof(fields[0]); k++) {
		if (!field_is(&f, k->name))
			continue;
		if (*seen & k->bit)
			return STS_P_DUPLICATE;
		*seen |= k->bit;
		return k->parse(&f, pol);
	}
	return ext_value(f.val, f.vallen) ? STS_P_OK : STS_P_SYNTAX;
}

/*
 * The next line of [p, end): its length without the LF or CRLF, *next
 * past that.  A CR anywhere else stays in the line and is refused there.
 */
static size_t
next_line(const uint8_t *p, const uint8_t *end, const uint8_t **next)
{
	const uint8_t *nl = memchr(p, '\n', end - p);

	if (nl == NULL) {
		*next = end;
		return end - p;
	}
	*next = nl + 1;
	if (nl > p && nl[-1] == '\r')
		nl--;
	return nl - p;
}

/* A line that holds only WSP, or nothing. */
static int
blank(const uint8_t *l, size_t len)
{
	return skip_wsp(l, len, 0) == len;
}

/* Control octets but HTAB, and DEL: refused anywhere (NUL too). */
static int
has_ctl(const uint8_t *l, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((l[i] < 0x20 && l[i] != '\t') || l[i] == 0x7f)
			return 1;
	return 0;
}

/*
 * Lines end in LF or CRLF (sts-policy-term).  The ABNF has no blank
 * lines; blank ones are accepted at the end only [project: editors add
 * them] (Y3).  Lines are at most STS_LINE_MAX octets [project] (Y3).
 */
static enum sts_perr
policy_lines(
    const uint8_t *p, size_t len, struct sts_policy *pol, unsigned *seen)
{
	const uint8_t *end = p + len, *next;
	enum sts_perr  e;
	size_t         n;
	int            blanks = 0;

	for (; p < end; p = next) {
		n = next_line(p, end, &next);
		if (n > STS_LINE_MAX || has_ctl(p, n))
			return STS_P_SYNTAX;
		if (blank(p, n)) {
			blanks = 1;
			continue;
		}
		if (blanks)
			return STS_P_SYNTAX;
		if ((e = policy_line(p, n, pol, seen)) != STS_P_OK)
			return e;
	}
	return STS_P_OK;
}

/*
 * version, mode and max_age are required; mx at least once unless mode
 * is none ("required at least once, except when mode is none") (Y4, Y5).
 */
enum sts_perr
sts_policy_parse(const char *text, size_t len, struct sts_policy *pol)
{
	enum sts_perr e;
	unsigned      seen = 0;

	memset(pol, 0, sizeof(*pol));
	if (len > STS_BODY_MAX)
		return STS_P_TOO_LARGE; /* (Y6) */
	e = policy_lines((const uint8_t *)text, len, pol, &seen);
	if (e == STS_P_OK && !(seen & SEEN_VERSION))
		e = STS_P_VERSION;
	if (e == STS_P_OK && !(seen & SEEN_MODE))
		e = STS_P_MODE;
	if (e == STS_P_OK && !(seen & SEEN_MAX_AGE))
		e = STS_P_MAX_AGE;
	if (e == STS_P_OK && pol->mode != STS_MODE_NONE && pol->nmx == 0)
		e = STS_P_NO_MX;
	if (e != STS_P_OK)
		memset(pol, 0, sizeof(*pol));
	return e;
}

const char *
sts_perr_text(enum sts_perr e)
{
	static const char *const text[] = {
		[STS_P_OK] = "policy is valid",
		[STS_P_SYNTAX] = "policy has a malformed line",
		[STS_P_VERSION] = "policy has no \"version: STSv1\" line",
		[STS_P_MODE] = "policy mode is missing or not enforce, "
		               "testing or none",
		[STS_P_MAX_AGE] = "policy max_age is missing, not a number "
		                  "or above 31557600",
		[STS_P_NO_MX] = "policy has no mx line",
		[STS_P_MX] = "policy mx is not a host name or *.name",
		[STS_P_TOO_LARGE] = "policy is larger than 65536 octets",
		[STS_P_TOO_MANY] = "policy has more mx lines than it can hold",
		[STS_P_DUPLICATE] = "policy repeats its version, mode or "
		                    "max_age line",
	};

	if ((unsigned)e >= sizeof(text) / sizeof(text[0]))
		return "policy error of an unknown kind";
	return text[e];
}

/* --- matching (§4.1) ------------------------------------------------- */

/* s (len octets, any case) equals the lower-case NUL-terminated p. */
static int
same_name(const char *s, size_t len, const char *p)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] == '\0' || lower((unsigned char)s[i]) != p[i])
			return 0;
	return p[len] == '\0';
}

/*
 * Case-insensitive, as DNS names compare (RFC 6125 §6.4.1); the MX name
 * must itself be an LDH name.  "*." stands for exactly one label, never
 * the empty one nor several (Y7).
 */
int
sts_mx_match(const struct sts_policy *pol, const char *name)
{
	size_t      len = strlen(name), first, i;
	const char *dot;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (!ldh_domain(name, len, 1))
		return 0;
	dot = memchr(name, '.', len);
	first = dot == NULL ? len : (size_t)(dot - name);
	for (i = 0; i < pol->nmx && i < STS_MX_MAX; i++) {
		const char *p = sts_mx(pol, i);

		if (p[0] == '*' && p[1] == '.') {
			if (dot != NULL &&
			    same_name(dot + 1, len - first - 1, p + 2))
				return 1;
		} else if (same_name(name, len, p))
			return 1;
	}
	return 0;
}

/* --- the cache file's name --------------------------------------------- */

/*
 * Never the raw string: only what ldh_domain() passed, lower-cased, so
 * no "..", "/" or leading dot can reach a path (Y9).
 */
int
sts_cache_name(const char *domain, char *out, size_t outlen)
{
	size_t len = strlen(domain), i;

	if (!ldh_domain(domain, len, 2) || outlen <= len)
		return -1;
	for (i = 0; i < len; i++)
		out[i] = lower((unsigned char)domain[i]);
	out[len] = '\0';
	return 0;
}
